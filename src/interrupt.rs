//! Ctrl-C: the first one asks the running simulations to stop at their next
//! progress check (nothing is written), a second one exits at once.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Install the Ctrl-C handler (once per process).
pub fn catch() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Without a handler (unsupported platform) Ctrl-C kills the process,
        // which still leaves the previous output intact.
        let _ = ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    });
}

/// Whether Ctrl-C was pressed: progress callbacks return `!requested()`.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
