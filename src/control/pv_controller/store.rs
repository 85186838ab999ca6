//! The controller's own store of volumes (upstream `ctrl.volumes.store`): the newest
//! version of each volume seen or written, by name — with an index by `claimRef`, so that
//! `findBestMatchForClaim` looks only at the volumes that can serve a claim instead of
//! every volume of the cluster (not upstream; it changes no answer).
//!
//! Why the index is exact: `FindMatchingVolume` skips every volume whose `claimRef` is set
//! and does not name the claim (`claimRef.namespace`/`name` other than the claim's; a uid
//! mismatch is checked by `isVolumeBoundToClaim` itself). The volumes it can return are
//! therefore those without a `claimRef` and those whose `claimRef` names the claim, and
//! [`VolumeStore::candidates_for`] yields exactly these, in name order as the full store
//! does, so the grouping and order of the search are unchanged.

use crate::api::key_ref::KeyRef;
use crate::api::{ObjectKey, PersistentVolume, PersistentVolumeClaim};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A `claimRef`'s namespace and name (looked up borrowed, as `dyn KeyRef`).
type ClaimName = ObjectKey;

#[derive(Debug, Default)]
pub struct VolumeStore {
    volumes: BTreeMap<String, Rc<PersistentVolume>>,
    /// Volumes without a `claimRef`, by name.
    unclaimed: BTreeMap<String, Rc<PersistentVolume>>,
    /// Volumes with a `claimRef`, by the claim it names, then by volume name.
    by_claim: BTreeMap<ClaimName, BTreeMap<String, Rc<PersistentVolume>>>,
}

fn claim_name(v: &PersistentVolume) -> Option<(&str, &str)> {
    let r = v.spec.claim_ref.as_ref()?;
    Some((r.namespace.as_str(), r.name.as_str()))
}

impl VolumeStore {
    pub fn get(&self, name: &str) -> Option<&Rc<PersistentVolume>> {
        self.volumes.get(name)
    }

    /// Stores `v` under its name, replacing the version held.
    pub fn insert(&mut self, v: &Rc<PersistentVolume>) {
        let name = v.metadata.name.as_str();
        // A new version that names the same claim (most writes: phase, annotations) takes
        // the old one's places without re-indexing or allocating keys.
        if let Some(old) = self.volumes.get_mut(name)
            && claim_name(old) == claim_name(v)
        {
            *old = Rc::clone(v);
            let slot = match claim_name(v) {
                None => self.unclaimed.get_mut(name),
                Some(claim) => self
                    .by_claim
                    .get_mut(&claim as &dyn KeyRef)
                    .and_then(|vs| vs.get_mut(name)),
            };
            *slot.expect("an indexed volume is in its index") = Rc::clone(v);
            return;
        }
        self.unindex(name);
        match claim_name(v) {
            None => {
                self.unclaimed.insert(name.to_string(), Rc::clone(v));
            }
            Some((namespace, claim)) => {
                self.by_claim
                    .entry(ObjectKey::new(namespace, claim))
                    .or_default()
                    .insert(name.to_string(), Rc::clone(v));
            }
        }
        self.volumes.insert(name.to_string(), Rc::clone(v));
    }

    pub fn remove(&mut self, name: &str) {
        self.unindex(name);
        self.volumes.remove(name);
    }

    fn unindex(&mut self, name: &str) {
        let Some(old) = self.volumes.get(name) else {
            return;
        };
        match claim_name(old) {
            None => {
                self.unclaimed.remove(name);
            }
            Some(claim) => {
                let claim = &claim as &dyn KeyRef;
                if let Some(vs) = self.by_claim.get_mut(claim) {
                    vs.remove(name);
                    if vs.is_empty() {
                        self.by_claim.remove(claim);
                    }
                }
            }
        }
    }

    /// The volumes `FindMatchingVolume` may return for `claim` (see the module notes), in
    /// name order.
    pub fn candidates_for(
        &self,
        claim: &PersistentVolumeClaim,
    ) -> impl Iterator<Item = &Rc<PersistentVolume>> {
        let key = (
            claim.metadata.namespace.as_str(),
            claim.metadata.name.as_str(),
        );
        let named = self.by_claim.get(&key as &dyn KeyRef).into_iter().flatten();
        let mut a = self.unclaimed.iter().peekable();
        let mut b = named.peekable();
        std::iter::from_fn(move || match (a.peek(), b.peek()) {
            (Some((x, _)), Some((y, _))) if x <= y => a.next().map(|(_, v)| v),
            (_, Some(_)) => b.next().map(|(_, v)| v),
            (Some(_), None) => a.next().map(|(_, v)| v),
            (None, None) => None,
        })
    }

    /// Every volume, in name order.
    #[cfg(test)]
    pub fn values(&self) -> impl Iterator<Item = &Rc<PersistentVolume>> {
        self.volumes.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ObjectMeta, ObjectReference};

    fn pv(name: &str, claim: Option<(&str, &str)>) -> Rc<PersistentVolume> {
        let mut v = PersistentVolume {
            metadata: ObjectMeta::named("", name),
            ..Default::default()
        };
        v.spec.claim_ref = claim.map(|(ns, n)| ObjectReference {
            namespace: ns.into(),
            name: n.into(),
            ..Default::default()
        });
        Rc::new(v)
    }

    fn claim(ns: &str, name: &str) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta::named(ns, name),
            ..Default::default()
        }
    }

    /// The candidates are the volumes the full scan would not skip by `claimRef`, in the
    /// full store's order, through inserts, re-inserts with another claimRef and removals.
    #[test]
    fn candidates_are_the_unskipped_volumes_in_name_order() {
        let mut store = VolumeStore::default();
        let claims = [claim("a", "c1"), claim("a", "c2"), claim("b", "c1")];
        let refs = [
            None,
            Some(("a", "c1")),
            Some(("a", "c2")),
            Some(("b", "c1")),
        ];
        let check = |store: &VolumeStore| {
            for c in &claims {
                let want: Vec<&str> = store
                    .values()
                    .filter(|v| {
                        v.spec.claim_ref.as_ref().is_none_or(|r| {
                            r.namespace == c.metadata.namespace && r.name == c.metadata.name
                        })
                    })
                    .map(|v| v.metadata.name.as_str())
                    .collect();
                let got: Vec<&str> = store
                    .candidates_for(c)
                    .map(|v| v.metadata.name.as_str())
                    .collect();
                assert_eq!(got, want);
            }
        };
        for step in 0..60usize {
            let name = format!("pv-{}", (step * 7) % 13);
            if step % 5 == 4 {
                store.remove(&name);
            } else {
                store.insert(&pv(&name, refs[(step * 3) % refs.len()]));
            }
            check(&store);
        }
    }
}
