//! The scheduling queue (`pkg/scheduler/backend/queue`): activeQ (pods to try, highest
//! priority first, then oldest), backoffQ (pods waiting out their per-pod backoff; pods
//! that failed on an error wait in a separate error backoffQ), and the unschedulable pool
//! (pods no plugin-relevant event has touched since they last failed).
//!
//! Timing, as in 1.36 with its default feature gates:
//! - backoff is `podInitialBackoff` doubled per failed attempt, capped at `podMaxBackoff`;
//!   the backoffQ is flushed on whole-second ticks, and with `SchedulerPopFromBackoffQ`
//!   (beta, on since 1.33) expiries are truncated to the second ("ordering windows") and an
//!   idle scheduler pops the backoffQ head at once — but never the error backoffQ;
//! - the unschedulable pool is checked every 30 s and pods that have sat there longer than
//!   `max_in_unschedulable` (5 min) are moved back (`flushUnschedulablePodsLeftover`).
//!
//! Both flushes run on nominal ticks (whole seconds, multiples of 30 s from the start) and,
//! like real timers, read the clock a moment after the tick ([`TICK_LATENCY`]): a backoff
//! expiring exactly on a tick is over by the time that tick looks.

use super::events::ClusterEvent;
use super::framework::{Profile, QueueingStrategy};
use crate::api::{AnyObject, ObjectKey, Pod};
use crate::time::{SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// The period of `flushUnschedulablePodsLeftover` (`wait.Until(..., 30*time.Second)`).
pub const UNSCHEDULABLE_FLUSH_PERIOD: SimDuration = SimDuration::from_secs(30);
/// `backoffQOrderingWindowDuration`, also the backoffQ flush period.
pub const BACKOFF_WINDOW: SimDuration = SimDuration::from_secs(1);
/// How long after its nominal instant a periodic flush reads the clock.
pub const TICK_LATENCY: SimDuration = SimDuration::from_nanos(1);

#[derive(Clone, Debug)]
pub struct QueueConfig {
    pub initial_backoff: SimDuration,
    pub max_backoff: SimDuration,
    pub max_in_unschedulable: SimDuration,
    /// Feature gate `SchedulerPopFromBackoffQ`.
    pub pop_from_backoff_q: bool,
}

/// `framework.QueuedPodInfo`.
#[derive(Clone, Debug)]
pub struct QueuedPodInfo {
    /// The newest copy of the pod the informer has delivered.
    pub pod: Rc<Pod>,
    /// When the pod was added, or last failed (ordering and backoff start from here).
    pub timestamp: SimTime,
    /// Scheduling attempts so far (counted at pop).
    pub attempts: u32,
    /// Attempts that ended with the pod rejected by plugins.
    pub unschedulable_count: u32,
    /// Attempts in a row that ended with an error (no plugin to blame).
    pub consecutive_errors: u32,
    /// The plugins that rejected the pod in its last attempt.
    pub unschedulable_plugins: BTreeSet<&'static str>,
    /// Arrival order, the last tie-break of the queues' orderings.
    seq: u64,
}

impl QueuedPodInfo {
    pub fn key(&self) -> ObjectKey {
        ObjectKey::of(&self.pod.metadata)
    }
    fn priority(&self) -> Reverse<i32> {
        Reverse(self.pod.spec.priority.unwrap_or(0))
    }
}

/// `PrioritySort.Less`: higher priority first, then the earlier timestamp.
type ActiveOrder = (Reverse<i32>, SimTime, u64);
/// With PopFromBackoffQ the backoffQ orders equal expiries as activeQ does.
type BackoffOrder = (SimTime, Reverse<i32>, SimTime, u64);
type ErrorBackoffOrder = (SimTime, u64);

/// Where a queued pod is, with its position in that sub-queue.
#[derive(Clone, Copy, Debug)]
enum Place {
    Active(ActiveOrder),
    Backoff(BackoffOrder),
    ErrorBackoff(ErrorBackoffOrder),
    Unschedulable,
}

/// Which sub-queue a pod is in (for tests and diagnostics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueName {
    Active,
    Backoff,
    Unschedulable,
}

fn floor_to(t: SimTime, period: SimDuration) -> SimTime {
    SimTime(t.0 - t.0 % period.0)
}

