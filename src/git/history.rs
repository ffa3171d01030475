//! Walking the history for analytics (PERF-NOTES): each commit is read once,
//! trees are compared by id and only changed subtrees are descended, and
//! nothing is diffed with a pathspec.

use rayon::prelude::*;

use super::packed::RootTree;
use super::Repo;
use crate::analytics::graph::{Commit, Graph, Oid};
use crate::config::{CHECKLISTS_DIR, LEDGER_DIR};
use crate::error::Result;
use gix_commitgraph::Position;

/// A change to a record file in one commit, against its first parent:
/// `(path, Some(blob))` added or modified, `(path, None)` deleted.
pub type FileChange = (String, Option<Oid>);

/// The action a commit of the tool's own (`--commit`) names in its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolAction {
    Start,
    Phase,
    Check,
    Finish,
    Record,
}

impl ToolAction {
    pub const ALL: [ToolAction; 5] = [
        ToolAction::Start,
        ToolAction::Phase,
        ToolAction::Check,
        ToolAction::Finish,
        ToolAction::Record,
    ];

    /// Whether the record this action writes is final (finished or
    /// backfilled: `record` refuses an in-progress record).
    pub fn is_final(self) -> bool {
        matches!(self, ToolAction::Finish | ToolAction::Record)
    }

    fn parse(word: &str) -> Option<ToolAction> {
        Some(match word {
            "start" => ToolAction::Start,
            "phase" => ToolAction::Phase,
            "check" => ToolAction::Check,
            "finish" => ToolAction::Finish,
            "record" => ToolAction::Record,
            _ => return None,
        })
    }
}

/// A commit trusted to change exactly the one record its message names
/// (what `--commit` does): its record file is not looked up in the trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolChange {
    /// Exact in size (400,000 of these at 100,000 records).
    pub id: Box<str>,
    pub action: ToolAction,
}

/// The record a commit message of the tool's `--commit` names, for the
/// single-record actions: `deploy(<service>): <action> <id> [<environment>]`
/// (a phase may name the phase: `phase <name> <id> [<environment>]`).
/// None for anything else (rollbacks and imports commit several files).
pub fn tool_change(summary: &[u8]) -> Option<ToolChange> {
    let text = std::str::from_utf8(summary).ok()?;
    let rest = text.strip_prefix("deploy(")?;
    let (service, rest) = rest.split_once("): ")?;
    if service.is_empty() || service.contains([' ', '(', ')']) {
        return None;
    }
    let words: Vec<&str> = rest.split(' ').collect();
    let action = ToolAction::parse(words.first()?)?;
    let expected = matches!((action, words.len()), (_, 3) | (ToolAction::Phase, 4));
    let env = words.last()?;
    let id = words[words.len() - 2];
    let env_ok = env.len() > 2 && env.starts_with('[') && env.ends_with(']');
    let id_ok = !id.is_empty() && !id.contains(['/', '[', ']']);
    (expected && env_ok && id_ok).then(|| ToolChange {
        id: id.into(),
        action,
    })
}

/// What a trusted tool commit did: the record it names (its id is
/// `Walk::tool_ids[id]`: each record's id is kept once, not once for each
/// of its commits) and the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolEdit {
    pub id: u32,
    pub action: ToolAction,
}

/// What one walk of the history found.
#[derive(Debug, Default)]
pub struct Walk {
    pub graph: Graph,
    /// Record-file changes found by comparing trees, by commit index (as in
    /// `graph.commits`), in commit order; none for a trusted tool commit.
    pub changes: Vec<(u32, FileChange)>,
    /// The record each trusted tool commit changed, by commit index.
    pub tool: Vec<(u32, ToolEdit)>,
    /// The record ids [`ToolEdit::id`] indexes.
    pub tool_ids: Vec<Box<str>>,
    pub shallow: bool,
}

/// A commit the walk read itself (one not in the commit-graph file).
struct Raw {
    tree: git2::Oid,
    parents: smallvec::SmallVec<[git2::Oid; 1]>,
    author_time: i64,
    commit_time: i64,
    /// The record a single-record tool commit names (one parent only).
    tool: Option<ToolChange>,
    id: git2::Oid,
}

/// A commit of the walk that is not in the commit-graph file: this bit set
/// on its index among those (a commit of the file is its place there).
const LOOSE: u32 = 1 << 31;

/// The walk index of a commit of the file the walk has not reached.
const NOT_WALKED: u32 = u32::MAX;

/// A commit to visit: by id, or by its place in the commit-graph file.
enum Visit {
    Id(git2::Oid),
    At(u32),
}

/// The repository's commit-graph file (`objects/info/commit-graph` or a
/// chain of them), when it has one and the history is whole: a shallow
/// clone's graph may name parents the clone cut off.
fn commit_graph(repo: &git2::Repository) -> Option<gix_commitgraph::Graph> {
    if repo.is_shallow() || std::env::var_os("GIT_OBJECT_DIRECTORY").is_some() {
        return None;
    }
    let info = repo.commondir().join("objects").join("info");
    gix_commitgraph::Graph::from_info_dir(&info, gix_hash::Kind::Sha1).ok()
}

/// A commit of the commit-graph file.
type FileCommit<'a> = gix_commitgraph::file::Commit<'a>;

/// The parents of a commit of the commit-graph file, by place; None when
/// the file is damaged.
fn parents_of(c: &FileCommit) -> Option<smallvec::SmallVec<[u32; 2]>> {
    c.iter_parents().map(|p| p.ok().map(|p| p.0)).collect()
}

/// The root tree of a commit of the commit-graph file.
fn tree_of(c: &FileCommit) -> git2::Oid {
    git2::Oid::from_bytes(c.root_tree_id().as_bytes()).unwrap_or_else(|_| git2::Oid::zero())
}

/// The id of the commit at `at` in the commit-graph file.
fn graph_id(graph: &gix_commitgraph::Graph, at: u32) -> Oid {
    let mut id = [0u8; 20];
    id.copy_from_slice(graph.id_at(Position(at)).as_bytes());
    id
}

/// The root tree of the commit at `at` in the commit-graph file.
fn tree_at(graph: &gix_commitgraph::Graph, at: u32) -> git2::Oid {
    tree_of(&graph.commit_at(Position(at)))
}

/// What the jobs of the commit-graph file's commits are made of: the file,
/// and the commit objects and root trees read from the packs, by place.
struct FileCommits<'a> {
    graph: &'a gix_commitgraph::Graph,
    packed: &'a [Option<CommitInfo>],
    roots: &'a [Option<RootTree>],
}

impl FileCommits<'_> {
    /// The job of the commit at `at` in the file, `n`th in the walk: its
    /// trees are the file's (its first parent's too, read or not).
    fn job(&self, n: usize, at: u32) -> Job {
        let c = self.graph.commit_at(Position(at));
        let parent = c.iter_parents().next().and_then(|p| p.ok().map(|p| p.0));
        let root = |p: u32| self.roots.get(p as usize).copied().flatten();
        let info = self.packed.get(at as usize).and_then(Option::as_ref);
        Job {
            at: n,
            tree: tree_of(&c),
            parent: parent.map(|p| tree_at(self.graph, p)),
            trusted: info.is_some_and(|i| i.tool.is_some()),
            unread: info.is_none().then_some(at),
            roots: match parent {
                None => root(at).map(|t| (t, None)),
                Some(p) => root(at).zip(root(p)).map(|(t, o)| (t, Some(o))),
            },
        }
    }
}

