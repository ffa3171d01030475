//! Org mode: one heading per deployment whose TODO keyword is its status
//! (declared by `#+TODO:`), tags for service and environment, a `CLOSED:`
//! planning line for ended deployments, a properties drawer with the fields
//! (`org-entry-get`, column view, `org-ql` can read them), and a table of
//! phases. Times in properties are RFC 3339 UTC; timestamps are UTC too.

use chrono::{DateTime, FixedOffset, Utc};

use crate::record::{Record, Status};

use super::utc;

fn keyword(s: Status) -> &'static str {
    match s {
        Status::InProgress => "IN-PROGRESS",
        Status::Success => "SUCCESS",
        Status::Failed => "FAILED",
        Status::Cancelled => "CANCELLED",
        Status::RolledBack => "ROLLED-BACK",
    }
}

/// One line: org headings, properties and cells cannot hold a newline.
fn line(s: &str) -> String {
    s.split(['\n', '\r']).collect::<Vec<_>>().join(" ")
}

/// An org tag: letters, digits, `_`, `@`, `#`, `%` only.
fn tag(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '@' | '#' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A table cell: `|` would end the cell, so it becomes `\vert{}`.
fn cell(s: &str) -> String {
    line(s).replace('|', "\\vert{}")
}

/// An inactive org timestamp, `[2025-01-15 Wed 14:30]`, in UTC.
fn stamp(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc)
        .format("[%Y-%m-%d %a %H:%M]")
        .to_string()
}

pub fn org(records: &[Record]) -> String {
    let mut out = String::from(
        "#+TITLE: Deployments\n\
         #+TODO: IN-PROGRESS | SUCCESS FAILED CANCELLED ROLLED-BACK\n\
         #+STARTUP: overview\n\
         # Exported by deploy-ledger; times are UTC.\n",
    );
    for r in records {
        let title = match &r.version {
            Some(v) => format!("{} {} → {}", r.service, v, r.environment),
            None => format!("{} → {}", r.service, r.environment),
        };
        out.push_str(&format!(
            "\n* {} {} :{}:{}:\n",
            keyword(r.status),
            line(&title),
            tag(&r.service),
            tag(&r.environment)
        ));
        if let (true, Some(f)) = (r.status.is_final(), &r.finished_at) {
            out.push_str(&format!("CLOSED: {}\n", stamp(f)));
        }
        out.push_str(":PROPERTIES:\n");
        let mut prop = |name: &str, value: Option<String>| {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                out.push_str(&format!(":{name}: {}\n", line(&v)));
            }
        };
        prop("CUSTOM_ID", Some(r.id.clone()));
        prop("SERVICE", Some(r.service.clone()));
        prop("ENVIRONMENT", Some(r.environment.clone()));
        prop("VERSION", r.version.clone());
        prop("STRATEGY", r.strategy.clone());
        prop("STATUS", Some(r.status.to_string()));
        prop("OPERATOR", r.operator.clone());
        prop("STARTED_AT", Some(utc(&r.started_at)));
        prop("FINISHED_AT", r.finished_at.as_ref().map(utc));
        prop("DURATION_SECONDS", r.duration().map(|d| d.to_string()));
        prop("GIT_COMMIT", r.git.commit.clone());
        prop("GIT_BRANCH", r.git.branch.clone());
        prop("GIT_TAG", r.git.tag.clone());
        // Every key of `change` (id, type, risk, and any other).
        for (k, v) in &r.change {
            prop(
                &format!("CHANGE_{}", tag(k).to_uppercase()),
                Some(v.clone()),
            );
        }
        if let Some(b) = &r.rollback {
            prop("ROLLBACK_OF", b.of.clone());
            prop("ROLLBACK_FROM_VERSION", b.from_version.clone());
            prop("ROLLBACK_TO_VERSION", b.to_version.clone());
            prop("ROLLBACK_REASON", b.reason.clone());
        }
        prop("FAILURE_REASON", r.failure_reason.clone());
        for (k, v) in &r.tools {
            prop(&format!("TOOL_{}", tag(k).to_uppercase()), Some(v.clone()));
        }
        for (k, v) in &r.labels {
            prop(&format!("LABEL_{}", tag(k).to_uppercase()), Some(v.clone()));
        }
        out.push_str(":END:\n");
        if !r.phases.is_empty() {
            out.push_str("| phase | started | finished | seconds |\n|-------+---------+----------+---------|\n");
            for p in &r.phases {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    cell(&p.name),
                    stamp(&p.started_at),
                    p.finished_at.as_ref().map(stamp).unwrap_or_default(),
                    p.duration_seconds
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                ));
            }
        }
    }
    out
}
