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
  deploy-ledger validate --json

Checks: schema, required fields, slugs, status words, times in order
(started ≤ phases ≤ finished), durations, duplicate ids, id and file name,
in-progress records older than `stale_after_hours`. Each problem prints as
`path:line: message`; the exit code is 1 if there is any.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Record files to check (default: every record under deployments/checklists)
    #[arg(value_name = "FILE", conflicts_with = "rev")]
    pub files: Vec<PathBuf>,
    /// Check the records as committed at this revision instead of the work tree
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Do not report stale in-progress records
    #[arg(long)]
    pub allow_stale: bool,
    /// Print the problems as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = Ledger::open_cwd()?;
    let sources = if let Some(rev) = &args.rev {
        let commit = ledger.repo.resolve_commit(rev)?;
        ledger
            .repo
            .blobs_at(&commit, CHECKLISTS_DIR)?
            .into_iter()
            .map(|(path, _, bytes)| Source {
                path,
                text: String::from_utf8_lossy(&bytes).into_owned(),
                explicit: false,
            })
            .collect()
    } else if args.files.is_empty() {
        read_sources(&ledger.root, ledger.record_files())?
    } else {
        explicit_sources(&args.files)?
    };
    let options = Options {
        now: clock::now()?,
        stale_after_hours: (!args.allow_stale).then_some(ledger.config.stale_after_hours),
    };
    let report = validate::check_all(&sources, &options);
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

/// Reads work-tree files (relative to the root) in parallel.
fn read_sources(root: &Path, files: Vec<PathBuf>) -> Result<Vec<Source>> {
    files
        .into_par_iter()
        .map(|rel| {
            let abs = root.join(&rel);
            let bytes = std::fs::read(&abs).map_err(|e| Error::io(&abs, e))?;
            Ok(Source {
                path: slash(&rel),
                text: String::from_utf8_lossy(&bytes).into_owned(),
                explicit: false,
            })
        })
        .collect()
}

/// Files named on the command line, shown as given.
fn explicit_sources(files: &[PathBuf]) -> Result<Vec<Source>> {
    files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            Ok(Source {
                path: slash(path),
                text: String::from_utf8_lossy(&bytes).into_owned(),
                explicit: true,
            })
        })
        .collect()
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}
