//! The PgBouncer sidecar (`[pooler]`, transaction pooling): its queue
//! against Erlang C and M/M/c+D (its `query_wait_timeout` is a fixed
//! patience), and its rules — one set of server connections per pod, leaks
//! that pin a server connection only inside a transaction, refused logins
//! that pause new ones.

mod common;

use common::{assert_in_band, family_confidence, replicate, scenario, series, summary};
use pooldrill::theory;

/// Comparisons in this file.
const COMPARISONS: usize = 5;
const REPLICATIONS: u64 = 20;

/// One pod of four workers whose pools never limit (50 each), behind a
/// sidecar of `pool_size` server connections that never close; zero setup
/// times; exponential holds of 1 s.
fn erlang(rate: &str, pool_size: u32, query_wait: &str) -> String {
    format!(
        r#"
[meta]
name = "sidecar-erlang"
duration = "20000s"
warmup = "200s"
sample_interval = "100s"
[fleet]
pods = 1
workers = 4
[traffic]
rate = "{rate}"
[requests]
hold = {{ dist = "exponential", mean = "1s" }}
deadline = "0s"
[pool]
max = 50
idle_timeout = "0s"
[database]
max_connections = 100
other_clients = 0
setup = {{ dist = "deterministic", value = "0s" }}
[pooler]
pool_size = {pool_size}
query_wait_timeout = "{query_wait}"
server_idle_timeout = "0s"
client_setup = {{ dist = "deterministic", value = "0s" }}
"#
    )
}

#[test]
fn the_sidecars_queue_is_erlang_c() {
    // The pod's requests are Poisson (4/s) and each transaction holds a
    // server connection for its hold: M/M/5 at 4 Erlangs.
    let conf = family_confidence(COMPARISONS);
    let [pw, wq] = replicate(
        &erlang("4/s", 5, "0s"),
        31_000..31_000 + REPLICATIONS,
        conf,
        |s| {
            let w = &s.pooler.as_ref().expect("pooler section").waits;
            [
                w.found_full as f64 / w.count as f64,
                w.mean_wait_s.unwrap_or(f64::NAN),
            ]
        },
    );
    assert_in_band("P(wait for a server)", &pw, theory::erlang_c(5, 4.0));
    assert_in_band(
        "E[wait for a server]",
        &wq,
        theory::mmc_mean_wait(5, 4.0, 1.0),
    );
}

#[test]
fn query_wait_timeout_is_a_fixed_patience() {
    // ρ = 1.1: only the 500 ms query_wait_timeout keeps the queue finite.
    let conf = family_confidence(COMPARISONS);
    let text = erlang("5.5/s", 5, "500ms").replace("20000s", "10000s");
    let [pw, pt, wq] = replicate(&text, 32_000..32_000 + REPLICATIONS, conf, |s| {
        let w = &s.pooler.as_ref().expect("pooler section").waits;
        let n = w.count as f64;
        assert_eq!(s.requests.pooler_timeouts, Some(w.timed_out));
        [
            w.found_full as f64 / n,
            w.timed_out as f64 / n,
            w.mean_wait_s.unwrap_or(f64::NAN),
        ]
    });
    let f = theory::mmc_deterministic_patience(5, 5.5, 1.0, 0.5);
    assert_in_band("P(wait for a server)", &pw, f.p_wait);
    assert_in_band("P(query_wait_timeout)", &pt, f.p_abandon);
    assert_in_band("E[wait for a server]", &wq, f.mean_wait);
}

/// Three pods of four workers (pools of 10) behind sidecars of 6, with a job
/// in one worker per pod holding one client for 2 s every 5 s, failing
/// every run without releasing.
fn leaky_fleet(leak_in_transaction: bool, reap: &str) -> String {
    format!(
        r#"
[meta]
name = "sidecar-leaks"
duration = "600s"
warmup = "60s"
sample_interval = "1s"
[fleet]
pods = 3
workers = 4
[traffic]
rate = "30/s"
[requests]
hold = {{ dist = "exponential", mean = "20ms" }}
deadline = "0s"
[pool]
max = 10
[database]
max_connections = 100
other_clients = 0
idle_in_transaction_session_timeout = "{reap}"
[pooler]
pool_size = 6
query_wait_timeout = "5s"
[job]
period = "5s"
fan_out = 1
hold = {{ dist = "deterministic", value = "2s" }}
error_probability = 1
pool_mode = "own"
release = "leaky"
leak_in_transaction = {leak_in_transaction}
error_listener = true
[job.pool]
max = 10
acquire_timeout = "5s"
"#
    )
}

