//! Distributions of durations (hold times, connection setup, job work) and
//! their sampling.

use crate::engine::{SimRng, SimTime};
use crate::math;

mod ziggurat;
mod ziggurat_tables;

pub use ziggurat::{exp1, standard_normal};

/// z such that P(N(0,1) ≤ z) = 0.99.
pub const Z99: f64 = 2.326_347_874_040_841;

/// A distribution of non-negative durations, parameters in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Deterministic(f64),
    /// Exponential with the given mean.
    Exponential {
        /// Mean in seconds.
        mean: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound in seconds.
        lo: f64,
        /// Upper bound in seconds.
        hi: f64,
    },
    /// exp(N(mu, sigma²)) seconds.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
}

impl Dist {
    /// The lognormal with this median and 99th percentile.
    pub fn lognormal_median_p99(median: f64, p99: f64) -> Dist {
        Dist::LogNormal {
            mu: math::ln(median),
            sigma: math::ln(p99 / median) / Z99,
        }
    }

    /// The lognormal with this mean and 99th percentile, taking the smaller of
    /// the two shapes that fit; `None` when no lognormal fits
    /// (p99 > ~15 × mean).
    pub fn lognormal_mean_p99(mean: f64, p99: f64) -> Option<Dist> {
        // ln(p99/mean) = Z99·σ − σ²/2
        let r = math::ln(p99 / mean);
        let disc = Z99 * Z99 - 2.0 * r;
        if disc < 0.0 || r <= 0.0 {
            return None;
        }
        let sigma = Z99 - disc.sqrt();
        Some(Dist::LogNormal {
            mu: math::ln(mean) - sigma * sigma / 2.0,
            sigma,
        })
    }

    /// One sample, rounded to the nanosecond.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> SimTime {
        SimTime::from_secs_f64(self.sample_secs(rng))
    }

    /// One sample in seconds.
    #[inline(always)]
    pub fn sample_secs(&self, rng: &mut SimRng) -> f64 {
        match *self {
            Dist::Deterministic(v) => v,
            Dist::Exponential { mean } => exp1(rng) * mean,
            Dist::Uniform { lo, hi } => {
                let u: f64 = rand::RngExt::random(rng);
                lo + (hi - lo) * u
            }
            Dist::LogNormal { mu, sigma } => math::exp(mu + sigma * standard_normal(rng)),
        }
    }

    /// The mean in seconds.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Deterministic(v) => v,
            Dist::Exponential { mean } => mean,
            Dist::Uniform { lo, hi } => (lo + hi) / 2.0,
            Dist::LogNormal { mu, sigma } => math::exp(mu + sigma * sigma / 2.0),
        }
    }

    /// The p-quantile in seconds (0 < p < 1).
    pub fn quantile(&self, p: f64) -> f64 {
        match *self {
            Dist::Deterministic(v) => v,
            Dist::Exponential { mean } => -mean * math::ln(1.0 - p),
            Dist::Uniform { lo, hi } => lo + (hi - lo) * p,
            Dist::LogNormal { mu, sigma } => {
                math::exp(mu + sigma * crate::stats::normal_quantile(p))
            }
        }
    }

    /// Whether every sample is zero.
    pub fn is_zero(&self) -> bool {
        matches!(*self, Dist::Deterministic(v) if v == 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{domain, stream};

    #[test]
    fn lognormal_from_median_and_p99_round_trips() {
        let d = Dist::lognormal_median_p99(0.005, 0.025);
        assert!((d.quantile(0.5) - 0.005).abs() < 1e-12);
        assert!((d.quantile(0.99) - 0.025).abs() < 1e-9);
    }

    #[test]
    fn lognormal_from_mean_and_p99_round_trips() {
        let d = Dist::lognormal_mean_p99(0.050, 0.300).unwrap();
        assert!((d.mean() - 0.050).abs() < 1e-12);
        assert!((d.quantile(0.99) - 0.300).abs() < 1e-9);
        assert!(Dist::lognormal_mean_p99(0.05, 5.0).is_none());
    }

    #[test]
    fn sample_means_match_within_five_standard_errors() {
        let n = 200_000;
        for d in [
            Dist::Exponential { mean: 0.05 },
            Dist::Uniform {
                lo: 0.001,
                hi: 0.009,
            },
            Dist::lognormal_median_p99(0.005, 0.025),
        ] {
            let mut rng = stream(7, domain("dist-test"), 0);
            let xs: Vec<f64> = (0..n).map(|_| d.sample_secs(&mut rng)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
            let se = (var / n as f64).sqrt();
            assert!(
                (m - d.mean()).abs() < 5.0 * se,
                "{d:?}: {m} vs {}",
                d.mean()
            );
        }
    }
}
