//! Reading everything a report needs from a repository: the records at a
//! revision (from git objects), the work tree's uncommitted records, the
//! commit graph and the audit facts of the ledger's history.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;

use super::cache::{self, Parsed};
use super::graph::{oid_hex, Oid};
use super::{AuditEntry, History, RecordInput};
use crate::config::CHECKLISTS_DIR;
use crate::error::Result;
use crate::git::history::ToolAction;
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

type ParseResult = std::result::Result<Record, String>;
/// The versions of one record file: (commit index, what changed).
type Versions = Vec<(u32, Version)>;
/// What a tool commit did to a path, looked up in the trees (see
/// `Repo::changes_to`).
type Looked = Option<Option<Oid>>;

fn parse(path: &str, bytes: &[u8]) -> Option<ParseResult> {
    let text = String::from_utf8_lossy(bytes);
    if !frontmatter::has_frontmatter(&text) {
        return None;
    }
    Some(
        Record::parse(&text, Path::new(path))
            .map(|(_, r)| r.for_reports())
            .map_err(|e| e.to_string()),
    )
}

/// The commit `rev` names; None in a new repository (no commit yet) when
/// `rev` is `HEAD`.
pub fn resolve_rev(repo: &Repo, rev: &str) -> Result<Option<String>> {
    match repo.resolve_commit(rev) {
        Ok(c) => Ok(Some(c)),
        // A new repository: no commit yet, only work-tree records.
        Err(_) if rev == "HEAD" && repo.raw().head().is_err() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the work tree's records join a report of commit `rev`: its
/// changes are changes against HEAD, so only a report of HEAD takes them.
pub fn work_tree_joins(repo: &Repo, rev: &str) -> bool {
    repo.workdir().is_ok() && repo.resolve_commit("HEAD").ok().as_deref() == Some(rev)
}

/// Reads the records at `options.rev`, the work tree's uncommitted records
/// and the history. Records that fail to parse become warnings.
pub fn load(repo: &Repo, options: &LoadOptions) -> Result<Loaded> {
    Repo::fast_reads();
    let clock = Stopwatch::new();
    let rev = resolve_rev(repo, &options.rev)?;
    let mut out = Loaded {
        rev,
        ..Loaded::default()
    };
    // The work tree's changed record files (None: every record file of a
    // new repository), and the blobs they have at `rev`.
    let mut changed: Option<Vec<String>> = None;
    let mut changed_at_rev: HashMap<String, Oid> = HashMap::default();
    // The work tree's changes are changes against HEAD (git's index says
    // which files): they join a report of HEAD (or of a new repository), not
    // one of another revision.
    let head = repo.resolve_commit("HEAD").ok();
    let with_work_tree = !options.committed_only && repo.workdir().is_ok() && head == out.rev;
    // The work tree's changed record files, when found beside the walk.
    let mut work_tree_changes: Option<Result<Vec<String>>> = None;
    if let Some(rev) = out.rev.clone() {
        let prefixes: Vec<String> = options.service_paths.iter().take(64).cloned().collect();
        let state = repo.state_dir();
        // In a shallow clone the history moves under the same commits
        // (`git fetch --deepen`): no cache is read or written there.
        let shallow = repo.is_shallow();
        let cached = cache::read(&state, &rev).filter(|c| {
            !shallow && !c.walk.shallow && c.prefixes == prefixes && repo.is_ancestor(&c.tip, &rev)
        });
        clock.lap("cache read");
        let (files, walk, audit, fresh) = match cached {
            Some(c) if c.tip == rev => (c.files, c.walk, Some((c.edited, c.deleted)), false),
            other => {
                let (base, known) = match other {
                    Some(c) => (Some(c.walk), cache::by_blob(c.files)),
                    None => (None, std::collections::HashMap::new()),
                };
                // The history first, then the records (a git2 handle is not
                // `Sync`: one each). Parsed beside the walk, the records (about
                // 120 MB at 100,000) were held while the packs were read, the
                // peak of a cold run: 359 -> 338 MB, for about 0.05 s more at
                // 50,000 records, both stages using both cores anyway.
                let (mine, other) = (repo.reopen()?, repo.reopen()?);
                // The work tree's status beside the walk (it only needs the
                // index).
                let status = match with_work_tree {
                    true => Some(repo.reopen()?),
                    false => None,
                };
                let (at, paths) = (&rev, &prefixes);
                let (walk, changed) = rayon::join(
                    move || {
                        let started = std::time::Instant::now();
                        let walk = other.walk_history(at, paths, base);
                        Stopwatch::note("history walk", started);
                        walk
                    },
                    move || status.map(|s| s.changed_in_work_tree(CHECKLISTS_DIR)),
                );
                work_tree_changes = changed;
                let walk = walk?;
                // What the walk freed (its reads of the packs) is given back
                // before the records are read.
                release_freed();
                let started = std::time::Instant::now();
                let files = files_at(&mine, at, known)?;
                release_freed();
                Stopwatch::note("records at rev", started);
                clock.lap("records at rev and history walk");
                (files, walk, None, true)
            }
        };
        let at_rev: HashMap<&str, Oid> = files.iter().map(|(p, b, _)| (p.as_str(), *b)).collect();
        // A fresh walk goes to the cache while its audit facts are worked
        // out (both only read it); the facts are written last.
        let write_cache = fresh && !shallow;
        let (audit, head) = std::thread::scope(|scope| {
            let head = write_cache.then(|| {
                let (state, rev, prefixes, walk, files) = (&state, &rev, &prefixes, &walk, &files);
                scope.spawn(move || cache::write_head(state, rev, prefixes, walk, files))
            });
            let audit = audit.unwrap_or_else(|| {
                let by_path: HashMap<&str, &Record> = files
                    .iter()
                    .filter_map(|(path, _, p)| match p {
                        Parsed::Record(r) => Some((path.as_str(), &**r)),
                        _ => None,
                    })
                    .collect();
                audit_facts(repo, &walk, &at_rev, &by_path)
            });
            (audit, head.and_then(|h| h.join().ok()))
        });
        let (edited, deleted) = audit;
        release_freed();
        clock.lap("audit facts");
        if let Some(Ok(head)) = head {
            // Best effort: a read-only .git only costs the next run time.
            let _ = head.finish(&state, &edited, &deleted);
            clock.lap("cache write");
        }
        for (_, _, p) in &files {
            if let Parsed::Broken(m) = p {
                out.warnings.push(m.clone());
            }
        }
        out.history.shallow = walk.shallow;
        out.history.walked = true;
        out.history.edited_after_finish = edited;
        out.history.deleted = deleted;
        out.history.graph = walk.graph;
        // What the work tree changed, and its blobs at `rev` (only theirs:
        // a copy of every path was 14 MB at 100,000 records).
        if with_work_tree {
            let found = match work_tree_changes.take() {
                Some(found) => found?,
                None => repo.changed_in_work_tree(CHECKLISTS_DIR)?,
            };
            changed_at_rev = found
                .iter()
                .filter_map(|p| Some((p.clone(), *at_rev.get(p.as_str())?)))
                .collect();
            changed = Some(found);
        }
        drop(at_rev);
        // The records move out of the cache (written already): no copy.
        out.records = files
            .into_iter()
            .filter_map(|(path, _, p)| match p {
                Parsed::Record(record) => Some(RecordInput {
                    path,
                    record,
                    committed: true,
                }),
                _ => None,
            })
            .collect();
    }
    if with_work_tree {
        let root = repo.workdir()?;
        let files = changed.unwrap_or_else(|| record_files(root));
        work_tree(root, files, &changed_at_rev, &mut out)?;
    }
    out.records.sort_by(|a, b| a.path.cmp(&b.path));
    one_per_id(&mut out);
    release_freed();
    clock.lap("work tree");
    if out.history.walked {
        let prefixes: Vec<String> = options.service_paths.iter().take(64).cloned().collect();
        reach_deployed_commits(repo, &prefixes, &mut out)?;
        clock.lap("deployed commits outside --rev");
    }
    Ok(out)
}

/// Walks the deployed commits the history of `rev` does not hold onto the
/// graph: a deployment of a branch that is not merged (a hotfix, a release
/// branch) still ships `previous..this` (README, lead time), and the next
/// deployment needs it as its baseline. Only the graph grows: the record
/// changes of those commits are not the history of `rev`, and the audit
/// does not take them. A named commit that is not in the repository is
/// listed in `missing_commits`.
fn reach_deployed_commits(repo: &Repo, prefixes: &[String], out: &mut Loaded) -> Result<()> {
    let graph = &out.history.graph;
    let mut tips: Vec<String> = out
        .records
        .iter()
        .filter_map(|r| r.record.git.commit.clone())
        .filter(|c| graph.get(c).is_none())
        .collect();
    tips.sort();
    tips.dedup();
    for tip in tips {
        // Reached already from an earlier one.
        if out.history.graph.get(&tip).is_some() {
            continue;
        }
        if !repo.has_commit(&tip) {
            out.history.missing_commits.push(tip);
            continue;
        }
        let base = crate::git::history::Walk {
            graph: std::mem::take(&mut out.history.graph),
            ..Default::default()
        };
        out.history.graph = repo.walk_history(&tip, prefixes, Some(base))?.graph;
    }
    Ok(())
}

/// Adds the work tree's records that differ from `rev`: a record not at
/// `rev` is flagged uncommitted; a committed record with local changes is
/// read from the work tree (it is the newer truth) and stays `committed`.
/// `at_rev`: the blobs `files` have at `rev` (a file without one is new).
fn work_tree(
    root: &Path,
    files: Vec<String>,
    at_rev: &HashMap<String, Oid>,
    out: &mut Loaded,
) -> Result<()> {
    let found: Vec<(String, bool, Option<ParseResult>)> = files
        .into_par_iter()
        .filter_map(|rel| {
            let bytes = std::fs::read(root.join(&rel)).ok()?;
            let committed = at_rev.contains_key(&rel);
            if committed && at_rev.get(&rel) == Some(&Repo::blob_id(&bytes)) {
                return None;
            }
            let r = parse(&rel, &bytes);
            Some((rel, committed, r))
        })
        .collect();
    // Where the changed files' committed versions are (only theirs: a copy
    // of every path was 40 MB at 100,000 records).
    let wanted: HashSet<&str> = found.iter().map(|(p, _, _)| p.as_str()).collect();
    let index: HashMap<String, usize> = out
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| wanted.contains(r.path.as_str()))
        .map(|(i, r)| (r.path.clone(), i))
        .collect();
    // A new file whose record's committed file is gone from the work tree
    // is that record moved (`git mv`, or `mv` not yet staged): one record.
    let new_ids: HashSet<&str> = found
        .iter()
        .filter(|(path, committed, _)| !committed && !index.contains_key(path))
        .filter_map(|(_, _, r)| r.as_ref()?.as_ref().ok().map(|r| r.id.as_str()))
        .collect();
    let moved_from: HashMap<String, usize> = out
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| new_ids.contains(r.record.id.as_str()))
        .filter(|(_, r)| r.committed && !root.join(&r.path).exists())
        .map(|(i, r)| (r.record.id.clone(), i))
        .collect();
    drop(new_ids);
    for (path, committed, r) in found {
        match r {
            Some(Ok(record)) => match index.get(&path) {
                Some(&i) => *out.records[i].record = record,
                None => match moved_from.get(&record.id) {
                    Some(&i) if !committed => {
                        out.records[i].path = path;
                        *out.records[i].record = record;
                    }
                    _ => out.records.push(RecordInput {
                        path,
                        record: Box::new(record),
                        committed,
                    }),
                },
            },
            Some(Err(e)) => out.warnings.push(format!("{e} (work tree)")),
            None => {}
        }
    }
    Ok(())
}

