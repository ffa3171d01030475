//! Complete records written after the fact: `record`, `import`, `rollback`
//! and the GitOps hook all build a finished record here, check it against the
//! ledger (idempotency) and write it. No clap here.
//!
//! Identity: two records are the same deployment when they have the same
//! service, environment and `started_at` (to the second). Writing a
//! deployment that is already present writes nothing; `record` refuses when
//! the present one says something else, `import` reports it and moves on.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::capture;
use crate::deploy::{self, StartParams, Written};
use crate::error::{Error, Result};
use crate::ledger::{Ledger, Summary};
use crate::record::{self, format_time, frontmatter, Document, Record, Status};

/// A phase with its times, `--phase name=START..END`.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpan {
    pub name: String,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
}

/// Which commit was deployed.
#[derive(Debug, Clone, Default)]
pub enum GitSource {
    /// `HEAD` of this clone, with its branch and tag (the default of `record`).
    #[default]
    Head,
    /// A revision of this clone (`--commit REV`), resolved to its sha.
    Rev(String),
    /// Taken as given (imports: the commit may not be in this clone).
    Given {
        commit: Option<String>,
        branch: Option<String>,
        tag: Option<String>,
    },
}

/// A complete deployment, as `record` and `import` describe it.
#[derive(Debug, Clone)]
pub struct Backfill {
    /// Service, environment, version, strategy, operator, change, labels, note.
    pub start: StartParams,
    /// An explicit record id (default: from the start time, service and environment).
    pub id: Option<String>,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub status: Status,
    pub reason: Option<String>,
    pub git: GitSource,
    pub phases: Vec<PhaseSpan>,
    /// Capture CI and the operator from this machine (`record` in CI); an
    /// import takes only what its file says.
    pub capture: bool,
    /// Extra frontmatter keys, written last (e.g. `import` provenance).
    pub extra: Vec<(String, Value)>,
}

/// A record built and checked, not yet written.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: String,
    pub path: PathBuf,
    pub doc: Document,
    pub record: Record,
    pub warnings: Vec<String>,
}

/// What writing a backfill did.
#[derive(Debug, Clone)]
pub enum Outcome {
    Written(Written),
    /// The same deployment is already in the ledger; `differs` lists the
    /// fields where the present record says something else.
    Present {
        id: String,
        path: PathBuf,
        differs: Vec<String>,
    },
}

/// Parses `NAME=START..END` (RFC 3339 times).
pub fn parse_phase(s: &str) -> Result<PhaseSpan> {
    let hint = "e.g. --phase execution=2025-01-15T14:32:00Z..2025-01-15T14:40:00Z";
    let (name, times) = s
        .split_once('=')
        .ok_or_else(|| Error::user_hint(format!("phase `{s}` is not NAME=START..END"), hint))?;
    let (a, b) = times
        .split_once("..")
        .ok_or_else(|| Error::user_hint(format!("phase `{s}` is not NAME=START..END"), hint))?;
    record::check_slug("phase", name.trim())?;
    Ok(PhaseSpan {
        name: name.trim().to_string(),
        started: parse_utc(a, &format!("phase `{}` start", name.trim()))?,
        finished: parse_utc(b, &format!("phase `{}` end", name.trim()))?,
    })
}

/// Parses an RFC 3339 time with an offset; `what` names it in the error.
pub fn parse_utc(s: &str, what: &str) -> Result<DateTime<Utc>> {
    record::parse_time(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::user_hint(
                format!(
                    "{what} `{}` is not an RFC 3339 time with an offset",
                    s.trim()
                ),
                "e.g. 2025-01-15T14:30:00Z or 2025-01-15T15:30:00+01:00",
            )
        })
}

/// The records of the ledger, indexed for identity checks and new ids.
pub struct Existing {
    ids: HashSet<String>,
    by_identity: HashMap<(String, String, i64), Summary>,
    /// Paths this run has written (so two new records never share a path).
    paths: HashSet<PathBuf>,
}

impl Existing {
    pub fn scan(ledger: &Ledger) -> Result<Existing> {
        let scan = ledger.scan()?;
        let mut ids = HashSet::new();
        let mut by_identity = HashMap::new();
        for s in scan.records {
            ids.insert(s.id.clone());
            by_identity.insert(identity(&s.service, &s.environment, s.started_at), s);
        }
        Ok(Existing {
            ids,
            by_identity,
            paths: HashSet::new(),
        })
    }

    /// The present record of the same deployment, if any.
    pub fn same(&self, record: &Record) -> Option<&Summary> {
        self.by_identity.get(&identity(
            &record.service,
            &record.environment,
            record.started_at,
        ))
    }

