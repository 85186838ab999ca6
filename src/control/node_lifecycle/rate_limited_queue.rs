//! `RateLimitedTimedQueue` (`pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go`):
//! a zone's queue of nodes waiting for their NoExecute taint, ordered by the instant each
//! may be processed, drained under a token bucket.
//!
//! The queue is also a set: a value taken out by a successful `Try` stays in the set
//! (`RemoveFromQueue`), so the same node cannot be queued again until someone calls
//! `Remove` — the controller does when the node is Ready again or when the taint it was
//! queued for is gone.

use super::token_bucket::{RateLimiter, TokenBucket};
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// `NodeEvictionPeriod`: how often `doNoExecuteTaintingPass` runs.
pub const NODE_EVICTION_PERIOD: SimDuration = SimDuration::from_millis(100);
/// `EvictionRateLimiterBurst`.
pub const EVICTION_RATE_LIMITER_BURST: i64 = 1;

/// `TimedValue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedValue {
    pub value: String,
    /// The node's uid when it was queued.
    pub uid: String,
    pub added_at: SimTime,
    pub process_at: SimTime,
}

/// `UniqueQueue`: a heap by `process_at` plus the set of values ever added and not
/// removed. Equal instants keep insertion order (Go's heap leaves ties unspecified).
#[derive(Clone, Debug, Default)]
struct UniqueQueue {
    heap: BTreeMap<(SimTime, u64), TimedValue>,
    index: BTreeMap<String, (SimTime, u64)>,
    set: BTreeSet<String>,
    seq: u64,
}

impl UniqueQueue {
    fn push(&mut self, value: TimedValue) {
        self.seq += 1;
        let k = (value.process_at, self.seq);
        self.index.insert(value.value.clone(), k);
        self.heap.insert(k, value);
    }
    fn take(&mut self, value: &str) -> bool {
        match self.index.remove(value) {
            Some(k) => {
                self.heap.remove(&k);
                true
            }
            None => false,
        }
    }
    /// `Add`: false if the value is in the set already.
    fn add(&mut self, value: TimedValue) -> bool {
        if !self.set.insert(value.value.clone()) {
            return false;
        }
        self.push(value);
        true
    }
    /// `Replace`: a queued value gets its new instant.
    fn replace(&mut self, value: TimedValue) -> bool {
        if !self.take(&value.value) {
            return false;
        }
        self.push(value);
        true
    }
    /// `RemoveFromQueue`: out of the queue, still in the set.
    fn remove_from_queue(&mut self, value: &str) -> bool {
        self.set.contains(value) && self.take(value)
    }
    /// `Remove`: out of the queue and the set. True if it was in the set.
    fn remove(&mut self, value: &str) -> bool {
        if !self.set.remove(value) {
            return false;
        }
        self.take(value);
        true
    }
    fn head(&self) -> Option<&TimedValue> {
        self.heap.values().next()
    }
}

/// `RateLimitedTimedQueue`.
#[derive(Clone, Debug)]
pub struct RateLimitedTimedQueue {
    queue: UniqueQueue,
    limiter: RateLimiter,
}

impl RateLimitedTimedQueue {
    /// `NewRateLimitedTimedQueue(NewTokenBucketRateLimiter(qps, EvictionRateLimiterBurst))`.
    pub fn new(qps: f32) -> Self {
        RateLimitedTimedQueue {
            queue: UniqueQueue::default(),
            limiter: RateLimiter::TokenBucket(TokenBucket::new(qps, EVICTION_RATE_LIMITER_BURST)),
        }
    }

