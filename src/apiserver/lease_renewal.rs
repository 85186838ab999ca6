//! The kubelet's node Lease renewal as a cheap write.
//!
//! A 300-node cluster renews 2.6 million Leases a day, each a `PUT` of the Lease the
//! kubelet last wrote with only `spec.renewTime` changed. Through the general
//! [`ApiServer::update`] each would build a fresh Lease, run the strategy hooks (none do
//! anything for a Lease), compare the whole object and store a new `Rc`. This path writes
//! the very same version — the same resourceVersion, generation (renewTime is spec, so it
//! goes up by one) and content — by changing the stored Lease in place: no allocation
//! while nobody else holds that version (the journal drops its entry once every informer
//! has passed it, long before the next renewal 10 s later).
//!
//! The journal entry is an ordinary update marked [`WatchEvent::lease_renewal`], so the
//! trace, the counts and the informers see the write as before; the marker lets an
//! informer renew its cached copy in place and spares the controllers a renewal's
//! fan-out (`informer.rs`).
//!
//! Only the common case runs here: a request whose base is the stored version (else a
//! conflict, as the general path answers) of a Lease that is not being deleted. The
//! caller (the kubelet) uses it only for a Lease that already names its Node as owner,
//! since the general request would otherwise add that reference.

use super::{ApiError, ApiServer, JournalEntry, Verb, WatchEvent};
use crate::api::coordination::MicroTime;
use crate::api::{AnyObject, Kind, Lease, ObjectKey};
use crate::time::SimTime;
use std::fmt::Write;
use std::rc::Rc;

/// The resourceVersion of a stored object as the number the store assigned it.
pub fn resource_version_number(rv: &str) -> Option<u64> {
    rv.parse().ok()
}

impl ApiServer {
    /// `PUT` of the Lease `key` as version `rv` with `spec.renewTime` = `renew_time` and
    /// nothing else changed; returns the resourceVersion now stored. The outcome (errors,
    /// a no-op for an unchanged renewTime, the stored object and journal entry) is the
    /// one [`ApiServer::update`] gives for that request.
    pub fn renew_lease(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        key: &ObjectKey,
        rv: u64,
        renew_time: MicroTime,
    ) -> Result<u64, ApiError> {
        let matches = |l: &Lease| resource_version_number(&l.metadata.resource_version) == Some(rv);
        if let Some(stored) = self.objects.leases.get(key)
            && matches(stored)
            && stored.metadata.deletion_timestamp.is_some()
        {
            // A Lease being deleted: the general path (its write may finish the deletion).
            let mut next = (**stored).clone();
            next.spec.renew_time = Some(renew_time);
            let written = self.update(now, actor, next)?;
            let rv = resource_version_number(&written.metadata.resource_version);
            return Ok(rv.expect("the store assigns numeric resourceVersions"));
        }
        self.take_injected(actor, Verb::Update, Kind::Lease)?;
        let Some(stored) = self.objects.leases.get_mut(key) else {
            return Err(ApiError::NotFound {
                kind: Kind::Lease,
                name: key.name.clone(),
            });
        };
        if !matches(stored) {
            return Err(ApiError::Conflict {
                kind: Kind::Lease,
                name: key.name.clone(),
            });
        }
        if stored.spec.renew_time == Some(renew_time) {
            // A no-op update writes nothing.
            return Ok(rv);
        }
        self.resource_version += 1;
        let lease = Rc::make_mut(stored);
        lease.spec.renew_time = Some(renew_time);
        // renewTime is spec: a spec change bumps the generation.
        lease.metadata.generation += 1;
        let stored_rv = &mut lease.metadata.resource_version;
        stored_rv.clear();
        write!(stored_rv, "{}", self.resource_version).expect("writing to a String");
        let obj = AnyObject::Lease(Rc::clone(stored));
        self.push(JournalEntry::Write(WatchEvent {
            at: now,
            verb: Verb::Update,
            removed: false,
            obj,
            actor: Rc::clone(actor),
            lease_renewal: true,
        }));
        Ok(self.resource_version)
    }
}
