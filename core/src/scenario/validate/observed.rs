//! `[[observed]]`: the measured series a run is scored against.

use super::*;
use crate::scenario::observed::{OBSERVABLE, Observed};

impl Checker<'_> {
    pub(super) fn observed(&self, raw: &ScenarioFile) -> Result<Vec<Observed>> {
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
                Ok(Observed {
                    metric: metric.to_owned(),
                    kind,
                    file: o.file.clone(),
                    label: o.label.clone().unwrap_or_else(|| metric.to_owned()),
                    points: Vec::new(),
                })
            })
            .collect()
    }
}
