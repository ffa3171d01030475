//! Finding, loading and saving the records of a work tree.
//!
//! `start` must know the in-progress records without parsing 100,000 files,
//! so a scan keeps a cache under `.git/deploy-ledger/scan-cache` keyed by
//! each file's path, size, modification and change times and inode (as
//! git's index is); only new or changed files are read, and a file changed
//! within 2 s of the cache write is never trusted from it. The cache is an
//! optimisation: deleting it costs time only.

use chrono::{DateTime, FixedOffset, Utc};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::{Config, CHECKLISTS_DIR};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::record::{frontmatter, Document, Record, Status};

pub struct Ledger {
    pub repo: Repo,
    /// The work tree's root.
    pub root: PathBuf,
    pub config: Config,
}

/// A record as loaded from the work tree.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Relative to the work tree, with `/` separators.
    pub path: PathBuf,
    pub doc: Document,
    pub record: Record,
}

/// The few fields of a record that locks and lookups need, cached by scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub path: PathBuf,
    pub id: String,
    pub service: String,
    pub environment: String,
    pub status: Status,
    pub started_at: DateTime<FixedOffset>,
}

/// What a scan found: the summaries, and the files that failed to parse.
#[derive(Debug, Default)]
pub struct Scan {
    pub records: Vec<Summary>,
    pub broken: Vec<(PathBuf, String)>,
}

/// Which deployment `phase`, `check` and `finish` act on (SPEC §3).
#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub id: Option<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
}

const POINTER_FILE: &str = "current";
const CACHE_FILE: &str = "scan-cache";
const CACHE_VERSION: &str = "deploy-ledger scan-cache 2";
/// At most this many files read afresh before the scan cache is rewritten.
const REWRITE_AFTER: usize = 16;

impl Ledger {
    /// Opens the ledger of the repository containing `dir`.
    pub fn open(dir: &Path) -> Result<Ledger> {
        Ledger::with_repo(Repo::discover(dir)?)
    }

    /// Opens the ledger of the current folder, found as git finds its
    /// repository (`GIT_DIR`, `GIT_WORK_TREE`…: see [`Repo::from_env`]).
    pub fn open_cwd() -> Result<Ledger> {
        Ledger::with_repo(Repo::from_env()?)
    }

    fn with_repo(repo: Repo) -> Result<Ledger> {
        let root = repo.workdir()?.to_path_buf();
        let config = Config::load(Some(&root))?;
        Ok(Ledger { repo, root, config })
    }

    pub fn checklists_dir(&self) -> PathBuf {
        self.root.join(CHECKLISTS_DIR)
    }

    pub fn abs(&self, rel: &Path) -> PathBuf {
        self.root.join(rel)
    }

    /// Every `*.md` file under `deployments/checklists/`, relative, sorted.
    pub fn record_files(&self) -> Vec<PathBuf> {
        let dir = self.checklists_dir();
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
            .filter_map(|e| {
                e.path()
                    .strip_prefix(&self.root)
                    .ok()
                    .map(Path::to_path_buf)
            })
            .collect();
        files.sort();
        files
    }

    /// Reads and parses one record (path relative to the work tree).
    pub fn load(&self, rel: &Path) -> Result<Loaded> {
        let text = read_text(&self.root, rel)?;
        let (doc, record) = Record::parse(&text, rel)?;
        Ok(Loaded {
            path: rel.to_path_buf(),
            doc,
            record,
        })
    }

