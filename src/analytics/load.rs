//! Reading everything a report needs from a repository: the records at a
//! revision (from git objects), the work tree's uncommitted records, the
//! commit graph and the audit facts of the ledger's history.

use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::graph::{oid_hex, Oid};
use super::{AuditEntry, History, RecordInput};
use crate::config::CHECKLISTS_DIR;
use crate::error::Result;
use crate::git::Repo;
use crate::record::{frontmatter, Record, Status};

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The revision whose records are read (`HEAD` by default).
    pub rev: String,
    /// Leave out the work tree's uncommitted records.
    pub committed_only: bool,
    /// Every configured service path (`[services.X] paths`).
    pub service_paths: Vec<String>,
}

/// What [`load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<RecordInput>,
    pub history: History,
    /// The commit `rev` resolved to (None in a repository with no commit).
    pub rev: Option<String>,
    /// Records that failed to parse (`path: why`), and other caveats.
    pub warnings: Vec<String>,
}

type Parsed = std::result::Result<Record, String>;
/// The versions of one record file: (commit index, blob; None = deleted).
type Versions = Vec<(u32, Option<Oid>)>;

fn parse(path: &str, bytes: &[u8]) -> Option<Parsed> {
    let text = String::from_utf8_lossy(bytes);
    if !frontmatter::has_frontmatter(&text) {
        return None;
    }
    Some(
        Record::parse(&text, Path::new(path))
            .map(|(_, r)| r)
            .map_err(|e| e.to_string()),
    )
}