    pub fn contains_id(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Remembers a record written by this run.
    pub fn add(&mut self, record: &Record, path: &Path) {
        self.ids.insert(record.id.clone());
        self.paths.insert(path.to_path_buf());
        self.by_identity.insert(
            identity(&record.service, &record.environment, record.started_at),
            Summary {
                path: path.to_path_buf(),
                id: record.id.clone(),
                service: record.service.clone(),
                environment: record.environment.clone(),
                status: record.status,
                started_at: record.started_at,
            },
        );
    }
}

fn identity(
    service: &str,
    environment: &str,
    started: DateTime<chrono::FixedOffset>,
) -> (String, String, i64) {
    (
        service.to_string(),
        environment.to_string(),
        started.timestamp(),
    )
}

/// Builds the record of a backfill: checks names, times and the strategy,
/// resolves the commit, and picks a free id.
pub fn prepare(ledger: &Ledger, b: &Backfill, existing: &Existing) -> Result<Prepared> {
    let p = &b.start;
    record::check_slug("service", &p.service)?;
    deploy::check_params(p)?;
    deploy::check_reason(b.status, b.reason.as_deref())?;
    if let Some(s) = &p.strategy {
        deploy::check_strategy(ledger, s)?;
    }
    if b.status == Status::InProgress {
        return Err(Error::user_hint(
            "a backfilled record must be finished: status in-progress is not accepted",
            "use success, failed, cancelled or rolled-back (or `deploy-ledger start` for a running deployment)",
        ));
    }
    if b.finished < b.started {
        return Err(Error::user_hint(
            format!(
                "finished ({}) is before started ({})",
                format_time(b.finished),
                format_time(b.started)
            ),
            "swap the two times, or check their offsets",
        ));
    }
    let mut phases = b.phases.clone();
    phases.sort_by_key(|ph| ph.started);
    for ph in &phases {
        if ph.finished < ph.started {
            return Err(Error::user_hint(
                format!("phase `{}` ends before it starts", ph.name),
                "write it as NAME=START..END with START ≤ END",
            ));
        }
        if ph.started < b.started || ph.finished > b.finished {
            return Err(Error::user_hint(
                format!(
                    "phase `{}` ({}..{}) is outside the deployment ({}..{})",
                    ph.name,
                    format_time(ph.started),
                    format_time(ph.finished),
                    format_time(b.started),
                    format_time(b.finished)
                ),
                "phases must lie between --started and --finished",
            ));
        }
    }
    for pair in phases.windows(2) {
        if pair[1].started < pair[0].finished {
            return Err(Error::user_hint(
                format!("phases `{}` and `{}` overlap", pair[0].name, pair[1].name),
                "each phase starts when (or after) the previous one ends",
            ));
        }
    }

    let mut warnings = Vec::new();
    let ci = if b.capture {
        capture::ci::detect(&|name| std::env::var(name).ok().filter(|s| !s.trim().is_empty()))
    } else {
        None
    };
    let (git, head_branch) = git_value(ledger, &b.git, &mut warnings)?;
    let environment = if b.capture {
        capture::environment(
            p.environment.as_deref(),
            ci.as_ref(),
            head_branch.as_deref(),
            &ledger.config,
        )?
    } else {
        p.environment.clone().ok_or_else(|| {
            Error::user_hint(
                "no environment given",
                "give each deployment an environment",
            )
        })?
    };
    deploy::check_environment(ledger, &environment, &mut warnings)?;
    let operator = if b.capture {
        capture::operator(p.operator.as_deref(), ci.as_ref(), &ledger.repo)
    } else {
        p.operator.clone()
    };

    let id = match &b.id {
        Some(id) => {
            check_id(id, b.started, &p.service, &environment)?;
            id.clone()
        }
        None => deploy::new_id(b.started, &p.service, &environment, &|id| {
            existing.contains_id(id)
                || existing.paths.contains(&ledger.record_path(
                    id,
                    &p.service,
                    &environment,
                    b.started,
                ))
                || ledger
                    .abs(&ledger.record_path(id, &p.service, &environment, b.started))
                    .exists()
        }),
    };
    let path = ledger.record_path(&id, &p.service, &environment, b.started);

    let phases: Vec<Value> = phases
        .iter()
        .map(|ph| {
            json!({
                "name": ph.name,
                "started_at": format_time(ph.started),
                "finished_at": format_time(ph.finished),
                "duration_seconds": (ph.finished - ph.started).num_seconds(),
            })
        })
        .collect();
    let opt = |v: &Option<String>| v.clone().map(Value::from).unwrap_or(Value::Null);
    let change = object(&[
        ("id", &p.change_id),
        ("type", &p.change_type),
        ("risk", &p.risk),
    ]);
    let labels: Map<String, Value> = p
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    let ci_value = ci.as_ref().map(|c| {
        Value::Object(
            c.to_map()
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::from(v)))
                .collect(),
        )
    });
    let failure = b
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| json!({ "reason": r }));
    let mut entries: Vec<(&str, Value)> = vec![
        ("schema", json!(record::SCHEMA)),
        ("id", json!(id)),
        ("service", json!(p.service)),
        ("environment", json!(environment)),
        ("version", opt(&p.version)),
        ("strategy", opt(&p.strategy)),
        ("status", json!(b.status.as_str())),
        ("operator", opt(&operator)),
        ("started_at", json!(format_time(b.started))),
        ("finished_at", json!(format_time(b.finished))),
        (
            "duration_seconds",
            json!((b.finished - b.started).num_seconds()),
        ),
        ("git", git),
        ("ci", ci_value.unwrap_or(Value::Null)),
        (
            "phases",
            if phases.is_empty() {
                Value::Null
            } else {
                Value::Array(phases)
            },
        ),
        ("change", change),
        ("failure", failure.unwrap_or(Value::Null)),
        (
            "labels",
            if labels.is_empty() {
                Value::Null
            } else {
                Value::Object(labels)
            },
        ),
    ];
    for (k, v) in &b.extra {
        entries.push((k.as_str(), v.clone()));
    }
    // Known keys in their canonical order (`rollback` after `change`), others last.
    let rank = |k: &str| {
        frontmatter::KEY_ORDER
            .iter()
            .position(|o| *o == k)
            .unwrap_or(usize::MAX)
    };
    entries.sort_by_key(|(k, _)| rank(k));
    let mut doc = Document::new(&entries, String::new());
    let record = Record::from_document(&doc).map_err(|e| {
        Error::user(format!(
            "internal: backfilled record invalid: `{}` {}",
            e.key, e.message
        ))
    })?;
    // The after-the-fact line always; a --note follows it.
    let after = "Recorded after the fact; the checklist above was not kept during the deployment.";
    let note = match p.note.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(n) => format!("{after}\n\n{n}"),
        None => after.to_string(),
    };
    doc.set_body(deploy::render_body(ledger, &record, Some(&note))?);
    Ok(Prepared {
        id,
        path,
        doc,
        record,
        warnings,
    })
}

