//! CSV telemetry: a header `time,<value>` (`rate`, `count` or `value`, in
//! any case, quoted or not) and one row per sample. Blank lines are
//! skipped; every other line needs both fields.

use super::{Clock, Series, TelemetryError, TimeReader, ValueKind};

/// One row: its line, the time's text and column, the value's text and
/// column.
struct Row<'a> {
    line: usize,
    fields: Vec<(&'a str, usize)>,
}

/// The fields of `line`, unquoted and trimmed, with their 1-based
/// character columns.
fn fields(line: &str) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let mut column = 1;
    for field in line.split(',') {
        let trimmed = field.trim_start();
        let at = column + (field.chars().count() - trimmed.chars().count());
        let value = trimmed.trim_end();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        out.push((value, at));
        column += field.chars().count() + 1;
    }
    out
}

/// `found` for a field: the text in backquotes, or "nothing".
fn shown(text: &str) -> String {
    if text.is_empty() {
        "nothing".into()
    } else {
        format!("`{}`", text.chars().take(40).collect::<String>())
    }
}

/// Read a CSV file's series; `kinds` are the value columns accepted.
pub(super) fn read(
    file: &str,
    text: &str,
    clock: &Clock,
    kinds: &[ValueKind],
) -> Result<(Series, ValueKind), TelemetryError> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Row {
            line: i + 1,
            fields: fields(l.trim_end_matches('\r')),
        });
    let headers: Vec<String> = kinds
        .iter()
        .map(|k| format!("`time,{}`", k.header()))
        .collect();
    let expected_header = format!("a header {}", headers.join(" or "));
    let err = |expected: &str, found: String| TelemetryError::whole(file, expected, found);
    let Some(header) = rows.next() else {
        return Err(err(&expected_header, "an empty file".into()));
    };
    let names: Vec<String> = header.fields.iter().map(|f| f.0.to_lowercase()).collect();
    let kind = match names.as_slice() {
        [t, v] if t == "time" => kinds.iter().copied().find(|k| k.header() == v),
        _ => None,
    };
    let Some(kind) = kind else {
        let found = shown(text.lines().nth(header.line - 1).unwrap_or_default().trim());
        return Err(err(&expected_header, found).at(text, header.line, 1));
    };
    let mut times = TimeReader::new(clock);
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut previous: Option<(&str, usize)> = None;
    for row in rows {
        let at = |e: TelemetryError, column: usize| e.at(text, row.line, column);
        let [(time, time_col), (value, value_col)] = row.fields[..] else {
            let found = format!("{} fields", row.fields.len());
            let expected = format!("2 fields (time,{})", kind.header());
            return Err(at(err(&expected, found), 1));
        };
        let t = times
            .read(time)
            .map_err(|expected| at(err(&expected, shown(time)).on("time"), time_col))?;
        if let (Some((before, line)), Some(&(t0, _))) = (previous, points.last()) {
            let found = format!("{} after {} (line {line})", shown(time), shown(before));
            if t == t0 {
                let e = err(
                    "each time once",
                    format!("{} a second time (line {line})", shown(time)),
                );
                return Err(at(e.on("time"), time_col));
            }
            if t < t0 {
                return Err(at(
                    err("times in increasing order", found).on("time"),
                    time_col,
                ));
            }
        }
        let what = match kind {
            ValueKind::Rate => "a rate per second, a number ≥ 0",
            ValueKind::Count => "a count, a number ≥ 0",
            ValueKind::Value => "a number",
        };
        let v = value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && (*v >= 0.0 || !kind.non_negative()))
            .ok_or_else(|| at(err(what, shown(value)).on(kind.header()), value_col))?;
        points.push((t, v));
        previous = Some((time, row.line));
    }
    if points.is_empty() || (kind == ValueKind::Count && points.len() < 2) {
        let expected = match kind {
            ValueKind::Count => "at least two rows after the header (a count needs an interval)",
            _ => "at least one row after the header",
        };
        return Err(err(expected, format!("{} rows", points.len())));
    }
    if kind == ValueKind::Count {
        points = count_to_rate(&points);
    }
    Ok((Series { points }, kind))
}

