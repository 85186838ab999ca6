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
//! conflict, as the general path answers) of a Lease that is not being deleted (one that
//! is goes through the general path). The
//! caller (the kubelet) uses it only for a Lease that already names its Node as owner,
//! since the general request would otherwise add that reference.

use super::{ApiError, ApiServer, JournalEntry, Verb, WatchEvent};
use crate::api::coordination::MicroTime;
use crate::api::{AnyObject, Kind, Lease, ObjectKey};
use crate::decimal::set_decimal;
use crate::time::SimTime;
use std::rc::Rc;

/// The resourceVersion of a stored object as the number the store assigned it: what
/// `rv.parse::<u64>().ok()` gives. Every Lease renewal compares its base version with the
/// stored one, so the store's own form (up to 19 plain digits, which cannot overflow) is
/// read in a tight loop — a third of `parse`'s instructions — and anything else is left
/// to `parse`.
pub fn resource_version_number(rv: &str) -> Option<u64> {
    let digits = rv.as_bytes();
    if digits.is_empty() || digits.len() > 19 {
        return rv.parse().ok();
    }
    let mut n: u64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return rv.parse().ok();
        }
        n = n * 10 + u64::from(d);
    }
    Some(n)
}

/// A stored Lease's version as its writer keeps it: the resourceVersion, and where the
/// store keeps the Lease (a hint that spares the next renewal the look-up by key; a stale
/// one only costs that look-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseVersion {
    pub rv: u64,
    pub position: u32,
}

impl LeaseVersion {
    /// Version `rv`, position not known yet.
    pub fn new(rv: u64) -> Self {
        LeaseVersion { rv, position: 0 }
    }
}

