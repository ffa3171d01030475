//! Rollbacks (SPEC §3): a new record with `rollback: { of, from_version,
//! to_version, reason }`, and the deployment it undoes marked `rolled-back`
//! with `rolled_back_by`. Both files are written or neither is.
//!
//! The rollback record itself has status `success`: it is the deployment that
//! restored service, so one bad deployment counts as one failure in the
//! change failure rate, and its recovery time ends at the rollback.
//!
//! Times: the rollback starts and finishes now (the clock), unless
//! `started`/`finished` are given (a rollback recorded after the fact).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::path::Path;

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
    // The reason goes into the rollback record's frontmatter and its note.
    deploy::check_one_line("--reason", p.reason.as_deref())?;
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
        status: Status::Success,
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

    deploy::precheck_commit(ledger)?;
    let mut undo = deploy::Undo::default();
    undo.keep(&ledger.abs(&new.path));
    undo.keep(&ledger.abs(&old.path));
    write_both(
        &ledger.root,
        (&new.path, &new.doc.render()),
        (&old.path, &old.doc.render()),
    )?;
    let commit = if ledger.config.commit {
        let message = format!(
            "deploy({}): rollback {} of {} [{}]",
            new.record.service, new.id, target.record.id, new.record.environment
        );
        Some(deploy::commit_or_undo(
            ledger,
            &[new.path.as_path(), old.path.as_path()],
            &message,
            undo,
        )?)
    } else {
        None
    };
    Ok(RolledBack {
        written: Written {
            id: new.id,
            path: new.path,
            commit,
            warnings: new.warnings,
            record: Box::new(new.record),
        },
        of: target.record.id.clone(),
        of_path: target.path.clone(),
    })
}

/// Writes the new record and the marked old one, both or neither: the new
/// file is created first (never replacing a file); if rewriting the old one
/// fails, the new one is removed again.
pub fn write_both(root: &Path, new: (&Path, &str), old: (&Path, &str)) -> Result<()> {
    let new_abs = root.join(new.0);
    if let Some(dir) = new_abs.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    write_atomic(&new_abs, new.1.as_bytes(), true)?;
    if let Err(e) = write_atomic(&root.join(old.0), old.1.as_bytes(), false) {
        let _ = std::fs::remove_file(&new_abs);
        return Err(e);
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_second_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        // The old record's folder is a file: writing there fails, even as root.
        std::fs::write(root.join("old"), "not a folder").expect("write");
        let err = write_both(
            root,
            (Path::new("new/DEP-new.md"), "new"),
            (Path::new("old/DEP-old.md"), "old"),
        )
        .expect_err("the second write fails");
        assert!(err.to_string().contains("old"), "{err}");
        assert!(
            !root.join("new/DEP-new.md").exists(),
            "the new record was removed"
        );
        let left: Vec<_> = std::fs::read_dir(root.join("new"))
            .expect("folder")
            .collect();
        assert!(left.is_empty(), "no temp files: {left:?}");
        assert_eq!(
            std::fs::read_to_string(root.join("old")).expect("read"),
            "not a folder"
        );
    }

    #[test]
    fn both_are_written_when_both_can_be() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("old")).expect("mkdir");
        std::fs::write(root.join("old/DEP-old.md"), "before").expect("write");
        write_both(
            root,
            (Path::new("new/DEP-new.md"), "new"),
            (Path::new("old/DEP-old.md"), "after"),
        )
        .expect("writes");
        assert_eq!(
            std::fs::read_to_string(root.join("new/DEP-new.md")).expect("read"),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("old/DEP-old.md")).expect("read"),
            "after"
        );
        // A new record never replaces a file.
        assert!(write_both(
            root,
            (Path::new("new/DEP-new.md"), "again"),
            (Path::new("old/DEP-old.md"), "again"),
        )
        .is_err());
        assert_eq!(
            std::fs::read_to_string(root.join("old/DEP-old.md")).expect("read"),
            "after"
        );
    }
}
