//! Closed forms from queueing theory that the simulator is checked against
//! (docs/semantics.md#queueing-theory). Notation: arrival rate `lambda`,
//! service rate `mu` (1 / mean hold), `c` servers, offered load
//! `a = lambda / mu`.

use crate::math;

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

/// No arrivals: nobody waits or leaves.
const NO_LOAD: AbandonmentFigures = AbandonmentFigures {
    p_wait: 0.0,
    p_abandon: 0.0,
    mean_wait: 0.0,
};

/// Erlang A (M/M/c+M): exponential patience with rate `theta`.
pub fn erlang_a(c: u32, lambda: f64, mu: f64, theta: f64) -> AbandonmentFigures {
    if lambda <= 0.0 {
        return NO_LOAD;
    }
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
/// 2005; docs/semantics.md#queueing-theory).
pub fn mmc_deterministic_patience(c: u32, lambda: f64, mu: f64, tau: f64) -> AbandonmentFigures {
    if lambda <= 0.0 {
        return NO_LOAD;
    }
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
        let e = math::exp(d * tau);
        (
            lambda * (e - 1.0) / d,
            lambda * (e * (tau / d - 1.0 / (d * d)) + 1.0 / (d * d)),
        )
    };
    let tail = lambda * math::exp(d * tau) / (c as f64 * mu);
    let norm = s0 + wait_below_tau + tail;
    AbandonmentFigures {
        p_wait: (wait_below_tau + tail) / norm,
        p_abandon: tail / norm,
        mean_wait: (x_density + tau * tail) / norm,
    }
}

/// Steady-state figures of a queue in front of a processor-sharing server.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PsFigures {
    /// Mean number in the system (queued and served).
    pub mean_in_system: f64,
    /// Mean time in the system per arrival (Little: `mean_in_system / λ`).
    pub mean_sojourn: f64,
    /// P(an arrival finds `max_active` served and queues).
    pub p_queue: f64,
}

/// Poisson arrivals at rate `lambda`, at most `max_active` served at once
/// (a pool of that size; `None` = no limit) and the rest queued FIFO; the
/// served share `cores` processors, each progressing at `capacity(n) / n`
/// with `capacity(n) = min(n, c) / (1 + contention · max(0, n − c))`;
/// exponential work of rate `mu`. The number in the system is a birth–death
/// chain with death rate `mu · capacity(min(n, max_active))`; with no
/// contention and no limit this is M/M/c's. Without a limit the server is a
/// symmetric queue (Kelly, *Reversibility and Stochastic Networks*, 1979,
/// §3.3), so these figures hold for any work distribution of the same mean;
/// with a limit they need exponential work.
pub fn ps_queue(
    lambda: f64,
    mu: f64,
    cores: u32,
    contention: f64,
    max_active: Option<u32>,
) -> PsFigures {
    let c = cores as f64;
    let capacity = |n: u64| {
        let k = max_active.map_or(n, |m| n.min(m as u64)) as f64;
        k.min(c) / (1.0 + contention * (k - c).max(0.0))
    };
    let tail_rate = match max_active {
        Some(m) => mu * capacity(m as u64),
        None => {
            assert!(
                contention == 0.0,
                "an unlimited queue with contention is unstable"
            );
            mu * c
        }
    };
    assert!(lambda < tail_rate, "the queue is unstable");
    let limit = max_active.map_or(u64::MAX, |m| m as u64);
    // Unnormalised π_n, rescaled to stay inside f64.
    let (mut total, mut mass_n, mut queued) = (0.0, 0.0, 0.0);
    let mut term = 1.0;
    let mut n = 0u64;
    loop {
        total += term;
        mass_n += n as f64 * term;
        if n >= limit {
            queued += term;
        }
        n += 1;
        term *= lambda / (mu * capacity(n));
        if term < 1e-16 * total && n > limit.min(10_000).max(cores as u64) {
            break;
        }
        if term > 1e250 {
            let s = 1e-250;
            total *= s;
            mass_n *= s;
            queued *= s;
            term *= s;
        }
    }
    let mean_in_system = mass_n / total;
    PsFigures {
        mean_in_system,
        mean_sojourn: mean_in_system / lambda,
        p_queue: queued / total,
    }
}

