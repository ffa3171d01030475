//! `deploy-ledger start`: create a record and open the first phase.

use crate::commands::{
    open_ledger, report_written, report_written_json, ChangeArgs, CommitArg, NoteArgs,
};
use crate::deploy::{self, StartParams};
use crate::error::Result;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger start --service api-gateway --env production --version 2.3.0 --strategy blue-green
  deploy-ledger start --service api --change-id CHG-1042 --risk low --label team=payments --commit
  mise run deployment-start -- --service api --version 1.2.0
  id=$(deploy-ledger start --service api --env staging --json | jq -r .id)

Refuses (exit 3) while another deployment of the same service and environment
is in progress, unless --force (the record then notes which one it overrode).

--json prints one object on stdout: the fields of `show --json` (id, path,
service, environment, status, phases…), `commit` (the commit --commit made,
else null) and `phase` (the phase opened). Warnings stay on stderr.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Service being deployed (a slug: a-z, 0-9, `.`, `_`, `-`)
    #[arg(long, env = "DEPLOY_LEDGER_SERVICE")]
    pub service: String,
    /// Target environment (default: CI's, else the branch rules, else development)
    #[arg(long = "env", value_name = "ENV", env = "DEPLOY_LEDGER_ENV")]
    pub environment: Option<String>,
    /// Version being deployed
    #[arg(long, env = "DEPLOY_LEDGER_VERSION")]
    pub version: Option<String>,
    /// Strategy: rolling, blue-green, canary, big-bang, recreate, or one from config
    #[arg(long, env = "DEPLOY_LEDGER_STRATEGY")]
    pub strategy: Option<String>,
    /// Who deploys (default: CI actor, else git user.name, else login)
    #[arg(long, env = "DEPLOY_LEDGER_OPERATOR")]
    pub operator: Option<String>,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub notes: NoteArgs,
    /// Start even if another deployment of this service and environment is in progress
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub commit: CommitArg,
    /// Print the record as written as JSON, one object (keys in the README)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let labels = args.notes.labels()?;
    let ledger = open_ledger(args.commit)?;
    let params = StartParams {
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
        force: args.force,
    };
    let written = deploy::start(&ledger, &params)?;
    if args.json {
        let phase = written.record.open_phase().map(|p| p.name.clone());
        return report_written_json(&written, serde_json::json!({ "phase": phase }));
    }
    report_written(&written, "started")
}
