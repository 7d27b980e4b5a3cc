//! The `[requests]` table: what one request does with the pool.

use super::*;

impl Checker<'_> {
    pub(super) fn requests(&self, f: &RequestsFile) -> Result<Requests> {
        let default_hold = Dist::lognormal_mean_p99(0.050, 0.300).expect("valid default");
        Ok(Requests {
            checkouts: self.int("requests.checkouts", f.checkouts, 1, 1, 100)?,
            hold: self.dist("requests.hold", f.hold.as_ref(), default_hold)?,
            app_time: self.dist(
                "requests.app_time",
                f.app_time.as_ref(),
                Dist::Deterministic(0.0),
            )?,
            error_probability: self.probability(
                "requests.error_probability",
                f.error_probability,
                0.0,
            )?,
            error_destroys_client: f.error_destroys_client.unwrap_or(false),
            deadline: self
                .optional_duration(f.deadline, SimTime::from_secs(60))
                .unwrap_or(SimTime::NEVER),
            cancel_on_abort: f.cancel_on_abort.unwrap_or(false),
            cpu_fraction: self.probability("requests.cpu_fraction", f.cpu_fraction, 1.0)?,
        })
    }
}

/// `over`'s keys on top of `base`'s.
pub(super) fn overlay_requests(base: &RequestsFile, over: Option<&RequestsFile>) -> RequestsFile {
    let Some(o) = over else { return base.clone() };
    RequestsFile {
        checkouts: o.checkouts.or(base.checkouts),
        hold: o.hold.clone().or_else(|| base.hold.clone()),
        app_time: o.app_time.clone().or_else(|| base.app_time.clone()),
        error_probability: o.error_probability.or(base.error_probability),
        error_destroys_client: o.error_destroys_client.or(base.error_destroys_client),
        deadline: o.deadline.or(base.deadline),
        cancel_on_abort: o.cancel_on_abort.or(base.cancel_on_abort),
        cpu_fraction: o.cpu_fraction.or(base.cpu_fraction),
    }
}
