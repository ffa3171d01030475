//! The record of one deployment (SPEC §2): a typed view over a [`Document`].

pub mod body;
pub mod frontmatter;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

pub use frontmatter::Document;

use crate::error::{Error, Result};
use crate::yaml;

pub const SCHEMA: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    InProgress,
    Success,
    Failed,
    Cancelled,
    RolledBack,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::InProgress,
        Status::Success,
        Status::Failed,
        Status::Cancelled,
        Status::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in-progress",
            Status::Success => "success",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::RolledBack => "rolled-back",
        }
    }

    /// Whether the deployment has ended (anything but in-progress).
    pub fn is_final(self) -> bool {
        self != Status::InProgress
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;

    /// Accepts the words of other systems and normalises them (SPEC §2).
    fn from_str(s: &str) -> Result<Self> {
        let word = s.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match word.as_str() {
            "in-progress" | "running" | "pending" | "inprogress" | "started" => Status::InProgress,
            "success" | "succeeded" | "successful" | "ok" | "done" => Status::Success,
            "failed" | "failure" | "error" | "errored" => Status::Failed,
            "cancelled" | "canceled" | "aborted" => Status::Cancelled,
            "rolled-back" | "rolledback" | "rollback" => Status::RolledBack,
            _ => {
                return Err(Error::user_hint(
                    format!("unknown status `{s}`"),
                    "use one of: in-progress, success, failed, cancelled, rolled-back",
                ))
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    pub name: String,
    pub started_at: DateTime<FixedOffset>,
    pub finished_at: Option<DateTime<FixedOffset>>,
    pub duration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GitInfo {
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub dirty: Option<bool>,
    pub remote: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rollback {
    pub of: Option<String>,
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    pub reason: Option<String>,
}

/// The typed fields of a record that commands and analytics use. The whole
/// frontmatter stays in the [`Document`]; this view never writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub id: String,
    pub service: String,
    pub environment: String,
    pub version: Option<String>,
    pub strategy: Option<String>,
    pub status: Status,
    pub operator: Option<String>,
    pub started_at: DateTime<FixedOffset>,
    pub finished_at: Option<DateTime<FixedOffset>>,
    pub duration_seconds: Option<i64>,
    pub git: GitInfo,
    pub ci: BTreeMap<String, String>,
    pub tools: BTreeMap<String, String>,
    pub phases: Vec<Phase>,
    pub checklist_total: Option<u64>,
    pub checklist_done: Option<u64>,
    pub change: BTreeMap<String, String>,
    /// Boxed: few records are rollbacks (96 bytes less in each of the
    /// others, held by the hundred thousand for a report).
    pub rollback: Option<Box<Rollback>>,
    pub failure_reason: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// A problem with one field, for `validate` (which adds the path and line).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub key: String,
    pub message: String,
}

impl Record {
    /// Reads the typed view of a parsed document.
    pub fn from_document(doc: &Document) -> Result<Self, FieldError> {
        let d = doc.data();
        let text = |key: &str| -> Option<String> {
            // A plain scalar keeps its written text: `version: 1.10` is "1.10".
            match d.get(key)? {
                Value::Number(_) | Value::Bool(_) => doc
                    .raw(key)
                    .and_then(yaml::raw_plain_scalar)
                    .or_else(|| Some(yaml::scalar_text(&d[key]))),
                Value::String(s) => Some(s.clone()),
                _ => None,
            }
        };
        let required = |key: &str| {
            text(key)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| missing(key))
        };
        let id = required("id")?;
        let service = required("service")?;
        let environment = required("environment")?;
        let status_text = required("status")?;
        let status = status_text
            .parse::<Status>()
            .map_err(|e| field("status", e.to_string()))?;
        let started_at =
            time(d.get("started_at"), "started_at")?.ok_or_else(|| missing("started_at"))?;
        let finished_at = time(d.get("finished_at"), "finished_at")?;
        let duration_seconds = match d.get("duration_seconds") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| field("duration_seconds", "is not a whole number of seconds"))?,
            ),
        };
        let git = match d.get("git") {
            Some(Value::Object(g)) => {
                let texts = scalar_texts(doc, "git", &["dirty"]);
                GitInfo {
                    commit: scalar_of(g, &texts, "commit"),
                    branch: scalar_of(g, &texts, "branch"),
                    tag: scalar_of(g, &texts, "tag"),
                    dirty: g.get("dirty").and_then(Value::as_bool),
                    remote: scalar_of(g, &texts, "remote"),
                }
            }
            None | Some(Value::Null) => GitInfo::default(),
            Some(_) => return Err(field("git", "is not a mapping")),
        };
        let mut phases = Vec::new();
        match d.get("phases") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                // Exact in size: three phases took the room of four.
                phases.reserve_exact(items.len());
                // A name YAML typed (`name: 1.10`) is read again as written.
                let texts = items
                    .iter()
                    .any(|p| {
                        p.get("name")
                            .is_some_and(|n| n.is_number() || n.is_boolean())
                    })
                    .then(|| doc.raw("phases").and_then(yaml::list_texts))
                    .flatten()
                    .filter(|t| t.len() == items.len());
                for (i, item) in items.iter().enumerate() {
                    let Value::Object(p) = item else {
                        return Err(field("phases", format!("item {} is not a mapping", i + 1)));
                    };
                    let name = match &texts {
                        Some(t) => t[i].get("name").cloned(),
                        None => str_of(p, "name"),
                    }
                    .ok_or_else(|| field("phases", format!("item {} has no name", i + 1)))?;
                    phases.push(Phase {
                        started_at: time(p.get("started_at"), "phases")?.ok_or_else(|| {
                            field("phases", format!("phase `{name}` has no started_at"))
                        })?,
                        finished_at: time(p.get("finished_at"), "phases")?,
                        duration_seconds: p.get("duration_seconds").and_then(Value::as_i64),
                        name,
                    });
                }
            }
            Some(_) => return Err(field("phases", "is not a list")),
        }
        let checklist = d.get("checklist").and_then(Value::as_object);
        let rollback = d.get("rollback").and_then(Value::as_object).map(|r| {
            let texts = scalar_texts(doc, "rollback", &[]);
            Box::new(Rollback {
                of: scalar_of(r, &texts, "of"),
                from_version: scalar_of(r, &texts, "from_version"),
                to_version: scalar_of(r, &texts, "to_version"),
                reason: scalar_of(r, &texts, "reason"),
            })
        });
        Ok(Record {
            id,
            service,
            environment,
            version: text("version"),
            strategy: text("strategy"),
            status,
            operator: text("operator"),
            started_at,
            finished_at,
            duration_seconds,
            git,
            ci: scalar_texts(doc, "ci", &[]),
            tools: scalar_texts(doc, "tools", &[]),
            phases,
            checklist_total: checklist
                .and_then(|c| c.get("total"))
                .and_then(Value::as_u64),
            checklist_done: checklist
                .and_then(|c| c.get("done"))
                .and_then(Value::as_u64),
            change: scalar_texts(doc, "change", &[]),
            rollback,
            failure_reason: d
                .get("failure")
                .and_then(Value::as_object)
                .and_then(|f| scalar_of(f, &scalar_texts(doc, "failure", &[]), "reason")),
            labels: scalar_texts(doc, "labels", &[]),
        })
    }

    /// Parses a record file's text into its document and typed view.
    pub fn parse(text: &str, path: &Path) -> Result<(Document, Record)> {
        let doc = Document::parse(text, path)?;
        let record = Record::from_document(&doc).map_err(|e| Error::Yaml {
            path: path.to_path_buf(),
            line: doc.line_of(&e.key).unwrap_or(1),
            message: format!("`{}` {}", e.key, e.message),
        })?;
        Ok((doc, record))
    }

    /// The record without what the reports never read (CI, tools, change,
    /// labels, the git branch, tag and remote): analytics holds every record
    /// of the ledger at once, and these maps were most of each one's memory.
    pub fn for_reports(mut self) -> Record {
        self.ci = BTreeMap::new();
        self.tools = BTreeMap::new();
        self.change = BTreeMap::new();
        self.labels = BTreeMap::new();
        self.git.branch = None;
        self.git.tag = None;
        self.git.remote = None;
        self
    }

    /// The open phase, if any (the last one, not yet finished).
    pub fn open_phase(&self) -> Option<&Phase> {
        self.phases.last().filter(|p| p.finished_at.is_none())
    }

    /// Duration of the deployment: the recorded one, else finish − start.
    pub fn duration(&self) -> Option<i64> {
        self.duration_seconds.or_else(|| {
            self.finished_at
                .map(|f| (f - self.started_at).num_seconds())
        })
    }
}

