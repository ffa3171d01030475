//! A mermaid `gantt` timeline of deployments and their phases, for a
//! forge's markdown view (GitHub and GitLab render ```` ```mermaid ```` blocks).
//!
//! Syntax rules kept here: one `section` per service; task names carry no
//! `:` (it starts the task data), `;`, `#` or `%` (statement, entity and
//! comment characters) and no newline; dates in UTC in the `dateFormat`
//! declared (`YYYY-MM-DD HH:mm:ss`); tags `done` (success), `crit, done`
//! (failed, rolled back), `active` (in progress), none (cancelled).

use chrono::{DateTime, FixedOffset, Utc};
use std::collections::BTreeMap;

use crate::record::{Record, Status};

pub const DATE_FORMAT: &str = "YYYY-MM-DD HH:mm:ss";
const CHRONO_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

fn date(t: DateTime<Utc>) -> String {
    t.format(CHRONO_FORMAT).to_string()
}

/// Text safe in a task name or section title.
pub fn clean(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            ':' | ';' | '#' | '%' | '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    words.join(" ")
}

fn tags(status: Status) -> &'static str {
    match status {
        Status::Success => "done, ",
        Status::Failed | Status::RolledBack => "crit, done, ",
        Status::InProgress => "active, ",
        Status::Cancelled => "",
    }
}

fn utc(t: &DateTime<FixedOffset>) -> DateTime<Utc> {
    t.with_timezone(&Utc)
}

/// The chart for `records` (oldest first); open phases and deployments end
/// at `now`. `omitted` older deployments are mentioned in a comment.
pub fn gantt(records: &[Record], now: DateTime<Utc>, omitted: usize) -> String {
    let mut out = String::from("gantt\n    title Deployments (UTC)\n");
    out.push_str(&format!("    dateFormat {DATE_FORMAT}\n"));
    out.push_str("    axisFormat %m-%d %H:%M\n");
    if omitted > 0 {
        out.push_str(&format!(
            "    %% {omitted} older deployments left out (see --last)\n"
        ));
    }
    let mut by_service: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for r in records {
        by_service.entry(r.service.as_str()).or_default().push(r);
    }
    for (service, records) in by_service {
        let section = clean(service);
        out.push_str(&format!(
            "    section {}\n",
            if section.is_empty() { "-" } else { &section }
        ));
        for r in records {
            let start = utc(&r.started_at);
            let end = r.finished_at.as_ref().map(utc).unwrap_or(now).max(start);
            let mut name = r.environment.clone();
            if let Some(v) = &r.version {
                name.push(' ');
                name.push_str(v);
            }
            let tag = tags(r.status);
            if r.phases.is_empty() {
                out.push_str(&format!(
                    "    {} {} :{tag}{}, {}\n",
                    clean(&name),
                    r.status,
                    date(start),
                    date(end)
                ));
                continue;
            }
            for p in &r.phases {
                let p_start = utc(&p.started_at);
                let p_end = p.finished_at.as_ref().map(utc).unwrap_or(end).max(p_start);
                // Only the phase that failed is critical; earlier ones were done.
                let last = std::ptr::eq(p, r.phases.last().expect("not empty"));
                let tag = if last { tag } else { "done, " };
                out.push_str(&format!(
                    "    {} {} :{tag}{}, {}\n",
                    clean(&name),
                    clean(&p.name),
                    date(p_start),
                    date(p_end)
                ));
            }
        }
    }
    out
}
