//! PersistentVolumeClaim retention: which controller ownerRefs a pod's claims must
//! carry under `persistentVolumeClaimRetentionPolicy` (to the set for whenDeleted=Delete, to
//! a scaled-down pod for whenScaled=Delete), and the cases where the controller must leave a
//! claim alone (stale refs from an earlier incarnation, another controller). The garbage
//! collector acts on these refs; the controller only keeps them right.
//!
//! Ports of the retention helpers of upstream `stateful_set_utils.go`.

use super::utils::{CONTROLLER_KIND, Gvk, POD_KIND, new_controller_ref, pod_in_ordinal_range};
use crate::api::statefulset::{StatefulSetPersistentVolumeClaimRetentionPolicy, names};
use crate::api::{ObjectMeta, OwnerReference, PersistentVolumeClaim, Pod, StatefulSet};

// Port of upstream `getPersistentVolumeClaimRetentionPolicy`: Retain/Retain when unset.
pub fn get_persistent_volume_claim_retention_policy(
    set: &StatefulSet,
) -> StatefulSetPersistentVolumeClaimRetentionPolicy {
    set.spec
        .persistent_volume_claim_retention_policy
        .clone()
        .unwrap_or_else(|| StatefulSetPersistentVolumeClaimRetentionPolicy {
            when_deleted: names::RETAIN.into(),
            when_scaled: names::RETAIN.into(),
        })
}

/// The four retention policies `isClaimOwnerUpToDate` switches on; anything else is
/// "unknown, treated as Retain" upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    RetainRetain,
    /// whenScaled Retain, whenDeleted Delete.
    RetainDelete,
    /// whenScaled Delete, whenDeleted Retain.
    DeleteRetain,
    DeleteDelete,
    Unknown,
}

/// The set's retention policy, as `isClaimOwnerUpToDate` switches on it.
pub fn retention(set: &StatefulSet) -> Retention {
    // Read in place: this runs for every claim of every pod each pass.
    let policy = set.spec.persistent_volume_claim_retention_policy.as_ref();
    let when = |f: fn(&StatefulSetPersistentVolumeClaimRetentionPolicy) -> &str| {
        policy.map_or(names::RETAIN, f)
    };
    match (when(|p| &p.when_scaled), when(|p| &p.when_deleted)) {
        (names::RETAIN, names::RETAIN) => Retention::RetainRetain,
        (names::RETAIN, names::DELETE) => Retention::RetainDelete,
        (names::DELETE, names::RETAIN) => Retention::DeleteRetain,
        (names::DELETE, names::DELETE) => Retention::DeleteDelete,
        _ => Retention::Unknown,
    }
}

// Port of upstream `matchesRef`: same group/version, kind and name (the uid is not compared).
fn matches_ref(r: &OwnerReference, obj: &ObjectMeta, gvk: Gvk) -> bool {
    r.api_version == gvk.api_version && r.kind == gvk.kind && r.name == obj.name
}

// Port of upstream `hasUnexpectedController`.
pub fn has_unexpected_controller(
    claim: &PersistentVolumeClaim,
    set: &StatefulSet,
    pod: &Pod,
) -> bool {
    if retention(set) == Retention::RetainRetain {
        // On a retain policy another controller managing the claims is no problem.
        return false;
    }
    has_foreign_controller(claim, set, pod)
}

/// The ownerRef scan of `hasUnexpectedController`, whatever the retention policy.
fn has_foreign_controller(claim: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod) -> bool {
    for r in &claim.metadata.owner_references {
        if matches_ref(r, &set.metadata, CONTROLLER_KIND) {
            if r.uid != set.metadata.uid {
                // Pods were orphaned wrongly: leave the claim to the garbage collector.
                return true;
            }
            continue;
        }
        if matches_ref(r, &pod.metadata, POD_KIND) {
            if r.uid != pod.metadata.uid {
                return true;
            }
            continue;
        }
        if r.controller == Some(true) {
            return true;
        }
    }
    false
}

// Port of upstream `hasNonControllerOwner`.
fn has_non_controller_owner(claim: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod) -> bool {
    claim.metadata.owner_references.iter().any(|r| {
        (r.uid == set.metadata.uid || r.uid == pod.metadata.uid) && r.controller != Some(true)
    })
}

// Port of upstream `hasOwnerRef`: a ref by uid, controller or not.
pub fn has_owner_ref(target: &ObjectMeta, owner: &ObjectMeta) -> bool {
    target.owner_references.iter().any(|r| r.uid == owner.uid)
}

// Port of upstream `hasStaleOwnerRef`: the first ref naming `obj` has another uid.
pub fn has_stale_owner_ref(target: &PersistentVolumeClaim, obj: &ObjectMeta, gvk: Gvk) -> bool {
    target
        .metadata
        .owner_references
        .iter()
        .find(|r| matches_ref(r, obj, gvk))
        .is_some_and(|r| r.uid != obj.uid)
}

