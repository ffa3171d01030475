//! `deploy-ledger start`: create a record and open the first phase.

use crate::commands::{open_ledger, report_written, CommitArg};
use crate::deploy::{self, StartParams};
use crate::error::Result;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger start --service api-gateway --env production --version 2.3.0 --strategy blue-green
  deploy-ledger start --service api --change-id CHG-1042 --risk low --label team=payments --commit
  mise run deployment-start -- --service api --version 1.2.0

Refuses (exit 3) while another deployment of the same service and environment
is in progress, unless --force (the record then notes which one it overrode).";

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
    /// Change request id (ITIL)
    #[arg(long)]
    pub change_id: Option<String>,
    /// Change type: standard, normal, emergency
    #[arg(long)]
    pub change_type: Option<String>,
    /// Change risk: low, medium, high
    #[arg(long)]
    pub risk: Option<String>,
    /// A label, key=value (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A note for the record's Notes section
    #[arg(long)]
    pub note: Option<String>,
    /// Start even if another deployment of this service and environment is in progress
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub commit: CommitArg,
}

pub fn run(args: Args) -> Result<()> {
    let labels = args
        .labels
        .iter()
        .map(|l| deploy::parse_label(l))
        .collect::<Result<Vec<_>>>()?;
    let ledger = open_ledger(args.commit)?;
    let params = StartParams {
        service: args.service,
        environment: args.environment,
        version: args.version,
        strategy: args.strategy,
        operator: args.operator,
        change_id: args.change_id,
        change_type: args.change_type,
        risk: args.risk,
        labels,
        note: args.note,
        force: args.force,
    };
    let written = deploy::start(&ledger, &params)?;
    report_written(&written, "started")
}
