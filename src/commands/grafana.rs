//! `pooldrill grafana-dashboard [FILE]`: a Grafana dashboard (classic JSON
//! model) over the exported metrics: the write-up's "Connection Pool
//! Health" panel, then the training chart set (connections against the cap,
//! pool clients, waiting clients, acquire-wait heatmap, per-pod utilisation,
//! error rate, latency, leaks) with deploy, rollback, first-refusal and
//! alert annotations. With a scenario file, the time range is that run's
//! (on `--date`) and the thresholds its server's.

use crate::report::openmetrics::{Date, rfc3339, run_epoch_ms};
use crate::scenario::validate::Overrides;
use crate::scenario_file::load_file;
use anyhow::Result;
use clap::Args;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Arguments of `grafana-dashboard`.
#[derive(Debug, Args)]
pub struct GrafanaArgs {
    /// A scenario: open the dashboard on its run and use its server's cap.
    pub file: Option<PathBuf>,
    /// The day the run's `meta.start` falls on (as given to `run --date`).
    /// [default: the scenario's meta.date, else 2026-01-15]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<Date>,
}

/// Every panel and annotation queries this data source variable.
const DATASOURCE: &str = "${datasource}";

fn datasource() -> Value {
    json!({ "type": "prometheus", "uid": DATASOURCE })
}

fn target(ref_id: &str, expr: &str, legend: &str) -> Value {
    json!({
        "datasource": datasource(),
        "refId": ref_id,
        "expr": expr,
        "legendFormat": legend,
        "range": true,
    })
}

/// Threshold steps: green below the first value, then each colour.
fn thresholds(steps: &[(f64, &str)]) -> Value {
    let mut list = vec![json!({ "color": "green", "value": null })];
    list.extend(steps.iter().map(|(v, c)| json!({ "color": c, "value": v })));
    json!({ "mode": "absolute", "steps": list })
}

/// A panel of `kind` with Grafana's required members.
fn panel(
    kind: &str,
    title: &str,
    (x, y, w, h): (u32, u32, u32, u32),
    targets: Vec<Value>,
    defaults: Value,
    options: Value,
) -> Value {
    json!({
        "type": kind,
        "title": title,
        "datasource": datasource(),
        "gridPos": { "x": x, "y": y, "w": w, "h": h },
        "targets": targets,
        "fieldConfig": { "defaults": defaults, "overrides": [] },
        "options": options,
        "transformations": [],
    })
}

/// A time series panel; `alert_side` shades the thresholds as an area.
fn timeseries(
    title: &str,
    pos: (u32, u32, u32, u32),
    targets: Vec<Value>,
    unit: &str,
    steps: &[(f64, &str)],
) -> Value {
    let style = if steps.is_empty() { "off" } else { "line+area" };
    panel(
        "timeseries",
        title,
        pos,
        targets,
        json!({
            "unit": unit,
            "min": 0,
            "thresholds": thresholds(steps),
            "custom": {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 0,
                "showPoints": "never",
                "thresholdsStyle": { "mode": style },
            },
        }),
        json!({
            "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true },
            "tooltip": { "mode": "multi", "sort": "desc" },
        }),
    )
}

fn stat(
    title: &str,
    pos: (u32, u32, u32, u32),
    expr: &str,
    unit: &str,
    steps: &[(f64, &str)],
) -> Value {
    panel(
        "stat",
        title,
        pos,
        vec![target("A", expr, title)],
        json!({ "unit": unit, "thresholds": thresholds(steps), "color": { "mode": "thresholds" } }),
        json!({
            "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false },
            "colorMode": "background",
            "graphMode": "area",
            "textMode": "value",
        }),
    )
}

fn row(title: &str, y: u32) -> Value {
    json!({
        "type": "row",
        "title": title,
        "collapsed": false,
        "gridPos": { "x": 0, "y": y, "w": 24, "h": 1 },
        "panels": [],
    })
}

