//! `deploy-ledger validate`: check records; one line per problem, exit 1 if any.

use rayon::prelude::*;
use std::path::{Path, PathBuf};

use crate::capture::clock;
use crate::config::CHECKLISTS_DIR;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::output;
use crate::validate::{self, Options, Source};

const EXAMPLES: &str = "\
Examples:
  deploy-ledger validate                      # every record of the work tree
  deploy-ledger validate --rev HEAD           # the records as committed at HEAD
  deploy-ledger validate deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-production.md
  deploy-ledger validate --rev HEAD \\
      deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-production.md
  deploy-ledger validate --json
  deploy-ledger validate --skip-non-records --rev HEAD \\
      $(git diff --name-only HEAD~1 HEAD -- 'deployments/checklists/*.md')

Checks: schema, required fields, slugs, status words, times in order
(started ≤ phases ≤ finished), durations, duplicate ids, id and file name,
rollback links (`rollback.of`, `rolled_back_by`) to an id no record has,
in-progress records older than `stale_after_hours`. Each problem prints as
`path:line: message`; the exit code is 1 if there is any.

A markdown file without a frontmatter block is not a record: `validate`
alone passes over it (a README next to the records). Named as a FILE it is
reported (\"no frontmatter\"), unless --skip-non-records, which the pre-push
hook passes with the paths a push changes.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Record files to check (default: every record under deployments/checklists);
    /// with --rev, paths inside the repository as committed
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Check the records as committed at this revision instead of the work tree
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Do not report stale in-progress records
    #[arg(long)]
    pub allow_stale: bool,
    /// A named FILE without frontmatter is not a record: skip it, as when no
    /// FILE is named, instead of reporting it (for hooks that name every
    /// changed path)
    #[arg(long)]
    pub skip_non_records: bool,
    /// Print the problems as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = Ledger::open_cwd()?;
    let sources = if let Some(rev) = &args.rev {
        rev_sources(&ledger, rev, &args.files, !args.skip_non_records)?
    } else if args.files.is_empty() {
        read_sources(&ledger.root, ledger.record_files(), &[], false)?
    } else {
        // The named files, and the other records for duplicate ids.
        let named = explicit_sources(&args.files, !args.skip_non_records)?;
        let skip: Vec<PathBuf> = args
            .files
            .iter()
            .filter_map(|f| relative_to_root(&ledger.root, f))
            .collect();
        let mut all = named;
        all.extend(read_sources(
            &ledger.root,
            ledger.record_files(),
            &skip,
            true,
        )?);
        all
    };
    let options = Options {
        now: clock::now()?,
        stale_after_hours: (!args.allow_stale).then_some(ledger.config.stale_after_hours),
    };
    let (sources, not_utf8): (Vec<Source>, Vec<Source>) = sources
        .into_iter()
        .partition(|s| !s.text.starts_with(NOT_UTF8));
    let mut report = validate::check_all(&sources, &options);
    // Not text at all: one problem each, the same words as `list`'s warning.
    for s in not_utf8.iter().filter(|s| !s.context) {
        report.checked += 1;
        report.problems.push(validate::Problem {
            path: s.path.clone(),
            line: 1,
            kind: "encoding",
            message: s.text[NOT_UTF8.len()..].to_string(),
        });
    }
    if args.json {
        output::json(&serde_json::json!({
            "checked": report.checked,
            "problems": report.problems,
        }))?;
    } else {
        let mut text = String::new();
        for p in &report.problems {
            text.push_str(&p.to_string());
            text.push('\n');
        }
        output::print(&text)?;
    }
    let n = report.problems.len();
    if n == 0 {
        if !args.json {
            eprintln!(
                "{} record{} checked, no problems",
                report.checked,
                plural(report.checked)
            );
        }
        return Ok(());
    }
    Err(Error::user_hint(
        format!(
            "{n} problem{} in {} record{} checked",
            plural(n),
            report.checked,
            plural(report.checked)
        ),
        "fix each `path:line` above (or finish/cancel stale deployments), then run validate again",
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The records at `rev`; with `files`, only those are checked (the others
/// are context for duplicate ids), and each must exist at `rev`. `explicit`:
/// a named file without frontmatter is a problem, not "not a record".
fn rev_sources(
    ledger: &Ledger,
    rev: &str,
    files: &[PathBuf],
    explicit: bool,
) -> Result<Vec<Source>> {
    let commit = ledger.repo.resolve_commit(rev)?;
    let wanted: Vec<String> = files
        .iter()
        .map(|f| slash(f).trim_start_matches("./").to_string())
        .collect();
    let sources: Vec<Source> = ledger
        .repo
        .blobs_at(&commit, CHECKLISTS_DIR)?
        .into_iter()
        .map(|(path, _, bytes)| Source {
            context: !wanted.is_empty() && !wanted.contains(&path),
            explicit: explicit && wanted.contains(&path),
            text: text_of(bytes),
            path,
        })
        .collect();
    if let Some(absent) = wanted
        .iter()
        .find(|w| !sources.iter().any(|s| &s.path == *w))
    {
        return Err(Error::user_hint(
            format!("{absent} is not a record file at {rev}"),
            format!(
                "with --rev, name files by their path in the repository, under {CHECKLISTS_DIR}/"
            ),
        ));
    }
    Ok(sources)
}

/// `file` (as given, relative to the current folder) relative to the root.
fn relative_to_root(root: &Path, file: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(file).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    abs.strip_prefix(root).ok().map(Path::to_path_buf)
}

/// Reads work-tree records (relative to the root) in parallel, except those
/// in `skip`; `context`: only for duplicate ids of the files checked.
fn read_sources(
    root: &Path,
    files: Vec<PathBuf>,
    skip: &[PathBuf],
    context: bool,
) -> Result<Vec<Source>> {
    files
        .into_par_iter()
        .filter(|rel| !skip.contains(rel))
        .map(|rel| {
            let abs = root.join(&rel);
            let bytes = std::fs::read(&abs).map_err(|e| Error::io(&abs, e))?;
            Ok(Source {
                path: slash(&rel),
                text: text_of(bytes),
                explicit: false,
                context,
            })
        })
        .collect()
}

/// Files named on the command line, shown as given; `explicit` as for
/// [`rev_sources`].
fn explicit_sources(files: &[PathBuf], explicit: bool) -> Result<Vec<Source>> {
    files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::user_hint(
                    format!("{}: no such file", path.display()),
                    "name record files (relative to this folder), or run `deploy-ledger validate` alone for every record",
                ),
                std::io::ErrorKind::IsADirectory => Error::user_hint(
                    format!("{}: is a folder, not a record file", path.display()),
                    "name record files, or run `deploy-ledger validate` alone for every record",
                ),
                _ => Error::io(path, e),
            })?;
            Ok(Source {
                path: slash(path),
                text: text_of(bytes),
                explicit,
                context: false,
            })
        })
        .collect()
}

/// Marks a source whose bytes are not UTF-8; the rest of its text says why.
const NOT_UTF8: &str = "\u{0}not-utf8\u{0}";

/// A file's bytes as a source's text: the text, or [`NOT_UTF8`] and why.
fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|e| format!("{NOT_UTF8}{}", crate::ledger::not_utf8(&e)))
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}