/// Checks an explicit id: `validate` (and so the pre-push hook) accepts
/// only the id derived from the start time, service and environment, or it
/// with a collision suffix `-2`, `-3`…, so nothing else may be written.
fn check_id(id: &str, started: DateTime<Utc>, service: &str, environment: &str) -> Result<()> {
    let base = crate::record::base_id(started, service, environment);
    let ok = id
        .strip_prefix(&base)
        .is_some_and(|rest| rest.is_empty() || crate::record::is_collision_suffix(rest));
    if ok {
        return Ok(());
    }
    let shown: String = id.chars().take(80).collect();
    Err(Error::user_hint(
        format!(
            "record id `{shown}` does not match the start time, service and environment (validate would reject it)"
        ),
        format!("leave the id out to derive `{base}`, or give `{base}-2`, `{base}-3`… for another deployment of the same minute"),
    ))
}

/// The `git` mapping of the record and the branch (for environment rules).
fn git_value(
    ledger: &Ledger,
    source: &GitSource,
    warnings: &mut Vec<String>,
) -> Result<(Value, Option<String>)> {
    let remote = ledger.repo.remote_url();
    let (commit, branch, tag) = match source {
        GitSource::Head => {
            let head = ledger.repo.head_info();
            (head.commit, head.branch, head.tag)
        }
        GitSource::Rev(rev) => match ledger.repo.resolve_commit(rev) {
            Ok(sha) => (Some(sha), None, None),
            Err(_) if is_hex_sha(rev) => {
                warnings.push(format!(
                    "commit {rev} is not in this clone; recorded as given"
                ));
                (Some(rev.to_ascii_lowercase()), None, None)
            }
            Err(_) => {
                return Err(Error::user_hint(
                    format!("--sha `{rev}` is not a revision of this repository"),
                    "pass a branch, tag or commit of this clone (e.g. --sha HEAD), or a full 40-digit commit id",
                ))
            }
        },
        GitSource::Given {
            commit,
            branch,
            tag,
        } => {
            if let Some(c) = commit {
                if !is_hex_sha(c) {
                    return Err(Error::user_hint(
                        format!("commit `{c}` is not a full commit id"),
                        "give the 40 (or 64) hexadecimal digits of the commit",
                    ));
                }
            }
            (
                commit.as_ref().map(|c| c.to_ascii_lowercase()),
                branch.clone(),
                tag.clone(),
            )
        }
    };
    let mut map = Map::new();
    for (k, v) in [("commit", &commit), ("branch", &branch), ("tag", &tag)] {
        if let Some(v) = v {
            map.insert(k.to_string(), Value::from(v.clone()));
        }
    }
    if let Some(r) = remote {
        if !matches!(source, GitSource::Given { .. }) {
            map.insert("remote".into(), Value::from(r));
        }
    }
    let value = if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    };
    Ok((value, branch))
}

