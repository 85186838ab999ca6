//! The scheduler's volume binder (`pkg/scheduler/framework/plugins/volumebinding/binder.go`,
//! `assume_cache.go`): the storage objects as the scheduler's informer has them, with the
//! claims and volumes the scheduler has *assumed* (a selected node written in memory
//! before the API write, a volume pre-bound in memory) laid over them; the checks the
//! VolumeBinding plugin makes per node (`GetPodVolumeClaims`, `FindPodVolumes`); and the
//! binding cycle's part (`AssumePodVolumes` at Reserve, `BindPodVolumes` at PreBind: the
//! API writes, then polling every second until the PV controller and the provisioner
//! have bound every claim, for at most `bindTimeoutSeconds`).
//!
//! The index is shared with each cycle's plugins through the cycle state
//! ([`STORAGE_STATE_KEY`]) as an `Rc`, so a cycle costs no copy; watch events update it
//! copy-on-write.

use super::events::EventResource;
use crate::api::key_ref::get_by_parts;
use crate::api::volume::{
    ANN_BIND_COMPLETED, ANN_SELECTED_NODE, BINDING_WAIT_FOR_FIRST_CONSUMER, INSTANT_PROVISIONER,
    claim_class, is_volume_bound_to_claim,
};
use crate::api::{
    AnyObject, CSINode, CSIStorageCapacity, Node, ObjectKey, PersistentVolume,
    PersistentVolumeClaim, Pod, StorageClass,
};
use crate::apiserver::ApiClient;
use crate::control::pv_controller::bind_volume_to_claim_object;
use crate::control::pv_controller::index::{check_node_affinity, find_matching_volume};
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// The cycle-state key under which each cycle's plugins find the [`StorageIndex`].
pub const STORAGE_STATE_KEY: &str = "VolumeBinding/storage";

/// `VolumeBindingArgs.bindTimeoutSeconds` default.
pub const BIND_TIMEOUT: SimDuration = SimDuration::from_secs(600);
/// `BindPodVolumes` polls the claims every second.
pub const BIND_POLL: SimDuration = SimDuration::from_secs(1);

/// `ErrReasonBindConflict`.
pub const ERR_REASON_BIND_CONFLICT: &str =
    "node(s) didn't find available persistent volumes to bind";
/// `ErrReasonNodeConflict`.
pub const ERR_REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// `ErrReasonNotEnoughSpace`: no CSIStorageCapacity reachable from the node has room for
/// a claim to provision (only for drivers with `storageCapacity: true`).
pub const ERR_REASON_NOT_ENOUGH_SPACE: &str = "node(s) did not have enough free storage";
/// `ErrReasonPVNotExist`.
pub const ERR_REASON_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";

/// The CSINodes, by node name.
pub type CsiNodes = BTreeMap<String, Rc<CSINode>>;
/// Per node name: the PV names of its VolumeAttachments, with their attacher.
pub type Attachments = BTreeMap<String, BTreeMap<String, String>>;

/// The storage objects the volume plugins read, with the scheduler's assumptions.
#[derive(Clone, Debug, Default)]
pub struct StorageIndex {
    claims: BTreeMap<ObjectKey, Rc<PersistentVolumeClaim>>,
    volumes: BTreeMap<String, Rc<PersistentVolume>>,
    classes: BTreeMap<String, Rc<StorageClass>>,
    /// Shared, so that a plugin may keep what it read from them while they are the same
    /// map (`Rc::ptr_eq`); a change copies them if a plugin holds them.
    csi_nodes: Rc<CsiNodes>,
    /// Per node: the PV names of its VolumeAttachments, with their attacher.
    attachments: Rc<Attachments>,
    /// `PVCAssumeCache` assumptions: claims with a selected node not yet written.
    assumed_claims: BTreeMap<ObjectKey, Rc<PersistentVolumeClaim>>,
    /// `PVAssumeCache` assumptions: volumes pre-bound in memory.
    assumed_volumes: BTreeMap<String, Rc<PersistentVolume>>,
    /// The `csiStorageCapacityLister`'s objects.
    capacities: BTreeMap<ObjectKey, Rc<CSIStorageCapacity>>,
    /// The drivers whose CSIDriver has `storageCapacity: true` (the `csiDriverLister`
    /// look-up of `hasEnoughCapacity`; fixed for the run).
    capacity_drivers: BTreeSet<String>,
}

impl StorageIndex {
    /// An empty index; `capacity_drivers` opt into the storage capacity check.
    pub fn new(capacity_drivers: BTreeSet<String>) -> Self {
        StorageIndex {
            capacity_drivers,
            ..Default::default()
        }
    }

    // `hasEnoughCapacity`: whether the provisioner can make a volume of the claim's size
    // reachable from `node`. Drivers that do not opt in, and claims without a storage
    // request, always have enough.
    pub fn has_enough_capacity(
        &self,
        provisioner: &str,
        claim: &PersistentVolumeClaim,
        class: &StorageClass,
        node: &Node,
    ) -> bool {
        let Some(quantity) = claim.requested_storage() else {
            return true;
        };
        if !self.capacity_drivers.contains(provisioner) {
            return true;
        }
        let size = quantity.units();
        self.capacities.values().any(|c| {
            c.storage_class_name == class.metadata.name
                && capacity_sufficient(c, size)
                && node_has_access(node, c)
        })
    }