fn missing(key: &str) -> FieldError {
    field(key, "is missing")
}

fn field(key: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        key: key.to_string(),
        message: message.into(),
    }
}

/// The text of a scalar field of `map` from its [`scalar_texts`]; None for a
/// nested value.
fn scalar_of(
    map: &Map<String, Value>,
    texts: &BTreeMap<String, String>,
    key: &str,
) -> Option<String> {
    map.get(key)
        .filter(|v| !v.is_object() && !v.is_array())
        .and_then(|_| texts.get(key).cloned())
}

fn str_of(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::Null => None,
        Value::Object(_) | Value::Array(_) => None,
        v => Some(yaml::scalar_text(v)),
    }
}

/// The values of the mapping under `key` as text (nulls left out; empty when
/// `key` is no mapping). A value YAML typed as a
/// number or bool keeps its written text, as top-level keys do (SPEC §2:
/// `terraform: 1.10` is "1.10", not 1.1); `typed`: keys read as typed values
/// (`dirty`), which alone do not send the entry to be read again.
fn scalar_texts(doc: &Document, key: &str, typed: &[&str]) -> BTreeMap<String, String> {
    let Some(Value::Object(m)) = doc.get(key) else {
        return BTreeMap::new();
    };
    // Read again only where needed: most records are strings throughout,
    // and analytics reads them all without the YAML library.
    let retyped = m
        .iter()
        .any(|(k, v)| (v.is_number() || v.is_boolean()) && !typed.contains(&k.as_str()));
    if retyped {
        if let Some(texts) = doc.raw(key).and_then(yaml::mapping_texts) {
            return texts;
        }
    }
    m.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), yaml::scalar_text(v)))
        .collect()
}

