//! Staging names: `.pooldrill-staging-<hostname>-<pid>-<random>`, one per
//! output (a folder's staging folder, a single file's temporary file), and
//! the reaping of those a process of this host left behind when it died
//! (SIGKILL, a second signal, a power cut). Shards of a sweep may share a
//! network filesystem, where a PID means nothing on another host: only this
//! host's leftovers are removed, and only when their process is gone.

use std::path::Path;

/// The prefix of every staging name.
const PREFIX: &str = ".pooldrill-staging-";

/// This host's name, as it appears in staging names (characters other than
/// letters, digits, `.` and `_` replaced by `_`, so that `-` separates the
/// fields).
#[allow(unsafe_code, reason = "std has no safe call for the host name")]
pub fn host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let raw = if ok {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "localhost".to_owned()
    } else {
        name
    }
}

/// A new staging name, unique per call: this host, this process and 64
/// random bits.
pub fn new_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    // std seeds every RandomState from the system's random source.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    let random = h.finish();
    format!("{PREFIX}{}-{}-{random:016x}", host(), std::process::id())
}

/// The host and PID of a staging name.
fn parse(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix(PREFIX)?;
    let (rest, random) = rest.rsplit_once('-')?;
    let (host, pid) = rest.rsplit_once('-')?;
    (random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit())).then_some(())?;
    Some((host, pid.parse().ok()?))
}

/// Whether process `pid` of this host is alive.
#[allow(unsafe_code, reason = "std has no safe call to probe another process")]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    // EPERM: it exists, under another user.
    std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Remove from `dir` the staging folders and files of this host whose
/// process is gone; returns how many were removed. Errors are ignored: a
/// leftover that cannot be removed stays, as it would have anyway.
pub fn reap(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let here = host();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((host, pid)) = name.to_str().and_then(parse) else {
            continue;
        };
        if host != here || alive(pid) {
            continue;
        }
        let path = entry.path();
        let gone = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        removed += usize::from(gone.is_ok());
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back_with_a_host_holding_dashes() {
        let (a, b) = (new_name(), new_name());
        assert_ne!(a, b);
        assert_eq!(parse(&a), Some((host().as_str(), std::process::id())));
        assert_eq!(
            parse(".pooldrill-staging-node-7.cluster-4242-00000000deadbeef"),
            Some(("node-7.cluster", 4242))
        );
        assert_eq!(parse(".pooldrill-staging-4242"), None);
        assert_eq!(parse("summary.json"), None);
    }

    #[test]
    fn only_this_hosts_leftovers_of_dead_processes_are_reaped() {
        let tmp = tempfile::tempdir().unwrap();
        // PIDs above the kernel's limit (4194304) never live.
        let dead = format!("{PREFIX}{}-4194305-00000000deadbeef", host());
        let other_host = format!("{PREFIX}{}x-4194305-00000000deadbeef", host());
        let living = new_name();
        for name in [&dead, &other_host, &living] {
            std::fs::create_dir(tmp.path().join(name)).unwrap();
        }
        let dead_file = format!("{PREFIX}{}-4194306-00000000deadbeef", host());
        std::fs::write(tmp.path().join(&dead_file), "x").unwrap();
        assert_eq!(reap(tmp.path()), 2);
        assert!(!tmp.path().join(&dead).exists());
        assert!(!tmp.path().join(&dead_file).exists());
        assert!(tmp.path().join(&other_host).exists());
        assert!(tmp.path().join(&living).exists());
    }
}
