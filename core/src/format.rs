//! How times and fractions read in every output: spans in words, clock
//! times, percents and exact durations. One copy of each, so that a report,
//! the dashboard and a command write the same quantity the same way.

use crate::scenario::ClockTime;

/// A span of time in words: "45 s", "6 min 20 s", "8 min", "1 h",
/// "1 h 5 min" (from an hour on, seconds are left out). Negative spans
/// read as "0 s".
pub fn span(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    match (h, m, sec) {
        (0, 0, sec) => format!("{sec} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, sec) => format!("{m} min {sec} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// `seconds` after `start` as a wall-clock time that always shows its
/// seconds ("14:03:00"), rounded to the second, wrapping at midnight.
pub fn clock_hms(start: ClockTime, seconds: f64) -> String {
    let t = start.0 + seconds.max(0.0).round() as u32;
    format!("{:02}:{:02}:{:02}", t / 3600 % 24, t / 60 % 60, t % 60)
}

/// A fraction as a percentage with `decimals` decimals: `percent(0.125, 2)`
/// is "12.50 %".
pub fn percent(fraction: f64, decimals: usize) -> String {
    format!("{:.*} %", decimals, fraction * 100.0)
}

/// A time in seconds for people, in ms below a second: "79.6 ms",
/// "5.01 s"; "–" when there is none.
pub fn seconds(t: Option<f64>) -> String {
    t.map_or("–".into(), |s| {
        if s >= 1.0 {
            format!("{s:.2} s")
        } else {
            millis(Some(s))
        }
    })
}

/// A time in milliseconds with one decimal, for columns that keep one unit:
/// "0.4 ms", "1520.0 ms"; "–" when there is none.
pub fn millis(t: Option<f64>) -> String {
    t.map_or("–".into(), |s| format!("{:.1} ms", s * 1e3))
}

/// `t` in the largest unit that writes it exactly (the scenario format's
/// own, which `--set` writes durations with).
pub use crate::scenario::units::exact;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    #[test]
    fn spans_read_as_words() {
        assert_eq!(span(0.4), "0 s");
        assert_eq!(span(20.0), "20 s");
        assert_eq!(span(380.0), "6 min 20 s");
        assert_eq!(span(480.0), "8 min");
        assert_eq!(span(-3.0), "0 s");
    }

    #[test]
    fn spans_of_an_hour_or_more_leave_out_the_seconds() {
        assert_eq!(span(3600.0), "1 h");
        assert_eq!(span(3620.0), "1 h");
        assert_eq!(span(3900.0), "1 h 5 min");
        assert_eq!(span(3920.0), "1 h 5 min");
    }

    #[test]
    fn clock_times_show_seconds_and_wrap_at_midnight() {
        let start = ClockTime(14 * 3600);
        assert_eq!(clock_hms(start, 195.4), "14:03:15");
        assert_eq!(clock_hms(start, 0.0), "14:00:00");
        assert_eq!(clock_hms(ClockTime(23 * 3600 + 59 * 60), 90.0), "00:00:30");
    }

    #[test]
    fn percents_take_their_decimals() {
        assert_eq!(percent(0.125, 2), "12.50 %");
        assert_eq!(percent(0.95, 0), "95 %");
        assert_eq!(percent(1.0 / 3.0, 3), "33.333 %");
    }

    #[test]
    fn seconds_switch_to_milliseconds_below_one() {
        assert_eq!(seconds(Some(0.0796)), "79.6 ms");
        assert_eq!(seconds(Some(5.012)), "5.01 s");
        assert_eq!(seconds(None), "–");
        assert_eq!(millis(Some(1.52)), "1520.0 ms");
    }

    #[test]
    fn exact_durations_use_the_largest_exact_unit() {
        assert_eq!(exact(SimTime::from_secs(600)), "600s");
        assert_eq!(exact(SimTime(1_500_000_000)), "1500ms");
        assert_eq!(exact(SimTime(250_000)), "250us");
        assert_eq!(exact(SimTime(7)), "7ns");
        assert_eq!(exact(SimTime::ZERO), "0s");
    }

    #[test]
    fn an_exact_duration_reads_back_as_the_same_duration() {
        use crate::scenario::units::Duration;
        for text in ["20s", "10m", "1.5s", "250ms", "0.0015ms", "1h2m3s"] {
            let d: Duration = text.parse().unwrap();
            let written = exact(d.0);
            assert_eq!(
                written.parse::<Duration>().unwrap(),
                d,
                "{text} → {written}"
            );
        }
    }
}
