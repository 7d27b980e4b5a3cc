//! What one line of the event log (`events.csv`) says happened: one enum,
//! whose spellings in CSV, JSON and OpenMetrics labels are the snake_case
//! names below.

use serde::Serialize;
use std::fmt;

/// The kind of an event-log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// A timeline deploy of a version started.
    Deploy,
    /// A timeline rollback to the previous version started.
    Rollback,
    /// The request rate changed.
    Traffic,
    /// The background job was switched on or off.
    Job,
    /// PostgreSQL's session timeouts changed.
    ServerSetting,
    /// A canary rollout's new pods are ready; the rest waits.
    CanaryReady,
    /// Every pod runs the rollout's version.
    RolloutComplete,
    /// A pod was created.
    PodCreated,
    /// A pod became ready.
    PodReady,
    /// A pod started draining.
    PodTerminating,
    /// A pod's process ended.
    PodExited,
    /// A timeline restart found no pod to restart.
    RestartSkipped,
    /// A timeline restart replaced a pod.
    PodRestarted,
    /// A worker process crashed.
    WorkerCrashed,
    /// A crashed worker came back.
    WorkerRestarted,
    /// Connections leaked.
    Leak,
    /// PostgreSQL refused a connection for the first time.
    FirstRefusal,
    /// An acquire timed out for the first time.
    FirstAcquireTimeout,
    /// An alert's condition started to hold.
    AlertPending,
    /// An alert fired.
    AlertFiring,
    /// A firing alert stopped.
    AlertResolved,
    /// A pending alert's condition stopped holding before it fired.
    AlertCleared,
}

impl LogKind {
    /// Every kind, in declaration order.
    pub const ALL: [LogKind; 22] = [
        LogKind::Deploy,
        LogKind::Rollback,
        LogKind::Traffic,
        LogKind::Job,
        LogKind::ServerSetting,
        LogKind::CanaryReady,
        LogKind::RolloutComplete,
        LogKind::PodCreated,
        LogKind::PodReady,
        LogKind::PodTerminating,
        LogKind::PodExited,
        LogKind::RestartSkipped,
        LogKind::PodRestarted,
        LogKind::WorkerCrashed,
        LogKind::WorkerRestarted,
        LogKind::Leak,
        LogKind::FirstRefusal,
        LogKind::FirstAcquireTimeout,
        LogKind::AlertPending,
        LogKind::AlertFiring,
        LogKind::AlertResolved,
        LogKind::AlertCleared,
    ];

    /// The spelling in `events.csv` (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Deploy => "deploy",
            LogKind::Rollback => "rollback",
            LogKind::Traffic => "traffic",
            LogKind::Job => "job",
            LogKind::ServerSetting => "server_setting",
            LogKind::CanaryReady => "canary_ready",
            LogKind::RolloutComplete => "rollout_complete",
            LogKind::PodCreated => "pod_created",
            LogKind::PodReady => "pod_ready",
            LogKind::PodTerminating => "pod_terminating",
            LogKind::PodExited => "pod_exited",
            LogKind::RestartSkipped => "restart_skipped",
            LogKind::PodRestarted => "pod_restarted",
            LogKind::WorkerCrashed => "worker_crashed",
            LogKind::WorkerRestarted => "worker_restarted",
            LogKind::Leak => "leak",
            LogKind::FirstRefusal => "first_refusal",
            LogKind::FirstAcquireTimeout => "first_acquire_timeout",
            LogKind::AlertPending => "alert_pending",
            LogKind::AlertFiring => "alert_firing",
            LogKind::AlertResolved => "alert_resolved",
            LogKind::AlertCleared => "alert_cleared",
        }
    }

    /// The kind in words, for people: `first refusal`.
    pub fn words(self) -> String {
        self.as_str().replace('_', " ")
    }

    /// Kinds an operator would notice — the ones the dashboard lists and the
    /// reports tell minute by minute (a pod starting or a single leak is not
    /// one of them).
    pub fn is_notable(self) -> bool {
        matches!(
            self,
            LogKind::Deploy
                | LogKind::RolloutComplete
                | LogKind::Rollback
                | LogKind::FirstRefusal
                | LogKind::FirstAcquireTimeout
                | LogKind::AlertFiring
                | LogKind::AlertResolved
                | LogKind::WorkerCrashed
                | LogKind::Traffic
                | LogKind::ServerSetting
                | LogKind::Job
                | LogKind::PodRestarted
        )
    }

    /// Timeline changes: what the alerts that follow are blamed on.
    pub fn is_change(self) -> bool {
        matches!(
            self,
            LogKind::Deploy
                | LogKind::Rollback
                | LogKind::Traffic
                | LogKind::Job
                | LogKind::ServerSetting
                | LogKind::PodRestarted
        )
    }

    /// An alert's transition.
    pub fn is_alert(self) -> bool {
        matches!(
            self,
            LogKind::AlertPending
                | LogKind::AlertFiring
                | LogKind::AlertResolved
                | LogKind::AlertCleared
        )
    }
}