fn ceil_to(t: SimTime, period: SimDuration) -> SimTime {
    let floor = floor_to(t, period);
    if floor == t { t } else { floor + period }
}

pub struct SchedulingQueue {
    cfg: QueueConfig,
    pods: BTreeMap<ObjectKey, (QueuedPodInfo, Place)>,
    active: BTreeMap<ActiveOrder, ObjectKey>,
    backoff: BTreeMap<BackoffOrder, ObjectKey>,
    error_backoff: BTreeMap<ErrorBackoffOrder, ObjectKey>,
    unschedulable: BTreeSet<ObjectKey>,
    next_seq: u64,
}

impl SchedulingQueue {
    pub fn new(cfg: QueueConfig) -> Self {
        SchedulingQueue {
            cfg,
            pods: BTreeMap::new(),
            active: BTreeMap::new(),
            backoff: BTreeMap::new(),
            error_backoff: BTreeMap::new(),
            unschedulable: BTreeSet::new(),
            next_seq: 0,
        }
    }

    /// `calculateBackoffDuration`: initial × 2^(count−1), capped at the maximum.
    pub fn backoff_duration(&self, count: u32) -> SimDuration {
        if count == 0 {
            return SimDuration::ZERO;
        }
        let shift = count - 1;
        let (init, max) = (self.cfg.initial_backoff.0, self.cfg.max_backoff.0);
        if init > max.checked_shr(shift).unwrap_or(0) {
            SimDuration(max)
        } else {
            SimDuration(init << shift)
        }
    }

    /// `alignToWindow`.
    fn align(&self, t: SimTime) -> SimTime {
        if self.cfg.pop_from_backoff_q {
            floor_to(t, BACKOFF_WINDOW)
        } else {
            t
        }
    }

    /// `getBackoffTime`: `None` when the pod owes no backoff (never failed).
    fn backoff_time(&self, info: &QueuedPodInfo) -> Option<SimTime> {
        if self.cfg.max_backoff == SimDuration::ZERO {
            return None;
        }
        let count = if info.consecutive_errors > 0 {
            info.consecutive_errors
        } else {
            info.unschedulable_count
        };
        if count == 0 {
            return None;
        }
        Some(self.align(info.timestamp.saturating_add(self.backoff_duration(count))))
    }

    /// `isEntityBackingoff`: an expiry inside the current window still backs off.
    fn is_backing_off(&self, info: &QueuedPodInfo, now: SimTime) -> bool {
        self.backoff_time(info)
            .is_some_and(|e| e >= self.align(now))
    }

    fn insert_active(&mut self, key: ObjectKey, info: QueuedPodInfo) {
        let order = (info.priority(), info.timestamp, info.seq);
        self.active.insert(order, key.clone());
        self.pods.insert(key, (info, Place::Active(order)));
    }

    fn insert_backoff(&mut self, key: ObjectKey, info: QueuedPodInfo) {
        let expiry = self.backoff_time(&info).unwrap_or(info.timestamp);
        // A pod no plugin rejected failed on an error: it waits in the error backoffQ,
        // which an idle scheduler does not pop early.
        let place = if info.unschedulable_plugins.is_empty() {
            let order = (expiry, info.seq);
            self.error_backoff.insert(order, key.clone());
            Place::ErrorBackoff(order)
        } else {
            let order = (expiry, info.priority(), info.timestamp, info.seq);
            self.backoff.insert(order, key.clone());
            Place::Backoff(order)
        };
        self.pods.insert(key, (info, place));
    }

    fn insert_unschedulable(&mut self, key: ObjectKey, info: QueuedPodInfo) {
        self.unschedulable.insert(key.clone());
        self.pods.insert(key, (info, Place::Unschedulable));
    }

    fn take(&mut self, key: &ObjectKey) -> Option<QueuedPodInfo> {
        let (info, place) = self.pods.remove(key)?;
        match place {
            Place::Active(o) => {
                self.active.remove(&o);
            }
            Place::Backoff(o) => {
                self.backoff.remove(&o);
            }
            Place::ErrorBackoff(o) => {
                self.error_backoff.remove(&o);
            }
            Place::Unschedulable => {
                self.unschedulable.remove(key);
            }
        }
        Some(info)
    }