    // Port of `Try`: while the head exists, take a token (a refusal ends the pass), stop at
    // a head not yet due (the token is spent all the same), else run `f`; a `false`
    // answer puts the value back `wait` + 1 ns later, `true` takes it out of the queue.
    pub fn try_process(
        &mut self,
        now: SimTime,
        mut f: impl FnMut(&TimedValue) -> (bool, SimDuration),
    ) {
        while let Some(val) = self.queue.head().cloned() {
            if !self.limiter.try_accept(now) {
                break;
            }
            if now < val.process_at {
                break;
            }
            let (ok, wait) = f(&val);
            if ok {
                self.queue.remove_from_queue(&val.value);
            } else {
                let mut again = val;
                again.process_at = now + wait + SimDuration::from_nanos(1);
                self.queue.replace(again);
            }
        }
    }

    /// `Add`: queued to be processed now, unless in the set already.
    pub fn add(&mut self, value: &str, uid: &str, now: SimTime) -> bool {
        self.queue.add(TimedValue {
            value: value.to_string(),
            uid: uid.to_string(),
            added_at: now,
            process_at: now,
        })
    }

    /// `Remove`: out of the queue and the set (may be added again).
    pub fn remove(&mut self, value: &str) -> bool {
        self.queue.remove(value)
    }

    // Port of `SwapLimiter`: a new bucket for a new qps (a never-accepting limiter for 0);
    // if the old bucket has no token now, the new one is drained too, so a rate change
    // gives no burst.
    pub fn swap_limiter(&mut self, qps: f32, now: SimTime) {
        if self.limiter.qps() == qps {
            return;
        }
        let next = if qps <= 0.0 {
            RateLimiter::Never
        } else {
            let mut bucket = TokenBucket::new(qps, EVICTION_RATE_LIMITER_BURST);
            if !self.limiter.try_accept(now) {
                bucket.try_accept(now);
            }
            RateLimiter::TokenBucket(bucket)
        };
        self.limiter = next;
    }

    pub fn is_empty(&self) -> bool {
        self.queue.heap.is_empty()
    }

    /// Queued values in processing order (for tests and diagnostics).
    pub fn queued(&self) -> impl Iterator<Item = &TimedValue> {
        self.queue.heap.values()
    }

