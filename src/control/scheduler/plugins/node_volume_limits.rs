//! NodeVolumeLimits (`plugins/nodevolumelimits/csi.go`, `CSILimits`): a node takes at
//! most its CSINode's `allocatable.count` volumes of each driver. The volumes counted on
//! the node are those of the pods assigned to it (a volume shared by pods counts once)
//! and, since a volume stays attached until it is detached, those its VolumeAttachments
//! still hold; the pod's own new volumes must fit in what is left
//! (`node(s) exceed max volume count`). A claim not bound yet counts as one new volume of
//! its class's provisioner.

use crate::api::volume::claim_class;
use crate::api::{AnyObject, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    CycleState, Plugin, PreFilterResult, QueueingHint, Rejection,
};
use crate::control::scheduler::plugins::volume_binding::storage;
use crate::control::scheduler::volume_binder::StorageIndex;
use std::rc::Rc;

pub const NAME: &str = "NodeVolumeLimits";
/// `ErrReasonMaxVolumeCountExceeded`.
pub const ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED: &str = "node(s) exceed max volume count";

const STATE_KEY: &str = "PreFilterNodeVolumeLimits";

pub struct NodeVolumeLimits;

const EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(EventResource::CSINode, ActionType::ADD),
    ClusterEvent::new(EventResource::Pod, ActionType::DELETE),
    ClusterEvent::new(EventResource::PersistentVolumeClaim, ActionType::ADD),
    // A detached volume frees a slot (VolumeAttachments are counted).
    ClusterEvent::new(EventResource::VolumeAttachment, ActionType::DELETE),
];

/// Which volume: its CSI volume handle, or, for a claim not bound yet, the claim itself
/// (upstream makes up a handle from a random prefix and the claim's namespace and name;
/// two such made-up handles are equal exactly when the claims are, and never equal a
/// real one — which this enum keeps without building the string).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum VolumeId<'a> {
    Handle(&'a str),
    Unbound { namespace: &'a str, claim: &'a str },
}

/// A CSI volume as the plugin counts it: (driver, volume).
type VolumeKey<'a> = (&'a str, VolumeId<'a>);

/// `filterAttachableVolumes`: the pod's CSI volumes, appended to `out`. For the new pod a
/// missing claim is an error.
fn attachable_volumes<'a>(
    pod: &'a Pod,
    index: &'a StorageIndex,
    new_pod: bool,
    out: &mut Vec<VolumeKey<'a>>,
) -> Result<(), String> {
    let ns = pod.metadata.namespace.as_str();
    for name in pod.claim_names() {
        let Some(pvc) = index.claim(ns, name) else {
            if new_pod {
                return Err(format!(
                    "looking up PVC {ns}/{name}: persistentvolumeclaim {name:?} not found"
                ));
            }
            continue;
        };
        // `getCSIDriverInfo`, falling back to `getCSIDriverInfoFromSC`.
        let from_class = || {
            index.class(claim_class(pvc)).map(|c| {
                (
                    c.provisioner.as_str(),
                    VolumeId::Unbound {
                        namespace: ns,
                        claim: name,
                    },
                )
            })
        };
        let info = if pvc.spec.volume_name.is_empty() {
            from_class()
        } else {
            match index.volume(&pvc.spec.volume_name) {
                Some(pv) => pv
                    .spec
                    .csi
                    .as_ref()
                    .map(|c| (c.driver.as_str(), VolumeId::Handle(&c.volume_handle))),
                None => from_class(),
            }
        };
        out.extend(info);
    }
    Ok(())
}

/// A volume of the new pod, owned so that it outlives the cycle's borrow of the index.
#[derive(Clone, Debug)]
struct NewVolume {
    driver: String,
    /// The handle, or (namespace, claim) of a claim not bound yet.
    handle: Result<String, (String, String)>,
}

impl NewVolume {
    fn key(&self) -> VolumeKey<'_> {
        let id = match &self.handle {
            Ok(h) => VolumeId::Handle(h),
            Err((namespace, claim)) => VolumeId::Unbound { namespace, claim },
        };
        (&self.driver, id)
    }
}

/// The new pod's volumes, computed once per cycle at PreFilter (distinct, sorted), or why
/// the pod cannot be placed anywhere; with the storage index they were read from (one
/// state read per node).
struct NewVolumes(Result<Vec<NewVolume>, String>, Rc<StorageIndex>);