/// Keeps one record per id: two files with the same id (a copy) are one
/// deployment, counted once, with a warning (`validate` reports them too).
/// The committed one is kept, else the first by path.
fn one_per_id(out: &mut Loaded) {
    let mut first: HashMap<&str, usize> = HashMap::default();
    let mut keep = vec![true; out.records.len()];
    for (i, r) in out.records.iter().enumerate() {
        let Some(kept) = first.get_mut(r.record.id.as_str()) else {
            first.insert(&r.record.id, i);
            continue;
        };
        // The committed one stays.
        let (k, d) = match !out.records[*kept].committed && r.committed {
            true => (i, std::mem::replace(kept, i)),
            false => (*kept, i),
        };
        out.warnings.push(format!(
            "{}: the same id as {} ({}): counted once (see `deploy-ledger validate`)",
            out.records[d].path, out.records[k].path, r.record.id
        ));
        keep[d] = false;
    }
    let mut keep = keep.into_iter();
    out.records.retain(|_| keep.next().unwrap_or(true));
}

/// The record files at `rev`, parsed, reusing `known` parses by blob id.
fn files_at(
    repo: &Repo,
    rev: &str,
    mut known: std::collections::HashMap<Oid, cache::Parsed>,
) -> Result<Vec<(String, Oid, cache::Parsed)>> {
    let ids = repo.blob_ids_at(rev, CHECKLISTS_DIR)?;
    // The first path of each blob not parsed yet, by its place in `ids` (a
    // copy of each path was 10 MB at 100,000 records), and the blobs found
    // at several paths (identical files: parsed once, the parse copied).
    let mut seen: HashSet<Oid> = HashSet::default();
    let mut repeated: HashSet<Oid> = HashSet::default();
    let mut missing: Vec<usize> = Vec::new();
    for (i, (_, blob)) in ids.iter().enumerate() {
        if !seen.insert(*blob) {
            repeated.insert(*blob);
        } else if !known.contains_key(blob) {
            missing.push(i);
        }
    }
    drop(seen);
    let blobs: Vec<Oid> = missing.iter().map(|&i| ids[i].1).collect();
    // A clean work tree holds the same bytes: read there when they hash to
    // the blob id (exact, whatever the revision), else from git.
    let root = repo.workdir().ok();
    let files: Vec<&str> = missing.iter().map(|&i| ids[i].0.as_str()).collect();
    let work_tree = root.map(|r| (r, files.as_slice()));
    let parsed: Vec<cache::Parsed> = repo.map_blobs_from(&blobs, work_tree, |k, bytes| {
        let parsed = bytes.and_then(|b| parse(files[k], b));
        match parsed {
            None => Parsed::NotARecord,
            Some(Ok(r)) => Parsed::Record(Box::new(r)),
            Some(Err(e)) => Parsed::Broken(e),
        }
    });
    drop(blobs);
    let mut parsed = missing.into_iter().zip(parsed).peekable();
    // Each parse moves to its path: a record is not held twice. Only a blob
    // at several paths is copied.
    let mut first: HashMap<Oid, usize> = HashMap::default();
    let mut out: Vec<(String, Oid, cache::Parsed)> = Vec::with_capacity(ids.len());
    for (i, (path, blob)) in ids.into_iter().enumerate() {
        let p = match parsed.next_if(|(m, _)| *m == i) {
            Some((_, p)) => Some(p),
            None => known.remove(&blob),
        };
        let p = match p {
            Some(p) => {
                if repeated.contains(&blob) {
                    first.insert(blob, out.len());
                }
                p
            }
            None => first
                .get(&blob)
                .map_or(Parsed::NotARecord, |i| out[*i].2.clone()),
        };
        out.push((path, blob, p));
    }
    Ok(out)
}

