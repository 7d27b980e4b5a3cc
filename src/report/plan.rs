//! The capacity plan as text for a terminal or a CI log.

use crate::plan::{Check, JobPool, Plan};
use std::fmt::Write;

/// The plan as text.
pub fn text(p: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Capacity plan: {}", p.source);
    let _ = writeln!(s, "\nDatabase slots");
    let slots = [
        ("max_connections", p.max_connections.to_string()),
        (
            "− reserved (superuser + reserved_connections)",
            p.reserved.to_string(),
        ),
        ("= usable by the application's role", p.usable.to_string()),
        (
            "− other clients (monitoring, psql, migrations)",
            p.other_clients.to_string(),
        ),
        ("= slots the application may hold", p.app_slots.to_string()),
    ];
    for (what, n) in slots {
        let _ = writeln!(s, "  {what:<48}{n:>6}");
    }
    let _ = writeln!(
        s,
        "\nConnections the fleet can open: {} pods × {} workers, {} surge pods during a deploy ({})",
        p.pods, p.workers, p.surge, p.surge_source
    );
    let _ = writeln!(
        s,
        "  In a deploy: at most {} pods hold connections at once{}: {}.",
        p.deploy_pods,
        p.deploy_peak_at_s
            .map_or(String::new(), |t| format!(" (first at {})", seconds(t))),
        p.deploy_bound
    );
    let header = [
        "version",
        "pool max",
        "job's pool",
        "per pod",
        "possible",
        "in a deploy",
        "fits",
        "largest safe max (deploy / steady)",
    ];
    let mut rows = vec![header.map(String::from).to_vec()];
    for v in &p.versions {
        rows.push(vec![
            v.name.clone(),
            v.pool_max.to_string(),
            match v.job {
                JobPool::None => "none".into(),
                JobPool::Shared { .. } => "shared".into(),
                JobPool::Own {
                    max,
                    per_pod,
                    per_run,
                } => format!(
                    "{per_pod} × own {max}{}",
                    if per_run { " per run" } else { "" }
                ),
            },
            v.per_pod.to_string(),
            v.possible.to_string(),
            v.possible_in_deploy
                .map_or("no bound".into(), |n| n.to_string()),
            if v.fits { "yes" } else { "NO" }.into(),
            format!("{} / {}", v.safe_pool_max, v.steady_pool_max),
        ]);
    }
    table(&mut s, &rows);
    let _ = writeln!(
        s,
        "  The write-up's floor({} / ({} × {})) = {} ignores the reserved slots, other clients, the job's\n  pools and deploys. \"Possible\" is the worst case (pools grow lazily). \"In a deploy\" bounds the\n  connections under the simulator's rollout: Kubernetes stops counting terminated pods, which keep\n  their connections until they exit (when idle, or at the end of termination_grace).",
        p.max_connections, p.pods, p.workers, p.write_up_pool_max
    );
    if p.versions
        .iter()
        .any(|v| matches!(v.job, JobPool::Own { per_run: true, .. }))
    {
        let _ = writeln!(
            s,
            "  A new pool per run counts once in \"possible\": overlapping runs each open another, so\n  nothing bounds the connections it can hold (exit 1)."
        );
    }

    let timeout = p.acquire_timeout_s.map(|t| {
        format!(
            "P(timeout at {}) ({})",
            seconds(t),
            if p.exponential_timeout {
                "Erlang A"
            } else {
                "M/M/c+D"
            }
        )
    });
    let workers = u64::from(p.pods) * u64::from(p.workers);
    let per_worker = p.rate * f64::from(p.checkouts) / workers as f64;
    let _ = writeln!(
        s,
        "\nQueueing view per worker (M/M/c: Poisson arrivals {:.0}/s × {} checkout{} ÷ {} workers = {:.2}/s,\nexponential holds of mean {}; a warm pool, connection setup left out)",
        p.rate,
        p.checkouts,
        if p.checkouts == 1 { "" } else { "s" },
        workers,
        per_worker,
        seconds(p.hold_s)
    );
    for v in &p.versions {
        if p.versions.len() > 1 {
            let _ = writeln!(s, "  {}", v.name);
        }
        let mut rows = vec![vec![
            "case".to_owned(),
            "offered (Erlangs)".into(),
            "P(wait) (Erlang C)".into(),
            "mean wait".into(),
        ]];
        if let Some(t) = &timeout {
            rows[0][2] = "P(wait)".into();
            rows[0].push(t.clone());
        }
        for q in &v.queueing {
            let mut row = vec![
                q.case.clone(),
                format!("{:.3}", q.offered),
                probability(q.p_wait),
                q.mean_wait_s.map_or("unbounded".into(), seconds),
            ];
            if let Some(pt) = q.p_timeout {
                row.push(probability(pt));
            }
            rows.push(row);
        }
        table(&mut s, &rows);
        if let JobPool::Shared { load } = v.job
            && load > 0.0
        {
            let _ = writeln!(
                s,
                "  The job's worker adds the job's {load:.2} Erlangs (fan-out × mean hold ÷ period) to its pool: a\n  rough M/M/c reading, since job holds last seconds, not milliseconds."
            );
        }
    }

    let _ = writeln!(s, "\nPre-deploy checklist (the write-up's)");
    for item in &p.checklist {
        let mark = match item.check {
            Check::Checked => "[x]",
            Check::Flagged => "[!]",
            Check::Unknown => "[?]",
        };
        let _ = writeln!(s, "  {mark} {}\n      {}", item.item, item.detail);
    }
    let _ = writeln!(
        s,
        "\n{}",
        if p.fits {
            "FITS: every version's connections fit in the database's slots, deploys included (exit 0)"
        } else {
            "OVER-PROVISIONED: the fleet can open more connections than the database lets the app hold (exit 1)"
        }
    );
    s
}

/// Rows with aligned columns, the first column left-aligned.
fn table(s: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from(" ");
        for (i, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if i == 0 {
                let _ = write!(line, " {cell}{pad}");
            } else {
                let _ = write!(line, "  {pad}{cell}");
            }
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
}

fn probability(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else if p >= 0.001 {
        format!("{p:.4}")
    } else if p >= 1e-9 {
        format!("{p:.2e}")
    } else {
        "< 1e-9".into()
    }
}

/// A time for people: `12.34 ms`, `1.5 s`; below 0.005 ms, where two
/// decimals of ms would show zero, exactly (`1ns`, `1.5µs`).
fn seconds(t: f64) -> String {
    if t > 0.0 && t < 5e-6 {
        crate::engine::SimTime::from_secs_f64(t).to_string()
    } else if t < 1.0 {
        format!("{:.2} ms", t * 1e3)
    } else {
        format!("{t:.1} s")
    }
}
