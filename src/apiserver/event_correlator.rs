//! client-go's `EventCorrelator` (`tools/record/events_cache.go`): what a component's
//! `record.EventRecorder` does with an Event before it reaches the API server.
//!
//! Every kube-controller-manager controller, each kubelet and the CSI sidecars record
//! Events through this legacy recorder, one correlator per recorder, in three steps:
//!
//! 1. **Aggregation** (`EventAggregator`): Events that differ only in their message (same
//!    source, object, type and reason) are counted per 10-minute window; from the tenth
//!    distinct message on they become one Event, "(combined from similar events): …".
//! 2. **Counting** (`eventLogger`): an Event seen before (same key, or the same aggregate)
//!    is not a new object but the earlier one with `count` raised. There is no time window:
//!    only the 4,096-entry LRU cache forgets.
//! 3. **Spam filter** (`EventSourceObjectSpamFilter`): each source may write 25 Events about
//!    one object, then one every 5 minutes; the rest are dropped. Steps 1 and 2 have
//!    already counted a dropped Event, so the next one that passes carries the full count.
//!
//! The caches are keyed, as upstream, by the fields of the key strings (`getEventKey`,
//! `getSpamKey`, `EventAggregatorByReasonFunc`), but each key is kept as a 128-bit hash of
//! them: no key string is built per Event, and two different keys would need to share all
//! 128 bits to be confused.
//!
//! Deviation: `EventAggregate` forgets one message with Go's `sets.String.PopAny`, which
//! picks at random; here it forgets the one with the smallest hash, so runs stay
//! reproducible.

use crate::hash::fmix64;
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// `maxLruCacheEntries`: the size of each of the three caches.
const MAX_LRU_CACHE_ENTRIES: usize = 4096;
/// `defaultAggregateMaxEvents`: distinct messages in the window before aggregation.
const DEFAULT_AGGREGATE_MAX_EVENTS: usize = 10;
/// `defaultAggregateIntervalInSeconds`.
const DEFAULT_AGGREGATE_INTERVAL: SimDuration = SimDuration::from_secs(600);
/// `defaultSpamBurst`.
const DEFAULT_SPAM_BURST: u64 = 25;
/// `1 / defaultSpamQPS`: one new token every 5 minutes.
const SPAM_REFILL: SimDuration = SimDuration::from_secs(300);

/// The fields of an Event the correlator keys on (its source is the correlator's own).
pub struct EventFacts<'a> {
    /// The involved object: kind, namespace, name, uid and apiVersion.
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    pub api_version: &'a str,
    pub type_: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
}

