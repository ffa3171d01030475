//! One file per subcommand: an `Args` struct and a `run` function. This is
//! the only `match` over commands.

use clap::Subcommand;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::ledger::Selector;

pub mod analytics;
pub mod check;
pub mod completions;
pub mod export;
pub mod finish;
pub mod hooks;
pub mod import;
pub mod init;
pub mod list;
pub mod outputs;
pub mod phase;
pub mod record;
pub mod rollback;
pub mod show;
pub mod start;
pub mod status;
pub mod validate;
pub mod visualize;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write deployments/ledger.toml, the templates and task snippets
    Init(init::Args),
    /// Start a deployment: create its record and open the first phase
    Start(start::Args),
    /// Close the open phase and open another
    Phase(phase::Args),
    /// Tick a checklist item (by number or text)
    Check(check::Args),
    /// Finish the deployment: success (default), failed or cancelled
    Finish(finish::Args),
    /// Record a rollback of a deployment
    Rollback(rollback::Args),
    /// Write a complete record after the fact (backfills, CI)
    Record(record::Args),
    /// Import past deployments from a JSON or CSV file
    Import(import::Args),
    /// List deployments, newest first, with filters
    List(list::Args),
    /// Show one record
    Show(show::Args),
    /// Deployments in progress, and how long each has been open
    Status(status::Args),
    /// Check every record; one line per problem, exit 1 if any
    Validate(validate::Args),
    /// Success rates, peak hours, operators, trends and DORA metrics
    Analytics(analytics::Args),
    /// Export records as json, ndjson, csv, sqlite, prometheus, org or sexp
    Export(export::Args),
    /// Charts: mermaid gantt, DOT dependency graph, HTML dashboard
    Visualize(visualize::Args),
    /// Install or remove the git hooks
    Hooks(hooks::Args),
    /// Print shell completions
    Completions(completions::Args),
}

pub fn run(cli: Cli) -> Result<()> {
    if let Some(dir) = &cli.dir {
        std::env::set_current_dir(dir).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "does not exist".to_string(),
                std::io::ErrorKind::NotADirectory => "is not a directory".to_string(),
                _ => format!("cannot be entered ({e})"),
            };
            Error::user_hint(
                format!("-C {}: {why}", dir.display()),
                "give -C the folder of a git repository (or a folder inside one)",
            )
        })?;
    }
    match cli.command {
        Command::Init(a) => init::run(a),
        Command::Start(a) => start::run(a),
        Command::Phase(a) => phase::run(a),
        Command::Check(a) => check::run(a),
        Command::Finish(a) => finish::run(a),
        Command::Rollback(a) => rollback::run(a),
        Command::Record(a) => record::run(a),
        Command::Import(a) => import::run(a),
        Command::List(a) => list::run(a),
        Command::Show(a) => show::run(a),
        Command::Status(a) => status::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Analytics(a) => analytics::run(a),
        Command::Export(a) => export::run(a),
        Command::Visualize(a) => visualize::run(a),
        Command::Hooks(a) => hooks::run(a),
        Command::Completions(a) => completions::run(a),
    }
}

/// Which deployment a command acts on (SPEC §3).
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// The record id (default: see "which deployment" in the README)
    #[arg(long)]
    pub id: Option<String>,
    /// The in-progress deployment of this service
    #[arg(long)]
    pub service: Option<String>,
    /// The in-progress deployment in this environment
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
}

impl TargetArgs {
    pub fn selector(&self) -> Selector {
        Selector {
            id: self.id.clone(),
            service: self.service.clone(),
            environment: self.environment.clone(),
        }
    }
}

/// Change-management flags of `start` and `record` (ITIL).
#[derive(Debug, Clone, clap::Args)]
pub struct ChangeArgs {
    /// Change request id (ITIL)
    #[arg(long)]
    pub change_id: Option<String>,
    /// Change type: standard, normal, emergency
    #[arg(long)]
    pub change_type: Option<String>,
    /// Change risk: low, medium, high
    #[arg(long)]
    pub risk: Option<String>,
}

/// `--label` and `--note`, of every command that writes a new record.
#[derive(Debug, Clone, clap::Args)]
pub struct NoteArgs {
    /// A label, key=value (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A note for the record's Notes section
    #[arg(long)]
    pub note: Option<String>,
}

impl NoteArgs {
    /// The labels as (key, value), checked.
    pub fn labels(&self) -> Result<Vec<(String, String)>> {
        self.labels
            .iter()
            .map(|l| crate::deploy::parse_label(l))
            .collect()
    }
}

/// `--commit`: commit the record file alone after writing it.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct CommitArg {
    /// Commit the record file alone (other staged changes stay staged)
    #[arg(long)]
    pub commit: bool,
}

/// Opens the ledger of the current folder, applying `--commit`.
pub fn open_ledger(commit: CommitArg) -> Result<crate::ledger::Ledger> {
    let mut ledger = crate::ledger::Ledger::open_cwd()?;
    ledger.config.commit |= commit.commit;
    Ok(ledger)
}

/// Prints what a write did: warnings on stderr, the path and id on stdout.
pub fn report_written(written: &crate::deploy::Written, verb: &str) -> Result<()> {
    warn_written(written);
    let mut line = format!("{verb} {} ({})", written.id, written.path.display());
    if let Some(c) = &written.commit {
        line.push_str(&format!(" in commit {}", &c[..c.len().min(12)]));
    }
    crate::output::println(&line)
}

/// `--json` of a command that writes a record: warnings on stderr, and on
/// stdout one object, the record as written (the keys of `show --json`,
/// `path` included), `commit` (the commit `--commit` made, else null), and
/// the command's own keys from `extra` (documented in the README).
pub fn report_written_json(
    written: &crate::deploy::Written,
    extra: serde_json::Value,
) -> Result<()> {
    warn_written(written);
    let value = written_json(
        &written.record,
        &written.path,
        written.commit.as_deref(),
        extra,
    )?;
    crate::output::json(&value)
}

/// The object of [`report_written_json`]: `show --json`'s, `commit`, then
/// the keys of `extra` (an object).
pub fn written_json(
    record: &crate::record::Record,
    path: &std::path::Path,
    commit: Option<&str>,
    extra: serde_json::Value,
) -> Result<serde_json::Value> {
    let mut value = list::fields_json(record, path)?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("commit".into(), commit.into());
        if let serde_json::Value::Object(extra) = extra {
            map.extend(extra);
        }
    }
    Ok(value)
}

fn warn_written(written: &crate::deploy::Written) {
    for w in &written.warnings {
        crate::output::warn(w);
    }
}