/// An annotation from `pooldrill_timeline_event`: one point per event, at
/// the first 15 s step after it.
fn annotation(name: &str, kinds: &str, color: &str) -> Value {
    let selector = format!("pooldrill_timeline_event{{kind=~\"{kinds}\"}}");
    json!({
        "name": name,
        "datasource": datasource(),
        "enable": true,
        "hide": false,
        "iconColor": color,
        "expr": format!("{selector} and (time() - timestamp({selector}) < 15)"),
        "step": "15s",
        "titleFormat": "{{kind}}",
        "textFormat": "{{detail}}",
        "tagKeys": "kind",
        "useValueForTime": false,
    })
}

/// The dashboard. `max_connections` and `usable` set the thresholds;
/// `range` is the time range as RFC 3339 (`None`: the last 6 hours).
pub fn dashboard(max_connections: u32, usable: u32, range: Option<(String, String)>) -> Value {
    let cap = f64::from(max_connections);
    let busy = "pg_pool_size - pg_pool_idle_connections";
    let rate = |m: &str| format!("rate({m}[$__rate_interval])");
    let errors = format!(
        "sum({}) / sum({})",
        rate("http_requests_total{code=~\"5..\"}"),
        rate("http_requests_total")
    );
    let wait_buckets = "pg_pool_acquire_wait_seconds_bucket";
    let quantile = |q: &str, buckets: &str| {
        format!("histogram_quantile({q}, sum by (le) ({}))", rate(buckets))
    };
    let latency = |q: &str| quantile(q, "http_request_duration_seconds_bucket");
    let panels = vec![
        row("Connection Pool Health", 0),
        stat(
            "Total allocated (of max_connections)",
            (0, 1, 5, 4),
            "sum(pg_pool_size) / scalar(pg_settings_max_connections)",
            "percentunit",
            &[(0.8, "orange"), (f64::from(usable) / cap, "red")],
        ),
        stat(
            "Active connections",
            (5, 1, 4, 4),
            &format!("sum({busy})"),
            "none",
            &[],
        ),
        stat(
            "Idle connections",
            (9, 1, 4, 4),
            "sum(pg_pool_idle_connections)",
            "none",
            &[],
        ),
        stat(
            "Waiting clients",
            (13, 1, 4, 4),
            "sum(pg_pool_waiting_connections)",
            "none",
            &[(1.0, "orange"), (10.0, "red")],
        ),
        panel(
            "bargauge",
            "By pod: busy / pool max",
            (17, 1, 7, 8),
            vec![target(
                "A",
                &format!("sum by (pod) ({busy}) / sum by (pod) (pg_pool_max)"),
                "{{pod}}",
            )],
            json!({
                "unit": "percentunit",
                "min": 0,
                "max": 1,
                "thresholds": thresholds(&[(0.8, "orange"), (1.0, "red")]),
                "color": { "mode": "thresholds" },
            }),
            json!({
                "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false },
                "orientation": "horizontal",
                "displayMode": "gradient",
            }),
        ),
        stat(
            "Server backends",
            (0, 5, 5, 4),
            "sum(pg_stat_activity_count)",
            "none",
            &[(0.8 * cap, "orange"), (f64::from(usable), "red")],
        ),
        stat(
            "Acquire wait p99",
            (5, 5, 6, 4),
            &quantile("0.99", wait_buckets),
            "s",
            &[(0.1, "orange"), (1.0, "red")],
        ),
        stat(
            "Error rate",
            (11, 5, 6, 4),
            &errors,
            "percentunit",
            &[(0.01, "red")],
        ),
        row("Incident timeline", 9),
        timeseries(
            "Connections against the cap",
            (0, 10, 12, 8),
            vec![
                target("A", "sum(pg_stat_activity_count)", "server backends"),
                target(
                    "B",
                    "sum by (state) (pg_stat_activity_count{datname=\"app\"}) > 0",
                    "app: {{state}}",
                ),
                target("C", "pg_settings_max_connections", "max_connections"),
            ],
            "none",
            &[(f64::from(usable), "red")],
        ),
        timeseries(
            "Pool clients",
            (12, 10, 12, 8),
            vec![
                target("A", &format!("sum({busy})"), "busy (total − idle)"),
                target("B", "sum(pg_pool_idle_connections)", "idle"),
                target("C", "sum(pg_pool_max)", "sum of pool max"),
            ],
            "none",
            &[],
        ),
        timeseries(
            "Waiting clients",
            (0, 18, 12, 8),
            vec![
                target("A", "sum(pg_pool_waiting_connections)", "fleet"),
                target(
                    "B",
                    "sum by (pod) (pg_pool_waiting_connections) > 0",
                    "{{pod}}",
                ),
            ],
            "none",
            &[],
        ),
        panel(
            "heatmap",
            "Acquire wait",
            (12, 18, 12, 8),
            vec![json!({
                "datasource": datasource(),
                "refId": "A",
                "expr": format!("sum by (le) (increase({wait_buckets}[$__rate_interval]))"),
                "legendFormat": "{{le}}",
                "format": "heatmap",
                "range": true,
            })],
            json!({ "custom": { "scaleDistribution": { "type": "linear" } } }),
            json!({
                "calculate": false,
                "yAxis": { "unit": "s" },
                "cellGap": 1,
                "color": { "mode": "scheme", "scheme": "Oranges", "scale": "exponential" },
                "tooltip": { "show": true, "yHistogram": true },
            }),
        ),
        timeseries(
            "Pool utilisation by pod",
            (0, 26, 12, 8),
            vec![
                target(
                    "A",
                    &format!("sum by (pod) ({busy}) / sum by (pod) (pg_pool_max)"),
                    "{{pod}}",
                ),
                target("B", &format!("max(({busy}) / pg_pool_max)"), "busiest pool"),
            ],
            "percentunit",
            &[(0.8, "red")],
        ),
        timeseries(
            "Error rate",
            (12, 26, 12, 8),
            vec![target("A", &errors, "5xx / all answers")],
            "percentunit",
            &[(0.01, "red")],
        ),
        timeseries(
            "Requests and failures",
            (0, 34, 12, 8),
            vec![
                target(
                    "A",
                    &format!("sum by (code) ({})", rate("http_requests_total")),
                    "HTTP {{code}}",
                ),
                target(
                    "B",
                    &format!("sum by (reason) ({})", rate("pg_pool_acquire_errors_total")),
                    "pool: {{reason}}",
                ),
            ],
            "reqps",
            &[],
        ),
        timeseries(
            "Latency and acquire wait",
            (12, 34, 12, 8),
            vec![
                target("A", &latency("0.5"), "latency p50"),
                target("B", &latency("0.95"), "latency p95"),
                target("C", &latency("0.99"), "latency p99"),
                target("D", &quantile("0.99", wait_buckets), "acquire wait p99"),
            ],
            "s",
            &[],
        ),
        timeseries(
            "Leaked connections (simulation ground truth)",
            (0, 42, 24, 6),
            vec![target("A", "pooldrill_leaked_connections", "leaked")],
            "none",
            &[],
        ),
    ];
    let panels: Vec<Value> = panels
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            p["id"] = json!(i + 1);
            p
        })
        .collect();
    let (from, to) = range.unwrap_or_else(|| ("now-6h".into(), "now".into()));
    json!({
        "uid": "pooldrill-pool-exhaustion",
        "title": "Connection pool exhaustion (pooldrill)",
        "description": "Simulated by pooldrill; metric names as postgres_exporter and node-postgres pool exporters publish them.",
        "tags": ["pooldrill", "postgresql", "node-postgres"],
        "timezone": "utc",
        "editable": true,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": false,
        "time": { "from": from, "to": to },
        "timepicker": {},
        "templating": { "list": [{
            "type": "datasource",
            "name": "datasource",
            "label": "Prometheus",
            "query": "prometheus",
            "hide": 0,
            "current": {},
            "options": [],
            "refresh": 1,
            "regex": "",
        }]},
        "annotations": { "list": [
            annotation("Deploys and rollbacks", "deploy|rollback|rollout_complete", "blue"),
            annotation("First refusal and acquire timeout", "first_refusal|first_acquire_timeout", "red"),
            annotation("pooldrill's alert replay", "alert_firing|alert_resolved", "orange"),
        ]},
        "links": [],
        "panels": panels,
    })
}

