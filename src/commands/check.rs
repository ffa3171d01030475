//! `deploy-ledger check ITEM`: tick a checklist item.

use crate::commands::{open_ledger, report_written, report_written_json, CommitArg, TargetArgs};
use crate::deploy;
use crate::error::Result;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger check 3
  deploy-ledger check \"health checks\"     # unique part of the item's text
  deploy-ledger check 3 --undo
  deploy-ledger check 3 --json | jq '.checklist'       # {\"total\": 9, \"done\": 4}

--json prints one object on stdout: the fields of `show --json` (id, path,
status…), `commit` (the commit --commit made, else null), `item` (number,
text, done: the item as it is now) and `checklist` (total, done: the body's
items after the change). Warnings stay on stderr.";

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
    /// Print the record as written as JSON, one object (keys in the README)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = open_ledger(args.commit)?;
    let ticked = deploy::check(&ledger, &args.target.selector(), &args.item, !args.undo)?;
    let (written, item) = (&ticked.written, &ticked.item);
    if args.json {
        let (total, done) = ticked.counts;
        return report_written_json(
            written,
            serde_json::json!({
                "item": { "number": item.number, "text": item.text, "done": item.done },
                "checklist": { "total": total, "done": done },
            }),
        );
    }
    let verb = format!(
        "{} item {} \"{}\" of",
        if args.undo { "unticked" } else { "ticked" },
        item.number,
        item.text
    );
    report_written(written, &verb)
}
