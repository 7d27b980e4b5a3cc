//! Where a telemetry file's times fall on the run's clock: seconds from the
//! start, times of day (`HH:MM[:SS]`, against `meta.start`), RFC 3339
//! timestamps and Unix seconds (against `meta.date` + `meta.start`, in UTC).

/// Seconds in a day.
const DAY: f64 = 86_400.0;

/// The run's place in calendar time, from the scenario's `[meta]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Clock {
    /// `meta.start` as seconds after midnight.
    pub start_s: Option<f64>,
    /// `meta.date` as (year, month, day).
    pub date: Option<(i32, u32, u32)>,
}

impl Clock {
    /// Unix seconds (UTC) of the run's start, when `meta.date` is set
    /// (midnight when `meta.start` is not).
    pub fn start_unix(&self) -> Option<f64> {
        let (y, m, d) = self.date?;
        Some(days_from_civil(y, m, d) as f64 * DAY + self.start_s.unwrap_or(0.0))
    }

    /// Where absolute times (Unix seconds) go: `t − start` with a date, else
    /// relative to `first`, the file's first sample, which is the start.
    pub fn place_absolute(&self, unix: f64, first: f64) -> f64 {
        unix - self.start_unix().unwrap_or(first)
    }
}

/// `YYYY-MM-DD` as (year, month, day), or `None` if it is not a real date.
pub fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    ((1..=12).contains(&m) && (1..=days_in_month(y as i32, m)).contains(&d))
        .then_some((y as i32, m, d))
}

/// Days from 1970-01-01 to the date (proleptic Gregorian calendar).
pub const fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = y as i64 - (m <= 2) as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i32, m: u32) -> u32 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// All-ASCII-digit text as a number.
fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `HH:MM[:SS[.fff]]` as seconds after midnight.
pub fn parse_time_of_day(s: &str) -> Option<f64> {
    let mut parts = s.split(':');
    let (h, m) = (parts.next()?, parts.next()?);
    let sec = parts.next();
    if parts.next().is_some() || h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m) = (digits(h)?, digits(m)?);
    let sec = match sec {
        None => 0.0,
        Some(sec) => seconds_field(sec)?,
    };
    (h < 24 && m < 60).then(|| f64::from(h * 3600 + m * 60) + sec)
}

/// `SS` or `SS.fff`, below 60.
fn seconds_field(s: &str) -> Option<f64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    if whole.len() != 2 || digits(whole)? >= 60 || digits(frac).is_none() {
        return None;
    }
    s.parse().ok()
}

/// An RFC 3339 timestamp (`2026-03-14T14:05:00Z`, `…T14:05:00.5+01:00`, a
/// space for the `T`) as Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    if s.len() < 20 || !s.is_char_boundary(10) || !s.is_char_boundary(11) {
        return None;
    }
    let (y, m, d) = parse_date(&s[..10])?;
    if !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    let rest = &s[11..];
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (time, zone) = rest.split_at(zone_at);
    if time.len() < 8 {
        return None; // seconds are required
    }
    let of_day = parse_time_of_day(time)?;
    let offset = match zone {
        "Z" | "z" => 0.0,
        _ => {
            let sign = if zone.starts_with('-') { -1.0 } else { 1.0 };
            let (h, m) = zone[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m) = (digits(h)?, digits(m)?);
            if h >= 24 || m >= 60 {
                return None;
            }
            sign * f64::from(h * 3600 + m * 60)
        }
    };
    Some(days_from_civil(y, m, d) as f64 * DAY + of_day - offset)
}

/// The way a file writes its times (the first row's decides).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Seconds from the run's start.
    Seconds,
    /// `HH:MM[:SS]`, against `meta.start`.
    TimeOfDay,
    /// RFC 3339, against `meta.date` + `meta.start`.
    Rfc3339,
}

impl TimeFormat {
    /// The format of `s`, or `None` if it is none of them.
    pub fn of(s: &str) -> Option<TimeFormat> {
        if parse_rfc3339(s).is_some() {
            Some(TimeFormat::Rfc3339)
        } else if parse_time_of_day(s).is_some() {
            Some(TimeFormat::TimeOfDay)
        } else {
            seconds(s).map(|_| TimeFormat::Seconds)
        }
    }

    /// How a time in this format looks, for "expected …".
    pub fn example(self) -> &'static str {
        match self {
            TimeFormat::Seconds => "seconds from the start like `90`",
            TimeFormat::TimeOfDay => "a time of day like `14:05` or `14:05:30`",
            TimeFormat::Rfc3339 => "an RFC 3339 timestamp like `2026-03-14T14:05:00Z`",
        }
    }
}

