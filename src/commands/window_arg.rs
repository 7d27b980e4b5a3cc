//! `run --window FROM..TO`: a span of the run summarised apart, written as
//! times of day (`14:10..14:20`, placed with `meta.start`) or as times from
//! the start (`10m..20m`, the scenario's duration syntax).

use crate::engine::SimTime;
use crate::metrics::window_tally::{Span, Windows};
use crate::scenario::units::TimeSpec;
use crate::scenario::{Action, Scenario};
use anyhow::{Result, bail};

/// A `--window` value as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowArg {
    /// Its start.
    pub from: TimeSpec,
    /// Its end.
    pub to: TimeSpec,
    /// The text, for errors.
    text: String,
}

/// Parse a `--window` value: two times joined by `..`.
pub fn parse(s: &str) -> Result<WindowArg, String> {
    let expected = || {
        format!(
            "expected a window like \"14:10..14:20\" (times of day) or \"10m..20m\" (from the start), found \"{s}\""
        )
    };
    let (from, to) = s.split_once("..").ok_or_else(expected)?;
    Ok(WindowArg {
        from: from.parse().map_err(|_| expected())?,
        to: to.parse().map_err(|_| expected())?,
        text: s.to_owned(),
    })
}

/// `spec` as a time from the start of `scenario`'s run.
fn place(scenario: &Scenario, spec: TimeSpec, window: &str) -> Result<SimTime> {
    Ok(match spec {
        TimeSpec::Offset(d) => d.0,
        TimeSpec::Clock(c) => {
            let Some(start) = scenario.start_clock else {
                bail!(
                    "--window {window}: expected times from the start (\"10m..20m\") as the scenario has no meta.start, found the time of day {c}"
                );
            };
            c.since(start)
        }
    })
}

/// The windows to summarise in a run of `scenario`: the `--window` spans,
/// checked to be within the run and in order, and the deploys' and
/// rollbacks' own if it has any.
pub fn resolve(scenario: &Scenario, args: &[WindowArg]) -> Result<Windows> {
    let mut spans = Vec::with_capacity(args.len());
    for arg in args {
        let (from, to) = (
            place(scenario, arg.from, &arg.text)?,
            place(scenario, arg.to, &arg.text)?,
        );
        if from >= to {
            bail!(
                "--window {}: expected a start before the end, found {} to {}",
                arg.text,
                scenario.clock(from),
                scenario.clock(to)
            );
        }
        if to > scenario.duration {
            bail!(
                "--window {}: expected a window within the run ({} to {}), found one ending at {}{}",
                arg.text,
                scenario.clock(SimTime::ZERO),
                scenario.clock(scenario.duration),
                scenario.clock(to),
                match arg.to {
                    TimeSpec::Clock(_) => "; a time of day before the start is on the next day",
                    TimeSpec::Offset(_) => "",
                }
            );
        }
        if to <= scenario.warmup {
            bail!(
                "--window {}: expected a window ending after the warm-up (which ends at {}; nothing before it is measured), found one ending at {}",
                arg.text,
                scenario.clock(scenario.warmup),
                scenario.clock(to)
            );
        }
        spans.push(Span { from, to });
    }
    let rollouts = scenario
        .events
        .iter()
        .any(|e| matches!(e.action, Action::Deploy { .. } | Action::Rollback { .. }));
    Ok(Windows { spans, rollouts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_two_times_joined_by_two_dots() {
        let w = parse("14:10..14:20:30").unwrap();
        assert!(matches!(w.from, TimeSpec::Clock(_)));
        assert!(matches!(w.to, TimeSpec::Clock(_)));
        assert!(matches!(parse("10m..20m").unwrap().to, TimeSpec::Offset(_)));
        for bad in [
            "10m",
            "10m..",
            "..20m",
            "10m-20m",
            "ten..20m",
            "25:00..26:00",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("expected a window") && e.contains(bad), "{e}");
        }
    }
}