    /// `requeueEntityWithQueueingStrategy`.
    fn requeue(&mut self, info: QueuedPodInfo, strategy: QueueingStrategy, now: SimTime) {
        let key = info.key();
        match strategy {
            QueueingStrategy::Skip => self.insert_unschedulable(key, info),
            QueueingStrategy::AfterBackoff if self.is_backing_off(&info, now) => {
                self.insert_backoff(key, info)
            }
            QueueingStrategy::AfterBackoff => self.insert_active(key, info),
        }
    }

    /// `Add`: a new pending pod goes to activeQ.
    pub fn add(&mut self, pod: Rc<Pod>, now: SimTime) {
        let key = ObjectKey::of(&pod.metadata);
        if let Some((info, _)) = self.pods.get_mut(&key) {
            info.pod = pod;
            return;
        }
        let info = QueuedPodInfo {
            pod,
            timestamp: now,
            attempts: 0,
            unschedulable_count: 0,
            consecutive_errors: 0,
            unschedulable_plugins: BTreeSet::new(),
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.insert_active(key, info);
    }

    /// `Update`: keep the newest copy; a pod in the unschedulable pool is requeued if the
    /// change (a new toleration, say) may let it fit; a pod in no queue is added.
    pub fn update(&mut self, profile: &Profile, old: &Rc<Pod>, new: &Rc<Pod>, now: SimTime) {
        let key = ObjectKey::of(&new.metadata);
        let Some((info, place)) = self.pods.get_mut(&key) else {
            self.add(Rc::clone(new), now);
            return;
        };
        info.pod = Rc::clone(new);
        if !matches!(place, Place::Unschedulable) {
            return;
        }
        let events = super::events::pod_scheduling_properties_change(
            new,
            old,
            super::events::EventResource::TargetPod,
        );
        let (old_obj, new_obj) = (
            AnyObject::Pod(Rc::clone(old)),
            AnyObject::Pod(Rc::clone(new)),
        );
        for ev in events {
            let info = &self.pods[&key].0;
            let strategy =
                profile.is_pod_worth_requeuing(info, &ev, Some(&old_obj), Some(&new_obj));
            if strategy != QueueingStrategy::Skip {
                let info = self.take(&key).expect("the pod was just found");
                self.requeue(info, strategy, now);
                break;
            }
        }
    }

    /// `Delete`.
    pub fn delete(&mut self, key: &ObjectKey) {
        self.take(key);
    }

    /// `Pop`: the activeQ head; with PopFromBackoffQ an idle scheduler takes the backoffQ
    /// head instead of waiting for its backoff. The attempt is counted here and the last
    /// attempt's rejectors are forgotten.
    pub fn pop(&mut self) -> Option<QueuedPodInfo> {
        let key = match self.active.first_key_value() {
            Some((_, k)) => k.clone(),
            None if self.cfg.pop_from_backoff_q => self.backoff.first_key_value()?.1.clone(),
            None => return None,
        };
        let mut info = self.take(&key).expect("indexed pods are stored");
        info.attempts += 1;
        info.unschedulable_plugins.clear();
        Some(info)
    }

    /// `AddUnschedulablePodIfNotPresent`: the pod just failed. Rejected by plugins, it
    /// waits in the unschedulable pool for an event those plugins care about; failed on an
    /// error, it is retried after its backoff. (Scheduling cycles take no simulated time,
    /// so no event can arrive while a pod is in flight.)
    pub fn add_unschedulable_if_not_present(&mut self, mut info: QueuedPodInfo, now: SimTime) {
        let key = info.key();
        if self.pods.contains_key(&key) {
            return;
        }
        if info.unschedulable_plugins.is_empty() {
            info.consecutive_errors += 1;
        } else {
            info.unschedulable_count += 1;
            info.consecutive_errors = 0;
        }
        info.timestamp = now;
        let strategy = if info.unschedulable_plugins.is_empty() {
            QueueingStrategy::AfterBackoff
        } else {
            QueueingStrategy::Skip
        };
        self.requeue(info, strategy, now);
    }

    /// `MoveAllToActiveOrBackoffQueue`: offer `event` to every pod in the unschedulable pool
    /// that passes `pre_check`.
    pub fn move_all_to_active_or_backoff_queue(
        &mut self,
        profile: &Profile,
        event: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
        now: SimTime,
        pre_check: &dyn Fn(&Pod) -> bool,
    ) {
        if self.unschedulable.is_empty() || !profile.is_event_of_interest(event) {
            return;
        }
        let keys: Vec<ObjectKey> = self.unschedulable.iter().cloned().collect();
        for key in keys {
            let info = &self.pods[&key].0;
            if !pre_check(&info.pod) {
                continue;
            }
            let strategy = profile.is_pod_worth_requeuing(info, event, old, new);
            if strategy == QueueingStrategy::Skip {
                continue;
            }
            let info = self.take(&key).expect("the pod was just found");
            self.requeue(info, strategy, now);
        }
    }

    /// `flushBackoffQCompleted`, as run by the last whole-second tick at or before `now`.
    pub fn flush_backoff_q_completed(&mut self, now: SimTime) {
        let tick = floor_to(now, BACKOFF_WINDOW) + TICK_LATENCY;
        loop {
            let head = [
                self.backoff.first_key_value().map(|(_, k)| k),
                self.error_backoff.first_key_value().map(|(_, k)| k),
            ]
            .into_iter()
            .flatten()
            .find(|k| !self.is_backing_off(&self.pods[*k].0, tick))
            .cloned();
            let Some(key) = head else { break };
            let info = self.take(&key).expect("indexed pods are stored");
            self.insert_active(key, info);
        }
    }

    /// `flushUnschedulableEntitiesLeftover`, as run by the last 30-second tick at or before
    /// `now`: pods that failed more than `max_in_unschedulable` ago are retried.
    pub fn flush_unschedulable_pods_leftover(&mut self, profile: &Profile, now: SimTime) {
        let tick = floor_to(now, UNSCHEDULABLE_FLUSH_PERIOD) + TICK_LATENCY;
        let max = self.cfg.max_in_unschedulable;
        let due: Vec<ObjectKey> = self
            .unschedulable
            .iter()
            .filter(|k| tick.saturating_since(self.pods[*k].0.timestamp) > max)
            .cloned()
            .collect();
        for key in due {
            let info = self.take(&key).expect("the pod was just found");
            let strategy = profile.is_pod_worth_requeuing(
                &info,
                &ClusterEvent::UNSCHEDULABLE_TIMEOUT,
                None,
                None,
            );
            self.requeue(info, strategy, tick);
        }
    }

    /// When the queue next has something to do on its own: the tick that ends the earliest
    /// backoff, or the flush tick that finds the oldest unschedulable pod overdue.
    pub fn next_wakeup(&self) -> Option<SimTime> {
        let backoff = [
            self.backoff.first_key_value().map(|(o, _)| o.0),
            self.error_backoff.first_key_value().map(|(o, _)| o.0),
        ]
        .into_iter()
        .flatten()
        // The first tick that no longer finds the pod backing off: with ordering windows,
        // the tick that closes the expiry's window; without, the tick at or after it.
        .map(|e| {
            if self.cfg.pop_from_backoff_q {
                floor_to(e, BACKOFF_WINDOW) + BACKOFF_WINDOW
            } else {
                ceil_to(e, BACKOFF_WINDOW)
            }
        })
        .min();
        // The first 30 s tick at or after the moment the pod becomes overdue.
        let leftover = self
            .unschedulable
            .iter()
            .map(|k| {
                let overdue = self.pods[k]
                    .0
                    .timestamp
                    .saturating_add(self.cfg.max_in_unschedulable);
                ceil_to(overdue, UNSCHEDULABLE_FLUSH_PERIOD)
            })
            .min();
        [backoff, leftover].into_iter().flatten().min()
    }

    /// Whether the unschedulable pool holds a pod: without one, a cluster event moves
    /// nothing ([`SchedulingQueue::move_all_to_active_or_backoff_queue`]), so the informer
    /// handlers need not work out which events an update amounts to.
    pub fn has_unschedulable(&self) -> bool {
        !self.unschedulable.is_empty()
    }

    /// Which sub-queue holds the pod, if any.
    pub fn queue_of(&self, key: &ObjectKey) -> Option<QueueName> {
        self.pods.get(key).map(|(_, p)| match p {
            Place::Active(_) => QueueName::Active,
            Place::Backoff(_) | Place::ErrorBackoff(_) => QueueName::Backoff,
            Place::Unschedulable => QueueName::Unschedulable,
        })
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&QueuedPodInfo> {
        self.pods.get(key).map(|(i, _)| i)
    }

    pub fn len(&self) -> usize {
        self.pods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(pop_from_backoff_q: bool) -> SchedulingQueue {
        SchedulingQueue::new(QueueConfig {
            initial_backoff: SimDuration::from_secs(1),
            max_backoff: SimDuration::from_secs(10),
            max_in_unschedulable: SimDuration::from_mins(5),
            pop_from_backoff_q,
        })
    }

    fn pod(name: &str, priority: Option<i32>) -> Rc<Pod> {
        let mut p = Pod::default();
        p.metadata.namespace = "default".into();
        p.metadata.name = name.into();
        p.spec.priority = priority;
        Rc::new(p)
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn backoff_doubles_from_one_second_to_a_ten_second_cap() {
        let q = queue(true);
        let got: Vec<u64> = (1..=7).map(|n| q.backoff_duration(n).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 10, 10, 10]);
        assert_eq!(q.backoff_duration(200), SimDuration::from_secs(10));
    }

    #[test]
    fn active_queue_orders_by_priority_then_age() {
        let mut q = queue(true);
        q.add(pod("old-low", None), at(1));
        q.add(pod("new-high", Some(100)), at(2));
        q.add(pod("new-low", None), at(3));
        let order: Vec<String> = std::iter::from_fn(|| q.pop())
            .map(|i| i.pod.metadata.name.clone())
            .collect();
        assert_eq!(order, vec!["new-high", "old-low", "new-low"]);
    }

    #[test]
    fn errors_wait_out_their_backoff_in_whole_second_windows() {
        let mut q = queue(true);
        q.add(pod("p", None), at(0));
        let info = q.pop().unwrap();
        // Failed on an error at t=0.5: 1 s backoff expires in window [1, 2), flushed at 2.
        q.add_unschedulable_if_not_present(info, at(0) + SimDuration::from_millis(500));
        assert_eq!(q.next_wakeup(), Some(at(2)));
        assert!(q.pop().is_none(), "the error backoffQ is not popped early");
        q.flush_backoff_q_completed(at(1) + SimDuration::from_millis(999));
        assert!(q.pop().is_none());
        q.flush_backoff_q_completed(at(2));
        assert_eq!(q.pop().unwrap().attempts, 2);
    }

    #[test]
    fn unschedulable_pods_are_flushed_after_five_minutes_on_a_30s_tick() {
        let mut q = queue(true);
        let profile = Profile { plugins: vec![] };
        q.add(pod("p", None), at(0));
        let mut info = q.pop().unwrap();
        info.unschedulable_plugins.insert("NodeResourcesFit");
        q.add_unschedulable_if_not_present(info, at(10));
        let key = ObjectKey::new("default", "p");
        assert_eq!(q.queue_of(&key), Some(QueueName::Unschedulable));
        // 10 s + 5 min = 310 s; the first 30 s tick strictly past it is 330 s.
        assert_eq!(q.next_wakeup(), Some(at(330)));
        q.flush_unschedulable_pods_leftover(&profile, at(329));
        assert_eq!(q.queue_of(&key), Some(QueueName::Unschedulable));
        q.flush_unschedulable_pods_leftover(&profile, at(330));
        assert_eq!(q.queue_of(&key), Some(QueueName::Active));
    }

    #[test]
    fn idle_scheduler_pops_the_backoff_queue_only_with_the_gate() {
        for gate in [true, false] {
            let mut q = queue(gate);
            let profile = Profile { plugins: vec![] };
            q.add(pod("p", None), at(0));
            let mut info = q.pop().unwrap();
            info.unschedulable_plugins.insert("NodeUnschedulable");
            q.add_unschedulable_if_not_present(info, at(0));
            // A wildcard event moves it while its 1 s backoff is still running.
            q.move_all_to_active_or_backoff_queue(
                &profile,
                &ClusterEvent::UNSCHEDULABLE_TIMEOUT,
                None,
                None,
                at(0),
                &|_| true,
            );
            let key = ObjectKey::new("default", "p");
            assert_eq!(q.queue_of(&key), Some(QueueName::Backoff));
            assert_eq!(q.pop().is_some(), gate);
        }
    }
}
