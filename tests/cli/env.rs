//! `TestEnv`: a temp dir with its own HOME, XDG config, git config, time
//! zone and a clock advanced per command, so every output is reproducible.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Runs `cmd`, asserting that it succeeds (its stderr in the failure).
pub fn succeeds(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Waits for `children`, asserting that each succeeded.
pub fn all_succeed(children: Vec<std::process::Child>) {
    for child in children {
        let out = child.wait_with_output().expect("waits");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub struct TestEnv {
    pub dir: tempfile::TempDir,
    /// The repository the commands run in.
    pub repo: PathBuf,
    /// The clock, RFC 3339, passed as DEPLOY_LEDGER_NOW.
    pub now: String,
}

impl TestEnv {
    /// A new git repository with one commit, clock at 2025-01-15T14:30:00Z.
    pub fn new() -> TestEnv {
        let env = TestEnv::empty();
        env.write("README.md", "hello\n");
        env.git(&["add", "README.md"]);
        env.git(&["commit", "-q", "-m", "initial"]);
        env
    }

    /// A new git repository without any commit.
    pub fn empty() -> TestEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).expect("mkdir repo");
        std::fs::create_dir_all(dir.path().join("home/.config")).expect("mkdir home");
        std::fs::write(dir.path().join("gitconfig"), "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n")
            .expect("gitconfig");
        let env = TestEnv {
            dir,
            repo,
            now: "2025-01-15T14:30:00Z".into(),
        };
        env.git(&["init", "-q"]);
        env
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Sets the clock.
    pub fn at(&mut self, rfc3339: &str) -> &mut Self {
        self.now = rfc3339.to_string();
        self
    }

    pub fn apply_env(&self, cmd: &mut std::process::Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("GIT_CONFIG_GLOBAL", self.dir.path().join("gitconfig"))
            .env("GIT_CONFIG_SYSTEM", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", &self.now)
            .env("GIT_COMMITTER_DATE", &self.now)
            .env("TZ", "UTC")
            .env("LANG", "C.UTF-8")
            .env("USER", "tester")
            .env("DEPLOY_LEDGER_NOW", &self.now);
    }

    /// The deploy-ledger binary, in the repository, with the hermetic env.
    pub fn cmd(&self) -> Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("deploy-ledger"));
        self.apply_env(&mut cmd);
        cmd.current_dir(&self.repo);
        Command::from_std(cmd)
    }

    /// Starts deploy-ledger with `args` in the background (for commands run
    /// at once); stderr is kept for [`all_succeed`].
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("deploy-ledger"));
        self.apply_env(&mut cmd);
        cmd.current_dir(&self.repo)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawns")
    }

    /// Runs deploy-ledger with `args` and returns its output (any exit code).
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("runs")
    }

    /// Runs deploy-ledger with stdout a pipe whose reading end is already
    /// closed (`… | head` after it exited): the first write fails with EPIPE.
    pub fn run_into_closed_pipe(&self, args: &[&str]) -> Output {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("deploy-ledger"));
        self.apply_env(&mut cmd);
        cmd.current_dir(&self.repo)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .output()
            .expect("runs")
    }

    /// Runs deploy-ledger and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "deploy-ledger {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs deploy-ledger expecting exit `code`; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "deploy-ledger {args:?}:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Runs deploy-ledger with `args` (`--json` among them), asserting
    /// success and that stdout is exactly one JSON object; returns it.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        let value: serde_json::Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("deploy-ledger {args:?}: not one JSON value ({e}):\n{out}"));
        assert!(value.is_object(), "{out}");
        value
    }

    /// Runs deploy-ledger expecting exit `code` and nothing on stdout;
    /// returns stderr.
    pub fn fails_quietly(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "deploy-ledger {args:?}:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "",
            "deploy-ledger {args:?}: stdout"
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// What a command may change: every record file with its text, this
    /// clone's current-deployment pointer, and `git status`. Equal before
    /// and after a failed command means it left nothing behind.
    pub fn snapshot(&self) -> (Vec<(String, String)>, Option<String>, String) {
        let records = self
            .records()
            .into_iter()
            .map(|r| {
                let text = self.read(&r);
                (r, text)
            })
            .collect();
        let pointer = std::fs::read_to_string(self.path(".git/deploy-ledger/current")).ok();
        let status = self.git(&["status", "--porcelain", "--untracked-files=all"]);
        (records, pointer, status)
    }

    /// Runs git in the repository with the same environment; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let mut cmd = std::process::Command::new("git");
        self.apply_env(&mut cmd);
        let out = cmd
            .args(args)
            .current_dir(&self.repo)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.repo.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Every record file, relative to the repository, sorted.
    pub fn records(&self) -> Vec<String> {
        let base = self.path("deployments/checklists");
        let mut out: Vec<String> = walk(&base)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .map(|p| {
                p.strip_prefix(&self.repo)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        out.sort();
        out
    }

    /// The only record's text.
    pub fn only_record(&self) -> String {
        let records = self.records();
        assert_eq!(records.len(), 1, "records: {records:?}");
        self.read(&records[0])
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
