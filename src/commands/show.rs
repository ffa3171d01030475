//! `deploy-ledger show [ID]`: one record, as written or as JSON.

use crate::commands::list::record_json;
use crate::error::Result;
use crate::ledger::{Ledger, Selector};
use crate::output;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger show DEP-2025-01-15-14-30-api-gateway-production
  deploy-ledger show                 # the current deployment (see \"which deployment\")
  deploy-ledger show DEP-2025-01-15-14-30-api-gateway-production --json | jq .phases";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The record id (default: the current deployment, as for `phase`)
    pub id: Option<String>,
    /// Print the typed fields as JSON instead of the file
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = Ledger::open_cwd()?;
    let loaded = ledger.resolve(&Selector {
        id: args.id,
        ..Selector::default()
    })?;
    if args.json {
        return output::json(&record_json(&loaded)?);
    }
    output::print(&loaded.doc.render())
}
