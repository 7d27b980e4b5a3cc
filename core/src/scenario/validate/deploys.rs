//! A deploy's or rollback's rollout: strategy, surge, unavailability, canary.

use super::*;

impl Checker<'_> {
    pub(super) fn rollout(
        &self,
        e: &EventFile,
        fleet: &Fleet,
        key: &dyn Fn(&str) -> String,
    ) -> Result<Rollout> {
        let strategy = e.strategy.unwrap_or(Strategy::Rolling);
        let pod_startup = e.pod_startup.map_or(SimTime::from_secs(20), |d| d.0);
        let mut r = Rollout::kubernetes_default(fleet.pods, pod_startup);
        r.strategy = strategy;
        if let Some(s) = e.max_surge {
            r.max_surge = s.of(fleet.pods, true);
        }
        if let Some(u) = e.max_unavailable {
            r.max_unavailable = u.of(fleet.pods, false);
        }
        if strategy == Strategy::AllAtOnce {
            r.max_surge = fleet.pods;
            r.max_unavailable = 0;
        }
        let written_zero = |p: Option<Percent>| p.is_some_and(Percent::is_zero);
        if strategy != Strategy::AllAtOnce
            && written_zero(e.max_surge)
            && written_zero(e.max_unavailable)
        {
            return Err(self.err(&key("max_surge"), "expected max_surge or max_unavailable above zero (Kubernetes refuses both at zero), found both zero"));
        }
        let mut r = r.resolve_fenceposts();
        if strategy == Strategy::Canary {
            r.canary_pods =
                self.int(&key("canary_pods"), e.canary_pods, 1, 1, fleet.pods as i64)?;
            r.canary_pause = e.canary_pause.map_or(SimTime::from_secs(300), |d| d.0);
        } else if e.canary_pods.is_some() || e.canary_pause.is_some() {
            return Err(self.err(&key("canary_pods"), "expected canary_pods and canary_pause only with strategy = \"canary\", found them with another strategy"));
        }
        Ok(r)
    }
}