/// The job of the `n`th commit of the walk, one not in the file (`LOOSE`):
/// Err(its first parent) when that parent's tree is not known yet (not
/// read yet, or in `base`).
fn loose_job(
    nodes: &[u32],
    loose: &[Raw],
    loose_index: &crate::analytics::graph::OidMap<u32>,
    base_len: usize,
    file: Option<&FileCommits>,
    n: usize,
) -> std::result::Result<Job, git2::Oid> {
    let raw = &loose[(nodes[n] & !LOOSE) as usize];
    let Some(p) = raw.parents.first() else {
        return Ok(Job::with_parent_tree(raw, n, None));
    };
    if let Some(at) = file.and_then(|f| f.graph.lookup(oid_ref(p)?)) {
        let tree = file.map(|f| tree_at(f.graph, at.0));
        return Ok(Job::with_parent_tree(raw, n, tree));
    }
    match loose_index.get(&raw_oid(*p)) {
        Some(&i) if i as usize >= base_len => match nodes[i as usize - base_len] {
            node if node & LOOSE != 0 => {
                let tree = loose[(node & !LOOSE) as usize].tree;
                Ok(Job::with_parent_tree(raw, n, Some(tree)))
            }
            _ => Err(*p),
        },
        _ => Err(*p),
    }
}

/// The fields of a raw commit object the walk needs.
pub(super) struct CommitFields<'a> {
    pub tree: git2::Oid,
    pub parents: smallvec::SmallVec<[git2::Oid; 1]>,
    pub author_time: i64,
    pub commit_time: i64,
    /// The first line of the message.
    pub summary: &'a [u8],
}

impl CommitFields<'_> {
    /// What the walk keeps of the commit: its author time and, for a
    /// commit with one parent, the record a tool message names.
    pub fn info(&self) -> CommitInfo {
        CommitInfo {
            author_time: self.author_time,
            tool: if self.parents.len() == 1 {
                tool_change(self.summary)
            } else {
                None
            },
        }
    }
}

/// What the walk needs of a commit object besides the commit-graph file's
/// parents, tree and committer time.
pub(super) struct CommitInfo {
    pub author_time: i64,
    /// The record a single-record tool commit (one parent) names.
    pub tool: Option<ToolChange>,
}

/// The error for a commit whose object names another tree than the
/// commit-graph file does (the file is not this repository's).
pub(super) fn graph_mismatch(id: impl std::fmt::Display) -> crate::error::Error {
    graph_error(&format!(
        "commit {id} is not what the commit-graph file says"
    ))
}

/// Reads a commit object's headers (`tree`, `parent`, `author`,
/// `committer`; others such as `gpgsig` are skipped) and the first line of
/// its message. None when a required header is missing or malformed.
pub(super) fn commit_fields(data: &[u8]) -> Option<CommitFields<'_>> {
    let hex = |v: &[u8]| git2::Oid::from_str(std::str::from_utf8(v.get(..40)?).ok()?).ok();
    // `Name <email> 1700000000 +0100`: the seconds after the last `>`.
    let time = |v: &[u8]| -> Option<i64> {
        let after = &v[v.iter().rposition(|b| *b == b'>')? + 1..];
        let text = std::str::from_utf8(after).ok()?;
        text.split_ascii_whitespace().next()?.parse().ok()
    };
    let mut tree = None;
    let mut parents = smallvec::SmallVec::new();
    let (mut author_time, mut commit_time) = (None, None);
    let mut rest = data;
    loop {
        let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or(&[]);
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix(b"tree ") {
            tree = hex(v);
        } else if let Some(v) = line.strip_prefix(b"parent ") {
            parents.push(hex(v)?);
        } else if let Some(v) = line.strip_prefix(b"author ") {
            author_time = time(v);
        } else if let Some(v) = line.strip_prefix(b"committer ") {
            commit_time = time(v);
        }
        if rest.is_empty() {
            break;
        }
    }
    // The message: blank lines before it skipped, its first line kept.
    let start = rest
        .iter()
        .position(|b| !b"\r\n".contains(b))
        .unwrap_or(rest.len());
    let message = &rest[start..];
    let line = &message[..message
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(message.len())];
    let summary = line.trim_ascii_end();
    Some(CommitFields {
        tree: tree?,
        parents,
        author_time: author_time?,
        commit_time: commit_time?,
        summary,
    })
}

/// Reads commit `oid`'s object; None when it is not in the repository
/// (a parent cut off by a shallow clone) or not a commit.
fn read_raw(odb: &git2::Odb, oid: git2::Oid) -> Option<Raw> {
    let object = odb.read(oid).ok()?;
    if object.kind() != git2::ObjectType::Commit {
        return None;
    }
    let c = commit_fields(object.data())?;
    Some(Raw {
        tool: c.info().tool,
        tree: c.tree,
        parents: c.parents,
        author_time: c.author_time,
        commit_time: c.commit_time,
        id: oid,
    })
}

/// A commit-graph file the walk cannot trust: `what`, and how to mend it.
fn graph_error(what: &str) -> crate::error::Error {
    crate::error::Error::Git(git2::Error::from_str(&format!(
        "{what}; rewrite the file with `git commit-graph write --reachable`"
    )))
}

/// A git2 id as the commit-graph's.
fn oid_ref(oid: &git2::Oid) -> Option<&gix_hash::oid> {
    gix_hash::oid::try_from_bytes(oid.as_bytes()).ok()
}

fn raw_oid(o: git2::Oid) -> Oid {
    let mut out = [0u8; 20];
    out.copy_from_slice(&o.as_bytes()[..20]);
    out
}

