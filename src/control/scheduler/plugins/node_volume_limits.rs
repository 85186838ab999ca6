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
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "NodeVolumeLimits";
/// `ErrReasonMaxVolumeCountExceeded`.
pub const ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED: &str = "node(s) exceed max volume count";

/// Upstream prefixes the made-up handle of a claim not bound yet with a random string.
const UNBOUND_VOLUME_PREFIX: &str = "stsim-unbound";

const STATE_KEY: &str = "PreFilterNodeVolumeLimits";

pub struct NodeVolumeLimits;

const EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(EventResource::CSINode, ActionType::ADD),
    ClusterEvent::new(EventResource::Pod, ActionType::DELETE),
    ClusterEvent::new(EventResource::PersistentVolumeClaim, ActionType::ADD),
    // A detached volume frees a slot (VolumeAttachments are counted).
    ClusterEvent::new(EventResource::VolumeAttachment, ActionType::DELETE),
];

/// A CSI volume as the plugin counts it: (driver, volume handle). A claim not bound yet
/// has a made-up handle (owned); the others borrow from the index.
type VolumeKey<'a> = (&'a str, Cow<'a, str>);

/// `filterAttachableVolumes`: the pod's CSI volumes. For the new pod a missing claim is an
/// error.
fn attachable_volumes<'a>(
    pod: &'a Pod,
    index: &'a StorageIndex,
    new_pod: bool,
    out: &mut BTreeSet<VolumeKey<'a>>,
) -> Result<(), String> {
    let ns = &pod.metadata.namespace;
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
                    Cow::Owned(format!("{UNBOUND_VOLUME_PREFIX}-{ns}/{name}")),
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
                    .map(|c| (c.driver.as_str(), Cow::Borrowed(c.volume_handle.as_str()))),
                None => from_class(),
            }
        };
        out.extend(info);
    }
    Ok(())
}

/// The new pod's volumes, computed once per cycle at PreFilter: (driver, handle) pairs,
/// or why the pod cannot be placed anywhere.
struct NewVolumes(Result<Vec<(String, String)>, String>);

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
        let mut new = BTreeSet::new();
        let volumes = attachable_volumes(pod, &index, true, &mut new).map(|()| {
            new.into_iter()
                .map(|(d, h)| (d.to_string(), h.into_owned()))
                .collect()
        });
        state.write(STATE_KEY, NewVolumes(volumes));
        PreFilterResult::AllNodes
    }

    // `CSILimits.Filter`.
    fn filter(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        let (Some(index), Some(new)) = (storage(state), state.read::<NewVolumes>(STATE_KEY)) else {
            return Ok(());
        };
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
        let limits: BTreeMap<&str, i64> = csi_node
            .spec
            .drivers
            .iter()
            .filter_map(|d| {
                d.allocatable
                    .as_ref()
                    .and_then(|a| a.count)
                    .map(|n| (d.name.as_str(), i64::from(n)))
            })
            .collect();
        if limits.is_empty() {
            return Ok(());
        }
        let mut attached: BTreeSet<VolumeKey<'_>> = BTreeSet::new();
        for existing in node.pods.values() {
            let _ = attachable_volumes(existing, &index, false, &mut attached);
        }
        if let Some(vas) = index.attachments_of(node_name) {
            for pv_name in vas.keys() {
                if let Some(csi) = index.volume(pv_name).and_then(|v| v.spec.csi.as_ref()) {
                    attached.insert((
                        csi.driver.as_str(),
                        Cow::Borrowed(csi.volume_handle.as_str()),
                    ));
                }
            }
        }
        let mut attached_count: BTreeMap<&str, i64> = BTreeMap::new();
        for (driver, _) in &attached {
            *attached_count.entry(driver).or_default() += 1;
        }
        // A volume already on the node is not new.
        let mut new_count: BTreeMap<&str, i64> = BTreeMap::new();
        for (driver, handle) in new_volumes {
            if !attached.contains(&(driver.as_str(), Cow::Borrowed(handle.as_str()))) {
                *new_count.entry(driver.as_str()).or_default() += 1;
            }
        }
        for (driver, count) in new_count {
            if let Some(max) = limits.get(driver)
                && attached_count.get(driver).copied().unwrap_or(0) + count > *max
            {
                return Err(Rejection::unschedulable(vec![
                    ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED.to_string(),
                ]));
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
