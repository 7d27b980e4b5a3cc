//! e^x in pure Rust: the table-driven design of glibc (since 2.28) and musl
//! (since 1.1.20), evaluated without fused multiply-adds so that every target
//! rounds alike.
//!
//! x = k·ln2/N + r with N = 128, an integer k and |r| ≤ ln2/2N; then
//! e^x = 2^(k/N)·e^r, with 2^(k/N) from a table as H·(1 + T) and e^r − 1 a
//! degree-5 polynomial: e^x ≈ H + H·(T + r + C2·r² + … + C5·r⁵). Error
//! under 0.52 ulp.

use super::exp_table::{INV_LN2_N, NEG_LN2_HI_N, NEG_LN2_LO_N, POLY, TAB};

/// 1.5·2^52: adding it rounds a double of magnitude < 2^51 to an integer,
/// left in the low bits of the sum.
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// The sign-less top 12 bits (the biased exponent) of 2^-54: below it e^x
/// rounds to 1 + x.
const TOP_TINY: u32 = 1023 - 54;
/// The same of 512: from it on the scale 2^(k/N) may leave the normal range.
const TOP_LARGE: u32 = 1023 + 9;
/// The same of 1024: from it on e^x overflows or underflows outright.
const TOP_HUGE: u32 = 1023 + 10;
/// The same of infinity and NaN.
const TOP_INF: u32 = 0x7ff;
/// 2^1009 and 2^-1022: the factors that bring a scale back from the normal
/// range when k is large.
const TWO_1009: f64 = f64::from_bits((1023 + 1009) << 52);
const TWO_M1022: f64 = f64::MIN_POSITIVE;

/// e^x, within 0.52 ulp; the same bits on every target.
#[inline]
pub fn exp(x: f64) -> f64 {
    let abstop = top12(x) & 0x7ff;
    // Outside 2^-54 ≤ |x| < 512 (the subtraction wraps for tiny |x|).
    if abstop.wrapping_sub(TOP_TINY) >= TOP_LARGE - TOP_TINY {
        return exp_outside(x, abstop);
    }
    let (tmp, sbits, _) = reduce(x);
    let scale = f64::from_bits(sbits);
    scale + scale * tmp
}

/// The top 12 bits of x: sign and biased exponent.
#[inline(always)]
fn top12(x: f64) -> u32 {
    (x.to_bits() >> 52) as u32
}

/// x reduced: (T + e^r − 1, the bits of H·2^(k div N) — valid only while
/// that is a normal double —, and k's bits offset by `SHIFT`).
#[inline(always)]
fn reduce(x: f64) -> (f64, u64, u64) {
    let z = INV_LN2_N * x;
    let shifted = z + SHIFT;
    let ki = shifted.to_bits();
    let kd = shifted - SHIFT;
    let r = x + kd * NEG_LN2_HI_N + kd * NEG_LN2_LO_N;
    let idx = 2 * (ki % 128) as usize;
    let tail = f64::from_bits(TAB[idx]);
    let sbits = TAB[idx + 1].wrapping_add(ki << 45);
    let r2 = r * r;
    let tmp = tail + r + r2 * (POLY[0] + r * POLY[1]) + r2 * r2 * (POLY[2] + r * POLY[3]);
    (tmp, sbits, ki)
}

/// e^x for |x| < 2^-54, |x| ≥ 512, infinities and NaN.
#[cold]
#[inline(never)]
fn exp_outside(x: f64, abstop: u32) -> f64 {
    if abstop < TOP_TINY {
        return 1.0 + x;
    }
    if abstop >= TOP_HUGE {
        if x == f64::NEG_INFINITY {
            return 0.0;
        }
        if abstop >= TOP_INF {
            return 1.0 + x;
        }
        return if x.is_sign_negative() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let (tmp, sbits, ki) = reduce(x);
    exp_rescaled(tmp, sbits, ki)
}

/// H·2^(k div N)·(1 + tmp) when that scale's exponent left the normal range
/// (512 ≤ |x| < 1024): computed at a shifted exponent and scaled back, with
/// one rounding in the subnormal range.
fn exp_rescaled(tmp: f64, sbits: u64, ki: u64) -> f64 {
    if ki & 0x8000_0000 == 0 {
        // k > 0: the exponent overflowed by at most 460.
        let scale = f64::from_bits(sbits.wrapping_sub(1009 << 52));
        return TWO_1009 * (scale + scale * tmp);
    }
    // k < 0: the result may be subnormal.
    let scale = f64::from_bits(sbits.wrapping_add(1022 << 52));
    let mut y = scale + scale * tmp;
    if y < 1.0 {
        // Round y to the subnormal's precision first: scaling it down would
        // round a second time.
        let lo = scale - y + scale * tmp;
        let hi = 1.0 + y;
        let lo = 1.0 - hi + y + lo;
        y = (hi + lo) - 1.0;
        if y == 0.0 {
            // +0, never -0.
            y = 0.0;
        }
    }
    TWO_M1022 * y
}
