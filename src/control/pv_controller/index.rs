//! Finding a volume for a claim: `persistentVolumeOrderedIndex.findBestMatchForClaim`
//! (`pkg/controller/volume/persistentvolume/index.go`) and `FindMatchingVolume` /
//! `CheckNodeAffinity` (`k8s.io/component-helpers/storage/volume/pv_helpers.go`), shared
//! with the scheduler's VolumeBinding plugin.

use crate::api::volume::{
    capacity_bytes, check_access_modes, claim_class, is_volume_bound_to_claim, phase,
    requested_bytes, volume_class, volume_mode_mismatch,
};
use crate::api::{Node, PersistentVolume, PersistentVolumeClaim};
use crate::control::scheduler::node_selector::node_selector_matches;
use std::collections::BTreeSet;
use std::rc::Rc;

/// `CheckNodeAffinity`: the volume's required node affinity (if any) admits `node`.
pub fn check_node_affinity(volume: &PersistentVolume, node: &Node) -> bool {
    match volume
        .spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
    {
        None => true,
        Some(sel) => node_selector_matches(sel, node),
    }
}

/// `FindMatchingVolume`: a volume pre-bound to the claim wins; otherwise the smallest
/// Available volume of the claim's class that is large enough, has the claim's volume
/// mode, matches its selector (and, on the scheduler path with `node`, the node and the
/// access modes). With delayed binding and no node, only pre-bound volumes are returned:
/// the scheduler binds the rest.
pub fn find_matching_volume(
    claim: &PersistentVolumeClaim,
    volumes: &[Rc<PersistentVolume>],
    node: Option<&Node>,
    excluded: &BTreeSet<String>,
    delay_binding: bool,
) -> Option<Rc<PersistentVolume>> {
    let requested = requested_bytes(claim);
    let requested_class = claim_class(claim);
    let mut smallest: Option<(&Rc<PersistentVolume>, i128)> = None;
    for volume in volumes {
        if excluded.contains(&volume.metadata.name) {
            continue;
        }
        if volume.spec.claim_ref.is_some() && !is_volume_bound_to_claim(volume, claim) {
            continue;
        }
        let qty = capacity_bytes(volume);
        if qty < requested || volume_mode_mismatch(claim, volume) {
            continue;
        }
        if volume.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let affinity_ok = node.is_none_or(|n| check_node_affinity(volume, n));
        if is_volume_bound_to_claim(volume, claim) {
            // A pre-bound volume that does not fit the node makes the claim unfit there.
            return affinity_ok.then(|| Rc::clone(volume));
        }
        if node.is_none() && delay_binding {
            continue;
        }
        if volume.status.phase != phase::AVAILABLE {
            continue;
        }
        if let Some(sel) = &claim.spec.selector
            && !sel.matches(&volume.metadata.labels)
        {
            continue;
        }
        if volume_class(volume) != requested_class || !affinity_ok {
            continue;
        }
        if node.is_some() && !check_access_modes(claim, volume) {
            continue;
        }
        if smallest.is_none_or(|(_, q)| q > qty) {
            smallest = Some((volume, qty));
        }
    }
    smallest.map(|(v, _)| Rc::clone(v))
}

