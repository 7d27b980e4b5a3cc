//! The calendar day a run is anchored on, and RFC 3339 times.

use crate::telemetry::days_from_civil;
use std::fmt;
use std::str::FromStr;

/// A calendar day (UTC): the date on which the run's `meta.start` falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    pub(super) days: i64,
}

impl Date {
    /// The default anchor: the day of the write-up's incident.
    pub const DEFAULT: Date = Date {
        days: days_from_civil(2026, 1, 15),
    };

    /// The day `given` on the command line, else the scenario's
    /// `meta.date`, else [`Date::DEFAULT`].
    pub fn or_scenario(given: Option<Date>, scenario: &crate::scenario::Scenario) -> Date {
        let of_meta = |(y, m, d): (i32, u32, u32)| Date {
            days: days_from_civil(y, m, d),
        };
        given
            .or_else(|| scenario.date.map(of_meta))
            .unwrap_or(Date::DEFAULT)
    }

    /// Milliseconds since the Unix epoch at midnight UTC of this day.
    pub fn epoch_ms(self) -> i64 {
        self.days * 86_400_000
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("expected a date like 2026-01-15 (1970 to 9999), found \"{s}\"");
        let mut parts = s.trim().split('-');
        let mut next = |len: usize| {
            parts
                .next()
                .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<u32>().ok())
        };
        let (Some(y), Some(m), Some(d)) = (next(4), next(2), next(2)) else {
            return Err(bad());
        };
        if parts.next().is_some() || y < 1970 || !(1..=12).contains(&m) || d == 0 {
            return Err(bad());
        }
        let days = days_from_civil(y as i32, m, d);
        if civil_from_days(days) != (y as i64, m, d) {
            return Err(bad());
        }
        Ok(Date { days })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.days);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// `ms` since the epoch as RFC 3339 in UTC (`2026-01-15T14:15:00Z`).
pub fn rfc3339(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let s = ms_of_day / 1000;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        Date { days },
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_print_and_anchor() {
        let d: Date = "2026-01-15".parse().unwrap();
        assert_eq!(d, Date::DEFAULT);
        assert_eq!(d.to_string(), "2026-01-15");
        // 2026-01-15T00:00:00Z, from `date -u -d 2026-01-15 +%s`.
        assert_eq!(d.epoch_ms(), 1_768_435_200_000);
        assert_eq!(rfc3339(d.epoch_ms() + 51_300_000), "2026-01-15T14:15:00Z");
        assert_eq!(
            "2024-02-29".parse::<Date>().unwrap().to_string(),
            "2024-02-29"
        );
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-1-15",
            "15/01/2026",
            "1969-12-31",
            "",
        ] {
            let err = bad.parse::<Date>().unwrap_err();
            assert!(err.contains("expected a date like 2026-01-15"), "{err}");
        }
    }
}
