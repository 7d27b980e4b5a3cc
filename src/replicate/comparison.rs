//! Several designs (arms), each replicated with the same seeds, and the
//! statistics a comparison reports: every KPI's mean and confidence
//! interval per arm, and each arm's paired difference from the first.

use super::kpi::Kpi;
use super::{Replication, par_map, replicate, replication_seed};
use crate::model::RunOptions;
use crate::scenario::Scenario;
use crate::stats::Estimate;
use anyhow::Result;
use indicatif::ProgressBar;
use std::path::Path;

/// One arm's runs.
#[derive(Clone, Debug)]
pub struct ArmResult {
    /// The arm's name (its scenario's name, or its file when names repeat).
    pub name: String,
    /// The scenario file, as given.
    pub file: String,
    /// Hex digest of the scenario file.
    pub hash: String,
    /// The slots the application may hold: usable slots − other clients.
    pub app_slots: u32,
    /// Replication `i` at index `i`.
    pub runs: Vec<Replication>,
}

/// A finished comparison.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The master seed every arm ran under.
    pub seed: u64,
    /// Replications per arm.
    pub replications: u32,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// The arms, the baseline first.
    pub arms: Vec<ArmResult>,
    /// Every KPI any arm has, in first-seen order.
    pub kpis: Vec<Kpi>,
    /// `estimates[kpi][arm]`.
    pub estimates: Vec<Vec<Estimate>>,
    /// `differences[kpi][arm]`: arm − baseline, paired by replication
    /// (`None` for the baseline itself).
    pub differences: Vec<Vec<Option<Estimate>>>,
}

/// An arm to run: a name, its file, its validated scenario.
#[derive(Clone, Debug)]
pub struct Arm {
    /// Name shown in tables and legends.
    pub name: String,
    /// The file, as given.
    pub file: String,
    /// The scenario (its seed is the master seed).
    pub scenario: Scenario,
}

impl Arm {
    /// The arm of `scenario`, read from `file`, under its scenario's name.
    pub fn new(file: &Path, scenario: Scenario) -> Arm {
        Arm {
            name: scenario.name.clone(),
            file: file.display().to_string(),
            scenario,
        }
    }
}

/// Run `replications` replications of every arm in parallel, replication
/// `i` of every arm with the same seed (common random numbers), keeping
/// the binned series if `series`.
pub fn run_arms(
    arms: &[Arm],
    seed: u64,
    replications: u32,
    options: RunOptions,
    series: bool,
    bar: &ProgressBar,
) -> Result<Comparison> {
    let per_arm = replications as usize;
    let mut runs = par_map(arms.len() * per_arm, bar, |item| {
        let arm = &arms[item / per_arm];
        let rep = (item % per_arm) as u32;
        replicate(&arm.scenario, replication_seed(seed, rep), options, series)
            .map_err(|e| e.context(format!("arm {}, replication {rep}", arm.name)))
    })?
    .into_iter();
    let results = arms
        .iter()
        .map(|arm| ArmResult {
            name: arm.name.clone(),
            file: arm.file.clone(),
            hash: arm.scenario.hash.clone(),
            app_slots: arm
                .scenario
                .database
                .usable_slots()
                .saturating_sub(arm.scenario.database.other_clients),
            runs: runs.by_ref().take(per_arm).collect(),
        })
        .collect();
    Ok(Comparison::new(seed, replications, results))
}

impl Comparison {
    /// The statistics of finished arms.
    pub fn new(seed: u64, replications: u32, arms: Vec<ArmResult>) -> Comparison {
        let confidence = super::CONFIDENCE;
        let mut kpis: Vec<Kpi> = Vec::new();
        for run in arms.iter().flat_map(|a| &a.runs) {
            for (kpi, _) in &run.kpis {
                if !kpis.iter().any(|k| k.id == kpi.id) {
                    kpis.push(kpi.clone());
                }
            }
        }
        let mut estimates = Vec::new();
        let mut differences = Vec::new();
        for kpi in &kpis {
            let per_arm: Vec<Vec<f64>> = arms.iter().map(|a| kpi_values(a, &kpi.id)).collect();
            estimates.push(
                per_arm
                    .iter()
                    .map(|v| Estimate::from_replications(v, confidence))
                    .collect(),
            );
            differences.push(
                per_arm
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i > 0).then(|| paired_difference(v, &per_arm[0], confidence)))
                    .collect(),
            );
        }
        Comparison {
            seed,
            replications,
            confidence,
            arms,
            kpis,
            estimates,
            differences,
        }
    }

    /// The value of KPI `kpi` in each replication of arm `arm` (NaN where
    /// the run has no such value).
    pub fn values(&self, kpi: usize, arm: usize) -> Vec<f64> {
        kpi_values(&self.arms[arm], &self.kpis[kpi].id)
    }
}

/// The value of the KPI `id` in each replication of `arm`.
fn kpi_values(arm: &ArmResult, id: &str) -> Vec<f64> {
    arm.runs
        .iter()
        .map(|r| {
            r.kpis
                .iter()
                .find(|(k, _)| k.id == id)
                .map_or(f64::NAN, |(_, v)| *v)
        })
        .collect()
}

/// The mean of `a[i] − b[i]` over the replications where both exist, with
/// its t interval: with common random numbers much narrower than the two
/// intervals apart.
pub fn paired_difference(a: &[f64], b: &[f64], confidence: f64) -> Estimate {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    Estimate::from_replications(&d, confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_differences_cancel_the_shared_noise() {
        let noise = [5.0, -3.0, 8.0, -6.0, 1.0];
        let a: Vec<f64> = noise.iter().map(|n| 100.0 + n).collect();
        let b: Vec<f64> = noise.iter().map(|n| 90.0 + n + 0.1 * n).collect();
        let d = paired_difference(&b, &a, 0.95);
        let apart = Estimate::from_replications(&a, 0.95).half_width;
        assert!((d.mean + 10.0 - 0.1 * 1.0).abs() < 1e-9, "{d:?}");
        assert!(d.half_width < apart / 5.0);
    }

    #[test]
    fn a_value_missing_on_either_side_drops_that_pair() {
        let d = paired_difference(&[1.0, f64::NAN, 3.0], &[0.0, 1.0, f64::NAN], 0.95);
        assert_eq!((d.n, d.mean), (1, 1.0));
    }
}
