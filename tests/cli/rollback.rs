//! `rollback`: the new record, the mark on the old one, and the refusals.

use crate::env::TestEnv;

const V1: &str = "deployments/checklists/2025/01/DEP-2025-01-10-09-00-api-production.md";
const V2: &str = "deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-production.md";
const RB: &str = "deployments/checklists/2025/01/DEP-2025-01-15-15-00-api-production.md";

fn two_successes(env: &mut TestEnv) {
    env.ok(&[
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--version",
        "2.2.1",
        "--started",
        "2025-01-10T09:00:00Z",
        "--finished",
        "2025-01-10T09:10:00Z",
        "--status",
        "success",
    ]);
    env.ok(&[
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--version",
        "2.3.0",
        "--started",
        "2025-01-15T14:30:00Z",
        "--finished",
        "2025-01-15T14:45:12Z",
        "--status",
        "success",
    ]);
    env.at("2025-01-15T15:00:00Z");
}

#[test]
fn rollback_of_the_last_success_links_both_records() {
    let mut env = TestEnv::new();
    two_successes(&mut env);
    let out = env.ok(&[
        "rollback",
        "--service",
        "api",
        "--env",
        "production",
        "--reason",
        "error rate doubled",
        "--operator",
        "bob",
        "--commit",
    ]);
    assert!(
        out.contains("rolled back DEP-2025-01-15-14-30-api-production"),
        "{out}"
    );
    let new = env.read(RB);
    // The rollback restored service: it is a success; the undone one is rolled-back.
    assert!(new.contains("status: success\n"), "{new}");
    assert!(
        new.contains("version: 2.2.1\n"),
        "to-version defaults to the success before: {new}"
    );
    assert!(new.contains("operator: bob\n"));
    assert!(
        new.contains("started_at: 2025-01-15T15:00:00Z\nfinished_at: 2025-01-15T15:00:00Z\n"),
        "{new}"
    );
    assert!(new.contains("rollback: { of: DEP-2025-01-15-14-30-api-production, from_version: 2.3.0, to_version: 2.2.1, reason: error rate doubled }\n"), "{new}");
    let old = env.read(V2);
    assert!(old.contains("status: rolled-back\n"), "{old}");
    assert!(
        old.contains("rolled_back_by: DEP-2025-01-15-15-00-api-production\n"),
        "{old}"
    );
    assert!(
        old.contains("finished_at: 2025-01-15T14:45:12Z\n"),
        "finish time kept"
    );
    assert!(
        old.contains("↩️ **rolled-back**"),
        "badges regenerated: {old}"
    );
    assert!(
        env.read(V1).contains("status: success\n"),
        "the earlier one untouched"
    );
    // Both files in one commit, alone.
    let log = env.git(&["log", "-1", "--format=%s", "--name-only"]);
    assert!(log.starts_with("deploy(api): rollback DEP-2025-01-15-15-00-api-production of DEP-2025-01-15-14-30-api-production [production]\n"), "{log}");
    assert!(log.contains(RB) && log.contains(V2), "{log}");
    assert_eq!(env.git(&["status", "--porcelain", "--", RB, V2]), "");
}

#[test]
fn rollback_of_an_id_with_explicit_times_and_version() {
    let mut env = TestEnv::new();
    two_successes(&mut env);
    env.ok(&[
        "rollback",
        "--of",
        "DEP-2025-01-10-09-00-api-production",
        "--to-version",
        "2.0.0",
        "--started",
        "2025-01-11T08:00:00Z",
        "--finished",
        "2025-01-11T08:05:00Z",
    ]);
    let new = env.read("deployments/checklists/2025/01/DEP-2025-01-11-08-00-api-production.md");
    assert!(new.contains("duration_seconds: 300\n"), "{new}");
    assert!(new.contains("rollback: { of: DEP-2025-01-10-09-00-api-production, from_version: 2.2.1, to_version: 2.0.0 }\n"), "{new}");
    assert!(env
        .read(V1)
        .contains("rolled_back_by: DEP-2025-01-11-08-00-api-production\n"));
}

#[test]
fn refusals_write_nothing() {
    let mut env = TestEnv::new();
    two_successes(&mut env);
    let before: Vec<String> = env.records().iter().map(|r| env.read(r)).collect();

    let err = env.fails(&["rollback", "--of", "DEP-nope"], 1);
    assert!(err.contains("no record with id `DEP-nope`"), "{err}");
    let err = env.fails(&["rollback", "--service", "web", "--env", "production"], 1);
    assert!(
        err.contains("no successful deployment of web in production"),
        "{err}"
    );
    let err = env.fails(&["rollback"], 2);
    assert!(err.contains("say which deployment to roll back"), "{err}");
    let err = env.fails(
        &[
            "rollback",
            "--of",
            "DEP-2025-01-15-14-30-api-production",
            "--started",
            "2025-01-15T14:40:00Z",
        ],
        1,
    );
    assert!(
        err.contains("before DEP-2025-01-15-14-30-api-production finished"),
        "{err}"
    );
    let after: Vec<String> = env.records().iter().map(|r| env.read(r)).collect();
    assert_eq!(before, after);

    // A failed deployment, or one already rolled back, is not rolled back.
    env.ok(&[
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
        "failed",
    ]);
    let err = env.fails(&["rollback", "--of", "DEP-2025-01-14-10-00-web-staging"], 1);
    assert!(err.contains("is failed, not a success"), "{err}");
    env.ok(&["rollback", "--of", "DEP-2025-01-15-14-30-api-production"]);
    let err = env.fails(
        &["rollback", "--of", "DEP-2025-01-15-14-30-api-production"],
        1,
    );
    assert!(
        err.contains("is rolled-back by DEP-2025-01-15-15-00-api-production, not a success"),
        "{err}"
    );
    assert_eq!(env.records().len(), 4);
}

