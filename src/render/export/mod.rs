//! `export` formats: each a pure function of the selected records (SQLite
//! also writes its file, atomically).

pub mod csv;
pub mod json;
pub mod org;
pub mod prometheus;
pub mod sexp;
pub mod sqlite;

use chrono::{DateTime, FixedOffset, Utc};

/// A record time as exported in flat formats: RFC 3339 in UTC, whole seconds,
/// so that text order is time order.
pub fn utc(t: &DateTime<FixedOffset>) -> String {
    crate::record::format_time(t.with_timezone(&Utc))
}

/// `name=value;name=value` (the CSV `phases` cell: names are slugs and
/// values numbers, so neither holds a `;` or `=`).
pub fn pairs<'a>(items: impl IntoIterator<Item = (&'a String, String)>) -> String {
    items
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}