/// Every record file of the work tree, relative, `/`-separated.
fn record_files(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root.join(CHECKLISTS_DIR))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .filter_map(|e| {
            e.path()
                .strip_prefix(root)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        })
        .collect()
}

/// One version of a record file: what a diffed commit found (a blob; None:
/// deleted), or the action of a trusted tool commit (blob not looked up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Blob(Option<Oid>),
    Tool(ToolAction),
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
///
/// The versions come from two sources: diffed commits give blobs by path;
/// trusted tool commits give the record id (mapped to its path at `rev`)
/// and their action. A version written by a tool commit is final iff its
/// action is `finish` or `record`, or an earlier version was final. A record
/// with versions of both kinds (or whose current status needs the status
/// before it, or whose id is at two paths) has its tool versions looked up
/// in the trees, and is then read blob by blob like the others.
fn audit_facts(
    repo: &Repo,
    walk: &crate::git::history::Walk,
    at_rev: &HashMap<&str, Oid>,
    by_path: &HashMap<&str, &Record>,
) -> (Vec<AuditEntry>, Vec<AuditEntry>) {
    // Each commit's id, by index.
    let oid_of = &walk.graph.ids[..];
    let g = &walk.graph;
    let mut versions: HashMap<&str, Versions> =
        HashMap::with_capacity_and_hasher(by_path.len(), Default::default());
    for (i, (path, blob)) in &walk.changes {
        versions
            .entry(path.as_str())
            .or_default()
            .push((*i, Version::Blob(*blob)));
    }
    // Tool commits name a record id: its path(s) at `rev`. A tool commit for
    // a record no longer at `rev` changes no path the audit reads (a
    // deletion is diffed, and its last version read from its parent).
    // Inline: an id is at one path but for a copied record file.
    let mut paths_of_id: HashMap<&str, smallvec::SmallVec<[&str; 1]>> =
        HashMap::with_capacity_and_hasher(by_path.len(), Default::default());
    for (path, r) in by_path {
        paths_of_id.entry(r.id.as_str()).or_default().push(path);
    }
    let mut exact: HashSet<&str> = HashSet::default();
    for (i, t) in &walk.tool {
        let Some(paths) = paths_of_id.get(&*walk.tool_ids[t.id as usize]) else {
            continue;
        };
        for path in paths {
            if paths.len() > 1 {
                exact.insert(path);
            }
            versions
                .entry(path)
                .or_default()
                .push((*i, Version::Tool(t.action)));
        }
    }
    // Newest first by the graph (a descendant before its ancestors), not by
    // committer time, which can go backwards (a replayed clock, a rebase,
    // another machine's clock); nor by index, which differs between a cold
    // walk and one extending the cache. Ties (parallel branches): the later
    // committer time, then the commit id, so every run orders them alike.
    let generation = if versions.is_empty() {
        Vec::new()
    } else {
        g.generations()
    };
    let newest_first = |i: u32| {
        let i = i as usize;
        (
            std::cmp::Reverse(generation[i]),
            std::cmp::Reverse(g.commits[i].commit_time),
            oid_of[i],
        )
    };
    let order = |vs: &mut Versions| vs.sort_by_key(|(i, _)| newest_first(*i));
    // Records whose tool versions need their blobs: mixed sources, an id at
    // two paths, or a current status of rolled-back after a final version
    // (the exclusion below needs the status before it).
    let mut lookups: Vec<(&str, usize, Oid)> = Vec::new();
    for (path, vs) in versions.iter_mut() {
        order(vs);
        let tools = vs
            .iter()
            .filter(|(_, v)| matches!(v, Version::Tool(_)))
            .count();
        if tools == 0 {
            continue;
        }
        // Only when the tool versions alone would say "edited after finish".
        let rolled_back = by_path
            .get(path)
            .is_some_and(|r| r.status == Status::RolledBack)
            && vs.len() > 1
            && vs[1..]
                .iter()
                .any(|(_, v)| matches!(v, Version::Tool(a) if a.is_final()));
        if tools < vs.len() || exact.contains(path) || rolled_back {
            for (k, (i, v)) in vs.iter().enumerate() {
                if matches!(v, Version::Tool(_)) {
                    lookups.push((path, k, oid_of[*i as usize]));
                }
            }
        }
    }
    if !lookups.is_empty() {
        let jobs: Vec<(Oid, &str)> = lookups.iter().map(|(p, _, c)| (*c, *p)).collect();
        let found = repo.changes_to(&jobs);
        let mut resolved: HashMap<&str, Vec<(usize, Looked)>> = HashMap::default();
        for ((path, k, _), f) in lookups.iter().zip(found) {
            resolved.entry(path).or_default().push((*k, f));
        }
        for (path, list) in resolved {
            let Some(vs) = versions.get_mut(path) else {
                continue;
            };
            for (k, f) in &list {
                vs[*k].1 = match f {
                    Some(blob) => Version::Blob(*blob),
                    // Not a change of this path: dropped below.
                    None => Version::Tool(ToolAction::Start),
                };
            }
            let dropped: HashSet<usize> = list
                .iter()
                .filter(|(_, f)| f.is_none())
                .map(|(k, _)| *k)
                .collect();
            let mut k = 0;
            vs.retain(|_| {
                k += 1;
                !dropped.contains(&(k - 1))
            });
        }
    }
    let moved_from = chain_moves(repo, &mut versions, at_rev, oid_of);
    for vs in versions.values_mut() {
        // The same blob brought in again by a merge (compared with its first
        // parent) is one version: the older commit's, the one that made it
        // (an edit or a removal on a branch is named by the branch's commit,
        // not by the merge that brought it in).
        vs.reverse();
        vs.dedup_by(|b, a| matches!(a.1, Version::Blob(_)) && a.1 == b.1);
        vs.reverse();
    }
    let ids: HashSet<&str> = by_path.values().map(|r| r.id.as_str()).collect();
    let mut edited = Vec::new();
    // What to read: the version before the current one of each record at
    // `rev` changed more than once, and the last version of each removed path.
    let mut jobs: Vec<(&str, u32, Oid, bool)> = Vec::new();
    for (path, vs) in &versions {
        let Some(&(newest, newest_version)) = vs.first() else {
            continue;
        };
        if at_rev.contains_key(*path) {
            let Some(now) = by_path.get(path) else {
                continue;
            };
            match (newest_version, vs.get(1)) {
                (Version::Blob(None), _) => {}
                // The first version known, made at the path a record was
                // moved from: the one before it is read from there.
                (_, None) => {
                    let before = moved_from
                        .get(&(*path, newest))
                        .and_then(|from| repo.blob_in_first_parent(&oid_of[newest as usize], from));
                    if let Some(prev) = before {
                        jobs.push((path, newest, prev, true));
                    }
                }
                (_, Some(&(_, Version::Blob(Some(prev))))) => jobs.push((path, newest, prev, true)),
                (_, Some((_, Version::Blob(None)))) => {}
                (_, Some((_, Version::Tool(_)))) => {
                    // Tool versions only (the others were looked up).
                    let was_final = vs[1..]
                        .iter()
                        .any(|(_, v)| matches!(v, Version::Tool(a) if a.is_final()));
                    if was_final {
                        edited.push(AuditEntry {
                            id: now.id.clone(),
                            path: path.to_string(),
                            commit: Some(oid_hex(&oid_of[newest as usize])),
                        });
                    }
                }
            }
        } else if newest_version == Version::Blob(None) {
            let last = vs
                .iter()
                .find_map(|(_, v)| match v {
                    Version::Blob(b) => *b,
                    Version::Tool(_) => None,
                })
                .or_else(|| repo.blob_in_first_parent(&oid_of[newest as usize], path));
            if let Some(last) = last {
                jobs.push((path, newest, last, false));
            }
        }
    }
    let blobs: Vec<Oid> = jobs.iter().map(|j| j.2).collect();
    let blobs_at_rev: HashSet<&Oid> = at_rev.values().collect();
    // Whether the commit that removed a record's old path added its new one
    // with other bytes (moved and edited at once): the new path then has
    // that one version only, or its own history would show the edit.
    let moved_and_changed = |id: &str, commit: u32, last: &Oid| -> Option<&str> {
        paths_of_id.get(id)?.iter().copied().find(|p| {
            versions
                .get(p)
                .is_some_and(|vs| vs.len() == 1 && vs[0].0 == commit)
                && at_rev.get(*p).is_some_and(|b| b != last)
        })
    };
    let found: Vec<Option<AuditEntry>> = repo.map_blobs(&blobs, |i, bytes| {
        let (path, newest, _, current) = jobs[i];
        let commit = Some(oid_hex(&oid_of[newest as usize]));
        if current {
            let now = by_path.get(path)?;
            let before =
                quick_status(bytes?).or_else(|| parse(path, bytes?)?.ok().map(|r| r.status))?;
            edited_after_finish(before, now.status).then(|| AuditEntry {
                id: now.id.clone(),
                path: path.to_string(),
                commit,
            })
        } else {
            let last = jobs[i].2;
            // The same bytes at another path: moved (even a broken record).
            if blobs_at_rev.contains(&last) {
                return None;
            }
            let parsed = bytes.map(|b| parse(path, b));
            // A markdown file without frontmatter was never a record.
            if matches!(parsed, Some(None)) {
                return None;
            }
            let old = parsed.flatten().and_then(|p| p.ok());
            let id = old.as_ref().map(|r| r.id.clone());
            // A record moved to another path is not deleted; moved and
            // changed after its finish, it is edited (at its new path).
            if let Some(old) = old.as_ref().filter(|r| ids.contains(r.id.as_str())) {
                let new = moved_and_changed(&old.id, newest, &last)?;
                let now = by_path.get(new)?;
                return edited_after_finish(old.status, now.status).then(|| AuditEntry {
                    id: old.id.clone(),
                    path: new.to_string(),
                    commit,
                });
            }
            Some(AuditEntry {
                id: id.unwrap_or_else(|| "(unreadable)".into()),
                path: path.to_string(),
                commit,
            })
        }
    });
    // A record removed from several paths (moved, then deleted) is one
    // deletion: the newest by the graph, where it left the tree.
    let mut deleted: Vec<(u32, AuditEntry)> = Vec::new();
    for (job, entry) in jobs.iter().zip(found) {
        match entry {
            // A path at `rev` (a deleted record's path is not): an edit.
            Some(e) if job.3 || at_rev.contains_key(e.path.as_str()) => edited.push(e),
            Some(e) => deleted.push((job.1, e)),
            None => {}
        }
    }
    deleted.sort_by(|(i, a), (j, b)| (&a.id, newest_first(*i)).cmp(&(&b.id, newest_first(*j))));
    deleted.dedup_by(|later, kept| kept.1.id == later.1.id && kept.1.id != "(unreadable)");
    let mut deleted: Vec<AuditEntry> = deleted.into_iter().map(|(_, e)| e).collect();
    edited.sort_by(|a, b| a.path.cmp(&b.path));
    deleted.sort_by(|a, b| a.path.cmp(&b.path));
    (edited, deleted)
}

