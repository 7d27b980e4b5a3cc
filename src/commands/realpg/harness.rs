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
use std::process::{Child, Command, Stdio};
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

/// Kill the process group led by `child` (the harness and its workers).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
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
    let status = loop {
        if interrupt::requested() {
            kill_group(&mut child);
            return Err(interrupt::Stopped.into());
        }
        match child.try_wait().context("waiting for the harness")? {
            Some(status) => break status,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    // Workers left behind by a harness that failed go with their group.
    kill_group(&mut child);
    if !status.success() {
        bail!("the harness failed ({status}) in real run {}", index + 1);
    }
    let text = std::fs::read_to_string(&out_path)
        .with_context(|| format!("reading {}", out_path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", out_path.display()))
}
