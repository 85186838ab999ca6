//! VolumeRestrictions (`plugins/volumerestrictions/volume_restrictions.go`), the
//! ReadWriteOncePod part: a claim with access mode ReadWriteOncePod may be used by one
//! pod in the whole cluster; while an assigned pod uses it, no node fits another pod that
//! names it. (The inline-volume disk conflicts of the plugin — GCE PD, EBS, RBD, iSCSI
//! volumes written in the pod — are not modelled: stsim pods use claims.)

use crate::api::{AnyObject, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    CycleState, Plugin, PreFilterResult, QueueingHint, Rejection,
};
use crate::control::scheduler::plugins::volume_binding::storage;

pub const NAME: &str = "VolumeRestrictions";
/// `ErrReasonReadWriteOncePodConflict`.
pub const ERR_REASON_RWOP_CONFLICT: &str =
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

const STATE_KEY: &str = "PreFilterVolumeRestrictions";

pub struct VolumeRestrictions;

/// `preFilterState.conflictingPVCRefCount`.
struct Conflicts(usize);

const EVENTS: &[ClusterEvent] = &[
    // A pod using the claim went away.
    ClusterEvent::new(EventResource::Pod, ActionType::DELETE),
    ClusterEvent::new(
        EventResource::PersistentVolumeClaim,
        ActionType::ADD.or(ActionType::UPDATE),
    ),
];

impl Plugin for VolumeRestrictions {
    fn name(&self) -> &'static str {
        NAME
    }

    // `VolumeRestrictions.PreFilter` (`readWriteOncePodPVCsForPod`, `calPreFilterState`).
    fn pre_filter(&self, state: &CycleState, pod: &Pod) -> PreFilterResult {
        let Some(index) = storage(state) else {
            return PreFilterResult::Skip;
        };
        let ns = &pod.metadata.namespace;
        let mut rwop: Vec<&str> = Vec::new();
        for name in pod.claim_names() {
            let Some(pvc) = index.claim(ns, name) else {
                let msg = format!("persistentvolumeclaim {name:?} not found");
                return PreFilterResult::Reject(Rejection::unresolvable(&msg));
            };
            if pvc
                .spec
                .access_modes
                .iter()
                .any(|m| m == "ReadWriteOncePod")
            {
                rwop.push(name);
            }
        }
        // `IsPVCUsedByPods`: assigned pods of any node, other than this pod.
        // No ReadWriteOncePod claim: no pod can conflict (the count below would be 0),
        // so the scan of every pod of the cluster is not made.
        if rwop.is_empty() {
            return PreFilterResult::Skip;
        }
        let uid = &pod.metadata.uid;
        let conflicts = state
            .cluster
            .nodes
            .iter()
            .flat_map(|n| n.pods.values())
            .filter(|p| p.metadata.uid != *uid && p.metadata.namespace == *ns)
            .filter(|p| p.claim_names().any(|c| rwop.contains(&c)))
            .count();
        if conflicts == 0 {
            return PreFilterResult::Skip;
        }
        state.write(STATE_KEY, Conflicts(conflicts));
        PreFilterResult::AllNodes
    }

    // `VolumeRestrictions.Filter` (`satisfyReadWriteOncePod`).
    fn filter(&self, state: &CycleState, _pod: &Pod, _node: &NodeInfo) -> Result<(), Rejection> {
        match state.read::<Conflicts>(STATE_KEY) {
            Some(c) if c.0 > 0 => Err(Rejection::unschedulable(vec![
                ERR_REASON_RWOP_CONFLICT.to_string(),
            ])),
            _ => Ok(()),
        }
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    fn queueing_hint(
        &self,
        pod: &Pod,
        event: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        let uses = |p: &Pod| p.claim_names().any(|c| pod.claim_names().any(|d| d == c));
        match (event.resource, old, new) {
            (_, Some(AnyObject::Pod(deleted)), None) if !uses(deleted) => QueueingHint::QueueSkip,
            _ => QueueingHint::Queue,
        }
    }
}