#[test]
fn pods_share_one_set_of_server_connections() {
    let s = summary(&scenario(&leaky_fleet(false, "0s")));
    // 3 pods × (4 × 10 request clients + 10 job clients) could be open to
    // the sidecars; only 3 × 6 server connections reach PostgreSQL.
    assert_eq!(s.connections.possible, 18);
    assert!(s.connections.peak_open <= 18, "{}", s.connections.peak_open);
    assert!(s.connections.peak_db_occupied <= 18);
}

#[test]
fn a_leak_outside_a_transaction_holds_no_server_connection() {
    let (s, rows) = series(&scenario(&leaky_fleet(false, "0s")));
    // The job's pools fill with 10 leaked clients each.
    assert_eq!(rows.last().map(|r| r.leaked_cumulative), Some(30));
    assert!(rows.iter().all(|r| r.open_leaked == 0));
    assert_eq!(s.requests.pooler_timeouts, Some(0));
}

#[test]
fn a_leak_inside_a_transaction_pins_a_server_connection_until_reaped() {
    // Unreaped: the job pins all 6 server connections of each pod within a
    // minute, and the pods' requests wait out their query_wait_timeout.
    let (pinned, rows) = series(&scenario(&leaky_fleet(true, "0s")));
    let peak = rows.iter().map(|r| r.open_leaked).max().unwrap_or(0);
    assert_eq!(peak, 18, "every server connection pinned");
    assert!(pinned.requests.pooler_timeouts.unwrap_or(0) > 0);
    // Reaped after 12 s: at most 3 pinned per pod at once (one leak every
    // 5 s), and the requests keep the rest.
    let (reaped, rows) = series(&scenario(&leaky_fleet(true, "12s")));
    let peak = rows.iter().map(|r| r.open_leaked).max().unwrap_or(0);
    assert!((1..=9).contains(&peak), "{peak}");
    assert_eq!(reaped.requests.pooler_timeouts, Some(0));
}

#[test]
fn a_refused_login_pauses_new_logins_for_server_login_retry() {
    // Two pods want 2 × 10 server connections from 10 usable slots.
    let fleet = |retry: &str| {
        format!(
            r#"
[meta]
name = "sidecar-refusals"
duration = "600s"
sample_interval = "10s"
[fleet]
pods = 2
workers = 2
[traffic]
rate = "40/s"
[requests]
hold = {{ dist = "exponential", mean = "200ms" }}
deadline = "0s"
[database]
max_connections = 13
other_clients = 0
[pooler]
pool_size = 10
query_wait_timeout = "2s"
server_login_retry = "{retry}"
"#
        )
    };
    let paused = summary(&scenario(&fleet("15s")));
    let p = paused.pooler.as_ref().expect("pooler section");
    assert!(p.refused_logins > 0);
    // At most one refusal per pod per 15 s.
    assert!(
        p.refused_logins <= 2 * (600 / 15 + 1),
        "{}",
        p.refused_logins
    );
    assert!(paused.connections.peak_db_occupied <= 13);
    let eager = summary(&scenario(&fleet("0s")));
    let e = eager.pooler.as_ref().expect("pooler section");
    assert!(
        e.refused_logins > 10 * p.refused_logins,
        "{} vs {}",
        e.refused_logins,
        p.refused_logins
    );
}

#[test]
fn the_shipped_scenario_runs_within_its_server_connections() {
    let text = common::shipped("scenarios/sidecar.toml")
        .replace("duration = \"30m\"", "duration = \"3m\"")
        .replace("warmup = \"5m\"", "warmup = \"1m\"");
    let s = summary(&scenario(&text));
    assert_eq!(s.connections.possible, 400);
    assert!(s.connections.peak_db_occupied as u64 <= 400 + 5);
    assert_eq!(s.requests.pooler_timeouts, Some(0));
}

#[test]
fn a_crashed_workers_transactions_leave_the_sidecars_queue() {
    // Server connections are scarce (2 per pod), so transactions queue at
    // the sidecar; the job leaks inside transactions without an 'error'
    // listener, and each reaping crashes its worker while others wait. The
    // sidecar's count of waiters must follow (checked at every sample).
    let text = leaky_fleet(true, "3s")
        .replace("pool_size = 6", "pool_size = 2")
        .replace("error_listener = true", "error_listener = false")
        .replace("rate = \"30/s\"", "rate = \"240/s\"")
        .replace("duration = \"600s\"", "duration = \"300s\"");
    let (s, _) = series(&scenario(&text));
    assert!(s.requests.unavailable > 0, "workers crashed with requests");
    assert!(s.pooler.as_ref().unwrap().waits.found_full > 0);
}
