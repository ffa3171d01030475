//! The analytics report as JSON (SPEC §5), limited to `--section`s.

use serde_json::Value;

use crate::analytics::Report;
use crate::error::Result;

/// The report with only the asked sections (the header keys always stay).
pub fn select(report: &Report, sections: &[&str]) -> Result<Value> {
    let mut value = serde_json::to_value(report)?;
    if let Value::Object(map) = &mut value {
        map.retain(|k, _| {
            matches!(k.as_str(), "generated_at" | "rev" | "filters")
                || sections.contains(&k.as_str())
        });
    }
    Ok(value)
}