    /// `GetPVC`: the assumed claim if there is one, else the informer's.
    pub fn claim(&self, namespace: &str, name: &str) -> Option<&Rc<PersistentVolumeClaim>> {
        if self.assumed_claims.is_empty() {
            return self.api_claim(namespace, name);
        }
        get_by_parts(&self.assumed_claims, namespace, name)
            .or_else(|| self.api_claim(namespace, name))
    }
    /// `GetAPIPVC`: the informer's claim. Searched with a key built for it: the many
    /// comparisons of a search in the whole table are inline then, where a search by
    /// borrowed parts makes each one a call (which costs more than the key's copy).
    pub fn api_claim(&self, namespace: &str, name: &str) -> Option<&Rc<PersistentVolumeClaim>> {
        self.claims.get(&ObjectKey::new(namespace, name))
    }
    /// `GetPV`.
    pub fn volume(&self, name: &str) -> Option<&Rc<PersistentVolume>> {
        self.assumed_volumes
            .get(name)
            .or_else(|| self.volumes.get(name))
    }
    /// `GetAPIPV`.
    pub fn api_volume(&self, name: &str) -> Option<&Rc<PersistentVolume>> {
        self.volumes.get(name)
    }
    /// `ListPVs(class)`: the volumes of a class, assumptions included.
    pub fn volumes_of_class(&self, class: &str) -> Vec<Rc<PersistentVolume>> {
        self.volumes
            .keys()
            .filter_map(|n| self.volume(n))
            .filter(|v| v.spec.storage_class_name == class)
            .cloned()
            .collect()
    }
    pub fn class(&self, name: &str) -> Option<&Rc<StorageClass>> {
        self.classes.get(name)
    }
    pub fn csi_node(&self, node: &str) -> Option<&Rc<CSINode>> {
        self.csi_nodes.get(node)
    }
    /// The volumes attached (by VolumeAttachment) to `node`: PV name → attacher.
    pub fn attachments_of(&self, node: &str) -> Option<&BTreeMap<String, String>> {
        self.attachments.get(node)
    }
    /// Every CSINode, by node name (the same `Rc` until one changes).
    pub fn csi_nodes(&self) -> &Rc<CsiNodes> {
        &self.csi_nodes
    }
    /// Every node's attached volumes ([`StorageIndex::attachments_of`]), by node name (the
    /// same `Rc` until one changes).
    pub fn attachments(&self) -> &Rc<Attachments> {
        &self.attachments
    }

    /// Whether the claim is of a class of the simulator's `instant` driver, whose claims
    /// never hold a pod back (see [`INSTANT_PROVISIONER`]).
    pub fn is_instant(&self, claim: &PersistentVolumeClaim) -> bool {
        self.classes
            .get(claim_class(claim))
            .is_some_and(|c| c.provisioner == INSTANT_PROVISIONER)
    }

    /// `IsDelayBindingMode` against this index.
    fn is_delay_binding(&self, claim: &PersistentVolumeClaim) -> bool {
        self.classes.get(claim_class(claim)).is_some_and(|c| {
            c.volume_binding_mode.as_deref() == Some(BINDING_WAIT_FOR_FIRST_CONSUMER)
        })
    }

    /// Applies a watch event of the scheduler's informer; returns the cluster-event
    /// resource it concerns (for the queue), if it is a storage object.
    pub fn on_watch(&mut self, obj: &AnyObject, removed: bool) -> Option<EventResource> {
        match obj {
            AnyObject::PersistentVolumeClaim(c) => {
                // A key is built (rather than the map searched by borrowed parts): the
                // search then compares keys inline, which costs less than the copy.
                let key = ObjectKey::of(&c.metadata);
                // A newer informer version replaces an assumption (`assumeCache.update`).
                if self.assumed_claims.get(&key).is_some_and(|a| {
                    a.metadata.resource_version_u64() < c.metadata.resource_version_u64()
                }) || removed
                {
                    self.assumed_claims.remove(&key);
                }
                if removed {
                    self.claims.remove(&key);
                } else {
                    self.claims.insert(key, Rc::clone(c));
                }
                Some(EventResource::PersistentVolumeClaim)
            }
            AnyObject::PersistentVolume(v) => {
                let name = v.metadata.name.as_str();
                if self.assumed_volumes.get(name).is_some_and(|a| {
                    a.metadata.resource_version_u64() < v.metadata.resource_version_u64()
                }) || removed
                {
                    self.assumed_volumes.remove(name);
                }
                if removed {
                    self.volumes.remove(name);
                } else if let Some(slot) = self.volumes.get_mut(name) {
                    *slot = Rc::clone(v);
                } else {
                    self.volumes.insert(name.to_string(), Rc::clone(v));
                }
                Some(EventResource::PersistentVolume)
            }
            AnyObject::StorageClass(c) => {
                if removed {
                    self.classes.remove(&c.metadata.name);
                } else {
                    self.classes.insert(c.metadata.name.clone(), Rc::clone(c));
                }
                Some(EventResource::StorageClass)
            }
            AnyObject::CSINode(n) => {
                if removed {
                    Rc::make_mut(&mut self.csi_nodes).remove(&n.metadata.name);
                } else {
                    Rc::make_mut(&mut self.csi_nodes).insert(n.metadata.name.clone(), Rc::clone(n));
                }
                Some(EventResource::CSINode)
            }
            AnyObject::CSIStorageCapacity(c) => {
                let key = ObjectKey::of(&c.metadata);
                if removed {
                    self.capacities.remove(&key);
                } else {
                    self.capacities.insert(key, Rc::clone(c));
                }
                Some(EventResource::CSIStorageCapacity)
            }
            AnyObject::VolumeAttachment(va) => {
                let node = &va.spec.node_name;
                let Some(pv) = &va.spec.source.persistent_volume_name else {
                    return None;
                };
                // The map changes (and is copied if a plugin holds it) only when the
                // attachment comes or goes, not on each write of a VolumeAttachment.
                let held = self
                    .attachments
                    .get(node.as_str())
                    .and_then(|m| m.get(pv.as_str()));
                if removed {
                    if held.is_some() {
                        let attachments = Rc::make_mut(&mut self.attachments);
                        let entry = attachments.get_mut(node.as_str()).expect("held above");
                        entry.remove(pv.as_str());
                        if entry.is_empty() {
                            attachments.remove(node.as_str());
                        }
                    }
                } else if held != Some(&va.spec.attacher) {
                    Rc::make_mut(&mut self.attachments)
                        .entry(node.clone())
                        .or_default()
                        .insert(pv.clone(), va.spec.attacher.clone());
                }
                Some(EventResource::VolumeAttachment)
            }
            _ => None,
        }
    }
}