/// Steady-state figures of the M/M/1 retrial queue (classical retrial
/// policy: a blocked request retries after an exponential delay of mean
/// 1/θ, for ever; no queue), per request (Falin and Templeton, *Retrial
/// Queues*, 1997).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetrialFigures {
    /// Mean requests in orbit: ρ/(1−ρ)·(ρ + λ/θ).
    pub orbit: f64,
    /// Mean retries per request: ρ/(1−ρ)·(1 + θ/μ).
    pub retries: f64,
    /// Mean time from first arrival to answer: 1/μ + ρ/(1−ρ)·(1/θ + 1/μ).
    pub response: f64,
}

/// The M/M/1 retrial queue with arrival rate `lambda`, service rate `mu`
/// and retry rate `theta` (needs ρ = λ/μ < 1).
pub fn mm1_retrial(lambda: f64, mu: f64, theta: f64) -> RetrialFigures {
    let rho = lambda / mu;
    assert!(rho < 1.0, "the M/M/1 retrial queue needs ρ < 1");
    let k = rho / (1.0 - rho);
    RetrialFigures {
        orbit: k * (rho + lambda / theta),
        retries: k * (1.0 + theta / mu),
        response: 1.0 / mu + k * (1.0 / theta + 1.0 / mu),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_reference_values() {
        // The illustrative values of docs/semantics.md#queueing-theory.
        assert!((erlang_c(10, 3.125) - 0.00156).abs() < 5e-6);
        assert!((erlang_c(6, 3.125) - 0.116).abs() < 5e-4);
        assert!((erlang_c(6, 5.0) - 0.588).abs() < 5e-4);
        // Computed independently, M/M/80 at λ = 64: p_wait 0.034792, mean wait 0.002174.
        let pw = erlang_c(80, 64.0);
        assert!((pw - 0.034_792).abs() < 5e-7, "{pw}");
        assert!((mmc_mean_wait(80, 64.0, 1.0) - 0.002_174).abs() < 5e-7);
    }

    #[test]
    fn zero_load_never_waits() {
        assert_eq!(erlang_c(4, 0.0), 0.0);
        assert_eq!(mmc_mean_wait(4, 0.0, 20.0), 0.0);
        assert_eq!(erlang_a(4, 0.0, 20.0, 1.0), NO_LOAD);
        assert_eq!(mmc_deterministic_patience(4, 0.0, 20.0, 1.0), NO_LOAD);
    }

    #[test]
    fn erlang_b_small_case_by_hand() {
        // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
        assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-15);
    }

    #[test]
    fn deterministic_patience_matches_reference_and_limits() {
        // docs/semantics.md#queueing-theory: c=10, λ=9, μ=1, τ=0.3 → 0.0894 timeouts.
        let f = mmc_deterministic_patience(10, 9.0, 1.0, 0.3);
        assert!((f.p_abandon - 0.0894).abs() < 5e-4, "{f:?}");
        // τ → ∞ gives Erlang C; τ → 0 gives Erlang B.
        let inf = mmc_deterministic_patience(10, 7.0, 1.0, 200.0);
        assert!((inf.p_wait - erlang_c(10, 7.0)).abs() < 1e-9);
        let zero = mmc_deterministic_patience(10, 7.0, 1.0, 1e-12);
        assert!((zero.p_abandon - erlang_b(10, 7.0)).abs() < 1e-9);
    }

    #[test]
    fn ps_queue_limits() {
        // M/M/1-PS: E[T] = 1 / (μ − λ).
        let f = ps_queue(0.7, 1.0, 1, 0.0, None);
        assert!((f.mean_sojourn - 1.0 / 0.3).abs() < 1e-9, "{f:?}");
        // c cores, no limit: M/M/c's sojourn.
        let g = ps_queue(3.0, 1.0, 4, 0.0, None);
        assert!((g.mean_sojourn - (1.0 + mmc_mean_wait(4, 3.0, 1.0))).abs() < 1e-9);
        // A limit at the cores with no contention: M/M/c again, and
        // P(queue) is Erlang C.
        let h = ps_queue(3.0, 1.0, 4, 0.7, Some(4));
        assert!((h.mean_sojourn - g.mean_sojourn).abs() < 1e-9);
        assert!((h.p_queue - erlang_c(4, 3.0)).abs() < 1e-9);
        // Contention beyond the cores only slows things down.
        let k = ps_queue(3.0, 1.0, 4, 0.05, Some(8));
        let free = ps_queue(3.0, 1.0, 4, 0.0, Some(8));
        assert!(k.mean_sojourn > free.mean_sojourn);
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
