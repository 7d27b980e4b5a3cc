//! The `[traffic]` table: the arrival process and its rate profile, given
//! in the scenario (`rate`, `profile`) or read from a telemetry file
//! (`rate_from`, `interpolate`).

use super::*;
use crate::telemetry::{ValueKind, read_series};

impl Checker<'_> {
    /// The rate profile from `[traffic]` and the traffic events, given as
    /// `(at, rate, ramp, key path)` (`(at, scale, 0, key path)` with
    /// `rate_from`).
    pub(super) fn traffic(
        &self,
        f: &TrafficFile,
        duration: SimTime,
        events: &[(SimTime, f64, SimTime, String)],
        clock: &Clock,
    ) -> Result<Traffic> {
        if let Some(name) = &f.rate_from {
            return self.traffic_from(f, name, duration, events, clock);
        }
        if f.interpolate.is_some() {
            return Err(self.err(
                "traffic.interpolate",
                "expected interpolate only with traffic.rate_from, found it without",
            ));
        }
        let rate = f.rate.map_or(400.0, |r| r.0);
        let mut changes: Vec<(SimTime, f64, SimTime, String)> = f
            .profile
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| {
                let ramp = c.ramp.map_or(SimTime::ZERO, |r| r.0);
                (c.at.0, c.rate.0, ramp, format!("traffic.profile[{i}].at"))
            })
            .collect();
        changes.extend(events.iter().cloned());
        changes.sort_by_key(|c| c.0);
        let mut points = vec![(0.0, rate)];
        let mut last_end = 0.0;
        for (at, new_rate, ramp, path) in changes {
            if at >= duration {
                return Err(self.err(
                    &path,
                    format!(
                        "expected a time before the end of the run ({duration}{}), found {at}",
                        self.duration_note
                    ),
                ));
            }
            let (at, ramp) = (at.as_secs_f64(), ramp.as_secs_f64());
            if at < last_end {
                return Err(self.err(
                    &path,
                    format!("expected rate changes that do not overlap (the previous ramp ends at {last_end}s), found one starting at {at}s"),
                ));
            }
            let current = points.last().map_or(rate, |p| p.1);
            points.push((at, current));
            points.push((at + ramp, new_rate));
            last_end = at + ramp;
        }
        Ok(Traffic {
            arrivals: f.arrivals.unwrap_or(ArrivalProcess::Poisson),
            rate_points: points,
        })
    }
}

impl Checker<'_> {
    /// The rate profile read from the file `name`, scaled by the traffic
    /// events' `scale` from their times on.
    fn traffic_from(
        &self,
        f: &TrafficFile,
        name: &str,
        duration: SimTime,
        scales: &[(SimTime, f64, SimTime, String)],
        clock: &Clock,
    ) -> Result<Traffic> {
        let both = |key: &str| {
            self.err(
                &format!("traffic.{key}"),
                format!("expected either {key} or rate_from, found both (the file gives the rate)"),
            )
        };
        if f.rate.is_some() {
            return Err(both("rate"));
        }
        if f.profile.is_some() {
            return Err(both("profile"));
        }
        let key = "traffic.rate_from";
        let bytes = self.read_data(key, name)?;
        let (series, kind) = read_series(&self.beside(name), &bytes, clock, &["rate", "count"])
            .map_err(|e| self.data_err(e, key))?;
        let how = f.interpolate.unwrap_or_default();
        if kind == ValueKind::Count && how == Interpolation::Linear {
            return Err(self.err(
                "traffic.interpolate",
                format!("expected \"step\" with a count column (a count is the mean rate of its interval), found \"linear\" for {}", self.beside(name)),
            ));
        }
        let end = duration.as_secs_f64();
        let (first, last) = (series.points[0].0, series.points[series.points.len() - 1].0);
        if first > 0.0 || last < end {
            // Unix seconds in a CSV read as seconds from the start.
            let hint = if first > 1e8 {
                " (Unix timestamps? write them as RFC 3339, or as seconds from the start)"
            } else {
                ""
            };
            return Err(self.err(
                key,
                format!(
                    "expected a profile that covers the run, from its start to its end ({duration}{}), found one in {} from {} to {}{hint}",
                    self.duration_note,
                    self.beside(name),
                    seconds(first),
                    seconds(last)
                ),
            ));
        }
        let mut changes: Vec<(f64, f64)> = scales
            .iter()
            .map(|(at, scale, _, _)| (at.as_secs_f64(), *scale))
            .collect();
        changes.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(Traffic {
            arrivals: f.arrivals.unwrap_or(ArrivalProcess::Poisson),
            rate_points: scaled(&run_profile(&series.points, how, end), &changes),
        })
    }
}

