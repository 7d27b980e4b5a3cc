//! The agreement rule: do the real runs and pooldrill's replications look
//! like draws of one distribution? (docs/validation.md#the-agreement-rule)
//!
//! Under the hypothesis that the model is right, the n real runs and the m
//! replications of a metric are independent draws of the same
//! distribution. For each metric the pooled two-sample t statistic
//! `(x̄ − ȳ) / (s_p √(1/n + 1/m))`, with `s_p²` the pooled variance of both
//! spreads, has n + m − 2 degrees of freedom. Each of the [`METRICS`] is
//! tested at 1 % / [`METRICS`]`.len()` (two-sided), so by the union bound
//! the command raises a false alarm in at most 1 % of its runs whatever
//! the metrics' correlations.
//!
//! A metric gates the verdict only when its run length gives the test
//! power: when the smallest difference it would reject is at most
//! [`POWER_FRACTION`] of the metric's size (or both sides show no spread).
//! Leaving a metric out can only lower the false-alarm rate; the others
//! are reported with their test, as information.

use crate::stats::{Estimate, student_t_quantile};
use serde::Serialize;

/// The compared metrics, by summary.json's dotted paths; whether each
/// may gate (the acquire wait holds the event loop's own cost, which the
/// model leaves out: docs/validation.md#what-does-not-agree-and-why); and,
/// for a latency percentile, the fraction of requests beyond it.
pub const METRICS: [(&str, bool, f64); 11] = [
    ("requests.error_rate", true, 0.0),
    ("requests.refused", true, 0.0),
    ("requests.p50_latency_s", true, 0.5),
    ("requests.p95_latency_s", true, 0.05),
    ("requests.p99_latency_s", true, 0.01),
    ("connections.mean_open", true, 0.0),
    ("connections.leaked", true, 0.0),
    ("job.runs_failed", true, 0.0),
    ("job.runs_starved", true, 0.0),
    ("acquire.found_full", true, 0.0),
    ("acquire.mean_wait_s", false, 0.0),
];

/// A latency percentile gates only when every real run counted at least
/// this many requests beyond it: fewer, and the percentile is a handful of
/// order statistics whose run-to-run spread is the machine's load more
/// than sampling (docs/validation.md#the-agreement-rule).
pub const MIN_TAIL_REQUESTS: f64 = 50.0;

/// The false-alarm rate of one run of the command, model right, unless
/// `--false-alarm` says otherwise.
pub const FALSE_ALARM: f64 = 0.01;

/// A metric gates when the test would reject a difference of this
/// fraction of its size.
pub const POWER_FRACTION: f64 = 0.25;

/// One metric's comparison, as comparison.json holds it.
#[derive(Clone, Debug, Serialize)]
pub struct MetricVerdict {
    /// summary.json's dotted path.
    pub name: String,
    /// Each real run's value.
    pub real: Vec<Option<f64>>,
    /// Mean of the real runs.
    pub real_mean: Option<f64>,
    /// Mean of the replications.
    pub sim_mean: Option<f64>,
    /// 95 % confidence interval of the replications' mean.
    pub sim_ci95: [Option<f64>; 2],
    /// |x̄ − ȳ|.
    pub difference: Option<f64>,
    /// The largest difference the test accepts.
    pub accepted_difference: Option<f64>,
    /// Whether this metric gates the verdict.
    pub gated: bool,
    /// Whether the test accepts the difference.
    pub agree: bool,
}

