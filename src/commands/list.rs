//! `deploy-ledger list`: deployments, newest first, with filters.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ledger::{Ledger, Loaded};
use crate::output;
use crate::record::{check_filter_slug, Record, Status};
use crate::render::{regions::human_duration, table};

const EXAMPLES: &str = "\
Examples:
  deploy-ledger list
  deploy-ledger list --env production --status failed --since 2025-01-01
  deploy-ledger list --service api-gateway --limit 5
  deploy-ledger list --json | jq '.[0].id'

--since and --until take a date (YYYY-MM-DD, UTC, --until includes that day)
or an RFC 3339 time (an instant, which --until excludes), and compare with
each deployment's start. A --service or --env that is not a slug could
never match a record: it is an error (exit 1), not an empty list.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Show at most N deployments (the newest)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print the records' fields as JSON
    #[arg(long)]
    pub json: bool,
}

/// The filters of SPEC §3.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Only this service
    #[arg(long)]
    pub service: Option<String>,
    /// Only this environment
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Only this status (in-progress, success, failed, cancelled, rolled-back)
    #[arg(long)]
    pub status: Option<String>,
    /// Only this strategy
    #[arg(long)]
    pub strategy: Option<String>,
    /// Only this operator
    #[arg(long)]
    pub operator: Option<String>,
    /// Started at or after this date or time
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Started before the end of this date, or at or before this time
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

/// Filters checked and parsed, before any record is read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub service: Option<String>,
    pub environment: Option<String>,
    pub status: Option<Status>,
    pub strategy: Option<String>,
    pub operator: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Exclusive upper bound.
    pub until: Option<DateTime<Utc>>,
}

impl FilterArgs {
    pub fn parse(&self) -> Result<Filter> {
        // A name that can never match a record is a typo, as in `analytics`.
        if let Some(s) = &self.service {
            check_filter_slug("service", "service", s)?;
        }
        if let Some(e) = &self.environment {
            check_filter_slug("env", "environment", e)?;
        }
        Ok(Filter {
            service: self.service.clone(),
            environment: self.environment.clone(),
            status: self.status.as_deref().map(str::parse).transpose()?,
            strategy: self.strategy.clone(),
            operator: self.operator.clone(),
            since: self.since.as_deref().map(|s| bound(s, false)).transpose()?,
            until: self.until.as_deref().map(|s| bound(s, true)).transpose()?,
        })
    }
}

impl Filter {
    pub fn matches(&self, r: &Record) -> bool {
        let started = r.started_at.with_timezone(&Utc);
        self.service.as_ref().is_none_or(|v| *v == r.service)
            && self
                .environment
                .as_ref()
                .is_none_or(|v| *v == r.environment)
            && self.status.is_none_or(|v| v == r.status)
            && self
                .strategy
                .as_ref()
                .is_none_or(|v| Some(v) == r.strategy.as_ref())
            && self
                .operator
                .as_ref()
                .is_none_or(|v| Some(v) == r.operator.as_ref())
            && self.since.is_none_or(|t| started >= t)
            && self.until.is_none_or(|t| started < t)
    }
}

/// A date (`2025-01-31`, midnight UTC; as an upper bound, the next midnight)
/// or an RFC 3339 time (as an upper bound, excluded: as in `analytics`).
pub fn bound(text: &str, upper: bool) -> Result<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        let day = if upper {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    // A time is an instant; as an upper bound it is excluded, as in
    // `analytics` (a date as an upper bound includes that day).
    crate::record::parse_time(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::user_hint(
                format!("`{text}` is not a date or an RFC 3339 time"),
                "e.g. 2025-01-31 or 2025-01-31T18:00:00Z",
            )
        })
}

/// Loads every record (warning about broken ones), newest first.
pub fn load_sorted(ledger: &Ledger) -> Vec<Loaded> {
    let (mut records, broken) = ledger.load_all();
    for e in &broken {
        output::warn(&format!("skipped a broken record {e}"));
    }
    records.sort_by(|a, b| {
        b.record
            .started_at
            .cmp(&a.record.started_at)
            .then_with(|| b.record.id.cmp(&a.record.id))
    });
    records
}

/// A record's typed fields as JSON, with its path.
pub fn record_json(loaded: &Loaded) -> Result<Value> {
    fields_json(&loaded.record, &loaded.path)
}

/// The typed fields of `record` as JSON, with `path` (relative to the
/// repository root, `/` separators): the object of `show --json`.
pub fn fields_json(record: &Record, path: &std::path::Path) -> Result<Value> {
    let mut value = serde_json::to_value(record)?;
    if let Value::Object(map) = &mut value {
        map.insert("path".into(), Value::from(path_json(path)));
    }
    Ok(value)
}

/// A path as JSON text: `/` separators on every platform.
pub fn path_json(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// `2025-01-15 14:30` in UTC.
pub fn short_time(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).format("%Y-%m-%d %H:%M").to_string()
}

pub fn run(args: Args) -> Result<()> {
    let filter = args.filter.parse()?;
    let ledger = Ledger::open_cwd()?;
    let all = load_sorted(&ledger);
    let total = all.len();
    let mut records: Vec<Loaded> = all
        .into_iter()
        .filter(|l| filter.matches(&l.record))
        .collect();
    if let Some(n) = args.limit {
        records.truncate(n);
    }
    if args.json {
        let values = records
            .iter()
            .map(record_json)
            .collect::<Result<Vec<_>>>()?;
        return output::json(&values);
    }
    if records.is_empty() {
        if total == 0 && ledger.record_files().is_empty() {
            eprintln!(
                "no deployments yet: `deploy-ledger start --service NAME --env ENV` records one"
            );
        } else if total == 0 {
            eprintln!("no deployment could be read (see the warnings above)");
        } else {
            eprintln!("no deployments match (of {total})");
        }
        return Ok(());
    }
    let dash = || "-".to_string();
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|l| {
            let r = &l.record;
            vec![
                short_time(r.started_at),
                r.status.to_string(),
                r.service.clone(),
                r.environment.clone(),
                r.version.clone().unwrap_or_else(dash),
                r.strategy.clone().unwrap_or_else(dash),
                r.operator.clone().unwrap_or_else(dash),
                r.duration().map(human_duration).unwrap_or_else(dash),
                r.id.clone(),
            ]
        })
        .collect();
    output::print(&table::render(
        &[
            "STARTED (UTC)",
            "STATUS",
            "SERVICE",
            "ENV",
            "VERSION",
            "STRATEGY",
            "OPERATOR",
            "DURATION",
            "ID",
        ],
        &rows,
    ))
}
