//! The one clock: every "now" of the program comes from here, so tests and
//! replays set it with `DEPLOY_LEDGER_NOW` (RFC 3339).

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

pub const NOW_VAR: &str = "DEPLOY_LEDGER_NOW";

/// Now, in UTC and whole seconds (records keep seconds).
pub fn now() -> Result<DateTime<Utc>> {
    match std::env::var(NOW_VAR) {
        Ok(text) if !text.trim().is_empty() => {
            let now = crate::record::parse_time(&text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    Error::user_hint(
                        format!("{NOW_VAR}=`{text}` is not an RFC 3339 time"),
                        "e.g. DEPLOY_LEDGER_NOW=2025-01-15T14:30:00Z, or unset it",
                    )
                })?;
            // A record's times are RFC 3339: four-digit years, in UTC too.
            if !(1..=9999).contains(&chrono::Datelike::year(&now)) {
                return Err(Error::user_hint(
                    format!(
                        "{NOW_VAR}=`{text}` is out of range: in UTC it is not in the years 0001 to 9999"
                    ),
                    "e.g. DEPLOY_LEDGER_NOW=2025-01-15T14:30:00Z, or unset it",
                ));
            }
            Ok(now)
        }
        _ => {
            let now = Utc::now();
            Ok(now - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now))))
        }
    }
}
