//! A fast reader for the frontmatter style this program writes (see
//! [`super::entry`]): `key: scalar`, `key: { k: v, … }`, `key: [a, b]` and a
//! block list of such values under `key:`. A ledger holds thousands of
//! records and analytics reads them all; libyaml takes about 60 µs for one
//! frontmatter block, this reader a few.
//!
//! It never decides what YAML means where that is not obvious: anything
//! outside that style (comments after a value, block mappings, multi-line or
//! escaped strings, anchors, tags, a scalar YAML could read as a number other
//! than a plain decimal integer, duplicate keys, tabs, `\r`…) makes it answer
//! None, and the caller parses the text with the YAML library instead. Where
//! it answers, the result is what the library gives (tested side by side in
//! `mod tests` on generated and hand-written texts).

use serde_json::{Map, Number, Value};

/// The mapping of a frontmatter text in the canonical style; None when the
/// text uses anything else.
pub fn parse(text: &str) -> Option<Map<String, Value>> {
    if text.contains(['\r', '\t']) {
        return None;
    }
    let mut out = Map::new();
    // The key of a `key:` line with no value, whose block list may follow.
    let mut open: Option<(String, Vec<Value>)> = None;
    for line in text.split('\n') {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || (trimmed.starts_with('#') && open.is_none()) {
            continue;
        }
        if let Some(item) = trimmed.strip_prefix("- ") {
            let (_, items) = open.as_mut()?;
            items.push(value(item.trim_end())?);
            continue;
        }
        if trimmed.len() != line.len() {
            // Indented, not a list item: a block mapping or a folded line.
            return None;
        }
        close(&mut out, open.take())?;
        let (key, rest) = line.split_once(':')?;
        // A word YAML types (`null:`, `true:`) is a key of another text.
        if !is_key(key) || !matches!(plain(key, false), Some(Value::String(_))) {
            return None;
        }
        if rest.trim().is_empty() {
            open = Some((key.to_string(), Vec::new()));
            continue;
        }
        let rest = rest.strip_prefix(' ')?;
        insert(&mut out, key.to_string(), value(rest.trim_end())?)?;
    }
    close(&mut out, open)?;
    Some(out)
}

/// Adds the value of a `key:` line with no value of its own: the list items
/// under it, or null when none followed.
fn close(map: &mut Map<String, Value>, open: Option<(String, Vec<Value>)>) -> Option<()> {
    match open {
        None => Some(()),
        Some((key, items)) if items.is_empty() => insert(map, key, Value::Null),
        Some((key, items)) => insert(map, key, Value::Array(items)),
    }
}

/// Adds a key; None for a duplicate (the library rejects those).
fn insert(map: &mut Map<String, Value>, key: String, value: Value) -> Option<()> {
    match map.entry(key) {
        serde_json::map::Entry::Vacant(v) => {
            v.insert(value);
            Some(())
        }
        serde_json::map::Entry::Occupied(_) => None,
    }
}

/// A plain key: a letter or `_`, then letters, digits, `_` or `-`.
fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A whole value: a flow map, a flow list of scalars, or a scalar.
fn value(text: &str) -> Option<Value> {
    if text.contains(" #") {
        return None;
    }
    if let Some(inner) = text.strip_prefix('{') {
        let inner = inner.strip_suffix('}')?;
        let mut map = Map::new();
        for (key, v) in items(inner)? {
            let key = match scalar(key, true)? {
                Value::String(s) if !s.is_empty() => s,
                _ => return None,
            };
            insert(&mut map, key, scalar(v?, true)?)?;
        }
        return Some(Value::Object(map));
    }
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        let mut list = Vec::new();
        for (item, v) in items(inner)? {
            if v.is_some() {
                return None;
            }
            list.push(scalar(item, true)?);
        }
        return Some(Value::Array(list));
    }
    scalar(text, false)
}

