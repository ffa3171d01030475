//! Checking records (SPEC §3 `validate`): pure functions over file texts, so
//! that the command, the pre-push hook (`validate --rev`) and others share
//! them. Every problem carries the file, the 1-based line and a message.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

use crate::error::Error;
use crate::record::{self, frontmatter, Document, Record, Status};

/// One problem of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    /// A stable word for scripts: yaml, missing, schema, slug, status, time,
    /// duration, id, duplicate, stale, field, encoding.
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

/// Checks every source, then the ids across them (duplicates). Context
/// sources only contribute their ids, first, so that a duplicate is reported
/// on the checked file.
pub fn check_all(sources: &[Source], options: &Options) -> Report {
    let mut report = Report::default();
    let mut seen: HashMap<String, String> = HashMap::new();
    for source in sources.iter().filter(|s| s.context) {
        if let Some((_, Some((id, _)))) = check_one(source, options) {
            seen.entry(id).or_insert_with(|| source.path.clone());
        }
    }
    for source in sources.iter().filter(|s| !s.context) {
        let Some((mut problems, id)) = check_one(source, options) else {
            continue;
        };
        report.checked += 1;
        if let Some((id, line)) = id {
            match seen.get(&id) {
                Some(first) => problems.push(Problem {
                    path: source.path.clone(),
                    line,
                    kind: "duplicate",
                    message: format!("duplicate id `{id}` (also in {first})"),
                }),
                None => {
                    seen.insert(id, source.path.clone());
                }
            }
        }
        // One file's problems in the order of its lines.
        problems.sort_by_key(|p| p.line);
        report.problems.extend(problems);
    }
    report
}

/// A record's id and the line it is written on.
pub type IdAt = (String, usize);