// Port of upstream `addControllerRef`.
fn add_controller_ref(refs: &mut Vec<OwnerReference>, owner: &ObjectMeta, gvk: Gvk) {
    // Our refs were scrubbed before, so a ref with this uid is already a controller ref.
    if refs.iter().any(|r| r.uid == owner.uid) {
        return;
    }
    refs.push(new_controller_ref(owner, gvk));
}

// Port of upstream `isClaimOwnerUpToDate`, in two steps: what the
// claim's ownerRefs say about the set and pod ([`ClaimOwnerFacts::of`]), then the
// decision from those, the policy and whether the pod is scaled down
// ([`ClaimOwnerFacts::is_up_to_date`]). The controller's memo keeps the first step.
pub fn is_claim_owner_up_to_date(
    claim: &PersistentVolumeClaim,
    set: &StatefulSet,
    pod: &Pod,
) -> bool {
    ClaimOwnerFacts::of(claim, set, pod)
        .is_up_to_date(retention(set), !pod_in_ordinal_range(pod, set))
}

/// What `isClaimOwnerUpToDate` and `hasUnexpectedController` read from a claim's
/// ownerRefs for one set and one pod (their names and uids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimOwnerFacts {
    /// A ref names the set or the pod with another uid (`hasStaleOwnerRef`).
    stale: bool,
    /// The ownerRef scan of `hasUnexpectedController`.
    foreign_controller: bool,
    /// `hasNonControllerOwner`.
    non_controller_owner: bool,
    /// `hasOwnerRef` to the set, and to the pod.
    set_ref: bool,
    pod_ref: bool,
}

impl ClaimOwnerFacts {
    pub fn of(claim: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod) -> Self {
        let meta = &claim.metadata;
        ClaimOwnerFacts {
            stale: has_stale_owner_ref(claim, &set.metadata, CONTROLLER_KIND)
                || has_stale_owner_ref(claim, &pod.metadata, POD_KIND),
            foreign_controller: has_foreign_controller(claim, set, pod),
            non_controller_owner: has_non_controller_owner(claim, set, pod),
            set_ref: has_owner_ref(meta, &set.metadata),
            pod_ref: has_owner_ref(meta, &pod.metadata),
        }
    }

    /// `hasUnexpectedController` under `policy`.
    #[inline]
    pub fn has_unexpected_controller(&self, policy: Retention) -> bool {
        policy != Retention::RetainRetain && self.foreign_controller
    }

    /// `isClaimOwnerUpToDate` under `policy`, for a pod scaled down or not.
    #[inline]
    pub fn is_up_to_date(&self, policy: Retention, scaled_down: bool) -> bool {
        if self.stale {
            // Managed by a previous (presumably deleted) incarnation: do not touch it.
            return true;
        }
        if self.has_unexpected_controller(policy) {
            // Our own refs must be cleaned up; otherwise leave the other controller alone.
            return !(self.set_ref || self.pod_ref);
        }
        if self.non_controller_owner {
            return false;
        }
        let (set_ref, pod_ref) = (self.set_ref, self.pod_ref);
        match policy {
            Retention::RetainRetain | Retention::Unknown => !set_ref && !pod_ref,
            Retention::RetainDelete => set_ref && !pod_ref,
            Retention::DeleteRetain => !set_ref && scaled_down == pod_ref,
            // Scaled down: a pod ref and no set ref; in range: the other way round.
            Retention::DeleteDelete => scaled_down != set_ref && scaled_down == pod_ref,
        }
    }
}

