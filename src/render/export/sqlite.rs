//! SQLite: typed tables `deployments`, `phases`, `tools`, `labels` with
//! indexes, times as RFC 3339 UTC text plus unix seconds, for Grafana's
//! SQLite data source or DuckDB (`ATTACH 'x.db' (TYPE sqlite)`).
//!
//! The file is built under a temp name in the destination folder and renamed
//! into place, so an error never leaves a partial database behind.

use rusqlite::{params, Connection};
use std::collections::HashSet;
use std::path::Path;

use crate::error::{Error, Result};
use crate::record::Record;

use super::utc;

/// Bumped when a table changes incompatibly (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

pub const SCHEMA: &str = "
CREATE TABLE deployments (
    id                TEXT PRIMARY KEY NOT NULL,
    service           TEXT NOT NULL,
    environment       TEXT NOT NULL,
    version           TEXT,
    strategy          TEXT,
    status            TEXT NOT NULL,
    operator          TEXT,
    started_at        TEXT NOT NULL,
    started_at_unix   INTEGER NOT NULL,
    finished_at       TEXT,
    finished_at_unix  INTEGER,
    duration_seconds  INTEGER,
    git_commit        TEXT,
    git_branch        TEXT,
    git_tag           TEXT,
    git_dirty         INTEGER,
    git_remote        TEXT,
    ci_provider       TEXT,
    ci_run_url        TEXT,
    change_id         TEXT,
    change_type       TEXT,
    change_risk       TEXT,
    rollback_of       TEXT,
    rollback_from_version TEXT,
    rollback_to_version   TEXT,
    rollback_reason   TEXT,
    failure_reason    TEXT,
    checklist_total   INTEGER,
    checklist_done    INTEGER
);
CREATE INDEX deployments_service ON deployments(service);
CREATE INDEX deployments_environment ON deployments(environment);
CREATE INDEX deployments_status ON deployments(status);
CREATE INDEX deployments_started_at ON deployments(started_at);
CREATE INDEX deployments_started_at_unix ON deployments(started_at_unix);
CREATE TABLE phases (
    deployment_id     TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    name              TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    started_at_unix   INTEGER NOT NULL,
    finished_at       TEXT,
    finished_at_unix  INTEGER,
    duration_seconds  INTEGER,
    PRIMARY KEY (deployment_id, position)
);
CREATE INDEX phases_name ON phases(name);
CREATE TABLE tools (
    deployment_id     TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    version           TEXT NOT NULL,
    PRIMARY KEY (deployment_id, name)
);
CREATE INDEX tools_name ON tools(name);
CREATE TABLE labels (
    deployment_id     TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    key               TEXT NOT NULL,
    value             TEXT NOT NULL,
    PRIMARY KEY (deployment_id, key)
);
CREATE INDEX labels_key_value ON labels(key, value);
";

/// Writes the database to `path` (replacing it only with `force`). Returns
/// warnings (records left out).
pub fn write(records: &[Record], path: &Path, force: bool) -> Result<Vec<String>> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".deploy-ledger-")
        .suffix(".db.tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    let built = (|| -> Result<Vec<String>> {
        let mut conn = Connection::open(tmp.path())?;
        let warnings = fill(&mut conn, records)?;
        conn.close().map_err(|(_, e)| e)?;
        Ok(warnings)
    })();
    // The temp file is removed when `tmp` drops: nothing is left behind.
    let warnings = built.map_err(|e| database_error(e, path, dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    if force {
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    } else {
        tmp.persist_noclobber(path)
            .map_err(|e| Error::io(path, e.error))?;
    }
    Ok(warnings)
}

/// A SQLite failure while building the file, with the destination and what
/// to do; a full disk (or a file size limit) says so.
fn database_error(e: Error, path: &Path, dir: &Path) -> Error {
    let Error::Sqlite(source) = &e else {
        return e;
    };
    let hint = match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => format!(
            "the disk holding {} is full: free some space, or choose another --output; nothing was written",
            dir.display()
        ),
        Some(rusqlite::ErrorCode::SystemIoFailure) => format!(
            "a write to {} failed (a full disk, a file size limit, a failing disk): free some space, or choose another --output; nothing was written",
            dir.display()
        ),
        _ => "check the folder exists and is writable; nothing was written".to_string(),
    };
    Error::user_hint(
        format!("cannot write the database {}: {source}", path.display()),
        hint,
    )
}

/// Creates the schema and inserts the records in one transaction.
pub fn fill(conn: &mut Connection, records: &[Record]) -> Result<Vec<String>> {
    conn.execute_batch("PRAGMA foreign_keys = ON;")?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    let mut warnings = Vec::new();
    {
        let mut dep = tx.prepare(
            "INSERT INTO deployments VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
             ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)",
        )?;
        let mut phase = tx.prepare("INSERT INTO phases VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        let mut tool = tx.prepare("INSERT INTO tools VALUES (?1, ?2, ?3)")?;
        let mut label = tx.prepare("INSERT INTO labels VALUES (?1, ?2, ?3)")?;
        let mut seen = HashSet::new();
        for r in records {
            if !seen.insert(r.id.as_str()) {
                warnings.push(format!(
                    "left out a second record with id {} (run `deploy-ledger validate`)",
                    r.id
                ));
                continue;
            }
            let rb = r.rollback.clone().unwrap_or_default();
            dep.execute(params![
                r.id,
                r.service,
                r.environment,
                r.version,
                r.strategy,
                r.status.as_str(),
                r.operator,
                utc(&r.started_at),
                r.started_at.timestamp(),
                r.finished_at.as_ref().map(utc),
                r.finished_at.map(|t| t.timestamp()),
                r.duration(),
                r.git.commit,
                r.git.branch,
                r.git.tag,
                r.git.dirty,
                r.git.remote,
                r.ci.get("provider"),
                r.ci.get("run_url"),
                r.change.get("id"),
                r.change.get("type"),
                r.change.get("risk"),
                rb.of,
                rb.from_version,
                rb.to_version,
                rb.reason,
                r.failure_reason,
                r.checklist_total.map(|n| n as i64),
                r.checklist_done.map(|n| n as i64),
            ])?;
            for (i, p) in r.phases.iter().enumerate() {
                phase.execute(params![
                    r.id,
                    i as i64 + 1,
                    p.name,
                    utc(&p.started_at),
                    p.started_at.timestamp(),
                    p.finished_at.as_ref().map(utc),
                    p.finished_at.map(|t| t.timestamp()),
                    p.duration_seconds
                        .or_else(|| p.finished_at.map(|f| (f - p.started_at).num_seconds())),
                ])?;
            }
            for (name, version) in &r.tools {
                tool.execute(params![r.id, name, version])?;
            }
            for (key, value) in &r.labels {
                label.execute(params![r.id, key, value])?;
            }
        }
    }
    tx.commit()?;
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_names_the_file_and_says_what_to_do() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        );
        let e = database_error(
            Error::Sqlite(full),
            Path::new("out/ledger.db"),
            Path::new("out"),
        );
        assert_eq!(
            e.to_string(),
            "cannot write the database out/ledger.db: database or disk is full"
        );
        let hint = e.hint().expect("a hint");
        assert!(hint.starts_with("the disk holding out is full"), "{hint}");
        assert!(hint.ends_with("nothing was written"), "{hint}");
    }
}
