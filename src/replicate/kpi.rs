//! The key performance indicators a comparison or a sweep reports, read from
//! a run's [`Summary`], and how to write their values for people.

use crate::metrics::Summary;
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};

/// How a KPI is measured and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A fraction, shown as a percentage.
    Ratio,
    /// Seconds, shown in ms below 10 s.
    Seconds,
    /// A count (of acquires, runs, connections).
    Count,
}

/// One KPI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kpi {
    /// Stable identifier, used as a CSV column: `error_rate`,
    /// `time_to_detect_s.HighErrorRate`.
    pub id: String,
    /// Words for tables and charts.
    pub label: String,
    /// Its unit.
    pub unit: Unit,
}

impl Kpi {
    fn new(id: &str, label: &str, unit: Unit) -> Kpi {
        Kpi {
            id: id.to_owned(),
            label: label.to_owned(),
            unit,
        }
    }
}

fn value(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

/// The KPIs every run reports, in a fixed order, for a scenario with these
/// alert rules.
///
/// Error rates by kind are shares of the requests that arrived after the
/// warm-up; waits are the request class's acquire waits; starved acquires
/// waited over 100 ms or failed. Means are exact; percentiles come from the
/// run's histograms (within 0.1 %). The wasted connection time is what the
/// handlers that completed after their client left held (connection-s). Each alert rule adds whether it fired and
/// its time to detect (first firing − the timeline change before it).
///
/// With `[retry]` (`retry`), the amplification (attempts / arrived),
/// whether the run recovered after its trigger (share of runs) and its
/// `recovery_s` when it did.
pub fn kpi_defs<'a>(alerts: impl IntoIterator<Item = &'a str>, retry: bool) -> Vec<Kpi> {
    use Unit::*;
    let mut defs = vec![
        Kpi::new("error_rate", "error rate (client view)", Ratio),
        Kpi::new("acquire_timeout_rate", "acquire timeouts / arrived", Ratio),
        Kpi::new("refusal_rate", "refusals (53300) / arrived", Ratio),
        Kpi::new("gave_up_rate", "gave up (deadline) / arrived", Ratio),
        Kpi::new("app_error_rate", "other app errors / arrived", Ratio),
        Kpi::new("latency_p95_s", "latency p95", Seconds),
        Kpi::new("latency_p99_s", "latency p99", Seconds),
        Kpi::new("wait_p95_s", "request acquire wait p95", Seconds),
        Kpi::new("wait_p99_s", "request acquire wait p99", Seconds),
        Kpi::new("peak_open", "open connections, peak", Count),
        Kpi::new("mean_open", "open connections, mean", Count),
        Kpi::new("starved_requests", "starved acquires, requests", Count),
        Kpi::new("starved_jobs", "starved acquires, job", Count),
        Kpi::new("job_runs_completed", "job runs completed", Count),
        Kpi::new("job_runs_late", "job runs late (> period)", Count),
        Kpi::new("latency_mean_s", "latency mean", Seconds),
        Kpi::new("wait_mean_s", "request acquire wait mean", Seconds),
        Kpi::new(
            "wasted_connection_s",
            "connection time held for clients that left",
            Seconds,
        ),
    ];
    // retry: with `[retry]` only, so that other outputs stay as they are.
    if retry {
        defs.push(Kpi::new("amplification", "attempts / arrived", Count));
        defs.push(Kpi::new(
            "recovered",
            "recovered after the trigger (share of runs)",
            Ratio,
        ));
        defs.push(Kpi::new(
            "recovery_s",
            "recovery after the trigger",
            Seconds,
        ));
    }
    for name in alerts {
        defs.push(Kpi::new(
            &format!("alert_fired.{name}"),
            &format!("{name} fired (share of runs)"),
            Ratio,
        ));
        defs.push(Kpi::new(
            &format!("time_to_detect_s.{name}"),
            &format!("time to detect, {name}"),
            Seconds,
        ));
    }
    defs
}