/// `PodVolumeClaims`: a pod's claims, sorted into bound, unbound with delayed binding and
/// unbound immediate (which should be bound already), with the candidate volumes of the
/// delayed ones' classes.
#[derive(Clone, Debug, Default)]
pub struct PodVolumeClaims {
    pub bound: Vec<Rc<PersistentVolumeClaim>>,
    pub unbound_delay_binding: Vec<Rc<PersistentVolumeClaim>>,
    pub unbound_immediate: Vec<Rc<PersistentVolumeClaim>>,
    pub unbound_volumes_delay_binding: BTreeMap<String, Vec<Rc<PersistentVolume>>>,
}

/// `PodVolumes`: what binding a pod on one node takes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodVolumes {
    /// Claims to bind to existing volumes: (claim, the volume pre-bound to it).
    pub static_bindings: Vec<(Rc<PersistentVolumeClaim>, Rc<PersistentVolume>)>,
    /// Claims to provision (they get the selected node).
    pub dynamic_provisions: Vec<Rc<PersistentVolumeClaim>>,
}

/// `isPVCFullyBound`.
pub fn is_pvc_fully_bound(pvc: &PersistentVolumeClaim) -> bool {
    !pvc.spec.volume_name.is_empty() && pvc.metadata.annotations.contains_key(ANN_BIND_COMPLETED)
}

/// `podHasPVCs` + `GetPodVolumeClaims`: `Ok(None)` for a pod without claims; an error
/// (missing, lost or terminating claim) makes the pod unschedulable as is.
pub fn get_pod_volume_claims(
    pod: &Pod,
    index: &StorageIndex,
) -> Result<Option<PodVolumeClaims>, String> {
    let mut out = PodVolumeClaims::default();
    let mut has_pvc = false;
    let ns = &pod.metadata.namespace;
    for name in pod.claim_names() {
        has_pvc = true;
        let Some(pvc) = index.claim(ns, name) else {
            return Err(format!("persistentvolumeclaim {name:?} not found"));
        };
        if pvc.status.phase == "Lost" {
            return Err(format!(
                "persistentvolumeclaim {:?} bound to non-existent persistentvolume {:?}",
                pvc.metadata.name, pvc.spec.volume_name
            ));
        }
        if pvc.metadata.deletion_timestamp.is_some() {
            return Err(format!("persistentvolumeclaim {name:?} is being deleted"));
        }
        if is_pvc_fully_bound(pvc) {
            out.bound.push(Rc::clone(pvc));
        } else if index.is_instant(pvc) {
            // Storage that is simply there: nothing to check or wait for.
        } else if index.is_delay_binding(pvc) && pvc.spec.volume_name.is_empty() {
            out.unbound_delay_binding.push(Rc::clone(pvc));
        } else {
            // Immediate binding, or pre-bound by name: the PV controller binds it.
            out.unbound_immediate.push(Rc::clone(pvc));
        }
    }
    if !has_pvc {
        return Ok(None);
    }
    for pvc in &out.unbound_delay_binding {
        let class = claim_class(pvc).to_string();
        let mut vols = index.volumes_of_class(&class);
        // `FindMatchingVolume` passes over a volume bound to another claim before it
        // looks at anything else (the node included), so a volume bound to none of the
        // pod's claims is left out here, once, rather than stepped over for every node
        // Filter tries: every search finds what it would have found.
        vols.retain(|v| {
            v.spec.claim_ref.is_none()
                || out
                    .unbound_delay_binding
                    .iter()
                    .any(|c| is_volume_bound_to_claim(v, c))
        });
        out.unbound_volumes_delay_binding.insert(class, vols);
    }
    Ok(Some(out))
}

