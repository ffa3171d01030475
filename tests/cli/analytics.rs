//! `analytics` over a small hand-built history: every figure below is
//! computed by hand in the comments and asserted exactly.

use serde_json::Value;

use crate::env::TestEnv;

struct Dep<'a> {
    id: &'a str,
    service: &'a str,
    env: &'a str,
    status: &'a str,
    operator: &'a str,
    started: &'a str,
    finished: Option<&'a str>,
    seconds: Option<i64>,
    commit: &'a str,
}

fn record_text(d: &Dep) -> String {
    let mut t = format!(
        "---\nschema: 1\nid: {}\nservice: {}\nenvironment: {}\nstatus: {}\noperator: {}\nstarted_at: {}\n",
        d.id, d.service, d.env, d.status, d.operator, d.started
    );
    if let Some(f) = d.finished {
        t.push_str(&format!("finished_at: {f}\n"));
    }
    if let Some(s) = d.seconds {
        t.push_str(&format!("duration_seconds: {s}\n"));
    }
    t.push_str(&format!(
        "git: {{ commit: {} }}\n---\n# {}\n",
        d.commit, d.id
    ));
    t
}

fn path_of(id: &str) -> String {
    format!("deployments/checklists/2025/01/{id}.md")
}

/// Writes a record and commits it alone at `at`.
fn commit_record(env: &mut TestEnv, at: &str, d: &Dep) -> String {
    let path = path_of(d.id);
    env.write(&path, &record_text(d));
    env.at(at);
    env.git(&["add", &path]);
    env.git(&["commit", "-q", "-m", &format!("deploy: {}", d.id)]);
    head(env)
}

/// A code change to `file`, committed at `at` (author time = `at`).
fn commit_code(env: &mut TestEnv, at: &str, file: &str) -> String {
    env.write(file, &format!("changed at {at}\n"));
    env.at(at);
    env.git(&["add", file]);
    env.git(&["commit", "-q", "-m", &format!("change {file}")]);
    head(env)
}

fn head(env: &TestEnv) -> String {
    env.git(&["rev-parse", "HEAD"]).trim().to_string()
}

struct Built {
    env: TestEnv,
    /// The commit that edited D1 after its finish.
    edit_commit: String,
    /// The commit that deleted record X.
    rm_commit: String,
}

const D1: &str = "DEP-2025-01-20-10-00-api-production";
const X: &str = "DEP-2025-01-21-11-00-api-development";
const U: &str = "DEP-2025-01-24-15-00-api-production";
const S2: &str = "DEP-2025-01-22-08-00-api-staging";

/// The history (UTC; commit times increase along it):
///
/// | when (commit)    | what                                                        |
/// |------------------|-------------------------------------------------------------|
/// | 01-15 14:30      | initial commit (README)                                     |
/// | 01-16 00:00      | ledger.toml: `[services.web] paths = ["web/"]`              |
/// | 01-17 09:06      | S1 api staging success alice 09:00–09:05 (300 s)           |
/// | 01-20 08:00  C1  | src/a.rs                                                    |
/// | 01-20 10:11      | D1 api production success alice 10:00–10:10 (600 s) @C1    |
/// | 01-20 12:00  C2  | src/b.rs                                                    |
/// | 01-20 12:30  C3  | deployments/notes.md (deployments only)                     |
/// | 01-20 13:11      | W1 web production success dave 13:00–13:10 (600 s) @C3    |
/// | 01-21 08:00  Cw  | web/index.html                                              |
/// | 01-21 10:21      | D2 api production FAILED bob 10:00–10:20 (1200 s) @Cw      |
/// | 01-21 11:02      | X api development success (deleted later)                   |
/// | 01-21 14:31      | D3 api production success alice 14:00–14:30 (1800 s) @HEAD |
/// | 01-22 08:01      | S2 api staging in-progress alice since 08:00                |
/// | 01-22 09:00  C4  | src/c.rs on branch `feature`                                |
/// | 01-22 10:00  C5  | src/d.rs on main                                            |
/// | 01-22 11:00  M   | merge of `feature`                                          |
/// | 01-22 12:16      | D4 api production success carol 12:00–12:15 (900 s) @M     |
/// | 01-22 13:21      | W2 web production success dave 13:00–13:20 (1200 s) @HEAD  |
/// | 01-23 09:06      | D5 api production success alice 09:00–09:05 (300 s) @C3 (an older commit: rollback) |
/// | 01-23 12:00      | D1 edited (after its finish)                                |
/// | 01-23 13:00      | X deleted                                                   |
/// | 01-24 08:00  C6  | src/e.rs                                                    |
/// | 01-24 09:11      | D6 api production success bob 09:00–09:10 (600 s) @C6     |
/// | not committed    | U api production in-progress carol since 01-24 15:00       |
///
/// The report runs at 2025-01-24T16:00:00Z.
fn build() -> Built {
    let mut env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "[services.web]\npaths = [\"web/\"]\n",
    );
    env.at("2025-01-16T00:00:00Z");
    env.git(&["add", "deployments/ledger.toml"]);
    env.git(&["commit", "-q", "-m", "ledger config"]);
    let init = head(&env);
    let dep = |id, service, e, status, operator, started, finished, seconds, commit| Dep {
        id,
        service,
        env: e,
        status,
        operator,
        started,
        finished,
        seconds,
        commit,
    };
    commit_record(
        &mut env,
        "2025-01-17T09:06:00Z",
        &dep(
            "DEP-2025-01-17-09-00-api-staging",
            "api",
            "staging",
            "success",
            "alice",
            "2025-01-17T09:00:00Z",
            Some("2025-01-17T09:05:00Z"),
            Some(300),
            &init,
        ),
    );
    let c1 = commit_code(&mut env, "2025-01-20T08:00:00Z", "src/a.rs");
    commit_record(
        &mut env,
        "2025-01-20T10:11:00Z",
        &dep(
            D1,
            "api",
            "production",
            "success",
            "alice",
            "2025-01-20T10:00:00Z",
            Some("2025-01-20T10:10:00Z"),
            Some(600),
            &c1,
        ),
    );
    commit_code(&mut env, "2025-01-20T12:00:00Z", "src/b.rs");
    let c3 = commit_code(&mut env, "2025-01-20T12:30:00Z", "deployments/notes.md");
    commit_record(
        &mut env,
        "2025-01-20T13:11:00Z",
        &dep(
            "DEP-2025-01-20-13-00-web-production",
            "web",
            "production",
            "success",
            "dave",
            "2025-01-20T13:00:00Z",
            Some("2025-01-20T13:10:00Z"),
            Some(600),
            &c3,
        ),
    );
    let cw = commit_code(&mut env, "2025-01-21T08:00:00Z", "web/index.html");
    commit_record(
        &mut env,
        "2025-01-21T10:21:00Z",
        &dep(
            "DEP-2025-01-21-10-00-api-production",
            "api",
            "production",
            "failed",
            "bob",
            "2025-01-21T10:00:00Z",
            Some("2025-01-21T10:20:00Z"),
            Some(1200),
            &cw,
        ),
    );
    let h = head(&env);
    commit_record(
        &mut env,
        "2025-01-21T11:02:00Z",
        &dep(
            X,
            "api",
            "development",
            "success",
            "erin",
            "2025-01-21T11:00:00Z",
            Some("2025-01-21T11:01:00Z"),
            Some(60),
            &h,
        ),
    );
    let h = head(&env);
    commit_record(
        &mut env,
        "2025-01-21T14:31:00Z",
        &dep(
            "DEP-2025-01-21-14-00-api-production",
            "api",
            "production",
            "success",
            "alice",
            "2025-01-21T14:00:00Z",
            Some("2025-01-21T14:30:00Z"),
            Some(1800),
            &h,
        ),
    );
    let h = head(&env);
    commit_record(
        &mut env,
        "2025-01-22T08:01:00Z",
        &dep(
            S2,
            "api",
            "staging",
            "in-progress",
            "alice",
            "2025-01-22T08:00:00Z",
            None,
            None,
            &h,
        ),
    );
    // A feature branch merged with a merge commit.
    env.git(&["checkout", "-q", "-b", "feature"]);
    commit_code(&mut env, "2025-01-22T09:00:00Z", "src/c.rs");
    env.git(&["checkout", "-q", "main"]);
    commit_code(&mut env, "2025-01-22T10:00:00Z", "src/d.rs");
    env.at("2025-01-22T11:00:00Z");
    env.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    let m = head(&env);
    commit_record(
        &mut env,
        "2025-01-22T12:16:00Z",
        &dep(
            "DEP-2025-01-22-12-00-api-production",
            "api",
            "production",
            "success",
            "carol",
            "2025-01-22T12:00:00Z",
            Some("2025-01-22T12:15:00Z"),
            Some(900),
            &m,
        ),
    );
    let h = head(&env);
    commit_record(
        &mut env,
        "2025-01-22T13:21:00Z",
        &dep(
            "DEP-2025-01-22-13-00-web-production",
            "web",
            "production",
            "success",
            "dave",
            "2025-01-22T13:00:00Z",
            Some("2025-01-22T13:20:00Z"),
            Some(1200),
            &h,
        ),
    );
    // Rollback to an older commit: C3 is an ancestor of what D4 shipped.
    commit_record(
        &mut env,
        "2025-01-23T09:06:00Z",
        &dep(
            "DEP-2025-01-23-09-00-api-production",
            "api",
            "production",
            "success",
            "alice",
            "2025-01-23T09:00:00Z",
            Some("2025-01-23T09:05:00Z"),
            Some(300),
            &c3,
        ),
    );
    // D1 edited after its finish.
    let d1 = path_of(D1);
    let text = env.read(&d1) + "\nEdited afterwards.\n";
    env.write(&d1, &text);
    env.at("2025-01-23T12:00:00Z");
    env.git(&["commit", "-q", "-am", "edit D1"]);
    let edit_commit = head(&env);
    env.at("2025-01-23T13:00:00Z");
    env.git(&["rm", "-q", &path_of(X)]);
    env.git(&["commit", "-q", "-m", "remove X"]);
    let rm_commit = head(&env);
    let c6 = commit_code(&mut env, "2025-01-24T08:00:00Z", "src/e.rs");
    commit_record(
        &mut env,
        "2025-01-24T09:11:00Z",
        &dep(
            "DEP-2025-01-24-09-00-api-production",
            "api",
            "production",
            "success",
            "bob",
            "2025-01-24T09:00:00Z",
            Some("2025-01-24T09:10:00Z"),
            Some(600),
            &c6,
        ),
    );
    // Not committed.
    let h = head(&env);
    env.write(
        &path_of(U),
        &record_text(&dep(
            U,
            "api",
            "production",
            "in-progress",
            "carol",
            "2025-01-24T15:00:00Z",
            None,
            None,
            &h,
        )),
    );
    env.at("2025-01-24T16:00:00Z");
    Built {
        env,
        edit_commit,
        rm_commit,
    }
}

fn json(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = vec!["analytics", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&env.ok(&all)).expect("json")
}

