//! The controller work queue (`client-go/util/workqueue`): de-duplicating, never handing
//! out a key that is being processed, with delayed adds and the default controller rate
//! limiter for failed syncs.
//!
//! Delayed adds coalesce per key as client-go's `delayingType` does (`insert`): while a key
//! waits, a request for a later instant is dropped and one for an earlier instant moves
//! the wait up. This is visible behaviour: a StatefulSet with `minReadySeconds` re-checks
//! availability only when its *first* pending delayed add fires, which is why upstream
//! creates OrderedReady pods about 2 × minReadySeconds apart (issues #113878, #119352).

use crate::api::ObjectKey;
use crate::time::{SimDuration, SimTime};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, VecDeque};

#[derive(Default, Debug)]
pub struct WorkQueue {
    queue: VecDeque<ObjectKey>,
    /// client-go's `dirty` and `processing` sets as one map, so that a key's add, get and
    /// done each search once and `get` hands out the queued key without a copy. A key is
    /// in the map while it is in at least one of the two sets.
    keys: BTreeMap<ObjectKey, KeyState>,
    /// Failures per key for the exponential part of the rate limiter.
    failures: BTreeMap<ObjectKey, u32>,
    /// `delayingType`'s waiting entries: the instant each waiting key is to be added.
    waiting: BTreeMap<ObjectKey, SimTime>,
    /// Instants of the engine timers armed for each key and not fired yet (a multiset):
    /// a timer whose instant is no longer the key's waiting instant is stale.
    timers: BTreeMap<ObjectKey, BTreeMap<SimTime, u32>>,
}

/// Membership of one key in client-go's `dirty` and `processing` sets.
#[derive(Clone, Copy, Debug, Default)]
struct KeyState {
    /// In `dirty`: waiting to be processed (in `queue`, unless being processed).
    dirty: bool,
    /// In `processing`.
    processing: bool,
}

/// `DefaultControllerRateLimiter`'s per-item part: 5 ms doubling, capped at 1000 s. (Its
/// overall 10 qps / burst 100 token bucket only matters under heavy failure load and is
/// not modelled.)
const BASE_DELAY: SimDuration = SimDuration::from_millis(5);
const MAX_DELAY: SimDuration = SimDuration::from_secs(1000);

impl WorkQueue {
    /// `Add`: queues the key unless it is already waiting; a key being processed is
    /// queued again when its processing is done.
    pub fn add(&mut self, key: ObjectKey) {
        match self.keys.entry(key) {
            Entry::Occupied(mut e) => {
                let s = e.get_mut();
                if !s.dirty {
                    s.dirty = true;
                    if !s.processing {
                        self.queue.push_back(e.key().clone());
                    }
                }
            }
            Entry::Vacant(e) => {
                self.queue.push_back(e.key().clone());
                e.insert(KeyState {
                    dirty: true,
                    processing: false,
                });
            }
        }
    }

    /// `Get`: the next key to process.
    pub fn get(&mut self) -> Option<ObjectKey> {
        let key = self.queue.pop_front()?;
        let s = self.keys.get_mut(&key).expect("a queued key is dirty");
        s.dirty = false;
        s.processing = true;
        Some(key)
    }

    /// `Done`: processing finished; a key added meanwhile goes back in the queue.
    pub fn done(&mut self, key: &ObjectKey) {
        let Some(s) = self.keys.get_mut(key) else {
            return;
        };
        s.processing = false;
        if s.dirty {
            self.queue.push_back(key.clone());
        } else {
            self.keys.remove(key);
        }
    }

    /// `AddRateLimited`'s delay for this key: 5 ms × 2^failures, at most 1000 s.
    pub fn rate_limit_delay(&mut self, key: &ObjectKey) -> SimDuration {
        let n = self.failures.entry(key.clone()).or_insert(0);
        let delay = BASE_DELAY
            .saturating_mul(1u64 << (*n).min(40))
            .min(MAX_DELAY);
        *n += 1;
        delay
    }

    /// `Forget`: a successful sync resets the key's backoff.
    pub fn forget(&mut self, key: &ObjectKey) {
        self.failures.remove(key);
    }

    /// `AddAfter` (client-go `delayingType.AddAfter` + `insert`): the key is to be added at
    /// `at`, unless it already waits for an earlier (or the same) instant. Returns whether
    /// the caller must arm a timer for `at` (and later call [`WorkQueue::timer_fired`]).
    pub fn add_after(&mut self, key: ObjectKey, at: SimTime) -> bool {
        if self.waiting.get(&key).is_some_and(|&w| w <= at) {
            return false;
        }
        self.waiting.insert(key.clone(), at);
        *self.timers.entry(key).or_default().entry(at).or_insert(0) += 1;
        true
    }

    /// A timer armed by [`WorkQueue::add_after`] for `key` has fired. Timers fire in time
    /// order, so it is the earliest one armed; if its instant is still the key's waiting
    /// instant the key is added, else (superseded by an earlier wait) it is ignored.
    pub fn timer_fired(&mut self, key: &ObjectKey) {
        let Some(armed) = self.timers.get_mut(key) else {
            return;
        };
        let Some((&at, _)) = armed.iter().next() else {
            return;
        };
        let count = armed.get_mut(&at).expect("just seen");
        *count -= 1;
        if *count == 0 {
            armed.remove(&at);
        }
        if armed.is_empty() {
            self.timers.remove(key);
        }
        if self.waiting.get(key) == Some(&at) {
            self.waiting.remove(key);
            self.add(key.clone());
        }
    }

    pub fn has_work(&self) -> bool {
        !self.queue.is_empty()
    }
    pub fn len(&self) -> usize {
        self.queue.len()
    }
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_and_defers_keys_in_processing() {
        let mut q = WorkQueue::default();
        let a = ObjectKey::new("default", "a");
        q.add(a.clone());
        q.add(a.clone());
        assert_eq!(q.len(), 1);
        let got = q.get().unwrap();
        q.add(a.clone()); // while processing: not handed out twice
        assert!(q.get().is_none());
        q.done(&got);
        assert_eq!(q.get(), Some(a));
    }

    #[test]
    fn delayed_adds_coalesce_to_the_earliest() {
        let mut q = WorkQueue::default();
        let k = ObjectKey::new("default", "k");
        let t = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
        assert!(q.add_after(k.clone(), t(30)));
        assert!(!q.add_after(k.clone(), t(31)), "a later wait is dropped");
        assert!(!q.add_after(k.clone(), t(30)));
        assert!(
            q.add_after(k.clone(), t(10)),
            "an earlier one moves the wait up"
        );
        q.timer_fired(&k); // the 10 s timer
        assert_eq!(q.get(), Some(k.clone()));
        q.done(&k);
        assert!(q.add_after(k.clone(), t(40)), "nothing waits any more");
        q.timer_fired(&k); // the stale 30 s timer
        assert!(q.get().is_none(), "a superseded timer adds nothing");
        q.timer_fired(&k); // the 40 s timer
        assert_eq!(q.get(), Some(k));
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let mut q = WorkQueue::default();
        let k = ObjectKey::new("default", "k");
        let d: Vec<u64> = (0..4).map(|_| q.rate_limit_delay(&k).as_millis()).collect();
        assert_eq!(d, [5, 10, 20, 40]);
        for _ in 0..40 {
            q.rate_limit_delay(&k);
        }
        assert_eq!(q.rate_limit_delay(&k), MAX_DELAY);
        q.forget(&k);
        assert_eq!(q.rate_limit_delay(&k).as_millis(), 5);
    }
}
