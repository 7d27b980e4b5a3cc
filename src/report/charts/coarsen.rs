//! Consecutive samples merged, so a chart shows no more points across than
//! a projector can: a line of 1800 one-second samples in 1100 pixels is a
//! smear, the same line in 6-second steps reads.

use super::data::RunSeries;
use crate::metrics::SeriesRow;
use std::borrow::Cow;

/// `run` with at most `max_points` rows: each group of consecutive rows
/// becomes one row over the group's span. Counts are summed (so rates stay
/// exact, and so does the mean wait `wait_sum_s / acquires`), gauges are
/// read at the end of the span (as for any row), the error rate is weighted
/// by arrivals, and each percentile is the highest of the group (an upper
/// bound on the span's own). Wait buckets are summed; pod rows are kept as
/// they are.
pub(crate) fn coarsen(run: &RunSeries, max_points: usize) -> Cow<'_, RunSeries> {
    let per = run.rows.len().div_ceil(max_points.max(1));
    if per <= 1 {
        return Cow::Borrowed(run);
    }
    let rows = run.rows.chunks(per).map(merge).collect();
    let wait_buckets = run
        .wait_buckets
        .chunks(per)
        .map(|group| {
            let mut sums = vec![0; group.iter().map(Vec::len).max().unwrap_or(0)];
            for counts in group {
                for (sum, c) in sums.iter_mut().zip(counts) {
                    *sum += c;
                }
            }
            sums
        })
        .collect();
    Cow::Owned(RunSeries {
        rows,
        wait_buckets,
        ..run.clone()
    })
}

/// One row standing for `group`.
fn merge(group: &[SeriesRow]) -> SeriesRow {
    let last = group.last().expect("chunks are not empty");
    let sum = |f: fn(&SeriesRow) -> u64| group.iter().map(f).sum::<u64>();
    let highest = |f: fn(&SeriesRow) -> Option<f64>| group.iter().filter_map(f).reduce(f64::max);
    let weighted: Vec<(f64, f64)> = group
        .iter()
        .filter_map(|r| r.error_rate.map(|e| (e, r.arrivals.max(1) as f64)))
        .collect();
    let error_rate = (!weighted.is_empty()).then(|| {
        let weight: f64 = weighted.iter().map(|w| w.1).sum();
        weighted.iter().map(|(e, w)| e * w).sum::<f64>() / weight
    });
    SeriesRow {
        arrivals: sum(|r| r.arrivals),
        completed: sum(|r| r.completed),
        goodput: sum(|r| r.goodput),
        acquire_timeouts: sum(|r| r.acquire_timeouts),
        refusals: sum(|r| r.refusals),
        gave_up: sum(|r| r.gave_up),
        app_errors: sum(|r| r.app_errors),
        answered: sum(|r| r.answered),
        failed: sum(|r| r.failed),
        error_rate,
        acquires: sum(|r| r.acquires),
        wait_sum_s: group.iter().map(|r| r.wait_sum_s).sum(),
        wait_p50_s: highest(|r| r.wait_p50_s),
        wait_p95_s: highest(|r| r.wait_p95_s),
        wait_p99_s: highest(|r| r.wait_p99_s),
        latency_p50_s: highest(|r| r.latency_p50_s),
        latency_p95_s: highest(|r| r.latency_p95_s),
        latency_p99_s: highest(|r| r.latency_p99_s),
        starved_requests: sum(|r| r.starved_requests),
        starved_jobs: sum(|r| r.starved_jobs),
        job_runs: sum(|r| r.job_runs),
        leaked: sum(|r| r.leaked),
        wasted_connection_s: group.iter().map(|r| r.wasted_connection_s).sum(),
        attempts: last
            .attempts
            .map(|_| group.iter().filter_map(|r| r.attempts).sum()),
        retries: last
            .retries
            .map(|_| group.iter().filter_map(|r| r.retries).sum()),
        ..last.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_gauges_are_read_at_the_end_rates_stay_exact() {
        let rows: Vec<SeriesRow> = (1..=10u64)
            .map(|s| SeriesRow {
                time_s: s as f64,
                arrivals: 100,
                refusals: s % 2,
                error_rate: Some(0.01 * (s % 2) as f64),
                wait_p99_s: Some(s as f64 / 1000.0),
                open_leaked: s,
                ..SeriesRow::default()
            })
            .collect();
        let run = RunSeries {
            wait_buckets: vec![vec![1, 2]; 10],
            rows,
            ..RunSeries::default()
        };
        let coarse = coarsen(&run, 3);
        assert_eq!(coarse.rows.len(), 3, "groups of 4, 4 and 2");
        let first = &coarse.rows[0];
        assert_eq!(
            (first.time_s, first.arrivals, first.refusals),
            (4.0, 400, 2)
        );
        assert_eq!(first.open_leaked, 4);
        assert_eq!(first.wait_p99_s, Some(0.004));
        assert!((first.error_rate.unwrap() - 0.005).abs() < 1e-12);
        assert_eq!(coarse.per_second(0, first.arrivals), 100.0);
        assert_eq!(coarse.per_second(2, coarse.rows[2].arrivals), 100.0);
        assert_eq!(coarse.wait_buckets[2], vec![2, 4]);
        assert!(matches!(coarsen(&run, 10), Cow::Borrowed(_)));
    }

    /// Every count of a merged row is the sum of its group's: none is read
    /// at the end of the span like a gauge (acquires and the sum of their
    /// waits were, so the mean wait of a span was its last row's).
    #[test]
    fn every_count_is_summed() {
        let rows: Vec<SeriesRow> = (1..=4u64)
            .map(|s| SeriesRow {
                time_s: s as f64,
                answered: 10 * s,
                failed: s,
                acquires: 100 * s,
                wait_sum_s: 0.5 * s as f64,
                ..SeriesRow::default()
            })
            .collect();
        let run = RunSeries {
            wait_buckets: vec![Vec::new(); 4],
            rows,
            ..RunSeries::default()
        };
        let coarse = coarsen(&run, 2);
        let first = &coarse.rows[0];
        assert_eq!((first.answered, first.failed), (30, 3));
        assert_eq!((first.acquires, first.wait_sum_s), (300, 1.5));
        let second = &coarse.rows[1];
        assert_eq!((second.answered, second.failed), (70, 7));
        assert_eq!((second.acquires, second.wait_sum_s), (700, 3.5));
    }
}
