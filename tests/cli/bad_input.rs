//! Bad input: a clear error, and nothing lost or half-written.

use crate::env::TestEnv;

const BROKEN: &str = "deployments/checklists/2025/01/DEP-2025-01-10-08-00-api-staging.md";

#[test]
fn a_broken_record_is_named_and_the_others_still_load() {
    let mut env = TestEnv::new();
    env.at("2025-01-14T10:00:00Z")
        .ok(&["start", "--service", "web", "--env", "staging"]);
    env.at("2025-01-14T10:10:00Z").ok(&["finish"]);
    env.write(
        BROKEN,
        "---\nschema: 1\nid: DEP-2025-01-10-08-00-api-staging\nservice: [api\n---\nbody\n",
    );
    let broken_before = env.read(BROKEN);

    let out = env.run(&["list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("DEP-2025-01-14-10-00-web-staging"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("warning: skipped a broken record {BROKEN}:")),
        "{stderr}"
    );
    let out = env.run(&["status"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(BROKEN));
    // Deployments go on: start, phase and finish work beside the broken file.
    env.at("2025-01-15T09:00:00Z")
        .ok(&["start", "--service", "api", "--env", "staging"]);
    env.ok(&["phase", "execution"]);
    env.ok(&["finish"]);
    let err = env.fails(&["validate"], 1);
    assert!(err.contains("1 problem in 3 records"), "{err}");
    let err = env.fails(&["show", "DEP-2025-01-10-08-00-api-staging"], 1);
    assert!(
        err.contains(&format!(
            "error: record DEP-2025-01-10-08-00-api-staging does not parse: {BROKEN}:"
        )),
        "{err}"
    );
    assert_eq!(
        env.read(BROKEN),
        broken_before,
        "the broken file is left alone"
    );
}

#[test]
fn outside_a_git_repository() {
    let env = TestEnv::new();
    let plain = env.dir.path().join("plain");
    std::fs::create_dir_all(&plain).expect("mkdir");
    for args in [
        vec!["start", "--service", "api", "--env", "staging"],
        vec!["list"],
        vec!["status"],
        vec!["validate"],
        vec!["show", "DEP-x"],
        vec!["finish"],
    ] {
        let out = env
            .cmd()
            .args(&args)
            .current_dir(&plain)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is not inside a git repository"),
            "{args:?}: {err}"
        );
        assert!(err.contains("hint: "), "{err}");
    }
    assert_eq!(
        std::fs::read_dir(&plain).expect("ls").count(),
        0,
        "nothing written"
    );
}

/// Files of a folder, names only.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(unix)]
#[test]
fn a_read_only_checklist_folder() {
    use std::os::unix::fs::PermissionsExt;
    let mut env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let month = env.path("deployments/checklists/2025/01");
    let record = env.records()[0].clone();
    let before = env.read(&record);
    std::fs::set_permissions(&month, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root writes through chmod: then this check proves nothing, say so.
    let probe = month.join(".probe");
    if std::fs::write(&probe, "").is_ok() {
        let _ = std::fs::remove_file(&probe);
        std::fs::set_permissions(&month, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        eprintln!("skipped: running as root, chmod does not stop writes (see a_file_in_the_way_of_the_record_folder)");
        return;
    }
    let err = env.at("2025-01-15T14:40:00Z").fails(&["finish"], 1);
    assert!(
        err.contains("2025/01") && err.contains("ermission denied"),
        "{err}"
    );
    assert!(err.contains("hint: check the permissions"), "{err}");
    let err = env.fails(&["start", "--service", "web", "--env", "staging"], 1);
    assert!(err.contains("ermission denied"), "{err}");
    std::fs::set_permissions(&month, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(env.read(&record), before, "the record is untouched");
    assert_eq!(
        names(&month),
        [record.rsplit('/').next().expect("name")],
        "no temp file left"
    );
}

/// Works as root too: a file where the month folder should be.
#[test]
fn a_file_in_the_way_of_the_record_folder() {
    let env = TestEnv::new();
    env.write("deployments/checklists/2025", "not a folder\n");
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 1);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("deployments/checklists/2025"), "{err}");
    assert_eq!(env.read("deployments/checklists/2025"), "not a folder\n");
    assert!(!env.path(".git/deploy-ledger/current").exists());
}

#[test]
fn status_words_of_other_systems_are_normalised_and_unknown_ones_refused() {
    let env = TestEnv::new();
    for (i, word) in ["canceled", "failure", "error", "running"]
        .iter()
        .enumerate()
    {
        let id = format!("DEP-2025-01-1{i}-08-00-api-staging");
        let finished = if *word == "running" {
            String::new()
        } else {
            format!("finished_at: 2025-01-1{i}T08:10:00Z\n")
        };
        env.write(
            &format!("deployments/checklists/2025/01/{id}.md"),
            &format!("---\nschema: 1\nid: {id}\nservice: api\nenvironment: staging\nstatus: {word}\nstarted_at: 2025-01-1{i}T08:00:00Z\n{finished}---\n"),
        );
    }
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["list", "--json"])).expect("json");
    let statuses: Vec<&str> = v
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["in-progress", "failed", "failed", "cancelled"]);
    env.ok(&["validate", "--allow-stale"]);
    let err = env.fails(&["finish", "--status", "kaput"], 1);
    assert!(err.contains("unknown status `kaput`"), "{err}");
    assert!(err.contains("hint: use one of"), "{err}");
    let v2: serde_json::Value = serde_json::from_str(&env.ok(&["list", "--json"])).expect("json");
    assert_eq!(v, v2, "nothing changed");
}