/// The values of [`kpi_defs`] for one run; a value that does not exist in
/// this run (a percentile without data, an alert that never fired) is NaN
/// and is left out of the estimates.
pub fn kpi_values(s: &Summary) -> Vec<f64> {
    let r = &s.requests;
    let wait = &s.acquire_by_class.request;
    let c = &s.connections;
    let mut values = vec![
        r.error_rate,
        share(r.acquire_timeouts, r.arrived),
        share(r.refused, r.arrived),
        share(r.gave_up, r.arrived),
        share(r.app_errors, r.arrived),
        value(r.p95_latency_s),
        value(r.p99_latency_s),
        value(wait.p95_wait_s),
        value(wait.p99_wait_s),
        c.peak_open as f64,
        c.mean_open,
        s.acquire_by_class.request.starved as f64,
        s.acquire_by_class.job.starved as f64,
        s.job.runs_completed as f64,
        s.job.runs_late as f64,
        value(r.mean_latency_s),
        value(wait.mean_wait_s),
        r.wasted_connection_s,
    ];
    if let Some(amplification) = r.amplification {
        let recovery = s.recovery_s.flatten();
        values.push(amplification);
        values.push(if recovery.is_some() { 1.0 } else { 0.0 });
        values.push(value(recovery));
    }
    for alert in &s.alerts {
        values.push(if alert.first_firing_s.is_some() {
            1.0
        } else {
            0.0
        });
        values.push(value(alert.time_to_detect_s));
    }
    values
}

/// The KPIs of one run with their values.
pub fn kpis(s: &Summary) -> Vec<(Kpi, f64)> {
    kpi_defs(
        s.alerts.iter().map(|a| a.name.as_str()),
        s.requests.amplification.is_some(),
    )
    .into_iter()
    .zip(kpi_values(s))
    .collect()
}

impl Unit {
    /// The factor and suffix values are shown with, chosen for `magnitude`.
    fn scale(self, magnitude: f64) -> (f64, &'static str) {
        match self {
            Unit::Ratio => (100.0, " %"),
            Unit::Seconds if magnitude.abs() < 10.0 => (1e3, " ms"),
            Unit::Seconds => (1.0, " s"),
            Unit::Count => (1.0, ""),
        }
    }

    /// An estimate for people: `0.051 % ± 0.004 %` (the half-width with two
    /// significant digits, the mean to the same decimal); `–` without data.
    /// `signed` writes a `+` before positive means (differences).
    pub fn format_estimate(self, e: &Estimate, signed: bool) -> String {
        self.format_estimate_like(e, signed, e.mean.abs().max(e.half_width))
    }

    /// [`format_estimate`](Self::format_estimate) in the scale (ms or s)
    /// of a value of `magnitude`: a difference in the unit of its arms.
    pub fn format_estimate_like(self, e: &Estimate, signed: bool, magnitude: f64) -> String {
        if e.n == 0 || !e.mean.is_finite() {
            return "–".into();
        }
        let (k, suffix) = self.scale(magnitude);
        let hw = e.half_width * k;
        let decimals = self.decimals(hw);
        let digits = fixed(e.mean * k, decimals);
        let sign = if signed && !digits.starts_with('-') && digits.parse() != Ok(0.0) {
            "+"
        } else {
            ""
        };
        let mean = format!("{sign}{digits}{suffix}");
        if e.n < 2 {
            mean
        } else if hw > 0.0 && fixed(hw, decimals).parse() == Ok(0.0) {
            // Below the KPI's precision (paired runs that barely differ).
            let step = 10f64.powi(-(decimals as i32));
            format!("{mean} ± <{step:.decimals$}{suffix}")
        } else {
            format!("{mean} ± {hw:.decimals$}{suffix}")
        }
    }

    /// [`format_estimate`](Self::format_estimate) of a quantity that cannot
    /// be negative (every KPI of an arm): an interval that would reach below
    /// zero is shown clamped at zero, `0.010 % (0 to 0.030 %)`.
    pub fn format_non_negative(self, e: &Estimate) -> String {
        if e.n < 2 || !e.mean.is_finite() || e.lo() >= 0.0 {
            return self.format_estimate(e, false);
        }
        let (k, suffix) = self.scale(e.mean.abs().max(e.half_width));
        let decimals = self.decimals(e.half_width * k);
        format!(
            "{}{suffix} (0 to {}{suffix})",
            fixed(e.mean * k, decimals),
            fixed(e.hi() * k, decimals)
        )
    }

    /// Decimals for values with a half-width of `hw` (in the shown scale):
    /// two significant digits of it, at most the KPI's precision.
    fn decimals(self, hw: f64) -> usize {
        if hw > 0.0 && hw.is_finite() {
            (1 - hw.log10().floor() as i32).clamp(0, self.max_decimals()) as usize
        } else {
            default_decimals(self)
        }
    }

