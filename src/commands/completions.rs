//! `deploy-ledger completions SHELL`: print shell completions.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Result;
use crate::output;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger completions bash > ~/.local/share/bash-completion/completions/deploy-ledger
  deploy-ledger completions zsh > \"${fpath[1]}/_deploy-ledger\"
  deploy-ledger completions fish > ~/.config/fish/completions/deploy-ledger.fish";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    pub shell: Shell,
}

pub fn run(args: Args) -> Result<()> {
    let mut command = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut command, "deploy-ledger", &mut buf);
    output::print(&String::from_utf8_lossy(&buf))
}
