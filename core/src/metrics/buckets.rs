//! Acquire-wait histogram buckets shared by alert evaluation, charts and the
//! OpenMetrics export, and Prometheus' `histogram_quantile` over them.

/// Upper bounds (seconds) of the acquire-wait buckets, as a Prometheus
/// histogram's `le` labels; an implicit `+Inf` bucket follows.
pub const WAIT_BOUNDS_S: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5,
    2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 20.0, 30.0, 60.0,
];

/// The q-quantile of a histogram given as per-bucket (not cumulative) counts
/// over [`WAIT_BOUNDS_S`] plus `+Inf`, computed as Prometheus'
/// `histogram_quantile` does: linear interpolation inside the bucket holding
/// the rank, the first bucket starting at 0, and the last finite bound
/// returned when the rank falls in `+Inf`. `None` without observations.
pub fn histogram_quantile(q: f64, counts: &[u64]) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (i, &c) in counts.iter().enumerate() {
        if (below + c) as f64 >= rank && c > 0 {
            let Some(&upper) = WAIT_BOUNDS_S.get(i) else {
                return WAIT_BOUNDS_S.last().copied();
            };
            let lower = if i == 0 { 0.0 } else { WAIT_BOUNDS_S[i - 1] };
            return Some(lower + (upper - lower) * (rank - below as f64) / c as f64);
        }
        below += c;
    }
    WAIT_BOUNDS_S.last().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_like_prometheus() {
        let mut counts = vec![0u64; WAIT_BOUNDS_S.len() + 1];
        counts[0] = 90; // ≤ 1 ms
        counts[8] = 10; // (75, 100] ms
        // rank 50 of 100 in the first bucket: 50/90 of [0, 1 ms].
        assert!((histogram_quantile(0.5, &counts).unwrap() - 0.001 * 50.0 / 90.0).abs() < 1e-12);
        // rank 95: 5 of the 10 in (75, 100] ms.
        assert!((histogram_quantile(0.95, &counts).unwrap() - 0.0875).abs() < 1e-12);
        counts[WAIT_BOUNDS_S.len()] = 1000; // +Inf
        assert_eq!(histogram_quantile(0.99, &counts), Some(60.0));
        assert_eq!(histogram_quantile(0.5, &[0; 27]), None);
    }
}
