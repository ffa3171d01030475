//! `validate`: one `path:line: message` per problem, exit 1 if any.

use crate::env::TestEnv;

const DIR: &str = "deployments/checklists/2025/01";

/// A finished record as the tool writes it.
fn good(id_time: &str, service: &str, env: &str) -> (String, String) {
    let (date, hm) = id_time.split_at(10);
    let (h, m) = hm.trim_start_matches('-').split_at(2);
    let m = m.trim_start_matches('-');
    let id = format!("DEP-{date}-{h}-{m}-{service}-{env}");
    let text = format!(
        "---\nschema: 1\nid: {id}\nservice: {service}\nenvironment: {env}\nstatus: success\nstarted_at: {date}T{h}:{m}:00Z\nfinished_at: {date}T{h}:{m}:30Z\nduration_seconds: 30\nphases:\n  - {{ name: planning, started_at: {date}T{h}:{m}:00Z, finished_at: {date}T{h}:{m}:10Z, duration_seconds: 10 }}\n  - {{ name: execution, started_at: {date}T{h}:{m}:10Z, finished_at: {date}T{h}:{m}:30Z, duration_seconds: 20 }}\n---\n# body\n"
    );
    (id, text)
}

fn write_good(env: &TestEnv, id_time: &str, service: &str, e: &str) -> String {
    let (id, text) = good(id_time, service, e);
    let path = format!("{DIR}/{id}.md");
    env.write(&path, &text);
    path
}

#[test]
fn a_ledger_written_by_the_tool_validates() {
    let mut env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "production"]);
    env.at("2025-01-15T14:35:00Z").ok(&["phase", "execution"]);
    env.at("2025-01-15T14:40:00Z").ok(&["finish"]);
    env.ok(&["start", "--service", "api", "--env", "production"]);
    write_good(&env, "2025-01-10-08-00", "web", "staging");
    env.write("deployments/checklists/README.md", "# Not a record\n");
    let out = env.run(&["validate"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "3 records checked, no problems\n"
    );
}

