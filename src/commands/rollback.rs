//! `deploy-ledger rollback`: record a rollback of a deployment.

use crate::backfill;
use crate::commands::{
    list::path_json, open_ledger, report_written, report_written_json, CommitArg, NoteArgs,
};
use crate::error::Result;
use crate::record::Status;
use crate::rollback::{self, RollbackParams};

const EXAMPLES: &str = "\
Examples:
  deploy-ledger rollback --of DEP-2025-01-15-14-30-api-production --to-version 2.2.1 \\
      --reason \"error rate doubled\"
  deploy-ledger rollback --service api --env production --reason \"p99 latency\" --commit
  deploy-ledger rollback --service api --env production --json | jq -r .rolled_back.id

Writes a new record (status success: the rollback is the deployment that
restored service; with `rollback: { of, from_version, to_version, reason }`)
and marks the rolled-back deployment `rolled-back` with `rolled_back_by`;
both files or neither. The rollback starts and finishes now
unless --started/--finished are given. Without --to-version, the version of
the success before the rolled-back one is used.

--json prints one object on stdout: the rollback record as written (the
fields of `show --json`: id, path, status, rollback {of, from_version,
to_version, reason}…), `commit` (the commit --commit made, else null) and
`rolled_back` (id, path, status: the deployment marked rolled-back).
Warnings stay on stderr.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The deployment rolled back (default: the last success of --service/--env)
    #[arg(long, value_name = "ID")]
    pub of: Option<String>,
    /// Service whose last success is rolled back (with --env)
    #[arg(long, env = "DEPLOY_LEDGER_SERVICE")]
    pub service: Option<String>,
    /// Environment whose last success is rolled back (with --service)
    #[arg(long = "env", value_name = "ENV", env = "DEPLOY_LEDGER_ENV")]
    pub environment: Option<String>,
    /// The version rolled back to
    #[arg(long, value_name = "VERSION")]
    pub to_version: Option<String>,
    /// Why (one line)
    #[arg(long)]
    pub reason: Option<String>,
    /// Who rolled back (default: CI actor, else git user.name, else login)
    #[arg(long, env = "DEPLOY_LEDGER_OPERATOR")]
    pub operator: Option<String>,
    /// When the rollback started (RFC 3339; default: --finished, else now)
    #[arg(long, value_name = "TIME")]
    pub started: Option<String>,
    /// When the rollback finished (RFC 3339; default: now)
    #[arg(long, value_name = "TIME")]
    pub finished: Option<String>,
    #[command(flatten)]
    pub notes: NoteArgs,
    /// Commit both files (the rollback record and the rolled-back one) in
    /// one commit, alone (other staged changes stay staged)
    #[arg(long)]
    pub commit: bool,
    /// Print the record as written as JSON, one object (keys in the README)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let labels = args.notes.labels()?;
    let started = args
        .started
        .as_deref()
        .map(|s| backfill::parse_utc(s, "--started"))
        .transpose()?;
    let finished = args
        .finished
        .as_deref()
        .map(|s| backfill::parse_utc(s, "--finished"))
        .transpose()?;
    let ledger = open_ledger(CommitArg {
        commit: args.commit,
    })?;
    let params = RollbackParams {
        of: args.of,
        service: args.service,
        environment: args.environment,
        to_version: args.to_version,
        reason: args.reason,
        operator: args.operator,
        started,
        finished,
        labels,
        note: args.notes.note,
    };
    let done = rollback::rollback(&ledger, &params)?;
    if args.json {
        return report_written_json(
            &done.written,
            serde_json::json!({ "rolled_back": {
                "id": done.of,
                "path": path_json(&done.of_path),
                "status": Status::RolledBack,
            } }),
        );
    }
    report_written(
        &done.written,
        &format!("rolled back {} ({}) with", done.of, done.of_path.display()),
    )
}
