//! `deploy-ledger import FILE`: past deployments from JSON, NDJSON, CSV or
//! GitHub's deployments API, one record each.

use std::path::PathBuf;

use crate::commands::{open_ledger, CommitArg};
use crate::error::{Error, Result};
use crate::import::{self, Format, ImportOptions};
use crate::output;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger import past.csv
  deploy-ledger import past.ndjson --commit
  deploy-ledger import github-deployments.json --service api

Fields: service, environment (or env), version, status, started_at,
finished_at, operator, commit, branch, tag, strategy, reason, id, change_id,
change_type, risk, labels, note. GitHub deployments (with embedded `statuses`
or a `state`) are recognised as such. Rows already in the ledger are skipped;
a row that cannot be taken is reported as FILE:LINE: why, the others are
imported, and the exit code is 1. A file with no deployments in it at all
(plain text, a CSV whose header names no known field, a lone JSON number,
string, boolean or null) is an error (exit 1) and nothing is written; an
empty JSON array or a CSV header without rows is \"nothing to import\".";

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Auto,
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The file to import
    pub file: PathBuf,
    /// The file's format (auto: .csv is CSV; else JSON or NDJSON when it starts with `[` or `{`, else CSV)
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Service for rows that name none (GitHub deployments never do)
    #[arg(long)]
    pub service: Option<String>,
    /// Environment for rows that name none
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Check every row and say what would be written; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON (written, present, skipped, rejected, each with its line)
    #[arg(long)]
    pub json: bool,
    /// Commit every record written, all in one commit and alone (other
    /// staged changes stay staged)
    #[arg(long)]
    pub commit: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = open_ledger(CommitArg {
        commit: args.commit,
    })?;
    let opts = ImportOptions {
        format: match args.format {
            FormatArg::Auto => Format::Auto,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
        },
        service: args.service,
        environment: args.environment,
        dry_run: args.dry_run,
    };
    let file = args.file.display().to_string();
    let report = import::import(&ledger, &args.file, &opts, ledger.config.commit)?;
    for w in &report.warnings {
        output::warn(w);
    }
    if args.json {
        output::json(&json_report(&file, &report, opts.dry_run))?;
        return finish(&file, &report);
    }
    let verb = if opts.dry_run {
        "would import"
    } else {
        "imported"
    };
    for (line, w) in &report.written {
        for warning in &w.warnings {
            output::warn(&format!("{file}:{line}: {warning}"));
        }
        output::println(&format!("{verb} {} ({})", w.id, w.path.display()))?;
    }
    for (line, id, differs) in &report.present {
        if !differs.is_empty() {
            output::warn(&format!(
                "{file}:{line}: {id} is already present with other data ({}); left as it is",
                differs.join("; ")
            ));
        }
    }
    for (line, why) in &report.skipped {
        eprintln!("{file}:{line}: skipped: {why}");
    }
    for (line, why) in &report.rejected {
        eprintln!("{file}:{line}: {why}");
    }
    let mut summary = if report.written.is_empty() && report.rejected.is_empty() {
        format!(
            "nothing to import: {} already present, {} skipped",
            report.present.len(),
            report.skipped.len()
        )
    } else if report.written.is_empty() {
        // Say plainly that nothing new came in; the rejected rows are why.
        format!(
            "nothing new {}: {} already present, {} skipped, {} rejected",
            if opts.dry_run {
                "would be imported"
            } else {
                "imported"
            },
            report.present.len(),
            report.skipped.len(),
            report.rejected.len()
        )
    } else {
        format!(
            "{verb} {}, already present {}, skipped {}, rejected {}",
            report.written.len(),
            report.present.len(),
            report.skipped.len(),
            report.rejected.len()
        )
    };
    if let Some(c) = &report.commit {
        summary.push_str(&format!(" (commit {})", &c[..c.len().min(12)]));
    }
    output::println(&summary)?;
    finish(&file, &report)
}

/// Exit 1 when a row was rejected.
fn finish(file: &str, report: &import::Report) -> Result<()> {
    if !report.rejected.is_empty() {
        return Err(Error::user_hint(
            format!(
                "{} row(s) of {file} could not be imported (listed above)",
                report.rejected.len()
            ),
            "fix them and import the file again: the rows already imported are skipped",
        ));
    }
    Ok(())
}

fn json_report(file: &str, r: &import::Report, dry_run: bool) -> serde_json::Value {
    use serde_json::json;
    json!({
        "file": file,
        "dry_run": dry_run,
        "written": r.written.iter().map(|(line, w)| json!({
            "line": line, "id": w.id, "path": w.path, "warnings": w.warnings,
        })).collect::<Vec<_>>(),
        "present": r.present.iter().map(|(line, id, differs)| json!({
            "line": line, "id": id, "differs": differs,
        })).collect::<Vec<_>>(),
        "skipped": r.skipped.iter().map(|(line, why)| json!({ "line": line, "reason": why })).collect::<Vec<_>>(),
        "rejected": r.rejected.iter().map(|(line, why)| json!({ "line": line, "reason": why })).collect::<Vec<_>>(),
        "commit": r.commit,
    })
}
