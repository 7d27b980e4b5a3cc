//! SIGINT (Ctrl-C), SIGTERM and SIGHUP: the first one asks the running
//! simulations to stop at their next progress check (nothing is committed,
//! the previous output stays), and the command then exits with 128 + the
//! signal's number (130, 143, 129). A second signal exits at once, except
//! while a set of files is being renamed into place ([`hold`]): then it
//! exits as soon as that commit is complete, so a folder never mixes two
//! runs. Before any such exit, what [`before_exit`] registered runs (the
//! dashboard restores the terminal).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once};

/// The first signal caught, or 0.
static CAUGHT: AtomicI32 = AtomicI32::new(0);

/// Commits in progress, and the exit code a second signal asked for meanwhile.
static HOLD: Mutex<(usize, Option<i32>)> = Mutex::new((0, None));

/// What runs before a second signal exits the process, if anything.
static BEFORE_EXIT: Mutex<Option<fn()>> = Mutex::new(None);

/// The signals handled.
const SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
];

/// Install the handler of SIGINT, SIGTERM and SIGHUP (once per process).
pub fn catch() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Without a handler (it cannot be installed) a signal kills the
        // process, which still leaves the previous output intact.
        if let Ok(mut signals) = signal_hook::iterator::Signals::new(SIGNALS) {
            std::thread::spawn(move || {
                for signal in signals.forever() {
                    on_signal(signal);
                }
            });
        }
    });
}

/// The first signal asks to stop; a later one exits (at once, or when the
/// commit in progress is complete).
fn on_signal(signal: i32) {
    if CAUGHT
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        return;
    }
    let mut hold = HOLD.lock().unwrap_or_else(|e| e.into_inner());
    if hold.0 == 0 {
        exit(128 + signal);
    }
    hold.1 = Some(128 + signal);
}

/// Exit with `code`, first running what [`before_exit`] registered.
fn exit(code: i32) -> ! {
    let last = BEFORE_EXIT.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(last) = last {
        last();
    }
    std::process::exit(code)
}

/// While the returned guard lives, a signal that exits the process at once
/// runs `last` first (e.g. to restore the terminal).
pub fn before_exit(last: fn()) -> BeforeExit {
    *BEFORE_EXIT.lock().unwrap_or_else(|e| e.into_inner()) = Some(last);
    BeforeExit(())
}

/// See [`before_exit`].
pub struct BeforeExit(());

impl Drop for BeforeExit {
    fn drop(&mut self) {
        *BEFORE_EXIT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Whether a signal asked the command to stop: progress callbacks return
/// `!requested()`.
pub fn requested() -> bool {
    CAUGHT.load(Ordering::SeqCst) != 0
}

/// The exit code of the signal caught (128 + its number: 130 for SIGINT,
/// 143 for SIGTERM, 129 for SIGHUP), if one was.
pub fn exit_code() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(128 + signal),
    }
}

/// The name of the signal caught ("a signal" if none was).
pub fn signal_name() -> &'static str {
    match CAUGHT.load(Ordering::SeqCst) {
        signal_hook::consts::SIGINT => "SIGINT (Ctrl-C)",
        signal_hook::consts::SIGTERM => "SIGTERM",
        signal_hook::consts::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// A command stopped by a signal before it committed its outputs.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted by {}: nothing written, the previous output left as it was",
    signal_name()
)]
pub struct Stopped;

/// While the returned guard lives, a second signal does not exit at once
/// but when the guard is dropped: for renaming a set of files into place.
pub fn hold() -> Hold {
    HOLD.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
    Hold(())
}

/// See [`hold`].
pub struct Hold(());

impl Drop for Hold {
    fn drop(&mut self) {
        let mut hold = HOLD.lock().unwrap_or_else(|e| e.into_inner());
        hold.0 -= 1;
        if let (0, Some(code)) = *hold {
            exit(code);
        }
    }
}
