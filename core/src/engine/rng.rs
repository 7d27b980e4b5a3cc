//! Seeded random streams.
//!
//! One portable generator ([`rand_pcg::Pcg64Mcg`], whose output for a given
//! seed is fixed by its crate) and a way to derive an independent stream for
//! every entity from the scenario seed: the stream of pod 7's arrivals depends
//! only on (seed, "arrivals", 7), never on how many other pods exist or in
//! which order streams were created.

use rand::SeedableRng;

/// The generator every stream uses.
pub type SimRng = rand_pcg::Pcg64Mcg;

/// SplitMix64's finaliser: a bijective 64-bit mixer with full avalanche.
pub const fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A 64-bit tag for a kind of stream, computed from its name at compile time.
pub const fn domain(name: &str) -> u64 {
    // FNV-1a over the bytes, then mixed.
    let bytes = name.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    mix64(h)
}

/// The seed of stream `id` of kind `domain` under the scenario seed `master`.
pub const fn derive_seed(master: u64, domain: u64, id: u64) -> u64 {
    mix64(mix64(master ^ domain) ^ mix64(id))
}

/// A generator for stream `id` of kind `domain`.
pub fn stream(master: u64, domain: u64, id: u64) -> SimRng {
    SimRng::seed_from_u64(derive_seed(master, domain, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let d = domain("arrivals");
        let a1 = stream(42, d, 3).next_u64();
        let a2 = stream(42, d, 3).next_u64();
        let b = stream(42, d, 4).next_u64();
        let c = stream(43, d, 3).next_u64();
        let e = stream(42, domain("holds"), 3).next_u64();
        assert_eq!(a1, a2);
        assert!(a1 != b && a1 != c && a1 != e);
    }

    const PINNED_FIRST: u64 = 17_938_312_237_280_875_920;
    const PINNED_SEED: u64 = 16_294_208_416_658_607_535;

    #[test]
    fn generator_output_is_pinned() {
        // Guards against a silent change of the generator or of seed
        // derivation: every golden output depends on these values.
        let mut r = stream(1, domain("pin"), 0);
        let first = r.next_u64();
        assert_eq!(first, PINNED_FIRST);
        assert_eq!(derive_seed(0, 0, 0), PINNED_SEED);
    }
}
