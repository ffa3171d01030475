//! Every YAML call of the program lives here, so that serde_yaml (deprecated
//! upstream) can be swapped for a maintained fork in one change.
//!
//! Reading turns YAML into `serde_json::Value`, which the rest of the program
//! works with. Writing emits the compact, diff-friendly style of SPEC §2:
//! scalars at the top level, flow maps (`{ a: 1, b: 2 }`) for nested objects
//! and a block list of flow maps for lists of objects (`phases`).

mod canonical;

use serde_json::{Map, Value};

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

/// Booleans of YAML 1.1, which other tools (PyYAML, Ruby) still read as such.
const YAML11_WORDS: &[&str] = &[
    "y", "yes", "n", "no", "on", "off", "true", "false", "null", "~",
];

/// Whether `s` can be written as a plain (unquoted) scalar and read back as
/// the same string by any YAML reader, in block and in flow context.
fn plain_is_safe(s: &str) -> bool {
    if s.is_empty() || s.trim() != s || s.contains('\n') || s.contains('\t') {
        return false;
    }
    if YAML11_WORDS.contains(&s.to_ascii_lowercase().as_str()) {
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
    // Anything the YAML reader would type as a number, bool or null.
    matches!(
        serde_yaml::from_str::<serde_yaml::Value>(s),
        Ok(serde_yaml::Value::String(ref back)) if back == s
    )
}

/// A string as a YAML scalar: plain when safe, else double-quoted.
pub fn quote(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string always serialises")
    }
}

/// A value in flow style (`{ a: 1 }`, `[x, y]`, scalars).
pub fn flow(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", quote(k), flow(v)))
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
        other => format!("{}: {}\n", quote(key), flow(other)),
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
        assert_eq!(quote("2025-01-15T14:30:00Z"), "2025-01-15T14:30:00Z");
        assert_eq!(quote("a: b"), "\"a: b\"");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote(""), "\"\"");
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
}
