//! The generated regions of a record's body: badges and timeline.

use chrono::{DateTime, FixedOffset};

use crate::record::{Record, Status};

pub fn status_icon(status: Status) -> &'static str {
    match status {
        Status::InProgress => "🟡",
        Status::Success => "✅",
        Status::Failed => "❌",
        Status::Cancelled => "⚪",
        Status::RolledBack => "↩️",
    }
}

/// One line of badges: status, environment, operator, commit, tools.
pub fn badges(r: &Record) -> String {
    let mut parts = vec![
        format!("{} **{}**", status_icon(r.status), r.status),
        format!("🌍 `{}`", r.environment),
    ];
    if let Some(op) = &r.operator {
        parts.push(format!("👤 {op}"));
    }
    if let Some(c) = &r.git.commit {
        parts.push(format!("🔖 `{}`", &c[..c.len().min(7)]));
    }
    if let Some(v) = &r.version {
        parts.push(format!("📦 {v}"));
    }
    if !r.tools.is_empty() {
        let tools: Vec<String> = r.tools.iter().map(|(k, v)| format!("{k} {v}")).collect();
        parts.push(format!("🛠 {}", tools.join(", ")));
    }
    parts.join(" · ")
}

/// A human duration: `2m 05s`, `1h 02m`, `3d 4h`.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn hm(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
        .replace(" +00:00", "Z")
}

/// The timeline table of phases, and the outcome once finished.
pub fn timeline(r: &Record) -> String {
    let mut out = String::from("| Phase | Started | Finished | Duration |\n|---|---|---|---|\n");
    for p in &r.phases {
        let finished = p.finished_at.map(hm).unwrap_or_else(|| "…".into());
        let duration = p
            .duration_seconds
            .map(human_duration)
            .unwrap_or_else(|| "open".into());
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            p.name,
            hm(p.started_at),
            finished,
            duration
        ));
    }
    if r.phases.is_empty() {
        out.push_str("| — | | | |\n");
    }
    out.push('\n');
    match (r.status, r.finished_at) {
        (Status::InProgress, _) => {
            out.push_str(&format!("Started {} · in progress", hm(r.started_at)))
        }
        (status, Some(f)) => {
            out.push_str(&format!(
                "{} **{}** at {}",
                status_icon(status),
                status,
                hm(f)
            ));
            if let Some(d) = r.duration() {
                out.push_str(&format!(" after {}", human_duration(d)));
            }
            if let Some(reason) = &r.failure_reason {
                out.push_str(&format!(" — {reason}"));
            }
        }
        (status, None) => out.push_str(&format!("{} **{}**", status_icon(status), status)),
    }
    out.push('\n');
    out
}
