//! `init`: the files it writes, idempotence, --force, and the mise and make
//! tasks, run for real with mise and make.

use crate::env::TestEnv;
use std::path::PathBuf;
use std::process::Command;

const FILES: [&str; 3] = [
    "deployments/ledger.toml",
    "deployments/templates/checklist.md.j2",
    "deployments/checklists/.gitkeep",
];

#[test]
fn init_writes_defaults_and_is_idempotent() {
    let env = TestEnv::new();
    let out = env.ok(&["init"]);
    for f in FILES {
        assert!(out.contains(&format!("created   {f}")), "{out}");
        assert!(env.path(f).exists(), "{f}");
    }
    assert_eq!(
        env.read("deployments/ledger.toml"),
        include_str!("../../templates/ledger.toml")
    );
    assert_eq!(
        env.read("deployments/templates/checklist.md.j2"),
        include_str!("../../templates/checklist.md.j2")
    );
    // Without --mise/--make the snippets are printed, not written.
    assert!(out.contains("[tasks.deployment-start]"), "{out}");
    assert!(out.contains("deployment-phase-validation:"), "{out}");
    assert!(!env.path("mise.toml").exists());
    assert!(!env.path("Makefile").exists());

    insta::assert_snapshot!("init_output", out);

    let again = env.ok(&["init"]);
    assert!(
        again.contains("nothing to do: this repository is already set up"),
        "{again}"
    );
    assert!(!again.contains("created"), "{again}");
    // Works from a subfolder, like git.
    std::fs::create_dir_all(env.path("src/deep")).expect("mkdir");
    let out = env
        .cmd()
        .arg("init")
        .current_dir(env.path("src/deep"))
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(!env.path("src/deep/deployments").exists());
}

#[test]
fn init_never_overwrites_without_force() {
    let env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "# mine\nphases = [\"build\", \"ship\"]\n",
    );
    let out = env.ok(&["init"]);
    assert!(
        out.contains(
            "kept      deployments/ledger.toml (it differs from the default; --force rewrites it)"
        ),
        "{out}"
    );
    assert_eq!(
        env.read("deployments/ledger.toml"),
        "# mine\nphases = [\"build\", \"ship\"]\n"
    );
    // The printed tasks follow the repository's phases.
    assert!(out.contains("deployment-phase-ship"), "{out}");
    let out = env.ok(&["init", "--force"]);
    assert!(out.contains("rewrote   deployments/ledger.toml"), "{out}");
    assert_eq!(
        env.read("deployments/ledger.toml"),
        include_str!("../../templates/ledger.toml")
    );
}

