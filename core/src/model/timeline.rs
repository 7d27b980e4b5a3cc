//! The scenario's timeline: deploys, rollbacks, traffic changes, job
//! switches, server settings and restarts, applied at their times.

use super::event::{FleetEvent, PoolEvent};
use super::pool::ClientState;
use super::{Event, Simulation};
use crate::engine::SimTime;
use crate::metrics::LogKind;
use crate::scenario::Action;

impl Simulation<'_> {
    /// Put every timeline event on the queue.
    pub(crate) fn schedule_timeline(&mut self) {
        for (index, e) in self.scenario.events.iter().enumerate() {
            self.sched.at(
                e.at,
                Event::Fleet(FleetEvent::Timeline {
                    index: index as u32,
                }),
            );
        }
    }

    /// Apply timeline event `index`.
    pub(crate) fn timeline(&mut self, index: u32) {
        let action = self.scenario.events[index as usize].action.clone();
        match action {
            Action::Deploy { version, rollout } => {
                let name = &self.scenario.versions[version].name;
                let strategy = match rollout.strategy {
                    crate::scenario::Strategy::Rolling => "rolling",
                    crate::scenario::Strategy::AllAtOnce => "all at once",
                    crate::scenario::Strategy::Canary => "canary",
                };
                let detail = format!(
                    "{name}, {strategy} (surge {}, unavailable {})",
                    rollout.max_surge, rollout.max_unavailable
                );
                self.log_version(LogKind::Deploy, name.clone(), detail);
                self.deployment.version_history.push(version);
                self.start_rollout(version, rollout);
            }
            Action::Rollback { rollout } => {
                if self.deployment.version_history.len() > 1 {
                    self.deployment.version_history.pop();
                }
                let target = *self
                    .deployment
                    .version_history
                    .last()
                    .expect("initial version");
                let name = &self.scenario.versions[target].name;
                self.log_version(LogKind::Rollback, name.clone(), format!("back to {name}"));
                self.start_rollout(target, rollout);
            }
            Action::Traffic { rate, ramp } => {
                let how = if ramp > SimTime::ZERO {
                    format!(" over {ramp}")
                } else {
                    String::new()
                };
                self.log(LogKind::Traffic, None, format!("rate → {rate}/s{how}"));
            }
            Action::TrafficScale { scale } => {
                self.log(
                    LogKind::Traffic,
                    None,
                    format!("rate → ×{scale} of the file's"),
                );
            }
            Action::Job { enabled } => {
                self.job.switch = enabled;
                self.log(
                    LogKind::Job,
                    None,
                    if enabled { "enabled" } else { "disabled" }.to_owned(),
                );
            }
            Action::Server {
                idle_session_timeout,
                idle_in_transaction_timeout,
            } => self.change_server_settings(idle_session_timeout, idle_in_transaction_timeout),
            Action::Restart { pod, pod_startup } => self.restart_pod(pod, pod_startup),
        }
    }

    /// New session timeouts: idle clients and leaked sessions are re-timed.
    fn change_server_settings(
        &mut self,
        idle: Option<Option<SimTime>>,
        in_tx: Option<Option<SimTime>>,
    ) {
        let show = |t: Option<SimTime>| t.map_or("off".to_owned(), |t| t.to_string());
        let mut parts = Vec::new();
        if let Some(t) = idle {
            self.server.db.settings.idle_session_timeout = t;
            parts.push(format!("idle_session_timeout = {}", show(t)));
        }
        if let Some(t) = in_tx {
            self.server.db.settings.idle_in_transaction_timeout = t;
            parts.push(format!("idle_in_transaction_session_timeout = {}", show(t)));
        }
        self.log(LogKind::ServerSetting, None, parts.join(", "));
        let now = self.sched.now();
        let pools: Vec<_> = self.fleet.pools.iter().map(|(id, _)| id).collect();
        self.retime_poolers();
        for pool_id in pools {
            let pool = self.fleet.pools.get_mut(pool_id).expect("live pool");
            if pool.via_pooler {
                // Its clients are the sidecar's; leaked transactions were
                // re-timed with the sidecar's connections.
                continue;
            }
            pool.server_idle_timeout = self.server.db.settings.idle_session_timeout;
            if let Some(due) = pool.next_idle_deadline() {
                let due = due.max(now);
                if pool.idle_check_at.is_none_or(|at| due < at) {
                    pool.idle_check_at = Some(due);
                    self.sched
                        .at(due, Event::Pool(PoolEvent::IdleCheck { pool: pool_id }));
                }
            }
            let leaked: Vec<_> = pool
                .client_ids()
                .into_iter()
                .filter_map(|c| {
                    let client = pool.client(c)?;
                    (client.state == ClientState::Leaked && client.has_slot)
                        .then_some((c, client.since))
                })
                .collect();
            let in_transaction = self.leaks_in_transaction(pool_id);
            if let Some(after) = self.reap_after(in_transaction) {
                for (client, since) in leaked {
                    self.sched.at(
                        (since + after).max(now),
                        Event::Pool(PoolEvent::Reap {
                            pool: pool_id,
                            client,
                        }),
                    );
                }
            }
        }
    }

    /// The server timeout that reaps a leaked session, if on.
    pub(crate) fn reap_after(&self, in_transaction: bool) -> Option<SimTime> {
        if in_transaction {
            self.server.db.settings.idle_in_transaction_timeout
        } else {
            self.server.db.settings.idle_session_timeout
        }
    }
}
