//! The garbage collector's API calls (upstream `operations.go`): live reads by identity,
//! deletes with the item's uid as precondition, and metadata patches (ownerReferences,
//! finalizers), for whichever stored kind an identity names.

use super::graph::Identity;
use crate::api::{AnyObject, Kind, ObjectKey, ObjectMeta};
use crate::apiserver::{ApiClient, ApiError, DeleteOptions, Propagation};

/// Every kind the API server stores (the GC's "deletable resources").
const STORED_KINDS: [Kind; Kind::ALL.len()] = Kind::ALL;

/// The API group of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
pub(super) fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The stored kind an owner reference names, matched by kind and API group.
pub(super) fn stored_kind(api_version: &str, kind: &str) -> Option<Kind> {
    STORED_KINDS
        .into_iter()
        .find(|k| k.as_str() == kind && group(k.api_version()) == group(api_version))
}

/// What a live read of an identity found.
pub(super) enum Live {
    Found(AnyObject),
    Absent,
    /// A kind the simulator does not store.
    Unknown,
}

/// A live (uncached) read of one stored object.
pub(super) fn live_get(client: &ApiClient<'_>, kind: Kind, key: &ObjectKey) -> Option<AnyObject> {
    crate::with_kind!(kind, T => client.get::<T>(key).map(<T as crate::api::Resource>::wrap))
}

// Port of `GarbageCollector.getObject`.
pub(super) fn get_object(client: &ApiClient<'_>, identity: &Identity) -> Live {
    let Some((kind, key)) = identity.key() else {
        return Live::Unknown;
    };
    match live_get(client, kind, &key) {
        Some(o) => Live::Found(o),
        None => Live::Absent,
    }
}

// Port of `GarbageCollector.deleteObject`: a delete with the item's uid as precondition.
pub(super) fn delete_object(
    client: &mut ApiClient<'_>,
    identity: &Identity,
    policy: Propagation,
) -> Result<(), ApiError> {
    let (kind, key) = identity.key().expect("only stored kinds are deleted");
    let opts = DeleteOptions {
        grace_period_seconds: None,
        precondition_uid: Some(identity.uid.clone()),
        propagation: Some(policy),
    };
    crate::with_kind!(kind, T => client.delete::<T>(&key, &opts).map(|_| ()))
}

/// The effect of the GC's metadata patches: a live read of the object with this uid, `f`
/// applied to its metadata, and an update of that version (NotFound if it is gone or has
/// another uid).
pub(super) fn patch_meta(
    client: &mut ApiClient<'_>,
    identity: &Identity,
    f: impl FnOnce(&mut ObjectMeta),
) -> Result<(), ApiError> {
    let Some((kind, key)) = identity.key() else {
        return Ok(());
    };
    let not_found = || ApiError::NotFound {
        kind,
        name: identity.name.clone(),
    };
    crate::with_kind!(kind, T => {
        let live = client.get::<T>(&key).ok_or_else(not_found)?;
        let mut next = (*live).clone();
        let meta = crate::api::Resource::meta_mut(&mut next);
        if meta.uid != identity.uid {
            return Err(not_found());
        }
        f(meta);
        client.update(next).map(|_| ())
    })
}

// Port of `GarbageCollector.removeFinalizer`: gone, or already without it, is success.
pub(super) fn remove_finalizer(
    client: &mut ApiClient<'_>,
    identity: &Identity,
    finalizer: &str,
) -> Result<(), String> {
    let result = patch_meta(client, identity, |m| {
        m.finalizers.retain(|f| f != finalizer)
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(format!(
            "cannot finalize owner {}/{}: {e}. The garbage collector will retry later",
            identity.namespace, identity.name
        )),
    }
}
