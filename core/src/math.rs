//! The core's transcendental functions, in one place. In the browser
//! (`wasm32-unknown-unknown`, which has no platform maths library) they come
//! from the `libm` crate; natively from the platform's (glibc). The two may
//! differ in the last bit of a result; a simulated time is rounded to the
//! nanosecond, so a last bit moves a run only when it crosses a rounding
//! boundary (every output of the replay was compared between the two: no
//! byte differed). libm on every target would guarantee it, but costs 12 %
//! of the wall time of `after.toml` (its `exp` and `log` are slower than
//! glibc's, at about the same instruction count): over the speed line.
//!
//! `f64::sqrt` is IEEE-exact everywhere; `powi` with a constant exponent is
//! multiplications; `floor`, `round` and the like are exact.

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    #[cfg(target_arch = "wasm32")]
    return libm::exp(x);
    #[cfg(not(target_arch = "wasm32"))]
    x.exp()
}

/// The natural logarithm of x.
#[inline]
pub fn ln(x: f64) -> f64 {
    #[cfg(target_arch = "wasm32")]
    return libm::log(x);
    #[cfg(not(target_arch = "wasm32"))]
    x.ln()
}

/// The sine of x (radians).
#[inline]
pub fn sin(x: f64) -> f64 {
    #[cfg(target_arch = "wasm32")]
    return libm::sin(x);
    #[cfg(not(target_arch = "wasm32"))]
    x.sin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrappers_compute_what_they_name() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(sin(0.0), 0.0);
        assert!((exp(1.0) - std::f64::consts::E).abs() < 1e-15);
        assert!((ln(std::f64::consts::E) - 1.0).abs() < 1e-15);
        assert!((sin(std::f64::consts::FRAC_PI_2) - 1.0).abs() < 1e-15);
    }
}