/// Checks one file. None when it is not a record (no frontmatter, not named
/// explicitly); else its problems and its id with the id's line, if readable.
pub fn check_one(source: &Source, options: &Options) -> Option<(Vec<Problem>, Option<IdAt>)> {
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
            return Some((problems, None));
        }
        Err(other) => {
            push(1, "yaml", other.to_string());
            return Some((problems, None));
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
    // Required fields, each reported, before the typed view (which stops at
    // the first).
    let mut missing = false;
    for key in ["id", "service", "environment", "status", "started_at"] {
        match doc.get(key) {
            None | Some(Value::Null) => {
                missing = true;
                push(1, "missing", format!("`{key}` is missing"));
            }
            Some(Value::Array(_) | Value::Object(_)) => {
                missing = true;
                push(
                    line_of(key),
                    "field",
                    format!("`{key}` must be a single value, not a list or a mapping"),
                );
            }
            Some(v) if crate::yaml::scalar_text(v).trim().is_empty() => {
                missing = true;
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
    if missing {
        return Some((problems, None));
    }
    let record = match Record::from_document(&doc) {
        Ok(r) => r,
        Err(e) => {
            if e.key == "status" {
                let words: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                push(
                    line_of("status"),
                    "status",
                    format!("{} (use one of: {})", e.message, words.join(", ")),
                );
            } else {
                push(
                    line_of(&e.key),
                    "field",
                    format!("`{}` {}", e.key, e.message),
                );
            }
            let id = doc
                .get("id")
                .map(|v| (crate::yaml::scalar_text(v), line_of("id")));
            return Some((problems, id));
        }
    };
    check_id(&record, path, &line_of, &mut push);
    check_times(&record, &doc, &line_of, &mut push);
    if let Some(hours) = options.stale_after_hours {
        if record.status == Status::InProgress {
            let open = options.now - record.started_at.with_timezone(&Utc);
            if open.num_hours() >= hours as i64 {
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
    }
    Some((problems, Some((record.id.clone(), line_of("id")))))
}

/// The id's shape, and that the file is named after it.
fn check_id(
    r: &Record,
    path: &str,
    line_of: &dyn Fn(&str) -> usize,
    push: &mut dyn FnMut(usize, &'static str, String),
) {
    let base = format!(
        "DEP-{}-{}-{}",
        r.started_at.with_timezone(&Utc).format("%Y-%m-%d-%H-%M"),
        r.service,
        r.environment
    );
    // A name that is not a slug is reported already; an id built from it
    // would only repeat that.
    let slugs = record::is_slug(&r.service) && record::is_slug(&r.environment);
    let suffix_ok = !slugs
        || r.id
            .strip_prefix(&base)
            .is_some_and(|rest| rest.is_empty() || is_collision_suffix(rest));
    if !suffix_ok {
        push(
            line_of("id"),
            "id",
            format!(
                "id `{}` does not match its start time, service and environment (expected `{base}`)",
                r.id
            ),
        );
    }
    let stem = Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != r.id {
        push(
            line_of("id"),
            "id",
            format!("id `{}` differs from the file name `{stem}.md`", r.id),
        );
    }
}

/// `-2`, `-3`…: the suffix a colliding id gets.
fn is_collision_suffix(rest: &str) -> bool {
    rest.strip_prefix('-').is_some_and(|n| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && n.parse::<u64>().is_ok_and(|n| n >= 2)
    })
}

/// started ≤ each phase's start ≤ its finish ≤ the next phase's start ≤
/// finished; durations agree with the times; the status agrees with
/// `finished_at`.
fn check_times(
    r: &Record,
    doc: &Document,
    line_of: &dyn Fn(&str) -> usize,
    push: &mut dyn FnMut(usize, &'static str, String),
) {
    let t = |d: DateTime<FixedOffset>| d.to_rfc3339();
    let phases_line = line_of("phases");
    // Each phase is one line of a block list in records the tool writes.
    let phase_line = |i: usize| match doc.raw("phases") {
        Some(raw) if raw.lines().count() > r.phases.len() => phases_line + 1 + i,
        _ => phases_line,
    };
    match (r.status, r.finished_at) {
        (Status::InProgress, Some(_)) => push(
            line_of("finished_at"),
            "status",
            "status is in-progress but `finished_at` is set".into(),
        ),
        (s, None) if s.is_final() => push(
            line_of("status"),
            "missing",
            format!("status is {s} but `finished_at` is missing"),
        ),
        _ => {}
    }
    if let Some(f) = r.finished_at {
        if f < r.started_at {
            push(
                line_of("finished_at"),
                "time",
                format!(
                    "finished_at {} is before started_at {}",
                    t(f),
                    t(r.started_at)
                ),
            );
        } else if let Some(d) = r.duration_seconds {
            let expected = (f - r.started_at).num_seconds();
            if (d - expected).abs() > 1 {
                push(
                    line_of("duration_seconds"),
                    "duration",
                    format!("duration_seconds is {d} but finished_at − started_at is {expected}"),
                );
            }
        }
    }
    if let Some(d) = r.duration_seconds {
        if d < 0 {
            push(
                line_of("duration_seconds"),
                "duration",
                format!("duration_seconds is negative ({d})"),
            );
        }
    }
    let mut previous = r.started_at;
    let mut previous_what = "started_at".to_string();
    for (i, p) in r.phases.iter().enumerate() {
        let line = phase_line(i);
        if p.started_at < previous {
            push(
                line,
                "time",
                format!(
                    "phase `{}` starts at {}, before {previous_what} {}",
                    p.name,
                    t(p.started_at),
                    t(previous)
                ),
            );
        }
        previous = p.started_at;
        previous_what = format!("phase `{}` started", p.name);
        if let Some(f) = p.finished_at {
            if f < p.started_at {
                push(
                    line,
                    "time",
                    format!(
                        "phase `{}` finishes at {}, before it starts at {}",
                        p.name,
                        t(f),
                        t(p.started_at)
                    ),
                );
            } else if let Some(d) = p.duration_seconds {
                let expected = (f - p.started_at).num_seconds();
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
            previous = previous.max(f);
            previous_what = format!("phase `{}` finished", p.name);
        } else if i + 1 < r.phases.len() || r.status.is_final() {
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
    if let Some(f) = r.finished_at {
        if f < previous && f >= r.started_at {
            push(
                line_of("finished_at"),
                "time",
                format!(
                    "finished_at {} is before {previous_what} {}",
                    t(f),
                    t(previous)
                ),
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
        let text = "---\nschema: 1\nid: DEP-x\nstatus: success\n---\n";
        let r = check_all(&[src("DEP-x.md", text)], &opts());
        let messages: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`service` is missing",
                "`environment` is missing",
                "`started_at` is missing"
            ]
        );
    }

    #[test]
    fn not_a_record_unless_named() {
        let mut s = src("notes.md", "# just notes\n");
        assert!(check_one(&s, &opts()).is_none());
        s.explicit = true;
        let (problems, _) = check_one(&s, &opts()).expect("checked");
        assert_eq!(problems[0].kind, "yaml");
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
    fn collision_suffix() {
        assert!(is_collision_suffix("-2"));
        assert!(is_collision_suffix("-12"));
        assert!(!is_collision_suffix("-1"));
        assert!(!is_collision_suffix("-x"));
        assert!(!is_collision_suffix("-"));
    }
}
