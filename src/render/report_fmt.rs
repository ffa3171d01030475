//! Number formats shared by the text and markdown reports.

/// `83.3%`, or `–` when there is no figure.
pub fn rate(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{:.1}%", v * 100.0),
        None => "–".into(),
    }
}

/// A duration in seconds as `45s`, `15m 12s`, `2h 03m`, `3d 04h`.
pub fn duration(v: Option<f64>) -> String {
    let Some(v) = v else { return "–".into() };
    let s = v.round() as i64;
    let sign = if s < 0 { "-" } else { "" };
    let s = s.abs();
    if s < 60 {
        format!("{sign}{s}s")
    } else if s < 3_600 {
        format!("{sign}{}m {:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{sign}{}h {:02}m", s / 3_600, (s % 3_600) / 60)
    } else {
        format!("{sign}{}d {:02}h", s / 86_400, (s % 86_400) / 3_600)
    }
}

/// A signed change: `+3`, `-1`, `±0`.
pub fn signed(v: i64) -> String {
    match v {
        0 => "±0".into(),
        v if v > 0 => format!("+{v}"),
        v => v.to_string(),
    }
}

/// A change of duration: `+7m 30s`, `-45s`, `±0s`.
pub fn signed_duration(v: Option<f64>) -> String {
    match v {
        Some(v) if v.round() == 0.0 => "±0s".into(),
        Some(v) if v > 0.0 => format!("+{}", duration(Some(v))),
        v => duration(v),
    }
}

/// A change of rate in points: `+12.5 pt`.
pub fn points(v: Option<f64>) -> String {
    match v {
        Some(v) if (v * 1000.0).round() == 0.0 => "±0.0 pt".into(),
        Some(v) => format!("{}{:.1} pt", if v >= 0.0 { "+" } else { "" }, v * 100.0),
        None => "–".into(),
    }
}

pub fn number(v: Option<f64>) -> String {
    match v {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "–".into(),
    }
}

/// The failures behind a recovery time: `2 recovered`, or `1 recovered, 1
/// unrecovered` when some failure has no later success yet.
pub fn recovered(r: &crate::analytics::RecoveryTime) -> String {
    if r.unrecovered == 0 {
        format!("{} recovered", r.failures)
    } else {
        format!("{} recovered, {} unrecovered", r.failures, r.unrecovered)
    }
}

pub fn tier(t: Option<crate::analytics::Tier>) -> &'static str {
    t.map(|t| t.as_str()).unwrap_or("–")
}

/// Entries of each audit list the text and markdown reports show (the JSON
/// has them all).
pub const AUDIT_SHOWN: usize = 20;

/// The line that says how many entries of a list of `total` were left out;
/// None when all are shown.
pub fn left_out(total: usize) -> Option<String> {
    (total > AUDIT_SHOWN).then(|| {
        format!(
            "… and {} more (first {AUDIT_SHOWN} of {total}; all in --format json)",
            total - AUDIT_SHOWN
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rate(Some(0.8333)), "83.3%");
        assert_eq!(duration(Some(912.0)), "15m 12s");
        assert_eq!(duration(Some(7_380.0)), "2h 03m");
        assert_eq!(duration(Some(90_000.0)), "1d 01h");
        assert_eq!(signed(-2), "-2");
        assert_eq!(points(Some(0.125)), "+12.5 pt");
        assert_eq!(points(Some(-0.0004)), "±0.0 pt");
        assert_eq!(signed_duration(Some(450.0)), "+7m 30s");
        assert_eq!(signed_duration(Some(-45.0)), "-45s");
        assert_eq!(signed_duration(Some(0.2)), "±0s");
        assert_eq!(signed_duration(None), "–");
    }
}
