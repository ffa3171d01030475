//! `hooks install|uninstall` and the pre-push hook, run by real `git push`
//! to a bare repository in the test's temp dir.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::env::TestEnv;

const HOOK: &str = ".git/hooks/pre-push";
const FOREIGN: &str = "#!/bin/sh\necho 'the team hook'\n";

/// The folder of the built binary, for the hook's PATH.
fn bin_dir() -> PathBuf {
    assert_cmd::cargo::cargo_bin("deploy-ledger")
        .parent()
        .expect("binary has a folder")
        .to_path_buf()
}

fn path_with_bin() -> std::ffi::OsString {
    let mut paths = vec![bin_dir()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("joins")
}

/// A bare repository next to the work tree, as `origin`.
fn with_origin(env: &TestEnv) -> PathBuf {
    let bare = env.dir.path().join("origin.git");
    let out = std::process::Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(&bare)
        .output()
        .expect("git init --bare");
    assert!(out.status.success());
    env.git(&[
        "remote",
        "add",
        "origin",
        bare.to_str().expect("utf-8 path"),
    ]);
    bare
}

/// `git push ARGS` with deploy-ledger on PATH (or `path` instead).
fn push_with(env: &TestEnv, args: &[&str], path: Option<&std::ffi::OsStr>) -> Output {
    let mut cmd = std::process::Command::new("git");
    env.apply_env(&mut cmd);
    cmd.env(
        "PATH",
        path.map(|p| p.to_os_string()).unwrap_or_else(path_with_bin),
    );
    cmd.arg("push").args(args).current_dir(&env.repo);
    cmd.output().expect("git push runs")
}

fn push(env: &TestEnv, args: &[&str]) -> Output {
    push_with(env, args, None)
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn rev(git_dir: &Path, rev: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(["rev-parse", "--verify", "-q", rev])
        .output()
        .expect("git rev-parse");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn install_writes_an_executable_hook_and_is_idempotent() {
    let env = TestEnv::new();
    let out = env.run(&["hooks", "install"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("installed ") && stdout.contains("pre-push"),
        "{stdout}"
    );
    // The test's PATH has no deploy-ledger: the user is told.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning: deploy-ledger is not on PATH"),
        "{}",
        text(&out)
    );
    let out = env
        .cmd()
        .env("PATH", path_with_bin())
        .args(["hooks", "install"])
        .output()
        .expect("runs");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("not on PATH"),
        "{}",
        text(&out)
    );
    let hook = env.read(HOOK);
    assert!(
        hook.starts_with("#!/bin/sh\n# deploy-ledger hook: pre-push\n"),
        "{hook}"
    );
    assert_eq!(mode(&env.path(HOOK)), 0o755);
    let out = env.ok(&["hooks", "install"]);
    assert!(out.contains("is already installed"), "{out}");
    // An older version of ours is updated in place, mode restored.
    env.write(HOOK, "#!/bin/sh\n# deploy-ledger hook: pre-push\nexit 0\n");
    let out = env.ok(&["hooks", "install"]);
    assert!(out.contains("updated "), "{out}");
    assert_eq!(env.read(HOOK), hook);
    assert_eq!(mode(&env.path(HOOK)), 0o755);
    let out = env.ok(&["hooks", "uninstall"]);
    assert!(out.contains("removed "), "{out}");
    assert!(!env.path(HOOK).exists());
    let out = env.ok(&["hooks", "uninstall"]);
    assert!(out.contains("is not installed"), "{out}");
}

#[test]
fn a_foreign_hook_is_refused_then_backed_up_with_force_and_restored() {
    let env = TestEnv::new();
    env.write(HOOK, FOREIGN);
    let err = env.fails(&["hooks", "install"], 3);
    assert!(
        err.contains("exists and is not deploy-ledger's: not overwritten"),
        "{err}"
    );
    assert!(err.contains("hint: pass --force"), "{err}");
    assert_eq!(env.read(HOOK), FOREIGN);
    // Uninstall leaves a foreign hook alone.
    let out = env.ok(&["hooks", "uninstall"]);
    assert!(
        out.contains("is not deploy-ledger's: left as it is"),
        "{out}"
    );
    assert_eq!(env.read(HOOK), FOREIGN);

    let out = env.ok(&["hooks", "install", "--force"]);
    assert!(out.contains("moved the existing"), "{out}");
    assert_eq!(
        env.read(".git/hooks/pre-push.deploy-ledger-backup"),
        FOREIGN
    );
    assert!(env.read(HOOK).contains("# deploy-ledger hook: pre-push"));
    // A second --force must not overwrite the backup with our own hook.
    env.ok(&["hooks", "install", "--force"]);
    assert_eq!(
        env.read(".git/hooks/pre-push.deploy-ledger-backup"),
        FOREIGN
    );

    let out = env.ok(&["hooks", "uninstall"]);
    assert!(out.contains("restored "), "{out}");
    assert_eq!(env.read(HOOK), FOREIGN);
    assert!(!env
        .path(".git/hooks/pre-push.deploy-ledger-backup")
        .exists());
}

#[test]
fn install_honours_core_hooks_path_and_worktrees() {
    let env = TestEnv::new();
    env.git(&["config", "core.hooksPath", ".githooks"]);
    env.ok(&["hooks", "install"]);
    assert!(env
        .read(".githooks/pre-push")
        .contains("# deploy-ledger hook"));
    assert!(!env.path(HOOK).exists());
    env.git(&["config", "--unset", "core.hooksPath"]);

    // From a linked work tree, hooks go to the common git dir.
    let linked = env.dir.path().join("linked");
    env.git(&[
        "worktree",
        "add",
        "-q",
        linked.to_str().expect("utf-8"),
        "-b",
        "other",
    ]);
    let out = env
        .cmd()
        .current_dir(&linked)
        .args(["hooks", "install"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out));
    assert!(env.read(HOOK).contains("# deploy-ledger hook"));
}

#[test]
fn hooks_outside_a_repository_say_so() {
    let env = TestEnv::new();
    let outside = env.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let ceiling = env.dir.path().to_str().expect("utf-8").to_string();
    for args in [
        &["hooks", "install"][..],
        &["hooks", "pushed", "refs/heads/main", "HEAD"],
    ] {
        let out = env
            .cmd()
            .current_dir(&outside)
            .env("GIT_CEILING_DIRECTORIES", &ceiling)
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not inside a git repository"),
            "{}",
            text(&out)
        );
    }

    // The script itself, run by hand outside a repository.
    env.ok(&["hooks", "install"]);
    let script = outside.join("pre-push");
    std::fs::copy(env.path(HOOK), &script).expect("copy");
    let mut cmd = std::process::Command::new("sh");
    env.apply_env(&mut cmd);
    let out = cmd
        .arg(&script)
        .arg("origin")
        .env("PATH", path_with_bin())
        .env("GIT_CEILING_DIRECTORIES", &ceiling)
        .current_dir(&outside)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("deploy-ledger pre-push: not inside a git repository"),
        "{}",
        text(&out)
    );
}

