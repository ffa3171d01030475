//! The operations that create and advance a record: typed parameters in,
//! files written atomically out. No clap here.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::capture::{self, clock};
use crate::error::{Error, Result};
use crate::ledger::{Ledger, Loaded, Selector};
use crate::record::{self, body, format_time, Document, Record, Status};
use crate::render::regions;

pub use crate::lock::StateLock;

/// What `start` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct StartParams {
    pub service: String,
    pub environment: Option<String>,
    pub version: Option<String>,
    pub strategy: Option<String>,
    pub operator: Option<String>,
    pub change_id: Option<String>,
    pub change_type: Option<String>,
    pub risk: Option<String>,
    pub labels: Vec<(String, String)>,
    pub note: Option<String>,
    pub force: bool,
}

/// The result of a command that wrote a record.
#[derive(Debug, Clone)]
pub struct Written {
    pub id: String,
    pub path: PathBuf,
    pub commit: Option<String>,
    pub warnings: Vec<String>,
    /// The typed fields of the record as written (for `--json`); boxed, as
    /// a record is ten times the size of the rest.
    pub record: Box<Record>,
}

/// Parses `k=v` labels.
pub fn parse_label(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(Error::user_hint(
            format!("label `{s}` is not key=value"),
            "e.g. --label team=payments",
        )),
    }
}

/// Checks the environment against the configuration: a warning, or an error
/// with `strict_environments`.
pub fn check_environment(
    ledger: &Ledger,
    environment: &str,
    warnings: &mut Vec<String>,
) -> Result<()> {
    record::check_slug("environment", environment)?;
    let known = ledger.config.environment_names();
    if !known.contains(&environment) {
        let message = format!(
            "environment `{environment}` is not in the configuration ({})",
            known.join(", ")
        );
        if ledger.config.strict_environments {
            return Err(Error::user_hint(
                message,
                format!(
                    "strict_environments is set: use one of the configured environments ({}), or add `[environments.{environment}]` to deployments/ledger.toml",
                    known.join(", ")
                ),
            ));
        }
        warnings.push(message);
    }
    Ok(())
}

/// The change types and risks of `--change-type` and `--risk` (ITIL).
pub const CHANGE_TYPES: &[&str] = &["standard", "normal", "emergency"];
pub const RISKS: &[&str] = &["low", "medium", "high"];