/// `findBestMatchForClaim` (`findByClaim`): volumes are grouped by their access modes;
/// only groups offering every mode the claim asks for are searched, those with the
/// fewest modes first (a claim for RWO prefers an RWO volume to an RWO+ROX one), each
/// with [`find_matching_volume`]. Groups of equal size go in mode-name order.
pub fn find_best_match_for_claim(
    claim: &PersistentVolumeClaim,
    volumes: &[Rc<PersistentVolume>],
    delay_binding: bool,
) -> Option<Rc<PersistentVolume>> {
    let mut groups: Vec<(Vec<String>, Vec<Rc<PersistentVolume>>)> = Vec::new();
    // The previous volume's modes as written and its group: volumes mostly come in runs
    // with the same modes, which then need no sorted copy to be grouped.
    let mut last: Option<(&[String], usize)> = None;
    for v in volumes {
        let written = v.spec.access_modes.as_slice();
        let group = match last {
            Some((prev, group)) if prev == written => group,
            _ => {
                let mut modes = written.to_vec();
                modes.sort();
                modes.dedup();
                match groups.iter().position(|(m, _)| *m == modes) {
                    Some(group) => group,
                    None => {
                        groups.push((modes, Vec::new()));
                        groups.len() - 1
                    }
                }
            }
        };
        groups[group].1.push(Rc::clone(v));
        last = Some((written, group));
    }
    groups.retain(|(modes, _)| claim.spec.access_modes.iter().all(|m| modes.contains(m)));
    groups.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
    let none = BTreeSet::new();
    groups
        .iter()
        .find_map(|(_, vs)| find_matching_volume(claim, vs, None, &none, delay_binding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ObjectMeta, ObjectReference, Quantity};

    fn pv(name: &str, size: &str, modes: &[&str], class: &str) -> Rc<PersistentVolume> {
        let mut v = PersistentVolume {
            metadata: ObjectMeta::named("", name),
            ..Default::default()
        };
        v.spec
            .capacity
            .insert("storage".into(), Quantity(size.into()));
        v.spec.access_modes = modes.iter().map(|m| m.to_string()).collect();
        v.spec.storage_class_name = class.into();
        v.status.phase = phase::AVAILABLE.into();
        Rc::new(v)
    }

    fn claim(size: &str, modes: &[&str], class: &str) -> PersistentVolumeClaim {
        let mut c = PersistentVolumeClaim {
            metadata: ObjectMeta::named("default", "data"),
            ..Default::default()
        };
        c.metadata.uid = "c1".into();
        c.spec
            .resources
            .requests
            .insert("storage".into(), Quantity(size.into()));
        c.spec.access_modes = modes.iter().map(|m| m.to_string()).collect();
        c.spec.storage_class_name = Some(class.into());
        c
    }

    #[test]
    fn the_smallest_fitting_volume_of_the_class_wins() {
        let vols = vec![
            pv("big", "100Gi", &["ReadWriteOnce"], "slow"),
            pv("small", "10Gi", &["ReadWriteOnce"], "slow"),
            pv("tiny", "1Gi", &["ReadWriteOnce"], "slow"),
            pv("other-class", "10Gi", &["ReadWriteOnce"], "fast"),
        ];
        let c = claim("5Gi", &["ReadWriteOnce"], "slow");
        let got = find_best_match_for_claim(&c, &vols, false).unwrap();
        assert_eq!(got.metadata.name, "small");
        // Delayed binding: the PV controller leaves unbound volumes to the scheduler.
        assert!(find_best_match_for_claim(&c, &vols, true).is_none());
    }

    #[test]
    fn fewer_access_modes_are_preferred_and_prebound_volumes_win() {
        let vols = vec![
            pv("rwo-rox", "5Gi", &["ReadWriteOnce", "ReadOnlyMany"], "slow"),
            pv("rwo", "50Gi", &["ReadWriteOnce"], "slow"),
        ];
        let c = claim("5Gi", &["ReadWriteOnce"], "slow");
        assert_eq!(
            find_best_match_for_claim(&c, &vols, false)
                .unwrap()
                .metadata
                .name,
            "rwo"
        );
        let mut pre = (*pv("pre", "50Gi", &["ReadWriteOnce"], "slow")).clone();
        pre.spec.claim_ref = Some(ObjectReference {
            namespace: "default".into(),
            name: "data".into(),
            ..Default::default()
        });
        let vols = vec![vols[1].clone(), Rc::new(pre)];
        assert_eq!(
            find_best_match_for_claim(&c, &vols, true)
                .unwrap()
                .metadata
                .name,
            "pre"
        );
    }

    #[test]
    fn selector_and_phase_filter_volumes() {
        let mut labelled = (*pv("labelled", "5Gi", &["ReadWriteOnce"], "slow")).clone();
        labelled
            .metadata
            .labels
            .insert("tier".into(), "gold".into());
        let mut released = (*pv("released", "5Gi", &["ReadWriteOnce"], "slow")).clone();
        released.status.phase = phase::RELEASED.into();
        let vols = vec![Rc::new(released), Rc::new(labelled)];
        let mut c = claim("1Gi", &["ReadWriteOnce"], "slow");
        c.spec.selector = Some(crate::api::LabelSelector {
            match_labels: [("tier".to_string(), "gold".to_string())].into(),
            ..Default::default()
        });
        assert_eq!(
            find_best_match_for_claim(&c, &vols, false)
                .unwrap()
                .metadata
                .name,
            "labelled"
        );
        c.spec
            .selector
            .as_mut()
            .unwrap()
            .match_labels
            .insert("tier".into(), "x".into());
        assert!(find_best_match_for_claim(&c, &vols, false).is_none());
    }
}