/// Counts in the intervals ending at each time, as a step profile of rates:
/// each interval's rate held from its start. The first row's interval is
/// taken to be as long as the second's (exports sample at a fixed step);
/// the last rate is repeated at the last time, which the profile reaches.
fn count_to_rate(counts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let first_step = counts[1].0 - counts[0].0;
    let mut points = Vec::with_capacity(counts.len() + 1);
    points.push((counts[0].0 - first_step, counts[0].1 / first_step));
    for w in counts.windows(2) {
        let step = w[1].0 - w[0].0;
        points.push((w[0].0, w[1].1 / step));
    }
    let last = *points.last().expect("two rows");
    points.push((counts[counts.len() - 1].0, last.1));
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_csv(text: &str) -> Result<(Series, ValueKind), TelemetryError> {
        let clock = Clock {
            start_s: Some(14.0 * 3600.0),
            date: None,
        };
        read("t.csv", text, &clock, &[ValueKind::Rate, ValueKind::Count])
    }

    #[test]
    fn rates_with_seconds_and_times_of_day() {
        let (s, kind) = read_csv("time,rate\n0,10\n60,20.5\n\n120,0\n").unwrap();
        assert_eq!(kind, ValueKind::Rate);
        assert_eq!(s.points, vec![(0.0, 10.0), (60.0, 20.5), (120.0, 0.0)]);
        let (s, _) = read_csv("\"Time\",\"Rate\"\r\n14:00,1\r\n14:01:30,2\r\n").unwrap();
        assert_eq!(s.points, vec![(0.0, 1.0), (90.0, 2.0)]);
    }

    #[test]
    fn counts_become_the_rates_of_their_intervals() {
        let (s, kind) = read_csv("time,count\n60,600\n120,1200\n150,30\n").unwrap();
        assert_eq!(kind, ValueKind::Count);
        let expected = vec![(0.0, 10.0), (60.0, 20.0), (120.0, 1.0), (150.0, 1.0)];
        assert_eq!(s.points, expected);
    }

    #[test]
    fn errors_name_line_column_and_field() {
        let e = |text: &str| read_csv(text).unwrap_err().to_string();
        assert_eq!(
            e("time,rate\n0,1\n0,2\n"),
            "t.csv:3:1: time: expected each time once, found `0` a second time (line 2)"
        );
        assert_eq!(
            e("time,rate\n0,1\n60,2\n30,2\n"),
            "t.csv:4:1: time: expected times in increasing order, found `30` after `60` (line 3)"
        );
        assert_eq!(
            e("time,rate\n0, -1\n"),
            "t.csv:2:4: rate: expected a rate per second, a number ≥ 0, found `-1`"
        );
        assert_eq!(
            e("time,rate\n0,abc\n"),
            "t.csv:2:3: rate: expected a rate per second, a number ≥ 0, found `abc`"
        );
        assert_eq!(
            e(""),
            "t.csv: expected a header `time,rate` or `time,count`, found an empty file"
        );
        assert_eq!(
            e("when,rate\n"),
            "t.csv:1:1: expected a header `time,rate` or `time,count`, found `when,rate`"
        );
        assert_eq!(
            e("time,rate\n"),
            "t.csv: expected at least one row after the header, found 0 rows"
        );
        assert_eq!(
            e("time,rate\n0,1,2\n"),
            "t.csv:2:1: expected 2 fields (time,rate), found 3 fields"
        );
        assert!(e("time,rate\nnoon,1\n").starts_with("t.csv:2:1: time: expected a time: seconds"));
        assert!(
            e("time,rate\n2026-03-14T25:00:00Z,1\n")
                .starts_with("t.csv:2:1: time: expected a time")
        );
    }
}
