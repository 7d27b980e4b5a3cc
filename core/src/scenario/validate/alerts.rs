//! `[[alerts]]`: the alert rules evaluated on the samples.

use super::*;

impl Checker<'_> {
    pub(super) fn alerts(
        &self,
        raw: &[AlertFile],
        sample_interval: SimTime,
    ) -> Result<Vec<AlertRule>> {
        let mut names: Vec<&str> = Vec::new();
        raw.iter()
            .enumerate()
            .map(|(i, a)| {
                let key = |k: &str| format!("alerts[{i}].{k}");
                if a.name.trim().is_empty() || names.contains(&a.name.as_str()) {
                    return Err(self.err(&key("name"), format!("expected a unique, non-empty alert name, found \"{}\"", a.name)));
                }
                names.push(&a.name);
                if !a.threshold.is_finite() {
                    return Err(self.err(&key("threshold"), format!("expected a finite number, found {}", a.threshold)));
                }
                let window = a.window.map_or(SimTime::from_secs(60), |d| d.0);
                if window < sample_interval {
                    return Err(self.err(&key("window"), format!("expected a window of at least one sample interval ({sample_interval}), found {window}")));
                }
                Ok(AlertRule {
                    name: a.name.clone(),
                    metric: a.metric,
                    op: a.op,
                    threshold: a.threshold,
                    window,
                    for_: a.for_.map_or(SimTime::ZERO, |d| d.0),
                    severity: a.severity.clone().unwrap_or_default(),
                })
            })
            .collect()
    }
}
