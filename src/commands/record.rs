//! `deploy-ledger record`: write a complete record after the fact.

use crate::backfill::{self, Backfill, GitSource, Outcome};
use crate::commands::{
    open_ledger, report_written, report_written_json, written_json, ChangeArgs, CommitArg, NoteArgs,
};
use crate::deploy::StartParams;
use crate::error::Result;
use crate::record::Status;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger record --service api --env production --version 2.3.0 \\
      --started 2025-01-15T14:30:00Z --finished 2025-01-15T14:45:12Z --status success
  deploy-ledger record --service api --env staging --started 2025-01-15T09:00:00+01:00 \\
      --finished 2025-01-15T09:20:00+01:00 --status failed --reason \"migration timed out\" \\
      --phase planning=2025-01-15T09:00:00+01:00..2025-01-15T09:05:00+01:00 --sha v2.3.0
  deploy-ledger record --service api --env production --started 2025-01-16T10:00:00Z \\
      --finished 2025-01-16T10:05:00Z --status success --json | jq -r .path

Idempotent: the same deployment (service, environment and --started) recorded
twice writes nothing the second time; with other data it is refused (exit 3).
Never moves this clone's current-deployment pointer.

--json prints one object on stdout: the record (the fields of `show --json`:
id, path, status…), `commit` (the commit --commit made, else null) and
`written` (false when the same deployment was already recorded: the record
is then the one in the ledger). Warnings stay on stderr.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Service deployed (a slug: a-z, 0-9, `.`, `_`, `-`)
    #[arg(long, env = "DEPLOY_LEDGER_SERVICE")]
    pub service: String,
    /// Environment (default: CI's, else the branch rules, else development)
    #[arg(long = "env", value_name = "ENV", env = "DEPLOY_LEDGER_ENV")]
    pub environment: Option<String>,
    /// Version deployed
    #[arg(long, env = "DEPLOY_LEDGER_VERSION")]
    pub version: Option<String>,
    /// Strategy: rolling, blue-green, canary, big-bang, recreate, or one from config
    #[arg(long, env = "DEPLOY_LEDGER_STRATEGY")]
    pub strategy: Option<String>,
    /// Who deployed (default: CI actor, else git user.name, else login)
    #[arg(long, env = "DEPLOY_LEDGER_OPERATOR")]
    pub operator: Option<String>,
    /// When it started (RFC 3339 with an offset)
    #[arg(long, value_name = "TIME")]
    pub started: String,
    /// When it finished (RFC 3339 with an offset; not before --started)
    #[arg(long, value_name = "TIME")]
    pub finished: String,
    /// Outcome: success, failed, cancelled or rolled-back (also: failure, error, canceled)
    #[arg(long)]
    pub status: String,
    /// Why it failed, was cancelled or rolled back (one line; refused with
    /// --status success)
    #[arg(long)]
    pub reason: Option<String>,
    /// The deployed commit: a revision of this clone or a full sha (default: HEAD)
    #[arg(long = "sha", visible_alias = "commit-sha", value_name = "REV")]
    pub commit_sha: Option<String>,
    /// A phase with its times, NAME=START..END (repeatable; optional)
    #[arg(long = "phase", value_name = "NAME=START..END")]
    pub phases: Vec<String>,
    /// The record id: DEP-<started>-<service>-<env> (the default), or it
    /// with -2, -3… (the default when taken); any other id is refused
    #[arg(long)]
    pub id: Option<String>,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub notes: NoteArgs,
    #[command(flatten)]
    pub commit: CommitArg,
    /// Print the record as written as JSON, one object (keys in the README)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    // Check every argument before touching the repository.
    let labels = args.notes.labels()?;
    let phases = args
        .phases
        .iter()
        .map(|p| backfill::parse_phase(p))
        .collect::<Result<Vec<_>>>()?;
    let status: Status = args.status.parse()?;
    let started = backfill::parse_utc(&args.started, "--started")?;
    let finished = backfill::parse_utc(&args.finished, "--finished")?;
    let ledger = open_ledger(args.commit)?;
    let b = Backfill {
        start: StartParams {
            service: args.service,
            environment: args.environment,
            version: args.version,
            strategy: args.strategy,
            operator: args.operator,
            change_id: args.change.change_id,
            change_type: args.change.change_type,
            risk: args.change.risk,
            labels,
            note: args.notes.note,
            force: false,
        },
        id: args.id,
        started,
        finished,
        status,
        reason: args.reason,
        git: args.commit_sha.map(GitSource::Rev).unwrap_or_default(),
        phases,
        capture: true,
        extra: Vec::new(),
    };
    match backfill::record(&ledger, &b)? {
        Outcome::Written(w) if args.json => {
            report_written_json(&w, serde_json::json!({ "written": true }))
        }
        Outcome::Written(w) => report_written(&w, &format!("recorded ({status})")),
        Outcome::Present { path, .. } if args.json => {
            // The record as it is in the ledger (the same deployment).
            let present = ledger.load(&path)?;
            let extra = serde_json::json!({ "written": false });
            crate::output::json(&written_json(&present.record, &path, None, extra)?)
        }
        Outcome::Present { id, path, .. } => crate::output::println(&format!(
            "already recorded {id} ({}); nothing written",
            path.display()
        )),
    }
}
