//! `[[targets]]`: the checks a replay is held to.

use super::*;

impl Checker<'_> {
    pub(super) fn targets(
        &self,
        raw: &ScenarioFile,
        start: Option<ClockTime>,
        duration: SimTime,
    ) -> Result<Vec<Target>> {
        let alerts: Vec<&str> = raw
            .alerts
            .iter()
            .flatten()
            .map(|a| a.name.as_str())
            .collect();
        raw.targets
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| {
                let key = |k: &str| format!("targets[{i}].{k}");
                let window = (t.metric, t.from, t.to, t.expected);
                let check = match (window, &t.alert, t.expected_at) {
                    ((Some(metric), Some(from), Some(to), Some(expected)), None, None) => {
                        let (from, to) = (self.at(&key("from"), from, start, duration)?, self.at(&key("to"), to, start, duration)?);
                        if from >= to {
                            return Err(self.err(&key("to"), format!("expected a window end after its start ({from}), found {to}")));
                        }
                        if !expected.is_finite() {
                            return Err(self.err(&key("expected"), format!("expected a finite number, found {expected}")));
                        }
                        TargetCheck::Window { metric, from, to, expected }
                    }
                    ((None, None, None, None), Some(alert), Some(at)) => {
                        if !alerts.contains(&alert.as_str()) {
                            let hint = did_you_mean(alert, &alerts).map(|n| format!(" (did you mean \"{n}\"?)")).unwrap_or_default();
                            return Err(self.err(&key("alert"), format!("expected the name of an [[alerts]] rule, found \"{alert}\"{hint}")));
                        }
                        TargetCheck::AlertFires { alert: alert.clone(), at: self.at(&key("expected_at"), at, start, duration)? }
                    }
                    _ => {
                        return Err(self.err(
                            &key("label"),
                            "expected either `metric`, `from`, `to` and `expected`, or `alert` and `expected_at`, found another combination",
                        ));
                    }
                };
                Ok(Target { label: t.label.clone(), check, note: t.note.clone().unwrap_or_default() })
            })
            .collect()
    }
}
