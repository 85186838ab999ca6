//! CSI driver registration on a node (`pkg/volume/csi/nodeinfomanager`,
//! `InstallCSIDriver`): when a driver's node plugin registers with the kubelet, the
//! kubelet labels the Node with the driver's topology (`NodeGetInfo`'s accessible
//! topology: the zone under the driver's topology key, or the node's hostname for
//! node-local drivers) and records the driver in the node's CSINode object — its node
//! id, topology keys and how many of its volumes the node can take
//! (`allocatable.count`, read by the scheduler's NodeVolumeLimits). Here every driver of
//! the scenario registers on every node right after the node itself.

use super::KCtx;
use crate::api::storage::{CSINodeDriver, CSINodeSpec, VolumeNodeResources};
use crate::api::{CSINode, Node, ObjectKey, ObjectMeta, OwnerReference};
use crate::apiserver::Actor;
use crate::scenario::{CsiDriverProfile, NodeSpecInput, VolumeTopology};

/// The topology segment a driver reports for a node, if it has topology.
pub fn topology_segment(
    driver: &CsiDriverProfile,
    node: &NodeSpecInput,
) -> Option<(String, String)> {
    match driver.topology {
        VolumeTopology::Any => None,
        VolumeTopology::NodeLocal => Some((driver.topology_key.clone(), node.name.clone())),
        VolumeTopology::Zonal | VolumeTopology::Regional { .. } => {
            Some((driver.topology_key.clone(), node.zone.clone()))
        }
    }
}

/// The node's CSINode entry for `driver`.
fn csi_node_driver(driver: &CsiDriverProfile, node: &NodeSpecInput) -> CSINodeDriver {
    CSINodeDriver {
        name: driver.name.clone(),
        node_id: node.name.clone(),
        topology_keys: topology_segment(driver, node)
            .map(|(k, _)| vec![k])
            .unwrap_or_default(),
        allocatable: driver.max_volumes_per_node.map(|n| VolumeNodeResources {
            count: Some(i32::try_from(n).unwrap_or(i32::MAX)),
        }),
    }
}

/// Registers `drivers` on the node: topology labels on the Node (one update, only if a
/// label is missing), then the CSINode, owned by the Node (created, or brought up to date
/// if an earlier registration left one).
pub fn register(
    node: &NodeSpecInput,
    drivers: &[CsiDriverProfile],
    actor: &Actor,
    ctx: &mut KCtx<'_>,
) {
    if drivers.is_empty() {
        return;
    }
    let mut client = ctx.client(actor);
    let key = ObjectKey::cluster(&node.name);
    let Some(live) = client.get::<Node>(&key) else {
        return;
    };
    let mut labelled = (*live).clone();
    for d in drivers {
        if let Some((k, v)) = topology_segment(d, node) {
            labelled.metadata.labels.entry(k).or_insert(v);
        }
    }
    let live = if labelled.metadata.labels != live.metadata.labels {
        match client.update(labelled) {
            Ok(n) => n,
            Err(_) => live,
        }
    } else {
        live
    };
    let spec = CSINodeSpec {
        drivers: drivers.iter().map(|d| csi_node_driver(d, node)).collect(),
    };
    match client.get::<CSINode>(&key) {
        Some(existing) => {
            if existing.spec != spec {
                let mut next = (*existing).clone();
                next.spec = spec;
                let _ = client.update(next);
            }
        }
        None => {
            let csi_node = CSINode {
                metadata: ObjectMeta {
                    name: node.name.clone(),
                    owner_references: vec![OwnerReference {
                        api_version: "v1".into(),
                        kind: "Node".into(),
                        name: node.name.clone(),
                        uid: live.metadata.uid.clone(),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                spec,
                ..Default::default()
            };
            let _ = client.create(csi_node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::csi::profiles::builtin;

    fn node() -> NodeSpecInput {
        NodeSpecInput {
            name: "w-a-1".into(),
            zone: "zone-a".into(),
            pool: "w".into(),
            capacity: Default::default(),
            labels: Default::default(),
            taints: Vec::new(),
        }
    }

    #[test]
    fn drivers_report_their_topology_and_limit() {
        let ebs = builtin("aws-ebs", "ebs.csi.aws.com").unwrap();
        let d = csi_node_driver(&ebs, &node());
        assert_eq!(d.topology_keys, vec!["topology.ebs.csi.aws.com/zone"]);
        assert_eq!(d.allocatable.unwrap().count, Some(25));
        assert_eq!(
            topology_segment(&ebs, &node()),
            Some(("topology.ebs.csi.aws.com/zone".into(), "zone-a".into()))
        );
        let local = builtin("local-path", "rancher.io/local-path").unwrap();
        assert_eq!(
            topology_segment(&local, &node()),
            Some(("kubernetes.io/hostname".into(), "w-a-1".into()))
        );
        let instant = builtin("instant", "stsim.io/instant").unwrap();
        let d = csi_node_driver(&instant, &node());
        assert!(d.topology_keys.is_empty() && d.allocatable.is_none());
    }
}