fn finite(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|v| v.is_finite()).collect()
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Judge metric `name` from the real runs' and the replications' values
/// (NaN where a run has none); `may_gate` as in [`METRICS`]; `tail` the
/// fewest requests any real run counted beyond the percentile (infinite
/// for a metric that is not one); `false_alarm` the command's false-alarm
/// rate, shared by the [`METRICS`].
pub fn judge(
    name: &str,
    real: &[f64],
    sim: &[f64],
    may_gate: bool,
    tail: f64,
    false_alarm: f64,
) -> MetricVerdict {
    let some = |v: f64| v.is_finite().then_some(v);
    let est = Estimate::from_replications(sim, 0.95);
    let (x, y) = (finite(real), finite(sim));
    let mut v = MetricVerdict {
        name: name.to_owned(),
        real: real.iter().map(|&r| some(r)).collect(),
        real_mean: (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64),
        sim_mean: some(est.mean),
        sim_ci95: [some(est.lo()), some(est.hi())],
        difference: None,
        accepted_difference: None,
        gated: false,
        agree: true,
    };
    if x.len() < 2 || y.len() < 2 {
        return v;
    }
    let (n, m) = (x.len() as f64, y.len() as f64);
    let ((mx, vx), (my, vy)) = (mean_var(&x), mean_var(&y));
    let pooled = ((n - 1.0) * vx + (m - 1.0) * vy) / (n + m - 2.0);
    let se = (pooled * (1.0 / n + 1.0 / m)).sqrt();
    let alpha = false_alarm / METRICS.len() as f64;
    let critical = student_t_quantile(1.0 - alpha / 2.0, n + m - 2.0);
    let accepted = critical * se;
    let difference = (mx - my).abs();
    v.difference = Some(difference);
    v.accepted_difference = Some(accepted);
    v.agree = difference <= accepted;
    let size = mx.abs().max(my.abs());
    v.gated =
        may_gate && tail >= MIN_TAIL_REQUESTS && (se == 0.0 || accepted <= POWER_FRACTION * size);
    v
}

/// Whether every gated metric agrees.
pub fn all_agree(verdicts: &[MetricVerdict]) -> bool {
    verdicts.iter().all(|v| !v.gated || v.agree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_values_agree_and_a_clear_shift_does_not() {
        let sim: Vec<f64> = (0..10).map(|i| 15.8 + 0.05 * f64::from(i % 3)).collect();
        let ok = judge(
            "connections.mean_open",
            &[15.8, 15.85, 15.9],
            &sim,
            true,
            f64::INFINITY,
            FALSE_ALARM,
        );
        assert!(ok.gated && ok.agree, "{ok:?}");
        let off = judge(
            "connections.mean_open",
            &[19.0, 19.05, 19.1],
            &sim,
            true,
            f64::INFINITY,
            FALSE_ALARM,
        );
        assert!(off.gated && !off.agree, "{off:?}");
    }

    #[test]
    fn zeros_on_both_sides_agree_and_a_noisy_metric_does_not_gate() {
        let zeros = judge(
            "requests.refused",
            &[0.0; 3],
            &[0.0; 10],
            true,
            f64::INFINITY,
            FALSE_ALARM,
        );
        assert!(zeros.gated && zeros.agree);
        let noisy = judge(
            "connections.leaked",
            &[1.0, 9.0, 3.0],
            &[4.0, 0.0, 8.0, 2.0],
            true,
            f64::INFINITY,
            FALSE_ALARM,
        );
        assert!(!noisy.gated, "{noisy:?}");
        assert!(all_agree(&[noisy]));
    }

    #[test]
    fn a_percentile_with_few_requests_beyond_it_does_not_gate() {
        // Two 40 s runs count about 2700 requests: 27 beyond their p99.
        let sim: Vec<f64> = (0..6).map(|i| 0.117 + 0.001 * f64::from(i % 3)).collect();
        let real = [0.124, 0.126];
        let short = judge(
            "requests.p99_latency_s",
            &real,
            &sim,
            true,
            27.0,
            FALSE_ALARM,
        );
        assert!(!short.gated, "{short:?}");
        let long = judge(
            "requests.p99_latency_s",
            &real,
            &sim,
            true,
            120.0,
            FALSE_ALARM,
        );
        assert!(long.gated && !long.agree, "{long:?}");
    }

    #[test]
    fn the_false_alarm_rate_is_at_most_one_percent_when_both_sides_share_a_law() {
        // 4000 commands with 3 real runs and 10 replications of the same
        // normal law per metric: how often does any gated metric disagree?
        use crate::engine::rng::{domain, stream};
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = stream(7, domain("agreement test"), 0);
        let mut alarms = 0;
        let commands = 4000;
        for _ in 0..commands {
            let mut draw = |k: usize| -> Vec<f64> {
                (0..k)
                    .map(|_| 10.0 + Distribution::<f64>::sample(&StandardNormal, &mut rng))
                    .collect()
            };
            let verdicts: Vec<MetricVerdict> = METRICS
                .iter()
                .map(|(name, gate, _)| {
                    judge(name, &draw(3), &draw(10), *gate, f64::INFINITY, FALSE_ALARM)
                })
                .collect();
            alarms += usize::from(!all_agree(&verdicts));
        }
        assert!(
            alarms * 100 <= commands,
            "{alarms} false alarms in {commands}"
        );
    }
}