/// The `a: b` (or, in a list, `a`) items of a flow collection's inside,
/// split at commas outside quotes. None for anything nested.
#[allow(clippy::type_complexity)]
fn items(inner: &str) -> Option<Vec<(&str, Option<&str>)>> {
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Some(out);
    }
    let bytes = inner.as_bytes();
    let mut start = 0;
    let mut colon: Option<usize> = None;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i <= bytes.len() {
        let b = bytes.get(i).copied();
        match (quote, b) {
            (Some(q), Some(c)) if c == q => quote = None,
            (Some(_), Some(_)) => {}
            (Some(_), None) => return None,
            (None, Some(b'"' | b'\'')) => quote = b,
            (None, Some(b'{' | b'}' | b'[' | b']')) => return None,
            // `: ` (or `:` at the item's end) separates key and value; a
            // `:` inside a word (times, URLs) does not.
            (None, Some(b':'))
                if colon.is_none() && matches!(bytes.get(i + 1), None | Some(b' ' | b',')) =>
            {
                colon = Some(i)
            }
            (None, Some(b',') | None) => {
                let item = &inner[start..i];
                out.push(match colon {
                    Some(c) => (&inner[start..c], Some(&inner[c + 1..i])),
                    None => (item, None),
                });
                start = i + 1;
                colon = None;
            }
            _ => {}
        }
        i += 1;
    }
    Some(out)
}

/// One scalar, trimmed. `flow`: inside a flow collection.
fn scalar(text: &str, flow: bool) -> Option<Value> {
    let s = text.trim();
    if let Some(inner) = s.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        return (!inner.contains(['"', '\\'])).then(|| Value::String(inner.to_string()));
    }
    if let Some(inner) = s.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'')?;
        return (!inner.contains('\'')).then(|| Value::String(inner.to_string()));
    }
    plain(s, flow)
}

