//! Single values: integers, probabilities, durations and distributions,
//! each with its default and range check.

use super::*;

impl Checker<'_> {
    /// An integer in `[min, max]`.
    pub(super) fn int(
        &self,
        path: &str,
        v: Option<i64>,
        default: u32,
        min: i64,
        max: i64,
    ) -> Result<u32> {
        let Some(v) = v else { return Ok(default) };
        if v < min || v > max {
            return Err(self.err(
                path,
                format!("expected an integer from {min} to {max}, found {v}"),
            ));
        }
        Ok(v as u32)
    }

    /// A probability.
    pub(super) fn probability(&self, path: &str, v: Option<f64>, default: f64) -> Result<f64> {
        let Some(v) = v else { return Ok(default) };
        if !(0.0..=1.0).contains(&v) {
            return Err(self.err(
                path,
                format!("expected a probability from 0 to 1, found {v}"),
            ));
        }
        Ok(v)
    }

    /// A duration where zero means "off".
    pub(super) fn optional_duration(
        &self,
        v: Option<Duration>,
        default: SimTime,
    ) -> Option<SimTime> {
        let t = v.map_or(default, |d| d.0);
        (t > SimTime::ZERO).then_some(t)
    }

    /// A strictly positive duration.
    pub(super) fn positive_duration(
        &self,
        path: &str,
        v: Option<Duration>,
        default: SimTime,
    ) -> Result<SimTime> {
        let t = v.map_or(default, |d| d.0);
        if t == SimTime::ZERO {
            return Err(self.err(path, "expected a duration above zero, found 0"));
        }
        Ok(t)
    }

    pub(super) fn dist(&self, path: &str, v: Option<&DistFile>, default: Dist) -> Result<Dist> {
        let Some(f) = v else { return Ok(default) };
        let Some(kind) = f.dist else {
            return Err(self.err(
                path,
                "expected the key `dist` (\"exponential\", \"deterministic\", \"uniform\" or \"lognormal\"), found nothing",
            ));
        };
        let secs = |d: Option<Duration>| d.map(|d| d.0.as_secs_f64());
        let given: Vec<(&str, Option<f64>)> = vec![
            ("mean", secs(f.mean)),
            ("value", secs(f.value)),
            ("min", secs(f.min)),
            ("max", secs(f.max)),
            ("median", secs(f.median)),
            ("p99", secs(f.p99)),
        ];
        let (name, allowed): (&str, &[&[&str]]) = match kind {
            DistKind::Deterministic => ("deterministic", &[&["value"]]),
            DistKind::Exponential => ("exponential", &[&["mean"]]),
            DistKind::Uniform => ("uniform", &[&["min", "max"]]),
            DistKind::Lognormal => ("lognormal", &[&["median", "p99"], &["mean", "p99"]]),
        };
        let present: Vec<&str> = given
            .iter()
            .filter(|g| g.1.is_some())
            .map(|g| g.0)
            .collect();
        let Some(keys) = allowed.iter().find(|keys| {
            keys.iter().all(|k| present.contains(k)) && present.iter().all(|p| keys.contains(p))
        }) else {
            let wanted = allowed
                .iter()
                .map(|keys| keys.join(" and "))
                .collect::<Vec<_>>()
                .join(", or ");
            let found = if present.is_empty() {
                "none of them".to_owned()
            } else {
                present.join(", ")
            };
            return Err(self.err(
                path,
                format!(
                    "{} {name} distribution needs {wanted}; found {found}",
                    if name == "exponential" { "an" } else { "a" }
                ),
            ));
        };
        let get = |k: &str| {
            given
                .iter()
                .find(|g| g.0 == k)
                .and_then(|g| g.1)
                .unwrap_or(0.0)
        };
        let sub = |k: &str| format!("{path}.{k}");
        Ok(match kind {
            DistKind::Deterministic => Dist::Deterministic(get("value")),
            DistKind::Exponential => {
                let mean = get("mean");
                if mean <= 0.0 {
                    return Err(self.err(&sub("mean"), "expected a mean above zero, found 0"));
                }
                Dist::Exponential { mean }
            }
            DistKind::Uniform => {
                let (lo, hi) = (get("min"), get("max"));
                if lo > hi {
                    return Err(self.err(
                        &sub("max"),
                        format!("expected max ≥ min ({lo}s), found {hi}s"),
                    ));
                }
                Dist::Uniform { lo, hi }
            }
            DistKind::Lognormal => {
                let p99 = get("p99");
                if keys.contains(&"median") {
                    let median = get("median");
                    if median <= 0.0 || p99 <= median {
                        return Err(self.err(
                            &sub("p99"),
                            format!(
                                "expected 0 < median < p99, found median {median}s and p99 {p99}s"
                            ),
                        ));
                    }
                    Dist::lognormal_median_p99(median, p99)
                } else {
                    let mean = get("mean");
                    if mean <= 0.0 || p99 <= mean {
                        return Err(self.err(
                            &sub("p99"),
                            format!("expected 0 < mean < p99, found mean {mean}s and p99 {p99}s"),
                        ));
                    }
                    Dist::lognormal_mean_p99(mean, p99).ok_or_else(|| {
                        self.err(
                            &sub("p99"),
                            format!("expected p99 at most about 15 × the mean for a lognormal, found {p99}s with mean {mean}s (give median and p99 instead)"),
                        )
                    })?
                }
            }
        })
    }
}