/// Odd input anywhere: an exit code of SPEC §3, never a panic.
#[test]
fn odd_input_never_panics() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let dir = "deployments/checklists/2025/01";
    env.write(&format!("{dir}/empty.md"), "");
    env.write(&format!("{dir}/only-dashes.md"), "---\n---\n");
    env.write(&format!("{dir}/list.md"), "---\n- a\n- b\n---\n");
    env.write(&format!("{dir}/types.md"), "---\nschema: x\nid: [1]\nservice: {a: 1}\nenvironment: 3\nstatus: 4\nstarted_at: 5\nphases: 6\n---\n");
    env.write(&format!("{dir}/phases.md"), "---\nschema: 1\nid: DEP-2025-01-01-00-00-a-b\nservice: a\nenvironment: b\nstatus: success\nstarted_at: 2025-01-01T00:00:00Z\nphases: [1, {name: x}, {name: y, started_at: nope}]\n---\n");
    std::fs::write(
        env.path(&format!("{dir}/binary.md")),
        [0xff, 0xfe, 0x00, b'-', b'-', b'-'],
    )
    .expect("write");
    let cases: &[&[&str]] = &[
        &["list"],
        &["list", "--json"],
        &["status"],
        &["validate"],
        &["validate", "--json"],
        &["show", ""],
        &["show", "DEP-2025-01-01-00-00-a-b"],
        &["list", "--limit", "-1"],
        &["list", "--since", ""],
        &["list", "--until", "2025-13-45"],
        &["check", ""],
        &["check", "0"],
        &["check", "999"],
        &["phase", ""],
        &["phase", "../x"],
        &["finish", "--status", ""],
        &["start", "--service", "\n", "--env", "staging"],
        &[
            "start",
            "--service",
            "b",
            "--env",
            "staging",
            "--label",
            "=x",
        ],
        &[
            "start",
            "--service",
            "b",
            "--env",
            "staging",
            "--strategy",
            "",
        ],
        &["validate", "--rev", ""],
        &["validate", "--rev", "HEAD", "x.md"],
        &["completions", ""],
        &["init", "--bogus"],
    ];
    for args in cases {
        let out = env.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        let code = out.status.code().expect("exited");
        assert!((0..=3).contains(&code), "{args:?}: exit {code}: {err}");
        if code == 1 {
            assert!(err.contains("error: "), "{args:?}: {err}");
        }
    }
    let out = env
        .cmd()
        .env("DEPLOY_LEDGER_NOW", "yesterday")
        .args(["phase", "execution"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("DEPLOY_LEDGER_NOW=`yesterday` is not an RFC 3339 time"));
}

/// Every value the tool checks itself is exit 1 (README, exit codes), with
/// one `error:` line, a hint and nothing written.
#[test]
fn bad_values_are_user_errors_with_one_line_and_a_hint() {
    let env = TestEnv::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &["start", "--service", "api", "--strategy", "yolo"],
            "unknown strategy `yolo`",
        ),
        (
            &["start", "--service", "api", "--label", "nokv"],
            "label `nokv` is not key=value",
        ),
        (
            &["start", "--service", "api", "--risk", "extreme"],
            "--risk `extreme` is not one of low, medium, high",
        ),
        (
            &["start", "--service", "api", "--change-type", "weird"],
            "--change-type `weird` is not one of standard, normal, emergency",
        ),
        (
            &[
                "start",
                "--service",
                "api",
                "--version",
                "1.0\nstatus: success",
            ],
            "--version `1.0\\nstatus: success` contains a newline",
        ),
        (
            &["start", "--service", "api", "--operator", "a\tb"],
            "--operator `a\\tb` contains a newline or another control character",
        ),
        (
            &[
                "record",
                "--service",
                "api",
                "--started",
                "2025-01-15T10:00:00Z",
                "--finished",
                "2025-01-15T10:05:00Z",
                "--status",
                "success",
                "--risk",
                "huge",
            ],
            "--risk `huge`",
        ),
        (&["list", "--status", "bogus"], "unknown status `bogus`"),
        (
            &["list", "--since", "yesterday"],
            "`yesterday` is not a date",
        ),
    ];
    for (args, want) in cases {
        let err = env.fails(args, 1);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(want),
            "{args:?}: {err}"
        );
        assert!(lines[1].starts_with("hint: "), "{args:?}: {err}");
        assert!(env.records().is_empty(), "{args:?}");
    }
    env.ok(&[
        "start",
        "--service",
        "api",
        "--risk",
        "high",
        "--change-type",
        "emergency",
    ]);
    for (args, want) in [
        (
            &["finish", "--status", "weird"][..],
            "unknown status `weird`",
        ),
        (
            &["finish", "--status", "in-progress"],
            "`finish --status in-progress` is not an outcome",
        ),
    ] {
        let before = env.only_record();
        let err = env.fails(args, 1);
        assert!(
            err.contains(want) && err.contains("hint: "),
            "{args:?}: {err}"
        );
        assert_eq!(env.only_record(), before);
    }
    // What clap rejects from a fixed list stays a usage error.
    env.fails(&["export", "--format", "png"], 2);
}