/// Checks the free-text and fixed-word fields of a new record: no control
/// character (a newline would split the title and the frontmatter line),
/// and a change type and risk from their lists.
pub fn check_params(p: &StartParams) -> Result<()> {
    let texts = [
        ("--version", p.version.as_deref()),
        ("--operator", p.operator.as_deref()),
        ("--strategy", p.strategy.as_deref()),
        ("--change-id", p.change_id.as_deref()),
    ];
    let labels = p
        .labels
        .iter()
        .flat_map(|(k, v)| [("--label", Some(k.as_str())), ("--label", Some(v.as_str()))]);
    for (flag, value) in texts.into_iter().chain(labels) {
        check_one_line(flag, value)?;
    }
    for (flag, value, words) in [
        ("--change-type", &p.change_type, CHANGE_TYPES),
        ("--risk", &p.risk, RISKS),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !words.contains(v)) {
            return Err(Error::user_hint(
                format!(
                    "{flag} `{}` is not one of {}",
                    crate::error::escape_controls(v),
                    words.join(", ")
                ),
                format!("use one of: {}", words.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Refuses a value with a newline or another control character: it would
/// split a frontmatter line, the title or a body region.
pub fn check_one_line(flag: &str, value: Option<&str>) -> Result<()> {
    match value.filter(|v| v.chars().any(char::is_control)) {
        None => Ok(()),
        Some(v) => Err(Error::user_hint(
            format!(
                "{flag} `{}` contains a newline or another control character",
                crate::error::escape_controls(v)
            ),
            "give it on one line",
        )),
    }
}

/// Checks the `--reason` of an outcome: one line, and only for a deployment
/// that did not succeed (it is written as `failure: { reason }`). A blank
/// reason is no reason, so `--reason "$WHY"` works for every outcome.
pub fn check_reason(status: Status, reason: Option<&str>) -> Result<()> {
    check_one_line("--reason", reason)?;
    if status == Status::Success && reason.is_some_and(|r| !r.trim().is_empty()) {
        return Err(Error::user_hint(
            "--reason is for a failed or cancelled deployment, not a success",
            "pass --status failed or cancelled, or leave --reason out; notes go in the record's body",
        ));
    }
    Ok(())
}

/// Checks a strategy against the configured list.
pub fn check_strategy(ledger: &Ledger, strategy: &str) -> Result<()> {
    if ledger.config.strategies.iter().any(|s| s == strategy) {
        return Ok(());
    }
    Err(Error::user_hint(
        format!("unknown strategy `{strategy}`"),
        format!(
            "use one of: {} (or add it to `strategies` in deployments/ledger.toml)",
            ledger.config.strategies.join(", ")
        ),
    ))
}

/// A new record id, unique among `taken`: `DEP-…` then `-2`, `-3`…
pub fn new_id(
    started: DateTime<Utc>,
    service: &str,
    environment: &str,
    taken: &dyn Fn(&str) -> bool,
) -> String {
    let base = crate::record::base_id(started, service, environment);
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .expect("an unused suffix exists")
}

/// Creates the record of a new deployment and opens its first phase.
pub fn start(ledger: &Ledger, p: &StartParams) -> Result<Written> {
    record::check_slug("service", &p.service)?;
    check_params(p)?;
    let mut warnings = Vec::new();
    if let Some(s) = &p.strategy {
        check_strategy(ledger, s)?;
    }
    let now = clock::now()?;
    let captured = capture::capture(&ledger.repo, &ledger.config);
    warnings.extend(captured.warnings.iter().cloned());
    let environment = capture::environment(
        p.environment.as_deref(),
        captured.ci.as_ref(),
        captured.head.branch.as_deref(),
        &ledger.config,
    )?;
    check_environment(ledger, &environment, &mut warnings)?;

    // Hold this clone's lock so two starts cannot both pass the check.
    let _lock = StateLock::acquire(ledger)?;
    let scan = ledger.scan_service(&p.service, &environment)?;
    // A broken record of this service and environment may be one in
    // progress that no longer blocks: say so. (Others are not start's
    // business; with a scan cache the scan holds them too.)
    let needle = format!("-{}-{environment}", p.service);
    warnings.extend(
        scan.broken
            .iter()
            .filter(|(path, _)| path.to_string_lossy().contains(&needle))
            .map(|(path, message)| crate::ledger::broken_warning(path, message)),
    );
    let open: Vec<&str> = scan
        .records
        .iter()
        .filter(|s| {
            s.status == Status::InProgress && s.service == p.service && s.environment == environment
        })
        .map(|s| s.id.as_str())
        .collect();
    if !open.is_empty() && !p.force {
        return Err(Error::refused(
            format!(
                "{} is already in progress for {} in {environment}",
                open.join(", "),
                p.service
            ),
            "finish it first (`deploy-ledger finish --id ID`), or pass --force to start anyway",
        ));
    }
    let ids: std::collections::HashSet<&str> = scan.records.iter().map(|s| s.id.as_str()).collect();
    let id = new_id(now, &p.service, &environment, &|id| {
        ids.contains(id)
            || ledger
                .abs(&ledger.record_path(id, &p.service, &environment, now))
                .exists()
    });
    let rel = ledger.record_path(&id, &p.service, &environment, now);

    let operator = capture::operator(p.operator.as_deref(), captured.ci.as_ref(), &ledger.repo);
    let first_phase = ledger.config.phases[0].clone();
    let started = format_time(now);
    let git = object([
        ("commit", captured.head.commit.clone().map(Value::from)),
        ("branch", captured.head.branch.clone().map(Value::from)),
        ("tag", captured.head.tag.clone().map(Value::from)),
        ("dirty", captured.dirty.map(Value::from)),
        ("remote", captured.remote.clone().map(Value::from)),
    ]);
    let ci = captured.ci.as_ref().map(|c| {
        Value::Object(
            c.to_map()
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::from(v)))
                .collect(),
        )
    });
    let change = object([
        ("id", p.change_id.clone().map(Value::from)),
        ("type", p.change_type.clone().map(Value::from)),
        ("risk", p.risk.clone().map(Value::from)),
    ]);
    let labels: Map<String, Value> = p
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    let non_empty = |v: Value| {
        if v.as_object().is_some_and(Map::is_empty) {
            Value::Null
        } else {
            v
        }
    };
    let string_map = |m: &BTreeMap<String, String>| {
        non_empty(Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                .collect(),
        ))
    };
    let entries: Vec<(&str, Value)> = vec![
        ("schema", json!(record::SCHEMA)),
        ("id", json!(id)),
        ("service", json!(p.service)),
        ("environment", json!(environment)),
        (
            "version",
            p.version.clone().map(Value::from).unwrap_or(Value::Null),
        ),
        (
            "strategy",
            p.strategy.clone().map(Value::from).unwrap_or(Value::Null),
        ),
        ("status", json!(Status::InProgress.as_str())),
        ("operator", operator.map(Value::from).unwrap_or(Value::Null)),
        ("started_at", json!(started)),
        ("git", non_empty(git)),
        ("ci", ci.unwrap_or(Value::Null)),
        ("tools", string_map(&captured.tools)),
        (
            "phases",
            json!([{ "name": first_phase, "started_at": started }]),
        ),
        ("change", non_empty(change)),
        ("labels", non_empty(Value::Object(labels))),
        ("env", string_map(&captured.env)),
        (
            "forced",
            if p.force && !open.is_empty() {
                json!({ "over": open })
            } else {
                Value::Null
            },
        ),
    ];
    let mut doc = Document::new(&entries, String::new());
    let record = Record::from_document(&doc).map_err(|e| {
        Error::user(format!(
            "internal: new record invalid: {} {}",
            e.key, e.message
        ))
    })?;
    let body = render_body(ledger, &record, p.note.as_deref())?;
    doc.set_body(body);
    precheck_commit(ledger)?;
    let mut undo = Undo::default();
    undo.keep(&ledger.abs(&rel));
    undo.keep(&ledger.pointer_file());
    ledger.save(&rel, &doc, true)?;
    if let Err(e) = ledger.set_pointer(&rel) {
        undo.restore();
        return Err(e);
    }
    let commit = maybe_commit(ledger, &rel, &record, "start", undo)?;
    Ok(Written {
        id,
        path: rel,
        commit,
        warnings,
        record: Box::new(record),
    })
}

/// Renders the body of a new record from the checklist template.
pub fn render_body(ledger: &Ledger, record: &Record, note: Option<&str>) -> Result<String> {
    let phases: Vec<Value> = ledger
        .config
        .phases
        .iter()
        .map(|name| json!({ "name": name, "items": ledger.config.checklist_for(name) }))
        .collect();
    let context = json!({
        "id": record.id,
        "service": record.service,
        "environment": record.environment,
        "version": record.version,
        "strategy": record.strategy,
        "status": record.status.as_str(),
        "operator": record.operator,
        "started_at": record.started_at.to_rfc3339(),
        "git": record.git,
        "ci": record.ci,
        "tools": record.tools,
        "change": record.change,
        "labels": record.labels,
        "note": note,
        "phases": phases,
        "badges": regions::badges(record),
        "timeline": regions::timeline(record),
    });
    crate::template::render(Some(&ledger.root), "checklist.md.j2", context)
}

/// Regenerates the badges and timeline regions from the frontmatter.
pub fn refresh_regions(doc: &mut Document, record: &Record) {
    let b = body::replace_region(doc.body(), "badges", &regions::badges(record));
    let b = body::replace_region(&b, "timeline", &regions::timeline(record));
    doc.set_body(b);
}

fn object<const N: usize>(pairs: [(&str, Option<Value>); N]) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

fn require_in_progress(loaded: &Loaded, action: &str) -> Result<()> {
    if loaded.record.status == Status::InProgress {
        return Ok(());
    }
    let finished = loaded
        .record
        .finished_at
        .map(|t| format!(" at {}", t.to_rfc3339()))
        .unwrap_or_default();
    Err(Error::user_hint(
        format!(
            "cannot {action}: {} already ended ({}{finished})",
            loaded.record.id, loaded.record.status
        ),
        "start a new deployment with `deploy-ledger start`, or pass --id of one in progress",
    ))
}

/// Phases with the open one closed at `now`, as frontmatter values.
pub fn closed_phases(doc: &Document, now: DateTime<Utc>) -> Vec<Value> {
    let mut phases: Vec<Value> = doc
        .get("phases")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Object(last)) = phases.last_mut() {
        if last.get("finished_at").is_none_or(Value::is_null) {
            let started = last
                .get("started_at")
                .and_then(Value::as_str)
                .and_then(|s| record::parse_time(s).ok());
            last.insert("finished_at".into(), json!(format_time(now)));
            if let Some(s) = started {
                last.insert(
                    "duration_seconds".into(),
                    json!((now - s.with_timezone(&Utc)).num_seconds().max(0)),
                );
            }
        }
    }
    phases
}

fn reparse(doc: &Document, path: &Path) -> Result<Record> {
    Record::from_document(doc).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        line: doc.line_of(&e.key).unwrap_or(1),
        message: format!("`{}` {}", e.key, e.message),
    })
}

