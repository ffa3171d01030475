//! `deploy-ledger finish`: close the deployment with its outcome.

use crate::commands::{open_ledger, report_written, report_written_json, CommitArg, TargetArgs};
use crate::deploy;
use crate::error::Result;
use crate::record::Status;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger finish                                   # success
  deploy-ledger finish --status failed --reason \"health checks failed\"
  deploy-ledger finish --status cancelled --commit
  deploy-ledger finish --json | jq '{id, status, duration_seconds}'

--json prints one object on stdout: the fields of `show --json` (id, path,
status, finished_at, duration_seconds, checklist_total, checklist_done,
failure_reason…) and `commit` (the commit --commit made, else null).
Warnings (unticked items) stay on stderr.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Outcome: success, failed or cancelled (also: failure, error, canceled)
    #[arg(long, default_value = "success")]
    pub status: String,
    /// Why it failed or was cancelled (one line; refused with --status success)
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub commit: CommitArg,
    /// Print the record as written as JSON, one object (keys in the README)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let status: Status = args.status.parse()?;
    let ledger = open_ledger(args.commit)?;
    let written = deploy::finish(
        &ledger,
        &args.target.selector(),
        status,
        args.reason.as_deref(),
    )?;
    if args.json {
        return report_written_json(&written, serde_json::json!({}));
    }
    report_written(&written, &format!("finished ({status})"))
}
