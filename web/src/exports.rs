//! The wasm module's interface to JavaScript: plain `extern "C"` functions
//! over the module's memory. The page writes a request's UTF-8 bytes into a
//! buffer from [`pd_alloc`], calls [`pd_request`] (which frees it) and reads
//! the answer at the address in the high 32 bits of the result, of the
//! length in the low ones, then hands it back to [`pd_free`]. While a run
//! goes, the module calls the page's `env.progress(share_done)`.
#![allow(unsafe_code)]

unsafe extern "C" {
    /// The page's progress callback: the share of the simulated time done.
    fn progress(done: f64);
}

/// A buffer of `len` bytes for the page to write into.
#[unsafe(no_mangle)]
pub extern "C" fn pd_alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast()
}

/// Free a buffer from [`pd_alloc`] or an answer of [`pd_request`].
///
/// # Safety
/// `ptr` and `len` are exactly a buffer's, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pd_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller hands back a boxed slice of this length, once.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
}

/// Answer the JSON request in the buffer (`ptr`, `len`), which this frees:
/// the answer's address << 32 | its length.
///
/// # Safety
/// (`ptr`, `len`) is a buffer from [`pd_alloc`], not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pd_request(ptr: *mut u8, len: usize) -> u64 {
    // SAFETY: the caller hands over a boxed slice of this length.
    let bytes = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) };
    let answer = match std::str::from_utf8(&bytes) {
        // SAFETY: the page provides `progress`; it only posts a message.
        Ok(text) => super::respond(text, &mut |t| unsafe { progress(t) }),
        Err(_) => r#"{"error":"a request that is not UTF-8"}"#.to_owned(),
    };
    let answer = answer.into_bytes().into_boxed_slice();
    let len = answer.len();
    let at = Box::into_raw(answer).cast::<u8>();
    ((at as usize as u64) << 32) | len as u64
}
