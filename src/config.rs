//! Configuration, layered (SPEC §4): built-in defaults < user config <
//! `deployments/ledger.toml` < `DEPLOY_LEDGER_*` variables < flags.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{escape_controls, one_line, Error, Result};

/// The built-in configuration, also what `init` writes out.
pub const DEFAULT_TOML: &str = include_str!("../templates/ledger.toml");

/// Where a repository keeps its ledger, relative to the work tree.
pub const LEDGER_DIR: &str = "deployments";
pub const CONFIG_FILE: &str = "deployments/ledger.toml";
pub const CHECKLISTS_DIR: &str = "deployments/checklists";
pub const TEMPLATES_DIR: &str = "deployments/templates";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub commit: bool,
    pub record_path: String,
    pub phases: Vec<String>,
    pub strategies: Vec<String>,
    pub strict_environments: bool,
    pub stale_after_hours: u64,
    pub environments: BTreeMap<String, EnvironmentConfig>,
    pub capture: CaptureConfig,
    pub checklist: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub services: BTreeMap<String, ServiceConfig>,
    #[serde(default)]
    pub gitops: GitopsConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    #[serde(default)]
    pub branches: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureConfig {
    pub tools: Vec<String>,
    pub timeout_ms: u64,
    pub env: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitopsConfig {
    #[serde(default)]
    pub branches: Vec<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
}

impl Config {
    /// Loads the layers for a repository whose work tree is `root` (None:
    /// outside a repository, built-in and user config only).
    pub fn load(root: Option<&Path>) -> Result<Config> {
        let mut merged = parse(DEFAULT_TOML, Path::new("<built-in ledger.toml>"))?;
        // The built-in environments are a default for the whole list, not
        // entries merged into it: once a file names environments, those are
        // the configuration's (so that `strict_environments` with only
        // `[environments.prod]` refuses `staging`). The files merge as usual.
        let builtin_environments = merged.insert(
            "environments".into(),
            toml::Value::Table(toml::Table::new()),
        );
        let mut origins = GitopsOrigins::default();
        if let Some(user) = user_config_path() {
            merge_file(&mut merged, &user, &mut origins)?;
        }
        if let Some(root) = root {
            merge_file(&mut merged, &root.join(CONFIG_FILE), &mut origins)?;
        }
        let named = merged
            .get("environments")
            .and_then(toml::Value::as_table)
            .is_some_and(|t| !t.is_empty());
        if !named {
            if let Some(builtin) = builtin_environments {
                merged.insert("environments".into(), builtin);
            }
        }
        apply_env(&mut merged)?;
        let mut config: Config = merged
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config {
                path: PathBuf::from(CONFIG_FILE),
                message: one_line(e.message()),
            })?;
        // The files were checked one by one (naming the file and line): a
        // bad value now came from a variable.
        config
            .check()
            .map_err(|ValueError { key, message, hint }| {
                let var = match key {
                    "phases" => "DEPLOY_LEDGER_PHASES",
                    _ => "DEPLOY_LEDGER_RECORD_PATH",
                };
                let hint = match hint {
                    Some(hint) => format!("{hint}; or unset {var}"),
                    None => format!("fix {var}, or unset it"),
                };
                Error::user_hint(format!("{var}: {message}"), hint)
            })?;
        config.check_gitops(&origins)?;
        // The files' paths were checked one by one: each is a prefix now,
        // so that `services/api/**` and `services/api` are one path to the
        // history walk, its cache and the report.
        for service in config.services.values_mut() {
            let mut prefixes: Vec<String> = Vec::new();
            for p in service
                .paths
                .iter()
                .filter_map(|p| service_path_prefix(p).ok())
            {
                if !prefixes.contains(&p) {
                    prefixes.push(p);
                }
            }
            service.paths = prefixes;
        }
        Ok(config)
    }

    /// Every service's path prefixes, each once, in order: what the
    /// history walk records touches of.
    pub fn service_path_prefixes(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for p in self.services.values().flat_map(|s| &s.paths) {
            if !all.contains(p) {
                all.push(p.clone());
            }
        }
        all
    }

    /// Rejects a `[gitops]` section that could never record a deployment
    /// (no service, a name that is not a slug, a branch whose environment
    /// could never be one), naming the file and line that set it.
    fn check_gitops(&self, origins: &GitopsOrigins) -> Result<()> {
        let g = &self.gitops;
        let at = |origin: &Option<Origin>, message: String, hint: String| {
            let (path, line) = match origin {
                Some(o) => (o.path.display().to_string(), format!("line {}: ", o.line)),
                None => (CONFIG_FILE.to_string(), String::new()),
            };
            Error::user_hint(
                format!("{path}: invalid configuration: {line}{message}"),
                hint,
            )
        };
        let slug_rule = "a name is lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit";
        if let Some(service) = &g.service {
            if !crate::record::is_slug(service) {
                return Err(at(
                    &origins.service,
                    format!("[gitops] service `{service}` is not a slug"),
                    format!("{slug_rule}, e.g. `shop`"),
                ));
            }
        }
        if let Some(env) = &g.environment {
            if !crate::record::is_slug(env) {
                return Err(at(
                    &origins.environment,
                    format!("[gitops] environment `{env}` is not a slug"),
                    format!("{slug_rule}, e.g. `production`"),
                ));
            }
        }
        if g.branches.is_empty() {
            return Ok(());
        }
        if g.service.is_none() {
            return Err(at(
                &origins.branches,
                "[gitops] branches is set but [gitops] service is not: a push would record nothing"
                    .into(),
                "add `service = \"NAME\"` (the service these branches deploy) under [gitops]"
                    .into(),
            ));
        }
        if g.environment.is_some() {
            return Ok(());
        }
        for (i, pattern) in g.branches.iter().enumerate() {
            let origin = origins
                .branch_lines
                .get(i)
                .cloned()
                .or_else(|| origins.branches.clone());
            // A rule of [environments] that covers the pattern names it.
            let mapped = self.environments.values().any(|e| {
                e.branches
                    .iter()
                    .any(|rule| rule == pattern || glob_match(rule, pattern))
            });
            if mapped {
                continue;
            }
            let last = pattern.rsplit('/').next().unwrap_or(pattern);
            let never = if last.contains(['*', '?']) {
                // Whatever the glob matches, these characters stay.
                last.starts_with(['.', '_', '-'])
                    || !last.chars().all(|c| {
                        c.is_ascii_lowercase()
                            || c.is_ascii_digit()
                            || matches!(c, '.' | '_' | '-' | '*' | '?')
                    })
            } else {
                !crate::record::is_slug(last)
            };
            if never {
                return Err(at(
                    &origin,
                    format!(
                        "[gitops] branch `{pattern}` would record the environment `{last}` (the branch's last path component), which is not a slug"
                    ),
                    format!(
                        "set `environment = \"NAME\"` under [gitops], or map the branch with [environments.NAME] branches = [\"{pattern}\"]"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The environment a GitOps push of `branch` records: `[gitops]
    /// environment`, else the `[environments]` branch rules, else the last
    /// path component of the branch (`env/staging` → `staging`).
    pub fn gitops_environment(&self, branch: &str) -> String {
        self.gitops
            .environment
            .clone()
            .or_else(|| self.environment_for_branch(branch).map(str::to_string))
            .unwrap_or_else(|| branch.rsplit('/').next().unwrap_or(branch).to_string())
    }

    /// The values their types cannot check: the key at fault and why.
    fn check(&self) -> std::result::Result<(), ValueError> {
        check_values(Some(&self.phases), Some(&self.record_path))
    }

    /// Environment names the configuration knows.
    pub fn environment_names(&self) -> Vec<&str> {
        self.environments.keys().map(String::as_str).collect()
    }

    /// The environment whose branch rules match `branch`, if any.
    pub fn environment_for_branch(&self, branch: &str) -> Option<&str> {
        self.environments
            .iter()
            .find(|(_, e)| e.branches.iter().any(|pattern| glob_match(pattern, branch)))
            .map(|(name, _)| name.as_str())
    }

    pub fn checklist_for(&self, phase: &str) -> &[String] {
        self.checklist.get(phase).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// `$XDG_CONFIG_HOME/deploy-ledger/config.toml`, else `~/.config/…`.
pub fn user_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("deploy-ledger").join("config.toml"))
}

fn parse(text: &str, path: &Path) -> Result<toml::Table> {
    text.parse::<toml::Table>().map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        Error::Config {
            path: path.to_path_buf(),
            message: match line {
                Some(line) => format!("line {line}: {}", one_line(e.message())),
                None => one_line(e.message()),
            },
        }
    })
}

/// Where a layer set a `[gitops]` key, for errors found once all layers merged.
#[derive(Debug, Clone)]
struct Origin {
    path: PathBuf,
    line: usize,
}

#[derive(Debug, Default)]
struct GitopsOrigins {
    branches: Option<Origin>,
    /// The line of each pattern of `branches`, in order.
    branch_lines: Vec<Origin>,
    service: Option<Origin>,
    environment: Option<Origin>,
}

impl GitopsOrigins {
    /// Notes the lines of the `[gitops]` keys this layer sets (a later layer
    /// replaces a key, as the merge does).
    fn note(&mut self, text: &str, path: &Path) {
        #[derive(Deserialize)]
        struct Layer {
            #[serde(default)]
            gitops: Option<Spans>,
        }
        #[derive(Deserialize)]
        struct Spans {
            branches: Option<toml::Spanned<Vec<toml::Spanned<String>>>>,
            service: Option<toml::Spanned<String>>,
            environment: Option<toml::Spanned<String>>,
        }
        let Ok(Layer { gitops: Some(g) }) = toml::from_str::<Layer>(text) else {
            return;
        };
        let origin = |start: usize| Origin {
            path: path.to_path_buf(),
            line: text[..start.min(text.len())].matches('\n').count() + 1,
        };
        if let Some(b) = &g.branches {
            self.branches = Some(origin(b.span().start));
            self.branch_lines = b.get_ref().iter().map(|p| origin(p.span().start)).collect();
        }
        if let Some(s) = &g.service {
            self.service = Some(origin(s.span().start));
        }
        if let Some(e) = &g.environment {
            self.environment = Some(origin(e.span().start));
        }
    }
}

/// A value its type cannot check: the top-level key at fault, why, and
/// what to do (None: the file's general hint).
struct ValueError {
    key: &'static str,
    message: String,
    hint: Option<String>,
}

impl ValueError {
    fn new(key: &'static str, message: String) -> Self {
        ValueError {
            key,
            message,
            hint: None,
        }
    }
}

/// Phases are slugs, each once (at least one); `record_path` stays inside
/// the folder, names the file `{id}.md`, and has no `.` or empty folder.
fn check_values(
    phases: Option<&[String]>,
    record_path: Option<&str>,
) -> std::result::Result<(), ValueError> {
    if let Some(phases) = phases {
        if phases.is_empty() {
            return Err(ValueError::new(
                "phases",
                "`phases` is empty: give at least one phase".into(),
            ));
        }
        for (i, phase) in phases.iter().enumerate() {
            crate::record::check_slug("phase", phase)
                .map_err(|e| ValueError::new("phases", e.to_string()))?;
            // `phase NAME` could not tell two of the same name apart.
            if phases[..i].contains(phase) {
                return Err(ValueError {
                    key: "phases",
                    message: format!("`phases` lists `{phase}` twice"),
                    hint: Some(
                        "give each phase once: `phase NAME` opens a phase by its name".into(),
                    ),
                });
            }
        }
    }
    if let Some(p) = record_path {
        if !p.ends_with(".md")
            || !p.contains("{id}")
            || p.starts_with('/')
            || p.split('/').any(|s| s == "..")
        {
            return Err(ValueError::new(
                "record_path",
                format!("`record_path = \"{p}\"` must be relative, stay inside deployments/checklists, contain {{id}} and end in .md"),
            ));
        }
        // Every `{…}` must be a placeholder the tool fills (a typo would
        // be a folder named after it): none may be left without them.
        let rest = RECORD_PATH_PLACEHOLDERS
            .iter()
            .fold(p.to_string(), |s, known| s.replace(known, ""));
        if let Some(open) = rest.find(['{', '}']) {
            let end = rest[open + 1..]
                .find('}')
                .map_or(rest.len(), |c| open + c + 2);
            return Err(ValueError::new(
                "record_path",
                format!(
                    "`record_path = \"{p}\"` has `{}`, which is not a placeholder ({})",
                    &rest[open..end],
                    RECORD_PATH_PLACEHOLDERS.join(" ")
                ),
            ));
        }
        // `validate` (and so the pre-push hook) holds a record whose file
        // name is not its id to be broken (SPEC §1, §2): a pattern that
        // names the file otherwise would write only such records.
        let (folders, file) = p.rsplit_once('/').unwrap_or(("", p));
        if file != "{id}.md" {
            return Err(ValueError {
                key: "record_path",
                message: format!(
                    "`record_path = \"{p}\"` names the file `{file}`: a record's file name is its id, `{{id}}.md`, and `validate` would refuse every record written so"
                ),
                hint: Some(
                    "keep the file name `{id}.md` and put the rest in folders, e.g. `{year}/{month}/{id}.md` (the default)".into(),
                ),
            });
        }
        // `list` and `start` must print one path for one record: a `.` or
        // an empty folder would be kept in what `start` prints only.
        if !folders.is_empty() && folders.split('/').any(|c| c == "." || c.is_empty()) {
            let clean: Vec<&str> = p
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect();
            return Err(ValueError {
                key: "record_path",
                message: format!(
                    "`record_path = \"{p}\"` has an empty or `.` folder: the path a record is written to would not be the one `list` shows"
                ),
                hint: Some(format!(
                    "give each folder once, without `.` or `//`: `{}`",
                    clean.join("/")
                )),
            });
        }
    }
    Ok(())
}

/// What `record_path` may name (see `Ledger::record_path`).
const RECORD_PATH_PLACEHOLDERS: [&str; 6] = [
    "{year}",
    "{month}",
    "{day}",
    "{service}",
    "{environment}",
    "{id}",
];

/// The line of a top-level `key = …` in a TOML text (before any table).
fn key_line(text: &str, key: &str) -> Option<usize> {
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.starts_with('[') {
            return None;
        }
        let Some(rest) = line.strip_prefix(key) else {
            continue;
        };
        if rest.trim_start().starts_with('=') {
            return Some(n + 1);
        }
    }
    None
}

/// The strings of a TOML array (None: not an array of strings).
fn strings(v: &toml::Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Checks a layer's values, naming its file and the key's line. `phases`:
/// the phases in effect once this layer is merged (its own, else those of
/// the layers below it).
fn check_layer_values(
    layer: &toml::Table,
    text: &str,
    path: &Path,
    phases: &[String],
) -> Result<()> {
    let own_phases = layer.get("phases").and_then(strings);
    let record_path = layer.get("record_path").and_then(toml::Value::as_str);
    check_values(own_phases.as_deref(), record_path).map_err(|e| {
        let message = match key_line(text, e.key) {
            Some(line) => format!("line {line}: {}", e.message),
            None => e.message,
        };
        match e.hint {
            Some(hint) => Error::user_hint(
                format!("{}: invalid configuration: {message}", path.display()),
                hint,
            ),
            None => Error::Config {
                path: path.to_path_buf(),
                message,
            },
        }
    })?;
    check_layer_tables(layer, text, path, phases)
}

/// The values under `[environments]`, `[checklist]`, `[services]` and
/// `[capture]` that their types let through but that could never work: an
/// environment that is not a slug (no record could name it), a checklist of
/// a phase that is not one (its items would never be rendered), a checklist
/// item of several lines (it would break the record's body) or with no text
/// (an empty box to tick), a service that is not a slug or a service path
/// that is a glob or leaves the repository (either would match nothing), a
/// tool timeout of 0 (every tool would time out) or of more than
/// [`MAX_TIMEOUT_MS`] (a hanging tool would hold the deployment up).
fn check_layer_tables(
    layer: &toml::Table,
    text: &str,
    path: &Path,
    phases: &[String],
) -> Result<()> {
    let invalid = |keys: &[&str], index: Option<usize>, message: String, hint: String| {
        let line = line_of(text, keys, index)
            .map(|l| format!("line {l}: "))
            .unwrap_or_default();
        Error::user_hint(
            format!("{}: invalid configuration: {line}{message}", path.display()),
            hint,
        )
    };
    let table = |key: &str| layer.get(key).and_then(toml::Value::as_table);
    for (key, what) in [("environments", "environment"), ("services", "service")] {
        for name in table(key).into_iter().flat_map(|t| t.keys()) {
            if let Err(e) = crate::record::check_slug(what, name) {
                return Err(invalid(
                    &[key, name],
                    None,
                    format!("`[{key}.{}]`: {e}", toml_key(name)),
                    e.hint().unwrap_or_default(),
                ));
            }
        }
    }
    for (phase, items) in table("checklist").into_iter().flatten() {
        if !phases.contains(phase) {
            return Err(invalid(
                &["checklist", phase],
                None,
                format!(
                    "`[checklist] {}`: `{}` is not one of the phases ({})",
                    toml_key(phase),
                    escape_controls(phase),
                    phases.join(", ")
                ),
                format!(
                    "name a phase of `phases`, or add `{}` to `phases`",
                    escape_controls(phase)
                ),
            ));
        }
        let items = items.as_array().map(Vec::as_slice).unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            if item.as_str().is_some_and(|s| s.trim().is_empty()) {
                return Err(invalid(
                    &["checklist", phase],
                    Some(i),
                    format!(
                        "`[checklist] {}` item {} is empty: the record would get a box with nothing to tick",
                        toml_key(phase),
                        i + 1
                    ),
                    "give each checklist item its text, or leave the item out".into(),
                ));
            }
            let Some(item) = item.as_str().filter(|s| s.chars().any(char::is_control)) else {
                continue;
            };
            return Err(invalid(
                &["checklist", phase],
                Some(i),
                format!(
                    "`[checklist] {}` item {} (`{}`) contains a line break or another control character: it would break the record's checklist",
                    toml_key(phase),
                    i + 1,
                    escape_controls(item)
                ),
                "give each checklist item on one line".into(),
            ));
        }
    }
    for (service, settings) in table("services").into_iter().flatten() {
        let paths = settings
            .get("paths")
            .and_then(toml::Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, path) in paths.iter().enumerate() {
            let Some(path) = path.as_str() else { continue };
            if let Err((why, hint)) = service_path_prefix(path) {
                return Err(invalid(
                    &["services", service, "paths"],
                    Some(i),
                    format!(
                        "`[services.{}] paths` item {} (`{}`) {why}",
                        toml_key(service),
                        i + 1,
                        escape_controls(path)
                    ),
                    hint,
                ));
            }
        }
    }
    let timeout = table("capture")
        .and_then(|c| c.get("timeout_ms"))
        .and_then(toml::Value::as_integer);
    if timeout == Some(0) {
        return Err(invalid(
            &["capture", "timeout_ms"],
            None,
            "`[capture] timeout_ms = 0`: every tool would time out before it answers, and no version would be kept".into(),
            "give the milliseconds a tool may take, e.g. `timeout_ms = 2000` (the default)".into(),
        ));
    }
    if let Some(ms) = timeout.filter(|ms| *ms > MAX_TIMEOUT_MS as i64) {
        return Err(invalid(
            &["capture", "timeout_ms"],
            None,
            format!("`[capture] timeout_ms = {ms}`: a tool that hangs would hold the deployment up that long (at most {MAX_TIMEOUT_MS} ms, one minute)"),
            "give the milliseconds a tool may take, e.g. `timeout_ms = 2000` (the default)".into(),
        ));
    }
    Ok(())
}

/// The longest `[capture] timeout_ms`: tool versions are read with a short
/// timeout and never block a deployment (SPEC §4).
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// A `[services.NAME] paths` entry as the prefix it names, relative to the
/// repository's root, without a trailing `/`: a leading `./` or `/`, a
/// trailing `/`, `/**` or `/*`, and empty or `.` components say nothing
/// more (`./services/api/**` is `services/api`). Any other glob character
/// and `..` are refused, and so is a path that names nothing: the walk
/// compares tree entries, it does not match patterns, and such a path
/// would silently match no commit. Err: (why, what to do).
pub fn service_path_prefix(path: &str) -> std::result::Result<String, (String, String)> {
    let mut parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if matches!(parts.last(), Some(&("**" | "*"))) {
        parts.pop();
    }
    let example = "e.g. `services/api` (`services/api/**`, `./services/api` and `/services/api` mean the same)";
    if parts.iter().any(|c| c.contains(['*', '?', '[', '{'])) {
        return Err((
            "is a glob: a service path is a folder or a file and takes everything under it (a trailing `/**` or `/*` is the only glob accepted)".into(),
            format!("give the folder from the repository's root, {example}; list several paths for several folders"),
        ));
    }
    if parts.contains(&"..") {
        return Err((
            "contains `..`: a service path is a folder of the repository, from its root".into(),
            format!("give the folder from the repository's root, {example}"),
        ));
    }
    if parts.is_empty() {
        return Err((
            "names no folder: it would be the whole repository".into(),
            "give a folder, e.g. `services/api`, or leave `paths` out to count every commit outside deployments/".into(),
        ));
    }
    Ok(parts.join("/"))
}

/// A table key as written in TOML: bare when it can be, else quoted.
fn toml_key(key: &str) -> String {
    toml_edit::Key::new(key).display_repr().into_owned()
}

/// The line of a key inside tables (`["checklist", "planning"]`), or of
/// item `index` of the array it holds, in a TOML text.
fn line_of(text: &str, keys: &[&str], index: Option<usize>) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let (last, parents) = keys.split_last()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    for key in parents {
        table = table.get(key)?.as_table_like()?;
    }
    let item = table.get(last)?;
    let span = match index {
        Some(i) => item.as_array()?.get(i)?.span(),
        None => table.key(last).and_then(toml_edit::Key::span),
    }
    .or_else(|| item.span())?;
    Some(text[..span.start.min(text.len())].matches('\n').count() + 1)
}

fn merge_file(into: &mut toml::Table, path: &Path, origins: &mut GitopsOrigins) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let layer = parse(&text, path)?;
    // Check the layer alone so that an error names this file, not the merge,
    // and the line of the offending key or value.
    check_layer_text(&text, path)?;
    check_keys(&layer, path)?;
    let phases = layer
        .get("phases")
        .or_else(|| into.get("phases"))
        .and_then(strings)
        .unwrap_or_default();
    check_layer_values(&layer, &text, path, &phases)?;
    origins.note(&text, path);
    merge(into, layer);
    Ok(())
}

/// Deserialises a layer's own text as a [`Config`] for the line of an
/// unknown key or a wrong type: serde reports those as it meets them, and
/// only then the fields a layer may leave out ("missing field"), which are
/// not errors here. Best effort: [`check_keys`] still checks the whole layer.
fn check_layer_text(text: &str, path: &Path) -> Result<()> {
    match toml::from_str::<Config>(text) {
        Ok(_) => Ok(()),
        Err(e) if e.message().starts_with("missing field") => Ok(()),
        Err(e) => {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            Err(Error::Config {
                path: path.to_path_buf(),
                message: match line {
                    Some(line) => format!("line {line}: {}", one_line(e.message())),
                    None => one_line(e.message()),
                },
            })
        }
    }
}

/// Rejects unknown keys and wrong types in one layer, naming its file.
fn check_keys(layer: &toml::Table, path: &Path) -> Result<()> {
    let mut probe = parse(DEFAULT_TOML, Path::new("<built-in>"))?;
    merge(&mut probe, layer.clone());
    toml::Value::Table(probe)
        .try_into::<Config>()
        .map(|_| ())
        .map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: one_line(e.message()),
        })
}

