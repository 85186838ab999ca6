//! The desired state of the world (`cache/desired_state_of_world.go`): for every node the
//! controller manages, the attachable volumes that pods scheduled there need, with those
//! pods; filled by the informer handlers through `util.ProcessPodVolumes`.
//!
//! A pod adds its volumes while it is scheduled and not terminated (`DetermineVolumeAction`
//! with `IsPodTerminated`: terminal phase, or being deleted with no container running),
//! and removes them when it terminates or goes. Only bound claims whose volume is an
//! attachable CSI volume count.

use super::pod_claims::PodClaimIndex;
use super::{AttachDetachConfig, VolumeSpec};
use crate::api::pod::phase;
use crate::api::storage::CsiPersistentVolumeSource;
use crate::api::{PersistentVolume, PersistentVolumeClaim, Pod, Tables};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// One volume that should be attached to one node.
#[derive(Clone, Debug)]
pub struct VolumeToAttach {
    pub spec: VolumeSpec,
    /// The pods on the node that need it, by uid (`ScheduledPods`).
    pub scheduled_pods: BTreeMap<String, Rc<Pod>>,
    /// The Multi-Attach error was reported for this volume and node (once only).
    pub multi_attach_error_reported: bool,
}

#[derive(Default)]
pub struct DesiredState {
    /// Managed nodes (`nodesManaged`) and the volumes to attach to each, by unique name.
    nodes: BTreeMap<String, BTreeMap<String, VolumeToAttach>>,
    /// Per pod uid: the (volume, node) entries it holds.
    pods: BTreeMap<String, BTreeSet<(String, String)>>,
    /// (node, volume) entries added or given a new pod since the reconciler last looked.
    pub(super) added: BTreeSet<(String, String)>,
    /// (volume, node) entries removed since the reconciler last looked.
    pub(super) removed: BTreeSet<(String, String)>,
}

impl DesiredState {
    /// `AddNode`: the node's volumes are the controller's to attach.
    pub fn add_node(&mut self, node: &str) {
        self.nodes.entry(node.to_string()).or_default();
    }

    /// `DeleteNode`: refused while volumes are still desired there.
    pub fn delete_node(&mut self, node: &str) {
        if self.nodes.get(node).is_some_and(BTreeMap::is_empty) {
            self.nodes.remove(node);
        }
    }

    /// `VolumeExists`.
    pub fn volume_exists(&self, volume: &str, node: &str) -> bool {
        self.nodes.get(node).is_some_and(|v| v.contains_key(volume))
    }

    /// The entry of `volume` on `node`.
    pub fn get(&self, node: &str, volume: &str) -> Option<&VolumeToAttach> {
        self.nodes.get(node)?.get(volume)
    }

    /// Nodes where `volume` is desired.
    pub fn nodes_wanting(&self, volume: &str) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, v)| v.contains_key(volume))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// `SetMultiAttachError`.
    pub fn set_multi_attach_error(&mut self, volume: &str, node: &str) {
        if let Some(e) = self.nodes.get_mut(node).and_then(|v| v.get_mut(volume)) {
            e.multi_attach_error_reported = true;
        }
    }

    /// `GetVolumePodsOnNodes`: pods on `nodes` that need `volume`.
    pub fn volume_pods_on_nodes(&self, nodes: &[String], volume: &str) -> Vec<Rc<Pod>> {
        nodes
            .iter()
            .filter_map(|n| self.nodes.get(n)?.get(volume))
            .flat_map(|e| e.scheduled_pods.values().cloned())
            .collect()
    }

    /// `podAdd` / `podUpdate` / `podDelete`. Returns whether the desired state changed.
    pub fn on_pod(
        &mut self,
        pod: &Rc<Pod>,
        removed: bool,
        cache: &Tables,
        config: &AttachDetachConfig,
    ) -> bool {
        if pod.spec.node_name.is_empty() {
            // Not scheduled: not ours yet.
            return false;
        }
        let add = !removed && !is_pod_terminated(pod);
        self.process_pod_volumes(pod, add, cache, config)
    }

    /// The PVC worker (`syncPVCByKey`): a claim became bound, so pods that use it may now
    /// have an attachable volume.
    /// The pods come from `index` (`getPodsFromPVCIndex`), as the cache holds them now.
    pub fn on_claim_bound(
        &mut self,
        pvc: &PersistentVolumeClaim,
        index: &PodClaimIndex,
        cache: &Tables,
        config: &AttachDetachConfig,
    ) -> bool {
        let ns = &pvc.metadata.namespace;
        let name = &pvc.metadata.name;
        let users: Vec<Rc<Pod>> = index
            .pods_using(ns, name)
            .filter_map(|pod| cache.pods.get_by_parts(ns, pod))
            .filter(|p| p.claim_names().any(|c| c == name))
            .cloned()
            .collect();
        let mut changed = false;
        for pod in users {
            changed |= self.on_pod(&pod, false, cache, config);
        }
        changed
    }

    // Port of `util.ProcessPodVolumes`: adds or removes the pod's attachable volumes.
    fn process_pod_volumes(
        &mut self,
        pod: &Rc<Pod>,
        add: bool,
        cache: &Tables,
        config: &AttachDetachConfig,
    ) -> bool {
        let uid = &pod.metadata.uid;
        let node = &pod.spec.node_name;
        if !add {
            // Removal by what the pod was added with (upstream resolves the specs again;
            // its periodic populator sweep removes what that misses).
            let Some(entries) = self.pods.remove(uid) else {
                return false;
            };
            for (volume, node) in entries {
                self.delete_pod(uid, &volume, &node);
            }
            return true;
        }
        if !self.nodes.contains_key(node) {
            // The node is not (yet) managed by the controller: ignore the pod.
            return false;
        }
        let mut changed = false;
        for claim in pod.claim_names() {
            let Some(pv) = attachable_volume(&pod.metadata.namespace, claim, cache, config) else {
                continue;
            };
            let unique = unique_name(&pv.csi.driver, &pv.csi.volume_handle);
            changed |= self.add_pod(uid, pod, pv, &unique, node);
        }
        changed
    }

    /// `AddPod`. Returns whether anything new was recorded.
    fn add_pod(
        &mut self,
        uid: &str,
        pod: &Rc<Pod>,
        pv: AttachableVolume<'_>,
        volume: &str,
        node: &str,
    ) -> bool {
        let vols = self.nodes.get_mut(node).expect("checked by the caller");
        // The common case, a pod update of a pod already recorded: only its object is
        // refreshed (its (volume, node) entry in `pods` was recorded with it).
        if let Some(slot) = vols
            .get_mut(volume)
            .and_then(|e| e.scheduled_pods.get_mut(uid))
        {
            *slot = Rc::clone(pod);
            return false;
        }
        let entry = vols
            .entry(volume.to_string())
            .or_insert_with(|| VolumeToAttach {
                spec: pv.spec(),
                scheduled_pods: BTreeMap::new(),
                multi_attach_error_reported: false,
            });
        let new = entry
            .scheduled_pods
            .insert(uid.to_string(), Rc::clone(pod))
            .is_none();
        if new {
            self.added.insert((node.to_string(), volume.to_string()));
        }
        self.pods
            .entry(uid.to_string())
            .or_default()
            .insert((volume.to_string(), node.to_string()));
        new
    }

    /// `DeletePod`: the volume stays desired on the node while another pod there needs it.
    fn delete_pod(&mut self, uid: &str, volume: &str, node: &str) {
        let Some(vols) = self.nodes.get_mut(node) else {
            return;
        };
        if let Some(e) = vols.get_mut(volume) {
            e.scheduled_pods.remove(uid);
            if e.scheduled_pods.is_empty() {
                vols.remove(volume);
                self.removed.insert((volume.to_string(), node.to_string()));
            }
        }
    }
}

