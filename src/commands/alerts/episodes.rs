//! promtool's evaluations folded into firing episodes, as pooldrill's own
//! alert replay folds its own.

use super::promtool::State;
use crate::metrics::alerts::Episode;
use std::collections::BTreeMap;

/// Fold evaluations into episodes as pooldrill's replay does: pending from
/// the first evaluation an instance is active, firing from the first one an
/// instance fires, resolved at the first one none is active; an episode
/// that clears before it fires is dropped.
pub(super) fn episodes(eval_times: &[f64], states: &BTreeMap<i64, State>) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    let mut open = false;
    for &t in eval_times {
        let state = states.get(&((t * 1000.0).round() as i64)).copied();
        match (state, open) {
            (Some(s), false) => {
                open = true;
                out.push(Episode {
                    pending_at_s: t,
                    firing_at_s: (s == State::Firing).then_some(t),
                    resolved_at_s: None,
                });
            }
            (Some(State::Firing), true) => {
                let e = out.last_mut().expect("open episode");
                e.firing_at_s.get_or_insert(t);
            }
            (None, true) => {
                open = false;
                let e = out.last_mut().expect("open episode");
                if e.firing_at_s.is_some() {
                    e.resolved_at_s = Some(t);
                } else {
                    out.pop();
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episodes_fold_like_the_replay() {
        let times: Vec<f64> = (1..=10).map(|k| k as f64 * 15.0).collect();
        let mut states = BTreeMap::new();
        // pending at 30 s, cleared at 45 s; pending 75 s, firing 105 s,
        // resolved at 135 s.
        states.insert(30_000, State::Pending);
        for t in [75, 90] {
            states.insert(t * 1000, State::Pending);
        }
        for t in [105, 120] {
            states.insert(t * 1000, State::Firing);
        }
        let e = episodes(&times, &states);
        assert_eq!(
            e,
            vec![Episode {
                pending_at_s: 75.0,
                firing_at_s: Some(105.0),
                resolved_at_s: Some(135.0)
            }]
        );
    }
}
