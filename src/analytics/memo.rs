//! The report memo: a finished report kept under
//! `.git/deploy-ledger/analytics-memo`, so that a second `analytics` with
//! nothing new costs a `stat` of each record file instead of a load.
//!
//! An entry is used only when everything the report was computed from is
//! the same: the commit `--rev` resolved to, the report's options and the
//! configuration they came from, whether the clone is shallow (and where it
//! is cut), this build of the tool, and, when the work tree's records join
//! the report, the size, times and inode of every record file (as git's
//! index keys a file; a file changed within 2 s of the memo's write is never
//! trusted). What depends on the clock (`generated_at`, the stale
//! in-progress records) is recomputed at each run. Deleting the memo only
//! costs time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

use super::{stale_in_progress, OpenRecord, Options, Report};
use crate::git::Repo;
use crate::record::format_time;

const FILE: &str = "analytics-memo";
/// 2: a CRC-32 after the JSON (a damaged memo was printed as figures).
const FORMAT: &str = "deploy-ledger analytics-memo 2";
/// Entries kept (the most recent first): a few option sets in turn.
const KEEP: usize = 8;

#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    /// The work tree's record files when the report was computed (None:
    /// the work tree did not join the report).
    stamp: Option<u64>,
    /// When the stamp was taken (ns since the epoch), for the racy rule.
    stamped_ns: i64,
    report: Report,
    /// The in-progress records, to recompute the stale list.
    open: Vec<OpenRecord>,
    /// Deployed commits that were not in the repository: the entry is not
    /// used once one of them is (fetched later, its history counts).
    #[serde(default)]
    missing: Vec<String>,
}

/// What identifies one report, found before anything is loaded.
pub struct Memo {
    dir: std::path::PathBuf,
    key: String,
    /// The work tree's root, when its records join the report.
    work_tree: Option<std::path::PathBuf>,
    /// Its stamp, taken when first needed: at once when the memo has an
    /// entry for this key, else beside the report's computation (a `stat`
    /// of every record file: 0.07 s at 50,000 records). Taken after
    /// `stamped_ns`, as the files were read: a file changed since that
    /// time is newer than it, and the racy rule never trusts the entry.
    stamp: std::sync::OnceLock<Option<crate::ledger::Stamp>>,
    stamped_ns: i64,
}

impl Memo {
    /// The memo of the report of `rev` (a commit id) with `options`;
    /// `work_tree` is the root when its records join the report.
    pub fn new(repo: &Repo, rev: &str, options: &Options, work_tree: Option<&Path>) -> Memo {
        let stamped_ns = now_ns();
        let mut o = options.clone();
        // The clock only moves `generated_at` and the stale list.
        o.now = DateTime::<Utc>::UNIX_EPOCH;
        let shallow = std::fs::read(repo.git_dir().join("shallow")).unwrap_or_default();
        // Ignore files outside the work tree decide which records git lists
        // as untracked (the stamp covers those inside it).
        let ignores: Vec<String> = match work_tree {
            Some(_) => repo
                .global_ignore_files()
                .iter()
                .map(|p| format!("{}={}", p.display(), file_version(p)))
                .collect(),
            None => Vec::new(),
        };
        let key = format!(
            "{FORMAT}|{}|{}|{rev}|{}|{:x}|{ignores:?}|{o:?}",
            env!("CARGO_PKG_VERSION"),
            build_id(),
            work_tree.is_some(),
            digest(&shallow),
        );
        Memo {
            dir: repo.state_dir(),
            key,
            work_tree: work_tree.map(Path::to_path_buf),
            stamp: std::sync::OnceLock::new(),
            stamped_ns,
        }
    }

    /// The work tree's stamp (None: the work tree does not join).
    pub fn stamp(&self) -> Option<crate::ledger::Stamp> {
        *self.stamp.get_or_init(|| {
            self.work_tree
                .as_deref()
                .map(crate::ledger::work_tree_stamp)
        })
    }

    /// The memorised report, brought up to `now`, if nothing it was
    /// computed from has changed.
    pub fn get(&self, repo: &Repo, now: DateTime<Utc>, stale_after_hours: u64) -> Option<Report> {
        let bytes = std::fs::read(self.dir.join(FILE)).ok()?;
        let file: File = serde_json::from_slice(super::checksum::verified(&bytes)?).ok()?;
        if file.format != FORMAT {
            return None;
        }
        let entry = file.entries.into_iter().find(|e| e.key == self.key)?;
        if entry.stamp != self.stamp().map(|s| s.hash) {
            return None;
        }
        if entry.missing.iter().any(|c| repo.has_commit(c)) {
            return None;
        }
        // A file written around the stamp may have changed again within the
        // same timestamp tick: the stamp cannot tell.
        if self
            .stamp()
            .is_some_and(|s| s.newest_ns + 2_000_000_000 >= i128::from(entry.stamped_ns))
        {
            return None;
        }
        let mut report = entry.report;
        report.generated_at = format_time(now);
        report.audit.stale_in_progress = stale_in_progress(&entry.open, now, stale_after_hours);
        Some(report)
    }

    /// Keeps `report` (best effort: a read-only `.git` only costs time).
    /// `missing`: the deployed commits that are not in the repository.
    pub fn put(&self, report: &Report, open: Vec<OpenRecord>, missing: &[String]) {
        let _ = self.write(report, open, missing);
    }

    fn write(
        &self,
        report: &Report,
        open: Vec<OpenRecord>,
        missing: &[String],
    ) -> std::io::Result<()> {
        let old: Option<File> = std::fs::read(self.dir.join(FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(super::checksum::verified(&b)?).ok())
            .filter(|f: &File| f.format == FORMAT);
        let mut entries = vec![Entry {
            key: self.key.clone(),
            stamp: self.stamp().map(|s| s.hash),
            stamped_ns: self.stamped_ns,
            report: report.clone(),
            open,
            missing: missing.to_vec(),
        }];
        entries.extend(
            old.map(|f| f.entries)
                .unwrap_or_default()
                .into_iter()
                .filter(|e| e.key != self.key)
                .take(KEEP - 1),
        );
        let file = File {
            format: FORMAT.into(),
            entries,
        };
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        let mut out = super::checksum::Summed::new(&mut tmp);
        out.write_all(&serde_json::to_vec(&file)?)?;
        out.finish()?;
        tmp.persist(self.dir.join(FILE)).map_err(|e| e.error)?;
        Ok(())
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// This build of the tool: a rebuilt binary may compute differently.
fn build_id() -> String {
    std::env::current_exe()
        .map(|p| file_version(&p))
        .unwrap_or_default()
}

/// A file's size and modification time ("absent" when it is not there).
fn file_version(path: &Path) -> String {
    std::fs::metadata(path)
        .map(|m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}-{modified}", m.len())
        })
        .unwrap_or_else(|_| "absent".into())
}

/// A hash of a small file's bytes (the same build hashes the same way: the
/// build is part of the key).
fn digest(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}