#[test]
fn missing_hints_a_missing_file_and_a_clock_out_of_range() {
    let mut env = TestEnv::new();
    let err = env.fails(&["validate", "nonexist.md"], 1);
    assert!(err.contains("error: nonexist.md: no such file"), "{err}");
    assert!(err.contains("hint: name record files"), "{err}");

    env.at("9999-12-31T23:59:59-10:00");
    let err = env.fails(&["start", "--service", "api"], 1);
    assert!(
        err.contains("error: DEPLOY_LEDGER_NOW=`9999-12-31T23:59:59-10:00` is out of range"),
        "{err}"
    );
    assert!(err.contains("hint: e.g. DEPLOY_LEDGER_NOW="), "{err}");
    assert!(!err.contains("internal"), "{err}");
    assert!(env.records().is_empty());
}

#[test]
fn a_record_that_is_not_utf8_is_named_the_same_way_by_list_and_validate() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "web", "--env", "staging"]);
    let rel = "deployments/checklists/2025/01/latin1.md";
    std::fs::write(env.path(rel), b"---\nid: caf\xe9\n---\n").expect("write");
    let out = env.run(&["list"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "warning: skipped a broken record {rel}: not UTF-8 text (invalid byte at offset 11)"
        )),
        "{err}"
    );
    assert!(
        !err.contains(&env.repo.display().to_string()),
        "relative path: {err}"
    );
    let out = env.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{rel}:1: not UTF-8 text (invalid byte at offset 11); a record is UTF-8 markdown"
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("mapping"), "{stdout}");
}

#[test]
fn a_title_without_a_version_has_one_space() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "web", "--env", "staging"]);
    assert!(
        env.only_record().contains("\n# web → staging\n"),
        "{}",
        env.only_record()
    );
}

/// `--reason` is one line (like every other value) and says why a
/// deployment failed or was cancelled: on a success it is refused rather
/// than written as `failure: { reason }`. Exit 1, nothing written.
#[test]
fn a_reason_is_one_line_and_goes_with_a_failure() {
    let mut env = TestEnv::new();
    let record = |status: &'static str, reason: &'static str| -> Vec<&'static str> {
        vec![
            "record",
            "--service",
            "web",
            "--env",
            "staging",
            "--started",
            "2025-01-14T10:00:00Z",
            "--finished",
            "2025-01-14T10:05:00Z",
            "--status",
            status,
            "--reason",
            reason,
        ]
    };
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let newline = "--reason `first\\nsecond` contains a newline";
    let on_success = "--reason is for a failed or cancelled deployment, not a success";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["finish", "--status", "failed", "--reason", "first\nsecond"],
            newline,
        ),
        (
            vec!["finish", "--reason", "x\r"],
            "--reason `x\\r` contains",
        ),
        (
            vec!["finish", "--status", "success", "--reason", "x"],
            on_success,
        ),
        (vec!["finish", "--reason", "x"], on_success),
        (record("failed", "first\nsecond"), newline),
        (record("success", "x"), on_success),
        (
            vec![
                "rollback",
                "--of",
                "DEP-2025-01-14-10-00-web-staging",
                "--reason",
                "first\nsecond",
            ],
            newline,
        ),
    ];
    for (args, want) in &cases {
        if args[0] == "rollback" {
            env.ok(&record("success", ""));
        }
        let before: Vec<String> = env.records().iter().map(|r| env.read(r)).collect();
        let err = env.fails(args, 1);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(want),
            "{args:?}: {err}"
        );
        assert!(lines[1].starts_with("hint: "), "{args:?}: {err}");
        let after: Vec<String> = env.records().iter().map(|r| env.read(r)).collect();
        assert_eq!(before, after, "{args:?}: nothing written");
    }
    // An empty reason is no reason, whatever the status (`--reason "$WHY"`
    // in a CI script); a failure or a cancellation keeps its reason.
    env.at("2025-01-15T14:40:00Z");
    env.ok(&["finish", "--reason", " "]);
    let api = env.read("deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-staging.md");
    assert!(
        api.contains("status: success\n") && !api.contains("failure"),
        "{api}"
    );
    let mut cancelled = record("cancelled", "change window closed");
    cancelled[2] = "db";
    env.ok(&cancelled);
    let web = env.read("deployments/checklists/2025/01/DEP-2025-01-14-10-00-db-staging.md");
    assert!(
        web.contains("failure: { reason: change window closed }\n"),
        "{web}"
    );
}