impl Repo {
    /// Caps the memory libgit2 maps of pack files: by default up to 8 GiB
    /// in 1 GiB windows on 64-bit, which a walk of a large history fills
    /// (half of the peak memory at 100k records). Windows of 16 MiB, at most
    /// 64 MiB mapped at once, cost no measurable time (50k: peak 573 -> 549 MB against 32/128 MiB).
    #[allow(unsafe_code)]
    pub fn cap_pack_windows() {
        // SAFETY: these set libgit2 globals without locking; this is called
        // once at startup, before any repository is opened and while no other
        // thread is running (main, before the command runs).
        unsafe {
            let _ = git2::opts::set_mwindow_size(16 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(64 << 20);
        }
    }

    /// Reads read-only objects without re-hashing them (2.5× faster walks).
    /// libgit2's object cache is off too: it keeps up to 256 MB per
    /// repository handle, and the walk keeps the few trees it reuses itself.
    pub fn fast_reads() {
        git2::opts::strict_hash_verification(false);
        git2::opts::enable_caching(false);
    }

    pub fn is_shallow(&self) -> bool {
        self.inner.is_shallow()
    }

    /// Every commit reachable from `tip`, with what lead time and the audit
    /// need. `prefixes` are service paths whose touches are recorded (at
    /// most 64; more are ignored).
    ///
    /// With `base`, the walk of an ancestor of `tip` (from a cache), only the
    /// commits `base` lacks are read; the result holds `base`'s commits
    /// first, then the new ones.
    pub fn walk_history(&self, tip: &str, prefixes: &[String], base: Option<Walk>) -> Result<Walk> {
        let repo = &self.inner;
        let started = std::time::Instant::now();
        let base_len = base.as_ref().map_or(0, |b| b.graph.commits.len());
        let mut walk = base.unwrap_or_default();
        walk.shallow = repo.is_shallow();
        walk.graph.prefixes = prefixes.iter().take(64).cloned().collect();
        // With a commit-graph file the walk reads no commit of it: the
        // parents and trees come from the file, and each commit's object
        // (author time, message) is read from the packs, in pack order.
        // Commits newer than the file are read here, by libgit2.
        let graph = commit_graph(repo).filter(|g| g.num_commits() < LOOSE);
        let graph = graph.as_ref();
        let graph_len = graph.map_or(0, |g| g.num_commits() as usize);
        // Each commit of the walk, in walk order: its place in the
        // commit-graph file, or (with `LOOSE`) its index in `loose`. A
        // commit of the file is nothing more than its place until the end
        // (a copy of its parents and tree took 88 bytes a commit, 79 MB at
        // 100,000 records).
        let mut nodes: Vec<u32> = Vec::with_capacity(graph_len + 64);
        let mut loose: Vec<Raw> = Vec::new();
        // The walk index of each commit of the file read by this walk.
        let mut walked: Vec<u32> = vec![NOT_WALKED; graph_len];
        let mut missing: std::collections::HashSet<git2::Oid> = std::collections::HashSet::new();
        let mut stack = vec![Visit::Id(git2::Oid::from_str(tip)?)];
        // Their objects and root trees, read from the packs in pack order
        // (those it cannot read are read with the trees, by libgit2). That
        // reads every commit of the file: when extending a `base` that holds
        // most of them, the few new ones are read one by one instead (40 new
        // commits at 100,000 records took 3 s, as long as a cold walk): up
        // to an eighth of the file (or 4,096 commits) by this guess.
        let new = graph_len.saturating_sub(base_len);
        let in_pack_order = base_len == 0 || new > (graph_len / 8).max(4096);
        let super::packed::Packed {
            commits: mut packed,
            roots: root_trees,
        } = match graph {
            Some(g) if in_pack_order => {
                super::packed::read(&repo.commondir().join("objects"), g).map_err(graph_mismatch)?
            }
            Some(_) => super::packed::Packed {
                commits: std::iter::repeat_with(|| None).take(graph_len).collect(),
                roots: Vec::new(),
            },
            None => Default::default(),
        };
        if std::env::var_os("DEPLOY_LEDGER_TIMINGS").is_some() && graph.is_some() {
            eprintln!(
                "timing:   commits read from packs: {} of {}, root trees: {} ({:.3} s; {})",
                packed.iter().filter(|c| c.is_some()).count(),
                packed.len(),
                root_trees.iter().filter(|c| c.is_some()).count(),
                started.elapsed().as_secs_f64(),
                crate::analytics::memory()
            );
        }
        let file = graph.map(|g| FileCommits {
            graph: g,
            packed: &packed,
            roots: &root_trees,
        });
        // Raw commit objects, parsed here: a commit object of libgit2 costs
        // a second parse and several allocations (PERF-NOTES 4).
        let odb = match own_odb(repo, 1) {
            Some(odb) => odb,
            None => repo.odb()?,
        };
        let path = repo.path().to_path_buf();
        let prefixes = &walk.graph.prefixes;
        let pool = RepoPool::new(&path);
        // The trees are compared while the walk goes on (the walk is
        // sequential, the comparisons are not): each full chunk of commits
        // goes to another core. A commit not in the file whose parent is not
        // read yet (a merge's other side) or is in `base` waits for the end.
        let results: std::sync::Mutex<Vec<Found>> = Default::default();
        let mut deferred: Vec<usize> = Vec::new();
        let mut sent = 0;
        // The commits not in the file, by id (walk index, after `base`'s).
        let mut loose_index: crate::analytics::graph::OidMap<u32> = Default::default();
        let base = &walk.graph;
        let in_base = |id: &Oid| base_len > 0 && base.find(id).is_some();
        let mut damaged = false;
        let in_flight = std::sync::atomic::AtomicUsize::new(0);
        let max_in_flight = 2 * rayon::current_num_threads();
        rayon::scope(|scope| {
            while let Some(visit) = stack.pop() {
                let (oid, at) = match visit {
                    Visit::At(p) => (None, Some(p)),
                    Visit::Id(oid) => {
                        let at = graph.and_then(|g| g.lookup(oid_ref(&oid)?)).map(|p| p.0);
                        (Some(oid), at)
                    }
                };
                let node = match (graph, at) {
                    (Some(g), Some(p)) => {
                        if walked[p as usize] != NOT_WALKED || in_base(&graph_id(g, p)) {
                            continue;
                        }
                        let Some(parents) = parents_of(&g.commit_at(Position(p))) else {
                            damaged = true;
                            break;
                        };
                        stack.extend(parents.iter().rev().map(|p| Visit::At(*p)));
                        walked[p as usize] = nodes.len() as u32;
                        p
                    }
                    // Not in the file: a commit newer than it, or no file.
                    _ => {
                        let Some(oid) = oid else { continue };
                        let key = raw_oid(oid);
                        if loose_index.contains_key(&key)
                            || in_base(&key)
                            || (!missing.is_empty() && missing.contains(&oid))
                        {
                            continue;
                        }
                        // A parent cut off by a shallow clone is not in the repository.
                        let Some(c) = read_raw(&odb, oid) else {
                            missing.insert(oid);
                            continue;
                        };
                        stack.extend(c.parents.iter().rev().map(|p| Visit::Id(*p)));
                        loose_index.insert(key, (base_len + nodes.len()) as u32);
                        loose.push(c);
                        LOOSE | (loose.len() - 1) as u32
                    }
                };
                nodes.push(node);
                if nodes.len() - sent > COMPARE_CHUNK {
                    // The walk outruns the comparisons: chunks queued without
                    // a bound held every job of the history at once (122 MB
                    // at 100,000 records when the machine was busy). Past
                    // the bound, the walk compares a queued chunk itself.
                    while in_flight.load(std::sync::atomic::Ordering::Acquire) >= max_in_flight {
                        if rayon::yield_now() != Some(rayon::Yield::Executed) {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                    }
                    // The commits of the file make their jobs on the other
                    // core (their trees are in the file); the others here.
                    let mut in_file = Vec::with_capacity(COMPARE_CHUNK);
                    let mut jobs = Vec::new();
                    for (n, node) in nodes.iter().enumerate().skip(sent).take(COMPARE_CHUNK) {
                        if node & LOOSE == 0 {
                            in_file.push((n, *node));
                            continue;
                        }
                        match loose_job(&nodes, &loose, &loose_index, base_len, file.as_ref(), n) {
                            Ok(job) => jobs.push(job),
                            Err(_) => deferred.push(n),
                        }
                    }
                    sent += COMPARE_CHUNK;
                    let (pool, results, in_flight, file) = (&pool, &results, &in_flight, &file);
                    in_flight.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    scope.spawn(move |_| {
                        if let Some(file) = file {
                            jobs.extend(in_file.into_iter().map(|(n, p)| file.job(n, p)));
                        }
                        let out = compare_all(pool, graph, jobs, prefixes);
                        if let Ok(mut r) = results.lock() {
                            r.push(out);
                        }
                        in_flight.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                    });
                }
            }
            if std::env::var_os("DEPLOY_LEDGER_TIMINGS").is_some() {
                eprintln!(
                    "timing:   commit walk alone: {:.3} s{} ({})",
                    started.elapsed().as_secs_f64(),
                    if graph.is_some() {
                        " (commit-graph)"
                    } else {
                        ""
                    },
                    crate::analytics::memory()
                );
            }
        });
        if damaged {
            return Err(graph_error("the commit-graph file is damaged"));
        }
        if std::env::var_os("DEPLOY_LEDGER_TIMINGS").is_some() {
            eprintln!(
                "timing:   commits read and compared: {:.3} s ({} commits; {})",
                started.elapsed().as_secs_f64(),
                nodes.len(),
                crate::analytics::memory()
            );
        }
        drop(stack);
        // What is left: the last chunk and the commits that waited, whose
        // first parent's tree is now known (or read once, from `base`).
        let rest: Vec<Job> = deferred
            .into_iter()
            .chain(sent..nodes.len())
            .map(|n| match (nodes[n] & LOOSE == 0, file.as_ref()) {
                (true, Some(file)) => file.job(n, nodes[n]),
                _ => match loose_job(&nodes, &loose, &loose_index, base_len, file.as_ref(), n) {
                    Ok(job) => job,
                    Err(p) => Job::with_parent_tree(
                        &loose[(nodes[n] & !LOOSE) as usize],
                        n,
                        repo.find_commit(p).ok().map(|c| c.tree_id()),
                    ),
                },
            })
            .collect();
        drop(root_trees);
        let chunk = (rest.len() / (rayon::current_num_threads() * 4)).max(256);
        let late: Vec<Found> = rest
            .par_chunks(chunk)
            .map(|jobs| compare_all(&pool, graph, jobs.to_vec(), prefixes))
            .collect();
        drop(rest);
        crate::analytics::release_freed();
        let mut found = results.into_inner().unwrap_or_default();
        found.extend(late);
        // Each commit's flags and touches by its place in the walk; the
        // record changes in the walk's order (a commit's own in the order
        // found: it is compared in one chunk, and the sort is stable).
        let mut flags = vec![0u8; nodes.len()];
        let mut touches = vec![0u64; if prefixes.is_empty() { 0 } else { nodes.len() }];
        let mut changes = Vec::new();
        for f in found {
            // The first error stops the walk.
            if let Some(e) = f.error {
                return Err(e);
            }
            for (at, bits) in f.flags {
                flags[at as usize] = bits;
            }
            for (at, t) in f.touches {
                touches[at as usize] = t;
            }
            // Commits of the file whose objects were read with their trees.
            for (at, info) in f.read {
                let node = nodes[at as usize];
                if node & LOOSE == 0 {
                    packed[node as usize] = Some(info);
                }
            }
            changes.extend(f.changes);
        }
        changes.sort_by_key(|(at, _)| *at);
        walk.changes.extend(
            changes
                .into_iter()
                .map(|(at, c)| ((base_len + at as usize) as u32, c)),
        );
        // The repository handles hold caches of pack data: freeing them
        // took 4% of a cold run at 10,000 records, on the critical path.
        drop_aside(pool.into_idle());
        // On every core: a parent's index is a lookup in a map of 900,000
        // ids at 100,000 records.
        let parent_index = |p: u32| match walked[p as usize] {
            NOT_WALKED => graph.and_then(|g| base.find(&graph_id(g, p))),
            n => Some((base_len as u32) + n),
        };
        // A commit not in the file may have one of the file as its parent.
        let by_id = |p: &git2::Oid| {
            let id = raw_oid(*p);
            loose_index
                .get(&id)
                .copied()
                .or_else(|| parent_index(graph?.lookup(oid_ref(p)?)?.0))
                .or_else(|| base.find(&id))
        };
        let damaged = std::sync::atomic::AtomicBool::new(false);
        // The parents of octopus merges (rare), by place in the walk.
        let octopus = std::sync::Mutex::new(Vec::new());
        let commit = |n: usize, node: u32| -> Option<Commit> {
            let code = flags[n] & Found::CODE != 0;
            let (commit, parents): (Commit, crate::analytics::graph::Parents) = match node & LOOSE {
                0 => {
                    let c = graph?.commit_at(Position(node));
                    let commit = Commit {
                        author_time: packed.get(node as usize)?.as_ref()?.author_time,
                        commit_time: i64::try_from(c.committer_timestamp()).ok()?,
                        code,
                        ..Commit::default()
                    };
                    let parents = parents_of(&c)?;
                    (
                        commit,
                        parents.iter().filter_map(|p| parent_index(*p)).collect(),
                    )
                }
                _ => {
                    let r = &loose[(node & !LOOSE) as usize];
                    let parents: crate::analytics::graph::Parents =
                        r.parents.iter().filter_map(by_id).collect();
                    let commit = Commit {
                        author_time: r.author_time,
                        commit_time: r.commit_time,
                        cut: parents.len() < r.parents.len(),
                        code,
                        ..Commit::default()
                    };
                    (commit, parents)
                }
            };
            if parents.len() > 2 {
                let mut octopus = octopus.lock().unwrap_or_else(|e| e.into_inner());
                octopus.push(((base_len + n) as u32, parents.to_vec().into()));
            }
            Some(commit.with_parents(&parents))
        };
        let commits: Vec<Commit> = nodes
            .par_iter()
            .enumerate()
            .map(|(n, node)| {
                commit(n, *node).unwrap_or_else(|| {
                    damaged.store(true, std::sync::atomic::Ordering::Relaxed);
                    Commit::default()
                })
            })
            .collect();
        let octopus = octopus.into_inner().unwrap_or_else(|e| e.into_inner());
        walk.graph.append(commits, octopus, &touches);
        drop(touches);
        if damaged.into_inner() {
            return Err(graph_error("the commit-graph file is damaged"));
        }
        // Each record id once (a deployment's four commits name the same
        // one): the names already known, then the new ones.
        let mut names: std::collections::HashMap<&str, u32> =
            walk.tool_ids.iter().map(|s| &**s).zip(0..).collect();
        let mut new_names: Vec<Box<str>> = Vec::new();
        let first_new = walk.tool_ids.len() as u32;
        for (n, node) in nodes.iter().enumerate() {
            if flags[n] & Found::TRUSTED == 0 {
                continue;
            }
            let tool = match node & LOOSE {
                0 => packed
                    .get(*node as usize)
                    .and_then(|c| c.as_ref()?.tool.as_ref()),
                _ => loose[(node & !LOOSE) as usize].tool.as_ref(),
            };
            if let Some(t) = tool {
                let id = *names.entry(&t.id).or_insert_with(|| {
                    new_names.push(t.id.clone());
                    first_new + new_names.len() as u32 - 1
                });
                let edit = ToolEdit {
                    id,
                    action: t.action,
                };
                walk.tool.push(((base_len + n) as u32, edit));
            }
        }
        drop(names);
        walk.tool_ids.extend(new_names);
        drop(packed);
        // The ids last, once what was read of the objects is freed.
        let ids = &mut walk.graph.ids;
        ids.reserve_exact(nodes.len());
        ids.extend(nodes.iter().map(|node| match (node & LOOSE, graph) {
            (0, Some(g)) => graph_id(g, *node),
            _ => raw_oid(loose[(node & !LOOSE) as usize].id),
        }));
        walk.graph.ids_changed();
        Ok(walk)
    }

    /// The bytes of the file at `path` in commit `commit`, if it has one.
    pub fn file_at(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let tree = self
            .inner
            .find_commit(git2::Oid::from_str(commit)?)?
            .tree()?;
        let Ok(entry) = tree.get_path(std::path::Path::new(path)) else {
            return Ok(None);
        };
        let object = entry.to_object(&self.inner)?;
        Ok(object.as_blob().map(|b| b.content().to_vec()))
    }

    /// What each commit `jobs[i].0` did to the file at `jobs[i].1` against
    /// its first parent: Some(Some(blob)) added or changed, Some(None)
    /// deleted, None unchanged (or unreadable). On every core; for the few
    /// tool commits whose record must be compared blob by blob.
    pub fn changes_to(&self, jobs: &[(Oid, &str)]) -> Vec<Option<Option<Oid>>> {
        let path = self.inner.path().to_path_buf();
        jobs.par_iter()
            .map_init(
                || open_for_thread(&path).ok(),
                |repo, (commit, file)| {
                    let repo = repo.as_ref()?;
                    let c = repo.find_commit(git2::Oid::from_bytes(commit).ok()?).ok()?;
                    let blob_in = |c: &git2::Commit| -> Option<Oid> {
                        let tree = c.tree().ok()?;
                        let entry = tree.get_path(std::path::Path::new(file)).ok()?;
                        (entry.kind() == Some(git2::ObjectType::Blob)).then(|| raw_oid(entry.id()))
                    };
                    let new = blob_in(&c);
                    let old = c.parent(0).ok().and_then(|p| blob_in(&p));
                    (new != old).then_some(new)
                },
            )
            .collect()
    }

    /// The blob at `path` in the first parent of `commit` (the last version
    /// of a file that `commit` deleted).
    pub fn blob_in_first_parent(&self, commit: &Oid, path: &str) -> Option<Oid> {
        let c = self
            .inner
            .find_commit(git2::Oid::from_bytes(commit).ok()?)
            .ok()?;
        let tree = c.parent(0).ok()?.tree().ok()?;
        let entry = tree.get_path(std::path::Path::new(path)).ok()?;
        (entry.kind() == Some(git2::ObjectType::Blob)).then(|| raw_oid(entry.id()))
    }

    /// Work-tree files under `prefix` that differ from HEAD (modified,
    /// staged or untracked), through the index's stat cache: only these need
    /// reading. Relative, `/`-separated.
    pub fn changed_in_work_tree(&self, prefix: &str) -> Result<Vec<String>> {
        let mut options = git2::StatusOptions::new();
        options
            .pathspec(prefix)
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self.inner.statuses(Some(&mut options))?;
        Ok(statuses
            .iter()
            .filter(|e| !e.status().is_wt_deleted() && !e.status().is_index_deleted())
            .filter_map(|e| e.path().map(str::to_string))
            .filter(|p| p.ends_with(".md"))
            .collect())
    }

    /// Every `*.md` blob under `prefix` in the tree of `commit`: (path, id),
    /// without reading the blobs.
    pub fn blob_ids_at(&self, commit: &str, prefix: &str) -> Result<Vec<(String, Oid)>> {
        let tree = self
            .inner
            .find_commit(git2::Oid::from_str(commit)?)?
            .tree()?;
        let sub = match tree.get_path(std::path::Path::new(prefix)) {
            Ok(entry) => entry.to_object(&self.inner)?.peel_to_tree()?,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut ids = Vec::new();
        sub.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) && entry.name_bytes().ends_with(b".md")
            {
                let name = String::from_utf8_lossy(entry.name_bytes());
                ids.push((format!("{prefix}/{dir}{name}"), raw_oid(entry.id())));
            }
            git2::TreeWalkResult::Ok
        })?;
        Ok(ids)
    }