    /// Loads every record in parallel; files without frontmatter are not
    /// records and are skipped; broken records are returned apart, so one
    /// bad file never hides the others.
    pub fn load_all(&self) -> (Vec<Loaded>, Vec<Error>) {
        let root = &self.root;
        let results: Vec<Option<Result<Loaded>>> = self
            .record_files()
            .par_iter()
            .map(|rel| {
                let text = match read_text(root, rel) {
                    Ok(t) => t,
                    Err(e) => return Some(Err(e)),
                };
                if !frontmatter::has_frontmatter(&text) {
                    return None;
                }
                Some(Record::parse(&text, rel).map(|(doc, record)| Loaded {
                    path: rel.clone(),
                    doc,
                    record,
                }))
            })
            .collect();
        let mut ok = Vec::new();
        let mut errors = Vec::new();
        for r in results.into_iter().flatten() {
            match r {
                Ok(l) => ok.push(l),
                Err(e) => errors.push(e),
            }
        }
        (ok, errors)
    }

    /// Summaries of every record, reading only files changed since the last
    /// scan of this clone. Costs one `stat` per record (on the folder's
    /// handle, in parallel) plus reading the cache; see [`CacheKey`] for why
    /// a cached summary is never stale.
    pub fn scan(&self) -> Result<Scan> {
        let cache_path = self.repo.state_dir().join(CACHE_FILE);
        let cache_text = std::fs::read(&cache_path).unwrap_or_default();
        let cache = Cache::parse(&cache_text);
        let started = SystemTime::now();
        let found = walk_records(&self.checklists_dir(), Path::new(CHECKLISTS_DIR));
        let root = &self.root;
        let resolved: Vec<Resolved> = found
            .into_par_iter()
            .enumerate()
            .map(|(n, (rel, key))| {
                let hit = cache.get(n, &rel, key);
                let fresh = hit.is_none();
                let entry = hit.unwrap_or_else(|| read_entry(&root.join(&rel), &rel));
                Resolved {
                    rel,
                    key,
                    entry,
                    fresh,
                }
            })
            .collect();
        // Rewriting the cache costs about as much as reading it: do it when a
        // cached line went stale (a file changed or went away), or when
        // enough files were read afresh. A few new records (the newest
        // sort last, after the cached lines) are cheaper to read again.
        let fresh = resolved.iter().filter(|r| r.fresh).count();
        let hits = resolved.len() - fresh;
        let enough = (resolved.len() / 64).clamp(1, REWRITE_AFTER);
        if hits < cache.len() || fresh >= enough {
            // Best effort: a read-only .git only costs the next scan time.
            let _ = write_cache(&cache_path, &resolved, started);
        }
        let mut scan = Scan::default();
        scan.records.reserve(resolved.len());
        for r in resolved {
            match r.entry {
                Entry::Record(mut s) => {
                    // Moved rather than cloned: 100,000 paths add up.
                    s.path = r.rel;
                    scan.records.push(s)
                }
                Entry::Broken(message) => scan.broken.push((r.rel, message)),
                Entry::NotARecord => {}
            }
        }
        Ok(scan)
    }

    /// The records of one service and environment, for `start`'s lock check
    /// and its new id. With a scan cache this is the whole scan (cheap);
    /// without one (a fresh clone) only the files whose path contains
    /// `-<service>-<environment>` are read: `record_path` names the file
    /// `{id}.md`, and the id ends with those names, and `validate` reports a
    /// record whose file name does not match its id. So a cold `start` never reads every
    /// record.
    pub fn scan_service(&self, service: &str, environment: &str) -> Result<Scan> {
        if self.repo.state_dir().join(CACHE_FILE).is_file() {
            return self.scan();
        }
        let needle = format!("-{service}-{environment}");
        let found = walk_records(&self.checklists_dir(), Path::new(CHECKLISTS_DIR));
        let root = &self.root;
        let entries: Vec<(PathBuf, Entry)> = found
            .into_par_iter()
            .filter(|(rel, _)| rel.to_string_lossy().contains(&needle))
            .map(|(rel, _)| {
                let entry = read_entry(&root.join(&rel), &rel);
                (rel, entry)
            })
            .collect();
        let mut scan = Scan::default();
        for (rel, entry) in entries {
            match entry {
                Entry::Record(mut s) if s.service == service && s.environment == environment => {
                    s.path = rel;
                    scan.records.push(s);
                }
                Entry::Broken(message) => scan.broken.push((rel, message)),
                _ => {}
            }
        }
        Ok(scan)
    }

