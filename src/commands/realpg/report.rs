//! What `pooldrill realpg` writes: comparison.json, comparison.md and the
//! side-by-side charts (open connections and error rate over time, the real
//! runs' mean and spread against pooldrill's band).

use super::agreement::MetricVerdict;
use super::calibrate::Fit;
use super::simulate::SimRun;
use crate::replicate::series::{Binned, KeySeries, band};
use crate::report::charts::{BandPoint, BandSeries, Overlay, overlay};
use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;

/// comparison.json.
#[derive(Serialize)]
pub struct Comparison {
    /// Whether every gated metric agrees.
    pub agree: bool,
    /// The scenario's name.
    pub scenario: String,
    /// `postgres --version`.
    pub server: String,
    /// Real runs, and each one's length and warm-up (s).
    pub runs: usize,
    /// Length of each run (s).
    pub duration_s: f64,
    /// Leading time left out (s).
    pub warmup_s: f64,
    /// pooldrill's replications.
    pub replications: u32,
    /// Arrivals per second each real run achieved after the warm-up (the
    /// machine's load can hold them back).
    pub achieved_rate_per_s: Vec<f64>,
    /// The scenario's rate.
    pub scenario_rate_per_s: f64,
    /// The fits the simulation used.
    pub calibration: Calibration,
    /// Completed acquires that found an idle client: their median wait in
    /// each real run (s), the event loop's own cost.
    pub idle_acquire_p50_wait_s: Vec<Option<f64>>,
    /// How late each real run's event loop started its requests' handlers
    /// (median and 99th percentile, s): not modelled, and left out of the
    /// real latencies.
    pub arrival_lag: Vec<Value>,
    /// Every error text the real runs saw, with its count.
    pub error_texts: Value,
    /// The rule's false-alarm rate per command run.
    pub false_alarm: f64,
    /// A metric gates when the test rejects a difference of this fraction.
    pub power_fraction: f64,
    /// Each metric.
    pub metrics: Vec<MetricVerdict>,
}

/// The first stage's fits.
#[derive(Serialize)]
pub struct Calibration {
    /// `requests.hold` from the measured held times.
    pub hold: Option<Fit>,
    /// `database.setup` from the measured connection setups.
    pub setup: Option<Fit>,
    /// Other clients in the simulation (the scenario's + the monitor).
    pub other_clients: u32,
}

