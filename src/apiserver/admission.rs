//! Admission and validation of PersistentVolumeClaims that need other objects or the old
//! claim: the `DefaultStorageClass` admission plugin (a claim without a class gets the
//! default one), `ValidatePersistentVolumeClaimUpdate` (a claim's spec is immutable but
//! for a bound claim's storage request, which may only grow, and the binding fields) and
//! the `PersistentVolumeClaimResize` admission plugin (growing a claim needs a class that
//! allows volume expansion).

use super::ApiError;
use crate::api::storage::{PersistentVolumeClaimSpec, VolumeResourceRequirements};
use crate::api::{PersistentVolumeClaim, Quantity, StorageClass, Tables};
use std::collections::BTreeMap;

/// The beta annotation that also names a claim's class.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// `util.GetDefaultClass`: the default class; of several, the newest (then by name).
fn default_class(objects: &Tables) -> Option<&StorageClass> {
    objects
        .storage_classes
        .values()
        .filter(|c| c.is_default())
        .max_by_key(|c| {
            (
                c.metadata.creation_timestamp,
                std::cmp::Reverse(c.metadata.name.clone()),
            )
        })
        .map(|c| &**c)
}

/// `DefaultStorageClass` (`plugin/pkg/admission/storage/storageclass/setdefault`).
pub fn default_storage_class(claim: &mut PersistentVolumeClaim, objects: &Tables) {
    let has_class = claim.spec.storage_class_name.is_some()
        || claim.metadata.annotations.contains_key(BETA_STORAGE_CLASS);
    if has_class {
        return;
    }
    if let Some(class) = default_class(objects) {
        claim.spec.storage_class_name = Some(class.metadata.name.clone());
    }
}

fn storage_bytes(claim: &PersistentVolumeClaim) -> i128 {
    claim.requested_storage().map_or(0, |q| q.units())
}

/// `ValidatePersistentVolumeClaimUpdate`, the part that matters here.
pub fn validate_claim_update(
    new: &PersistentVolumeClaim,
    old: &PersistentVolumeClaim,
) -> Result<(), String> {
    if !claim_spec_update_allowed(new, old) {
        return Err(
            "spec: Forbidden: spec is immutable after creation except resources.requests and \
                    volumeAttributesClassName for bound claims"
                .into(),
        );
    }
    if storage_bytes(new) < storage_bytes(old) {
        return Err(
            "spec.resources.requests.storage: Forbidden: field can not be less than previous value"
                .into(),
        );
    }
    Ok(())
}

/// Upstream copies both specs, lets the copy of the old one take the binding fields set
/// once (`volumeName` by the PV controller; a class for a claim without one: retroactive
/// default class), lets a bound claim's storage request change (expansion) and the new
/// spec take the old volumeMode if it has none, then compares the copies. This is that
/// comparison field by field, without the copies. The specs are taken apart whole, so that
/// a field added to them does not compile until it is placed here.
fn claim_spec_update_allowed(new: &PersistentVolumeClaim, old: &PersistentVolumeClaim) -> bool {
    let PersistentVolumeClaimSpec {
        access_modes,
        selector,
        resources: VolumeResourceRequirements { requests, limits },
        volume_name,
        storage_class_name,
        volume_mode,
    } = &new.spec;
    let o = &old.spec;
    let same_requests = if old.status.phase == "Bound" {
        but_storage(requests).eq(but_storage(&o.resources.requests))
    } else {
        *requests == o.resources.requests
    };
    *access_modes == o.access_modes
        && *selector == o.selector
        && same_requests
        && *limits == o.resources.limits
        && (o.volume_name.is_empty() || *volume_name == o.volume_name)
        && (o.storage_class_name.is_none() || *storage_class_name == o.storage_class_name)
        && (volume_mode.is_none() || *volume_mode == o.volume_mode)
}

/// A claim's resource requests other than `storage`, in key order.
fn but_storage(
    requests: &BTreeMap<String, Quantity>,
) -> impl Iterator<Item = (&String, &Quantity)> {
    requests.iter().filter(|(k, _)| k.as_str() != "storage")
}