    /// Whether commit `ancestor` is `tip` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: &str, tip: &str) -> bool {
        let (Ok(a), Ok(t)) = (git2::Oid::from_str(ancestor), git2::Oid::from_str(tip)) else {
            return false;
        };
        a == t || self.inner.graph_descendant_of(t, a).unwrap_or(false)
    }

    /// The id git would give these bytes as a blob.
    pub fn blob_id(bytes: &[u8]) -> Oid {
        blob_id(bytes)
    }

    /// `f(i, bytes)` for the blob `ids[i]` of each id, on every core; the
    /// bytes are dropped as soon as `f` returns (None: unreadable).
    pub fn map_blobs<T: Send>(
        &self,
        ids: &[Oid],
        f: impl Fn(usize, Option<&[u8]>) -> T + Sync + Send,
    ) -> Vec<T> {
        self.map_blobs_from(ids, None, f)
    }

    /// [`Repo::map_blobs`], first trying the file `files[i]` under the work
    /// tree `root` for blob `ids[i]`: its bytes are used when git would give
    /// them that very id (hashed; a local edit, a line-ending or other
    /// filter, a symlink make it differ: the object is read then). A record
    /// file of a clean work tree is read in a few µs; the same blob from a
    /// pack can take 40 µs through its delta chain.
    pub fn map_blobs_from<T: Send>(
        &self,
        ids: &[Oid],
        work_tree: Option<(&std::path::Path, &[&str])>,
        f: impl Fn(usize, Option<&[u8]>) -> T + Sync + Send,
    ) -> Vec<T> {
        let path = self.inner.path().to_path_buf();
        ids.par_iter()
            .enumerate()
            .map_init(
                || open_for_thread(&path).ok(),
                |repo, (i, id)| {
                    if let Some((root, files)) = work_tree {
                        if let Some(bytes) = files.get(i).and_then(|f| same_file(root, f, id)) {
                            return f(i, Some(&bytes));
                        }
                    }
                    // The object's own bytes, not a copy.
                    let odb = repo.as_ref().and_then(|r| r.odb().ok());
                    let object = odb
                        .as_ref()
                        .and_then(|odb| odb.read(git2::Oid::from_bytes(id).ok()?).ok());
                    f(i, object.as_ref().map(|o| o.data()))
                },
            )
            .collect()
    }
}

