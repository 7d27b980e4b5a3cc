//! Charts: every chart of a fabricated incident renders to PNG and SVG of
//! the right size, with its title, byte-identically twice; the chart sink
//! counts every acquire wait once.

use pooldrill::engine::SimTime;
use pooldrill::metrics::{DurationHistogram, IntervalHistograms, PodRow, SeriesRow, Sink};
use pooldrill::report::charts::{
    self, ChartSink, Marker, MarkerKind, Region, RegionKind, RunSeries, WAIT_BUCKET_BOUNDS_S,
};
use std::path::{Path, PathBuf};

/// A reproducible value in [0, 1) for `i` (SplitMix64).
fn noise(i: u64) -> f64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

const DEPLOY_S: f64 = 300.0;
const ROLLBACK_S: f64 = 1500.0;

/// A fabricated incident, 40 minutes from 14:00: flat traffic; a deploy at
/// 14:05 whose job leaks 16 connections a minute; the cap reached near
/// 14:11, then refusals and timeouts; the alert pending, then firing; a
/// rollback at 14:25 whose new pods start with empty pools.
fn synthetic() -> RunSeries {
    let mut rows = Vec::new();
    let mut wait_buckets = Vec::new();
    let mut pods = Vec::new();
    let usable = 497.0;
    for s in 1..=2400u64 {
        let t = s as f64;
        let n = |k: u64| noise(s * 16 + k);
        let after_deploy = (DEPLOY_S..ROLLBACK_S).contains(&t);
        let requests = if t < ROLLBACK_S {
            380.0
        } else {
            300.0 + 80.0 * ((t - ROLLBACK_S) / 120.0).min(1.0)
        };
        let job = if after_deploy { 20.0 } else { 0.0 };
        let leaked = if after_deploy {
            ((t - DEPLOY_S) * 16.0 / 60.0).min(usable - requests - job)
        } else {
            0.0
        };
        let at_cap = requests + job + leaked >= usable - 0.5;
        let arrivals = 2000 + (n(0) * 90.0) as u64 - 45;
        let refusals = if at_cap {
            (180.0 + n(1) * 60.0) as u64
        } else {
            0
        };
        let timeouts = if at_cap {
            (40.0 + n(2) * 20.0) as u64
        } else {
            0
        };
        let errors = refusals + timeouts + u64::from(n(3) < 0.5);
        let waits_served = arrivals - refusals - timeouts;
        let mut buckets = vec![0u64; WAIT_BUCKET_BOUNDS_S.len() + 1];
        buckets[0] = waits_served - 40;
        buckets[4] = 30;
        buckets[5] = 10;
        buckets[3] = refusals;
        if at_cap {
            buckets[0] -= 60;
            buckets[8] += 30;
            buckets[9] += 30;
            buckets[12] = timeouts;
        }
        rows.push(SeriesRow {
            time_s: t,
            arrivals,
            completed: arrivals - errors,
            goodput: arrivals - errors,
            acquire_timeouts: timeouts,
            refusals,
            app_errors: errors - refusals - timeouts,
            error_rate: Some(errors as f64 / arrivals as f64),
            wait_p50_s: Some(0.0),
            wait_p95_s: Some(if at_cap { 0.4 } else { 0.0 }),
            wait_p99_s: Some(if at_cap { 5.0 } else { 0.009 + n(4) * 0.004 }),
            open_request_pools: requests as u64,
            open_job_pools: job as u64,
            open_leaked: leaked as u64,
            db_occupied: (requests + job + leaked) as u64 + 5 + u64::from(at_cap),
            pools_starving: if at_cap {
                30 + (n(5) * 20.0) as u64
            } else {
                u64::from(n(5) < 0.1)
            },
            starved_requests: if at_cap { 60 + refusals + timeouts } else { 0 },
            starved_jobs: if at_cap { u64::from(n(6) < 0.6) } else { 0 },
            ..SeriesRow::default()
        });
        wait_buckets.push(buckets);
        if s % 5 == 0 {
            // Pods 0..20 but 3 and 7 (sparse ids) until the rollback; new
            // pods 20..40 come up from it, one every 6 s.
            for pod in (0..40u32).filter(|p| *p != 3 && *p != 7) {
                let live = if pod < 20 {
                    t < ROLLBACK_S + 6.0 * f64::from(pod)
                } else {
                    t >= ROLLBACK_S + 6.0 * f64::from(pod - 20)
                };
                if !live {
                    continue;
                }
                let leak_share = if pod < 20 { leaked / usable } else { 0.0 };
                let utilisation =
                    (0.08 + leak_share + 0.05 * noise(s * 64 + u64::from(pod))).min(1.0);
                pods.push(PodRow {
                    time_s: t,
                    pod,
                    capacity: 50,
                    utilisation,
                    ..PodRow::default()
                });
            }
        }
    }
    RunSeries {
        scenario: "synthetic".into(),
        seed: 20260115,
        replications: 1,
        start_clock: Some((14, 0)),
        rows,
        wait_buckets,
        pods,
        markers: vec![
            Marker {
                t_s: DEPLOY_S,
                label: "deploy v2.3.0".into(),
                kind: MarkerKind::Deploy,
            },
            Marker {
                t_s: 690.0,
                label: "first refusal".into(),
                kind: MarkerKind::Event,
            },
            Marker {
                t_s: 880.0,
                label: "alert fires".into(),
                kind: MarkerKind::Alert,
            },
            Marker {
                t_s: ROLLBACK_S,
                label: "rollback to v2.2.9".into(),
                kind: MarkerKind::Rollback,
            },
        ],
        regions: vec![
            Region {
                from_s: 700.0,
                to_s: 880.0,
                label: "pending".into(),
                kind: RegionKind::AlertPending,
            },
            Region {
                from_s: 880.0,
                to_s: 1530.0,
                label: "alert firing: errors > 1 % for 3 min".into(),
                kind: RegionKind::AlertFiring,
            },
            Region {
                from_s: 690.0,
                to_s: 1560.0,
                label: "incident".into(),
                kind: RegionKind::Incident,
            },
        ],
        error_alert: Some(0.01),
        max_connections: 500,
        usable_slots: 497,
        pools: 100,
        observed: Vec::new(),
    }
}

