//! `deploy-ledger show [ID]`: one record, as written or as JSON.

use crate::commands::list::record_json;
use crate::error::{Error, Result};
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
    let loaded = match ledger.resolve(&Selector {
        id: args.id.clone(),
        ..Selector::default()
    }) {
        Ok(loaded) => loaded,
        Err(e) => return Err(broken_named(&ledger, args.id.as_deref()).unwrap_or(e)),
    };
    if args.json {
        return output::json(&record_json(&loaded)?);
    }
    output::print(&loaded.doc.render())
}

/// A record that did not parse is not found by id: if a broken file is
/// named after the id, say so rather than "no record".
fn broken_named(ledger: &Ledger, id: Option<&str>) -> Option<Error> {
    let id = id?;
    let scan = ledger.scan().ok()?;
    let (_, message) = scan
        .broken
        .iter()
        .find(|(path, _)| path.file_stem().is_some_and(|s| s == id))?;
    Some(Error::user_hint(
        format!("record {id} does not parse: {message}"),
        "fix its frontmatter; `deploy-ledger validate` lists every problem",
    ))
}
