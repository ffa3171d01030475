//! Which plain scalars a YAML reader types as something other than a
//! string: the implicit types of YAML 1.1 (PyYAML, Ruby's Psych, SnakeYAML,
//! still the most common readers of frontmatter) and of the YAML 1.2 core
//! schema. The writer quotes whatever either would retype.
//!
//! The rules are a superset of both: where readers differ (`y` is a bool in
//! the YAML 1.1 spec but not in PyYAML; `1e3` a float in 1.2 and SnakeYAML
//! but not in PyYAML; `2025-1-1` a date in some readers) the value counts as
//! typed, since quoting a string is never wrong. One exception: the YAML 1.1
//! spec's float pattern (`[0-9.]*` after the point) would make `1.2.3` a
//! float, which no reader does; versions like that stay plain.

/// What a plain scalar reads as, when not a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implicit {
    Null,
    Bool,
    Number,
    /// A date or a date and time (YAML 1.1 `!!timestamp`).
    Timestamp,
    /// YAML 1.1's `=` (value) and `<<` (merge), which PyYAML cannot load.
    Special,
}

/// The type a YAML 1.1 or 1.2 reader gives the plain scalar `s`, or None
/// when every one of them reads it as the string `s`.
pub fn implicit_type(s: &str) -> Option<Implicit> {
    if is_null(s) {
        Some(Implicit::Null)
    } else if is_bool(s) {
        Some(Implicit::Bool)
    } else if is_number(s) {
        Some(Implicit::Number)
    } else if is_timestamp(s) {
        Some(Implicit::Timestamp)
    } else if s == "=" || s == "<<" {
        Some(Implicit::Special)
    } else {
        None
    }
}

fn is_null(s: &str) -> bool {
    s.is_empty() || s == "~" || s.eq_ignore_ascii_case("null")
}

/// YAML 1.1 booleans (`y|Y|yes|Yes|YES|n|N|no|…|on|off`), which include
/// YAML 1.2's `true` and `false`; any case.
fn is_bool(s: &str) -> bool {
    ["y", "yes", "n", "no", "on", "off", "true", "false"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

/// Integers and floats of either version: decimal with `_` separators,
/// octal (`0o17` in 1.2, `017` in 1.1), hex, binary, base 60 (`12:30`),
/// exponents, `.inf` and `.nan`, each with an optional sign.
fn is_number(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = t.to_ascii_lowercase();
    if lower == ".inf" || lower == ".nan" {
        return true;
    }
    let radix = |prefix: &str, digit: fn(&u8) -> bool| {
        lower
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.as_bytes().iter().all(digit))
    };
    if radix("0x", |b| b.is_ascii_hexdigit() || *b == b'_')
        || radix("0o", |b| matches!(b, b'0'..=b'7' | b'_'))
        || radix("0b", |b| matches!(b, b'0' | b'1' | b'_'))
    {
        return true;
    }
    is_sexagesimal(t) || is_decimal(t)
}

/// `[0-9_]+(\.[0-9_]*)?` or `\.[0-9][0-9_]*`, then an optional `[eE][-+]?[0-9]+`.
fn is_decimal(t: &str) -> bool {
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let mantissa_ok = match mantissa.split_once('.') {
        None => !mantissa.is_empty() && digits(mantissa),
        // `.5`, never `._`: a fraction alone starts with a digit.
        Some(("", frac)) => frac.starts_with(|c: char| c.is_ascii_digit()) && digits(frac),
        Some((int, frac)) => digits(int) && digits(frac),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// YAML 1.1 base 60: `[0-9][0-9_]*(:[0-9]{1,2})+(\.[0-9_]*)?` (a superset
/// of the spec's `:[0-5]?[0-9]`).
fn is_sexagesimal(t: &str) -> bool {
    let mut parts = t.split(':');
    let first = parts.next().unwrap_or_default();
    if !first.starts_with(|c: char| c.is_ascii_digit())
        || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    let Some((last, middle)) = rest.split_last() else {
        return false;
    };
    let sixty = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    let (last, frac) = last.split_once('.').unwrap_or((last, ""));
    middle.iter().all(|p| sixty(p))
        && sixty(last)
        && frac.bytes().all(|b| b.is_ascii_digit() || b == b'_')
}

/// YAML 1.1 timestamps: `YYYY-M-D`, alone or followed by `T`, `t` or
/// blanks and a time (whatever follows is taken as one).
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // The end of one or two digits from `i`.
    let one_or_two = |i: usize| {
        let n = b[i.min(b.len())..]
            .iter()
            .take(2)
            .take_while(|c| c.is_ascii_digit())
            .count();
        (n > 0).then_some(i + n)
    };
    let year = b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-';
    let day_end = year
        .then(|| one_or_two(5))
        .flatten()
        .filter(|&i| b.get(i) == Some(&b'-'))
        .and_then(|i| one_or_two(i + 1));
    day_end.is_some_and(|i| matches!(b.get(i), None | Some(b'T' | b't' | b' ' | b'\t')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_of_either_version() {
        for (s, want) in [
            ("~", Implicit::Null),
            ("NULL", Implicit::Null),
            ("Off", Implicit::Bool),
            ("y", Implicit::Bool),
            ("007", Implicit::Number),
            ("0b1_0", Implicit::Number),
            ("-0x1f", Implicit::Number),
            ("1_000.5", Implicit::Number),
            ("_", Implicit::Number),
            ("12:30", Implicit::Number),
            ("1:2:3.5", Implicit::Number),
            ("1e-3", Implicit::Number),
            ("+.inf", Implicit::Number),
            ("2025-01-01", Implicit::Timestamp),
            ("2025-1-1t1:2:3", Implicit::Timestamp),
            ("<<", Implicit::Special),
        ] {
            assert_eq!(implicit_type(s), Some(want), "{s:?}");
        }
        for s in [
            "1.2.3",
            "1e",
            "e3",
            ".",
            "._",
            "1.2e",
            "12:",
            ":30",
            "12:30:",
            "1:2:3:x",
            "2025-01",
            "2025-01-01x",
            "20250-1-1",
            "0x",
            "0b2",
            "yess",
            "nul",
        ] {
            assert_eq!(implicit_type(s), None, "{s:?}");
        }
    }
}