/// `GetLocalPersistentVolumeNodeNames`: the nodes a volume's `kubernetes.io/hostname`
/// affinity names.
fn local_volume_node_names(pv: &PersistentVolume) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(sel) = pv
        .spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
    else {
        return out;
    };
    for term in &sel.node_selector_terms {
        let mut nodes: Option<BTreeSet<String>> = None;
        for e in &term.match_expressions {
            if e.key == "kubernetes.io/hostname" && e.operator == "In" {
                let vals: BTreeSet<String> = e.values.iter().cloned().collect();
                nodes = Some(match nodes {
                    None => vals,
                    Some(n) => n.intersection(&vals).cloned().collect(),
                });
            }
        }
        out.extend(nodes.unwrap_or_default());
    }
    out
}

/// `GetEligibleNodes`: bound claims on node-local volumes narrow the nodes to theirs.
pub fn get_eligible_nodes(
    bound: &[Rc<PersistentVolumeClaim>],
    index: &StorageIndex,
) -> Option<BTreeSet<String>> {
    let mut eligible: Option<BTreeSet<String>> = None;
    for pvc in bound {
        let pv = index.volume(&pvc.spec.volume_name)?;
        let names = local_volume_node_names(pv);
        if names.is_empty() {
            continue;
        }
        eligible = Some(match eligible {
            None => names,
            Some(e) => e.intersection(&names).cloned().collect(),
        });
    }
    eligible
}

/// `FindPodVolumes`: whether `node` suits the pod's claims, with what binding it needs,
/// or the reasons it does not.
pub fn find_pod_volumes(
    claims: &PodVolumeClaims,
    node: &Node,
    index: &StorageIndex,
) -> (PodVolumes, Vec<&'static str>) {
    let mut pv = PodVolumes::default();
    let mut bound_ok = true;
    let mut bound_found = true;
    let mut unbound_ok = true;
    let mut sufficient_storage = true;
    // `checkBoundClaims`.
    for pvc in &claims.bound {
        match index.volume(&pvc.spec.volume_name) {
            None => {
                bound_found = false;
                break;
            }
            Some(v) if !check_node_affinity(v, node) => {
                bound_ok = false;
                break;
            }
            Some(_) => {}
        }
    }
    if !claims.unbound_delay_binding.is_empty() {
        let mut to_match = Vec::new();
        let mut to_provision = Vec::new();
        for c in &claims.unbound_delay_binding {
            match c.metadata.annotations.get(ANN_SELECTED_NODE) {
                Some(sel) if *sel != node.metadata.name => {
                    // Fast path: the claim already has another node.
                    unbound_ok = false;
                    break;
                }
                Some(_) => to_provision.push(Rc::clone(c)),
                None => to_match.push(Rc::clone(c)),
            }
        }
        if unbound_ok {
            // `findMatchingVolumes`: the smallest claims first.
            to_match.sort_by_key(|c| c.requested_storage().map_or(0, |q| q.units()));
            let mut chosen: BTreeSet<String> = BTreeSet::new();
            for c in to_match {
                let vols = claims
                    .unbound_volumes_delay_binding
                    .get(claim_class(&c))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                // No candidate, no match: the search (which first parses the claim's
                // size) is not run for nothing on every node.
                let found = if vols.is_empty() {
                    None
                } else {
                    find_matching_volume(&c, vols, Some(node), &chosen, true)
                };
                match found {
                    Some(v) => {
                        chosen.insert(v.metadata.name.clone());
                        pv.static_bindings.push((c, v));
                    }
                    None => {
                        unbound_ok = false;
                        to_provision.push(c);
                    }
                }
            }
            // `checkVolumeProvisions`.
            if !to_provision.is_empty() {
                unbound_ok = true;
                for c in &to_provision {
                    let Some(class) = index.class(claim_class(c)) else {
                        unbound_ok = false;
                        break;
                    };
                    if class.provisioner.is_empty()
                        || class.provisioner == "kubernetes.io/no-provisioner"
                        || !allowed_by_topology(class, node)
                    {
                        unbound_ok = false;
                        break;
                    }
                    // A claim that cannot fit fails the node with its own reason; the
                    // provisioning itself is still possible (`provisionSatisfied`).
                    if !index.has_enough_capacity(&class.provisioner, c, class, node) {
                        sufficient_storage = false;
                        break;
                    }
                }
                if unbound_ok && sufficient_storage {
                    pv.dynamic_provisions = to_provision;
                }
            }
        }
    }
    let mut reasons = Vec::new();
    if !bound_ok {
        reasons.push(ERR_REASON_NODE_CONFLICT);
    }
    if !unbound_ok {
        reasons.push(ERR_REASON_BIND_CONFLICT);
    }
    if !sufficient_storage {
        reasons.push(ERR_REASON_NOT_ENOUGH_SPACE);
    }
    if !bound_found {
        reasons.push(ERR_REASON_PV_NOT_EXIST);
    }
    (pv, reasons)
}

// `capacitySufficient`: `maximumVolumeSize` if set (it is more precise), else `capacity`;
// neither means no room.
fn capacity_sufficient(capacity: &CSIStorageCapacity, size_bytes: i128) -> bool {
    capacity
        .maximum_volume_size
        .as_ref()
        .or(capacity.capacity.as_ref())
        .is_some_and(|limit| limit.units() >= size_bytes)
}

