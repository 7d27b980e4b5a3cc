//! The `[traffic]` table: the arrival process and its rate profile.

use super::*;

impl Checker<'_> {
    /// The rate profile from `[traffic]` and the traffic events, given as
    /// `(at, rate, ramp, key path)`.
    pub(super) fn traffic(
        &self,
        f: &TrafficFile,
        duration: SimTime,
        events: &[(SimTime, f64, SimTime, String)],
    ) -> Result<Traffic> {
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