    /// The finest precision shown: a millionth of a percentage point, a
    /// microsecond (in ms) or a millisecond (in s), a thousandth of a count.
    fn max_decimals(self) -> i32 {
        match self {
            Unit::Ratio => 6,
            Unit::Seconds | Unit::Count => 3,
        }
    }

    /// The unit's name in files: `ratio`, `seconds`, `count`.
    pub fn id(self) -> &'static str {
        match self {
            Unit::Ratio => "ratio",
            Unit::Seconds => "seconds",
            Unit::Count => "count",
        }
    }

    /// The unit's name in column and axis titles.
    pub fn title(self) -> &'static str {
        match self {
            Unit::Ratio => "%",
            Unit::Seconds => "ms",
            Unit::Count => "count",
        }
    }

    /// The factor from stored values to [`title`](Self::title) units.
    pub fn display_factor(self) -> f64 {
        match self {
            Unit::Ratio => 100.0,
            Unit::Seconds => 1e3,
            Unit::Count => 1.0,
        }
    }
}

/// `v` with `decimals` decimals, never "-0.0".
fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.parse() == Ok(0.0) {
        s.trim_start_matches('-').to_owned()
    } else {
        s
    }
}

fn default_decimals(unit: Unit) -> usize {
    match unit {
        Unit::Ratio => 3,
        Unit::Seconds | Unit::Count => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, half_width: f64, n: usize) -> Estimate {
        Estimate {
            mean,
            half_width,
            std_dev: 0.0,
            n,
        }
    }

    #[test]
    fn estimates_show_two_significant_digits_of_the_half_width() {
        let f = |u: Unit, m, h| u.format_estimate(&est(m, h, 10), false);
        assert_eq!(f(Unit::Ratio, 0.000512, 0.0000437), "0.0512 % ± 0.0044 %");
        assert_eq!(f(Unit::Seconds, 0.0123, 0.0021), "12.3 ms ± 2.1 ms");
        assert_eq!(f(Unit::Seconds, 61.0, 1.5), "61.0 s ± 1.5 s");
        assert_eq!(f(Unit::Count, 394.12, 3.3), "394.1 ± 3.3");
        assert_eq!(f(Unit::Count, 394.12, 0.0), "394.1 ± 0.0");
        assert_eq!(Unit::Count.format_estimate(&est(2.0, 0.0, 1), true), "+2.0");
        assert_eq!(
            Unit::Count.format_estimate(&est(f64::NAN, f64::NAN, 0), false),
            "–"
        );
    }

    #[test]
    fn differences_carry_their_sign() {
        let d = Unit::Count.format_estimate(&est(-12.0, 1.0, 5), true);
        assert_eq!(d, "-12.0 ± 1.0");
        let d = Unit::Count.format_estimate(&est(12.0, 1.0, 5), true);
        assert_eq!(d, "+12.0 ± 1.0");
        let d = Unit::Seconds.format_estimate_like(&est(0.0, 0.0, 5), true, 30.0);
        assert_eq!(d, "0.0 s ± 0.0 s");
        let d = Unit::Ratio.format_estimate(&est(-1e-12, 7.2e-7, 5), true);
        assert_eq!(d, "0.000000 % ± 0.000072 %");
    }

    #[test]
    fn a_half_width_below_the_precision_is_not_shown_as_zeros() {
        let d = Unit::Seconds.format_estimate_like(&est(2e-13, 3e-13, 10), true, 0.02);
        assert_eq!(d, "0.000 ms ± <0.001 ms");
        let d = Unit::Count.format_estimate(&est(394.0, 1e-7, 10), false);
        assert_eq!(d, "394.000 ± <0.001");
        let d = Unit::Ratio.format_estimate(&est(1e-12, 1e-12, 10), true);
        assert_eq!(d, "0.000000 % ± <0.000001 %");
    }

    #[test]
    fn intervals_of_non_negative_kpis_stop_at_zero() {
        let rate = est(0.0001, 0.0002, 10);
        assert_eq!(
            Unit::Ratio.format_non_negative(&rate),
            "0.010 % (0 to 0.030 %)"
        );
        let wait = est(0.004, 0.001, 10);
        assert_eq!(Unit::Seconds.format_non_negative(&wait), "4.0 ms ± 1.0 ms");
    }
}
