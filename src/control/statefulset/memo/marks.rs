//! Change marks: the pods and claims written since a set's last sync, as the controller's
//! own watch handler saw them (a memo of this port, not upstream code), so that a sync
//! brings its memo up to the informer cache by looking up the few objects that changed
//! instead of walking every pod and claim of the namespace.
//!
//! Why: in a 1,000-replica scale-up a sync follows nearly every pod write, and one or two
//! objects changed since the sync before; the walks over the namespace's 1,000 pods and
//! 1,000 claims were a large part of each sync.
//!
//! How it stays exact: the marks are trusted only when the controller is built for an
//! informer that calls its handler for every write it applies to the cache the syncs read
//! ([`crate::control::statefulset::StatefulSetController::fed_by_informer`], as the
//! controller manager does); otherwise, as when tests or benches hand a sync any cache,
//! there are no marks and every sync walks. A memo with no mark position (new, or reset),
//! one whose position has left the log, or one with more marks to apply than a walk would
//! cost, walks. Debug builds check every sync brought up by marks against a walk.

use crate::api::ObjectKey;
use std::collections::VecDeque;

/// At most this many marks are kept; a memo whose last sync is older walks.
const MAX_MARKS: usize = 1 << 14;

/// What a mark names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Pod,
    Claim,
}

/// The pod and claim keys written, numbered in the order the handler saw them.
#[derive(Debug, Default)]
pub struct WatchMarks {
    /// The number the next mark gets.
    next: u64,
    /// The last [`MAX_MARKS`] marks; the last one is number `next - 1`.
    log: VecDeque<(MarkKind, ObjectKey)>,
}

impl WatchMarks {
    /// Notes a write of the pod or claim `key`.
    pub fn record(&mut self, kind: MarkKind, key: ObjectKey) {
        if self.log.len() == MAX_MARKS {
            self.log.pop_front();
        }
        self.log.push_back((kind, key));
        self.next += 1;
    }

    /// The position after the last mark: what a memo brought up to the cache now saw.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// The marks after position `seen`, oldest first, or `None` if some were dropped.
    pub fn since(&self, seen: u64) -> Option<impl Iterator<Item = &(MarkKind, ObjectKey)>> {
        let first = self.next - self.log.len() as u64;
        if seen < first || seen > self.next {
            return None;
        }
        Some(self.log.range((seen - first) as usize..))
    }
}