#[test]
fn init_refuses_a_broken_config_and_writes_nothing() {
    let env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "phases = [\"a\"\ncommit = true\n",
    );
    let err = env.fails(&["init", "--mise", "--make"], 1);
    assert!(err.contains("deployments/ledger.toml"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(!env.path("deployments/templates").exists());
    assert!(!env.path("mise.toml").exists());
    assert!(!env.path("Makefile").exists());
}

#[test]
fn init_outside_a_repository_fails() {
    let env = TestEnv::new();
    let outside = env.dir.path().join("plain");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let out = env
        .cmd()
        .arg("init")
        .current_dir(&outside)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not inside a git repository"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert!(!outside.join("deployments").exists());
}

#[test]
fn init_mise_keeps_the_users_file() {
    let env = TestEnv::new();
    let mine = "# my tools\n[tools]\nnode = \"20\"\n\n[tasks.build]\nrun = \"cargo build\"\n\n[tasks.deployment-finish]\nrun = \"echo my own finish\"\n";
    env.write("mise.toml", mine);
    let out = env.ok(&["init", "--mise"]);
    assert!(
        out.contains("created   mise.toml task deployment-start"),
        "{out}"
    );
    assert!(
        out.contains("kept      mise.toml task deployment-finish"),
        "{out}"
    );
    let text = env.read("mise.toml");
    assert!(
        text.starts_with(mine),
        "the user's part is untouched:\n{text}"
    );
    assert!(
        text.contains("[tasks.deployment-phase-execution]\n"),
        "{text}"
    );
    let again = env.ok(&["init", "--mise"]);
    assert_eq!(env.read("mise.toml"), text, "second run changes nothing");
    assert!(!again.contains("created"), "{again}");
    env.ok(&["init", "--mise", "--force"]);
    let forced = env.read("mise.toml");
    assert!(!forced.contains("echo my own finish"), "{forced}");
    assert!(
        forced.contains("[tasks.build]\nrun = \"cargo build\""),
        "{forced}"
    );
}

#[test]
fn init_mise_leaves_a_trailing_comment_where_it_was() {
    let env = TestEnv::new();
    let mine = "[tasks]\nbuild = \"cargo build\"\n\n[tools]\n# none\n";
    env.write("mise.toml", mine);
    env.ok(&["init", "--mise"]);
    let text = env.read("mise.toml");
    assert!(
        text.starts_with(mine),
        "the user's part is untouched:\n{text}"
    );
    assert_eq!(text.matches("# none").count(), 1, "{text}");
    assert!(
        text.ends_with("run = \"deploy-ledger list\"\n"),
        "the tasks come last:\n{text}"
    );
    env.ok(&["init", "--mise"]);
    assert_eq!(env.read("mise.toml"), text, "second run changes nothing");
    // --force: an overwritten task keeps its place and its comment.
    let mine = "# my finish\n[tasks.deployment-finish]\nrun = \"echo mine\"\n\n[tools]\n# none\n";
    env.write("mise.toml", mine);
    env.ok(&["init", "--mise", "--force"]);
    let text = env.read("mise.toml");
    assert!(
        text.starts_with("# my finish\n[tasks.deployment-finish]\n"),
        "{text}"
    );
    assert!(
        text.contains("[tools]\n# none\n\n# deployment-* tasks"),
        "{text}"
    );
    assert!(!text.contains("echo mine"), "{text}");
    assert_eq!(
        text.matches("[tasks.deployment-finish]").count(),
        1,
        "{text}"
    );
}

#[test]
fn init_mise_uses_a_hidden_mise_toml() {
    let env = TestEnv::new();
    env.write(".mise.toml", "[env]\nA = \"1\"\n");
    env.ok(&["init", "--mise"]);
    assert!(!env.path("mise.toml").exists());
    assert!(env.read(".mise.toml").contains("[tasks.deployment-start]"));
}

#[test]
fn init_make_includes_a_fragment() {
    let env = TestEnv::new();
    env.write("Makefile", "build:\n\techo building\n");
    let out = env.ok(&["init", "--make"]);
    assert!(
        out.contains("created   deployments/deploy-ledger.mk"),
        "{out}"
    );
    assert!(
        out.contains("updated   Makefile (include deployments/deploy-ledger.mk)"),
        "{out}"
    );
    let makefile = env.read("Makefile");
    assert!(
        makefile.starts_with("build:\n\techo building\n"),
        "{makefile}"
    );
    assert_eq!(
        makefile
            .matches("include deployments/deploy-ledger.mk")
            .count(),
        1
    );
    env.ok(&["init", "--make"]);
    assert_eq!(env.read("Makefile"), makefile, "second run changes nothing");
}

/// PATH with the built deploy-ledger first, as after `cargo install`.
fn path_with_binary() -> String {
    let bin = assert_cmd::cargo::cargo_bin("deploy-ledger");
    let dir = bin.parent().expect("binary has a folder").to_path_buf();
    let mut paths = vec![dir];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths)
        .expect("joinable PATH")
        .to_string_lossy()
        .into_owned()
}

