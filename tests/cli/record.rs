//! `record`: complete records after the fact, idempotent, validated.

use crate::env::TestEnv;

const PATH: &str = "deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-production.md";

fn record_args<'a>(status: &'a str, finished: &'a str) -> Vec<&'a str> {
    vec![
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--version",
        "2.3.0",
        "--operator",
        "alice",
        "--started",
        "2025-01-15T15:30:00+01:00",
        "--finished",
        finished,
        "--status",
        status,
        "--phase",
        "planning=2025-01-15T14:30:00Z..2025-01-15T14:35:00Z",
        "--phase",
        "execution=2025-01-15T14:35:00Z..2025-01-15T14:45:12Z",
    ]
}

#[test]
fn writes_a_complete_record_without_touching_the_pointer() {
    let mut env = TestEnv::new();
    env.at("2025-02-01T10:00:00Z");
    let head = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    let out = env.ok(&record_args("success", "2025-01-15T14:45:12Z"));
    assert!(
        out.contains("recorded (success) DEP-2025-01-15-14-30-api-production"),
        "{out}"
    );
    let text = env.read(PATH);
    assert!(text.contains("status: success\n"), "{text}");
    assert!(
        text.contains("started_at: 2025-01-15T14:30:00Z\n"),
        "offset normalised to UTC: {text}"
    );
    assert!(text.contains("finished_at: 2025-01-15T14:45:12Z\n"));
    assert!(text.contains("duration_seconds: 912\n"));
    assert!(
        text.contains(&format!("git: {{ commit: {head}, branch: main }}")),
        "{text}"
    );
    assert!(text.contains("  - { name: execution, started_at: 2025-01-15T14:35:00Z, finished_at: 2025-01-15T14:45:12Z, duration_seconds: 612 }\n"), "{text}");
    assert!(
        !text.contains("checklist:"),
        "no checklist counts were kept: {text}"
    );
    assert!(
        !env.path(".git/deploy-ledger/current").exists(),
        "pointer untouched"
    );
    // A deployment started afterwards is unaffected by the backfill.
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.ok(&["finish"]);
}

#[test]
fn the_same_record_twice_writes_nothing_and_other_data_is_refused() {
    let env = TestEnv::new();
    env.ok(&record_args("success", "2025-01-15T14:45:12Z"));
    let before = env.read(PATH);
    let out = env.ok(&record_args("success", "2025-01-15T14:45:12Z"));
    assert!(
        out.contains("already recorded DEP-2025-01-15-14-30-api-production"),
        "{out}"
    );
    assert_eq!(env.read(PATH), before);
    let err = env.fails(&record_args("failed", "2025-01-15T14:45:12Z"), 3);
    assert!(
        err.contains(
            "already recorded with other data (status: failed here, success in the ledger)"
        ),
        "{err}"
    );
    assert_eq!(env.records().len(), 1);
    assert_eq!(env.read(PATH), before);
    // Another deployment may not take an id already used.
    let err = env.fails(
        &[
            "record",
            "--service",
            "api",
            "--env",
            "production",
            "--id",
            "DEP-2025-01-15-14-30-api-production",
            "--started",
            "2025-01-15T14:30:30Z",
            "--finished",
            "2025-01-15T16:10:00Z",
            "--status",
            "success",
        ],
        3,
    );
    assert!(
        err.contains(
            "a different deployment already has the id DEP-2025-01-15-14-30-api-production"
        ),
        "{err}"
    );
    let err = env.fails(
        &[
            "record",
            "--service",
            "api",
            "--env",
            "production",
            "--id",
            "../escape",
            "--started",
            "2025-01-15T16:00:00Z",
            "--finished",
            "2025-01-15T16:10:00Z",
            "--status",
            "success",
        ],
        1,
    );
    assert!(
        err.contains("record id `../escape` does not match the start time"),
        "{err}"
    );
    assert_eq!(env.records().len(), 1);
}

