//! The markdown body: generated regions and checklist items.

use crate::error::{Error, Result};

/// Replaces the content between `<!-- deploy-ledger:NAME -->` and
/// `<!-- /deploy-ledger:NAME -->`; a body without the markers is unchanged.
pub fn replace_region(body: &str, name: &str, content: &str) -> String {
    let open = format!("<!-- deploy-ledger:{name} -->");
    let close = format!("<!-- /deploy-ledger:{name} -->");
    let Some(start) = body.find(&open) else {
        return body.to_string();
    };
    let inner_start = start + open.len();
    let Some(rel_end) = body[inner_start..].find(&close) else {
        return body.to_string();
    };
    let inner_end = inner_start + rel_end;
    let nl = if body.contains("\r\n") { "\r\n" } else { "\n" };
    let content = content.trim_end_matches('\n').replace('\n', nl);
    format!(
        "{}{nl}{content}{nl}{}",
        &body[..inner_start],
        &body[inner_end..]
    )
}

/// One `- [ ]` / `- [x]` item of the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// 1-based number in the order of the body.
    pub number: usize,
    pub text: String,
    pub done: bool,
    /// Byte offset of the character between the brackets.
    mark: usize,
}

/// The checklist items of a body, outside fenced code blocks.
pub fn items(body: &str) -> Vec<Item> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut fenced = false;
    for line in body.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let Some(rest) = trimmed
            .strip_prefix("- [")
            .or_else(|| trimmed.strip_prefix("* ["))
            .or_else(|| trimmed.strip_prefix("+ ["))
            .or_else(|| ordered_item(trimmed))
        else {
            continue;
        };
        let mut chars = rest.chars();
        let (Some(mark), Some(']')) = (chars.next(), chars.next()) else {
            continue;
        };
        if !matches!(mark, ' ' | 'x' | 'X') {
            continue;
        }
        let text = chars.as_str().trim().to_string();
        out.push(Item {
            number: out.len() + 1,
            text,
            done: mark != ' ',
            mark: start + indent + (trimmed.len() - rest.len()),
        });
    }
    out
}

/// After `1. [` or `1) [` (an ordered task item), the rest of the line.
fn ordered_item(line: &str) -> Option<&str> {
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 9 {
        return None;
    }
    line[digits..]
        .strip_prefix(". [")
        .or_else(|| line[digits..].strip_prefix(") ["))
}

/// Counts `(total, done)`.
pub fn count(body: &str) -> (u64, u64) {
    let items = items(body);
    (
        items.len() as u64,
        items.iter().filter(|i| i.done).count() as u64,
    )
}

/// Ticks (or unticks) one item found by number or by text; returns the new
/// body and the item. Text matches exactly first, then as a unique substring,
/// ignoring case.
pub fn tick(body: &str, which: &str, done: bool) -> Result<(String, Item)> {
    let all = items(body);
    if all.is_empty() {
        return Err(Error::user_hint(
            "this record has no checklist items",
            "add `- [ ] item` lines to its body",
        ));
    }
    let item = if let Ok(n) = which.trim().parse::<usize>() {
        all.iter().find(|i| i.number == n).ok_or_else(|| {
            Error::user_hint(
                format!("there is no item {n}"),
                format!("items are numbered 1 to {}", all.len()),
            )
        })?
    } else {
        let needle = which.trim().to_lowercase();
        if needle.is_empty() {
            return Err(Error::user_hint(
                "no item given",
                "pass an item's number or part of its text",
            ));
        }
        let exact: Vec<&Item> = all
            .iter()
            .filter(|i| i.text.to_lowercase() == needle)
            .collect();
        let found: Vec<&Item> = if exact.is_empty() {
            all.iter()
                .filter(|i| i.text.to_lowercase().contains(&needle))
                .collect()
        } else {
            exact
        };
        match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::user_hint(
                    format!("no checklist item matches `{which}`"),
                    "run `deploy-ledger show` to see the items, then pass a number",
                ))
            }
            many => {
                let list: Vec<String> = many
                    .iter()
                    .map(|i| format!("{}. {}", i.number, i.text))
                    .collect();
                return Err(Error::user_hint(
                    format!("`{which}` matches {} items", many.len()),
                    format!("pass a number, one of: {}", list.join("; ")),
                ));
            }
        }
    };
    let mut out = body.to_string();
    // Ticking a ticked item keeps the user's mark (`X` stays `X`).
    if item.done != done {
        out.replace_range(item.mark..item.mark + 1, if done { "x" } else { " " });
    }
    let mut item = item.clone();
    item.done = done;
    Ok((out, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_items() {
        let body = "# T\n<!-- deploy-ledger:timeline -->\nold\n<!-- /deploy-ledger:timeline -->\n- [ ] Plan it\n- [x] Do it\n```\n- [ ] not an item\n```\n";
        let b = replace_region(body, "timeline", "new\nlines");
        assert!(b.contains("-->\nnew\nlines\n<!--"));
        assert_eq!(count(&b), (2, 1));
        let (b, item) = tick(&b, "plan", true).expect("ticks");
        assert_eq!(item.number, 1);
        assert_eq!(count(&b), (2, 2));
        assert!(tick(&b, "it", true).is_err());
    }

    #[test]
    fn ordered_items_and_an_upper_case_mark() {
        let body = "1. [ ] One
2) [X] Two
10. [ ] Ten
1.[ ] not one
";
        assert_eq!(count(body), (3, 1));
        let (b, _) = tick(body, "2", true).expect("ticks");
        assert_eq!(b, body, "[X] kept");
        let (b, item) = tick(&b, "ten", true).expect("ticks");
        assert_eq!(item.number, 3);
        assert!(b.contains("10. [x] Ten\n"), "{b}");
        let (b, _) = tick(&b, "2", false).expect("unticks");
        assert!(b.contains("2) [ ] Two\n"), "{b}");
    }
}