/// Error rate (%) of a fabricated sweep: a pool of `max` at `load` req/s.
fn sweep_error(max: f64, load: f64) -> f64 {
    20.0 / (1.0 + (-(load / (max * 100.0) - 2.0) * 3.0).exp())
}

fn synthetic_overlay() -> charts::Overlay {
    let series = [5.0, 10.0, 20.0]
        .iter()
        .map(|&max| charts::BandSeries {
            name: format!("pool max {max}"),
            points: (2..=12)
                .map(|k| {
                    let load = f64::from(k) * 250.0;
                    let mean = sweep_error(max, load);
                    charts::BandPoint {
                        x: load,
                        mean,
                        low: mean * 0.8,
                        high: mean * 1.2 + 0.2,
                    }
                })
                .collect(),
        })
        .collect();
    charts::Overlay {
        title: "Error rate by load, for three pool sizes".into(),
        x_title: "load (req/s)".into(),
        y_title: "error rate (%)".into(),
        series,
        band_label: "95 % confidence interval".into(),
        threshold: Some(charts::Threshold {
            value: 1.0,
            label: "SLO: 1 % errors".into(),
        }),
        footer: charts::footer("sweep", 20260115, 20),
    }
}

fn synthetic_grid() -> charts::GridHeatmap {
    let maxes = [5.0, 10.0, 15.0, 20.0, 30.0];
    let loads: Vec<f64> = (1..=6).map(|k| f64::from(k) * 500.0).collect();
    charts::GridHeatmap {
        title: "Error rate by pool size and load".into(),
        x_title: "load (req/s)".into(),
        x_labels: loads.iter().map(|l| l.to_string()).collect(),
        y_title: "pool max (connections)".into(),
        y_labels: maxes.iter().map(|m| m.to_string()).collect(),
        values: maxes
            .iter()
            .map(|&m| {
                loads
                    .iter()
                    .map(|&l| (m != 15.0 || l != 3000.0).then(|| sweep_error(m, l)))
                    .collect()
            })
            .collect(),
        blank: "white: not run".into(),
        value_title: "error rate (%)".into(),
        unit: " %".into(),
        safe: Some(charts::SafeRegion {
            below: 1.0,
            label: "safe: error rate < 1 %".into(),
        }),
        footer: charts::footer("sweep", 20260115, 20),
    }
}

