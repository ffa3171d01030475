//! `export`: every format, parsed back, and the refusals.

use crate::env::TestEnv;
use crate::outputs_fixture::{ledger, EVIL, HISTORY};
use std::process::{Command, Stdio};

/// The ids the fixture should produce, in start order, for a filter.
fn expected(keep: impl Fn(&crate::outputs_fixture::Row) -> bool) -> Vec<String> {
    HISTORY
        .iter()
        .filter(|r| keep(r))
        .map(|r| {
            let t = &r.4;
            format!(
                "DEP-{}-{}-{}-{}-{}-{}-{}",
                &t[0..4],
                &t[5..7],
                &t[8..10],
                &t[11..13],
                &t[14..16],
                r.0,
                r.1
            )
        })
        .collect()
}

#[test]
fn json_and_ndjson_are_the_typed_records() {
    let env = ledger();
    let out = env.ok(&["export", "--format", "json"]);
    let all: serde_json::Value = serde_json::from_str(&out).expect("json");
    let items = all.as_array().expect("an array");
    let ids: Vec<&str> = items
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, expected(|_| true));
    let failed = items
        .iter()
        .find(|r| r["status"] == "failed")
        .expect("a failed record");
    assert_eq!(failed["failure_reason"], EVIL);
    assert_eq!(failed["operator"], "bob");
    assert_eq!(failed["duration_seconds"], 2400);
    assert_eq!(failed["phases"][1]["name"], "execution");
    assert_eq!(failed["phases"][1]["duration_seconds"], 1800);
    assert_eq!(failed["labels"]["team"], "edge");
    assert!(failed["git"]["commit"]
        .as_str()
        .is_some_and(|c| c.len() == 40));
    let open = items.last().expect("last");
    assert_eq!(open["status"], "in-progress");
    assert!(open["finished_at"].is_null());

    // The filters of `list`.
    let out = env.ok(&[
        "export",
        "--format",
        "ndjson",
        "--env",
        "production",
        "--status",
        "success",
        "--since",
        "2025-01-07",
        "--until",
        "2025-01-20",
    ]);
    let ids: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object per line");
            v["id"].as_str().expect("id").to_string()
        })
        .collect();
    let want = expected(|r| {
        r.1 == "production" && r.7 == "success" && r.4 >= "2025-01-07" && r.4 < "2025-01-21"
    });
    assert_eq!(ids, want);
    assert!(!want.is_empty());
    let out = env.ok(&["export", "--format", "ndjson", "--service", "auth"]);
    assert_eq!(out.lines().count(), expected(|r| r.0 == "auth").len());
    let out = env.ok(&["export", "--format", "ndjson", "--operator", "bob"]);
    assert_eq!(out.lines().count(), expected(|r| r.3 == "bob").len());
}

#[test]
fn csv_has_stable_columns_and_parses_back() {
    let env = ledger();
    let out = env.ok(&["export", "--format", "csv", "--output", "out.csv"]);
    assert!(out.is_empty(), "nothing on stdout with --output: {out}");
    let text = env.read("out.csv");
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, deploy_ledger::render::export::csv::COLUMNS);
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), HISTORY.len());
    let failed = rows
        .iter()
        .find(|r| &r[col("status")] == "failed")
        .expect("failed row");
    assert_eq!(&failed[col("failure_reason")], EVIL);
    assert_eq!(&failed[col("started_at")], "2025-01-08T15:00:00Z");
    assert_eq!(&failed[col("duration_seconds")], "2400");
    assert_eq!(&failed[col("phases")], "planning=600;execution=1800");
    assert_eq!(&failed[col("labels")], r#"{"team":"edge"}"#);
    let open = rows.last().expect("rows");
    assert_eq!(&open[col("finished_at")], "");
}