/// The bytes of the work-tree file `rel` under `root` when they are the
/// blob `id` (a regular file of at most 1 MiB whose blob id is `id`). One
/// path lookup: the file is opened, then looked at.
fn same_file(root: &std::path::Path, rel: &str, id: &Oid) -> Option<Vec<u8>> {
    use std::io::Read;
    let file = open_regular(&root.join(rel))?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    // Through `take`: `File::read_to_end` would ask the size again.
    file.take(1 << 20).read_to_end(&mut bytes).ok()?;
    (blob_id(&bytes) == *id).then_some(bytes)
}

/// Opens `path` for reading unless it is a symlink; a FIFO is opened
/// without waiting for a writer (the caller then sees it is no file).
#[cfg(unix)]
fn open_regular(path: &std::path::Path) -> Option<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    rustix::fs::open(path, flags, Mode::empty())
        .ok()
        .map(std::fs::File::from)
}

#[cfg(not(unix))]
fn open_regular(path: &std::path::Path) -> Option<std::fs::File> {
    if std::fs::symlink_metadata(path)
        .ok()?
        .file_type()
        .is_symlink()
    {
        return None;
    }
    std::fs::File::open(path).ok()
}

/// The id git gives `bytes` as a blob (`sha1("blob <len>\0" + bytes)`).
fn blob_id(bytes: &[u8]) -> Oid {
    use sha1::Digest;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hasher.finalize().into()
}

/// The size of the pack indexes up to which threads get packs of their own:
/// each copy maps the indexes again (85 MB at 50,000 records, 170 MB at
/// 100,000, where the walk's own packs gave 7% less time for 90 MB more
/// peak memory: not taken).
const OWN_PACKS_MAX_INDEX: u64 = 128 << 20;

