//! Finding, loading and saving the records of a work tree.
//!
//! `start` must know the in-progress records without parsing 100,000 files,
//! so a scan keeps a small cache under `.git/deploy-ledger/scan-cache` keyed
//! by each file's path, size and modification time; only new or changed
//! files are read. The cache is an optimisation: deleting it costs time only.

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
const CACHE_VERSION: &str = "deploy-ledger scan-cache 1";

impl Ledger {
    /// Opens the ledger of the repository containing `dir`.
    pub fn open(dir: &Path) -> Result<Ledger> {
        let repo = Repo::discover(dir)?;
        let root = repo.workdir()?.to_path_buf();
        let config = Config::load(Some(&root))?;
        Ok(Ledger { repo, root, config })
    }

    /// Opens the ledger of the current folder.
    pub fn open_cwd() -> Result<Ledger> {
        let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        Ledger::open(&cwd)
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
        let abs = self.abs(rel);
        let text = std::fs::read_to_string(&abs).map_err(|e| Error::io(&abs, e))?;
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
                let abs = root.join(rel);
                let text = match std::fs::read_to_string(&abs) {
                    Ok(t) => t,
                    Err(e) => return Some(Err(Error::io(&abs, e))),
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
    /// scan of this clone.
    pub fn scan(&self) -> Result<Scan> {
        let cache_path = self.repo.state_dir().join(CACHE_FILE);
        let cache = read_cache(&cache_path);
        let started = SystemTime::now();
        let files = self.record_files();
        let root = &self.root;
        let entries: Vec<(PathBuf, CacheKey, Option<Entry>)> = files
            .into_par_iter()
            .filter_map(|rel| {
                let meta = std::fs::metadata(root.join(&rel)).ok()?;
                let key = CacheKey::of(&meta);
                let hit = cache
                    .get(&rel)
                    .filter(|(k, _)| *k == key && !key.is_racy(cache.written_ns))
                    .map(|(_, e)| e.clone());
                Some((rel, key, hit))
            })
            .collect();
        let changed =
            entries.iter().any(|(_, _, hit)| hit.is_none()) || entries.len() != cache.map.len();
        let resolved: Vec<(PathBuf, CacheKey, Entry)> = entries
            .into_par_iter()
            .map(|(rel, key, hit)| {
                let entry = hit.unwrap_or_else(|| read_entry(&root.join(&rel), &rel));
                (rel, key, entry)
            })
            .collect();
        let mut scan = Scan::default();
        for (rel, _, entry) in &resolved {
            match entry {
                Entry::Record(s) => scan.records.push(s.clone()),
                Entry::Broken(message) => scan.broken.push((rel.clone(), message.clone())),
                Entry::NotARecord => {}
            }
        }
        if changed {
            // Best effort: a read-only .git only costs the next scan time.
            let _ = write_cache(&cache_path, &resolved, started);
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
        if let Some(rel) = self.pointer() {
            if self.abs(&rel).is_file() {
                return self.load(&rel);
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
                Err(Error::user_hint(
                    format!("{} deployments are {what}", many.len()),
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
        (now - summary_started.with_timezone(&Utc)).num_hours()
            >= self.config.stale_after_hours as i64
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheKey {
    size: u64,
    mtime_ns: i128,
}

impl CacheKey {
    fn of(meta: &std::fs::Metadata) -> Self {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        CacheKey {
            size: meta.len(),
            mtime_ns,
        }
    }

    /// A file modified within 2 s of the cache write may have changed again
    /// in the same timestamp tick: never trust it (git's "racy" rule).
    fn is_racy(&self, written_ns: i128) -> bool {
        self.mtime_ns + 2_000_000_000 >= written_ns
    }
}

#[derive(Debug, Clone)]
enum Entry {
    Record(Summary),
    Broken(String),
    NotARecord,
}

#[derive(Default)]
struct Cache {
    written_ns: i128,
    map: HashMap<PathBuf, (CacheKey, Entry)>,
}

impl Cache {
    fn get(&self, rel: &Path) -> Option<&(CacheKey, Entry)> {
        self.map.get(rel)
    }
}

fn read_entry(abs: &Path, rel: &Path) -> Entry {
    let text = match std::fs::read_to_string(abs) {
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

fn read_cache(path: &Path) -> Cache {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Cache::default();
    };
    let mut lines = text.lines();
    let mut cache = Cache::default();
    let Some(header) = lines.next() else {
        return cache;
    };
    let Some(written) = header
        .strip_prefix(CACHE_VERSION)
        .and_then(|r| r.trim().parse::<i128>().ok())
    else {
        return cache;
    };
    cache.written_ns = written;
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let parsed = (|| {
            let key = CacheKey {
                size: f.get(1)?.parse().ok()?,
                mtime_ns: f.get(2)?.parse().ok()?,
            };
            let entry = match *f.get(3)? {
                "R" => Entry::Record(Summary {
                    path: PathBuf::from(f[0]),
                    id: f.get(4)?.to_string(),
                    service: f.get(5)?.to_string(),
                    environment: f.get(6)?.to_string(),
                    status: f.get(7)?.parse().ok()?,
                    started_at: DateTime::parse_from_rfc3339(f.get(8)?).ok()?,
                }),
                "B" => Entry::Broken(f.get(4)?.replace("\\t", "\t").replace("\\n", "\n")),
                "N" => Entry::NotARecord,
                _ => return None,
            };
            Some((PathBuf::from(f[0]), (key, entry)))
        })();
        match parsed {
            Some((p, v)) => {
                cache.map.insert(p, v);
            }
            None => return Cache::default(),
        }
    }
    cache
}

fn write_cache(
    path: &Path,
    entries: &[(PathBuf, CacheKey, Entry)],
    started: SystemTime,
) -> Result<()> {
    let written = started
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let mut out = format!("{CACHE_VERSION} {written}\n");
    for (rel, key, entry) in entries {
        let p = rel.to_string_lossy();
        if p.contains(['\t', '\n']) {
            continue;
        }
        let tail = match entry {
            Entry::Record(s) => format!(
                "R\t{}\t{}\t{}\t{}\t{}",
                s.id,
                s.service,
                s.environment,
                s.status,
                s.started_at.to_rfc3339()
            ),
            Entry::Broken(m) => format!("B\t{}", m.replace('\t', "\\t").replace('\n', "\\n")),
            Entry::NotARecord => "N".to_string(),
        };
        if tail.matches('\t').count() > 5 {
            continue;
        }
        out.push_str(&format!("{p}\t{}\t{}\t{tail}\n", key.size, key.mtime_ns));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    write_atomic(path, out.as_bytes(), false)
}
