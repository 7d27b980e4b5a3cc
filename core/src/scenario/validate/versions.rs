//! `[versions]`: each version's application, the base tables with the
//! version's keys on top.

use super::*;

impl Checker<'_> {
    /// The application of one version: the base tables with the version's
    /// keys on top.
    pub(super) fn app(
        &self,
        requests: &RequestsFile,
        pool: &PoolFile,
        job: Option<&JobFile>,
    ) -> Result<App> {
        let app = App {
            requests: self.requests(requests)?,
            pool: self.pool("pool", pool, SimTime::from_secs(30))?,
            job: job.map(|j| self.job(j)).transpose()?.flatten(),
        };
        if let (Some(k), Some(job)) = (app.pool.job_limit, &app.job)
            && job.pool_mode == JobPoolMode::Shared
            && job.fan_out > k
        {
            return Err(self.err(
                "pool.job_limit",
                format!(
                    "expected a job_limit of at least job.fan_out ({}): a run holding {k} clients would wait for its next one for ever, found {k}",
                    job.fan_out
                ),
            ));
        }
        Ok(app)
    }

    /// The initial version (named by `meta.version`) first, then the others
    /// in name order.
    pub(super) fn versions(&self, raw: &ScenarioFile) -> Result<Vec<Version>> {
        let initial = raw
            .meta
            .version
            .clone()
            .unwrap_or_else(|| "initial".to_owned());
        // The initial version runs the base tables, with its own overrides
        // if [versions] declares it: it need not be declared.
        let declared = raw.versions.clone().unwrap_or_default();
        let mut order = vec![initial.clone()];
        order.extend(declared.keys().filter(|k| **k != initial).cloned());
        let mut versions = Vec::new();
        let mut job_modes = Vec::new();
        for name in order {
            let over = declared.get(&name).cloned().unwrap_or_default();
            let requests = overlay_requests(&raw.requests, over.requests.as_ref());
            let pool = overlay_pool(&raw.pool, over.pool.as_ref());
            let job = overlay_job(raw.job.as_ref(), over.job.as_ref());
            let app = self
                .for_version(&name)
                .app(&requests, &pool, job.as_ref())?;
            job_modes.push(job.and_then(|j| j.pool_mode));
            versions.push(Version { name, app });
        }
        self.job_limit_applies(&versions, &job_modes)?;
        Ok(versions)
    }
}
