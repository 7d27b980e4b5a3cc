//! Small statistics toolkit: normal and Student-t quantiles, and confidence
//! intervals over independent replications.

use crate::math;
use serde::Serialize;
use std::cell::Cell;

/// The standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    assert!(
        p > 0.0 && p < 1.0,
        "normal_quantile needs 0 < p < 1, got {p}"
    );
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * math::ln(p)).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * math::ln(1.0 - p)).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return math::ln(pi / math::sin(pi * x)) - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * math::ln(2.0 * std::f64::consts::PI) + (x + 0.5) * math::ln(t) - t + math::ln(a)
}

/// The regularised incomplete beta function I_x(a, b) (continued fraction,
/// Numerical Recipes §6.4).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = math::exp(
        ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * math::ln(x) + b * math::ln(1.0 - x),
    );
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The p-quantile of Student's t with `df` degrees of freedom (bisection on
/// the CDF to 1e-12).
///
/// The last answer of each thread is remembered: a confidence band asks the
/// same quantile for every bin of every series. Without it, those hundreds
/// of bisections (~40 CDF evaluations each) took 6 of the ~70 ms that 8
/// replications of `after.toml` spent after their simulations.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    thread_local! {
        static LAST: Cell<Option<(f64, f64, f64)>> = const { Cell::new(None) };
    }
    if let Some((lp, ldf, q)) = LAST.get()
        && (lp, ldf) == (p, df)
    {
        return q;
    }
    let q = student_t_quantile_uncached(p, df);
    LAST.set(Some((p, df, q)));
    q
}

fn student_t_quantile_uncached(p: f64, df: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0 && df > 0.0);
    if p < 0.5 {
        return -student_t_quantile_uncached(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while student_t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Mean of independent replications with a two-sided confidence interval
/// from the t distribution.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean over replications.
    pub mean: f64,
    /// Half-width of the interval (0 with fewer than two replications).
    pub half_width: f64,
    /// Sample standard deviation over replications.
    pub std_dev: f64,
    /// Number of replications.
    pub n: usize,
}

impl Estimate {
    /// The estimate at `confidence` (e.g. 0.95) from one value per
    /// replication. Non-finite values are left out.
    pub fn from_replications(values: &[f64], confidence: f64) -> Estimate {
        let xs: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = xs.len();
        if n == 0 {
            return Estimate {
                mean: f64::NAN,
                half_width: f64::NAN,
                std_dev: f64::NAN,
                n,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Estimate {
                mean,
                half_width: 0.0,
                std_dev: 0.0,
                n,
            };
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std_dev = var.sqrt();
        let t = student_t_quantile(0.5 + confidence / 2.0, (n - 1) as f64);
        Estimate {
            mean,
            half_width: t * std_dev / (n as f64).sqrt(),
            std_dev,
            n,
        }
    }

    /// Whether `x` lies inside the interval.
    pub fn contains(&self, x: f64) -> bool {
        (x - self.mean).abs() <= self.half_width
    }

    /// Lower end of the interval.
    pub fn lo(&self) -> f64 {
        self.mean - self.half_width
    }

    /// Upper end of the interval.
    pub fn hi(&self) -> f64 {
        self.mean + self.half_width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_tables() {
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((normal_quantile(0.99) - 2.326_347_874).abs() < 1e-8);
        assert!((normal_quantile(0.001) + 3.090_232_306).abs() < 1e-7);
        assert!(normal_quantile(0.5).abs() < 1e-12);
    }

    #[test]
    fn student_t_quantiles_match_tables() {
        // Values from standard t tables.
        assert!((student_t_quantile(0.975, 1.0) - 12.706_204_7).abs() < 1e-5);
        assert!((student_t_quantile(0.975, 10.0) - 2.228_138_85).abs() < 1e-7);
        assert!((student_t_quantile(0.995, 19.0) - 2.860_934_61).abs() < 1e-7);
        assert!((student_t_quantile(0.995, 29.0) - 2.756_385_90).abs() < 1e-7);
        assert!((student_t_quantile(0.025, 10.0) + 2.228_138_85).abs() < 1e-7);
    }

    /// The remembered answer is only ever given back for the same question:
    /// alternating, repeating and mirrored questions all get what the
    /// bisection gives.
    #[test]
    fn remembered_t_quantiles_answer_the_question_asked() {
        let questions = [
            (0.975, 4.0),
            (0.975, 4.0),
            (0.975, 9.0),
            (0.975, 4.0),
            (0.995, 4.0),
            (0.025, 4.0),
            (0.025, 4.0),
            (0.975, 4.0),
        ];
        for (p, df) in questions {
            assert_eq!(
                student_t_quantile(p, df).to_bits(),
                student_t_quantile_uncached(p, df).to_bits(),
                "p {p}, df {df}"
            );
        }
        assert!((student_t_quantile(0.975, 4.0) - 2.776_445_1).abs() < 1e-6);
        assert!((student_t_quantile(0.025, 4.0) + 2.776_445_1).abs() < 1e-6);
    }

    #[test]
    fn estimate_interval_uses_t() {
        let e = Estimate::from_replications(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
        assert_eq!(e.mean, 3.0);
        // s = sqrt(2.5), t(0.975, 4) = 2.776445
        assert!((e.half_width - 2.776_445 * 2.5f64.sqrt() / 5f64.sqrt()).abs() < 1e-5);
        assert!(e.contains(1.1) && !e.contains(0.9));
    }
}
