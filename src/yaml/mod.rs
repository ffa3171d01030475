//! Every YAML call of the program lives here, so that serde_yaml (deprecated
//! upstream) can be swapped for a maintained fork in one change.
//!
//! Reading turns YAML into `serde_json::Value`, which the rest of the program
//! works with. Writing emits the compact, diff-friendly style of SPEC §2:
//! scalars at the top level, flow maps (`{ a: 1, b: 2 }`) for nested objects
//! and a block list of flow maps for lists of objects (`phases`).

mod canonical;
mod implicit;

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A YAML parse error with the 1-based line inside the parsed text.
#[derive(Debug)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses a YAML document that must be a mapping (a frontmatter block).
pub fn parse_mapping(text: &str) -> Result<Map<String, Value>, ParseError> {
    // The style this program writes, read without the library (most of a
    // report's time on a large ledger); anything else goes to the library.
    if let Some(map) = canonical::parse(text) {
        return Ok(map);
    }
    parse_with_library(text)
}

/// [`parse_mapping`] through the YAML library only.
fn parse_with_library(text: &str) -> Result<Map<String, Value>, ParseError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| ParseError {
        line: e.location().map(|l| l.line()).unwrap_or(1),
        message: strip_location(&e.to_string()),
    })?;
    match to_json(value) {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(ParseError {
            line: 1,
            message: "the frontmatter is not a mapping of keys to values".into(),
        }),
    }
}

fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn to_json(value: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(n.to_string()))
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => scalar_text(&to_json(other)),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => to_json(tagged.value),
    }
}

/// The text of a scalar as a user would read it (`2` → "2", `true` → "true").
pub fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether `s` can be written as a plain (unquoted) scalar and read back as
/// the same string by any YAML reader, 1.1 or 1.2, in block and in flow
/// context. `time_key`: the value of a key ending in `_at` (`started_at`),
/// where a timestamp stays plain as SPEC §2 shows it, so that a YAML 1.1
/// reader gets the timestamp the key holds.
fn plain_is_safe(s: &str, time_key: bool) -> bool {
    if s.is_empty() || s.trim() != s || s.contains('\n') || s.contains('\t') {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    // Flow indicators end a scalar inside a flow map; `: ` and ` #` end it
    // anywhere (a `:` inside a word, as in times and URLs, is fine).
    if s.contains([',', '[', ']', '{', '}'])
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
    {
        return false;
    }
    // Anything a YAML 1.1 or 1.2 reader would type as a number, bool, null
    // or (outside time keys) a date.
    match implicit::implicit_type(s) {
        None => {}
        Some(implicit::Implicit::Timestamp) if time_key && s.contains(['T', 't']) => {}
        Some(_) => return false,
    }
    // And this program's own reader.
    matches!(
        serde_yaml::from_str::<serde_yaml::Value>(s),
        Ok(serde_yaml::Value::String(ref back)) if back == s
    )
}

/// A string as a YAML scalar: plain when safe, else double-quoted.
pub fn quote(s: &str) -> String {
    quote_for(s, false)
}

fn quote_for(s: &str, time_key: bool) -> String {
    if plain_is_safe(s, time_key) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string always serialises")
    }
}

/// A value in flow style (`{ a: 1 }`, `[x, y]`, scalars).
pub fn flow(value: &Value) -> String {
    flow_under("", value)
}

/// [`flow`] of the value of `key` (whose name decides how a time is written).
fn flow_under(key: &str, value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote_for(s, key.ends_with("_at")),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| flow_under(key, v)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", quote(k), flow_under(k, v)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
    }
}

/// One top-level entry, `key: value` (with a trailing newline); lists of maps
/// become a block list of flow maps so that each item is one line in a diff.
pub fn entry(key: &str, value: &Value) -> String {
    match value {
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            let mut out = format!("{}:\n", quote(key));
            for item in items {
                out.push_str("  - ");
                out.push_str(&flow(item));
                out.push('\n');
            }
            out
        }
        other => format!("{}: {}\n", quote(key), flow_under(key, other)),
    }
}

