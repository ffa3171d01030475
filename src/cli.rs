//! The command line: global options and the subcommand (see `commands`).

use clap::Parser;
use std::path::PathBuf;

use crate::commands::Command;

const AFTER_HELP: &str = "\
Examples:
  deploy-ledger init
  deploy-ledger start --service api-gateway --env production --version 2.3.0
  deploy-ledger phase execution
  deploy-ledger check \"Health checks green\"
  deploy-ledger finish                      # success
  deploy-ledger finish --status failed --reason \"health checks failed\"
  deploy-ledger list --env production --since 2025-01-01
  deploy-ledger analytics --format markdown

Exit codes: 0 ok, 1 user or data error, 2 usage error, 3 refused by a lock or check.";

/// A git-native deployment ledger: every deployment is a markdown checklist
/// with YAML frontmatter, committed in the repository it deploys.
#[derive(Debug, Parser)]
#[command(name = "deploy-ledger", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Run as if started in DIR (like `git -C`).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