fn cell(v: Option<f64>, name: &str) -> String {
    let Some(v) = v else {
        return "–".into();
    };
    if name.ends_with("_s") {
        format!("{:.3} ms", v * 1e3)
    } else if name.ends_with("error_rate") {
        format!("{:.3} %", v * 100.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// comparison.md: the table, the calibration and the rule in one page.
pub fn markdown(c: &Comparison) -> String {
    let mut md = format!(
        "# {}: real PostgreSQL against pooldrill\n\n{}. {} real runs of {:.0} s (first {:.0} s left \
         out) against {} pooldrill replications of the calibrated scenario. Verdict: **{}**.\n\n",
        c.scenario,
        c.server,
        c.runs,
        c.duration_s,
        c.warmup_s,
        c.replications,
        if c.agree { "agree" } else { "disagree" }
    );
    md.push_str(
        "| metric | real (per run) | real mean | pooldrill mean [95 % CI] | gated | agrees |\n",
    );
    md.push_str("|---|---|---|---|---|---|\n");
    for m in &c.metrics {
        let runs: Vec<String> = m.real.iter().map(|v| cell(*v, &m.name)).collect();
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} [{}, {}] | {} | {} |",
            m.name,
            runs.join(", "),
            cell(m.real_mean, &m.name),
            cell(m.sim_mean, &m.name),
            cell(m.sim_ci95[0], &m.name),
            cell(m.sim_ci95[1], &m.name),
            if m.gated { "yes" } else { "no" },
            if m.agree { "yes" } else { "no" }
        );
    }
    let lag = |key: &str| -> Vec<String> {
        c.arrival_lag
            .iter()
            .map(|l| {
                l[key]
                    .as_f64()
                    .map_or("–".into(), |v| format!("{:.2}", v * 1e3))
            })
            .collect()
    };
    let _ = write!(
        md,
        "\nEvent-loop lag of the handlers' start per run (not modelled; out of the latencies): \
         p50 {} ms, p99 {} ms.",
        lag("arrival_lag_p50_s").join(", "),
        lag("arrival_lag_p99_s").join(", ")
    );
    let rates: Vec<String> = c
        .achieved_rate_per_s
        .iter()
        .map(|r| format!("{r:.1}"))
        .collect();
    let _ = write!(
        md,
        "\nAchieved arrival rate per run: {} /s (scenario: {:.1} /s).\n",
        rates.join(", "),
        c.scenario_rate_per_s
    );
    for (what, fit) in [
        ("requests.hold", c.calibration.hold),
        ("database.setup", c.calibration.setup),
    ] {
        if let Some(f) = fit {
            let _ = writeln!(
                md,
                "Calibrated {what}: lognormal median {:.2} ms, p99 {:.2} ms (nearest the p50, p95 and p99 of {} measured values).",
                f.median_s * 1e3,
                f.p99_s * 1e3,
                f.n
            );
        }
    }
    let _ = writeln!(
        md,
        "\nRule: pooled two-sample t test per metric at {} % / {} metrics; a metric gates when \
         the test rejects a difference of {:.0} % of its size, a latency percentile only with \
         {} requests beyond it in every real run (docs/validation.md).",
        c.false_alarm * 100.0,
        c.metrics.len(),
        c.power_fraction * 100.0,
        super::agreement::MIN_TAIL_REQUESTS
    );
    md
}

/// A real run's per-second series averaged into the simulation's bins.
pub fn real_binned(real: &Value, bins: &[f64]) -> Binned {
    let get = |k: &str| -> Vec<f64> {
        real["series"][k]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())
            .unwrap_or_default()
    };
    let (time, open, errors) = (get("time_s"), get("open"), get("error_rate"));
    let mut out = Binned {
        time_s: bins.to_vec(),
        ..Binned::default()
    };
    let mut start = 0.0;
    for &end in bins {
        let avg = |values: &[f64]| {
            let xs: Vec<f64> = (0..values.len().min(time.len()))
                .filter(|&i| time[i] > start && time[i] <= end + 0.5 && values[i].is_finite())
                .map(|i| values[i])
                .collect();
            if xs.is_empty() {
                f64::NAN
            } else {
                xs.iter().sum::<f64>() / xs.len() as f64
            }
        };
        out.values[0].push(avg(&open));
        out.values[1].push(avg(&errors));
        out.values[2].push(f64::NAN);
        start = end + 0.5;
    }
    out
}

/// The two charts, `DIR/open-connections` and `DIR/error-rate`.
pub fn charts(c: &Comparison, real: &[Value], sims: &[SimRun], dir: &Path) -> Result<()> {
    let Some(first) = sims.first() else {
        return Ok(());
    };
    let real_bins: Vec<Binned> = real
        .iter()
        .map(|r| real_binned(r, &first.series.time_s))
        .collect();
    let sim_bins: Vec<&Binned> = sims.iter().map(|s| &s.series).collect();
    for series in [KeySeries::OpenConnections, KeySeries::ErrorRate] {
        let k = series.display_factor();
        let points = |runs: &[&Binned]| -> Vec<BandPoint> {
            band(runs, series, 0.95)
                .into_iter()
                .map(|(t, e)| BandPoint {
                    x: t / 60.0,
                    mean: e.mean * k,
                    low: e.lo().max(0.0) * k,
                    high: e.hi() * k,
                })
                .collect()
        };
        let chart = Overlay {
            title: format!(
                "{}: real PostgreSQL vs pooldrill ({})",
                series.title(),
                c.scenario
            ),
            x_title: "time (min)".into(),
            y_title: series.y_title().into(),
            series: vec![
                BandSeries {
                    name: format!("real PostgreSQL ({} runs)", real.len()),
                    points: points(&real_bins.iter().collect::<Vec<_>>()),
                },
                BandSeries {
                    name: format!("pooldrill ({} replications)", sims.len()),
                    points: points(&sim_bins),
                },
            ],
            band_label: "95 % CI of the mean".into(),
            threshold: None,
            footer: format!(
                "{} · calibrated by the real runs · {}",
                c.scenario, c.server
            ),
        };
        overlay(&chart, &dir.join(series.id()))
            .with_context(|| format!("drawing {}", series.id()))?;
    }
    Ok(())
}
