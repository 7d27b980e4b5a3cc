//! The OpenMetrics text format: every family's series together, each
//! series' points together, ending with `# EOF`.

use super::{Date, Exporter, Metric, Sample, SampleOut, Spool, format_value};
use crate::scenario::Scenario;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Write};

/// Writes samples as OpenMetrics text: [`finish`](Self::finish) writes
/// every family in [`Metric::ALL`] order, each series' points together.
pub struct OpenMetricsOut {
    spool: Spool,
    ids: HashMap<(Metric, String), usize>,
    families: BTreeMap<Metric, Vec<usize>>,
    line: String,
}

impl OpenMetricsOut {
    /// An empty output.
    pub fn new() -> io::Result<OpenMetricsOut> {
        Ok(OpenMetricsOut {
            spool: Spool::new()?,
            ids: HashMap::new(),
            families: BTreeMap::new(),
            line: String::new(),
        })
    }

    /// Write the whole exposition, ending with `# EOF`.
    pub fn finish(mut self, out: &mut dyn Write) -> io::Result<()> {
        for (metric, ids) in std::mem::take(&mut self.families) {
            let name = metric.name();
            writeln!(out, "# TYPE {name} {}", metric.kind().name())?;
            if let Some(unit) = metric.unit() {
                writeln!(out, "# UNIT {name} {unit}")?;
            }
            writeln!(out, "# HELP {name} {}", metric.help())?;
            for id in ids {
                self.spool.drain_into(id, out)?;
            }
        }
        out.write_all(b"# EOF\n")?;
        out.flush()
    }
}

impl SampleOut for OpenMetricsOut {
    fn sample(&mut self, s: &Sample) -> io::Result<()> {
        // One OpenMetrics Metric per label set: a histogram's buckets, count
        // and sum of one instant are one point of the same Metric.
        let key = (s.metric, s.labels.to_owned());
        let id = match self.ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.spool.add();
                self.ids.insert(key, id);
                self.families.entry(s.metric).or_default().push(id);
                id
            }
        };
        use fmt::Write as _;
        let line = &mut self.line;
        line.clear();
        let labels = s.all_labels();
        let (secs, ms) = (s.t_ms.div_euclid(1000), s.t_ms.rem_euclid(1000));
        let _ = write!(line, "{}", s.name());
        if !labels.is_empty() {
            let _ = write!(line, "{{{labels}}}");
        }
        let _ = write!(line, " {} {secs}", format_value(s.value));
        if ms != 0 {
            let _ = write!(line, ".{ms:03}");
        }
        line.push('\n');
        self.spool.append(id, self.line.as_bytes())
    }
}

/// A sink that streams a run into an OpenMetrics exposition.
pub type OpenMetricsSink = Exporter<OpenMetricsOut>;

impl OpenMetricsSink {
    /// A sink for a run of `scenario` anchored on `date`.
    pub fn create(scenario: &Scenario, date: Date) -> io::Result<OpenMetricsSink> {
        Ok(Exporter::new(scenario, date, OpenMetricsOut::new()?))
    }

    /// Write the exposition to `out`.
    pub fn write_to(self, out: &mut dyn Write) -> io::Result<()> {
        self.into_out().finish(out)
    }
}