#[test]
fn every_problem_is_one_line_with_path_and_line() {
    let mut env = TestEnv::new();
    env.at("2025-01-20T12:00:00Z");
    let ok = write_good(&env, "2025-01-10-08-00", "api", "production");
    // Broken YAML: named, and the others are still checked.
    env.write(
        &format!("{DIR}/DEP-2025-01-10-09-00-api-production.md"),
        "---\nschema: 1\nid: DEP-2025-01-10-09-00-api-production\nservice: [api\n---\n",
    );
    // A duplicate id in another file (named after a different id).
    let (_, text) = good("2025-01-10-08-00", "api", "production");
    env.write("deployments/checklists/2025/02/copy.md", &text);
    // Times out of order, and a wrong duration.
    let (id, text) = good("2025-01-11-08-00", "web", "staging");
    env.write(
        &format!("{DIR}/{id}.md"),
        &text
            .replace(
                "finished_at: 2025-01-11T08:00:10Z",
                "finished_at: 2025-01-11T07:59:00Z",
            )
            .replace("duration_seconds: 30", "duration_seconds: 99"),
    );
    // Not slugs, an unknown status word, a missing field.
    env.write(
        &format!("{DIR}/bad-fields.md"),
        "---\nschema: 2\nid: DEP-2025-01-12-08-00-Web App-production\nservice: Web App\nenvironment: production\nstatus: exploded\nstarted_at: 2025-01-12T08:00:00Z\n---\n",
    );
    env.write(
        &format!("{DIR}/DEP-2025-01-12-09-00-api-staging.md"),
        "---\nschema: 1\nid: DEP-2025-01-12-09-00-api-staging\nservice: api\nstatus: success\n---\n",
    );
    // In progress for 5 days (stale after 24 h), and finished without a time.
    env.write(
        &format!("{DIR}/DEP-2025-01-15-08-00-api-staging.md"),
        "---\nschema: 1\nid: DEP-2025-01-15-08-00-api-staging\nservice: api\nenvironment: staging\nstatus: in-progress\nstarted_at: 2025-01-15T08:00:00Z\n---\n",
    );
    env.write(
        &format!("{DIR}/DEP-2025-01-16-08-00-api-staging.md"),
        "---\nschema: 1\nid: DEP-2025-01-16-08-00-api-staging\nservice: api\nenvironment: staging\nstatus: failure\nstarted_at: 2025-01-16T08:00:00Z\n---\n",
    );
    let out = env.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        !stdout.contains(&format!("{ok}:")),
        "the good record has no problem:\n{stdout}"
    );
    assert!(
        stderr.starts_with("error: 14 problems in 8 records checked\nhint: "),
        "{stderr}"
    );
    insta::assert_snapshot!(stdout);

    let json: serde_json::Value = serde_json::from_str(
        &String::from_utf8(env.run(&["validate", "--json"]).stdout).expect("utf-8"),
    )
    .expect("json");
    assert_eq!(json["checked"], 8);
    let kinds: Vec<&str> = json["problems"]
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind"))
        .collect();
    for kind in [
        "yaml",
        "duplicate",
        "time",
        "duration",
        "slug",
        "status",
        "missing",
        "stale",
        "schema",
        "id",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // --allow-stale leaves the stale record out.
    let out = env.run(&["validate", "--allow-stale"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("stale after"));
    // Nothing was changed by validating.
    assert!(env.read(&ok).contains("status: success"));
}

#[test]
fn validate_explicit_files() {
    let env = TestEnv::new();
    let good = write_good(&env, "2025-01-10-08-00", "api", "production");
    env.write("notes.md", "# notes, no frontmatter\n");
    env.ok(&["validate", &good]);
    let out = env.run(&["validate", &good, "notes.md"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "notes.md:1: no frontmatter: a record starts with a `---` line, YAML, and another `---` line\n"
    );
    let err = env.fails(&["validate", "missing.md"], 1);
    assert!(err.contains("missing.md"), "{err}");
}

#[test]
fn validate_at_a_revision_reads_committed_records() {
    let env = TestEnv::new();
    let path = write_good(&env, "2025-01-10-08-00", "api", "production");
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "record"]);
    // Break the work tree copy: the committed one is still fine.
    env.write(&path, "---\nschema: 1\nid: [\n---\n");
    env.fails(&["validate"], 1);
    env.ok(&["validate", "--rev", "HEAD"]);
    // Commit a broken record: --rev names it.
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "broken"]);
    let out = env.run(&["validate", "--rev", "HEAD"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with(&format!("{path}:")), "{stdout}");
    assert!(
        stdout.contains("YAML") || stdout.contains("expected"),
        "{stdout}"
    );
    env.ok(&["validate", "--rev", "HEAD~1"]);
    let err = env.fails(&["validate", "--rev", "no-such-branch"], 1);
    assert!(err.contains("`no-such-branch` is not a revision"), "{err}");
    // A commit with no ledger at all has nothing to check.
    env.ok(&["validate", "--rev", "HEAD~2"]);
}