/// A plain scalar as the library types it, or None where that takes more
/// than the obvious cases: null, true/false, a decimal integer, a string.
fn plain(s: &str, flow: bool) -> Option<Value> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let first = s.chars().next()?;
    if "-?:,[]{}#&*!|>'\"%@`.+".contains(first) || s.ends_with(':') || s.contains(": ") {
        return None;
    }
    if flow && s.contains([',', '[', ']', '{', '}']) {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        // A decimal integer without a leading zero; else (octal-looking,
        // too long) the library decides.
        if (s.len() > 1 && s.starts_with('0')) || s.len() > 18 {
            return None;
        }
        return s
            .parse::<i64>()
            .ok()
            .map(|n| Value::Number(Number::from(n)));
    }
    // A word (`judy`, `blue-green`) is a string: only a digit or the `i`
    // and `n` of `inf` and `nan` can begin a number.
    if first.is_alphabetic() && !matches!(first, 'i' | 'I' | 'n' | 'N') {
        return Some(Value::String(s.to_string()));
    }
    // Anything Rust or YAML could read as a number (floats, `1e5`, `inf`,
    // `0x1f`, `1_000`): the library decides.
    let radix = |p: &str| s.len() > 2 && s.as_bytes()[..2].eq_ignore_ascii_case(p.as_bytes());
    if s.parse::<f64>().is_ok()
        || radix("0x")
        || radix("0o")
        || radix("0b")
        || (first.is_ascii_digit() && s.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
    {
        return None;
    }
    Some(Value::String(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library's reading of a text (the reference).
    fn library(text: &str) -> Option<Map<String, Value>> {
        super::super::parse_with_library(text).ok()
    }

    /// Either the fast reader declines, or it agrees with the library.
    fn agrees(text: &str) -> bool {
        match parse(text) {
            None => true,
            Some(fast) => library(text).as_ref() == Some(&fast),
        }
    }

    #[test]
    fn reads_a_record_like_the_library() {
        let text = "schema: 1\nid: DEP-2019-01-16-12-49-inventory-development\nservice: inventory\n\
            environment: development\nversion: 1.2.1\nstrategy: blue-green\nstatus: cancelled\n\
            operator: judy\nstarted_at: 2019-01-16T12:49:44Z\nfinished_at: 2019-01-16T13:20:59Z\n\
            duration_seconds: 1875\n\
            git: { commit: 2c172cc079e9446d81c384f5a043dbcb4f90c148, branch: main, dirty: false, remote: https://github.com/example/shop.git }\n\
            ci: { actor: judy, provider: github-actions, run_id: \"7000068235\", run_url: https://github.com/example/shop/actions/runs/7000068235 }\n\
            phases:\n  - { name: planning, started_at: 2019-01-16T12:49:44Z, finished_at: 2019-01-16T12:52:53Z, duration_seconds: 189 }\n\
            \x20 - { name: execution, started_at: 2019-01-16T12:52:53Z, finished_at: null }\n\
            checklist: { total: 9, done: 8 }\nfailure: { reason: change window closed }\nlabels: {}\n\
            tags: [a, \"b c\", 3]\nnote: 'it is'\nforced:\n";
        let fast = parse(text).expect("the canonical style is read");
        assert_eq!(Some(fast), library(text));
    }

    #[test]
    fn declines_what_it_does_not_know() {
        for text in [
            "version: 1.10\n",
            "version: 1e5\n",
            "n: 0x1f\n",
            "n: 012\n",
            "n: .inf\n",
            "n: -3\n",
            "n: +3\n",
            "status: success # done\n",
            "git:\n  commit: abc\n",
            "note: |\n  text\n",
            "note: \"a \\\"b\\\"\"\n",
            "note: 'it''s'\n",
            "a: 1\na: 2\n",
            "a: &x 1\n",
            "a: !!str 1\n",
            "a: { b: { c: 1 } }\n",
            "a: [ [1] ]\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: b: c\n",
            "- a\n",
            "1: a\n",
            "a: x\n  continued\n",
            "a: { b }\n",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn hand_written_edges_agree() {
        for text in [
            "a: ~\nb: Null\nc: TRUE\nd: False\ne: 0\nf: 123456789012345678\n",
            "a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\n",
            "a: inf\nb: nan\nc: infinity\nd: 1_000\ne: 2019-01-16\nf: 12:30\n",
            "a: https://x.y/z?q=1#frag\nb: a:b\nc: x,y\nd: a b  c\n",
            "a: { k: \"x, y\", l: 'p: q', m: , n: ~ }\n",
            "a: [ ]\nb: { }\nc: []\n",
            "a: José\nb: 👤 alice\nc: \"\"\nd: ''\n",
            "# comment\na: b\n\n\nc: d\n",
            "a:\n- { x: 1 }\n- { x: 2 }\n",
            "a:\n  - b\n  - 2\n",
            "null: x\ntrue: y\nNo: z\n",
            "a: Infinity\nb: NaN\nc: nope\nd: iota\ne: 0X1F\nf: 0b\ng: 0x\n",
        ] {
            assert!(
                agrees(text),
                "{text:?}: {:?} vs {:?}",
                parse(text),
                library(text)
            );
        }
    }

    /// Random values through the writer, then read back both ways: the
    /// fast reader must agree with the library on everything it reads, and
    /// read every text the writer makes of plain words.
    #[test]
    fn generated_texts_agree() {
        let alphabet: Vec<char> = "ab01 .:-_,#'\"{}[]/\\&*!?|>%@`~+éx\u{1F464}"
            .chars()
            .collect();
        let mut rng = fastrand::Rng::with_seed(7);
        let word = |rng: &mut fastrand::Rng| -> String {
            let n = rng.usize(0..8);
            (0..n)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect()
        };
        let scalar = |rng: &mut fastrand::Rng| -> Value {
            match rng.u8(0..6) {
                0 => Value::Null,
                1 => Value::Bool(rng.bool()),
                2 => Value::from(rng.i64(-5..100_000)),
                3 => Value::from(["1.10", "0.9", "1e3", "007", "yes", "null"][rng.usize(..6)]),
                _ => Value::String(word(rng)),
            }
        };
        let mut read = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            for k in 0..rng.usize(1..6) {
                let key = format!("k{k}");
                let value = match rng.u8(0..4) {
                    0 => {
                        let mut m = Map::new();
                        for j in 0..rng.usize(0..4) {
                            m.insert(format!("f{j}"), scalar(&mut rng));
                        }
                        Value::Object(m)
                    }
                    1 => Value::Array(
                        (0..rng.usize(1..3))
                            .map(|_| {
                                let mut m = Map::new();
                                m.insert("name".into(), scalar(&mut rng));
                                Value::Object(m)
                            })
                            .collect(),
                    ),
                    _ => scalar(&mut rng),
                };
                if value.is_null() {
                    continue;
                }
                text.push_str(&super::super::entry(&key, &value));
            }
            assert!(
                agrees(&text),
                "{text:?}: {:?} vs {:?}",
                parse(&text),
                library(&text)
            );
            read += usize::from(parse(&text).is_some());
        }
        // Most of what the writer makes is read without the library.
        assert!(read > 2000, "only {read} of 3000 read fast");
    }
}
