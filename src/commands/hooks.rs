//! `deploy-ledger hooks`: install or remove the git hooks, and the step the
//! pre-push hook runs after validating (`hooks pushed`).

use crate::commands::list::path_json;
use crate::error::Result;
use crate::git::Repo;
use crate::hooks;
use crate::ledger::Ledger;
use crate::output;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger hooks install          # where core.hooksPath says, else .git/hooks
  deploy-ledger hooks install --force  # replace a foreign hook, kept as <name>.deploy-ledger-backup
  deploy-ledger hooks uninstall        # remove ours, put back what was there
  deploy-ledger hooks run pre-push origin URL < refs   # for lefthook, husky…
  deploy-ledger hooks path --json | jq -r '.hooks[] | select(.state != \"installed\") | .path'

`install` refuses (exit 3) to overwrite a hook it did not write, unless --force.
`path --json` prints {\"dir\": …, \"hooks\": [{\"name\", \"path\", \"state\"}]}, state
one of installed, other (a hook deploy-ledger did not write), not-installed.";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Install the hooks (pre-push), executable, where git looks for them
    Install {
        /// Replace a hook deploy-ledger did not write (it is backed up first)
        #[arg(long)]
        force: bool,
    },
    /// Remove deploy-ledger's hooks and restore the ones they replaced
    Uninstall,
    /// Print where the hooks go and whether each is installed
    Path {
        /// Print as JSON: {"dir", "hooks": [{"name", "path", "state"}]}
        #[arg(long)]
        json: bool,
    },
    /// Run an embedded hook script with these arguments and this stdin
    /// (for hook managers: lefthook, husky…)
    Run {
        /// The hook: pre-push
        name: String,
        /// The arguments git gave the hook (for pre-push: remote name and URL)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run by the pre-push hook for each pushed ref once its records
    /// validated: warns about deployments in progress and, in GitOps mode,
    /// records a deployment of the pushed commit
    Pushed {
        /// The remote's name (the hook's first argument)
        #[arg(long)]
        remote: Option<String>,
        /// The ref pushed to, e.g. refs/heads/production
        remote_ref: String,
        /// The commit pushed
        local_sha: String,
    },
}

pub fn run(args: Args) -> Result<()> {
    match args.action {
        Action::Install { force } => {
            let repo = Repo::from_env()?;
            for a in hooks::install(&repo, force)? {
                output::println(&a.to_string())?;
            }
            if !hooks::binary_on_path() {
                output::warn(
                    "deploy-ledger is not on PATH: the hook will refuse pushes until it is (or DEPLOY_LEDGER_BIN names it)",
                );
            }
            Ok(())
        }
        Action::Uninstall => {
            let repo = Repo::from_env()?;
            for a in hooks::uninstall(&repo)? {
                output::println(&a.to_string())?;
            }
            Ok(())
        }
        Action::Path { json } => {
            let repo = Repo::from_env()?;
            let dir = hooks::hooks_dir(&repo)?;
            let mut items = Vec::new();
            for (name, _) in hooks::HOOKS {
                let path = dir.join(name);
                // The JSON word, and the text's.
                let state = match std::fs::read_to_string(&path) {
                    Ok(t) if hooks::is_ours(&t) => ("installed", "installed"),
                    Ok(_) => ("other", "another hook"),
                    Err(_) => ("not-installed", "not installed"),
                };
                if !json {
                    output::println(&format!("{} ({})", path.display(), state.1))?;
                }
                items.push(serde_json::json!({
                    "name": name,
                    "path": path_json(&path),
                    "state": state.0,
                }));
            }
            if json {
                output::json(&serde_json::json!({ "dir": path_json(&dir), "hooks": items }))?;
            }
            Ok(())
        }
        Action::Run { name, args } => hooks::run(&name, &args),
        Action::Pushed {
            remote,
            remote_ref,
            local_sha,
        } => {
            let ledger = Ledger::open_cwd()?;
            let pushed = hooks::pushed(
                &ledger,
                remote.as_deref().filter(|r| !r.is_empty()),
                &remote_ref,
                &local_sha,
            )?;
            for r in &pushed.in_progress {
                output::warn(&format!(
                    "{} ({} in {}) is still in progress in the pushed commit; finish it with `deploy-ledger finish --id {}`",
                    r.id, r.service, r.environment, r.id
                ));
            }
            for n in &pushed.notes {
                eprintln!("deploy-ledger: {n}");
            }
            if let Some(w) = &pushed.recorded {
                for warning in &w.warnings {
                    output::warn(warning);
                }
                // stderr: git shows a hook's stderr, and stdout is not ours.
                eprintln!(
                    "deploy-ledger: GitOps mode: recorded {} ({}); it is not part of this push, commit it with your next change",
                    w.id,
                    w.path.display()
                );
            }
            Ok(())
        }
    }
}
