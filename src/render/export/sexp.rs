//! S-expressions for Emacs Lisp (and other Lisps' readers), printed by the
//! `lexpr` crate in its Emacs Lisp syntax: a list of plists, one per record,
//! keyword keys (`:service`), strings escaped, `nil` for a missing value,
//! `t`/`nil` for booleans. Free-form maps (tools, labels, ci, change) are
//! alists of strings: `(("terraform" . "1.6.0"))`.
//!
//! ```elisp
//! (with-temp-buffer (insert-file-contents "deployments.el") (read (current-buffer)))
//! ```

use lexpr::Value;
use serde_json::Value as Json;

use crate::error::Result;
use crate::record::Record;

/// Keys whose values are maps with arbitrary keys: alists, not plists.
const FREE_MAPS: &[&str] = &["ci", "tools", "change", "labels"];

/// The records as one readable list.
pub fn sexp(records: &[Record]) -> Result<String> {
    let items = records
        .iter()
        .map(|r| Ok(plist(&serde_json::to_value(r)?)))
        .collect::<Result<Vec<_>>>()?;
    let list = Value::list(items);
    let mut text = lexpr::to_string_custom(&list, lexpr::print::Options::elisp())
        .map_err(|e| crate::error::Error::user(format!("printing S-expressions: {e}")))?;
    text.push('\n');
    Ok(text)
}

fn plist(value: &Json) -> Value {
    match value {
        Json::Object(map) => Value::list(map.iter().flat_map(|(k, v)| {
            let v = if FREE_MAPS.contains(&k.as_str()) {
                alist(v)
            } else {
                plist(v)
            };
            [Value::keyword(k.replace('_', "-")), v]
        })),
        other => scalar(other, plist),
    }
}

fn alist(value: &Json) -> Value {
    match value {
        Json::Object(map) => Value::list(
            map.iter()
                .map(|(k, v)| Value::cons(Value::string(k.as_str()), scalar(v, alist))),
        ),
        other => scalar(other, alist),
    }
}

fn scalar(value: &Json, nested: fn(&Json) -> Value) -> Value {
    match value {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (_, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => Value::from(f),
            _ => Value::Nil,
        },
        Json::String(s) => Value::string(s.as_str()),
        Json::Array(items) => Value::list(items.iter().map(nested)),
        Json::Object(_) => nested(value),
    }
}
