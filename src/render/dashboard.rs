//! The figures of the HTML dashboard and the Prometheus DORA gauges, taken
//! from the analytics report so that no figure is computed twice.
//!
//! Two charts need a cut the report does not make; both reuse its pieces:
//! - deployments per period *by status*: each record goes to the report's
//!   trend bucket (its start day in the report's time zone), counted per
//!   status;
//! - lead time per period: `analytics::compute` over the period's successful
//!   deployments plus, per service, the success before them (their
//!   baseline, which the report skips as "no baseline"), so each period's
//!   median is the report's own lead-time rule.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use std::collections::BTreeMap;

use crate::analytics::{self, History, Options, RecordInput, Report, TrendBucket};
use crate::record::{Record, Status};
use crate::render::export::prometheus::DoraFigures;
use crate::render::html::{
    human_duration, percent, Dashboard, FailureRow, OperatorRow, PeriodStack, PhaseSpread, Tile,
};

/// The DORA figures of each environment of the report, for Prometheus.
pub fn dora_figures(report: &Report) -> Vec<DoraFigures> {
    report
        .dora
        .iter()
        .map(|(env, d)| {
            let mut tiers = Vec::new();
            let mut tier = |metric: &str, t: Option<analytics::Tier>| {
                if let Some(t) = t {
                    tiers.push((metric.to_string(), t.as_str().to_string()));
                }
            };
            tier("deployment_frequency", d.deployment_frequency.tier);
            tier("lead_time", d.lead_time.tier);
            tier("change_failure_rate", d.change_failure_rate.tier);
            tier("recovery_time", d.recovery_time.tier);
            DoraFigures {
                environment: env.clone(),
                deployments_per_day: d.deployment_frequency.per_day,
                deploy_days_per_week_median: d.deployment_frequency.deploy_days_per_week_median,
                lead_time_median_seconds: d.lead_time.median_seconds,
                lead_time_p90_seconds: d.lead_time.p90_seconds,
                change_failure_rate: d.change_failure_rate.value,
                recovery_time_median_seconds: d.recovery_time.median_seconds,
                tiers,
            }
        })
        .collect()
}

/// One line saying what a dashboard covers: the filters given (`name
/// value`, empty values left out) and the time zone.
pub fn scope(filters: &[(&str, String)], tz: &analytics::ReportTz) -> String {
    let mut parts: Vec<String> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| format!("{name} {v}"))
        .collect();
    if parts.is_empty() {
        parts.push("all deployments".into());
    }
    parts.push(format!("times in {tz}"));
    parts.join(" · ")
}

/// When a deployment ended, as the report orders them.
fn end_time(r: &Record) -> DateTime<FixedOffset> {
    r.finished_at
        .unwrap_or_else(|| r.started_at + Duration::seconds(r.duration_seconds.unwrap_or(0).max(0)))
}

/// The index of the report's trend bucket holding `r` (by its start day in
/// the report's time zone).
fn bucket_of(
    buckets: &[TrendBucket],
    starts: &[NaiveDate],
    options: &Options,
    r: &Record,
) -> Option<usize> {
    let day = options.tz.local(r.started_at).date_naive();
    let i = starts.partition_point(|s| *s <= day);
    (i > 0 && i <= buckets.len()).then(|| i - 1)
}

