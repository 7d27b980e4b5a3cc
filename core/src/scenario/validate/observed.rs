//! `[[observed]]`: the measured series a run is scored against.

use super::*;
use crate::scenario::observed::{OBSERVABLE, Observed};

impl Checker<'_> {
    /// The `[[observed]]` series, their data files read through the
    /// scenario's resolver and placed on the run's `clock`; each must have
    /// a point inside the run's `duration` (else nothing could score it).
    pub(super) fn observed(
        &self,
        raw: &ScenarioFile,
        clock: &Clock,
        duration: SimTime,
    ) -> Result<Vec<Observed>> {
        let names: Vec<&str> = OBSERVABLE.iter().map(|(n, _)| *n).collect();
        raw.observed
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, o)| {
                let key = |k: &str| format!("observed[{i}].{k}");
                let Some(&(metric, kind)) = OBSERVABLE.iter().find(|(n, _)| *n == o.metric) else {
                    let hint = did_you_mean(&o.metric, &names)
                        .map(|n| format!(" (did you mean \"{n}\"?)"))
                        .unwrap_or_default();
                    return Err(self.err(
                        &key("metric"),
                        format!(
                            "expected a timeseries.csv column that is a count, a rate or a gauge: {}; found \"{}\"{hint}",
                            names.join(", "),
                            o.metric
                        ),
                    ));
                };
                if o.file.trim().is_empty() {
                    return Err(self.err(
                        &key("file"),
                        "expected a data file (CSV time,value or Prometheus query_range JSON), found an empty name",
                    ));
                }
                let file = key("file");
                let bytes = self.read_data(&file, &o.file)?;
                let (series, _) = read_series(&self.beside(&o.file), &bytes, clock, &["value"])
                    .map_err(|e| self.data_err(e, &file))?;
                let end = duration.as_secs_f64();
                if !series.points.iter().any(|&(t, _)| t > 0.0 && t <= end) {
                    let (first, last) = (series.points[0].0, series.points[series.points.len() - 1].0);
                    return Err(self.err(
                        &file,
                        format!(
                            "expected points inside the run (0 s to {end} s on its clock), found {:?} running from {first} s to {last} s (check meta.start and meta.date)",
                            o.file
                        ),
                    ));
                }
                Ok(Observed {
                    metric: metric.to_owned(),
                    kind,
                    file: o.file.clone(),
                    label: o.label.clone().unwrap_or_else(|| metric.to_owned()),
                    points: series.points,
                })
            })
            .collect()
    }
}
