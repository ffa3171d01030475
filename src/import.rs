//! `import`: past deployments from a file, one record each (see the README
//! for the formats). Every row is checked on its own: a bad row is reported
//! with its line and the others are imported; rows already in the ledger
//! (same service, environment and start time) are skipped, so importing the
//! same file twice writes nothing the second time.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::backfill::{self, Backfill, Existing, GitSource, Outcome};
use crate::deploy::{self, StartParams, Written};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::record::Status;
use crate::yaml;

/// The formats `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.csv` by extension, else JSON (array, object or NDJSON); GitHub
    /// deployments are recognised item by item.
    Auto,
    Json,
    Csv,
}

/// What `import` is asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: Format,
    /// Service for rows (and GitHub deployments) that do not name one.
    pub service: Option<String>,
    /// Environment for rows that do not name one.
    pub environment: Option<String>,
    /// Check everything, write nothing.
    pub dry_run: bool,
}

/// Fields of the documented format; others are reported once and ignored.
pub const FIELDS: &[&str] = &[
    "id",
    "service",
    "environment",
    "env",
    "version",
    "status",
    "started_at",
    "finished_at",
    "operator",
    "commit",
    "branch",
    "tag",
    "strategy",
    "reason",
    "change_id",
    "change_type",
    "risk",
    "labels",
    "note",
];

/// Top-level fields of a GitHub deployment that `import` reads (with
/// `environment` and `id` of [`FIELDS`]): a CSV header naming one of them or
/// of [`FIELDS`] has known columns.
const GITHUB_FIELDS: &[&str] = &[
    "sha",
    "ref",
    "created_at",
    "updated_at",
    "state",
    "statuses",
    "statuses_url",
    "payload",
    "creator",
    "repository_url",
    "task",
    "description",
];

/// What happened to each row.
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<(usize, Written)>,
    /// (line, id, fields where the present record differs)
    pub present: Vec<(usize, String, Vec<String>)>,
    /// Rows left out on purpose (still in progress): (line, why).
    pub skipped: Vec<(usize, String)>,
    /// Rows that could not be taken: (line, why).
    pub rejected: Vec<(usize, String)>,
    pub warnings: Vec<String>,
    /// The commit of `--commit`.
    pub commit: Option<String>,
}

/// One item of the file: its line and its fields (or why it is unreadable).
type Item = (usize, std::result::Result<Map<String, Value>, String>);

/// What a row turns into.
enum Row {
    Take(Box<Backfill>),
    Skip(String),
}

