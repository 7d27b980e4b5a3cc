//! Issue 26, section 6: every chart kind gives its plots at least 80 % of
//! the height between its title and its footer, read from the layout the
//! drawing code computed (not from the pixels it drew), with markers and
//! alert spans crowded like the shipped incident's.

use super::canvas::{Figure, layout};
use super::data::{Marker, MarkerKind, Region, RegionKind, RunSeries, WAIT_BUCKET_BOUNDS_S};
use super::grid_heatmap::GridHeatmap;
use super::overlay::{BandPoint, BandSeries, Overlay};
use super::pod_heatmap::PodHeatmap;
use super::retry_storm::RetryStorm;
use super::small_multiples::SmallMultiples;
use super::starvation::Starvation;
use super::timeline::Timeline;
use super::wait_heatmap::WaitHeatmap;
use crate::metrics::{PodRow, SeriesRow};

/// Half an hour from 14:00 with an incident in the middle, and markers and
/// alert spans as many and as close as the shipped incident's.
fn crowded(name: &str, shift_s: f64) -> RunSeries {
    let rows: Vec<SeriesRow> = (1..=1800u64)
        .map(|s| SeriesRow {
            time_s: s as f64,
            arrivals: 2000,
            goodput: 1990,
            refusals: u64::from((600..900).contains(&s)) * 40,
            error_rate: Some(if (600..900).contains(&s) { 0.2 } else { 0.001 }),
            wait_p50_s: Some(0.0),
            wait_p99_s: Some(0.01),
            open_request_pools: 380,
            db_occupied: 385,
            pools_starving: u64::from((600..900).contains(&s)) * 30,
            ..SeriesRow::default()
        })
        .collect();
    let pods = (0..40u32)
        .map(|pod| PodRow {
            time_s: 60.0,
            pod,
            utilisation: f64::from(pod) / 40.0,
            ..PodRow::default()
        })
        .collect();
    let markers = [
        (300.0, "deploy v2.3.0", MarkerKind::Deploy),
        (330.0, "first refusal", MarkerKind::Event),
        (345.0, "PoolExhaustionFailures fires", MarkerKind::Alert),
        (700.0, "first acquire timeout", MarkerKind::Event),
        (720.0, "PoolUtilisationHigh fires", MarkerKind::Alert),
        (760.0, "PoolExhaustionFailures fires", MarkerKind::Alert),
        (800.0, "AcquireWaitHigh fires", MarkerKind::Alert),
        (830.0, "HighErrorRate fires", MarkerKind::Alert),
        (1300.0, "rollback", MarkerKind::Rollback),
    ]
    .into_iter()
    .map(|(t_s, label, kind)| Marker {
        t_s: t_s + shift_s,
        label: label.into(),
        kind,
    })
    .collect();
    let regions = [
        (320.0, 420.0, "PoolUtilisationHigh"),
        (700.0, 1350.0, "PoolUtilisationHigh"),
        (740.0, 1350.0, "AcquireWaitHigh"),
        (760.0, 1350.0, "PoolExhaustionFailures"),
        (830.0, 1350.0, "HighErrorRate"),
    ]
    .into_iter()
    .map(|(from_s, to_s, label)| Region {
        from_s: from_s + shift_s,
        to_s: to_s + shift_s,
        label: label.into(),
        kind: RegionKind::AlertFiring,
    })
    .collect();
    RunSeries {
        scenario: name.into(),
        start_clock: Some((14, 0)),
        wait_buckets: vec![vec![1; WAIT_BUCKET_BOUNDS_S.len() + 1]; rows.len()],
        rows,
        pods,
        markers,
        regions,
        error_alert: Some(0.01),
        max_connections: 500,
        usable_slots: 497,
        pools: 40,
        ..RunSeries::default()
    }
}

fn overlay() -> Overlay {
    let points = (0..10)
        .map(|i| BandPoint {
            x: f64::from(i),
            low: 0.5,
            mean: 1.0,
            high: 1.5,
        })
        .collect();
    Overlay {
        title: "Error rate by load".into(),
        series: vec![BandSeries {
            name: "pool 10".into(),
            points,
        }],
        ..Overlay::default()
    }
}

fn grid() -> GridHeatmap {
    let labels = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
    GridHeatmap {
        title: "Error rate by pool size and load".into(),
        x_labels: labels(6),
        y_labels: labels(4),
        values: vec![vec![Some(1.0); 6]; 4],
        ..GridHeatmap::default()
    }
}

fn share(figure: &impl Figure) -> f64 {
    layout(figure).unwrap().plot_share()
}

#[test]
fn every_chart_keeps_at_least_80_percent_of_its_body_for_the_plot() {
    let one = crowded("incident", 0.0);
    // Side by side: the same incident told twice, its events a little
    // later the second time (so that the key names each of them twice).
    let runs = [one.clone(), crowded("incident-as-told", 40.0)];
    let shares = [
        ("timeline", share(&Timeline(&one))),
        ("small multiples", share(&SmallMultiples(&runs))),
        ("starvation", share(&Starvation(&one))),
        ("wait heatmap", share(&WaitHeatmap(&one))),
        ("pod heatmap", share(&PodHeatmap(&one))),
        ("retry storm", share(&RetryStorm(&runs))),
        ("overlay", share(&overlay())),
        ("grid heatmap", share(&grid())),
    ];
    for (chart, share) in shares {
        assert!(
            share >= 0.8,
            "{chart}: the plot keeps {share:.3} of the body"
        );
        assert!(share <= 1.0, "{chart}: the plot spills out ({share:.3})");
    }
}
