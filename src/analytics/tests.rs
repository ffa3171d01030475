//! Unit tests of the pure report: hand-made records, figures by hand.

use super::*;
use crate::record::{GitInfo, Phase};

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("time")
}

fn rec(id: &str, status: Status, started: &str, seconds: i64) -> RecordInput {
    let start = t(started);
    let finished = status
        .is_final()
        .then(|| start + Duration::seconds(seconds));
    RecordInput {
        path: format!("deployments/checklists/{id}.md"),
        committed: true,
        record: Box::new(Record {
            id: id.into(),
            service: "api".into(),
            environment: "production".into(),
            version: None,
            strategy: Some("rolling".into()),
            status,
            operator: Some("alice".into()),
            started_at: start,
            finished_at: finished,
            duration_seconds: finished.map(|_| seconds),
            git: GitInfo::default(),
            ci: BTreeMap::new(),
            tools: BTreeMap::new(),
            phases: vec![
                Phase {
                    name: "planning".into(),
                    started_at: start,
                    finished_at: Some(start + Duration::seconds(seconds / 4)),
                    duration_seconds: Some(seconds / 4),
                },
                Phase {
                    name: "execution".into(),
                    started_at: start + Duration::seconds(seconds / 4),
                    finished_at: None,
                    duration_seconds: None,
                },
            ],
            checklist_total: None,
            checklist_done: None,
            change: BTreeMap::new(),
            rollback: None,
            failure_reason: None,
            labels: BTreeMap::new(),
        }),
    }
}

fn options() -> Options {
    Options::new(t("2025-03-01T00:00:00Z").with_timezone(&Utc))
}

#[test]
fn tiers_at_their_boundaries() {
    assert_eq!(tier_lead_time(86_399.0), Tier::Elite);
    assert_eq!(tier_lead_time(86_400.0), Tier::High);
    assert_eq!(tier_lead_time(7.0 * 86_400.0), Tier::Medium);
    assert_eq!(tier_lead_time(30.0 * 86_400.0), Tier::Low);
    assert_eq!(tier_recovery(3_599.0), Tier::Elite);
    assert_eq!(tier_recovery(3_600.0), Tier::High);
    assert_eq!(tier_recovery(86_400.0), Tier::Medium);
    assert_eq!(tier_recovery(7.0 * 86_400.0), Tier::Low);
    // 1/20 is exactly 5%: elite; 2/20 = 10%: high; 3/20 = 15%: medium.
    assert_eq!(tier_failure_rate(1.0 / 20.0), Tier::Elite);
    assert_eq!(tier_failure_rate(2.0 / 20.0), Tier::High);
    assert_eq!(tier_failure_rate(3.0 / 20.0), Tier::Medium);
    assert_eq!(tier_failure_rate(4.0 / 20.0), Tier::Low);
}

#[test]
fn phases_and_cancelled_records() {
    // Durations 400 and 800 s; the cancelled one (200 s) counts in
    // durations but not in the success rate.
    let records = vec![
        rec("a", Status::Success, "2025-01-06T10:00:00Z", 400),
        rec("b", Status::Failed, "2025-01-07T10:00:00Z", 800),
        rec("c", Status::Cancelled, "2025-01-08T10:00:00Z", 200),
    ];
    let r = compute(&records, &History::default(), &options());
    assert_eq!(r.summary.success_rate, Some(0.5));
    // Total: 200 400 800 → median 400, p90 rank 3 → 800.
    assert_eq!(r.durations.total.median_seconds, Some(400.0));
    assert_eq!(r.durations.total.p90_seconds, Some(800.0));
    // planning = a quarter: 50 100 200 → median 100; execution never closed.
    assert_eq!(r.durations.phases["planning"].median_seconds, Some(100.0));
    assert!(!r.durations.phases.contains_key("execution"));
}