/// Imports `file` into the ledger.
pub fn import(ledger: &Ledger, file: &Path, opts: &ImportOptions, commit: bool) -> Result<Report> {
    let text = match std::fs::read(file) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            Error::user_hint(
                format!(
                    "{}: not UTF-8 text (byte {})",
                    file.display(),
                    e.utf8_error().valid_up_to()
                ),
                "save the file as UTF-8",
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::user_hint(
                format!("import file {} does not exist", file.display()),
                "check the path (it is relative to the folder you run in)",
            ))
        }
        Err(e) => return Err(Error::io(file, e)),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(Error::user_hint(
            format!("{} is empty", file.display()),
            "give a JSON array, NDJSON or a CSV file with a header row (see `deploy-ledger import --help`)",
        ));
    }
    let format = match opts.format {
        Format::Auto
            if file
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("csv")) =>
        {
            Format::Csv
        }
        Format::Auto if text.trim_start().starts_with(['[', '{']) => Format::Json,
        Format::Auto => Format::Csv,
        f => f,
    };
    let items = match format {
        Format::Csv => csv_items(text, file)?,
        _ => json_items(text, file)?,
    };

    let mut report = Report::default();
    let mut unknown = BTreeSet::new();
    let _lock = deploy::StateLock::acquire(ledger)?;
    if commit && !opts.dry_run {
        ledger.repo.can_commit()?;
    }
    let mut existing = Existing::scan(ledger)?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for (line, item) in items {
        let fields = match item {
            Ok(f) => f,
            Err(why) => {
                report.rejected.push((line, why));
                continue;
            }
        };
        let row = if is_github(&fields) {
            github_row(&fields, opts)
        } else {
            let fields = export_names(fields);
            for k in fields.keys() {
                if !FIELDS.contains(&k.as_str()) {
                    unknown.insert(k.clone());
                }
            }
            plain_row(&fields, opts)
        };
        let b = match row {
            Ok(Row::Take(b)) => b,
            Ok(Row::Skip(why)) => {
                report.skipped.push((line, why));
                continue;
            }
            Err(why) => {
                report.rejected.push((line, why));
                continue;
            }
        };
        let prepared = match backfill::prepare(ledger, &b, &existing) {
            Ok(p) => p,
            Err(e) => {
                report.rejected.push((line, message(&e)));
                continue;
            }
        };
        if opts.dry_run {
            if let Some(present) = existing.same(&prepared.record) {
                report.present.push((line, present.id.clone(), Vec::new()));
            } else {
                existing.add(&prepared.record, &prepared.path);
                report.written.push((
                    line,
                    Written {
                        id: prepared.id,
                        path: prepared.path,
                        commit: None,
                        warnings: prepared.warnings,
                        record: Box::new(prepared.record),
                    },
                ));
            }
            continue;
        }
        match backfill::write(ledger, prepared, &mut existing, false) {
            Ok(Outcome::Written(w)) => {
                paths.push(w.path.clone());
                report.written.push((line, w));
            }
            Ok(Outcome::Present { id, differs, .. }) => report.present.push((line, id, differs)),
            Err(e) => report.rejected.push((line, message(&e))),
        }
    }
    if !unknown.is_empty() {
        report.warnings.push(format!(
            "{}: unknown fields ignored: {}",
            file.display(),
            unknown.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if commit && !paths.is_empty() {
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let message = format!("deploy: import {} records from {name}", paths.len());
        let mut undo = deploy::Undo::default();
        for p in &refs {
            undo.created(&ledger.abs(p));
        }
        report.commit = Some(deploy::commit_or_undo(ledger, &refs, &message, undo)?);
    }
    Ok(report)
}

/// An error as one line, with its hint.
fn message(e: &Error) -> String {
    match e.hint() {
        Some(h) => format!("{e} ({h})"),
        None => e.to_string(),
    }
}

/// JSON arrays (one or more, as `gh api --paginate` prints them), a single
/// object, or NDJSON (one object per line).
fn json_items(text: &str, file: &Path) -> Result<Vec<Item>> {
    let line_at = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    if text.trim_start().starts_with('[') {
        let mut out = Vec::new();
        let stream = serde_json::Deserializer::from_str(text).into_iter::<Vec<&RawValue>>();
        for array in stream {
            let array = array.map_err(|e| {
                Error::user_hint(
                    format!("{}:{}:{}: not valid JSON: {e}", file.display(), e.line(), e.column()),
                    "a JSON array is read as a whole and nothing was imported; fix it, or use NDJSON (one object per line) to import around bad lines",
                )
            })?;
            for raw in array {
                let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                out.push((line_at(offset), object(raw.get())));
            }
        }
        return Ok(out);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            return Ok(vec![(
                line_at(text.len() - text.trim_start().len()),
                Ok(map),
            )])
        }
        // One number, string, boolean or null: no deployment in it at all.
        Ok(other) => return Err(not_records(file, &format!("it is {}", json_kind(&other)))),
        Err(_) => {}
    }
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, object(l)))
        .collect())
}

fn object(text: &str) -> std::result::Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(format!(
            "expected an object with the deployment's fields, found {}",
            kind(&other)
        )),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

/// A value's type for "it is …" of a whole file.
fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "JSON null".into(),
        other => format!("{} in JSON", kind(other)),
    }
}

