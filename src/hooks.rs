//! Git hooks: the embedded scripts of `hooks/`, installing and removing them
//! where git looks for hooks, and what the pre-push hook asks of the binary
//! once the records have validated (`hooks pushed`).
//!
//! A hook is "ours" when its text carries [`MARKER`]; anything else at that
//! path is a foreign hook, never overwritten without `force`, and then kept
//! as `<name>.deploy-ledger-backup` for `uninstall` to put back.

use std::path::{Path, PathBuf};

use crate::backfill::{self, Backfill, Existing, GitSource, Outcome};
use crate::capture::clock;
use crate::config::{glob_match, CHECKLISTS_DIR};
use crate::deploy::{StartParams, Written};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::ledger::{write_atomic, Ledger};
use crate::record::{Record, Status};

/// The scripts, by hook name.
pub const HOOKS: &[(&str, &str)] = &[("pre-push", include_str!("../hooks/pre-push"))];

/// The line that marks a hook as installed by deploy-ledger.
pub const MARKER: &str = "# deploy-ledger hook:";

/// Suffix of the copy of a foreign hook replaced with `--force`.
pub const BACKUP_SUFFIX: &str = ".deploy-ledger-backup";

/// Where git runs hooks from: `core.hooksPath` (relative to the work tree,
/// `~/` expanded, as git does), else `hooks/` of the common git dir (shared
/// by all work trees of a clone).
pub fn hooks_dir(repo: &Repo) -> Result<PathBuf> {
    if let Some(configured) = repo.config_string("core.hooksPath") {
        let path = match configured.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(rest))
                .ok_or_else(|| {
                    Error::user_hint(
                        format!("core.hooksPath `{configured}` needs HOME, which is not set"),
                        "set HOME, or give core.hooksPath as an absolute path",
                    )
                })?,
            None => PathBuf::from(&configured),
        };
        if path.is_absolute() {
            return Ok(path);
        }
        let base = if repo.is_bare() {
            repo.git_dir().to_path_buf()
        } else {
            repo.workdir()?.to_path_buf()
        };
        return Ok(base.join(path));
    }
    Ok(repo.common_dir().join("hooks"))
}

/// Runs an embedded hook script with `sh`, passing the arguments and stdin
/// through; its exit code becomes ours (a refused push is an error).
pub fn run(name: &str, args: &[String]) -> Result<()> {
    let Some((_, script)) = HOOKS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = HOOKS.iter().map(|(n, _)| *n).collect();
        return Err(Error::usage(
            format!("no hook named `{name}`"),
            format!("one of: {}", names.join(", ")),
        ));
    };
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(script).arg(name).args(args);
    // The script calls this binary, on PATH or not (unless told another).
    if std::env::var_os("DEPLOY_LEDGER_BIN").is_none_or(|v| v.is_empty()) {
        if let Ok(me) = std::env::current_exe() {
            command.env("DEPLOY_LEDGER_BIN", me);
        }
    }
    let status = command.status().map_err(|e| Error::io("sh", e))?;
    if status.success() {
        return Ok(());
    }
    Err(Error::user_hint(
        format!("the {name} hook failed (see above)"),
        "fix what it reports, or skip it once with --no-verify",
    ))
}

/// Whether the installed hooks will find the binary: `DEPLOY_LEDGER_BIN`,
/// else `deploy-ledger` on `PATH` (what the scripts call).
pub fn binary_on_path() -> bool {
    if std::env::var_os("DEPLOY_LEDGER_BIN").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("deploy-ledger").is_file())
    })
}

/// Whether a hook's text is one of ours.
pub fn is_ours(text: &str) -> bool {
    text.lines().take(5).any(|l| l.starts_with(MARKER))
}