/// Where charts are kept to be looked at: `target/tmp/charts/<name>`.
fn review_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("charts")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every chart of one run (and the run beside itself for small multiples).
fn render_run(run: &RunSeries, dir: &Path) -> Vec<(&'static str, (u32, u32), &'static str)> {
    charts::incident_timeline(run, &dir.join("timeline")).unwrap();
    charts::wait_heatmap(run, &dir.join("waits")).unwrap();
    charts::pod_heatmap(run, &dir.join("pods")).unwrap();
    charts::starvation(run, &dir.join("starvation")).unwrap();
    let mut fixed = run.clone();
    fixed.scenario = "fixed".into();
    fixed.rows.truncate(1800);
    for row in &mut fixed.rows {
        row.open_leaked = 0;
        row.refusals = 0;
        row.acquire_timeouts = 0;
        row.error_rate = Some(0.0005);
        row.wait_p99_s = Some(0.01);
    }
    fixed.markers.retain(|m| m.kind == MarkerKind::Deploy);
    fixed.regions.clear();
    charts::small_multiples(&[run.clone(), fixed.clone()], &dir.join("multiples")).unwrap();
    charts::retry_storm(&[run.clone(), fixed], &dir.join("storm")).unwrap();
    charts::overlay(&synthetic_overlay(), &dir.join("overlay")).unwrap();
    charts::grid_heatmap(&synthetic_grid(), &dir.join("grid")).unwrap();
    vec![
        ("timeline", (1600, 1000), "Incident timeline"),
        ("overlay", (1400, 860), "Error rate by load"),
        ("grid", (1200, 800), "Error rate by pool size and load"),
        ("waits", (1400, 860), "Acquire waits over time"),
        ("pods", (1400, 860), "Pool utilisation per pod"),
        ("starvation", (1400, 860), "Starvation"),
        ("multiples", (1600, 1000), "Runs side by side"),
        ("storm", (1600, 900), "Retry storm"),
    ]
}

fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    (info.width, info.height)
}

#[test]
fn every_chart_renders_with_its_title_at_its_size_and_twice_the_same() {
    let run = synthetic();
    let review = review_dir("synthetic");
    let charts = render_run(&run, &review);
    let again = tempfile::tempdir().unwrap();
    render_run(&run, again.path());
    for (stem, size, title) in charts {
        let png = review.join(format!("{stem}.png"));
        let svg = review.join(format!("{stem}.svg"));
        assert_eq!(png_size(&png), size, "{stem}");
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains(title), "{stem}.svg lacks {title:?}");
        for name in [format!("{stem}.png"), format!("{stem}.svg")] {
            assert_eq!(
                std::fs::read(review.join(&name)).unwrap(),
                std::fs::read(again.path().join(&name)).unwrap(),
                "{name} differs between two renderings"
            );
        }
    }
}

#[test]
fn degenerate_runs_still_render() {
    let dir = tempfile::tempdir().unwrap();
    let empty = RunSeries::default();
    let mut one = synthetic();
    one.rows.truncate(1);
    one.wait_buckets.truncate(1);
    one.pods.clear();
    for row in &mut one.rows {
        row.error_rate = None;
        row.wait_p50_s = None;
        row.wait_p99_s = None;
    }
    for run in [&empty, &one] {
        render_run(run, dir.path());
    }
    let nothing = charts::GridHeatmap {
        title: "Nothing".into(),
        ..charts::GridHeatmap::default()
    };
    charts::grid_heatmap(&nothing, &dir.path().join("grid")).unwrap();
    charts::overlay(&charts::Overlay::default(), &dir.path().join("overlay")).unwrap();
    assert!(charts::small_multiples(&[], &dir.path().join("none")).is_err());
}