/// The error for a file that holds no deployment records at all (rather
/// than "nothing to import", which would read as "all already present").
fn not_records(file: &Path, why: &str) -> Error {
    Error::user_hint(
        format!(
            "{} is neither JSON deployment records nor a CSV with known columns: {why}",
            file.display()
        ),
        "give a JSON array of objects, NDJSON (one object per line) or a CSV whose header row names the fields (service, environment, status, started_at, …); nothing was imported (see `deploy-ledger import --help`)",
    )
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// CSV with a header row; empty cells are absent fields. A header that
/// names no known field is not a CSV of deployments (plain text, or JSON
/// that is one scalar): an error, not rows that all lack every field.
fn csv_items(text: &str, file: &Path) -> Result<Vec<Item>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let known = |h: &String| FIELDS.contains(&h.as_str()) || GITHUB_FIELDS.contains(&h.as_str());
    if !headers.iter().any(known) {
        let why = match serde_json::from_str::<Value>(text) {
            Ok(v) => format!("it is {}", json_kind(&v)),
            Err(_) => {
                let first = text
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or_default();
                let shown: String = first.trim().chars().take(60).collect();
                let more = if first.trim().chars().count() > 60 {
                    "…"
                } else {
                    ""
                };
                format!(
                    "its first line `{}{more}` names no known column",
                    crate::error::escape_controls(&shown)
                )
            }
        };
        return Err(not_records(file, &why));
    }
    // Lines come from byte offsets: the reader's own line count leaves out
    // blank lines. A record's raw text runs to the next record's start.
    let line_at = |byte: usize| text[..byte.min(text.len())].matches('\n').count() + 1;
    let rows: Vec<(usize, csv::Result<csv::StringRecord>)> = reader
        .records()
        .map(|r| {
            let byte = match &r {
                Ok(rec) => rec.position().map(|p| p.byte() as usize),
                Err(e) => e.position().map(|p| p.byte() as usize),
            };
            // The position is where the reader resumed: before any blank
            // lines it skipped on the way to the record.
            let mut byte = byte.unwrap_or(text.len()).min(text.len());
            byte += text[byte..].len() - text[byte..].trim_start_matches(['\r', '\n']).len();
            (byte, r)
        })
        .collect();
    let mut out = Vec::new();
    for (i, (start, result)) in rows.iter().enumerate() {
        let start = *start;
        let end = rows.get(i + 1).map(|(b, _)| *b).unwrap_or(text.len());
        let line = line_at(start);
        // A quote never closed swallows the rest of the file into the last
        // row; quoted fields (`""` inside one) keep the count of quotes
        // even, so an odd count there is that (a stray `"` inside an
        // unquoted field of an earlier row is read as text).
        let raw = text.get(start..end.max(start)).unwrap_or_default();
        if end == text.len() && raw.matches('"').count() % 2 == 1 {
            let last = line_at(end.saturating_sub(1).max(start));
            let swallowed = if last > line {
                format!(" (lines {line}–{last} were read as one field)")
            } else {
                String::new()
            };
            out.push((
                line,
                Err(format!(
                    "a `\"` opens a quoted field that is never closed{swallowed}: close the quote, or double a quote inside a quoted field (`\"\"`)"
                )),
            ));
            continue;
        }
        match result {
            Ok(rec) => {
                if rec.len() > headers.len() {
                    out.push((
                        line,
                        Err(format!(
                            "{} fields but the header has {}",
                            rec.len(),
                            headers.len()
                        )),
                    ));
                    continue;
                }
                if rec.iter().all(str::is_empty) {
                    continue;
                }
                let map: Map<String, Value> = headers
                    .iter()
                    .zip(rec.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), Value::from(v)))
                    .collect();
                out.push((line, Ok(map)));
            }
            Err(e) => out.push((line, Err(format!("unreadable CSV row: {e}")))),
        }
    }
    Ok(out)
}

/// A field as text: strings, and numbers or booleans as written.
fn text(fields: &Map<String, Value>, key: &str) -> std::result::Result<Option<String>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(yaml::scalar_text(v))),
        Some(other) => Err(format!("`{key}` is {}, not text", kind(other))),
    }
}

fn time(
    fields: &Map<String, Value>,
    key: &str,
) -> std::result::Result<Option<DateTime<Utc>>, String> {
    text(fields, key)?
        .map(|s| backfill::parse_utc(&s, &format!("`{key}`")).map_err(|e| message(&e)))
        .transpose()
}