// Port of upstream `updateClaimOwnerRefForSetAndPod`: rewrites `claim`'s refs.
pub fn update_claim_owner_ref_for_set_and_pod(
    claim: &mut PersistentVolumeClaim,
    set: &StatefulSet,
    pod: &Pod,
) {
    let unexpected_controller = has_unexpected_controller(claim, set, pod);
    // Scrub every ref to our set and pod (by name), then add back what the policy wants.
    let mut refs: Vec<OwnerReference> = claim
        .metadata
        .owner_references
        .iter()
        .filter(|r| {
            !(matches_ref(r, &set.metadata, CONTROLLER_KIND)
                || matches_ref(r, &pod.metadata, POD_KIND))
        })
        .cloned()
        .collect();
    if !unexpected_controller {
        let scaled_down = !pod_in_ordinal_range(pod, set);
        match retention(set) {
            Retention::RetainRetain | Retention::Unknown => {}
            Retention::RetainDelete => {
                add_controller_ref(&mut refs, &set.metadata, CONTROLLER_KIND)
            }
            Retention::DeleteRetain => {
                if scaled_down {
                    add_controller_ref(&mut refs, &pod.metadata, POD_KIND);
                }
            }
            Retention::DeleteDelete => {
                if scaled_down {
                    add_controller_ref(&mut refs, &pod.metadata, POD_KIND);
                } else {
                    add_controller_ref(&mut refs, &set.metadata, CONTROLLER_KIND);
                }
            }
        }
    }
    claim.metadata.owner_references = refs;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, uid: &str) -> Pod {
        let mut p = Pod {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        };
        p.metadata.uid = uid.into();
        p
    }

    fn claim_with(refs: Vec<OwnerReference>) -> PersistentVolumeClaim {
        let mut c = PersistentVolumeClaim {
            metadata: ObjectMeta::named("default", "www-web-1"),
            ..Default::default()
        };
        c.metadata.owner_references = refs;
        c
    }

    fn with_policy(scaled: &str, deleted: &str) -> StatefulSet {
        let mut s = StatefulSet {
            metadata: ObjectMeta::named("default", "web"),
            ..Default::default()
        };
        s.metadata.uid = "set-uid".into();
        s.spec.replicas = Some(2);
        s.spec.persistent_volume_claim_retention_policy =
            Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
                when_deleted: deleted.into(),
                when_scaled: scaled.into(),
            });
        s
    }

    #[test]
    fn test_claim_owner_matches_set_and_pod() {
        use names::{DELETE as D, RETAIN as R};
        let pod = named("web-1", "pod-uid");
        let condemned = named("web-5", "pod5-uid");
        // (whenScaled, whenDeleted, pod) → refs expected: (to set, to pod)
        let cases = [
            (R, R, &pod, (false, false)),
            (R, D, &pod, (true, false)),
            (D, R, &pod, (false, false)),
            (D, R, &condemned, (false, true)),
            (D, D, &pod, (true, false)),
            (D, D, &condemned, (false, true)),
            (R, D, &condemned, (true, false)),
        ];
        for (i, (scaled, deleted, p, (want_set, want_pod))) in cases.into_iter().enumerate() {
            let s = with_policy(scaled, deleted);
            let mut claim = claim_with(vec![]);
            let up_to_date = is_claim_owner_up_to_date(&claim, &s, p);
            assert_eq!(up_to_date, !want_set && !want_pod, "case {i} before");
            update_claim_owner_ref_for_set_and_pod(&mut claim, &s, p);
            assert_eq!(
                (
                    has_owner_ref(&claim.metadata, &s.metadata),
                    has_owner_ref(&claim.metadata, &p.metadata)
                ),
                (want_set, want_pod),
                "case {i}"
            );
            assert!(
                claim
                    .metadata
                    .owner_references
                    .iter()
                    .all(|r| r.controller == Some(true)),
                "case {i}"
            );
            assert!(is_claim_owner_up_to_date(&claim, &s, p), "case {i} after");
        }
    }

    #[test]
    fn test_claim_owner_special_cases() {
        let s = with_policy(names::RETAIN, names::DELETE);
        let pod = named("web-1", "pod-uid");
        // A stale ref to our set (other uid): left untouched.
        let mut stale = new_controller_ref(&s.metadata, CONTROLLER_KIND);
        stale.uid = "old-set".into();
        assert!(is_claim_owner_up_to_date(
            &claim_with(vec![stale]),
            &s,
            &pod
        ));
        // Our set as a non-controller owner: rewritten as controller.
        let mut weak = new_controller_ref(&s.metadata, CONTROLLER_KIND);
        weak.controller = Some(false);
        let mut claim = claim_with(vec![weak]);
        assert!(!is_claim_owner_up_to_date(&claim, &s, &pod));
        update_claim_owner_ref_for_set_and_pod(&mut claim, &s, &pod);
        assert_eq!(claim.metadata.owner_references[0].controller, Some(true));
        // Another controller: our refs scrubbed, none added.
        let other = OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "cm".into(),
            uid: "cm-uid".into(),
            controller: Some(true),
            block_owner_deletion: None,
        };
        let mut claim = claim_with(vec![
            other.clone(),
            new_controller_ref(&s.metadata, CONTROLLER_KIND),
        ]);
        assert!(has_unexpected_controller(&claim, &s, &pod));
        assert!(!is_claim_owner_up_to_date(&claim, &s, &pod));
        update_claim_owner_ref_for_set_and_pod(&mut claim, &s, &pod);
        assert_eq!(claim.metadata.owner_references, vec![other]);
        assert!(is_claim_owner_up_to_date(&claim, &s, &pod));
        // A non-controller foreign owner is kept beside ours.
        let mut foreign = claim.metadata.owner_references[0].clone();
        foreign.controller = None;
        let mut claim = claim_with(vec![foreign]);
        update_claim_owner_ref_for_set_and_pod(&mut claim, &s, &pod);
        assert_eq!(claim.metadata.owner_references.len(), 2);
    }
}