/// An object database of its own for one thread (`name`: 1 the walk, 2 and
/// up the workers). libgit2 shares one structure per pack file, with its
/// lock and delta cache, between every handle that opens it under the same
/// path: the walk (sequential, on the critical path) and the comparisons and
/// record reads on the other core then wait on each other. Opened as
/// `<git dir>/./objects` (one `.` more per name), a thread's packs are its
/// own: 10,000 records cold 1.45 s -> 1.2 s. None where git's environment
/// moves the object folder, the path is not UTF-8 or the indexes are large:
/// the repository's own database is used.
fn own_odb(repo: &git2::Repository, name: usize) -> Option<git2::Odb<'static>> {
    if ["GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return None;
    }
    let common = repo.commondir();
    // Each structure maps the pack indexes again (85 MB at 50,000 records).
    let indexes: u64 = std::fs::read_dir(common.join("objects").join("pack"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".idx"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    if indexes > OWN_PACKS_MAX_INDEX {
        return None;
    }
    let mut apart = common.to_path_buf();
    for _ in 0..name {
        apart.push(".");
    }
    apart.push("objects");
    let odb = git2::Odb::new().ok()?;
    odb.add_disk_alternate(apart.to_str()?).ok()?;
    Some(odb)
}

/// A handle on the repository at `path` whose packs are the current
/// thread's own (see [`own_odb`]): the threads reading objects at once do not
/// wait on each other's pack locks.
fn open_for_thread(path: &std::path::Path) -> Result<git2::Repository> {
    let repo = git2::Repository::open(path)?;
    if let Some(odb) = own_odb(&repo, 2 + rayon::current_thread_index().unwrap_or(0)) {
        repo.set_odb(&odb)?;
    }
    Ok(repo)
}

/// Commits per comparison task while the walk goes on.
const COMPARE_CHUNK: usize = 2048;

/// One commit's trees to compare: `at` is its place in the walk.
#[derive(Clone)]
struct Job {
    at: usize,
    tree: git2::Oid,
    parent: Option<git2::Oid>,
    trusted: bool,
    /// The commit's place in the commit-graph file when its object is
    /// still to be read ([`Raw::graph_at`]).
    unread: Option<u32>,
    /// Its root tree and its parent's as read from the packs (None: not
    /// read there; the trees are then read by libgit2).
    roots: Option<(RootTree, Option<RootTree>)>,
}

impl Job {
    /// The job of `raw` (at `at` in the walk) against the tree `parent`.
    fn with_parent_tree(raw: &Raw, at: usize, parent: Option<git2::Oid>) -> Job {
        Job {
            at,
            tree: raw.tree,
            parent,
            trusted: raw.tool.is_some(),
            unread: None,
            roots: None,
        }
    }
}

/// Repository handles for the comparison tasks (a handle is not `Sync`: one
/// per task at a time, reused).
struct RepoPool<'p> {
    path: &'p std::path::Path,
    /// Idle handles by the thread they were opened for.
    idle: std::sync::Mutex<Vec<(Option<usize>, git2::Repository)>>,
}

impl<'p> RepoPool<'p> {
    fn new(path: &'p std::path::Path) -> Self {
        RepoPool {
            path,
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Result<git2::Repository> {
        let me = rayon::current_thread_index();
        let idle = self.idle.lock().ok().and_then(|mut v| {
            let at = v.iter().position(|(t, _)| *t == me)?;
            Some(v.swap_remove(at).1)
        });
        match idle {
            Some(r) => Ok(r),
            None => open_for_thread(self.path),
        }
    }

    fn give(&self, repo: git2::Repository) {
        if let Ok(mut v) = self.idle.lock() {
            v.push((rayon::current_thread_index(), repo));
        }
    }

    /// The handles, to be dropped.
    fn into_idle(self) -> Vec<git2::Repository> {
        let idle = self.idle.into_inner().unwrap_or_default();
        idle.into_iter().map(|(_, r)| r).collect()
    }
}

/// Drops `value` on a thread of its own: freeing what libgit2 cached takes
/// time the caller need not wait for (the process may end first: the OS
/// then takes the memory back).
pub(crate) fn drop_aside<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(value));
}

/// What the comparisons of a run of jobs found, by place in the walk, kept
/// compact: 900,000 commits are compared at 100,000 records, and most change
/// no record (a `Compared` each held 70 MB there).
#[derive(Default)]
struct Found {
    /// The `CODE` and `TRUSTED` bits of each commit that has one.
    flags: Vec<(u32, u8)>,
    /// The touched prefixes of each commit that touches one.
    touches: Vec<(u32, u64)>,
    /// Record-file changes, in the order of the jobs.
    changes: Vec<(u32, FileChange)>,
    /// The author time and tool change of each commit read here (taken
    /// from the commit-graph file by the walk).
    read: Vec<(u32, CommitInfo)>,
    /// The first error: the jobs after it are not compared.
    error: Option<crate::error::Error>,
}

impl Found {
    const CODE: u8 = 1;
    const TRUSTED: u8 = 2;
}

/// Compares each job's trees (contiguous jobs: a commit's parent is usually
/// the next one, so a small cache of parsed trees halves the tree reads).
///
/// A run of trusted tool commits, each the parent of the one before it
/// (their trees chain: a job's parent tree is the next job's tree), is
/// checked as a whole: when the newest tree and the oldest one's parent
/// differ only under `deployments/`, every commit of the run is taken at its
/// word without reading its own tree (a run of start, phase, phase, finish
/// reads no tree but the ones its neighbours need anyway). Otherwise each
/// commit of the run is checked on its own (a run of one), and one that
/// changed code too is compared like any other commit.
fn compare_all(
    pool: &RepoPool,
    graph: Option<&gix_commitgraph::Graph>,
    jobs: Vec<Job>,
    prefixes: &[String],
) -> Found {
    let mut found = Found::default();
    let repo = match pool.take() {
        Ok(r) => r,
        Err(e) => {
            found.error = Some(e);
            return found;
        }
    };
    let jobs = match read_unread(&repo, graph, jobs, &mut found.read) {
        Ok(jobs) => jobs,
        Err(e) => {
            found.error = Some(e);
            pool.give(repo);
            return found;
        }
    };
    let mut cache = TreeCache::default();
    // Jobs before this are checked one at a time (their run changed code).
    let mut alone_until = 0;
    let mut k = 0;
    while k < jobs.len() {
        let mut end = k + 1;
        while k >= alone_until
            && end < jobs.len()
            && jobs[end - 1].trusted
            && jobs[end].trusted
            && jobs[end - 1].parent == Some(jobs[end].tree)
        {
            end += 1;
        }
        if jobs[k].trusted {
            let clean = match (jobs[k].roots, jobs[end - 1].roots) {
                (Some((new, _)), Some((_, Some(old)))) => Ok(!new.code_changed(Some(&old))
                    && new.ledger.map(|l| l.0) != old.ledger.map(|l| l.0)),
                _ => run_is_clean(&repo, jobs[k].tree, jobs[end - 1].parent, &mut cache),
            };
            match clean {
                Ok(true) => {
                    found
                        .flags
                        .extend(jobs[k..end].iter().map(|j| (j.at as u32, Found::TRUSTED)));
                    k = end;
                    continue;
                }
                Ok(false) if end - k > 1 => {
                    alone_until = end;
                    continue;
                }
                Ok(false) => {}
                Err(e) => {
                    found.error = Some(e);
                    break;
                }
            }
        }
        let j = &jobs[k];
        match compare(&repo, j.tree, j.parent, j.roots, prefixes, &mut cache) {
            Ok(c) => {
                let at = j.at as u32;
                if c.code {
                    found.flags.push((at, Found::CODE));
                }
                if c.touches != 0 {
                    found.touches.push((at, c.touches));
                }
                found.changes.extend(c.changes.into_iter().map(|c| (at, c)));
            }
            Err(e) => {
                found.error = Some(e);
                break;
            }
        }
        k += 1;
    }
    drop(cache);
    pool.give(repo);
    found
}

