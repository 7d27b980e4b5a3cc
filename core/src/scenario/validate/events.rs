//! `[[events]]`: the timeline of deploys, rollbacks, traffic, job, server
//! and restart events, in time order.

use super::*;

impl Checker<'_> {
    /// A time of the timeline, resolved against the start clock.
    pub(super) fn at(
        &self,
        path: &str,
        at: TimeSpec,
        start: Option<ClockTime>,
        duration: SimTime,
    ) -> Result<SimTime> {
        let t = match at {
            TimeSpec::Offset(d) => d.0,
            TimeSpec::Clock(clock) => {
                let Some(start) = start else {
                    return Err(self.err(
                        path,
                        format!("expected a time after the start like \"15m\" (or set meta.start to use times of day), found \"{clock}\""),
                    ));
                };
                clock.since(start)
            }
        };
        if t > duration {
            return Err(self.err(
                path,
                format!("expected a time within the run (it lasts {duration}{}), found {t} after the start", self.duration_note),
            ));
        }
        Ok(t)
    }

    /// The timeline, and its traffic changes for the rate profile.
    #[allow(clippy::type_complexity)]
    pub(super) fn events(
        &self,
        raw: &ScenarioFile,
        versions: &[Version],
        fleet: &Fleet,
        duration: SimTime,
        start: Option<ClockTime>,
    ) -> Result<(Vec<TimelineEvent>, Vec<(SimTime, f64, SimTime, String)>)> {
        let mut events = Vec::new();
        let mut traffic = Vec::new();
        let mut deployed = false;
        let mut timed: Vec<(SimTime, usize)> = Vec::new();
        for (i, e) in raw.events.iter().flatten().enumerate() {
            timed.push((
                self.at(&format!("events[{i}].at"), e.at, start, duration)?,
                i,
            ));
        }
        timed.sort();
        for (at, i) in timed {
            let e = &raw.events.as_ref().expect("events")[i];
            let key = |k: &str| format!("events[{i}].{k}");
            let allowed: &[&str] = match e.kind {
                EventKind::Deploy => &[
                    "version",
                    "strategy",
                    "max_surge",
                    "max_unavailable",
                    "pod_startup",
                    "canary_pods",
                    "canary_pause",
                ],
                EventKind::Rollback => &[
                    "strategy",
                    "max_surge",
                    "max_unavailable",
                    "pod_startup",
                    "canary_pods",
                    "canary_pause",
                ],
                EventKind::Traffic => &["rate", "ramp", "scale"],
                EventKind::Job => &["enabled"],
                EventKind::Server => &[
                    "idle_session_timeout",
                    "idle_in_transaction_session_timeout",
                ],
                EventKind::Restart => &["pod", "pod_startup"],
            };
            self.only_keys(e, allowed, &key)?;
            let action = match e.kind {
                EventKind::Deploy | EventKind::Rollback => {
                    let rollout = self.rollout(e, fleet, &key)?;
                    if e.kind == EventKind::Rollback {
                        if !deployed {
                            return Err(self.err(&key("kind"), "expected a deploy before this rollback, found none"));
                        }
                        Action::Rollback { rollout }
                    } else {
                        let name = e.version.clone().ok_or_else(|| {
                            self.err(&key("kind"), "expected the key `version` for a deploy, found nothing")
                        })?;
                        let names: Vec<&str> = versions.iter().map(|v| v.name.as_str()).collect();
                        let Some(version) = names.iter().position(|n| *n == name) else {
                            let hint = did_you_mean(&name, &names).map(|n| format!(" (did you mean \"{n}\"?)")).unwrap_or_default();
                            return Err(self.err(
                                &key("version"),
                                format!("expected one of the versions {}, found \"{name}\"{hint}", names.join(", ")),
                            ));
                        };
                        deployed = true;
                        Action::Deploy { version, rollout }
                    }
                }
                EventKind::Traffic if raw.traffic.rate_from.is_some() => {
                    let scale = self.scale(e, &key)?;
                    traffic.push((at, scale, SimTime::ZERO, key("at")));
                    Action::TrafficScale { scale }
                }
                EventKind::Traffic => {
                    if e.scale.is_some() {
                        return Err(self.err(&key("scale"), "expected `rate` (`scale` multiplies traffic.rate_from's profile, and this scenario has none), found `scale`"));
                    }
                    let rate = e.rate.ok_or_else(|| self.err(&key("kind"), "expected the key `rate` for a traffic change, found nothing"))?;
                    let ramp = e.ramp.map_or(SimTime::ZERO, |r| r.0);
                    traffic.push((at, rate.0, ramp, key("at")));
                    Action::Traffic { rate: rate.0, ramp }
                }
                EventKind::Job => Action::Job {
                    enabled: e.enabled.ok_or_else(|| self.err(&key("kind"), "expected the key `enabled` (true or false) for a job event, found nothing"))?,
                },
                EventKind::Server => {
                    if e.idle_session_timeout.is_none() && e.idle_in_transaction_session_timeout.is_none() {
                        return Err(self.err(&key("kind"), "expected `idle_session_timeout` or `idle_in_transaction_session_timeout` for a server event, found neither"));
                    }
                    let off_or = |d: Option<Duration>| d.map(|d| (d.0 > SimTime::ZERO).then_some(d.0));
                    Action::Server {
                        idle_session_timeout: off_or(e.idle_session_timeout),
                        idle_in_transaction_timeout: off_or(e.idle_in_transaction_session_timeout),
                    }
                }
                EventKind::Restart => Action::Restart {
                    pod: self.int(&key("pod"), e.pod, 0, 0, fleet.pods as i64 - 1)?,
                    pod_startup: e.pod_startup.map_or(SimTime::from_secs(20), |d| d.0),
                },
            };
            events.push(TimelineEvent { at, action });
        }
        Ok((events, traffic))
    }

    /// Reject keys that do not apply to this kind of event.
    /// A traffic change's `scale`, when the rate comes from a file: a
    /// multiplier ≥ 0 that applies at once; an absolute `rate` is refused.
    fn scale(&self, e: &EventFile, key: &dyn Fn(&str) -> String) -> Result<f64> {
        if e.rate.is_some() {
            return Err(self.err(
                &key("rate"),
                "expected `scale` (a multiplier on the profile of traffic.rate_from) when the rate comes from a file, found an absolute `rate`",
            ));
        }
        if e.ramp.is_some() {
            return Err(self.err(
                &key("ramp"),
                "expected `scale` alone (it applies at once to the profile of traffic.rate_from), found `ramp`",
            ));
        }
        let scale = e.scale.ok_or_else(|| {
            self.err(
                &key("kind"),
                "expected the key `scale` for a traffic change (the rate comes from traffic.rate_from), found nothing",
            )
        })?;
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(self.err(
                &key("scale"),
                format!("expected a multiplier ≥ 0, found {scale}"),
            ));
        }
        Ok(scale)
    }

    pub(super) fn only_keys(
        &self,
        e: &EventFile,
        allowed: &[&str],
        key: &dyn Fn(&str) -> String,
    ) -> Result<()> {
        let present = [
            ("version", e.version.is_some()),
            ("strategy", e.strategy.is_some()),
            ("max_surge", e.max_surge.is_some()),
            ("max_unavailable", e.max_unavailable.is_some()),
            ("pod_startup", e.pod_startup.is_some()),
            ("canary_pods", e.canary_pods.is_some()),
            ("canary_pause", e.canary_pause.is_some()),
            ("rate", e.rate.is_some()),
            ("ramp", e.ramp.is_some()),
            ("scale", e.scale.is_some()),
            ("enabled", e.enabled.is_some()),
            ("idle_session_timeout", e.idle_session_timeout.is_some()),
            (
                "idle_in_transaction_session_timeout",
                e.idle_in_transaction_session_timeout.is_some(),
            ),
            ("pod", e.pod.is_some()),
        ];
        for (name, given) in present {
            if given && !allowed.contains(&name) {
                let kind = serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                return Err(self.err(
                    &key(name),
                    format!(
                        "expected only {} for a {kind} event, found `{name}`",
                        allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}
