//! The adversary pass (docs/robustness.md): every command under each of the
//! things a careful user, or bad luck, does to it — a closed standard
//! output, SIGTERM in the middle of the work, an output path that is a
//! device node, a FIFO with no reader, a symbolic link or one of the
//! command's own input files, an oversized fleet, a sample interval of
//! 1 µs. Whatever happens: never exit 3 (a panic), never a special file,
//! link or input replaced, never a staging folder left behind, never a
//! folder that mixes two runs.

#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pooldrill");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// A scenario that runs in a few milliseconds (a copy in the scratch
/// folder: a test that fails must never damage the repository's files).
const SMALL: &str = "{dir}/mmc.toml";
/// The scenarios `replay` and `report` run.
const REPLAYED: [&str; 5] = ["before", "after", "fixed", "incident", "incident-as-told"];

/// A command line with `{out}` (an output folder or file) and `{dir}` (a
/// scratch folder of prepared inputs) to fill in.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    /// Whether `{out}` is one file (else a folder).
    single_file: bool,
}

/// Every command that writes an output, with a small input.
const WRITERS: [Case; 9] = [
    Case {
        name: "run",
        args: &["run", SMALL, "--duration", "600s", "--out", "{out}"],
        single_file: false,
    },
    Case {
        name: "run --openmetrics",
        args: &[
            "run",
            SMALL,
            "--duration",
            "600s",
            "--out",
            "{dir}/run",
            "--openmetrics",
            "{out}",
        ],
        single_file: true,
    },
    Case {
        name: "run --replications",
        args: &[
            "run",
            SMALL,
            "--duration",
            "600s",
            "--replications",
            "2",
            "--out",
            "{out}",
        ],
        single_file: false,
    },
    Case {
        name: "replay",
        args: &["replay", "--scenarios", "{dir}/scenarios", "--out", "{out}"],
        single_file: false,
    },
    Case {
        name: "compare",
        args: &[
            "compare",
            SMALL,
            "{dir}/mmcc.toml",
            "--replications",
            "2",
            "--duration",
            "600s",
            "--out",
            "{out}",
        ],
        single_file: false,
    },
    Case {
        name: "sweep",
        args: &[
            "sweep",
            SMALL,
            "--set",
            "pool.max=10,11",
            "--replications",
            "2",
            "--duration",
            "600s",
            "--out",
            "{out}",
        ],
        single_file: false,
    },
    Case {
        name: "merge",
        args: &["merge", "{dir}/shard-0", "{dir}/shard-1", "--out", "{out}"],
        single_file: false,
    },
    Case {
        name: "report",
        args: &["report", "--scenarios", "{dir}/scenarios", "--out", "{out}"],
        single_file: true,
    },
    Case {
        name: "alerts --write-test",
        args: &[
            "alerts",
            SMALL,
            "--rules",
            "{dir}/rules.yml",
            "--duration",
            "600s",
            "--write-test",
            "{out}",
        ],
        single_file: true,
    },
];

/// Prepared inputs: the replayed scenarios (shortened to `duration`, or
/// as shipped) and two shards of a sweep for `merge`.
fn inputs(duration: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("scenarios/theory/mmc.toml", "mmc.toml"),
        ("scenarios/theory/mmcc.toml", "mmcc.toml"),
        ("alerts/pool-exhaustion.yml", "rules.yml"),
    ] {
        fs::copy(Path::new(ROOT).join(from), dir.path().join(to)).unwrap();
    }
    let scenarios = dir.path().join("scenarios");
    fs::create_dir(&scenarios).unwrap();
    for name in REPLAYED {
        let text =
            fs::read_to_string(Path::new(ROOT).join(format!("scenarios/{name}.toml"))).unwrap();
        let text = match duration {
            Some(d) => text.replacen("duration = \"30m\"", &format!("duration = \"{d}\""), 1),
            None => text,
        };
        fs::write(scenarios.join(format!("{name}.toml")), text).unwrap();
    }
    for shard in 0..2 {
        let out = dir.path().join(format!("shard-{shard}"));
        let status = Command::new(BIN)
            .current_dir(dir.path())
            .args([
                "-q",
                "sweep",
                "mmc.toml",
                "--set",
                "pool.max=10,11",
                "--replications",
                "2",
                "--duration",
                "600s",
                "--shard",
                &format!("{shard}/2"),
                "--out",
            ])
            .arg(&out)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    dir
}