#[test]
fn every_section_by_hand() {
    let b = build();
    let r = json(&b.env, &[]);

    // 10 records at HEAD (X was deleted) + U uncommitted = 11.
    // in-progress: S2, U; failed: D2; success: the other 8.
    let s = &r["summary"];
    assert_eq!(s["total"], 11);
    assert_eq!(s["by_status"]["success"], 8);
    assert_eq!(s["by_status"]["failed"], 1);
    assert_eq!(s["by_status"]["in-progress"], 2);
    // success / (success + failed + rolled-back) = 8 / 9.
    assert_eq!(s["success_rate"].as_f64(), Some(8.0 / 9.0));
    assert_eq!(s["first"], "2025-01-17T09:00:00Z");
    assert_eq!(s["last"], "2025-01-24T15:00:00Z");
    assert_eq!(s["uncommitted"], 1);

    // Hours: 09 ← S1, D5, D6 (3, all success); 10 ← D1, D2; 13 ← W1, W2.
    assert_eq!(r["peak_hours"][0]["hour"], 9);
    assert_eq!(r["peak_hours"][0]["count"], 3);
    assert_eq!(r["peak_hours"][0]["success_rate"].as_f64(), Some(1.0));
    assert_eq!(r["peak_hours"][1]["hour"], 10);
    // D2 failed, D1 succeeded: 1/2.
    assert_eq!(r["peak_hours"][1]["success_rate"].as_f64(), Some(0.5));
    // Days: Wed ← S2, D4, W2; Fri ← S1, D6, U; Mon ← D1, W1; Tue ← D2, D3; Thu ← D5.
    let days: Vec<(String, u64)> = r["busiest_days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            (
                d["day"].as_str().expect("day").to_string(),
                d["count"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("Wednesday", 3),
            ("Friday", 3),
            ("Monday", 2),
            ("Tuesday", 2),
            ("Thursday", 1)
        ]
        .map(|(d, n)| (d.to_string(), n))
    );
    // Heatmap: Friday (row 4) at 09:00 has S1 and D6.
    assert_eq!(r["heatmap"][4]["day"], "Friday");
    assert_eq!(r["heatmap"][4]["hours"][9], 2);
    assert_eq!(r["heatmap"][4]["hours"][15], 1);

    // alice: S1 300, D1 600, D3 1800, S2 (open), D5 300 → 5 deployments,
    // 4/4 success, median of 300, 300, 600, 1800 = (300 + 600) / 2 = 450.
    let alice = &r["operators"][0];
    assert_eq!(alice["operator"], "alice");
    assert_eq!(alice["count"], 5);
    assert_eq!(alice["success_rate"].as_f64(), Some(1.0));
    assert_eq!(alice["median_duration_seconds"].as_f64(), Some(450.0));
    // bob: D2 failed 1200, D6 600 → 1/2, median 900.
    let bob = r["operators"]
        .as_array()
        .expect("ops")
        .iter()
        .find(|o| o["operator"] == "bob")
        .expect("bob");
    assert_eq!(bob["success_rate"].as_f64(), Some(0.5));
    assert_eq!(bob["median_duration_seconds"].as_f64(), Some(900.0));

    // production: D1 W1 D2 D3 D4 W2 D5 D6 U = 9, 7 of 8 outcomes success.
    assert_eq!(r["environments"][0]["name"], "production");
    assert_eq!(r["environments"][0]["count"], 9);
    assert_eq!(
        r["environments"][0]["success_rate"].as_f64(),
        Some(7.0 / 8.0)
    );
    assert_eq!(r["services"][0]["name"], "api");
    assert_eq!(r["services"][0]["count"], 9);

    // Finished durations: 300 300 600 600 600 900 1200 1200 1800:
    // median the 5th = 600; p90 rank ceil(0.9 × 9) = 9 → 1800.
    assert_eq!(r["durations"]["total"]["count"], 9);
    assert_eq!(
        r["durations"]["total"]["median_seconds"].as_f64(),
        Some(600.0)
    );
    assert_eq!(
        r["durations"]["total"]["p90_seconds"].as_f64(),
        Some(1800.0)
    );

    // Weeks: W03 = S1 (1, 1/1, median 300); W04 = the other 10, 7/8
    // success, median of 300 600 600 600 900 1200 1200 1800 = 750.
    let t = &r["trends"];
    assert_eq!(t["period"], "week");
    assert_eq!(t["buckets"][0]["label"], "2025-W03");
    assert_eq!(t["buckets"][0]["count"], 1);
    assert!(t["buckets"][0]["change"].is_null());
    let w4 = &t["buckets"][1];
    assert_eq!(w4["label"], "2025-W04");
    assert_eq!(w4["start"], "2025-01-20");
    assert_eq!(w4["count"], 10);
    assert_eq!(w4["success_rate"].as_f64(), Some(0.875));
    assert_eq!(w4["median_duration_seconds"].as_f64(), Some(750.0));
    assert_eq!(w4["change"]["count"], 9);
    assert_eq!(w4["change"]["count_ratio"].as_f64(), Some(9.0));
    assert_eq!(w4["change"]["success_rate"].as_f64(), Some(-0.125));
    assert_eq!(
        w4["change"]["median_duration_seconds"].as_f64(),
        Some(450.0)
    );

    let d = &r["dora"]["production"];
    assert_eq!(d["thresholds"], "DORA 2023");
    // Frequency: window D1 (01-20) .. U (01-24) = 5 days, 7 successes →
    // 1.4 a day; deploy-days in W04: Mon Tue Wed Thu Fri = 5 → elite.
    let f = &d["deployment_frequency"];
    assert_eq!(f["days"], 5);
    assert_eq!(f["per_day"].as_f64(), Some(1.4));
    assert_eq!(f["deploy_days_per_week_median"].as_f64(), Some(5.0));
    assert_eq!(f["tier"], "elite");
    // Lead time, (deployment, commit) pairs:
    //   D3 (C1..HEAD): C2 14:30−12:00 next day = 95400; Cw 14:30−08:00 = 23400
    //     (C3 and the record commits touch only deployments/: out)
    //   D4 (..M): C4 12:15−09:00 = 11700; C5 12:15−10:00 = 8100 (M: a merge, out)
    //   D5 (@C3, an ancestor: rollback): empty range
    //   D6 (C3..C6): Cw, C4, C5 already counted; C6 09:10−08:00 = 4200
    //   W2 (C3..HEAD, paths web/): only Cw, 01-22 13:20 − 01-21 08:00 = 105600
    //   D1 and W1 are first deployments: no baseline.
    // Sorted: 4200 8100 11700 23400 95400 105600 → median (11700 + 23400)/2
    // = 17550; p90 rank ceil(5.4) = 6 → 105600; mean 248400 / 6 = 41400.
    let l = &d["lead_time"];
    assert_eq!(l["commits"], 6);
    assert_eq!(l["median_seconds"].as_f64(), Some(17550.0));
    assert_eq!(l["p90_seconds"].as_f64(), Some(105600.0));
    assert_eq!(l["mean_seconds"].as_f64(), Some(41400.0));
    assert_eq!(l["deployments"], 5);
    assert_eq!(l["skipped_no_baseline"], 2);
    assert_eq!(l["skipped_missing_commit"], 0);
    assert_eq!(l["tier"], "elite", "17550 s < 1 day");
    // Change failure rate: D2 of 8 outcomes = 0.125 → medium (≤ 15%).
    let c = &d["change_failure_rate"];
    assert_eq!(c["value"].as_f64(), Some(0.125));
    assert_eq!(c["failed"], 1);
    assert_eq!(c["total"], 8);
    assert_eq!(c["tier"], "medium");
    // Recovery: D2 ended 01-21 10:20, next api success D3 14:30 → 15000 s.
    let rt = &d["recovery_time"];
    assert_eq!(rt["median_seconds"].as_f64(), Some(15000.0));
    assert_eq!(rt["mean_seconds"].as_f64(), Some(15000.0));
    assert_eq!(rt["failures"], 1);
    assert_eq!(rt["tier"], "high", "< 1 day");

    let a = &r["audit"];
    assert_eq!(a["history"], "complete");
    assert_eq!(a["edited_after_finish"].as_array().expect("list").len(), 1);
    assert_eq!(a["edited_after_finish"][0]["id"], D1);
    assert_eq!(
        a["edited_after_finish"][0]["commit"].as_str(),
        Some(b.edit_commit.as_str())
    );
    assert_eq!(a["deleted"].as_array().expect("list").len(), 1);
    assert_eq!(a["deleted"][0]["id"], X);
    assert_eq!(
        a["deleted"][0]["commit"].as_str(),
        Some(b.rm_commit.as_str())
    );
    assert_eq!(a["uncommitted"].as_array().expect("list").len(), 1);
    assert_eq!(a["uncommitted"][0]["id"], U);
    // S2: 01-22 08:00 to 01-24 16:00 = 56 h ≥ 24 h; U is one hour old.
    assert_eq!(a["stale_in_progress"].as_array().expect("list").len(), 1);
    assert_eq!(a["stale_in_progress"][0]["id"], S2);
    assert_eq!(a["stale_in_progress"][0]["age_hours"], 56);
    // 11 records: too few for any rule.
    assert_eq!(r["recommendations"].as_array().expect("list").len(), 0);

    // The same report when the parents and trees come from a commit-graph
    // file (what `git gc` writes) and the commits are read on every core.
    b.env.git(&["commit-graph", "write", "--reachable"]);
    assert_eq!(from_commit_graph(&b.env, &[]), r);
    // A file that names another tree than the commit's own is an error
    // that says how to mend it (one byte of the first tree id changed).
    let file = b.env.path(".git/objects/info/commit-graph");
    let good = std::fs::read(&file).expect("read graph");
    let mut bad = good.clone();
    let chunks = usize::from(good[6]);
    let cdat = (0..chunks)
        .map(|i| 8 + 12 * i)
        .find(|at| &good[*at..at + 4] == b"CDAT")
        .map(|at| u64::from_be_bytes(good[at + 4..at + 12].try_into().expect("8 bytes")))
        .expect("a CDAT chunk") as usize;
    bad[cdat] ^= 0xff;
    std::fs::write(&file, &bad).expect("write graph");
    let _ = std::fs::remove_file(b.env.path(".git/deploy-ledger/analytics-cache"));
    let err = b.env.fails(&["analytics", "--format", "json"], 1);
    assert!(
        err.contains("not what the commit-graph file says")
            && err.contains("git commit-graph write --reachable"),
        "{err}"
    );
    // So is a file naming a commit the repository lacks (bytes of an id
    // in its OID lookup table changed).
    let oidl = (0..chunks)
        .map(|i| 8 + 12 * i)
        .find(|at| &good[*at..at + 4] == b"OIDL")
        .map(|at| u64::from_be_bytes(good[at + 4..at + 12].try_into().expect("8 bytes")))
        .expect("an OIDL chunk") as usize;
    let mut unknown = good.clone();
    unknown[oidl + 20 + 8..oidl + 20 + 16].copy_from_slice(b"XXXXXXXX");
    std::fs::write(&file, &unknown).expect("write graph");
    forget_reports(&b.env);
    let err = b.env.fails(&["analytics", "--format", "json"], 1);
    assert!(
        err.contains("not what the commit-graph file says")
            && err.contains("git commit-graph write --reachable"),
        "{err}"
    );
    // An unreadable file is not used: the commits are read instead.
    std::fs::write(&file, b"not a commit-graph").expect("write graph");
    forget_reports(&b.env);
    assert_eq!(json(&b.env, &[]), r);
    // The objects in two packs: the commits the file names are then read
    // from the packs, in pack order (all of them: asserted), and give the
    // same report; the damaged file is found there too.
    std::fs::write(&file, &good).expect("write graph");
    pack_in_two(&b.env, &b.edit_commit);
    assert_eq!(from_commit_graph(&b.env, &[]), r);
    let commits = b.env.git(&["rev-list", "--count", "HEAD"]);
    let timings = cold_timings(&b.env);
    assert!(
        timings.contains(&format!(
            "commits read from packs: {0} of {0}, root trees: {0} ",
            commits.trim()
        )),
        "{timings}"
    );
    std::fs::write(&file, &bad).expect("write graph");
    forget_reports(&b.env);
    let err = b.env.fails(&["analytics", "--format", "json"], 1);
    assert!(err.contains("not what the commit-graph file says"), "{err}");
    // Packed by git's defaults, a commit may be stored as a delta of
    // another: it is read by libgit2, with the same report.
    std::fs::write(&file, &good).expect("write graph");
    b.env.git(&["repack", "-a", "-d", "-f", "-q"]);
    assert_eq!(from_commit_graph(&b.env, &[]), r);
    // Root trees stored as deltas of other root trees (asserted), rebuilt
    // from the packs: the same report, every root tree read there.
    b.env.git(&[
        "repack",
        "-a",
        "-d",
        "-f",
        "-q",
        "--window=250",
        "--depth=50",
    ]);
    let roots: std::collections::HashSet<String> = b
        .env
        .git(&["log", "--format=%T"])
        .lines()
        .map(str::to_owned)
        .collect();
    let pack = std::fs::read_dir(b.env.path(".git/objects/pack"))
        .expect("pack folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("a pack");
    let verify = b.env.git(&["verify-pack", "-v", &pack.to_string_lossy()]);
    let deltas = verify
        .lines()
        .filter(|l| l.split_whitespace().count() == 7)
        .filter(|l| roots.contains(l.split_whitespace().next().unwrap_or("")))
        .count();
    assert!(
        deltas > 0,
        "root trees stored as deltas: {deltas}\n{verify}"
    );
    assert_eq!(from_commit_graph(&b.env, &[]), r);
    let timings = cold_timings(&b.env);
    assert!(
        timings.contains(&format!("root trees: {} ", commits.trim())),
        "{timings}"
    );
}

/// The stage timings of a cold `analytics` run (no cache, no memo).
fn cold_timings(env: &TestEnv) -> String {
    forget_reports(env);
    let out = env
        .cmd()
        .env("DEPLOY_LEDGER_TIMINGS", "1")
        .args(["analytics"])
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Moves every object of the repository into two packs: the objects
/// reachable from `older` in one, the others in a second; none is left
/// loose, and none is stored as a delta (`--window=0`).
fn pack_in_two(env: &TestEnv, older: &str) {
    use std::io::Write as _;
    let objects = env.git(&["rev-list", "--objects", older]);
    let mut cmd = std::process::Command::new("git");
    env.apply_env(&mut cmd);
    let mut child = cmd
        .args(["pack-objects", "-q", "--window=0", ".git/objects/pack/pack"])
        .current_dir(&env.repo)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("git pack-objects");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(objects.as_bytes())
        .expect("write ids");
    assert!(child.wait().expect("waits").success());
    env.git(&["prune-packed"]);
    env.git(&["repack", "-d", "-q", "--window=0"]);
    let packs = std::fs::read_dir(env.path(".git/objects/pack"))
        .expect("pack folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "pack"))
        })
        .count();
    assert_eq!(packs, 2);
    assert!(
        env.git(&["count-objects"]).starts_with("0 objects"),
        "none loose"
    );
}

#[test]
fn filters_tz_period_and_committed_only() {
    let b = build();
    // Without U: 10 records, none uncommitted.
    let r = json(&b.env, &["--committed-only", "--section", "summary"]);
    assert_eq!(r["summary"]["total"], 10);
    assert_eq!(r["summary"]["uncommitted"], 0);
    assert!(r.get("dora").is_none(), "only the asked section");
    // In +02:00 the 09:00 UTC peak is at 11.
    let r = json(&b.env, &["--tz", "+02:00", "--section", "peak_hours"]);
    assert_eq!(r["peak_hours"][0]["hour"], 11);
    let r = json(&b.env, &["--tz", "Asia/Tokyo", "--section", "peak_hours"]);
    assert_eq!(r["peak_hours"][0]["hour"], 18);
    // Staging: S1 and S2; 1 outcome, a success.
    let r = json(
        &b.env,
        &[
            "--env",
            "staging",
            "--section",
            "summary",
            "--section",
            "dora",
        ],
    );
    assert_eq!(r["summary"]["total"], 2);
    assert_eq!(r["summary"]["success_rate"].as_f64(), Some(1.0));
    assert!(r["dora"].get("staging").is_some(), "DORA follows --env");
    // --since/--until are inclusive dates: 01-21 and 01-22 → D2, X gone,
    // D3, S2, D4, W2 = 5.
    let r = json(
        &b.env,
        &[
            "--since",
            "2025-01-21",
            "--until",
            "2025-01-22",
            "--section",
            "summary",
        ],
    );
    assert_eq!(r["summary"]["total"], 5);
    let r = json(
        &b.env,
        &[
            "--operator",
            "dave",
            "--service",
            "web",
            "--section",
            "summary",
        ],
    );
    assert_eq!(r["summary"]["total"], 2);
    // One month bucket holding everything.
    let r = json(&b.env, &["--period", "month", "--section", "trends"]);
    assert_eq!(r["trends"]["buckets"].as_array().expect("b").len(), 1);
    assert_eq!(r["trends"]["buckets"][0]["label"], "2025-01");
    assert_eq!(r["trends"]["buckets"][0]["count"], 11);
}

#[test]
fn text_and_markdown_reports() {
    let b = build();
    let text = b.env.ok(&["analytics"]);
    assert!(text.contains("SUMMARY"), "{text}");
    assert!(text.contains("success rate  88.9%"), "{text}");
    assert!(text.contains("DORA · production (DORA 2023)"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    let trends = b.env.ok(&["analytics", "--section", "trends"]);
    assert!(trends.contains("2025-W04"), "{trends}");
    assert!(!trends.contains("SUMMARY"), "{trends}");
    // W04 against W03 (every_section_by_hand): count 10 (+9), success
    // 87.5% (−12.5 points), median 750 s = 12m 30s, +450 s = +7m 30s.
    let w04 = trends
        .lines()
        .find(|l| l.contains("2025-W04"))
        .expect("W04 row");
    let cells: Vec<&str> = w04.split_whitespace().collect();
    assert_eq!(
        cells,
        ["2025-W04", "10", "+9", "87.5%", "-12.5", "pt", "12m", "30s", "+7m", "30s"],
        "{trends}"
    );
    let md_trends = b
        .env
        .ok(&["analytics", "--section", "trends", "--format", "markdown"]);
    assert!(
        md_trends.contains("| 2025-W04 | 10 | +9 | 87.5% | -12.5 pt | 12m 30s | +7m 30s |"),
        "{md_trends}"
    );
    let md = b.env.ok(&["analytics", "--format", "markdown"]);
    assert!(md.contains("## Deployment analytics"), "{md}");
    assert!(
        md.contains("| Change failure rate | 12.5% (1 of 8) | medium |"),
        "{md}"
    );
}

#[test]
fn shallow_and_bare_clones() {
    let b = build();
    let url = format!("file://{}", b.env.repo.display());
    let dir = b.env.dir.path();
    let shallow = dir.join("shallow");
    let bare = dir.join("bare.git");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .env("GIT_CONFIG_GLOBAL", dir.join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&[
        "clone",
        "-q",
        "--depth",
        "3",
        &url,
        &shallow.to_string_lossy(),
    ]);
    git(&["clone", "-q", "--bare", &url, &bare.to_string_lossy()]);
    let run = |dir: &std::path::Path, args: &[&str]| {
        let out = crate::env::succeeds(b.env.cmd().current_dir(dir).args(args));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    // Depth 3: D6's record commit, C6, the removal of X. Of the 7 production
    // successes, 6 point at commits cut off; D6's baseline (D5) is one of them.
    let r: Value =
        serde_json::from_str(&run(&shallow, &["analytics", "--format", "json"])).expect("json");
    assert_eq!(r["audit"]["history"], "shallow");
    assert_eq!(r["summary"]["total"], 10);
    let l = &r["dora"]["production"]["lead_time"];
    assert_eq!(l["skipped_missing_commit"], 6);
    assert_eq!(l["skipped_no_baseline"], 1);
    assert_eq!(l["commits"], 0);
    let text = run(&shallow, &["analytics", "--section", "summary"]);
    assert!(text.contains("history: shallow"), "{text}");
    // Deepened but still shallow: the history grew under the same commits.
    // The report must be a cold run's (no cache or memo of the cut one).
    let report = |dir: &std::path::Path| -> Value {
        serde_json::from_str(&run(dir, &["analytics", "--format", "json"])).expect("json")
    };
    git(&[
        "-C",
        &shallow.to_string_lossy(),
        "fetch",
        "-q",
        "--deepen",
        "8",
    ]);
    let deeper = report(&shallow);
    assert_eq!(deeper["audit"]["history"], "shallow");
    let missing = deeper["dora"]["production"]["lead_time"]["skipped_missing_commit"]
        .as_u64()
        .expect("a count");
    assert!(missing < 6, "more commits are known now: {missing}");
    std::fs::remove_dir_all(shallow.join(".git/deploy-ledger")).expect("rm state");
    assert_eq!(deeper, report(&shallow), "as a run without any cache");
    // Bare: the records at HEAD, no work tree.
    let r: Value =
        serde_json::from_str(&run(&bare, &["analytics", "--format", "json"])).expect("json");
    assert_eq!(r["summary"]["total"], 10);
    assert_eq!(r["dora"]["production"]["lead_time"]["commits"], 6);
}

/// A deployment whose range runs into the cut of a shallow clone through a
/// side branch (its baseline is on the branch) is not measured: the clone
/// does not know what the cut commit changed, nor the commits before it.
///
/// | commit | when (UTC)  | what                                                   |
/// |--------|-------------|--------------------------------------------------------|
/// | M1     | 02-02 08:00 | src/m1.rs (main)                                       |
/// | S1     | 02-03 08:00 | src/s1.rs on branch `hotfix` (from M1)                 |
/// | M1b    | 02-04 08:00 | src/m0.rs (main)                                       |
/// | Rc     | 02-04 09:00 | records R0 (02-01 08:50–09:00 @M1b), R1 (02-03 11:50–12:00 @S1): deployments only |
/// | M3     | 02-05 08:00 | src/m3.rs                                              |
/// | R2c    | 02-05 12:05 | record R2 (02-05 11:50–12:00 @M3)                      |
///
/// Full history: R0 has no baseline; R1 ships M1b..S1 = {S1}: 12:00 − 08:00
/// = 14400 s; R2 ships S1..M3 = {M3, Rc, M1b}, Rc left out (deployments
/// only): M3 14400 s, M1b 02-05 12:00 − 02-04 08:00 = 100800 s. Three
/// pairs, median 14400, mean 43200.
///
/// `--depth 3`: main is R2c, M3, Rc, and Rc's parent (M1b) is cut off. R0
/// points at M1b (missing), so R1 has no baseline; R2's range reaches Rc,
/// whose change is unknown (against nothing it would look like a code
/// change of 02-04 09:00): skipped, no pair.
#[test]
fn a_range_reaching_a_shallow_cut_is_not_measured() {
    let mut env = TestEnv::new();
    let dep = |id: &'static str, started: &'static str, finished: &'static str, commit: &str| {
        let commit = commit.to_string();
        move |env: &TestEnv| {
            env.write(
                &path_of(id),
                &record_text(&Dep {
                    id,
                    service: "api",
                    env: "production",
                    status: "success",
                    operator: "a",
                    started,
                    finished: Some(finished),
                    seconds: Some(600),
                    commit: &commit,
                }),
            );
        }
    };
    commit_code(&mut env, "2025-02-02T08:00:00Z", "src/m1.rs");
    env.git(&["checkout", "-q", "-b", "hotfix"]);
    let s1 = commit_code(&mut env, "2025-02-03T08:00:00Z", "src/s1.rs");
    env.git(&["checkout", "-q", "main"]);
    let m1b = commit_code(&mut env, "2025-02-04T08:00:00Z", "src/m0.rs");
    dep(
        "DEP-2025-02-01-08-50-api-production",
        "2025-02-01T08:50:00Z",
        "2025-02-01T09:00:00Z",
        &m1b,
    )(&env);
    dep(
        "DEP-2025-02-03-11-50-api-production",
        "2025-02-03T11:50:00Z",
        "2025-02-03T12:00:00Z",
        &s1,
    )(&env);
    env.at("2025-02-04T09:00:00Z");
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "records"]);
    let rc = head(&env);
    let m3 = commit_code(&mut env, "2025-02-05T08:00:00Z", "src/m3.rs");
    dep(
        "DEP-2025-02-05-11-50-api-production",
        "2025-02-05T11:50:00Z",
        "2025-02-05T12:00:00Z",
        &m3,
    )(&env);
    env.at("2025-02-05T12:05:00Z");
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "record R2"]);
    env.at("2025-02-06T00:00:00Z");
    let full = json(&env, &["--section", "dora"]);
    let l = &full["dora"]["production"]["lead_time"];
    assert_eq!(l["commits"], 3, "{l}");
    assert_eq!(l["median_seconds"], 14400.0);
    assert_eq!(l["mean_seconds"], 43200.0);
    assert_eq!(l["skipped_shallow"], 0);

    let shallow = env.dir.path().join("shallow");
    let out = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "3", "--no-single-branch"])
        .arg(format!("file://{}", env.repo.display()))
        .arg(&shallow)
        .env("GIT_CONFIG_GLOBAL", env.dir.path().join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cut = std::fs::read_to_string(shallow.join(".git/shallow")).expect("a shallow clone");
    assert!(cut.contains(&rc), "the cut is below Rc: {cut}");
    let out = crate::env::succeeds(env.cmd().current_dir(&shallow).args([
        "analytics",
        "--section",
        "dora",
        "--format",
        "json",
    ]));
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    let l = &r["dora"]["production"]["lead_time"];
    assert_eq!(l["skipped_shallow"], 1, "{l}");
    assert_eq!(l["skipped_missing_commit"], 1, "{l}");
    assert_eq!(l["skipped_no_baseline"], 1, "{l}");
    assert_eq!(l["commits"], 0, "{l}");
    assert_eq!(l["deployments"], 0, "{l}");
    assert_eq!(l["median_seconds"], Value::Null);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "lead time: 1 deployment(s) skipped, their range reaches the cut of this shallow clone"
        ),
        "{err}"
    );
}

