//! The repository is found as git finds it: `GIT_DIR` (git sets it for the
//! hooks of a linked work tree), `GIT_WORK_TREE`, `GIT_CEILING_DIRECTORIES`.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::env::TestEnv;

/// A success (14:00–14:10) and a failure (14:20–14:25) of api in
/// production, committed.
fn two_deployments() -> TestEnv {
    let env = TestEnv::new();
    for (status, started, finished) in [
        ("success", "2025-01-15T14:00:00Z", "2025-01-15T14:10:00Z"),
        ("failed", "2025-01-15T14:20:00Z", "2025-01-15T14:25:00Z"),
    ] {
        env.ok(&[
            "record",
            "--service",
            "api",
            "--env",
            "production",
            "--status",
            status,
            "--started",
            started,
            "--finished",
            finished,
            "--commit",
        ]);
    }
    env
}

/// deploy-ledger `args` in `dir`, with git's `vars` on top of the
/// hermetic environment.
fn run_in(env: &TestEnv, dir: &Path, vars: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut cmd = env.cmd();
    cmd.current_dir(dir).args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("runs")
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn git_in(env: &TestEnv, dir: &Path, args: &[&str]) {
    let mut cmd = std::process::Command::new("git");
    env.apply_env(&mut cmd);
    let out = cmd.current_dir(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn git_dir_names_the_repository_wherever_the_command_runs() {
    let env = two_deployments();
    let dir = env.dir.path();
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let bare = dir.join("bare.git");
    git_in(
        &env,
        dir,
        &[
            "clone",
            "-q",
            "--bare",
            env.repo.to_str().expect("utf-8"),
            "bare.git",
        ],
    );
    let analytics = ["analytics", "--format", "json"];

    // A bare clone: the same report as inside it.
    let inside: Value =
        serde_json::from_str(&stdout_of(&run_in(&env, &bare, &[], &analytics))).expect("json");
    let via_env: Value = serde_json::from_str(&stdout_of(&run_in(
        &env,
        &outside,
        &[("GIT_DIR", &bare)],
        &analytics,
    )))
    .expect("json");
    assert_eq!(via_env, inside);
    assert_eq!(via_env["summary"]["total"], 2);
    assert_eq!(via_env["summary"]["success_rate"], 0.5);
    assert_eq!(
        via_env["dora"]["production"]["change_failure_rate"]["failed"],
        1
    );

    // A clone's .git: its work tree is the clone's, the current folder is
    // not written to.
    let dot_git = env.repo.join(".git");
    let git_dir = [("GIT_DIR", dot_git.as_path())];
    let list = stdout_of(&run_in(&env, &outside, &git_dir, &["list"]));
    assert_eq!(list.lines().count(), 3, "a header and two records: {list}");
    stdout_of(&run_in(
        &env,
        &outside,
        &git_dir,
        &["start", "--service", "web", "--env", "staging"],
    ));
    assert_eq!(env.records().len(), 3);
    assert_eq!(
        std::fs::read_dir(&outside).expect("read").count(),
        0,
        "nothing written where the command ran"
    );

    // A bare repository with GIT_WORK_TREE (git checks files out there):
    // records go to that work tree, and its uncommitted ones join the report.
    let checkout = dir.join("checkout");
    std::fs::create_dir_all(&checkout).expect("mkdir");
    let vars = [("GIT_DIR", bare.as_path()), ("GIT_WORK_TREE", &checkout)];
    let mut git = std::process::Command::new("git");
    env.apply_env(&mut git);
    let out = git
        .current_dir(&outside)
        .envs(vars)
        .args(["checkout", "-q", "-f", "main"])
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&run_in(
        &env,
        &outside,
        &vars,
        &["start", "--service", "db", "--env", "staging"],
    ));
    assert!(checkout
        .join("deployments/checklists/2025/01/DEP-2025-01-15-14-30-db-staging.md")
        .is_file());
    let r: Value =
        serde_json::from_str(&stdout_of(&run_in(&env, &outside, &vars, &analytics))).expect("json");
    assert_eq!(r["summary"]["total"], 3);
    assert_eq!(r["summary"]["uncommitted"], 1);

    // A GIT_DIR that is no repository is named as such.
    let nothing = dir.join("nothing");
    let out = run_in(&env, &outside, &[("GIT_DIR", &nothing)], &["list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!(
            "error: GIT_DIR=`{}` is not a git repository\nhint: point GIT_DIR at a repository (its .git folder, or a bare clone), or unset it\n",
            nothing.display()
        )
    );
}

#[test]
fn the_search_stops_at_git_ceiling_directories() {
    let env = two_deployments();
    env.write("sub/file", "x\n");
    let sub = env.repo.join("sub");
    stdout_of(&run_in(&env, &sub, &[], &["list"]));
    let out = run_in(
        &env,
        &sub,
        &[("GIT_CEILING_DIRECTORIES", &env.repo)],
        &["list"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "error: {} is not inside a git repository\n",
            sub.display()
        )),
        "{err}"
    );
}