/// The text of a top-level value written plain on one line (`version: 1.10`),
/// so that tolerant reading keeps `1.10` rather than the float 1.1.
pub fn raw_plain_scalar(block: &str) -> Option<String> {
    let line = block.lines().next()?;
    if block
        .lines()
        .skip(1)
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    {
        return None;
    }
    let (_, rest) = line.split_once(':')?;
    let mut value = rest.trim();
    if let Some(i) = value.find(" #") {
        value = value[..i].trim_end();
    }
    if value.is_empty() || value.starts_with(['"', '\'', '{', '[', '|', '>', '&', '*', '!']) {
        return None;
    }
    Some(value.to_string())
}

/// The scalars of one top-level entry that is a mapping (`tools: { terraform:
/// 1.10 }`), each as written: "1.10" where [`parse_mapping`] reads the float
/// 1.1, `0x1F` where it reads 31 (SPEC §2: reading is tolerant). Nulls are
/// left out. None when the entry is not a mapping of scalars.
pub fn mapping_texts(block: &str) -> Option<BTreeMap<String, String>> {
    let map: BTreeMap<String, Option<Texts>> = serde_yaml::from_str(block).ok()?;
    let inner = map.into_values().next()??;
    Some(present(inner))
}

/// [`mapping_texts`] of an entry that is a list of mappings (`phases`).
pub fn list_texts(block: &str) -> Option<Vec<BTreeMap<String, String>>> {
    let map: BTreeMap<String, Option<Vec<Texts>>> = serde_yaml::from_str(block).ok()?;
    let items = map.into_values().next()??;
    Some(items.into_iter().map(present).collect())
}

/// A mapping of scalars read as strings: serde_yaml gives a plain scalar's
/// own text to a `String` (`1.10`, not the float), and None for a null.
type Texts = BTreeMap<String, Option<String>>;

