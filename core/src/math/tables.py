#!/usr/bin/env python3
"""Writes exp_table.rs and ln_table.rs, the constants of math::exp and
math::ln (run once from this directory: `python3 tables.py`; needs mpmath
and an x86-64 glibc >= 2.28 at /lib/x86_64-linux-gnu/libm.so.6).

exp: N/ln 2, ln 2/N split in two and the 2^(k/N) table are computed here
at 200 bits and rounded to nearest, and checked to equal glibc's bit for
bit; the four polynomial coefficients (a minimax fit) are read from glibc.

ln: the 128 (1/c, log c) pairs come from a search over ±2^29 candidates per
entry that is too slow to redo here, so they are read out of glibc's own
libm (found by the ln2hi that heads them) and each is checked: c = chi+clo,
1/c rounds to invc, log(c) rounds to logc within 2^-66, 768 + logc is
exact. The polynomial coefficients (minimax fits) are read with them.
"""
import struct
import mpmath

mpmath.mp.prec = 200
LIBM = "/lib/x86_64-linux-gnu/libm.so.6"
N = 128


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def nearest(v):
    """The double nearest the mpmath value v."""
    return float(mpmath.mpf(v))


def doubles(data, at, n):
    return list(struct.unpack("<%dd" % n, data[at : at + 8 * n]))


def find(data, x):
    pat = struct.pack("<d", x)
    hits = [i for i in range(0, len(data) - 8, 8) if data[i : i + 8] == pat]
    assert len(hits) >= 1, x.hex()
    return hits