/// A record moved by hand with its bytes unchanged (`git mv`) keeps its
/// history: the versions of the path it left, before the move, become the
/// older versions of the path it went to (a chain of moves too), so an
/// edit after its finish made before the move is still found. A path at
/// `rev` whose oldest version was added by the commit that removed another
/// path with the same blob is the other path moved. Returns the path each
/// version taken over was at, by (path at `rev`, commit).
fn chain_moves<'a>(
    repo: &Repo,
    versions: &mut HashMap<&'a str, Versions>,
    at_rev: &HashMap<&str, Oid>,
    oid_of: &[Oid],
) -> HashMap<(&'a str, u32), &'a str> {
    let mut moved_from = HashMap::default();
    // Paths removed, by (the removing commit, their last blob).
    let mut left: HashMap<(u32, Oid), &str> = HashMap::default();
    for (path, vs) in versions.iter() {
        if at_rev.contains_key(*path) {
            continue;
        }
        let [(c, Version::Blob(None)), older @ ..] = &vs[..] else {
            continue;
        };
        let last = older
            .iter()
            .find_map(|(_, v)| match v {
                Version::Blob(b) => *b,
                Version::Tool(_) => None,
            })
            .or_else(|| repo.blob_in_first_parent(&oid_of[*c as usize], path));
        if let Some(last) = last {
            left.insert((*c, last), *path);
        }
    }
    if left.is_empty() {
        return moved_from;
    }
    let targets: Vec<&str> = versions
        .keys()
        .copied()
        .filter(|p| at_rev.contains_key(*p))
        .collect();
    for path in targets {
        while let Some(&(c, Version::Blob(Some(blob)))) = versions.get(path).and_then(|v| v.last())
        {
            let Some(from) = left.remove(&(c, blob)) else {
                break;
            };
            let older: Versions = versions
                .get(from)
                .map(|v| v[1..].to_vec())
                .unwrap_or_default();
            for (i, _) in &older {
                moved_from.insert((path, *i), from);
            }
            if let Some(vs) = versions.get_mut(path) {
                vs.extend(older);
            }
        }
    }
    moved_from
}

/// Whether a record that said `before` and now says `now` was edited after
/// its finish: `rollback` marking a success rolled-back is not an edit.
fn edited_after_finish(before: Status, now: Status) -> bool {
    before.is_final() && !(before == Status::Success && now == Status::RolledBack)
}

/// Stage times on stderr when `DEPLOY_LEDGER_TIMINGS` is set (profiling).
struct Stopwatch {
    on: bool,
    last: std::cell::Cell<std::time::Instant>,
}

/// Gives the memory freed by a stage back to the system. glibc keeps what
/// its per-thread arenas free (holes between live blocks are not trimmed):
/// after the walk and the audit at 100,000 records, 50 and 100 MB freed but
/// still resident, on top of the next stage's.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn release_freed() {
    // SAFETY: malloc_trim takes no pointer; it only returns glibc's own
    // free pages to the system, under its arena locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_freed() {}

/// Memory so far, for the stage timings (Linux): peak, heap (anon) and
/// mapped files, in kB.
pub(crate) fn memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .filter(|l| {
                    ["VmHWM", "RssAnon", "RssFile"]
                        .iter()
                        .any(|k| l.starts_with(k))
                })
                .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(", ")
                + " kB"
        })
        .unwrap_or_default()
}

