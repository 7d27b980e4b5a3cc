//! The HTML handout: self-contained, deterministic, every chart inlined, and
//! "what to notice" saying what the results say. Runs the five replayed
//! scenarios scaled down (5 pods, 250 req/s, 125 connections) so
//! that the whole incident still happens, in a few seconds.

use assert_cmd::Command;
use pooldrill::commands::replay::{self, ReplayResult, SCENARIOS};
use pooldrill::metrics::LogKind;
use pooldrill::report::html::{Chart, HandoutRun, Image, SVG_LIMIT, handout};
use predicates::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// The shipped scenarios, scaled down, in `dir`.
fn scaled_scenarios(dir: &Path) {
    for name in SCENARIOS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
        let mut doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let mut set = |table: &str, key: &str, value: toml::Value| {
            doc.entry(table)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .unwrap()
                .insert(key.into(), value);
        };
        set("fleet", "pods", 5.into());
        set("traffic", "rate", "250/s".into());
        set("database", "max_connections", 125.into());
        std::fs::write(dir.join(format!("{name}.toml")), doc.to_string()).unwrap();
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    scenarios: std::path::PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let scenarios = dir.path().join("scenarios");
        std::fs::create_dir(&scenarios).unwrap();
        scaled_scenarios(&scenarios);
        Fixture {
            _dir: dir,
            scenarios,
        }
    })
}

fn results() -> &'static [ReplayResult] {
    static RESULTS: OnceLock<Vec<ReplayResult>> = OnceLock::new();
    RESULTS.get_or_init(|| replay::results(&fixture().scenarios, &Default::default()).unwrap())
}

fn pooldrill() -> Command {
    Command::cargo_bin("pooldrill").unwrap()
}

/// The text of `<section id="name">`.
fn section<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page
        .find(&format!("<section id=\"{name}\">"))
        .unwrap_or_else(|| panic!("no section {name}"));
    let end = page[start..].find("</section>").unwrap() + start;
    &page[start..end]
}

#[test]
fn the_handout_is_self_contained_deterministic_and_has_every_chart() {
    let out = tempfile::tempdir().unwrap();
    let write = |file: &str| {
        pooldrill()
            .args(["report", "--scenarios"])
            .arg(&fixture().scenarios)
            .arg("--out")
            .arg(out.path().join(file))
            .assert()
            .success()
            .stdout(predicate::str::contains("handout: "));
        std::fs::read(out.path().join(file)).unwrap()
    };
    let first = write("a.html");
    assert_eq!(first, write("b.html"), "same scenarios, same bytes");
    let page = String::from_utf8(first).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    for remote in [
        "src=\"http",
        "href=\"http",
        "url(",
        "<link",
        "<script",
        "@import",
    ] {
        assert!(!page.contains(remote), "fetches something: {remote}");
    }
    let figures = page.matches("<figure>").count();
    // A timeline per run, waits, pods and starvation for the two runs with
    // a deploy, and the two side-by-side charts.
    assert_eq!(figures, 5 + 2 * 3 + 2);
    assert_eq!(page.matches("</figure>").count(), figures);
    let drawn = page.matches("<svg role=\"img\"").count() + page.matches("<img alt=").count();
    assert_eq!(drawn, figures, "each figure holds a picture");
    assert_eq!(page.matches("<figcaption>").count(), figures);
    for name in SCENARIOS {
        let s = section(&page, name);
        assert!(s.contains("<h3>The story</h3>"), "{name}");
        assert!(s.contains("<ul class=\"notice\">\n<li>"), "{name}");
        assert!(s.contains("<h3>The arithmetic</h3>"), "{name}");
        assert!(s.contains("<h3>Key figures</h3>"), "{name}");
        assert!(s.contains("<figure>"), "{name}: its timeline");
        assert!(page.contains(&format!("<a href=\"#{name}\">{name}</a>")));
    }
    assert!(
        page.contains("<code>bash web/build.sh</code>"),
        "the handout says how to drive the runs live in the browser page"
    );
    let compared = section(&page, "comparison");
    assert!(compared.contains("<th><a href=\"#before\">before</a></th><th><a href=\"#after\">after</a></th><th><a href=\"#fixed\">fixed</a></th>"));
    assert!(page.len() < 2_000_000, "{} bytes", page.len());
}

