//! Informers: a component's cached view of the cluster, fed from the API server's journal.
//! Each informer sees a write only once its delivery time (write time + watch delay) has
//! come, so caches can be stale exactly as they are in a real cluster.
//!
//! Node Lease renewals (a 300-node cluster makes 30 a second) change only the Lease's
//! renewTime, generation and resourceVersion and call no handler: each is found by key in
//! the cache's Lease table (`api::IndexedTable`, a hash look-up) and changed in place.

use super::{ApiServer, JournalEntry, WatchEvent};
use crate::api::{AnyObject, Lease, Tables};
use crate::time::{SimDuration, SimTime};
use std::rc::Rc;

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
}

impl Informer {
    pub fn new(delay: SimDuration) -> Self {
        Informer {
            cursor: 0,
            cache: Tables::default(),
            delay,
            ignored: 0,
            unread: 0,
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
                if let Some(hint) = w.lease_renewal
                    && self.renew_cached(&w.obj, hint)
                {
                    continue;
                }
                let old = self.cache.apply(&w.obj, w.removed);
                handler(old, w, &self.cache);
            }
        }
        None
    }

    /// Takes a Lease renewal into the cached Lease, in place when this cache is the only
    /// holder of its version. `hint` is where the API server keeps the Lease (see
    /// `WatchEvent::lease_renewal`). Returns false (the write is then delivered as any
    /// other) if the Lease is not cached.
    fn renew_cached(&mut self, obj: &AnyObject, hint: u32) -> bool {
        let AnyObject::Lease(new) = obj else {
            return false;
        };
        let meta = &new.metadata;
        let Some((_, cached)) = self
            .cache
            .leases
            .get_mut_hinted(hint, &meta.namespace, &meta.name)
        else {
            return false;
        };
        renew_in_place(cached, new);
        true
    }
}

/// The cached Lease `cached` becomes the renewal `new` (in place when this cache is the
/// only holder of its version): only renewTime, generation and resourceVersion differ.
fn renew_in_place(cached: &mut Rc<Lease>, new: &Lease) {
    let lease = Rc::make_mut(cached);
    lease.spec.renew_time = new.spec.renew_time;
    lease.metadata.generation = new.metadata.generation;
    lease
        .metadata
        .resource_version
        .clone_from(&new.metadata.resource_version);
    debug_assert!(**cached == *new, "a renewal changes nothing else");
}

#[cfg(test)]
mod tests {
    use super::Informer;
    use crate::api::coordination::{LeaseSpec, MicroTime, NAMESPACE_NODE_LEASE};
    use crate::api::{Lease, ObjectKey, ObjectMeta};
    use crate::apiserver::{ApiServer, ApiServerConfig, resource_version_number};
    use crate::time::{SimDuration, SimTime};
    use std::rc::Rc;

    fn at(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    fn lease(namespace: &str, name: &str) -> Lease {
        Lease {
            api_version: "coordination.k8s.io/v1".into(),
            kind: "Lease".into(),
            metadata: ObjectMeta::named(namespace, name),
            spec: LeaseSpec {
                holder_identity: Some(name.into()),
                renew_time: Some(MicroTime::at(SimTime::ZERO)),
                ..Default::default()
            },
        }
    }

    /// Renewals changed in place in the cache leave it as applying each as a general
    /// write would (`Tables::apply`), and call no handler: renewals of many Leases, two of
    /// one Lease in a row, one in another namespace, and a general update of a renewed
    /// Lease in between.
    #[test]
    fn renewals_in_place_end_in_the_cache_general_writes_make() {
        let mut api = ApiServer::new(ApiServerConfig::default());
        let actor: Rc<str> = Rc::from("kubelet");
        let mut keys = Vec::new();
        for i in 0..40 {
            let name = format!("node-{:02}", (i * 7) % 40);
            api.create(at(0), &actor, lease(NAMESPACE_NODE_LEASE, &name))
                .expect("created");
            keys.push(ObjectKey::new(NAMESPACE_NODE_LEASE, &name));
        }
        api.create(at(0), &actor, lease("kube-system", "other"))
            .expect("created");
        keys.push(ObjectKey::new("kube-system", "other"));
        let delay = SimDuration::from_millis(10);
        let mut informer = Informer::new(delay);
        let mut reference = crate::api::Tables::default();
        let mut applied = 0;
        let (mut calls, mut general) = (0, 0);
        let renew = |api: &mut ApiServer, key: &ObjectKey, ms: u64| {
            let rv = resource_version_number(
                &api.get::<Lease>(key)
                    .expect("stored")
                    .metadata
                    .resource_version,
            )
            .expect("numeric");
            let base = crate::apiserver::LeaseVersion::new(rv);
            api.renew_lease(at(ms), &actor, key, base, MicroTime::at(at(ms)))
                .expect("renewed");
        };
        let mut ms = 100;
        // Batches: every Lease twice over, three Leases, then the other namespace among
        // node Leases, each delivered and read.
        let batches: Vec<Vec<usize>> = vec![
            (0..40).chain(0..40).collect(),
            vec![3, 17, 3],
            vec![
                40, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
            ],
        ];
        for batch in &batches {
            for &i in batch {
                ms += 1;
                renew(&mut api, &keys[i], ms);
            }
            if batch.len() == 3 {
                // A general update of a renewed Lease: its delivery replaces the Lease.
                let mut l = Lease::clone(api.get::<Lease>(&keys[3]).expect("stored"));
                l.spec.holder_identity = Some("someone-else".into());
                ms += 1;
                api.update(at(ms), &actor, l).expect("updated");
                ms += 1;
                renew(&mut api, &keys[3], ms);
            }
            ms += 100;
            informer.catch_up(&api, at(ms), |_, _, _| calls += 1);
            while let Some(crate::apiserver::JournalEntry::Write(w)) = api.journal_entry(applied) {
                reference.apply(&w.obj, w.removed);
                general += u32::from(w.lease_renewal.is_none());
                applied += 1;
            }
            assert_eq!(informer.cache.leases, reference.leases);
            assert_eq!(calls, general, "a handler call for each general write only");
        }
    }
}
