//! Rollbacks (SPEC §3): a new record with status `rolled-back` and
//! `rollback: { of, from_version, to_version, reason }`, and the deployment it
//! undoes marked `rolled-back` with `rolled_back_by`. Both files are written
//! or neither is.
//!
//! Times: the rollback starts and finishes now (the clock), unless
//! `started`/`finished` are given (a rollback recorded after the fact).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::backfill::{self, Backfill, Existing, GitSource};
use crate::capture::clock;
use crate::deploy::{self, StartParams, Written};
use crate::error::{Error, Result};
use crate::ledger::{write_atomic, Ledger, Loaded};
use crate::record::{Record, Status};

/// What `rollback` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct RollbackParams {
    /// The record rolled back; else the last success of service/environment.
    pub of: Option<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
    /// The version rolled back to (default: the version of the success before).
    pub to_version: Option<String>,
    pub reason: Option<String>,
    pub operator: Option<String>,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    pub labels: Vec<(String, String)>,
    pub note: Option<String>,
}

/// The rollback record written and the record it marked.
#[derive(Debug, Clone)]
pub struct RolledBack {
    pub written: Written,
    pub of: String,
    pub of_path: std::path::PathBuf,
}

/// Records a rollback.
pub fn rollback(ledger: &Ledger, p: &RollbackParams) -> Result<RolledBack> {
    let _lock = deploy::StateLock::acquire(ledger)?;
    let (all, _broken) = ledger.load_all();
    let target = find_target(&all, p)?;
    if target.record.status != Status::Success {
        let by = target
            .doc
            .get("rolled_back_by")
            .and_then(Value::as_str)
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        return Err(Error::user_hint(
            format!(
                "{} is {}{by}, not a success: only a successful deployment can be rolled back",
                target.record.id, target.record.status
            ),
            "pass --of the id of a successful deployment (`deploy-ledger list --status success`)",
        ));
    }
    let now = clock::now()?;
    let finished = p.finished.unwrap_or(now);
    let started = p.started.unwrap_or(finished.min(now));
    if let Some(t_finished) = target.record.finished_at {
        if started < t_finished.with_timezone(&Utc) {
            return Err(Error::user_hint(
                format!(
                    "the rollback would start ({}) before {} finished ({})",
                    crate::record::format_time(started),
                    target.record.id,
                    t_finished.to_rfc3339()
                ),
                "check --started, or the clock (DEPLOY_LEDGER_NOW)",
            ));
        }
    }
    let to_version = p
        .to_version
        .clone()
        .or_else(|| previous_version(&all, &target.record));
    let mut warnings = Vec::new();
    if to_version.is_none() {
        warnings.push(format!(
            "no version to roll back to: no earlier success of {} in {} has one; pass --to-version",
            target.record.service, target.record.environment
        ));
    }
    let rollback = json!({
        "of": target.record.id,
        "from_version": target.record.version,
        "to_version": to_version,
        "reason": p.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()),
    });
    let rollback = Value::Object(
        rollback
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    );
    let note = p.note.clone().unwrap_or_else(|| {
        format!(
            "Rollback of `{}`{}.",
            target.record.id,
            p.reason
                .as_deref()
                .map(|r| format!(": {}", r.trim()))
                .unwrap_or_default()
        )
    });
    let b = Backfill {
        start: StartParams {
            service: target.record.service.clone(),
            environment: Some(target.record.environment.clone()),
            version: to_version,
            strategy: None,
            operator: p.operator.clone(),
            labels: p.labels.clone(),
            note: Some(note),
            ..StartParams::default()
        },
        id: None,
        started,
        finished,
        status: Status::RolledBack,
        reason: None,
        git: GitSource::Head,
        phases: Vec::new(),
        capture: true,
        extra: vec![("rollback".to_string(), rollback)],
    };
    let existing = Existing::scan(ledger)?;
    let mut new = backfill::prepare(ledger, &b, &existing)?;
    new.warnings.extend(warnings);
    let mut old = target.clone();
    old.doc.set("status", json!(Status::RolledBack.as_str()));
    old.doc.set("rolled_back_by", json!(new.id));
    let old_record = Record::from_document(&old.doc)
        .map_err(|e| Error::user(format!("{}: `{}` {}", old.path.display(), e.key, e.message)))?;
    deploy::refresh_regions(&mut old.doc, &old_record);

    // Both or neither: the new file is created first (never replacing one);
    // if marking the old one fails, the new one is removed again.
    ledger.save(&new.path, &new.doc, true)?;
    if let Err(e) = write_atomic(&ledger.abs(&old.path), old.doc.render().as_bytes(), false) {
        let _ = std::fs::remove_file(ledger.abs(&new.path));
        return Err(e);
    }
    let commit = if ledger.config.commit {
        let message = format!(
            "deploy({}): rollback {} of {} [{}]",
            new.record.service, new.id, target.record.id, new.record.environment
        );
        Some(
            ledger
                .repo
                .commit_files(&[new.path.as_path(), old.path.as_path()], &message)?,
        )
    } else {
        None
    };
    Ok(RolledBack {
        written: Written {
            id: new.id,
            path: new.path,
            commit,
            warnings: new.warnings,
        },
        of: target.record.id.clone(),
        of_path: target.path.clone(),
    })
}

/// `--of ID`, else the last success (by finish) of `--service`/`--env`.
fn find_target<'a>(all: &'a [Loaded], p: &RollbackParams) -> Result<&'a Loaded> {
    if let Some(id) = &p.of {
        return all.iter().find(|l| l.record.id == *id).ok_or_else(|| {
            let close: Vec<&str> = all
                .iter()
                .filter(|l| l.record.id.contains(id.as_str()))
                .map(|l| l.record.id.as_str())
                .take(5)
                .collect();
            Error::user_hint(
                format!("no record with id `{id}`"),
                if close.is_empty() {
                    "run `deploy-ledger list` to see the ids".to_string()
                } else {
                    format!("did you mean: {}", close.join(", "))
                },
            )
        });
    }
    let (Some(service), Some(env)) = (&p.service, &p.environment) else {
        return Err(Error::usage(
            "say which deployment to roll back",
            "pass --of ID, or --service and --env for the last success there",
        ));
    };
    all.iter()
        .filter(|l| {
            l.record.service == *service
                && l.record.environment == *env
                && l.record.status == Status::Success
        })
        .max_by_key(|l| l.record.finished_at.unwrap_or(l.record.started_at))
        .ok_or_else(|| {
            Error::user_hint(
                format!("no successful deployment of {service} in {env} to roll back"),
                "pass --of ID (`deploy-ledger list --service … --env …` shows them)",
            )
        })
}

/// The version of the last success of the same service and environment that
/// finished before `target` started.
fn previous_version(all: &[Loaded], target: &Record) -> Option<String> {
    all.iter()
        .filter(|l| {
            l.record.id != target.id
                && l.record.service == target.service
                && l.record.environment == target.environment
                && l.record.status == Status::Success
                && l.record.version.is_some()
                && l.record.finished_at.is_some_and(|f| f <= target.started_at)
        })
        .max_by_key(|l| l.record.finished_at)
        .and_then(|l| l.record.version.clone())
}
