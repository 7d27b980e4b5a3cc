//! The `[pool]` table (and `[job.pool]`, a version's `pool`): a pg-pool's settings.

use super::*;

impl Checker<'_> {
    pub(super) fn pool(
        &self,
        path: &str,
        f: &PoolFile,
        idle_default: SimTime,
    ) -> Result<PoolConfig> {
        let p = |k: &str| format!("{path}.{k}");
        let max = self.int(&p("max"), f.max, 10, 1, 100_000)?;
        let min = self.int(&p("min"), f.min, 0, 0, 100_000)?;
        if min > max {
            return Err(self.err(
                &p("min"),
                format!("expected min ≤ max ({max}), found {min}"),
            ));
        }
        let max_uses = self.int(&p("max_uses"), f.max_uses, 0, 0, i32::MAX as i64)?;
        let job_limit = match f.job_limit {
            None => None,
            Some(_) if path != "pool" => {
                return Err(self.err(
                    &p("job_limit"),
                    "expected job_limit only in [pool] (the reservation is for requests in the worker's shared pool), found it here",
                ));
            }
            Some(k) => Some(self.int(&p("job_limit"), Some(k), 0, 1, max as i64)?),
        };
        if f.queue.is_some() && path != "pool" {
            return Err(self.err(
                &p("queue"),
                "expected queue only in [pool] (requests and the job share only the worker's pool), found it here",
            ));
        }
        Ok(PoolConfig {
            max,
            min,
            idle_timeout: self.optional_duration(f.idle_timeout, idle_default),
            acquire_timeout: self.optional_duration(f.acquire_timeout, SimTime::ZERO),
            acquire_timeout_law: f.acquire_timeout_law.unwrap_or(PatienceLaw::Fixed),
            max_lifetime: self.optional_duration(f.max_lifetime, SimTime::ZERO),
            max_uses: (max_uses > 0).then_some(max_uses),
            error_listener: f.error_listener.unwrap_or(true),
            queue: f.queue.unwrap_or(QueueDiscipline::Fifo),
            job_limit,
        })
    }
}

/// `over`'s keys on top of `base`'s.
pub(super) fn overlay_pool(base: &PoolFile, over: Option<&PoolFile>) -> PoolFile {
    let Some(o) = over else { return base.clone() };
    PoolFile {
        max: o.max.or(base.max),
        min: o.min.or(base.min),
        idle_timeout: o.idle_timeout.or(base.idle_timeout),
        acquire_timeout: o.acquire_timeout.or(base.acquire_timeout),
        acquire_timeout_law: o.acquire_timeout_law.or(base.acquire_timeout_law),
        max_lifetime: o.max_lifetime.or(base.max_lifetime),
        max_uses: o.max_uses.or(base.max_uses),
        error_listener: o.error_listener.or(base.error_listener),
        queue: o.queue.or(base.queue),
        job_limit: o.job_limit.or(base.job_limit),
    }
}
