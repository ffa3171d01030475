//! Checking records (SPEC §3 `validate`): pure functions over file texts, so
//! that the command, the pre-push hook (`validate --rev`) and others share
//! them. Every problem carries the file, the 1-based line and a message.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::error::Error;
use crate::record::{self, frontmatter, Document, Record, Status};

/// One problem of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    /// A stable word for scripts: yaml, missing, schema, slug, status, time,
    /// duration, id, duplicate, stale, field, encoding, link.
    pub kind: &'static str,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// What the checks need besides the files.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub now: DateTime<Utc>,
    /// In-progress records open this long or longer are stale; None: skip.
    pub stale_after_hours: Option<u64>,
}

/// A file to check: its path as shown in problems, and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: String,
    /// Given by name: a file without frontmatter is then a problem, not
    /// "not a record".
    pub explicit: bool,
    /// Only there so that a duplicate of its id among the others is found;
    /// its own problems are not reported.
    pub context: bool,
}

/// The outcome of checking a set of files.
#[derive(Debug, Default)]
pub struct Report {
    /// Files that are records (parsed or not).
    pub checked: usize,
    pub problems: Vec<Problem>,
}

/// Checks every source, then the ids across them: duplicates, and links
/// (`rollback.of`, `rolled_back_by`) to an id no source has. Context sources
/// only contribute their ids, first, so that a duplicate is reported on the
/// checked file.
pub fn check_all(sources: &[Source], options: &Options) -> Report {
    let mut report = Report::default();
    let mut seen: HashMap<String, String> = HashMap::new();
    // A file whose id cannot be read (broken YAML) is reported on its own;
    // its name stands for its id, so a link to it is not reported as well.
    let mut named: HashSet<String> = HashSet::new();
    let mut note_unread = |source: &Source, checked: &Checked| {
        if checked.id.is_none() {
            if let Some(stem) = Path::new(&source.path).file_stem() {
                named.insert(stem.to_string_lossy().into_owned());
            }
        }
    };
    for source in sources.iter().filter(|s| s.context) {
        if let Some(checked) = check_one(source, options) {
            note_unread(source, &checked);
            if let Some((id, _)) = checked.id {
                seen.entry(id).or_insert_with(|| source.path.clone());
            }
        }
    }
    let mut files = Vec::new();
    for source in sources.iter().filter(|s| !s.context) {
        let Some(mut checked) = check_one(source, options) else {
            continue;
        };
        report.checked += 1;
        note_unread(source, &checked);
        if let Some((id, line)) = &checked.id {
            match seen.get(id) {
                Some(first) => checked.problems.push(Problem {
                    path: source.path.clone(),
                    line: *line,
                    kind: "duplicate",
                    message: format!("duplicate id `{id}` (also in {first})"),
                }),
                None => {
                    seen.insert(id.clone(), source.path.clone());
                }
            }
        }
        files.push((source, checked));
    }
    for (source, mut checked) in files {
        for link in &checked.links {
            if !seen.contains_key(&link.id) && !named.contains(&link.id) {
                checked.problems.push(Problem {
                    path: source.path.clone(),
                    line: link.line,
                    kind: "link",
                    message: format!(
                        "`{}` names `{}`, which no record of the ledger has",
                        link.key, link.id
                    ),
                });
            }
        }
        // One file's problems in the order of its lines.
        checked.problems.sort_by_key(|p| p.line);
        report.problems.extend(checked.problems);
    }
    report
}

/// A record's id and the line it is written on.
pub type IdAt = (String, usize);

/// A record's reference to another record by id, well formed: whether a
/// record has that id is for [`check_all`] to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `rollback.of` or `rolled_back_by`.
    pub key: &'static str,
    pub id: String,
    pub line: usize,
}

/// What checking one file found.
#[derive(Debug, Default)]
pub struct Checked {
    pub problems: Vec<Problem>,
    /// Its id with the id's line, if readable.
    pub id: Option<IdAt>,
    pub links: Vec<Link>,
}

