//! Prometheus `query_range` responses, as saved from the HTTP API
//! (`{"status":"success","data":{"resultType":"matrix","result":[…]}}`).
//! The series are summed as PromQL's `sum` would: at each timestamp, over
//! the series that have a sample there. The series must lie on one grid of
//! timestamps — a series may start late or end early (a pod that came or
//! went) but not skip a timestamp another series has, or sample between
//! them: such a file is refused (sum in the query instead).

use super::{Clock, Series, TelemetryError, ValueKind};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use std::fmt;

/// What is checked before the samples are read.
#[derive(Deserialize)]
struct Head {
    status: Option<String>,
    error: Option<String>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    data: Option<HeadData>,
}

#[derive(Deserialize)]
struct HeadData {
    #[serde(rename = "resultType")]
    result_type: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    result: Vec<Matrix>,
}

/// One series of a matrix result.
#[derive(Deserialize)]
struct Matrix {
    #[serde(default, rename = "metric")]
    _metric: Option<IgnoredAny>,
    values: Vec<Sample>,
}

/// `[unix_seconds, "value"]`.
struct Sample(f64, f64);

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(SampleVisitor)
    }
}

struct SampleVisitor;

impl<'de> Visitor<'de> for SampleVisitor {
    type Value = Sample;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sample [unix_seconds, \"value\"]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Sample, A::Error> {
        let bad = |found: &str| {
            de::Error::custom(format!(
                "expected a sample [unix_seconds, \"value\"], found {found}"
            ))
        };
        let t: f64 = seq.next_element()?.ok_or_else(|| bad("an empty array"))?;
        let v: String = seq.next_element()?.ok_or_else(|| bad("no value"))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(bad("more than two elements"));
        }
        let v = v
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                de::Error::custom(format!("expected a finite number in a string, found {v:?}"))
            })?;
        Ok(Sample(t, v))
    }
}

/// serde_json's error as expected and found, without its position.
fn json_error(
    file: &str,
    text: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> TelemetryError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let (line, column) = (inner.line(), inner.column());
    let message = inner.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_owned();
    let (expected, found) = if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|m| m.split_once(", expected "))
    {
        (expected.to_owned(), found.to_owned())
    } else if let Some((expected, found)) = message
        .strip_prefix("expected ")
        .and_then(|m| m.split_once(", found "))
    {
        (expected.to_owned(), found.to_owned())
    } else if message.starts_with("EOF while parsing") {
        let found = "the end of the file (the JSON is cut short)";
        (
            "a Prometheus query_range response (JSON)".to_owned(),
            found.to_owned(),
        )
    } else {
        (
            "a Prometheus query_range response (JSON)".to_owned(),
            message,
        )
    };
    let e = TelemetryError::whole(file, expected, found).at(text, line, column);
    if path == "." { e } else { e.on(path) }
}

fn parse<'a, T: Deserialize<'a>>(file: &str, text: &'a str) -> Result<T, TelemetryError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| json_error(file, text, e))
}

