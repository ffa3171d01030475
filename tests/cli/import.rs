//! `import`: CSV, JSON, NDJSON and GitHub deployments; idempotent; bad rows
//! reported with their line while the others are imported.

use crate::env::TestEnv;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn csv_rows_become_records_and_a_second_import_writes_nothing() {
    let env = TestEnv::new();
    env.write(
        "past.csv",
        &format!(
            "service,environment,version,status,started_at,finished_at,operator,commit,strategy,reason,labels\n\
             api,production,2.3.0,success,2025-01-15T14:30:00Z,2025-01-15T14:45:12Z,alice,{SHA},blue-green,,team=payments\n\
             api,production,2.3.1,failure,2025-01-16T09:00:00+01:00,2025-01-16T09:10:00+01:00,bob,,,\"health checks failed, twice\",\n\
             web,staging,1.10,canceled,2025-01-16T10:00:00Z,2025-01-16T10:01:00Z,no,,,,\n"
        ),
    );
    let out = env.ok(&["import", "past.csv"]);
    assert!(
        out.contains("imported 3, already present 0, skipped 0, rejected 0"),
        "{out}"
    );
    assert_eq!(env.records().len(), 3);
    let a = env.read("deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-production.md");
    assert!(
        a.contains("strategy: blue-green\nstatus: success\noperator: alice\n"),
        "{a}"
    );
    assert!(a.contains(&format!("git: {{ commit: {SHA} }}")), "{a}");
    assert!(a.contains("labels: { team: payments }\n"), "{a}");
    let b = env.read("deployments/checklists/2025/01/DEP-2025-01-16-08-00-api-production.md");
    assert!(b.contains("status: failed\n"), "failure → failed: {b}");
    assert!(b.contains("started_at: 2025-01-16T08:00:00Z\n"), "{b}");
    assert!(
        b.contains("failure: { reason: \"health checks failed, twice\" }\n"),
        "{b}"
    );
    let c = env.read("deployments/checklists/2025/01/DEP-2025-01-16-10-00-web-staging.md");
    assert!(
        c.contains("version: \"1.10\"\n") && c.contains("operator: \"no\"\n"),
        "{c}"
    );
    assert!(c.contains("status: cancelled\n"), "{c}");

    let before: Vec<String> = env.records().iter().map(|r| env.read(r)).collect();
    let out = env.ok(&["import", "past.csv"]);
    assert!(
        out.contains("nothing to import: 3 already present, 0 skipped"),
        "{out}"
    );
    let after: Vec<String> = env.records().iter().map(|r| env.read(r)).collect();
    assert_eq!(before, after);
}