/// `PersistentVolumeClaimResize` (`plugin/pkg/admission/storage/persistentvolume/resize`):
/// a claim may grow only if it is bound and its class allows volume expansion.
pub fn claim_resize(
    new: &PersistentVolumeClaim,
    old: &PersistentVolumeClaim,
    objects: &Tables,
) -> Result<(), ApiError> {
    if storage_bytes(new) <= storage_bytes(old) {
        return Ok(());
    }
    let forbidden = |why: &str| ApiError::Forbidden {
        message: format!(
            "persistentvolumeclaims {:?} is forbidden: {why}",
            new.metadata.name
        ),
    };
    if old.status.phase != "Bound" {
        return Err(forbidden(
            "Only bound persistent volume claims can be expanded",
        ));
    }
    // `allowResize`: the same class before and after, and it allows expansion.
    let class = new.spec.storage_class_name.as_deref().unwrap_or("");
    let allowed = !class.is_empty()
        && old.spec.storage_class_name.as_deref() == Some(class)
        && objects
            .storage_classes
            .get(&crate::api::ObjectKey::cluster(class))
            .is_some_and(|c| c.allow_volume_expansion == Some(true));
    if !allowed {
        return Err(forbidden(
            "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ObjectKey, Quantity};
    use std::rc::Rc;

    fn claim(size: &str, phase: &str) -> PersistentVolumeClaim {
        let mut c = PersistentVolumeClaim::default();
        c.metadata.name = "data".into();
        c.spec.storage_class_name = Some("gp3".into());
        c.spec
            .resources
            .requests
            .insert("storage".into(), Quantity(size.into()));
        c.status.phase = phase.into();
        c
    }

    fn tables(expand: Option<bool>) -> Tables {
        let mut t = Tables::default();
        let mut class = StorageClass::default();
        class.metadata.name = "gp3".into();
        class.allow_volume_expansion = expand;
        t.storage_classes
            .insert(ObjectKey::cluster("gp3"), Rc::new(class));
        t
    }

    #[test]
    fn only_bound_claims_of_expandable_classes_grow() {
        let old = claim("10Gi", "Bound");
        let new = claim("20Gi", "Bound");
        assert!(validate_claim_update(&new, &old).is_ok());
        assert!(claim_resize(&new, &old, &tables(Some(true))).is_ok());
        let err = claim_resize(&new, &old, &tables(None)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "persistentvolumeclaims \"data\" is forbidden: only dynamically provisioned pvc can be \
             resized and the storageclass that provisions the pvc must support resize"
        );
        let shrink = claim("5Gi", "Bound");
        assert!(
            validate_claim_update(&shrink, &old)
                .unwrap_err()
                .contains("can not be less")
        );
        let pending = claim("10Gi", "Pending");
        assert!(
            validate_claim_update(&claim("20Gi", "Pending"), &pending)
                .unwrap_err()
                .starts_with("spec: Forbidden: spec is immutable")
        );
    }

    #[test]
    fn claims_without_a_class_get_the_default_one() {
        let mut t = tables(None);
        let mut c = PersistentVolumeClaim::default();
        default_storage_class(&mut c, &t);
        assert_eq!(c.spec.storage_class_name, None, "no default class");
        let mut def = StorageClass::default();
        def.metadata.name = "standard".into();
        def.metadata.annotations.insert(
            crate::api::storage::ANNOTATION_DEFAULT_CLASS.into(),
            "true".into(),
        );
        t.storage_classes
            .insert(ObjectKey::cluster("standard"), Rc::new(def));
        default_storage_class(&mut c, &t);
        assert_eq!(c.spec.storage_class_name.as_deref(), Some("standard"));
        let mut explicit = PersistentVolumeClaim::default();
        explicit.spec.storage_class_name = Some(String::new());
        default_storage_class(&mut explicit, &t);
        assert_eq!(explicit.spec.storage_class_name.as_deref(), Some(""));
    }
}

#[cfg(test)]
mod spec_tests {
    use super::*;

    /// Upstream's way, which `claim_spec_update_allowed` must agree with.
    fn by_copy(new: &PersistentVolumeClaim, old: &PersistentVolumeClaim) -> bool {
        let mut new_spec = new.spec.clone();
        let mut old_spec = old.spec.clone();
        if old_spec.volume_name.is_empty() {
            old_spec.volume_name = new_spec.volume_name.clone();
        }
        if old_spec.storage_class_name.is_none() {
            old_spec.storage_class_name = new_spec.storage_class_name.clone();
        }
        if old.status.phase == "Bound" {
            match old.spec.resources.requests.get("storage") {
                Some(q) => {
                    new_spec
                        .resources
                        .requests
                        .insert("storage".into(), q.clone());
                }
                None => {
                    new_spec.resources.requests.remove("storage");
                }
            }
        }
        if new_spec.volume_mode.is_none() {
            new_spec.volume_mode = old_spec.volume_mode.clone();
        }
        new_spec == old_spec
    }

    #[test]
    fn claim_update_validation_agrees_with_the_copy_and_compare() {
        let q = |s: &str| Quantity(s.into());
        let edits: Vec<fn(&mut PersistentVolumeClaim)> = vec![
            |_| {},
            |c| {
                c.spec
                    .resources
                    .requests
                    .insert("storage".into(), Quantity("20Gi".into()));
            },
            |c| {
                c.spec.resources.requests.remove("storage");
            },
            |c| {
                c.spec
                    .resources
                    .requests
                    .insert("other".into(), Quantity("1".into()));
            },
            |c| {
                c.spec
                    .resources
                    .limits
                    .insert("storage".into(), Quantity("1".into()));
            },
            |c| c.spec.volume_name = "pv-1".into(),
            |c| c.spec.volume_name = "pv-2".into(),
            |c| c.spec.storage_class_name = None,
            |c| c.spec.storage_class_name = Some("other".into()),
            |c| c.spec.volume_mode = None,
            |c| c.spec.volume_mode = Some("Block".into()),
            |c| c.spec.access_modes.push("ReadWriteOnce".into()),
        ];
        for phase in ["Pending", "Bound"] {
            for (volume, class, storage) in [
                ("", None, Some("10Gi")),
                ("pv-1", Some("gp3"), Some("10Gi")),
                ("pv-1", Some("gp3"), None),
            ] {
                let mut old = PersistentVolumeClaim::default();
                old.status.phase = phase.into();
                old.spec.volume_name = volume.into();
                old.spec.storage_class_name = class.map(Into::into);
                old.spec.volume_mode = Some("Filesystem".into());
                if let Some(s) = storage {
                    old.spec.resources.requests.insert("storage".into(), q(s));
                }
                for first in &edits {
                    for second in &edits {
                        let mut new = old.clone();
                        first(&mut new);
                        second(&mut new);
                        assert_eq!(
                            claim_spec_update_allowed(&new, &old),
                            by_copy(&new, &old),
                            "{phase} {:?} -> {:?}",
                            old.spec,
                            new.spec
                        );
                    }
                }
            }
        }
    }
}