    /// The record with this id (from the scan), loaded.
    pub fn find(&self, id: &str) -> Result<Loaded> {
        let scan = self.scan()?;
        match scan.records.iter().find(|s| s.id == id) {
            Some(s) => self.load(&s.path),
            None => {
                let close: Vec<&str> = scan
                    .records
                    .iter()
                    .filter(|s| s.id.contains(id))
                    .map(|s| s.id.as_str())
                    .take(5)
                    .collect();
                Err(Error::user_hint(
                    format!("no record with id `{id}`"),
                    if close.is_empty() {
                        "run `deploy-ledger list` to see the ids".to_string()
                    } else {
                        format!("did you mean: {}", close.join(", "))
                    },
                ))
            }
        }
    }

    /// Resolves which deployment a command acts on (SPEC §3): `--id`, else the
    /// in-progress record of `--service`/`--env`, else `DEPLOY_LEDGER_ID`,
    /// else this clone's pointer, else the single in-progress record.
    pub fn resolve(&self, selector: &Selector) -> Result<Loaded> {
        if let Some(id) = &selector.id {
            return self.find(id);
        }
        if selector.service.is_some() || selector.environment.is_some() {
            let scan = self.scan()?;
            let matching: Vec<&Summary> = scan
                .records
                .iter()
                .filter(|s| s.status == Status::InProgress)
                .filter(|s| selector.service.as_ref().is_none_or(|v| *v == s.service))
                .filter(|s| {
                    selector
                        .environment
                        .as_ref()
                        .is_none_or(|v| *v == s.environment)
                })
                .collect();
            return self.one_of(&matching, "matching --service/--env");
        }
        if let Some(id) = std::env::var("DEPLOY_LEDGER_ID")
            .ok()
            .filter(|s| !s.is_empty())
        {
            return self.find(&id);
        }
        // A pointer to a record that has ended (finished here before
        // `finish` cleared pointers, or in another clone and pulled) names
        // no current deployment: fall through to the records in progress.
        if let Some(rel) = self.pointer() {
            if self.abs(&rel).is_file() {
                let loaded = self.load(&rel)?;
                if loaded.record.status == Status::InProgress {
                    return Ok(loaded);
                }
            }
        }
        let scan = self.scan()?;
        let open: Vec<&Summary> = scan
            .records
            .iter()
            .filter(|s| s.status == Status::InProgress)
            .collect();
        self.one_of(&open, "in progress")
    }

    fn one_of(&self, candidates: &[&Summary], what: &str) -> Result<Loaded> {
        match candidates {
            [one] => self.load(&one.path),
            [] => Err(Error::user_hint(
                format!("no deployment {what}"),
                "start one with `deploy-ledger start --service NAME --env ENV`, or pass --id",
            )),
            many => {
                let ids: Vec<&str> = many.iter().map(|s| s.id.as_str()).collect();
                // "2 deployments match --service/--env", "2 deployments are in progress".
                let phrase = match what.strip_prefix("matching ") {
                    Some(rest) => format!("match {rest}"),
                    None => format!("are {what}"),
                };
                Err(Error::user_hint(
                    format!("{} deployments {phrase}", many.len()),
                    format!("pass --id, one of: {}", ids.join(", ")),
                ))
            }
        }
    }

    /// This clone's current-deployment pointer (set by `start`).
    pub fn pointer(&self) -> Option<PathBuf> {
        let text = std::fs::read_to_string(self.repo.state_dir().join(POINTER_FILE)).ok()?;
        let rel = text.trim();
        (!rel.is_empty()).then(|| PathBuf::from(rel))
    }

    /// Where [`Ledger::pointer`] is kept.
    pub fn pointer_file(&self) -> PathBuf {
        self.repo.state_dir().join(POINTER_FILE)
    }