#[test]
fn push_without_deploy_ledger_on_path_is_refused_with_a_clear_message() {
    let env = TestEnv::new();
    let bare = with_origin(&env);
    env.ok(&["hooks", "install"]);
    let git_dir = Path::new("/usr/bin:/bin");
    let out = push_with(&env, &["-q", "origin", "main"], Some(git_dir.as_os_str()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`deploy-ledger` is not on PATH"),
        "{}",
        text(&out)
    );
    assert_eq!(rev(&bare, "refs/heads/main"), None, "nothing pushed");
}

#[test]
fn a_valid_push_goes_through_and_warns_about_deployments_in_progress() {
    let env = TestEnv::new();
    let bare = with_origin(&env);
    env.ok(&["hooks", "install"]);
    env.ok(&["start", "--service", "api", "--env", "staging", "--commit"]);
    let out = push(&env, &["-q", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: DEP-2025-01-15-14-30-api-staging (api in staging) is still in progress in the pushed commit"), "{stderr}");
    assert_eq!(
        rev(&bare, "refs/heads/main"),
        Some(env.git(&["rev-parse", "HEAD"]).trim().to_string())
    );
    // Deleting a remote branch is not checked.
    push(&env, &["-q", "origin", "main:other"]);
    let out = push(&env, &["-q", "origin", ":other"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_push_of_a_broken_record_is_refused_with_the_problem_listed() {
    let env = TestEnv::new();
    let bare = with_origin(&env);
    env.ok(&["hooks", "install"]);
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.ok(&["finish"]);
    let path = env.records()[0].clone();
    let broken = env
        .read(&path)
        .replace("status: success\n", "status: exploded\n");
    env.write(&path, &broken);
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "a broken record"]);
    let out = push(&env, &["-q", "origin", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains(&format!("{path}:")),
        "the problem names the file: {all}"
    );
    assert!(all.contains("exploded"), "{all}");
    assert!(all.contains("push refused"), "{all}");
    assert_eq!(rev(&bare, "refs/heads/main"), None, "nothing pushed");

    // The same script through `hooks run` (for lefthook and other managers),
    // with the binary that runs it, on PATH or not.
    let head = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    let zero = "0".repeat(40);
    let out = env
        .cmd()
        .args(["hooks", "run", "pre-push", "origin", "/dev/null"])
        .write_stdin(format!("refs/heads/main {head} refs/heads/main {zero}\n"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("{path}:")), "{}", text(&out));
    // A deletion is not checked.
    let out = env
        .cmd()
        .args(["hooks", "run", "pre-push", "origin", "/dev/null"])
        .write_stdin(format!("(delete) {zero} refs/heads/old {head}\n"))
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out));
    let err = env.fails(&["hooks", "run", "post-nothing"], 2);
    assert!(err.contains("no hook named `post-nothing`"), "{err}");

    // Once the remote has it (--no-verify), later pushes check only the
    // records they add or change: an unrelated push goes through...
    let out = push(&env, &["-q", "--no-verify", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    env.write("app.txt", "v2\n");
    env.git(&["add", "app.txt"]);
    env.git(&["commit", "-q", "-m", "unrelated"]);
    let out = push(&env, &["-q", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    // ... and one that touches the broken record again is refused.
    env.write(
        &path,
        &broken.replace("## Notes\n", "## Notes\n\nStill broken.\n"),
    );
    env.git(&["commit", "-q", "-am", "touch the broken record"]);
    let out = push(&env, &["-q", "origin", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("{path}:")), "{}", text(&out));
}

/// In a linked work tree git runs the hook with `GIT_DIR` set (to the work
/// tree's own git dir): the hook checks that work tree's records.
#[test]
fn the_pre_push_hook_checks_the_records_of_a_linked_work_tree() {
    let env = TestEnv::new();
    let bare = with_origin(&env);
    env.ok(&["hooks", "install"]);
    let linked = env.dir.path().join("linked");
    env.git(&[
        "worktree",
        "add",
        "-q",
        linked.to_str().expect("utf-8"),
        "-b",
        "other",
    ]);
    let in_linked = |args: &[&str]| {
        let out = env
            .cmd()
            .current_dir(&linked)
            .args(args)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", text(&out));
    };
    in_linked(&["start", "--service", "api", "--env", "staging"]);
    in_linked(&["finish", "--commit"]);
    let git_push = || {
        let mut cmd = std::process::Command::new("git");
        env.apply_env(&mut cmd);
        cmd.env("PATH", path_with_bin())
            .args(["push", "-q", "origin", "other"])
            .current_dir(linked.join("deployments"))
            .output()
            .expect("git push runs")
    };
    let out = git_push();
    assert!(out.status.success(), "{}", text(&out));
    let pushed = rev(&bare, "refs/heads/other").expect("pushed");

    let path = "deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-staging.md";
    let record = linked.join(path);
    let text_of = std::fs::read_to_string(&record).expect("the record");
    std::fs::write(
        &record,
        text_of.replace("status: success\n", "status: exploded\n"),
    )
    .expect("write");
    let mut commit = std::process::Command::new("git");
    env.apply_env(&mut commit);
    let out = commit
        .args(["commit", "-q", "-am", "a broken record"])
        .current_dir(&linked)
        .output()
        .expect("git commit runs");
    assert!(out.status.success(), "{}", text(&out));
    let out = git_push();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains(&format!("{path}:")), "{all}");
    assert!(all.contains("unknown status `exploded`"), "{all}");
    assert_eq!(
        rev(&bare, "refs/heads/other"),
        Some(pushed),
        "nothing pushed"
    );
}

/// An origin, the hooks installed, and one finished record committed and
/// pushed through the pre-push hook; returns the origin's path.
fn with_a_pushed_record(env: &TestEnv) -> PathBuf {
    let bare = with_origin(env);
    env.ok(&["hooks", "install"]);
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.ok(&["finish", "--commit"]);
    let out = push(env, &["-q", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    bare
}

#[test]
fn a_push_adding_a_markdown_file_that_is_not_a_record_goes_through() {
    let env = TestEnv::new();
    let bare = with_a_pushed_record(&env);
    // A README next to the records is not a record (no frontmatter), as
    // `validate` without paths says; the hook names it as a changed path.
    let readme = "deployments/checklists/README.md";
    env.write(readme, "# How we deploy\n");
    env.git(&["add", readme]);
    env.git(&["commit", "-q", "-m", "docs"]);
    let out = push(&env, &["-q", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("frontmatter"), "{}", text(&out));
    assert_eq!(
        rev(&bare, "refs/heads/main"),
        Some(env.git(&["rev-parse", "HEAD"]).trim().to_string())
    );
    // Named by hand, it is still a file that should have been a record...
    let err = env.fails(&["validate", "--rev", "HEAD", readme], 1);
    assert!(err.contains("1 problem in 1 record checked"), "{err}");
    let out = env.run(&["validate", readme]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no frontmatter"));
    // ... unless --skip-non-records says the paths are only candidates.
    for args in [
        &["validate", "--skip-non-records", "--rev", "HEAD", readme][..],
        &["validate", "--skip-non-records", readme],
    ] {
        let out = env.run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "0 records checked, no problems\n"
        );
    }
    // A broken record pushed with another README is still refused, and
    // only the record is named.
    let path = env
        .records()
        .into_iter()
        .find(|p| p != readme)
        .expect("record");
    env.write(
        &path,
        &env.read(&path)
            .replace("status: success\n", "status: exploded\n"),
    );
    env.write(
        "deployments/checklists/2025/README.md",
        "Records of 2025.\n",
    );
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "broken, and docs"]);
    let out = push(&env, &["-q", "origin", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("{path}:")), "{}", text(&out));
    assert!(!text(&out).contains("README"), "{}", text(&out));
}

#[test]
fn the_pre_push_hook_works_with_a_binary_older_than_skip_non_records() {
    let env = TestEnv::new();
    let bare = with_a_pushed_record(&env);
    // A deploy-ledger on PATH that predates the flag (the hook was written
    // by a newer one): it refuses it as clap does, and its help lacks it.
    let old = env.dir.path().join("old-bin");
    std::fs::create_dir_all(&old).expect("mkdir");
    let real = assert_cmd::cargo::cargo_bin("deploy-ledger");
    let script = old.join("deploy-ledger");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             for a in \"$@\"; do\n\
             \t[ \"$a\" = --skip-non-records ] && {{ echo \"error: unexpected argument '--skip-non-records' found\" >&2; exit 2; }}\n\
             done\n\
             if [ \"$*\" = 'validate --help' ]; then '{real}' validate --help | grep -v -e --skip-non-records; exit 0; fi\n\
             exec '{real}' \"$@\"\n",
            real = real.display()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut paths = vec![old];
    paths.extend(std::env::split_paths(&path_with_bin()));
    let path = std::env::join_paths(paths).expect("joins");
    let readme = "deployments/checklists/README.md";
    env.write(readme, "# How we deploy\n");
    env.git(&["add", readme]);
    env.git(&["commit", "-q", "-m", "docs"]);
    let out = push_with(&env, &["-q", "origin", "main"], Some(&path));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        rev(&bare, "refs/heads/main"),
        Some(env.git(&["rev-parse", "HEAD"]).trim().to_string())
    );
    // It still refuses a broken record: every record of the commit is checked.
    let record = env
        .records()
        .into_iter()
        .find(|p| p != readme)
        .expect("record");
    env.write(
        &record,
        &env.read(&record)
            .replace("status: success\n", "status: exploded\n"),
    );
    env.git(&["commit", "-q", "-am", "broken"]);
    let out = push_with(&env, &["-q", "origin", "main"], Some(&path));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("{record}:")), "{}", text(&out));
    assert!(
        !text(&out).contains("unexpected argument"),
        "{}",
        text(&out)
    );
}

#[test]
fn gitops_mode_records_a_push_of_a_configured_branch() {
    let mut env = TestEnv::new();
    let bare = with_origin(&env);
    env.write(
        "deployments/ledger.toml",
        "[gitops]\nbranches = [\"production\"]\nservice = \"shop\"\n",
    );
    env.git(&["add", "deployments/ledger.toml"]);
    env.git(&["commit", "-q", "-m", "gitops"]);
    env.ok(&["hooks", "install"]);
    let head = env.git(&["rev-parse", "HEAD"]).trim().to_string();

    // Another branch: nothing recorded.
    let out = push(&env, &["-q", "origin", "main"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(env.records().is_empty());

    env.at("2025-01-15T16:00:00Z");
    let out = push(&env, &["-q", "origin", "main:production"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("GitOps mode: recorded DEP-2025-01-15-16-00-shop-production"),
        "{}",
        text(&out)
    );
    assert_eq!(rev(&bare, "refs/heads/production"), Some(head.clone()));
    let record = env.only_record();
    assert!(record.contains("status: success\n"), "{record}");
    assert!(record.contains("environment: production\n"), "{record}");
    assert!(
        record.contains("started_at: 2025-01-15T16:00:00Z\nfinished_at: 2025-01-15T16:00:00Z\n"),
        "{record}"
    );
    assert!(
        record.contains(&format!("git: {{ commit: {head}, branch: production }}")),
        "{record}"
    );
    assert!(
        record.contains("labels: { trigger: gitops-push }\n"),
        "{record}"
    );
    // Written to the work tree, not committed (a pre-push hook cannot add to its push).
    let status = env.git(&["status", "--porcelain"]);
    assert!(status.starts_with("?? deployments/checklists/"), "{status}");

    // The same commit pushed again (to another branch matching) records nothing.
    env.write(
        "deployments/ledger.toml",
        "[gitops]\nbranches = [\"production\", \"prod-*\"]\nservice = \"shop\"\n",
    );
    env.at("2025-01-15T17:00:00Z");
    let out = push(&env, &["-q", "origin", "main:prod-eu"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        env.records().len(),
        2,
        "prod-eu is another environment: {}",
        text(&out)
    );
    let out = push(&env, &["-q", "-f", "origin", "main~1:production"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = push(&env, &["-q", "-f", "origin", "main:production"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already records"),
        "{}",
        text(&out)
    );
    assert_eq!(
        env.records().len(),
        3,
        "main~1 was recorded once, main not twice"
    );
}

/// README's own example: a glob of branches and no `environment`. The
/// environment is the branch's last path component, the version the short
/// commit id, and in-progress warnings still come.
#[test]
fn gitops_branch_glob_records_the_last_path_component_as_environment() {
    let mut env = TestEnv::new();
    let _bare = with_origin(&env);
    env.write(
        "deployments/ledger.toml",
        "[gitops]\nbranches = [\"production\", \"env/*\"]\nservice = \"shop\"\n",
    );
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "gitops, and a deployment in progress"]);
    env.ok(&["hooks", "install"]);
    let head = env.git(&["rev-parse", "HEAD"]).trim().to_string();

    env.at("2025-01-15T16:00:00Z");
    let out = push(&env, &["-q", "origin", "main:env/staging"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GitOps mode: recorded DEP-2025-01-15-16-00-shop-staging"),
        "{}",
        text(&out)
    );
    assert!(
        stderr.contains("DEP-2025-01-15-14-30-api-staging (api in staging) is still in progress"),
        "{}",
        text(&out)
    );
    let path = "deployments/checklists/2025/01/DEP-2025-01-15-16-00-shop-staging.md";
    let record = env.read(path);
    assert!(record.contains("environment: staging\n"), "{record}");
    assert!(
        record.contains(&format!("version: {}\n", &head[..12])),
        "the version defaults to the short commit id: {record}"
    );
    assert!(
        record.contains(&format!("git: {{ commit: {head}, branch: env/staging }}")),
        "{record}"
    );
    // What it wrote passes validate.
    env.ok(&["validate", "--allow-stale"]);
}

/// A [gitops] section that could never record is refused when the
/// configuration loads, with its file and line; one that fails only for
/// some pushed branch leaves the push and its warnings alone.
#[test]
fn gitops_config_that_can_never_work_is_refused_at_load() {
    let env = TestEnv::new();
    for (toml, line, what) in [
        (
            "[gitops]\nbranches = [\"production\"]\n",
            2,
            "[gitops] service is not",
        ),
        (
            "[gitops]\nservice = \"shop\"\nbranches = [\n  \"main\",\n  \"Prod\",\n]\n",
            5,
            "branch `Prod` would record the environment `Prod`",
        ),
        (
            "[gitops]\nbranches = [\"Release-*\"]\nservice = \"shop\"\n",
            2,
            "branch `Release-*`",
        ),
        (
            "[gitops]\nbranches = [\"main\"]\nservice = \"Shop Front\"\n",
            3,
            "service `Shop Front` is not a slug",
        ),
        (
            "[gitops]\nbranches = [\"main\"]\nservice = \"shop\"\nenvironment = \"prod/eu\"\n",
            4,
            "environment `prod/eu` is not a slug",
        ),
    ] {
        env.write("deployments/ledger.toml", toml);
        let err = env.fails(&["list"], 1);
        assert!(
            err.starts_with("error: /")
                && err.contains(&format!(
                    "deployments/ledger.toml: invalid configuration: line {line}: "
                )),
            "{toml}: {err}"
        );
        assert!(err.contains(what), "{toml}: {err}");
        assert!(err.contains("\nhint: "), "{err}");
    }
    // A mapping through [environments] or [gitops] environment makes it work.
    for toml in [
        "[gitops]\nbranches = [\"Prod\"]\nservice = \"shop\"\nenvironment = \"production\"\n",
        "[environments.production]\nbranches = [\"Prod\"]\n[gitops]\nbranches = [\"Prod\"]\nservice = \"shop\"\n",
    ] {
        env.write("deployments/ledger.toml", toml);
        env.ok(&["list"]);
    }
}

/// A branch that matches a glob but gives no slug (`env/QA`): nothing is
/// recorded, the push goes on, and the in-progress warnings still come.
#[test]
fn gitops_branch_without_a_slug_is_reported_and_the_push_goes_on() {
    let env = TestEnv::new();
    let bare = with_origin(&env);
    env.write(
        "deployments/ledger.toml",
        "[gitops]\nbranches = [\"env/*\"]\nservice = \"shop\"\n",
    );
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "gitops"]);
    env.ok(&["hooks", "install"]);
    let out = push(&env, &["-q", "origin", "main:env/QA"]);
    assert!(out.status.success(), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("is still in progress"), "{all}");
    assert!(
        all.contains("environment `QA`, which is not a slug"),
        "{all}"
    );
    assert!(all.contains("set [gitops] environment"), "{all}");
    assert!(rev(&bare, "refs/heads/env/QA").is_some());
    assert_eq!(env.records().len(), 1, "only the started one");
}

#[test]
fn hooks_path_json_names_each_hook_and_its_state() {
    let env = TestEnv::new();
    let state = |env: &TestEnv| {
        let v = env.json(&["hooks", "path", "--json"]);
        let hooks = v["hooks"].as_array().expect("hooks").clone();
        assert_eq!(hooks.len(), 1, "{v}");
        assert_eq!(hooks[0]["name"], "pre-push");
        let path = PathBuf::from(hooks[0]["path"].as_str().expect("path"));
        let dir = PathBuf::from(v["dir"].as_str().expect("dir"));
        assert_eq!(path, dir.join("pre-push"));
        assert_eq!(
            path.canonicalize().ok(),
            env.path(HOOK).canonicalize().ok(),
            "the path is the hook's file (once it exists)"
        );
        hooks[0]["state"].as_str().expect("state").to_string()
    };
    assert_eq!(state(&env), "not-installed");
    env.ok(&["hooks", "install"]);
    assert_eq!(state(&env), "installed");
    env.write(HOOK, FOREIGN);
    assert_eq!(state(&env), "other");
}