/// Read a Prometheus `query_range` response: the sum of its series, on
/// `clock`; `kind` says whether values must be ≥ 0.
pub(super) fn read(
    file: &str,
    text: &str,
    clock: &Clock,
    kind: ValueKind,
) -> Result<Series, TelemetryError> {
    let err = |path: &str, expected: &str, found: String| {
        TelemetryError::whole(file, expected, found).on(path)
    };
    let head: Head = parse(file, text)?;
    match head.status.as_deref() {
        Some("success") => {}
        Some("error") => {
            let why = match (head.error_type, head.error) {
                (Some(t), Some(e)) => format!("{t}: {e}"),
                (t, e) => e.or(t).unwrap_or_else(|| "no reason given".into()),
            };
            return Err(err(
                "status",
                "a successful response",
                format!("an error response: {why}"),
            ));
        }
        other => {
            let found = other.map_or("no status".into(), |s| format!("{s:?}"));
            return Err(err(
                "status",
                "\"success\" (a Prometheus query_range response)",
                found,
            ));
        }
    }
    let result_type = head.data.and_then(|d| d.result_type);
    if result_type.as_deref() != Some("matrix") {
        let found = result_type.map_or("nothing".into(), |t| format!("{t:?}"));
        return Err(err(
            "data.resultType",
            "\"matrix\" (the response of a range query, /api/v1/query_range)",
            found,
        ));
    }
    let response: Response = parse(file, text)?;
    let series = response.data.result;
    for (i, s) in series.iter().enumerate() {
        for (j, w) in s.values.windows(2).enumerate() {
            if w[1].0 <= w[0].0 {
                let what = if w[1].0 == w[0].0 {
                    "the same timestamp"
                } else {
                    "an earlier timestamp"
                };
                let found = format!("{} after {}: {what}", w[1].0, w[0].0);
                let path = format!("data.result[{i}].values[{}]", j + 1);
                return Err(err(&path, "timestamps in increasing order", found));
            }
        }
        let negative = s.values.iter().position(|v| v.1 < 0.0);
        if let (true, Some(j)) = (kind != ValueKind::Value, negative) {
            let path = format!("data.result[{i}].values[{j}][1]");
            return Err(err(&path, "a rate ≥ 0", format!("{}", s.values[j].1)));
        }
    }
    let mut grid: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().map(|v| v.0))
        .collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let Some(&first) = grid.first() else {
        return Err(err("data.result", "at least one sample", "none".into()));
    };
    let mut sums = vec![0.0; grid.len()];
    for (i, s) in series.iter().enumerate() {
        let Some(&Sample(t0, _)) = s.values.first() else {
            continue;
        };
        let k = grid.partition_point(|&g| g < t0);
        for (j, &Sample(t, v)) in s.values.iter().enumerate() {
            if grid[k + j] != t {
                let path = format!("data.result[{i}].values[{j}]");
                let found = format!(
                    "{t}, where another series has {} (sum the series in the query: `sum(…)`)",
                    grid[k + j]
                );
                return Err(err(&path, "series that share their timestamps", found));
            }
            sums[k + j] += v;
        }
    }
    let points = grid
        .iter()
        .zip(sums)
        .map(|(&t, v)| (clock.place_absolute(t, first), v))
        .collect();
    Ok(Series { points })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(result: &str) -> String {
        format!(
            "{{\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\"result\":[{result}]}}}}"
        )
    }

    fn read_json(text: &str) -> Result<Series, TelemetryError> {
        read("p.json", text, &Clock::default(), ValueKind::Rate)
    }

    #[test]
    fn series_are_summed_on_their_shared_grid() {
        let a = r#"{"metric":{"pod":"a"},"values":[[1000,"1"],[1015,"2"],[1030,"3"]]}"#;
        let b = r#"{"metric":{"pod":"b"},"values":[[1015,"10"],[1030,"20"]]}"#;
        let s = read_json(&matrix(&format!("{a},{b}"))).unwrap();
        assert_eq!(s.points, vec![(0.0, 1.0), (15.0, 12.0), (30.0, 23.0)]);
        let dated = Clock {
            start_s: Some(60.0),
            date: Some((1970, 1, 1)),
        };
        let s = read("p.json", &matrix(a), &dated, ValueKind::Rate).unwrap();
        assert_eq!(s.points[0], (940.0, 1.0));
    }

    #[test]
    fn refusals_name_the_json_path() {
        let e = |text: &str| read_json(text).unwrap_err().to_string();
        assert_eq!(
            e(r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#),
            "p.json: status: expected a successful response, found an error response: bad_data: parse error"
        );
        assert_eq!(
            e(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#),
            "p.json: data.resultType: expected \"matrix\" (the response of a range query, /api/v1/query_range), found \"vector\""
        );
        assert_eq!(
            e(&matrix(r#"{"values":[[1000,"x"]]}"#)),
            "p.json:1:81: data.result[0].values[0]: expected a finite number in a string, found \"x\""
        );
        assert_eq!(
            e(&matrix(r#"{"values":[[1000,"1"],[1000,"2"]]}"#)),
            "p.json: data.result[0].values[1]: expected timestamps in increasing order, found 1000 after 1000: the same timestamp"
        );
        let skew = r#"{"values":[[1000,"1"],[1015,"1"]]},{"values":[[1007,"1"]]}"#;
        assert!(e(&matrix(skew)).starts_with(
            "p.json: data.result[0].values[1]: expected series that share their timestamps, found 1015, where another series has 1007"
        ));
        assert_eq!(
            e(&matrix("")),
            "p.json: data.result: expected at least one sample, found none"
        );
        assert_eq!(
            e("{\"status\":"),
            "p.json:1:10: status: expected a Prometheus query_range response (JSON), found the end of the file (the JSON is cut short)"
        );
    }
}
