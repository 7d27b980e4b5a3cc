//! The bare event loop of `scenarios/after.toml`: what its requests cost
//! with nothing but the events and the random draws, no metrics, no files.
//!
//! It is to `after.toml` what the floor (docs/performance.md) is to M/M/80: a
//! figure measured on the same machine in the same minute, to hold the
//! full simulation against. Same shape as the scenario's requests:
//! 20 pods × 4 workers, a Poisson stream per pod at 100/s, a worker drawn
//! at random, app work (lognormal, median 13 ms, p99 46 ms), then a client
//! from the worker's pool (max 10: an idle one, else a new connection with
//! a lognormal handshake of median 9.3 ms and p99 15 ms, else a FIFO wait),
//! held for a lognormal time (mean 20 ms, p99 120 ms) and given back. The
//! durations are drawn with pooldrill's own `Dist`, from one stream per
//! pod. One binary heap of `(time, sequence, event)` keys, as in the
//! floor's `heap` engine, so three or four heap events per request. Left
//! out: everything pooldrill records, the background job, idle timeouts,
//! the database's slot cap, deadlines and errors — the skeleton is a lower
//! bound, not a model.
//!
//! `cargo run --release --example after_skeleton [-- REQUESTS]` (default
//! 3.6 M, after.toml's 30 minutes at 2000 req/s). Prints the requests, the
//! wall time and a checksum on one line: the mean latency, 35.05 ms by
//! default, which is E[app work] + E[hold] = 15.07 + 20 ms give or take the
//! sampling error, plus the rare waits and handshakes.

use pooldrill::dist::Dist;
use pooldrill::engine::SimRng;
use rand::{RngExt, SeedableRng};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

const PODS: usize = 20;
const WORKERS_PER_POD: usize = 4;
const RATE_PER_POD: f64 = 100.0;
const POOL_MAX: u32 = 10;

/// A draw in nanoseconds: pooldrill's own distribution, sampling and
/// rounding code (`Dist::sample`).
fn sample_ns(dist: &Dist, rng: &mut SimRng) -> u64 {
    dist.sample(rng).0
}

/// What a key's low bits name.
#[derive(Clone, Copy)]
enum Event {
    Arrival { pod: usize },
    AppDone { req: u32 },
    Connected { req: u32 },
    HoldDone { req: u32 },
}

impl Event {
    /// Two bits of kind over 30 bits of pod or request.
    fn pack(self) -> u32 {
        match self {
            Event::Arrival { pod } => pod as u32,
            Event::AppDone { req } => 1 << 30 | req,
            Event::Connected { req } => 2 << 30 | req,
            Event::HoldDone { req } => 3 << 30 | req,
        }
    }

    fn unpack(bits: u32) -> Self {
        let id = bits & ((1 << 30) - 1);
        match bits >> 30 {
            0 => Event::Arrival { pod: id as usize },
            1 => Event::AppDone { req: id },
            2 => Event::Connected { req: id },
            _ => Event::HoldDone { req: id },
        }
    }
}

/// One pg-pool reduced to its counts and its queue of waiting requests.
#[derive(Default)]
struct Pool {
    total: u32,
    idle: u32,
    waiting: VecDeque<u32>,
}

struct Request {
    arrived: u64,
    worker: usize,
}

struct Skeleton {
    /// Keys `time << 64 | sequence << 32 | event`: one `u128` compare per
    /// step, ties in scheduling order (the sequence wraps after 2³² events,
    /// far beyond the default run).
    heap: BinaryHeap<Reverse<u128>>,
    sequence: u64,
    now: u64,
    streams: Vec<SimRng>,
    pools: Vec<Pool>,
    requests: Vec<Request>,
    free: Vec<u32>,
    app_time: Dist,
    hold: Dist,
    setup: Dist,
    latency_sum: u64,
    finished: u64,
}

