//! `deploy-ledger analytics`: the report of SPEC §5.

use chrono::{DateTime, NaiveDate, Utc};

use crate::analytics::memo::Memo;
use crate::analytics::{self, LoadOptions, Options, Period, ReportTz, SECTIONS};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::git::Repo;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger analytics                                  # dashboard of the whole ledger
  deploy-ledger analytics --env production --since 2025-01-01 --tz Europe/Paris
  deploy-ledger analytics --section trends                 # what `mise run deployment-trends` runs
  deploy-ledger analytics --section trends --period month  # the same by month
  deploy-ledger analytics --section dora --format json | jq '.dora.production.lead_time'
  deploy-ledger analytics --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  deploy-ledger analytics --format html --env production > dashboard.html
  deploy-ledger analytics --rev origin/main --committed-only

Records are read from git at --rev (default HEAD), plus the work tree's
uncommitted records (flagged) unless --committed-only. DORA covers the
environments of --dora-env, else those of --env, else production.
Sections: summary, peak_hours, busiest_days, heatmap, operators, environments,
services, strategies, durations, trends, dora, audit, recommendations, warnings.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// the self-contained dashboard of `visualize --format html`
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    Week,
    Month,
}

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Only deployments started on or after this date (YYYY-MM-DD, in --tz) or time (RFC 3339)
    #[arg(long)]
    pub since: Option<String>,
    /// Only deployments started on or before this date (inclusive) or before this time
    #[arg(long)]
    pub until: Option<String>,
    /// Only this environment (repeatable)
    #[arg(long = "env", value_name = "ENV")]
    pub environments: Vec<String>,
    /// Only this service (repeatable)
    #[arg(long = "service", value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Only this operator (repeatable)
    #[arg(long = "operator", value_name = "NAME")]
    pub operators: Vec<String>,
    /// Environments of the DORA section (repeatable; default: --env, else production)
    #[arg(long = "dora-env", value_name = "ENV")]
    pub dora_environments: Vec<String>,
    /// Time zone of hours, days and periods: UTC, an offset (+02:00) or an IANA name
    // An offset west of UTC starts with `-` (`--tz -05:30`): not a flag.
    #[arg(long, default_value = "UTC", allow_hyphen_values = true)]
    pub tz: String,
    /// The revision whose records are read
    #[arg(long, default_value = "HEAD")]
    pub rev: String,
    /// Leave out records of the work tree that are not committed
    #[arg(long)]
    pub committed_only: bool,
    /// Trend buckets
    #[arg(long, value_enum, default_value = "week")]
    pub period: PeriodArg,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Print only this section (repeatable)
    #[arg(long = "section", value_name = "NAME",
          value_parser = clap::builder::PossibleValuesParser::new(SECTIONS))]
    pub sections: Vec<String>,
}

/// A date is a whole day in `tz`; a time is an instant. `end` makes a date
/// inclusive (its end, i.e. the next midnight).
fn parse_bound(flag: &str, text: &str, tz: &ReportTz, end: bool) -> Result<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        let day = if end {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        return Ok(tz.start_of(day));
    }
    crate::record::parse_time(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::user_hint(
                format!("--{flag} `{text}` is neither a date nor an RFC 3339 time"),
                format!("e.g. --{flag} 2025-01-15 or --{flag} 2025-01-15T14:30:00Z"),
            )
        })
}

