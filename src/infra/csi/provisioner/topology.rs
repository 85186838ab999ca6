//! Where a new volume goes: the external-provisioner's topology requirement
//! (`GenerateAccessibilityRequirements`, `pkg/controller/topology.go`) and the driver's
//! pick from it (EBS and Azure Disk take the first preferred zone; regional PD the first
//! two). With a selected node (WaitForFirstConsumer) the volume goes where that node is;
//! without one (Immediate) the zones are the StorageClass's `allowedTopologies` or every
//! zone with a node of the driver, sorted and rotated by a hash of the claim name, so a
//! StatefulSet's claims spread over the zones — with no regard to where their pods can run.

use crate::api::{IndexedTable, Node, StorageClass};
use crate::infra::csi::cloud::Placement;
use crate::scenario::{CsiDriverProfile, VolumeTopology};

/// FNV-1 32-bit (Go's `fnv.New32`).
fn fnv1_32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for b in bytes {
        h = h.wrapping_mul(16_777_619);
        h ^= u32::from(*b);
    }
    h
}

/// `getPVCNameHashAndIndexOffset`: a claim named `<claim>-<set>-<n>` hashes only `<set>`
/// and is offset by `n`, so the ordinals of a StatefulSet round-robin over the zones (and
/// the claims of one ordinal land together).
pub fn pvc_name_hash_and_index(name: &str) -> (u32, u32) {
    let mut hash_string = name;
    let mut index = 0u32;
    if let Some(last_dash) = name.rfind('-')
        && let Ok(id) = name[last_dash + 1..].parse::<u32>()
    {
        index = id;
        hash_string = &name[..last_dash];
        if let Some(d) = hash_string.rfind('-') {
            hash_string = &hash_string[d + 1..];
        }
    }
    (fnv1_32(hash_string.as_bytes()), index)
}

/// The zones a class allows for the driver's topology key (`flatten(allowedTopologies)`),
/// sorted and de-duplicated; empty when the class does not restrict.
pub fn allowed_zones<'c>(class: &'c StorageClass, key: &str) -> Vec<&'c str> {
    let mut zones: Vec<&str> = class
        .allowed_topologies
        .iter()
        .flat_map(|t| t.match_label_expressions.iter())
        .filter(|e| e.key == key || e.key == "topology.kubernetes.io/zone")
        .flat_map(|e| e.values.iter().map(String::as_str))
        .collect();
    zones.sort();
    zones.dedup();
    zones
}

/// `aggregateTopologies`: the values of the driver's topology key over the nodes that
/// carry it, sorted (borrowed: only the zone picked is copied, once per volume).
fn aggregate_zones<'n>(key: &str, nodes: &'n IndexedTable<Node>) -> Vec<&'n str> {
    let mut zones: Vec<&str> = nodes
        .values()
        .filter_map(|n| n.metadata.labels.get(key).map(String::as_str))
        .collect();
    zones.sort();
    zones.dedup();
    zones
}