impl fmt::Display for LogKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::LogKind;

    /// The spellings `events.csv`, `summary.json` and the OpenMetrics
    /// `kind` label have always used, one per kind.
    const SPELLINGS: [(LogKind, &str); 22] = [
        (LogKind::Deploy, "deploy"),
        (LogKind::Rollback, "rollback"),
        (LogKind::Traffic, "traffic"),
        (LogKind::Job, "job"),
        (LogKind::ServerSetting, "server_setting"),
        (LogKind::CanaryReady, "canary_ready"),
        (LogKind::RolloutComplete, "rollout_complete"),
        (LogKind::PodCreated, "pod_created"),
        (LogKind::PodReady, "pod_ready"),
        (LogKind::PodTerminating, "pod_terminating"),
        (LogKind::PodExited, "pod_exited"),
        (LogKind::RestartSkipped, "restart_skipped"),
        (LogKind::PodRestarted, "pod_restarted"),
        (LogKind::WorkerCrashed, "worker_crashed"),
        (LogKind::WorkerRestarted, "worker_restarted"),
        (LogKind::Leak, "leak"),
        (LogKind::FirstRefusal, "first_refusal"),
        (LogKind::FirstAcquireTimeout, "first_acquire_timeout"),
        (LogKind::AlertPending, "alert_pending"),
        (LogKind::AlertFiring, "alert_firing"),
        (LogKind::AlertResolved, "alert_resolved"),
        (LogKind::AlertCleared, "alert_cleared"),
    ];

    #[test]
    fn every_kind_keeps_its_spelling_in_serde_and_text() {
        for (kind, spelling) in SPELLINGS {
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{spelling}\"")
            );
            assert_eq!(kind.as_str(), spelling);
            assert_eq!(kind.to_string(), spelling);
        }
    }

    #[test]
    fn the_list_is_complete_and_without_repeats() {
        // A new variant fails to compile here until it is given a spelling.
        let pinned = |k: LogKind| match k {
            LogKind::Deploy
            | LogKind::Rollback
            | LogKind::Traffic
            | LogKind::Job
            | LogKind::ServerSetting
            | LogKind::CanaryReady
            | LogKind::RolloutComplete
            | LogKind::PodCreated
            | LogKind::PodReady
            | LogKind::PodTerminating
            | LogKind::PodExited
            | LogKind::RestartSkipped
            | LogKind::PodRestarted
            | LogKind::WorkerCrashed
            | LogKind::WorkerRestarted
            | LogKind::Leak
            | LogKind::FirstRefusal
            | LogKind::FirstAcquireTimeout
            | LogKind::AlertPending
            | LogKind::AlertFiring
            | LogKind::AlertResolved
            | LogKind::AlertCleared => SPELLINGS.iter().filter(|(p, _)| *p == k).count(),
        };
        assert_eq!(LogKind::ALL.len(), SPELLINGS.len());
        for kind in LogKind::ALL {
            assert_eq!(pinned(kind), 1, "{kind:?}");
        }
        let mut names: Vec<&str> = SPELLINGS.iter().map(|(_, s)| *s).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SPELLINGS.len());
    }
}