    /// The first instant of the tainting grid (`tick_after` gives the grid instant after
    /// an instant) at which a `Try` would do anything: the queue is not empty and the
    /// limiter would hand out a token. `None` if never.
    pub fn next_try(
        &self,
        first: SimTime,
        tick_at_or_after: impl Fn(SimTime) -> SimTime,
    ) -> Option<SimTime> {
        if self.is_empty() {
            return None;
        }
        let estimate = self.limiter.refill_estimate(first)?;
        // The estimate is within float rounding of the exact instant: start one tick early
        // and walk forward to the first tick the exact rule accepts.
        let step = NODE_EVICTION_PERIOD.as_nanos();
        let start = first.max(SimTime(estimate.as_nanos().saturating_sub(step)));
        let mut t = tick_at_or_after(start);
        for _ in 0..4 {
            if self.limiter.would_accept(t) {
                return Some(t);
            }
            t = tick_at_or_after(t + SimDuration::from_nanos(1));
        }
        // Not reached with float rounding alone; a check at `t` recomputes.
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_ms(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    fn grid(t: SimTime) -> SimTime {
        let p = NODE_EVICTION_PERIOD.as_nanos();
        SimTime(t.as_nanos().div_ceil(p) * p)
    }

    #[test]
    fn try_drains_one_node_per_token_at_the_primary_rate() {
        let mut q = RateLimitedTimedQueue::new(0.1);
        for n in ["a", "b", "c"] {
            assert!(q.add(n, n, at_ms(0)));
        }
        assert!(!q.add("a", "a", at_ms(0)), "a value is queued once");
        let mut done = Vec::new();
        let mut t = at_ms(0);
        while !q.is_empty() {
            let next = q.next_try(t, grid).expect("a token comes");
            q.try_process(next, |v| {
                done.push((v.value.clone(), next));
                (true, SimDuration::ZERO)
            });
            t = next + SimDuration::from_nanos(1);
        }
        assert_eq!(
            done,
            vec![
                ("a".to_string(), at_ms(0)),
                ("b".to_string(), at_ms(10_000)),
                ("c".to_string(), at_ms(20_000)),
            ]
        );
        // Processed values stay in the set until removed.
        assert!(!q.add("a", "a", at_ms(30_000)));
        assert!(q.remove("a"));
        assert!(q.add("a", "a", at_ms(30_000)));
    }

    #[test]
    fn the_secondary_rate_spaces_nodes_100_1_s_apart() {
        let mut q = RateLimitedTimedQueue::new(0.01);
        q.add("a", "a", at_ms(0));
        q.add("b", "b", at_ms(0));
        let mut times = Vec::new();
        let mut t = at_ms(0);
        while !q.is_empty() {
            let next = q.next_try(t, grid).unwrap();
            q.try_process(next, |_| {
                times.push(next);
                (true, SimDuration::ZERO)
            });
            t = next + SimDuration::from_nanos(1);
        }
        // 0.01 as float32 falls 2.2 µs short at 100 s: the 100 ms tick after that passes.
        assert_eq!(times, vec![at_ms(0), at_ms(100_100)]);
    }

    #[test]
    fn a_retry_is_put_back_and_a_not_due_head_spends_the_token() {
        let mut q = RateLimitedTimedQueue::new(0.1);
        q.add("a", "a", at_ms(0));
        q.try_process(at_ms(0), |_| (false, SimDuration::from_millis(50)));
        let head = q.queued().next().unwrap();
        assert_eq!(head.process_at, at_ms(50) + SimDuration::from_nanos(1));
        // The next token comes 10 s later; a tick before that does nothing.
        assert_eq!(q.next_try(at_ms(100), grid), Some(at_ms(10_000)));
        let mut ran = false;
        q.try_process(at_ms(10_000), |_| {
            ran = true;
            (true, SimDuration::ZERO)
        });
        assert!(ran);

        // A head not yet due: the token is spent and the pass ends.
        let mut q = RateLimitedTimedQueue::new(0.1);
        q.add("b", "b", at_ms(0));
        q.queue.replace(TimedValue {
            value: "b".into(),
            uid: "b".into(),
            added_at: at_ms(0),
            process_at: at_ms(5_000),
        });
        q.try_process(at_ms(0), |_| unreachable!("not due"));
        assert_eq!(q.next_try(at_ms(100), grid), Some(at_ms(10_000)));
    }

    #[test]
    fn swapping_the_limiter_keeps_an_empty_bucket_empty() {
        let mut q = RateLimitedTimedQueue::new(0.1);
        q.add("a", "a", at_ms(0));
        q.add("b", "b", at_ms(0));
        q.try_process(at_ms(0), |_| (true, SimDuration::ZERO));
        // Rate 0 (a small zone in PartialDisruption): nothing, ever.
        q.swap_limiter(0.0, at_ms(1_000));
        assert_eq!(q.next_try(at_ms(1_000), grid), None);
        // Back to 0.1 at 12 s: the old limiter (never) has no token, so the new bucket is
        // drained and the next node waits a full 10 s.
        q.swap_limiter(0.1, at_ms(12_000));
        assert_eq!(q.next_try(at_ms(12_000), grid), Some(at_ms(22_000)));
        // Same qps: no swap, no drain.
        q.swap_limiter(0.1, at_ms(13_000));
        assert_eq!(q.next_try(at_ms(13_000), grid), Some(at_ms(22_000)));
    }

    #[test]
    fn a_full_bucket_is_spent_by_the_swap_check_but_the_new_one_is_full() {
        let mut q = RateLimitedTimedQueue::new(0.1);
        q.add("a", "a", at_ms(0));
        q.swap_limiter(0.01, at_ms(0));
        // The old bucket had its token, so the new one is left full.
        assert_eq!(q.next_try(at_ms(0), grid), Some(at_ms(0)));
    }
}
