//! Property tests over random valid scenarios: small fleets against small
//! databases so that pools fill, the server refuses, jobs leak, sessions are
//! reaped and pods are deployed, rolled back and restarted.
//!
//! * Every run keeps every model invariant, checked after every event
//!   (conservation of requests, slots ≤ `max_connections`, per-pool clients
//!   ≤ `max`, no negative counts, leaks released only by a process exit or
//!   the server, a clock that never goes back).
//! * The outputs agree with those invariants from the outside.
//! * Same scenario and seed ⇒ the same bytes, run after run and on rayon
//!   pools of 1 and of 4 threads.
//!
//! The generator's seed is fixed: failures reproduce.

use pooldrill::metrics::{LogKind, MemorySink, Summary};
use pooldrill::model::trace::TraceEvent;
use pooldrill::model::{RunOptions, Simulation};
use pooldrill::scenario::Scenario;
use pooldrill::scenario::validate::{Overrides, parse_with};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use rayon::prelude::*;

/// `"0s"` (off) or a duration from `lo` to `hi` milliseconds.
fn off_or_ms(lo: u32, hi: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0s".to_owned()),
        (lo..hi).prop_map(|ms| format!("{ms}ms"))
    ]
}

/// A distribution of durations, every law.
fn dist() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..200).prop_map(|m| format!("{{ dist = \"exponential\", mean = \"{m}ms\" }}")),
        (0u32..100).prop_map(|v| format!("{{ dist = \"deterministic\", value = \"{v}ms\" }}")),
        (0u32..50, 0u32..100).prop_map(|(lo, w)| format!(
            "{{ dist = \"uniform\", min = \"{lo}ms\", max = \"{}ms\" }}",
            lo + w
        )),
        (1u32..60, 2u32..10).prop_map(|(m, k)| format!(
            "{{ dist = \"lognormal\", median = \"{m}ms\", p99 = \"{}ms\" }}",
            m * k
        )),
    ]
}

/// `(seconds, pods, text)` of `[meta]`, `[fleet]` and `[traffic]`.
fn meta_fleet_traffic() -> impl Strategy<Value = (u32, u32, String)> {
    (
        (5u32..40, 0u32..4, any::<u64>()),
        (1u32..5, 1u32..4, any::<bool>()),
        (1u32..300, any::<bool>()),
        prop::option::of((0u32..100, 0u32..300, 0u32..100)),
    )
        .prop_map(|((secs, warm, seed), (pods, workers, rr), (rate, det), profile)| {
            let dispatch = if rr { "round_robin" } else { "random" };
            let arrivals = if det { "deterministic" } else { "poisson" };
            let mut text = format!(
                "[meta]\nname = \"prop\"\nduration = \"{secs}s\"\nwarmup = \"{}s\"\nseed = {seed}\n\n\
                 [fleet]\npods = {pods}\nworkers = {workers}\ndispatch = \"{dispatch}\"\n\
                 termination_grace = \"3s\"\nworker_restart = \"500ms\"\n\n\
                 [traffic]\nrate = \"{rate}/s\"\narrivals = \"{arrivals}\"\n",
                warm * secs / 8
            );
            if let Some((at, to, ramp)) = profile {
                let at_ms = at * secs * 10; // a share of the run, in ms
                let ramp_ms = ramp * (secs * 1000 - at_ms) / 100;
                text += &format!(
                    "[[traffic.profile]]\nat = \"{at_ms}ms\"\nrate = \"{to}/s\"\nramp = \"{ramp_ms}ms\"\n"
                );
            }
            (secs, pods, text)
        })
}

fn requests_and_pool() -> impl Strategy<Value = String> {
    (
        (
            1u32..4,
            dist(),
            prop::option::of(dist()),
            0u32..30,
            any::<bool>(),
        ),
        (off_or_ms(100, 5000), any::<bool>()),
        (1u32..7, 0u32..7, off_or_ms(100, 5000), off_or_ms(50, 2000)),
        (any::<bool>(), off_or_ms(1000, 10_000), 0u32..4),
    )
        .prop_map(
            |(
                (checkouts, hold, app_time, error_pct, destroys),
                (deadline, cancel),
                (max, min, idle, acquire),
                (exp_law, lifetime, max_uses),
            )| {
                let mut text = format!(
                    "\n[requests]\ncheckouts = {checkouts}\nhold = {hold}\n\
                     error_probability = {}\nerror_destroys_client = {destroys}\n\
                     deadline = \"{deadline}\"\ncancel_on_abort = {cancel}\n",
                    error_pct as f64 / 100.0
                );
                if let Some(app) = app_time {
                    text += &format!("app_time = {app}\n");
                }
                let law = if exp_law { "exponential" } else { "fixed" };
                text += &format!(
                    "\n[pool]\nmax = {max}\nmin = {}\nidle_timeout = \"{idle}\"\n\
                     acquire_timeout = \"{acquire}\"\nacquire_timeout_law = \"{law}\"\n\
                     max_lifetime = \"{lifetime}\"\nmax_uses = {max_uses}\n",
                    min % (max + 1)
                );
                text
            },
        )
}

