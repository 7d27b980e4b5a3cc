//! The committed training set in `output/` (report.md, the chart PNGs and
//! SVGs) is what `pooldrill replay` produces, byte for byte. A model change
//! that moves any figure fails here: regenerate with `cargo run --release`
//! and review the difference before committing it.

use pooldrill::commands::replay::{ReplayArgs, replay};
use std::path::Path;

#[test]
fn replay_reproduces_the_committed_report_and_charts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let args = ReplayArgs {
        scenarios: root.join("scenarios"),
        out: tmp.path().to_owned(),
        ..ReplayArgs::default()
    };
    assert_eq!(replay(&args).unwrap(), 0);
    let mut compared = 0;
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".md") || name.ends_with(".png") || name.ends_with(".svg")) {
            continue;
        }
        let golden = root.join("output").join(&name);
        let expected = std::fs::read(&golden).unwrap_or_else(|_| {
            panic!("output/{name} is not committed: run `cargo run --release` and commit it")
        });
        let got = std::fs::read(&path).unwrap();
        if name.ends_with(".md") && got != expected {
            let (got, expected) = (
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected),
            );
            let first = got.lines().zip(expected.lines()).position(|(a, b)| a != b);
            panic!(
                "output/{name} differs from a fresh replay at line {:?}:\n  fresh: {:?}\n  committed: {:?}",
                first.map(|i| i + 1),
                first.and_then(|i| got.lines().nth(i)),
                first.and_then(|i| expected.lines().nth(i))
            );
        }
        assert!(got == expected, "output/{name} differs from a fresh replay");
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} files compared");
}