    /// Removes this clone's pointer if it names `rel` (the record `finish`
    /// just ended). Best effort: [`Ledger::resolve`] passes over a pointer
    /// to a record that is no longer in progress anyway.
    pub fn clear_pointer_if(&self, rel: &Path) {
        if self.pointer().as_deref() == Some(rel) {
            let _ = std::fs::remove_file(self.pointer_file());
        }
    }

    pub fn set_pointer(&self, rel: &Path) -> Result<()> {
        let dir = self.repo.state_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        write_atomic(
            &dir.join(POINTER_FILE),
            format!("{}\n", rel.display()).as_bytes(),
            false,
        )
    }

    /// Writes a record atomically (temp file and rename); with `new`, refuses
    /// to replace an existing file.
    pub fn save(&self, rel: &Path, doc: &Document, new: bool) -> Result<()> {
        let abs = self.abs(rel);
        if let Some(dir) = abs.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        write_atomic(&abs, doc.render().as_bytes(), new)
    }

    /// The path of a new record with this id, from the `record_path` template.
    pub fn record_path(
        &self,
        id: &str,
        service: &str,
        environment: &str,
        started: DateTime<Utc>,
    ) -> PathBuf {
        let rel = self
            .config
            .record_path
            .replace("{year}", &started.format("%Y").to_string())
            .replace("{month}", &started.format("%m").to_string())
            .replace("{day}", &started.format("%d").to_string())
            .replace("{service}", service)
            .replace("{environment}", environment)
            .replace("{id}", id);
        Path::new(CHECKLISTS_DIR).join(rel)
    }

    /// Stale in-progress records: open longer than `stale_after_hours`.
    pub fn is_stale(&self, summary_started: DateTime<FixedOffset>, now: DateTime<Utc>) -> bool {
        open_too_long(
            now - summary_started.with_timezone(&Utc),
            self.config.stale_after_hours,
        )
    }
}

/// Whether a record open for `age` is stale: open *longer* than `hours`
/// (exactly `hours` is not yet), for `status`, `validate` and `analytics`.
pub fn open_too_long(age: chrono::TimeDelta, hours: u64) -> bool {
    // Hours beyond what a duration holds: never stale.
    i64::try_from(hours)
        .ok()
        .and_then(chrono::TimeDelta::try_hours)
        .is_some_and(|limit| age > limit)
}

/// A record file's text; errors name it by `rel` (as every other record
/// problem does), and a file that is not UTF-8 says so.
fn read_text(root: &Path, rel: &Path) -> Result<String> {
    read_bytes_as_text(&root.join(rel), rel)
}

fn read_bytes_as_text(abs: &Path, rel: &Path) -> Result<String> {
    let bytes = std::fs::read(abs).map_err(|e| Error::io(rel, e))?;
    String::from_utf8(bytes).map_err(|e| {
        Error::user_hint(
            format!("{}: {}", rel.display(), not_utf8(&e)),
            "save it as UTF-8",
        )
    })
}

/// Why a file is not a record's text: the same words for `list` and `validate`.
pub fn not_utf8(e: &std::string::FromUtf8Error) -> String {
    format!(
        "not UTF-8 text (invalid byte at offset {}); a record is UTF-8 markdown",
        e.utf8_error().valid_up_to()
    )
}

/// The warning for a record that failed to parse, `skipped a broken record
/// path:line: why`, naming the path once (most messages start with it).
pub fn broken_warning(path: &Path, message: &str) -> String {
    let p = path.display().to_string();
    if message.starts_with(&format!("{p}:")) {
        format!("skipped a broken record {message}")
    } else {
        format!("skipped a broken record {p}: {message}")
    }
}