/// What install or uninstall did to one hook.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Installed(PathBuf),
    Updated(PathBuf),
    Unchanged(PathBuf),
    /// The foreign hook was moved to the backup path first.
    BackedUp {
        hook: PathBuf,
        backup: PathBuf,
    },
    Removed(PathBuf),
    Restored {
        hook: PathBuf,
        from: PathBuf,
    },
    /// Not ours: left as it is.
    LeftForeign(PathBuf),
    NotInstalled(PathBuf),
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Installed(p) => write!(f, "installed {}", p.display()),
            Action::Updated(p) => write!(f, "updated {}", p.display()),
            Action::Unchanged(p) => write!(f, "{} is already installed", p.display()),
            Action::BackedUp { hook, backup } => write!(
                f,
                "moved the existing {} to {}",
                hook.display(),
                backup.display()
            ),
            Action::Removed(p) => write!(f, "removed {}", p.display()),
            Action::Restored { hook, from } => {
                write!(f, "restored {} from {}", hook.display(), from.display())
            }
            Action::LeftForeign(p) => {
                write!(f, "{} is not deploy-ledger's: left as it is", p.display())
            }
            Action::NotInstalled(p) => write!(f, "{} is not installed", p.display()),
        }
    }
}

fn backup_path(hook: &Path) -> PathBuf {
    let mut name = hook.file_name().unwrap_or_default().to_os_string();
    name.push(BACKUP_SUFFIX);
    hook.with_file_name(name)
}

