//! What `start` and `record` capture on their own (SPEC §4).

pub mod ci;
pub mod clock;
pub mod tools;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::git::{HeadInfo, Repo};

pub use ci::CiRun;

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.trim().is_empty())
}

/// Everything captured from the repository, CI and the machine.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub head: HeadInfo,
    pub dirty: Option<bool>,
    pub remote: Option<String>,
    pub ci: Option<CiRun>,
    pub tools: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
    pub warnings: Vec<String>,
}

/// Captures git state, CI, tool versions and the configured variables.
pub fn capture(repo: &Repo, config: &Config) -> Captured {
    let mut head = repo.head_info();
    let ci = ci::detect(&env_var);
    if head.branch.is_none() {
        head.branch = ci.as_ref().and_then(|c| c.branch.clone());
    }
    let (tools, warnings) = tools::versions(
        &config.capture.tools,
        Duration::from_millis(config.capture.timeout_ms),
    );
    let env = config
        .capture
        .env
        .iter()
        .filter_map(|name| env_var(name).map(|v| (name.clone(), v)))
        .collect();
    Captured {
        dirty: repo.is_dirty(),
        remote: repo.remote_url(),
        head,
        ci,
        tools,
        env,
        warnings,
    }
}

/// Operator: flag, else the CI actor, else git `user.name`, else the login.
pub fn operator(flag: Option<&str>, ci: Option<&CiRun>, repo: &Repo) -> Option<String> {
    flag.map(str::to_string)
        .or_else(|| ci.and_then(|c| c.actor.clone()))
        .or_else(|| repo.config_string("user.name"))
        .or_else(|| env_var("USER"))
        .or_else(|| env_var("LOGNAME"))
        .or_else(|| env_var("USERNAME"))
        .or_else(login_name)
}

/// The OS account name when no variable names it (cron, `env -i`, some
/// containers): this process's uid looked up in `/etc/passwd`. Without
/// `unsafe` (no getpwuid), the uid is the owner of a file this process
/// creates; accounts only in NSS (LDAP…) are not found.
#[cfg(unix)]
fn login_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = tempfile::tempfile().ok()?.metadata().ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u32>().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(not(unix))]
fn login_name() -> Option<String> {
    None
}

/// Environment: flag, else the CI job's environment, else the config's
/// branch rules, else `development`. CI's name is lowercased, as `import`
/// does with GitHub's (GitLab's `Production` is `production`); one that is
/// still not a slug is an error naming its variable, since the user gave
/// no name to fix.
pub fn environment(
    flag: Option<&str>,
    ci: Option<&CiRun>,
    branch: Option<&str>,
    config: &Config,
) -> Result<String> {
    if let Some(flag) = flag {
        return Ok(flag.to_string());
    }
    if let Some((name, var)) =
        ci.and_then(|c| Some((c.environment.as_deref()?, c.environment_variable)))
    {
        let lower = name.to_ascii_lowercase();
        if crate::record::is_slug(&lower) {
            return Ok(lower);
        }
        let e =
            crate::record::check_slug("environment", name).expect_err("a name that is not a slug");
        return Err(Error::user_hint(
            format!("{e} (from the CI variable {var}, as no --env was given)"),
            "pass --env NAME (or DEPLOY_LEDGER_ENV) to name the environment, e.g. --env production",
        ));
    }
    Ok(branch
        .and_then(|b| config.environment_for_branch(b))
        .map_or_else(|| "development".to_string(), str::to_string))
}
