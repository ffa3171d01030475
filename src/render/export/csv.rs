//! CSV (RFC 4180, via the csv crate: CRLF line ends, quoted only where
//! needed): one row per deployment, stable columns.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::record::Record;

use super::{pairs, utc};

/// The columns, in order. New columns are only ever appended.
pub const COLUMNS: &[&str] = &[
    "id",
    "service",
    "environment",
    "version",
    "strategy",
    "status",
    "operator",
    "started_at",
    "finished_at",
    "duration_seconds",
    "git_commit",
    "git_branch",
    "git_tag",
    "change_id",
    "change_type",
    "change_risk",
    "rollback_of",
    "failure_reason",
    "checklist_total",
    "checklist_done",
    "phases",
    "tools",
    "labels",
];

fn row(r: &Record) -> Vec<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let unum = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    let change = |k: &str| r.change.get(k).cloned().unwrap_or_default();
    vec![
        r.id.clone(),
        r.service.clone(),
        r.environment.clone(),
        opt(&r.version),
        opt(&r.strategy),
        r.status.to_string(),
        opt(&r.operator),
        utc(&r.started_at),
        r.finished_at.as_ref().map(utc).unwrap_or_default(),
        num(r.duration()),
        opt(&r.git.commit),
        opt(&r.git.branch),
        opt(&r.git.tag),
        change("id"),
        change("type"),
        change("risk"),
        r.rollback
            .as_ref()
            .and_then(|b| b.of.clone())
            .unwrap_or_default(),
        opt(&r.failure_reason),
        unum(r.checklist_total),
        unum(r.checklist_done),
        pairs(r.phases.iter().map(|p| {
            (
                &p.name,
                p.duration_seconds
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            )
        })),
        json_object(&r.tools),
        json_object(&r.labels),
    ]
}

/// A free-form map as a JSON object (`{"team":"payments"}`), or an empty
/// cell for none: a `;` or `=` in a name or value stays data, where
/// `name=value;…` could not tell it from a separator. `import` reads it.
fn json_object(map: &BTreeMap<String, String>) -> String {
    if map.is_empty() {
        return String::new();
    }
    serde_json::to_string(map).expect("a map of strings is JSON")
}

/// The header line and one row per record.
pub fn csv(records: &[Record]) -> Result<String> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for r in records {
        w.write_record(row(r))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::io("<csv>", std::io::Error::other(e.to_string())))?;
    String::from_utf8(bytes).map_err(|e| Error::user(format!("CSV is not UTF-8: {e}")))
}
