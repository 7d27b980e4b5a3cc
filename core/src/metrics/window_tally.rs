//! Windows summarised apart from the whole run (`run --window`, and the
//! before / during / after tables of deploys and rollbacks): each keeps a
//! [`Tally`] of its own, fed with the records of the requests that arrived
//! in it (acquires by their start, leaks by their time: as `summary.json`
//! attributes them), and the integrals of the connection levels over it,
//! taken exactly at its edges.

use super::level::Level;
use super::log_kind::LogKind;
use super::recorder::{AcquireEnd, ClientEnd, HandlerEnd};
use super::tally::Tally;
use crate::engine::SimTime;

/// A time span `[from, to)` from the start of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Its start.
    pub from: SimTime,
    /// Its end.
    pub to: SimTime,
}

/// What to summarise apart.
#[derive(Clone, Debug, Default)]
pub struct Windows {
    /// Fixed spans (`--window`).
    pub spans: Vec<Span>,
    /// Whether to follow each deploy and rollback: before it, during its
    /// rollout, after its `rollout_complete`.
    pub rollouts: bool,
}

/// One window's accumulators.
#[derive(Clone, Debug)]
pub struct WindowTally {
    /// The span asked for (its start may lie in the warm-up).
    pub asked: Span,
    /// The span measured: the start clipped to the warm-up's end; the end
    /// `SimTime::NEVER` while it is open or when it reaches the run's end.
    pub span: Span,
    /// Its requests and acquires.
    pub tally: Tally,
    /// ∫ open connections at its start and end (value·ns after the warm-up).
    pub open_area: [f64; 2],
    /// ∫ checked-out clients at its start and end.
    pub checked_out_area: [f64; 2],
    /// Most open connections at once in it.
    pub peak_open: i64,
    /// Every arrival of the run before its start and before its end.
    arrivals_at: [u64; 2],
    started: bool,
    ended: bool,
}

impl WindowTally {
    fn new(asked: Span, warmup: SimTime) -> WindowTally {
        let from = asked.from.max(warmup);
        WindowTally {
            asked,
            span: Span {
                from,
                to: asked.to.max(from),
            },
            tally: Tally::default(),
            open_area: [0.0; 2],
            checked_out_area: [0.0; 2],
            peak_open: 0,
            arrivals_at: [0; 2],
            started: false,
            ended: false,
        }
    }

    /// Whether something that started at `t` belongs to it.
    #[inline]
    fn holds(&self, t: SimTime) -> bool {
        self.span.from <= t && t < self.span.to
    }
}

/// A deploy or rollback and its three windows (indices into the list).
#[derive(Clone, Debug)]
pub struct Rollout {
    /// `deploy v2, rolling (surge 1, unavailable 0)`.
    pub label: String,
    /// When it started.
    pub at: SimTime,
    /// From the previous `rollout_complete` (or the warm-up's end) to it;
    /// none if another rollout was still going.
    pub before: Option<usize>,
    /// From it to its `rollout_complete` (or the run's end).
    pub during: usize,
    /// From its `rollout_complete` to the run's end; none if it never
    /// completed.
    pub after: Option<usize>,
}

/// Every window of a run.
#[derive(Clone, Debug)]
pub struct WindowTallies {
    /// The windows: the `--window` ones first, in their order.
    pub list: Vec<WindowTally>,
    /// The deploys and rollbacks followed.
    pub rollouts: Vec<Rollout>,
    /// The whole run's tally while the windows are open: the recorder
    /// takes it back when they close.
    pub whole: Tally,
    /// How many of the list's windows were asked for (`--window`).
    asked: usize,
    /// Whether deploys and rollbacks are followed.
    follow_rollouts: bool,
    /// The window open since the last `rollout_complete` (or the warm-up's
    /// end), when no rollout is going.
    steady: Option<usize>,
    /// The fixed windows' edges still to take, in order.
    edges: Vec<SimTime>,
    next_edge: usize,
    warmup: SimTime,
    /// The largest segment peak taken from the open-connections level.
    peak_taken: i64,
    /// Every arrival of the run before the warm-up's end, once it came.
    arrivals_at_warmup: Option<u64>,
}