/// Refuses a clock earlier than the latest time of the record (its start,
/// a phase's start or finish): the record would be out of order, which
/// `validate` rejects.
fn check_not_before(record: &Record, now: DateTime<Utc>) -> Result<()> {
    let mut latest = (record.started_at, format!("{} started", record.id));
    for p in &record.phases {
        // On a tie the later event names it: the open phase, as the user sees it.
        if p.started_at >= latest.0 {
            latest = (
                p.started_at,
                format!("phase `{}` of {} started", p.name, record.id),
            );
        }
        if let Some(f) = p.finished_at.filter(|f| *f > latest.0) {
            latest = (f, format!("phase `{}` of {} finished", p.name, record.id));
        }
    }
    if now < latest.0.with_timezone(&Utc) {
        return Err(Error::user_hint(
            format!(
                "now ({}) is before {} ({})",
                format_time(now),
                latest.1,
                latest.0.to_rfc3339()
            ),
            "check the clock, or DEPLOY_LEDGER_NOW",
        ));
    }
    Ok(())
}

/// Closes the open phase and opens `name`.
pub fn phase(ledger: &Ledger, selector: &Selector, name: &str) -> Result<Written> {
    record::check_slug("phase", name)?;
    let _lock = StateLock::acquire(ledger)?;
    let mut loaded = ledger.resolve(selector)?;
    require_in_progress(&loaded, &format!("open phase `{name}`"))?;
    if loaded.record.open_phase().is_some_and(|p| p.name == name) {
        return Err(Error::user_hint(
            format!("phase `{name}` is already open on {}", loaded.record.id),
            "name the next phase, or `deploy-ledger finish`",
        ));
    }
    let mut warnings = Vec::new();
    if !ledger.config.phases.iter().any(|p| p == name) {
        warnings.push(format!(
            "phase `{name}` is not in the configured phases ({})",
            ledger.config.phases.join(", ")
        ));
    }
    let now = clock::now()?;
    check_not_before(&loaded.record, now)?;
    let mut phases = closed_phases(&loaded.doc, now);
    phases.push(json!({ "name": name, "started_at": format_time(now) }));
    loaded.doc.set("phases", Value::Array(phases));
    save_advanced(ledger, loaded, "phase", warnings)
}

