//! The dashboard: a frame's rendering (snapshot), the states it is drawn
//! from (checked against the series and the event log of the same run), and
//! the command on a pipe.

use assert_cmd::Command;
use pooldrill::metrics::{LogEntry, LogKind, MemorySink, PodRow, SeriesRow, Tee};
use pooldrill::model::{RunOptions, Simulation};
use pooldrill::scenario::{Scenario, Severity};
use pooldrill::tui::{AlertState, Panel, Snapshot, SnapshotSink};
use predicates::prelude::*;

/// A small fleet whose v2 job leaks into a small server: refusals within
/// minutes, a rollback, an alert that fires and a page that may.
const DRILL: &str = r#"
[meta]
name = "drill"
start = "14:00"
duration = "10m"
seed = 7
version = "v1"

[fleet]
pods = 4
workers = 2

[traffic]
rate = "400/s"

[pool]
max = 10
acquire_timeout = "2s"

[database]
max_connections = 60
other_clients = 2

[versions."v1"]

[versions."v2".job]
period = "5s"
fan_out = 2
error_probability = 0.5
pool_mode = "own"
release = "leaky"

[[events]]
at = "14:03"
kind = "deploy"
version = "v2"
pod_startup = "10s"

[[events]]
at = "14:07"
kind = "rollback"
pod_startup = "10s"

[[alerts]]
name = "Refusals"
metric = "refusals_per_s"
op = ">"
threshold = 0
window = "1m"
severity = "warning"

[[alerts]]
name = "ErrorsPage"
metric = "error_rate"
op = ">"
threshold = 0.05
window = "1m"
for = "2m"
severity = "page"
"#;

fn drill() -> Scenario {
    Scenario::parse("drill.toml", DRILL).unwrap_or_else(|e| panic!("{e}"))
}

fn pod(pod: u32, version: &str, state: &str, open: u32, capacity: u32, waiters: u32) -> PodRow {
    PodRow {
        time_s: 200.0,
        pod,
        version: version.into(),
        state: state.into(),
        open,
        checked_out: open / 3,
        waiters,
        capacity,
        utilisation: open as f64 / capacity.max(1) as f64,
    }
}

fn event(time_s: f64, clock: &str, kind: LogKind, pod: Option<u32>, detail: &str) -> LogEntry {
    LogEntry {
        time_s,
        clock: clock.into(),
        kind,
        pod,
        detail: detail.into(),
        version: None,
    }
}

/// The middle of a rollout: old pods terminating, a new one starting, a
/// pool with waiters, leaked connections, one alert firing and the page
/// pending.
fn rollout_snapshot() -> (Snapshot, Vec<LogEntry>) {
    let snapshot = Snapshot {
        row: SeriesRow {
            time_s: 200.0,
            arrivals: 402,
            answered: 400,
            failed: 5,
            error_rate: Some(0.0125),
            refusals: 5,
            open_request_pools: 30,
            open_job_pools: 4,
            open_leaked: 12,
            db_occupied: 48,
            connecting: 1,
            checked_out: 9,
            idle: 24,
            waiters: 3,
            ..SeriesRow::default()
        },
        pods: vec![
            pod(0, "v1", "terminating", 9, 20, 0),
            pod(1, "v1", "terminating", 8, 20, 0),
            pod(2, "v1", "ready", 10, 20, 0),
            pod(4, "v2", "ready", 27, 30, 3),
            pod(5, "v2", "starting", 0, 0, 0),
        ],
        alerts: vec![
            AlertState {
                name: "Refusals".into(),
                severity: Severity::Warning,
                firing: true,
                since_s: 195.0,
            },
            AlertState {
                name: "ErrorsPage".into(),
                severity: Severity::Page,
                firing: false,
                since_s: 195.0,
            },
        ],
        events: Vec::new(),
    };
    let events = vec![
        event(
            180.0,
            "14:03",
            LogKind::Deploy,
            None,
            "v2, rolling (surge 1, unavailable 1)",
        ),
        event(
            192.4,
            "14:03:12",
            LogKind::FirstRefusal,
            Some(4),
            "a request was refused by PostgreSQL (53300)",
        ),
        event(
            195.0,
            "14:03:15",
            LogKind::AlertFiring,
            None,
            "Refusals (value 0.0833)",
        ),
    ];
    (snapshot, events)
}

#[test]
fn a_frame_during_a_rollout() {
    let scenario = drill();
    let (snapshot, events) = rollout_snapshot();
    let panel = Panel {
        scenario: &scenario,
        snapshot: &snapshot,
        events: &events,
        status: None,
    };
    let frame = panel.plain(80);
    insta::assert_snapshot!("frame_during_a_rollout", frame);
    for line in frame.lines() {
        assert_eq!(
            line.chars().count(),
            80,
            "every line fills the width: {line}"
        );
    }
    assert!(!frame.contains('\u{1b}'), "no escape code in a plain frame");
    assert_eq!(frame.lines().count(), panel.height(80) as usize);
}

