//! start → phase → check → finish, the record they write, and the refusals.

use crate::env::TestEnv;

#[test]
fn one_deployment_from_start_to_finish() {
    let mut env = TestEnv::new();
    let out = env.ok(&[
        "start",
        "--service",
        "api-gateway",
        "--env",
        "production",
        "--version",
        "1.10",
        "--strategy",
        "blue-green",
        "--operator",
        "no",
    ]);
    assert!(
        out.contains("DEP-2025-01-15-14-30-api-gateway-production"),
        "{out}"
    );
    let path = "deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-gateway-production.md";
    let text = env.read(path);
    // Strings YAML would retype stay strings.
    assert!(text.contains("version: \"1.10\"\n"), "{text}");
    assert!(text.contains("operator: \"no\"\n"), "{text}");
    assert!(text.contains("status: in-progress\n"));
    assert!(
        text.contains("  - { name: planning, started_at: 2025-01-15T14:30:00Z }\n"),
        "{text}"
    );

    env.at("2025-01-15T14:32:00Z").ok(&["phase", "execution"]);
    env.ok(&["check", "1"]);
    env.ok(&["check", "health checks"]);
    env.at("2025-01-15T14:45:12Z").ok(&["finish"]);
    let text = env.read(path);
    assert!(text.contains("status: success\n"));
    assert!(text.contains("finished_at: 2025-01-15T14:45:12Z\n"));
    assert!(text.contains("duration_seconds: 912\n"));
    assert!(text.contains("  - { name: planning, started_at: 2025-01-15T14:30:00Z, finished_at: 2025-01-15T14:32:00Z, duration_seconds: 120 }\n"), "{text}");
    assert!(text.contains("  - { name: execution, started_at: 2025-01-15T14:32:00Z, finished_at: 2025-01-15T14:45:12Z, duration_seconds: 792 }\n"), "{text}");
    assert!(
        text.contains("checklist: { total: 9, done: 2 }\n"),
        "{text}"
    );
    assert!(text.contains("- [x] Change approved\n"));
    assert!(text.contains("- [x] Health checks green\n"));
}

#[test]
fn start_refuses_while_same_service_and_env_in_progress() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 3);
    assert!(err.contains("already in progress"), "{err}");
    assert_eq!(env.records().len(), 1, "nothing written on refusal");
    // Another environment is fine; --force overrides and is noted.
    env.ok(&["start", "--service", "api", "--env", "production"]);
    env.ok(&["start", "--service", "api", "--env", "staging", "--force"]);
    let forced: Vec<String> = env
        .records()
        .iter()
        .map(|r| env.read(r))
        .filter(|t| t.contains("forced:"))
        .collect();
    assert_eq!(forced.len(), 1);
    assert!(
        forced[0].contains("forced: { over: [DEP-2025-01-15-14-30-api-staging] }"),
        "{}",
        forced[0]
    );
    assert!(forced[0].contains("id: DEP-2025-01-15-14-30-api-staging-2\n"));
}

#[test]
fn unknown_keys_and_hand_edits_survive() {
    let mut env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let path = env.records()[0].clone();
    let text = env.read(&path);
    let edited = text
        .replacen(
            "status: in-progress\n",
            "status: in-progress\nticket:   OPS-1   # ours\nchecklist: { source: manual }\n",
            1,
        )
        .replace(
            "## Notes\n",
            "## Notes\n\nHand-written note, kept   byte for byte.\n",
        );
    env.write(&path, &edited);
    env.at("2025-01-15T14:40:00Z").ok(&["phase", "execution"]);
    env.at("2025-01-15T14:50:00Z").ok(&[
        "finish",
        "--status",
        "failure",
        "--reason",
        "health checks failed",
    ]);
    let text = env.read(&path);
    assert!(text.contains("ticket:   OPS-1   # ours\n"), "{text}");
    assert!(text.contains("Hand-written note, kept   byte for byte.\n"));
    assert!(text.contains("status: failed\n"));
    assert!(
        text.contains("failure: { reason: health checks failed }\n"),
        "{text}"
    );
    // A key of ours inside a mapping the tool writes (the counts) stays.
    assert!(
        text.contains("checklist: { source: manual, total: "),
        "{text}"
    );
}

