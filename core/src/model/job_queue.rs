//! The queue-based job (`job.pool_mode = "queue"`; docs/models.md): the
//! job's runs no longer touch the database. Each run pushes one work item to
//! a fleet-wide FIFO queue (an external broker: enqueueing costs no database
//! connection), and one consumer per pod — in the pod's first worker, with a
//! pool of its own of one connection — takes items one at a time and does
//! the run's work on that connection. Idle consumers take the next item in
//! the order they became idle.
//!
//! A failed item of a leaky job leaks the consumer's only client: that
//! consumer then waits for ever (or until its acquire timeout) and the
//! backlog grows, but the leak costs at most one server connection per pod.
//! An item in progress when its consumer's process dies is lost (no
//! redelivery).

use super::Simulation;
use super::job::JobRun;
use crate::engine::SimTime;
use crate::metrics::summary::{JobQueueSummary, JobSummary};
use std::collections::VecDeque;

/// A run's work, waiting for a consumer.
#[derive(Clone, Copy, Debug)]
struct WorkItem {
    enqueued: SimTime,
    serial: u32,
    fails: bool,
    hold: SimTime,
}

/// The work queue and the consumers waiting for work.
#[derive(Debug, Default)]
pub struct JobQueue {
    items: VecDeque<WorkItem>,
    /// Idle consumers: (worker, its epoch), longest idle first.
    idle: VecDeque<(u32, u32)>,
    /// Most items waiting at once.
    peak: u64,
}

impl Simulation<'_> {
    /// A run of the queue-based job pushes its work.
    pub(crate) fn enqueue_work(&mut self, serial: u32, fails: bool, hold: SimTime) {
        let now = self.sched.now();
        let q = &mut self.job.queue;
        q.items.push_back(WorkItem {
            enqueued: now,
            serial,
            fails,
            hold,
        });
        q.peak = q.peak.max(q.items.len() as u64);
        self.dispatch_work();
    }

    /// The consumer of worker `w` (process `epoch`) waits for work.
    pub(crate) fn consumer_ready(&mut self, w: u32, epoch: u32) {
        self.job.queue.idle.push_back((w, epoch));
        self.dispatch_work();
    }

    /// Hand waiting items to idle consumers.
    fn dispatch_work(&mut self) {
        let now = self.sched.now();
        while !self.job.queue.items.is_empty() {
            let Some((w, epoch)) = self.job.queue.idle.pop_front() else {
                return;
            };
            let Some(runner) = self.job.runners[w as usize].as_mut() else {
                continue; // its process died
            };
            let Some(pool) = runner.consumer_pool.filter(|_| runner.epoch == epoch) else {
                continue;
            };
            if runner.consuming {
                continue;
            }
            runner.consuming = true;
            let item = self.job.queue.items.pop_front().expect("checked");
            if self.rec.counts(item.enqueued) {
                let q = self.job.totals.queue.get_or_insert_with(Default::default);
                q.taken += 1;
                q.wait_sum_s += (now - item.enqueued).as_secs_f64();
            }
            let version = self.fleet.pods[self.fleet.workers[w as usize].pod as usize].version;
            let mut run = JobRun::new(w, item.serial, version, pool);
            run.started = item.enqueued;
            run.fails = item.fails;
            run.hold = item.hold;
            run.consumer = true;
            let id = self.job.runs.insert(run);
            self.job_acquire(id);
        }
    }

    /// The job figures, with the queue's at the end of the run.
    pub(crate) fn job_summary(&self) -> JobSummary {
        let mut job = self.job.totals.clone();
        let queue_mode = self.scenario.versions.iter().any(|v| {
            v.app
                .job
                .as_ref()
                .is_some_and(|j| j.pool_mode == crate::scenario::JobPoolMode::Queue)
        });
        if queue_mode {
            let q = job.queue.get_or_insert_with(JobQueueSummary::default);
            q.peak_backlog = self.job.queue.peak;
            q.backlog_at_end = self.job.queue.items.len() as u64;
            q.mean_wait_s = (q.taken > 0).then(|| q.wait_sum_s / q.taken as f64);
        }
        job
    }
}