fn merge(into: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// `DEPLOY_LEDGER_COMMIT`, `_RECORD_PATH`, `_PHASES`, `_STRICT_ENVIRONMENTS`,
/// `_STALE_AFTER_HOURS`, `_TOOLS` override the files.
fn apply_env(into: &mut toml::Table) -> Result<()> {
    let var = |name: &str| {
        std::env::var(format!("DEPLOY_LEDGER_{name}"))
            .ok()
            .filter(|v| !v.is_empty())
    };
    let list = |v: String| {
        toml::Value::Array(
            v.split(',')
                .map(|s| toml::Value::String(s.trim().to_string()))
                .filter(|s| s.as_str() != Some(""))
                .collect(),
        )
    };
    let boolean = |name: &str, v: String| -> Result<toml::Value> {
        match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "0" | "false" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(Error::user_hint(
                format!("DEPLOY_LEDGER_{name}=`{v}` is not true or false"),
                "use 1/0, true/false",
            )),
        }
    };
    if let Some(v) = var("COMMIT") {
        into.insert("commit".into(), boolean("COMMIT", v)?);
    }
    if let Some(v) = var("STRICT_ENVIRONMENTS") {
        into.insert(
            "strict_environments".into(),
            boolean("STRICT_ENVIRONMENTS", v)?,
        );
    }
    if let Some(v) = var("RECORD_PATH") {
        into.insert("record_path".into(), toml::Value::String(v));
    }
    if let Some(v) = var("PHASES") {
        into.insert("phases".into(), list(v));
    }
    if let Some(v) = var("STALE_AFTER_HOURS") {
        let hours = v.parse::<u64>().map_err(|_| {
            Error::user_hint(
                format!("DEPLOY_LEDGER_STALE_AFTER_HOURS=`{v}` is not a number of hours"),
                "e.g. DEPLOY_LEDGER_STALE_AFTER_HOURS=48, or unset it for the configured value",
            )
        })?;
        let hours = i64::try_from(hours).unwrap_or(i64::MAX);
        into.insert("stale_after_hours".into(), toml::Value::Integer(hours));
    }
    if let Some(v) = var("TOOLS") {
        if let Some(toml::Value::Table(capture)) = into.get_mut("capture") {
            capture.insert("tools".into(), list(v));
        }
    }
    Ok(())
}

