//! `deploy-ledger hooks` (not built yet: see the open issues).

use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    Err(Error::user("`hooks` is not built yet"))
}