#[test]
fn sqlite_has_typed_tables_and_indexes() {
    let env = ledger();
    env.ok(&["export", "--format", "sqlite", "--output", "ledger.db"]);
    let db = rusqlite::Connection::open(env.path("ledger.db")).expect("opens");
    let count: i64 = db
        .query_row("SELECT count(*) FROM deployments", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count as usize, HISTORY.len());
    let (id, unix, kind, text, dur): (String, i64, String, String, i64) = db
        .query_row(
            "SELECT id, started_at_unix, typeof(started_at_unix), started_at, duration_seconds
             FROM deployments WHERE status = 'failed'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .expect("the failed deployment");
    assert_eq!(id, "DEP-2025-01-08-15-00-api-gateway-production");
    assert_eq!(kind, "integer");
    assert_eq!(text, "2025-01-08T15:00:00Z");
    assert_eq!(unix, 1_736_348_400);
    assert_eq!(dur, 2400);
    let reason: String = db
        .query_row(
            "SELECT failure_reason FROM deployments WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .expect("reason");
    assert_eq!(reason, EVIL);
    // Phases, labels: joined by foreign key.
    let phases: Vec<(i64, String, Option<i64>)> = db
        .prepare("SELECT position, name, duration_seconds FROM phases WHERE deployment_id = ?1 ORDER BY position")
        .expect("prepare")
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(
        phases,
        vec![
            (1, "planning".into(), Some(600)),
            (2, "execution".into(), Some(1800))
        ]
    );
    let per_phase: i64 = db
        .query_row(
            "SELECT count(*) FROM phases p JOIN deployments d ON d.id = p.deployment_id",
            [],
            |r| r.get(0),
        )
        .expect("join");
    assert_eq!(per_phase as usize, 2 * HISTORY.len());
    let labels: i64 = db
        .query_row(
            "SELECT count(*) FROM labels WHERE key = 'team' AND value = 'edge'",
            [],
            |r| r.get(0),
        )
        .expect("labels");
    assert_eq!(labels as usize, HISTORY.len());
    let open: Option<i64> = db
        .query_row(
            "SELECT finished_at_unix FROM deployments WHERE status = 'in-progress'",
            [],
            |r| r.get(0),
        )
        .expect("open");
    assert_eq!(open, None);
    let fk: Vec<String> = db
        .prepare("SELECT \"table\" FROM pragma_foreign_key_check")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("fk")
        .map(|r| r.expect("row"))
        .collect();
    assert!(fk.is_empty(), "foreign keys hold: {fk:?}");
    let indexes: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deployments' ORDER BY name")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("indexes")
        .map(|r| r.expect("row"))
        .collect();
    for want in [
        "deployments_environment",
        "deployments_service",
        "deployments_started_at",
        "deployments_status",
    ] {
        assert!(indexes.iter().any(|i| i == want), "{want} in {indexes:?}");
    }
    let refs: i64 = db
        .query_row(
            "SELECT count(*) FROM pragma_foreign_key_list('tools') WHERE \"table\" = 'deployments'",
            [],
            |r| r.get(0),
        )
        .expect("fk list");
    assert_eq!(refs, 1);
    // No temp file left beside it.
    let names: Vec<String> = std::fs::read_dir(&env.repo)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

/// `promtool check metrics` on `text`; panics if promtool cannot run.
fn promtool_check(text: &str) -> String {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool must be installed (Debian package `prometheus`; .ci/run installs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{report}\n{text}"
    );
    report
}

#[test]
fn prometheus_passes_promtool_and_counts() {
    let env = ledger();
    let text = env.ok(&["export", "--format", "prometheus"]);
    let report = promtool_check(&text);
    assert!(report.trim().is_empty(), "promtool lint findings: {report}");
    assert!(
        text.contains("# TYPE deploy_ledger_deployments_total counter\n"),
        "{text}"
    );
    assert!(text.contains("# HELP deploy_ledger_deployments_total "));
    let sample = |line_start: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no sample {line_start} in\n{text}"))
            .rsplit(' ')
            .next()
            .expect("value")
            .parse()
            .expect("number")
    };
    let count = |svc: &str, env_: &str, st: &str| {
        HISTORY
            .iter()
            .filter(|r| r.0 == svc && r.1 == env_ && r.7 == st)
            .count() as f64
    };
    for (svc, e, st) in [
        ("api-gateway", "production", "success"),
        ("api-gateway", "production", "failed"),
        ("auth", "production", "cancelled"),
        ("auth", "production", "rolled-back"),
    ] {
        assert_eq!(
            sample(&format!(
                "deploy_ledger_deployments_total{{environment=\"{e}\",service=\"{svc}\",status=\"{st}\"}}"
            )),
            count(svc, e, st),
            "{svc} {e} {st}"
        );
    }
    assert!(text.contains("# TYPE deploy_ledger_deployment_duration_seconds histogram\n"));
    let finished = HISTORY
        .iter()
        .filter(|r| r.0 == "api-gateway" && r.1 == "production" && r.6.is_some())
        .count() as f64;
    assert_eq!(
        sample("deploy_ledger_deployment_duration_seconds_count{environment=\"production\",service=\"api-gateway\"}"),
        finished
    );
    assert_eq!(
        sample("deploy_ledger_deployment_duration_seconds_bucket{environment=\"production\",service=\"api-gateway\",le=\"+Inf\"}"),
        finished
    );
    // 20, 40, 15, 50, 30 minutes: three are at most 30 minutes.
    assert_eq!(
        sample("deploy_ledger_deployment_duration_seconds_bucket{environment=\"production\",service=\"api-gateway\",le=\"1800\"}"),
        3.0
    );
    assert_eq!(
        sample("deploy_ledger_deployments_in_progress{environment=\"staging\",service=\"web\"}"),
        1.0
    );

    // DORA gauges: the analytics report's figures, for production.
    let report: serde_json::Value =
        serde_json::from_str(&env.ok(&["analytics", "--format", "json"])).expect("report");
    let dora = &report["dora"]["production"];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
    let cfr = sample("deploy_ledger_dora_change_failure_rate{environment=\"production\"}");
    assert!(
        close(cfr, 1.0 / 7.0),
        "1 failed of 7 ended in production: {cfr}"
    );
    assert!(close(
        cfr,
        dora["change_failure_rate"]["value"].as_f64().expect("cfr")
    ));
    let lead = sample("deploy_ledger_dora_lead_time_median_seconds{environment=\"production\"}");
    assert!(
        close(
            lead,
            dora["lead_time"]["median_seconds"]
                .as_f64()
                .expect("lead time")
        ),
        "{lead}"
    );
    assert!(
        lead > 2.0 * 3600.0,
        "commits were made 2 h before each start: {lead}"
    );
    let per_day = sample("deploy_ledger_dora_deployments_per_day{environment=\"production\"}");
    assert!(close(
        per_day,
        dora["deployment_frequency"]["per_day"]
            .as_f64()
            .expect("per day")
    ));
    let tier = dora["lead_time"]["tier"].as_str().expect("tier");
    assert_eq!(
        sample(&format!(
            "deploy_ledger_dora_tier{{environment=\"production\",metric=\"lead_time\",tier=\"{tier}\"}}"
        )),
        1.0
    );
    // --dora-env picks other environments.
    let text = env.ok(&["export", "--format", "prometheus", "--dora-env", "staging"]);
    promtool_check(&text);
    assert!(
        text.contains("deploy_ledger_dora_deployments_per_day{environment=\"staging\"}"),
        "{text}"
    );
    assert!(!text.contains("deploy_ledger_dora_deployments_per_day{environment=\"production\"}"));
}

#[test]
fn org_headings_follow_org_conventions() {
    let env = ledger();
    let text = env.ok(&["export", "--format", "org"]);
    assert!(
        text.starts_with(
            "#+TITLE: Deployments\n#+TODO: IN-PROGRESS | SUCCESS FAILED CANCELLED ROLLED-BACK\n"
        ),
        "{text}"
    );
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with("* ")).collect();
    assert_eq!(headings.len(), HISTORY.len());
    assert!(
        headings.contains(&"* FAILED api-gateway 2.1.0 → production :api_gateway:production:"),
        "{headings:?}"
    );
    assert!(headings
        .last()
        .expect("one")
        .starts_with("* IN-PROGRESS web 0.9.0"));
    assert_eq!(text.matches("\n:PROPERTIES:\n").count(), HISTORY.len());
    assert_eq!(text.matches("\n:END:\n").count(), HISTORY.len());
    // CLOSED planning line right under the heading of each ended deployment.
    let closed = text.matches(":production:\nCLOSED: [").count()
        + text.matches(":staging:\nCLOSED: [").count();
    assert_eq!(closed, HISTORY.iter().filter(|r| r.6.is_some()).count());
    assert!(text.contains("CLOSED: [2025-01-08 Wed 15:40]\n"), "{text}");
    assert!(text.contains(":CUSTOM_ID: DEP-2025-01-08-15-00-api-gateway-production\n"));
    assert!(text.contains(&format!(":FAILURE_REASON: {EVIL}\n")));
    assert!(
        text.contains("| execution | [2025-01-08 Wed 15:10] | [2025-01-08 Wed 15:40] | 1800 |\n"),
        "{text}"
    );
}

#[test]
fn sexp_reads_back_as_a_list_of_plists() {
    let env = ledger();
    let text = env.ok(&["export", "--format", "sexp"]);
    let value = lexpr::from_str_custom(&text, lexpr::parse::Options::elisp()).expect("reads back");
    let items = value.to_vec().expect("a proper list");
    assert_eq!(items.len(), HISTORY.len());
    let get = |plist: &lexpr::Value, key: &str| -> lexpr::Value {
        let v = plist.to_vec().expect("plist");
        let i = v
            .iter()
            .position(|k| k.as_keyword() == Some(key))
            .unwrap_or_else(|| panic!("no :{key} in {plist}"));
        v[i + 1].clone()
    };
    let failed = items
        .iter()
        .find(|p| get(p, "status").as_str() == Some("failed"))
        .expect("failed");
    assert_eq!(get(failed, "failure-reason").as_str(), Some(EVIL));
    assert_eq!(get(failed, "duration-seconds").as_i64(), Some(2400));
    let labels = get(failed, "labels");
    let first = labels.to_vec().expect("alist")[0].clone();
    assert_eq!(
        first.as_pair().map(|(k, v)| (k.as_str(), v.as_str())),
        Some((Some("team"), Some("edge")))
    );
    let open = items.last().expect("last");
    // Emacs reads `nil` as the symbol nil (the empty list).
    let nil = get(open, "finished-at");
    assert!(
        nil.is_nil() || nil.is_null() || nil.as_symbol() == Some("nil"),
        "{nil}"
    );
    assert!(
        text.contains(
            ":failure-reason \"<script>alert(\\\"x\\\")</script> | \\\"quoted\\\" \\\\ back\""
        ),
        "{text}"
    );
}

#[test]
fn bad_outputs_are_refused_without_a_partial_file() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let err = env.fails(&["export", "--format", "sqlite"], 2);
    assert!(err.contains("--format sqlite needs --output"), "{err}");
    let err = env.fails(&["export", "--format", "xml"], 2);
    assert!(err.contains("invalid value 'xml'"), "{err}");

    for format in ["sqlite", "json"] {
        let err = env.fails(
            &["export", "--format", format, "--output", "missing/dir/out"],
            1,
        );
        assert!(err.contains("folder missing/dir does not exist"), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(!env.path("missing").exists());
        let err = env.fails(
            &["export", "--format", format, "--output", "README.md/out"],
            1,
        );
        assert!(err.contains("README.md is not a folder"), "{err}");
    }

    env.write("taken.json", "keep me\n");
    let err = env.fails(&["export", "--format", "json", "--output", "taken.json"], 1);
    assert!(err.contains("taken.json already exists"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(env.read("taken.json"), "keep me\n");
    env.write("taken.db", "keep me\n");
    env.fails(&["export", "--format", "sqlite", "--output", "taken.db"], 1);
    assert_eq!(env.read("taken.db"), "keep me\n");
    env.ok(&[
        "export",
        "--format",
        "json",
        "--output",
        "taken.json",
        "--force",
    ]);
    assert!(env.read("taken.json").contains("\"service\": \"api\""));
    env.ok(&[
        "export", "--format", "sqlite", "--output", "taken.db", "--force",
    ]);
    let db = rusqlite::Connection::open(env.path("taken.db")).expect("opens");
    let n: i64 = db
        .query_row("SELECT count(*) FROM deployments", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A folder nobody may write to (root ignores modes: only check when it bites).
        std::fs::create_dir_all(env.path("ro")).expect("mkdir");
        std::fs::set_permissions(env.path("ro"), std::fs::Permissions::from_mode(0o555))
            .expect("chmod");
        if std::fs::write(env.path("ro/probe"), "x").is_err() {
            let err = env.fails(&["export", "--format", "sqlite", "--output", "ro/x.db"], 1);
            assert!(err.contains("cannot write"), "{err}");
        }
        let _ = std::fs::remove_file(env.path("ro/probe"));
        let left: Vec<_> = std::fs::read_dir(env.path("ro")).expect("ls").collect();
        assert!(left.is_empty(), "nothing left in ro/: {left:?}");
    }
    let err = env.fails(&["export", "--format", "json", "--since", "yesterday"], 1);
    assert!(err.contains("`yesterday` is not a date"), "{err}");
    let err = env.fails(&["export", "--format", "json", "--status", "exploded"], 1);
    assert!(err.contains("unknown status `exploded`"), "{err}");
}

#[test]
fn export_help_has_examples() {
    let env = TestEnv::new();
    let out = env.ok(&["export", "--help"]);
    assert!(
        out.contains("Examples:\n  deploy-ledger export --format json"),
        "{out}"
    );
}

#[test]
fn broken_records_are_skipped_with_a_warning() {
    let env = TestEnv::new();
    let empty = env.ok(&["export", "--format", "json"]);
    assert_eq!(empty.trim(), "[]");
    promtool_check(&env.ok(&["export", "--format", "prometheus"]));
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.write(
        "deployments/checklists/2025/01/broken.md",
        "---\nid: DEP-x\nstatus: success\n---\nbody\n",
    );
    let out = env
        .cmd()
        .args(["export", "--format", "ndjson"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("warning: skipped a broken record deployments/checklists/2025/01/broken.md"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn org_and_sexp_snapshots_of_one_failed_deployment() {
    let env = ledger();
    let args = ["--status", "failed"];
    insta::assert_snapshot!(
        "org_failed",
        env.ok(&[&["export", "--format", "org"][..], &args].concat())
    );
    insta::assert_snapshot!(
        "sexp_failed",
        env.ok(&[&["export", "--format", "sexp"][..], &args].concat())
    );
}

/// A write that fails half-way (here: over a file size limit, as a full disk
/// would) names the database and says what to do; no file is left behind.
#[cfg(unix)]
#[test]
fn a_failed_sqlite_write_names_the_file_and_leaves_nothing() {
    let env = TestEnv::new();
    for day in 10..16 {
        env.ok(&[
            "record",
            "--service",
            "api",
            "--env",
            "production",
            "--started",
            &format!("2025-01-{day}T14:30:00Z"),
            "--finished",
            &format!("2025-01-{day}T14:35:00Z"),
            "--status",
            "success",
        ]);
    }
    std::fs::create_dir_all(env.path("out")).expect("mkdir");
    let mut cmd = std::process::Command::new("sh");
    env.apply_env(&mut cmd);
    // Ignore SIGXFSZ so that the write fails instead of killing the process.
    let out = cmd
        .arg("-c")
        .arg(
            "trap '' XFSZ; ulimit -f 16; exec \"$0\" export --format sqlite --output out/ledger.db",
        )
        .arg(assert_cmd::cargo::cargo_bin("deploy-ledger"))
        .current_dir(&env.repo)
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("error: cannot write the database out/ledger.db: "),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("hint: a write to out failed (a full disk"),
        "{stderr}"
    );
    assert!(lines[1].ends_with("nothing was written"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(env.path("out"))
        .expect("read out")
        .collect();
    assert!(left.is_empty(), "no partial file: {left:?}");
}

/// `tools` and `labels` cells are JSON objects: a `;` or `=` in a name or a
/// value is not read as a separator, and `import` reads the labels back.
#[test]
fn csv_map_cells_are_json_objects_that_import_back() {
    let env = TestEnv::new();
    env.ok(&[
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--status",
        "success",
        "--started",
        "2025-01-10T08:00:00Z",
        "--finished",
        "2025-01-10T08:10:00Z",
        "--label",
        "team=pay;ments",
        "--label",
        "query=a=b;c=d",
        "--label",
        "plain=x",
    ]);
    env.ok(&[
        "record",
        "--service",
        "web",
        "--env",
        "production",
        "--status",
        "success",
        "--started",
        "2025-01-11T08:00:00Z",
        "--finished",
        "2025-01-11T08:10:00Z",
    ]);
    // A tool whose version has both separators (a record keeps what it says).
    let path = "deployments/checklists/2025/01/DEP-2025-01-10-08-00-api-production.md";
    let text = env.read(path);
    assert!(!text.contains("\ntools:"), "{text}");
    env.write(
        path,
        &text.replace(
            "duration_seconds: 600\n",
            "duration_seconds: 600\ntools: { weird: \"1;2=3\", kubectl: 1.29.1 }\n",
        ),
    );
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "records"]);

    let out = env.ok(&["export", "--format", "csv"]);
    assert_eq!(
        env.git(&["status", "--porcelain"]),
        "",
        "export writes nothing"
    );
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(
        &rows[0][col("labels")],
        r#"{"plain":"x","query":"a=b;c=d","team":"pay;ments"}"#
    );
    assert_eq!(
        &rows[0][col("tools")],
        r#"{"kubectl":"1.29.1","weird":"1;2=3"}"#
    );
    assert_eq!(&rows[1][col("labels")], "", "no labels: an empty cell");
    assert_eq!(&rows[1][col("tools")], "");

    // Imported into another repository, the labels are the same.
    let other = TestEnv::new();
    other.write("ledger.csv", &out);
    other.ok(&["import", "ledger.csv"]);
    let json: serde_json::Value =
        serde_json::from_str(&other.ok(&["export", "--format", "json"])).expect("json");
    assert_eq!(
        json[0]["labels"],
        serde_json::json!({"plain": "x", "query": "a=b;c=d", "team": "pay;ments"})
    );
    assert_eq!(json[1]["labels"], serde_json::json!({}));
    // A cell that starts like an object but is not one is a rejected row.
    other.write(
        "bad.csv",
        "service,environment,status,started_at,finished_at,labels\napi,staging,success,2025-01-12T08:00:00Z,2025-01-12T08:10:00Z,\"{\"\"team\"\": pay}\"\n",
    );
    let err = other.fails(&["import", "bad.csv"], 1);
    assert!(
        err.contains("bad.csv:2: `labels` is not a JSON object"),
        "{err}"
    );
}

/// A record written by hand, values unquoted: every scalar YAML would read
/// as a number or a bool keeps its text in every output (SPEC §2: reading is
/// tolerant), in nested maps and phases as at the top level.
#[test]
fn unquoted_nested_values_keep_their_text() {
    let env = TestEnv::new();
    let path = "deployments/checklists/2025/01/DEP-2025-01-10-10-00-api-production.md";
    let id = "DEP-2025-01-10-10-00-api-production";
    env.write(
        path,
        "---\nschema: 1\nid: DEP-2025-01-10-10-00-api-production\nservice: api\n\
         environment: production\nversion: 1.10\nstatus: success\n\
         started_at: 2025-01-10T10:00:00Z\nfinished_at: 2025-01-10T10:01:00Z\n\
         duration_seconds: 60\n\
         git: { commit: 1234567, branch: main, tag: 2.0, dirty: false }\n\
         ci: { provider: gitlab-ci, run_id: 0x10 }\n\
         tools: { terraform: 1.10, helm: 0x1F, kubectl: True }\n\
         phases:\n  - { name: 1.10, started_at: 2025-01-10T10:00:00Z, finished_at: 2025-01-10T10:01:00Z, duration_seconds: 60 }\n\
         change: { id: 0.10, risk: low }\n\
         rollback: { from_version: 3.10, to_version: 3.0 }\n\
         failure: { reason: 1e3 }\n\
         labels:\n  build: 1e3\n  team: payments\n---\nbody\n",
    );
    let want = |r: &serde_json::Value| {
        assert_eq!(r["version"], "1.10");
        assert_eq!(r["tools"]["terraform"], "1.10", "{r}");
        assert_eq!(r["tools"]["helm"], "0x1F");
        assert_eq!(r["tools"]["kubectl"], "True");
        assert_eq!(r["labels"]["build"], "1e3");
        assert_eq!(r["labels"]["team"], "payments");
        assert_eq!(r["change"]["id"], "0.10");
        assert_eq!(r["git"]["commit"], "1234567");
        assert_eq!(r["git"]["tag"], "2.0");
        assert_eq!(r["git"]["dirty"], false, "a bool stays a bool");
        assert_eq!(r["ci"]["run_id"], "0x10");
        assert_eq!(r["phases"][0]["name"], "1.10");
        assert_eq!(r["phases"][0]["duration_seconds"], 60);
        assert_eq!(r["rollback"]["from_version"], "3.10");
        assert_eq!(r["rollback"]["to_version"], "3.0");
        assert_eq!(r["failure_reason"], "1e3");
    };
    want(&env.json(&["show", id, "--json"]));
    let listed: serde_json::Value =
        serde_json::from_str(&env.ok(&["list", "--json"])).expect("json");
    want(&listed[0]);
    let exported: serde_json::Value =
        serde_json::from_str(&env.ok(&["export", "--format", "json"])).expect("json");
    want(&exported[0]);
    let line = env.ok(&["export", "--format", "ndjson"]);
    want(&serde_json::from_str(line.trim()).expect("one object"));
    let csv = env.ok(&["export", "--format", "csv"]);
    assert!(csv.contains(r#""terraform"":""1.10"""#), "{csv}");
    assert!(csv.contains(r#""build"":""1e3"""#), "{csv}");
    let sexp = env.ok(&["export", "--format", "sexp"]);
    assert!(sexp.contains(r#"("helm" . "0x1F")"#), "{sexp}");
    assert!(sexp.contains(r#"("id" . "0.10")"#), "{sexp}");
    let org = env.ok(&["export", "--format", "org"]);
    assert!(org.contains("0.10"), "{org}");

    // A flow map left open is still a broken record, named with its line.
    let before = env.snapshot();
    let text = env
        .read(path)
        .replace("helm: 0x1F, kubectl: True }", "helm: 0x1F");
    env.write(path, &text);
    let err = env.fails(&["show", id], 1);
    assert!(err.contains("error: ") && err.contains(path), "{err}");
    assert!(err.contains("hint: "), "{err}");
    env.write(path, &before.0[0].1);
    assert_eq!(env.snapshot(), before, "nothing written");
}
