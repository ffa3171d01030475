//! The raw text of a record: frontmatter and body, edited key by key so that
//! keys the tool does not know, and values it did not change, keep their bytes.

use serde_json::{Map, Value};
use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};
use crate::yaml;

/// Canonical order of the keys the tool writes; a key it adds goes after the
/// last key present that comes before it here.
pub const KEY_ORDER: &[&str] = &[
    "schema",
    "id",
    "service",
    "environment",
    "version",
    "strategy",
    "status",
    "operator",
    "started_at",
    "finished_at",
    "duration_seconds",
    "git",
    "ci",
    "tools",
    "phases",
    "checklist",
    "change",
    "rollback",
    "rolled_back_by",
    "failure",
    "canary",
    "labels",
    "forced",
    "note",
];

/// A record file as text: the frontmatter between the `---` lines and the body.
#[derive(Debug, Clone)]
pub struct Document {
    front: String,
    body: String,
    /// `\r\n` when the file used it, so an edit keeps the file's line endings.
    newline: &'static str,
    data: Map<String, Value>,
}

/// One top-level key of the frontmatter and the byte range of its lines.
struct Block {
    key: String,
    range: Range<usize>,
}

impl Document {
    /// Splits and parses a record; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let (front, body, newline) = split(text).ok_or_else(|| Error::Yaml {
            path: path.to_path_buf(),
            line: 1,
            message:
                "no frontmatter: a record starts with a `---` line, YAML, and another `---` line"
                    .into(),
        })?;
        let data = yaml::parse_mapping(&front).map_err(|e| Error::Yaml {
            path: path.to_path_buf(),
            line: e.line + 1,
            message: e.message,
        })?;
        Ok(Document {
            front,
            body: body.to_string(),
            newline,
            data,
        })
    }

    /// A new document from entries in order and a body.
    pub fn new(entries: &[(&str, Value)], body: String) -> Self {
        let mut front = String::new();
        let mut data = Map::new();
        for (key, value) in entries {
            if value.is_null() {
                continue;
            }
            front.push_str(&yaml::entry(key, value));
            data.insert((*key).to_string(), value.clone());
        }
        Document {
            front,
            body,
            newline: "\n",
            data,
        }
    }

    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    pub fn body(&self) -> &str {
        &self.body
    }

    pub fn set_body(&mut self, body: String) {
        self.body = body;
    }

    /// The raw text of one top-level key's lines (for tolerant scalar reading).
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.blocks()
            .into_iter()
            .find(|b| b.key == key)
            .map(|b| &self.front[b.range])
    }

    /// The 1-based line in the file where `key` is written (for `validate`).
    pub fn line_of(&self, key: &str) -> Option<usize> {
        let block = self.blocks().into_iter().find(|b| b.key == key)?;
        Some(2 + self.front[..block.range.start].matches('\n').count())
    }

    /// Sets a top-level key, rewriting only its own lines; a null removes it.
    pub fn set(&mut self, key: &str, value: Value) {
        if value.is_null() {
            self.remove(key);
            return;
        }
        if self.data.get(key) == Some(&value) {
            return;
        }
        let text = yaml::entry(key, &value).replace('\n', self.newline);
        let blocks = self.blocks();
        if let Some(block) = blocks.iter().find(|b| b.key == key) {
            self.front.replace_range(block.range.clone(), &text);
        } else {
            let at = insertion_point(&blocks, key, self.front.len());
            if at == self.front.len() && !self.front.is_empty() && !self.front.ends_with('\n') {
                self.front.push_str(self.newline);
            }
            let at = at.min(self.front.len());
            self.front.insert_str(at, &text);
        }
        self.data.insert(key.to_string(), value);
    }

    pub fn remove(&mut self, key: &str) {
        if let Some(block) = self.blocks().into_iter().find(|b| b.key == key) {
            self.front.replace_range(block.range, "");
        }
        self.data.remove(key);
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let nl = self.newline;
        let mut out = String::with_capacity(self.front.len() + self.body.len() + 8);
        out.push_str("---");
        out.push_str(nl);
        out.push_str(&self.front);
        if !self.front.is_empty() && !self.front.ends_with('\n') {
            out.push_str(nl);
        }
        out.push_str("---");
        out.push_str(nl);
        out.push_str(&self.body);
        out
    }

    fn blocks(&self) -> Vec<Block> {
        let mut blocks: Vec<Block> = Vec::new();
        let mut offset = 0;
        for line in self.front.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            if let Some(key) = top_level_key(line) {
                blocks.push(Block {
                    key,
                    range: start..offset,
                });
            } else if let Some(last) = blocks.last_mut() {
                last.range.end = offset;
            }
        }
        // Trailing blank or comment lines belong to no key: keep them in place.
        for block in &mut blocks {
            let text = &self.front[block.range.clone()];
            let mut keep = text.len();
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            for line in lines.iter().skip(1).rev() {
                let t = line.trim();
                if t.is_empty() || (t.starts_with('#') && !line.starts_with([' ', '\t'])) {
                    keep -= line.len();
                } else {
                    break;
                }
            }
            block.range.end = block.range.start + keep;
        }
        blocks
    }
}