/// A branch glob: `*` any run of characters (`/` included), `?` one
/// character, `[abc]` and `{a,b}` as in shells.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    // globset compiles the pattern to an automaton: linear in the branch
    // name whatever the pattern (a backtracking matcher was exponential on
    // `*a*a*a…b`). A pattern that does not compile matches nothing.
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(text))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let table = parse(DEFAULT_TOML, Path::new("x")).expect("parses");
        let config: Config = toml::Value::Table(table).try_into().expect("valid");
        assert_eq!(config.phases, ["planning", "execution", "validation"]);
        assert_eq!(
            config.environment_names(),
            ["development", "production", "staging"]
        );
    }

    #[test]
    fn service_paths_are_prefixes() {
        for p in [
            "services/api",
            "services/api/",
            "services/api/**",
            "services/api/*",
            "./services/api",
            "/services/api/**",
            "services//./api",
        ] {
            assert_eq!(
                service_path_prefix(p).as_deref().ok(),
                Some("services/api"),
                "{p}"
            );
        }
        assert_eq!(
            service_path_prefix("services/*").ok().as_deref(),
            Some("services")
        );
        assert_eq!(
            service_path_prefix("go.mod").ok().as_deref(),
            Some("go.mod")
        );
        for p in [
            "services/*/src",
            "services/api*",
            "services/ap?",
            "services/[ab]pi",
            "services/{api,web}",
            "**",
            "../api",
            "services/../api",
            "",
            "./",
            "/",
        ] {
            assert!(service_path_prefix(p).is_err(), "{p}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("release/*", "release/1.2"));
        assert!(glob_match("env/*", "env/eu/canary"), "`*` takes `/` too");
        assert!(glob_match("release/{1,2}.*", "release/2.0"));
        assert!(
            !glob_match("release/[", "release/["),
            "a broken glob matches nothing"
        );
        // Backtracking took minutes here; an automaton does not.
        let long = "a".repeat(54);
        assert!(!glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", &long));
        assert!(glob_match("main", "main"));
        assert!(!glob_match("main", "mainline"));
    }
}