#[test]
fn a_broken_record_is_a_warning() {
    let mut env = TestEnv::new();
    env.write(
        "deployments/checklists/2025/01/bad.md",
        "---\nid: [unclosed\n---\n",
    );
    let h = head(&env);
    env.write(
        &path_of("DEP-2025-01-15-14-30-api-production"),
        &record_text(&Dep {
            id: "DEP-2025-01-15-14-30-api-production",
            service: "api",
            env: "production",
            status: "success",
            operator: "a",
            started: "2025-01-15T14:30:00Z",
            finished: Some("2025-01-15T14:31:00Z"),
            seconds: Some(60),
            commit: &h,
        }),
    );
    env.at("2025-01-15T15:00:00Z");
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "records"]);
    let out = env.run(&["analytics", "--format", "json"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning:") && err.contains("deployments/checklists/2025/01/bad.md"),
        "{err}"
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["summary"]["total"], 1);
    assert_eq!(r["warnings"].as_array().expect("list").len(), 1);
    // The text and markdown reports carry the warning too (a summary posted
    // to a pull request must not hide a record it could not read).
    let text = env.ok(&["analytics", "--section", "warnings"]);
    assert!(
        text.contains("WARNINGS\n  ! deployments/checklists/2025/01/bad.md:"),
        "{text}"
    );
    let md = env.ok(&["analytics", "--format", "markdown"]);
    assert!(
        md.contains("### Warnings\n\n- deployments/checklists/2025/01/bad.md:"),
        "{md}"
    );
}

