//! Closed forms from queueing theory that the simulator is checked against
//! (model-semantics.md §7). Notation: arrival rate `lambda`, service rate `mu`
//! (1 / mean hold), `c` servers, offered load `a = lambda / mu`.

/// Erlang B: the blocking probability of M/G/c/c with offered load `a`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// Erlang C: the probability that an arrival waits in M/M/c (needs a < c).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a < c as f64, "Erlang C needs a < c");
    let b = erlang_b(c, a);
    c as f64 * b / (c as f64 - a * (1.0 - b))
}

/// Mean time in queue per arrival in M/M/c.
pub fn mmc_mean_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (c as f64 * mu - lambda)
}

/// Steady-state figures of a queue with abandonment, per arrival.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AbandonmentFigures {
    /// P(an arrival waits at all).
    pub p_wait: f64,
    /// P(an arrival leaves before being served).
    pub p_abandon: f64,
    /// Mean time in queue per arrival (abandoners count their time in queue).
    pub mean_wait: f64,
}

/// Erlang A (M/M/c+M): exponential patience with rate `theta`.
pub fn erlang_a(c: u32, lambda: f64, mu: f64, theta: f64) -> AbandonmentFigures {
    let a = lambda / mu;
    // Unnormalised π_n with rescaling to stay inside f64.
    let mut total = 0.0; // Σ π_n
    let mut waiting_mass = 0.0; // Σ_{n ≥ c} π_n
    let mut queue_mass = 0.0; // Σ (n − c) π_n
    let mut term = 1.0;
    let rescale = |total: &mut f64, w: &mut f64, q: &mut f64, term: &mut f64| {
        if *term > 1e250 {
            let s = 1e-250;
            *total *= s;
            *w *= s;
            *q *= s;
            *term *= s;
        }
    };
    for n in 0..c {
        total += term;
        term *= a / (n + 1) as f64;
        rescale(&mut total, &mut waiting_mass, &mut queue_mass, &mut term);
    }
    // term is now π_c.
    let mut j = 0u64;
    loop {
        total += term;
        waiting_mass += term;
        queue_mass += j as f64 * term;
        j += 1;
        term *= lambda / (c as f64 * mu + j as f64 * theta);
        if term < 1e-15 * total && j > 10 {
            break;
        }
        rescale(&mut total, &mut waiting_mass, &mut queue_mass, &mut term);
    }
    let mean_queue = queue_mass / total;
    AbandonmentFigures {
        p_wait: waiting_mass / total,
        p_abandon: theta * mean_queue / lambda,
        mean_wait: mean_queue / lambda,
    }
}

/// M/M/c+D: fixed patience `tau`, FCFS, a waiter leaves at `tau` (pg-pool's
/// acquire timeout). Level crossing on the virtual wait (Zeltyn & Mandelbaum
/// 2005; same result as `shared/bench/analytic.py`).
pub fn mmc_deterministic_patience(c: u32, lambda: f64, mu: f64, tau: f64) -> AbandonmentFigures {
    let a = lambda / mu;
    // Σ_{k=0}^{c-1} p_k / p_{c-1}, computed downwards from p_{c-1} = 1.
    let mut s0 = 1.0;
    let mut t = 1.0;
    for k in (1..c).rev() {
        t *= k as f64 / a;
        s0 += t;
    }
    let d = lambda - c as f64 * mu;
    let (wait_below_tau, x_density) = if d.abs() < 1e-12 {
        (lambda * tau, lambda * tau * tau / 2.0)
    } else {
        let e = (d * tau).exp();
        (
            lambda * (e - 1.0) / d,
            lambda * (e * (tau / d - 1.0 / (d * d)) + 1.0 / (d * d)),
        )
    };
    let tail = lambda * (d * tau).exp() / (c as f64 * mu);
    let norm = s0 + wait_below_tau + tail;
    AbandonmentFigures {
        p_wait: (wait_below_tau + tail) / norm,
        p_abandon: tail / norm,
        mean_wait: (x_density + tau * tail) / norm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_reference_values() {
        // model-semantics.md §7 illustrative values.
        assert!((erlang_c(10, 3.125) - 0.00156).abs() < 5e-6);
        assert!((erlang_c(6, 3.125) - 0.116).abs() < 5e-4);
        assert!((erlang_c(6, 5.0) - 0.588).abs() < 5e-4);
        // shared/bench/analytic.py, M/M/80 at λ = 64: p_wait 0.034792, mean wait 0.002174.
        let pw = erlang_c(80, 64.0);
        assert!((pw - 0.034_792).abs() < 5e-7, "{pw}");
        assert!((mmc_mean_wait(80, 64.0, 1.0) - 0.002_174).abs() < 5e-7);
    }

    #[test]
    fn erlang_b_small_case_by_hand() {
        // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
        assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-15);
    }

    #[test]
    fn deterministic_patience_matches_reference_and_limits() {
        // model-semantics.md §7: c=10, λ=9, μ=1, τ=0.3 → 0.0894 timeouts.
        let f = mmc_deterministic_patience(10, 9.0, 1.0, 0.3);
        assert!((f.p_abandon - 0.0894).abs() < 5e-4, "{f:?}");
        // τ → ∞ gives Erlang C; τ → 0 gives Erlang B.
        let inf = mmc_deterministic_patience(10, 7.0, 1.0, 200.0);
        assert!((inf.p_wait - erlang_c(10, 7.0)).abs() < 1e-9);
        let zero = mmc_deterministic_patience(10, 7.0, 1.0, 1e-12);
        assert!((zero.p_abandon - erlang_b(10, 7.0)).abs() < 1e-9);
    }

    #[test]
    fn erlang_a_limits() {
        // θ → 0 (infinitely patient) gives Erlang C.
        let f = erlang_a(10, 7.0, 1.0, 1e-9);
        assert!((f.p_wait - erlang_c(10, 7.0)).abs() < 1e-6);
        assert!((f.mean_wait - mmc_mean_wait(10, 7.0, 1.0)).abs() < 1e-6);
        // θ = μ: the system behaves like M/M/∞ for the count in system, so
        // P(abandon) = θ·E[Nq]/λ with Poisson occupancy; check consistency of
        // the flow balance: served + abandoned = arrivals.
        let g = erlang_a(5, 6.0, 1.0, 1.0);
        assert!(g.p_abandon > 0.0 && g.p_abandon < 1.0 && g.p_wait > g.p_abandon);
        // Large systems stay finite (rescaling).
        let big = erlang_a(500, 450.0, 1.0, 2.0);
        assert!(big.p_wait.is_finite() && big.p_wait > 0.0 && big.p_wait < 1.0);
    }
}
