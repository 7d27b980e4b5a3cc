//! `plan`'s deploy figure is an upper bound: over random fleets and deploys
//! (rolling with any surge, unavailability, start-up and grace, all at
//! once, canary; a rollback in the middle of a rollout; `restart` events;
//! `fleet.shutdown_ends_pools` on and off; jobs with a pool of their own),
//! it is never below the peak of the summed pod capacities along the run's
//! event-exact pod timeline, with traffic holding connections while pods
//! drain. The generator's seed is fixed: failures reproduce.

use pooldrill::metrics::NullSink;
use pooldrill::model::pod_timeline::{PodEvent, exact_peak};
use pooldrill::model::{RunOptions, Simulation};
use pooldrill::plan::{Inputs, compute};
use pooldrill::scenario::validate::parse;
use pooldrill::scenario::{JobPlacement, JobPoolMode, Scenario};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// `"N%"` or a pod count.
fn percent() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..=100).prop_map(|p| format!("\"{p}%\"")),
        (0u32..6).prop_map(|n| n.to_string()),
    ]
}

/// `(name, text)` of a deploy event at `at` seconds.
fn deploy(pods: u32) -> impl Strategy<Value = String> {
    (
        0u32..10,
        percent(),
        percent(),
        1u32..40,
        (1..=pods, 0u32..30),
    )
        .prop_map(
            move |(strategy, surge, unavailable, startup, (canary, pause))| {
                let zero = |p: &str| p == "0" || p == "\"0%\"";
                // Both zero as written is refused, as Kubernetes does.
                let surge = if zero(&surge) && zero(&unavailable) {
                    "1".to_owned()
                } else {
                    surge
                };
                let mut text = format!("pod_startup = \"{startup}s\"\n");
                match strategy {
                    0 => text += "strategy = \"all_at_once\"\n",
                    1 => {
                        text += &format!(
                            "strategy = \"canary\"\ncanary_pods = {canary}\ncanary_pause = \"{pause}s\"\n\
                             max_surge = {surge}\nmax_unavailable = {unavailable}\n"
                        )
                    }
                    _ => {
                        text += &format!("max_surge = {surge}\nmax_unavailable = {unavailable}\n")
                    }
                }
                text
            },
        )
}

/// A random small fleet with traffic, a deploy, maybe a rollback and a
/// restart.
fn scenario_text() -> impl Strategy<Value = String> {
    (1u32..12).prop_flat_map(|pods| {
        (
            (Just(pods), 1u32..3, 1u32..5, 1u32..5, 0u32..=60, any::<bool>()),
            (0u32..3, 1u32..4, any::<bool>(), any::<u64>()),
            (50u32..2000, 0u32..3),
            (deploy(pods), 5u32..60, prop::option::of((1u32..60, deploy(pods)))),
            prop::option::of((0..pods, 0u32..120, 1u32..30)),
        )
    })
    .prop_map(
        |(
            (pods, workers, max_v1, max_v2, grace, ends_pools),
            (job, job_max, every_worker, seed),
            (hold_ms, deploys),
            (first, at, rollback),
            restart,
        )| {
            let mut text = format!(
                "[meta]\nname = \"bound\"\nduration = \"3m\"\nseed = {seed}\nversion = \"v1\"\n\
                 [fleet]\npods = {pods}\nworkers = {workers}\ntermination_grace = \"{grace}s\"\n\
                 shutdown_ends_pools = {ends_pools}\n\
                 [traffic]\nrate = \"{}/s\"\n\
                 [requests]\nhold = {{ dist = \"exponential\", mean = \"{hold_ms}ms\" }}\n\
                 [database]\nmax_connections = 2000\n\
                 [versions.v1.pool]\nmax = {max_v1}\n[versions.v2.pool]\nmax = {max_v2}\n",
                pods * workers * 2
            );
            let runs_in = if every_worker {
                "every_worker"
            } else {
                "one_worker"
            };
            match job {
                1 => {
                    text += &format!(
                        "[versions.v2.job]\nperiod = \"5s\"\nfan_out = 1\nruns_in = \"{runs_in}\"\n\
                         hold = {{ dist = \"deterministic\", value = \"20s\" }}\n\
                         error_probability = 0.5\npool_mode = \"own\"\nrelease = \"leaky\"\n\
                         pool = {{ max = {job_max} }}\n"
                    )
                }
                2 => {
                    text += &format!(
                        "[versions.v2.job]\nperiod = \"5s\"\nfan_out = 1\nruns_in = \"{runs_in}\"\n\
                         hold = {{ dist = \"deterministic\", value = \"2s\" }}\n\
                         error_probability = 0.0\npool_mode = \"shared\"\nrelease = \"finally\"\n"
                    )
                }
                _ => {}
            }
            // deploys: 0 none (a restart at most), 1 a deploy, 2 a deploy
            // and a rollback in the middle of its rollout.
            if deploys > 0 {
                text += &format!("[[events]]\nat = \"{at}s\"\nkind = \"deploy\"\nversion = \"v2\"\n{first}");
            }
            if let (2, Some((after, back))) = (deploys, rollback) {
                text += &format!("[[events]]\nat = \"{}s\"\nkind = \"rollback\"\n{back}", at + after);
            }
            if let Some((pod, at, startup)) = restart {
                text += &format!(
                    "[[events]]\nat = \"{at}s\"\nkind = \"restart\"\npod = {pod}\npod_startup = \"{startup}s\"\n"
                );
            }
            text
        },
    )
}

