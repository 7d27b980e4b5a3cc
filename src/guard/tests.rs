//! The guard's estimates, refusals, notes and flags.

use super::estimate::{
    BASE_BYTES, BYTES_PER_CONNECTION, BYTES_PER_POD, BYTES_PER_POD_ROW, BYTES_PER_REQUEST,
    BYTES_PER_RUN, BYTES_PER_SERIES_ROW, BYTES_PER_TRACE_LINE, BYTES_PER_WORKER,
};
use super::words::bytes_flag;
use super::*;
use crate::scenario::Scenario;

fn scenario(extra: &str) -> Scenario {
    let text = format!("[meta]\nname = \"g\"\nduration = \"30m\"\n{extra}");
    Scenario::parse("g.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn oversized(name: &str, text: &str) -> Scenario {
    Scenario::parse(name, text).unwrap_or_else(|e| panic!("{e}"))
}

/// What `run` writes: the CSV files.
const CSV: Outputs = Outputs {
    rows: true,
    openmetrics: false,
    trace: false,
};

fn check_one(s: &Scenario, outputs: Outputs) -> Result<Estimate, Box<TooBig>> {
    check("g.toml", s, outputs, DEFAULT_LIMITS, 1)
}

#[test]
fn requests_follow_the_rate_profile() {
    let e = estimate(
        &scenario(
            "[traffic]\nrate = \"100/s\"\n[[traffic.profile]]\nat = \"10m\"\nrate = \"300/s\"\nramp = \"10m\"\n",
        ),
        CSV,
    );
    // 10 min at 100/s, a ramp averaging 200/s, 10 min at 300/s.
    assert!(
        (e.requests - 600.0 * (100.0 + 200.0 + 300.0)).abs() < 1.0,
        "{e:?}"
    );
}

#[test]
fn laptop_sized_runs_pass() {
    let shipped = scenario("[traffic]\nrate = \"2000/s\"\n");
    assert!(check_one(&shipped, CSV).is_ok());
    let big = Scenario::parse(
        "big.toml",
        "[meta]\nname = \"big\"\nduration = \"10m\"\n[fleet]\npods = 500\nworkers = 8\n[traffic]\nrate = \"50000/s\"\n[database]\nmax_connections = 5000\n",
    )
    .unwrap();
    let e = check_one(&big, CSV).expect("500 pods × 8 workers at 50 000/s pass");
    assert!(e.events > 5e7 && e.events < 2e8, "{e:?}");
}

#[test]
fn every_shipped_scenario_passes_with_its_files_and_exports() {
    let everything = Outputs {
        rows: true,
        openmetrics: true,
        trace: false,
    };
    let mut files = Vec::new();
    for dir in ["scenarios", "scenarios/theory", "scenarios/scale"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 20, "{files:?}");
    for path in files {
        let s = crate::scenario_file::load(&path).unwrap();
        let e = check_one(&s, everything);
        assert!(e.is_ok(), "{}: {}", path.display(), e.unwrap_err());
    }
}

#[test]
fn huge_runs_are_refused_with_the_estimate_and_the_way_out() {
    let rate = check_one(&scenario("[traffic]\nrate = \"1e12/s\"\n"), CSV).unwrap_err();
    assert!(rate.over.events && rate.over.memory, "{rate}");
    let long = Scenario::parse(
        "long.toml",
        "[meta]\nname = \"long\"\nduration = \"3650days\"\n[traffic]\nrate = \"2000/s\"\n",
    )
    .unwrap();
    let e = check_one(&long, Outputs::default()).unwrap_err();
    assert!(e.over.events && !e.over.memory && !e.over.pending && !e.over.output);
    let text = e.to_string();
    assert!(
        text.starts_with("g.toml: scenario long is too big"),
        "{text}"
    );
    assert!(text.contains("6.3e11 requests"), "{text}");
    assert!(
        text.contains("--max-events 2e12") && text.contains("--force"),
        "{text}"
    );
    let raised = Limits {
        max_events: parse_count("2e12").unwrap(),
        ..DEFAULT_LIMITS
    };
    assert!(check("long.toml", &long, Outputs::default(), raised, 1).is_ok());
    let fleet = scenario("[fleet]\npods = 1000000\nworkers = 1000\n");
    let e = check_one(&fleet, CSV).unwrap_err();
    assert!(e.over.memory && e.to_string().contains("fewer pods"), "{e}");
}

#[test]
fn the_waiters_of_an_overloaded_pool_are_counted_at_their_peak() {
    let s = oversized(
        "pile-up.toml",
        include_str!("../../tests/oversized/pile-up.toml"),
    );
    let e = estimate(&s, CSV);
    // 300 000/s against 100/s of service: the queue grows for the 80 s
    // acquire timeout, each waiter with two timers pending.
    let waiters = (300_000.0 - 100.0) * 80.0;
    assert!(
        e.peak_pending > 3.0 * waiters && e.peak_pending < 3.0 * waiters * 1.01,
        "{e:?}"
    );
    assert!(e.memory_bytes > waiters * BYTES_PER_REQUEST, "{e:?}");
    let refused = check_one(&s, CSV).unwrap_err();
    assert!(refused.over.pending && refused.over.memory, "{refused}");
    let text = refused.to_string();
    assert!(
        text.contains("72.0 M events pending at the peak")
            && text.contains("at most 16.8 M pending events")
            && text.contains("pool.acquire_timeout"),
        "{text}"
    );
    // The same pool below its capacity: a handful of requests in the
    // system, as Little's law says.
    let mut calm = s.clone();
    calm.traffic.rate_points = vec![(0.0, 50.0)];
    let e = check_one(&calm, CSV).unwrap();
    assert!(e.peak_pending < 10.0, "{e:?}");
}

#[test]
fn little_s_law_is_bounded_by_the_requests_that_arrive() {
    let s = oversized(
        "long-hold.toml",
        include_str!("../../tests/oversized/long-hold.toml"),
    );
    let e = check_one(&s, CSV).expect("a million-hour hold on a one-minute run passes");
    assert!(e.requests > 1.1e5 && e.requests < 1.3e5, "{e:?}");
    let most = BASE_BYTES + 20.0 * (BYTES_PER_POD + 4.0 * BYTES_PER_WORKER);
    assert!(
        e.memory_bytes <= most + e.requests * BYTES_PER_REQUEST,
        "{e:?}"
    );
}

#[test]
fn a_sample_every_microsecond_is_refused_for_its_output() {
    let s = oversized(
        "sample-1us.toml",
        include_str!("../../tests/oversized/sample-1us.toml"),
    );
    let e = check_one(&s, CSV).unwrap_err();
    assert!(e.over.output && !e.over.events && !e.over.memory, "{e}");
    // 10^7 samples of a timeseries.csv row and 20 pods.csv rows.
    let rows = 1e7 * (BYTES_PER_SERIES_ROW + 20.0 * BYTES_PER_POD_ROW);
    assert_eq!(e.estimate.output_bytes, rows);
    let text = e.to_string();
    assert!(
        text.contains("9.6 GB of output")
            && text.contains("the output limit is 4.0 GB")
            && text.contains("--max-output 11GB"),
        "{text}"
    );
    let raised = Limits {
        max_output_bytes: parse_size("11GB").unwrap(),
        ..DEFAULT_LIMITS
    };
    assert!(check("sample-1us.toml", &s, CSV, raised, 1).is_ok());
    // Commands that write no rows (sweep, compare) are not refused.
    assert!(check_one(&s, Outputs::default()).is_ok());
}

#[test]
fn the_trace_counts_in_the_output() {
    let s = scenario("[traffic]\nrate = \"2000/s\"\n");
    let plain = estimate(&s, CSV);
    let traced = estimate(&s, Outputs { trace: true, ..CSV });
    // 3.6 M requests of four lines: 1.7 GB (the shipped scenarios
    // write 1.6 GB).
    let trace = traced.output_bytes - plain.output_bytes;
    assert_eq!(trace, 3.6e6 * 4.0 * BYTES_PER_TRACE_LINE);
    let limits = Limits {
        max_output_bytes: parse_size("1GB").unwrap(),
        ..DEFAULT_LIMITS
    };
    assert!(check("g.toml", &s, CSV, limits, 1).is_ok());
    let e = check("g.toml", &s, Outputs { trace: true, ..CSV }, limits, 1).unwrap_err();
    assert!(
        e.over.output && e.to_string().contains("drop --trace"),
        "{e}"
    );
}

#[test]
fn job_runs_in_flight_and_their_connections_are_counted() {
    let s = oversized(
        "job-1us.toml",
        include_str!("../../tests/oversized/job-1us.toml"),
    );
    let e = check_one(&s, CSV).unwrap_err();
    assert!(e.over.memory && e.over.pending, "{e}");
    // 20 pods × 10^6 runs a second, each a second long (its hold) plus
    // the 5 s it may wait, as many as run in the minute at most.
    let runs = 20.0 * 1e6 * 6.0;
    let per_run = BYTES_PER_RUN + 2.0 * BYTES_PER_CONNECTION;
    assert!(e.estimate.memory_bytes > runs * per_run, "{e}");
    // Without overlap, one run per runner at most.
    let mut single = s.clone();
    for v in &mut single.versions {
        v.app.job.as_mut().unwrap().overlap = false;
    }
    assert!(estimate(&single, CSV).memory_bytes < 1e8);
}

#[test]
fn concurrent_runs_need_their_memory_together() {
    let s = scenario("[fleet]\npods = 1000\nworkers = 1000\n");
    let one = check("g.toml", &s, CSV, DEFAULT_LIMITS, 1).unwrap();
    assert!(one.memory_bytes > 1e9, "{one:?}");
    let e = check("g.toml", &s, CSV, DEFAULT_LIMITS, 4).unwrap_err();
    assert!(
        e.over.memory && e.to_string().contains("(4 runs at once)"),
        "{e}"
    );
}

#[test]
fn long_batches_are_announced_with_their_time() {
    let note = duration_note(10_000, 10_000.0 * 11e6, 2).unwrap();
    assert_eq!(
        note,
        "10000 runs of about 11.0 M events each: about 5.1 h on 2 threads"
    );
    assert_eq!(duration_note(10, 10.0 * 1e6, 2), None);
    // More threads than runs do not make one run faster.
    assert!(duration_note(1, 3e7, 8).unwrap().contains("about 10 s"));
}

#[test]
fn counts_parse_in_three_spellings() {
    assert_eq!(parse_count("5000000000"), Ok(5_000_000_000));
    assert_eq!(parse_count("5_000_000_000"), Ok(5_000_000_000));
    assert_eq!(parse_count("5e9"), Ok(5_000_000_000));
    assert!(parse_count("-1").is_err() && parse_count("1e40").is_err());
    assert!(parse_count("lots").is_err() && parse_count("2.5").is_err());
}

#[test]
fn sizes_parse_with_decimal_units() {
    assert_eq!(parse_size("4GB"), Ok(4_000_000_000));
    assert_eq!(parse_size("500MB"), Ok(500_000_000));
    assert_eq!(parse_size("1.5 TB"), Ok(1_500_000_000_000));
    assert_eq!(parse_size("800k"), Ok(800_000));
    assert_eq!(parse_size("4000000000"), Ok(4_000_000_000));
    for bad in ["lots", "4XB", "-1GB", "1e30GB", ""] {
        assert!(parse_size(bad).is_err(), "{bad}");
    }
    assert_eq!(bytes_flag(10.08e9), "11GB");
    assert_eq!(bytes_flag(504e6), "510MB");
}