/// `case`'s arguments with `{out}` and `{dir}` filled in.
fn args(case: &Case, out: &Path, dir: &Path) -> Vec<String> {
    case.args
        .iter()
        .map(|a| {
            a.replace("{out}", &out.display().to_string())
                .replace("{dir}", &dir.display().to_string())
        })
        .collect()
}

fn pooldrill(args: &[String]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(ROOT).arg("-q").args(args);
    cmd
}

/// Run to the end, with a time bound: nothing may hang (a FIFO waited on).
fn finish(mut cmd: Command, what: &str) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(120));
        let _ = Command::new("kill")
            .args(["-KILL", &id.to_string()])
            .status();
    });
    let output = child.wait_with_output().unwrap();
    drop(watchdog);
    assert_ne!(
        output.status.code(),
        None,
        "{what}: killed (hung for two minutes?)"
    );
    output
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

/// Every path below `dir` (recursively), for finding leftovers.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return all;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() && !path.is_symlink() {
            all.extend(tree(&path));
        }
        all.push(path);
    }
    all.sort();
    all
}

fn no_staging_left(dir: &Path, what: &str) {
    let left: Vec<PathBuf> = tree(dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(".pooldrill-staging") || name.contains(".pooldrill-tmp")
        })
        .collect();
    assert!(left.is_empty(), "{what}: left behind {left:?}");
}

/// Every file below `dir` with its bytes.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// A FIFO at `path`.
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn an_output_path_that_is_special_or_an_input_is_never_replaced() {
    let inputs = inputs(None);
    let dir = inputs.path();
    for case in &WRITERS {
        // A FIFO with no reader: refused at once (or, for a folder, refused
        // as not a folder); it stays a FIFO.
        let fifo = dir.join("fifo");
        mkfifo(&fifo);
        let out = finish(pooldrill(&args(case, &fifo, dir)), case.name);
        assert_eq!(
            code(&out),
            2,
            "{}: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
            "{}",
            case.name
        );
        fs::remove_file(&fifo).unwrap();

        // The null device: written through (one file) or refused (a
        // folder); it stays a character device.
        let out = finish(
            pooldrill(&args(case, Path::new("/dev/null"), dir)),
            case.name,
        );
        let expected = if case.single_file { 0 } else { 2 };
        assert!(
            code(&out) == expected || (case.name.starts_with("alerts") && code(&out) == 1),
            "{}: exit {}: {}",
            case.name,
            code(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device(),
            "{} replaced /dev/null",
            case.name
        );

        // A symbolic link to a regular file: the link stays a link (one
        // file: written through it; a folder: refused, the file untouched).
        let target = dir.join("target.txt");
        fs::write(&target, "mine").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = finish(pooldrill(&args(case, &link, dir)), case.name);
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{}: the link was replaced",
            case.name
        );
        if case.single_file {
            assert!(
                matches!(code(&out), 0 | 1),
                "{}: exit {}",
                case.name,
                code(&out)
            );
        } else {
            assert_eq!(code(&out), 2, "{}", case.name);
            assert_eq!(
                fs::read_to_string(&target).unwrap(),
                "mine",
                "{}",
                case.name
            );
        }
        fs::remove_file(&link).unwrap();

        // One of the command's own inputs: refused, the input unchanged.
        let input = match case.name {
            "replay" | "report" => dir.join("scenarios/before.toml"),
            "merge" => dir.join("shard-0/replications.csv"),
            _ => dir.join("mmc.toml"),
        };
        let before = fs::read(&input).unwrap();
        let out = finish(pooldrill(&args(case, &input, dir)), case.name);
        assert_eq!(
            code(&out),
            2,
            "{}: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            fs::read(&input).unwrap(),
            before,
            "{}: its input changed",
            case.name
        );
        no_staging_left(dir, case.name);
    }
}