/// `t` seconds as the user reads it: `90s`, `-30s`, `1.5s`.
fn seconds(t: f64) -> String {
    format!("{t}s")
}

/// The file's points (first at or before 0, last at or after `end`) as the
/// corner points of the run's piecewise-linear rate: starting at 0, a step
/// as two points at one time, up to `end`.
fn run_profile(file: &[(f64, f64)], how: Interpolation, end: f64) -> Vec<(f64, f64)> {
    let lerp = |(t0, r0): (f64, f64), (t1, r1): (f64, f64), t: f64| {
        if t == t1 {
            r1
        } else {
            r0 + (r1 - r0) * (t - t0) / (t1 - t0)
        }
    };
    let i0 = file.partition_point(|p| p.0 <= 0.0) - 1;
    let at_zero = match (how, file.get(i0 + 1)) {
        (Interpolation::Linear, Some(&next)) => lerp(file[i0], next, 0.0),
        _ => file[i0].1,
    };
    let mut out = vec![(0.0, at_zero)];
    for w in file[i0..].windows(2) {
        let (a, b) = (w[0], w[1]);
        if b.0 >= end {
            if how == Interpolation::Linear {
                out.push((end, lerp(a, b, end)));
            }
            break;
        }
        match how {
            Interpolation::Linear => out.push(b),
            Interpolation::Step if b.1 != a.1 => out.extend([(b.0, a.1), b]),
            Interpolation::Step => {}
        }
    }
    out
}

/// `points` multiplied from each change's time `(at, scale)` on by its
/// scale (1 before the first): a step of the multiplier is two points at
/// its time.
fn scaled(points: &[(f64, f64)], changes: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if changes.is_empty() {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(points.len() + 2 * changes.len());
    let (mut factor, mut next) = (1.0, 0);
    for (k, &(t, v)) in points.iter().enumerate() {
        // Changes between the previous point and this one, where the
        // profile is linear.
        while next < changes.len() && changes[next].0 < t {
            let (at, scale) = changes[next];
            let (t0, v0) = points[k - 1];
            let here = v0 + (v - v0) * (at - t0) / (t - t0);
            out.extend([(at, here * factor), (at, here * scale)]);
            factor = scale;
            next += 1;
        }
        let last_at_t = points.get(k + 1).is_none_or(|p| p.0 != t);
        out.push((t, v * factor));
        if last_at_t {
            while next < changes.len() && changes[next].0 == t {
                factor = changes[next].1;
                next += 1;
                out.push((t, v * factor));
            }
        }
    }
    let v = points[points.len() - 1].1;
    for &(at, scale) in &changes[next..] {
        out.extend([(at, v * factor), (at, v * scale)]);
        factor = scale;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_lines_are_cut_to_the_run() {
        let file = [(-30.0, 10.0), (30.0, 20.0), (90.0, 20.0), (150.0, 0.0)];
        assert_eq!(
            run_profile(&file, Interpolation::Step, 120.0),
            vec![(0.0, 10.0), (30.0, 10.0), (30.0, 20.0)]
        );
        assert_eq!(
            run_profile(&file, Interpolation::Linear, 120.0),
            vec![(0.0, 15.0), (30.0, 20.0), (90.0, 20.0), (120.0, 10.0)]
        );
    }

    #[test]
    fn scales_multiply_from_their_time_on() {
        let points = [(0.0, 10.0), (30.0, 10.0), (30.0, 20.0), (60.0, 40.0)];
        assert_eq!(
            scaled(&points, &[(15.0, 2.0), (30.0, 0.5), (90.0, 0.0)]),
            vec![
                (0.0, 10.0),
                (15.0, 10.0),
                (15.0, 20.0),
                (30.0, 20.0),
                (30.0, 40.0),
                (30.0, 10.0),
                (60.0, 20.0),
                (90.0, 20.0),
                (90.0, 0.0),
            ]
        );
    }
}