/// What `check` did.
#[derive(Debug, Clone)]
pub struct Ticked {
    pub written: Written,
    /// The item, as it is now.
    pub item: body::Item,
    /// The body's checklist items after the change: (total, done).
    pub counts: (u64, u64),
}

/// Ticks (or unticks) a checklist item of the body.
pub fn check(ledger: &Ledger, selector: &Selector, item: &str, done: bool) -> Result<Ticked> {
    let _lock = StateLock::acquire(ledger)?;
    let mut loaded = ledger.resolve(selector)?;
    let (new_body, ticked) = body::tick(loaded.doc.body(), item, done)?;
    loaded.doc.set_body(new_body);
    let counts = body::count(loaded.doc.body());
    if loaded.record.status.is_final() {
        let (total, done) = counts;
        let counts = with_keys(&loaded.doc, "checklist", [("total", total), ("done", done)]);
        loaded.doc.set("checklist", counts);
    }
    Ok(Ticked {
        written: save_advanced(ledger, loaded, "check", Vec::new())?,
        item: ticked,
        counts,
    })
}

/// The mapping at `key` with these entries set, and any other entries it
/// has (keys the tool does not know) kept in place.
fn with_keys<const N: usize>(doc: &Document, key: &str, pairs: [(&str, u64); N]) -> Value {
    let mut map = doc
        .get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in pairs {
        map.insert(k.to_string(), json!(v));
    }
    Value::Object(map)
}