// `nodeHasAccess`: the node's labels match the object's `nodeTopology` (unset: no node).
fn node_has_access(node: &Node, capacity: &CSIStorageCapacity) -> bool {
    capacity
        .node_topology
        .as_ref()
        .is_some_and(|t| t.matches(&node.metadata.labels))
}

/// `MatchTopologySelectorTerms`: the node satisfies one term of the class's
/// `allowedTopologies` (no terms: any node).
fn allowed_by_topology(class: &StorageClass, node: &Node) -> bool {
    class.allowed_topologies.is_empty()
        || class.allowed_topologies.iter().any(|t| {
            t.match_label_expressions.iter().all(|e| {
                node.metadata
                    .labels
                    .get(&e.key)
                    .is_some_and(|v| e.values.contains(v))
            })
        })
}

/// A pod in its binding cycle, waiting at PreBind for its claims to be bound.
#[derive(Clone, Debug)]
pub struct WaitingBind {
    pub node: String,
    pub volumes: PodVolumes,
    /// The `bindTimeoutSeconds` deadline.
    pub deadline: SimTime,
    /// The next poll.
    pub next_poll: SimTime,
}

impl StorageIndex {
    /// `AssumePodVolumes`: the static bindings' volumes pre-bound and the provisioned
    /// claims given the node, in memory. Returns whether every claim is bound already
    /// (nothing to do at PreBind) and the assumed objects.
    pub fn assume_pod_volumes(
        &mut self,
        pod: &Pod,
        node: &str,
        volumes: &PodVolumes,
    ) -> (bool, PodVolumes) {
        // Every claim is bound (those of the `instant` driver count as bound) exactly when
        // the filter found nothing to bind or provision.
        let _ = pod;
        if volumes.static_bindings.is_empty() && volumes.dynamic_provisions.is_empty() {
            return (true, PodVolumes::default());
        }
        let mut assumed = PodVolumes::default();
        for (claim, volume) in &volumes.static_bindings {
            let (next, dirty) = bind_volume_to_claim_object(volume, claim);
            let next = Rc::new(next);
            if dirty {
                self.assumed_volumes
                    .insert(next.metadata.name.clone(), Rc::clone(&next));
            }
            assumed.static_bindings.push((Rc::clone(claim), next));
        }
        for claim in &volumes.dynamic_provisions {
            let mut next = (**claim).clone();
            next.metadata
                .annotations
                .insert(ANN_SELECTED_NODE.into(), node.to_string());
            let next = Rc::new(next);
            self.assumed_claims
                .insert(ObjectKey::of(&next.metadata), Rc::clone(&next));
            assumed.dynamic_provisions.push(next);
        }
        (false, assumed)
    }

    /// `RevertAssumedPodVolumes`.
    pub fn revert_assumed_pod_volumes(&mut self, volumes: &PodVolumes) {
        for (_, v) in &volumes.static_bindings {
            self.assumed_volumes.remove(&v.metadata.name);
        }
        for c in &volumes.dynamic_provisions {
            self.assumed_claims.remove(&ObjectKey::of(&c.metadata));
        }
    }
}

/// `bindAPIUpdate`: the pre-bound volumes and the claims with their selected node are
/// written; the written objects replace the assumed ones for the checks that follow.
pub fn bind_api_update(client: &mut ApiClient<'_>, volumes: &mut PodVolumes) -> Result<(), String> {
    for (_, v) in volumes.static_bindings.iter_mut() {
        let saved = client.update((**v).clone()).map_err(|e| e.to_string())?;
        *v = saved;
    }
    for c in volumes.dynamic_provisions.iter_mut() {
        let saved = client.update((**c).clone()).map_err(|e| e.to_string())?;
        *c = saved;
    }
    Ok(())
}