/// A row of the documented format.
fn plain_row(f: &Map<String, Value>, opts: &ImportOptions) -> std::result::Result<Row, String> {
    let service = text(f, "service")?
        .or_else(|| opts.service.clone())
        .ok_or("no `service` (add the column, or pass --service)")?;
    let environment = match text(f, "environment")? {
        Some(e) => Some(e),
        None => text(f, "env")?,
    }
    .or_else(|| opts.environment.clone())
    .ok_or("no `environment` (add the column, or pass --env)")?;
    let status_text = text(f, "status")?.ok_or("no `status`")?;
    let status: Status = status_text.parse().map_err(|e: Error| message(&e))?;
    let started = time(f, "started_at")?.ok_or("no `started_at`")?;
    if status == Status::InProgress {
        return Ok(Row::Skip(format!(
            "still in progress (status `{status_text}`); import it again once it has finished"
        )));
    }
    let finished = time(f, "finished_at")?
        .ok_or_else(|| format!("no `finished_at` for a {status} deployment"))?;
    // A CSV cell of `export` is a JSON object; `key=value;key=value` is
    // the form written by hand.
    let cell;
    let labels = match f.get("labels") {
        Some(Value::String(s)) if s.trim_start().starts_with('{') => {
            cell = serde_json::from_str::<Value>(s)
                .map_err(|e| format!("`labels` is not a JSON object: {e}"))?;
            Some(&cell)
        }
        other => other,
    };
    let labels = match labels {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), yaml::scalar_text(v)))
            .collect(),
        Some(Value::String(s)) => s
            .split(';')
            .filter(|p| !p.trim().is_empty())
            .map(|p| deploy::parse_label(p).map_err(|e| message(&e)))
            .collect::<std::result::Result<Vec<_>, String>>()?,
        Some(other) => return Err(format!("`labels` is {}, not key=value pairs", kind(other))),
    };
    Ok(Row::Take(Box::new(Backfill {
        start: StartParams {
            service,
            environment: Some(environment),
            version: text(f, "version")?,
            strategy: text(f, "strategy")?,
            operator: text(f, "operator")?,
            change_id: text(f, "change_id")?,
            change_type: text(f, "change_type")?,
            risk: text(f, "risk")?,
            labels,
            note: text(f, "note")?,
            force: false,
        },
        id: text(f, "id")?,
        started,
        finished,
        status,
        reason: text(f, "reason")?,
        git: GitSource::Given {
            commit: text(f, "commit")?,
            branch: text(f, "branch")?,
            tag: text(f, "tag")?,
        },
        phases: Vec::new(),
        capture: false,
        extra: Vec::new(),
    })))
}

/// The names `export` writes, as the documented fields, so that an exported
/// ledger imports again: the CSV columns `git_commit`, `git_branch`,
/// `git_tag`, `change_risk`, `failure_reason`, and the JSON objects `git`,
/// `change` and `failure`. A documented field the row also has wins.
fn export_names(mut f: Map<String, Value>) -> Map<String, Value> {
    const FLAT: [(&str, &str); 5] = [
        ("git_commit", "commit"),
        ("git_branch", "branch"),
        ("git_tag", "tag"),
        ("change_risk", "risk"),
        ("failure_reason", "reason"),
    ];
    const NESTED: [(&str, &str, &str); 7] = [
        ("git", "commit", "commit"),
        ("git", "branch", "branch"),
        ("git", "tag", "tag"),
        ("change", "id", "change_id"),
        ("change", "type", "change_type"),
        ("change", "risk", "risk"),
        ("failure", "reason", "reason"),
    ];
    for (from, to) in FLAT {
        if let Some(v) = f.remove(from) {
            f.entry(to).or_insert(v);
        }
    }
    for (outer, key, to) in NESTED {
        if let Some(v) = f.get(outer).and_then(|o| o.get(key)).cloned() {
            f.entry(to).or_insert(v);
        }
    }
    for outer in ["git", "change", "failure"] {
        if f.get(outer).is_some_and(Value::is_object) {
            f.remove(outer);
        }
    }
    f
}

/// Whether an item is a deployment of GitHub's REST API.
fn is_github(f: &Map<String, Value>) -> bool {
    f.contains_key("statuses_url")
        || (f.contains_key("sha") && f.contains_key("created_at") && !f.contains_key("started_at"))
}