/// The key of a line that starts a top-level entry (`key:` at column 0).
fn top_level_key(line: &str) -> Option<String> {
    let first = line.chars().next()?;
    if first.is_whitespace() || matches!(first, '#' | '-' | '[' | '{' | '}' | ']') {
        return None;
    }
    if let Some(rest) = line.strip_prefix('"') {
        let end = rest.find('"')?;
        return rest[end + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| rest[..end].to_string());
    }
    if let Some(rest) = line.strip_prefix('\'') {
        let end = rest.find('\'')?;
        return rest[end + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| rest[..end].to_string());
    }
    let colon = line.find(':')?;
    let after = line[colon + 1..].chars().next();
    if !matches!(
        after,
        None | Some(' ') | Some('\t') | Some('\n') | Some('\r')
    ) {
        return None;
    }
    Some(line[..colon].trim().to_string())
}

fn insertion_point(blocks: &[Block], key: &str, end: usize) -> usize {
    let Some(rank) = KEY_ORDER.iter().position(|k| *k == key) else {
        return end;
    };
    let mut at = None;
    for block in blocks {
        match KEY_ORDER.iter().position(|k| *k == block.key) {
            Some(r) if r < rank => at = Some(block.range.end),
            Some(_) => return at.unwrap_or(block.range.start),
            None => {}
        }
    }
    at.unwrap_or(end)
}

/// Splits `---\n<front>---\n<body>`; returns the front with its final newline.
fn split(text: &str) -> Option<(String, &str, &'static str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (newline, rest) = if let Some(rest) = text.strip_prefix("---\r\n") {
        ("\r\n", rest)
    } else {
        ("\n", text.strip_prefix("---\n")?)
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Some((
                rest[..offset].to_string(),
                &rest[offset + line.len()..],
                newline,
            ));
        }
        offset += line.len();
    }
    None
}

/// Whether a file's text starts with a frontmatter block (what makes a record).
pub fn has_frontmatter(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.starts_with("---\n") || text.starts_with("---\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEXT: &str = "---\nschema: 1\nid: DEP-x\ncustom:   keep   me  # comment\nstatus: in-progress\nphases:\n  - { name: planning }\n---\n# Body\n";

    #[test]
    fn edits_keep_other_bytes() {
        let mut doc = Document::parse(TEXT, Path::new("x.md")).expect("parses");
        doc.set("status", json!("success"));
        doc.set("finished_at", json!("2025-01-01T00:00:00Z"));
        let out = doc.render();
        assert!(out.contains("custom:   keep   me  # comment\n"));
        assert!(out.contains("status: success\n"));
        assert!(out.ends_with("---\n# Body\n"));
        let back = Document::parse(&out, Path::new("x.md")).expect("parses");
        assert_eq!(
            back.get("finished_at"),
            Some(&json!("2025-01-01T00:00:00Z"))
        );
        // finished_at goes after status, before phases
        assert!(out.find("finished_at").expect("present") < out.find("phases").expect("present"));
    }

    #[test]
    fn line_of_key() {
        let doc = Document::parse(TEXT, Path::new("x.md")).expect("parses");
        assert_eq!(doc.line_of("schema"), Some(2));
        assert_eq!(doc.line_of("status"), Some(5));
    }

    #[test]
    fn broken_yaml_names_line() {
        let err = Document::parse("---\na: 1\nb: [\n---\n", Path::new("x.md")).expect_err("broken");
        assert!(err.to_string().starts_with("x.md:"), "{err}");
    }
}
