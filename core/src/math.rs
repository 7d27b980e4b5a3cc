//! The core's transcendental functions, from the `libm` crate on every
//! target, so that a native build and a `wasm32-unknown-unknown` build give
//! the same bits. `f64::exp` and friends call the platform's maths library
//! (glibc natively, a port of musl on wasm), and those may differ in the
//! last bit, which would move a rounding to the nanosecond and so a run.
//!
//! `f64::sqrt` stays native: IEEE 754 requires it correctly rounded, and
//! every target computes it in one instruction. `powi` with a constant
//! exponent is multiplications; `floor`, `round` and the like are exact.

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// The natural logarithm of x.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// The sine of x (radians).
#[inline]
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
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

    #[test]
    fn the_wrappers_give_libms_bits_where_glibc_rounds_the_other_way() {
        // glibc gives 0x4059f1e17969cd55 and 0xbff0ce66191a21df here.
        assert_eq!(
            exp(f64::from_bits(0x4012_91ae_894d_f840)).to_bits(),
            0x4059_f1e1_7969_cd54
        );
        assert_eq!(
            ln(f64::from_bits(0x3fd6_6324_7f4e_45a4)).to_bits(),
            0xbff0_ce66_191a_21e0
        );
    }
}
