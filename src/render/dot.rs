//! A Graphviz DOT graph of services and their `depends_on` (config
//! `[services.NAME] depends_on = [...]`), nodes filled by the status of each
//! service's latest deployment. Render with `dot -Tsvg`.
//!
//! Written directly: DOT needs only its quoted-string rule (escape `"` and
//! `\`), and the writer crates either leave quoting to the caller or only
//! print debug graphs.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ServiceConfig;
use crate::record::{Record, Status};

/// A DOT quoted string: `\` and `"` escaped, line breaks as `\n`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Fill colour of a node by the status of its latest deployment.
pub fn color(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Success) => "#b7e4c7",
        Some(Status::Failed) => "#f4a3a3",
        Some(Status::RolledBack) => "#f9c98b",
        Some(Status::Cancelled) => "#d9d9d9",
        Some(Status::InProgress) => "#a9cbf0",
        None => "#ffffff",
    }
}

/// The graph: every service of the records or the configuration, an edge
/// `a -> b` for each `a` that depends on `b`.
pub fn graph(records: &[Record], services: &BTreeMap<String, ServiceConfig>) -> String {
    let mut latest: BTreeMap<&str, &Record> = BTreeMap::new();
    for r in records {
        let slot = latest.entry(r.service.as_str()).or_insert(r);
        if (r.started_at, &r.id) > (slot.started_at, &slot.id) {
            *slot = r;
        }
    }
    let mut names: BTreeSet<&str> = latest.keys().copied().collect();
    for (name, cfg) in services {
        names.insert(name);
        names.extend(cfg.depends_on.iter().map(String::as_str));
    }
    let mut out = String::from(
        "digraph services {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n  edge [color=\"#555555\"];\n",
    );
    for name in &names {
        let r = latest.get(name);
        let mut label = name.to_string();
        match r {
            Some(r) => {
                label.push_str(&format!("\n{} {}", r.status, r.environment));
                if let Some(v) = &r.version {
                    label.push_str(&format!(" {v}"));
                }
                label.push_str(&format!("\n{}", r.started_at.format("%Y-%m-%d %H:%M")));
            }
            None => label.push_str("\nno deployment"),
        }
        let tooltip = r.map(|r| r.id.as_str()).unwrap_or(name);
        out.push_str(&format!(
            "  {} [label={}, fillcolor={}, tooltip={}];\n",
            quote(name),
            quote(&label),
            quote(color(r.map(|r| r.status))),
            quote(tooltip)
        ));
    }
    for (name, cfg) in services {
        for dep in &cfg.depends_on {
            out.push_str(&format!("  {} -> {};\n", quote(name), quote(dep)));
        }
    }
    out.push_str("}\n");
    out
}