/// The unique volume name of an attachable CSI volume.
/// `<plugin>/<driver>^<handle>`, concatenated (built on every pod event that names a
/// volume, so without the formatting machinery).
fn unique_name(driver: &str, handle: &str) -> String {
    let plugin = crate::api::storage::CSI_PLUGIN_NAME;
    let mut name = String::with_capacity(plugin.len() + driver.len() + handle.len() + 2);
    name.push_str(plugin);
    name.push('/');
    name.push_str(driver);
    name.push('^');
    name.push_str(handle);
    name
}

/// An attachable volume as the cache holds it; its [`VolumeSpec`] (three copied strings)
/// is built only when a new entry needs it, not on every pod update that finds its entry.
#[derive(Clone, Copy)]
struct AttachableVolume<'a> {
    pv: &'a PersistentVolume,
    csi: &'a CsiPersistentVolumeSource,
}

impl AttachableVolume<'_> {
    fn spec(self) -> VolumeSpec {
        VolumeSpec {
            pv_name: self.pv.metadata.name.clone(),
            driver: self.csi.driver.clone(),
            handle: self.csi.volume_handle.clone(),
            multi_attach_allowed: self.pv.is_multi_attach_allowed(),
        }
    }
}

/// `CreateVolumeSpec` + `FindAttachablePluginBySpec` for a claim volume: the bound PV's CSI
/// source, if its driver needs attach. An unbound claim, a missing PV or a PV bound to
/// another claim is skipped (upstream logs "PVC is not bound" and the like).
fn attachable_volume<'a>(
    namespace: &str,
    claim: &str,
    cache: &'a Tables,
    config: &AttachDetachConfig,
) -> Option<AttachableVolume<'a>> {
    let pvc = cache.pvcs.get_by_parts(namespace, claim)?;
    if !pvc.is_bound() || pvc.spec.volume_name.is_empty() {
        return None;
    }
    let pv = cache.pvs.get_by_parts("", &pvc.spec.volume_name)?;
    let bound_here = pv
        .spec
        .claim_ref
        .as_ref()
        .is_some_and(|r| r.uid.is_empty() || r.uid == pvc.metadata.uid);
    if !bound_here {
        return None;
    }
    let csi = pv.spec.csi.as_ref()?;
    if !config.attach_required(&csi.driver) {
        return None;
    }
    Some(AttachableVolume { pv, csi })
}

/// `util.IsPodTerminated`: a terminal phase, or being deleted with no container running.
pub fn is_pod_terminated(pod: &Pod) -> bool {
    let s = &pod.status;
    s.phase == phase::FAILED
        || s.phase == phase::SUCCEEDED
        || (pod.metadata.deletion_timestamp.is_some()
            && s.container_statuses
                .iter()
                .all(|c| c.state.terminated.is_some() || c.state.waiting.is_some()))
}