/// Runs a task runner in the repository with the test's environment.
fn task(env: &TestEnv, program: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", path_with_binary())
        .env("HOME", env.home())
        .env("XDG_CONFIG_HOME", env.home().join(".config"))
        .env("XDG_CACHE_HOME", env.home().join(".cache"))
        .env("XDG_DATA_HOME", env.home().join(".local/share"))
        .env("XDG_STATE_HOME", env.home().join(".local/state"))
        .env("GIT_CONFIG_GLOBAL", env.dir.path().join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TZ", "UTC")
        .env("USER", "tester")
        .env("DEPLOY_LEDGER_NOW", &env.now)
        .env("MISE_TRUSTED_CONFIG_PATHS", &env.repo)
        .env("MISE_YES", "1")
        .env("MISE_OFFLINE", "1")
        .env("MISE_NO_COLOR", "1")
        .env("NO_COLOR", "1")
        .args(args)
        .current_dir(&env.repo);
    cmd.output().expect("task runner runs")
}

fn assert_ok(out: &std::process::Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\nstdout: {stdout}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The record after start, phases and finish through the tasks.
fn assert_walked_through(env: &TestEnv, status: &str) {
    let text = env.only_record();
    assert!(text.contains("service: api\n"), "{text}");
    assert!(text.contains("environment: staging\n"), "{text}");
    assert!(text.contains("version: 1.2.0\n"), "{text}");
    assert!(text.contains(&format!("status: {status}\n")), "{text}");
    for phase in ["planning", "execution", "validation"] {
        assert!(
            text.contains(&format!("  - {{ name: {phase}, started_at:")),
            "{phase}: {text}"
        );
    }
}

#[test]
fn make_tasks_run_the_phases() {
    let mut env = TestEnv::new();
    env.ok(&["init", "--make"]);
    let make = |env: &TestEnv, args: &[&str]| make(env, args);
    make(
        &env,
        &[
            "deployment-start",
            "ARGS=--service api --env staging --version 1.2.0",
        ],
    );
    env.at("2025-01-15T14:35:00Z");
    make(&env, &["deployment-phase-execution"]);
    env.at("2025-01-15T14:40:00Z");
    make(&env, &["deployment-phase-validation"]);
    env.at("2025-01-15T14:45:00Z");
    make(
        &env,
        &[
            "deployment-finish",
            "ARGS=--status failed --reason \"smoke tests red\"",
        ],
    );
    assert_walked_through(&env, "failed");
    assert!(env
        .only_record()
        .contains("failure: { reason: smoke tests red }\n"));
    let history = make(&env, &["deployment-history"]);
    assert!(
        history.contains("DEP-2025-01-15-14-30-api-staging"),
        "{history}"
    );
    // `make` alone runs the harmless history, never a start.
    let default = make(&env, &[]);
    assert!(default.contains("STATUS"), "{default}");
}

#[test]
fn mise_tasks_run_the_phases() {
    let mut env = TestEnv::new();
    env.ok(&["init", "--mise"]);
    let Some(mise) = which("mise") else {
        assert!(
            std::env::var_os("DEPLOY_LEDGER_REQUIRE_MISE").is_none(),
            "DEPLOY_LEDGER_REQUIRE_MISE is set but mise is not on PATH"
        );
        // CI installs mise (.ci/run); elsewhere, check what mise would run.
        eprintln!("mise is not installed: running each task's `run` through sh instead");
        return run_mise_tasks_without_mise(env);
    };
    let mise = mise.to_string_lossy().into_owned();
    let run = |env: &TestEnv, args: &[&str]| {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        assert_ok(&task(env, &mise, &all), "mise run")
    };
    run(
        &env,
        &[
            "deployment-start",
            "--",
            "--service",
            "api",
            "--env",
            "staging",
            "--version",
            "1.2.0",
        ],
    );
    env.at("2025-01-15T14:35:00Z");
    run(&env, &["deployment-phase-execution"]);
    env.at("2025-01-15T14:40:00Z");
    run(&env, &["deployment-phase-validation"]);
    env.at("2025-01-15T14:45:00Z");
    run(&env, &["deployment-finish"]);
    assert_walked_through(&env, "success");
    let history = run(&env, &["deployment-history", "--", "--json"]);
    assert!(history.contains("\"status\": \"success\""), "{history}");
}

/// Without mise: read mise.toml and run each task's command with the
/// arguments appended, as `mise run TASK -- ARGS` does.
fn run_mise_tasks_without_mise(mut env: TestEnv) {
    let text = env.read("mise.toml");
    let doc: toml::Table = text.parse().expect("mise.toml parses");
    let tasks = doc["tasks"].as_table().expect("tasks table");
    let run = |env: &TestEnv, name: &str, args: &str| {
        let command = tasks[name]["run"].as_str().expect("run is a string");
        assert_ok(
            &task(env, "sh", &["-c", &format!("{command} {args}")]),
            name,
        )
    };
    run(
        &env,
        "deployment-start",
        "--service api --env staging --version 1.2.0",
    );
    env.at("2025-01-15T14:35:00Z");
    run(&env, "deployment-phase-execution", "");
    env.at("2025-01-15T14:40:00Z");
    run(&env, "deployment-phase-validation", "");
    env.at("2025-01-15T14:45:00Z");
    run(&env, "deployment-finish", "");
    assert_walked_through(&env, "success");
    let history = run(&env, "deployment-history", "");
    assert!(history.contains("success"), "{history}");
}

#[test]
fn init_mise_with_a_broken_mise_toml_writes_nothing() {
    let env = TestEnv::new();
    env.write("mise.toml", "[tools]\nnode = \"20\"\n[tasks\n");
    let err = env.fails(&["init", "--mise"], 1);
    assert!(
        err.contains("mise.toml: invalid configuration: line 3"),
        "{err}"
    );
    assert_eq!(env.read("mise.toml"), "[tools]\nnode = \"20\"\n[tasks\n");
    assert!(!env.path("deployments").exists(), "nothing written");

    env.write("mise.toml", "tasks = \"not a table\"\n");
    let err = env.fails(&["init", "--mise", "--make"], 1);
    assert!(err.contains("`tasks` is not a table"), "{err}");
    assert!(!env.path("deployments").exists(), "nothing written");
    assert!(!env.path("Makefile").exists(), "nothing written");
}

#[test]
fn tasks_follow_configured_phases_even_with_dots() {
    let mut env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "phases = [\"db.migrate\", \"ship\"]\n",
    );
    env.ok(&["init", "--mise", "--make"]);
    let doc: toml::Table = env.read("mise.toml").parse().expect("mise.toml parses");
    let tasks = doc["tasks"].as_table().expect("tasks");
    assert_eq!(
        tasks["deployment-phase-db.migrate"]["run"].as_str(),
        Some("deploy-ledger phase db.migrate")
    );
    assert!(!tasks.contains_key("deployment-phase-planning"));
    make(
        &env,
        &["deployment-start", "ARGS=--service api --env staging"],
    );
    env.at("2025-01-15T14:40:00Z");
    make(&env, &["deployment-phase-ship"]);
    let text = env.only_record();
    assert!(text.contains("  - { name: db.migrate, started_at: 2025-01-15T14:30:00Z, finished_at: 2025-01-15T14:40:00Z, duration_seconds: 600 }\n"), "{text}");
    assert!(
        text.contains("  - { name: ship, started_at: 2025-01-15T14:40:00Z }\n"),
        "{text}"
    );
}

#[test]
fn init_with_dash_c_from_elsewhere() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["-C", &env.repo.to_string_lossy(), "init"])
        .current_dir(env.dir.path())
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(env.path("deployments/ledger.toml").exists());
}

