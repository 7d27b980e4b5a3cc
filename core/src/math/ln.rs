//! The natural logarithm in pure Rust: the table-driven design of glibc
//! (since 2.28) and musl (since 1.1.20), in its variant without fused
//! multiply-adds, so that every target rounds alike.
//!
//! x = 2^k·z with z in [0x1.6p-1, 0x1.6p0) split into 128 subintervals; for
//! the one holding z a table gives a c near its centre with 1/c and ln c, so
//! ln x = k·ln2 + ln c + ln(1 + r), r = z/c − 1 small (|r| < 1/256) and
//! ln(1 + r) a degree-6 polynomial. Near x = 1, where ln x is small and a
//! table's rounding would show, ln(1 + r) is a degree-12 polynomial in
//! r = x − 1 with its first terms in extra precision. Error under 0.52 ulp.

use super::ln_table::{LN2_HI, LN2_LO, POLY, POLY1, TAB, TAB2};

/// The bits of 0x1.6p-1, where the reduced argument's range starts.
const OFF: u64 = 0x3fe6_0000_0000_0000;
/// The bits of 1 − 2^-4 and 1 + 0x1.09p-4: between them ln takes the path
/// near 1.
const NEAR_ONE_LO: u64 = (1.0f64 - 1.0 / 16.0).to_bits();
const NEAR_ONE_HI: u64 = (1.0f64 + 265.0 / 4096.0).to_bits();
/// 2^27, to split r into halves whose products are exact; 2^52, to bring a
/// subnormal into the normal range.
const TWO_27: f64 = 134_217_728.0;
const TWO_52: f64 = 4_503_599_627_370_496.0;

/// The natural logarithm of x, within 0.52 ulp; the same bits on every
/// target. ln(±0) = −∞, ln(x < 0) = NaN.
#[inline]
pub fn ln(x: f64) -> f64 {
    let mut ix = x.to_bits();
    if ix.wrapping_sub(NEAR_ONE_LO) < NEAR_ONE_HI - NEAR_ONE_LO {
        return ln_near_one(x);
    }
    let top = (ix >> 48) as u32;
    // Not a positive normal double (the subtraction wraps for +0 and
    // subnormals).
    if top.wrapping_sub(0x0010) >= 0x7ff0 - 0x0010 {
        if let Some(y) = ln_special(x) {
            return y;
        }
        // A subnormal: x·2^52 with 52 taken off its exponent again, which
        // the arithmetic shift for k below carries into k.
        ix = (x * TWO_52).to_bits().wrapping_sub(52 << 52);
    }
    let tmp = ix.wrapping_sub(OFF);
    let i = ((tmp >> 45) % 128) as usize;
    let k = (tmp as i64) >> 52;
    let z = f64::from_bits(ix.wrapping_sub(tmp & (0xfff << 52)));
    let [invc, logc] = TAB[i].map(f64::from_bits);
    let [chi, clo] = TAB2[i].map(f64::from_bits);
    // r ≈ z/c − 1: z − c is exact, one rounding in the product.
    let r = (z - chi - clo) * invc;
    let kd = k as f64;
    // hi + lo = r + ln c + k·ln2.
    let w = kd * LN2_HI + logc;
    let hi = w + r;
    let lo = w - hi + r + kd * LN2_LO;
    let r2 = r * r;
    lo + r2 * POLY[0] + r * r2 * (POLY[1] + r * POLY[2] + r2 * (POLY[3] + r * POLY[4])) + hi
}

/// ln x for 1 − 2^-4 ≤ x < 1 + 0x1.09p-4.
#[inline(never)]
fn ln_near_one(x: f64) -> f64 {
    if x == 1.0 {
        return 0.0;
    }
    let b = &POLY1;
    let r = x - 1.0;
    let r2 = r * r;
    let r3 = r * r2;
    let mut y = r3
        * (b[1]
            + r * b[2]
            + r2 * b[3]
            + r3 * (b[4] + r * b[5] + r2 * b[6] + r3 * (b[7] + r * b[8] + r2 * b[9] + r3 * b[10])));
    // r + b[0]·r² in extra precision: r = rhi + rlo with rhi² exact.
    let w = r * TWO_27;
    let rhi = r + w - w;
    let rlo = r - rhi;
    let w = rhi * rhi * b[0];
    let hi = r + w;
    let mut lo = r - hi + w;
    lo += b[0] * rlo * (rhi + r);
    y += lo;
    y += hi;
    y
}

/// ln x for zero, negatives, infinities and NaN; `None` for a positive
/// subnormal, which the caller normalises.
#[cold]
#[inline(never)]
fn ln_special(x: f64) -> Option<f64> {
    let ix = x.to_bits();
    if ix << 1 == 0 {
        return Some(f64::NEG_INFINITY);
    }
    if x == f64::INFINITY {
        return Some(x);
    }
    if x.is_sign_negative() || x.is_nan() {
        return Some(f64::NAN);
    }
    None
}
