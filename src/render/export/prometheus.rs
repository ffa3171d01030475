//! Prometheus text exposition format (0.0.4), via the `prometheus` crate's
//! registry and text encoder (which writes HELP/TYPE lines and escapes label
//! values). Suits node_exporter's textfile collector: no timestamps, and
//! `--output` writes atomically (temp file and rename), as it requires.

use prometheus::{GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::record::{Record, Status};

/// Upper bounds of the duration histogram, in seconds (1 min … 4 h).
pub const DURATION_BUCKETS: &[f64] = &[
    60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0,
];

/// The DORA figures of one environment, as the analytics report gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DoraFigures {
    pub environment: String,
    pub deployments_per_day: Option<f64>,
    pub deploy_days_per_week_median: Option<f64>,
    pub lead_time_median_seconds: Option<f64>,
    pub lead_time_p90_seconds: Option<f64>,
    pub change_failure_rate: Option<f64>,
    pub recovery_time_median_seconds: Option<f64>,
    /// (metric, tier): e.g. ("lead_time", "elite").
    pub tiers: Vec<(String, String)>,
}

fn metric_error(e: prometheus::Error) -> Error {
    Error::user(format!("building the Prometheus metrics: {e}"))
}

/// The metrics text for `records` and the DORA figures of each environment.
pub fn render(records: &[Record], dora: &[DoraFigures]) -> Result<String> {
    let registry = Registry::new();
    let register =
        |c: Box<dyn prometheus::core::Collector>| registry.register(c).map_err(metric_error);

    let total = IntCounterVec::new(
        Opts::new(
            "deploy_ledger_deployments_total",
            "Deployments in the ledger, by service, environment and status.",
        ),
        &["service", "environment", "status"],
    )
    .map_err(metric_error)?;
    let in_progress = GaugeVec::new(
        Opts::new(
            "deploy_ledger_deployments_in_progress",
            "Deployments currently in progress.",
        ),
        &["service", "environment"],
    )
    .map_err(metric_error)?;
    let last_success = GaugeVec::new(
        Opts::new(
            "deploy_ledger_last_success_timestamp_seconds",
            "Unix time at which the last successful deployment finished.",
        ),
        &["service", "environment"],
    )
    .map_err(metric_error)?;
    let duration = HistogramVec::new(
        HistogramOpts::new(
            "deploy_ledger_deployment_duration_seconds",
            "Duration of finished deployments, in seconds.",
        )
        .buckets(DURATION_BUCKETS.to_vec()),
        &["service", "environment"],
    )
    .map_err(metric_error)?;

    // Every status of every (service, environment) pair, zeros included, so
    // that a first failure is a change of value, not a new series.
    let pairs: BTreeSet<(&str, &str)> = records
        .iter()
        .map(|r| (r.service.as_str(), r.environment.as_str()))
        .collect();
    for (service, environment) in &pairs {
        for status in Status::ALL {
            total.with_label_values(&[service, environment, status.as_str()]);
        }
        in_progress.with_label_values(&[service, environment]);
    }
    for r in records {
        let labels = [r.service.as_str(), r.environment.as_str()];
        total
            .with_label_values(&[labels[0], labels[1], r.status.as_str()])
            .inc();
        if r.status == Status::InProgress {
            in_progress.with_label_values(&labels).inc();
        }
        if r.status.is_final() {
            if let Some(d) = r.duration().filter(|d| *d >= 0) {
                duration.with_label_values(&labels).observe(d as f64);
            }
        }
        if r.status == Status::Success {
            if let Some(f) = r.finished_at {
                let g = last_success.with_label_values(&labels);
                g.set(g.get().max(f.timestamp() as f64));
            }
        }
    }
    register(Box::new(total))?;
    register(Box::new(in_progress))?;
    register(Box::new(last_success))?;
    register(Box::new(duration))?;
    register_dora(&registry, dora)?;

    prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .map_err(metric_error)
}

fn register_dora(registry: &Registry, dora: &[DoraFigures]) -> Result<()> {
    if dora.is_empty() {
        return Ok(());
    }
    type Pick = fn(&DoraFigures) -> Option<f64>;
    let gauges: [(&str, &str, Pick); 6] = [
        (
            "deploy_ledger_dora_deployments_per_day",
            "DORA deployment frequency: deployments per day.",
            |d| d.deployments_per_day,
        ),
        (
            "deploy_ledger_dora_weekly_deploy_day_count_median",
            "DORA deployment frequency: median number of days with a deployment, per week.",
            |d| d.deploy_days_per_week_median,
        ),
        (
            "deploy_ledger_dora_lead_time_median_seconds",
            "DORA lead time for changes, median, in seconds.",
            |d| d.lead_time_median_seconds,
        ),
        (
            "deploy_ledger_dora_lead_time_p90_seconds",
            "DORA lead time for changes, 90th percentile, in seconds.",
            |d| d.lead_time_p90_seconds,
        ),
        (
            "deploy_ledger_dora_change_failure_rate",
            "DORA change failure rate (0-1).",
            |d| d.change_failure_rate,
        ),
        (
            "deploy_ledger_dora_recovery_time_median_seconds",
            "DORA failed deployment recovery time, median, in seconds.",
            |d| d.recovery_time_median_seconds,
        ),
    ];
    for (name, help, pick) in gauges {
        let g = GaugeVec::new(Opts::new(name, help), &["environment"]).map_err(metric_error)?;
        let mut any = false;
        for d in dora {
            if let Some(v) = pick(d).filter(|v| v.is_finite()) {
                g.with_label_values(&[d.environment.as_str()]).set(v);
                any = true;
            }
        }
        if any {
            registry.register(Box::new(g)).map_err(metric_error)?;
        }
    }
    let tier = GaugeVec::new(
        Opts::new(
            "deploy_ledger_dora_tier",
            "DORA 2023 performance tier of each metric (1 for the tier reached).",
        ),
        &["environment", "metric", "tier"],
    )
    .map_err(metric_error)?;
    let mut any = false;
    for d in dora {
        for (metric, t) in &d.tiers {
            tier.with_label_values(&[d.environment.as_str(), metric, t])
                .set(1.0);
            any = true;
        }
    }
    if any {
        registry.register(Box::new(tier)).map_err(metric_error)?;
    }
    Ok(())
}