/// Print the dashboard on stdout.
pub fn grafana_dashboard(args: &GrafanaArgs) -> Result<i32> {
    let value = match &args.file {
        None => dashboard(500, 497, None),
        Some(file) => {
            let s = load_file(file, Overrides::default())?;
            let start = run_epoch_ms(&s, Date::or_scenario(args.date, &s));
            let end = start + (s.duration.as_secs_f64() * 1000.0).round() as i64;
            let range = Some((rfc3339(start), rfc3339(end)));
            dashboard(s.database.max_connections, s.database.usable_slots(), range)
        }
    };
    crate::stdout::product(format_args!("{}\n", serde_json::to_string_pretty(&value)?))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The members Grafana's dashboard schema (kinds/dashboard) requires,
    /// and the grid's rules.
    #[test]
    fn the_dashboard_has_every_field_grafana_requires() {
        let d = dashboard(500, 497, None);
        for key in [
            "title",
            "uid",
            "schemaVersion",
            "panels",
            "time",
            "templating",
            "annotations",
        ] {
            assert!(!d[key].is_null(), "dashboard.{key}");
        }
        assert!(d["schemaVersion"].as_u64().unwrap() >= 36);
        let mut ids = HashSet::new();
        let mut cells = HashSet::new();
        for p in d["panels"].as_array().unwrap() {
            let title = p["title"].as_str().unwrap();
            assert!(!p["type"].as_str().unwrap().is_empty(), "{title}: type");
            assert!(ids.insert(p["id"].as_u64().unwrap()), "{title}: unique id");
            let g = &p["gridPos"];
            let (x, y, w, h) = (
                g["x"].as_u64().unwrap(),
                g["y"].as_u64().unwrap(),
                g["w"].as_u64().unwrap(),
                g["h"].as_u64().unwrap(),
            );
            assert!(h > 0 && w > 0 && x + w <= 24, "{title}: gridPos");
            for cx in x..x + w {
                for cy in y..y + h {
                    assert!(cells.insert((cx, cy)), "{title} overlaps another panel");
                }
            }
            if p["type"] == "row" {
                assert!(p["panels"].is_array());
                continue;
            }
            assert!(p["options"].is_object(), "{title}: options");
            assert!(p["transformations"].is_array(), "{title}: transformations");
            assert!(
                p["fieldConfig"]["defaults"].is_object(),
                "{title}: fieldConfig.defaults"
            );
            assert!(
                p["fieldConfig"]["overrides"].is_array(),
                "{title}: fieldConfig.overrides"
            );
            let steps = p["fieldConfig"]["defaults"]["thresholds"]["steps"].as_array();
            for s in steps.into_iter().flatten() {
                assert!(s["color"].is_string(), "{title}: threshold colour");
            }
            let mut refs = HashSet::new();
            for t in p["targets"].as_array().unwrap() {
                assert!(refs.insert(t["refId"].as_str().unwrap()), "{title}: refId");
                assert!(!t["expr"].as_str().unwrap().is_empty(), "{title}: expr");
                assert_eq!(t["datasource"]["uid"], DATASOURCE);
            }
            assert!(!refs.is_empty(), "{title}: no query");
        }
        for a in d["annotations"]["list"].as_array().unwrap() {
            for key in ["name", "datasource", "enable", "iconColor", "expr"] {
                assert!(!a[key].is_null(), "annotation.{key}");
            }
        }
        let var = &d["templating"]["list"][0];
        assert_eq!(var["type"], "datasource");
        assert_eq!(var["name"], "datasource");
        assert_eq!(var["hide"], 0);
    }
}