#[test]
fn bad_names_are_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let long = "a".repeat(300);
    for bad in ["../x", "", "has space", "UPPER", long.as_str()] {
        let err = env.fails(&["start", "--service", bad, "--env", "staging"], 1);
        assert!(err.starts_with("error: service"), "{bad}: {err}");
        let err = env.fails(&["start", "--service", "api", "--env", bad], 1);
        assert!(err.starts_with("error: environment"), "{bad}: {err}");
    }
    assert!(env.records().is_empty());
    assert!(!env.path("deployments").exists());
}

#[test]
fn finish_twice_and_phase_without_deployment() {
    let env = TestEnv::new();
    let err = env.fails(&["phase", "execution"], 1);
    assert!(err.contains("no deployment in progress"), "{err}");
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.ok(&["finish"]);
    let before = env.only_record();
    // `finish` cleared the pointer: nothing is current any more...
    let err = env.fails(&["finish"], 1);
    assert!(err.contains("no deployment in progress"), "{err}");
    // ...and the record named by its id has ended.
    let err = env.fails(&["finish", "--id", "DEP-2025-01-15-14-30-api-staging"], 1);
    assert!(err.contains("already ended (success"), "{err}");
    assert_eq!(env.only_record(), before, "second finish changed nothing");
    let err = env.fails(&["finish", "--status", "exploded"], 1);
    assert!(err.contains("unknown status `exploded`"), "{err}");
}

#[test]
fn commit_commits_the_record_alone() {
    let env = TestEnv::new();
    env.write("app.txt", "staged change\n");
    env.git(&["add", "app.txt"]);
    env.ok(&["start", "--service", "api", "--env", "staging", "--commit"]);
    let log = env.git(&["log", "-1", "--format=%s", "--name-only"]);
    assert!(
        log.starts_with("deploy(api): start DEP-2025-01-15-14-30-api-staging [staging]\n"),
        "{log}"
    );
    assert!(!log.contains("app.txt"));
    let status = env.git(&["status", "--porcelain"]);
    assert_eq!(status, "A  app.txt\n", "other staged changes stay staged");
}