/// `validate` (and the pre-push hook) accept only the derived id, or it with
/// `-2`, `-3`…: `record --id` refuses anything else before writing.
#[test]
fn an_id_that_validate_would_reject_is_refused_up_front() {
    let env = TestEnv::new();
    let args = |id: &str| -> Vec<String> {
        [
            "record",
            "--service",
            "api",
            "--env",
            "production",
            "--id",
            id,
            "--started",
            "2025-01-15T14:30:00Z",
            "--finished",
            "2025-01-15T14:45:00Z",
            "--status",
            "success",
        ]
        .map(String::from)
        .to_vec()
    };
    for id in [
        "DEP-custom",
        "DEP-2025-01-15-14-31-api-production",
        "DEP-2025-01-15-14-30-api-staging",
        "DEP-2025-01-15-14-30-api-production-1",
        "DEP-2025-01-15-14-30-api-production-x",
        // Reads like `-2`, but is another id.
        "DEP-2025-01-15-14-30-api-production-02",
    ] {
        let a = args(id);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let err = env.fails(&a, 1);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{err}");
        assert!(
            lines[0].starts_with(&format!(
                "error: record id `{id}` does not match the start time, service and environment"
            )),
            "{err}"
        );
        assert!(
            lines[1].starts_with(
                "hint: leave the id out to derive `DEP-2025-01-15-14-30-api-production`"
            ),
            "{err}"
        );
        assert!(env.records().is_empty(), "nothing written for {id}");
    }
    // The derived id, or it with a collision suffix, is taken and validates.
    let a = args("DEP-2025-01-15-14-30-api-production-2");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    env.ok(&a);
    env.ok(&["validate"]);
}

#[test]
fn bad_times_and_statuses_are_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let err = env.fails(&record_args("success", "2025-01-15T14:00:00Z"), 1);
    assert!(
        err.contains("finished (2025-01-15T14:00:00Z) is before started (2025-01-15T14:30:00Z)"),
        "{err}"
    );
    let err = env.fails(&record_args("exploded", "2025-01-15T14:45:12Z"), 1);
    assert!(err.contains("unknown status `exploded`"), "{err}");
    let err = env.fails(&record_args("in-progress", "2025-01-15T14:45:12Z"), 1);
    assert!(err.contains("must be finished"), "{err}");
    let err = env.fails(&record_args("success", "yesterday"), 1);
    assert!(
        err.contains("--finished `yesterday` is not an RFC 3339 time"),
        "{err}"
    );
    let mut args = record_args("success", "2025-01-15T14:45:12Z");
    args.extend([
        "--phase",
        "validation=2025-01-15T14:40:00Z..2025-01-15T14:50:00Z",
    ]);
    let err = env.fails(&args, 1);
    assert!(err.contains("phase `validation`"), "{err}");
    assert!(env.records().is_empty());
}

#[test]
fn commit_and_sha_flags() {
    let env = TestEnv::new();
    let first = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    env.write("app.txt", "v2\n");
    env.git(&["add", "app.txt"]);
    env.git(&["commit", "-q", "-m", "v2"]);
    let mut args = record_args("failed", "2025-01-15T14:45:12Z");
    args.extend([
        "--sha",
        "HEAD~1",
        "--reason",
        "migration timed out",
        "--commit",
    ]);
    env.ok(&args);
    let text = env.read(PATH);
    assert!(
        text.contains(&format!("git: {{ commit: {first} }}")),
        "{text}"
    );
    assert!(
        text.contains("failure: { reason: migration timed out }\n"),
        "{text}"
    );
    let log = env.git(&["log", "-1", "--format=%s", "--name-only"]);
    assert!(
        log.starts_with("deploy(api): record DEP-2025-01-15-14-30-api-production [production]\n"),
        "{log}"
    );
    let err = env.fails(
        &[
            "record",
            "--service",
            "api",
            "--env",
            "staging",
            "--started",
            "2025-01-15T14:30:00Z",
            "--finished",
            "2025-01-15T14:45:12Z",
            "--status",
            "success",
            "--sha",
            "no-such-branch",
        ],
        1,
    );
    assert!(
        err.contains("error: --sha `no-such-branch` is not a revision of this repository"),
        "{err}"
    );
    assert!(
        err.contains("hint: pass a branch, tag or commit of this clone (e.g. --sha HEAD)"),
        "{err}"
    );
    assert!(
        !err.contains("--rev"),
        "the hint names record's own flag: {err}"
    );
}