/// Writes `bytes` to `path` through a temp file in the same folder and a
/// rename, so a crash never leaves half a file. New files get mode 0644 (less
/// the umask's effect is not applied by tempfile, so we set it); a replaced
/// file keeps its mode.
pub fn write_atomic(path: &Path, bytes: &[u8], new: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".deploy-ledger-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    let perms = std::fs::metadata(path).map(|m| m.permissions()).ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = perms.unwrap_or_else(|| std::fs::Permissions::from_mode(0o644));
        let _ = std::fs::set_permissions(tmp.path(), perms);
    }
    #[cfg(not(unix))]
    let _ = perms;
    if new {
        tmp.persist_noclobber(path)
            .map_err(|e| Error::io(path, e.error))?;
    } else {
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    }
    Ok(())
}

/// The state of the work tree's record files without reading them: a hash
/// of every record file's path and [`CacheKey`], and of the ignore files
/// that decide which files git lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub hash: u64,
    /// The latest modification or change time among them (ns).
    pub newest_ns: i128,
}

/// The [`Stamp`] of the work tree at `root`: one `stat` per record file.
pub fn work_tree_stamp(root: &Path) -> Stamp {
    use std::hash::{Hash, Hasher};
    // Each file's path and key hashed as found, the hashes then combined
    // in path order.
    let hash = |path: &Path, key: &CacheKey| {
        let mut hasher = std::hash::DefaultHasher::new();
        path.hash(&mut hasher);
        key.hash(&mut hasher);
        (hasher.finish(), key.mtime_ns.max(key.ctime_ns))
    };
    let mut files = walk_records_with(
        &root.join(CHECKLISTS_DIR),
        Path::new(CHECKLISTS_DIR),
        &|path, key| hash(&path, &key),
    );
    for ignore in [".gitignore", "deployments/.gitignore", ".git/info/exclude"] {
        if let Ok(meta) = std::fs::metadata(root.join(ignore)) {
            files.push(hash(Path::new(ignore), &CacheKey::of(&meta)));
        }
    }
    let mut hasher = std::hash::DefaultHasher::new();
    let mut newest_ns = 0;
    for (file, newest) in &files {
        file.hash(&mut hasher);
        newest_ns = newest_ns.max(*newest);
    }
    Stamp {
        hash: hasher.finish(),
        newest_ns,
    }
}

/// Identifies a version of a file without reading it, as git's index does:
/// size, modification and change times (ns) and inode. The change time
/// cannot be set by programs (`touch -d`, `cp -p`, `tar`, `rsync -t` only
/// set the modification time) and moves with every write or rename, so an
/// edit that keeps the size and the modification time is still seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CacheKey {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
}

impl CacheKey {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        CacheKey {
            size: meta.len(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
        }
    }

    #[cfg(not(unix))]
    fn of(meta: &std::fs::Metadata) -> Self {
        let ns = |t: std::io::Result<SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as i128)
                .unwrap_or(0)
        };
        CacheKey {
            size: meta.len(),
            mtime_ns: ns(meta.modified()),
            ctime_ns: ns(meta.created()),
            ino: 0,
        }
    }

    /// A file changed within 2 s of the cache write may have changed again
    /// in the same timestamp tick: never trust it (git's "racy" rule).
    fn is_racy(&self, written_ns: i128) -> bool {
        self.mtime_ns.max(self.ctime_ns) + 2_000_000_000 >= written_ns
    }
}

#[derive(Debug, Clone)]
enum Entry {
    Record(Summary),
    Broken(String),
    NotARecord,
}

/// One file found by a scan, with its summary from the cache or from reading
/// it (`fresh`).
struct Resolved {
    rel: PathBuf,
    key: CacheKey,
    entry: Entry,
    fresh: bool,
}

/// Every `*.md` regular file under `abs` (symbolic links are not followed),
/// with its cache key, in path order; `rel` is `abs` relative to the work
/// tree. Each `stat` goes through the folder's handle (no path lookup), and
/// folders are read in parallel.
fn walk_records(abs: &Path, rel: &Path) -> Vec<(PathBuf, CacheKey)> {
    walk_records_with(abs, rel, &|path, key| (path, key))
}

