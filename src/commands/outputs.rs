//! What `export` and `visualize` share: the record filters of `list`, the
//! `--output FILE [--force]` destination (atomic, never a partial file) and
//! the analytics input of the DORA figures and the dashboard.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

pub use crate::commands::list::{Filter as RecordFilter, FilterArgs};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::record::Record;

/// The records of the work tree that pass `filter`, oldest first (then by
/// id); broken records are skipped with a warning each.
pub fn selected_records(ledger: &Ledger, filter: &RecordFilter) -> Vec<Record> {
    let (loaded, broken) = ledger.load_all();
    for e in &broken {
        crate::output::warn(&format!(
            "skipped a broken record {e} (run `deploy-ledger validate`)"
        ));
    }
    let mut records: Vec<Record> = loaded
        .into_iter()
        .map(|l| l.record)
        .filter(|r| filter.matches(r))
        .collect();
    records.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    records
}

/// `--output FILE` and `--force`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Write to FILE instead of stdout (atomically: a temp file, then a rename)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists
    #[arg(long, requires = "output")]
    pub force: bool,
}

/// Checks that `path` can be written before any work is done: its folder
/// exists and is a folder, and it does not exist unless `force`.
pub fn check_destination(path: &Path, force: bool) -> Result<()> {
    let shown = path.display();
    if path.as_os_str().is_empty() || path.file_name().is_none() {
        return Err(Error::user_hint(
            format!("--output `{shown}` is not a file name"),
            "e.g. --output deployments.json",
        ));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::user_hint(
                format!("cannot write {shown}: {} is not a folder", parent.display()),
                "choose a path inside an existing folder",
            ))
        }
        Err(_) => {
            return Err(Error::user_hint(
                format!(
                    "cannot write {shown}: folder {} does not exist",
                    parent.display()
                ),
                format!(
                    "create it first (mkdir -p {}) or choose another path",
                    parent.display()
                ),
            ))
        }
    }
    if path.is_dir() {
        return Err(Error::user_hint(
            format!("cannot write {shown}: it is a folder"),
            "give a file name, e.g. --output deployments.json",
        ));
    }
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::user_hint(
            format!("{shown} already exists"),
            "pass --force to replace it, or choose another --output",
        ));
    }
    Ok(())
}

/// Writes `bytes` to `--output` (atomically) or to stdout.
pub fn emit(out: &OutputArgs, bytes: &[u8]) -> Result<()> {
    match &out.output {
        Some(path) => {
            check_destination(path, out.force)?;
            crate::ledger::write_atomic(path, bytes, !out.force).map_err(|e| with_hint(e, path))
        }
        None => crate::output::print(&String::from_utf8_lossy(bytes)),
    }
}

/// Adds a hint to an io error on the output path (the checks above catch most).
pub fn with_hint(e: Error, path: &Path) -> Error {
    match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            Error::user_hint(
                format!("{} already exists", path.display()),
                "pass --force to replace it, or choose another --output",
            )
        }
        Error::Io { path: p, source } => Error::user_hint(
            format!("cannot write {}: {source}", p.display()),
            "check the folder exists and is writable; nothing was written",
        ),
        other => other,
    }
}

/// What the analytics report is computed over, for the DORA gauges and the
/// dashboard: the records `analytics` reads (committed at HEAD plus the work
/// tree's uncommitted ones) that pass `filter`.
pub struct AnalyticsInput {
    pub records: Vec<crate::analytics::RecordInput>,
    pub history: crate::analytics::History,
    pub options: crate::analytics::Options,
}

/// Loads the analytics input. DORA covers `dora_envs`, else the filter's
/// environments, else production (as `analytics` does).
pub fn analytics_input(
    ledger: &Ledger,
    filter: &RecordFilter,
    dora_envs: &[String],
    tz: crate::analytics::ReportTz,
    now: DateTime<Utc>,
) -> Result<AnalyticsInput> {
    use crate::analytics::{self, LoadOptions, Options};
    let loaded = analytics::load(
        &ledger.repo,
        &LoadOptions {
            rev: "HEAD".into(),
            committed_only: false,
            service_paths: ledger.config.service_path_prefixes(),
        },
    )?;
    for w in &loaded.warnings {
        crate::output::warn(w);
    }
    let mut options = Options::new(now);
    options.tz = tz;
    options.dora_environments = if !dora_envs.is_empty() {
        dora_envs.to_vec()
    } else if let Some(env) = &filter.environment {
        vec![env.clone()]
    } else {
        vec!["production".into()]
    };
    options.service_paths = ledger
        .config
        .services
        .iter()
        .map(|(k, v)| (k.clone(), v.paths.clone()))
        .collect();
    options.stale_after_hours = ledger.config.stale_after_hours;
    options.phases = ledger.config.phases.clone();
    options.rev = loaded.rev.clone();
    Ok(AnalyticsInput {
        records: loaded
            .records
            .into_iter()
            .filter(|r| filter.matches(&r.record))
            .collect(),
        history: loaded.history,
        options,
    })
}

/// `--dora-env`: the environments of the DORA figures.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DoraArgs {
    /// Environments of the DORA figures (repeatable; default: --env, else production)
    #[arg(long = "dora-env", value_name = "ENV")]
    pub dora_environments: Vec<String>,
}
