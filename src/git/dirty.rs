//! A cache of `Repo::is_dirty`, so that `start` on a large ledger does not
//! read the whole index (most of it the ledger's own entries) every time.
//!
//! The answer depends on the index's content, on HEAD, and on the work tree
//! files it tracks outside `deployments/`. The cache keeps the index's
//! checksum (its last bytes, a hash of its whole content), HEAD's id, the
//! keys of `.git/config` and `.git/info/attributes` (filters, line endings),
//! and a key (size, times, inode) of each tracked file outside the ledger,
//! taken *before* the answer was computed. The answer is reused only if all
//! of them are unchanged and no file changed within 2 s of that computation
//! (git's "racy" rule); anything else recomputes. Not covered: a change of
//! global git config (`core.autocrlf` in ~/.gitconfig) with nothing else
//! changed.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::SystemTime;

const HEADER: &str = "deploy-ledger dirty-cache 1";

/// What identifies a version of a file without reading it (or its absence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKey {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
}

impl FileKey {
    /// The key of `path` (not following a symbolic link), None if absent.
    pub fn of(path: &Path) -> Option<FileKey> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        Some(Self::from_meta(&meta))
    }

    #[cfg(unix)]
    fn from_meta(meta: &std::fs::Metadata) -> FileKey {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        FileKey {
            size: meta.len(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
        }
    }

    #[cfg(not(unix))]
    fn from_meta(meta: &std::fs::Metadata) -> FileKey {
        let ns = |t: std::io::Result<SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as i128)
                .unwrap_or(0)
        };
        FileKey {
            size: meta.len(),
            mtime_ns: ns(meta.modified()),
            ctime_ns: ns(meta.created()),
            ino: 0,
        }
    }

    fn is_racy(&self, at_ns: i128) -> bool {
        self.mtime_ns.max(self.ctime_ns) + 2_000_000_000 >= at_ns
    }

    fn text(key: Option<FileKey>) -> String {
        match key {
            Some(k) => format!("{} {} {} {}", k.size, k.mtime_ns, k.ctime_ns, k.ino),
            None => "-".to_string(),
        }
    }
}

/// Everything besides the tracked files that the answer depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// None when the index has no checksum (`index.skipHash`) or cannot be
    /// read: then nothing is cached.
    /// `git_dir` holds the index (a linked work tree has its own),
    /// `common_dir` the config.
    pub fn of(git_dir: &Path, common_dir: &Path, head: &str) -> Option<Fingerprint> {
        let mut index = std::fs::File::open(git_dir.join("index")).ok()?;
        let len = index.metadata().ok()?.len();
        if len < 32 {
            return None;
        }
        let mut trailer = [0u8; 20];
        index.seek(SeekFrom::Start(len - 20)).ok()?;
        index.read_exact(&mut trailer).ok()?;
        if trailer.iter().all(|b| *b == 0) {
            return None;
        }
        let hex: String = trailer.iter().map(|b| format!("{b:02x}")).collect();
        Some(Fingerprint(format!(
            "head {head}\tindex {len} {hex}\tconfig {}\tattributes {}",
            FileKey::text(FileKey::of(&common_dir.join("config"))),
            FileKey::text(FileKey::of(&common_dir.join("info").join("attributes"))),
        )))
    }
}

/// The cached answer, if everything it depends on is unchanged.
pub fn lookup(cache: &Path, fingerprint: &Fingerprint, workdir: &Path) -> Option<bool> {
    let text = std::fs::read_to_string(cache).ok()?;
    let mut lines = text.split('\n');
    if lines.next()? != HEADER || lines.next()? != fingerprint.0 {
        return None;
    }
    let answer = match lines.next()? {
        "dirty true" => true,
        "dirty false" => false,
        _ => return None,
    };
    let mut complete = false;
    for line in lines {
        if line == "end" {
            complete = true;
            break;
        }
        let (path, key) = line.split_once('\t')?;
        if FileKey::text(FileKey::of(&workdir.join(path))) != key {
            return None;
        }
    }
    complete.then_some(answer)
}

/// Stores an answer computed after `keys` were taken at `taken` — unless a
/// file changed too recently to be told apart from a later change.
pub fn store(
    cache: &Path,
    fingerprint: &Fingerprint,
    keys: &[(String, Option<FileKey>)],
    answer: bool,
    taken: SystemTime,
) {
    let taken_ns = taken
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    if keys
        .iter()
        .any(|(_, k)| k.is_some_and(|k| k.is_racy(taken_ns)))
    {
        let _ = std::fs::remove_file(cache);
        return;
    }
    let mut out = format!("{HEADER}\n{}\ndirty {answer}\n", fingerprint.0);
    for (path, key) in keys {
        out.push_str(path);
        out.push('\t');
        out.push_str(&FileKey::text(*key));
        out.push('\n');
    }
    out.push_str("end\n");
    write(cache, &out);
}

/// Moves a cached answer from `before` to `after` (when a commit changed
/// only the ledger): nothing happens unless the cache is still `before`'s.
pub fn rekey(cache: &Path, before: &Fingerprint, after: &Fingerprint) {
    let Ok(text) = std::fs::read_to_string(cache) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let (Some(HEADER), Some(old), Some(rest)) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    if old != before.0 {
        return;
    }
    write(cache, &format!("{HEADER}\n{}\n{rest}", after.0));
}

/// Writes the cache through a temp file and a rename; best effort, no
/// fsync: a torn file fails `lookup` and is recomputed.
fn write(cache: &Path, text: &str) {
    let Some(dir) = cache.parent() else {
        return;
    };
    let _ = std::fs::create_dir_all(dir);
    if let Ok(mut tmp) = tempfile::Builder::new()
        .prefix(".dirty-cache-")
        .tempfile_in(dir)
    {
        if tmp.write_all(text.as_bytes()).is_ok() {
            let _ = tmp.persist(cache);
        }
    }
}