/// Connections one pod of `version` can open: its workers' pools and its
/// job pools of their own.
fn capacity(s: &Scenario, version: usize) -> u64 {
    let app = &s.versions[version].app;
    let workers = u64::from(s.fleet.workers);
    let job = app.job.as_ref().map_or(0, |j| match j.pool_mode {
        JobPoolMode::Own => {
            let runners = match j.placement {
                JobPlacement::OneWorker => 1,
                JobPlacement::EveryWorker => workers,
            };
            runners * u64::from(j.pool.max)
        }
        _ => 0,
    });
    workers * u64::from(app.pool.max) + job
}

proptest! {
    #![proptest_config(Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(20261207),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn the_plans_deploy_figure_bounds_the_exact_peak(text in scenario_text()) {
        let s = parse("bound.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut events: Vec<PodEvent> = Vec::new();
        Simulation::new_observed(&s, RunOptions::default(), Box::new(|e| events.push(e)))
            .run(&mut NullSink, |_| true)
            .expect("the run ends");
        let exact = exact_peak(&events, |v| capacity(&s, v));
        let plan = compute(&Inputs::default(), Some(("p.toml", &s))).expect("a plan");
        let bound = plan
            .versions
            .iter()
            .map(|v| v.possible_in_deploy.expect("no pool per run"))
            .max()
            .expect("a version");
        prop_assert!(
            bound >= exact.value,
            "plan says {} in a deploy, the run peaks at {} at {}\n{}",
            bound, exact.value, exact.at, text
        );
    }
}

/// The issue's example: 10 pods × 1 worker, pool max 3, 45 slots, a rolling
/// deploy of 25 % / 25 %, 20 s start-up, 30 s grace. The plan said 39 and
/// FITS; the run peaks at 18 pods, 54 connections, and is refused.
#[test]
fn the_issues_example_is_over_provisioned() {
    let text = "[meta]\nname = \"i\"\nduration = \"3m\"\nversion = \"v1\"\n\
                [fleet]\npods = 10\nworkers = 1\ntermination_grace = \"30s\"\n\
                [pool]\nmax = 3\n[traffic]\nrate = \"200/s\"\n\
                [database]\nmax_connections = 45\nsuperuser_reserved_connections = 0\nother_clients = 0\n\
                [versions.v1]\n[versions.v2]\n\
                [[events]]\nat = \"30s\"\nkind = \"deploy\"\nversion = \"v2\"\n\
                max_surge = \"25%\"\nmax_unavailable = \"25%\"\npod_startup = \"20s\"\n";
    let s = parse("i.toml", text).unwrap();
    let mut events: Vec<PodEvent> = Vec::new();
    let summary = Simulation::new_observed(&s, RunOptions::default(), Box::new(|e| events.push(e)))
        .run(&mut NullSink, |_| true)
        .unwrap();
    assert_eq!(exact_peak(&events, |_| 3).value, 54);
    assert!(summary.requests.refused > 0);
    let plan = compute(&Inputs::default(), Some(("p.toml", &s))).unwrap();
    assert_eq!(plan.deploy_pods, 18);
    assert_eq!(plan.versions[0].possible_in_deploy, Some(54));
    assert!(!plan.fits);
}

/// A job that builds a pool every run has no bound: the plan says so and
/// does not fit.
#[test]
fn a_pool_per_run_has_no_bound() {
    let text = "[meta]\nname = \"p\"\nduration = \"1m\"\n\
                [job]\nperiod = \"10s\"\nfan_out = 1\nhold = { dist = \"deterministic\", value = \"1s\" }\n\
                error_probability = 0.0\npool_mode = \"per_run\"\nrelease = \"finally\"\npool = { max = 1 }\n";
    let s = parse("p.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let plan = compute(&Inputs::default(), Some(("p.toml", &s))).unwrap();
    assert_eq!(plan.versions[0].possible_in_deploy, None);
    assert!(!plan.fits);
    let verify = &plan.checklist[1];
    assert!(verify.detail.contains("no bound"), "{}", verify.detail);
}
