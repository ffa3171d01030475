//! Writing to stdout without panicking on a closed pipe (`list | head`).
//! A closed pipe is not an error of the command: the reader has what it
//! wanted, so the rest of the output is dropped, and the command goes on to
//! its own outcome, which `main` turns into the exit code (`validate | head`
//! with problems still exits 1, under `set -o pipefail` too).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// Set once a write to stdout met a closed pipe; later output is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout; nothing once the reader has closed the pipe.
pub fn print(text: &str) -> Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other.map_err(|e| Error::io("<stdout>", e)),
    }
}

/// Writes `text` and a newline to stdout.
pub fn println(text: &str) -> Result<()> {
    let mut s = String::with_capacity(text.len() + 1);
    s.push_str(text);
    s.push('\n');
    print(&s)
}

/// Writes a value as pretty JSON to stdout.
pub fn json(value: &impl serde::Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text)
}

/// A warning on stderr.
pub fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// Whether colour may be used on stdout: a terminal and no `NO_COLOR`.
pub fn color_stdout() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}