/// [`walk_records`], each file given to `f` as it is found (what `f` keeps
/// is listed, not every path: 17 MB at 100,000 records for a stamp).
fn walk_records_with<T: Send>(
    abs: &Path,
    rel: &Path,
    f: &(impl Fn(PathBuf, CacheKey) -> T + Sync),
) -> Vec<T> {
    let Ok(read) = std::fs::read_dir(abs) else {
        return Vec::new();
    };
    let mut entries: Vec<std::fs::DirEntry> = read.filter_map(|e| e.ok()).collect();
    entries.sort_by_cached_key(|e| e.file_name());
    entries
        .into_par_iter()
        .flat_map_iter(|e| {
            let name = e.file_name();
            // A file gives one item, a folder many (no Vec per file).
            let (one, many) = match e.file_type() {
                Ok(kind) if kind.is_dir() => {
                    (None, walk_records_with(&e.path(), &rel.join(&name), f))
                }
                Ok(kind)
                    if kind.is_file()
                        && Path::new(&name).extension().is_some_and(|x| x == "md") =>
                {
                    let one = e
                        .metadata()
                        .ok()
                        .map(|m| f(rel.join(&name), CacheKey::of(&m)));
                    (one, Vec::new())
                }
                _ => (None, Vec::new()),
            };
            one.into_iter().chain(many)
        })
        .collect()
}

fn read_entry(abs: &Path, rel: &Path) -> Entry {
    let text = match read_bytes_as_text(abs, rel) {
        Ok(t) => t,
        Err(e) => return Entry::Broken(e.to_string()),
    };
    if !frontmatter::has_frontmatter(&text) {
        return Entry::NotARecord;
    }
    match Record::parse(&text, rel) {
        Ok((_, r)) => Entry::Record(Summary {
            path: rel.to_path_buf(),
            id: r.id,
            service: r.service,
            environment: r.environment,
            status: r.status,
            started_at: r.started_at,
        }),
        Err(e) => Entry::Broken(e.to_string()),
    }
}

/// The scan cache as read: its lines, each parsed only when its file is
/// looked up. Format: a header `deploy-ledger scan-cache 2 <ns>` (when the
/// scan that wrote it started), then one line per file in the order of the
/// scan: `path size mtime_ns ctime_ns inode kind fields…`, tab-separated;
/// a record whose id is its file name's stem has `=` for its id.
#[derive(Default)]
struct Cache<'a> {
    written_ns: i128,
    /// (path, rest of the line), in the order of the scan that wrote them.
    lines: Vec<(&'a str, &'a str)>,
    /// Positions by path, built only when a lookup misses its position
    /// (files were added or removed since the cache was written).
    by_path: std::sync::OnceLock<HashMap<&'a str, usize>>,
}