/// The bullets of `name`'s section, tags and entities left in.
fn bullets(page: &str, name: &str) -> Vec<String> {
    let s = section(page, name);
    let start = s.find("<ul class=\"notice\">").unwrap();
    let end = s[start..].find("</ul>").unwrap() + start;
    s[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("<li>")?.strip_suffix("</li>"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn what_to_notice_says_what_the_results_say() {
    let runs: Vec<HandoutRun> = results()
        .iter()
        .map(|r| HandoutRun {
            scenario: &r.scenario,
            summary: &r.summary,
            run: &r.run,
            events: &r.events,
            charts: Vec::new(),
        })
        .collect();
    let page = handout(&runs, &["before", "after", "fixed"], &[], None);
    for r in results() {
        let name = r.scenario.name.as_str();
        let said = bullets(&page, name);
        let says = |text: &str| said.iter().any(|b| b.contains(text));
        let q = &r.summary.requests;
        let first = |kind: LogKind| r.events.iter().find(|e| e.kind == kind);

        let possible = r.summary.connections.possible;
        assert!(
            says(&format!("could open {possible} connections"))
                || says(&format!("could open at most {possible} connections"))
        );

        match first(LogKind::FirstRefusal) {
            Some(e) if r.scenario.start_clock.is_some() => assert!(
                said.iter()
                    .any(|b| b.starts_with("Refusals by PostgreSQL (53300) began")
                        && b.contains(&format!("at {}", e.clock))),
                "{name}: {said:#?}"
            ),
            Some(_) => assert!(says("Refusals by PostgreSQL (53300) began")),
            None => assert!(!says("Refusals by PostgreSQL"), "{name}"),
        }
        if q.refused == 0 && q.acquire_timeouts == 0 {
            assert!(says("Nothing failed because of the pool"), "{name}");
        } else if q.acquire_timeouts > 0 {
            assert!(
                says(&format!("{} requests timed out", q.acquire_timeouts)),
                "{name}"
            );
        } else {
            assert!(says(&format!("all {} pool failures", q.refused)), "{name}");
        }

        let peak = r.run.rows.iter().map(|row| row.open_leaked).max().unwrap();
        assert_eq!(
            peak > 0,
            says(&format!("held {peak} server slots")),
            "{name}"
        );

        for (rule, alert) in r.scenario.alerts.iter().zip(&r.summary.alerts) {
            if rule.severity != pooldrill::scenario::Severity::Page {
                continue;
            }
            match alert.first_firing_s {
                Some(_) => assert!(
                    says(&format!("The page ({}", alert.name)) && says(") fired "),
                    "{name}"
                ),
                None => assert!(says(") never fired"), "{name}"),
            }
        }

        let rollback = first(LogKind::Rollback).map(|e| e.time_s);
        if let Some(t) = rollback {
            let burst: u64 = r
                .run
                .rows
                .iter()
                .filter(|row| row.time_s > t)
                .map(|row| row.refusals + row.acquire_timeouts)
                .sum();
            if burst > 0 {
                assert!(
                    says(&format!("The rollback itself cost {burst} failed requests")),
                    "{name}: {said:#?}"
                );
            }
            assert!(says("Recovery: "), "{name}");
        } else {
            assert!(!says("Recovery: "), "{name}");
        }
    }
    // The scaled incident still has everything the bullets look for.
    let incident = results()
        .iter()
        .find(|r| r.scenario.name == "incident")
        .unwrap();
    assert!(
        incident
            .events
            .iter()
            .any(|e| e.kind == LogKind::FirstRefusal)
    );
    assert!(incident.events.iter().any(|e| e.kind == LogKind::Rollback));
    assert!(incident.run.rows.iter().any(|row| row.open_leaked > 0));
}

#[test]
fn a_big_svg_is_inlined_as_its_png() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("chart");
    std::fs::write(stem.with_extension("png"), b"\x89PNG fake").unwrap();
    std::fs::write(stem.with_extension("svg"), "<svg></svg>").unwrap();
    assert!(matches!(
        Chart::load(&stem, "small").unwrap().image,
        Image::Svg(_)
    ));
    std::fs::write(
        stem.with_extension("svg"),
        format!("<svg>{}</svg>", " ".repeat(SVG_LIMIT)),
    )
    .unwrap();
    let chart = Chart::load(&stem, "big").unwrap();
    assert!(matches!(chart.image, Image::Png(ref png) if png.starts_with(b"\x89PNG")));
}

#[test]
fn bad_input_exits_2() {
    let out = tempfile::tempdir().unwrap();
    pooldrill()
        .args(["report", "--scenarios", "no-such-folder", "--out"])
        .arg(out.path().join("h.html"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-folder"));
    pooldrill()
        .args(["report", "--scenarios"])
        .arg(&fixture().scenarios)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected a file name"));
    assert!(!out.path().join("h.html").exists());
}

#[test]
fn the_retry_storm_section_names_every_arm_and_holds_its_chart() {
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let arms = replay::retry_arms(&scenarios, &Default::default())
        .unwrap()
        .expect("the shipped scenarios hold the retry storm's arms");
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<_> = arms.iter().map(|r| r.run.clone()).collect();
    pooldrill::report::charts::retry_storm(&runs, &dir.path().join("storm")).unwrap();
    let chart = Chart::load(&dir.path().join("storm"), "the retry storm").unwrap();
    let storm = replay::storm_arms(&arms);
    let page = handout(&[], &[], &[], Some((&storm, &chart)));
    assert!(page.contains("<a href=\"#retry-storm\">The retry storm</a>"));
    let s = section(&page, "retry-storm");
    assert_eq!(s.matches("<figure>").count(), 1);
    assert!(s.contains("<h3>Why a budget beats an attempt limit</h3>"));
    let rows: Vec<&str> = s.lines().filter(|l| l.starts_with("<tr><td>")).collect();
    assert_eq!(rows.len(), replay::RETRY_ARMS.len());
    for (row, name) in rows.iter().zip(replay::RETRY_ARMS) {
        assert!(row.starts_with(&format!("<tr><td>{name}</td>")), "{row}");
    }
    // The naive arm never recovers; the budget's does.
    assert!(rows[1].contains("never"), "{}", rows[1]);
    assert!(!rows[2].contains("never"), "{}", rows[2]);
    assert!(handout(&[], &[], &[], None).find("retry-storm").is_none());
}
