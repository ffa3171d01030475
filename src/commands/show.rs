//! `deploy-ledger show` (not built yet: see the open issues).

use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    Err(Error::user("`show` is not built yet"))
}