#[test]
fn validate_from_a_subfolder_names_paths_from_the_root() {
    let env = TestEnv::new();
    let path = write_good(&env, "2025-01-10-08-00", "api", "production");
    env.write(
        &path,
        &env.read(&path).replace("service: api", "service: API"),
    );
    std::fs::create_dir_all(env.path("src")).expect("mkdir");
    let out = env
        .cmd()
        .arg("validate")
        .current_dir(env.path("src"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{path}:4: service `API` is not a slug (a-z, 0-9, `.`, `_`, `-`; at most 64)\n")
    );
}

#[test]
fn named_files_are_checked_against_the_others_ids() {
    let env = TestEnv::new();
    let first = write_good(&env, "2025-01-10-08-00", "api", "production");
    // Another record with problems: not named, so not reported.
    let (id, text) = good("2025-01-11-08-00", "web", "staging");
    let other = format!("{DIR}/{id}.md");
    env.write(
        &other,
        &text.replace("duration_seconds: 30", "duration_seconds: 1"),
    );
    let (_, copy) = good("2025-01-10-08-00", "api", "production");
    let dup = "deployments/checklists/2025/02/DEP-2025-01-10-08-00-api-production.md";
    env.write(dup, &copy);
    let out = env.run(&["validate", dup]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{dup}:3: duplicate id `DEP-2025-01-10-08-00-api-production` (also in {first})\n")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 problem in 1 record checked"));
    // The same at a revision, paths as in the repository.
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "records"]);
    std::fs::remove_file(env.path(dup)).expect("rm");
    let out = env.run(&["validate", "--rev", "HEAD", dup]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{dup}:3: duplicate id `DEP-2025-01-10-08-00-api-production` (also in {first})\n")
    );
    let out = env.run(&["validate", "--rev", "HEAD", &other]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with(&format!("{other}:9: duration_seconds is 1")));
    env.ok(&["validate", "--rev", "HEAD~1"]);
    let err = env.fails(
        &[
            "validate",
            "--rev",
            "HEAD",
            "deployments/checklists/nope.md",
        ],
        1,
    );
    assert!(
        err.contains("deployments/checklists/nope.md is not a record file at HEAD"),
        "{err}"
    );
}

#[test]
fn an_unknown_status_or_start_time_hides_no_other_problem() {
    let env = TestEnv::new();
    let status = format!("{DIR}/wrong-name.md");
    env.write(
        &status,
        "---\nschema: 1\nid: DEP-2025-01-12-08-00-api-production\nservice: api\nenvironment: Prod\nstatus: bogus\nstarted_at: 2025-01-12T08:00:00Z\nfinished_at: 2025-01-12T07:00:00Z\nduration_seconds: soon\nphases:\n  - { name: planning, started_at: 2025-01-12T08:10:00Z, finished_at: 2025-01-12T08:05:00Z }\n---\n",
    );
    let start = format!("{DIR}/other-name.md");
    env.write(
        &start,
        "---\nschema: 1\nid: DEP-2025-01-12-09-00-api-production\nservice: api\nenvironment: production\nstatus: success\nstarted_at: 2025-13-45T99:00:00Z\nfinished_at: 2025-01-12T09:30:00Z\nphases:\n  - { name: planning, started_at: 2025-01-12T09:10:00Z, finished_at: 2025-01-12T09:05:00Z }\n  - { name: execution, started_at: 2025-01-12T09:00:00Z }\n---\n",
    );
    let out = env.run(&["validate", &status, &start]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "\
{status}:3: id `DEP-2025-01-12-08-00-api-production` differs from the file name `wrong-name.md`
{status}:5: environment `Prod` is not a slug (a-z, 0-9, `.`, `_`, `-`; at most 64)
{status}:6: unknown status `bogus` (use one of: in-progress, success, failed, cancelled, rolled-back)
{status}:8: finished_at 2025-01-12T07:00:00+00:00 is before started_at 2025-01-12T08:00:00+00:00
{status}:9: `duration_seconds` is not a whole number of seconds
{status}:11: phase `planning` finishes at 2025-01-12T08:05:00+00:00, before it starts at 2025-01-12T08:10:00+00:00
{start}:3: id `DEP-2025-01-12-09-00-api-production` differs from the file name `other-name.md`
{start}:7: `started_at` `2025-13-45T99:00:00Z` is not an RFC 3339 time with an offset
{start}:10: phase `planning` finishes at 2025-01-12T09:05:00+00:00, before it starts at 2025-01-12T09:10:00+00:00
{start}:11: phase `execution` starts at 2025-01-12T09:00:00+00:00, before phase `planning` started 2025-01-12T09:10:00+00:00
{start}:11: phase `execution` has no finished_at but is not the open phase
"
        )
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("11 problems in 2 records checked"),
        "{out:?}"
    );
}

