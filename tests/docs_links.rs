//! The documentation's links hold, and nothing in the repository refers to a
//! file outside it (docs/architecture.md, "Invariants the tests hold").
//!
//! * Every relative Markdown link in README.md and docs/**/*.md names a file
//!   inside the repository that exists, and its `#anchor`, if any, names a
//!   heading of that page.
//! * Every `docs/….md#anchor` written anywhere in the repository (source
//!   comments, scenario files) names an existing page and heading.
//! * The README stays at most 200 lines.
//! * No text file mentions the research notes the model was built from by
//!   their file names, or the folder beside the repository that held them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Folders that are not the repository's own text: build output, git's store.
const SKIPPED: [&str; 4] = ["target", ".git", "fuzz/target", "fuzz/corpus"];

/// Every text file of the repository (files that are not UTF-8 are skipped).
fn text_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut folders = vec![root().to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root()).unwrap();
            if SKIPPED.iter().any(|s| relative == Path::new(s)) {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                files.push((relative.to_owned(), text));
            }
        }
    }
    files.sort();
    files
}

/// The markdown pages whose links are checked: README.md and docs/**/*.md.
fn pages(files: &[(PathBuf, String)]) -> Vec<&(PathBuf, String)> {
    files
        .iter()
        .filter(|(path, _)| {
            path == Path::new("README.md")
                || (path.starts_with("docs") && path.extension().is_some_and(|e| e == "md"))
        })
        .collect()
}

/// The text outside fenced code blocks, line by line.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// A heading's anchor the way GitHub makes it: lower case, punctuation
/// dropped, spaces turned into hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings (a repeated heading gets `-1`, `-2` …).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let base = slug(heading.trim_start_matches('#'));
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// The targets of the inline links `[text](target)` outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            targets.push(rest[..end].trim().to_owned());
            rest = &rest[end..];
        }
    }
    targets
}

/// Checks one reference `path#anchor` made from the file `from`; the path is
/// relative to `base`. Returns the problem, if any.
fn check(base: &Path, target: &str, from: &Path) -> Option<String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        root().join(from)
    } else {
        base.join(path)
    };
    let Ok(file) = file.canonicalize() else {
        return Some(format!("{}: {target}: no such file", from.display()));
    };
    if !file.starts_with(root().canonicalize().unwrap()) {
        return Some(format!(
            "{}: {target}: outside the repository",
            from.display()
        ));
    }
    let anchor = anchor?;
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    if !anchors(&text).contains(anchor) {
        return Some(format!(
            "{}: {target}: no heading #{anchor}",
            from.display()
        ));
    }
    None
}

#[test]
fn every_relative_markdown_link_resolves() {
    let files = text_files();
    let pages = pages(&files);
    assert!(pages.len() >= 8, "only {} pages found", pages.len());
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, text) in pages {
        let base = root().join(path.parent().unwrap());
        for target in link_targets(text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            problems.extend(check(&base, &target, path));
        }
    }
    assert!(checked >= 20, "only {checked} links checked");
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

/// The `docs/….md` or `docs/….md#anchor` references written in a text.
fn docs_mentions(text: &str) -> Vec<&str> {
    let is_path = |c: char| c.is_ascii_alphanumeric() || "_./#-".contains(c);
    let mut mentions = Vec::new();
    for (at, _) in text.match_indices("docs/") {
        if text[..at].chars().next_back().is_some_and(is_path) {
            continue;
        }
        let len = text[at..].find(|c| !is_path(c)).unwrap_or(text.len() - at);
        let mention = text[at..at + len].trim_end_matches(['.', '#']);
        let (path, _) = mention.split_once('#').unwrap_or((mention, ""));
        if path.ends_with(".md") {
            mentions.push(mention);
        }
    }
    mentions
}

#[test]
fn every_docs_page_named_in_the_repository_exists() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, text) in text_files() {
        for mention in docs_mentions(&text) {
            checked += 1;
            problems.extend(check(root(), mention, &path));
        }
    }
    assert!(checked >= 20, "only {checked} mentions checked");
    assert!(
        problems.is_empty(),
        "dead references:\n{}",
        problems.join("\n")
    );
}

#[test]
fn nothing_refers_to_files_outside_the_repository() {
    // Spelled in pieces so that this file does not name them itself.
    let outside = [
        concat!("..", "/shared"),
        concat!("shared", "/bench"),
        concat!("shared", "/reference"),
        concat!("model-", "semantics"),
        concat!("postgres-", "measured"),
        concat!("anchors", ".md"),
    ];
    let mut problems = Vec::new();
    for (path, text) in text_files() {
        for (n, line) in text.lines().enumerate() {
            for name in outside.iter().filter(|name| line.contains(*name)) {
                problems.push(format!("{}:{}: {name}", path.display(), n + 1));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "references outside the repository:\n{}",
        problems.join("\n")
    );
}

#[test]
fn anchors_follow_githubs_rule() {
    let page = "# Title\n## The job and its leaks\n```\n# not a heading\n```\n## `pool.max`, PgBouncer\n## Title\n";
    let expected = [
        "title",
        "the-job-and-its-leaks",
        "poolmax-pgbouncer",
        "title-1",
    ];
    assert_eq!(
        anchors(page),
        expected.iter().map(|a| a.to_string()).collect()
    );
    assert_eq!(
        docs_mentions(
            "see docs/semantics.md#pg-pool. And docs/x.mdx, foo/docs/y.md, (docs/models.md)."
        ),
        ["docs/semantics.md#pg-pool", "docs/models.md"]
    );
}

#[test]
fn the_readme_stays_short() {
    // Later features add a line to the README and a page under docs/.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; move detail to docs/"
    );
}
