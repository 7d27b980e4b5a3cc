//! The `[job]` table: the periodic background job, its pool mode and the
//! warnings about its fan-out.

use super::*;

impl Checker<'_> {
    pub(super) fn job(&self, f: &JobFile) -> Result<Option<Job>> {
        if f.enabled == Some(false) {
            return Ok(None);
        }
        let pool_mode = f.pool_mode.ok_or_else(|| {
            self.err(
                "job.pool_mode",
                "expected the required key `pool_mode` (\"shared\", \"own\", \"per_run\" or \"queue\"), found nothing",
            )
        })?;
        let release = f.release.ok_or_else(|| {
            self.err(
                "job.release",
                "expected the required key `release` (\"finally\" or \"leaky\"), found nothing",
            )
        })?;
        if pool_mode == JobPoolMode::Shared && f.pool.is_some() {
            return Err(self.err(
                "job.pool",
                "expected no [job.pool] table with pool_mode = \"shared\" (the job uses the worker's [pool]), found one",
            ));
        }
        let mut pool_file = f.pool.clone().unwrap_or_default();
        let fan_out = self.int("job.fan_out", f.fan_out, 1, 1, 10_000)?;
        if pool_mode == JobPoolMode::Queue {
            // One consumer per pod, holding one connection.
            if fan_out != 1 {
                return Err(self.err(
                    "job.fan_out",
                    format!("expected fan_out = 1 with pool_mode = \"queue\" (the consumer holds one connection), found {fan_out}"),
                ));
            }
            if pool_file.max.is_some_and(|m| m != 1) {
                return Err(self.err(
                    "job.pool.max",
                    format!("expected max = 1 with pool_mode = \"queue\" (the consumer holds one connection), found {}", pool_file.max.unwrap_or_default()),
                ));
            }
            pool_file.max = Some(1);
        }
        let pool = self.pool("job.pool", &pool_file, SimTime::from_secs(10))?;
        Ok(Some(Job {
            period: self.positive_duration("job.period", f.period, SimTime::from_secs(30))?,
            placement: f.runs_in.unwrap_or(JobPlacement::OneWorker),
            overlap: f.overlap.unwrap_or(true),
            fan_out,
            hold: self.dist(
                "job.hold",
                f.hold.as_ref(),
                Dist::lognormal_median_p99(2.0, 30.0),
            )?,
            error_probability: self.probability(
                "job.error_probability",
                f.error_probability,
                0.05,
            )?,
            pool_mode,
            release,
            leak_in_transaction: f.leak_in_transaction.unwrap_or(false),
            error_listener: f.error_listener.unwrap_or(false),
            pool,
        }))
    }

    /// `pool.job_limit` caps what the job takes from the worker's pool: it
    /// is refused where no version runs the job there, as it would change
    /// nothing. `modes` are the versions' `job.pool_mode`, job disabled or
    /// not.
    pub(super) fn job_limit_applies(
        &self,
        versions: &[Version],
        modes: &[Option<JobPoolMode>],
    ) -> Result<()> {
        let mut limited = versions
            .iter()
            .zip(modes)
            .filter(|(v, _)| v.app.pool.job_limit.is_some());
        if limited
            .clone()
            .any(|(_, mode)| *mode == Some(JobPoolMode::Shared))
        {
            return Ok(());
        }
        let Some((version, mode)) = limited.next() else {
            return Ok(());
        };
        let found = match mode {
            Some(mode) => format!("pool_mode = {}", serde_json::json!(mode)),
            None => "no [job]".to_owned(),
        };
        Err(self.for_version(&version.name).err(
            "pool.job_limit",
            format!(
                "expected job_limit only with a job in the worker's pool (job.pool_mode = \"shared\"), whose share of that pool it caps, found {found}"
            ),
        ))
    }

    /// Valid but likely wrong: a job whose nested checkouts need more
    /// clients than its pool has can deadlock on every run.
    pub(super) fn warnings(&self, versions: &[Version]) -> Vec<ScenarioWarning> {
        let mut warnings: Vec<ScenarioWarning> = Vec::new();
        for version in versions {
            let app = &version.app;
            let Some(job) = &app.job else { continue };
            let (pool, whose) = match job.pool_mode {
                JobPoolMode::Shared => (&app.pool, "the worker's pool (pool.max"),
                JobPoolMode::Own | JobPoolMode::PerRun => {
                    (&job.pool, "the job's pool (job.pool.max")
                }
                JobPoolMode::Queue => continue,
            };
            if job.fan_out <= pool.max {
                continue;
            }
            let wait = match pool.acquire_timeout {
                Some(t) => format!("until its acquire times out after {t}"),
                None => "for ever (no acquire_timeout)".to_owned(),
            };
            let starved = if job.pool_mode == JobPoolMode::Shared {
                ", starving the requests,"
            } else {
                ""
            };
            let warning = self.for_version(&version.name).err(
                "job.fan_out",
                format!(
                    "a run checks out {} clients one after the other from {whose} = {}): it can never hold them all, and can deadlock holding all {} of them{starved} while it waits for one more {wait}",
                    job.fan_out, pool.max, pool.max
                ),
            );
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        warnings
    }
}

/// `over`'s keys on top of `base`'s; a version may add a job the base lacks.
pub(super) fn overlay_job(base: Option<&JobFile>, over: Option<&JobFile>) -> Option<JobFile> {
    let (b, o) = match (base, over) {
        (b, None) => return b.cloned(),
        (None, Some(o)) => return Some(o.clone()),
        (Some(b), Some(o)) => (b, o),
    };
    Some(JobFile {
        enabled: o.enabled.or(b.enabled),
        period: o.period.or(b.period),
        runs_in: o.runs_in.or(b.runs_in),
        overlap: o.overlap.or(b.overlap),
        fan_out: o.fan_out.or(b.fan_out),
        hold: o.hold.clone().or_else(|| b.hold.clone()),
        error_probability: o.error_probability.or(b.error_probability),
        pool_mode: o.pool_mode.or(b.pool_mode),
        release: o.release.or(b.release),
        leak_in_transaction: o.leak_in_transaction.or(b.leak_in_transaction),
        error_listener: o.error_listener.or(b.error_listener),
        pool: match (&b.pool, &o.pool) {
            (Some(bp), op) => Some(overlay_pool(bp, op.as_ref())),
            (None, op) => op.clone(),
        },
    })
}
