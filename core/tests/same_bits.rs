//! The core's transcendental functions come from `libm` on every target, not
//! from the platform's maths library: these inputs are ones where glibc's
//! `exp` and `log` round the last bit the other way, so the expected bits
//! below are libm's (what a wasm build computes) and not glibc's.

use pooldrill_core::dist::Dist;

/// x with e^x rounded one way by glibc (…cd55) and the other by libm.
const EXP_INPUT: u64 = 0x4012_91ae_894d_f840;
const EXP_LIBM: u64 = 0x4059_f1e1_7969_cd54;
/// x with ln x rounded one way by glibc (…21df) and the other by libm.
const LN_INPUT: u64 = 0x3fd6_6324_7f4e_45a4;
const LN_LIBM: u64 = 0xbff0_ce66_191a_21e0;

#[test]
fn a_lognormal_mean_is_libms_exp() {
    let mu = f64::from_bits(EXP_INPUT);
    let mean = Dist::LogNormal { mu, sigma: 0.0 }.mean();
    assert_eq!(mean.to_bits(), EXP_LIBM);
}

#[test]
fn an_exponential_quantile_is_libms_ln() {
    // x is a multiple of 2^-53 in [0.25, 0.5): p = 1 - x and 1 - p are exact.
    let one_minus_p = f64::from_bits(LN_INPUT);
    let p = 1.0 - one_minus_p;
    assert_eq!(1.0 - p, one_minus_p);
    let q = Dist::Exponential { mean: 1.0 }.quantile(p);
    assert_eq!(q.to_bits(), (-f64::from_bits(LN_LIBM)).to_bits());
}
