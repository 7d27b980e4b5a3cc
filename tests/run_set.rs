//! `run --set KEY=VALUE`: one value per key, written into the file as a
//! sweep writes a grid point's, errors at the key's place in the file, and
//! the scenario hash of a run with sets (docs/browser.md#the-scenario-hash).

use assert_cmd::Command;
use pooldrill::scenario::overrides::{Set, apply, hash_with, parse_set, parse_with_sets};
use pooldrill::scenario::validate::{NoFiles, Overrides, parse, source_hash};
use predicates::prelude::*;
use std::path::Path;

const TINY: &str = include_str!("tiny.toml");
const AFTER: &str = include_str!("../scenarios/after.toml");
const FIXED: &str = include_str!("../scenarios/fixed.toml");

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn set(option: &str) -> Set {
    parse_set(option).unwrap()
}

/// `run` of the file `name` (under the crate) with `args`, its summary.json.
fn summary(dir: &Path, name: &str, args: &[&str]) -> String {
    let out = dir.join(format!("out-{}", args.join("_").replace(['/', '"'], "")));
    pooldrill()
        .args(["run", name, "-q", "--out"])
        .arg(&out)
        .args(args)
        .assert()
        .success();
    std::fs::read_to_string(out.join("summary.json")).unwrap()
}

#[test]
fn values_parse_in_the_files_units_and_as_words() {
    assert_eq!(set("pool.max=6").value, toml::Value::Integer(6));
    assert_eq!(
        set("job.error_probability=0.2").value,
        toml::Value::Float(0.2)
    );
    assert_eq!(set("meta.duration=10m").value.as_str(), Some("600s"));
    assert_eq!(set("traffic.rate=120/min").value.as_str(), Some("2/s"));
    assert_eq!(set("job.pool_mode=shared").value.as_str(), Some("shared"));
    assert_eq!(
        set("fleet.shutdown_ends_pools=true").value,
        toml::Value::Boolean(true)
    );
    assert_eq!(
        set("meta.description=\"a, b\"").value.as_str(),
        Some("a, b")
    );
    assert_eq!(set(" pool.max = 6 ").to_string(), "pool.max=6");
    assert_eq!(
        set("job.release=finally").to_string(),
        "job.release=\"finally\""
    );
}

#[test]
fn bad_sets_say_what_was_expected() {
    let err = |o: &str| parse_set(o).unwrap_err();
    assert!(
        err("pool.max").contains("expected KEY=VALUE"),
        "{}",
        err("pool.max")
    );
    assert!(err("pool.max=4,6").contains("expected one value"));
    assert!(err("pool.max=4..6").contains("expected one value"));
    assert!(err("meta.seed=3").contains("use --seed"));
    assert!(err("traffic.rate_from=\"other.csv\"").contains("a data file's key"));
    assert!(err("observed[0].file=\"other.csv\"").contains("a data file's key"));
    assert!(err("pool..max=3").contains("dotted key path"));
    assert!(
        err("pool.max=a b").ends_with("found \"a b\""),
        "{}",
        err("pool.max=a b")
    );
}

#[test]
fn a_set_is_written_at_its_path_and_a_shared_job_drops_its_own_pool() {
    let text = apply(AFTER, &[set("pool.max=6"), set("job.pool_mode=shared")]).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(table["pool"]["max"].as_integer(), Some(6));
    assert_eq!(table["job"]["pool_mode"].as_str(), Some("shared"));
    assert!(table["job"].get("pool").is_none(), "{text}");
    let (path, message) = apply(TINY, &[set("pool.max=3"), set("pool.max=5")]).unwrap_err();
    assert_eq!(path, "pool.max");
    assert!(message.contains("expected each key once"), "{message}");
    let (path, message) = apply(TINY, &[set("job.fan_out=2")]).unwrap_err();
    assert_eq!(path, "job.fan_out");
    assert!(message.contains("no [job]"), "{message}");
}

#[test]
fn the_hash_covers_the_file_and_the_sorted_sets() {
    assert_eq!(hash_with(&source_hash(TINY), &[]), source_hash(TINY));
    let a = hash_with(
        &source_hash(TINY),
        &[set("pool.max=3"), set("traffic.rate=100/s")],
    );
    let b = hash_with(
        &source_hash(TINY),
        &[set("traffic.rate=100/s"), set("pool.max=3")],
    );
    assert_eq!(a, b, "the order of the sets does not matter");
    assert_eq!(
        a,
        source_hash(&format!(
            "{}\npool.max=3\ntraffic.rate=\"100/s\"\n",
            source_hash(TINY)
        ))
    );
    assert_ne!(
        a,
        hash_with(
            &source_hash(TINY),
            &[set("pool.max=4"), set("traffic.rate=100/s")]
        )
    );
    let s = parse_with_sets(
        "tiny.toml",
        TINY,
        &[set("pool.max=3")],
        Overrides::default(),
        &NoFiles,
    );
    assert_eq!(
        s.unwrap().hash,
        hash_with(&source_hash(TINY), &[set("pool.max=3")])
    );
}

#[test]
fn an_invalid_value_is_reported_at_the_key_in_the_file() {
    let e = parse_with_sets(
        "tiny.toml",
        TINY,
        &[set("pool.max=0")],
        Overrides::default(),
        &NoFiles,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column, e.path.as_str()), (15, 7, "pool.max"));
    assert!(
        e.message.ends_with("(with pool.max = 0 from --set)"),
        "{}",
        e.message
    );
}

#[test]
fn run_with_sets_gives_what_the_edited_file_gives_but_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    let sets = [
        "--set",
        "job.pool_mode=shared",
        "--set",
        "job.release=finally",
        "--set",
        "pool.max=6",
        "--duration",
        "6m",
    ];
    let with_sets = summary(dir.path(), "scenarios/after.toml", &sets);
    // The fixed recipe by hand: the same model, another file.
    let fixed = dir.path().join("after.toml");
    std::fs::write(
        &fixed,
        FIXED.replace("name = \"fixed\"", "name = \"after\""),
    )
    .unwrap();
    let by_hand = summary(dir.path(), fixed.to_str().unwrap(), &["--duration", "6m"]);
    let hash = hash_with(
        &source_hash(AFTER),
        &[
            set("job.pool_mode=shared"),
            set("job.release=finally"),
            set("pool.max=6"),
        ],
    );
    assert!(
        with_sets.contains(&format!("\"hash\": \"{hash}\"")),
        "{with_sets}"
    );
    let own_hash = parse("x", &std::fs::read_to_string(&fixed).unwrap())
        .unwrap()
        .hash;
    assert_eq!(with_sets.replace(&hash, &own_hash), by_hand);
}

#[test]
fn bad_sets_on_the_command_line_exit_2_with_the_location() {
    pooldrill()
        .args(["run", "tests/tiny.toml", "--set", "pool.max=0", "--out"])
        .arg(tempfile::tempdir().unwrap().path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tests/tiny.toml:15:7: pool.max: expected an integer from 1 to 100000, found 0 (with pool.max = 0 from --set)",
        ));
    pooldrill()
        .args(["run", "tests/tiny.toml", "--set", "pool.max=4,6"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--set pool.max=4,6: expected one value",
        ));
}