/// A filter value no record has is a warning (the report is empty), and an
/// environment outside the configuration an error with
/// `strict_environments`, as for `start`.
#[test]
fn filters_no_record_matches_are_warnings() {
    let mut env = TestEnv::new();
    let h = head(&env);
    tool_record(
        &mut env,
        "alice",
        "success",
        ("2025-01-15T14:30:00Z", "2025-01-15T14:40:00Z"),
        &h,
    );
    let out = env.run(&[
        "analytics",
        "--format",
        "json",
        "--env",
        "prod",
        "--operator",
        "alcie",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let env_warning =
        "--env `prod` matches no deployment of the ledger (environments in it: production)";
    let operator_warning =
        "--operator `alcie` matches no deployment of the ledger (operators in it: alice)";
    assert!(err.contains(&format!("warning: {env_warning}")), "{err}");
    assert!(
        err.contains(&format!("warning: {operator_warning}")),
        "{err}"
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["summary"]["total"], 0);
    assert_eq!(r["warnings"][0], env_warning);
    assert_eq!(r["warnings"][1], operator_warning);
    // A name the ledger has: no warning.
    let out = env.run(&["analytics", "--format", "json", "--env", "production"]);
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
    // --dora-env too; the default (production) only when named.
    let out = env.run(&["analytics", "--format", "json", "--dora-env", "prod"]);
    let dora_warning =
        "--dora-env `prod` matches no deployment of the ledger (environments in it: production)";
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["warnings"], serde_json::json!([dora_warning]), "{r}");
    let out = env.run(&[
        "analytics",
        "--format",
        "json",
        "--env",
        "production",
        "--dora-env",
        "production",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
    env.write(
        "deployments/ledger.toml",
        "strict_environments = true\n[environments.production]\n",
    );
    let err = env.fails(&["analytics", "--env", "prod"], 1);
    assert!(
        err.contains(
            "--env `prod` is not in the configuration (production), and strict_environments is set"
        ),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    let err = env.fails(&["analytics", "--dora-env", "prod"], 1);
    assert!(err.contains("--dora-env `prod` is not in"), "{err}");
    env.ok(&["analytics", "--env", "production"]);
}

/// The text and markdown reports show 20 entries of an audit list and say
/// how many they leave out; the JSON has them all.
#[test]
fn audit_lists_say_how_many_they_leave_out() {
    let env = TestEnv::new();
    let h = head(&env);
    for n in 0..23 {
        let id = format!("DEP-2025-01-15-14-30-s{n:02}-production");
        env.write(
            &path_of(&id),
            &record_text(&Dep {
                id: &id,
                service: &format!("s{n:02}"),
                env: "production",
                status: "success",
                operator: "a",
                started: "2025-01-15T14:30:00Z",
                finished: Some("2025-01-15T14:31:00Z"),
                seconds: Some(60),
                commit: &h,
            }),
        );
    }
    let r = json(&env, &["--section", "audit"]);
    assert_eq!(
        r["audit"]["uncommitted"].as_array().expect("list").len(),
        23
    );
    let text = env.ok(&["analytics", "--section", "audit"]);
    assert!(text.contains("  never committed: 23\n"), "{text}");
    assert_eq!(text.matches("-production (deployments/").count(), 20);
    assert!(
        text.contains("    … and 3 more (first 20 of 23; all in --format json)\n"),
        "{text}"
    );
    let md = env.ok(&["analytics", "--section", "audit", "--format", "markdown"]);
    assert_eq!(md.matches("-production` (`deployments/").count(), 20);
    assert!(
        md.contains("  - … and 3 more (first 20 of 23; all in --format json)\n"),
        "{md}"
    );
    // The lists of 20 or fewer entries (the other three) say nothing more.
    assert_eq!(text.matches("more (first").count(), 1, "{text}");
}

#[test]
fn an_empty_repository_gives_an_empty_report() {
    let env = TestEnv::empty();
    let r = json(&env, &[]);
    assert_eq!(r["summary"]["total"], 0);
    assert!(r["rev"].is_null());
    assert!(r["summary"]["success_rate"].is_null());
    // Said in words, not `deployments 0  ()`.
    let text = env.ok(&["analytics", "--section", "summary"]);
    assert!(
        text.contains("deployments   0 (none recorded, or none match the filters)"),
        "{text}"
    );
    assert!(!text.contains("()"), "{text}");
    let md = env.ok(&["analytics", "--section", "summary", "--format", "markdown"]);
    assert!(
        md.contains("No deployments recorded, or none match the filters."),
        "{md}"
    );
}

/// Nine deployments of api production, one an hour from 00:00 to 08:00 on
/// 2025-01-06 (10 minutes each), the last one failed.
///
/// - Peak hours: 9 hours with one deployment each; text and markdown show
///   the top 8 (00:00–07:00, ties by the earlier hour) and say so.
/// - Recovery: the failure (08:10) has no later success: 0 recovered, 1
///   unrecovered (not "0 failures").
#[test]
fn text_and_markdown_say_what_they_leave_out() {
    let mut env = TestEnv::new();
    let h = head(&env);
    for hour in 0..9 {
        let status = if hour == 8 { "failed" } else { "success" };
        tool_record(
            &mut env,
            "alice",
            status,
            (
                &format!("2025-01-06T{hour:02}:00:00Z"),
                &format!("2025-01-06T{hour:02}:10:00Z"),
            ),
            &h,
        );
    }
    env.at("2025-01-07T00:00:00Z");
    let text = env.ok(&["analytics", "--section", "peak_hours", "--section", "dora"]);
    assert!(
        text.contains("(top 8 of 9 hours with deployments)"),
        "{text}"
    );
    assert!(text.contains("07:00") && !text.contains("08:00"), "{text}");
    assert!(text.contains("(0 recovered, 1 unrecovered)"), "{text}");
    let md = env.ok(&[
        "analytics",
        "--section",
        "peak_hours",
        "--section",
        "dora",
        "--format",
        "markdown",
    ]);
    assert!(md.contains("Top 8 of 9 hours with deployments."), "{md}");
    assert!(
        md.contains(
            "| Failed deployment recovery time | median – · mean – (0 recovered, 1 unrecovered) | – |"
        ),
        "{md}"
    );
    let r = json(&env, &["--section", "dora"]);
    assert_eq!(r["dora"]["production"]["recovery_time"]["unrecovered"], 1);
}

#[test]
fn bad_arguments_are_clear_errors() {
    let env = TestEnv::new();
    let err = env.fails(&["analytics", "--tz", "Mars/Olympus"], 1);
    assert!(err.contains("`Mars/Olympus` is not a time zone"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    let err = env.fails(&["analytics", "--rev", "nope"], 1);
    assert!(err.contains("`nope` is not a revision"), "{err}");
    // A revision of something else than a commit, and a -C that is no
    // folder: the tool's words and a hint, not libgit2's or the OS's.
    env.write("f.txt", "x\n");
    env.git(&["add", "f.txt"]);
    env.git(&["commit", "-q", "-m", "a file"]);
    for (rev, kind) in [("HEAD^{tree}", "tree"), ("HEAD:f.txt", "blob")] {
        let err = env.fails(&["analytics", "--rev", rev], 1);
        assert_eq!(
            err.trim_end(),
            format!("error: `{rev}` names a {kind}, not a commit\nhint: pass a branch, tag or commit, e.g. --rev HEAD"),
        );
    }
    let file = env.path("f.txt");
    for (dir, why) in [
        (env.path("no-such-folder"), "does not exist"),
        (file, "is not a directory"),
    ] {
        let dir = dir.display().to_string();
        let err = env.fails(&["-C", &dir, "analytics"], 1);
        assert_eq!(
            err.trim_end(),
            format!("error: -C {dir}: {why}\nhint: give -C the folder of a git repository (or a folder inside one)"),
        );
    }
    let err = env.fails(
        &[
            "analytics",
            "--since",
            "2025-02-01",
            "--until",
            "2025-01-01",
        ],
        1,
    );
    assert!(err.contains("is not before --until"), "{err}");
    let err = env.fails(&["analytics", "--since", "yesterday"], 1);
    assert!(err.contains("neither a date nor an RFC 3339 time"), "{err}");
    // A filter no record can match is refused, not an empty report.
    let err = env.fails(&["analytics", "--env", "Bad Env"], 1);
    assert!(
        err.contains("--env: environment `Bad Env` is not a slug"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    let err = env.fails(&["analytics", "--service", "API/x"], 1);
    assert!(
        err.contains("--service: service `API/x` is not a slug"),
        "{err}"
    );
    let err = env.fails(&["analytics", "--dora-env", ""], 1);
    assert!(err.contains("--dora-env: environment `` is empty"), "{err}");
    let err = env.fails(&["analytics", "--section", "nope"], 2);
    assert!(
        err.contains("invalid value 'nope'") && err.contains("trends"),
        "{err}"
    );
    let err = env.fails(&["analytics", "--format", "yaml"], 2);
    assert!(err.contains("invalid value 'yaml'"), "{err}");
    let err = env.fails(&["analytics", "--period", "day"], 2);
    assert!(err.contains("invalid value 'day'"), "{err}");
}

#[test]
fn the_cache_never_serves_stale_figures() {
    let mut b = build();
    let cache = b.env.path(".git/deploy-ledger/analytics-cache");
    let cold = json(&b.env, &["--committed-only"]);
    assert!(cache.exists(), "the first run writes the cache");
    let warm = json(&b.env, &["--committed-only"]);
    assert_eq!(cold, warm, "same figures from the cache");
    // A new commit: D7 api production success 2025-01-24 11:00–11:20 at a
    // new code commit C7 (10:00): lead time adds 11:20 − 10:00 = 4800 s.
    let c7 = commit_code(&mut b.env, "2025-01-24T10:00:00Z", "src/f.rs");
    commit_record(
        &mut b.env,
        "2025-01-24T11:21:00Z",
        &Dep {
            id: "DEP-2025-01-24-11-00-api-production",
            service: "api",
            env: "production",
            status: "success",
            operator: "bob",
            started: "2025-01-24T11:00:00Z",
            finished: Some("2025-01-24T11:20:00Z"),
            seconds: Some(1200),
            commit: &c7,
        },
    );
    b.env.at("2025-01-24T16:00:00Z");
    let next = json(&b.env, &["--committed-only"]);
    assert_eq!(next["summary"]["total"], 11);
    assert_eq!(next["dora"]["production"]["lead_time"]["commits"], 7);
    // And it equals a run without any cache (nor the report memo, which
    // would serve the same report without reading the cache).
    let memo = b.env.path(".git/deploy-ledger/analytics-memo");
    std::fs::remove_file(&cache).expect("rm cache");
    std::fs::remove_file(&memo).expect("rm memo");
    assert_eq!(next, json(&b.env, &["--committed-only"]));
    // A damaged cache is ignored.
    std::fs::write(&cache, b"deploy-ledger analytics-cache 2\ngarbage").expect("write");
    std::fs::remove_file(&memo).expect("rm memo");
    assert_eq!(next, json(&b.env, &["--committed-only"]));
    // So is one damaged in place, anywhere: figures changed, or a length
    // made huge (which asked for gigabytes). Its sum no longer matches.
    let good = std::fs::read(&cache).expect("the cache");
    for at in (40..good.len() - 4).step_by(good.len() / 29) {
        let mut bad = good.clone();
        bad[at..at + 4].copy_from_slice(&[0x7f; 4]);
        std::fs::write(&cache, &bad).expect("write");
        let _ = std::fs::remove_file(&memo);
        assert_eq!(
            next,
            json(&b.env, &["--committed-only"]),
            "bytes {at}.. changed"
        );
    }
    // And a memo whose figures were changed: `"total":11` made 99. With its
    // sum made right again it is served (so this memo is the one read);
    // with the old sum it is ignored.
    let memo_bytes = std::fs::read(&memo).expect("the memo");
    let body = &memo_bytes[..memo_bytes.len() - 4];
    let text = String::from_utf8(body.to_vec()).expect("json");
    assert!(text.contains("\"total\":11,"), "{text}");
    let edited = text
        .replacen("\"total\":11,", "\"total\":99,", 1)
        .into_bytes();
    let mut resummed = edited.clone();
    resummed.extend(crc32fast::hash(&edited).to_le_bytes());
    std::fs::write(&memo, &resummed).expect("write");
    assert_eq!(json(&b.env, &["--committed-only"])["summary"]["total"], 99);
    let mut damaged = edited;
    damaged.extend(&memo_bytes[memo_bytes.len() - 4..]);
    std::fs::write(&memo, &damaged).expect("write");
    assert_eq!(next, json(&b.env, &["--committed-only"]));
    // An older --rev does not see the new record.
    let older = json(&b.env, &["--committed-only", "--rev", "HEAD~2"]);
    assert_eq!(older["summary"]["total"], 10);
    // Without --committed-only too: U (uncommitted) belongs to HEAD's report.
    let older = json(&b.env, &["--rev", "HEAD~2"]);
    assert_eq!(older["summary"]["total"], 10);
    assert_eq!(older["summary"]["uncommitted"], 0);
    assert_eq!(json(&b.env, &[])["summary"]["uncommitted"], 1);
}

/// Starts and finishes a deployment of `service` with the tool's own
/// `--commit` (one commit per command); returns its id.
fn tool_deploy(env: &mut TestEnv, service: &str, start: &str, finish: &str) -> String {
    env.at(start);
    env.ok(&[
        "start",
        "--service",
        service,
        "--env",
        "production",
        "--commit",
    ]);
    let id = format!(
        "DEP-{}-{service}-production",
        start[..16].replace(['T', ':'], "-")
    );
    env.at(finish).ok(&["finish", "--id", &id, "--commit"]);
    id
}

/// A hand commit at `at` with a tool-like `message` that edits the record
/// at `record` and also changes code (`src/x.rs`); returns its id.
fn forged_tool_commit(env: &mut TestEnv, at: &str, record: &str, message: &str) -> String {
    env.write(record, &(env.read(record) + "\nEdited by hand.\n"));
    env.write("src/x.rs", "fn main() {}\n");
    env.git(&["add", "src/x.rs", record]);
    env.at(at);
    env.git(&["commit", "-q", "-m", message]);
    head(env)
}

/// The audit over a history mixing the tool's commits (`--commit`: trusted
/// to change only the record their message names, not looked up in the
/// trees) and hand commits (diffed).
///
/// | commit                                  | kind  | finding                          |
/// |-----------------------------------------|-------|----------------------------------|
/// | A, B, C, E, F: start + finish each      | tool  | –                                |
/// | G: start only                           | tool  | – (in progress)                  |
/// | A's record edited by hand               | hand  | A edited after finish            |
/// | `check --id B 1 --commit` after finish  | tool  | B edited after finish            |
/// | C's record removed by hand              | hand  | C deleted                        |
/// | "deploy(e): check E [production]", changing src/x.rs and F's record | forged | F edited (E is not) |
#[test]
fn audit_over_tool_and_hand_commits() {
    let mut env = TestEnv::new();
    let a = tool_deploy(
        &mut env,
        "a",
        "2025-01-10T09:00:00Z",
        "2025-01-10T09:05:00Z",
    );
    let b = tool_deploy(
        &mut env,
        "b",
        "2025-01-10T10:00:00Z",
        "2025-01-10T10:05:00Z",
    );
    let c = tool_deploy(
        &mut env,
        "c",
        "2025-01-10T11:00:00Z",
        "2025-01-10T11:05:00Z",
    );
    let e = tool_deploy(
        &mut env,
        "e",
        "2025-01-10T12:00:00Z",
        "2025-01-10T12:05:00Z",
    );
    let f = tool_deploy(
        &mut env,
        "f",
        "2025-01-10T13:00:00Z",
        "2025-01-10T13:05:00Z",
    );
    env.at("2025-01-10T14:00:00Z");
    env.ok(&["start", "--service", "g", "--env", "production", "--commit"]);
    let log = env.git(&["log", "--format=%s"]);
    assert!(
        log.contains(&format!("deploy(a): finish {a} [production]")),
        "{log}"
    );
    // A hand edit after a tool finish.
    let path_a = format!("deployments/checklists/2025/01/{a}.md");
    env.write(&path_a, &(env.read(&path_a) + "\nEdited by hand.\n"));
    env.at("2025-01-11T09:00:00Z");
    env.git(&["commit", "-q", "-am", "fix a typo"]);
    let edit_a = head(&env);
    // A tool check after the finish.
    env.at("2025-01-11T10:00:00Z")
        .ok(&["check", "--id", &b, "1", "--commit"]);
    let check_b = head(&env);
    assert!(env
        .git(&["log", "-1", "--format=%s"])
        .starts_with(&format!("deploy(b): check {b} [production]")));
    // A deletion by hand.
    env.at("2025-01-11T11:00:00Z");
    env.git(&[
        "rm",
        "-q",
        &format!("deployments/checklists/2025/01/{c}.md"),
    ]);
    env.git(&["commit", "-q", "-m", "remove c"]);
    let rm_c = head(&env);
    // A forged tool message on a hand commit that also changes code: it is
    // diffed, so F's edit is found and E is not taken as changed.
    let forged = forged_tool_commit(
        &mut env,
        "2025-01-11T12:00:00Z",
        &format!("deployments/checklists/2025/01/{f}.md"),
        &format!("deploy(e): check {e} [production]"),
    );
    for run in ["cold", "warm"] {
        let out = json(&env, &["--committed-only"]);
        let audit = &out["audit"];
        let edited: Vec<(&str, &str)> = audit["edited_after_finish"]
            .as_array()
            .expect("list")
            .iter()
            .map(|x| {
                (
                    x["id"].as_str().expect("id"),
                    x["commit"].as_str().expect("commit"),
                )
            })
            .collect();
        assert_eq!(
            edited,
            vec![
                (a.as_str(), edit_a.as_str()),
                (b.as_str(), check_b.as_str()),
                (f.as_str(), forged.as_str())
            ],
            "{run}"
        );
        let deleted = audit["deleted"].as_array().expect("list");
        assert_eq!(deleted.len(), 1, "{run}");
        assert_eq!(deleted[0]["id"], c.as_str(), "{run}");
        assert_eq!(deleted[0]["commit"], rm_c.as_str(), "{run}");
    }
    // A new tool commit on top (the cache's walk is extended): still found.
    env.at("2025-01-12T09:00:00Z");
    env.ok(&["start", "--service", "h", "--env", "production", "--commit"]);
    let out = json(&env, &["--committed-only"]);
    assert_eq!(
        out["audit"]["edited_after_finish"]
            .as_array()
            .expect("list")
            .len(),
        3
    );
    assert_eq!(out["audit"]["deleted"].as_array().expect("list").len(), 1);
}

/// A run of tool commits (each the parent of the next) is checked as a
/// whole: when it changed something outside `deployments/`, each of its
/// commits is compared on its own, so a forged tool message in the middle
/// of the run is diffed (F's edit is found) and its code counts.
///
/// | commit                                               | kind   | finding          |
/// |------------------------------------------------------|--------|------------------|
/// | F: start + finish                                    | tool   | –                |
/// | G: start                                             | tool   | –                |
/// | "deploy(g): phase G [production]", src/x.rs + F's record | forged | F edited (here) |
/// | G: finish                                            | tool   | –                |
#[test]
fn a_forged_tool_commit_inside_a_run_of_tool_commits_is_diffed() {
    let mut env = TestEnv::new();
    let f = tool_deploy(
        &mut env,
        "f",
        "2025-05-01T09:00:00Z",
        "2025-05-01T09:05:00Z",
    );
    env.at("2025-05-01T10:00:00Z");
    env.ok(&["start", "--service", "g", "--env", "production", "--commit"]);
    let g = "DEP-2025-05-01-10-00-g-production";
    let forged = forged_tool_commit(
        &mut env,
        "2025-05-01T10:10:00Z",
        &format!("deployments/checklists/2025/05/{f}.md"),
        &format!("deploy(g): phase {g} [production]"),
    );
    env.at("2025-05-01T10:20:00Z")
        .ok(&["finish", "--id", g, "--commit"]);
    let log = env.git(&["log", "--format=%s"]);
    assert_eq!(
        log.lines().filter(|l| l.starts_with("deploy(")).count(),
        5,
        "{log}"
    );
    let r = json(&env, &["--section", "audit"]);
    assert_eq!(
        audit_list(&r, "edited_after_finish"),
        vec![(f, forged)],
        "{r}"
    );
}

#[test]
fn the_report_memo_serves_only_unchanged_reports() {
    let mut b = build();
    // A file written within 2 s of the memo is never trusted from it: let
    // the records age so that a second run can use the memo.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let run = |env: &TestEnv, args: &[&str]| -> (Value, String) {
        let mut all = vec!["analytics", "--format", "json"];
        all.extend_from_slice(args);
        let out = crate::env::succeeds(env.cmd().env("DEPLOY_LEDGER_TIMINGS", "1").args(&all));
        let json = serde_json::from_slice(&out.stdout).expect("json");
        (json, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (cold, e) = run(&b.env, &[]);
    assert!(e.contains("report memo: miss"), "{e}");
    let (warm, e) = run(&b.env, &[]);
    assert!(e.contains("report memo: hit"), "{e}");
    assert_eq!(cold, warm, "the same report, to the last digit");
    // Other options are another report.
    let (by_month, e) = run(&b.env, &["--period", "month"]);
    assert!(e.contains("report memo: miss"), "{e}");
    assert_eq!(by_month["trends"]["period"], "month");
    assert!(run(&b.env, &[]).1.contains("report memo: hit"));
    // The clock moves what depends on it: S2 (open since 01-22 08:00) is 80 h
    // old at 01-25 16:00, and U (since 01-24 15:00) 25 h: both stale now.
    b.env.at("2025-01-25T16:00:00Z");
    let (later, e) = run(&b.env, &[]);
    assert!(e.contains("report memo: hit"), "{e}");
    assert_eq!(later["generated_at"], "2025-01-25T16:00:00Z");
    let stale = &later["audit"]["stale_in_progress"];
    assert_eq!(stale.as_array().expect("list").len(), 2);
    assert_eq!(stale[0]["id"], S2);
    assert_eq!(stale[0]["age_hours"], 80);
    assert_eq!(stale[1]["id"], U);
    assert_eq!(stale[1]["age_hours"], 25);
    // An edit of a work-tree record is read: U finishes as failed.
    let u = b
        .env
        .read(&path_of(U))
        .replace("status: in-progress", "status: failed");
    b.env.write(&path_of(U), &u);
    let (edited, e) = run(&b.env, &[]);
    assert!(e.contains("report memo: miss"), "{e}");
    assert_eq!(edited["summary"]["by_status"]["failed"], 2);
    // A new commit is another revision.
    b.env.git(&["add", "-A"]);
    b.env.git(&["commit", "-q", "-m", "U failed"]);
    let (committed, e) = run(&b.env, &[]);
    assert!(e.contains("report memo: miss"), "{e}");
    assert_eq!(committed["summary"]["uncommitted"], 0);
    assert_eq!(committed["summary"]["by_status"]["failed"], 2);
    // Deleting the memo (or damaging it) only costs time.
    let memo = b.env.path(".git/deploy-ledger/analytics-memo");
    std::fs::write(&memo, b"{ not json").expect("write");
    let (again, e) = run(&b.env, &[]);
    assert!(e.contains("report memo: miss"), "{e}");
    assert_eq!(again, committed);
    std::fs::remove_file(&memo).expect("rm memo");
    assert_eq!(run(&b.env, &[]).0, committed);
}

/// The ids of the audit list `key` (`edited_after_finish`, `deleted`) with
/// the commit named.
fn audit_list(r: &Value, key: &str) -> Vec<(String, String)> {
    r["audit"][key]
        .as_array()
        .expect("list")
        .iter()
        .map(|x| {
            (
                x["id"].as_str().expect("id").to_string(),
                x["commit"].as_str().expect("commit").to_string(),
            )
        })
        .collect()
}

/// The versions of a record are ordered by the commit graph, not by
/// committer time: here the tool's commits carry a replayed clock
/// (DEPLOY_LEDGER_NOW, March 4) while the hand commits carry another.
///
/// | record | commits, oldest first (committer time)                          | edited after finish? |
/// |--------|------------------------------------------------------------------|----------------------|
/// | W      | start by hand (03-10), `finish --commit` (03-04 10:20)           | no                   |
/// | V      | `start --commit` (03-04 11:00), a note by hand (03-10), `finish --commit` (03-04 11:20) | no |
/// | Y      | `start --commit` (03-04 12:00), `finish --commit` (12:20), an edit by hand (03-01) | yes, the edit |
///
/// By committer time the hand commits of W and V would be their newest
/// versions (and the version before, the tool's, final): two false
/// findings; and Y's edit would look older than its finish: a finding
/// missed.
#[test]
fn audit_orders_versions_by_the_graph_not_the_clock() {
    let mut env = TestEnv::new();
    env.at("2025-03-04T10:00:00Z");
    env.ok(&["start", "--service", "w", "--env", "production"]);
    env.at("2025-03-10T00:00:00Z");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "start w by hand"]);
    env.at("2025-03-04T10:20:00Z");
    env.ok(&["finish", "--commit"]);

    env.at("2025-03-04T11:00:00Z");
    env.ok(&["start", "--service", "v", "--env", "production", "--commit"]);
    let v = "DEP-2025-03-04-11-00-v-production";
    let path_v = format!("deployments/checklists/2025/03/{v}.md");
    env.write(&path_v, &(env.read(&path_v) + "\nA note.\n"));
    env.at("2025-03-10T00:00:00Z");
    env.git(&["commit", "-q", "-am", "note on v"]);
    env.at("2025-03-04T11:20:00Z");
    env.ok(&["finish", "--id", v, "--commit"]);

    let y = tool_deploy(
        &mut env,
        "y",
        "2025-03-04T12:00:00Z",
        "2025-03-04T12:20:00Z",
    );
    let path_y = format!("deployments/checklists/2025/03/{y}.md");
    env.write(&path_y, &(env.read(&path_y) + "\nEdited by hand.\n"));
    env.at("2025-03-01T00:00:00Z");
    env.git(&["commit", "-q", "-am", "edit y"]);
    let edit_y = head(&env);

    env.at("2025-03-10T01:00:00Z");
    for run in ["cold", "warm"] {
        let r = json(&env, &["--committed-only", "--section", "audit"]);
        assert_eq!(
            audit_list(&r, "edited_after_finish"),
            vec![(y.clone(), edit_y.clone())],
            "{run}"
        );
    }
}

/// Runs the report from the cache the previous run left (an incremental
/// walk when HEAD moved), then without cache or memo (cold), and asserts
/// they are the same report; returns it.
fn incremental_equals_cold(env: &TestEnv, step: &str) -> Value {
    // The step's new objects in a pack of their own (one pack more at each
    // step): the commit-graph runs below read the commits from the packs.
    env.git(&["repack", "-d", "-q"]);
    let cache = env.path(".git/deploy-ledger/analytics-cache");
    let previous = std::fs::read(&cache).ok();
    let incremental = json(env, &["--committed-only"]);
    let cold = cold_json(env);
    assert_eq!(incremental, cold, "{step}: incremental and cold differ");
    let info = env.path(".git/objects/info");
    let kept = env.path(".git/kept-info");
    // The same run from the previous tip's cache with a commit-graph file
    // of the whole history: the step's commits are in the file, read one by
    // one (not the whole history in pack order).
    if let Some(previous) = previous {
        std::fs::rename(&info, &kept).expect("move the graph away");
        std::fs::create_dir(&info).expect("mkdir info");
        env.git(&["commit-graph", "write", "--reachable"]);
        forget_reports(env);
        std::fs::write(&cache, previous).expect("the previous cache");
        let (from_previous, stderr) = timed_json(env, &["--committed-only"]);
        assert!(
            stderr.contains("commits read from packs: 0 of"),
            "{step}: not read one by one: {stderr}"
        );
        assert_eq!(from_previous, cold, "{step}: from the previous cache");
        std::fs::remove_dir_all(&info).expect("rm info");
        std::fs::rename(&kept, &info).expect("restore the graph");
    }
    // The same from a commit-graph file (parents and trees from the file,
    // commits read on every core): whatever file the repository has now
    // (written at an earlier step: commits newer than it are walked by
    // reading them), none, and a split chain of the whole history.
    std::fs::rename(&info, &kept).expect("move the graph away");
    std::fs::create_dir(&info).expect("mkdir info");
    assert_eq!(cold_json(env), cold, "{step}: without a commit-graph");
    env.git(&["commit-graph", "write", "--reachable", "--split"]);
    assert!(info.join("commit-graphs").is_dir(), "{step}: a split chain");
    assert_eq!(
        from_commit_graph(env, &["--committed-only"]),
        cold,
        "{step}: from a split commit-graph"
    );
    std::fs::remove_dir_all(&info).expect("rm info");
    std::fs::rename(&kept, &info).expect("restore the graph");
    cold
}

/// A report without the analytics cache or the report memo, whose walk
/// took the repository's commit-graph file (asserted).
fn from_commit_graph(env: &TestEnv, args: &[&str]) -> Value {
    forget_reports(env);
    let (report, stderr) = timed_json(env, args);
    assert!(
        stderr.contains("(commit-graph)"),
        "not from the graph: {stderr}"
    );
    report
}

/// Removes the analytics cache and the report memo: the next report is cold.
fn forget_reports(env: &TestEnv) {
    for file in ["analytics-cache", "analytics-memo"] {
        let _ = std::fs::remove_file(env.path(&format!(".git/deploy-ledger/{file}")));
    }
}

/// A report without the analytics cache or the report memo.
fn cold_json(env: &TestEnv) -> Value {
    forget_reports(env);
    json(env, &["--committed-only"])
}

/// After each kind of change below, a run that extends the cache gives
/// exactly the report of a cold run. Several commits share a second (the
/// ties the walk's order must not decide) and the clock goes backwards.
///
/// | step | change                                                        | audit after it                |
/// |------|---------------------------------------------------------------|-------------------------------|
/// | 0    | A by the tool; B committed by hand; a code commit             | –                             |
/// | 1a   | B edited by hand                                              | B edited                      |
/// | 1b   | B removed by hand, in the same second as the edit             | B deleted (by the removal)    |
/// | 2    | code commit K1, then C by the tool at K1                      | B deleted                     |
/// | 3    | D started (not committed), committed by hand at a later clock, finished by the tool | unchanged |
/// | 4    | C moved to another folder by hand (a move, not a deletion)    | unchanged                     |
/// | 5    | a branch edits A, main adds code, merged                      | A edited (by the branch's commit) |
/// | 6    | `rollback --commit` of C (C rolled-back, a new success R)     | unchanged (not an edit)       |
/// | 7    | a broken record committed, then moved                         | warning names the new path; not deleted |
/// | 8    | a markdown file without frontmatter added, then removed       | not a deletion                |
#[test]
fn incremental_runs_equal_cold_runs() {
    let mut env = TestEnv::new();
    let a = tool_deploy(
        &mut env,
        "a",
        "2025-02-03T09:00:00Z",
        "2025-02-03T09:10:00Z",
    );
    let h = head(&env);
    let b = "DEP-2025-02-03-10-00-b-production";
    let dep_b = Dep {
        id: b,
        service: "b",
        env: "production",
        status: "success",
        operator: "bob",
        started: "2025-02-03T10:00:00Z",
        finished: Some("2025-02-03T10:10:00Z"),
        seconds: Some(600),
        commit: &h,
    };
    let path_b = path_of(b);
    env.write(&path_b, &record_text(&dep_b));
    env.at("2025-02-03T10:11:00Z");
    env.git(&["add", &path_b]);
    env.git(&["commit", "-q", "-m", "b by hand"]);
    commit_code(&mut env, "2025-02-03T11:00:00Z", "src/a.rs");
    let r = incremental_equals_cold(&env, "step 0");
    assert_eq!(r["summary"]["total"], 2);
    assert!(audit_list(&r, "deleted").is_empty());

    // 1. Two hand commits in the same second: the edit (a run caches it),
    // then the removal (read by extending the cache).
    env.write(&path_b, &(env.read(&path_b) + "\nEdited.\n"));
    env.at("2025-02-04T09:00:00Z");
    env.git(&["commit", "-q", "-am", "edit b"]);
    let edit_b = head(&env);
    let r = incremental_equals_cold(&env, "step 1a");
    assert_eq!(
        audit_list(&r, "edited_after_finish"),
        vec![(b.to_string(), edit_b)]
    );
    env.git(&["rm", "-q", &path_b]);
    env.git(&["commit", "-q", "-m", "remove b"]);
    let rm_b = head(&env);
    let r = incremental_equals_cold(&env, "step 1b");
    assert_eq!(r["summary"]["total"], 1);
    assert_eq!(
        audit_list(&r, "deleted"),
        vec![(b.to_string(), rm_b.clone())]
    );
    assert!(audit_list(&r, "edited_after_finish").is_empty());

    // 2. A code commit and a deployment of it.
    commit_code(&mut env, "2025-02-05T08:00:00Z", "src/c.rs");
    let c = tool_deploy(
        &mut env,
        "c",
        "2025-02-05T09:00:00Z",
        "2025-02-05T09:10:00Z",
    );
    // From here on the repository has a commit-graph file (what `git gc`
    // writes): later steps add commits it does not hold.
    env.git(&["commit-graph", "write", "--reachable"]);
    assert!(env.path(".git/objects/info/commit-graph").is_file());
    let r = incremental_equals_cold(&env, "step 2");
    assert_eq!(r["summary"]["total"], 2);

    // 3. D started, committed by hand with a later clock than its finish.
    env.at("2025-02-06T09:00:00Z");
    env.ok(&["start", "--service", "d", "--env", "production"]);
    env.at("2025-02-09T00:00:00Z");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "start d by hand"]);
    env.at("2025-02-06T09:30:00Z");
    env.ok(&["finish", "--commit"]);
    let r = incremental_equals_cold(&env, "step 3");
    assert_eq!(r["summary"]["total"], 3);
    assert!(audit_list(&r, "edited_after_finish").is_empty());

    // 4. C moved by hand: not a deletion, not an edit.
    let path_c = format!("deployments/checklists/2025/02/{c}.md");
    env.write("deployments/checklists/moved/.keep", "");
    env.at("2025-02-07T09:00:00Z");
    env.git(&[
        "mv",
        &path_c,
        &format!("deployments/checklists/moved/{c}.md"),
    ]);
    env.git(&["commit", "-q", "-m", "move c"]);
    let r = incremental_equals_cold(&env, "step 4");
    assert_eq!(
        audit_list(&r, "deleted"),
        vec![(b.to_string(), rm_b.clone())]
    );

    // 5. A branch edits A (finished) while main adds code; merged.
    let path_a = format!("deployments/checklists/2025/02/{a}.md");
    env.git(&["checkout", "-q", "-b", "side"]);
    env.write(&path_a, &(env.read(&path_a) + "\nEdited on a branch.\n"));
    env.at("2025-02-08T09:00:00Z");
    env.git(&["commit", "-q", "-am", "edit a on side"]);
    let edit_a = head(&env);
    env.git(&["checkout", "-q", "main"]);
    commit_code(&mut env, "2025-02-08T09:00:00Z", "src/m.rs");
    env.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let merge = head(&env);
    let r = incremental_equals_cold(&env, "step 5");
    // The current version came in with the merge (against its first
    // parent), but the branch's commit made it: one version, named by the
    // commit that edited the record, not by the merge.
    assert_ne!(edit_a, merge);
    assert_eq!(
        audit_list(&r, "edited_after_finish"),
        vec![(a.clone(), edit_a.clone())]
    );

    // 6. The tool rolls C back (two files in one commit, diffed).
    env.at("2025-02-08T10:00:00Z");
    env.ok(&["rollback", "--of", &c, "--reason", "bad", "--commit"]);
    let r = incremental_equals_cold(&env, "step 6");
    // C is marked rolled-back; the rollback record itself is a success.
    assert_eq!(r["summary"]["by_status"]["rolled-back"], 1);
    assert_eq!(r["summary"]["total"], 4);
    assert_eq!(
        audit_list(&r, "edited_after_finish"),
        vec![(a.clone(), edit_a.clone())]
    );

    // 7. A broken record, committed, then moved: the warning names where
    // it is now.
    env.write(
        "deployments/checklists/2025/02/bad.md",
        "---\nid: [unclosed\n---\n",
    );
    env.at("2025-02-08T11:00:00Z");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "bad record"]);
    incremental_equals_cold(&env, "step 7a");
    env.git(&[
        "mv",
        "deployments/checklists/2025/02/bad.md",
        "deployments/checklists/2025/02/worse.md",
    ]);
    env.git(&["commit", "-q", "-m", "rename bad record"]);
    let r = incremental_equals_cold(&env, "step 7b");
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("2025/02/worse.md") && !warnings.contains("bad.md"),
        "{warnings}"
    );
    // The same bytes at another path: moved, not deleted.
    assert_eq!(
        audit_list(&r, "deleted"),
        vec![(b.to_string(), rm_b.clone())]
    );
    // A markdown file without frontmatter, added and removed, was never a
    // record: not a deletion either.
    env.write("deployments/checklists/README.md", "# Records\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "readme"]);
    env.git(&["rm", "-q", "deployments/checklists/README.md"]);
    env.git(&["commit", "-q", "-m", "no readme"]);
    let r = incremental_equals_cold(&env, "step 8");
    assert_eq!(audit_list(&r, "deleted"), vec![(b.to_string(), rm_b)]);
}

/// Writes a finished record of api production with the tool (`record
/// --commit`), deployed at commit `sha`, committed at its finish.
fn tool_record(env: &mut TestEnv, operator: &str, status: &str, times: (&str, &str), sha: &str) {
    env.at(times.1);
    env.ok(&[
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--operator",
        operator,
        "--status",
        status,
        "--started",
        times.0,
        "--finished",
        times.1,
        "--sha",
        sha,
        "--commit",
    ]);
}

/// The filters choose the deployments measured; the previous success
/// (lead time's baseline) and the next success (recovery) come from every
/// deployment of the service and environment.
///
/// | code | author time | deployment (api production)        | operator | status  |
/// |------|-------------|------------------------------------|----------|---------|
/// | c1   | 01-06 00:00 | D1 01-06 01:00–01:10 @c1           | alice    | success |
/// | c2   | 01-07 00:00 | D2 01-07 01:00–01:10 @c2           | bob      | success |
/// | c3   | 01-08 00:00 | F  01-08 01:00–01:10 @c3           | bob      | failed  |
/// |      |             | D3 01-08 02:00–02:10 @c3           | alice    | success |
/// | c4   | 01-09 00:00 | D4 01-09 01:00–01:10 @c4           | alice    | success |
///
/// Pairs of the whole ledger: D2 c2 = 01:10 − 00:00 = 4200; D3 c3 = 02:10 −
/// 00:00 = 7800; D4 c4 = 4200 (D1: no baseline). F's recovery: D3 02:10 −
/// F 01:10 = 3600.
#[test]
fn filters_keep_the_baselines_and_recoveries_of_the_whole_ledger() {
    let mut env = TestEnv::new();
    let c1 = commit_code(&mut env, "2025-01-06T00:00:00Z", "src/a.rs");
    tool_record(
        &mut env,
        "alice",
        "success",
        ("2025-01-06T01:00:00Z", "2025-01-06T01:10:00Z"),
        &c1,
    );
    let c2 = commit_code(&mut env, "2025-01-07T00:00:00Z", "src/a.rs");
    tool_record(
        &mut env,
        "bob",
        "success",
        ("2025-01-07T01:00:00Z", "2025-01-07T01:10:00Z"),
        &c2,
    );
    let c3 = commit_code(&mut env, "2025-01-08T00:00:00Z", "src/a.rs");
    tool_record(
        &mut env,
        "bob",
        "failed",
        ("2025-01-08T01:00:00Z", "2025-01-08T01:10:00Z"),
        &c3,
    );
    tool_record(
        &mut env,
        "alice",
        "success",
        ("2025-01-08T02:00:00Z", "2025-01-08T02:10:00Z"),
        &c3,
    );
    let c4 = commit_code(&mut env, "2025-01-09T00:00:00Z", "src/a.rs");
    tool_record(
        &mut env,
        "alice",
        "success",
        ("2025-01-09T01:00:00Z", "2025-01-09T01:10:00Z"),
        &c4,
    );
    env.at("2025-01-10T00:00:00Z");
    let dora = |args: &[&str]| -> Value {
        let mut all = vec!["--section", "dora"];
        all.extend_from_slice(args);
        json(&env, &all)["dora"]["production"].clone()
    };
    // (commits, median, skipped_no_baseline, recovered failures, unrecovered)
    let figures = |d: &Value| {
        (
            d["lead_time"]["commits"].as_u64().expect("n"),
            d["lead_time"]["median_seconds"].as_f64(),
            d["lead_time"]["skipped_no_baseline"].as_u64().expect("n"),
            d["recovery_time"]["failures"].as_u64().expect("n"),
            d["recovery_time"]["unrecovered"].as_u64().expect("n"),
        )
    };
    // Unfiltered: 4200 4200 7800 → median 4200; F recovered.
    let all = dora(&[]);
    assert_eq!(figures(&all), (3, Some(4200.0), 1, 1, 0));
    assert_eq!(
        all["recovery_time"]["median_seconds"].as_f64(),
        Some(3600.0)
    );
    // alice: D1 (no baseline), D3 (baseline D2, bob's: 7800), D4 (4200):
    // median (4200 + 7800) / 2 = 6000. (Among alice's only, D3's baseline
    // would be D1 and c2 would count: 94200.) No failure of hers.
    assert_eq!(
        figures(&dora(&["--operator", "alice"])),
        (2, Some(6000.0), 1, 0, 0)
    );
    // bob: D2 (baseline D1, alice's: 4200); F recovered by alice's D3.
    let bob = dora(&["--operator", "bob"]);
    assert_eq!(figures(&bob), (1, Some(4200.0), 0, 1, 0));
    assert_eq!(
        bob["recovery_time"]["median_seconds"].as_f64(),
        Some(3600.0)
    );
    // Since 01-08: F, D3 (baseline D2: 7800), D4 (4200) → 6000; F recovered.
    assert_eq!(
        figures(&dora(&["--since", "2025-01-08"])),
        (2, Some(6000.0), 0, 1, 0)
    );
    // Until 01-08 01:30 (exclusive): D1, D2, F; F's recovery (D3) lies
    // after the window and still counts: 3600.
    let early = dora(&["--until", "2025-01-08T01:30:00Z"]);
    assert_eq!(figures(&early), (1, Some(4200.0), 1, 1, 0));
    assert_eq!(
        early["recovery_time"]["median_seconds"].as_f64(),
        Some(3600.0)
    );
    // Change failure rate and frequency stay over the deployments measured:
    // since 01-08, F of F, D3, D4 = 1/3.
    let since = dora(&["--since", "2025-01-08"]);
    assert_eq!(since["change_failure_rate"]["failed"], 1);
    assert_eq!(since["change_failure_rate"]["total"], 3);
}

/// A rollback record ships an older version while its `git.commit` is HEAD
/// when it was written: it is neither measured for lead time nor the
/// baseline of the next deployment. It is a success, so it is the recovery
/// of the deployment it rolled back.
///
/// | code | author time  | deployment (api production)                                   |
/// |------|--------------|---------------------------------------------------------------|
/// | c0   | 02-01 00:00  | D0 02-01 01:00–01:10 @c0 success                              |
/// | c1   | 02-02 00:00  | D1 02-02 01:00–01:10 @c1, rolled back                         |
/// | c2   | 02-03 00:00  | (never deployed)                                              |
/// |      |              | R  `rollback` at 02-03 02:00: success, git.commit = HEAD = c2 |
/// | c3   | 02-04 00:00  | D3 02-04 01:00–01:10 @c3 success                              |
///
/// Lead time: D0 no baseline; R skipped (a rollback); D1 is rolled-back,
/// not a success; D3's baseline is D0 (@c0): c1 = 02-04 01:10 − 02-02 00:00
/// = 177000, c2 = 90600, c3 = 4200 → median 90600, mean 271800 / 3 = 90600,
/// p90 rank 3 → 177000. (With R as a baseline, D3 would count c3 only and R
/// would count c1 and the never-deployed c2.) Recovery: D1 02-02 01:10 → R
/// 02-03 02:00 = 89400. Change failure rate: D1 of D0, D1, R, D3 = 1/4.
#[test]
fn lead_time_leaves_rollback_records_out() {
    let mut env = TestEnv::new();
    let c0 = commit_code(&mut env, "2025-02-01T00:00:00Z", "src/a.rs");
    tool_record(
        &mut env,
        "alice",
        "success",
        ("2025-02-01T01:00:00Z", "2025-02-01T01:10:00Z"),
        &c0,
    );
    let c1 = commit_code(&mut env, "2025-02-02T00:00:00Z", "src/a.rs");
    tool_record(
        &mut env,
        "alice",
        "success",
        ("2025-02-02T01:00:00Z", "2025-02-02T01:10:00Z"),
        &c1,
    );
    commit_code(&mut env, "2025-02-03T00:00:00Z", "src/a.rs");
    env.at("2025-02-03T02:00:00Z");
    env.ok(&[
        "rollback",
        "--service",
        "api",
        "--env",
        "production",
        "--reason",
        "bad",
        "--commit",
    ]);
    let c3 = commit_code(&mut env, "2025-02-04T00:00:00Z", "src/a.rs");
    tool_record(
        &mut env,
        "alice",
        "success",
        ("2025-02-04T01:00:00Z", "2025-02-04T01:10:00Z"),
        &c3,
    );
    env.at("2025-02-05T00:00:00Z");
    let d = &json(&env, &["--section", "dora"])["dora"]["production"];
    let l = &d["lead_time"];
    assert_eq!(l["commits"], 3);
    assert_eq!(l["deployments"], 1);
    assert_eq!(l["skipped_no_baseline"], 1);
    assert_eq!(l["skipped_rollback"], 1);
    assert_eq!(l["median_seconds"].as_f64(), Some(90600.0));
    assert_eq!(l["mean_seconds"].as_f64(), Some(90600.0));
    assert_eq!(l["p90_seconds"].as_f64(), Some(177000.0));
    let rt = &d["recovery_time"];
    assert_eq!(rt["failures"], 1);
    assert_eq!(rt["median_seconds"].as_f64(), Some(89400.0));
    assert_eq!(d["change_failure_rate"]["value"].as_f64(), Some(0.25));
}

/// `analytics --format html` is the dashboard of `visualize --format html`
/// (the same code, the same page for the same records), with the figures
/// of the analytics report.
#[test]
fn html_is_the_visualize_dashboard() {
    let b = build();
    let html = b.env.ok(&["analytics", "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Content-Security-Policy"), "self-contained");
    // Success rate 8/9 = 88.9% → "89%"; lead time median 17550 s = 4 h 52 m
    // (every_section_by_hand).
    assert!(
        html.contains(r#"<div class="label">Success rate</div><div class="value">89%</div>"#),
        "{html}"
    );
    assert!(
        html.contains(
            r#"<div class="label">Lead time (median)</div><div class="value">4h 52m</div>"#
        ),
        "{html}"
    );
    assert_eq!(html, b.env.ok(&["visualize", "--format", "html"]));
    let production = b
        .env
        .ok(&["analytics", "--format", "html", "--env", "production"]);
    assert!(production.contains("environment production · times in UTC"));
    assert_eq!(
        production,
        b.env
            .ok(&["visualize", "--format", "html", "--env", "production"])
    );
    // alice's production successes: D1 (no baseline), D3 (C2 95400, Cw
    // 23400), D5 (empty range) → median 59400 s = 16 h 30 m, as in JSON.
    let alice = b
        .env
        .ok(&["analytics", "--format", "html", "--operator", "alice"]);
    assert!(
        alice.contains(r#"<div class="value">16h 30m</div>"#),
        "{alice}"
    );
    let r = json(&b.env, &["--operator", "alice", "--section", "dora"]);
    assert_eq!(
        r["dora"]["production"]["lead_time"]["median_seconds"].as_f64(),
        Some(59400.0)
    );
    let err = b
        .env
        .fails(&["analytics", "--format", "html", "--section", "dora"], 2);
    assert!(
        err.contains("--section does not apply to --format html"),
        "{err}"
    );
}

/// Offsets west of UTC start with `-`, which must not read as a flag
/// (`--tz -0530`, as the README shows).
#[test]
fn offsets_west_of_utc_are_values() {
    let b = build();
    // 09:00 UTC (S1, D5, D6) is 03:30 at −05:30: the peak hour is 3.
    for tz in ["-0530", "-05:30"] {
        let r = json(&b.env, &["--tz", tz, "--section", "peak_hours"]);
        assert_eq!(r["peak_hours"][0]["hour"], 3, "{tz}");
        assert_eq!(r["peak_hours"][0]["count"], 3, "{tz}");
        assert_eq!(r["filters"]["tz"], "-05:30", "{tz}");
    }
    let html = b
        .env
        .ok(&["visualize", "--format", "html", "--tz", "-0530"]);
    assert!(html.contains("times in -05:30"), "{html}");
    // A time with a negative offset is one value too: since 01-21 00:00 at
    // −05:00 = 05:00 UTC → D2, D3, S2, D4, W2, D5, D6, U = 8.
    let r = json(
        &b.env,
        &[
            "--since",
            "2025-01-21T00:00:00-05:00",
            "--section",
            "summary",
        ],
    );
    assert_eq!(r["summary"]["total"], 8);
    // A flag right after --tz is no zone: said so.
    let err = b.env.fails(&["analytics", "--tz", "--committed-only"], 1);
    assert!(err.contains("--tz needs a value"), "{err}");
}

/// Phase durations follow the configured phases (config `phases`), then the
/// phases the configuration does not name, by name; in JSON, text, markdown
/// and the HTML dashboard alike.
///
/// Config: prepare, deploy, check (alphabetically: check, deploy, prepare).
/// One record with phases check 60 s, zz 10 s, deploy 120 s, aaa 5 s,
/// prepare 30 s → order prepare, deploy, check, aaa, zz.
#[test]
fn phase_durations_follow_the_configured_phases() {
    let mut env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "phases = [\"prepare\", \"deploy\", \"check\"]\n",
    );
    let phase = |name: &str, from: &str, to: &str, s: i64| {
        format!("  - {{ name: {name}, started_at: 2025-01-06T{from}Z, finished_at: 2025-01-06T{to}Z, duration_seconds: {s} }}\n")
    };
    let mut text = String::from(
        "---\nschema: 1\nid: DEP-2025-01-06-10-00-api-production\nservice: api\nenvironment: production\nstatus: success\noperator: a\nstarted_at: 2025-01-06T10:00:00Z\nfinished_at: 2025-01-06T10:03:45Z\nduration_seconds: 225\nphases:\n",
    );
    text += &phase("check", "10:00:00", "10:01:00", 60);
    text += &phase("zz", "10:01:00", "10:01:10", 10);
    text += &phase("deploy", "10:01:10", "10:03:10", 120);
    text += &phase("aaa", "10:03:10", "10:03:15", 5);
    text += &phase("prepare", "10:03:15", "10:03:45", 30);
    text += "---\n# api\n";
    env.write(&path_of("DEP-2025-01-06-10-00-api-production"), &text);
    env.at("2025-01-07T00:00:00Z");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "record"]);
    let order = ["prepare", "deploy", "check", "aaa", "zz"];
    let r = json(&env, &["--section", "durations"]);
    let keys: Vec<&str> = r["durations"]["phases"]
        .as_object()
        .expect("map")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, order);
    assert_eq!(
        r["durations"]["phases"]["deploy"]["median_seconds"].as_f64(),
        Some(120.0)
    );
    let position = |hay: &str, needle: &str| {
        hay.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` in {hay}"))
    };
    let text = env.ok(&["analytics", "--section", "durations"]);
    let at: Vec<usize> = order
        .iter()
        .map(|p| position(&text, &format!("  {p} ")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    let md = env.ok(&[
        "analytics",
        "--section",
        "durations",
        "--format",
        "markdown",
    ]);
    let at: Vec<usize> = order
        .iter()
        .map(|p| position(&md, &format!("| {p} |")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{md}");
    // The dashboard's "Duration of each phase" chart: one row label per
    // phase, in the same order.
    let html = env.ok(&["analytics", "--format", "html"]);
    let chart = &html[position(&html, "Duration of each phase")..];
    let at: Vec<usize> = order
        .iter()
        .map(|p| position(chart, &format!(">{p}<")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{chart}");
}

#[test]
fn the_report_memo_follows_the_global_ignore_file() {
    let env = TestEnv::new();
    // An untracked record: it joins the report as uncommitted.
    env.ok(&[
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--started",
        "2025-01-15T10:00:00Z",
        "--finished",
        "2025-01-15T10:10:00Z",
        "--status",
        "success",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let run = || -> (Value, String) {
        let out = crate::env::succeeds(env.cmd().env("DEPLOY_LEDGER_TIMINGS", "1").args([
            "analytics",
            "--format",
            "json",
        ]));
        let json = serde_json::from_slice(&out.stdout).expect("json");
        (json, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert_eq!(run().0["summary"]["uncommitted"], 1);
    assert!(run().1.contains("report memo: hit"));
    // git's global ignore file now hides it: git no longer lists it.
    env.write("../home/.config/git/ignore", "DEP-*.md\n");
    let (hidden, e) = run();
    assert!(e.contains("report memo: miss"), "{e}");
    assert_eq!(hidden["summary"]["total"], 0);
}

/// Records at `--rev` are the committed bytes: a clean work-tree file is
/// read instead of the git object only when it hashes to the same blob, so
/// a local edit, other line endings or an older `--rev` change nothing.
#[test]
fn records_at_rev_are_the_committed_bytes_whatever_the_work_tree_holds() {
    let b = build();
    let state = b.env.path(".git/deploy-ledger");
    let fresh = |args: &[&str]| {
        // No cache and no memo: the records are read again.
        let _ = std::fs::remove_dir_all(&state);
        json(&b.env, args)
    };
    let committed = fresh(&["--committed-only"]);
    let older = fresh(&["--committed-only", "--rev", "HEAD~4"]);
    // D1 by another operator in the work tree (not committed), and S2's
    // file with CRLF line endings (the same record in other bytes).
    let d1 = path_of(D1);
    b.env.write(
        &d1,
        &b.env.read(&d1).replace("operator: alice", "operator: zed"),
    );
    let s2 = path_of(S2);
    b.env.write(&s2, &b.env.read(&s2).replace('\n', "\r\n"));
    assert_eq!(fresh(&["--committed-only"]), committed);
    // Another record's file is now a FIFO with no writer: it is not waited
    // on (the run would hang), and the record is read from git.
    #[cfg(unix)]
    {
        let files = b.env.git(&["ls-files", "deployments/checklists"]);
        let other = files
            .lines()
            .find(|f| *f != d1 && *f != s2)
            .expect("a third record")
            .to_string();
        let x = b.env.path(&other);
        std::fs::remove_file(&x).expect("rm");
        let made = std::process::Command::new("mkfifo").arg(&x).status();
        assert!(made.expect("mkfifo").success());
        let _ = std::fs::remove_dir_all(&state);
        let out = crate::env::succeeds(
            b.env
                .cmd()
                .args(["analytics", "--format", "json", "--committed-only"])
                .timeout(std::time::Duration::from_secs(60)),
        );
        let json: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(json, committed);
        std::fs::remove_file(&x).expect("rm");
        b.env.git(&["checkout", "--", &other]);
    }
    // HEAD~4 is before D1's edit: its D1 is not the work tree's bytes.
    assert_eq!(fresh(&["--committed-only", "--rev", "HEAD~4"]), older);
    assert!(!committed["operators"].to_string().contains("\"zed\""));
    // The work tree's edit is the newer truth in a report of HEAD.
    let local = fresh(&[]);
    assert!(
        local["operators"].to_string().contains("\"zed\""),
        "{}",
        local["operators"]
    );
    // 10 committed records, and U (uncommitted).
    assert_eq!(committed["summary"]["total"], 10);
    assert_eq!(local["summary"]["total"], 11);
}

/// A deployment of a commit that `--rev` does not reach (a hotfix branch
/// never merged; its record is committed on main) still ships its range, and
/// is the next deployment's baseline. A deployed commit not in the
/// repository is skipped until it is fetched: then the report (not a
/// memorised one) counts it.
///
/// | when (author = commit time) | where   | what                                  |
/// |-----------------------------|---------|---------------------------------------|
/// | 02-01 00:00  c0             | main    | src/a.rs                              |
/// | 02-01 10:01                 | main    | D1 record @c0, finished 02-01 10:00   |
/// | 02-02 00:00  h1             | hotfix  | src/h.rs (parent: D1's record commit) |
/// | 02-02 10:01                 | main    | D2 record @h1, finished 02-02 10:00   |
/// | 02-03 00:00  k1             | main    | src/a.rs                              |
/// | 02-03 10:01                 | main    | D3 record @k1, finished 02-03 10:00   |
/// | 02-04 00:00  x1             | a clone | src/x.rs (parent: D3's record commit) |
/// | 02-04 10:01                 | main    | D4 record @x1, finished 02-04 10:00   |
///
/// D1: no baseline. D2: c0..h1 = {D1's record (deployments only), h1}:
/// 02-02 10:00 − 02-02 00:00 = 36000 s. D3: h1..k1 = {D2's record, k1}:
/// 36000 s. D4: x1 missing, skipped; once fetched, k1..x1 = {D3's record,
/// x1}: 36000 s.
#[test]
fn deployed_commits_outside_rev_and_fetched_later() {
    let mut env = TestEnv::new();
    let dep = |id: &'static str, finished: &'static str, commit: &str| -> String {
        record_text(&Dep {
            id,
            service: "api",
            env: "production",
            status: "success",
            operator: "alice",
            started: finished,
            finished: Some(finished),
            seconds: Some(0),
            commit,
        })
    };
    let write_record = |env: &mut TestEnv, at: &str, id: &str, text: &str| {
        env.write(&path_of(id), text);
        env.at(at);
        env.git(&["add", &path_of(id)]);
        env.git(&["commit", "-q", "-m", &format!("deploy: {id}")]);
    };
    let (d1, d2, d3, d4) = (
        "DEP-2025-02-01-10-00-api-production",
        "DEP-2025-02-02-10-00-api-production",
        "DEP-2025-02-03-10-00-api-production",
        "DEP-2025-02-04-10-00-api-production",
    );
    let c0 = commit_code(&mut env, "2025-02-01T00:00:00Z", "src/a.rs");
    write_record(
        &mut env,
        "2025-02-01T10:01:00Z",
        d1,
        &dep(d1, "2025-02-01T10:00:00Z", &c0),
    );
    env.git(&["checkout", "-q", "-b", "hotfix"]);
    let h1 = commit_code(&mut env, "2025-02-02T00:00:00Z", "src/h.rs");
    env.git(&["checkout", "-q", "main"]);
    write_record(
        &mut env,
        "2025-02-02T10:01:00Z",
        d2,
        &dep(d2, "2025-02-02T10:00:00Z", &h1),
    );
    let k1 = commit_code(&mut env, "2025-02-03T00:00:00Z", "src/a.rs");
    write_record(
        &mut env,
        "2025-02-03T10:01:00Z",
        d3,
        &dep(d3, "2025-02-03T10:00:00Z", &k1),
    );
    let other = env.dir.path().join("other");
    let other = other.to_string_lossy().to_string();
    env.git(&["clone", "-q", ".", &other]);
    env.at("2025-02-04T00:00:00Z");
    std::fs::write(format!("{other}/src/x.rs"), "x\n").expect("write");
    env.git(&["-C", &other, "add", "src/x.rs"]);
    env.git(&["-C", &other, "commit", "-q", "-m", "x1"]);
    let x1 = env
        .git(&["-C", &other, "rev-parse", "HEAD"])
        .trim()
        .to_string();
    write_record(
        &mut env,
        "2025-02-04T10:01:00Z",
        d4,
        &dep(d4, "2025-02-04T10:00:00Z", &x1),
    );
    env.at("2025-02-05T00:00:00Z");
    let lead = |env: &TestEnv| {
        json(env, &["--section", "dora"])["dora"]["production"]["lead_time"].clone()
    };
    let l = lead(&env);
    assert_eq!(l["commits"], 2, "{l}");
    assert_eq!(l["deployments"], 2);
    assert_eq!(l["skipped_no_baseline"], 1);
    assert_eq!(l["skipped_missing_commit"], 1);
    assert_eq!(l["median_seconds"].as_f64(), Some(36000.0));
    assert_eq!(l["p90_seconds"].as_f64(), Some(36000.0));
    assert_eq!(l["mean_seconds"].as_f64(), Some(36000.0));
    // Nothing new in the repository's refs of main or the records: only the
    // missing commit arrives.
    env.git(&["fetch", "-q", &other, "main:refs/remotes/other/main"]);
    let l = lead(&env);
    assert_eq!(l["commits"], 3, "{l}");
    assert_eq!(l["deployments"], 3);
    assert_eq!(l["skipped_missing_commit"], 0);
    assert_eq!(l["mean_seconds"].as_f64(), Some(36000.0));
    // As a cold run.
    std::fs::remove_dir_all(env.path(".git/deploy-ledger")).expect("rm state");
    assert_eq!(lead(&env), l);
}

/// Stale means open *longer* than `stale_after_hours` (24 by default): a
/// record open exactly 24 h is not stale yet in `analytics`, `status` or
/// `validate`; one second more and it is in all three.
#[test]
fn stale_starts_after_the_limit_not_at_it() {
    let mut env = TestEnv::new();
    env.at("2025-03-01T12:00:00Z");
    env.ok(&[
        "start",
        "--service",
        "api",
        "--env",
        "production",
        "--commit",
    ]);
    env.at("2025-03-02T12:00:00Z");
    let stale = |env: &TestEnv| {
        json(env, &["--section", "audit"])["audit"]["stale_in_progress"]
            .as_array()
            .expect("list")
            .len()
    };
    assert_eq!(stale(&env), 0, "open exactly 24 h");
    assert!(!env.ok(&["status"]).contains("STALE"));
    env.ok(&["validate"]);
    env.at("2025-03-02T12:00:01Z");
    assert_eq!(stale(&env), 1, "open 24 h and 1 s");
    assert!(env.ok(&["status"]).contains("STALE"));
    let err = env.fails(&["validate"], 1);
    assert!(err.contains("stale"), "{err}");
}

/// A record moved to another folder and deleted there later is one
/// deletion, at the path it left the tree from, in the deleting commit.
#[test]
fn a_record_moved_then_deleted_is_deleted_once() {
    let mut env = TestEnv::new();
    let id = tool_deploy(
        &mut env,
        "api",
        "2025-03-01T10:00:00Z",
        "2025-03-01T10:05:00Z",
    );
    let old = env.records().pop().expect("one record");
    let moved = format!("deployments/checklists/archive/{id}.md");
    std::fs::create_dir_all(env.path("deployments/checklists/archive")).expect("mkdir");
    env.at("2025-03-02T10:00:00Z");
    env.git(&["mv", &old, &moved]);
    env.git(&["commit", "-q", "-m", "archive"]);
    env.at("2025-03-03T10:00:00Z");
    env.git(&["rm", "-q", &moved]);
    env.git(&["commit", "-q", "-m", "delete"]);
    let rm = head(&env);
    let r = json(&env, &["--section", "audit"]);
    assert_eq!(audit_list(&r, "deleted"), vec![(id, rm)], "{r}");
    assert_eq!(r["audit"]["deleted"][0]["path"], moved.as_str());
}

/// Moving a finished record and changing it in the same commit is an edit
/// after its finish (at its new path, in that commit); a move alone is not.
/// An edit after finish and a removal made on a branch are named by the
/// branch's own commits, not by the merge that brought them in (the merge,
/// compared with its first parent, makes the same blob and the same removal).
///
/// | commit                                   | branch | finding              |
/// |------------------------------------------|--------|----------------------|
/// | A, B: start + finish each (tool)         | main   | –                    |
/// | A's finished record edited by hand       | side   | A edited (this one)  |
/// | B's record removed                       | side   | B deleted (this one) |
/// | a code commit                            | main   | –                    |
/// | `merge --no-ff side`                     | main   | – (names neither)    |
#[test]
fn branch_edits_and_removals_are_named_by_their_own_commits() {
    let mut env = TestEnv::new();
    let a = tool_deploy(
        &mut env,
        "a",
        "2025-04-01T09:00:00Z",
        "2025-04-01T09:05:00Z",
    );
    let b = tool_deploy(
        &mut env,
        "b",
        "2025-04-01T10:00:00Z",
        "2025-04-01T10:05:00Z",
    );
    let path_a = format!("deployments/checklists/2025/04/{a}.md");
    let path_b = format!("deployments/checklists/2025/04/{b}.md");
    env.git(&["checkout", "-q", "-b", "side"]);
    env.write(&path_a, &(env.read(&path_a) + "\nEdited on a branch.\n"));
    env.at("2025-04-02T09:00:00Z");
    env.git(&["commit", "-q", "-am", "edit a on side"]);
    let edit_a = head(&env);
    env.git(&["rm", "-q", &path_b]);
    env.at("2025-04-02T09:30:00Z");
    env.git(&["commit", "-q", "-m", "remove b on side"]);
    let rm_b = head(&env);
    env.git(&["checkout", "-q", "main"]);
    commit_code(&mut env, "2025-04-02T10:00:00Z", "src/m.rs");
    env.at("2025-04-02T11:00:00Z");
    env.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let merge = head(&env);
    assert!(![edit_a.as_str(), rm_b.as_str()].contains(&merge.as_str()));
    let r = json(&env, &["--section", "audit"]);
    assert_eq!(
        audit_list(&r, "edited_after_finish"),
        vec![(a, edit_a)],
        "{r}"
    );
    assert_eq!(audit_list(&r, "deleted"), vec![(b, rm_b)], "{r}");
}

#[test]
fn a_record_moved_and_changed_at_once_is_edited() {
    let mut env = TestEnv::new();
    let edited = tool_deploy(
        &mut env,
        "api",
        "2025-03-01T10:00:00Z",
        "2025-03-01T10:05:00Z",
    );
    let old = env.records().pop().expect("one record");
    let only_moved = tool_deploy(
        &mut env,
        "web",
        "2025-03-01T11:00:00Z",
        "2025-03-01T11:05:00Z",
    );
    let other = env
        .records()
        .into_iter()
        .find(|p| p.contains(&only_moved))
        .expect("second record");
    std::fs::create_dir_all(env.path("deployments/checklists/archive")).expect("mkdir");
    let moved = format!("deployments/checklists/archive/{edited}.md");
    let text = std::fs::read_to_string(env.path(&old)).expect("read");
    let changed = text.replacen("status: success", "status: failed", 1);
    assert_ne!(changed, text, "the record says success");
    env.at("2025-03-02T10:00:00Z");
    std::fs::write(env.path(&moved), changed).expect("write");
    env.git(&["rm", "-q", &old]);
    env.git(&[
        "mv",
        &other,
        &format!("deployments/checklists/archive/{only_moved}.md"),
    ]);
    env.git(&["add", &moved]);
    env.git(&["commit", "-q", "-m", "archive both, one changed"]);
    let commit = head(&env);
    let r = json(&env, &["--section", "audit"]);
    assert_eq!(
        audit_list(&r, "edited_after_finish"),
        vec![(edited, commit)],
        "{r}"
    );
    assert_eq!(r["audit"]["edited_after_finish"][0]["path"], moved.as_str());
    assert_eq!(audit_list(&r, "deleted"), vec![], "{r}");
}

/// A record edited after its finish and moved later (`git mv`, bytes
/// unchanged) is still edited, in the commit of the edit: the move keeps
/// its history, through a chain of moves too, and whether the version
/// before the edit was written by the tool (not diffed) or by hand.
///
/// | commit | A (tool start + finish)      | B (hand-written, committed) |
/// |--------|------------------------------|-----------------------------|
/// | e1     | success → failed, by hand    |                             |
/// | e2     |                              | success → failed, by hand   |
/// | m1     | moved to archive/            | moved to archive/           |
/// | m2     | moved to archive/2025/       |                             |
/// | c      | –                            | – (a code commit)           |
///
/// Edited after finish: A in e1, B in e2; nothing deleted.
#[test]
fn a_record_edited_then_moved_is_still_edited() {
    let mut env = TestEnv::new();
    let a = tool_deploy(
        &mut env,
        "api",
        "2025-03-01T10:00:00Z",
        "2025-03-01T10:05:00Z",
    );
    let path_a = env.records().pop().expect("one record");
    env.at("2025-03-01T11:10:00Z");
    env.ok(&[
        "record",
        "--service",
        "web",
        "--env",
        "production",
        "--status",
        "success",
        "--started",
        "2025-03-01T11:00:00Z",
        "--finished",
        "2025-03-01T11:05:00Z",
    ]);
    let path_b = env
        .records()
        .into_iter()
        .find(|p| p.contains("-web-"))
        .expect("the web record");
    assert_eq!(json(&env, &[])["summary"]["total"], 2);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "web, recorded after the fact"]);
    let id_b = path_b
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".md"))
        .expect("a file name")
        .to_string();
    let mut edits = Vec::new();
    for (path, at) in [
        (&path_a, "2025-03-02T09:00:00Z"),
        (&path_b, "2025-03-02T10:00:00Z"),
    ] {
        let text = env.read(path);
        let failed = text.replacen("status: success", "status: failed", 1);
        assert_ne!(failed, text, "{path} says success");
        env.write(path, &failed);
        env.at(at);
        env.git(&["commit", "-q", "-am", "a finished record changed"]);
        edits.push(head(&env));
    }
    std::fs::create_dir_all(env.path("deployments/checklists/archive/2025")).expect("mkdir");
    let archived = |id: &str| format!("deployments/checklists/archive/{id}.md");
    env.git(&["mv", &path_a, &archived(&a)]);
    env.git(&["mv", &path_b, &archived(&id_b)]);
    env.at("2025-03-03T09:00:00Z");
    env.git(&["commit", "-q", "-m", "archive"]);
    let last = format!("deployments/checklists/archive/2025/{a}.md");
    env.git(&["mv", &archived(&a), &last]);
    env.at("2025-03-04T09:00:00Z");
    env.git(&["commit", "-q", "-m", "archive by year"]);
    commit_code(&mut env, "2025-03-05T09:00:00Z", "src/m.rs");
    let r = json(&env, &["--section", "audit"]);
    let mut want = vec![(a, edits[0].clone()), (id_b.clone(), edits[1].clone())];
    want.sort_by(|x, y| x.0.cmp(&y.0));
    let mut got = audit_list(&r, "edited_after_finish");
    got.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got, want, "{r}");
    assert_eq!(audit_list(&r, "deleted"), vec![], "{r}");
    let paths: Vec<&str> = r["audit"]["edited_after_finish"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(paths.contains(&last.as_str()), "{r}");
    assert!(paths.contains(&archived(&id_b).as_str()), "{r}");
}

/// A record moved in the work tree (`git mv`, or `mv` not yet staged) is
/// the same deployment, not a second one never committed; a committed copy
/// under another path is counted once, with a warning naming both files.
///
/// | record | status  | finished         |
/// |--------|---------|------------------|
/// | A      | success | 2025-03-01 10:05 |
/// | B      | failed  | 2025-03-02 10:05 |
///
/// Success rate = 1 / (1 + 1) = 0.5 whatever the moves and the copies;
/// total 2, nothing uncommitted.
#[test]
fn a_moved_or_copied_record_is_one_deployment() {
    let mut env = TestEnv::new();
    let a = tool_deploy(
        &mut env,
        "api",
        "2025-03-01T10:00:00Z",
        "2025-03-01T10:05:00Z",
    );
    let sha = head(&env);
    let times = ("2025-03-02T10:00:00Z", "2025-03-02T10:05:00Z");
    tool_record(&mut env, "op", "failed", times, &sha);
    let old = env
        .records()
        .into_iter()
        .find(|p| !p.contains(&a))
        .expect("B's file");
    let name = old.rsplit('/').next().expect("a file name");
    let moved = format!("deployments/checklists/archive/{name}");
    std::fs::create_dir_all(env.path("deployments/checklists/archive")).expect("mkdir");
    let expect = |r: &Value, how: &str| {
        let s = &r["summary"];
        assert_eq!(s["total"], 2, "{how}: {r}");
        assert_eq!(s["by_status"]["failed"], 1, "{how}: {r}");
        assert_eq!(s["success_rate"], 0.5, "{how}: {r}");
        assert_eq!(s["uncommitted"], 0, "{how}: {r}");
        assert_eq!(
            r["audit"]["uncommitted"],
            serde_json::json!([]),
            "{how}: {r}"
        );
    };
    env.git(&["mv", &old, &moved]);
    let r = json(&env, &[]);
    expect(&r, "git mv");
    assert_eq!(r["warnings"], serde_json::json!([]), "{r}");
    env.git(&["mv", &moved, &old]);
    std::fs::rename(env.path(&old), env.path(&moved)).expect("mv");
    expect(&json(&env, &[]), "mv");
    std::fs::rename(env.path(&moved), env.path(&old)).expect("mv back");
    // A committed copy: one deployment, a warning with both paths.
    std::fs::copy(env.path(&old), env.path(&moved)).expect("cp");
    env.git(&["add", &moved]);
    env.git(&["commit", "-q", "-m", "archive a copy"]);
    let r = json(&env, &[]);
    expect(&r, "copy");
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains(&moved) && warnings.contains(&old) && warnings.contains("counted once"),
        "{warnings}"
    );
}

/// A rollback run in the second its failure ended is that failure's
/// recovery, in 0 seconds (it started after the failure).
///
/// | deployment | start–end   | status                     |
/// |------------|-------------|----------------------------|
/// | v1         | 09:00–09:10 | success                    |
/// | v2         | 10:00–10:10 | rolled-back (by R)         |
/// | v3         | 11:00–11:10 | failed                     |
/// | R          | 11:10–11:10 | success (rollback of v2)   |
///
/// v2: 11:10 − 10:10 = 3600 s; v3: 11:10 − 11:10 = 0 s. Median and mean
/// (3600 + 0) / 2 = 1800 s: elite (< 1 hour); 2 failures, none unrecovered.
#[test]
fn a_rollback_in_the_second_of_the_failure_is_its_recovery() {
    let mut env = TestEnv::new();
    tool_deploy(
        &mut env,
        "api",
        "2025-01-06T09:00:00Z",
        "2025-01-06T09:10:00Z",
    );
    tool_deploy(
        &mut env,
        "api",
        "2025-01-06T10:00:00Z",
        "2025-01-06T10:10:00Z",
    );
    env.at("2025-01-06T11:00:00Z");
    env.ok(&[
        "start",
        "--service",
        "api",
        "--env",
        "production",
        "--commit",
    ]);
    env.at("2025-01-06T11:10:00Z").ok(&[
        "finish",
        "--status",
        "failed",
        "--reason",
        "health checks",
        "--commit",
    ]);
    env.ok(&[
        "rollback",
        "--service",
        "api",
        "--env",
        "production",
        "--reason",
        "v3 failed",
        "--commit",
    ]);
    let r = json(&env, &["--section", "dora"]);
    let rt = &r["dora"]["production"]["recovery_time"];
    assert_eq!(rt["failures"], 2, "{rt}");
    assert_eq!(rt["unrecovered"], 0, "{rt}");
    assert_eq!(rt["median_seconds"], 1800.0, "{rt}");
    assert_eq!(rt["mean_seconds"], 1800.0, "{rt}");
    assert_eq!(rt["tier"], "elite", "{rt}");
}

/// "Fails at least twice as often and by at least 10 points" holds at 10
/// points exactly: Fridays 3 failed of 20 (15%), Tuesdays 1 of 20 (5%):
/// 15 − 5 = 10 points, 15 / 5 = 3.0×; n = 20 ≥ 10 on both sides.
#[test]
fn a_weekday_ten_points_worse_is_a_recommendation() {
    let mut env = TestEnv::new();
    let day = |first: u32, k: u32| {
        let d = chrono::NaiveDate::from_ymd_opt(2025, 1, first).expect("a date")
            + chrono::Duration::days(7 * i64::from(k));
        d.format("%Y-%m-%d").to_string()
    };
    let write = |date: String, status: &str| {
        let id = format!("DEP-{date}-10-00-api-production");
        let d = Dep {
            id: &id,
            service: "api",
            env: "production",
            status,
            operator: "op",
            started: &format!("{date}T10:00:00Z"),
            finished: Some(&format!("{date}T10:10:00Z")),
            seconds: Some(600),
            commit: "0000000000000000000000000000000000000000",
        };
        env.write(&path_of(&id), &record_text(&d));
    };
    // 2025-01-03 is a Friday, 2025-01-07 a Tuesday.
    for k in 0..20 {
        write(day(3, k), if k < 3 { "failed" } else { "success" });
        write(day(7, k), if k < 1 { "failed" } else { "success" });
    }
    env.git(&["add", "-A"]);
    env.at("2025-06-01T00:00:00Z");
    env.git(&["commit", "-q", "-m", "backfill"]);
    let r = json(&env, &["--section", "recommendations"]);
    let findings: Vec<&str> = r["recommendations"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|f| f["finding"].as_str())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("Friday deployments fail 3.0× as often (15% vs 5%, n=20)")),
        "{findings:?}"
    );
    assert!(
        !findings.iter().any(|f| f.starts_with("Tuesday")),
        "{findings:?}"
    );
}

/// Deploys `api` to production at `at` (a record committed by the tool,
/// at the commit checked out).
fn deploy_api_at(env: &mut TestEnv, at: &str) {
    env.at(at).ok(&[
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--started",
        at,
        "--finished",
        at,
        "--status",
        "success",
        "--operator",
        "op",
        "--commit",
    ]);
}

/// A monorepo whose `[services.api] paths` is `paths` (a TOML array):
///
/// | when (UTC)  | what                                     |
/// |-------------|------------------------------------------|
/// | 01-20 09:00 | ledger.toml, services/api/a              |
/// | 01-20 10:00 | D1 (api, production, at that commit)     |
/// | 01-20 11:00 | services/api/a                           |
/// | 01-20 11:30 | docs/guide.md                            |
/// | 01-20 12:00 | D2                                       |
///
/// D2 ships both commits; only the 11:00 one touches the service: one
/// commit, 12:00 − 11:00 = 3600 s (the docs commit would be 1800 s).
fn service_paths_repo(paths: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        &format!("[services.api]\npaths = {paths}\n"),
    );
    env.write("services/api/a", "1\n");
    env.at("2025-01-20T09:00:00Z");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "api and its config"]);
    deploy_api_at(&mut env, "2025-01-20T10:00:00Z");
    commit_code(&mut env, "2025-01-20T11:00:00Z", "services/api/a");
    commit_code(&mut env, "2025-01-20T11:30:00Z", "docs/guide.md");
    deploy_api_at(&mut env, "2025-01-20T12:00:00Z");
    env
}

/// An analytics run with the timings on: (report, stderr).
fn timed_json(env: &TestEnv, args: &[&str]) -> (Value, String) {
    let out = crate::env::succeeds(
        env.cmd()
            .env("DEPLOY_LEDGER_TIMINGS", "1")
            .args(["analytics", "--format", "json"])
            .args(args),
    );
    let report = serde_json::from_slice(&out.stdout).expect("json");
    (report, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A service path is a folder, whichever way it is written: a glob's
/// trailing `/**` or `/*`, a leading `./` or `/`, a trailing `/`. Each
/// spelling is the same prefix, also to the analytics cache.
#[test]
fn service_paths_in_every_spelling_are_the_same_folder() {
    for paths in [
        r#"["services/api"]"#,
        r#"["services/api/"]"#,
        r#"["services/api/**"]"#,
        r#"["services/api/*"]"#,
        r#"["services/*"]"#,
        r#"["./services/api"]"#,
        r#"["/services/api"]"#,
        r#"["./services/api/**", "services/api"]"#,
    ] {
        let env = service_paths_repo(paths);
        let r = json(&env, &["--section", "dora"]);
        let l = &r["dora"]["production"]["lead_time"];
        assert_eq!(l["commits"], 1, "{paths}: {l}");
        assert_eq!(l["median_seconds"], 3600.0, "{paths}: {l}");
        assert_eq!(l["mean_seconds"], 3600.0, "{paths}: {l}");
    }
    // Without paths, the docs commit counts too: 3600 and 1800 s.
    let env = service_paths_repo("[]");
    let l = &json(&env, &["--section", "dora"])["dora"]["production"]["lead_time"];
    assert_eq!(l["commits"], 2, "{l}");
    assert_eq!(l["median_seconds"], 2700.0, "{l}");

    // The cache of a run with `services/api` serves a run with
    // `services/api/**`: the same prefixes, no walk, no new cache.
    let env = service_paths_repo(r#"["services/api"]"#);
    forget_reports(&env);
    let (cold, stderr) = timed_json(&env, &["--committed-only"]);
    assert!(stderr.contains("cache write"), "{stderr}");
    assert_eq!(cold["dora"]["production"]["lead_time"]["commits"], 1);
    env.write(
        "deployments/ledger.toml",
        "[services.api]\npaths = [\"services/api/**\"]\n",
    );
    let _ = std::fs::remove_file(env.path(".git/deploy-ledger/analytics-memo"));
    let (warm, stderr) = timed_json(&env, &["--committed-only"]);
    assert!(
        !stderr.contains("cache write"),
        "the cache was used: {stderr}"
    );
    let without_time = |mut v: Value| {
        v["generated_at"] = Value::Null;
        v
    };
    assert_eq!(without_time(warm), without_time(cold));
}

/// Names, paths and warnings from the records are text in the markdown
/// report (a PR comment), never HTML: `<`, `>` and `&` are entities outside
/// code spans, and a backtick in a path does not end its code span. The
/// text report shows them as they are.
#[test]
fn markdown_escapes_html_in_what_comes_from_records() {
    let mut env = TestEnv::new();
    for (operator, hour) in [("renovate <bot>", "10"), ("a|b", "11"), ("R&D", "12")] {
        env.at(&format!("2025-01-16T{hour}:10:00Z")).ok(&[
            "record",
            "--service",
            "api",
            "--env",
            "production",
            "--status",
            "success",
            "--started",
            &format!("2025-01-16T{hour}:00:00Z"),
            "--finished",
            &format!("2025-01-16T{hour}:10:00Z"),
            "--operator",
            operator,
            "--commit",
        ]);
    }
    // Not committed, at an odd path; and a broken record (a warning).
    let odd = "deployments/checklists/2025/01/odd `<b>`.md";
    env.write(
        odd,
        &record_text(&Dep {
            id: "DEP-2025-01-16-13-00-web-staging",
            service: "web",
            env: "staging",
            status: "success",
            operator: "op",
            started: "2025-01-16T13:00:00Z",
            finished: Some("2025-01-16T13:05:00Z"),
            seconds: Some(300),
            commit: &head(&env),
        }),
    );
    env.write(
        "deployments/checklists/2025/01/x <i>&.md",
        "---\nid: [\n---\n",
    );
    let md = env.ok(&[
        "analytics",
        "--format",
        "markdown",
        "--section",
        "operators",
        "--section",
        "audit",
        "--section",
        "warnings",
    ]);
    for line in [
        "| renovate &lt;bot&gt; | 1 | 100.0% | 10m 00s | 0 |",
        "| a\\|b | 1 | 100.0% | 10m 00s | 0 |",
        "| R&amp;D | 1 | 100.0% | 10m 00s | 0 |",
        "- Never committed: 1",
        "  - `DEP-2025-01-16-13-00-web-staging` (``deployments/checklists/2025/01/odd `<b>`.md``)",
        "- deployments/checklists/2025/01/x &lt;i&gt;&amp;.md:3: invalid YAML frontmatter: did not find expected node content (work tree)",
    ] {
        assert!(md.lines().any(|l| l == line), "no line {line:?} in:\n{md}");
    }
    assert!(!md.contains("<bot>") && !md.contains("<i>"), "{md}");

    let text = env.ok(&[
        "analytics",
        "--section",
        "operators",
        "--section",
        "warnings",
    ]);
    for line in [
        "  renovate <bot>      1   100.0%  10m 00s            0",
        "  R&D                 1   100.0%  10m 00s            0",
        "  ! deployments/checklists/2025/01/x <i>&.md:3: invalid YAML frontmatter: did not find expected node content (work tree)",
    ] {
        assert!(text.lines().any(|l| l == line), "no line {line:?} in:\n{text}");
    }
}