/// Reads the objects of the jobs' commits that the walk took from the
/// commit-graph file: their author time and, for a commit with one parent,
/// the record a tool message names (which makes the job trusted).
fn read_unread(
    repo: &git2::Repository,
    graph: Option<&gix_commitgraph::Graph>,
    mut jobs: Vec<Job>,
    out: &mut Vec<(u32, CommitInfo)>,
) -> Result<Vec<Job>> {
    if jobs.iter().all(|j| j.unread.is_none()) {
        return Ok(jobs);
    }
    let (Some(graph), odb) = (graph, repo.odb()?) else {
        return Ok(jobs);
    };
    for j in &mut jobs {
        let Some(at) = j.unread else {
            continue;
        };
        let id = git2::Oid::from_bytes(graph.id_at(gix_commitgraph::Position(at)).as_bytes())?;
        // A commit the file names that the repository lacks: the file is
        // damaged or another repository's.
        let object = odb.read(id).map_err(|e| match e.code() {
            git2::ErrorCode::NotFound => graph_mismatch(id),
            _ => e.into(),
        })?;
        let c = commit_fields(object.data()).filter(|c| c.tree == j.tree);
        let Some(c) = c else {
            return Err(graph_mismatch(id));
        };
        let info = c.info();
        j.trusted = info.tool.is_some();
        out.push((j.at as u32, info));
    }
    Ok(jobs)
}

/// Whether a run of trusted commits (or one) from the tree `parent` to
/// `tree` changed nothing outside `deployments/` (and did change it): then
/// each is taken at its word, its message naming the one record it changed.
fn run_is_clean<'r>(
    repo: &'r git2::Repository,
    tree: git2::Oid,
    parent: Option<git2::Oid>,
    cache: &mut TreeCache<'r>,
) -> Result<bool> {
    let Some(parent) = parent else {
        return Ok(false);
    };
    let (new, old) = (cache.get(repo, tree)?, cache.get(repo, parent)?);
    let ledger = |t: &git2::Tree| t.get_name(LEDGER_DIR).map(|e| e.id());
    Ok(!code_changed(&new, Some(&old)) && ledger(&new) != ledger(&old))
}

/// What a commit changed against its first parent.
#[derive(Default)]
struct Compared {
    /// Changes something outside `deployments/`.
    code: bool,
    /// Touched prefixes (bit i: `prefixes[i]`).
    touches: u64,
    /// Record-file changes.
    changes: Vec<FileChange>,
}

/// Compares a commit's tree with its first parent's (a trusted tool commit
/// is not compared: see [`run_is_clean`]); with `roots` (the two root
/// trees as read from the packs), the root trees are not read again.
fn compare<'r>(
    repo: &'r git2::Repository,
    tree: git2::Oid,
    parent: Option<git2::Oid>,
    roots: Option<(RootTree, Option<RootTree>)>,
    prefixes: &[String],
    cache: &mut TreeCache<'r>,
) -> Result<Compared> {
    if parent == Some(tree) {
        return Ok(Compared::default());
    }
    let ledger_of = |t: &git2::Tree| t.get_name(LEDGER_DIR).map(|e| (e.id(), e.kind()));
    let mut trees = None;
    let (code, new_ledger, old_ledger) = match roots {
        Some((new, old)) => {
            let ledger = |t: &RootTree| t.ledger.map(|(id, kind)| (id, Some(kind)));
            (
                new.code_changed(old.as_ref()),
                ledger(&new),
                old.as_ref().and_then(ledger),
            )
        }
        None => {
            let new = cache.get(repo, tree)?;
            let old = parent.map(|p| cache.get(repo, p)).transpose()?;
            let found = (
                code_changed(&new, old.as_ref()),
                ledger_of(&new),
                old.as_ref().and_then(ledger_of),
            );
            trees = Some((new, old));
            found
        }
    };
    let at = |t: &git2::Tree, p: &str| -> Option<git2::Oid> {
        let p = p.trim_end_matches('/');
        t.get_path(std::path::Path::new(p)).ok().map(|e| e.id())
    };
    let mut touches = 0u64;
    if code && !prefixes.is_empty() {
        let (new, old) = match trees {
            Some(t) => t,
            None => (
                cache.get(repo, tree)?,
                parent.map(|p| cache.get(repo, p)).transpose()?,
            ),
        };
        for (i, p) in prefixes.iter().enumerate() {
            let before = old.as_ref().and_then(|o| at(o, p));
            if at(&new, p) != before {
                touches |= 1 << i;
            }
        }
    }
    let mut changes = Vec::new();
    if new_ledger != old_ledger {
        // The checklists' tree ids, through the ledger folder's own tree.
        let checklists = CHECKLISTS_DIR
            .strip_prefix(LEDGER_DIR)
            .map_or(CHECKLISTS_DIR, |s| s.trim_start_matches('/'));
        let mut sub_of =
            |l: Option<(git2::Oid, Option<git2::ObjectType>)>| -> Result<Option<git2::Oid>> {
                match l {
                    Some((id, Some(git2::ObjectType::Tree))) => {
                        Ok(cache.get(repo, id)?.get_name(checklists).map(|e| e.id()))
                    }
                    _ => Ok(None),
                }
            };
        let (new_sub, old_sub) = (sub_of(new_ledger)?, sub_of(old_ledger)?);
        if new_sub != old_sub {
            let old_tree = old_sub.map(|i| cache.get(repo, i)).transpose()?;
            let new_tree = new_sub.map(|i| cache.get(repo, i)).transpose()?;
            diff_trees(
                repo,
                old_tree,
                new_tree,
                CHECKLISTS_DIR,
                &mut changes,
                cache,
            )?;
        }
    }
    Ok(Compared {
        code,
        touches,
        changes,
    })
}

/// Whether `new` changes anything outside `deployments/` against `old`
/// (None: a root commit, whose tree has anything else).
fn code_changed(new: &git2::Tree, old: Option<&git2::Tree>) -> bool {
    let ledger = LEDGER_DIR.as_bytes();
    match old {
        None => new.iter().any(|e| e.name_bytes() != ledger),
        // The usual case: the same names in the same order, compared by
        // position (no lookups by name).
        Some(old)
            if old.len() == new.len()
                && old
                    .iter()
                    .zip(new.iter())
                    .all(|(a, b)| a.name_bytes() == b.name_bytes()) =>
        {
            old.iter()
                .zip(new.iter())
                .any(|(a, b)| a.name_bytes() != ledger && a.id() != b.id())
        }
        Some(old) => {
            let entry_id = |t: &git2::Tree, name: &str| t.get_name(name).map(|e| e.id());
            new.iter().any(|e| {
                e.name() != Some(LEDGER_DIR)
                    && e.name().and_then(|n| entry_id(old, n)) != Some(e.id())
            }) || old.iter().any(|e| {
                e.name() != Some(LEDGER_DIR) && e.name().is_some_and(|n| new.get_name(n).is_none())
            })
        }
    }
}

/// Git's order of tree entries: by name, a tree's name read with a `/`.
fn entry_order(a: &git2::TreeEntry, b: &git2::TreeEntry) -> std::cmp::Ordering {
    let key = |e: &git2::TreeEntry| -> u8 {
        if e.kind() == Some(git2::ObjectType::Tree) {
            b'/'
        } else {
            0
        }
    };
    let (an, bn) = (a.name_bytes(), b.name_bytes());
    let common = an.len().min(bn.len());
    match an[..common].cmp(&bn[..common]) {
        std::cmp::Ordering::Equal => {}
        other => return other,
    }
    let next = |n: &[u8], e: &git2::TreeEntry| n.get(common).copied().unwrap_or_else(|| key(e));
    next(an, a).cmp(&next(bn, b)).then(an.len().cmp(&bn.len()))
}