impl WindowTallies {
    /// The windows of a run with this warm-up, stopping at `end`.
    pub fn new(windows: Windows, warmup: SimTime, end: SimTime) -> WindowTallies {
        let list: Vec<WindowTally> = windows
            .spans
            .iter()
            .map(|&s| {
                let to = if s.to >= end { SimTime::NEVER } else { s.to };
                WindowTally::new(Span { from: s.from, to }, warmup)
            })
            .collect();
        let mut edges: Vec<SimTime> = list
            .iter()
            .flat_map(|w| [w.span.from, w.span.to])
            .filter(|&t| t != SimTime::NEVER)
            .chain([warmup])
            .collect();
        edges.sort();
        edges.dedup();
        let mut tallies = WindowTallies {
            list,
            rollouts: Vec::new(),
            whole: Tally::default(),
            asked: windows.spans.len(),
            follow_rollouts: windows.rollouts,
            steady: None,
            edges,
            next_edge: 0,
            warmup,
            peak_taken: 0,
            arrivals_at_warmup: None,
        };
        if windows.rollouts {
            tallies.steady = Some(tallies.open_window(warmup));
        }
        tallies
    }

    /// How many of the list's windows were asked for: the first ones.
    pub fn asked(&self) -> usize {
        self.asked
    }

    /// Feed a record of something that started at `t` to the whole run's
    /// tally if it is after the warm-up, and to each window holding it.
    #[inline]
    pub fn feed(&mut self, t: SimTime, feed: impl Fn(&mut Tally)) {
        if t >= self.warmup {
            feed(&mut self.whole);
        }
        for w in self.list.iter_mut().filter(|w| w.holds(t)) {
            feed(&mut w.tally);
        }
    }

    /// An acquire of class `k` that started at `t` ended after `wait`.
    #[cold]
    #[inline(never)]
    pub fn acquire(
        &mut self,
        t: SimTime,
        k: usize,
        wait: SimTime,
        found_full: bool,
        end: AcquireEnd,
    ) {
        let starved = end != AcquireEnd::Served || wait > super::recorder::STARVED_AFTER;
        self.feed(t, |tally| tally.acquire(k, wait, found_full, starved, end));
    }

    /// The handler of a request that arrived at `t` ended.
    #[cold]
    #[inline(never)]
    pub fn handler(&mut self, t: SimTime, end: HandlerEnd, client_gone: bool, held: SimTime) {
        self.feed(t, |tally| tally.handler(end, client_gone, held));
    }

    /// The client of a request that arrived at `t` saw `end` after
    /// `latency`.
    #[cold]
    #[inline(never)]
    pub fn client(&mut self, t: SimTime, latency: SimTime, end: ClientEnd) {
        self.feed(t, |tally| tally.client(latency, end));
    }

    /// Requests that arrived after the warm-up, `arrivals` having arrived
    /// in all.
    pub fn arrived_since_warmup(&self, arrivals: u64) -> u64 {
        arrivals - self.arrivals_at_warmup.unwrap_or(arrivals)
    }

    /// Take the fixed edges up to `now` (after the warm-up's end), before
    /// which `arrivals` requests arrived in all; the next edge, or
    /// `SimTime::NEVER`.
    pub fn mark(
        &mut self,
        now: SimTime,
        arrivals: u64,
        open: &mut Level,
        checked_out: &mut Level,
    ) -> SimTime {
        while let Some(&edge) = self.edges.get(self.next_edge) {
            if edge > now {
                return edge;
            }
            self.edge(edge, arrivals, [open, checked_out]);
            self.next_edge += 1;
        }
        SimTime::NEVER
    }

    /// At `t`, before which `arrivals` requests arrived in all: hand the
    /// open-connections peak since the previous edge to the windows that
    /// span it, then end and start the windows whose edge `t` is.
    fn edge(&mut self, t: SimTime, arrivals: u64, [open, checked_out]: [&mut Level; 2]) {
        self.arrivals_at_warmup.get_or_insert(arrivals);
        let peak = open.take_peak();
        self.peak_taken = self.peak_taken.max(peak);
        let areas = [
            open.area_until(t, self.warmup),
            checked_out.area_until(t, self.warmup),
        ];
        for w in &mut self.list {
            if w.started && !w.ended {
                w.peak_open = w.peak_open.max(peak);
            }
            if !w.ended && w.span.to <= t {
                w.ended = true;
                (w.open_area[1], w.checked_out_area[1]) = (areas[0], areas[1]);
                w.arrivals_at[1] = arrivals;
            }
            if !w.started && w.span.from <= t {
                w.started = true;
                (w.open_area[0], w.checked_out_area[0]) = (areas[0], areas[1]);
                w.arrivals_at[0] = arrivals;
            }
        }
    }

    /// A window `[now, …)` whose end is not known yet.
    fn open_window(&mut self, now: SimTime) -> usize {
        let asked = Span {
            from: now,
            to: SimTime::NEVER,
        };
        self.list.push(WindowTally::new(asked, self.warmup));
        self.list.len() - 1
    }

