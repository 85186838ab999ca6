//! The external-provisioner's work queues (client-go `workqueue` with
//! `NewItemExponentialFailureRateLimiter(--retry-interval-start, --retry-interval-max)`,
//! 1 s doubling to 5 min): de-duplicating, never handing out a key being processed, and
//! a rate-limited re-add after a failure. A worker (`--worker-threads`) holds a key while
//! its CSI call is in flight.

use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// `--retry-interval-start`.
pub const RETRY_INTERVAL_START: SimDuration = SimDuration::from_secs(1);
/// `--retry-interval-max`.
pub const RETRY_INTERVAL_MAX: SimDuration = SimDuration::from_secs(300);

#[derive(Debug, Default)]
pub struct Queue {
    queue: VecDeque<String>,
    dirty: BTreeSet<String>,
    processing: BTreeSet<String>,
    failures: BTreeMap<String, u32>,
    /// Rate-limited re-adds waiting, by key: when they are due.
    waiting: BTreeMap<String, SimTime>,
}

impl Queue {
    /// `Add`.
    pub fn add(&mut self, key: &str) {
        // Looked up first: most adds are of a key already waiting, and those need no copy.
        if self.dirty.contains(key) {
            return;
        }
        self.dirty.insert(key.to_string());
        if !self.processing.contains(key) {
            self.queue.push_back(key.to_string());
        }
    }

    /// `Get`.
    pub fn get(&mut self) -> Option<String> {
        let key = self.queue.pop_front()?;
        self.dirty.remove(&key);
        self.processing.insert(key.clone());
        Some(key)
    }

    /// `Done`.
    pub fn done(&mut self, key: &str) {
        self.processing.remove(key);
        if self.dirty.contains(key) {
            self.queue.push_back(key.to_string());
        }
    }

    /// `AddRateLimited`: the key comes back after 1 s × 2^failures (at most 5 min).
    /// Returns the due time if the caller must arm a timer (an earlier wait wins).
    pub fn add_rate_limited(&mut self, key: &str, now: SimTime) -> Option<SimTime> {
        let n = self.failures.entry(key.to_string()).or_insert(0);
        let delay = RETRY_INTERVAL_START
            .saturating_mul(1u64 << (*n).min(40))
            .min(RETRY_INTERVAL_MAX);
        *n += 1;
        let at = now + delay;
        match self.waiting.get(key) {
            Some(t) if *t <= at => None,
            _ => {
                self.waiting.insert(key.to_string(), at);
                Some(at)
            }
        }
    }

    /// A rate-limited re-add's timer fired at `now`: add the key if that wait is the one.
    pub fn timer_fired(&mut self, key: &str, now: SimTime) {
        if self.waiting.get(key).is_some_and(|t| *t <= now) {
            self.waiting.remove(key);
            self.add(key);
        }
    }

    /// `Forget`.
    pub fn forget(&mut self, key: &str) {
        self.failures.remove(key);
    }

    /// `NumRequeues`.
    #[cfg(test)]
    pub fn requeues(&self, key: &str) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_one_second_doubling_to_five_minutes() {
        let mut q = Queue::default();
        let mut now = SimTime::ZERO;
        let mut delays = Vec::new();
        for _ in 0..11 {
            let at = q.add_rate_limited("c", now).unwrap();
            delays.push((at.0 - now.0) / 1_000_000_000);
            q.timer_fired("c", at);
            assert_eq!(q.get().as_deref(), Some("c"));
            q.done("c");
            now = at;
        }
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        q.forget("c");
        assert_eq!(q.requeues("c"), 0);
    }

    #[test]
    fn keys_are_deduplicated_and_held_while_processing() {
        let mut q = Queue::default();
        q.add("a");
        q.add("a");
        assert_eq!(q.get().as_deref(), Some("a"));
        q.add("a");
        assert!(q.get().is_none(), "held while processing");
        q.done("a");
        assert_eq!(q.get().as_deref(), Some("a"));
    }
}
