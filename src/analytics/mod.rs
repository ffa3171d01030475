//! Analytics over records (SPEC §5): pure functions, records in, numbers out.
//!
//! The public API, for the other renderers (HTML dashboard, Prometheus):
//! - [`load`] reads everything a report needs from a repository (records at
//!   a revision, uncommitted records, the commit graph and the audit facts);
//! - [`compute`] turns [`RecordInput`]s and a [`History`] into a [`Report`]
//!   without touching git, so every figure is testable by hand;
//! - [`Report`] serialises to the JSON shape of SPEC §5 (the README's
//!   "analytics JSON" section documents every key).

mod cache;
mod checksum;
pub mod graph;
mod load;
pub(crate) use load::{memory, release_freed};
pub mod memo;
pub mod stats;
pub mod tz;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike, Utc, Weekday};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

pub use graph::Graph;
pub use load::{load, resolve_rev, work_tree_joins, LoadOptions, Loaded};
pub use tz::ReportTz;

use crate::record::{format_time, Record, Status};
use stats::{mean, median, percentile, ratio};

/// Below this many deployments in a group (and in what it is compared
/// with), recommendations stay silent.
pub const MIN_SAMPLE: usize = 10;

/// Every report section, in report order (`--section NAME`).
pub const SECTIONS: [&str; 14] = [
    "summary",
    "peak_hours",
    "busiest_days",
    "heatmap",
    "operators",
    "environments",
    "services",
    "strategies",
    "durations",
    "trends",
    "dora",
    "audit",
    "recommendations",
    "warnings",
];

/// One record as the report sees it.
#[derive(Debug, Clone)]
pub struct RecordInput {
    /// Path in the repository, `/`-separated.
    pub path: String,
    pub record: Box<Record>,
    /// False for a record of the work tree that is not at `--rev`.
    pub committed: bool,
}

/// What the history adds to the records: the commit graph for lead time and
/// the audit facts found by walking the ledger's trees.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub graph: Graph,
    /// The repository is a shallow clone: history before the cut is unknown.
    pub shallow: bool,
    /// Whether the tree walk of the audit ran (false: audit facts unknown).
    pub walked: bool,
    pub edited_after_finish: Vec<AuditEntry>,
    pub deleted: Vec<AuditEntry>,
    /// Commits named by records that are not in the repository (a memorised
    /// report is not used once one of them is fetched).
    pub missing_commits: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub path: String,
    /// The commit that edited (or deleted) the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    #[default]
    Week,
    Month,
}

/// The report's parameters, already validated.
#[derive(Debug, Clone)]
pub struct Options {
    pub now: DateTime<Utc>,
    pub tz: ReportTz,
    pub period: Period,
    /// Records started at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Records started before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Empty: all.
    pub environments: Vec<String>,
    pub services: Vec<String>,
    pub operators: Vec<String>,
    /// Environments the DORA section covers.
    pub dora_environments: Vec<String>,
    /// Whether they were named (`--dora-env`): a name no record has is
    /// then a warning, as for `--env`.
    pub dora_environments_named: bool,
    /// `[services.X] paths`: lead time counts only commits touching them.
    pub service_paths: BTreeMap<String, Vec<String>>,
    pub stale_after_hours: u64,
    /// The configured phases (config `phases`): the order of the phase
    /// durations.
    pub phases: Vec<String>,
    /// The commit the records were read at (None: no commit yet).
    pub rev: Option<String>,
    pub committed_only: bool,
}

impl Options {
    pub fn new(now: DateTime<Utc>) -> Options {
        Options {
            now,
            tz: ReportTz::default(),
            period: Period::Week,
            since: None,
            until: None,
            environments: Vec::new(),
            services: Vec::new(),
            operators: Vec::new(),
            dora_environments: vec!["production".into()],
            dora_environments_named: false,
            service_paths: BTreeMap::new(),
            stale_after_hours: 24,
            phases: ["planning", "execution", "validation"]
                .map(String::from)
                .to_vec(),
            rev: None,
            committed_only: false,
        }
    }
}

