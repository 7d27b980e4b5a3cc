//! Standard output, the only place that writes to it.
//!
//! Most commands print a *report* there (a summary beside the files they
//! commit): when the reader has gone (`pooldrill check … | head -1`), the
//! rest of the report is dropped silently and the command carries on, commits
//! its files and exits with its own code. [`outln!`] and [`out!`] print such
//! lines. A command whose stdout *is* the product (`grafana-dashboard`)
//! writes with [`product`] instead: a closed stdout ends it with [`Closed`],
//! exit 141 (128 + SIGPIPE), as a shell pipeline expects.
//!
//! SIGPIPE keeps Rust's setting (ignored), so a closed pipe is an error
//! returned by the write, never a signal that kills a run before it commits.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a report write failed: nothing more is printed.
static GONE: AtomicBool = AtomicBool::new(false);

/// Standard output was closed while it carried the command's product.
#[derive(Debug, thiserror::Error)]
#[error("standard output closed")]
pub struct Closed;

/// The exit code of a command whose product could not be written because
/// standard output was closed: 128 + SIGPIPE.
pub const CLOSED_EXIT_CODE: i32 = 141;

/// Print report text (see the module documentation; use [`out!`] and
/// [`outln!`]). A closed stdout drops this and every later report line
/// without a word; another write error (a full disk behind `>`) is said
/// once on stderr, then the same.
pub fn report(args: fmt::Arguments) {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = write_all(&mut io::stdout().lock(), args) {
        GONE.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!(
                "warning: cannot write to standard output ({e}); the rest of the report is not printed"
            );
        }
    }
}

/// Whether report lines can still reach a reader (false once a write to
/// standard output failed).
pub fn open() -> bool {
    !GONE.load(Ordering::Relaxed)
}

/// Write the command's product: a closed stdout is [`Closed`] (exit 141),
/// another write error an I/O error (exit 2).
pub fn product(args: fmt::Arguments) -> anyhow::Result<()> {
    write_product(&mut io::stdout().lock(), args)
}

/// Standard output as a writer of the command's product, for products
/// written in pieces (`--openmetrics -`): a closed stdout is an I/O error
/// that [`is_closed`] recognises (exit 141).
pub struct Product;

impl Write for Product {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::stdout().write(buf).map_err(closed)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush().map_err(closed)
    }
}

/// A broken pipe as [`Closed`], any other error as it is.
fn closed(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        io::Error::new(io::ErrorKind::BrokenPipe, Closed)
    } else {
        e
    }
}

/// Whether `e` is a closed standard output met by [`Product`].
pub fn is_closed(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Closed>())
}

fn write_product(out: &mut dyn Write, args: fmt::Arguments) -> anyhow::Result<()> {
    match write_all(out, args) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Closed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
    }
}

/// Write and flush, so that a failure is seen by the call that caused it.
fn write_all(out: &mut dyn Write, args: fmt::Arguments) -> io::Result<()> {
    out.write_fmt(args)?;
    out.flush()
}

/// `print!` for report text: see [`report`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::report(format_args!($($arg)*))
    };
}

/// `println!` for report text: see [`report`].
macro_rules! outln {
    () => {
        $crate::stdout::report(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout::report(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The commands' exit code turns [`Closed`] into 141 (tested there).
    #[test]
    fn a_closed_pipe_under_the_product_is_closed_and_another_error_is_not() {
        let e = write_product(&mut ClosedPipe, format_args!("{{}}")).unwrap_err();
        assert!(e.downcast_ref::<Closed>().is_some());
        let mut full: &mut [u8] = &mut [];
        let e = write_product(&mut full, format_args!("{{}}")).unwrap_err();
        assert!(e.downcast_ref::<Closed>().is_none());
        let io = e.downcast_ref::<io::Error>().expect("an I/O error");
        assert!(!is_closed(io));
    }
}