/// The body says the record was written after the fact, with or without a
/// `--note` (the note follows that line; it does not replace it).
#[test]
fn a_note_is_added_to_the_after_the_fact_line() {
    let mut env = TestEnv::new();
    env.at("2025-02-01T10:00:00Z");
    let after = "Recorded after the fact; the checklist above was not kept during the deployment.";
    env.ok(&record_args("success", "2025-01-15T14:45:12Z"));
    assert!(env.read(PATH).contains(after));
    let mut args = record_args("success", "2025-01-15T15:45:12Z");
    args[10] = "2025-01-15T15:30:00Z";
    args.truncate(15);
    args.extend(["--note", "Backfilled from the change log."]);
    env.ok(&args);
    let text = env.read("deployments/checklists/2025/01/DEP-2025-01-15-15-30-api-production.md");
    assert!(
        text.contains(&format!("{after}\n\nBackfilled from the change log.")),
        "{text}"
    );
}

#[test]
fn json_says_whether_it_wrote() {
    let mut env = TestEnv::new();
    env.at("2025-02-01T10:00:00Z");
    let mut args = record_args("success", "2025-01-15T14:45:12Z");
    args.push("--json");
    let written = env.json(&args);
    assert_eq!(written["id"], "DEP-2025-01-15-14-30-api-production");
    assert_eq!(written["path"], PATH);
    assert!(env.path(PATH).is_file());
    assert_eq!(written["status"], "success");
    assert_eq!(written["started_at"], "2025-01-15T14:30:00Z");
    assert_eq!(written["finished_at"], "2025-01-15T14:45:12Z");
    assert_eq!(written["duration_seconds"], 912);
    assert_eq!(written["operator"], "alice");
    assert_eq!(written["written"], true);
    assert_eq!(written["commit"], serde_json::Value::Null);
    // The same deployment again: nothing written, the same record named.
    let text = env.read(PATH);
    let again = env.json(&args);
    assert_eq!(again["written"], false);
    assert_eq!(again["id"], written["id"]);
    assert_eq!(again["path"], PATH);
    assert_eq!(again["status"], "success");
    assert_eq!(env.read(PATH), text);
    // And with --commit, the commit it made.
    let mut args = record_args("failed", "2025-01-16T10:05:00Z");
    args[10] = "2025-01-16T10:00:00Z";
    args.truncate(15);
    args.extend(["--commit", "--json"]);
    let committed = env.json(&args);
    assert_eq!(committed["id"], "DEP-2025-01-16-10-00-api-production");
    assert_eq!(committed["status"], "failed");
    let head = env.git(&["rev-parse", "HEAD"]);
    assert_eq!(committed["commit"], head.trim());
}

#[test]
fn json_errors_print_nothing_and_write_nothing() {
    let mut env = TestEnv::new();
    env.at("2025-02-01T10:00:00Z");
    env.ok(&record_args("success", "2025-01-15T14:45:12Z"));
    let before = env.snapshot();
    // An unknown status word (exit 1), the same deployment with other
    // data (exit 3), a missing flag (exit 2).
    let mut bad = record_args("bogus", "2025-01-15T14:45:12Z");
    bad.push("--json");
    let err = env.fails_quietly(&bad, 1);
    assert!(err.contains("unknown status `bogus`"), "{err}");
    let mut other = record_args("failed", "2025-01-15T14:45:12Z");
    other.push("--json");
    let err = env.fails_quietly(&other, 3);
    assert!(err.contains("already recorded with other data"), "{err}");
    env.fails_quietly(&["record", "--service", "api", "--json"], 2);
    assert_eq!(env.snapshot(), before);
}
