//! The page's answers against the core's own API and the CLI's rules.

use super::*;
use pooldrill_core::metrics::NullSink;
use pooldrill_core::scenario::overrides::hash_with;
use pooldrill_core::scenario::validate::{parse_with_files, source_hash};

const AFTER: &str = include_str!("../../scenarios/after.toml");
const TINY: &str = include_str!("../../tests/tiny.toml");

fn request(op: &str, source: &str, sets: &[&str], duration: Option<&str>) -> Value {
    let r = json!({
        "op": op, "name": "s.toml", "source": source, "sets": sets,
        "seed": "7", "duration": duration,
    });
    serde_json::from_str(&respond(&r.to_string(), &mut |_| {})).unwrap()
}

#[test]
fn a_runs_summary_is_the_cores_summary_json_with_the_sets_hash() {
    let sets = ["job.pool_mode=shared", "job.release=finally", "pool.max=6"];
    let answer = request("run", AFTER, &sets, Some("6m"));
    let parsed: Vec<Set> = sets.iter().map(|s| parse_set(s).unwrap()).collect();
    let overrides = Overrides {
        seed: Some(7),
        duration: Some("6m".parse().unwrap()),
    };
    let none = BTreeMap::new();
    let scenario = parse_with_sets("s.toml", AFTER, &parsed, overrides, &Dropped(&none)).unwrap();
    let summary = pooldrill_core::model::run(&scenario, &mut NullSink, RunOptions::default());
    let expected = serde_json::to_string_pretty(&summary.unwrap()).unwrap();
    assert_eq!(answer["summary"].as_str(), Some(expected.as_str()));
    assert!(expected.contains(&hash_with(&source_hash(AFTER), &parsed)));
    let chart = &answer["chart"];
    assert_eq!(chart["time_s"].as_array().unwrap().len(), 360);
    assert_eq!(chart["max_connections"], 500);
}

#[test]
fn a_bad_scenario_is_answered_with_the_clis_located_error() {
    let answer = request("run", TINY, &["pool.max=0"], None);
    assert_eq!(
        (answer["line"].as_u64(), answer["column"].as_u64()),
        (Some(15), Some(7))
    );
    let text = answer["error"].as_str().unwrap();
    assert!(
        text.starts_with("s.toml:15:7: pool.max: expected an integer"),
        "{text}"
    );
    let answer = request("run", "[meta\nname = 1", &[], None);
    assert_eq!(answer["line"].as_u64(), Some(1), "{answer}");
    let answer = request("run", TINY, &["pool.max=1..3"], None);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("expected one value")
    );
}

#[test]
fn the_download_holds_the_sets_seed_and_duration() {
    let answer = request("apply", TINY, &["pool.max=3"], Some("20s"));
    let text = answer["toml"].as_str().unwrap();
    let rerun = request("run", text, &[], None);
    let direct = request("run", TINY, &["pool.max=3"], Some("20s"));
    let figures = |a: &Value| {
        let mut v: Value = serde_json::from_str(a["summary"].as_str().unwrap()).unwrap();
        v["scenario"]["hash"] = Value::Null;
        v
    };
    assert_eq!(figures(&rerun), figures(&direct));
    let plain = json!({ "op": "apply", "name": "s.toml", "source": TINY });
    let answer: Value = serde_json::from_str(&respond(&plain.to_string(), &mut |_| {})).unwrap();
    assert_eq!(
        answer["toml"].as_str(),
        Some(TINY),
        "nothing to write in: the file as it is"
    );
}

/// The shipped example of a replayed incident: a scenario and the three
/// exports it names.
const OWN: &str = include_str!("../../scenarios/own-incident/own-incident.toml");
const OWN_FILES: [(&str, &str); 3] = [
    (
        "traffic.csv",
        include_str!("../../scenarios/own-incident/traffic.csv"),
    ),
    (
        "errors.csv",
        include_str!("../../scenarios/own-incident/errors.csv"),
    ),
    (
        "connections.csv",
        include_str!("../../scenarios/own-incident/connections.csv"),
    ),
];

#[test]
fn data_files_dropped_with_the_scenario_are_read_and_hashed() {
    let files: BTreeMap<String, Vec<u8>> = OWN_FILES
        .iter()
        .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
        .collect();
    let r = json!({ "op": "run", "name": "own-incident.toml", "source": OWN, "files": files });
    let answer: Value = serde_json::from_str(&respond(&r.to_string(), &mut |_| {})).unwrap();
    let scenario = parse_with_files(
        "own-incident.toml",
        OWN,
        Overrides::default(),
        &Dropped(&files),
    )
    .unwrap();
    assert_ne!(
        scenario.hash,
        source_hash(OWN),
        "the hash covers the data files"
    );
    let mut observed = pooldrill_core::metrics::observed::ObservedSink::new(&scenario.observed);
    let mut summary =
        pooldrill_core::model::run(&scenario, &mut observed, RunOptions::default()).unwrap();
    summary.observed = observed.scores(&scenario.observed);
    assert_eq!(summary.observed.len(), 2, "both exports scored");
    let expected = serde_json::to_string_pretty(&summary).unwrap();
    assert_eq!(answer["summary"].as_str(), Some(expected.as_str()));
}

#[test]
fn a_data_file_not_dropped_is_refused_at_the_key_that_names_it() {
    let answer = request("run", OWN, &[], None);
    let text = answer["error"].as_str().unwrap();
    assert!(text.contains("traffic.rate_from"), "{text}");
    assert!(
        text.contains("not on the page: drop traffic.csv together with the scenario file"),
        "{text}"
    );
    assert!(answer["line"].as_u64().unwrap() > 0);
}