/// `checkBindings`: `Ok(true)` once every claim the pod waits for is bound (to a volume
/// that suits the node), `Ok(false)` while they are not, `Err` when the binding failed
/// and the pod must be scheduled again.
pub fn check_bindings(
    pod: &Pod,
    node: Option<&Node>,
    volumes: &PodVolumes,
    index: &StorageIndex,
    pod_exists: bool,
) -> Result<bool, String> {
    let node_name = &pod.spec.node_name;
    let Some(node) = node else {
        return Err(format!(
            "failed to get node {node_name:?}: nodes {node_name:?} not found"
        ));
    };
    if !pod_exists {
        return Err(format!(
            "pod does not exist any more: pods {:?} not found",
            pod.metadata.name
        ));
    }
    for (claim, volume) in &volumes.static_bindings {
        let Some(pv) = index.api_volume(&volume.metadata.name) else {
            return Err(format!(
                "failed to check binding: cannot find volume {:?}",
                volume.metadata.name
            ));
        };
        let Some(pvc) = index.api_claim(&claim.metadata.namespace, &claim.metadata.name) else {
            return Err(format!(
                "failed to check binding: cannot find claim \"{}/{}\"",
                claim.metadata.namespace, claim.metadata.name
            ));
        };
        if volume.metadata.resource_version_u64() > pv.metadata.resource_version_u64() {
            return Ok(false); // our own write not seen yet
        }
        if !check_node_affinity(pv, node) {
            return Err(format!(
                "pv {:?} node affinity doesn't match node {:?}",
                pv.metadata.name, node.metadata.name
            ));
        }
        if pv.spec.claim_ref.as_ref().is_none_or(|r| r.uid.is_empty()) {
            return Err(format!("ClaimRef got reset for pv {:?}", pv.metadata.name));
        }
        if !is_pvc_fully_bound(pvc) {
            return Ok(false);
        }
    }
    for claim in &volumes.dynamic_provisions {
        let Some(pvc) = index.api_claim(&claim.metadata.namespace, &claim.metadata.name) else {
            return Err(format!(
                "failed to check provisioning pvc: cannot find claim \"{}/{}\"",
                claim.metadata.namespace, claim.metadata.name
            ));
        };
        if claim.metadata.resource_version_u64() > pvc.metadata.resource_version_u64() {
            return Ok(false);
        }
        let selected = pvc.metadata.annotations.get(ANN_SELECTED_NODE);
        if selected.is_none_or(|s| s != node_name) {
            // The provisioner gave the node back: schedule again.
            return Err(format!(
                "provisioning failed for PVC {:?}",
                pvc.metadata.name
            ));
        }
        if !pvc.spec.volume_name.is_empty() {
            let Some(pv) = index.api_volume(&pvc.spec.volume_name) else {
                return Ok(false); // not seen yet
            };
            if !check_node_affinity(pv, node) {
                return Err(format!(
                    "pv {:?} node affinity doesn't match node {:?}",
                    pv.metadata.name, node.metadata.name
                ));
            }
        }
        if !is_pvc_fully_bound(pvc) {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{PersistentVolumeClaimVolumeSource, Volume};
    use crate::api::scheduling::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
    use crate::api::storage::VolumeNodeAffinity;
    use crate::api::{ObjectMeta, Quantity};

    fn class(name: &str, provisioner: &str, mode: &str) -> AnyObject {
        AnyObject::StorageClass(Rc::new(StorageClass {
            metadata: ObjectMeta::named("", name),
            provisioner: provisioner.into(),
            volume_binding_mode: Some(mode.into()),
            ..Default::default()
        }))
    }

    fn claim(name: &str, class: &str, volume: &str) -> PersistentVolumeClaim {
        let mut c = PersistentVolumeClaim {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        };
        c.metadata.uid = format!("uid-{name}");
        c.metadata.resource_version = "5".into();
        c.spec.storage_class_name = Some(class.into());
        c.spec.access_modes = vec!["ReadWriteOnce".into()];
        c.spec
            .resources
            .requests
            .insert("storage".into(), Quantity("1Gi".into()));
        if !volume.is_empty() {
            c.spec.volume_name = volume.into();
            c.metadata
                .annotations
                .insert(ANN_BIND_COMPLETED.into(), "yes".into());
        }
        c
    }

    fn zonal_volume(name: &str, zone: &str) -> PersistentVolume {
        let mut v = PersistentVolume {
            metadata: ObjectMeta::named("", name),
            ..Default::default()
        };
        v.spec.node_affinity = Some(VolumeNodeAffinity {
            required: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: vec![NodeSelectorRequirement {
                        key: "topology.kubernetes.io/zone".into(),
                        operator: "In".into(),
                        values: vec![zone.into()],
                    }],
                    match_fields: Vec::new(),
                }],
            }),
        });
        v
    }

    fn node(name: &str, zone: &str) -> Node {
        let mut n = Node::default();
        n.metadata.name = name.into();
        n.metadata
            .labels
            .insert("topology.kubernetes.io/zone".into(), zone.into());
        n
    }

    fn pod(claims: &[&str]) -> Pod {
        let mut p = Pod {
            metadata: ObjectMeta::named("default", "p"),
            ..Default::default()
        };
        p.spec.volumes = claims
            .iter()
            .map(|c| Volume {
                name: c.to_string(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: c.to_string(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        p
    }

    fn index(objects: Vec<AnyObject>) -> StorageIndex {
        let mut i = StorageIndex::default();
        for o in objects {
            i.on_watch(&o, false);
        }
        i
    }

    #[test]
    fn claims_sort_into_bound_delayed_and_immediate_and_instant_ones_do_not_count() {
        let i = index(vec![
            class("wffc", "ebs.csi.aws.com", "WaitForFirstConsumer"),
            class("now", "ebs.csi.aws.com", "Immediate"),
            class("standard", INSTANT_PROVISIONER, "Immediate"),
            AnyObject::PersistentVolumeClaim(Rc::new(claim("bound", "now", "pv-1"))),
            AnyObject::PersistentVolumeClaim(Rc::new(claim("later", "wffc", ""))),
            AnyObject::PersistentVolumeClaim(Rc::new(claim("waiting", "now", ""))),
            AnyObject::PersistentVolumeClaim(Rc::new(claim("fast", "standard", ""))),
        ]);
        let c = get_pod_volume_claims(&pod(&["bound", "later", "waiting", "fast"]), &i)
            .unwrap()
            .unwrap();
        assert_eq!(c.bound.len(), 1);
        assert_eq!(c.unbound_delay_binding[0].metadata.name, "later");
        assert_eq!(c.unbound_immediate[0].metadata.name, "waiting");
        assert!(get_pod_volume_claims(&pod(&[]), &i).unwrap().is_none());
        assert_eq!(
            get_pod_volume_claims(&pod(&["nope"]), &i).unwrap_err(),
            "persistentvolumeclaim \"nope\" not found"
        );
    }

    #[test]
    fn bound_volumes_pin_pods_and_selected_nodes_take_the_fast_path() {
        let mut later = claim("later", "wffc", "");
        later
            .metadata
            .annotations
            .insert(ANN_SELECTED_NODE.into(), "a-1".into());
        let i = index(vec![
            class("wffc", "ebs.csi.aws.com", "WaitForFirstConsumer"),
            AnyObject::PersistentVolume(Rc::new(zonal_volume("pv-1", "zone-a"))),
            AnyObject::PersistentVolumeClaim(Rc::new(claim("bound", "wffc", "pv-1"))),
            AnyObject::PersistentVolumeClaim(Rc::new(later)),
        ]);
        let c = get_pod_volume_claims(&pod(&["bound"]), &i)
            .unwrap()
            .unwrap();
        assert!(
            find_pod_volumes(&c, &node("a-1", "zone-a"), &i)
                .1
                .is_empty()
        );
        assert_eq!(
            find_pod_volumes(&c, &node("b-1", "zone-b"), &i).1,
            [ERR_REASON_NODE_CONFLICT]
        );
        let c = get_pod_volume_claims(&pod(&["later"]), &i)
            .unwrap()
            .unwrap();
        let (vols, reasons) = find_pod_volumes(&c, &node("a-1", "zone-a"), &i);
        assert!(reasons.is_empty());
        assert_eq!(vols.dynamic_provisions.len(), 1);
        assert_eq!(
            find_pod_volumes(&c, &node("a-2", "zone-a"), &i).1,
            [ERR_REASON_BIND_CONFLICT]
        );
    }

    /// The candidate volumes `get_pod_volume_claims` keeps for the delayed claims give
    /// every node the volume a search of all the class's volumes would: volumes bound to
    /// other claims are left out, a volume pre-bound to one of the pod's claims and the
    /// Available ones stay, in order.
    #[test]
    fn candidate_volumes_match_as_the_whole_class_does() {
        use crate::api::ObjectReference;
        let volume = |name: &str, zone: &str, size: &str, bound_to: Option<&str>| {
            let mut v = zonal_volume(name, zone);
            v.spec.storage_class_name = "wffc".into();
            v.spec.access_modes = vec!["ReadWriteOnce".into()];
            v.spec
                .capacity
                .insert("storage".into(), Quantity(size.into()));
            v.status.phase = if bound_to.is_some() {
                "Bound"
            } else {
                "Available"
            }
            .into();
            v.spec.claim_ref = bound_to.map(|c| ObjectReference {
                namespace: "default".into(),
                name: c.into(),
                ..Default::default()
            });
            AnyObject::PersistentVolume(Rc::new(v))
        };
        let i = index(vec![
            class("wffc", "ebs.csi.aws.com", "WaitForFirstConsumer"),
            AnyObject::PersistentVolumeClaim(Rc::new(claim("one", "wffc", ""))),
            AnyObject::PersistentVolumeClaim(Rc::new(claim("two", "wffc", ""))),
            volume("pv-a", "zone-a", "1Gi", Some("other")),
            volume("pv-b", "zone-a", "5Gi", None),
            volume("pv-c", "zone-b", "1Gi", Some("two")),
            volume("pv-d", "zone-b", "2Gi", Some("else")),
            volume("pv-e", "zone-b", "3Gi", None),
            volume("pv-f", "zone-a", "2Gi", None),
        ]);
        let c = get_pod_volume_claims(&pod(&["one", "two"]), &i)
            .unwrap()
            .unwrap();
        let kept: Vec<&str> = c.unbound_volumes_delay_binding["wffc"]
            .iter()
            .map(|v| v.metadata.name.as_str())
            .collect();
        assert_eq!(kept, ["pv-b", "pv-c", "pv-e", "pv-f"]);
        let all = i.volumes_of_class("wffc");
        for n in [node("a-1", "zone-a"), node("b-1", "zone-b")] {
            for claim in &c.unbound_delay_binding {
                for excluded in [BTreeSet::new(), BTreeSet::from(["pv-f".to_string()])] {
                    let from_kept = find_matching_volume(
                        claim,
                        &c.unbound_volumes_delay_binding["wffc"],
                        Some(&n),
                        &excluded,
                        true,
                    );
                    let from_all = find_matching_volume(claim, &all, Some(&n), &excluded, true);
                    assert_eq!(
                        from_kept, from_all,
                        "{} on {}",
                        claim.metadata.name, n.metadata.name
                    );
                }
            }
        }
    }

    #[test]
    fn assumed_claims_are_seen_until_the_informer_brings_a_newer_version() {
        let later = claim("later", "wffc", "");
        let mut i = index(vec![
            class("wffc", "ebs.csi.aws.com", "WaitForFirstConsumer"),
            AnyObject::PersistentVolumeClaim(Rc::new(later.clone())),
        ]);
        let c = get_pod_volume_claims(&pod(&["later"]), &i)
            .unwrap()
            .unwrap();
        let (found, _) = find_pod_volumes(&c, &node("a-1", "zone-a"), &i);
        let (all_bound, assumed) = i.assume_pod_volumes(&pod(&["later"]), "a-1", &found);
        assert!(!all_bound);
        let seen = i.claim("default", "later").unwrap();
        assert_eq!(seen.metadata.annotations[ANN_SELECTED_NODE], "a-1");
        assert!(
            i.api_claim("default", "later")
                .unwrap()
                .metadata
                .annotations
                .is_empty()
        );
        // The written claim arrives from the informer: it replaces the assumption.
        let mut written = later.clone();
        written.metadata.resource_version = "6".into();
        written
            .metadata
            .annotations
            .insert(ANN_SELECTED_NODE.into(), "a-1".into());
        i.on_watch(
            &AnyObject::PersistentVolumeClaim(Rc::new(written.clone())),
            false,
        );
        assert_eq!(
            i.claim("default", "later")
                .unwrap()
                .metadata
                .resource_version,
            "6"
        );
        // The provisioner gives the node back: the binding fails.
        let mut given_back = written;
        given_back.metadata.resource_version = "7".into();
        given_back.metadata.annotations.clear();
        i.on_watch(
            &AnyObject::PersistentVolumeClaim(Rc::new(given_back)),
            false,
        );
        let mut bound_pod = pod(&["later"]);
        bound_pod.spec.node_name = "a-1".into();
        let n = node("a-1", "zone-a");
        let mut written_vols = assumed.clone();
        written_vols.dynamic_provisions[0] = i.api_claim("default", "later").unwrap().clone();
        assert_eq!(
            check_bindings(&bound_pod, Some(&n), &written_vols, &i, true).unwrap_err(),
            "provisioning failed for PVC \"later\""
        );
        i.revert_assumed_pod_volumes(&assumed);
    }

    fn capacity(
        class: &str,
        zone: Option<&str>,
        cap: Option<&str>,
        max: Option<&str>,
    ) -> AnyObject {
        let node_topology = zone.map(|z| {
            let mut t = crate::api::LabelSelector::default();
            t.match_labels
                .insert("topology.kubernetes.io/zone".into(), z.into());
            t
        });
        AnyObject::CSIStorageCapacity(Rc::new(CSIStorageCapacity {
            metadata: ObjectMeta::named("kube-system", &format!("c-{class}-{zone:?}-{cap:?}")),
            storage_class_name: class.into(),
            node_topology,
            capacity: cap.map(|c| Quantity(c.into())),
            maximum_volume_size: max.map(|c| Quantity(c.into())),
            ..Default::default()
        }))
    }

    /// Whether a 1Gi WFFC claim of class `wffc` fits on a zone-a node, given `objects`.
    fn fits(capacity_drivers: &[&str], objects: Vec<AnyObject>) -> Vec<&'static str> {
        let mut i = StorageIndex::new(capacity_drivers.iter().map(|d| d.to_string()).collect());
        i.on_watch(
            &class("wffc", "ebs.csi.aws.com", "WaitForFirstConsumer"),
            false,
        );
        i.on_watch(
            &AnyObject::PersistentVolumeClaim(Rc::new(claim("later", "wffc", ""))),
            false,
        );
        for o in objects {
            i.on_watch(&o, false);
        }
        let claims = get_pod_volume_claims(&pod(&["later"]), &i)
            .unwrap()
            .unwrap();
        let (volumes, reasons) = find_pod_volumes(&claims, &node("n-a", "zone-a"), &i);
        assert_eq!(
            volumes.dynamic_provisions.len(),
            usize::from(reasons.is_empty())
        );
        reasons
    }

    #[test]
    fn capacity_is_checked_only_for_drivers_that_opt_in() {
        // Not opted in: no objects needed.
        assert!(fits(&[], vec![]).is_empty());
        // Opted in, no object at all: no room.
        assert_eq!(
            fits(&["ebs.csi.aws.com"], vec![]),
            [ERR_REASON_NOT_ENOUGH_SPACE]
        );
    }

    #[test]
    fn capacity_must_match_class_topology_and_size() {
        let ebs = &["ebs.csi.aws.com"];
        let ok = |objects| fits(ebs, objects).is_empty();
        assert!(ok(vec![capacity(
            "wffc",
            Some("zone-a"),
            Some("1Gi"),
            None
        )]));
        // Too small, another zone, another class, no topology, no capacity.
        assert!(!ok(vec![capacity(
            "wffc",
            Some("zone-a"),
            Some("1023Mi"),
            None
        )]));
        assert!(!ok(vec![capacity(
            "wffc",
            Some("zone-b"),
            Some("1Ti"),
            None
        )]));
        assert!(!ok(vec![capacity(
            "other",
            Some("zone-a"),
            Some("1Ti"),
            None
        )]));
        assert!(!ok(vec![capacity("wffc", None, Some("1Ti"), None)]));
        assert!(!ok(vec![capacity("wffc", Some("zone-a"), None, None)]));
        // maximumVolumeSize, when set, is what counts.
        assert!(!ok(vec![capacity(
            "wffc",
            Some("zone-a"),
            Some("1Ti"),
            Some("512Mi")
        )]));
        assert!(ok(vec![capacity(
            "wffc",
            Some("zone-a"),
            Some("0"),
            Some("2Gi")
        )]));
        // One fitting object among others is enough.
        assert!(ok(vec![
            capacity("wffc", Some("zone-b"), Some("1Ti"), None),
            capacity("wffc", Some("zone-a"), Some("5Gi"), None),
        ]));
    }
}
