//! The core's transcendental functions, in one place, computing the same
//! bits on every target: a simulation draws its lognormal and exponential
//! durations through them, and the browser build (`wasm32-unknown-unknown`)
//! must replay a scenario exactly as the native one does.
//!
//! `exp` and `ln` are the project's own ([`exp()`], [`ln()`]): the
//! table-driven designs of glibc (since 2.28) and musl, written out in Rust
//! without fused multiply-adds. glibc on x86-64 picks an FMA variant at run
//! time by CPU, so its last bits depend on the machine; plain `*` and `+`
//! are IEEE and identical everywhere. Ours equal glibc's FMA-free variant
//! bit for bit (checked on two million inputs with glibc's FMA variant
//! switched off); glibc's FMA variant differs from them in the last bit on
//! about 5 arguments in 10⁴ for `exp` and 1 in 10⁴ for `ln` (`tests.rs`
//! counts them). They cost no time against glibc's: paired runs of
//! `after.toml` and `mm80.toml` take the same CPU time, with fewer
//! instructions per request (inlined, they save glibc's calls).
//! The constants are in `exp_table.rs` and `ln_table.rs`, written by
//! `tables.py`. `sin` is not on any hot path: the `libm` crate's, on every
//! target.
//!
//! `f64::sqrt` is IEEE-exact everywhere; `powi` with a constant exponent is
//! multiplications; `floor`, `round` and the like are exact.

mod exp;
mod exp_table;
mod ln;
mod ln_table;
#[cfg(test)]
mod tests;

pub use exp::exp;
pub use ln::ln;

/// The sine of x (radians).
#[inline]
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}
