//! Counts, sizes and times in the guard's messages, for people.

/// `x` rounded up to one significant digit, as `2e12`.
pub(super) fn round_up(x: f64) -> String {
    let exp = x.max(1.0).log10().floor();
    let digit = (x / 10f64.powf(exp)).ceil();
    if digit >= 10.0 {
        format!("1e{}", exp + 1.0)
    } else {
        format!("{digit}e{exp}")
    }
}

/// `3.6 M`, `2.1e12`: a count for people.
pub(super) fn count(n: f64) -> String {
    match n {
        n if n < 1e4 => format!("{n:.0}"),
        n if n < 1e6 => format!("{:.0} k", n / 1e3),
        n if n < 1e9 => format!("{:.1} M", n / 1e6),
        n => format!("{n:.1e}"),
    }
}

/// `12 MB`, `3.4 GB`, `26 TB`, `2.0e15 bytes`.
pub(super) fn bytes(b: f64) -> String {
    let (value, unit) = match b {
        b if b < 1e6 => (b / 1e3, "kB"),
        b if b < 1e9 => (b / 1e6, "MB"),
        b if b < 1e12 => (b / 1e9, "GB"),
        b if b < 1e15 => (b / 1e12, "TB"),
        b => return format!("{b:.1e} bytes"),
    };
    if value < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// `under a second`, `about 40 s`, `about 12 min`, `about 5.2 h`,
/// `about 3.1 days`, `about 19 years`, `about 2.0e4 years`.
pub(super) fn human_time(s: f64) -> String {
    let years = s / (365.25 * 86400.0);
    let about = match s {
        s if s < 1.0 => return "under a second".to_owned(),
        s if s < 90.0 => format!("{s:.0} s"),
        s if s < 5400.0 => format!("{:.0} min", s / 60.0),
        s if s < 2.0 * 86400.0 => format!("{:.1} h", s / 3600.0),
        s if s < 365.0 * 86400.0 => format!("{:.1} days", s / 86400.0),
        _ if years < 1000.0 => format!("{years:.0} years"),
        _ => format!("{years:.1e} years"),
    };
    format!("about {about}")
}

/// `b` bytes rounded up to two significant digits, as `--max-output`
/// takes it: `11GB`, `510MB`.
pub(super) fn bytes_flag(b: f64) -> String {
    let (value, unit) = match b {
        b if b < 1e9 => (b / 1e6, "MB"),
        b if b < 1e12 => (b / 1e9, "GB"),
        b => (b / 1e12, "TB"),
    };
    let step = 10f64.powf((value.max(10.0).log10().floor() - 1.0).max(0.0));
    format!("{}{unit}", (value / step).ceil() * step)
}
