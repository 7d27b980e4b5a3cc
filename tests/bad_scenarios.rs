//! The malformed-scenario corpus: every file in `tests/bad-scenarios/` is
//! refused with a message naming the file, line, column and key path, what
//! was expected and what was found. Each message is kept as an insta
//! snapshot (`tests/snapshots/bad_scenarios__<file>.snap`).
//!
//! Integration tests run from the crate root, so files are named by their
//! relative path and the snapshots are portable.

use pooldrill::scenario::validate::Overrides;
use pooldrill::scenario_file::load_file;
use std::path::{Path, PathBuf};

const CORPUS: &str = "tests/bad-scenarios";

/// Files that are wrong as a whole (encoding, emptiness): no key to name.
const WHOLE_FILE: [&str; 5] = [
    "binary-garbage",
    "empty",
    "latin1",
    "utf16",
    "whitespace-only",
];

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .expect("the corpus folder")
        .map(|e| e.expect("a corpus entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The error for a corpus file (panics if the file is accepted).
fn refusal(path: &Path) -> pooldrill::scenario::ScenarioError {
    match load_file(path, Overrides::default()) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(e) => e,
    }
}

#[test]
fn every_bad_scenario_gets_its_expected_message() {
    let files = corpus();
    assert!(
        files.len() >= 40,
        "only {} files in the corpus",
        files.len()
    );
    for path in &files {
        insta::assert_snapshot!(stem(path), refusal(path).to_string());
    }
}

#[test]
fn every_message_names_file_line_column_key_expected_and_found() {
    for path in corpus() {
        let e = refusal(&path);
        let shown = e.to_string();
        let location = format!("{}:{}:{}: ", path.display(), e.line, e.column);
        assert!(e.line > 0 && e.column > 0, "no position: {shown}");
        assert!(shown.starts_with(&location), "{shown}");
        if !WHOLE_FILE.contains(&stem(&path).as_str()) {
            assert!(!e.path.is_empty(), "no key path: {shown}");
            assert!(shown.starts_with(&format!("{location}{}: ", e.path)));
        }
        let expected = e.message.find("expected");
        let found = e.message.find("found");
        assert!(
            expected < found && expected.is_some(),
            "expected, found: {shown}"
        );
        if e.line > 0 {
            let snippet = e.snippet.as_deref().unwrap_or_default();
            assert!(
                shown.contains('^') || snippet.is_empty() || e.column > 121,
                "a caret under the culprit: {shown}"
            );
        }
    }
}

#[test]
fn typos_get_a_suggestion() {
    for (file, hint) in [
        ("unknown-key-typo", "did you mean `idle_timeout`?"),
        ("unknown-table-typo", "did you mean `pool`?"),
        ("unknown-enum-value", "did you mean \"round_robin\"?"),
        ("unknown-event-key", "did you mean `enabled`?"),
        ("deploy-unknown-version", "did you mean \"v2.3.0\"?"),
    ] {
        let path = Path::new(CORPUS).join(format!("{file}.toml"));
        let shown = refusal(&path).to_string();
        assert!(shown.contains(hint), "{shown}");
    }
    let far = refusal(&Path::new(CORPUS).join("unknown-key-far-from-any.toml")).to_string();
    assert!(!far.contains("did you mean"), "{far}");
}

#[test]
fn a_50_mb_file_is_refused_before_it_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("huge.toml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    let e = refusal(&path);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: expected a scenario file of at most 1 MiB, found 50.0 MiB",
            path.display()
        )
    );
}

#[test]
fn unreadable_paths_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.toml");
    assert!(
        refusal(&missing)
            .to_string()
            .ends_with("missing.toml: cannot read the file: no such file")
    );
    assert!(
        refusal(tmp.path())
            .to_string()
            .ends_with(": expected a scenario file, found a directory")
    );
}

/// A device that never ends is read no further than the size cap.
#[cfg(target_os = "linux")]
#[test]
fn an_endless_device_is_cut_at_the_size_cap() {
    let e = refusal(Path::new("/dev/zero"));
    assert_eq!(
        e.to_string(),
        "/dev/zero: expected a scenario file of at most 1 MiB, found more"
    );
}

#[test]
fn a_good_file_with_a_bom_and_crlf_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bom.toml");
    let text = "[meta]\r\nname = \"bom\"\r\nduration = \"1m\"\r\n[pool]\r\nmax = 7\r\n";
    std::fs::write(
        &path,
        [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
    )
    .unwrap();
    let s = load_file(&path, Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((s.name.as_str(), s.app().pool.max), ("bom", 7));
}