#[test]
fn sigterm_in_the_middle_leaves_the_previous_output_and_no_staging() {
    // The previous output comes from short runs; the interrupted runs are
    // long enough that the signal always lands mid-run.
    let short = inputs(None);
    let long = inputs(Some("8h"));
    for case in WRITERS.iter().filter(|c| c.name != "merge") {
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("result");
        let previous = finish(pooldrill(&args(case, &out, short.path())), case.name);
        assert!(
            matches!(code(&previous), 0 | 1),
            "{}: {}",
            case.name,
            String::from_utf8_lossy(&previous.stderr)
        );
        let before = contents(out_dir.path());
        assert!(!before.is_empty(), "{}: no previous output", case.name);
        let argv: Vec<String> = args(case, &out, long.path())
            .into_iter()
            .map(|a| if a == "600s" { "2000h".to_owned() } else { a })
            .collect();
        let mut child = pooldrill(&argv)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        let started = Instant::now();
        let kill = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(143), "{}: {stderr}", case.name);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}: slow to stop",
            case.name
        );
        assert_eq!(
            contents(out_dir.path()),
            before,
            "{}: the previous output changed",
            case.name
        );
        no_staging_left(out_dir.path(), case.name);
        no_staging_left(long.path(), case.name);
    }
}

#[test]
fn a_closed_stdout_is_never_a_panic() {
    let inputs = inputs(None);
    let dir = inputs.path();
    let readers = [
        Case {
            name: "check",
            args: &["check", SMALL],
            single_file: false,
        },
        Case {
            name: "plan",
            args: &["plan", SMALL],
            single_file: false,
        },
        Case {
            name: "dashboard",
            args: &["dashboard", SMALL, "--at", "5m"],
            single_file: false,
        },
        Case {
            name: "grafana-dashboard",
            args: &["grafana-dashboard", SMALL],
            single_file: true,
        },
    ];
    for case in WRITERS.iter().chain(&readers) {
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("result");
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let status = pooldrill(&args(case, &out, dir))
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let expected = if case.name == "grafana-dashboard" {
            vec![141]
        } else {
            vec![0, 1]
        };
        assert!(
            expected.contains(&code(&status)),
            "{}: exit {}: {}",
            case.name,
            code(&status),
            String::from_utf8_lossy(&status.stderr)
        );
        no_staging_left(out_dir.path(), case.name);
    }
}

/// A fleet of 10⁶ pods × 1024 workers, and a sample every microsecond:
/// every simulating command refuses them up front (exit 2), and with
/// nothing written.
#[test]
fn oversized_inputs_are_refused_by_every_simulating_command() {
    let shipped = fs::read_to_string(Path::new(ROOT).join("scenarios/before.toml")).unwrap();
    let edits: [(&str, String); 2] = [
        (
            "fleet",
            shipped.replacen("pods = 20", "pods = 1000000", 1).replacen(
                "workers = 4",
                "workers = 1024",
                1,
            ),
        ),
        (
            "interval",
            shipped.replacen("sample_interval = \"1s\"", "sample_interval = \"1us\"", 1),
        ),
    ];
    for (what, text) in edits {
        assert_ne!(text, shipped, "{what}: the edit did not apply");
        let inputs = inputs(None);
        let dir = inputs.path();
        for name in REPLAYED {
            fs::write(dir.join(format!("scenarios/{name}.toml")), &text).unwrap();
        }
        let file = dir.join("scenarios/before.toml").display().to_string();
        let out = dir.join("out").display().to_string();
        let scenarios = dir.join("scenarios").display().to_string();
        let commands: [Vec<&str>; 7] = [
            vec!["run", &file, "--out", &out],
            vec!["replay", "--scenarios", &scenarios, "--out", &out],
            vec!["compare", &file, &file, "--out", &out],
            vec!["sweep", &file, "--set", "pool.max=2,3", "--out", &out],
            vec!["report", "--scenarios", &scenarios, "--out", &out],
            vec!["dashboard", &file, "--at", "20m"],
            vec![
                "alerts",
                &file,
                "--rules",
                "alerts/pool-exhaustion.yml",
                "--write-test",
                &out,
            ],
        ];
        for argv in commands {
            let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
            let started = Instant::now();
            let output = finish(pooldrill(&argv), &argv[0]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(code(&output), 2, "{what}: {}: {stderr}", argv[0]);
            assert!(stderr.contains("--force"), "{what}: {}: {stderr}", argv[0]);
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{what}: {} took {:?} to refuse",
                argv[0],
                started.elapsed()
            );
            assert!(!dir.join("out").exists(), "{what}: {} wrote", argv[0]);
        }
    }
}