/// Checks one file. None when it is not a record (no frontmatter, not named
/// explicitly); else its problems, its id and its links to other records.
pub fn check_one(source: &Source, options: &Options) -> Option<Checked> {
    let path = source.path.as_str();
    let mut problems = Vec::new();
    let mut push = |line: usize, kind: &'static str, message: String| {
        problems.push(Problem {
            path: path.to_string(),
            line,
            kind,
            message,
        })
    };
    if !frontmatter::has_frontmatter(&source.text) && !source.explicit {
        return None;
    }
    let doc = match Document::parse(&source.text, Path::new(path)) {
        Ok(doc) => doc,
        Err(Error::Yaml { line, message, .. }) => {
            push(line, "yaml", message);
            return Some(Checked {
                problems,
                ..Checked::default()
            });
        }
        Err(other) => {
            push(1, "yaml", other.to_string());
            return Some(Checked {
                problems,
                ..Checked::default()
            });
        }
    };
    let line_of = |key: &str| doc.line_of(key).unwrap_or(1);

    // Schema.
    match doc.get("schema") {
        None => push(1, "missing", "`schema` is missing (expected 1)".into()),
        Some(v) if v.as_u64() == Some(record::SCHEMA) => {}
        Some(v) => push(
            line_of("schema"),
            "schema",
            format!(
                "`schema: {}` is not supported (expected {})",
                crate::yaml::scalar_text(v),
                record::SCHEMA
            ),
        ),
    }
    // Required fields, each reported; the checks below skip what is missing.
    let mut unreadable: Vec<&str> = Vec::new();
    for key in ["id", "service", "environment", "status", "started_at"] {
        match doc.get(key) {
            None | Some(Value::Null) => {
                unreadable.push(key);
                push(1, "missing", format!("`{key}` is missing"));
            }
            Some(Value::Array(_) | Value::Object(_)) => {
                unreadable.push(key);
                push(
                    line_of(key),
                    "field",
                    format!("`{key}` must be a single value, not a list or a mapping"),
                );
            }
            Some(v) if crate::yaml::scalar_text(v).trim().is_empty() => {
                unreadable.push(key);
                push(line_of(key), "missing", format!("`{key}` is empty"));
            }
            Some(_) => {}
        }
    }
    for key in ["service", "environment"] {
        if let Some(Value::String(s)) = doc.get(key) {
            if !s.is_empty() && !record::is_slug(s) {
                push(
                    line_of(key),
                    "slug",
                    format!("{key} `{s}` is not a slug (a-z, 0-9, `.`, `_`, `-`; at most 64)"),
                );
            }
        }
    }
    let (fields, clean) = Fields::read(&doc, &unreadable, &line_of, &mut push);
    // The typed view stays the judge of what the other commands can read:
    // should it refuse a record the lenient reading passed, say so.
    if clean && unreadable.is_empty() {
        if let Err(e) = Record::from_document(&doc) {
            push(
                line_of(&e.key),
                "field",
                format!("`{}` {}", e.key, e.message),
            );
        }
    }
    check_id(&fields, path, &line_of, &mut push);
    check_times(&fields, &doc, &line_of, &mut push);
    if let (Some(hours), Some(Status::InProgress), Some(started)) =
        (options.stale_after_hours, fields.status, fields.started_at)
    {
        let open = options.now - started.with_timezone(&Utc);
        if crate::ledger::open_too_long(open, hours) {
            push(
                line_of("status"),
                "stale",
                format!(
                    "in progress for {} (stale after {hours}h): finish it or mark it cancelled",
                    crate::render::regions::human_duration(open.num_seconds())
                ),
            );
        }
    }
    let links = read_links(&doc, &line_of, &mut push);
    let id = fields.id.map(|id| (id, line_of("id")));
    Some(Checked {
        problems,
        id,
        links,
    })
}