/// `--commit` writes the commit itself (no git hook runs, nothing signs it):
/// with `commit.gpgsign` set it says the commit is not signed.
#[test]
fn commit_says_it_does_not_sign() {
    let env = TestEnv::new();
    let out = env.run(&["start", "--service", "api", "--env", "staging", "--commit"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not signed"));
    env.git(&["config", "commit.gpgsign", "true"]);
    let out = env.run(&["finish", "--commit"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let head = env.git(&["rev-parse", "HEAD"]);
    assert!(
        err.contains(&format!(
            "warning: commit {} is not signed: commit.gpgsign is set",
            &head[..12]
        )),
        "{err}"
    );
    let log = env.git(&["log", "-1", "--format=%s"]);
    assert!(log.starts_with("deploy(api): finish "), "{log}");
}

/// Runs deploy-ledger with git knowing no identity (no user.name/email).
fn without_identity(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd()
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn commit_without_a_git_identity_writes_nothing() {
    let env = TestEnv::new();
    let out = without_identity(&env, &["start", "--service", "api", "--commit"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: git has no identity to commit with"),
        "{err}"
    );
    assert!(
        err.contains("hint: set one with `git config user.name"),
        "{err}"
    );
    assert!(env.records().is_empty(), "no record: {:?}", env.records());
    assert!(!env.path("deployments").exists(), "no folder either");
    assert!(
        !env.path(".git/deploy-ledger/current").exists(),
        "no pointer"
    );
    // The retry, with an identity, is not refused.
    env.ok(&["start", "--service", "api", "--commit"]);

    let before = env.only_record();
    for args in [
        &["finish", "--commit"][..],
        &["phase", "execution", "--commit"],
        &["check", "1", "--commit"],
    ] {
        let out = without_identity(&env, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("git has no identity"));
        assert_eq!(env.only_record(), before, "{args:?}: record unchanged");
    }
    env.ok(&["finish", "--commit"]);
}

#[test]
fn a_failed_commit_restores_the_record_and_the_pointer() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "web", "--env", "staging"]);
    let pointer = env.read(".git/deploy-ledger/current");
    // Another git process holds the branch: the commit itself fails.
    env.write(".git/refs/heads/main.lock", "");
    let err = env.fails(&["start", "--service", "api", "--commit"], 1);
    assert!(
        err.contains("error: could not commit deployments/checklists/"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        env.records().len(),
        1,
        "the new record is gone: {:?}",
        env.records()
    );
    assert_eq!(
        env.read(".git/deploy-ledger/current"),
        pointer,
        "pointer as it was"
    );

    let before = env.only_record();
    let err = env.fails(&["finish", "--commit"], 1);
    assert!(err.contains("could not commit"), "{err}");
    assert_eq!(env.only_record(), before, "record as it was");
    std::fs::remove_file(env.path(".git/refs/heads/main.lock")).expect("unlock");
    env.ok(&["finish", "--commit"]);
    assert!(env.only_record().contains("status: success"));
}

#[test]
fn a_locked_index_commits_nothing() {
    let mut env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--commit"]);
    let head = env.git(&["rev-parse", "HEAD"]);
    let before = env.only_record();
    // Another git command holds the index: committing now would leave the
    // index behind HEAD, so the commit must not be made at all.
    env.write(".git/index.lock", "");
    env.at("2025-01-15T14:40:00Z");
    let err = env.fails(&["phase", "execution", "--commit"], 1);
    assert!(err.contains("git's index is locked"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    std::fs::remove_file(env.path(".git/index.lock")).expect("unlock");
    assert_eq!(env.git(&["rev-parse", "HEAD"]), head, "no commit was made");
    assert_eq!(env.only_record(), before, "record as it was");
    assert_eq!(
        env.git(&["status", "--porcelain"]),
        "",
        "index and HEAD agree"
    );
    env.ok(&["phase", "execution", "--commit"]);
    assert_eq!(env.git(&["status", "--porcelain"]), "");
}

#[test]
fn parallel_starts_with_commit_keep_every_record_in_the_index() {
    let env = TestEnv::new();
    let children = (1..=6)
        .map(|n| env.spawn(&["start", "--service", &format!("s{n}"), "--commit"]))
        .collect();
    crate::env::all_succeed(children);
    // Six commits, and the index has every record: nothing staged, nothing
    // untracked (a lost index entry shows as `D` plus `??`).
    assert_eq!(env.git(&["rev-list", "--count", "HEAD"]).trim(), "7");
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    assert_eq!(env.records().len(), 6);
}

#[test]
fn phase_and_finish_refuse_a_clock_before_the_open_phase() {
    let mut env = TestEnv::new();
    env.ok(&["start", "--service", "api"]);
    env.at("2025-01-15T14:40:00Z").ok(&["phase", "execution"]);
    let before = env.only_record();
    env.at("2025-01-15T14:35:00Z");
    for args in [&["phase", "validation"][..], &["finish"]] {
        let err = env.fails(args, 1);
        assert!(
            err.contains("error: now (2025-01-15T14:35:00Z) is before phase `execution` of DEP-2025-01-15-14-30-api-development started (2025-01-15T14:40:00+00:00)"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("hint: check the clock, or DEPLOY_LEDGER_NOW"),
            "{err}"
        );
        assert_eq!(env.only_record(), before, "nothing written");
    }
    env.at("2025-01-15T14:40:00Z").ok(&["finish"]);
    env.ok(&["validate"]);
}

#[test]
fn start_warns_about_a_broken_record_of_its_service_and_environment() {
    let mut env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let path = env.records()[0].clone();
    let text = env
        .read(&path)
        .replace("status: in-progress", "status: bogus");
    env.write(&path, &text);
    env.ok(&["start", "--service", "web", "--env", "staging"]);
    for cache in [false, true] {
        if cache {
            env.ok(&["status"]); // writes the scan cache
        }
        std::fs::remove_file(env.path(".git/deploy-ledger/current")).ok();
        env.at(if cache {
            "2025-01-15T15:00:00Z"
        } else {
            "2025-01-15T14:50:00Z"
        });
        let out = env.run(&["start", "--service", "api", "--env", "staging"]);
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        let want = format!("warning: skipped a broken record {path}:6: ");
        assert!(err.contains(&want), "cache {cache}: {err}");
        assert_eq!(err.matches(&path).count(), 1, "path named once: {err}");
        assert!(err.contains("bogus"), "{err}");
        assert!(!err.contains("web"), "only its own service: {err}");
        env.ok(&["finish"]);
    }
    // status names the path once too.
    let out = env.run(&["status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches(&path).count(), 1, "{err}");
}

/// Values a YAML 1.1 reader (PyYAML) would retype are quoted: `007` is not
/// 7, `12:30` not 750 (base 60), `on` not true; times stay timestamps.
#[test]
fn values_read_back_as_strings_by_yaml_1_1_readers() {
    let env = TestEnv::new();
    env.ok(&[
        "start",
        "--service",
        "api",
        "--env",
        "staging",
        "--version",
        "007",
        "--operator",
        "12:30",
        "--label",
        "canary=on",
    ]);
    let path = "deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-staging.md";
    let text = env.read(path);
    assert!(text.contains("version: \"007\"\n"), "{text}");
    assert!(text.contains("operator: \"12:30\"\n"), "{text}");
    assert!(text.contains("labels: { canary: \"on\" }\n"), "{text}");
    assert!(
        text.contains("started_at: 2025-01-15T14:30:00Z\n"),
        "{text}"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&env.ok(&["list", "--json"])).expect("json");
    assert_eq!(listed[0]["version"], "007");
    assert_eq!(listed[0]["operator"], "12:30");

    // The same file through PyYAML, where the machine has it.
    let has_pyyaml = std::process::Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pyyaml {
        eprintln!("skipped the PyYAML check: python3 with the yaml module is not installed");
        return;
    }
    let script = "import json, sys, yaml\n\
        d = yaml.safe_load(open(sys.argv[1], encoding='utf-8').read().split('---\\n')[1])\n\
        print(json.dumps({'version': d['version'], 'operator': d['operator'],\n\
            'canary': d['labels']['canary'], 'started_at': type(d['started_at']).__name__}))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(env.path(path))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        read,
        serde_json::json!({
            "version": "007", "operator": "12:30", "canary": "on", "started_at": "datetime"
        })
    );
}

#[test]
fn json_of_start_phase_check_and_finish() {
    let mut env = TestEnv::new();
    let id = "DEP-2025-01-15-14-30-api-gateway-production";
    let path = "deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-gateway-production.md";
    let started = env.json(&[
        "start",
        "--service",
        "api-gateway",
        "--env",
        "production",
        "--version",
        "1.10",
        "--json",
    ]);
    assert_eq!(started["id"], id);
    assert_eq!(started["path"], path);
    assert!(env.path(path).is_file(), "the path is the record's file");
    assert_eq!(started["service"], "api-gateway");
    assert_eq!(started["environment"], "production");
    assert_eq!(started["version"], "1.10", "a string, as in the record");
    assert_eq!(started["status"], "in-progress");
    assert_eq!(started["started_at"], "2025-01-15T14:30:00Z");
    assert_eq!(started["phase"], "planning");
    assert_eq!(started["phases"][0]["name"], "planning");
    assert_eq!(started["commit"], serde_json::Value::Null, "no --commit");
    // The same fields as `show --json`, plus the command's own keys.
    let mut shown = env.json(&["show", "--json"]);
    shown["commit"] = serde_json::Value::Null;
    shown["phase"] = "planning".into();
    assert_eq!(started, shown);

    let phased = env
        .at("2025-01-15T14:32:00Z")
        .json(&["phase", "execution", "--json"]);
    assert_eq!(phased["id"], id);
    assert_eq!(phased["path"], path);
    assert_eq!(phased["phase"], "execution");
    assert_eq!(phased["phases"][0]["finished_at"], "2025-01-15T14:32:00Z");
    assert_eq!(phased["phases"][0]["duration_seconds"], 120);
    assert_eq!(phased["phases"][1]["name"], "execution");
    assert_eq!(phased["phases"][1]["finished_at"], serde_json::Value::Null);

    let checked = env.json(&["check", "health checks", "--json"]);
    assert_eq!(checked["id"], id);
    assert_eq!(
        checked["item"],
        serde_json::json!({ "number": 7, "text": "Health checks green", "done": true })
    );
    assert_eq!(
        checked["checklist"],
        serde_json::json!({ "total": 9, "done": 1 })
    );
    assert!(env.read(path).contains("- [x] Health checks green\n"));
    let unchecked = env.json(&["check", "7", "--undo", "--json"]);
    assert_eq!(unchecked["item"]["done"], false);
    assert_eq!(unchecked["checklist"]["done"], 0);
    env.ok(&["check", "1"]);

    let finished = env.at("2025-01-15T14:45:12Z").run(&[
        "finish",
        "--status",
        "failed",
        "--reason",
        "health checks failed",
        "--commit",
        "--json",
    ]);
    assert!(finished.status.success());
    let finished: serde_json::Value = serde_json::from_slice(&finished.stdout).expect("json");
    assert_eq!(finished["id"], id);
    assert_eq!(finished["path"], path);
    assert_eq!(finished["status"], "failed");
    assert_eq!(finished["finished_at"], "2025-01-15T14:45:12Z");
    assert_eq!(finished["duration_seconds"], 912);
    assert_eq!(finished["checklist_total"], 9);
    assert_eq!(finished["checklist_done"], 1);
    assert_eq!(finished["failure_reason"], "health checks failed");
    let head = env.git(&["rev-parse", "HEAD"]);
    assert_eq!(finished["commit"], head.trim(), "the commit --commit made");
    assert_eq!(env.git(&["status", "--porcelain", "--", path]), "");
}

#[test]
fn json_keeps_warnings_on_stderr() {
    let env = TestEnv::new();
    let out = env.run(&["start", "--service", "api", "--env", "qa", "--json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: environment `qa` is not in the configuration"),
        "{stderr}"
    );
    let started: serde_json::Value = serde_json::from_slice(&out.stdout).expect("only JSON");
    assert_eq!(started["environment"], "qa");
    // finish with unticked items warns, on stderr only.
    let out = env.run(&["finish", "--json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: 9 of 9 checklist items are not ticked"),
        "{stderr}"
    );
    let finished: serde_json::Value = serde_json::from_slice(&out.stdout).expect("only JSON");
    assert_eq!(finished["status"], "success");
}

#[test]
fn json_errors_print_nothing_on_stdout_and_write_nothing() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let before = env.snapshot();
    // Refused: another deployment of api in staging is in progress.
    let err = env.fails_quietly(
        &["start", "--service", "api", "--env", "staging", "--json"],
        3,
    );
    assert!(
        err.starts_with("error: ") && err.contains("already in progress"),
        "{err}"
    );
    assert!(err.contains("\nhint: "), "{err}");
    // User errors (exit 1).
    for args in [
        &["start", "--service", "Bad Name", "--json"][..],
        &["phase", "Not A Slug", "--json"],
        &["check", "99", "--json"],
        &["finish", "--status", "bogus", "--json"],
        &["finish", "--reason", "because", "--json"],
        &["phase", "execution", "--id", "DEP-nope", "--json"],
    ] {
        let err = env.fails_quietly(args, 1);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
    // Usage errors (exit 2).
    env.fails_quietly(&["start", "--json"], 2);
    env.fails_quietly(&["check", "--json"], 2);
    assert_eq!(env.snapshot(), before, "nothing written");
}

/// Each command that prints what it wrote documents `--json` with an example.
#[test]
fn help_of_each_writing_command_shows_json_with_jq() {
    let env = TestEnv::new();
    for command in [
        &["start"][..],
        &["phase"],
        &["check"],
        &["finish"],
        &["rollback"],
        &["record"],
        &["hooks"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let help = env.ok(&args);
        assert!(
            help.lines()
                .any(|l| l.contains("--json") && l.contains("| jq")),
            "{command:?}: {help}"
        );
    }
    let help = env.ok(&["hooks", "path", "--help"]);
    assert!(help.contains("--json"), "{help}");
}