/// A GitHub deployment (`GET /repos/{owner}/{repo}/deployments`), with an
/// embedded `statuses` array (from `/deployments/{id}/statuses`) or a `state`.
fn github_row(f: &Map<String, Value>, opts: &ImportOptions) -> std::result::Result<Row, String> {
    let payload = f.get("payload").and_then(Value::as_object);
    let from_payload = |k: &str| {
        payload
            .and_then(|p| p.get(k))
            .filter(|v| v.is_string() || v.is_number())
            .map(yaml::scalar_text)
    };
    let environment = text(f, "environment")?
        .map(|e| e.to_ascii_lowercase())
        .or_else(|| opts.environment.clone())
        .ok_or("no `environment`")?;
    let started = time(f, "created_at")?.ok_or("no `created_at`")?;
    let (state, finished, status_reason) = github_state(f)?;
    let status = match state.as_str() {
        "success" | "inactive" => Status::Success,
        "failure" | "error" => Status::Failed,
        "in_progress" | "queued" | "pending" => {
            return Ok(Row::Skip(format!(
                "still in progress (state `{state}`); import it again once it has finished"
            )))
        }
        other => {
            return Err(format!(
                "unknown deployment state `{other}` (GitHub's are success, failure, error, inactive, in_progress, queued, pending)"
            ))
        }
    };
    let service = opts
        .service
        .clone()
        .or_else(|| from_payload("service"))
        .or_else(|| {
            text(f, "repository_url")
                .ok()
                .flatten()
                .and_then(|u| u.rsplit('/').next().map(|s| s.to_ascii_lowercase()))
        })
        .ok_or("no service: pass --service (GitHub deployments do not name one)")?;
    let finished = match finished {
        Some(t) => t,
        None => time(f, "updated_at")?.ok_or("no `updated_at` to take the finish time from")?,
    };
    let sha = text(f, "sha")?;
    let reference = text(f, "ref")?;
    let version =
        from_payload("version").or_else(|| reference.clone().filter(|r| Some(r) != sha.as_ref()));
    let mut labels = Vec::new();
    if let Some(id) = text(f, "id")? {
        labels.push(("github_deployment".to_string(), id));
    }
    if let Some(task) = text(f, "task")?.filter(|t| t != "deploy") {
        labels.push(("task".to_string(), task));
    }
    let description = text(f, "description")?;
    let reason = if status == Status::Failed {
        status_reason.or_else(|| description.clone())
    } else {
        None
    };
    let operator = f
        .get("creator")
        .and_then(|c| c.get("login"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Row::Take(Box::new(Backfill {
        start: StartParams {
            service,
            environment: Some(environment),
            version,
            operator,
            labels,
            note: description,
            ..StartParams::default()
        },
        id: None,
        started,
        finished,
        status,
        reason,
        git: GitSource::Given {
            commit: sha,
            branch: None,
            tag: None,
        },
        phases: Vec::new(),
        capture: false,
        extra: Vec::new(),
    })))
}

/// The deployment's state, finish time and failure description: from the
/// latest status that is not `inactive` (GitHub sets `inactive` on a success
/// once a newer deployment succeeds), else the first `inactive` one; from
/// `state` and `updated_at` without `statuses`.
#[allow(clippy::type_complexity)]
fn github_state(
    f: &Map<String, Value>,
) -> std::result::Result<(String, Option<DateTime<Utc>>, Option<String>), String> {
    match f.get("statuses") {
        Some(Value::Array(items)) => {
            let mut statuses = Vec::new();
            for (i, s) in items.iter().enumerate() {
                let s = s
                    .as_object()
                    .ok_or_else(|| format!("statuses[{i}] is not an object"))?;
                let state = text(s, "state")?
                    .ok_or_else(|| format!("statuses[{i}] has no `state`"))?
                    .to_ascii_lowercase();
                let at = time(s, "created_at")?
                    .ok_or_else(|| format!("statuses[{i}] has no `created_at`"))?;
                statuses.push((at, state, text(s, "description")?));
            }
            statuses.sort_by_key(|(at, _, _)| *at);
            if let Some((at, state, description)) =
                statuses.iter().rev().find(|(_, s, _)| s != "inactive")
            {
                return Ok((state.clone(), Some(*at), description.clone()));
            }
            match statuses.first() {
                Some((at, state, _)) => Ok((state.clone(), Some(*at), None)),
                None => Ok(("pending".into(), None, None)),
            }
        }
        Some(_) => Err("`statuses` is not an array".into()),
        None => match text(f, "state")? {
            Some(state) => Ok((state.to_ascii_lowercase(), None, None)),
            None => Err(
                "no `statuses` or `state`: embed the deployment's statuses (see the README)".into(),
            ),
        },
    }
}