fn present(map: Texts) -> BTreeMap<String, String> {
    map.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_yaml_would_retype() {
        assert_eq!(quote("1.10"), "\"1.10\"");
        assert_eq!(quote("no"), "\"no\"");
        assert_eq!(quote("2"), "\"2\"");
        assert_eq!(quote("null"), "\"null\"");
        assert_eq!(quote("alice"), "alice");
        assert_eq!(quote("2.3.0"), "2.3.0");
        assert_eq!(quote("https://x/y"), "https://x/y");
        assert_eq!(quote("a: b"), "\"a: b\"");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote(""), "\"\"");
    }

    /// Values YAML 1.1 (PyYAML, Ruby, SnakeYAML) or YAML 1.2 (core schema)
    /// would read as a number, a bool, null, a date or a time are quoted;
    /// words and dotted versions stay plain. Each reads back as itself.
    #[test]
    fn plain_only_when_every_yaml_reads_a_string() {
        let quoted = [
            // YAML 1.1 integers: octal, hex, binary, underscores, base 60.
            "007",
            "0o17",
            "0x1F",
            "0x10",
            "0b101",
            "1_000",
            "+1",
            "-1",
            "08",
            "12:30",
            "1:20:30",
            "190:20:30.15",
            "0",
            "2",
            "123456789012345678901234",
            // Floats of either version.
            "1.10",
            "1.0",
            "1.",
            "1e3",
            "1E3",
            "1.0e+3",
            "6.8523015e+5",
            ".5",
            "-.5",
            "+12.5",
            ".inf",
            "-.inf",
            "+.INF",
            ".Inf",
            ".nan",
            ".NaN",
            ".NAN",
            // Dates and times (YAML 1.1 timestamps) outside a `*_at` key.
            "2025-01-01",
            "2025-1-1",
            "2025-01-15T14:30:00Z",
            "2001-12-14 21:59:43.10 -5",
            // Booleans and null of YAML 1.1 and 1.2, in any case.
            "yes",
            "Yes",
            "YES",
            "no",
            "No",
            "on",
            "On",
            "ON",
            "off",
            "Off",
            "OFF",
            "y",
            "Y",
            "n",
            "N",
            "true",
            "True",
            "FALSE",
            "null",
            "Null",
            "NULL",
            "~",
            "",
            // YAML 1.1's value and merge keys.
            "=",
            "<<",
            // SnakeYAML reads `_` as a float (and fails).
            "_",
        ];
        for s in quoted {
            assert!(quote(s).starts_with('"'), "{s:?} written plain");
            let back = parse_mapping(&entry("v", &Value::from(s))).expect("parses");
            assert_eq!(back["v"], Value::from(s), "{s:?}");
        }
        let plain = [
            "alice",
            "2.3.0",
            "1.2.3",
            "10.0.0.1",
            "1.0-beta",
            "v1.2",
            "1.2.3-rc.1",
            "3rd",
            "12:30pm",
            "a:b",
            "blue-green",
            "https://x/y",
            "José",
            "2c172cc079e9446d81c384f5a043dbcb4f90c148",
            "yesterday",
            "none",
            "nil",
            "inf",
            "Nan",
            "0xZ",
            "2025-01-01x",
            "._",
            "1-2",
        ];
        for s in plain {
            assert_eq!(quote(s), s, "{s:?} quoted");
        }
    }

    /// Times (keys ending in `_at`) stay plain, as in SPEC §2: a YAML 1.1
    /// reader gets the timestamp the key is meant to hold.
    #[test]
    fn times_stay_plain_under_time_keys() {
        let t = "2025-01-15T14:30:00Z";
        assert_eq!(
            entry("started_at", &Value::from(t)),
            format!("started_at: {t}\n")
        );
        assert_eq!(
            entry("version", &Value::from(t)),
            format!("version: \"{t}\"\n")
        );
        let phases = serde_json::json!([{ "name": "planning", "started_at": t, "finished_at": t }]);
        assert_eq!(
            entry("phases", &phases),
            format!("phases:\n  - {{ name: planning, started_at: {t}, finished_at: {t} }}\n")
        );
        // Only a timestamp: another value of such a key is quoted as usual.
        assert_eq!(
            entry("finished_at", &Value::from("12:30")),
            "finished_at: \"12:30\"\n"
        );
    }

    #[test]
    fn flow_round_trips() {
        let v: Value = serde_json::json!({"commit": "abc", "dirty": false, "tag": "1.0", "n": 3});
        let text = entry("git", &v);
        let back = parse_mapping(&text).expect("parses");
        assert_eq!(back["git"], v);
    }

    #[test]
    fn raw_plain_keeps_text() {
        assert_eq!(
            raw_plain_scalar("version: 1.10 # note\n").as_deref(),
            Some("1.10")
        );
        assert_eq!(raw_plain_scalar("version: \"1.10\"\n"), None);
    }

    /// Values a YAML reader would retype keep their text, in flow and block
    /// style, under keys of either kind; quoted values are unescaped.
    #[test]
    fn mapping_texts_keep_text() {
        let texts = mapping_texts(
            "tools: { terraform: 1.10, helm: 0x1F, a: 1e3, b: True, c: \"x\\ty\", d: ~, 1.10: z }\n",
        )
        .expect("a mapping of scalars");
        let want = [
            ("1.10", "z"),
            ("a", "1e3"),
            ("b", "True"),
            ("c", "x\ty"),
            ("helm", "0x1F"),
            ("terraform", "1.10"),
        ];
        let want: BTreeMap<String, String> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(texts, want);
        let block = mapping_texts("labels:\n  build: 007 # note\n").expect("block style");
        assert_eq!(block["build"], "007");
        assert_eq!(mapping_texts("tools: { a: { b: 1 } }\n"), None);
        assert_eq!(mapping_texts("tools: 1.10\n"), None);
        let phases = list_texts("phases:\n  - { name: 1.10, duration_seconds: 60 }\n")
            .expect("a list of mappings");
        assert_eq!(phases[0]["name"], "1.10");
        assert_eq!(phases[0]["duration_seconds"], "60");
    }
}