#[test]
fn frequency_tiers_by_bucket() {
    // One success a week for four weeks: median week has 1 deploy-day and
    // 1 deployment → high.
    let weekly: Vec<RecordInput> = (0..4)
        .map(|w| {
            rec(
                &format!("w{w}"),
                Status::Success,
                &format!("2025-01-{:02}T10:00:00Z", 6 + 7 * w),
                60,
            )
        })
        .collect();
    let r = compute(&weekly, &History::default(), &options());
    let f = &r.dora["production"].deployment_frequency;
    assert_eq!(f.deploy_days_per_week_median, Some(1.0));
    assert_eq!(f.tier, Some(Tier::High));
    // Two in January, two in March: weeks mostly empty, the median month
    // (Jan 2, Feb 0, Mar 2) has 2 → medium.
    let monthly = vec![
        rec("a", Status::Success, "2025-01-06T10:00:00Z", 60),
        rec("b", Status::Success, "2025-01-20T10:00:00Z", 60),
        rec("c", Status::Success, "2025-03-03T10:00:00Z", 60),
        rec("d", Status::Success, "2025-03-17T10:00:00Z", 60),
    ];
    let r = compute(&monthly, &History::default(), &options());
    let f = &r.dora["production"].deployment_frequency;
    assert_eq!(f.deployments_per_week_median, Some(0.0));
    assert_eq!(f.deployments_per_month_median, Some(2.0));
    assert_eq!(f.tier, Some(Tier::Medium));
    // A window of 2025-02-03 (Monday) to 2025-02-09 with none of them in
    // it: 0 a day over 7 days is measured, low (not "no data").
    let mut quiet = options();
    quiet.since = Some(t("2025-02-03T00:00:00Z").with_timezone(&Utc));
    quiet.until = Some(t("2025-02-10T00:00:00Z").with_timezone(&Utc));
    let r = compute(&monthly, &History::default(), &quiet);
    let f = &r.dora["production"].deployment_frequency;
    assert_eq!((f.per_day, f.deployments, f.days), (Some(0.0), 0, 7));
    assert_eq!(f.deployments_per_week_median, Some(0.0));
    assert_eq!(f.tier, Some(Tier::Low));
}

#[test]
fn recommendations_need_the_minimum_sample() {
    // Fridays: 10 outcomes, 5 failed (50%); Mondays: 10, 1 failed (10%).
    let mut records = Vec::new();
    for i in 0..10 {
        let fri = format!("2025-01-{:02}T10:00:00Z", 3 + 7 * (i % 4));
        let mon = format!("2025-01-{:02}T10:00:00Z", 6 + 7 * (i % 3));
        records.push(rec(
            &format!("f{i}"),
            if i < 5 {
                Status::Failed
            } else {
                Status::Success
            },
            &fri,
            60,
        ));
        records.push(rec(
            &format!("m{i}"),
            if i < 1 {
                Status::Failed
            } else {
                Status::Success
            },
            &mon,
            60,
        ));
    }
    let r = compute(&records, &History::default(), &options());
    let friday: Vec<&Recommendation> = r
        .recommendations
        .iter()
        .filter(|x| x.finding.starts_with("Friday"))
        .collect();
    assert_eq!(friday.len(), 1, "{:?}", r.recommendations);
    assert_eq!(
        friday[0].finding,
        "Friday deployments fail 5.0× as often (50% vs 10%, n=10); review what differs for them"
    );
    assert_eq!(friday[0].sample, 20);
    // One Friday fewer: 9 outcomes, below the minimum → silent.
    records.remove(
        records
            .iter()
            .position(|r| r.record.id == "f9")
            .expect("f9"),
    );
    let r = compute(&records, &History::default(), &options());
    assert!(
        r.recommendations
            .iter()
            .all(|x| !x.finding.starts_with("Friday")),
        "{:?}",
        r.recommendations
    );
}

#[test]
fn lead_time_without_commits_in_the_repository() {
    let mut a = rec("a", Status::Success, "2025-01-06T10:00:00Z", 60);
    a.record.git.commit = Some("ab".repeat(20));
    let mut b = rec("b", Status::Success, "2025-01-07T10:00:00Z", 60);
    b.record.git.commit = None;
    let r = compute(&[a, b], &History::default(), &options());
    let l = &r.dora["production"].lead_time;
    assert_eq!(l.skipped_missing_commit, 2);
    assert_eq!(l.commits, 0);
    assert_eq!(l.tier, None);
    assert_eq!(r.warnings.len(), 1);
}

#[test]
fn negative_lead_times_are_dropped() {
    // Graph: c0 ← c1 (authored after the deployment finished: clock skew).
    let mut g = Graph::default();
    let c0 = g.add(
        [0; 20],
        graph::Commit {
            author_time: 0,
            commit_time: 0,
            code: true,
            ..Default::default()
        },
        &[],
        0,
    );
    g.add(
        [1; 20],
        graph::Commit {
            author_time: 2_000_000_000,
            commit_time: 1,
            code: true,
            ..Default::default()
        },
        &[c0],
        0,
    );
    let mut a = rec("a", Status::Success, "2025-01-06T10:00:00Z", 60);
    a.record.git.commit = Some(graph::oid_hex(&[0; 20]));
    let mut b = rec("b", Status::Success, "2025-01-07T10:00:00Z", 60);
    b.record.git.commit = Some(graph::oid_hex(&[1; 20]));
    let history = History {
        graph: g,
        ..History::default()
    };
    let r = compute(&[a, b], &history, &options());
    let l = &r.dora["production"].lead_time;
    assert_eq!(l.dropped_non_positive, 1);
    assert_eq!(l.commits, 0);
}
