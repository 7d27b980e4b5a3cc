//! The background job as the capacity arithmetic sees it: the pool it
//! uses, as the scenario says or as `--job` overrides it.

use crate::scenario::{App, Job, JobPlacement, JobPoolMode, ReleaseDiscipline};
use serde::Serialize;
use std::str::FromStr;

/// The largest own pool `--job own:N` takes, as the scenario file's
/// `job.pool.max`.
const OWN_POOL_MAX: u32 = 100_000;

/// The job's pool as given on the command line (`--job`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobFlag {
    /// No background job.
    None,
    /// The job uses the worker's pool.
    Shared,
    /// A pool of its own with this max, in one worker per pod.
    Own(u32),
}

impl FromStr for JobFlag {
    type Err = String;
    fn from_str(s: &str) -> Result<JobFlag, String> {
        match s.trim() {
            "none" => Ok(JobFlag::None),
            "shared" => Ok(JobFlag::Shared),
            t => t
                .strip_prefix("own:")
                .and_then(|n| n.trim().parse::<u32>().ok())
                .filter(|n| (1..=OWN_POOL_MAX).contains(n))
                .map(JobFlag::Own)
                .ok_or_else(|| {
                    format!(
                        "expected none, shared or own:N (N from 1 to {OWN_POOL_MAX}), found \"{s}\""
                    )
                }),
        }
    }
}

/// The job as the arithmetic sees it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "pool")]
pub enum JobPool {
    /// No job.
    None,
    /// The worker's request pool.
    Shared {
        /// Mean connections the job holds in its worker's pool (Erlangs).
        load: f64,
    },
    /// Its own pools.
    Own {
        /// Their max.
        max: u32,
        /// Job pools per pod.
        per_pod: u32,
        /// A new pool every run (`per_run`): overlapping runs add more.
        per_run: bool,
    },
}

/// The job's pool in `app`, or as `--job` says, and whether it releases
/// in finally (`None`: no job, or unknown).
pub(super) fn job_pool(
    flag: Option<JobFlag>,
    app: Option<&App>,
    workers: u32,
) -> (JobPool, Option<bool>) {
    match flag {
        Some(JobFlag::None) => return (JobPool::None, None),
        Some(JobFlag::Own(max)) => {
            let releases = app.and_then(|a| a.job.as_ref()).map(finally);
            return (
                JobPool::Own {
                    max,
                    per_pod: 1,
                    per_run: false,
                },
                releases,
            );
        }
        Some(JobFlag::Shared) if app.and_then(|a| a.job.as_ref()).is_none() => {
            return (JobPool::Shared { load: 0.0 }, None);
        }
        _ => {}
    }
    let Some(job) = app.and_then(|a| a.job.as_ref()) else {
        return (JobPool::None, None);
    };
    let runners = match job.placement {
        JobPlacement::OneWorker => 1,
        JobPlacement::EveryWorker => workers,
    };
    let pool = if flag == Some(JobFlag::Shared) || job.pool_mode == JobPoolMode::Shared {
        // Little's law: a run every period holds fan_out clients for the
        // mean hold.
        JobPool::Shared {
            load: f64::from(job.fan_out) * job.hold.mean() / job.period.as_secs_f64(),
        }
    } else {
        JobPool::Own {
            max: job.pool.max,
            per_pod: runners,
            per_run: job.pool_mode == JobPoolMode::PerRun,
        }
    };
    (pool, Some(finally(job)))
}

/// Whether `job` releases its connections in a `finally` block.
fn finally(job: &Job) -> bool {
    job.release == ReleaseDiscipline::Finally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_flags_parse_like_the_issue_writes_them() {
        assert_eq!("own:10".parse(), Ok(JobFlag::Own(10)));
        assert_eq!(" own: 7 ".parse(), Ok(JobFlag::Own(7)));
        assert_eq!("shared".parse(), Ok(JobFlag::Shared));
        assert_eq!("none".parse(), Ok(JobFlag::None));
        for bad in ["own:0", "own:100001", "own:-1", "own:", "mine"] {
            let e = bad.parse::<JobFlag>().expect_err(bad);
            assert_eq!(
                e,
                format!("expected none, shared or own:N (N from 1 to 100000), found \"{bad}\"")
            );
        }
    }
}
