//! The pods of each claim: the index the attach/detach controller's pod informer keeps
//! (`podPVCIndexFunc` with `getPodsFromPVCIndex`, `pkg/controller/volume/common`), so that
//! a claim that becomes bound (`syncPVCByKey`) finds the pods using it without walking
//! every pod of its namespace.
//!
//! It is fed by the controller's own pod watch events. Within one delivered batch the
//! informer cache already holds the whole batch while the index holds the events handled
//! so far: a pod whose add comes after its claim's binding in the same batch is handled by
//! its own add event instead, which `ProcessPodVolumes` makes the same.

use crate::api::key_ref::get_by_parts;
use crate::api::{ObjectKey, Pod};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
pub struct PodClaimIndex {
    /// Per claim (namespace/name): the names of the pods in that namespace using it.
    by_claim: BTreeMap<ObjectKey, BTreeSet<String>>,
}

impl PodClaimIndex {
    /// A pod watch event. A pod's volumes never change, so an update changes nothing.
    pub fn observe(&mut self, pod: &Pod, removed: bool) {
        let ns = &pod.metadata.namespace;
        let name = &pod.metadata.name;
        for claim in pod.claim_names() {
            if removed {
                let key = ObjectKey::new(ns, claim);
                if let Some(pods) = self.by_claim.get_mut(&key) {
                    pods.remove(name);
                    if pods.is_empty() {
                        self.by_claim.remove(&key);
                    }
                }
            } else if !get_by_parts(&self.by_claim, ns, claim).is_some_and(|p| p.contains(name)) {
                self.by_claim
                    .entry(ObjectKey::new(ns, claim))
                    .or_default()
                    .insert(name.clone());
            }
        }
    }

    /// The names of the pods using claim `namespace/claim`, in name order.
    pub fn pods_using<'a>(
        &'a self,
        namespace: &str,
        claim: &str,
    ) -> impl Iterator<Item = &'a String> + 'a {
        get_by_parts(&self.by_claim, namespace, claim)
            .into_iter()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{PersistentVolumeClaimVolumeSource, Volume};

    fn pod(name: &str, claims: &[&str]) -> Pod {
        let mut p = Pod::default();
        p.metadata.namespace = "default".into();
        p.metadata.name = name.into();
        p.spec.volumes = claims
            .iter()
            .map(|c| Volume {
                name: format!("v-{c}"),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: c.to_string(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        p
    }

    fn using(ix: &PodClaimIndex, claim: &str) -> Vec<String> {
        ix.pods_using("default", claim).cloned().collect()
    }

    #[test]
    fn finds_the_users_of_a_claim_in_name_order_and_forgets_deleted_pods() {
        let mut ix = PodClaimIndex::default();
        ix.observe(&pod("web-1", &["www-web-1", "shared"]), false);
        ix.observe(&pod("web-0", &["www-web-0", "shared"]), false);
        ix.observe(&pod("web-1", &["www-web-1", "shared"]), false);
        assert_eq!(using(&ix, "shared"), ["web-0", "web-1"]);
        assert_eq!(using(&ix, "www-web-1"), ["web-1"]);
        assert!(using(&ix, "www-web-2").is_empty());
        ix.observe(&pod("web-1", &["www-web-1", "shared"]), true);
        assert_eq!(using(&ix, "shared"), ["web-0"]);
        assert!(using(&ix, "www-web-1").is_empty());
        assert!(ix.pods_using("other", "shared").next().is_none());
    }
}