    /// End the open window `i` now.
    fn close_window(&mut self, i: usize, now: SimTime) {
        let w = &mut self.list[i];
        w.span.to = now.max(w.span.from);
    }

    /// A line of the event log at `now`: a deploy or rollback ends the
    /// steady window and opens its rollout's; a `rollout_complete` ends
    /// the rollouts' and opens one window: their "after" and the next
    /// rollout's "before".
    pub fn change(
        &mut self,
        now: SimTime,
        kind: LogKind,
        detail: &str,
        arrivals: u64,
        levels: [&mut Level; 2],
    ) {
        if !self.follow_rollouts {
            return;
        }
        match kind {
            LogKind::Deploy | LogKind::Rollback => {
                let before = self.steady.take();
                if let Some(i) = before {
                    self.close_window(i, now);
                }
                let during = self.open_window(now);
                self.rollouts.push(Rollout {
                    label: format!("{kind} {detail}"),
                    at: now,
                    before,
                    during,
                    after: None,
                });
            }
            LogKind::RolloutComplete => {
                let going: Vec<usize> = (0..self.rollouts.len())
                    .filter(|&r| self.rollouts[r].after.is_none())
                    .collect();
                if going.is_empty() {
                    return;
                }
                // One window from here to the next deploy or rollback (or
                // the end): these rollouts' "after", the next one's "before".
                let steady = self.open_window(now);
                for r in going {
                    self.close_window(self.rollouts[r].during, now);
                    self.rollouts[r].after = Some(steady);
                }
                self.steady = Some(steady);
            }
            _ => return,
        }
        if now >= self.warmup {
            self.edge(now, arrivals, levels);
        }
    }

    /// The run stopped at `end`, `arrivals` having arrived in all: end
    /// every window still open, count each one's arrivals and the whole
    /// run's, and give the open-connections level its whole-run peak back.
    pub fn close(
        &mut self,
        end: SimTime,
        arrivals: u64,
        open: &mut Level,
        checked_out: &mut Level,
    ) {
        self.mark(end, arrivals, open, checked_out);
        for w in &mut self.list {
            w.span.to = w.span.to.min(end).max(w.span.from);
        }
        self.edge(end, arrivals, [open, checked_out]);
        for w in &mut self.list {
            w.tally.totals.arrived = w.arrivals_at[1] - w.arrivals_at[0];
        }
        self.whole.totals.arrived = self.arrived_since_warmup(arrivals);
        open.restore_peak(self.peak_taken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    #[test]
    fn overlapping_windows_get_exact_means_and_their_own_peaks() {
        let warmup = s(5);
        let spans = vec![
            Span {
                from: s(10),
                to: s(20),
            },
            Span {
                from: s(15),
                to: s(30),
            },
        ];
        let windows = Windows {
            spans,
            rollouts: false,
        };
        let mut w = WindowTallies::new(windows, warmup, s(40));
        let (mut open, mut idle) = (Level::default(), Level::default());
        open.add(s(0), 3, warmup);
        open.start_measuring();
        let mut next = w.mark(s(5), 0, &mut open, &mut idle);
        // The run loop marks before each event at or after `next`.
        for (t, delta) in [(12, 5), (13, -6), (16, 1), (25, 10), (26, -10)] {
            if s(t) >= next {
                next = w.mark(s(t), 0, &mut open, &mut idle);
            }
            open.add(s(t), delta, warmup);
        }
        w.close(s(40), 0, &mut open, &mut idle);
        let mean = |w: &WindowTally| {
            (w.open_area[1] - w.open_area[0]) / (w.span.to.0 - w.span.from.0) as f64
        };
        // [10, 20): 3 to 12, 8 to 13, 2 to 16, 3 after.
        assert!((mean(&w.list[0]) - 3.2).abs() < 1e-12);
        assert_eq!(w.list[0].peak_open, 8);
        // [15, 30): 2 to 16, 3 to 25, 13 to 26, 3 after.
        assert!((mean(&w.list[1]) - 3.6).abs() < 1e-12);
        assert_eq!(w.list[1].peak_open, 13);
        assert_eq!(open.peak(), 13, "the whole run's peak is given back");
    }

    #[test]
    fn records_go_to_the_windows_holding_their_start() {
        let spans = vec![Span {
            from: s(10),
            to: s(20),
        }];
        let windows = Windows {
            spans,
            rollouts: false,
        };
        let mut w = WindowTallies::new(windows, s(0), s(40));
        for t in [9, 10, 19, 20] {
            w.feed(s(t), Tally::arrival);
        }
        assert_eq!(w.list[0].tally.totals.arrived, 2);
    }
}