fn read_hook(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Installs every hook; refuses (exit 3) to replace a foreign hook unless
/// `force`, which backs it up first. Checks every hook before writing any.
pub fn install(repo: &Repo, force: bool) -> Result<Vec<Action>> {
    let dir = hooks_dir(repo)?;
    let mut plan = Vec::new();
    for (name, script) in HOOKS {
        let path = dir.join(name);
        let present = read_hook(&path)?;
        let foreign = present.as_deref().is_some_and(|t| !is_ours(t));
        if foreign && !force {
            return Err(Error::refused(
                format!(
                    "{} exists and is not deploy-ledger's: not overwritten",
                    path.display()
                ),
                format!(
                    "pass --force to replace it (it is kept as {}{BACKUP_SUFFIX} and put back by `hooks uninstall`), or call deploy-ledger from it",
                    name
                ),
            ));
        }
        if foreign && backup_path(&path).exists() {
            return Err(Error::refused(
                format!(
                    "{} already exists: a backup would be overwritten",
                    backup_path(&path).display()
                ),
                "move that file away first",
            ));
        }
        plan.push((path, *script, present, foreign));
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut actions = Vec::new();
    for (path, script, present, foreign) in plan {
        if present.as_deref() == Some(script) {
            set_executable(&path)?;
            actions.push(Action::Unchanged(path));
            continue;
        }
        if foreign {
            let backup = backup_path(&path);
            std::fs::rename(&path, &backup).map_err(|e| Error::io(&path, e))?;
            actions.push(Action::BackedUp {
                hook: path.clone(),
                backup,
            });
        }
        write_atomic(&path, script.as_bytes(), false)?;
        set_executable(&path)?;
        actions.push(if present.is_some() && !foreign {
            Action::Updated(path)
        } else {
            Action::Installed(path)
        });
    }
    Ok(actions)
}

/// Removes our hooks and puts back what they replaced; foreign hooks stay.
pub fn uninstall(repo: &Repo) -> Result<Vec<Action>> {
    let dir = hooks_dir(repo)?;
    let mut actions = Vec::new();
    for (name, _) in HOOKS {
        let path = dir.join(name);
        match read_hook(&path)? {
            Some(text) if !is_ours(&text) => {
                actions.push(Action::LeftForeign(path));
                continue;
            }
            Some(_) => {
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                actions.push(Action::Removed(path.clone()));
            }
            None => actions.push(Action::NotInstalled(path.clone())),
        }
        let backup = backup_path(&path);
        if backup.exists() {
            std::fs::rename(&backup, &path).map_err(|e| Error::io(&backup, e))?;
            actions.push(Action::Restored {
                hook: path,
                from: backup,
            });
        }
    }
    Ok(actions)
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// What `hooks pushed` found and did for one pushed ref.
#[derive(Debug, Default)]
pub struct Pushed {
    /// In-progress deployments in the pushed commit.
    pub in_progress: Vec<Record>,
    /// The GitOps record written, if any.
    pub recorded: Option<Written>,
    /// Why GitOps mode did not record (already recorded, not configured…).
    pub notes: Vec<String>,
}

/// After the records of a pushed commit validated: lists the deployments
/// still in progress there, and in GitOps mode, when `remote_ref` is one of
/// `[gitops] branches`, records a deployment of `local_sha`.
///
/// The GitOps record is written to the work tree and not committed: a
/// pre-push hook cannot add to the push under way, and a commit on the
/// pushed branch would be a new deployment of its own. Commit it with your
/// next change. It is a success that starts and finishes at the push (in
/// GitOps the push is the deployment; the controller's rollout is not seen
/// from here); pushing the same commit again records nothing.
pub fn pushed(
    ledger: &Ledger,
    remote: Option<&str>,
    remote_ref: &str,
    local_sha: &str,
) -> Result<Pushed> {
    let mut out = Pushed::default();
    let commit = ledger.repo.resolve_commit(local_sha)?;
    for (path, _, bytes) in ledger.repo.blobs_at(&commit, CHECKLISTS_DIR)? {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok((_, record)) = Record::parse(&text, Path::new(&path)) {
            if record.status == Status::InProgress {
                out.in_progress.push(record);
            }
        }
    }

    let Some(branch) = remote_ref.strip_prefix("refs/heads/") else {
        return Ok(out);
    };
    // A GitOps record that cannot be written is reported, never an error:
    // the in-progress warnings above must still reach the user.
    if let Err(e) = gitops_record(ledger, remote, branch, &commit, &mut out) {
        out.notes.push(format!(
            "GitOps mode: `{branch}` was pushed but nothing was recorded: {e}{}",
            e.hint()
                .map(|h| format!(" (hint: {h})"))
                .unwrap_or_default()
        ));
    }
    Ok(out)
}

/// GitOps mode: when `branch` is one of `[gitops] branches`, records a
/// deployment of `commit` (once per service, environment and commit).
fn gitops_record(
    ledger: &Ledger,
    remote: Option<&str>,
    branch: &str,
    commit: &str,
    out: &mut Pushed,
) -> Result<()> {
    let gitops = &ledger.config.gitops;
    if !gitops.branches.iter().any(|p| glob_match(p, branch)) {
        return Ok(());
    }
    let Some(service) = gitops.service.clone() else {
        out.notes.push(format!(
            "GitOps mode: `{branch}` was pushed but [gitops] service is not set in deployments/ledger.toml; nothing recorded"
        ));
        return Ok(());
    };
    let environment = ledger.config.gitops_environment(branch);
    crate::record::check_slug("environment", &environment).map_err(|_| {
        Error::user_hint(
            format!("the branch `{branch}` gives the environment `{environment}`, which is not a slug"),
            format!("set [gitops] environment, or map the branch with [environments.NAME] branches = [\"{branch}\"] in deployments/ledger.toml"),
        )
    })?;
    let (all, _) = ledger.load_all();
    if let Some(done) = all.iter().find(|l| {
        l.record.service == service
            && l.record.environment == environment
            && l.record.git.commit.as_deref() == Some(commit)
    }) {
        out.notes.push(format!(
            "GitOps mode: {} already records {} in {environment}; nothing recorded",
            done.record.id,
            &commit[..12]
        ));
        return Ok(());
    }
    let now = clock::now()?;
    let note = format!(
        "Recorded by the pre-push hook (GitOps mode): `{}` pushed to `{branch}`{}.",
        &commit[..12],
        remote.map(|r| format!(" on `{r}`")).unwrap_or_default()
    );
    let b = Backfill {
        start: StartParams {
            service,
            environment: Some(environment),
            // A push names no version; the short commit id stands in.
            version: Some(commit[..12.min(commit.len())].to_string()),
            labels: vec![("trigger".into(), "gitops-push".into())],
            note: Some(note),
            ..StartParams::default()
        },
        id: None,
        started: now,
        finished: now,
        status: Status::Success,
        reason: None,
        git: GitSource::Given {
            commit: Some(commit.to_string()),
            branch: Some(branch.to_string()),
            tag: None,
        },
        phases: Vec::new(),
        capture: true,
        extra: Vec::new(),
    };
    let _lock = crate::deploy::StateLock::acquire(ledger)?;
    let mut existing = Existing::scan(ledger)?;
    let prepared = backfill::prepare(ledger, &b, &existing)?;
    match backfill::write(ledger, prepared, &mut existing, false)? {
        Outcome::Written(w) => out.recorded = Some(w),
        Outcome::Present { id, .. } => out
            .notes
            .push(format!("GitOps mode: {id} is already recorded")),
    }
    Ok(())
}