/// A finite number of seconds.
fn seconds(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Places a file's times, row after row, on the run's clock.
#[derive(Debug)]
pub struct TimeReader {
    clock: Clock,
    format: Option<TimeFormat>,
    /// The previous time of day's offset from the start (times of day).
    previous: Option<f64>,
    /// The first sample's Unix seconds (RFC 3339).
    first: Option<f64>,
}

impl TimeReader {
    /// A reader for a file's times on `clock`.
    pub fn new(clock: &Clock) -> TimeReader {
        TimeReader {
            clock: *clock,
            format: None,
            previous: None,
            first: None,
        }
    }

    /// The time `s` as seconds from the run's start, or what was expected.
    /// Times of day go forward: one earlier than the previous is on the next
    /// day, the first is the one nearest `meta.start` (within 12 hours).
    pub fn read(&mut self, s: &str) -> Result<f64, String> {
        let format = match self.format {
            Some(f) => f,
            None => {
                let f = TimeFormat::of(s).ok_or(
                    "a time: seconds from the start, a time of day `HH:MM[:SS]` or an RFC 3339 timestamp",
                )?;
                *self.format.get_or_insert(f)
            }
        };
        let same = || format!("{} as in the first row", format.example());
        match format {
            TimeFormat::Seconds => seconds(s).ok_or_else(same),
            TimeFormat::Rfc3339 => {
                let unix = parse_rfc3339(s).ok_or_else(same)?;
                let first = *self.first.get_or_insert(unix);
                Ok(self.clock.place_absolute(unix, first))
            }
            TimeFormat::TimeOfDay => {
                let of_day = parse_time_of_day(s).ok_or_else(same)?;
                let start = self.clock.start_s.ok_or(
                    "seconds from the start or RFC 3339 timestamps (or set meta.start to use times of day)",
                )?;
                let t = match self.previous {
                    None => {
                        let t = (of_day - start).rem_euclid(DAY);
                        if t > DAY / 2.0 { t - DAY } else { t }
                    }
                    Some(previous) => {
                        let day = (previous + start).div_euclid(DAY);
                        let mut t = day * DAY + of_day - start;
                        if t <= previous - 1e-9 {
                            t += DAY;
                        }
                        t
                    }
                };
                self.previous = Some(t);
                Ok(t)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-2-01"), None);
    }

    #[test]
    fn rfc3339_timestamps_with_zones_and_fractions() {
        let noon = parse_rfc3339("2026-03-14T12:00:00Z").unwrap();
        assert_eq!(noon, 1_773_489_600.0);
        assert_eq!(parse_rfc3339("2026-03-14T13:00:00+01:00"), Some(noon));
        assert_eq!(
            parse_rfc3339("2026-03-14 11:30:00.5-00:30"),
            Some(noon + 0.5)
        );
        for bad in [
            "2026-03-14T12:00Z",
            "2026-03-14T12:00:00",
            "2026-13-14T12:00:00Z",
            "2026-03-14T24:00:00Z",
            "2026-03-14T12:00:00+1:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_of_day_go_forward_across_midnight() {
        let clock = Clock {
            start_s: Some(23.0 * 3600.0 + 50.0 * 60.0),
            date: None,
        };
        let mut r = TimeReader::new(&clock);
        assert_eq!(r.read("23:45"), Ok(-300.0));
        assert_eq!(r.read("23:59:30"), Ok(570.0));
        assert_eq!(r.read("00:10"), Ok(1200.0));
        assert_eq!(
            r.read("00:10"),
            Ok(1200.0),
            "a duplicate, refused by the caller"
        );
        assert!(r.read("90").is_err(), "formats do not mix");
        let mut r = TimeReader::new(&Clock::default());
        assert!(r.read("14:00").unwrap_err().contains("meta.start"));
    }

    #[test]
    fn absolute_times_are_placed_by_the_date_or_the_first_sample() {
        let clock = Clock {
            start_s: Some(12.0 * 3600.0),
            date: Some((2026, 3, 14)),
        };
        let mut r = TimeReader::new(&clock);
        assert_eq!(r.read("2026-03-14T12:01:00Z"), Ok(60.0));
        let mut r = TimeReader::new(&Clock::default());
        assert_eq!(r.read("2026-03-14T12:01:00Z"), Ok(0.0));
        assert_eq!(r.read("2026-03-14T12:02:00Z"), Ok(60.0));
    }
}