fn database() -> impl Strategy<Value = String> {
    (
        6u32..40,
        0u32..4,
        0u32..3,
        0u32..6,
        off_or_ms(500, 5000),
        off_or_ms(500, 5000),
    )
        .prop_map(|(max, superuser, reserved, other, idle, idle_tx)| {
            let usable = max - superuser - reserved;
            format!(
                "\n[database]\nmax_connections = {max}\nsuperuser_reserved_connections = {superuser}\n\
                 reserved_connections = {reserved}\nother_clients = {}\n\
                 idle_session_timeout = \"{idle}\"\nidle_in_transaction_session_timeout = \"{idle_tx}\"\n",
                other % (usable + 1)
            )
        })
}

fn job() -> impl Strategy<Value = String> {
    let job = (
        (300u32..5000, any::<bool>(), any::<bool>(), 1u32..4, dist()),
        (0u32..=100, 0u32..3, any::<bool>(), any::<bool>(), any::<bool>(), 1u32..5),
    )
        .prop_map(
            |(
                (period, every, overlap, fan_out, hold),
                (error_pct, mode, leaky, in_tx, listener, pool_max),
            )| {
                let runs_in = if every { "every_worker" } else { "one_worker" };
                let mode = ["shared", "own", "per_run"][mode as usize];
                let release = if leaky { "leaky" } else { "finally" };
                let mut text = format!(
                    "\n[job]\nperiod = \"{period}ms\"\nruns_in = \"{runs_in}\"\noverlap = {overlap}\n\
                     fan_out = {fan_out}\nhold = {hold}\nerror_probability = {}\n\
                     pool_mode = \"{mode}\"\nrelease = \"{release}\"\nleak_in_transaction = {in_tx}\n\
                     error_listener = {listener}\n",
                    error_pct as f64 / 100.0
                );
                if mode != "shared" {
                    text += &format!("\n[job.pool]\nmax = {pool_max}\nidle_timeout = \"1s\"\n");
                }
                text
            },
        );
    prop::option::of(job).prop_map(Option::unwrap_or_default)
}

/// Timeline events at shares of the run: deploys of `v2`, rollbacks,
/// restarts, server settings, the job switched off and on.
fn events(secs: u32, pods: u32) -> impl Strategy<Value = String> {
    prop::collection::vec((0u32..5, 0u32..100, 0u32..3), 0..7).prop_map(move |mut picks| {
        picks.sort_by_key(|p| (p.1, p.0));
        let mut text = "\n[versions.v2.pool]\nmax = 2\nmin = 0\n\n[versions.v2.requests]\ncheckouts = 2\n".to_owned();
        let mut deployed = false;
        for (kind, at, variant) in picks {
            let at_ms = at * (secs * 1000 - 1000) / 100;
            let body = match kind {
                0 => {
                    deployed = true;
                    let strategy = ["rolling", "all_at_once", "canary"][variant as usize];
                    let canary = if strategy == "canary" {
                        "canary_pods = 1\ncanary_pause = \"2s\"\n"
                    } else {
                        ""
                    };
                    format!("kind = \"deploy\"\nversion = \"v2\"\nstrategy = \"{strategy}\"\npod_startup = \"1s\"\n{canary}")
                }
                1 if !deployed => continue, // nothing to roll back yet
                1 => "kind = \"rollback\"\npod_startup = \"1s\"\n".to_owned(),
                2 => format!("kind = \"restart\"\npod = {}\npod_startup = \"1s\"\n", variant % pods),
                3 => format!("kind = \"server\"\nidle_session_timeout = \"{}s\"\n", variant),
                _ => format!("kind = \"job\"\nenabled = {}\n", variant > 0),
            };
            text += &format!("\n[[events]]\nat = \"{at_ms}ms\"\n{body}");
        }
        text
    })
}

/// Clients' retries, or none.
fn retry() -> impl Strategy<Value = String> {
    let table = (
        (1u32..5, 0u32..32, off_or_ms(100, 2000), dist()),
        (1u32..4, 0u32..3, prop::option::of(0u32..300)),
    )
        .prop_map(|((attempts, on, timeout, backoff), (multiplier, jitter, budget))| {
            let kinds = ["refused", "acquire_timeout", "attempt_timeout", "app_error", "unavailable"];
            let on: Vec<String> = (0..5)
                .filter(|k| on & (1 << k) != 0)
                .map(|k| format!("\"{}\"", kinds[k]))
                .collect();
            let jitter = ["none", "full", "equal"][jitter as usize];
            let budget = budget.map_or(String::new(), |b| format!("budget = {}\n", b as f64 / 100.0));
            format!(
                "\n[retry]\nattempts = {attempts}\non = [{}]\nattempt_timeout = \"{timeout}\"\nbackoff = {backoff}\n\
                 multiplier = {multiplier}.0\ncap = \"30s\"\njitter = \"{jitter}\"\n{budget}",
                on.join(", ")
            )
        });
    prop::option::of(table).prop_map(Option::unwrap_or_default)
}