// ---------------------------------------------------------------- the report

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub generated_at: String,
    pub rev: Option<String>,
    pub filters: Map<String, Value>,
    pub summary: Summary,
    pub peak_hours: Vec<HourCount>,
    pub busiest_days: Vec<DayCount>,
    pub heatmap: Vec<HeatmapRow>,
    pub operators: Vec<OperatorStats>,
    pub environments: Vec<GroupStats>,
    pub services: Vec<GroupStats>,
    pub strategies: Vec<GroupStats>,
    pub durations: Durations,
    pub trends: Trends,
    pub dora: BTreeMap<String, Dora>,
    pub audit: Audit,
    pub recommendations: Vec<Recommendation>,
    /// Records that could not be read, and other caveats (e.g. commits
    /// missing from the repository).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub total: usize,
    pub by_status: Map<String, Value>,
    /// success / (success + failed + rolled-back); null when none.
    pub success_rate: Option<f64>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub uncommitted: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HourCount {
    pub hour: u32,
    pub count: usize,
    pub success_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DayCount {
    pub day: String,
    pub count: usize,
    pub success_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeatmapRow {
    pub day: String,
    /// 24 counts, hour 0 to 23, in the report's time zone.
    pub hours: Vec<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperatorStats {
    pub operator: String,
    pub count: usize,
    pub success_rate: Option<f64>,
    pub median_duration_seconds: Option<f64>,
    /// This operator's deployments that were later rolled back.
    pub rollbacks: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupStats {
    pub name: String,
    pub count: usize,
    pub success_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Spread {
    pub count: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Durations {
    pub total: Spread,
    pub phases: PhaseSpreads,
}

/// The spread of each phase, in the configured phase order (phases not in
/// the configuration after them, by name); a JSON object in that order.
#[derive(Debug, Clone, Default)]
pub struct PhaseSpreads(pub Vec<(String, Spread)>);

impl PhaseSpreads {
    pub fn get(&self, name: &str) -> Option<&Spread> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, (String, Spread)> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a PhaseSpreads {
    type Item = &'a (String, Spread);
    type IntoIter = std::slice::Iter<'a, (String, Spread)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl std::ops::Index<&str> for PhaseSpreads {
    type Output = Spread;
    fn index(&self, name: &str) -> &Spread {
        self.get(name).expect("no such phase")
    }
}

impl Serialize for PhaseSpreads {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for PhaseSpreads {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> serde::de::Visitor<'de> for Ordered {
            type Value = PhaseSpreads;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of phase names to spreads")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PhaseSpreads, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(PhaseSpreads(out))
            }
        }
        d.deserialize_map(Ordered)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trends {
    pub period: Period,
    pub buckets: Vec<TrendBucket>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrendBucket {
    /// `2025-W03` or `2025-01`.
    pub label: String,
    /// First day of the period (in the report's time zone).
    pub start: String,
    pub count: usize,
    pub success_rate: Option<f64>,
    pub median_duration_seconds: Option<f64>,
    /// Against the previous period; null for the first.
    pub change: Option<TrendChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrendChange {
    pub count: i64,
    /// Relative change of the count (0.5 = +50%); null after an empty period.
    pub count_ratio: Option<f64>,
    /// Difference of success rates (0.1 = ten points better).
    pub success_rate: Option<f64>,
    pub median_duration_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dora {
    pub deployment_frequency: Frequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub recovery_time: RecoveryTime,
    pub thresholds: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Frequency {
    /// Successful deployments per day of the window.
    pub per_day: Option<f64>,
    pub deploy_days_per_week_median: Option<f64>,
    pub deployments_per_week_median: Option<f64>,
    pub deployments_per_month_median: Option<f64>,
    pub deployments: usize,
    pub days: i64,
    pub tier: Option<Tier>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LeadTime {
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub mean_seconds: Option<f64>,
    /// (deployment, commit) pairs measured.
    pub commits: usize,
    /// Successful deployments whose range was walked.
    pub deployments: usize,
    /// First deployment of a service (no baseline), or previous one's
    /// commit unknown.
    pub skipped_no_baseline: usize,
    /// Deployments whose commit is not in the repository (shallow clone,
    /// never pushed) or not recorded.
    pub skipped_missing_commit: usize,
    /// Commits authored at or after the deployment finished.
    pub dropped_non_positive: usize,
    /// Rollback records (`rollback.of`): they ship an older version, so
    /// they are neither measured nor a baseline.
    pub skipped_rollback: usize,
    /// Deployments whose range reaches the cut of a shallow clone: which
    /// commits they shipped is unknown, so none of them is measured.
    #[serde(default)]
    pub skipped_shallow: usize,
    pub tier: Option<Tier>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeFailureRate {
    pub value: Option<f64>,
    /// failed + rolled-back.
    pub failed: usize,
    /// success + failed + rolled-back.
    pub total: usize,
    pub tier: Option<Tier>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryTime {
    pub median_seconds: Option<f64>,
    pub mean_seconds: Option<f64>,
    /// Failures followed by a success (measured).
    pub failures: usize,
    /// Failures with no later success yet.
    pub unrecovered: usize,
    pub tier: Option<Tier>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Elite,
    High,
    Medium,
    Low,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Elite => "elite",
            Tier::High => "high",
            Tier::Medium => "medium",
            Tier::Low => "low",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Audit {
    pub edited_after_finish: Vec<AuditEntry>,
    pub deleted: Vec<AuditEntry>,
    pub uncommitted: Vec<AuditEntry>,
    pub stale_in_progress: Vec<StaleEntry>,
    /// `complete`, or `shallow` in a shallow clone.
    pub history: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaleEntry {
    pub id: String,
    pub path: String,
    pub started_at: String,
    pub age_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recommendation {
    pub finding: String,
    pub evidence: Map<String, Value>,
    pub sample: usize,
}

// ---------------------------------------------------------------- compute

const DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Counts toward success rates: success, failed, rolled-back.
fn outcome(s: Status) -> Option<bool> {
    match s {
        Status::Success => Some(true),
        Status::Failed | Status::RolledBack => Some(false),
        Status::Cancelled | Status::InProgress => None,
    }
}

fn success_rate<'a>(records: impl IntoIterator<Item = &'a Record>) -> Option<f64> {
    let (ok, n) = tally(records);
    ratio(ok, n)
}

/// (successes, success + failed + rolled-back).
fn tally<'a>(records: impl IntoIterator<Item = &'a Record>) -> (usize, usize) {
    let mut ok = 0;
    let mut n = 0;
    for r in records {
        if let Some(s) = outcome(r.status) {
            n += 1;
            ok += usize::from(s);
        }
    }
    (ok, n)
}

/// When a deployment ended: `finished_at`, else start + duration, else start.
fn end_time(r: &Record) -> DateTime<FixedOffset> {
    r.finished_at
        .unwrap_or_else(|| r.started_at + Duration::seconds(r.duration_seconds.unwrap_or(0).max(0)))
}

fn finished_duration(r: &Record) -> Option<f64> {
    if !r.status.is_final() {
        return None;
    }
    r.duration().filter(|d| *d >= 0).map(|d| d as f64)
}

fn filters_json(o: &Options) -> Map<String, Value> {
    let mut m = Map::new();
    let t = |t: &Option<DateTime<Utc>>| t.map(format_time).map(Value::from).unwrap_or(Value::Null);
    m.insert("since".into(), t(&o.since));
    m.insert("until".into(), t(&o.until));
    let list = |v: &Vec<String>| Value::from(v.clone());
    m.insert("environments".into(), list(&o.environments));
    m.insert("services".into(), list(&o.services));
    m.insert("operators".into(), list(&o.operators));
    m.insert("tz".into(), Value::from(o.tz.to_string()));
    m.insert(
        "period".into(),
        Value::from(match o.period {
            Period::Week => "week",
            Period::Month => "month",
        }),
    );
    m.insert("committed_only".into(), Value::from(o.committed_only));
    m
}

/// Whether a record is a rollback (`rollback.of` set): it ships an older
/// version, so lead time neither measures it nor takes it as a baseline.
pub fn is_rollback(r: &Record) -> bool {
    r.rollback.as_ref().is_some_and(|b| b.of.is_some())
}

/// Whether a record passes the filters.
pub fn selected(r: &Record, o: &Options) -> bool {
    let start = r.started_at.with_timezone(&Utc);
    o.since.is_none_or(|s| start >= s)
        && o.until.is_none_or(|u| start < u)
        && (o.environments.is_empty() || o.environments.contains(&r.environment))
        && (o.services.is_empty() || o.services.contains(&r.service))
        && (o.operators.is_empty()
            || r.operator
                .as_ref()
                .is_some_and(|op| o.operators.contains(op)))
}

/// The report over `records` (already read) and `history`.
pub fn compute(records: &[RecordInput], history: &History, options: &Options) -> Report {
    let all: Vec<&RecordInput> = records
        .iter()
        .filter(|r| !options.committed_only || r.committed)
        .collect();
    let picked: Vec<&Record> = all
        .iter()
        .filter(|r| selected(&r.record, options))
        .map(|r| &*r.record)
        .collect();
    // Every record of the environment, whatever the filters: the filters
    // choose which deployments are measured, but a lead time's baseline and
    // a failure's recovery are the deployments around it (SPEC §5: the
    // previous and next success of the same service and environment).
    // DORA (lead times walk the commit graph) and the other sections are
    // computed at once, on two cores.
    let dora_of = || {
        let mut warnings = Vec::new();
        let dora: BTreeMap<String, Dora> = options
            .dora_environments
            .iter()
            .map(|env| {
                let in_env: Vec<&Record> = all
                    .iter()
                    .map(|r| &*r.record)
                    .filter(|r| &r.environment == env)
                    .collect();
                (env.clone(), dora(&in_env, history, options, &mut warnings))
            })
            .collect();
        (dora, warnings)
    };
    let rest = || Report {
        generated_at: format_time(options.now),
        rev: options.rev.clone(),
        filters: filters_json(options),
        summary: summary(&picked, &all, options),
        peak_hours: peak_hours(&picked, options),
        busiest_days: busiest_days(&picked, options),
        heatmap: heatmap(&picked, options),
        operators: operators(&picked),
        environments: groups(&picked, |r| Some(r.environment.clone())),
        services: groups(&picked, |r| Some(r.service.clone())),
        strategies: groups(&picked, |r| r.strategy.clone()),
        durations: durations(&picked, &options.phases),
        trends: trends(&picked, options),
        dora: BTreeMap::new(),
        audit: audit(&all, history, options),
        recommendations: recommendations(&picked, options),
        warnings: Vec::new(),
    };
    let ((dora, warnings), mut report) = rayon::join(dora_of, rest);
    report.dora = dora;
    report.warnings = unmatched_filters(&all, options);
    report.warnings.extend(warnings);
    report
}

/// A warning for each `--env`, `--service` or `--operator` value that no
/// record of the ledger has (a typo gives an empty report, not an error:
/// the name may be one the ledger will have).
fn unmatched_filters(all: &[&RecordInput], o: &Options) -> Vec<String> {
    let mut out = Vec::new();
    type Field = fn(&Record) -> Option<&str>;
    let dora: &[String] = match o.dora_environments_named {
        true => &o.dora_environments,
        false => &[],
    };
    let fields: [(&str, &str, &[String], Field); 4] = [
        ("env", "environments", &o.environments, |r| {
            Some(r.environment.as_str())
        }),
        ("dora-env", "environments", dora, |r| {
            Some(r.environment.as_str())
        }),
        ("service", "services", &o.services, |r| {
            Some(r.service.as_str())
        }),
        ("operator", "operators", &o.operators, |r| {
            r.operator.as_deref()
        }),
    ];
    for (flag, plural, wanted, field) in fields {
        if wanted.is_empty() {
            continue;
        }
        let known: std::collections::BTreeSet<&str> =
            all.iter().filter_map(|r| field(&r.record)).collect();
        for name in wanted.iter().filter(|n| !known.contains(n.as_str())) {
            let mut list: Vec<&str> = known.iter().copied().take(10).collect();
            if known.len() > list.len() {
                list.push("…");
            }
            out.push(format!(
                "--{flag} `{name}` matches no deployment of the ledger ({plural} in it: {})",
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                }
            ));
        }
    }
    out
}

fn summary(picked: &[&Record], all: &[&RecordInput], o: &Options) -> Summary {
    let mut by_status = Map::new();
    for s in Status::ALL {
        let n = picked.iter().filter(|r| r.status == s).count();
        if n > 0 {
            by_status.insert(s.as_str().into(), Value::from(n));
        }
    }
    let first = picked.iter().map(|r| r.started_at).min();
    let last = picked.iter().map(|r| r.started_at).max();
    Summary {
        total: picked.len(),
        by_status,
        success_rate: success_rate(picked.iter().copied()),
        first: first.map(|t| format_time(t.with_timezone(&Utc))),
        last: last.map(|t| format_time(t.with_timezone(&Utc))),
        uncommitted: all
            .iter()
            .filter(|r| !r.committed && selected(&r.record, o))
            .count(),
    }
}

fn peak_hours(picked: &[&Record], o: &Options) -> Vec<HourCount> {
    let mut by_hour: BTreeMap<u32, Vec<&Record>> = BTreeMap::new();
    for r in picked {
        by_hour
            .entry(o.tz.local(r.started_at).hour())
            .or_default()
            .push(r);
    }
    let mut out: Vec<HourCount> = by_hour
        .into_iter()
        .map(|(hour, rs)| HourCount {
            hour,
            count: rs.len(),
            success_rate: success_rate(rs),
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.hour.cmp(&b.hour)));
    out
}

fn busiest_days(picked: &[&Record], o: &Options) -> Vec<DayCount> {
    let mut out: Vec<DayCount> = DAYS
        .iter()
        .map(|d| {
            let rs: Vec<&Record> = picked
                .iter()
                .copied()
                .filter(|r| o.tz.local(r.started_at).weekday() == *d)
                .collect();
            DayCount {
                day: day_name(*d).into(),
                count: rs.len(),
                success_rate: success_rate(rs),
            }
        })
        .filter(|d| d.count > 0)
        .collect();
    // Stable sort: equal counts stay in Monday-first order.
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out
}

fn heatmap(picked: &[&Record], o: &Options) -> Vec<HeatmapRow> {
    let mut rows: Vec<HeatmapRow> = DAYS
        .iter()
        .map(|d| HeatmapRow {
            day: day_name(*d).into(),
            hours: vec![0; 24],
        })
        .collect();
    for r in picked {
        let l = o.tz.local(r.started_at);
        rows[l.weekday().num_days_from_monday() as usize].hours[l.hour() as usize] += 1;
    }
    rows
}

const UNKNOWN: &str = "(unknown)";

fn operators(picked: &[&Record]) -> Vec<OperatorStats> {
    let mut by: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for r in picked {
        by.entry(r.operator.clone().unwrap_or_else(|| UNKNOWN.into()))
            .or_default()
            .push(r);
    }
    let mut out: Vec<OperatorStats> = by
        .into_iter()
        .map(|(operator, rs)| {
            let mut d: Vec<f64> = rs.iter().filter_map(|r| finished_duration(r)).collect();
            OperatorStats {
                operator,
                count: rs.len(),
                success_rate: success_rate(rs.iter().copied()),
                median_duration_seconds: median(&mut d),
                rollbacks: rs.iter().filter(|r| r.status == Status::RolledBack).count(),
            }
        })
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out
}

fn groups(picked: &[&Record], key: impl Fn(&Record) -> Option<String>) -> Vec<GroupStats> {
    let mut by: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for r in picked {
        by.entry(key(r).unwrap_or_else(|| UNKNOWN.into()))
            .or_default()
            .push(r);
    }
    let mut out: Vec<GroupStats> = by
        .into_iter()
        .map(|(name, rs)| GroupStats {
            name,
            count: rs.len(),
            success_rate: success_rate(rs),
        })
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out
}

fn spread(mut values: Vec<f64>) -> Spread {
    Spread {
        count: values.len(),
        median_seconds: median(&mut values),
        p90_seconds: percentile(&mut values, 90.0),
    }
}

/// Total and per-phase durations; phases in the order of `configured`,
/// unknown ones after, by name.
fn durations(picked: &[&Record], configured: &[String]) -> Durations {
    let total = spread(picked.iter().filter_map(|r| finished_duration(r)).collect());
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in picked {
        for p in &r.phases {
            let d = p
                .duration_seconds
                .or_else(|| p.finished_at.map(|f| (f - p.started_at).num_seconds()));
            if let Some(d) = d.filter(|d| *d >= 0) {
                phases.entry(p.name.clone()).or_default().push(d as f64);
            }
        }
    }
    let mut ordered: Vec<(String, Spread)> = Vec::with_capacity(phases.len());
    for name in configured {
        if let Some(v) = phases.remove(name) {
            ordered.push((name.clone(), spread(v)));
        }
    }
    // The rest: BTreeMap order, by name.
    ordered.extend(phases.into_iter().map(|(k, v)| (k, spread(v))));
    Durations {
        total,
        phases: PhaseSpreads(ordered),
    }
}

/// The first day of the period containing `date`.
fn period_start(date: NaiveDate, period: Period) -> NaiveDate {
    match period {
        Period::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        Period::Month => date.with_day(1).expect("day 1 exists"),
    }
}

fn next_period(start: NaiveDate, period: Period) -> NaiveDate {
    match period {
        Period::Week => start + Duration::days(7),
        Period::Month => start
            .checked_add_months(chrono::Months::new(1))
            .expect("dates stay in range"),
    }
}

fn period_label(start: NaiveDate, period: Period) -> String {
    match period {
        Period::Week => {
            let w = start.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Period::Month => start.format("%Y-%m").to_string(),
    }
}

fn trends(picked: &[&Record], o: &Options) -> Trends {
    let mut by: BTreeMap<NaiveDate, Vec<&Record>> = BTreeMap::new();
    for r in picked {
        let day = o.tz.local(r.started_at).date_naive();
        by.entry(period_start(day, o.period)).or_default().push(r);
    }
    let mut buckets: Vec<TrendBucket> = Vec::new();
    if let (Some(first), Some(last)) = (by.keys().next().copied(), by.keys().last().copied()) {
        let mut start = first;
        while start <= last {
            let rs = by.get(&start).cloned().unwrap_or_default();
            let mut d: Vec<f64> = rs.iter().filter_map(|r| finished_duration(r)).collect();
            let mut b = TrendBucket {
                label: period_label(start, o.period),
                start: start.to_string(),
                count: rs.len(),
                success_rate: success_rate(rs.iter().copied()),
                median_duration_seconds: median(&mut d),
                change: None,
            };
            if let Some(prev) = buckets.last() {
                let diff = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
                b.change = Some(TrendChange {
                    count: b.count as i64 - prev.count as i64,
                    count_ratio: ratio(b.count, prev.count).map(|r| r - 1.0),
                    success_rate: diff(b.success_rate, prev.success_rate),
                    median_duration_seconds: diff(
                        b.median_duration_seconds,
                        prev.median_duration_seconds,
                    ),
                });
            }
            buckets.push(b);
            start = next_period(start, o.period);
        }
    }
    Trends {
        period: o.period,
        buckets,
    }
}

// ---------------------------------------------------------------- DORA

fn tier_lead_time(seconds: f64) -> Tier {
    const DAY: f64 = 86_400.0;
    if seconds < DAY {
        Tier::Elite
    } else if seconds < 7.0 * DAY {
        Tier::High
    } else if seconds < 30.0 * DAY {
        Tier::Medium
    } else {
        Tier::Low
    }
}

fn tier_recovery(seconds: f64) -> Tier {
    if seconds < 3_600.0 {
        Tier::Elite
    } else if seconds < 86_400.0 {
        Tier::High
    } else if seconds < 7.0 * 86_400.0 {
        Tier::Medium
    } else {
        Tier::Low
    }
}

fn tier_failure_rate(rate: f64) -> Tier {
    // Compare in whole basis points so that 1/20 is exactly 5%.
    let bp = (rate * 10_000.0).round();
    if bp <= 500.0 {
        Tier::Elite
    } else if bp <= 1_000.0 {
        Tier::High
    } else if bp <= 1_500.0 {
        Tier::Medium
    } else {
        Tier::Low
    }
}

/// The DORA metrics of one environment: `in_env` holds all its records,
/// of which the filters select those measured.
fn dora(in_env: &[&Record], history: &History, o: &Options, warnings: &mut Vec<String>) -> Dora {
    let measured: Vec<&Record> = in_env.iter().copied().filter(|r| selected(r, o)).collect();
    let (ok, n) = tally(measured.iter().copied());
    let failed = n - ok;
    let cfr = ratio(failed, n);
    Dora {
        deployment_frequency: frequency(&measured, o),
        lead_time: lead_time(in_env, history, o, warnings),
        change_failure_rate: ChangeFailureRate {
            value: cfr,
            failed,
            total: n,
            tier: cfr.map(tier_failure_rate),
        },
        recovery_time: recovery(in_env, o),
        thresholds: "DORA 2023".into(),
    }
}

/// Deployment frequency over the window: `--since`/`--until` when given,
/// else the first to the last deployment of the environment (any status),
/// in whole calendar days of the report's time zone. Counts successful
/// deployments; weeks start on Monday and partial weeks count as weeks.
fn frequency(in_env: &[&Record], o: &Options) -> Frequency {
    let days_of: Vec<NaiveDate> = in_env
        .iter()
        .map(|r| o.tz.local(r.started_at).date_naive())
        .collect();
    let local_day = |t: DateTime<Utc>| o.tz.local(t.fixed_offset()).date_naive();
    let first = o
        .since
        .map(local_day)
        .or_else(|| days_of.iter().min().copied());
    // `until` is exclusive: the window ends the day before it, unless it is
    // not at midnight.
    let last = o
        .until
        .map(|u| local_day(u - Duration::seconds(1)))
        .or_else(|| days_of.iter().max().copied());
    let successes: Vec<NaiveDate> = in_env
        .iter()
        .filter(|r| r.status == Status::Success)
        .map(|r| o.tz.local(r.started_at).date_naive())
        .collect();
    let (Some(first), Some(last)) = (first, last) else {
        return Frequency {
            per_day: None,
            deploy_days_per_week_median: None,
            deployments_per_week_median: None,
            deployments_per_month_median: None,
            deployments: 0,
            days: 0,
            tier: None,
        };
    };
    let days = (last - first).num_days().max(0) + 1;
    let mut weeks: BTreeMap<NaiveDate, (usize, HashSet<NaiveDate>)> = BTreeMap::new();
    let mut months: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    let mut w = period_start(first, Period::Week);
    while w <= last {
        weeks.insert(w, (0, HashSet::new()));
        w = next_period(w, Period::Week);
    }
    let mut m = period_start(first, Period::Month);
    while m <= last {
        months.insert(m, 0);
        m = next_period(m, Period::Month);
    }
    for d in &successes {
        if let Some(e) = weeks.get_mut(&period_start(*d, Period::Week)) {
            e.0 += 1;
            e.1.insert(*d);
        }
        if let Some(e) = months.get_mut(&period_start(*d, Period::Month)) {
            *e += 1;
        }
    }
    let in_window = successes
        .iter()
        .filter(|d| **d >= first && **d <= last)
        .count();
    let mut week_days: Vec<f64> = weeks.values().map(|(_, s)| s.len() as f64).collect();
    let mut week_counts: Vec<f64> = weeks.values().map(|(c, _)| *c as f64).collect();
    let mut month_counts: Vec<f64> = months.values().map(|c| *c as f64).collect();
    let dd = median(&mut week_days);
    let wc = median(&mut week_counts);
    let mc = median(&mut month_counts);
    // A window with no deployment in it is measured too: 0 a day, low.
    let tier = if dd.is_some_and(|v| v >= 3.0) {
        Some(Tier::Elite)
    } else if wc.is_some_and(|v| v >= 1.0) {
        Some(Tier::High)
    } else if mc.is_some_and(|v| v >= 1.0) {
        Some(Tier::Medium)
    } else {
        Some(Tier::Low)
    };
    Frequency {
        per_day: Some(in_window as f64 / days as f64),
        deploy_days_per_week_median: dd,
        deployments_per_week_median: wc,
        deployments_per_month_median: mc,
        deployments: in_window,
        days,
        tier,
    }
}

/// Groups records by service, each group ordered by end time.
fn by_service<'a>(in_env: &[&'a Record]) -> BTreeMap<&'a str, Vec<&'a Record>> {
    let mut by: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for r in in_env {
        by.entry(r.service.as_str()).or_default().push(r);
    }
    // By end; at the same end, the later start is the later deployment
    // (a rollback run in the second its failure ended).
    for rs in by.values_mut() {
        rs.sort_by(|a, b| {
            (end_time(a), a.started_at, &a.id).cmp(&(end_time(b), b.started_at, &b.id))
        });
    }
    by
}

/// Lead time for changes (SPEC §5). Decisions, documented in the README:
/// - the range is `previous.commit..this.commit` over the commit graph, as
///   `git rev-list` gives it; a deployment of an older commit (rollback) has
///   an empty range and adds nothing;
/// - merge commits are not changes of their own: the commits they bring in
///   are counted, the merge itself is not;
/// - a commit is counted once per service and environment, at the first
///   successful deployment that shipped it (re-deploying after a rollback
///   does not count it again);
/// - commits that change only `deployments/` are left out; with
///   `[services.X] paths`, only commits touching one of those paths count;
/// - lead time = `finished_at` − author time; values ≤ 0 are dropped;
/// - the filters choose the deployments measured; baselines (and which
///   commits were already shipped) come from every deployment of the
///   service and environment, so a filtered report measures a subset of
///   the unfiltered report's pairs;
/// - a rollback record (`rollback.of`) ships an older version, whatever its
///   `git.commit` says (HEAD when it was written): neither measured nor a
///   baseline.
fn lead_time(
    in_env: &[&Record],
    history: &History,
    o: &Options,
    warnings: &mut Vec<String>,
) -> LeadTime {
    let g = &history.graph;
    let generations = g.generations();
    let services: Vec<(&str, Vec<&Record>)> = by_service(in_env).into_iter().collect();
    // Each service's deployments walk their own ranges: on every core.
    let parts: Vec<(LeadTime, Vec<u32>)> = services
        .par_iter()
        .map(|(service, rs)| {
            let mut out = LeadTime::default();
            let mut values = Vec::new();
            let mask: Option<u64> =
                o.service_paths
                    .get(*service)
                    .filter(|p| !p.is_empty())
                    .map(|paths| {
                        g.prefixes
                            .iter()
                            .enumerate()
                            .filter(|(_, p)| paths.contains(p))
                            .fold(0u64, |m, (i, _)| m | (1 << i))
                    });
            // Commits already counted for this service and environment.
            let mut counted = vec![false; g.commits.len()];
            let mut scratch = graph::Scratch::default();
            // The previous successful deployment's commit: None before the
            // first one, Some(None) when its commit is unknown.
            let mut prev: Option<Option<u32>> = None;
            for r in rs.iter().filter(|r| r.status == Status::Success) {
                let measured = selected(r, o);
                if is_rollback(r) {
                    out.skipped_rollback += usize::from(measured);
                    continue;
                }
                let this = r.git.commit.as_deref().and_then(|c| g.get(c));
                if this.is_none() && measured {
                    out.skipped_missing_commit += 1;
                }
                let baseline = prev;
                prev = Some(this);
                let (Some(Some(from)), Some(to)) = (baseline, this) else {
                    if this.is_some() && measured {
                        out.skipped_no_baseline += 1;
                    }
                    continue;
                };
                let range = g.range_with(from, to, &generations, &mut scratch);
                // A range that reaches a shallow clone's cut goes on in
                // history this clone lacks: no pair of it is trusted.
                if range.iter().any(|c| g.commits[*c as usize].cut) {
                    out.skipped_shallow += usize::from(measured);
                    continue;
                }
                // A deployment not measured still ships its commits: walked,
                // so that a later one does not count them again.
                out.deployments += usize::from(measured);
                let finished = end_time(r).timestamp();
                for c in range {
                    let commit = &g.commits[c as usize];
                    if commit.is_merge()
                        || !commit.code
                        || mask.is_some_and(|m| g.touches(c) & m == 0)
                        || std::mem::replace(&mut counted[c as usize], true)
                        || !measured
                    {
                        continue;
                    }
                    let lead = finished - commit.author_time;
                    if lead <= 0 {
                        out.dropped_non_positive += 1;
                    } else {
                        // Seconds as u32: up to 136 years (millions of
                        // these are held: 4.5 million at 100,000 records).
                        values.push(u32::try_from(lead).unwrap_or(u32::MAX));
                    }
                }
            }
            // Exact in size: the lists are held together below.
            values.shrink_to_fit();
            (out, values)
        })
        .collect();
    // Each service's values stay in their list (joined, they were held
    // twice: 36 MB at 100,000 records); the mean is summed in the
    // services' order, the same to the last bit.
    let mut out = LeadTime::default();
    let mut values = Vec::with_capacity(parts.len());
    for (part, v) in parts {
        out.deployments += part.deployments;
        out.skipped_no_baseline += part.skipped_no_baseline;
        out.skipped_missing_commit += part.skipped_missing_commit;
        out.dropped_non_positive += part.dropped_non_positive;
        out.skipped_rollback += part.skipped_rollback;
        out.skipped_shallow += part.skipped_shallow;
        values.push(v);
    }
    if out.skipped_missing_commit > 0 {
        warnings.push(format!(
            "lead time: {} deployment(s) skipped, their commit is not in this repository (or not recorded)",
            out.skipped_missing_commit
        ));
    }
    if out.skipped_shallow > 0 {
        warnings.push(format!(
            "lead time: {} deployment(s) skipped, their range reaches the cut of this shallow clone (`git fetch --unshallow` to measure them)",
            out.skipped_shallow
        ));
    }
    let values = stats::Parts(&values);
    out.commits = values.count();
    out.mean_seconds = values.mean();
    out.p90_seconds = values.percentile(90.0);
    out.median_seconds = values.median();
    out.tier = out.median_seconds.map(tier_lead_time);
    out
}

/// Failed deployment recovery time: each failed or rolled-back deployment
/// the filters select, to the next success of the same service (by end
/// time, then start) among all its records. A rollback record is a
/// success: it is the recovery of what it rolled back (service restored).
/// A success that ends in the same second as the failure, having started
/// after it, is its recovery in 0 seconds.
fn recovery(in_env: &[&Record], o: &Options) -> RecoveryTime {
    let mut values = Vec::new();
    let mut unrecovered = 0;
    for rs in by_service(in_env).values() {
        for (i, r) in rs.iter().enumerate() {
            if outcome(r.status) != Some(false) || !selected(r, o) {
                continue;
            }
            let failed_at = end_time(r);
            match rs[i + 1..].iter().find(|n| n.status == Status::Success) {
                Some(n) => values.push((end_time(n) - failed_at).num_seconds() as f64),
                None => unrecovered += 1,
            }
        }
    }
    let median_seconds = median(&mut values);
    RecoveryTime {
        median_seconds,
        mean_seconds: mean(&values),
        failures: values.len(),
        unrecovered,
        tier: median_seconds.map(tier_recovery),
    }
}

// ---------------------------------------------------------------- audit

/// An in-progress record: whether it is stale depends on the clock, so the
/// report memo keeps these and recomputes the stale list at each run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenRecord {
    pub id: String,
    pub path: String,
    pub started_at: DateTime<Utc>,
}

/// The in-progress records among `records` (those the audit looks at:
/// without `--committed-only`'s work-tree records when it is set).
pub fn open_records(records: &[RecordInput], o: &Options) -> Vec<OpenRecord> {
    open_of(records.iter().filter(|r| !o.committed_only || r.committed))
}

fn open_of<'a>(records: impl Iterator<Item = &'a RecordInput>) -> Vec<OpenRecord> {
    records
        .filter(|r| r.record.status == Status::InProgress)
        .map(|r| OpenRecord {
            id: r.record.id.clone(),
            path: r.path.clone(),
            started_at: r.record.started_at.with_timezone(&Utc),
        })
        .collect()
}

/// The records open for `stale_after_hours` or longer at `now`, oldest first.
pub fn stale_in_progress(
    open: &[OpenRecord],
    now: DateTime<Utc>,
    stale_after_hours: u64,
) -> Vec<StaleEntry> {
    let mut stale: Vec<StaleEntry> = open
        .iter()
        .filter_map(|r| {
            let age = now - r.started_at;
            crate::ledger::open_too_long(age, stale_after_hours).then(|| StaleEntry {
                id: r.id.clone(),
                path: r.path.clone(),
                started_at: format_time(r.started_at),
                age_hours: age.num_hours(),
            })
        })
        .collect();
    stale.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    stale
}

fn audit(all: &[&RecordInput], history: &History, o: &Options) -> Audit {
    let stale = stale_in_progress(&open_of(all.iter().copied()), o.now, o.stale_after_hours);
    let mut uncommitted: Vec<AuditEntry> = all
        .iter()
        .filter(|r| !r.committed)
        .map(|r| AuditEntry {
            id: r.record.id.clone(),
            path: r.path.clone(),
            commit: None,
        })
        .collect();
    uncommitted.sort_by(|a, b| a.path.cmp(&b.path));
    Audit {
        edited_after_finish: history.edited_after_finish.clone(),
        deleted: history.deleted.clone(),
        uncommitted,
        stale_in_progress: stale,
        history: if history.shallow {
            "shallow"
        } else {
            "complete"
        }
        .into(),
    }
}

// ---------------------------------------------------------------- recommendations

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn evidence(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

/// A group that fails at least twice as often as the rest, by at least ten
/// points, with at least [`MIN_SAMPLE`] outcomes on each side.
fn compare_failure(
    label: &str,
    group: &[&Record],
    rest: &[&Record],
    out: &mut Vec<Recommendation>,
) {
    let (gok, gn) = tally(group.iter().copied());
    let (rok, rn) = tally(rest.iter().copied());
    if gn < MIN_SAMPLE || rn < MIN_SAMPLE {
        return;
    }
    // At least 10 points more and at least twice the rate, in whole
    // numbers: 3/20 against 1/20 is 10 points exactly (0.15 − 0.05 is not
    // 0.1 in floating point).
    let (gfail, rfail) = ((gn - gok) as u128, (rn - rok) as u128);
    let (gn128, rn128) = (gn as u128, rn as u128);
    if 10 * gfail * rn128 < 10 * rfail * gn128 + gn128 * rn128 || gfail * rn128 < 2 * rfail * gn128
    {
        return;
    }
    let gf = (gn - gok) as f64 / gn as f64;
    let rf = (rn - rok) as f64 / rn as f64;
    let times = if rf > 0.0 {
        format!("{:.1}× as often", gf / rf)
    } else {
        "more often".to_string()
    };
    out.push(Recommendation {
        finding: format!(
            "{label} fail {times} ({} vs {}, n={gn}); review what differs for them",
            pct(gf),
            pct(rf)
        ),
        evidence: evidence(&[
            ("group_failure_rate", Value::from(gf)),
            ("rest_failure_rate", Value::from(rf)),
            ("group_outcomes", Value::from(gn)),
            ("rest_outcomes", Value::from(rn)),
        ]),
        sample: gn + rn,
    });
}

fn recommendations(picked: &[&Record], o: &Options) -> Vec<Recommendation> {
    let mut out = Vec::new();
    // Weekdays.
    for d in DAYS {
        let (g, r): (Vec<&Record>, Vec<&Record>) = picked
            .iter()
            .copied()
            .partition(|r| o.tz.local(r.started_at).weekday() == d);
        compare_failure(&format!("{} deployments", day_name(d)), &g, &r, &mut out);
    }
    // Outside working hours (09:00–17:59 on weekdays).
    let (g, r): (Vec<&Record>, Vec<&Record>) = picked.iter().copied().partition(|r| {
        let l = o.tz.local(r.started_at);
        l.weekday().num_days_from_monday() >= 5 || !(9..18).contains(&l.hour())
    });
    compare_failure(
        "Deployments outside working hours (weekdays 09–18)",
        &g,
        &r,
        &mut out,
    );
    // Strategies.
    let strategies: HashSet<&str> = picked
        .iter()
        .filter_map(|r| r.strategy.as_deref())
        .collect();
    let mut strategies: Vec<&str> = strategies.into_iter().collect();
    strategies.sort();
    for s in strategies {
        let (g, r): (Vec<&Record>, Vec<&Record>) = picked
            .iter()
            .copied()
            .partition(|r| r.strategy.as_deref() == Some(s));
        compare_failure(&format!("`{s}` deployments"), &g, &r, &mut out);
    }
    // Long tail of durations.
    let mut d: Vec<f64> = picked.iter().filter_map(|r| finished_duration(r)).collect();
    if d.len() >= 2 * MIN_SAMPLE {
        let n = d.len();
        if let (Some(m), Some(p90)) = (median(&mut d), percentile(&mut d, 90.0)) {
            if m > 0.0 && p90 >= 3.0 * m {
                out.push(Recommendation {
                    finding: format!(
                        "One deployment in ten takes {:.1}× the median or longer (p90 {}s vs median {}s, n={n}); look at what makes the slow ones slow",
                        p90 / m,
                        p90,
                        m
                    ),
                    evidence: evidence(&[
                        ("median_seconds", Value::from(m)),
                        ("p90_seconds", Value::from(p90)),
                    ]),
                    sample: n,
                });
            }
        }
    }
    // Rollbacks without a reason recorded.
    let rolled: Vec<&&Record> = picked
        .iter()
        .filter(|r| r.status == Status::Failed && r.failure_reason.is_none())
        .collect();
    let failed = picked.iter().filter(|r| r.status == Status::Failed).count();
    if failed >= MIN_SAMPLE && rolled.len() * 2 >= failed {
        out.push(Recommendation {
            finding: format!(
                "{} of {failed} failed deployments have no reason recorded; use `finish --status failed --reason …`",
                rolled.len()
            ),
            evidence: evidence(&[
                ("without_reason", Value::from(rolled.len())),
                ("failed", Value::from(failed)),
            ]),
            sample: failed,
        });
    }
    out
}

#[cfg(test)]
mod tests;
