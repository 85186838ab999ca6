//! Informers: a component's cached view of the cluster, fed from the API server's journal.
//! Each informer sees a write only once its delivery time (write time + watch delay) has
//! come, so caches can be stale exactly as they are in a real cluster.
//!
//! Node Lease renewals (a 300-node cluster makes 30 a second) change only the Lease's
//! renewTime, generation and resourceVersion and call no handler: each is found by key in
//! the cache's Lease table (`api::IndexedTable`, a hash look-up) and changed in place.
//!
//! An informer whose component only lists Leases (the controller manager: upstream's node
//! lifecycle controller registers no Lease handler, and here no renewal calls one) can
//! take renewals when the component next reads its cache instead of at a delivery of
//! their own ([`Informer::taking_renewals_on_read`]): the cache the component reads is the
//! same, and the engine saves a delivery event per renewal (30 a second at 300 nodes).

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
    /// Lease renewals need no delivery: the component calls
    /// [`Informer::take_due_renewals`] before it reads the cache.
    renewals_on_read: bool,
}

impl Informer {
    pub fn new(delay: SimDuration) -> Self {
        Informer {
            cursor: 0,
            cache: Tables::default(),
            delay,
            ignored: 0,
            unread: 0,
            renewals_on_read: false,
        }
    }

    /// Lease renewals are taken when the component reads its cache (it must call
    /// [`Informer::take_due_renewals`] first), not delivered: [`Informer::is_behind`] and
    /// [`Informer::catch_up`]'s next delivery time pass over them.
    pub fn taking_renewals_on_read(mut self) -> Self {
        self.renewals_on_read = true;
        self
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

    /// Whether a journal entry is waiting that needs a delivery: any unseen entry, or with
    /// renewals taken on read, any unseen entry that is not a Lease renewal.
    pub fn is_behind(&self, api: &ApiServer) -> bool {
        self.cursor < self.delivery_end(api)
    }

    /// One past the newest journal entry that needs a delivery (see
    /// [`Informer::is_behind`]).
    fn delivery_end(&self, api: &ApiServer) -> u64 {
        if self.renewals_on_read {
            api.general_journal_end()
        } else {
            api.journal_end()
        }
    }

    /// The delivery time of the first unseen entry that needs a delivery (see
    /// [`Informer::is_behind`]), if any.
    fn next_delivery(&self, api: &ApiServer) -> Option<SimTime> {
        (self.cursor..self.delivery_end(api))
            .filter_map(|i| api.journal_entry(i))
            .find(|e| !(self.renewals_on_read && is_renewal(e)))
            .map(|e| e.at().saturating_add(self.delay))
    }

    /// Takes into the cache the Lease renewals whose delivery time has come by `now`, up
    /// to the first entry that is not one (a delivery takes that entry and any renewal
    /// after it). A renewal calls no handler, so the cache a component reads after this
    /// is the one deliveries at each renewal's own time would have left. Returns false if
    /// a due renewal's Lease is not in the cache: that write needs a delivery.
    pub fn take_due_renewals(&mut self, api: &ApiServer, now: SimTime) -> bool {
        while let Some(JournalEntry::Write(w)) = api.journal_entry(self.cursor) {
            let Some(hint) = w.lease_renewal else {
                return true;
            };
            if w.at.saturating_add(self.delay) > now {
                return true;
            }
            let passed_over = (self.ignored | self.unread) & (1 << (w.obj.kind() as u32)) != 0;
            if !passed_over && !self.renew_cached(&w.obj, hint) {
                return false;
            }
            self.cursor += 1;
        }
        true
    }

    /// Applies every write whose delivery time has come by `now`, calling
    /// `handler(old, event, cache)` after each one is applied (`old` is the cached object the
    /// event replaced, as informer update handlers receive it). Returns when the next
    /// delivery is needed (see [`Informer::is_behind`]), if one is.
    pub fn catch_up(
        &mut self,
        api: &ApiServer,
        now: SimTime,
        mut handler: impl FnMut(Option<AnyObject>, &WatchEvent, &Tables),
    ) -> Option<SimTime> {
        while let Some(entry) = api.journal_entry(self.cursor) {
            if entry.at().saturating_add(self.delay) > now {
                return self.next_delivery(api);
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

/// A node Lease renewal (`ApiServer::renew_lease`).
pub(super) fn is_renewal(entry: &JournalEntry) -> bool {
    matches!(entry, JournalEntry::Write(w) if w.lease_renewal.is_some())
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

    /// An informer taking renewals on read holds, after `take_due_renewals` at any time,
    /// the cache a delivering informer holds after `catch_up` at that time; it is behind,
    /// and asks for a delivery, only for writes other than renewals; and a renewal of a
    /// Lease it lacks is reported, not passed over.
    #[test]
    fn renewals_taken_on_read_leave_the_cache_deliveries_leave() {
        use crate::api::ObjectTable;
        let mut api = ApiServer::new(ApiServerConfig::default());
        let actor: Rc<str> = Rc::from("kubelet");
        let key = |n: &str| ObjectKey::new(NAMESPACE_NODE_LEASE, n);
        for n in ["a", "b"] {
            api.create(at(0), &actor, lease(NAMESPACE_NODE_LEASE, n))
                .expect("created");
        }
        let delay = SimDuration::from_millis(10);
        let mut on_read = Informer::new(delay).taking_renewals_on_read();
        let mut delivered = Informer::new(delay);
        let (mut on_read_calls, mut delivered_calls) = (0, 0);
        assert_eq!(
            on_read.catch_up(&api, at(10), |_, _, _| on_read_calls += 1),
            None
        );
        delivered.catch_up(&api, at(10), |_, _, _| delivered_calls += 1);
        let renew = |api: &mut ApiServer, n: &str, ms: u64| {
            let stored = api.get::<Lease>(&key(n)).expect("stored");
            let rv = resource_version_number(&stored.metadata.resource_version);
            let base = crate::apiserver::LeaseVersion::new(rv.expect("numeric"));
            api.renew_lease(at(ms), &actor, &key(n), base, MicroTime::at(at(ms)))
                .expect("renewed");
        };
        renew(&mut api, "a", 100);
        assert!(
            !on_read.is_behind(&api),
            "a renewal alone needs no delivery"
        );
        assert!(delivered.is_behind(&api));
        renew(&mut api, "b", 105);
        // A general write: the Lease `a` taken over by another holder.
        let mut taken = Lease::clone(api.get::<Lease>(&key("a")).expect("stored"));
        taken.spec.holder_identity = Some("other".into());
        api.update(at(110), &actor, taken).expect("updated");
        renew(&mut api, "b", 120);
        assert!(
            on_read.is_behind(&api),
            "the general write needs a delivery"
        );

        // At 112 only the first renewal is due; the second waits.
        assert!(on_read.take_due_renewals(&api, at(112)));
        delivered.catch_up(&api, at(112), |_, _, _| delivered_calls += 1);
        assert_eq!(on_read.cache.leases, delivered.cache.leases);
        assert_eq!(on_read.cursor(), delivered.cursor());
        // At 121 the second renewal and the general write are due: taking renewals
        // stops at the general write.
        assert!(on_read.take_due_renewals(&api, at(121)));
        assert_eq!(on_read.cursor(), 4, "the two creates and both renewals");

        // A delivery then takes the general write (the delivering informer the second
        // renewal too), calls the handler once, and asks for no delivery for the renewal
        // after it.
        let next = on_read.catch_up(&api, at(121), |_, _, _| on_read_calls += 1);
        let delivered_next = delivered.catch_up(&api, at(121), |_, _, _| delivered_calls += 1);
        assert_eq!((next, delivered_next), (None, Some(at(130))));
        assert_eq!(on_read_calls, delivered_calls);
        assert_eq!(on_read.cache.leases, delivered.cache.leases);
        assert!(!on_read.is_behind(&api));

        assert!(on_read.take_due_renewals(&api, at(130)));
        delivered.catch_up(&api, at(130), |_, _, _| delivered_calls += 1);
        assert_eq!(on_read.cache.leases, delivered.cache.leases);
        assert_eq!(on_read.cursor(), api.journal_end());

        // A renewal of a Lease the cache does not hold is not taken.
        on_read
            .cache
            .leases
            .remove_by_parts(NAMESPACE_NODE_LEASE, "b");
        renew(&mut api, "b", 200);
        assert!(!on_read.take_due_renewals(&api, at(210)));
        assert_eq!(on_read.cursor(), api.journal_end() - 1);
    }
}
