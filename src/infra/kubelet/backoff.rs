//! `flowcontrol.Backoff` (client-go `util/flowcontrol/backoff.go`), the per-key exponential
//! back-off the kubelet uses for crash-loop restarts (`containerBackOffPeriod` 10 s,
//! `MaxContainerBackOff` 300 s) and for image pulls (`imageBackOffPeriod` 10 s,
//! `MaxImageBackOff` 300 s). The kubelet builds both without jitter, so this port has none.

use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Initial back-off of both kubelet back-offs (`containerBackOffPeriod`, `imageBackOffPeriod`).
pub const INITIAL: SimDuration = SimDuration::from_secs(10);
/// Cap of both kubelet back-offs (`MaxContainerBackOff`, `MaxImageBackOff`).
pub const MAX: SimDuration = SimDuration::from_secs(300);

#[derive(Clone, Debug)]
struct Entry {
    backoff: SimDuration,
    last_update: SimTime,
}

/// Back-off state for many keys (a container's stable key, or `<pod uid>_<image>`).
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: SimDuration,
    max: SimDuration,
    entries: BTreeMap<String, Entry>,
}

impl Backoff {
    pub fn new(initial: SimDuration, max: SimDuration) -> Self {
        Backoff {
            initial,
            max,
            entries: BTreeMap::new(),
        }
    }

    /// The kubelet's back-off: 10 s doubling to 300 s.
    pub fn kubelet() -> Self {
        Backoff::new(INITIAL, MAX)
    }

    /// `Get`: the current back-off of `id` (zero when it has none).
    pub fn get(&self, id: &str) -> SimDuration {
        self.entries
            .get(id)
            .map_or(SimDuration::ZERO, |e| e.backoff)
    }

    /// `Next`: doubles the back-off of `id` (capped), or starts it at the initial value when
    /// `id` has none or its last step is older than twice the cap (`hasExpired`: this is the
    /// "reset after 10 minutes without trouble"). The step is stamped with `now`, not with
    /// `event_time`, exactly as upstream does.
    pub fn next(&mut self, id: &str, event_time: SimTime, now: SimTime) {
        let max = self.max;
        let backoff = match self.entries.get(id) {
            Some(e) if !has_expired(event_time, e.last_update, max) => {
                e.backoff.saturating_mul(2).min(max)
            }
            _ => self.initial,
        };
        self.entries.insert(
            id.to_string(),
            Entry {
                backoff,
                last_update: now,
            },
        );
    }

    /// `IsInBackOffSince`: whether less than the current back-off has passed since
    /// `event_time` (for crash loops: the finish time of the container that exited).
    pub fn is_in_backoff_since(&self, id: &str, event_time: SimTime, now: SimTime) -> bool {
        match self.entries.get(id) {
            Some(e) if !has_expired(event_time, e.last_update, self.max) => {
                now.saturating_since(event_time) < e.backoff
            }
            _ => false,
        }
    }

    /// `IsInBackOffSinceUpdate`: whether less than the current back-off has passed since
    /// the last `next` (for image pulls: the last failed pull).
    pub fn is_in_backoff_since_update(&self, id: &str, now: SimTime) -> bool {
        match self.entries.get(id) {
            Some(e) if !has_expired(now, e.last_update, self.max) => {
                now.saturating_since(e.last_update) < e.backoff
            }
            _ => false,
        }
    }

    /// When the window of [`Self::is_in_backoff_since_update`] ends for `id`.
    pub fn update_window_end(&self, id: &str) -> Option<SimTime> {
        self.entries.get(id).map(|e| e.last_update + e.backoff)
    }

    /// `GC`: forgets keys whose last step is older than twice the cap.
    pub fn gc(&mut self, now: SimTime) {
        let max = self.max;
        self.entries
            .retain(|_, e| !has_expired(now, e.last_update, max));
    }
}

/// `hasExpired`: the last step is more than twice the cap before `event_time`.
fn has_expired(event_time: SimTime, last_update: SimTime, max: SimDuration) -> bool {
    event_time.saturating_since(last_update) > max.saturating_mul(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn doubles_to_the_cap() {
        let mut b = Backoff::kubelet();
        let mut seen = Vec::new();
        for i in 0..8 {
            b.next("k", at(i), at(i));
            seen.push(b.get("k").as_secs());
        }
        assert_eq!(seen, [10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn windows_are_half_open() {
        let mut b = Backoff::kubelet();
        assert!(
            !b.is_in_backoff_since("k", at(0), at(0)),
            "no entry, no back-off"
        );
        b.next("k", at(5), at(5));
        assert!(b.is_in_backoff_since_update("k", at(14)));
        assert!(!b.is_in_backoff_since_update("k", at(15)));
        assert_eq!(b.update_window_end("k"), Some(at(15)));
        assert!(b.is_in_backoff_since("k", at(20), at(29)));
        assert!(!b.is_in_backoff_since("k", at(20), at(30)));
    }

    #[test]
    fn resets_after_twice_the_cap() {
        let mut b = Backoff::kubelet();
        b.next("k", at(0), at(0));
        b.next("k", at(1), at(1));
        assert_eq!(b.get("k").as_secs(), 20);
        // 600 s since the last step is not yet "expired"; 601 s is.
        assert!(b.is_in_backoff_since("k", at(601), at(601)));
        assert!(!b.is_in_backoff_since("k", at(602), at(602)));
        b.next("k", at(602), at(602));
        assert_eq!(b.get("k").as_secs(), 10);
        b.gc(at(1203));
        assert_eq!(b.get("k"), SimDuration::ZERO);
    }
}