/// Where the volume for claim `claim_name` of `class` goes, or why it cannot be placed.
pub fn placement<'a>(
    profile: &CsiDriverProfile,
    class: &'a StorageClass,
    claim_name: &str,
    selected_node: Option<&Node>,
    nodes: &'a IndexedTable<Node>,
) -> Result<Placement, String> {
    let key = profile.topology_key.as_str();
    let wanted = match profile.topology {
        VolumeTopology::Any => return Ok(Placement::Anywhere),
        VolumeTopology::NodeLocal => {
            return match selected_node {
                Some(n) => Ok(Placement::Node(n.metadata.name.clone())),
                None => Err("configuration error, no node was specified".into()),
            };
        }
        VolumeTopology::Zonal => 1,
        VolumeTopology::Regional { zones } => zones.max(1) as usize,
    };
    let mut requisite = allowed_zones(class, key);
    if requisite.is_empty() {
        requisite = aggregate_zones(key, nodes);
    }
    if requisite.is_empty() {
        return Err("no available topology found".into());
    }
    let preferred: Vec<&str> = match selected_node {
        None => {
            let (hash, index) = pvc_name_hash_and_index(claim_name);
            let i = (hash.wrapping_add(index) as usize) % requisite.len();
            requisite[i..]
                .iter()
                .chain(&requisite[..i])
                .cloned()
                .collect()
        }
        Some(node) => {
            let Some(zone) = node.metadata.labels.get(key) else {
                return Err(format!(
                    "topology labels from selected node {:?} does not match topology keys from CSINode [{key}]",
                    node.metadata.name
                ));
            };
            let Some(i) = requisite.iter().position(|z| *z == zone.as_str()) else {
                return Err(format!(
                    "topology [{key}={zone}] from selected node {:?} is not in requisite: {requisite:?}",
                    node.metadata.name
                ));
            };
            requisite[i..]
                .iter()
                .chain(&requisite[..i])
                .cloned()
                .collect()
        }
    };
    if preferred.len() < wanted {
        return Err(format!(
            "need {wanted} zones from topology, only got {}",
            preferred.len()
        ));
    }
    Ok(if wanted == 1 {
        Placement::Zone(preferred[0].to_string())
    } else {
        Placement::Zones(preferred[..wanted].iter().map(|z| z.to_string()).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ObjectKey;
    use crate::infra::csi::profiles::builtin;
    use std::rc::Rc;

    #[test]
    fn fnv1_matches_go() {
        // Go: fnv.New32() over "" and "web".
        assert_eq!(fnv1_32(b""), 2_166_136_261);
        assert_eq!(fnv1_32(b"a"), 0x050c_5d7e);
    }

    #[test]
    fn statefulset_claims_hash_the_set_name_and_offset_by_ordinal() {
        let (h0, i0) = pvc_name_hash_and_index("data-web-0");
        let (h2, i2) = pvc_name_hash_and_index("data-web-2");
        assert_eq!(h0, h2);
        assert_eq!((i0, i2), (0, 2));
        assert_eq!(h0, pvc_name_hash_and_index("logs-web-7").0);
        assert_eq!(pvc_name_hash_and_index("scratch").1, 0);
    }

    fn nodes() -> IndexedTable<Node> {
        let mut t = IndexedTable::default();
        for (n, z) in [("a-1", "zone-a"), ("b-1", "zone-b"), ("c-1", "zone-c")] {
            let mut node = Node::default();
            node.metadata.name = n.into();
            node.metadata
                .labels
                .insert("topology.ebs.csi.aws.com/zone".into(), z.into());
            t.insert(ObjectKey::cluster(n), Rc::new(node));
        }
        t
    }

    #[test]
    fn immediate_claims_of_a_set_round_robin_over_zones() {
        let ebs = builtin("aws-ebs", "ebs.csi.aws.com").unwrap();
        let class = StorageClass::default();
        let zones: Vec<Placement> = (0..3)
            .map(|i| placement(&ebs, &class, &format!("data-web-{i}"), None, &nodes()).unwrap())
            .collect();
        assert_ne!(zones[0], zones[1]);
        assert_ne!(zones[1], zones[2]);
        assert_ne!(zones[0], zones[2]);
    }

    #[test]
    fn a_selected_node_decides_the_zone_and_allowed_topologies_restrict() {
        let ebs = builtin("aws-ebs", "ebs.csi.aws.com").unwrap();
        let mut class = StorageClass::default();
        let ns = nodes();
        let b = ns.get(&ObjectKey::cluster("b-1")).unwrap();
        assert_eq!(
            placement(&ebs, &class, "data-web-0", Some(b), &ns).unwrap(),
            Placement::Zone("zone-b".into())
        );
        class.allowed_topologies = vec![crate::api::storage::TopologySelectorTerm {
            match_label_expressions: vec![crate::api::storage::TopologySelectorLabelRequirement {
                key: "topology.kubernetes.io/zone".into(),
                values: vec!["zone-c".into()],
            }],
        }];
        for i in 0..3 {
            assert_eq!(
                placement(&ebs, &class, &format!("data-web-{i}"), None, &ns).unwrap(),
                Placement::Zone("zone-c".into())
            );
        }
        assert!(placement(&ebs, &class, "data-web-0", Some(b), &ns).is_err());
        let mut regional = ebs.clone();
        regional.topology = VolumeTopology::Regional { zones: 2 };
        let p = placement(&regional, &StorageClass::default(), "d", Some(b), &ns).unwrap();
        assert_eq!(p, Placement::Zones(vec!["zone-b".into(), "zone-c".into()]));
    }
}