/// Everything the dashboard shows, for `inputs` (already filtered).
pub fn dashboard(
    inputs: &[RecordInput],
    history: &History,
    options: &Options,
    title: String,
    scope: String,
) -> Dashboard {
    let report = analytics::compute(inputs, history, options);
    let buckets = &report.trends.buckets;
    let starts: Vec<NaiveDate> = buckets
        .iter()
        .map(|b| NaiveDate::parse_from_str(&b.start, "%Y-%m-%d").unwrap_or(NaiveDate::MIN))
        .collect();
    let picked: Vec<&RecordInput> = inputs
        .iter()
        .filter(|r| analytics::selected(&r.record, options))
        .collect();

    let mut by_status = vec![[0usize; 5]; buckets.len()];
    for r in &picked {
        if let Some(i) = bucket_of(buckets, &starts, options, &r.record) {
            let s = Status::ALL
                .iter()
                .position(|s| *s == r.record.status)
                .expect("every status is in ALL");
            by_status[i][s] += 1;
        }
    }
    let periods = buckets
        .iter()
        .zip(&by_status)
        .map(|(b, counts)| PeriodStack {
            label: b.label.clone(),
            counts: Status::ALL
                .iter()
                .copied()
                .zip(counts.iter().copied())
                .collect(),
        })
        .collect();

    let dora_env = options.dora_environments.first().cloned();
    let lead_time_trend = match &dora_env {
        Some(env) => lead_time_per_bucket(inputs, history, options, env, buckets, &starts),
        None => Vec::new(),
    };

    let mut durations: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in &picked {
        for p in &r.record.phases {
            let d = p
                .duration_seconds
                .or_else(|| p.finished_at.map(|f| (f - p.started_at).num_seconds()));
            if let Some(d) = d.filter(|d| *d >= 0) {
                durations.entry(p.name.clone()).or_default().push(d as f64);
            }
        }
    }
    // In the report's order: the configured phases first.
    let phases = report
        .durations
        .phases
        .iter()
        .filter_map(|(name, spread)| {
            Some(PhaseSpread {
                median_seconds: spread.median_seconds,
                p90_seconds: spread.p90_seconds,
                durations: durations.remove(name)?,
                name: name.clone(),
            })
        })
        .collect();

    let mut tiles = vec![
        Tile {
            label: "Deployments".into(),
            value: report.summary.total.to_string(),
            note: match (&report.summary.first, &report.summary.last) {
                (Some(f), Some(l)) => {
                    format!("{} → {}", &f[..f.len().min(10)], &l[..l.len().min(10)])
                }
                _ => String::new(),
            },
        },
        Tile {
            label: "Success rate".into(),
            value: report
                .summary
                .success_rate
                .map(percent)
                .unwrap_or_else(|| "–".into()),
            note: "success / (success + failed + rolled back)".into(),
        },
    ];
    for (env, d) in &report.dora {
        let tier = |t: Option<analytics::Tier>| {
            t.map(|t| format!("{} · {env}", t.as_str()))
                .unwrap_or_else(|| env.clone())
        };
        tiles.push(Tile {
            label: "Deploys per day".into(),
            value: d
                .deployment_frequency
                .per_day
                .map(|v| format!("{v:.2}"))
                .unwrap_or_else(|| "–".into()),
            note: tier(d.deployment_frequency.tier),
        });
        tiles.push(Tile {
            label: "Lead time (median)".into(),
            value: d
                .lead_time
                .median_seconds
                .map(human_duration)
                .unwrap_or_else(|| "–".into()),
            note: tier(d.lead_time.tier),
        });
        tiles.push(Tile {
            label: "Change failure rate".into(),
            value: d
                .change_failure_rate
                .value
                .map(percent)
                .unwrap_or_else(|| "–".into()),
            note: tier(d.change_failure_rate.tier),
        });
        tiles.push(Tile {
            label: "Recovery (median)".into(),
            value: d
                .recovery_time
                .median_seconds
                .map(human_duration)
                .unwrap_or_else(|| "–".into()),
            note: tier(d.recovery_time.tier),
        });
    }

    let mut failed: Vec<&Record> = picked
        .iter()
        .map(|r| &*r.record)
        .filter(|r| matches!(r.status, Status::Failed | Status::RolledBack))
        .collect();
    failed.sort_by_key(|r| std::cmp::Reverse((end_time(r), r.id.clone())));
    let failures = failed
        .into_iter()
        .take(10)
        .map(|r| FailureRow {
            id: r.id.clone(),
            service: r.service.clone(),
            environment: r.environment.clone(),
            status: r.status.to_string(),
            finished_at: crate::record::format_time(end_time(r).with_timezone(&chrono::Utc)),
            reason: r
                .failure_reason
                .clone()
                .or_else(|| r.rollback.as_ref().and_then(|b| b.reason.clone()))
                .unwrap_or_default(),
        })
        .collect();
    Dashboard {
        failures,
        title,
        generated_at: report.generated_at.clone(),
        scope,
        tiles,
        periods,
        success_trend: buckets
            .iter()
            .map(|b| (b.label.clone(), b.success_rate))
            .collect(),
        heatmap: report
            .heatmap
            .iter()
            .map(|r| (r.day.clone(), r.hours.clone()))
            .collect(),
        heatmap_tz: options.tz.to_string(),
        phases,
        lead_time_trend,
        lead_time_note: match dora_env {
            Some(env) => {
                format!("{env}: commit author time to deployment finish; DORA rule of `analytics`")
            }
            None => String::new(),
        },
        operators: report
            .operators
            .iter()
            .map(|o| OperatorRow {
                operator: o.operator.clone(),
                count: o.count,
                success_rate: o.success_rate,
                median_duration_seconds: o.median_duration_seconds,
                rollbacks: o.rollbacks,
            })
            .collect(),
    }
}

/// The report's median lead time of the successful deployments of `env` in
/// each bucket.
fn lead_time_per_bucket(
    inputs: &[RecordInput],
    history: &History,
    options: &Options,
    env: &str,
    buckets: &[TrendBucket],
    starts: &[NaiveDate],
) -> Vec<(String, Option<f64>)> {
    let mut successes: Vec<&RecordInput> = inputs
        .iter()
        .filter(|r| r.record.environment == env && r.record.status == Status::Success)
        .filter(|r| !options.committed_only || r.committed)
        .collect();
    successes.sort_by_key(|r| (end_time(&r.record), r.record.id.clone()));
    let mut per_bucket: Vec<Vec<&RecordInput>> = vec![Vec::new(); buckets.len()];
    for r in &successes {
        if analytics::selected(&r.record, options) {
            if let Some(i) = bucket_of(buckets, starts, options, &r.record) {
                per_bucket[i].push(r);
            }
        }
    }
    let mut sub = options.clone();
    sub.since = None;
    sub.until = None;
    sub.dora_environments = vec![env.to_string()];
    buckets
        .iter()
        .zip(per_bucket)
        .map(|(b, these)| {
            if these.is_empty() {
                return (b.label.clone(), None);
            }
            let mut subset: Vec<RecordInput> = these.iter().map(|r| (*r).clone()).collect();
            // Each service's baseline: its last success ending before the
            // first of this bucket's, not a rollback record (the report
            // takes none as a baseline).
            let mut first_end: BTreeMap<&str, DateTime<FixedOffset>> = BTreeMap::new();
            for r in &these {
                let e = end_time(&r.record);
                first_end
                    .entry(r.record.service.as_str())
                    .and_modify(|v| *v = (*v).min(e))
                    .or_insert(e);
            }
            for (service, first) in first_end {
                if let Some(base) = successes.iter().rfind(|r| {
                    r.record.service == service
                        && end_time(&r.record) < first
                        && !analytics::is_rollback(&r.record)
                }) {
                    subset.push((*base).clone());
                }
            }
            let report = analytics::compute(&subset, history, &sub);
            let median = report
                .dora
                .get(env)
                .and_then(|d| d.lead_time.median_seconds);
            (b.label.clone(), median)
        })
        .collect()
}
