//! This clone's write lock, `.git/deploy-ledger/lock`: every command that
//! reads a record to write it back (`start`, `phase`, `check`, `finish`,
//! `rollback`, `record`, the GitOps hook) holds it from the read to the
//! write, so concurrent commands are applied one after the other instead of
//! overwriting each other.
//!
//! The lock is an OS lock (`flock`) on the file, so a crashed command never
//! leaves it held; the file holds the holder's pid for `status` and is
//! removed on release. A command waits up to `DEPLOY_LEDGER_LOCK_TIMEOUT`
//! seconds (default 10) for it, then is refused (exit 3).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::ledger::Ledger;

const TIMEOUT_VAR: &str = "DEPLOY_LEDGER_LOCK_TIMEOUT";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(15);

/// Held while alive; released (and the file removed) on drop.
pub struct StateLock {
    path: PathBuf,
    // Closing the file releases the OS lock; it must outlive the removal.
    _file: File,
}

impl StateLock {
    /// Takes this clone's lock, waiting for another command to release it.
    pub fn acquire(ledger: &Ledger) -> Result<StateLock> {
        let timeout = timeout()?;
        let dir = ledger.repo.state_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join("lock");
        let deadline = Instant::now() + timeout;
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            match file.try_lock() {
                // The holder we waited for removes the file before it lets
                // go: a lock on a file no longer at `path` counts for nothing.
                Ok(()) if is_at(&file, &path) => {
                    let mut file = file;
                    let _ = file.set_len(0);
                    let _ = writeln!(file, "{}", std::process::id());
                    return Ok(StateLock { path, _file: file });
                }
                Ok(()) => continue,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(POLL)
                }
                Err(TryLockError::WouldBlock) => {
                    let pid = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = pid.trim();
                    let by = if pid.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {pid})")
                    };
                    return Err(Error::refused(
                        format!(
                            "another deploy-ledger command{by} still holds {} after {:.1} s",
                            path.display(),
                            timeout.as_secs_f64()
                        ),
                        format!(
                            "run this again when it has ended (`deploy-ledger status` shows the lock); \
                             {TIMEOUT_VAR}=SECONDS waits longer"
                        ),
                    ));
                }
                Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Removed while still locked, so no waiter can take a file on its
        // way out (see `is_at`).
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether `file` is the file now at `path` (not one removed since it was
/// opened).
#[cfg(unix)]
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// How long to wait for the lock: `DEPLOY_LEDGER_LOCK_TIMEOUT` seconds.
fn timeout() -> Result<Duration> {
    let Some(text) = std::env::var(TIMEOUT_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(DEFAULT_TIMEOUT);
    };
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| {
            Error::user_hint(
                format!("{TIMEOUT_VAR}=`{text}` is not a number of seconds"),
                format!("e.g. {TIMEOUT_VAR}=30, or unset it for the default (10)"),
            )
        })
}
