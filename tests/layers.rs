//! The import graph runs one way: no module imports from a module above it
//! in [`LAYERS`], nor from a neighbour in its own layer. Every `crate::`
//! path (and, in the app, every `pooldrill_core::` path) of every source
//! file under `src/` and `core/src/` is checked; comments are not imports
//! and are skipped. A new top-level module must take its place in
//! [`LAYERS`] (docs/architecture.md explains the order).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The top-level modules of both crates, top to bottom: a module may use
/// the modules of the layers below its own, and no other.
const LAYERS: &[&[&str]] = &[
    // The app crate: the command line, its commands, their front ends.
    &["cli"],
    &["commands"],
    &["report", "tui"],
    &["replicate", "guard"],
    &["interrupt", "stdout", "scenario_file"],
    // The core crate: the capacity plan, then the simulation.
    &["plan"],
    &["model"],
    &["metrics"],
    // Spans, clock times, percents: it reads the scenario's clock type.
    &["format"],
    &["scenario"],
    // Telemetry files read onto the run's clock: below the scenario that
    // names them.
    &["dist", "theory", "telemetry"],
    // Leaves that both sides use: `SimTime` lives in `engine`, which
    // imports nothing, and `CallerClass` in `caller_class`.
    &["engine", "caller_class", "stats", "slab"],
    // `exp`, `ln` and `sin` from libm, the same bits on every target.
    &["prefetch", "math"],
];

/// The layer of top-level module `name`, 0 at the top.
fn layer(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&name))
}

/// `text` without its `//` comments (doc comments included).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules `text` names after `crate::` or
/// `pooldrill_core::`, grouped imports (`crate::{a, b::c}`) included.
fn imports(text: &str) -> BTreeSet<String> {
    let code = code(text);
    let mut found = BTreeSet::new();
    for root in ["crate::", "pooldrill_core::"] {
        for (at, _) in code.match_indices(root) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[at + root.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut start = true;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => start = true,
                        c if start && !c.is_whitespace() => {
                            found.insert(ident(&group[i..]).to_owned());
                            start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                found.insert(ident(rest).to_owned());
            }
        }
    }
    found.remove("");
    found
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The imports of `text`, the file of top-level module `module`, that run
/// up the order or sideways, as `module → other`.
fn violations(module: &str, text: &str) -> Vec<String> {
    let Some(own) = layer(module) else {
        return vec![format!("{module} is not in LAYERS")];
    };
    imports(text)
        .into_iter()
        .filter(|other| other != module)
        .filter_map(|other| match layer(&other) {
            None => Some(format!("{module} → {other}, which is not in LAYERS")),
            Some(l) if l <= own => Some(format!("{module} → {other}")),
            Some(_) => None,
        })
        .collect()
}

#[test]
fn no_module_imports_from_a_module_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bad = Vec::new();
    let mut modules = BTreeSet::new();
    for dir in ["src", "core/src"] {
        let dir = root.join(dir);
        let mut files = Vec::new();
        sources(&dir, &mut files);
        for file in files {
            let relative = file.strip_prefix(&dir).expect("under its folder");
            let first = relative.iter().next().expect("a file name");
            let module = first.to_string_lossy().trim_end_matches(".rs").to_owned();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("a source file");
            for v in violations(&module, &text) {
                bad.push(format!("{}: {v}", file.display()));
            }
            modules.insert(module);
        }
    }
    assert!(bad.is_empty(), "imports up the order:\n{}", bad.join("\n"));
    let listed: BTreeSet<String> = LAYERS
        .iter()
        .flat_map(|l| l.iter())
        .map(|m| m.to_string())
        .collect();
    assert_eq!(
        listed, modules,
        "LAYERS lists exactly the top-level modules"
    );
}

#[test]
fn an_import_up_the_order_or_sideways_is_found() {
    let up = "use crate::scenario::Scenario;\nuse crate::{engine::SimTime, model::caller};\n";
    assert_eq!(violations("metrics", up), ["metrics → model"]);
    let nested = "use crate::{\n    engine::{SimRng, SimTime},\n    report::plan,\n};\n";
    assert_eq!(violations("replicate", nested), ["replicate → report"]);
    let core = "let p = pooldrill_core::plan::compute(&i, None);";
    assert_eq!(violations("model", core), ["model → plan"]);
    assert_eq!(violations("tui", "use crate::report::x;"), ["tui → report"]);
    let comment = "/// See [`crate::commands`].\nuse crate::engine::SimTime; // crate::cli\n";
    assert!(violations("stdout", comment).is_empty());
    assert!(violations("model", "use my_crate::commands;").is_empty());
}
