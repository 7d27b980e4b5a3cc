//! What a scenario is, in words: the fleet, the job, the timeline; and the
//! arithmetic of what its pools could open against what the server lets the
//! application hold. Built from the validated scenario only.

use super::clock;
use crate::format::{percent, span};
use crate::scenario::{
    Action, App, Job, JobPlacement, JobPoolMode, ReleaseDiscipline, Scenario, Strategy,
};

/// "20 pods × 4 Node.js workers, each worker with its own node-postgres
/// pool (max 10) …": the scenario's setup and timeline as a paragraph.
pub fn story(s: &Scenario) -> String {
    let db = &s.database;
    let app = s.app();
    let rate = s.traffic.rate_points.first().map_or(0.0, |p| p.1);
    let mut text = format!(
        "{} pods × {} Node.js workers, each worker with its own node-postgres pool ({}), serve {} requests/s against PostgreSQL with max_connections = {}: {} reserved for superusers and {} held by other clients leave the application {} connections.",
        s.fleet.pods,
        s.fleet.workers,
        pool_text(app),
        rate.round(),
        db.max_connections,
        db.superuser_reserved + db.reserved,
        db.other_clients,
        usable(s)
    );
    text.push(' ');
    text.push_str(&match &app.job {
        Some(job) if s.versions.len() > 1 => {
            format!("{} runs {}.", s.versions[0].name, job_text(job))
        }
        Some(job) => format!("The application runs {}.", job_text(job)),
        None if s.versions.len() > 1 => format!("{} runs no background job.", s.versions[0].name),
        None => "No background job runs.".to_owned(),
    });
    let mut running = 0;
    let mut previous = 0;
    for e in &s.events {
        let at = clock(s, e.at.as_secs_f64());
        let sentence = match &e.action {
            Action::Deploy { version, rollout } => {
                let what = change_text(&s.versions[running].app, &s.versions[*version].app);
                previous = running;
                running = *version;
                format!(
                    "At {at}, {} is deployed ({}): it {what}.",
                    s.versions[*version].name,
                    strategy_text(rollout.strategy)
                )
            }
            Action::Rollback { .. } => {
                std::mem::swap(&mut running, &mut previous);
                format!(
                    "At {at}, the deploy is rolled back to {}.",
                    s.versions[running].name
                )
            }
            Action::Traffic { rate, .. } => {
                format!("At {at}, traffic moves to {} requests/s.", rate.round())
            }
            Action::TrafficScale { scale } => {
                format!("At {at}, traffic becomes {scale} times the recorded rate.")
            }
            Action::Job { enabled } => format!(
                "At {at}, the job is switched {}.",
                if *enabled { "on" } else { "off" }
            ),
            Action::Server { .. } => format!("At {at}, the server's settings change."),
            Action::Restart { pod, .. } => format!("At {at}, pod {pod} is restarted."),
        };
        text.push(' ');
        text.push_str(&sentence);
    }
    text
}

/// Connections the application may hold: `max_connections` minus the
/// reserved slots and the other clients.
pub fn usable(s: &Scenario) -> u32 {
    s.database
        .usable_slots()
        .saturating_sub(s.database.other_clients)
}

fn pool_text(app: &App) -> String {
    let p = &app.pool;
    let mut parts = vec![format!("max {}", p.max)];
    if let Some(t) = p.idle_timeout {
        parts.push(format!("idle timeout {}", span(t.as_secs_f64())));
    }
    if let Some(t) = p.acquire_timeout {
        parts.push(format!("acquire timeout {}", span(t.as_secs_f64())));
    }
    parts.join(", ")
}

fn job_text(job: &Job) -> String {
    let placement = match job.placement {
        JobPlacement::OneWorker => "in one worker per pod",
        JobPlacement::EveryWorker => "in every worker",
    };
    let pool = match job.pool_mode {
        JobPoolMode::Shared => "through the worker's own pool".to_owned(),
        JobPoolMode::Own => format!("with a pool of its own (max {})", job.pool.max),
        JobPoolMode::PerRun => format!("with a new pool every run (max {})", job.pool.max),
        JobPoolMode::Queue => {
            "handing its work to a queue drained by one consumer per pod with a single connection"
                .to_owned()
        }
    };
    let release = match job.release {
        ReleaseDiscipline::Finally => "still releases its connections",
        ReleaseDiscipline::Leaky => "never releases the connections it holds",
    };
    format!(
        "a background job every {} {placement}, {pool}, holding {} connection{} per run; {} of runs fail, and a failed run {release}",
        span(job.period.as_secs_f64()),
        job.fan_out,
        if job.fan_out == 1 { "" } else { "s" },
        percent(job.error_probability, 0)
    )
}

/// What deploying `to` over `from` changes, as a verb phrase.
fn change_text(from: &App, to: &App) -> String {
    let mut changes = Vec::new();
    match (&from.job, &to.job) {
        (None, Some(job)) => changes.push(format!("adds {}", job_text(job))),
        (Some(_), None) => changes.push("removes the background job".to_owned()),
        (Some(a), Some(b)) if job_text(a) != job_text(b) => {
            changes.push(format!("changes the job to {}", job_text(b)))
        }
        _ => {}
    }
    if from.pool != to.pool {
        changes.push(format!("sets the request pools to {}", pool_text(to)));
    }
    if changes.is_empty() {
        changes.push("replaces every pod with the same code".to_owned());
    }
    changes.join(" and ")
}

fn strategy_text(s: Strategy) -> &'static str {
    match s {
        Strategy::Rolling => "rolling",
        Strategy::AllAtOnce => "all at once",
        Strategy::Canary => "canary first",
    }
}

/// One row of the arithmetic: a version's pools against the usable slots.
pub struct Arithmetic {
    /// Version name.
    pub version: String,
    /// "20 × 4 × 10".
    pub request_pools: String,
    /// "20 × 10", "shared" or "–".
    pub job_pools: String,
    /// Every connection the pools could open.
    pub possible: u64,
    /// What the application may hold.
    pub usable: u32,
}

/// The arithmetic of every version of `s`.
pub fn arithmetic(s: &Scenario) -> Vec<Arithmetic> {
    s.versions
        .iter()
        .map(|v| {
            let app = &v.app;
            let job_pools = match &app.job {
                Some(j) if j.pool_mode != JobPoolMode::Shared => {
                    let runners = match j.placement {
                        JobPlacement::OneWorker => s.fleet.pods,
                        JobPlacement::EveryWorker => s.fleet.pods * s.fleet.workers,
                    };
                    format!("{runners} × {}", j.pool.max)
                }
                Some(_) => "shared".to_owned(),
                None => "–".to_owned(),
            };
            Arithmetic {
                version: v.name.clone(),
                request_pools: format!("{} × {} × {}", s.fleet.pods, s.fleet.workers, app.pool.max),
                job_pools,
                possible: s.possible_connections_of(app),
                usable: usable(s),
            }
        })
        .collect()
}