#[test]
fn chart_sink_counts_every_wait_of_an_interval_once() {
    let mut sink = ChartSink::default();
    let mut waits = DurationHistogram::new(2);
    let intervals: [&[u64]; 3] = [
        &[0, 0, 0, 900, 1_000, 5_000_000],
        &[],
        &[
            0, 250, 99_000, 100_000, 2_000_000, 61_000_000, 5_000_000, 5_000_000,
        ],
    ];
    for (i, micros) in intervals.iter().enumerate() {
        waits.reset();
        for &us in *micros {
            waits.record(SimTime::from_secs_f64(us as f64 / 1e6));
        }
        let row = SeriesRow {
            time_s: i as f64 + 1.0,
            ..SeriesRow::default()
        };
        let latencies = DurationHistogram::new(2);
        let hists = IntervalHistograms {
            waits: &waits,
            latencies: &latencies,
        };
        sink.series(&row, hists).unwrap();
    }
    assert_eq!(sink.rows.len(), 3);
    for (buckets, micros) in sink.wait_buckets.iter().zip(intervals) {
        assert_eq!(buckets.len(), WAIT_BUCKET_BOUNDS_S.len() + 1);
        assert_eq!(buckets.iter().sum::<u64>(), micros.len() as u64);
    }
    let first = &sink.wait_buckets[0];
    assert_eq!(first[0], 3, "zero waits: {first:?}");
    assert_eq!(first[1], 2, "0 < wait ≤ 1 ms: {first:?}");
    assert_eq!(first[12], 1, "a 5 s timeout is ≤ 5 s: {first:?}");
    let third = &sink.wait_buckets[2];
    assert_eq!(third[7], 2, "99 and 100 ms are ≤ 100 ms: {third:?}");
    assert_eq!(third[16], 1, "61 s overflows: {third:?}");
}

