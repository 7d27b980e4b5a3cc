//! A hint to the processor: start loading a value's cache lines now,
//! because it will be read soon. It changes no result, only when the data
//! arrives. In a large fleet most pools are out of cache when a request
//! reaches them, and without the hint every request waited for its pool,
//! then for the client found through it.

/// Start loading the cache lines of `value` (a no-op on processors other
/// than x86-64).
#[inline(always)]
#[allow(unsafe_code, reason = "the prefetch intrinsic takes a raw pointer")]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        const LINE: usize = 64;
        let start = (value as *const T).cast::<i8>();
        let address = start as usize;
        // Every line from the one holding the first byte to the one
        // holding the last.
        let mut line = address & !(LINE - 1);
        while line < address + size_of::<T>() {
            // SAFETY: a prefetch never faults, whatever the address, and
            // changes no memory or register the program can see.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(line.wrapping_sub(address))) };
            line += LINE;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_size_and_alignment_is_prefetched_without_touching_the_data() {
        // A smoke test of the line loop (it must end, whatever the size and
        // the offset in a line); that no result depends on the hint is
        // checked on whole runs (tests/runs.rs).
        fn at<const N: usize>(bytes: &[u8], offset: usize) {
            let value: &[u8; N] = bytes[offset..offset + N].try_into().unwrap();
            prefetch(value);
        }
        let bytes: Vec<u8> = (0..=255).cycle().take(4096).collect();
        for offset in [0, 1, 31, 63, 64, 65] {
            at::<0>(&bytes, offset);
            at::<1>(&bytes, offset);
            at::<63>(&bytes, offset);
            at::<64>(&bytes, offset);
            at::<65>(&bytes, offset);
            at::<1000>(&bytes, offset);
        }
        prefetch(&());
        prefetch(&[0u64; 100]);
        assert!(bytes.iter().enumerate().all(|(i, &b)| b == i as u8));
    }
}
