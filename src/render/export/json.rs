//! JSON (one array) and NDJSON (one record per line) of the typed records.
//! The fields are those of [`Record`], documented in the README.

use crate::error::Result;
use crate::record::Record;

/// A pretty JSON array of the records.
pub fn json(records: &[Record]) -> Result<String> {
    let mut text = serde_json::to_string_pretty(records)?;
    text.push('\n');
    Ok(text)
}

/// One compact JSON object per line (`jq -c`, log shippers, DuckDB's
/// `read_json_auto`).
pub fn ndjson(records: &[Record]) -> Result<String> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r)?);
        text.push('\n');
    }
    Ok(text)
}