/// Finishes a deployment: closes the open phase, sets the outcome, the
/// duration and the checklist counts.
pub fn finish(
    ledger: &Ledger,
    selector: &Selector,
    status: Status,
    reason: Option<&str>,
) -> Result<Written> {
    if !matches!(status, Status::Success | Status::Failed | Status::Cancelled) {
        return Err(Error::user_hint(
            format!("`finish --status {status}` is not an outcome"),
            "use success, failed or cancelled (a rollback is `deploy-ledger rollback`)",
        ));
    }
    check_reason(status, reason)?;
    let _lock = StateLock::acquire(ledger)?;
    let mut loaded = ledger.resolve(selector)?;
    require_in_progress(&loaded, "finish")?;
    let now = clock::now()?;
    check_not_before(&loaded.record, now)?;
    let phases = closed_phases(&loaded.doc, now);
    let (total, done) = body::count(loaded.doc.body());
    let doc = &mut loaded.doc;
    doc.set("status", json!(status.as_str()));
    doc.set("finished_at", json!(format_time(now)));
    doc.set(
        "duration_seconds",
        json!((now - loaded.record.started_at.with_timezone(&Utc)).num_seconds()),
    );
    doc.set("phases", Value::Array(phases));
    let counts = with_keys(doc, "checklist", [("total", total), ("done", done)]);
    doc.set("checklist", counts);
    if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
        doc.set("failure", json!({ "reason": reason.trim() }));
    }
    let mut warnings = Vec::new();
    if status == Status::Success && done < total {
        warnings.push(format!(
            "{} of {total} checklist items are not ticked",
            total - done
        ));
    }
    let written = save_advanced(ledger, loaded, "finish", warnings)?;
    // Only once written (and committed): a failed finish leaves it in place.
    ledger.clear_pointer_if(&written.path);
    Ok(written)
}

/// Refreshes the regions, writes, and commits if configured.
fn save_advanced(
    ledger: &Ledger,
    mut loaded: Loaded,
    action: &str,
    warnings: Vec<String>,
) -> Result<Written> {
    let record = reparse(&loaded.doc, &loaded.path)?;
    refresh_regions(&mut loaded.doc, &record);
    precheck_commit(ledger)?;
    let mut undo = Undo::default();
    undo.keep(&ledger.abs(&loaded.path));
    ledger.save(&loaded.path, &loaded.doc, false)?;
    let commit = maybe_commit(ledger, &loaded.path, &record, action, undo)?;
    Ok(Written {
        id: record.id.clone(),
        path: loaded.path,
        commit,
        warnings,
        record: Box::new(record),
    })
}

/// Commits the record alone when `--commit` or `commit = true`; if the
/// commit fails, `undo` puts back what the command wrote.
pub fn maybe_commit(
    ledger: &Ledger,
    rel: &Path,
    record: &Record,
    action: &str,
    undo: Undo,
) -> Result<Option<String>> {
    if !ledger.config.commit {
        return Ok(None);
    }
    let message = format!(
        "deploy({}): {action} {} [{}]",
        record.service, record.id, record.environment
    );
    commit_or_undo(ledger, &[rel], &message, undo).map(Some)
}

/// Before writing anything: with `--commit`, checks that git can commit
/// (an identity), so that a command that cannot commit writes nothing.
pub fn precheck_commit(ledger: &Ledger) -> Result<()> {
    if ledger.config.commit {
        ledger.repo.can_commit()?;
    }
    Ok(())
}

/// Commits `rels` alone; on failure restores the files `undo` kept, so the
/// error leaves nothing written.
pub fn commit_or_undo(
    ledger: &Ledger,
    rels: &[&Path],
    message: &str,
    undo: Undo,
) -> Result<String> {
    ledger.repo.commit_files(rels, message).map_err(|e| {
        undo.restore();
        let hint = e
            .hint()
            .unwrap_or_else(|| "fix the cause and run the command again".into());
        Error::user_hint(
            format!("could not commit {}: {e}", rels[0].display()),
            format!("{hint}; nothing was written (the record is as it was before)"),
        )
    })
}

/// The files a command is about to write, as they were, to put back if its
/// commit fails.
#[derive(Debug, Default)]
pub struct Undo {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// Folders that did not exist yet, deepest first.
    folders: Vec<PathBuf>,
}

impl Undo {
    /// Remembers `path` (absolute) as it is now: its bytes, or that it is
    /// absent (and which of its folders are).
    pub fn keep(&mut self, path: &Path) {
        let before = std::fs::read(path).ok();
        if before.is_none() {
            let missing = path.ancestors().skip(1).take_while(|d| !d.exists());
            self.folders.extend(missing.map(Path::to_path_buf));
        }
        self.files.push((path.to_path_buf(), before));
    }

    /// Remembers that `path` (absolute) was created by this command.
    pub fn created(&mut self, path: &Path) {
        self.files.push((path.to_path_buf(), None));
    }

    /// Puts every kept file back, best effort.
    pub fn restore(self) {
        for (path, before) in self.files.into_iter().rev() {
            match before {
                Some(bytes) => {
                    let _ = crate::ledger::write_atomic(&path, &bytes, false);
                }
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        // Only if still empty: `remove_dir` leaves a folder with files.
        for folder in self.folders {
            let _ = std::fs::remove_dir(&folder);
        }
    }
}