/// What the recorder writes, if anything.
#[derive(Debug, PartialEq, Eq)]
pub enum Correlated {
    /// Write this Event: the one named `name` updated to `count` if it was written
    /// before (upstream patches it), else a new one under that name (upstream creates it,
    /// also when the patch finds no Event because an earlier write was dropped).
    Write(Observed),
    /// The spam filter dropped it.
    Skip,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Observed {
    /// The name of the Event, given at its first sighting.
    pub name: String,
    /// The first sighting, as the cache remembers it.
    pub first_seen: SimTime,
    pub count: u32,
    /// Whether this is the aggregate Event: its message is
    /// `(combined from similar events): ` and the Event's own
    /// (`EventAggregatorByReasonMessageFunc`).
    pub combined: bool,
}

/// `EventAggregatorByReasonMessageFunc`'s prefix.
pub const COMBINED_PREFIX: &str = "(combined from similar events): ";

/// One recorder's correlator (`NewEventCorrelatorWithOptions` with the default options).
#[derive(Default)]
pub struct EventCorrelator {
    aggregates: Lru<AggregateRecord>,
    observations: Lru<EventLog>,
    spam: Lru<SpamRecord>,
}

struct AggregateRecord {
    /// The hashes of the distinct messages seen in the window.
    local_keys: BTreeSet<u128>,
    last: SimTime,
}

struct EventLog {
    count: u32,
    first_seen: SimTime,
    name: String,
}

/// A `rate.Limiter` with burst 25 and rate 1/300 s, kept as the refill time it holds
/// (25 × 300 s when full) rather than a float token count.
struct SpamRecord {
    stored: SimDuration,
    last: SimTime,
}

impl EventCorrelator {
    /// `EventCorrelate`: aggregate, observe, filter — in upstream's order. `name_new` names
    /// an Event seen for the first time (upstream names it when it is made, before any
    /// of this, so a name is used up even by an Event the filter then drops).
    pub fn correlate(
        &mut self,
        now: SimTime,
        ev: &EventFacts<'_>,
        name_new: impl FnOnce() -> String,
    ) -> Correlated {
        // getSpamKey: the source is the correlator's own, so the object alone. An object's
        // uid fixes its kind, namespace, name and apiVersion: the uid stands for them.
        let spam_key = if ev.uid.is_empty() {
            let h = KeyHash::new()
                .with(ev.kind)
                .with(ev.namespace)
                .with(ev.name);
            h.with(ev.api_version)
        } else {
            KeyHash::new().with(ev.uid)
        };
        let (key, combined) = self.aggregate(now, ev, spam_key);
        let observed = self.observe(now, key, combined, name_new);
        if self.filter(now, spam_key.key()) {
            return Correlated::Skip;
        }
        Correlated::Write(observed)
    }

    /// `EventAggregator.EventAggregate` with `EventAggregatorByReasonFunc`: the cache key,
    /// and whether the Event became the aggregate.
    fn aggregate(&mut self, now: SimTime, ev: &EventFacts<'_>, spam_key: KeyHash) -> (u128, bool) {
        // The aggregate key: source and object (the spam key), type and reason
        // (ReportingController and ReportingInstance are empty for this recorder).
        let aggregate_key = spam_key.with(ev.type_).with(ev.reason);
        let message = KeyHash::new().with(ev.message);
        let local_key = message.key();
        let record = self
            .aggregates
            .entry(aggregate_key.key(), || AggregateRecord {
                local_keys: BTreeSet::new(),
                last: now,
            });
        if now.saturating_since(record.last) > DEFAULT_AGGREGATE_INTERVAL {
            record.local_keys.clear();
        }
        record.local_keys.insert(local_key);
        record.last = now;
        if record.local_keys.len() < DEFAULT_AGGREGATE_MAX_EVENTS {
            // getEventKey: the aggregate key's fields and the message.
            return (aggregate_key.then(message).key(), false);
        }
        // "do not grow our local key set any larger than max" (PopAny; see the header).
        record.local_keys.pop_first();
        (aggregate_key.key(), true)
    }

    /// `eventLogger.eventObserve`: the count and name the write carries.
    fn observe(
        &mut self,
        now: SimTime,
        key: u128,
        combined: bool,
        name_new: impl FnOnce() -> String,
    ) -> Observed {
        if let Some(log) = self.observations.get(key) {
            log.count += 1;
            return Observed {
                name: log.name.clone(),
                first_seen: log.first_seen,
                count: log.count,
                combined,
            };
        }
        let name = name_new();
        let log = EventLog {
            count: 1,
            first_seen: now,
            name: name.clone(),
        };
        self.observations.insert(key, log);
        Observed {
            name,
            first_seen: now,
            count: 1,
            combined,
        }
    }

