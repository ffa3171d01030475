//! `list`, `show`, `status` and `completions`.

use crate::env::TestEnv;

/// Four deployments over three days, by two operators.
fn ledger() -> TestEnv {
    let mut env = TestEnv::new();
    env.at("2025-01-13T09:00:00Z").ok(&[
        "start",
        "--service",
        "api",
        "--env",
        "production",
        "--version",
        "1.0.0",
        "--strategy",
        "rolling",
        "--operator",
        "alice",
    ]);
    env.at("2025-01-13T09:12:30Z").ok(&["finish"]);
    env.at("2025-01-14T16:00:00Z").ok(&[
        "start",
        "--service",
        "web",
        "--env",
        "staging",
        "--version",
        "2.1",
        "--strategy",
        "canary",
        "--operator",
        "José",
    ]);
    env.at("2025-01-14T16:05:00Z").ok(&[
        "finish",
        "--status",
        "failed",
        "--reason",
        "smoke tests red",
    ]);
    env.at("2025-01-15T10:00:00Z").ok(&[
        "start",
        "--service",
        "api",
        "--env",
        "production",
        "--version",
        "1.1.0",
        "--strategy",
        "blue-green",
        "--operator",
        "alice",
    ]);
    env.at("2025-01-15T11:00:00Z").ok(&[
        "start",
        "--service",
        "worker",
        "--env",
        "staging",
        "--operator",
        "bob",
    ]);
    env.at("2025-01-15T12:00:00Z");
    env
}

#[test]
fn list_is_a_table_newest_first() {
    let env = ledger();
    insta::assert_snapshot!(env.ok(&["list"]));
}

#[test]
fn list_filters() {
    let env = ledger();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["list", "--json"];
        all.extend_from_slice(args);
        let v: serde_json::Value = serde_json::from_str(&env.ok(&all)).expect("json");
        v.as_array()
            .expect("array")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(
        ids(&["--service", "api"]),
        [
            "DEP-2025-01-15-10-00-api-production",
            "DEP-2025-01-13-09-00-api-production"
        ]
    );
    assert_eq!(
        ids(&["--env", "staging", "--status", "failure"]),
        ["DEP-2025-01-14-16-00-web-staging"]
    );
    assert_eq!(ids(&["--status", "in_progress"]).len(), 2);
    assert_eq!(
        ids(&["--strategy", "canary"]),
        ["DEP-2025-01-14-16-00-web-staging"]
    );
    assert_eq!(
        ids(&["--operator", "bob"]),
        ["DEP-2025-01-15-11-00-worker-staging"]
    );
    assert_eq!(
        ids(&["--since", "2025-01-14", "--until", "2025-01-14"]),
        ["DEP-2025-01-14-16-00-web-staging"]
    );
    // A time is an instant, excluded as an upper bound (as in analytics).
    assert_eq!(
        ids(&["--until", "2025-01-15T10:00:00Z"]),
        [
            "DEP-2025-01-14-16-00-web-staging",
            "DEP-2025-01-13-09-00-api-production"
        ]
    );
    assert_eq!(
        ids(&["--until", "2025-01-15T10:00:01Z"]),
        [
            "DEP-2025-01-15-10-00-api-production",
            "DEP-2025-01-14-16-00-web-staging",
            "DEP-2025-01-13-09-00-api-production"
        ]
    );
    assert_eq!(
        ids(&["--limit", "1"]),
        ["DEP-2025-01-15-11-00-worker-staging"]
    );
    assert!(ids(&["--service", "nothing"]).is_empty());
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["list", "--json", "--operator", "José"])).expect("json");
    assert_eq!(json[0]["failure_reason"], "smoke tests red");
    assert_eq!(json[0]["version"], "2.1");
    assert_eq!(json[0]["duration_seconds"], 300);
    assert_eq!(
        json[0]["path"],
        "deployments/checklists/2025/01/DEP-2025-01-14-16-00-web-staging.md"
    );
}

#[test]
fn list_rejects_bad_filters() {
    let env = ledger();
    let err = env.fails(&["list", "--status", "exploded"], 1);
    assert!(err.contains("unknown status `exploded`"), "{err}");
    let err = env.fails(&["list", "--since", "last tuesday"], 1);
    assert!(err.contains("`last tuesday` is not a date"), "{err}");
}

#[test]
fn list_rejects_a_filter_name_that_is_not_a_slug() {
    let env = ledger();
    // It could never match a record: a typo, not an empty list.
    let err = env.fails(&["list", "--service", "Bad Name"], 1);
    assert!(
        err.starts_with("error: --service: service `Bad Name` is not a slug\nhint: a service name is lowercase letters"),
        "{err}"
    );
    let err = env.fails(&["list", "--env", "Production", "--json"], 1);
    assert!(
        err.starts_with("error: --env: environment `Production` is not a slug\nhint: "),
        "{err}"
    );
    // export and visualize take the same filters.
    let err = env.fails(&["export", "--format", "json", "--env", "prod env"], 1);
    assert!(
        err.contains("--env: environment `prod env` is not a slug"),
        "{err}"
    );
    let err = env.fails(&["visualize", "--format", "mermaid", "--service", ""], 1);
    assert!(err.contains("--service: service `` is empty"), "{err}");
    // A slug no record has is still an empty list.
    env.ok(&["list", "--service", "nothing"]);
}

