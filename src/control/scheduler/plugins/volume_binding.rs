//! VolumeBinding (`plugins/volumebinding/volume_binding.go`): a pod's claims decide
//! where it may go. Bound claims pin it to nodes their volume's node affinity admits
//! (`node(s) had volume node affinity conflict`); unbound claims of an Immediate class
//! should have been bound by the PV controller (`pod has unbound immediate
//! PersistentVolumeClaims`, unresolvable); unbound claims of a WaitForFirstConsumer class
//! need an Available volume that fits the node, or a class that can provision there.
//! Reserve and PreBind (selecting the node on the claims, waiting for the binding) are the
//! binding cycle's, in `schedule_one.rs` with `volume_binder.rs`. For drivers with
//! `storageCapacity: true`, a claim to provision also needs a CSIStorageCapacity reachable
//! from the node with room for it (`node(s) did not have enough free storage`). Not
//! modelled: the capacity-based Score (off by default).

use crate::api::{AnyObject, CSIStorageCapacity, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    Code, CycleState, Plugin, PreFilterResult, QueueingHint, Rejection,
};
use crate::control::scheduler::volume_binder::{
    PodVolumeClaims, STORAGE_STATE_KEY, StorageIndex, find_pod_volumes, get_eligible_nodes,
    get_pod_volume_claims,
};
use std::rc::Rc;

pub const NAME: &str = "VolumeBinding";
/// The PreFilter reason for unbound Immediate claims.
pub const ERR_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

const STATE_KEY: &str = "VolumeBinding";

pub struct VolumeBinding;

/// The storage index this cycle sees (written by the scheduler into the cycle state).
pub fn storage(state: &CycleState) -> Option<Rc<StorageIndex>> {
    state
        .read::<Rc<StorageIndex>>(STORAGE_STATE_KEY)
        .map(|rc| Rc::clone(&*rc))
}

const ADD_OR_UPDATE: ActionType = ActionType::ADD.or(ActionType::UPDATE);

const EVENTS: &[ClusterEvent] = &[
    // A missing or misconfigured class (allowedTopologies, binding mode) may be fixed.
    ClusterEvent::new(EventResource::StorageClass, ADD_OR_UPDATE),
    // Any claim or volume change may complete a binding.
    ClusterEvent::new(EventResource::PersistentVolumeClaim, ADD_OR_UPDATE),
    ClusterEvent::new(EventResource::PersistentVolume, ADD_OR_UPDATE),
    // New or relabelled nodes may match a volume's node affinity or allowed topologies.
    ClusterEvent::new(
        EventResource::Node,
        ActionType::ADD
            .or(ActionType::UPDATE_NODE_LABEL)
            .or(ActionType::UPDATE_NODE_TAINT),
    ),
    ClusterEvent::new(EventResource::CSINode, ADD_OR_UPDATE),
    // More capacity may fit a claim that did not fit.
    ClusterEvent::new(EventResource::CSIStorageCapacity, ADD_OR_UPDATE),
];

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        NAME
    }

    // `VolumeBinding.PreFilter`.
    fn pre_filter(&self, state: &CycleState, pod: &Pod) -> PreFilterResult {
        let Some(index) = storage(state) else {
            return PreFilterResult::Skip;
        };
        let claims = match get_pod_volume_claims(pod, &index) {
            Err(e) => return PreFilterResult::Reject(Rejection::unresolvable(&e)),
            Ok(None) => return PreFilterResult::Skip,
            Ok(Some(c)) => c,
        };
        if !claims.unbound_immediate.is_empty() {
            return PreFilterResult::Reject(Rejection::unresolvable(ERR_UNBOUND_IMMEDIATE));
        }
        // Claims that need no check on any node (the simulator's instant storage): Filter
        // would pass every node (`find_pod_volumes` finds nothing to say), so it is not run.
        if claims.bound.is_empty() && claims.unbound_delay_binding.is_empty() {
            return PreFilterResult::Skip;
        }
        let eligible = get_eligible_nodes(&claims.bound, &index);
        state.write(STATE_KEY, (claims, index));
        match eligible {
            Some(nodes) => PreFilterResult::Nodes(nodes),
            None => PreFilterResult::AllNodes,
        }
    }

    // `VolumeBinding.Filter`.
    fn filter(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        // The claims with the storage index they were read from (one state read per node).
        let Some(s) = state.read::<(PodVolumeClaims, Rc<StorageIndex>)>(STATE_KEY) else {
            return Ok(());
        };
        let (claims, index) = &*s;
        let (_, reasons) = find_pod_volumes(claims, node.node(), index);
        if reasons.is_empty() {
            return Ok(());
        }
        Err(Rejection {
            code: Code::UnschedulableAndUnresolvable,
            reasons: reasons.into_iter().map(String::from).collect(),
        })
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterPersistentVolumeChange` and
    // `isSchedulableAfterCSIStorageCapacityChange`; the other events always queue.
    fn queueing_hint(
        &self,
        pod: &Pod,
        event: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        if event.resource == EventResource::PersistentVolume && pod.claim_names().next().is_none() {
            return QueueingHint::QueueSkip;
        }
        if let (Some(AnyObject::CSIStorageCapacity(o)), Some(AnyObject::CSIStorageCapacity(n))) =
            (old, new)
            && !capacity_grew(o, n)
        {
            return QueueingHint::QueueSkip;
        }
        QueueingHint::Queue
    }
}

// The update half of `isSchedulableAfterCSIStorageCapacityChange`: another class or
// topology, or more capacity or a larger maximum volume size, may fit a rejected claim.
fn capacity_grew(old: &CSIStorageCapacity, new: &CSIStorageCapacity) -> bool {
    let bytes = |q: &Option<crate::api::Quantity>| q.as_ref().map(|q| q.units());
    old.storage_class_name != new.storage_class_name
        || old.node_topology != new.node_topology
        || bytes(&new.capacity) > bytes(&old.capacity)
        || bytes(&new.maximum_volume_size) > bytes(&old.maximum_volume_size)
}