/// Reads the records at `options.rev`, the work tree's uncommitted records
/// and the history. Records that fail to parse become warnings.
pub fn load(repo: &Repo, options: &LoadOptions) -> Result<Loaded> {
    Repo::fast_reads();
    let rev = match repo.resolve_commit(&options.rev) {
        Ok(c) => Some(c),
        // A new repository: no commit yet, only work-tree records.
        Err(_) if options.rev == "HEAD" && repo.raw().head().is_err() => None,
        Err(e) => return Err(e),
    };
    let mut out = Loaded {
        rev,
        ..Loaded::default()
    };
    let mut at_rev: HashMap<String, String> = HashMap::new();
    if let Some(rev) = &out.rev {
        let blobs = repo.blobs_at(rev, CHECKLISTS_DIR)?;
        let parsed: Vec<(String, String, Option<Parsed>)> = blobs
            .into_par_iter()
            .map(|(path, id, bytes)| {
                let r = parse(&path, &bytes);
                (path, id, r)
            })
            .collect();
        for (path, id, r) in parsed {
            at_rev.insert(path.clone(), id);
            match r {
                Some(Ok(record)) => out.records.push(RecordInput {
                    path,
                    record,
                    committed: true,
                }),
                Some(Err(e)) => out.warnings.push(e),
                None => {}
            }
        }
        let walk = repo.walk_history(rev, &options.service_paths)?;
        out.history.shallow = walk.shallow;
        out.history.walked = true;
        let (edited, deleted) = audit_facts(repo, &walk, &at_rev, &out.records);
        out.history.edited_after_finish = edited;
        out.history.deleted = deleted;
        out.history.graph = walk.graph;
    }
    if !options.committed_only {
        if let Ok(root) = repo.workdir() {
            work_tree(root, &at_rev, &mut out)?;
        }
    }
    out.records.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Adds the work tree's records that differ from `rev`: a record not at
/// `rev` is flagged uncommitted; a committed record with local changes is
/// read from the work tree (it is the newer truth) and stays `committed`.
fn work_tree(root: &Path, at_rev: &HashMap<String, String>, out: &mut Loaded) -> Result<()> {
    let dir = root.join(CHECKLISTS_DIR);
    let files: Vec<String> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .filter_map(|e| {
            e.path()
                .strip_prefix(root)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    let found: Vec<(String, bool, Option<Parsed>)> = files
        .into_par_iter()
        .filter_map(|rel| {
            let bytes = std::fs::read(root.join(&rel)).ok()?;
            let committed = at_rev.contains_key(&rel);
            if committed && Repo::hash_blob(&bytes).ok().as_ref() == at_rev.get(&rel) {
                return None;
            }
            let r = parse(&rel, &bytes);
            Some((rel, committed, r))
        })
        .collect();
    let index: HashMap<String, usize> = out
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.path.clone(), i))
        .collect();
    for (path, committed, r) in found {
        match r {
            Some(Ok(record)) => match index.get(&path) {
                Some(&i) => out.records[i].record = record,
                None => out.records.push(RecordInput {
                    path,
                    record,
                    committed,
                }),
            },
            Some(Err(e)) => out.warnings.push(format!("{e} (work tree)")),
            None => {}
        }
    }
    Ok(())
}

/// Records edited after their finish, and records deleted from the tree,
/// from the record-file changes of every commit.
///
/// - Edited after finish: the version before the current one was already
///   final (success, failed, cancelled, rolled-back), so the last commit
///   changed a finished record. Marking a success `rolled-back` (what the
///   `rollback` command does) is not counted. The commit reported is the
///   one that made the current version.
/// - Deleted: a path whose last change removed it, whose record id is not
///   at `rev` under another path (a move is not a deletion).
fn audit_facts(
    repo: &Repo,
    walk: &crate::git::history::Walk,
    at_rev: &HashMap<String, String>,
    records: &[RecordInput],
) -> (Vec<AuditEntry>, Vec<AuditEntry>) {
    let g = &walk.graph;
    let mut versions: HashMap<&str, Versions> = HashMap::new();
    for (i, changes) in walk.changes.iter().enumerate() {
        for (path, blob) in changes {
            versions
                .entry(path.as_str())
                .or_default()
                .push((i as u32, *blob));
        }
    }
    let oid_of: Vec<Oid> = {
        let mut v = vec![[0u8; 20]; g.commits.len()];
        for (oid, i) in &g.index {
            v[*i as usize] = *oid;
        }
        v
    };
    for vs in versions.values_mut() {
        // Newest first; the same blob brought in again by a merge is one version.
        vs.sort_by_key(|(i, _)| (std::cmp::Reverse(g.commits[*i as usize].commit_time), *i));
        vs.dedup_by(|b, a| a.1 == b.1);
    }
    let by_path: HashMap<&str, &Record> = records
        .iter()
        .map(|r| (r.path.as_str(), &r.record))
        .collect();
    let ids: HashSet<&str> = records.iter().map(|r| r.record.id.as_str()).collect();
    let read = |blob: &Oid, path: &str| -> Option<Record> {
        let bytes = repo.blob_bytes(blob).ok()?;
        parse(path, &bytes)?.ok()
    };
    let work: Vec<(&str, &Versions)> = versions.iter().map(|(p, v)| (*p, v)).collect();
    // A git2 repository handle is not shared across threads: this part
    // reads one or two blobs per record and stays sequential.
    let mut edited = Vec::new();
    let mut deleted = Vec::new();
    for (path, vs) in work {
        let Some(&(newest, newest_blob)) = vs.first() else {
            continue;
        };
        if let Some(current) = by_path.get(path).filter(|_| at_rev.contains_key(path)) {
            let Some(&(_, Some(prev_blob))) = vs.get(1) else {
                continue;
            };
            if newest_blob.is_none() {
                continue;
            }
            if let Some(prev) = read(&prev_blob, path) {
                let tool_rollback =
                    prev.status == Status::Success && current.status == Status::RolledBack;
                if prev.status.is_final() && !tool_rollback {
                    edited.push(AuditEntry {
                        id: current.id.clone(),
                        path: path.to_string(),
                        commit: Some(oid_hex(&oid_of[newest as usize])),
                    });
                }
            }
        } else if newest_blob.is_none() && !at_rev.contains_key(path) {
            let last = vs.iter().find_map(|(_, b)| *b);
            let id = last.and_then(|b| read(&b, path)).map(|r| r.id);
            if id.as_deref().is_some_and(|id| ids.contains(id)) {
                continue;
            }
            deleted.push(AuditEntry {
                id: id.unwrap_or_else(|| "(unreadable)".into()),
                path: path.to_string(),
                commit: Some(oid_hex(&oid_of[newest as usize])),
            });
        }
    }
    edited.sort_by(|a, b| a.path.cmp(&b.path));
    deleted.sort_by(|a, b| a.path.cmp(&b.path));
    (edited, deleted)
}
