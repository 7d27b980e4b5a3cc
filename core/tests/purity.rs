//! The core builds anywhere: its sources use no filesystem, process, thread
//! or environment, and its manifest pulls in no front end.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The operating-system modules the core must not use, however imported
/// (`std::fs::read`, `use std::{env, fs}`).
fn os_modules(line: &str) -> Vec<&'static str> {
    const OS: [&str; 4] = ["fs", "process", "thread", "env"];
    let mut used = Vec::new();
    for (at, _) in line.match_indices("std::") {
        let rest = &line[at + 5..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
            None => vec![rest],
        };
        for name in names {
            let name = name.trim();
            let word: String = name
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(os) = OS.iter().find(|m| **m == word) {
                used.push(*os);
            }
        }
    }
    used
}

#[test]
fn the_core_uses_no_filesystem_process_thread_or_environment() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 20, "{files:?}");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            for module in os_modules(line) {
                found.push(format!("{}:{}: std::{module}", file.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core must not use:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_os_module_scan_sees_every_form() {
    assert_eq!(os_modules("let m = std::fs::metadata(path)?;"), ["fs"]);
    assert_eq!(
        os_modules("use std::{env, io::Read, thread};"),
        ["env", "thread"]
    );
    assert_eq!(os_modules("std::process::exit(3)"), ["process"]);
    assert!(os_modules("use std::io::Read; std::fmt::Write; std::env_like").is_empty());
}

#[test]
fn the_core_depends_on_no_front_end() {
    const BANNED: [&str; 7] = [
        "plotters",
        "clap",
        "ratatui",
        "rayon",
        "anyhow",
        "indicatif",
        "crossterm",
    ];
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let manifest: toml::Table = std::fs::read_to_string(manifest).unwrap().parse().unwrap();
    // [dependencies], [dev-dependencies], [build-dependencies] and their
    // [target.'cfg(…)'.*] forms
    let mut tables = vec![&manifest];
    if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
        tables.extend(targets.values().filter_map(|t| t.as_table()));
    }
    let mut names = Vec::new();
    for table in tables {
        for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(deps) = table.get(kind).and_then(|d| d.as_table()) {
                names.extend(deps.keys().cloned());
            }
        }
    }
    assert!(names.iter().any(|n| n == "rand"), "{names:?}");
    let banned: Vec<&String> = names
        .iter()
        .filter(|n| BANNED.contains(&n.as_str()))
        .collect();
    assert!(banned.is_empty(), "the core must not depend on {banned:?}");
}