impl ApiServer {
    /// `PUT` of the Lease `key` as version `base.rv` with `spec.renewTime` = `renew_time`
    /// and nothing else changed; returns the version now stored. The outcome (errors, a
    /// no-op for an unchanged renewTime, the stored object and journal entry) is the one
    /// [`ApiServer::update`] gives for that request.
    pub fn renew_lease(
        &mut self,
        now: SimTime,
        actor: &Rc<str>,
        key: &ObjectKey,
        base: LeaseVersion,
        renew_time: MicroTime,
    ) -> Result<LeaseVersion, ApiError> {
        self.take_injected(actor, Verb::Update, Kind::Lease)?;
        let rv = base.rv;
        let Some((position, stored)) =
            self.objects
                .leases
                .get_mut_hinted(base.position, &key.namespace, &key.name)
        else {
            return Err(ApiError::NotFound {
                kind: Kind::Lease,
                name: key.name.clone(),
            });
        };
        if resource_version_number(&stored.metadata.resource_version) != Some(rv) {
            return Err(ApiError::Conflict {
                kind: Kind::Lease,
                name: key.name.clone(),
            });
        }
        if stored.spec.renew_time == Some(renew_time) {
            // A no-op update writes nothing.
            return Ok(LeaseVersion { rv, position });
        }
        if stored.metadata.deletion_timestamp.is_some() {
            // A Lease being deleted: the general path (its write may finish the deletion).
            let mut next = Lease::clone(stored);
            next.spec.renew_time = Some(renew_time);
            let written = self.write_update(now, actor, next)?;
            let rv = resource_version_number(&written.metadata.resource_version);
            let rv = rv.expect("the store assigns numeric resourceVersions");
            return Ok(LeaseVersion::new(rv));
        }
        self.resource_version += 1;
        let lease = Rc::make_mut(stored);
        lease.spec.renew_time = Some(renew_time);
        // renewTime is spec: a spec change bumps the generation.
        lease.metadata.generation += 1;
        set_decimal(&mut lease.metadata.resource_version, self.resource_version);
        let obj = AnyObject::Lease(Rc::clone(stored));
        self.push(JournalEntry::Write(WatchEvent {
            at: now,
            verb: Verb::Update,
            removed: false,
            obj,
            actor: Rc::clone(actor),
            lease_renewal: Some(position),
        }));
        Ok(LeaseVersion {
            rv: self.resource_version,
            position,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::LeaseVersion;
    use crate::api::coordination::{LeaseSpec, MicroTime, NAMESPACE_NODE_LEASE};
    use crate::api::{Lease, ObjectKey, ObjectMeta, OwnerReference};
    use crate::apiserver::{
        ApiServer, ApiServerConfig, InjectedFailure, JournalEntry, Verb, resource_version_number,
    };
    use crate::time::{SimDuration, SimTime};
    use std::rc::Rc;

    #[test]
    fn resource_version_numbers_read_as_parse_reads_them() {
        for rv in [
            "",
            "0",
            "7",
            "42",
            "0042",
            "1234567",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "+5",
            "-5",
            "12a",
            " 1",
            "1 ",
            "٣",
        ] {
            assert_eq!(resource_version_number(rv), rv.parse().ok(), "{rv:?}");
        }
    }

    fn server() -> (ApiServer, Rc<str>, u64) {
        let mut api = ApiServer::new(ApiServerConfig::default());
        let actor: Rc<str> = Rc::from("kubelet/n1");
        let mut meta = ObjectMeta::named(NAMESPACE_NODE_LEASE, "n1");
        meta.owner_references.push(OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: "n1".into(),
            uid: "u".into(),
            controller: None,
            block_owner_deletion: None,
        });
        let lease = Lease {
            api_version: "coordination.k8s.io/v1".into(),
            kind: "Lease".into(),
            metadata: meta,
            spec: LeaseSpec {
                holder_identity: Some("n1".into()),
                renew_time: Some(MicroTime::at(SimTime::ZERO)),
                ..Default::default()
            },
        };
        let created = api.create(SimTime::ZERO, &actor, lease).expect("created");
        let rv = resource_version_number(&created.metadata.resource_version).expect("numeric");
        (api, actor, rv)
    }

    fn last_write(api: &ApiServer) -> (Verb, bool, Lease) {
        match api.journal_entry(api.journal_end() - 1) {
            Some(JournalEntry::Write(w)) => match &w.obj {
                crate::api::AnyObject::Lease(l) => (w.verb, w.removed, Lease::clone(l)),
                _ => panic!("a Lease"),
            },
            _ => panic!("a write"),
        }
    }

    /// The renewal path stores and journals what the general update stores for the same
    /// request, and fails the same way.
    #[test]
    fn renew_lease_writes_what_update_writes() {
        let key = ObjectKey::new(NAMESPACE_NODE_LEASE, "n1");
        let t = SimTime::ZERO + SimDuration::from_millis(10_123);
        let (mut fast, actor, rv) = server();
        let (mut slow, _, _) = server();
        let mut request = Lease::clone(slow.get::<Lease>(&key).expect("stored"));
        request.spec.renew_time = Some(MicroTime::at(t));
        let general = slow.update(t, &actor, request).expect("updated");
        let renewed = fast.renew_lease(t, &actor, &key, LeaseVersion::new(rv), MicroTime::at(t));
        assert_eq!(
            renewed.ok().map(|v| v.rv),
            resource_version_number(&general.metadata.resource_version)
        );
        assert_eq!(fast.get::<Lease>(&key), slow.get::<Lease>(&key));
        assert_eq!(fast.resource_version(), slow.resource_version());
        assert_eq!(last_write(&fast), last_write(&slow));

        // The same renewTime again: no write.
        let end = fast.journal_end();
        let new_rv = fast.resource_version();
        let new_rv = LeaseVersion::new(new_rv);
        assert_eq!(
            fast.renew_lease(t, &actor, &key, new_rv, MicroTime::at(t))
                .map(|v| v.rv),
            Ok(new_rv.rv)
        );
        assert_eq!(fast.journal_end(), end);

        // An old version conflicts; a missing Lease is not found; injected failures apply.
        let stale = fast.renew_lease(
            t,
            &actor,
            &key,
            LeaseVersion::new(rv),
            MicroTime::at(t + SimDuration::from_secs(10)),
        );
        assert!(stale.is_err_and(|e| e.is_conflict()));
        let other = ObjectKey::new(NAMESPACE_NODE_LEASE, "n2");
        let missing = fast.renew_lease(t, &actor, &other, new_rv, MicroTime::at(t));
        assert!(missing.is_err_and(|e| e.is_not_found()));
        fast.inject_failure(InjectedFailure::next(
            &actor,
            Verb::Update,
            crate::api::Kind::Lease,
        ));
        let later = MicroTime::at(t + SimDuration::from_secs(10));
        assert!(fast.renew_lease(t, &actor, &key, new_rv, later).is_err());
        assert!(fast.renew_lease(t, &actor, &key, new_rv, later).is_ok());
    }
}
