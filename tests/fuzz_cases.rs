//! The fuzz targets' checks (fuzz/cases.rs) on the seed corpus and on every
//! shipped scenario small enough to run: the fuzz code is compiled by every
//! `cargo test`, so it follows the library's API, and its seeds pass.

use std::fs;
use std::path::{Path, PathBuf};

include!("../fuzz/cases.rs");

fn toml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            toml_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "toml") {
            found.push(path);
        }
    }
}

#[test]
fn the_seed_corpus_and_the_shipped_scenarios_pass_the_fuzz_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds = Vec::new();
    toml_files(&root.join("fuzz/seeds"), &mut seeds);
    assert!(seeds.len() >= 3, "the seed corpus is missing");
    for seed in &seeds {
        let data = fs::read(seed).unwrap();
        parse_case(&data);
        assert!(
            run_case(&data),
            "{} is too big to fuzz from",
            seed.display()
        );
    }
    let mut shipped = Vec::new();
    toml_files(&root.join("scenarios"), &mut shipped);
    assert!(shipped.len() >= 20);
    for file in &shipped {
        let data = fs::read(file).unwrap();
        parse_case(&data);
        run_case(&data);
    }
}

#[test]
fn malformed_input_passes_the_parse_check_with_a_located_error() {
    parse_case(b"[meta]\nname = 3\n");
    parse_case(b"\xff\xfe not utf-8");
    assert!(!run_case(b"[pool]\nmax = -1\n"));
}