/// A random valid scenario, as TOML text.
fn scenario_text() -> impl Strategy<Value = String> {
    (
        meta_fleet_traffic(),
        requests_and_pool(),
        database(),
        job(),
        retry(),
    )
        .prop_flat_map(|((secs, pods, head), requests, db, job, retry)| {
            let text = format!("{head}{requests}{db}{job}{retry}");
            events(secs, pods).prop_map(move |events| format!("{text}{events}"))
        })
}

fn parse(text: &str, seed: Option<u64>) -> Scenario {
    let overrides = Overrides {
        seed,
        duration: None,
    };
    parse_with("prop.toml", text, overrides).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// One checked run: the summary, the rows and the trace.
fn run(s: &Scenario) -> (Summary, MemorySink, Vec<TraceEvent>) {
    let mut sink = MemorySink::default();
    let mut trace = Vec::new();
    let options = RunOptions {
        check_invariants: true,
        prefetch: None,
    };
    let summary = Simulation::new(s, options)
        .with_tracer(Box::new(|e: &TraceEvent| trace.push(e.clone())))
        .run(&mut sink, |_| true)
        .unwrap_or_else(|e| panic!("{e}"));
    (summary, sink, trace)
}

/// Everything a run produces, as bytes.
fn bytes(s: &Scenario) -> Vec<u8> {
    let (summary, sink, trace) = run(s);
    let mut out = serde_json::to_vec(&summary).unwrap();
    for part in [
        serde_json::to_vec(&sink.rows).unwrap(),
        serde_json::to_vec(&sink.pods).unwrap(),
        serde_json::to_vec(&sink.events).unwrap(),
        serde_json::to_vec(&trace).unwrap(),
    ] {
        out.extend(part);
    }
    out
}

/// `cases` cases (or `PROPTEST_CASES` for a longer exploration), from a
/// fixed seed.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20260115),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn random_scenarios_keep_every_invariant(text in scenario_text()) {
        let s = parse(&text, None);
        let (summary, sink, trace) = run(&s);
        let r = &summary.requests;
        prop_assert_eq!(
            r.arrived,
            r.completed + r.acquire_timeouts + r.refused + r.app_errors + r.unavailable
                + r.cancelled + r.in_flight + r.in_backoff.unwrap_or(0),
            "the handler's partition"
        );
        prop_assert_eq!(
            r.arrived,
            r.goodput + r.errors + r.gave_up + r.clients_waiting + r.in_backoff.unwrap_or(0)
        );
        let c = &summary.connections;
        prop_assert!(c.peak_db_occupied <= c.max_connections);
        for row in &sink.rows {
            prop_assert!(row.db_occupied <= c.max_connections as u64, "{:?}", row);
            prop_assert!(row.open_leaked <= row.db_occupied);
        }
        for pod in &sink.pods {
            prop_assert!(pod.open <= pod.capacity, "{:?}", pod);
            prop_assert!(pod.checked_out <= pod.open, "{:?}", pod);
        }
        prop_assert!(
            trace.windows(2).all(|w| w[0].t_s <= w[1].t_s),
            "the traced clock went back"
        );
        let sample_times: Vec<f64> = sink.rows.iter().map(|r| r.time_s).collect();
        prop_assert!(sample_times.windows(2).all(|w| w[0] < w[1]));
    }
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn same_seed_same_bytes_on_1_and_on_4_threads(text in scenario_text()) {
        let seeds: Vec<u64> = (1..=6).collect();
        let scenarios: Vec<Scenario> = seeds.iter().map(|&seed| parse(&text, Some(seed))).collect();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| scenarios.par_iter().map(bytes).collect::<Vec<Vec<u8>>>())
        };
        let one = on(1);
        let four = on(4);
        prop_assert!(one == four, "1 and 4 threads differ");
        prop_assert!(one[0] == bytes(&scenarios[0]), "a second run differs");
        prop_assert!(one.iter().all(|b| !b.is_empty()));
    }
}

/// The generator reaches the states the properties are about: without this
/// the properties could hold vacuously.
#[test]
fn the_generator_reaches_exhaustion_leaks_reaping_and_rollouts() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::new(config(64));
    let strategy = scenario_text();
    let mut seen = [0usize; 6];
    for _ in 0..64 {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        let (summary, sink, trace) = run(&parse(&text, None));
        let reaped = trace
            .iter()
            .any(|e| e.kind == pooldrill::model::trace::TraceKind::Reaped);
        let found = [
            summary.requests.refused > 0,
            summary.requests.acquire_timeouts > 0,
            summary.connections.leaked > 0,
            reaped,
            sink.events
                .iter()
                .any(|e| e.kind == LogKind::RolloutComplete),
            sink.events.iter().any(|e| e.kind == LogKind::Rollback),
        ];
        for (n, f) in seen.iter_mut().zip(found) {
            *n += usize::from(f);
        }
    }
    eprintln!("refused, timed out, leaked, reaped, rolled out, rolled back: {seen:?} of 64");
    assert!(seen.iter().all(|&n| n >= 3), "{seen:?} of 64");
}
