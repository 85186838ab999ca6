//! NodeVolumeLimits (`plugins/nodevolumelimits/csi.go`, `CSILimits`): a node takes at
//! most its CSINode's `allocatable.count` volumes of each driver. The volumes counted on
//! the node are those of the pods assigned to it (a volume shared by pods counts once)
//! and, since a volume stays attached until it is detached, those its VolumeAttachments
//! still hold; the pod's own new volumes must fit in what is left
//! (`node(s) exceed max volume count`). A claim not bound yet counts as one new volume of
//! its class's provisioner.

use crate::api::volume::claim_class;
use crate::api::{AnyObject, CSINode, Node, Pod};
use crate::control::scheduler::cache::NodeInfo;
use crate::control::scheduler::events::{ActionType, ClusterEvent, EventResource};
use crate::control::scheduler::framework::{
    CycleState, Plugin, PreFilterResult, QueueingHint, Rejection,
};
use crate::control::scheduler::list_positions::ListPositions;
use crate::control::scheduler::plugins::volume_binding::storage;
use crate::control::scheduler::volume_binder::{Attachments, CsiNodes, StorageIndex};
use std::cell::RefCell;
use std::rc::Rc;

pub const NAME: &str = "NodeVolumeLimits";
/// `ErrReasonMaxVolumeCountExceeded`.
pub const ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED: &str = "node(s) exceed max volume count";

const STATE_KEY: &str = "PreFilterNodeVolumeLimits";

#[derive(Debug, Default)]
pub struct NodeVolumeLimits {
    limits: RefCell<LimitsMemo>,
}

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
/// state read per node) and the cheap bound's facts for the cycle's nodes.
struct NewVolumes {
    volumes: Result<Vec<NewVolume>, String>,
    index: Rc<StorageIndex>,
    /// By position in the cycle's node list ([`ListPositions`]).
    limits: Vec<NodeFacts>,
    positions: ListPositions,
}

/// What the cheap bound needs of a node: its smallest driver limit and how many volumes
/// its VolumeAttachments hold; `None` for a node without a CSINode or without any driver
/// limit (Filter passes it).
type NodeFacts = Option<(i32, usize)>;

/// The smallest driver limit of a CSINode (`getVolumeLimits`), if any driver has one.
fn smallest_limit(csi_node: &CSINode) -> Option<i32> {
    csi_node
        .spec
        .drivers
        .iter()
        .filter_map(|d| d.allocatable.as_ref().and_then(|a| a.count))
        .min()
}

/// The cheap bound's facts of one node.
fn node_facts(index: &StorageIndex, name: &str) -> NodeFacts {
    let csi_node = index.csi_node(name)?;
    let attached = index.attachments_of(name).map_or(0, |v| v.len());
    Some((smallest_limit(csi_node)?, attached))
}

/// The cheap bound's facts of each node of the cycle's list, kept between cycles: they
/// depend only on the node's name and the index's CSINodes and VolumeAttachments, which
/// change rarely, so they are read again only when those maps are new (`Rc::ptr_eq`) or
/// the Node at a position is another object (the `Rc`s held here keep their
/// allocations from being reused).
#[derive(Debug, Default)]
struct LimitsMemo {
    maps: Option<(Rc<CsiNodes>, Rc<Attachments>)>,
    /// By node position: the Node last read there and its facts.
    nodes: Vec<Option<(Rc<Node>, NodeFacts)>>,
}

