//! `TimedWorkerQueue` (`pkg/controller/tainteviction/timed_workers.go`): one pending
//! deletion per pod name, to run no earlier than its `fireAt`. Work due at once runs
//! synchronously (upstream starts it on a goroutine and keeps a nil entry while it runs,
//! which a simulated instant never observes).

use crate::api::ObjectKey;
use crate::time::SimTime;
use std::collections::BTreeMap;

/// `TimedWorker`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedWorker {
    pub created_at: SimTime,
    pub fire_at: SimTime,
}

/// `TimedWorkerQueue`, keyed by the pod's namespace/name (`KeyFromWorkArgs`).
#[derive(Debug, Default)]
pub struct TimedWorkerQueue {
    workers: BTreeMap<ObjectKey, TimedWorker>,
}

/// What `AddWork` asks of the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    /// Work for this pod exists already: nothing changes.
    Exists,
    /// Due now: run it at once.
    RunNow,
    /// Arm a timer for `fire_at`.
    Scheduled(SimTime),
}

impl TimedWorkerQueue {
    /// `AddWork`: a new worker unless one exists for the pod.
    pub fn add_work(&mut self, key: &ObjectKey, created_at: SimTime, fire_at: SimTime) -> Added {
        if self.workers.contains_key(key) {
            return Added::Exists;
        }
        if fire_at <= created_at {
            return Added::RunNow;
        }
        self.workers.insert(
            key.clone(),
            TimedWorker {
                created_at,
                fire_at,
            },
        );
        Added::Scheduled(fire_at)
    }

    /// `CancelWork`: true if a scheduled worker was cancelled.
    pub fn cancel_work(&mut self, key: &ObjectKey) -> bool {
        self.workers.remove(key).is_some()
    }

    /// `GetWorkerUnsafe`.
    pub fn get_worker(&self, key: &ObjectKey) -> Option<TimedWorker> {
        self.workers.get(key).copied()
    }

    /// A timer for `key` went off at `now`: the worker if it is due (it is taken out, as
    /// the wrapped work function removes it when done).
    pub fn take_due(&mut self, key: &ObjectKey, now: SimTime) -> Option<TimedWorker> {
        let w = *self.workers.get(key)?;
        if w.fire_at > now {
            return None;
        }
        self.workers.remove(key);
        Some(w)
    }

    /// Pending workers in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&ObjectKey, &TimedWorker)> {
        self.workers.iter()
    }
}