/// The ids a record links to: `rollback: { of }` (on a rollback record) and
/// `rolled_back_by` (on the record it rolled back). One that is not an id at
/// all is reported here.
fn read_links(
    doc: &Document,
    line_of: &dyn Fn(&str) -> usize,
    push: &mut dyn FnMut(usize, &'static str, String),
) -> Vec<Link> {
    let mut written: Vec<(&'static str, &Value, usize)> = Vec::new();
    match doc.get("rollback") {
        None | Some(Value::Null) => {}
        Some(Value::Object(r)) => {
            // Flow style is one line; in block style, `of:` has its own.
            let line = line_of("rollback")
                + doc
                    .raw("rollback")
                    .and_then(|raw| {
                        raw.lines()
                            .skip(1)
                            .position(|l| l.trim_start().starts_with("of:"))
                    })
                    .map_or(0, |i| i + 1);
            match r.get("of") {
                None | Some(Value::Null) => push(
                    line,
                    "link",
                    "`rollback` has no `of` (the id of the deployment rolled back)".into(),
                ),
                Some(of) => written.push(("rollback.of", of, line)),
            }
        }
        Some(_) => push(
            line_of("rollback"),
            "field",
            "`rollback` is not a mapping".into(),
        ),
    }
    match doc.get("rolled_back_by") {
        None | Some(Value::Null) => {}
        Some(by) => written.push(("rolled_back_by", by, line_of("rolled_back_by"))),
    }
    let mut links = Vec::new();
    for (key, value, line) in written {
        if matches!(value, Value::Array(_) | Value::Object(_)) {
            push(
                line,
                "link",
                format!("`{key}` must be a record id, not a list or a mapping"),
            );
            continue;
        }
        let id = crate::yaml::scalar_text(value);
        if record::is_record_id(&id) {
            links.push(Link { key, id, line });
        } else {
            push(
                line,
                "link",
                format!(
                    "`{key}` `{}` is not a record id (DEP-YYYY-MM-DD-HH-MM-<service>-<environment>)",
                    crate::error::escape_controls(&id)
                ),
            );
        }
    }
    links
}

type Time = DateTime<FixedOffset>;

/// The fields the checks read, each read on its own: unlike
/// [`Record::from_document`], which stops at the first bad field, one bad
/// field here only leaves out the checks that need it, so that a record's
/// every problem is reported at once. None: missing or unreadable.
#[derive(Debug, Default, PartialEq)]
struct Fields {
    id: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    status: Option<Status>,
    started_at: Option<Time>,
    finished_at: Option<Time>,
    /// `finished_at` is written, readable or not.
    finished_set: bool,
    duration_seconds: Option<i64>,
    /// How many items `phases` has, readable or not (for their lines).
    phase_items: usize,
    phases: Vec<PhaseAt>,
}

/// A readable phase and its place in the list.
#[derive(Debug, PartialEq)]
struct PhaseAt {
    index: usize,
    name: String,
    started_at: Time,
    finished_at: Option<Time>,
    duration_seconds: Option<i64>,
}

impl Fields {
    /// Reads what it can, reporting each unreadable field, and whether there
    /// was none; `unreadable`: required keys reported already (missing,
    /// empty, not a scalar).
    fn read(
        doc: &Document,
        unreadable: &[&str],
        line_of: &dyn Fn(&str) -> usize,
        report: &mut dyn FnMut(usize, &'static str, String),
    ) -> (Fields, bool) {
        let mut clean = true;
        let mut push = |line: usize, kind: &'static str, message: String| {
            clean = false;
            report(line, kind, message);
        };
        let d = doc.data();
        // As Record::from_document reads text: `id: 1.10` is "1.10".
        let text = |key: &str| -> Option<String> {
            if unreadable.contains(&key) {
                return None;
            }
            match d.get(key)? {
                Value::Number(_) | Value::Bool(_) => doc
                    .raw(key)
                    .and_then(crate::yaml::raw_plain_scalar)
                    .or_else(|| Some(crate::yaml::scalar_text(&d[key]))),
                Value::String(s) => Some(s.clone()),
                _ => None,
            }
        };
        let mut f = Fields {
            id: text("id"),
            service: text("service"),
            environment: text("environment"),
            ..Fields::default()
        };
        if let Some(word) = text("status") {
            match word.parse::<Status>() {
                Ok(s) => f.status = Some(s),
                Err(e) => {
                    let words: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                    push(
                        line_of("status"),
                        "status",
                        format!("{e} (use one of: {})", words.join(", ")),
                    );
                }
            }
        }
        let mut time = |key: &str, value: Option<&Value>, line: usize| match read_time(value) {
            Ok(t) => t,
            Err(why) => {
                push(line, "field", format!("`{key}` {why}"));
                None
            }
        };
        if !unreadable.contains(&"started_at") {
            f.started_at = time("started_at", d.get("started_at"), line_of("started_at"));
        }
        f.finished_at = time("finished_at", d.get("finished_at"), line_of("finished_at"));
        f.finished_set = !matches!(d.get("finished_at"), None | Some(Value::Null));
        match d.get("duration_seconds") {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_i64() {
                Some(n) => f.duration_seconds = Some(n),
                None => push(
                    line_of("duration_seconds"),
                    "field",
                    "`duration_seconds` is not a whole number of seconds".into(),
                ),
            },
        }
        if !matches!(d.get("git"), None | Some(Value::Null | Value::Object(_))) {
            push(line_of("git"), "field", "`git` is not a mapping".into());
        }
        match d.get("phases") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                f.phase_items = items.len();
                for (index, item) in items.iter().enumerate() {
                    let line = phase_line(doc, items.len(), index, line_of);
                    let problem = |why: String| format!("`phases` {why}");
                    let Value::Object(p) = item else {
                        push(
                            line,
                            "field",
                            problem(format!("item {} is not a mapping", index + 1)),
                        );
                        continue;
                    };
                    let name = match p.get("name") {
                        None | Some(Value::Null | Value::Array(_) | Value::Object(_)) => {
                            push(
                                line,
                                "field",
                                problem(format!("item {} has no name", index + 1)),
                            );
                            continue;
                        }
                        Some(v) => crate::yaml::scalar_text(v),
                    };
                    let started = read_time(p.get("started_at"));
                    let finished = read_time(p.get("finished_at"));
                    for why in [&started, &finished]
                        .into_iter()
                        .filter_map(|t| t.as_ref().err())
                    {
                        push(line, "field", problem(why.clone()));
                    }
                    let (Ok(started), Ok(finished_at)) = (started, finished) else {
                        continue;
                    };
                    let Some(started_at) = started else {
                        push(
                            line,
                            "field",
                            problem(format!("phase `{name}` has no started_at")),
                        );
                        continue;
                    };
                    f.phases.push(PhaseAt {
                        index,
                        name,
                        started_at,
                        finished_at,
                        duration_seconds: p.get("duration_seconds").and_then(Value::as_i64),
                    });
                }
            }
            Some(_) => push(line_of("phases"), "field", "`phases` is not a list".into()),
        }
        (f, clean)
    }
}