pub fn run(args: Args) -> Result<()> {
    // Validate everything before reading anything.
    if args.format == Format::Html && !args.sections.is_empty() {
        return Err(Error::usage(
            "--section does not apply to --format html: the dashboard is one page",
            "leave out --section, or use --format text, json or markdown",
        ));
    }
    // A name that can never match a record is a typo, not an empty report.
    for (flag, what, names) in [
        ("env", "environment", &args.environments),
        ("dora-env", "environment", &args.dora_environments),
        ("service", "service", &args.services),
    ] {
        for name in names {
            crate::record::check_filter_slug(flag, what, name)?;
        }
    }
    let tz: ReportTz = args.tz.parse()?;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_bound("since", s, &tz, false))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| parse_bound("until", s, &tz, true))
        .transpose()?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Err(Error::user_hint(
                format!(
                    "--since {} is not before --until {}",
                    args.since.as_deref().unwrap_or_default(),
                    args.until.as_deref().unwrap_or_default()
                ),
                "swap them, or leave one out",
            ));
        }
    }
    let now = crate::capture::clock::now()?;
    let repo = Repo::from_env()?;
    let config = load_config(&repo, &args.rev)?;
    if config.strict_environments {
        let known = config.environment_names();
        let unknown = [
            ("env", &args.environments),
            ("dora-env", &args.dora_environments),
        ]
        .into_iter()
        .flat_map(|(flag, names)| names.iter().map(move |n| (flag, n)))
        .find(|(_, n)| !known.contains(&n.as_str()));
        if let Some((flag, env)) = unknown {
            return Err(Error::user_hint(
                format!(
                    "--{flag} `{env}` is not in the configuration ({}), and strict_environments is set",
                    known.join(", ")
                ),
                "use one of the configured environments",
            ));
        }
    }
    let mut options = Options::new(now);
    options.tz = tz;
    options.period = match args.period {
        PeriodArg::Week => Period::Week,
        PeriodArg::Month => Period::Month,
    };
    options.since = since;
    options.until = until;
    options.dora_environments = if !args.dora_environments.is_empty() {
        args.dora_environments.clone()
    } else if !args.environments.is_empty() {
        args.environments.clone()
    } else {
        vec!["production".into()]
    };
    options.dora_environments_named = !args.dora_environments.is_empty();
    options.environments = args.environments;
    options.services = args.services;
    options.operators = args.operators;
    options.service_paths = config
        .services
        .iter()
        .map(|(k, v)| (k.clone(), v.paths.clone()))
        .collect();
    options.stale_after_hours = config.stale_after_hours;
    options.phases = config.phases.clone();
    options.rev = analytics::resolve_rev(&repo, &args.rev)?;
    options.committed_only = args.committed_only;
    let load_options = LoadOptions {
        rev: args.rev.clone(),
        committed_only: args.committed_only,
        service_paths: config.service_path_prefixes(),
    };
    if args.format == Format::Html {
        // The dashboard needs the records themselves, not only the report:
        // no memo.
        let loaded = load_with_progress(&repo, &load_options)?;
        for w in &loaded.warnings {
            crate::output::warn(w);
        }
        let scope = crate::render::dashboard::scope(
            &[
                ("service", options.services.join(", ")),
                ("environment", options.environments.join(", ")),
                ("operator", options.operators.join(", ")),
                ("since", args.since.clone().unwrap_or_default()),
                ("until", args.until.clone().unwrap_or_default()),
            ],
            &options.tz,
        );
        let dashboard = crate::render::dashboard::dashboard(
            &loaded.records,
            &loaded.history,
            &options,
            "Deployments".into(),
            scope,
        );
        return crate::output::print(&crate::render::html::render(&dashboard)?);
    }
    let memo = options.rev.as_deref().map(|rev| {
        let work_tree = repo
            .workdir()
            .ok()
            .filter(|_| !args.committed_only && analytics::work_tree_joins(&repo, rev));
        Memo::new(&repo, rev, &options, work_tree)
    });
    let memorised = memo
        .as_ref()
        .and_then(|m| m.get(&repo, now, config.stale_after_hours));
    if std::env::var_os("DEPLOY_LEDGER_TIMINGS").is_some() {
        let used = if memorised.is_some() { "hit" } else { "miss" };
        eprintln!("timing: report memo: {used}");
    }
    let report = match memorised {
        Some(report) => report,
        None => {
            let mut loaded = load_with_progress(&repo, &load_options)?;
            // Nothing below reads an object: the pack mappings go before the
            // report is computed (the peak of a large history's run).
            repo.release_objects()?;
            let started = std::time::Instant::now();
            // The memo's stamp of the work tree on the other core.
            let (mut report, _) = rayon::join(
                || analytics::compute(&loaded.records, &loaded.history, &options),
                || memo.as_ref().map(Memo::stamp),
            );
            if std::env::var_os("DEPLOY_LEDGER_TIMINGS").is_some() {
                eprintln!(
                    "timing: report: {:.3} s ({})",
                    started.elapsed().as_secs_f64(),
                    analytics::memory()
                );
            }
            let mut warnings = std::mem::take(&mut loaded.warnings);
            warnings.append(&mut report.warnings);
            report.warnings = warnings;
            if let Some(memo) = &memo {
                memo.put(
                    &report,
                    analytics::open_records(&loaded.records, &options),
                    &loaded.history.missing_commits,
                );
            }
            // Freeing every record and the commit graph is not waited for.
            crate::git::history::drop_aside(loaded);
            report
        }
    };
    for w in &report.warnings {
        crate::output::warn(w);
    }
    let sections: Vec<&str> = if args.sections.is_empty() {
        SECTIONS.to_vec()
    } else {
        args.sections.iter().map(String::as_str).collect()
    };
    match args.format {
        Format::Json => {
            crate::output::json(&crate::render::report_json::select(&report, &sections)?)
        }
        Format::Text => crate::output::print(&crate::render::report_text::render(
            &report,
            &sections,
            crate::output::color_stdout(),
        )),
        Format::Markdown => {
            crate::output::print(&crate::render::report_markdown::render(&report, &sections))
        }
        Format::Html => unreachable!("the dashboard is printed above"),
    }
}

/// Loads the ledger, with a spinner on a terminal when it takes a while.
fn load_with_progress(repo: &Repo, options: &LoadOptions) -> Result<analytics::Loaded> {
    let progress = crate::render::report_text::Progress::new();
    progress.set("reading the ledger from git");
    let loaded = analytics::load(repo, options);
    progress.finish();
    loaded
}

/// The configuration of the work tree; in a bare repository, the
/// `deployments/ledger.toml` committed at `rev` (service paths matter for
/// lead time).
fn load_config(repo: &Repo, rev: &str) -> Result<Config> {
    if let Ok(root) = repo.workdir() {
        return Config::load(Some(root));
    }
    let committed = match repo.resolve_commit(rev) {
        Ok(commit) => repo.file_at(&commit, crate::config::CONFIG_FILE)?,
        Err(_) => None,
    };
    let Some(bytes) = committed else {
        return Config::load(None);
    };
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let file = dir.path().join(crate::config::CONFIG_FILE);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(&file, bytes).map_err(|e| Error::io(&file, e))?;
    Config::load(Some(dir.path()))
}
