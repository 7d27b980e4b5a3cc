//! Running the Node.js harness (`validation/harness.js`) for one real run:
//! it gets the resolved scenario as JSON and writes what it measured. The
//! harness and its worker processes form their own process group, which a
//! caught signal kills whole, so that no node process outlives the command.

use super::postgres::{Missing, Server};
use super::subset::Subset;
use crate::interrupt;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The harness folder of this source tree (`validation/`).
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("validation")
}

/// Check that `node` runs and that the harness's dependencies are installed.
pub fn check(dir: &Path) -> Result<()> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err(Missing("Node.js is not installed: `node` is not on PATH".into()).into());
    }
    if !dir.join("harness.js").is_file() {
        return Err(Missing(format!("no harness at {}/harness.js", dir.display())).into());
    }
    if !dir.join("node_modules/pg").is_dir() {
        return Err(Missing(format!(
            "the harness's dependencies are not installed: run `npm ci` in {}",
            dir.display()
        ))
        .into());
    }
    Ok(())
}

/// What one real run is told: the scenario's subset, the run's timing and
/// the server.
pub fn run_config(sub: &Subset, server: &Server, duration_s: f64, warmup_s: f64) -> Value {
    json!({
        "run": {"duration_s": duration_s, "warmup_s": warmup_s, "sample_interval_s": 1.0},
        "server": {
            "host": "127.0.0.1",
            "port": server.port,
            "socket_dir": server.socket_dir(),
            "app_user": "app",
            "database": "app",
            "superuser": "postgres",
        },
        "fleet": {"workers": sub.workers},
        "traffic": {"rate_per_s": sub.rate_per_s, "arrivals": sub.arrivals},
        "requests": sub.requests,
        "pool": sub.pool,
        "job": sub.job,
        "database": {"other_clients": sub.other_clients},
    })
}

/// Kill the process group led by `child` (the harness and its workers),
/// then reap `child`. Call it before `child` is reaped: until then its pid,
/// and so the group's id, cannot go to another process.
fn kill_group(child: &mut Child) -> std::io::Result<ExitStatus> {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    child.wait()
}

/// Whether `child` has exited, without reaping it (see [`kill_group`]).
#[allow(unsafe_code, reason = "std has no call to wait without reaping")]
fn exited(child: &Child) -> std::io::Result<bool> {
    // SAFETY: siginfo_t is plain data, for which all zeroes is valid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: waitid only writes into `info`; WNOWAIT leaves the child unreaped.
    if unsafe { libc::waitid(libc::P_PID, child.id(), &mut info, flags) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: with WNOHANG, si_pid is the child's pid once it has exited and
    // stays 0 while it runs.
    Ok(unsafe { info.si_pid() } != 0)
}

/// Run the harness in `dir` once with `config`; its measurements. A caught
/// signal kills the harness's process group and returns
/// [`interrupt::Stopped`].
pub fn run_once(dir: &Path, work: &Path, index: usize, config: &Value) -> Result<Value> {
    let cfg_path = work.join(format!("run-{index}.json"));
    let out_path = work.join(format!("real-{index}.json"));
    std::fs::write(&cfg_path, serde_json::to_vec_pretty(config)?)
        .with_context(|| format!("writing {}", cfg_path.display()))?;
    let mut child = Command::new("node")
        .arg(dir.join("harness.js"))
        .arg(&cfg_path)
        .arg(&out_path)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .context("starting node harness.js")?;
    loop {
        if interrupt::requested() {
            let _ = kill_group(&mut child);
            return Err(interrupt::Stopped.into());
        }
        match exited(&child) {
            Ok(true) => break,
            Ok(false) => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => {
                let _ = kill_group(&mut child);
                return Err(error).context("waiting for the harness");
            }
        }
    }
    // Workers left behind by a harness that failed go with their group.
    let status = kill_group(&mut child).context("waiting for the harness")?;
    if !status.success() {
        bail!("the harness failed ({status}) in real run {}", index + 1);
    }
    let text = std::fs::read_to_string(&out_path)
        .with_context(|| format!("reading {}", out_path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", out_path.display()))
}
