//! VolumeZone (`plugins/volumezone/volume_zone.go`): a bound volume that carries zone or
//! region labels (`topology.kubernetes.io/zone`, the beta `failure-domain` labels) fits
//! only nodes with the same label value (`node(s) had no available volume zone`). CSI
//! volumes carry their zone in node affinity instead (VolumeBinding's check); static
//! volumes written with zone labels meet this one.

use crate::api::volume::{BINDING_WAIT_FOR_FIRST_CONSUMER, claim_class};
use crate::api::{AnyObject, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    CycleState, Plugin, PreFilterResult, QueueingHint, Rejection,
};
use crate::control::scheduler::plugins::volume_binding::storage;
use std::collections::BTreeSet;

pub const NAME: &str = "VolumeZone";
/// `ErrReasonConflict`.
pub const ERR_REASON_CONFLICT: &str = "node(s) had no available volume zone";

const STATE_KEY: &str = "PreFilterVolumeZone";

/// `topologyLabels`, in upstream's order.
const TOPOLOGY_LABELS: [&str; 4] = [
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
];

/// `translateToGALabel`.
fn to_ga(label: &str) -> &str {
    match label {
        "failure-domain.beta.kubernetes.io/region" => "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone" => "topology.kubernetes.io/zone",
        l => l,
    }
}

/// `pvTopology`.
struct PvTopology {
    key: &'static str,
    values: BTreeSet<String>,
}

pub struct VolumeZone;

const EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(EventResource::StorageClass, ActionType::ADD),
    ClusterEvent::new(
        EventResource::Node,
        ActionType::ADD
            .or(ActionType::UPDATE_NODE_LABEL)
            .or(ActionType::UPDATE_NODE_TAINT),
    ),
    ClusterEvent::new(
        EventResource::PersistentVolumeClaim,
        ActionType::ADD.or(ActionType::UPDATE),
    ),
    ClusterEvent::new(
        EventResource::PersistentVolume,
        ActionType::ADD.or(ActionType::UPDATE),
    ),
];

impl Plugin for VolumeZone {
    fn name(&self) -> &'static str {
        NAME
    }

    // `VolumeZone.PreFilter` (`getPVbyPod`).
    fn pre_filter(&self, state: &CycleState, pod: &Pod) -> PreFilterResult {
        let Some(index) = storage(state) else {
            return PreFilterResult::Skip;
        };
        let ns = &pod.metadata.namespace;
        let mut topologies = Vec::new();
        for name in pod.claim_names() {
            let reject = |m: String| PreFilterResult::Reject(Rejection::unresolvable(&m));
            let Some(pvc) = index.claim(ns, name) else {
                return reject(format!("persistentvolumeclaim {name:?} not found"));
            };
            let pv_name = &pvc.spec.volume_name;
            if pv_name.is_empty() && index.is_instant(pvc) {
                continue; // `instant` storage is simply there
            }
            if pv_name.is_empty() {
                let class_name = claim_class(pvc);
                if class_name.is_empty() {
                    return reject(
                        "PersistentVolumeClaim had no pv name and storageClass name".into(),
                    );
                }
                let Some(class) = index.class(class_name) else {
                    return reject(format!(
                        "storageclass.storage.k8s.io {class_name:?} not found"
                    ));
                };
                match class.volume_binding_mode.as_deref() {
                    None => {
                        return reject(format!(
                            "VolumeBindingMode not set for StorageClass {class_name:?}"
                        ));
                    }
                    Some(BINDING_WAIT_FOR_FIRST_CONSUMER) => continue,
                    Some(_) => return reject("PersistentVolume had no name".into()),
                }
            }
            let Some(pv) = index.volume(pv_name) else {
                return reject(format!("persistentvolume {pv_name:?} not found"));
            };
            for key in TOPOLOGY_LABELS {
                if let Some(v) = pv.metadata.labels.get(key) {
                    // `LabelZonesToSet`: several zones joined by "__".
                    let values = v.split("__").map(str::to_string).collect();
                    topologies.push(PvTopology { key, values });
                }
            }
        }
        if topologies.is_empty() {
            return PreFilterResult::Skip;
        }
        state.write(STATE_KEY, topologies);
        PreFilterResult::AllNodes
    }

    // `VolumeZone.Filter`.
    fn filter(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        let Some(topologies) = state.read::<Vec<PvTopology>>(STATE_KEY) else {
            return Ok(());
        };
        let labels = &node.node().metadata.labels;
        if !TOPOLOGY_LABELS.iter().any(|l| labels.contains_key(*l)) {
            // A node without zone labels (a single-zone cluster) takes any volume.
            return Ok(());
        }
        for t in topologies.iter() {
            let v = labels.get(t.key).or_else(|| labels.get(to_ga(t.key)));
            if v.is_none_or(|v| !t.values.contains(v)) {
                return Err(Rejection::unresolvable(ERR_REASON_CONFLICT));
            }
        }
        Ok(())
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterPersistentVolumeClaimChange`: only the pod's own claims matter.
    fn queueing_hint(
        &self,
        pod: &Pod,
        event: &ClusterEvent,
        _old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        if event.resource != EventResource::PersistentVolumeClaim {
            return QueueingHint::Queue;
        }
        match new {
            Some(AnyObject::PersistentVolumeClaim(c))
                if c.metadata.namespace == pod.metadata.namespace
                    && pod.claim_names().any(|n| n == c.metadata.name) =>
            {
                QueueingHint::Queue
            }
            _ => QueueingHint::QueueSkip,
        }
    }
}
