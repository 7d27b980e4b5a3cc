//! Tick positions and tick labels: round numbers on value axes, whole
//! minutes (or wall-clock times) on time axes.

/// Round ticks from at or below `lo` to at or above `hi`, about `n` of them.
pub(crate) fn ticks_between(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let lo = if lo.is_finite() { lo } else { 0.0 };
    let hi = if hi.is_finite() && hi > lo {
        hi
    } else {
        lo + 1.0
    };
    let step = nice_step((hi - lo) / n.max(1) as f64);
    let first = (lo / step + 1e-9).floor() as i64;
    let last = ((hi / step - 1e-9).ceil() as i64).max(first + 1);
    (first..=last).map(|k| k as f64 * step).collect()
}

/// 1, 2 or 5 times a power of ten, at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    let mantissa = raw / power;
    let factor = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|&f| mantissa <= f * (1.0 + 1e-9))
        .unwrap_or(10.0);
    factor * power
}

/// `v` with as many decimals as the step between ticks needs.
pub(crate) fn tick_label(v: f64, ticks: &[f64]) -> String {
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => 1.0,
    };
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}")
}

/// A number with three significant digits at most, no trailing zeros:
/// 0.0123, 1.5, 42, 1234.
pub(crate) fn short_number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A time axis from 0 to `end_s`, read as wall-clock time or as minutes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeAxis {
    /// End of the axis, seconds from the start.
    pub end_s: f64,
    /// Wall-clock (hour, minute) of t = 0.
    pub start_clock: Option<(u32, u32)>,
    /// Time between two points of the data, named in the title.
    pub step_s: f64,
    /// At most this many ticks (the width of the plot allows).
    pub max_ticks: usize,
}

/// Candidate tick steps in seconds.
const TIME_STEPS_S: [f64; 14] = [
    10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0, 7200.0, 10800.0,
    21600.0,
];

impl TimeAxis {
    fn step_s(&self) -> f64 {
        TIME_STEPS_S
            .into_iter()
            .find(|&s| self.end_s / s <= self.max_ticks.max(2) as f64)
            .unwrap_or(43200.0)
    }

    /// Tick positions in seconds, at whole steps.
    pub(crate) fn ticks(&self) -> Vec<f64> {
        let step = self.step_s();
        let n = (self.end_s / step + 1e-9).floor() as usize;
        (0..=n).map(|i| i as f64 * step).collect()
    }

    /// The label of tick `t_s`: "14:15" (or "14:15:30"), else minutes.
    pub(crate) fn label(&self, t_s: f64) -> String {
        let step = self.step_s();
        match self.start_clock {
            Some((h, m)) => {
                let secs = (h * 3600 + m * 60) as i64 + t_s.round() as i64;
                let secs = secs.rem_euclid(86400);
                let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
                if step >= 60.0 {
                    format!("{hh:02}:{mm:02}")
                } else {
                    format!("{hh:02}:{mm:02}:{ss:02}")
                }
            }
            None if step >= 60.0 => format!("{}", (t_s / 60.0).round()),
            None => short_number(t_s / 60.0),
        }
    }

    /// The axis title, with the time between points.
    pub(crate) fn title(&self) -> String {
        let axis = match self.start_clock {
            Some(_) => "time of day (hh:mm)",
            None => "time since start (minutes)",
        };
        format!("{axis} · a point every {} s", short_number(self.step_s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks_and_labels() {
        assert_eq!(
            ticks_between(0.0, 497.0, 5),
            vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0]
        );
        assert_eq!(ticks_between(0.0, 0.0, 4), vec![0.0, 0.5, 1.0]);
        assert_eq!(
            ticks_between(5.0, 38.0, 4),
            vec![0.0, 10.0, 20.0, 30.0, 40.0]
        );
        let t = ticks_between(0.0, 0.3, 3);
        assert_eq!(tick_label(t[3], &t), "0.3");
        assert_eq!(short_number(0.012345), "0.0123");
        assert_eq!(short_number(1234.6), "1235");
        assert_eq!(short_number(2.50), "2.5");
    }

    #[test]
    fn clock_and_minutes() {
        let clock = TimeAxis {
            end_s: 3600.0,
            start_clock: Some((14, 0)),
            step_s: 1.0,
            max_ticks: 10,
        };
        assert_eq!(clock.ticks().len(), 7);
        assert_eq!(clock.label(900.0), "14:15");
        let late = TimeAxis {
            end_s: 3600.0,
            start_clock: Some((23, 50)),
            step_s: 1.0,
            max_ticks: 10,
        };
        assert_eq!(late.label(1200.0), "00:10");
        let minutes = TimeAxis {
            end_s: 1800.0,
            start_clock: None,
            step_s: 6.0,
            max_ticks: 10,
        };
        assert_eq!(
            minutes.title(),
            "time since start (minutes) · a point every 6 s"
        );
        assert_eq!(minutes.label(300.0), "5");
        assert_eq!(minutes.ticks().last(), Some(&1800.0));
        let narrow = TimeAxis {
            max_ticks: 4,
            ..minutes
        };
        assert_eq!(narrow.ticks(), vec![0.0, 600.0, 1200.0, 1800.0]);
    }
}