impl Plugin for NodeVolumeLimits {
    fn name(&self) -> &'static str {
        NAME
    }

    // `CSILimits.PreFilter`: only pods with claims are checked.
    fn pre_filter(&self, state: &CycleState, pod: &Pod) -> PreFilterResult {
        let Some(index) = storage(state) else {
            return PreFilterResult::Skip;
        };
        if pod.claim_names().next().is_none() {
            return PreFilterResult::Skip;
        }
        let mut new = Vec::new();
        let volumes = attachable_volumes(pod, &index, true, &mut new).map(|()| {
            new.sort_unstable();
            new.dedup();
            new.into_iter()
                .map(|(d, id)| NewVolume {
                    driver: d.to_string(),
                    handle: match id {
                        VolumeId::Handle(h) => Ok(h.to_string()),
                        VolumeId::Unbound { namespace, claim } => {
                            Err((namespace.to_string(), claim.to_string()))
                        }
                    },
                })
                .collect()
        });
        state.write(STATE_KEY, NewVolumes(volumes, Rc::clone(&index)));
        PreFilterResult::AllNodes
    }

    // `CSILimits.Filter`.
    fn filter(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        let Some(new) = state.read::<NewVolumes>(STATE_KEY) else {
            return Ok(());
        };
        let index = &new.1;
        let new_volumes = match &new.0 {
            Err(e) => return Err(Rejection::unresolvable(e)),
            Ok(v) if v.is_empty() => return Ok(()),
            Ok(v) => v,
        };
        let node_name = &node.node().metadata.name;
        // `getVolumeLimits`: the CSINode's per-driver counts.
        let Some(csi_node) = index.csi_node(node_name) else {
            return Ok(());
        };
        let limit = |driver: &str| {
            csi_node
                .spec
                .drivers
                .iter()
                .find(|d| d.name == driver)
                .and_then(|d| d.allocatable.as_ref().and_then(|a| a.count))
                .map(i64::from)
        };
        let Some(smallest_limit) = csi_node
            .spec
            .drivers
            .iter()
            .filter_map(|d| d.allocatable.as_ref().and_then(|a| a.count))
            .min()
        else {
            return Ok(());
        };
        // A cheap upper bound first: every claim of the node's pods and every one of its
        // VolumeAttachments counted as a distinct volume of one driver, plus the new ones
        // (the claims of the node's pods are summed by the cache as pods come and go).
        // If that fits the smallest limit, the exact count below fits every limit.
        let bound = node.pod_claims
            + index.attachments_of(node_name).map_or(0, |v| v.len())
            + new_volumes.len();
        if usize::try_from(smallest_limit).is_ok_and(|limit| bound <= limit) {
            return Ok(());
        }
        // The volumes on the node, each once: its pods' and its VolumeAttachments'.
        let mut attached: Vec<VolumeKey<'_>> = Vec::new();
        for existing in node.pods.values() {
            let _ = attachable_volumes(existing, index, false, &mut attached);
        }
        if let Some(vas) = index.attachments_of(node_name) {
            for pv_name in vas.keys() {
                if let Some(csi) = index.volume(pv_name).and_then(|v| v.spec.csi.as_ref()) {
                    attached.push((csi.driver.as_str(), VolumeId::Handle(&csi.volume_handle)));
                }
            }
        }
        attached.sort_unstable();
        attached.dedup();
        // Per driver of the new volumes (sorted by driver): those not on the node yet must
        // fit beside those that are.
        let mut i = 0;
        while i < new_volumes.len() {
            let driver = new_volumes[i].driver.as_str();
            let mut new_count = 0i64;
            while i < new_volumes.len() && new_volumes[i].driver == driver {
                if attached.binary_search(&new_volumes[i].key()).is_err() {
                    new_count += 1;
                }
                i += 1;
            }
            if new_count == 0 {
                continue;
            }
            if let Some(max) = limit(driver) {
                let on_node = attached.iter().filter(|(d, _)| *d == driver).count() as i64;
                if on_node + new_count > max {
                    return Err(Rejection::unschedulable(vec![
                        ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED.to_string(),
                    ]));
                }
            }
        }
        Ok(())
    }

    fn events_to_register(&self) -> &'static [ClusterEvent] {
        EVENTS
    }

    // `isSchedulableAfterPodDeleted`, `isSchedulableAfterPVCAdded`.
    fn queueing_hint(
        &self,
        pod: &Pod,
        event: &ClusterEvent,
        old: Option<&AnyObject>,
        new: Option<&AnyObject>,
    ) -> QueueingHint {
        match (event.resource, old, new) {
            (
                EventResource::PersistentVolumeClaim,
                _,
                Some(AnyObject::PersistentVolumeClaim(c)),
            ) => {
                if c.metadata.namespace == pod.metadata.namespace
                    && pod.claim_names().any(|n| n == c.metadata.name)
                {
                    QueueingHint::Queue
                } else {
                    QueueingHint::QueueSkip
                }
            }
            (_, Some(AnyObject::Pod(deleted)), None) => {
                if deleted.spec.node_name.is_empty() || deleted.claim_names().next().is_none() {
                    QueueingHint::QueueSkip
                } else {
                    QueueingHint::Queue
                }
            }
            _ => QueueingHint::Queue,
        }
    }
}
