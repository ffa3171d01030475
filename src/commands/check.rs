//! `deploy-ledger check ITEM`: tick a checklist item.

use crate::commands::{open_ledger, report_written, CommitArg, TargetArgs};
use crate::deploy;
use crate::error::Result;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger check 3
  deploy-ledger check \"health checks\"     # unique part of the item's text
  deploy-ledger check 3 --undo";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The item's number (1 = first item of the record) or part of its text
    pub item: String,
    /// Untick the item instead
    #[arg(long)]
    pub undo: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub commit: CommitArg,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = open_ledger(args.commit)?;
    let (written, item) = deploy::check(&ledger, &args.target.selector(), &args.item, !args.undo)?;
    let verb = format!(
        "{} item {} \"{}\" of",
        if args.undo { "unticked" } else { "ticked" },
        item.number,
        item.text
    );
    report_written(&written, &verb)
}