impl LimitsMemo {
    fn facts(&mut self, index: &StorageIndex, nodes: &[Rc<NodeInfo>]) -> Vec<NodeFacts> {
        let (csi_nodes, attachments) = (index.csi_nodes(), index.attachments());
        let same = self
            .maps
            .as_ref()
            .is_some_and(|(c, a)| Rc::ptr_eq(c, csi_nodes) && Rc::ptr_eq(a, attachments));
        if !same {
            self.maps = Some((Rc::clone(csi_nodes), Rc::clone(attachments)));
            self.nodes.clear();
        }
        self.nodes.resize_with(nodes.len(), || None);
        nodes
            .iter()
            .zip(&mut self.nodes)
            .map(|(info, slot)| {
                let node = info.node_rc();
                match slot {
                    Some((n, facts)) if Rc::ptr_eq(n, node) => *facts,
                    _ => {
                        let facts = node_facts(index, &info.name);
                        *slot = Some((Rc::clone(node), facts));
                        facts
                    }
                }
            })
            .collect()
    }
}

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
                .collect::<Vec<_>>()
        });
        let limits = match &volumes {
            Ok(v) if !v.is_empty() => self.limits.borrow_mut().facts(&index, &state.cluster.nodes),
            _ => Vec::new(),
        };
        state.write(
            STATE_KEY,
            NewVolumes {
                volumes,
                index: Rc::clone(&index),
                limits,
                positions: ListPositions::of(&state.cluster.nodes),
            },
        );
        PreFilterResult::AllNodes
    }

    // `CSILimits.Filter`.
    fn filter(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
        let Some(new) = state.read::<NewVolumes>(STATE_KEY) else {
            return Ok(());
        };
        let index = &new.index;
        let new_volumes = match &new.volumes {
            Err(e) => return Err(Rejection::unresolvable(e)),
            Ok(v) if v.is_empty() => return Ok(()),
            Ok(v) => v,
        };
        // A node of the cycle's list: the CSINode checks and the cheap bound below, from
        // the facts PreFilter read for it.
        if let Some(k) = new.positions.position_of(node) {
            let Some((smallest_limit, attached)) = new.limits[k] else {
                return Ok(());
            };
            let bound = node.pod_claims + attached + new_volumes.len();
            if usize::try_from(smallest_limit).is_ok_and(|limit| bound <= limit) {
                return Ok(());
            }
        }
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
        let Some(smallest_limit) = smallest_limit(csi_node) else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{PersistentVolumeClaimVolumeSource, Volume};
    use crate::api::storage::{
        CSINodeDriver, CsiPersistentVolumeSource, VolumeAttachment, VolumeNodeResources,
    };
    use crate::api::{ObjectMeta, PersistentVolume, PersistentVolumeClaim, StorageClass};
    use crate::control::scheduler::cache::Cache;
    use crate::control::scheduler::framework::ClusterView;
    use crate::control::scheduler::plugins::testing::node;
    use crate::control::scheduler::volume_binder::STORAGE_STATE_KEY;

    const DRIVER: &str = "csi.example.com";

    fn pod(name: &str, node: &str, claims: &[String]) -> Rc<Pod> {
        let mut p = Pod {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        };
        p.metadata.uid = format!("uid-{name}");
        p.spec.node_name = node.into();
        p.spec.volumes = claims
            .iter()
            .map(|c| Volume {
                name: c.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: c.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        Rc::new(p)
    }

    /// A claim bound to a CSI volume of the same name (`bound`), or not bound yet.
    fn claim_objects(name: &str, bound: bool) -> Vec<AnyObject> {
        let mut c = PersistentVolumeClaim {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        };
        c.spec.storage_class_name = Some("csi".into());
        if !bound {
            return vec![AnyObject::PersistentVolumeClaim(Rc::new(c))];
        }
        c.spec.volume_name = format!("pv-{name}");
        let mut v = PersistentVolume {
            metadata: ObjectMeta::named("", &format!("pv-{name}")),
            ..Default::default()
        };
        v.spec.csi = Some(CsiPersistentVolumeSource {
            driver: DRIVER.into(),
            volume_handle: format!("handle-{name}"),
            ..Default::default()
        });
        vec![
            AnyObject::PersistentVolumeClaim(Rc::new(c)),
            AnyObject::PersistentVolume(Rc::new(v)),
        ]
    }

    fn csi_node(name: &str, limits: &[Option<i32>]) -> AnyObject {
        let mut n = CSINode {
            metadata: ObjectMeta::named("", name),
            ..Default::default()
        };
        n.spec.drivers = limits
            .iter()
            .enumerate()
            .map(|(i, count)| CSINodeDriver {
                name: if i == 0 {
                    DRIVER.into()
                } else {
                    format!("other-{i}")
                },
                node_id: name.into(),
                allocatable: Some(VolumeNodeResources { count: *count }),
                ..Default::default()
            })
            .collect();
        AnyObject::CSINode(Rc::new(n))
    }

    fn attachment(node: &str, pv: &str) -> AnyObject {
        let mut va = VolumeAttachment {
            metadata: ObjectMeta::named("", &format!("va-{node}-{pv}")),
            ..Default::default()
        };
        va.spec.node_name = node.into();
        va.spec.attacher = DRIVER.into();
        va.spec.source.persistent_volume_name = Some(pv.into());
        AnyObject::VolumeAttachment(Rc::new(va))
    }

    /// Filter answers a node of the cycle's list from the facts PreFilter read for its
    /// position (a walk of the index beside the list) exactly as it answers a copy of the
    /// same node from look-ups by name: CSINodes and VolumeAttachments for some nodes and
    /// not others, and for names outside the list, in between and at the ends.
    #[test]
    fn list_nodes_are_filtered_as_copies_of_them_are() {
        let names = ["a-1", "a-2", "b-1", "b-2", "b-3", "c-1", "d-1"];
        let mut objects = vec![AnyObject::StorageClass(Rc::new(StorageClass {
            metadata: ObjectMeta::named("", "csi"),
            provisioner: DRIVER.into(),
            ..Default::default()
        }))];
        let claim_names: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
        for (i, c) in claim_names.iter().enumerate() {
            objects.extend(claim_objects(c, i % 4 != 3));
        }
        // CSINodes: a limit of 2, no limit at all, a limit of 3 beside a larger one, a
        // node outside the list, a limit of 1, a limit of 10.
        objects.push(csi_node("a-2", &[Some(2)]));
        objects.push(csi_node("b-1", &[None]));
        objects.push(csi_node("b-2", &[Some(5), Some(3)]));
        objects.push(csi_node("b-2x", &[Some(1)]));
        objects.push(csi_node("b-3", &[Some(1)]));
        objects.push(csi_node("d-1", &[Some(10)]));
        objects.push(csi_node("z-9", &[Some(1)]));
        // VolumeAttachments, some of them on nodes outside the list.
        for (n, pv) in [
            ("a-1", "pv-c0"),
            ("a-2", "pv-c1"),
            ("a-3", "pv-c2"),
            ("b-2", "pv-c4"),
            ("b-2", "pv-c5"),
            ("b-3", "pv-c9"),
            ("c-1", "pv-c6"),
            ("zz", "pv-c6"),
        ] {
            objects.push(attachment(n, pv));
        }
        let mut index = StorageIndex::default();
        for o in &objects {
            index.on_watch(o, false);
        }
        let mut index = Rc::new(index);
        let mut cache = Cache::default();
        for n in names {
            cache.set_node(&Rc::new(node(n, "8", "8Gi")));
        }
        cache.add_pod(&pod("on-a2", "a-2", &claim_names[1..2]));
        cache.add_pod(&pod("on-b2", "b-2", &claim_names[6..8]));
        // One plugin over several cycles: its kept facts must follow the index and the
        // nodes as they change between cycles.
        let plugin = NodeVolumeLimits::default();
        let cycles = [
            (0..2, 0),
            (2..3, 3),
            (8..11, 5),
            (10..12, 6),
            (0..2, 2),
            (2..3, 1),
        ];
        for (cycle, (new_claims, start)) in cycles.into_iter().enumerate() {
            match cycle {
                // A new CSINode, then a lost attachment, then a relabelled Node.
                2 => {
                    Rc::make_mut(&mut index).on_watch(&csi_node("c-1", &[Some(1)]), false);
                }
                3 => {
                    Rc::make_mut(&mut index).on_watch(&attachment("b-3", "pv-c9"), true);
                }
                4 => {
                    let mut n = node("a-2", "8", "8Gi");
                    n.metadata.labels.insert("changed".into(), "yes".into());
                    cache.set_node(&Rc::new(n));
                    Rc::make_mut(&mut index).on_watch(&attachment("b-3", "pv-c3"), false);
                }
                _ => {}
            }
            let all = cache.shared_snapshot();
            let p = pod("new", "", &claim_names[new_claims.clone()]);
            let state = CycleState::new(&p).with_cluster(ClusterView {
                nodes: all.clone(),
                ..Default::default()
            });
            state.write(STORAGE_STATE_KEY, Rc::clone(&index));
            assert_eq!(plugin.pre_filter(&state, &p), PreFilterResult::AllNodes);
            let mut rejected = 0;
            for step in 0..all.len() {
                let info = &all[(start + step) % all.len()];
                let from_list = plugin.filter(&state, &p, info);
                let copy = (**info).clone();
                let from_copy = plugin.filter(&state, &p, &copy);
                assert_eq!(from_list, from_copy, "{} with {new_claims:?}", info.name);
                rejected += usize::from(from_list.is_err());
            }
            assert!(rejected > 0, "some node is full for {new_claims:?}");
        }
    }
}