impl Skeleton {
    fn new(seed: u64) -> Self {
        let mut s = Skeleton {
            heap: BinaryHeap::new(),
            sequence: 0,
            now: 0,
            streams: (0..PODS as u64)
                .map(|p| SimRng::seed_from_u64(seed ^ p.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
                .collect(),
            pools: (0..PODS * WORKERS_PER_POD)
                .map(|_| Pool::default())
                .collect(),
            requests: Vec::new(),
            free: Vec::new(),
            app_time: Dist::lognormal_median_p99(0.013, 0.046),
            hold: Dist::lognormal_mean_p99(0.020, 0.120).expect("a lognormal fits"),
            setup: Dist::lognormal_median_p99(0.0093, 0.015),
            latency_sum: 0,
            finished: 0,
        };
        for pod in 0..PODS {
            let first = s.interarrival(pod);
            s.schedule(first, Event::Arrival { pod });
        }
        s
    }

    fn schedule(&mut self, at: u64, event: Event) {
        let key = (at as u128) << 64 | (self.sequence as u128 & 0xffff_ffff) << 32;
        self.heap.push(Reverse(key | event.pack() as u128));
        self.sequence += 1;
    }

    fn interarrival(&mut self, pod: usize) -> u64 {
        let e: f64 = self.streams[pod].sample(rand_distr::Exp1);
        (e / RATE_PER_POD * 1e9) as u64
    }

    /// Run until `requests` have arrived and every one has finished.
    fn run(&mut self, requests: u64) {
        let mut arrived = 0;
        while let Some(Reverse(key)) = self.heap.pop() {
            self.now = (key >> 64) as u64;
            match Event::unpack(key as u32) {
                Event::Arrival { pod } => {
                    arrived += 1;
                    if arrived < requests {
                        let next = self.now + self.interarrival(pod);
                        self.schedule(next, Event::Arrival { pod });
                    }
                    self.arrive(pod);
                }
                Event::AppDone { req } => self.acquire(req),
                Event::Connected { req } => self.start_hold(req),
                Event::HoldDone { req } => self.release(req),
            }
        }
    }

    fn arrive(&mut self, pod: usize) {
        let rng = &mut self.streams[pod];
        let worker = pod * WORKERS_PER_POD + rng.random_range(0..WORKERS_PER_POD);
        let app = sample_ns(&self.app_time, rng);
        let request = Request {
            arrived: self.now,
            worker,
        };
        let req = match self.free.pop() {
            Some(id) => {
                self.requests[id as usize] = request;
                id
            }
            None => {
                self.requests.push(request);
                (self.requests.len() - 1) as u32
            }
        };
        self.schedule(self.now + app, Event::AppDone { req });
    }

    fn acquire(&mut self, req: u32) {
        let worker = self.requests[req as usize].worker;
        let pool = &mut self.pools[worker];
        if pool.idle > 0 {
            pool.idle -= 1;
            self.start_hold(req);
        } else if pool.total < POOL_MAX {
            pool.total += 1;
            let setup = sample_ns(&self.setup, &mut self.streams[worker / WORKERS_PER_POD]);
            self.schedule(self.now + setup, Event::Connected { req });
        } else {
            pool.waiting.push_back(req);
        }
    }

    fn start_hold(&mut self, req: u32) {
        let pod = self.requests[req as usize].worker / WORKERS_PER_POD;
        let hold = sample_ns(&self.hold, &mut self.streams[pod]);
        self.schedule(self.now + hold, Event::HoldDone { req });
    }

    fn release(&mut self, req: u32) {
        let r = &self.requests[req as usize];
        self.latency_sum += self.now - r.arrived;
        self.finished += 1;
        let pool = &mut self.pools[r.worker];
        self.free.push(req);
        match pool.waiting.pop_front() {
            Some(next) => self.start_hold(next),
            None => pool.idle += 1,
        }
    }

    /// Mean time from arrival to release, in milliseconds.
    fn mean_latency_ms(&self) -> f64 {
        self.latency_sum as f64 / self.finished as f64 / 1e6
    }
}

// A standalone measurement program, not pooldrill: its one line may panic on
// a closed stdout.
#[allow(clippy::disallowed_macros)]
fn main() {
    let requests: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse().unwrap_or_else(|_| {
            eprintln!("after_skeleton: expected a number of requests, found '{n}'");
            std::process::exit(2)
        }),
        None => 3_600_000,
    };
    let start = Instant::now();
    let mut skeleton = Skeleton::new(20_260_115);
    skeleton.run(requests);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "after_skeleton {} requests {:.3} s mean_latency_ms {:.3}",
        skeleton.finished,
        secs,
        skeleton.mean_latency_ms()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean and variance of a lognormal, in seconds.
    fn moments(dist: Dist) -> (f64, f64) {
        let Dist::LogNormal { sigma, .. } = dist else {
            panic!("a lognormal");
        };
        let mean = dist.mean();
        (mean, ((sigma * sigma).exp() - 1.0) * mean * mean)
    }

    /// A request's latency is its app work plus its hold (pools of 10 per
    /// worker at 25 req/s almost never wait; the handshakes are 80 in all).
    /// The mean of 200 000 must be within four standard errors of the sum
    /// of the two means, and the skeleton must run every request it was
    /// asked for (one more per other pod: the arrivals already scheduled).
    #[test]
    fn the_mean_latency_is_app_work_plus_hold() {
        let n = 200_000;
        let mut skeleton = Skeleton::new(7);
        skeleton.run(n);
        assert_eq!(skeleton.finished, n + PODS as u64 - 1);
        let (app, hold) = (moments(skeleton.app_time), moments(skeleton.hold));
        let expected_ms = (app.0 + hold.0) * 1e3;
        let standard_error_ms = ((app.1 + hold.1) / n as f64).sqrt() * 1e3;
        let got = skeleton.mean_latency_ms();
        assert!(
            (got - expected_ms).abs() < 4.0 * standard_error_ms,
            "mean latency {got:.3} ms, expected {expected_ms:.3} ± {:.3} ms",
            4.0 * standard_error_ms
        );
    }
}