#[test]
fn a_corrupt_ndjson_line_is_reported_and_the_others_are_imported() {
    let env = TestEnv::new();
    env.write(
        "past.ndjson",
        "{\"service\":\"api\",\"environment\":\"production\",\"status\":\"success\",\"started_at\":\"2025-01-15T14:30:00Z\",\"finished_at\":\"2025-01-15T14:45:00Z\"}\n\
         {\"service\":\"api\",\"environment\":\"production\",\"status\":\"succ\n\
         \n\
         {\"service\":\"api\",\"environment\":\"production\",\"status\":\"exploded\",\"started_at\":\"2025-01-17T14:30:00Z\",\"finished_at\":\"2025-01-17T14:45:00Z\"}\n\
         {\"service\":\"api\",\"environment\":\"production\",\"status\":\"success\",\"started_at\":\"2025-01-18T14:30:00Z\",\"finished_at\":\"2025-01-18T14:00:00Z\"}\n\
         {\"service\":\"Bad Name\",\"environment\":\"production\",\"status\":\"success\",\"started_at\":\"2025-01-19T14:30:00Z\",\"finished_at\":\"2025-01-19T14:45:00Z\"}\n\
         {\"service\":\"api\",\"environment\":\"production\",\"status\":\"running\",\"started_at\":\"2025-01-20T14:30:00Z\"}\n\
         {\"service\":\"web\",\"env\":\"staging\",\"status\":\"error\",\"started_at\":\"2025-01-21T14:30:00Z\",\"finished_at\":\"2025-01-21T14:45:00Z\",\"colour\":\"red\"}\n",
    );
    let out = env.run(&["import", "past.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("imported 2, already present 0, skipped 1, rejected 4"),
        "{stdout}"
    );
    assert!(stderr.contains("past.ndjson:2: not valid JSON"), "{stderr}");
    assert!(
        stderr.contains("past.ndjson:4: unknown status `exploded`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("past.ndjson:5: finished (2025-01-18T14:00:00Z) is before started"),
        "{stderr}"
    );
    assert!(
        stderr.contains("past.ndjson:6: service `Bad Name` is not a slug"),
        "{stderr}"
    );
    assert!(
        stderr.contains("past.ndjson:7: skipped: still in progress"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: past.ndjson: unknown fields ignored: colour"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: 4 row(s) of past.ndjson could not be imported"),
        "{stderr}"
    );
    assert_eq!(
        env.records(),
        [
            "deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-production.md",
            "deployments/checklists/2025/01/DEP-2025-01-21-14-30-web-staging.md",
        ]
    );
    // No temp files left behind.
    let leftovers = env.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(!leftovers.contains(".tmp"), "{leftovers}");
}

#[test]
fn a_json_array_with_a_bad_item_names_its_line() {
    let env = TestEnv::new();
    env.write(
        "past.json",
        "[\n  {\"service\": \"api\", \"environment\": \"production\", \"status\": \"success\",\n   \"started_at\": \"2025-01-15T14:30:00Z\", \"finished_at\": \"2025-01-15T14:45:00Z\", \"version\": 2},\n  {\"service\": \"api\", \"environment\": \"production\", \"status\": \"success\",\n   \"started_at\": \"2025-01-16 14:30\", \"finished_at\": \"2025-01-16T14:45:00Z\"},\n  42\n]\n",
    );
    let err = env.fails(&["import", "past.json"], 1);
    assert!(
        err.contains("past.json:4: `started_at` `2025-01-16 14:30` is not an RFC 3339 time"),
        "{err}"
    );
    assert!(err.contains("past.json:6: expected an object"), "{err}");
    let text = env.only_record();
    assert!(text.contains("version: \"2\"\n"), "{text}");

    env.write("broken.json", "[{\"service\": \"api\",\n");
    let err = env.fails(&["import", "broken.json"], 1);
    assert!(err.contains("error: broken.json:2:"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(env.records().len(), 1);
}

#[test]
fn github_deployments_with_statuses_or_state() {
    let env = TestEnv::new();
    env.write(
        "gh.json",
        &format!(
            r#"[
  {{"id": 1001, "sha": "{SHA}", "ref": "v2.3.0", "task": "deploy", "environment": "Production",
    "creator": {{"login": "octocat"}}, "created_at": "2025-01-15T14:30:00Z", "updated_at": "2025-01-15T14:50:00Z",
    "description": "Deploy v2.3.0", "repository_url": "https://api.github.com/repos/acme/Shop",
    "statuses": [
      {{"state": "inactive", "created_at": "2025-01-20T10:00:00Z"}},
      {{"state": "success", "created_at": "2025-01-15T14:45:00Z"}},
      {{"state": "in_progress", "created_at": "2025-01-15T14:31:00Z"}}
    ]}},
  {{"id": 1002, "sha": "{SHA}", "ref": "main", "task": "deploy:migrations", "environment": "staging",
    "creator": {{"login": "hubot"}}, "created_at": "2025-01-16T10:00:00Z", "updated_at": "2025-01-16T10:07:00Z",
    "description": null, "state": "error", "repository_url": "https://api.github.com/repos/acme/shop"}},
  {{"id": 1003, "sha": "{SHA}", "ref": "main", "environment": "staging", "creator": {{"login": "hubot"}},
    "created_at": "2025-01-17T10:00:00Z", "updated_at": "2025-01-17T10:01:00Z",
    "statuses": [{{"state": "queued", "created_at": "2025-01-17T10:00:05Z"}}]}},
  {{"id": 1004, "sha": "{SHA}", "ref": "main", "environment": "staging", "creator": {{"login": "hubot"}},
    "created_at": "2025-01-18T10:00:00Z", "updated_at": "2025-01-18T10:01:00Z", "state": "exploded"}}
]
"#
        ),
    );
    let out = env.run(&["import", "gh.json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("imported 2, already present 0, skipped 1, rejected 1"),
        "{stdout}"
    );
    assert!(
        stderr.contains("gh.json:13: skipped: still in progress (state `queued`)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gh.json:16: unknown deployment state `exploded`"),
        "{stderr}"
    );
    let a = env.read("deployments/checklists/2025/01/DEP-2025-01-15-14-30-shop-production.md");
    assert!(
        a.contains("version: v2.3.0\nstatus: success\noperator: octocat\n"),
        "{a}"
    );
    assert!(
        a.contains("finished_at: 2025-01-15T14:45:00Z\n"),
        "finish = the success status: {a}"
    );
    assert!(
        a.contains("labels: { github_deployment: \"1001\" }\n"),
        "{a}"
    );
    let b = env.read("deployments/checklists/2025/01/DEP-2025-01-16-10-00-shop-staging.md");
    assert!(
        b.contains("status: failed\n") && b.contains("finished_at: 2025-01-16T10:07:00Z\n"),
        "{b}"
    );
    assert!(
        b.contains("labels: { github_deployment: \"1002\", task: deploy:migrations }\n"),
        "{b}"
    );

    // Importing again writes nothing; --service names the service instead
    // of the repository (the same deployments are then another service's).
    let out = env.run(&["import", "gh.json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("nothing new imported: 2 already present, 1 skipped, 1 rejected"),
        "{stdout}"
    );
    let out = env.run(&["import", "gh.json", "--service", "storefront"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported 2, already present 0, skipped 1, rejected 1"),
        "{stdout}"
    );
}

#[test]
fn missing_and_empty_files() {
    let env = TestEnv::new();
    let err = env.fails(&["import", "nope.csv"], 1);
    assert!(
        err.contains("error: import file nope.csv does not exist"),
        "{err}"
    );
    env.write("empty.json", "\n");
    let err = env.fails(&["import", "empty.json"], 1);
    assert!(err.contains("empty.json is empty"), "{err}");
    assert!(env.records().is_empty());
}

#[test]
fn a_file_with_no_deployments_in_it_is_an_error() {
    let env = TestEnv::new();
    for (name, text, found) in [
        ("x.json", "42\n", "it is a number in JSON"),
        ("x.json", "null\n", "it is JSON null"),
        ("x.json", "true\n", "it is a boolean in JSON"),
        ("x.json", "\"hello\"\n", "it is a string in JSON"),
        (
            "notes.txt",
            "hello world\n",
            "its first line `hello world` names no known column",
        ),
        (
            "x.csv",
            "foo,bar\n1,2\n",
            "its first line `foo,bar` names no known column",
        ),
    ] {
        env.write(name, text);
        // As JSON, plain text is NDJSON whose every line is rejected (exit 1).
        let json = name.ends_with(".json");
        for format in ["auto", "json", "csv"]
            .into_iter()
            .filter(|f| json || *f != "json")
        {
            let out = env.run(&["import", name, "--format", format]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{text:?} as {format}: {stderr}");
            assert!(
                stderr.starts_with(&format!(
                    "error: {name} is neither JSON deployment records nor a CSV with known columns"
                )),
                "{text:?} as {format}: {stderr}"
            );
            if format == "auto" {
                assert!(stderr.contains(found), "{text:?}: {stderr}");
            }
            assert!(stderr.contains("\nhint: "), "{stderr}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{text:?}");
        }
    }
    assert!(env.records().is_empty());
    // An empty array, or a known header without rows, has nothing to import.
    env.write("none.json", "[]\n");
    let out = env.ok(&["import", "none.json"]);
    assert_eq!(out, "nothing to import: 0 already present, 0 skipped\n");
    env.write(
        "none.csv",
        "service,environment,status,started_at,finished_at\n",
    );
    let out = env.ok(&["import", "none.csv"]);
    assert_eq!(out, "nothing to import: 0 already present, 0 skipped\n");
    // GitHub's columns are known too.
    env.write("gh.csv", "sha,created_at,state\n");
    env.ok(&["import", "gh.csv"]);
    assert!(env.records().is_empty());
}

#[test]
fn commit_puts_every_imported_record_in_one_commit() {
    let env = TestEnv::new();
    env.write(
        "past.csv",
        "service,env,status,started_at,finished_at\napi,production,success,2025-01-15T14:30:00Z,2025-01-15T14:45:00Z\napi,production,success,2025-01-15T14:30:30Z,2025-01-15T14:46:00Z\n",
    );
    let out = env.ok(&["import", "past.csv", "--commit"]);
    assert!(out.contains("imported 2"), "{out}");
    let subject = env.git(&["log", "-1", "--format=%s"]);
    assert_eq!(subject, "deploy: import 2 records from past.csv\n");
    let log = env.git(&["show", "--name-only", "--format="]);
    // Same minute, another second: another deployment, with a -2 id.
    assert!(
        log.contains("DEP-2025-01-15-14-30-api-production.md\n"),
        "{log}"
    );
    assert!(
        log.contains("DEP-2025-01-15-14-30-api-production-2.md\n"),
        "{log}"
    );
    assert!(!log.contains("past.csv"), "{log}");
}

#[test]
fn csv_with_a_broken_row_dry_run_and_json_report() {
    let env = TestEnv::new();
    env.write(
        "past.csv",
        "service,environment,status,started_at,finished_at,colour\n\
         api,production,success,2025-01-15T14:30:00Z,2025-01-15T14:45:00Z,red\n\
         api,production,success,2025-01-16T14:30:00Z,2025-01-16T14:45:00Z,red,extra,fields\n\
         api,production,,2025-01-17T14:30:00Z,2025-01-17T14:45:00Z,\n",
    );
    let out = env.run(&["import", "past.csv", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("would import DEP-2025-01-15-14-30-api-production"),
        "{stdout}"
    );
    assert!(
        stdout.contains("would import 1, already present 0, skipped 0, rejected 2"),
        "{stdout}"
    );
    assert!(
        stderr.contains("past.csv:3: 8 fields but the header has 6"),
        "{stderr}"
    );
    assert!(stderr.contains("past.csv:4: no `status`"), "{stderr}");
    assert!(
        stderr.contains("unknown fields ignored: colour"),
        "{stderr}"
    );
    assert!(env.records().is_empty(), "a dry run writes nothing");

    let out = env.run(&["import", "past.csv", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["written"][0]["line"], 2);
    assert_eq!(
        report["written"][0]["id"],
        "DEP-2025-01-15-14-30-api-production"
    );
    assert_eq!(report["rejected"][0]["line"], 3);
    assert_eq!(report["rejected"][1]["line"], 4);
    assert_eq!(env.records().len(), 1);
}

#[test]
fn paginated_arrays_and_a_single_object() {
    let env = TestEnv::new();
    // `gh api --paginate` prints one array per page, back to back.
    env.write(
        "pages.json",
        &format!(
            "[{{\"id\": 1, \"sha\": \"{SHA}\", \"ref\": \"v1\", \"environment\": \"production\", \"created_at\": \"2025-01-10T10:00:00Z\", \"updated_at\": \"2025-01-10T10:05:00Z\",\n  \"statuses\": [{{\"state\": \"inactive\", \"created_at\": \"2025-01-12T10:00:00Z\"}}, {{\"state\": \"inactive\", \"created_at\": \"2025-01-11T10:00:00Z\"}}]}}]\n\
             [{{\"id\": 2, \"sha\": \"{SHA}\", \"ref\": \"v2\", \"environment\": \"production\", \"created_at\": \"2025-01-12T09:00:00Z\", \"updated_at\": \"2025-01-12T09:05:00Z\",\n  \"statuses\": []}}]\n"
        ),
    );
    let out = env.run(&["import", "pages.json", "--service", "shop"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("imported 1, already present 0, skipped 1, rejected 0"),
        "{stdout}"
    );
    assert!(
        stderr.contains("pages.json:3: skipped: still in progress (state `pending`)"),
        "{stderr}"
    );
    // Only `inactive` statuses: a success, finished at the first of them.
    let text = env.only_record();
    assert!(text.contains("status: success\n"), "{text}");
    assert!(
        text.contains("finished_at: 2025-01-11T10:00:00Z\n"),
        "{text}"
    );

    env.write(
        "one.json",
        "{\n  \"service\": \"api\", \"environment\": \"staging\", \"status\": \"ok\",\n  \"started_at\": \"2025-01-20T10:00:00Z\", \"finished_at\": \"2025-01-20T10:01:00Z\"\n}\n",
    );
    let out = env.ok(&["import", "one.json"]);
    assert!(
        out.contains("imported DEP-2025-01-20-10-00-api-staging"),
        "{out}"
    );
}

/// An `id` that `validate` would reject is a rejected row, like in `record`.
#[test]
fn a_row_whose_id_validate_would_reject_is_rejected() {
    let env = TestEnv::new();
    env.write(
        "past.csv",
        "id,service,environment,status,started_at,finished_at\n\
         DEP-custom,api,production,success,2025-01-16T14:30:00Z,2025-01-16T14:35:00Z\n\
         DEP-2025-01-17-14-30-api-production,api,production,success,2025-01-17T14:30:00Z,2025-01-17T14:35:00Z\n",
    );
    let out = env.run(&["import", "past.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("past.csv:2: record id `DEP-custom` does not match the start time"),
        "{stderr}"
    );
    assert_eq!(
        env.records(),
        ["deployments/checklists/2025/01/DEP-2025-01-17-14-30-api-production.md"]
    );
    env.ok(&["validate"]);
}

/// Lines are lines of the file, blank ones included (CRLF too); a quote
/// never closed is reported as such, not as the fields it swallowed.
#[test]
fn csv_lines_count_blank_lines_and_an_unterminated_quote_is_named() {
    let env = TestEnv::new();
    env.write(
        "past.csv",
        "service,environment,status,started_at,finished_at\n\
         \n\
         \n\
         api,production,exploded,2025-01-16T14:30:00Z,2025-01-16T14:35:00Z\n\
         \n\
         api,production,success,2025-01-17T14:30:00Z,2025-01-17T14:35:00Z\n\
         api,\"production,success,2025-01-18T14:30:00Z,2025-01-18T14:35:00Z\n\
         api,production,success,2025-01-19T14:30:00Z,2025-01-19T14:35:00Z\n",
    );
    let out = env.run(&["import", "past.csv", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["written"][0]["line"], 6, "{report}");
    assert_eq!(report["rejected"][0]["line"], 4, "{report}");
    assert_eq!(report["rejected"][1]["line"], 7, "{report}");
    let out = env.run(&["import", "past.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("past.csv:4: unknown status `exploded`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "past.csv:7: a `\"` opens a quoted field that is never closed (lines 7–8 were read as one field)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("no `environment`"), "{stderr}");

    env.write(
        "crlf.csv",
        "service,environment,status,started_at,finished_at\r\n\r\n\
         web,staging,exploded,2025-01-16T14:30:00Z,2025-01-16T14:35:00Z\r\n",
    );
    let out = env.run(&["import", "crlf.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("crlf.csv:3: unknown status `exploded`"),
        "{stderr}"
    );
}

/// `--commit` commits every written record in one commit, as the help says.
#[test]
fn help_says_commit_takes_every_record() {
    let env = TestEnv::new();
    let help = env.ok(&["import", "--help"]);
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("--commit Commit every record written, all in one commit and alone"),
        "{help}"
    );
    assert!(!flat.contains("record file alone"), "{help}");
}

/// A second import of a file with a rejected row says plainly that nothing
/// new was imported, still lists the row and exits 1.
#[test]
fn a_second_import_with_rejected_rows_says_nothing_new_was_imported() {
    let env = TestEnv::new();
    env.write(
        "past.csv",
        "service,environment,status,started_at,finished_at\n\
         api,production,success,2025-01-15T14:30:00Z,2025-01-15T14:45:00Z\n\
         api,production,exploded,2025-01-16T14:30:00Z,2025-01-16T14:45:00Z\n",
    );
    let first = env.run(&["import", "past.csv"]);
    assert_eq!(first.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&first.stdout)
        .contains("imported 1, already present 0, skipped 0, rejected 1"));
    for (args, words) in [
        (&["import", "past.csv"][..], "nothing new imported"),
        (
            &["import", "past.csv", "--dry-run"][..],
            "nothing new would be imported",
        ),
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stdout.trim_end(),
            format!("{words}: 1 already present, 0 skipped, 1 rejected"),
            "{stdout}"
        );
        assert!(
            stderr.contains("past.csv:3: unknown status `exploded`"),
            "{stderr}"
        );
        assert!(
            stderr.contains("error: 1 row(s) of past.csv could not be imported"),
            "{stderr}"
        );
    }
    assert_eq!(env.records().len(), 1);
}

#[test]
fn import_into_a_closed_pipe_still_exits_1_and_imports_the_good_rows() {
    let env = TestEnv::new();
    env.write(
        "past.csv",
        "service,environment,status,started_at,finished_at\n\
         api,production,success,2025-01-15T14:30:00Z,2025-01-15T14:45:00Z\n\
         api,production,exploded,2025-01-16T14:30:00Z,2025-01-16T14:45:00Z\n\
         web,production,success,2025-01-17T14:30:00Z,2025-01-17T14:45:00Z\n",
    );
    let out = env.run_into_closed_pipe(&["import", "past.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("past.csv:3: unknown status `exploded`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: 1 row(s) of past.csv could not be imported"),
        "{stderr}"
    );
    assert!(!stderr.contains("pipe"), "{stderr}");
    assert_eq!(env.records().len(), 2);
}

/// A ledger exported as CSV or JSON imports again into another repository
/// with its commit, branch, tag, change and failure reason: the names
/// `export` writes (`git_commit`…, the JSON objects `git`, `change` and
/// `failure`) are read as the documented fields.
#[test]
fn an_exported_ledger_imports_again() {
    let mut env = TestEnv::new();
    env.git(&["tag", "v2.3.1"]);
    let head = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    env.at("2025-02-01T10:00:00Z");
    env.ok(&[
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--version",
        "2.3.1",
        "--operator",
        "bob",
        "--status",
        "failed",
        "--reason",
        "health checks failed",
        "--started",
        "2025-01-16T09:00:00Z",
        "--finished",
        "2025-01-16T09:10:00Z",
        "--change-id",
        "CHG-1",
        "--change-type",
        "normal",
        "--risk",
        "high",
    ]);
    let path = "deployments/checklists/2025/01/DEP-2025-01-16-09-00-api-production.md";
    for format in ["csv", "json"] {
        let exported = env.ok(&["export", "--format", format]);
        let other = TestEnv::new();
        let file = format!("ledger.{format}");
        other.write(&file, &exported);
        let out = other.run(&["import", &file]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        for name in [
            "git_commit",
            "git_branch",
            "git_tag",
            "change_risk",
            "failure_reason",
            "`git`",
            "`change`",
            "`failure`",
        ] {
            assert!(!err.contains(name), "{format}: {name} is read: {err}");
        }
        let text = other.read(path);
        for want in [
            format!("commit: {head}"),
            "branch: main".to_string(),
            "tag: v2.3.1".to_string(),
            "change: { id: CHG-1, type: normal, risk: high }".to_string(),
            "failure: { reason: health checks failed }".to_string(),
        ] {
            assert!(text.contains(&want), "{format}: {want}: {text}");
        }
    }
}
