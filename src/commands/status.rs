//! `deploy-ledger status`: deployments in progress, how long each has been
//! open (stale ones marked), and this clone's lock and pointer.

use chrono::Utc;
use serde_json::json;

use crate::capture::clock;
use crate::commands::list::short_time;
use crate::error::Result;
use crate::ledger::Ledger;
use crate::output;
use crate::record::Status;
use crate::render::{regions::human_duration, table};

const EXAMPLES: &str = "\
Examples:
  deploy-ledger status
  deploy-ledger status --json

A deployment open longer than `stale_after_hours` (config, default 24) is
marked stale: finish it (`deploy-ledger finish --id ID --status cancelled`).";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let ledger = Ledger::open_cwd()?;
    let now = clock::now()?;
    let scan = ledger.scan()?;
    for (path, message) in &scan.broken {
        output::warn(&crate::ledger::broken_warning(path, message));
    }
    let pointer = ledger.pointer();
    let mut open: Vec<_> = scan
        .records
        .iter()
        .filter(|s| s.status == Status::InProgress)
        .collect();
    open.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    let mut items = Vec::new();
    for s in open {
        // Few records are open: loading them all is cheap.
        let loaded = match ledger.load(&s.path) {
            Ok(l) => l,
            Err(e) => {
                output::warn(&e.to_string());
                continue;
            }
        };
        let r = &loaded.record;
        let open_seconds = (now - r.started_at.with_timezone(&Utc)).num_seconds();
        items.push(json!({
            "id": r.id,
            "path": s.path.to_string_lossy().replace('\\', "/"),
            "service": r.service,
            "environment": r.environment,
            "version": r.version,
            "operator": r.operator,
            "phase": r.open_phase().map(|p| p.name.clone()),
            "started_at": r.started_at.to_rfc3339(),
            "open_seconds": open_seconds,
            "stale": ledger.is_stale(r.started_at, now),
            "current": pointer.as_deref() == Some(s.path.as_path()),
        }));
    }
    let lock = lock_info(&ledger);
    if args.json {
        return output::json(&json!({
            "now": crate::record::format_time(now),
            "stale_after_hours": ledger.config.stale_after_hours,
            "in_progress": items,
            "lock": lock,
        }));
    }
    let mut text = String::new();
    if items.is_empty() {
        text.push_str("no deployment in progress\n");
    } else {
        let s = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|i| {
                let mut notes = Vec::new();
                if i["stale"] == true {
                    notes.push(format!("STALE (>{}h)", ledger.config.stale_after_hours));
                }
                if i["current"] == true {
                    notes.push("current".to_string());
                }
                let started = crate::record::parse_time(&s(&i["started_at"]))
                    .map(short_time)
                    .unwrap_or_default();
                vec![
                    s(&i["id"]),
                    s(&i["service"]),
                    s(&i["environment"]),
                    s(&i["version"]),
                    s(&i["operator"]),
                    s(&i["phase"]),
                    started,
                    human_duration(i["open_seconds"].as_i64().unwrap_or(0)),
                    notes.join(", "),
                ]
            })
            .collect();
        text.push_str(&table::render(
            &[
                "ID",
                "SERVICE",
                "ENV",
                "VERSION",
                "OPERATOR",
                "PHASE",
                "STARTED (UTC)",
                "OPEN FOR",
                "",
            ],
            &rows,
        ));
    }
    if let Some(lock) = lock.as_object() {
        let (path, pid) = (
            lock["path"].as_str().unwrap_or_default(),
            lock["pid"].as_str().unwrap_or("?"),
        );
        let age = human_duration(lock["age_seconds"].as_i64().unwrap_or(0));
        text.push_str(&if lock["running"] == false {
            format!("lock: {path} left by pid {pid} {age} ago, not held (that command ended without removing it; the next command takes the lock over)\n")
        } else {
            format!("lock: {path} held by pid {pid} for {age}\n")
        });
    }
    output::print(&text)
}

/// The lock file of `.git/deploy-ledger/`, if a command holds (or left) it.
fn lock_info(ledger: &Ledger) -> serde_json::Value {
    let path = ledger.repo.state_dir().join("lock");
    let Ok(meta) = std::fs::metadata(&path) else {
        return serde_json::Value::Null;
    };
    // The lock's age is wall-clock time, not the ledger's clock.
    let age = meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let pid = std::fs::read_to_string(&path)
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    // Held while its OS lock is: a crashed command leaves the file behind,
    // not the lock, and its pid may belong to another process since.
    let running = std::fs::File::open(&path)
        .ok()
        .map(|f| matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)));
    json!({ "path": path.to_string_lossy(), "pid": pid, "age_seconds": age, "running": running })
}