impl<'a> Cache<'a> {
    /// Anything unexpected gives an empty cache (it only costs time).
    fn parse(bytes: &'a [u8]) -> Cache<'a> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Cache::default();
        };
        let mut lines = text.split('\n');
        let Some(written_ns) = lines
            .next()
            .and_then(|h| h.strip_prefix(CACHE_VERSION))
            .and_then(|r| r.strip_prefix(' '))
            .and_then(|r| r.parse::<i128>().ok())
        else {
            return Cache::default();
        };
        let mut parsed = Vec::with_capacity(text.len() / 120);
        for line in lines.filter(|l| !l.is_empty()) {
            match line.split_once('\t') {
                Some(pair) => parsed.push(pair),
                None => return Cache::default(),
            }
        }
        Cache {
            written_ns,
            lines: parsed,
            by_path: std::sync::OnceLock::new(),
        }
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    /// The rest of the line of `path`, expected at position `n`.
    fn line(&self, n: usize, path: &str) -> Option<&'a str> {
        match self.lines.get(n) {
            Some((p, rest)) if *p == path => Some(rest),
            _ => {
                let by_path = self.by_path.get_or_init(|| {
                    self.lines
                        .iter()
                        .enumerate()
                        .map(|(i, (p, _))| (*p, i))
                        .collect()
                });
                by_path.get(path).map(|i| self.lines[*i].1)
            }
        }
    }

    /// The cached entry of `rel` (the `n`th file of this scan), if the file
    /// still has the cached key and that key can be trusted. A record's
    /// `path` is left empty: the scan moves `rel` in.
    fn get(&self, n: usize, rel: &Path, key: CacheKey) -> Option<Entry> {
        let rest = self.line(n, rel.to_str()?)?;
        let mut f = rest.split('\t');
        let cached = CacheKey {
            size: f.next()?.parse().ok()?,
            mtime_ns: f.next()?.parse().ok()?,
            ctime_ns: f.next()?.parse().ok()?,
            ino: f.next()?.parse().ok()?,
        };
        if cached != key || key.is_racy(self.written_ns) {
            return None;
        }
        let entry = match f.next()? {
            "R" => Entry::Record(Summary {
                id: match f.next()? {
                    "=" => rel.file_stem()?.to_str()?.to_string(),
                    id => id.to_string(),
                },
                path: PathBuf::new(),
                service: f.next()?.to_string(),
                environment: f.next()?.to_string(),
                status: status(f.next()?)?,
                started_at: DateTime::parse_from_rfc3339(f.next()?).ok()?,
            }),
            "B" => Entry::Broken(unescape(f.next()?)),
            "N" => Entry::NotARecord,
            _ => return None,
        };
        f.next().is_none().then_some(entry)
    }
}

