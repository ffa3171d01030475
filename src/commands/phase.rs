//! `deploy-ledger phase NAME`: close the open phase and open NAME.

use crate::commands::{open_ledger, report_written, CommitArg, TargetArgs};
use crate::deploy;
use crate::error::Result;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger phase execution
  deploy-ledger phase validation --id DEP-2025-01-15-14-30-api-gateway-production";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The phase to open (default phases: planning, execution, validation)
    pub name: String,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub commit: CommitArg,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = open_ledger(args.commit)?;
    let written = deploy::phase(&ledger, &args.target.selector(), &args.name)?;
    report_written(&written, &format!("phase {} of", args.name))
}
