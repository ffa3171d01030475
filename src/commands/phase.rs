//! `deploy-ledger phase NAME`: close the open phase and open NAME.

use crate::commands::{open_ledger, report_written, report_written_json, CommitArg, TargetArgs};
use crate::deploy;
use crate::error::Result;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger phase execution
  deploy-ledger phase validation --id DEP-2025-01-15-14-30-api-gateway-production
  deploy-ledger phase execution --json | jq '.phases[-2].duration_seconds'   # the phase before

--json prints one object on stdout: the fields of `show --json` (id, path,
status, phases…), `commit` (the commit --commit made, else null) and `phase`
(the phase opened). Warnings stay on stderr.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The phase to open (default phases: planning, execution, validation)
    pub name: String,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub commit: CommitArg,
    /// Print the record as written as JSON, one object (keys in the README)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = open_ledger(args.commit)?;
    let written = deploy::phase(&ledger, &args.target.selector(), &args.name)?;
    if args.json {
        return report_written_json(&written, serde_json::json!({ "phase": args.name }));
    }
    report_written(&written, &format!("phase {} of", args.name))
}