fn time(value: Option<&Value>, key: &str) -> Result<Option<DateTime<FixedOffset>>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_time(s)
            .map(Some)
            .map_err(|_| field(key, format!("`{s}` is not an RFC 3339 time with an offset"))),
        Some(other) => Err(field(key, format!("`{other}` is not an RFC 3339 time"))),
    }
}

/// Parses an RFC 3339 time (also accepting a space for the `T`).
pub fn parse_time(s: &str) -> std::result::Result<DateTime<FixedOffset>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s.trim())
        .or_else(|_| DateTime::parse_from_rfc3339(&s.trim().replacen(' ', "T", 1)))
}

/// A time as written in records: RFC 3339, UTC, whole seconds.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The id a deployment started at `started` gets before any collision
/// suffix: `DEP-YYYY-MM-DD-HH-MM-<service>-<environment>` (UTC).
pub fn base_id(started: DateTime<Utc>, service: &str, environment: &str) -> String {
    format!(
        "DEP-{}-{service}-{environment}",
        started.format("%Y-%m-%d-%H-%M")
    )
}

/// Whether `rest` is an id's collision suffix: `-2`, `-3`… (`-02` would be
/// another id that reads the same).
pub fn is_collision_suffix(rest: &str) -> bool {
    rest.strip_prefix('-').is_some_and(|n| {
        !n.is_empty()
            && !n.starts_with('0')
            && n.bytes().all(|b| b.is_ascii_digit())
            && n.parse::<u64>().is_ok_and(|n| n >= 2)
    })
}

/// Whether `s` has the shape of a record id: `DEP-YYYY-MM-DD-HH-MM-` and a
/// name of slug characters (service, environment, maybe a collision
/// suffix). Which service and environment it names cannot be told apart
/// (both may contain `-`), so only the shape is checked.
pub fn is_record_id(s: &str) -> bool {
    const SHAPE: &[u8] = b"DEP-dddd-dd-dd-dd-dd-";
    let b = s.as_bytes();
    b.len() > SHAPE.len()
        && SHAPE.iter().zip(b).all(|(want, c)| match want {
            b'd' => c.is_ascii_digit(),
            _ => c == want,
        })
        && s[SHAPE.len()..].starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s[SHAPE.len()..]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Whether `s` is a slug: `[a-z0-9][a-z0-9._-]*`, at most 64 characters.
pub fn is_slug(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.len() <= 64
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Checks the name a filter flag (`--service`, `--env`) was given: one that
/// is not a slug could never match a record, so it is a typo, not an empty
/// result. The error names the flag.
pub fn check_filter_slug(flag: &str, what: &str, s: &str) -> Result<()> {
    check_slug(what, s)
        .map_err(|e| Error::user_hint(format!("--{flag}: {e}"), e.hint().unwrap_or_default()))
}

/// Checks a service or environment name; `what` names it in the error.
pub fn check_slug(what: &str, s: &str) -> Result<()> {
    if is_slug(s) {
        return Ok(());
    }
    let shown: String = s.chars().take(40).collect();
    let why = if s.is_empty() {
        "is empty".to_string()
    } else if s.len() > 64 {
        format!("is {} characters long (at most 64)", s.len())
    } else {
        "is not a slug".to_string()
    };
    // Escaped: a newline or a control character would split the message.
    let shown = crate::error::escape_controls(&shown);
    let (article, example) = match what {
        "environment" => ("an", "staging"),
        "phase" => ("a", "execution"),
        _ => ("a", "api-gateway"),
    };
    Err(Error::user_hint(
        format!("{what} `{shown}{}` {why}", if s.chars().count() > 40 { "…" } else { "" }),
        format!("{article} {what} name is lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, e.g. `{example}`"),
    ))
}