def exp_constants(data):
    ln2 = mpmath.log(2)
    inv_ln2_n = nearest(N / ln2)
    neg_ln2_hi_n = -float(mpmath.floor(ln2 / N * 2**44 + 0.5) / 2**44)
    neg_ln2_lo_n = nearest(-ln2 / N - neg_ln2_hi_n)
    tab = []
    for k in range(N):
        exact = mpmath.power(2, mpmath.mpf(k) / N)
        hi = nearest(exact)
        tail = nearest(exact / mpmath.mpf(hi) - 1)
        tab += [bits(tail), bits(hi) - (k << 52) // N]
    # glibc's struct: invln2N, negln2hiN, negln2loN, poly[4], shift, exp2
    # shift, exp2 poly[5], tab[2N].
    (at,) = find(data, inv_ln2_n)
    head = doubles(data, at, 14)
    assert head[1] == neg_ln2_hi_n and head[2] == neg_ln2_lo_n, head
    assert head[7] == float.fromhex("0x1.8p52"), head
    glibc_tab = struct.unpack("<%dQ" % (2 * N), data[at + 14 * 8 : at + (14 + 2 * N) * 8])
    assert list(glibc_tab) == tab, "the exp table differs from glibc's"
    poly = head[3:7]
    return inv_ln2_n, neg_ln2_hi_n, neg_ln2_lo_n, poly, tab


def ln_constants(data):
    ln2 = mpmath.log(2)
    ln2_hi = float(mpmath.floor(ln2 * 2**43 + 0.5) / 2**43)
    ln2_lo = nearest(ln2 - ln2_hi)
    # glibc's struct: ln2hi, ln2lo, poly[5], poly1[11], tab[N] (invc, logc),
    # tab2[N] (chi, clo); the first hit whose next word is ln2lo.
    at = [h for h in find(data, ln2_hi) if doubles(data, h + 8, 1)[0] == ln2_lo][0]
    words = doubles(data, at, 2 + 5 + 11 + 4 * N)
    poly, poly1 = words[2:7], words[7:18]
    tab = [(words[18 + 2 * i], words[19 + 2 * i]) for i in range(N)]
    tab2 = [(words[18 + 2 * N + 2 * i], words[19 + 2 * N + 2 * i]) for i in range(N)]
    for i, ((invc, logc), (chi, clo)) in enumerate(zip(tab, tab2)):
        c = mpmath.mpf(chi) + mpmath.mpf(clo)
        assert nearest(c) == chi and nearest(c - chi) == clo, i
        assert nearest(1 / c) == invc, i
        assert abs(mpmath.log(c) - logc) < mpmath.mpf(2) ** -66, i
        assert 768.0 + logc - 768.0 == logc, i
        # c lies in the ith subinterval, as ln picks it from z's bits.
        assert ((bits(chi) - 0x3FE6000000000000) >> 45) % N == i, i
    return ln2_hi, ln2_lo, poly, poly1, tab, tab2


def hexf(x):
    return float.hex(x)


def write_exp(consts):
    inv_ln2_n, hi, lo, poly, tab = consts
    out = [HEADER.format(what="math::exp"), ""]
    out.append("/// N/ln 2, N = 128 (%s)." % hexf(inv_ln2_n))
    out.append("pub(super) const INV_LN2_N: f64 = f64::from_bits(%#018x);" % bits(inv_ln2_n))
    out.append("/// -ln 2/N, its high part: 37 significant bits, so k·hi is exact (%s)." % hexf(hi))
    out.append("pub(super) const NEG_LN2_HI_N: f64 = f64::from_bits(%#018x);" % bits(hi))
    out.append("/// -ln 2/N, the rest (%s)." % hexf(lo))
    out.append("pub(super) const NEG_LN2_LO_N: f64 = f64::from_bits(%#018x);" % bits(lo))
    out.append("/// exp(r) ≈ 1 + r + C2·r² + … + C5·r⁵ on |r| ≤ ln 2/256: C2..C5.")
    out.append("pub(super) const POLY: [f64; 4] = [")
    for c in poly:
        out.append("    f64::from_bits(%#018x), // %s" % (bits(c), hexf(c)))
    out.append("];")
    out.append("/// For k in 0..N, 2^(k/N) ≈ H·(1 + T): `TAB[2k]` is T's bits, `TAB[2k+1]`")
    out.append("/// H's bits minus k << 45 (the exponent bits that `exp` adds back).")
    out.append("pub(super) static TAB: [u64; 2 * 128] = [")
    for k in range(N):
        out.append("    %#018x, %#018x," % (tab[2 * k], tab[2 * k + 1]))
    out.append("];")
    open("exp_table.rs", "w").write("\n".join(out) + "\n")


def write_ln(consts):
    ln2_hi, ln2_lo, poly, poly1, tab, tab2 = consts
    out = [HEADER.format(what="math::ln"), ""]
    out.append("/// ln 2, its high part: a multiple of 2^-43, so k·hi + logc is exact (%s)." % hexf(ln2_hi))
    out.append("pub(super) const LN2_HI: f64 = f64::from_bits(%#018x);" % bits(ln2_hi))
    out.append("/// ln 2, the rest (%s)." % hexf(ln2_lo))
    out.append("pub(super) const LN2_LO: f64 = f64::from_bits(%#018x);" % bits(ln2_lo))
    out.append("/// ln(1 + r) ≈ r + A0·r² + … + A4·r⁶ for |r| < 1/256: A0..A4.")
    out.append("pub(super) const POLY: [f64; 5] = [")
    for c in poly:
        out.append("    f64::from_bits(%#018x), // %s" % (bits(c), hexf(c)))
    out.append("];")
    out.append("/// ln(1 + r) ≈ r + B0·r² + … + B10·r¹² near x = 1: B0..B10.")
    out.append("pub(super) const POLY1: [f64; 11] = [")
    for c in poly1:
        out.append("    f64::from_bits(%#018x), // %s" % (bits(c), hexf(c)))
    out.append("];")
    out.append("/// For the ith of 128 subintervals of [0x1.6p-1, 0x1.6p0), a c near its")
    out.append("/// centre: the bits of (1/c, ln c), both rounded to nearest.")
    out.append("pub(super) static TAB: [[u64; 2]; 128] = [")
    for invc, logc in tab:
        out.append("    [%#018x, %#018x]," % (bits(invc), bits(logc)))
    out.append("];")
    out.append("/// The same c as the bits of (hi, lo), c = hi + lo to 2^-106 relative.")
    out.append("pub(super) static TAB2: [[u64; 2]; 128] = [")
    for chi, clo in tab2:
        out.append("    [%#018x, %#018x]," % (bits(chi), bits(clo)))
    out.append("];")
    open("ln_table.rs", "w").write("\n".join(out) + "\n")


HEADER = """//! The constants of {what}, written by tables.py (see its docstring for
//! how each was computed or checked). Do not edit by hand."""

if __name__ == "__main__":
    data = open(LIBM, "rb").read()
    write_exp(exp_constants(data))
    write_ln(ln_constants(data))
