//! `--tz`: a fixed offset (`+02:00`, `Z`, `UTC`) or an IANA zone name.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, TimeZone as _, Utc};
use std::str::FromStr;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReportTz {
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

impl Default for ReportTz {
    fn default() -> Self {
        ReportTz::Fixed(Utc.fix())
    }
}

impl FromStr for ReportTz {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Ok(ReportTz::default());
        }
        if t.starts_with('+') || t.starts_with('-') {
            // `+02:00`, `+0200`, `+02`: parse through chrono's offset reader.
            let normalised = match t.len() {
                3 => format!("{t}:00"),
                5 if !t.contains(':') => format!("{}:{}", &t[..3], &t[3..]),
                _ => t.to_string(),
            };
            if let Ok(offset) = FixedOffset::from_str(&normalised) {
                return Ok(ReportTz::Fixed(offset));
            }
        } else if let Ok(zone) = t.parse::<chrono_tz::Tz>() {
            return Ok(ReportTz::Named(zone));
        }
        if t.starts_with("--") {
            // `--tz --format json`: the next flag was taken as the zone.
            return Err(Error::user_hint(
                format!("`{s}` is not a time zone (--tz needs a value)"),
                "e.g. --tz -05:30, --tz +0200 or --tz Europe/Paris",
            ));
        }
        Err(Error::user_hint(
            format!("`{s}` is not a time zone"),
            "pass an offset like +02:00 or an IANA name like Europe/Paris (default: UTC)",
        ))
    }
}

impl std::fmt::Display for ReportTz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportTz::Fixed(o) if o.local_minus_utc() == 0 => f.write_str("UTC"),
            ReportTz::Fixed(o) => write!(f, "{o}"),
            ReportTz::Named(z) => f.write_str(z.name()),
        }
    }
}

impl ReportTz {
    /// The time as seen in this zone.
    pub fn local(&self, t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        match self {
            ReportTz::Fixed(o) => t.with_timezone(o),
            ReportTz::Named(z) => {
                let l = t.with_timezone(z);
                l.with_timezone(&l.offset().fix())
            }
        }
    }

    /// Midnight starting `date` in this zone (the earliest instant of that
    /// day, for days that start in a DST gap).
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let naive = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        let fixed = match self {
            ReportTz::Fixed(o) => o.from_local_datetime(&naive).earliest(),
            ReportTz::Named(z) => z
                .from_local_datetime(&naive)
                .earliest()
                .or_else(|| {
                    z.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                        .earliest()
                })
                .map(|d| d.with_timezone(&d.offset().fix())),
        };
        fixed
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_names() {
        let t = DateTime::parse_from_rfc3339("2025-01-15T23:30:00Z").expect("time");
        let plus2: ReportTz = "+02:00".parse().expect("offset");
        assert_eq!(plus2.local(t).to_rfc3339(), "2025-01-16T01:30:00+02:00");
        let plus2b: ReportTz = "+0200".parse().expect("offset");
        assert_eq!(plus2, plus2b);
        let paris: ReportTz = "Europe/Paris".parse().expect("zone");
        assert_eq!(paris.local(t).to_rfc3339(), "2025-01-16T00:30:00+01:00");
        assert_eq!("utc".parse::<ReportTz>().expect("utc"), ReportTz::default());
        assert!("Mars/Olympus".parse::<ReportTz>().is_err());
        assert!("+25:00".parse::<ReportTz>().is_err());
    }
}
