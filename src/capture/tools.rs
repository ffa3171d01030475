//! Tool versions, read in parallel with a timeout: a missing or hanging
//! tool is left out with a warning and never blocks a deployment.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// The arguments that make a tool print its version.
fn version_args(tool: &str) -> &'static [&'static str] {
    match tool {
        "kubectl" => &["version", "--client"],
        "helm" => &["version", "--short"],
        "terraform" | "tofu" => &["version"],
        "go" => &["version"],
        _ => &["--version"],
    }
}

/// Versions of `tools`, and one warning per tool left out.
pub fn versions(tools: &[String], timeout: Duration) -> (BTreeMap<String, String>, Vec<String>) {
    let handles: Vec<_> = tools
        .iter()
        .map(|tool| {
            let tool = tool.clone();
            std::thread::spawn(move || {
                let result = version_of(&tool, timeout);
                (tool, result)
            })
        })
        .collect();
    let mut found = BTreeMap::new();
    let mut warnings = Vec::new();
    for handle in handles {
        match handle.join() {
            Ok((tool, Ok(version))) => {
                found.insert(tool, version);
            }
            Ok((tool, Err(why))) => warnings.push(format!("tool `{tool}` left out: {why}")),
            Err(_) => warnings.push("a tool version check panicked".into()),
        }
    }
    (found, warnings)
}

fn version_of(tool: &str, timeout: Duration) -> Result<String, String> {
    let mut command = Command::new(tool);
    command
        .args(version_args(tool))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that a timeout can end the tool's children
    // too (a wrapper script's `sleep`), not only the tool.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            "not found on PATH".to_string()
        } else {
            e.to_string()
        }
    })?;
    // Read output on threads: a tool that fills the pipe must not deadlock,
    // and a grandchild holding the pipe open must not block us past the timeout.
    let mut stdout = child.stdout.take().expect("stdout was piped");
    let mut stderr = child.stderr.take().expect("stderr was piped");
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        let _ = tx2.send(s);
    });
    match child.wait_timeout(timeout).map_err(|e| e.to_string())? {
        None => {
            kill_tree(&mut child);
            let _ = child.wait();
            Err(format!("no answer within {} ms", timeout.as_millis()))
        }
        Some(_status) => {
            // What the tool left running in its group (a background child
            // holding the pipes open) would keep its output from us: end it.
            // The group outlives the tool while it has members, so its id
            // is not reused yet.
            kill_tree(&mut child);
            let mut out = String::new();
            for _ in 0..2 {
                if let Ok(s) = rx.recv_timeout(Duration::from_millis(200)) {
                    out.push_str(&s);
                    out.push('\n');
                }
            }
            parse_version(&out).ok_or_else(|| "printed no version number".to_string())
        }
    }
}

/// Kills a tool and whatever it started in its process group.
fn kill_tree(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        use rustix::process::{kill_process_group, Pid, Signal};
        // The group's id is the child's pid (process_group(0)); the child is
        // not reaped yet, so the id cannot have been reused.
        if kill_process_group(Pid::from_child(child), Signal::KILL).is_ok() {
            return;
        }
    }
    let _ = child.kill();
}

/// The first dotted number in a tool's output (`Terraform v1.6.0` → 1.6.0).
pub fn parse_version(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit()
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'v')
        {
            let start = i;
            let mut dots = 0;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || (bytes[i] == b'.' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit()))
            {
                if bytes[i] == b'.' {
                    dots += 1;
                }
                i += 1;
            }
            if dots >= 1 {
                // Keep a pre-release suffix like -rc.1 or +build.
                let mut end = i;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || matches!(bytes[end], b'-' | b'+' | b'.'))
                    && bytes[i] != b' '
                {
                    end += 1;
                }
                return Some(
                    text[start..end]
                        .trim_end_matches(['.', '-', '+'])
                        .to_string(),
                );
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            parse_version("Terraform v1.6.0\non linux_amd64").as_deref(),
            Some("1.6.0")
        );
        assert_eq!(
            parse_version("Client Version: v1.29.1").as_deref(),
            Some("1.29.1")
        );
        assert_eq!(
            parse_version("git version 2.47.3").as_deref(),
            Some("2.47.3")
        );
        assert_eq!(
            parse_version("v3.14.0-rc.1+g123").as_deref(),
            Some("3.14.0-rc.1+g123")
        );
        assert_eq!(parse_version("nothing here"), None);
    }
}