/// Record-file changes between two trees, descending only into subtrees
/// whose ids differ: a merge of the two sorted entry lists, allocating only
/// for what changed.
fn diff_trees<'r>(
    repo: &'r git2::Repository,
    old: Option<git2::Tree<'r>>,
    new: Option<git2::Tree<'r>>,
    prefix: &str,
    out: &mut Vec<FileChange>,
    cache: &mut TreeCache<'r>,
) -> Result<()> {
    let is_tree = |e: &git2::TreeEntry| e.kind() == Some(git2::ObjectType::Tree);
    let is_md = |e: &git2::TreeEntry| {
        e.kind() == Some(git2::ObjectType::Blob) && e.name_bytes().ends_with(b".md")
    };
    let path_of =
        |e: &git2::TreeEntry| format!("{prefix}/{}", String::from_utf8_lossy(e.name_bytes()));
    let (ol, nl) = (
        old.as_ref().map_or(0, |t| t.len()),
        new.as_ref().map_or(0, |t| t.len()),
    );
    let (mut i, mut j) = (0, 0);
    // An entry only in the old tree: deleted (a folder: everything in it).
    let gone =
        |e: &git2::TreeEntry, out: &mut Vec<FileChange>, cache: &mut TreeCache<'r>| -> Result<()> {
            if is_tree(e) {
                diff_trees(
                    repo,
                    Some(cache.get(repo, e.id())?),
                    None,
                    &path_of(e),
                    out,
                    cache,
                )?;
            } else if is_md(e) {
                out.push((path_of(e), None));
            }
            Ok(())
        };
    let came =
        |e: &git2::TreeEntry, out: &mut Vec<FileChange>, cache: &mut TreeCache<'r>| -> Result<()> {
            if is_tree(e) {
                diff_trees(
                    repo,
                    None,
                    Some(cache.get(repo, e.id())?),
                    &path_of(e),
                    out,
                    cache,
                )?;
            } else if is_md(e) {
                out.push((path_of(e), Some(raw_oid(e.id()))));
            }
            Ok(())
        };
    while i < ol || j < nl {
        let o = old.as_ref().and_then(|t| t.get(i));
        let n = new.as_ref().and_then(|t| t.get(j));
        match (o, n) {
            (Some(o), Some(n)) => match entry_order(&o, &n) {
                std::cmp::Ordering::Less => {
                    gone(&o, out, cache)?;
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    came(&n, out, cache)?;
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if o.id() != n.id() {
                        if is_tree(&o) && is_tree(&n) {
                            let (ot, nt) = (cache.get(repo, o.id())?, cache.get(repo, n.id())?);
                            diff_trees(repo, Some(ot), Some(nt), &path_of(&n), out, cache)?;
                        } else if !is_tree(&o) && !is_tree(&n) {
                            // A modified file: one change.
                            came(&n, out, cache)?;
                        } else {
                            gone(&o, out, cache)?;
                            came(&n, out, cache)?;
                        }
                    }
                    i += 1;
                    j += 1;
                }
            },
            (Some(o), None) => {
                gone(&o, out, cache)?;
                i += 1;
            }
            (None, Some(n)) => {
                came(&n, out, cache)?;
                j += 1;
            }
            (None, None) => break,
        }
    }
    Ok(())
}

/// The last few trees parsed (libgit2 does not cache trees over 4 KiB).
#[derive(Default)]
struct TreeCache<'r> {
    trees: std::collections::VecDeque<(git2::Oid, git2::Tree<'r>)>,
}

impl<'r> TreeCache<'r> {
    const SIZE: usize = 16;

    fn get(&mut self, repo: &'r git2::Repository, id: git2::Oid) -> Result<git2::Tree<'r>> {
        if let Some((_, t)) = self.trees.iter().find(|(i, _)| *i == id) {
            return Ok(t.clone());
        }
        let t = repo.find_tree(id)?;
        if self.trees.len() == Self::SIZE {
            self.trees.pop_front();
        }
        self.trees.push_back((id, t.clone()));
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_the_ids_git_gives() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for bytes in [&b""[..], b"x", b"---\nschema: 1\r\n---\n", &big] {
            let git =
                git2::Oid::hash_object(git2::ObjectType::Blob, bytes).expect("libgit2 hashes");
            assert_eq!(blob_id(bytes), raw_oid(git));
        }
        // `git hash-object` of "hello\n".
        assert_eq!(
            crate::analytics::graph::oid_hex(&Repo::blob_id(b"hello\n")),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn tool_messages_of_one_record_are_recognised() {
        let t = |m: &str| tool_change(m.as_bytes()).map(|t| (t.action, t.id));
        let id = || Box::<str>::from("DEP-2025-01-15-14-30-api-production");
        assert_eq!(
            t("deploy(api): finish DEP-2025-01-15-14-30-api-production [production]"),
            Some((ToolAction::Finish, id()))
        );
        assert_eq!(
            t("deploy(api): phase DEP-2025-01-15-14-30-api-production [production]"),
            Some((ToolAction::Phase, id()))
        );
        assert_eq!(
            t("deploy(api): phase validation DEP-2025-01-15-14-30-api-production [production]"),
            Some((ToolAction::Phase, id()))
        );
        // Several files, or not the tool's: diffed.
        assert_eq!(t("deploy(api): rollback DEP-2 of DEP-1 [production]"), None);
        assert_eq!(t("deploy: import 3 records from x.csv"), None);
        assert_eq!(t("deploy(api): finish two words DEP-1 [production]"), None);
        assert_eq!(t("deploy(api): finish DEP-1 production"), None);
        assert_eq!(t("deploy(api): finish DEP-1 [production] extra"), None);
        assert_eq!(t("fix(api): finish DEP-1 [production]"), None);
    }

    #[test]
    fn raw_commits_are_parsed() {
        let tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let p1 = "1111111111111111111111111111111111111111";
        let p2 = "2222222222222222222222222222222222222222";
        let data = format!(
            "tree {tree}\nparent {p1}\nparent {p2}\nauthor A <a@x> 1700000000 +0100\n\
             committer C <c> x> 1700000100 -0500\ngpgsig -----BEGIN-----\n \n  sig\n -----END-----\n\n\
             deploy(api): finish DEP-1 [production]  \nbody\n"
        );
        let c = commit_fields(data.as_bytes()).expect("parsed");
        assert_eq!(c.tree.to_string(), tree);
        let parents: Vec<String> = c.parents.iter().map(|p| p.to_string()).collect();
        assert_eq!(parents, vec![p1, p2]);
        assert_eq!((c.author_time, c.commit_time), (1700000000, 1700000100));
        assert_eq!(c.summary, b"deploy(api): finish DEP-1 [production]");
        // A root commit without a message; a commit without a tree is broken.
        let root = format!("tree {tree}\nauthor A <a> 5 +0000\ncommitter A <a> 6 +0000\n");
        let c = commit_fields(root.as_bytes()).expect("parsed");
        assert!(c.parents.is_empty() && c.summary.is_empty());
        assert!(commit_fields(b"author A <a> 5 +0000\ncommitter A <a> 6 +0000\n\nm").is_none());
    }
}