#[test]
fn list_into_a_closed_pipe_is_quiet() {
    let env = ledger();
    // Enough long rows that the output outgrows the pipe buffer (64 KiB),
    // so the writer does meet the closed pipe.
    let operator = "o".repeat(300);
    for i in 0..300 {
        let (h, m) = (i / 60, i % 60);
        let id = format!("DEP-2024-12-01-{h:02}-{m:02}-api-production");
        env.write(
            &format!("deployments/checklists/2024/12/{id}.md"),
            &format!("---\nschema: 1\nid: {id}\nservice: api\nenvironment: production\nstatus: success\noperator: {operator}\nstarted_at: 2024-12-01T{h:02}:{m:02}:00Z\nfinished_at: 2024-12-01T{h:02}:{m:02}:30Z\n---\n"),
        );
    }
    let bin = assert_cmd::cargo::cargo_bin("deploy-ledger");
    for command in ["list", "list --json"] {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "'{}' {command} 2>'{err}' | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}; cat '{err}'",
                bin.display(),
                err = env.dir.path().join("err.txt").display()
            ))
            .env("DEPLOY_LEDGER_NOW", &env.now)
            .env("GIT_CONFIG_GLOBAL", env.dir.path().join("gitconfig"))
            .env("HOME", env.home())
            .current_dir(&env.repo)
            .output()
            .expect("bash runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "0\n",
            "{command}: exit 0 and nothing on stderr"
        );
    }
}

#[test]
fn show_prints_the_record_or_its_fields() {
    let env = ledger();
    let id = "DEP-2025-01-14-16-00-web-staging";
    let text = env.ok(&["show", id]);
    assert_eq!(
        text,
        env.read(&format!("deployments/checklists/2025/01/{id}.md"))
    );
    insta::assert_snapshot!(text);
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["show", id, "--json"])).expect("json");
    assert_eq!(v["status"], "failed");
    assert_eq!(v["phases"][0]["duration_seconds"], 300);
    // Without an id: this clone's current deployment (the last started).
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["show", "--json"])).expect("json");
    assert_eq!(v["id"], "DEP-2025-01-15-11-00-worker-staging");
    let err = env.fails(&["show", "DEP-2025-01-14"], 1);
    assert!(err.contains("no record with id `DEP-2025-01-14`"), "{err}");
    assert!(
        err.contains("did you mean: DEP-2025-01-14-16-00-web-staging"),
        "{err}"
    );
}

#[test]
fn status_shows_open_deployments_and_stale_ones() {
    let mut env = ledger();
    insta::assert_snapshot!(env.ok(&["status"]));
    env.at("2025-01-16T10:30:00Z");
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).expect("json");
    let open = v["in_progress"].as_array().expect("list");
    assert_eq!(open.len(), 2);
    assert_eq!(open[0]["id"], "DEP-2025-01-15-10-00-api-production");
    assert_eq!(open[0]["stale"], true, "open 24.5 h, stale after 24");
    assert_eq!(open[0]["open_seconds"], 24 * 3600 + 1800);
    assert_eq!(open[0]["phase"], "planning");
    assert_eq!(open[1]["stale"], false);
    assert_eq!(open[1]["current"], true);
    assert!(v["lock"].is_null());
    let text = env.ok(&["status"]);
    assert!(text.contains("24h 30m") || text.contains("1d 0h"), "{text}");
    assert!(text.contains("STALE (>24h)"), "{text}");
    // A held lock is shown with its holder. The file a crashed command
    // left is called out as not held, whatever its pid: here this test's
    // own, a live process (a pid reused since).
    let pid = std::process::id().to_string();
    let lock = env.path(".git/deploy-ledger/lock");
    std::fs::write(&lock, format!("{pid}\n")).expect("lock");
    let held = std::fs::File::open(&lock).expect("open");
    held.lock().expect("the OS lock");
    let text = env.ok(&["status"]);
    assert!(text.contains(&format!("held by pid {pid} for")), "{text}");
    assert!(!text.contains("not held"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).expect("json");
    assert_eq!(v["lock"]["running"], true);
    drop(held);
    let text = env.ok(&["status"]);
    assert!(text.contains(&format!("left by pid {pid} ")), "{text}");
    assert!(text.contains("ago, not held (that command ended"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).expect("json");
    assert_eq!(v["lock"]["running"], false);
    // And the next command takes it.
    env.ok(&["check", "1"]);
}

#[test]
fn status_with_nothing_open() {
    let env = TestEnv::new();
    assert_eq!(env.ok(&["status"]), "no deployment in progress\n");
}

#[test]
fn completions_for_each_shell() {
    let env = TestEnv::new();
    for (shell, marker) in [
        ("bash", "_deploy__ledger()"),
        ("zsh", "#compdef deploy-ledger"),
        ("fish", "complete -c deploy-ledger"),
        ("elvish", "edit:completion:arg-completer[deploy-ledger]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = env.ok(&["completions", shell]);
        assert!(
            out.contains(marker),
            "{shell}: {}",
            &out[..out.len().min(200)]
        );
        assert!(out.contains("validate"), "{shell}");
    }
    let err = env.fails(&["completions", "tcsh"], 2);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
}

#[test]
fn every_command_has_an_example() {
    let env = TestEnv::new();
    for command in ["init", "list", "show", "status", "validate", "completions"] {
        let help = env.ok(&[command, "--help"]);
        assert!(
            help.contains("Examples:\n  deploy-ledger "),
            "{command}: {help}"
        );
    }
}
