//! `exp` and `ln` against glibc's (natively, the platform's `f64::exp` and
//! `f64::ln`) and the `libm` crate's: a million inputs each across the
//! range, and the special cases.

use super::{exp, ln, sin};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The distance in ulps between two finite doubles of any signs.
fn ulps(a: f64, b: f64) -> u64 {
    let ordered = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 { i64::MIN - bits } else { bits }
    };
    ordered(a).abs_diff(ordered(b))
}

/// Whether two results are the same value (NaN equal to NaN).
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// `n` inputs from `draw`, each checked within 1 ulp of glibc's and of
/// libm's result; returns how many differ from glibc's at all.
fn compare(
    n: usize,
    name: &str,
    ours: fn(f64) -> f64,
    glibc: fn(f64) -> f64,
    libm: fn(f64) -> f64,
    mut draw: impl FnMut(u64) -> f64,
) -> usize {
    // A stream of its own per name (math sits below the engine's streams).
    let seed = name
        .bytes()
        .fold(26u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut differ = 0;
    for _ in 0..n {
        let x = draw(rng.next_u64());
        let (y, g, m) = (ours(x), glibc(x), libm(x));
        if !same(y, g) {
            differ += 1;
            assert!(ulps(y, g) <= 1, "{name}({x:e}) = {y:e}, glibc {g:e}");
        }
        assert!(
            same(y, m) || ulps(y, m) <= 1,
            "{name}({x:e}) = {y:e}, libm {m:e}"
        );
    }
    differ
}

/// A uniform double in [lo, hi) from 53 random bits.
fn uniform(bits: u64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * ((bits >> 11) as f64 / (1u64 << 53) as f64)
}

#[test]
fn exp_is_within_one_ulp_of_glibc_and_libm() {
    let n = 250_000;
    let mut differ = 0;
    // The whole finite range, the range where durations live, small
    // arguments, and the subnormal results.
    for (name, lo, hi) in [
        ("exp-all", -745.2, 709.8),
        ("exp-mid", -20.0, 20.0),
        ("exp-small", -0.01, 0.01),
        ("exp-subnormal", -745.2, -708.0),
    ] {
        differ += compare(n, name, exp, f64::exp, libm::exp, |b| uniform(b, lo, hi));
    }
    eprintln!(
        "exp: {differ} of {} results differ from glibc's by 1 ulp",
        4 * n
    );
    assert!(differ * 1000 < 4 * n, "{differ} differ");
}

#[test]
fn ln_is_within_one_ulp_of_glibc_and_libm() {
    let n = 250_000;
    let mut differ = 0;
    // Every positive double (random bits), uniform (0, 1) as the samplers
    // draw it, and the path near 1.
    differ += compare(n, "ln-bits", ln, f64::ln, libm::log, |b| {
        f64::from_bits(b >> 1)
    });
    differ += compare(n, "ln-unit", ln, f64::ln, libm::log, |b| {
        uniform(b, 0.0, 1.0)
    });
    differ += compare(n, "ln-near-one", ln, f64::ln, libm::log, |b| {
        uniform(b, 0.9, 1.1)
    });
    differ += compare(n, "ln-durations", ln, f64::ln, libm::log, |b| {
        uniform(b, 1e-6, 1e3)
    });
    eprintln!(
        "ln: {differ} of {} results differ from glibc's by 1 ulp",
        4 * n
    );
    assert!(differ * 1000 < 4 * n, "{differ} differ");
}

/// Arguments on which glibc's FMA variant (which x86-64 glibc runs on a CPU
/// with FMA) rounds differently from its FMA-free one, and the FMA-free
/// result's bits (from glibc with `GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA`).
/// `exp` and `ln` must give the latter on every machine.
#[test]
fn exp_and_ln_round_as_the_fma_free_design_on_every_machine() {
    for (x, y) in [
        (0x4022c3c96fa95694, 0x40c732b8845b6f2a),
        (0xc02170bc76eca480, 0x3f2565facd7260d4),
        (0xc01cc85ca05105bc, 0x3f489204c50e91c0),
        (0xbff93cd3d48da780, 0x3fca6f4c6dc82084),
        (0x40006f0db400a918, 0x401f3402ffb32302),
        (0xc02b4f3f6300c502, 0x3eb3b3df34ef4fe0),
    ] {
        let x = f64::from_bits(x);
        assert_eq!(exp(x).to_bits(), y, "exp({x:e})");
    }
    for (x, y) in [
        (0x3fe79e8f5175d827, 0xbfd36f4e56fd587a),
        (0x3fed4a72bffd5cbf, 0xbfb6a571950dce3f),
        (0x3fec16263ac30588, 0xbfc0b2756cda07c1),
        (0x3fdd3f77b3906d1e, 0xbfe90ef27e9ed85e),
        (0x3fe979d41032a89f, 0xbfcd2f365c61e95e),
        (0x3fe9b958f5c46a26, 0xbfcbf19d1747b3b8),
    ] {
        let x = f64::from_bits(x);
        assert_eq!(ln(x).to_bits(), y, "ln({x:e})");
    }
}

#[test]
fn exp_special_cases_match_glibc() {
    let min_sub = f64::from_bits(1);
    for x in [
        0.0,
        -0.0,
        1e-300,
        -1e-300,
        min_sub,
        1.0,
        -1.0,
        709.78,
        709.79,
        710.0,
        1e300,
        -708.4,
        -708.5,
        -740.0,
        -745.13,
        -745.14,
        -746.0,
        -1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MAX,
        f64::MIN,
    ] {
        assert!(
            same(exp(x), x.exp()),
            "exp({x:e}) = {:e}, glibc {:e}",
            exp(x),
            x.exp()
        );
    }
    assert_eq!(exp(f64::NEG_INFINITY).to_bits(), 0);
    assert_eq!(exp(-746.0).to_bits(), 0);
}

#[test]
fn ln_special_cases_match_glibc() {
    for x in [
        0.0,
        -0.0,
        -1.0,
        -f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::MIN_POSITIVE,
        1.0,
        1.0 - f64::EPSILON / 2.0,
        1.0 + f64::EPSILON,
        2.0,
        0.5,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ] {
        assert!(
            same(ln(x), x.ln()),
            "ln({x:e}) = {:e}, glibc {:e}",
            ln(x),
            x.ln()
        );
    }
    assert_eq!(ln(1.0).to_bits(), 0);
    assert_eq!(ln(0.0), f64::NEG_INFINITY);
}

#[test]
fn sin_computes_what_it_names() {
    assert_eq!(sin(0.0), 0.0);
    assert!((sin(std::f64::consts::FRAC_PI_2) - 1.0).abs() < 1e-15);
}