/// A time field as Record::from_document reads it; Err: why it cannot be.
fn read_time(value: Option<&Value>) -> Result<Option<Time>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => record::parse_time(s)
            .map(Some)
            .map_err(|_| format!("`{s}` is not an RFC 3339 time with an offset")),
        Some(other) => Err(format!("`{other}` is not an RFC 3339 time")),
    }
}

/// The line of phase `index` of `items`: each phase is one line of a block
/// list in records the tool writes; else the line of `phases`.
fn phase_line(
    doc: &Document,
    items: usize,
    index: usize,
    line_of: &dyn Fn(&str) -> usize,
) -> usize {
    let phases_line = line_of("phases");
    match doc.raw("phases") {
        Some(raw) if raw.lines().count() > items => phases_line + 1 + index,
        _ => phases_line,
    }
}

/// The id's shape, and that the file is named after it.
fn check_id(
    f: &Fields,
    path: &str,
    line_of: &dyn Fn(&str) -> usize,
    push: &mut dyn FnMut(usize, &'static str, String),
) {
    let Some(id) = &f.id else { return };
    // A name that is not a slug is reported already; an id built from it
    // would only repeat that. Without a readable start time there is no
    // shape to compare with.
    if let (Some(started), Some(service), Some(environment)) =
        (f.started_at, &f.service, &f.environment)
    {
        let base = record::base_id(started.with_timezone(&Utc), service, environment);
        let slugs = record::is_slug(service) && record::is_slug(environment);
        let suffix_ok = !slugs
            || id
                .strip_prefix(&base)
                .is_some_and(|rest| rest.is_empty() || record::is_collision_suffix(rest));
        if !suffix_ok {
            push(
                line_of("id"),
                "id",
                format!(
                    "id `{id}` does not match its start time, service and environment (expected `{base}`)"
                ),
            );
        }
    }
    let stem = Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != id {
        push(
            line_of("id"),
            "id",
            format!("id `{id}` differs from the file name `{stem}.md`"),
        );
    }
}

/// started ≤ each phase's start ≤ its finish ≤ the next phase's start ≤
/// finished; durations agree with the times; the status agrees with
/// `finished_at`. Each check needs its fields readable.
fn check_times(
    f: &Fields,
    doc: &Document,
    line_of: &dyn Fn(&str) -> usize,
    push: &mut dyn FnMut(usize, &'static str, String),
) {
    let t = |d: Time| d.to_rfc3339();
    let is_final = f.status.is_some_and(Status::is_final);
    match f.status {
        Some(Status::InProgress) if f.finished_set => push(
            line_of("finished_at"),
            "status",
            "status is in-progress but `finished_at` is set".into(),
        ),
        Some(s) if s.is_final() && !f.finished_set => push(
            line_of("status"),
            "missing",
            format!("status is {s} but `finished_at` is missing"),
        ),
        _ => {}
    }
    if let (Some(fin), Some(start)) = (f.finished_at, f.started_at) {
        if fin < start {
            push(
                line_of("finished_at"),
                "time",
                format!("finished_at {} is before started_at {}", t(fin), t(start)),
            );
        } else if let Some(d) = f.duration_seconds {
            let expected = (fin - start).num_seconds();
            if (d - expected).abs() > 1 {
                push(
                    line_of("duration_seconds"),
                    "duration",
                    format!("duration_seconds is {d} but finished_at − started_at is {expected}"),
                );
            }
        }
    }
    if let Some(d) = f.duration_seconds {
        if d < 0 {
            push(
                line_of("duration_seconds"),
                "duration",
                format!("duration_seconds is negative ({d})"),
            );
        }
    }
    // The latest time so far and what it is.
    let mut previous = f.started_at.map(|s| (s, "started_at".to_string()));
    for p in &f.phases {
        let line = phase_line(doc, f.phase_items, p.index, line_of);
        if let Some((prev, what)) = previous.as_ref().filter(|(prev, _)| p.started_at < *prev) {
            push(
                line,
                "time",
                format!(
                    "phase `{}` starts at {}, before {what} {}",
                    p.name,
                    t(p.started_at),
                    t(*prev)
                ),
            );
        }
        previous = Some((p.started_at, format!("phase `{}` started", p.name)));
        if let Some(fin) = p.finished_at {
            if fin < p.started_at {
                push(
                    line,
                    "time",
                    format!(
                        "phase `{}` finishes at {}, before it starts at {}",
                        p.name,
                        t(fin),
                        t(p.started_at)
                    ),
                );
            } else if let Some(d) = p.duration_seconds {
                let expected = (fin - p.started_at).num_seconds();
                if (d - expected).abs() > 1 {
                    push(
                        line,
                        "duration",
                        format!(
                            "phase `{}` duration_seconds is {d} but its times give {expected}",
                            p.name
                        ),
                    );
                }
            }
            // A finish before the start (reported above) is not the latest.
            if fin >= p.started_at {
                previous = Some((fin, format!("phase `{}` finished", p.name)));
            }
        } else if p.index + 1 < f.phase_items || is_final {
            push(
                line,
                "time",
                format!(
                    "phase `{}` has no finished_at but is not the open phase",
                    p.name
                ),
            );
        }
    }
    if let (Some(fin), Some((prev, what))) = (f.finished_at, &previous) {
        if fin < *prev && f.started_at.is_none_or(|s| fin >= s) {
            push(
                line_of("finished_at"),
                "time",
                format!("finished_at {} is before {what} {}", t(fin), t(*prev)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            now: DateTime::parse_from_rfc3339("2025-01-15T15:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
            stale_after_hours: Some(24),
        }
    }

    fn src(path: &str, text: &str) -> Source {
        Source {
            path: path.into(),
            text: text.into(),
            explicit: false,
            context: false,
        }
    }

    const GOOD: &str = "---\nschema: 1\nid: DEP-2025-01-15-14-30-api-production\nservice: api\nenvironment: production\nstatus: success\nstarted_at: 2025-01-15T14:30:00Z\nfinished_at: 2025-01-15T14:45:00Z\nduration_seconds: 900\nphases:\n  - { name: planning, started_at: 2025-01-15T14:30:00Z, finished_at: 2025-01-15T14:35:00Z, duration_seconds: 300 }\n  - { name: execution, started_at: 2025-01-15T14:35:00Z, finished_at: 2025-01-15T14:45:00Z, duration_seconds: 600 }\n---\nbody\n";

    #[test]
    fn a_good_record_has_no_problems() {
        let r = check_all(
            &[src("x/DEP-2025-01-15-14-30-api-production.md", GOOD)],
            &opts(),
        );
        assert_eq!(r.problems, vec![]);
        assert_eq!(r.checked, 1);
    }

    #[test]
    fn times_out_of_order_name_the_phase_line() {
        let text = GOOD.replace(
            "finished_at: 2025-01-15T14:35:00Z, duration_seconds: 300",
            "finished_at: 2025-01-15T14:29:00Z, duration_seconds: 300",
        );
        let r = check_all(
            &[src("DEP-2025-01-15-14-30-api-production.md", &text)],
            &opts(),
        );
        let lines: Vec<String> = r.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            ["DEP-2025-01-15-14-30-api-production.md:11: phase `planning` finishes at 2025-01-15T14:29:00+00:00, before it starts at 2025-01-15T14:30:00+00:00"]
        );
    }

    #[test]
    fn duration_and_duplicates() {
        let text = GOOD.replace("duration_seconds: 900", "duration_seconds: 5");
        let a = src("a/DEP-2025-01-15-14-30-api-production.md", &text);
        let b = src("b/DEP-2025-01-15-14-30-api-production.md", GOOD);
        let r = check_all(&[a, b], &opts());
        let kinds: Vec<&str> = r.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, ["duration", "duplicate"]);
        assert_eq!(r.problems[0].line, 9);
        assert!(r.problems[1].message.contains("also in a/"));
    }

    #[test]
    fn missing_fields_are_all_reported() {
        // And what can be checked without them.
        let text = "---\nschema: 1\nid: DEP-x\nstatus: success\n---\n";
        let r = check_all(&[src("DEP-x.md", text)], &opts());
        let messages: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`service` is missing",
                "`environment` is missing",
                "`started_at` is missing",
                "status is success but `finished_at` is missing"
            ]
        );
    }

    #[test]
    fn the_lenient_reading_agrees_with_the_record() {
        let doc = Document::parse(GOOD, Path::new("x.md")).expect("parses");
        let record = Record::from_document(&doc).expect("a record");
        let (f, clean) = Fields::read(&doc, &[], &|_| 1, &mut |_, _, m| panic!("{m}"));
        assert!(clean);
        assert_eq!(f.id.as_deref(), Some(record.id.as_str()));
        assert_eq!(f.status, Some(record.status));
        assert_eq!(f.started_at, Some(record.started_at));
        assert_eq!(f.finished_at, record.finished_at);
        assert_eq!(f.duration_seconds, record.duration_seconds);
        let names: Vec<&str> = f.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["planning", "execution"]);
    }

    #[test]
    fn each_bad_phase_is_reported_on_its_line() {
        let text = GOOD
            .replace("status: success", "status: bogus")
            .replace(
                "started_at: 2025-01-15T14:35:00Z, finished_at: 2025-01-15T14:45:00Z",
                "started_at: soon, finished_at: 2025-01-15T14:45:00Z",
            )
            .replace("  - { name: planning", "  - oops\n  - { name: planning");
        let r = check_all(
            &[src("DEP-2025-01-15-14-30-api-production.md", &text)],
            &opts(),
        );
        let lines: Vec<String> = r.problems.iter().map(ToString::to_string).collect();
        let f = "DEP-2025-01-15-14-30-api-production.md";
        assert_eq!(
            lines,
            [
                format!("{f}:6: unknown status `bogus` (use one of: in-progress, success, failed, cancelled, rolled-back)"),
                format!("{f}:11: `phases` item 1 is not a mapping"),
                format!("{f}:13: `phases` `soon` is not an RFC 3339 time with an offset"),
            ]
        );
    }

    #[test]
    fn not_a_record_unless_named() {
        let mut s = src("notes.md", "# just notes\n");
        assert!(check_one(&s, &opts()).is_none());
        s.explicit = true;
        let checked = check_one(&s, &opts()).expect("checked");
        assert_eq!(checked.problems[0].kind, "yaml");
    }

    #[test]
    fn context_sources_only_lend_their_ids() {
        let mut other = src("a/DEP-2025-01-15-14-30-api-production.md", GOOD);
        other.context = true;
        let stale = GOOD.replace("status: success", "status: exploded");
        let mut broken_context = src("c/x.md", &stale);
        broken_context.context = true;
        let checked = src("b/DEP-2025-01-15-14-30-api-production.md", GOOD);
        let r = check_all(&[checked, other, broken_context], &opts());
        assert_eq!(r.checked, 1);
        let lines: Vec<String> = r.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            ["b/DEP-2025-01-15-14-30-api-production.md:3: duplicate id `DEP-2025-01-15-14-30-api-production` (also in a/DEP-2025-01-15-14-30-api-production.md)"]
        );
    }

    #[test]
    fn links_resolve_across_files_and_block_style_names_the_of_line() {
        let of = GOOD.replace(
            "phases:\n",
            "rollback:\n  to_version: 1.0.0\n  of: DEP-2025-01-14-10-00-api-production\nphases:\n",
        );
        let alone = check_all(
            &[src("DEP-2025-01-15-14-30-api-production.md", &of)],
            &opts(),
        );
        let lines: Vec<String> = alone.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            ["DEP-2025-01-15-14-30-api-production.md:12: `rollback.of` names `DEP-2025-01-14-10-00-api-production`, which no record of the ledger has"]
        );
        // A broken file named after the id: reported for its YAML only.
        let broken = src(
            "DEP-2025-01-14-10-00-api-production.md",
            "---\nid: [\n---\n",
        );
        let r = check_all(
            &[src("DEP-2025-01-15-14-30-api-production.md", &of), broken],
            &opts(),
        );
        let kinds: Vec<&str> = r.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, ["yaml"]);
    }

    #[test]
    fn record_ids() {
        use record::is_record_id;
        assert!(is_record_id("DEP-2025-01-15-14-30-api-production"));
        assert!(is_record_id("DEP-2025-01-15-14-30-api-gateway-eu.prod-2"));
        assert!(!is_record_id("DEP-2025-01-15-14-30-"));
        assert!(!is_record_id("DEP-2025-01-15-1430-api-production"));
        assert!(!is_record_id("DEP-2025-01-15-14-30-Api-production"));
        assert!(!is_record_id("dep-2025-01-15-14-30-api-production"));
        assert!(!is_record_id("yesterday"));
        assert!(!is_record_id("DEP-2025-01-15-14-30-é"));
    }

    #[test]
    fn collision_suffix() {
        use record::is_collision_suffix;
        assert!(is_collision_suffix("-2"));
        assert!(is_collision_suffix("-12"));
        assert!(!is_collision_suffix("-1"));
        assert!(!is_collision_suffix("-x"));
        assert!(!is_collision_suffix("-"));
        // `-02` reads as `-2` but is another id.
        assert!(!is_collision_suffix("-02"));
        assert!(!is_collision_suffix("-0"));
    }

    #[test]
    fn an_id_with_a_zero_padded_suffix_is_reported() {
        let text = GOOD.replace(
            "id: DEP-2025-01-15-14-30-api-production",
            "id: DEP-2025-01-15-14-30-api-production-02",
        );
        let r = check_all(
            &[src("DEP-2025-01-15-14-30-api-production-02.md", &text)],
            &opts(),
        );
        let messages: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            ["id `DEP-2025-01-15-14-30-api-production-02` does not match its start time, service and environment (expected `DEP-2025-01-15-14-30-api-production`)"]
        );
    }
}