/// A status as the cache writes it (canonical, so no allocation), else parsed.
fn status(text: &str) -> Option<Status> {
    Status::ALL
        .into_iter()
        .find(|s| s.as_str() == text)
        .or_else(|| text.parse().ok())
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn write_cache(path: &Path, entries: &[Resolved], started: SystemTime) -> Result<()> {
    use std::fmt::Write as _;
    let written = started
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let mut out = String::with_capacity(64 + entries.len() * 200);
    let _ = writeln!(out, "{CACHE_VERSION} {written}");
    let plain = |s: &str| !s.contains(['\t', '\n', '\r']);
    for r in entries {
        // A path or field that cannot be written plainly is left out: that
        // file is read on every scan.
        let Some(p) = r.rel.to_str().filter(|p| plain(p)) else {
            continue;
        };
        let k = r.key;
        match &r.entry {
            Entry::Record(s) => {
                if ![&s.id, &s.service, &s.environment].iter().all(|f| plain(f)) {
                    continue;
                }
                let stem = r.rel.file_stem().and_then(|x| x.to_str());
                let id = if stem == Some(s.id.as_str()) && s.id != "=" {
                    "="
                } else {
                    s.id.as_str()
                };
                let _ = writeln!(
                    out,
                    "{p}\t{}\t{}\t{}\t{}\tR\t{id}\t{}\t{}\t{}\t{}",
                    k.size,
                    k.mtime_ns,
                    k.ctime_ns,
                    k.ino,
                    s.service,
                    s.environment,
                    s.status,
                    s.started_at.to_rfc3339()
                );
            }
            Entry::Broken(m) => {
                let _ = writeln!(
                    out,
                    "{p}\t{}\t{}\t{}\t{}\tB\t{}",
                    k.size,
                    k.mtime_ns,
                    k.ctime_ns,
                    k.ino,
                    escape(m)
                );
            }
            Entry::NotARecord => {
                let _ = writeln!(
                    out,
                    "{p}\t{}\t{}\t{}\t{}\tN",
                    k.size, k.mtime_ns, k.ctime_ns, k.ino
                );
            }
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // Temp file and rename, but no fsync: after a crash a torn cache fails
    // to parse, or misses lines, and only costs the next scan time.
    let mut tmp = tempfile::Builder::new()
        .prefix(".scan-cache-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(out.as_bytes())
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_messages_round_trip() {
        for m in [
            "plain",
            "tab\there",
            "line\nbreak\r",
            "back\\slash\\t",
            "end\\",
        ] {
            assert_eq!(unescape(&escape(m)), m);
            assert!(!escape(m).contains(['\t', '\n', '\r']));
        }
    }

    #[test]
    fn cache_lines_need_the_same_key_and_age() {
        let key = CacheKey {
            size: 10,
            mtime_ns: 1_000_000_000,
            ctime_ns: 1_000_000_000,
            ino: 7,
        };
        let text = format!(
            "{CACHE_VERSION} 5000000000\na.md\t10\t1000000000\t1000000000\t7\tN\nb.md\t10\t1000000000\t1000000000\t7\tB\tbad\\tyaml\n"
        );
        let cache = Cache::parse(text.as_bytes());
        assert_eq!(cache.len(), 2);
        assert!(matches!(
            cache.get(0, Path::new("a.md"), key),
            Some(Entry::NotARecord)
        ));
        // Found at another position (files added or removed): by path.
        assert!(matches!(
            cache.get(5, Path::new("a.md"), key),
            Some(Entry::NotARecord)
        ));
        assert!(cache.get(0, Path::new("c.md"), key).is_none());
        assert!(
            matches!(cache.get(1, Path::new("b.md"), key), Some(Entry::Broken(m)) if m == "bad\tyaml")
        );
        let other_inode = CacheKey { ino: 8, ..key };
        assert!(cache.get(0, Path::new("a.md"), other_inode).is_none());
        let other_ctime = CacheKey {
            ctime_ns: 2_000_000_000,
            ..key
        };
        assert!(cache.get(0, Path::new("a.md"), other_ctime).is_none());
        // Written less than 2 s after the change: never trusted.
        let racy = Cache::parse(
            b"deploy-ledger scan-cache 2 2500000000\na.md\t10\t1000000000\t1000000000\t7\tN\n",
        );
        assert!(racy.get(0, Path::new("a.md"), key).is_none());
        assert!(Cache::parse(b"deploy-ledger scan-cache 1 5000000000\n").len() == 0);
    }

    #[test]
    fn record_ids_are_written_short_when_they_are_the_file_stem() {
        let key = CacheKey {
            size: 10,
            mtime_ns: 1_000_000_000,
            ctime_ns: 1_000_000_000,
            ino: 7,
        };
        let summary = |path: &str, id: &str| Summary {
            path: PathBuf::from(path),
            id: id.to_string(),
            service: "api".into(),
            environment: "staging".into(),
            status: Status::InProgress,
            started_at: DateTime::parse_from_rfc3339("2025-01-15T14:30:00Z").expect("time"),
        };
        let entries: Vec<Resolved> = [("d/DEP-1.md", "DEP-1"), ("d/other.md", "DEP-2")]
            .iter()
            .map(|(p, id)| Resolved {
                rel: PathBuf::from(p),
                key,
                entry: Entry::Record(summary(p, id)),
                fresh: true,
            })
            .collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cache");
        let written = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(10);
        write_cache(&path, &entries, written).expect("written");
        let text = std::fs::read(&path).expect("read");
        assert!(String::from_utf8_lossy(&text).contains("\tR\t=\tapi\t"));
        let cache = Cache::parse(&text);
        for (n, (p, id)) in [("d/DEP-1.md", "DEP-1"), ("d/other.md", "DEP-2")]
            .iter()
            .enumerate()
        {
            match cache.get(n, Path::new(p), key) {
                Some(Entry::Record(s)) => assert_eq!(s, summary("", id)),
                other => panic!("{p}: {other:?}"),
            }
        }
    }
}