    /// `EventSourceObjectSpamFilter.Filter`: true when the Event is to be dropped.
    fn filter(&mut self, now: SimTime, spam_key: u128) -> bool {
        let full = SimDuration(SPAM_REFILL.0 * DEFAULT_SPAM_BURST);
        let record = self.spam.entry(spam_key, || SpamRecord {
            stored: full,
            last: now,
        });
        // rate.Limiter.advance: refill for the time since the last accepted request,
        // capped at the burst; a refused request leaves the state alone.
        let refill = now.saturating_since(record.last).0;
        let stored = (record.stored.0 + refill).min(full.0);
        if stored < SPAM_REFILL.0 {
            return true;
        }
        record.stored = SimDuration(stored - SPAM_REFILL.0);
        record.last = now;
        false
    }
}

/// A cache key as a 128-bit hash of upstream's key string, fed one field at a time, eight
/// bytes per step in two independent lanes, each field closed by its length (so that
/// field boundaries count).
#[derive(Clone, Copy)]
struct KeyHash(u64, u64);

impl KeyHash {
    const K1: u64 = 0x9e37_79b9_7f4a_7c15;
    const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;

    fn new() -> Self {
        KeyHash(0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344)
    }

    fn word(self, w: u64) -> Self {
        KeyHash(
            (self.0 ^ w).wrapping_mul(Self::K1).rotate_left(29),
            (self.1 ^ w).wrapping_mul(Self::K2).rotate_left(37),
        )
    }

    fn with(self, field: &str) -> Self {
        let bytes = field.as_bytes();
        let mut h = self;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            h = h.word(u64::from_le_bytes(c.try_into().expect("eight bytes")));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        h.word(u64::from_le_bytes(tail)).word(bytes.len() as u64)
    }

    /// Two hashes fed one after the other (the event key: the aggregate key, then the
    /// message's own hash).
    fn then(self, other: KeyHash) -> Self {
        self.word(other.0).word(other.1)
    }

    /// The key: each lane through MurmurHash3's finaliser.
    fn key(self) -> u128 {
        (u128::from(fmix64(self.0)) << 64) | u128::from(fmix64(self.1))
    }
}

/// `github.com/golang/groupcache/lru` as client-go uses it: at most 4,096 entries, the
/// least recently used forgotten first; a look-up counts as a use. Each entry keeps the
/// tick of its last use; the least recently used is searched for only when the cache
/// overflows, which a run with fewer than 4,096 keys per recorder never does.
struct Lru<V> {
    entries: BTreeMap<u128, (V, u64)>,
    clock: u64,
}

impl<V> Default for Lru<V> {
    fn default() -> Self {
        Lru {
            entries: BTreeMap::new(),
            clock: 0,
        }
    }
}

impl<V> Lru<V> {
    /// `Get`: the entry, now the most recently used.
    fn get(&mut self, key: u128) -> Option<&mut V> {
        let (value, used) = self.entries.get_mut(&key)?;
        self.clock += 1;
        *used = self.clock;
        Some(value)
    }

    /// `Add` of a new entry, forgetting the least recently used one beyond the limit.
    fn insert(&mut self, key: u128, value: V) {
        self.clock += 1;
        self.entries.insert(key, (value, self.clock));
        if self.entries.len() > MAX_LRU_CACHE_ENTRIES {
            self.forget_least_recently_used();
        }
    }

    /// `Get`, then `Add` of what was found or of `new()`. The entry is the most recently
    /// used either way, so forgetting the least recently used one before adding forgets
    /// the same entry as forgetting it after.
    fn entry(&mut self, key: u128, new: impl FnOnce() -> V) -> &mut V {
        self.clock += 1;
        if self.entries.len() >= MAX_LRU_CACHE_ENTRIES && !self.entries.contains_key(&key) {
            self.forget_least_recently_used();
        }
        let (value, used) = self.entries.entry(key).or_insert_with(|| (new(), 0));
        *used = self.clock;
        value
    }