/// Whether `s` is a full commit id (sha-1 or sha-256).
pub fn is_hex_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn object(pairs: &[(&str, &Option<String>)]) -> Value {
    let map: Map<String, Value> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Value::from(v.clone()))))
        .collect();
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

/// The fields where two records of the same deployment disagree.
pub fn differences(present: &Record, new: &Record) -> Vec<String> {
    let mut out = Vec::new();
    let mut cmp = |name: &str, a: Option<String>, b: Option<String>| {
        if a != b {
            out.push(format!(
                "{name}: {} here, {} in the ledger",
                b.as_deref().unwrap_or("none"),
                a.as_deref().unwrap_or("none")
            ));
        }
    };
    cmp(
        "status",
        Some(present.status.to_string()),
        Some(new.status.to_string()),
    );
    cmp(
        "finished_at",
        present
            .finished_at
            .map(|t| format_time(t.with_timezone(&Utc))),
        new.finished_at.map(|t| format_time(t.with_timezone(&Utc))),
    );
    cmp("version", present.version.clone(), new.version.clone());
    cmp("strategy", present.strategy.clone(), new.strategy.clone());
    cmp("operator", present.operator.clone(), new.operator.clone());
    cmp("commit", present.git.commit.clone(), new.git.commit.clone());
    cmp(
        "reason",
        present.failure_reason.clone(),
        new.failure_reason.clone(),
    );
    out
}

/// Writes a prepared record unless the same deployment is present.
pub fn write(
    ledger: &Ledger,
    prepared: Prepared,
    existing: &mut Existing,
    commit: bool,
) -> Result<Outcome> {
    if let Some(present) = existing.same(&prepared.record) {
        let path = present.path.clone();
        let differs = match ledger.load(&path) {
            Ok(loaded) => differences(&loaded.record, &prepared.record),
            // Written by this run and not on disk yet cannot happen; a file
            // that no longer parses is reported as differing.
            Err(e) => vec![format!("the present record does not parse: {e}")],
        };
        return Ok(Outcome::Present {
            id: present.id.clone(),
            path,
            differs,
        });
    }
    if existing.contains_id(&prepared.id) {
        return Err(Error::refused(
            format!("a different deployment already has the id {}", prepared.id),
            "leave --id out to derive a free id",
        ));
    }
    if commit {
        ledger.repo.can_commit()?;
    }
    let mut undo = deploy::Undo::default();
    undo.keep(&ledger.abs(&prepared.path));
    ledger.save(&prepared.path, &prepared.doc, true)?;
    existing.add(&prepared.record, &prepared.path);
    let commit_id = if commit {
        let message = format!(
            "deploy({}): record {} [{}]",
            prepared.record.service, prepared.id, prepared.record.environment
        );
        Some(deploy::commit_or_undo(
            ledger,
            &[prepared.path.as_path()],
            &message,
            undo,
        )?)
    } else {
        None
    };
    Ok(Outcome::Written(Written {
        id: prepared.id,
        path: prepared.path,
        commit: commit_id,
        warnings: prepared.warnings,
        record: Box::new(prepared.record),
    }))
}

/// `record`: builds, checks and writes one backfilled record; refuses (exit
/// 3) when the same deployment is present with other data.
pub fn record(ledger: &Ledger, b: &Backfill) -> Result<Outcome> {
    let _lock = deploy::StateLock::acquire(ledger)?;
    let mut existing = Existing::scan(ledger)?;
    let prepared = prepare(ledger, b, &existing)?;
    let outcome = write(ledger, prepared, &mut existing, ledger.config.commit)?;
    if let Outcome::Present { id, differs, .. } = &outcome {
        if !differs.is_empty() {
            return Err(Error::refused(
                format!(
                    "{id} is already recorded with other data ({})",
                    differs.join("; ")
                ),
                format!(
                    "edit {id} by hand, or pass another --started if this is another deployment"
                ),
            ));
        }
    }
    Ok(outcome)
}