/// The shipped scenarios (three 30-minute runs at 2000 req/s) run into a
/// chart sink, with markers a caller could derive from the rows; every
/// chart renders (kept in `target/tmp/charts/<scenario>` to be looked at).
#[test]
fn shipped_scenarios_render_for_review() {
    use pooldrill::model::{RunOptions, run};
    let runs: Vec<RunSeries> = std::thread::scope(|s| {
        let handles: Vec<_> = ["before", "after", "fixed"]
            .into_iter()
            .map(|name| {
                s.spawn(move || {
                    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("scenarios")
                        .join(format!("{name}.toml"));
                    let scenario = pooldrill::scenario_file::load(&path).unwrap();
                    let mut sink = ChartSink::default();
                    run(&scenario, &mut sink, RunOptions::default()).unwrap();
                    let db = &scenario.database;
                    let job_pools = scenario
                        .app()
                        .job
                        .as_ref()
                        .map_or(0, |_| scenario.fleet.pods);
                    let mut series = RunSeries {
                        scenario: scenario.name.clone(),
                        seed: scenario.seed,
                        start_clock: Some((14, 0)),
                        error_alert: Some(0.01),
                        max_connections: db.max_connections,
                        usable_slots: db.max_connections - db.superuser_reserved - db.reserved,
                        pools: scenario.fleet.pods * scenario.fleet.workers + job_pools,
                        ..sink.into_run()
                    };
                    if scenario.app().job.is_some() {
                        series.markers.push(Marker {
                            t_s: 0.0,
                            label: "job running from the start".into(),
                            kind: MarkerKind::Deploy,
                        });
                    }
                    let usable = u64::from(series.usable_slots);
                    let first = |f: &dyn Fn(&SeriesRow) -> bool| {
                        series.rows.iter().find(|r| f(r)).map(|r| r.time_s)
                    };
                    let at_cap = first(&|r| r.db_occupied >= usable);
                    let refusal = first(&|r| r.refusals > 0);
                    if let Some(t) = at_cap {
                        series.markers.push(Marker {
                            t_s: t,
                            label: "usable slots full".into(),
                            kind: MarkerKind::Event,
                        });
                    }
                    if let Some(t) = refusal {
                        series.markers.push(Marker {
                            t_s: t,
                            label: "first refusal".into(),
                            kind: MarkerKind::Event,
                        });
                    }
                    series
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        assert!(run.rows.len() >= 1800 && run.wait_buckets.len() == run.rows.len());
        let dir = review_dir(&run.scenario);
        for (stem, size, _) in render_run(run, &dir) {
            assert_eq!(png_size(&dir.join(format!("{stem}.png"))), size, "{stem}");
        }
    }
    charts::small_multiples(&runs, &review_dir("multiples").join("before-after-fixed")).unwrap();
}

/// The `<text>` elements of an SVG chart: the y of each and its content.
fn svg_texts(svg: &str) -> Vec<(f64, String)> {
    let attr = |tag: &str, name: &str| -> f64 {
        let from = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        tag[from..].split('"').next().unwrap().parse().unwrap()
    };
    svg.split("<text ")
        .skip(1)
        .map(|t| {
            let (tag, rest) = t.split_once('>').unwrap();
            let content = rest.split("</text>").next().unwrap().trim();
            (attr(tag, "y"), content.to_owned())
        })
        .collect()
}

/// The share of a stacked chart's panel the plot keeps: from the top of
/// the highest value axis down to the time axis's title, over the height
/// between the chart's title and its footer (what the annotation band
/// above the plot and the key under it take is what the plot loses).
fn plot_share(svg: &str, title: &str) -> f64 {
    let texts = svg_texts(svg);
    let y_of = |what: &dyn Fn(&str) -> bool| {
        texts
            .iter()
            .find(|(_, t)| what(t))
            .map(|(y, _)| *y)
            .unwrap_or_else(|| panic!("no such text in the chart ({title})"))
    };
    let top = y_of(&|t| t.starts_with(title));
    let bottom = y_of(&|t| t.starts_with("scenario "));
    let time_title = y_of(&|t| t.starts_with("time of day"));
    let axes_top = svg
        .split("<polyline ")
        .skip(1)
        .filter(|p| p.contains("stroke=\"#5A5A5A\""))
        .flat_map(|p| {
            let points = p
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            points
                .split_whitespace()
                .map(|xy| xy.split(',').nth(1).unwrap().parse::<f64>().unwrap())
                .collect::<Vec<_>>()
        })
        .fold(f64::INFINITY, f64::min);
    (time_title - axes_top) / (bottom - top)
}

/// Issue 26, section 6: the annotation band above the panels stays thin
/// (Grafana's convention: markers and short labels, details in a key), so
/// that the plot keeps at least 80 % of the panel, even with markers and
/// alert spans crowded like the shipped incident's.
#[test]
fn the_plot_keeps_at_least_80_percent_of_the_panel() {
    let mut crowded = synthetic();
    for (t_s, label, kind) in [
        (310.0, "first acquire timeout", MarkerKind::Event),
        (700.0, "PoolUtilisationHigh fires", MarkerKind::Alert),
        (905.0, "PoolExhaustionFailures fires", MarkerKind::Alert),
        (1490.0, "PoolExhaustionFailures fires", MarkerKind::Alert),
    ] {
        crowded.markers.push(Marker {
            t_s,
            label: label.into(),
            kind,
        });
    }
    crowded.regions.push(Region {
        from_s: 320.0,
        to_s: 400.0,
        label: "PoolExhaustionFailures".into(),
        kind: RegionKind::AlertFiring,
    });
    let dir = tempfile::tempdir().unwrap();
    for (name, run) in [("synthetic", synthetic()), ("crowded", crowded)] {
        let stem = dir.path().join(name);
        charts::incident_timeline(&run, &stem).unwrap();
        let svg = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
        let share = plot_share(&svg, "Incident timeline");
        assert!(share >= 0.8, "{name} timeline: the plot keeps {share:.3}");
        // Side by side, the columns share one key across the figure (a
        // column's own key, half as wide, took twice the lines).
        let both = [run.clone(), run];
        charts::small_multiples(&both, &stem).unwrap();
        let svg = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
        let share = plot_share(&svg, "Runs side by side");
        assert!(
            share >= 0.8,
            "{name} small multiples: the plot keeps {share:.3}"
        );
    }
}