impl Stopwatch {
    fn new() -> Stopwatch {
        Stopwatch {
            on: std::env::var_os("DEPLOY_LEDGER_TIMINGS").is_some(),
            last: std::cell::Cell::new(std::time::Instant::now()),
        }
    }

    /// A stage that ran beside another (its own time, not a lap).
    fn note(what: &str, started: std::time::Instant) {
        if std::env::var_os("DEPLOY_LEDGER_TIMINGS").is_some() {
            eprintln!(
                "timing:   {what}: {:.3} s ({})",
                started.elapsed().as_secs_f64(),
                memory()
            );
        }
    }

    fn lap(&self, what: &str) {
        if self.on {
            let now = std::time::Instant::now();
            eprintln!(
                "timing: {what}: {:.3} s ({})",
                (now - self.last.get()).as_secs_f64(),
                memory()
            );
            self.last.set(now);
        }
    }
}

/// The `status:` of a record's frontmatter without parsing the YAML: the
/// fast path for the audit, which reads the status of tens of thousands of
/// old versions. None when the line is not the plain form the tool writes
/// (the caller then parses the whole record).
fn quick_status(bytes: &[u8]) -> Option<Status> {
    let text = std::str::from_utf8(bytes).ok()?;
    let front = text.strip_prefix("---\n")?;
    let end = front.find("\n---")?;
    let line = front[..end].lines().find(|l| l.starts_with("status:"))?;
    let value = line["status:".len()..].trim();
    if value.contains('#') || value.starts_with(['"', '\'', '{', '[', '&', '*', '!', '|', '>']) {
        return None;
    }
    value.parse().ok()
}