    fn forget_least_recently_used(&mut self) {
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, (_, used))| *used)
            .map(|(k, _)| *k);
        if let Some(oldest) = oldest {
            self.entries.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(name: &'a str, reason: &'a str, message: &'a str) -> EventFacts<'a> {
        EventFacts {
            kind: "Pod",
            namespace: "default",
            name,
            uid: name,
            api_version: "v1",
            type_: "Normal",
            reason,
            message,
        }
    }

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    fn run(c: &mut EventCorrelator, at: SimTime, f: &EventFacts<'_>, n: &mut u32) -> Correlated {
        c.correlate(at, f, || {
            *n += 1;
            format!("ev{n}")
        })
    }

    #[test]
    fn identical_events_count_up_without_a_window() {
        let mut c = EventCorrelator::default();
        let mut n = 0;
        let f = facts("web-0", "BackOff", "Back-off restarting");
        let counts: Vec<_> = [0, 1, 2, 4000]
            .into_iter()
            .map(|s| match run(&mut c, secs(s), &f, &mut n) {
                Correlated::Write(o) => (o.name, o.count, o.first_seen),
                Correlated::Skip => panic!("within the burst"),
            })
            .collect();
        assert_eq!(
            counts,
            [1, 2, 3, 4].map(|k| ("ev1".to_string(), k, secs(0)))
        );
    }

    #[test]
    fn the_tenth_distinct_message_is_combined() {
        let mut c = EventCorrelator::default();
        let mut n = 0;
        let mut out = Vec::new();
        for i in 0..12 {
            let msg = format!("create Pod web-{i} in StatefulSet web successful");
            if let Correlated::Write(o) = run(
                &mut c,
                secs(i),
                &facts("web", "SuccessfulCreate", &msg),
                &mut n,
            ) {
                let message = if o.combined {
                    format!("{COMBINED_PREFIX}{msg}")
                } else {
                    msg
                };
                out.push((o.name, o.count, message));
            }
        }
        assert_eq!(
            out[8],
            (
                "ev9".into(),
                1,
                "create Pod web-8 in StatefulSet web successful".into()
            )
        );
        assert_eq!(
            out[9],
            (
                "ev10".into(),
                1,
                "(combined from similar events): create Pod web-9 in StatefulSet web successful"
                    .into()
            )
        );
        assert_eq!(
            out[11],
            (
                "ev10".into(),
                3,
                "(combined from similar events): create Pod web-11 in StatefulSet web successful"
                    .into()
            )
        );
        // Ten minutes of quiet start a fresh window.
        let late = run(
            &mut c,
            secs(11 + 601),
            &facts("web", "SuccessfulCreate", "create Pod web-12"),
            &mut n,
        );
        assert!(matches!(late, Correlated::Write(o) if o.count == 1 && !o.combined));
    }

    #[test]
    fn a_source_gets_25_events_per_object_then_one_per_five_minutes() {
        let mut c = EventCorrelator::default();
        let mut n = 0;
        let f = facts("web-0", "Unhealthy", "Readiness probe failed");
        let passed: Vec<u64> = (0..100u64)
            .filter(|s| matches!(run(&mut c, secs(s * 10), &f, &mut n), Correlated::Write(_)))
            .collect();
        // 25 at once (0 s … 240 s), a token back every 300 s after the first write.
        let mut want: Vec<u64> = (0..25).collect();
        want.extend([30, 60, 90]);
        assert_eq!(passed, want);
        // The dropped ones were counted: the next write carries the full count.
        let next = run(&mut c, secs(1200), &f, &mut n);
        assert!(matches!(next, Correlated::Write(o) if o.count == 101));
        // Another object has its own bucket.
        let other = facts("web-1", "Unhealthy", "Readiness probe failed");
        assert!(matches!(
            run(&mut c, secs(1000), &other, &mut n),
            Correlated::Write(_)
        ));
    }

    #[test]
    fn the_cache_forgets_the_least_recently_used() {
        let mut lru: Lru<u32> = Lru::default();
        for i in 0..MAX_LRU_CACHE_ENTRIES as u32 {
            lru.insert(u128::from(i), i);
        }
        assert_eq!(lru.get(0), Some(&mut 0));
        lru.insert(1 << 64, 1);
        assert!(lru.get(1).is_none(), "1 was the least recently used");
        assert!(lru.get(0).is_some());
        assert_eq!(lru.entries.len(), MAX_LRU_CACHE_ENTRIES);
    }
}