#[test]
fn a_short_terminal_shows_the_pods_that_fit_and_counts_the_rest() {
    let scenario = drill();
    let (snapshot, events) = rollout_snapshot();
    let panel = Panel {
        scenario: &scenario,
        snapshot: &snapshot,
        events: &events,
        status: Some("▶ 60x"),
    };
    // 50 columns: one pod per line, five lines needed.
    let full = panel.height(50);
    let area = ratatui::layout::Rect::new(0, 0, 50, full - 3);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    ratatui::widgets::Widget::render(&panel, area, &mut buf);
    let text: String = (0..area.height)
        .map(|y| {
            let row: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
            row + "\n"
        })
        .collect();
    assert!(text.contains("… and 4 more pods"), "{text}");
    assert!(text.contains("Pod 0 "), "{text}");
    assert!(!text.contains("Pod 5 "), "{text}");
    assert!(
        text.contains("▶ 60x"),
        "the status sits on the bottom border: {text}"
    );
    assert!(text.lines().last().unwrap().starts_with('└'), "{text}");
}

/// Every snapshot carries the row and the pods of its instant, and the
/// alerts and events of the log up to that instant.
#[test]
fn snapshots_follow_the_series_and_the_event_log() {
    let scenario = drill();
    let mut memory = MemorySink::default();
    let mut snapshots = Vec::new();
    {
        let mut sink = SnapshotSink::new(&scenario.alerts, |s| {
            snapshots.push(s);
            Ok(())
        });
        let mut tee = Tee(vec![&mut memory, &mut sink]);
        Simulation::new(&scenario, RunOptions::default())
            .run(&mut tee, |_| true)
            .unwrap();
        drop(tee);
        sink.finish().unwrap();
    }
    assert_eq!(snapshots.len(), memory.rows.len());
    assert_eq!(snapshots.len(), 600, "one per second of ten minutes");
    let mut firing: Vec<String> = Vec::new();
    let mut next_event = 0;
    let mut shown = 0;
    for (s, row) in snapshots.iter().zip(&memory.rows) {
        assert_eq!(&s.row, row);
        let pods: Vec<&PodRow> = memory
            .pods
            .iter()
            .filter(|p| p.time_s == row.time_s)
            .collect();
        assert_eq!(s.pods.len(), pods.len(), "at {}", row.time_s);
        assert!(s.pods.windows(2).all(|w| w[0].pod < w[1].pod));
        while let Some(e) = memory
            .events
            .get(next_event)
            .filter(|e| e.time_s <= row.time_s)
        {
            let name = e.detail.split(' ').next().unwrap().to_owned();
            match e.kind {
                LogKind::AlertFiring => firing.push(name),
                LogKind::AlertResolved => firing.retain(|n| *n != name),
                _ => {}
            }
            next_event += 1;
        }
        let mut have: Vec<String> = s
            .alerts
            .iter()
            .filter(|a| a.firing)
            .map(|a| a.name.clone())
            .collect();
        have.sort();
        let mut want = firing.clone();
        want.sort();
        assert_eq!(have, want, "alerts firing at {}", row.time_s);
        shown += s.events.len();
        assert!(s.events.iter().all(|e| e.time_s <= row.time_s));
    }
    let expected = memory.events.iter().filter(|e| e.kind.is_notable()).count();
    assert_eq!(shown, expected, "every listed event lands in one snapshot");
    assert!(
        memory.events.iter().any(|e| e.kind == LogKind::AlertFiring),
        "the drill fires an alert"
    );
    assert!(
        snapshots.iter().any(|s| s.row.open_leaked > 0),
        "the drill leaks"
    );
}

fn drill_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("drill.toml");
    std::fs::write(&file, DRILL).unwrap();
    (dir, file)
}

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.env("TERM", "xterm-256color");
    cmd
}

#[test]
fn at_a_moment_on_a_pipe_prints_one_plain_frame() {
    let (_dir, file) = drill_file();
    let out = pooldrill()
        .args(["dashboard", "--at", "14:05:30", "--width", "100"])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let frame = String::from_utf8(out).unwrap();
    assert!(!frame.contains('\u{1b}'), "{frame}");
    assert!(frame.starts_with('┌'), "{frame}");
    assert!(frame.contains("Connection Pool Health · drill"), "{frame}");
    assert!(frame.contains("14:05:30 ·"), "{frame}");
    assert!(frame.contains("deploy: v2, rolling"), "{frame}");
    assert!(
        frame.contains("/ 55 usable"),
        "60 − 3 reserved − 2 other: {frame}"
    );
    assert!(frame.lines().all(|l| l.chars().count() == 100), "{frame}");
    let same = pooldrill()
        .args(["dashboard", "--at", "5m30s", "--width", "100"])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(frame.as_bytes(), same, "a time of day or from the start");
}