#[test]
fn validate_into_a_closed_pipe_still_exits_1() {
    let env = TestEnv::new();
    let path = write_good(&env, "2025-01-10-08-00", "api", "production");
    env.write(
        &path,
        &env.read(&path).replace("service: api", "service: API"),
    );
    // `validate | head -1` under `set -o pipefail`: a CI gate must not pass.
    for args in [&["validate"][..], &["validate", "--json"]] {
        let out = env.run_into_closed_pipe(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: 1 problem in 1 record checked\nhint: "),
            "{args:?}: the outcome, not the pipe: {stderr}"
        );
        assert!(!stderr.contains("pipe"), "{args:?}: {stderr}");
    }
    // A command that succeeds still exits 0, quietly.
    write_good(&env, "2025-01-10-08-00", "api", "production");
    let out = env.run_into_closed_pipe(&["list"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// The 1-based line of the first line of `text` that starts with `prefix`.
fn line_starting(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starts with {prefix}: {text}"))
        + 1
}

#[test]
fn a_rollback_link_to_no_record_is_a_problem() {
    let mut env = TestEnv::new();
    for (day, version) in [("10", "1.0.0"), ("11", "1.1.0")] {
        env.at(&format!("2025-01-{day}T09:00:00Z")).ok(&[
            "record",
            "--service",
            "api",
            "--env",
            "production",
            "--version",
            version,
            "--status",
            "success",
            "--started",
            &format!("2025-01-{day}T08:00:00Z"),
            "--finished",
            &format!("2025-01-{day}T08:10:00Z"),
        ]);
    }
    env.at("2025-01-12T09:00:00Z").ok(&[
        "rollback",
        "--service",
        "api",
        "--env",
        "production",
        "--reason",
        "errors",
    ]);
    let target_id = "DEP-2025-01-11-08-00-api-production";
    let target = format!("{DIR}/{target_id}.md");
    let rollback_id = "DEP-2025-01-12-09-00-api-production";
    let rollback = format!("{DIR}/{rollback_id}.md");
    let (target_text, rollback_text) = (env.read(&target), env.read(&rollback));
    assert!(target_text.contains(&format!("rolled_back_by: {rollback_id}\n")));
    assert!(rollback_text.contains(&format!("rollback: {{ of: {target_id},")));
    // Both links resolve: in the whole ledger, for a file named alone (the
    // others are looked up), and at a revision.
    env.ok(&["validate"]);
    env.ok(&["validate", &rollback]);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "a rollback"]);
    env.ok(&["validate", "--rev", "HEAD", &target]);

    // The record rolled back is gone: the rollback's link names nothing.
    env.git(&["rm", "-q", &target]);
    env.git(&["commit", "-q", "-m", "lose the target"]);
    let of_line = line_starting(&rollback_text, "rollback:");
    let want = format!(
        "{rollback}:{of_line}: `rollback.of` names `{target_id}`, which no record of the ledger has\n"
    );
    for args in [
        &["validate"][..],
        &["validate", &rollback],
        &["validate", "--rev", "HEAD"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error: 1 problem in"), "{err}");
        assert!(err.contains("hint: "), "{err}");
    }
    let json: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(
        &env.run(&["validate", "--json"]).stdout,
    ))
    .expect("json");
    assert_eq!(json["problems"][0]["kind"], "link");
    assert_eq!(json["problems"][0]["line"], of_line);
    assert_eq!(
        env.git(&["status", "--porcelain"]),
        "",
        "validate writes nothing"
    );

    // The other way: the rollback record is gone, the target names it.
    env.write(&target, &target_text);
    std::fs::remove_file(env.path(&rollback)).expect("rm");
    let by_line = line_starting(&target_text, "rolled_back_by:");
    let out = env.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{target}:{by_line}: `rolled_back_by` names `{rollback_id}`, which no record of the ledger has\n")
    );

    // Not an id at all.
    env.write(
        &target,
        &target_text.replace(
            &format!("rolled_back_by: {rollback_id}"),
            "rolled_back_by: yesterday",
        ),
    );
    let out = env.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{target}:{by_line}: `rolled_back_by` `yesterday` is not a record id (DEP-YYYY-MM-DD-HH-MM-<service>-<environment>)\n")
    );
}