/// `make ARGS…` in the repository; where make is not installed (CI images
/// need not have it), each rule's recipe of deployments/deploy-ledger.mk is
/// run through sh with the variables substituted, as make would.
fn make(env: &TestEnv, args: &[&str]) -> String {
    // DEPLOY_LEDGER_TEST_NO_MAKE=1 exercises the fallback where make exists.
    if which("make").is_some() && std::env::var_os("DEPLOY_LEDGER_TEST_NO_MAKE").is_none() {
        return assert_ok(&task(env, "make", args), "make");
    }
    eprintln!("make is not installed: running the recipes of {MAKE_FRAGMENT_PATH} through sh");
    let fragment = env.read(MAKE_FRAGMENT_PATH);
    let mut target = None;
    let mut extra = String::new();
    for arg in args {
        match arg.strip_prefix("ARGS=") {
            Some(v) => extra = v.to_string(),
            None => target = Some(arg.to_string()),
        }
    }
    // Without a target, the first rule (the Makefile only includes the fragment).
    let lines: Vec<&str> = fragment.lines().collect();
    let rule = lines
        .iter()
        .position(|l| match &target {
            Some(t) => l.strip_suffix(':') == Some(t.as_str()),
            None => !l.starts_with(['#', '.', '\t']) && l.ends_with(':'),
        })
        .unwrap_or_else(|| panic!("no rule for {target:?} in:\n{fragment}"));
    let recipe = lines[rule + 1]
        .strip_prefix('\t')
        .expect("a recipe line")
        .replace("$(DEPLOY_LEDGER)", "deploy-ledger")
        .replace("$(ARGS)", &extra);
    assert_ok(&task(env, "sh", &["-c", &recipe]), &recipe)
}

const MAKE_FRAGMENT_PATH: &str = "deployments/deploy-ledger.mk";