#[test]
fn times_of_day_past_midnight_are_on_the_next_day() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("midnight.toml");
    let midnight = DRILL
        .replace("\"14:00\"", "\"23:59\"")
        .replace("\"14:03\"", "\"00:02\"")
        .replace("\"14:07\"", "\"00:06\"");
    std::fs::write(&file, midnight).unwrap();
    let at = |moment: &str| {
        pooldrill()
            .args(["dashboard", "--at", moment])
            .arg(&file)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let frame = String::from_utf8(at("00:05")).unwrap();
    assert!(frame.contains("00:05:00 ·"), "{frame}");
    assert!(frame.contains("deploy: v2, rolling"), "{frame}");
    assert_eq!(frame.as_bytes(), at("6m"), "00:05 is 6 minutes after 23:59");
}

#[test]
fn play_on_a_dumb_terminal_prints_a_frame_per_interval_and_per_transition() {
    let (_dir, file) = drill_file();
    let out = pooldrill()
        .env("TERM", "dumb")
        .args([
            "dashboard",
            "--play",
            "--speed",
            "1000000x",
            "--every",
            "2m",
        ])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains('\u{1b}'));
    let times: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Connection Pool Health"))
        .map(|l| {
            l.split_whitespace()
                .find(|w| w.len() == 8 && w.as_bytes()[2] == b':')
                .unwrap()
        })
        .collect();
    assert!(
        times.len() >= 7,
        "5 intervals, the deploy, the rollback: {times:?}"
    );
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert_eq!(times[0], "14:00:01");
    assert_eq!(
        *times.last().unwrap(),
        "14:10:00",
        "the last state is shown"
    );
    assert!(
        times.contains(&"14:03:00"),
        "a frame at the deploy: {times:?}"
    );
    assert!(
        times.contains(&"14:07:00"),
        "a frame at the rollback: {times:?}"
    );
    let from = pooldrill()
        .env("TERM", "dumb")
        .args([
            "dashboard",
            "--play",
            "--speed",
            "1000000x",
            "--from",
            "14:08",
        ])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let from = String::from_utf8(from).unwrap();
    assert!(from.contains("14:08:00 ·"), "{from}");
    assert!(!from.contains("14:07:59 ·"), "{from}");
    assert!(
        from.contains("rollback: back to v1"),
        "earlier events stay listed"
    );
}

#[test]
fn bad_moments_and_flags_exit_2_with_a_clear_message() {
    let (_dir, file) = drill_file();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--at", "16:00"],
            "--at 16:00 is after the end of the run (14:10)",
        ),
        (
            &["--at", "13:00"],
            "--at 13:00 is after the end of the run (14:10; a time of day before the start is on the next day)",
        ),
        (&["--at", "soon"], "expected a time of day like \"14:28\""),
        (&["--play", "--speed", "0x"], "expected a speed above zero"),
        (&["--at", "1m", "--play"], "cannot be used with"),
        (&[], "--at"),
    ];
    for (args, message) in cases {
        pooldrill()
            .arg("dashboard")
            .arg(&file)
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    let no_start = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(no_start.path(), "[meta]\nname = \"x\"\nduration = \"1m\"\n").unwrap();
    pooldrill()
        .arg("dashboard")
        .arg(no_start.path())
        .args(["--at", "14:00"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no meta.start"));
    pooldrill()
        .args(["dashboard", "missing.toml", "--at", "1m"])
        .assert()
        .code(2);
}

#[test]
fn ctrl_c_stops_a_plain_playback_with_exit_130() {
    use std::io::BufRead;
    let (_dir, file) = drill_file();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pooldrill"))
        .env("TERM", "dumb")
        .args(["dashboard", "--play", "--speed", "10x"])
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first frame is out: the playback is under way, the next frame a
    // minute of simulated time (6 s) away.
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        lines
            .by_ref()
            .any(|l| l.unwrap().contains("Connection Pool Health"))
    );
    let sent = std::time::Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(3),
        "stopped at once, not at the next frame: {:?}",
        sent.elapsed()
    );
}

#[test]
fn a_second_signal_in_full_screen_still_restores_the_terminal() {
    use std::io::Read;
    let (dir, file) = drill_file();
    let pid_file = dir.path().join("pid");
    // `script` gives the dashboard a terminal and copies what it draws.
    let inner = format!(
        "echo $$ > '{}'; exec '{}' dashboard --play --speed 10x '{}'",
        pid_file.display(),
        env!("CARGO_BIN_EXE_pooldrill"),
        file.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qfec", &inner, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux's script");
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let enter = b"\x1b[?1049h";
    while !seen.windows(enter.len()).any(|w| w == enter) {
        let mut buf = [0; 4096];
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "no full screen: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    // Two signals a few microseconds apart (the shell's own `kill`): the
    // second one comes while the screen is still up, and exits at once.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let both = format!("kill -HUP {0} && kill -TERM {0}", pid.trim());
    let kill = std::process::Command::new("sh")
        .args(["-c", &both])
        .status()
        .unwrap();
    assert!(kill.success());
    stdout.read_to_end(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    let at = seen.windows(enter.len()).position(|w| w == enter).unwrap();
    let leave = b"\x1b[?1049l";
    assert!(
        seen[at..].windows(leave.len()).any(|w| w == leave),
        "the terminal was left in the alternate screen"
    );
}
