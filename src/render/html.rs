//! The HTML dashboard (in progress).

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::record::Record;

pub fn dashboard(_ledger: &Ledger, _records: &[Record], _now: DateTime<Utc>) -> Result<String> {
    Err(Error::user("the HTML dashboard is not built yet"))
}