#[test]
fn a_rollback_counts_as_a_change_failure_in_analytics() {
    let mut env = TestEnv::new();
    two_successes(&mut env);
    let report = |env: &TestEnv| -> serde_json::Value {
        let out = env.ok(&["analytics", "--format", "json"]);
        serde_json::from_str(&out).expect("JSON report")
    };
    let before = report(&env);
    assert_eq!(
        before["dora"]["production"]["change_failure_rate"]["failed"],
        0
    );
    env.ok(&[
        "rollback",
        "--service",
        "api",
        "--env",
        "production",
        "--commit",
    ]);
    let after = report(&env);
    // V1 success, V2 rolled-back, the rollback itself a success:
    // change failure rate = 1 / 3; recovery = V2 finished 14:45:12 →
    // rollback finished 15:00:00 = 14 min 48 s = 888 s.
    assert_eq!(
        after["summary"]["by_status"]["rolled-back"], 1,
        "{}",
        after["summary"]
    );
    assert_eq!(
        after["summary"]["by_status"]["success"], 2,
        "{}",
        after["summary"]
    );
    let dora = &after["dora"]["production"];
    assert_eq!(dora["change_failure_rate"]["failed"], 1, "{dora}");
    assert_eq!(dora["change_failure_rate"]["total"], 3, "{dora}");
    assert_eq!(dora["recovery_time"]["failures"], 1, "{dora}");
    assert_eq!(
        dora["recovery_time"]["median_seconds"].as_f64(),
        Some(888.0),
        "{dora}"
    );
}

/// The help says what `rollback` writes: the new record is a success, only
/// the undone one becomes rolled-back, and --commit commits both files.
#[test]
fn help_names_the_statuses_it_writes() {
    let env = TestEnv::new();
    let help = env.ok(&["rollback", "--help"]);
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Writes a new record (status success"),
        "{help}"
    );
    assert!(!flat.contains("status rolled-back,"), "{help}");
    assert!(
        flat.contains("Commit both files (the rollback record and the rolled-back one)"),
        "{help}"
    );
}

#[test]
fn json_names_the_rollback_and_the_rolled_back_record() {
    let mut env = TestEnv::new();
    two_successes(&mut env);
    let done = env.json(&[
        "rollback",
        "--service",
        "api",
        "--env",
        "production",
        "--reason",
        "error rate doubled",
        "--commit",
        "--json",
    ]);
    assert_eq!(done["id"], "DEP-2025-01-15-15-00-api-production");
    assert_eq!(done["path"], RB);
    assert!(env.path(RB).is_file());
    assert_eq!(done["status"], "success");
    assert_eq!(done["version"], "2.2.1");
    assert_eq!(
        done["rollback"],
        serde_json::json!({
            "of": "DEP-2025-01-15-14-30-api-production",
            "from_version": "2.3.0",
            "to_version": "2.2.1",
            "reason": "error rate doubled",
        })
    );
    assert_eq!(
        done["rolled_back"],
        serde_json::json!({
            "id": "DEP-2025-01-15-14-30-api-production",
            "path": V2,
            "status": "rolled-back",
        })
    );
    assert!(env.read(V2).contains("status: rolled-back\n"));
    let head = env.git(&["rev-parse", "HEAD"]);
    assert_eq!(done["commit"], head.trim());
}

#[test]
fn json_refusals_print_nothing_and_write_nothing() {
    let mut env = TestEnv::new();
    two_successes(&mut env);
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "records"]);
    let before = env.snapshot();
    let err = env.fails_quietly(&["rollback", "--of", "DEP-nope", "--json"], 1);
    assert!(err.contains("no record with id `DEP-nope`"), "{err}");
    let err = env.fails_quietly(
        &[
            "rollback",
            "--service",
            "web",
            "--env",
            "production",
            "--json",
        ],
        1,
    );
    assert!(err.starts_with("error: "), "{err}");
    env.fails_quietly(&["rollback", "--json"], 2);
    assert_eq!(env.snapshot(), before);
    assert_eq!(env.git(&["status", "--porcelain"]), "", "clean");
}

/// `export --format org` keeps what a rollback says (of, versions, reason)
/// and every key of `change`, as the JSON export does.
#[test]
fn org_export_keeps_the_rollback_and_the_change() {
    let mut env = TestEnv::new();
    two_successes(&mut env);
    env.ok(&[
        "rollback",
        "--service",
        "api",
        "--env",
        "production",
        "--reason",
        "error rate doubled",
    ]);
    let text = env.read(V1).replacen(
        "---\n#",
        "change: { id: CHG-7, type: standard, risk: low }\n---\n#",
        1,
    );
    assert!(text.contains("change: { id: CHG-7"), "{text}");
    env.write(V1, &text);
    let org = env.ok(&["export", "--format", "org"]);
    for line in [
        ":ROLLBACK_OF: DEP-2025-01-15-14-30-api-production\n",
        ":ROLLBACK_FROM_VERSION: 2.3.0\n",
        ":ROLLBACK_TO_VERSION: 2.2.1\n",
        ":ROLLBACK_REASON: error rate doubled\n",
        ":CHANGE_ID: CHG-7\n:CHANGE_RISK: low\n:CHANGE_TYPE: standard\n",
    ] {
        assert!(org.contains(line), "{line}: {org}");
    }
}
