//! Informers: a component's cached view of the cluster, fed from the API server's journal.
//! Each informer sees a write only once its delivery time (write time + watch delay) has
//! come, so caches can be stale exactly as they are in a real cluster.

use super::{ApiServer, JournalEntry, WatchEvent};
use crate::api::{AnyObject, ObjectKey, Tables};
use crate::time::{SimDuration, SimTime};

pub struct Informer {
    cursor: u64,
    pub cache: Tables,
    pub delay: SimDuration,
    /// Kinds this informer does not watch (bit `Kind as u32`): their writes are passed over
    /// without touching the cache, as a component with no informer for a kind never sees
    /// it. Used for high-volume kinds few components read (node Leases).
    ignored: u32,
    /// Kinds this informer's component never reads (bit `Kind as u32`): their writes are
    /// delivered on time like any other (so delivery events do not move) but neither
    /// cached nor handed to the handler, as a component without an informer for the kind
    /// never sees them. Saves the cache update and handler call for each such write.
    unread: u32,
    /// The key of the last Lease renewal taken in, reused so that a renewal allocates
    /// nothing.
    renewal_key: ObjectKey,
}

impl Informer {
    pub fn new(delay: SimDuration) -> Self {
        Informer {
            cursor: 0,
            cache: Tables::default(),
            delay,
            ignored: 0,
            unread: 0,
            renewal_key: ObjectKey::default(),
        }
    }

    /// This informer does not watch `kinds`.
    pub fn ignoring(mut self, kinds: &[crate::api::Kind]) -> Self {
        for k in kinds {
            self.ignored |= 1 << (*k as u32);
        }
        self
    }

    /// This informer's component never reads `kinds` (see `unread`): their writes are not
    /// cached and not handed to the handler.
    pub fn unread(mut self, kinds: &[crate::api::Kind]) -> Self {
        for k in kinds {
            self.unread |= 1 << (*k as u32);
        }
        self
    }

    fn ignores(&self, entry: &JournalEntry) -> bool {
        match entry {
            JournalEntry::Write(w) => self.ignored & (1 << (w.obj.kind() as u32)) != 0,
            JournalEntry::Event { .. } => false,
        }
    }

    /// Passes over the ignored writes at the head of the unseen journal (delivering them
    /// would change nothing), so that the engine need not schedule a delivery for them.
    pub fn skip_ignored(&mut self, api: &ApiServer) {
        while let Some(entry) = api.journal_entry(self.cursor) {
            if !self.ignores(entry) {
                return;
            }
            self.cursor += 1;
        }
    }

    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Whether a journal entry is waiting that this informer has not seen.
    pub fn is_behind(&self, api: &ApiServer) -> bool {
        self.cursor < api.journal_end()
    }

    /// Applies every write whose delivery time has come by `now`, calling
    /// `handler(old, event, cache)` after each one is applied (`old` is the cached object the
    /// event replaced, as informer update handlers receive it). Returns the delivery time
    /// of the next pending write, if any.
    pub fn catch_up(
        &mut self,
        api: &ApiServer,
        now: SimTime,
        mut handler: impl FnMut(Option<AnyObject>, &WatchEvent, &Tables),
    ) -> Option<SimTime> {
        while let Some(entry) = api.journal_entry(self.cursor) {
            let deliver_at = entry.at().saturating_add(self.delay);
            if deliver_at > now {
                return Some(deliver_at);
            }
            self.cursor += 1;
            if self.ignores(entry) {
                continue;
            }
            if let JournalEntry::Write(w) = entry {
                if self.unread & (1 << (w.obj.kind() as u32)) != 0 {
                    continue;
                }
                if w.lease_renewal && self.renew_cached(&w.obj) {
                    continue;
                }
                let old = self.cache.apply(&w.obj, w.removed);
                handler(old, w, &self.cache);
            }
        }
        None
    }

    /// Takes a Lease renewal into the cached Lease, in place when this cache is the only
    /// holder of its version. Returns false (the write is then delivered as any other) if
    /// the Lease is not cached.
    fn renew_cached(&mut self, obj: &AnyObject) -> bool {
        let AnyObject::Lease(new) = obj else {
            return false;
        };
        let key = &mut self.renewal_key;
        key.namespace.clone_from(&new.metadata.namespace);
        key.name.clone_from(&new.metadata.name);
        let Some(cached) = self.cache.leases.get_mut(key) else {
            return false;
        };
        let lease = std::rc::Rc::make_mut(cached);
        lease.spec.renew_time = new.spec.renew_time;
        lease.metadata.generation = new.metadata.generation;
        lease
            .metadata
            .resource_version
            .clone_from(&new.metadata.resource_version);
        debug_assert!(**cached == **new, "a renewal changes nothing else");
        true
    }
}
