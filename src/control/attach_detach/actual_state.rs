//! The actual state of the world (`cache/actual_state_of_world.go`): which volumes the
//! controller believes attached to which nodes — confirmed, or uncertain after a failed
//! operation — whether the node reports them mounted (`volumesInUse`), since when each has
//! been undesired, and the volumes each node's status must list as attached; plus the node
//! status updater (`statusupdater/node_status_updater.go`) that writes that list.

use super::VolumeSpec;
use crate::api::Node;
use crate::api::ObjectKey;
use crate::api::node::AttachedVolume as NodeAttachedVolume;
use crate::apiserver::Actor;
use crate::component::Ctx;
use crate::control::ControlTimer;
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// `AttachState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachState {
    Attached,
    Uncertain,
    Detached,
}

/// One node a volume is (or may be) attached to (`nodeAttachedTo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeAttachedTo {
    /// Attach confirmed; false = uncertain (a failed attach or detach left it unknown).
    pub attached_confirmed: bool,
    /// The node lists the volume in `volumesInUse` (assumed true until a node status says
    /// otherwise: "Assume mounted, until proven otherwise").
    pub mounted_by_node: bool,
    /// When the reconciler first saw it undesired (the unmount wait's start).
    pub detach_requested: Option<SimTime>,
}

#[derive(Clone, Debug)]
pub struct AttachedVolume {
    pub spec: VolumeSpec,
    pub nodes: BTreeMap<String, NodeAttachedTo>,
}

#[derive(Default)]
struct NodeToUpdate {
    update_needed: bool,
    volumes: BTreeSet<String>,
}

#[derive(Default)]
pub struct ActualState {
    volumes: BTreeMap<String, AttachedVolume>,
    /// The volumes with an entry on each node (the same entries as `volumes`, by node), so
    /// that a node's status event visits that node's volumes instead of every volume.
    by_node: BTreeMap<String, BTreeSet<String>>,
    nodes_to_update: BTreeMap<String, NodeToUpdate>,
    /// Volumes whose entries were added, changed or removed since the reconciler looked.
    pub(super) changed: BTreeSet<String>,
}

impl ActualState {
    /// `MarkVolumeAsAttached` (`AddVolumeNode` with `isAttached`).
    pub fn mark_attached(&mut self, volume: &str, spec: &VolumeSpec, node: &str) {
        self.add_volume_node(volume, spec, node, true);
    }

    /// `MarkVolumeAsUncertain` (`AddVolumeNode` without `isAttached`).
    pub fn mark_uncertain(&mut self, volume: &str, spec: &VolumeSpec, node: &str) {
        self.add_volume_node(volume, spec, node, false);
    }

    fn add_volume_node(&mut self, volume: &str, spec: &VolumeSpec, node: &str, attached: bool) {
        self.changed.insert(volume.to_string());
        let v = self
            .volumes
            .entry(volume.to_string())
            .or_insert_with(|| AttachedVolume {
                spec: spec.clone(),
                nodes: BTreeMap::new(),
            });
        v.spec = spec.clone();
        let mut added = false;
        v.nodes
            .entry(node.to_string())
            .and_modify(|n| n.attached_confirmed = attached)
            .or_insert_with(|| {
                added = true;
                NodeAttachedTo {
                    attached_confirmed: attached,
                    mounted_by_node: true,
                    detach_requested: None,
                }
            });
        if added {
            self.by_node
                .entry(node.to_string())
                .or_default()
                .insert(volume.to_string());
        }
        if attached {
            self.add_volume_to_report_as_attached(volume, node);
        }
    }

    /// `MarkVolumeAsDetached` (`DeleteVolumeNode`).
    pub fn mark_detached(&mut self, volume: &str, node: &str) {
        self.changed.insert(volume.to_string());
        if let Some(v) = self.volumes.get_mut(volume) {
            if v.nodes.remove(node).is_some()
                && let Some(vols) = self.by_node.get_mut(node)
            {
                vols.remove(volume);
                if vols.is_empty() {
                    self.by_node.remove(node);
                }
            }
            if v.nodes.is_empty() {
                self.volumes.remove(volume);
            }
        }
        self.remove_volume_from_report_as_attached(volume, node);
    }

    /// `GetAttachState`.
    pub fn attach_state(&self, volume: &str, node: &str) -> AttachState {
        match self.volumes.get(volume).and_then(|v| v.nodes.get(node)) {
            Some(n) if n.attached_confirmed => AttachState::Attached,
            Some(_) => AttachState::Uncertain,
            None => AttachState::Detached,
        }
    }

    /// `GetAttachedVolumes`: every (volume, node) entry, confirmed or not.
    #[cfg(test)]
    pub fn attached_volumes(&self) -> Vec<(String, String, VolumeSpec, NodeAttachedTo)> {
        self.volumes
            .iter()
            .flat_map(|(v, a)| {
                a.nodes
                    .iter()
                    .map(move |(n, s)| (v.clone(), n.clone(), a.spec.clone(), s.clone()))
            })
            .collect()
    }

    /// The entry of `volume` on `node`, with the volume's spec.
    pub fn get(&self, volume: &str, node: &str) -> Option<(&VolumeSpec, &NodeAttachedTo)> {
        let v = self.volumes.get(volume)?;
        Some((&v.spec, v.nodes.get(node)?))
    }

    /// Nodes `volume` is (possibly) attached to.
    pub fn nodes_of(&self, volume: &str) -> Vec<String> {
        self.volumes
            .get(volume)
            .map_or_else(Vec::new, |v| v.nodes.keys().cloned().collect())
    }

    /// `GetNodesForAttachedVolume`: nodes the volume is confirmed attached to.
    pub fn nodes_for_attached_volume(&self, volume: &str) -> Vec<String> {
        self.volumes.get(volume).map_or_else(Vec::new, |v| {
            v.nodes
                .iter()
                .filter(|(_, s)| s.attached_confirmed)
                .map(|(n, _)| n.clone())
                .collect()
        })
    }

    /// Whether any volume is (possibly) attached to `node`.
    pub fn has_node(&self, node: &str) -> bool {
        self.by_node.contains_key(node)
    }

    /// `SetVolumesMountedByNode` from the node's `volumesInUse`: each volume attached there
    /// is mounted exactly when listed. Returns whether anything changed.
    pub fn set_volumes_mounted_by_node(&mut self, node: &str, in_use: &[String]) -> bool {
        let mut changed = false;
        let Some(names) = self.by_node.get(node) else {
            return false;
        };
        // Sorted once, searched per volume (a node lists a few dozen volumes).
        let mut in_use: Vec<&str> = in_use.iter().map(String::as_str).collect();
        in_use.sort_unstable();
        for name in names {
            let n = self
                .volumes
                .get_mut(name)
                .and_then(|v| v.nodes.get_mut(node))
                .expect("by_node lists only entries of volumes");
            let mounted = in_use.binary_search(&name.as_str()).is_ok();
            changed |= n.mounted_by_node != mounted;
            n.mounted_by_node = mounted;
        }
        changed
    }

    /// `SetDetachRequestTime`: records the first time the volume was seen undesired and
    /// returns how long ago that was.
    pub fn set_detach_request_time(
        &mut self,
        volume: &str,
        node: &str,
        now: SimTime,
    ) -> SimDuration {
        let Some(n) = self
            .volumes
            .get_mut(volume)
            .and_then(|v| v.nodes.get_mut(node))
        else {
            return SimDuration::ZERO;
        };
        let since = *n.detach_requested.get_or_insert(now);
        now.saturating_since(since)
    }

    /// `ResetDetachRequestTime`: a pod on the node wants the volume again.
    pub fn reset_detach_request_time(&mut self, volume: &str, node: &str) {
        if let Some(n) = self
            .volumes
            .get_mut(volume)
            .and_then(|v| v.nodes.get_mut(node))
        {
            n.detach_requested = None;
        }
    }

    /// `RemoveVolumeFromReportAsAttached`: the node status must stop listing it before the
    /// detach starts ("no longer safe to mount").
    pub fn remove_volume_from_report_as_attached(&mut self, volume: &str, node: &str) {
        if let Some(n) = self.nodes_to_update.get_mut(node)
            && n.volumes.remove(volume)
        {
            n.update_needed = true;
        }
    }

    /// `AddVolumeToReportAsAttached`, for an entry still in the actual state.
    pub fn add_volume_to_report_as_attached(&mut self, volume: &str, node: &str) {
        let present = self
            .volumes
            .get(volume)
            .is_some_and(|v| v.nodes.contains_key(node));
        if !present {
            return;
        }
        let n = self
            .nodes_to_update
            .entry(node.to_string())
            .or_insert_with(|| NodeToUpdate {
                update_needed: true,
                volumes: BTreeSet::new(),
            });
        if n.volumes.insert(volume.to_string()) {
            n.update_needed = true;
        }
    }

    /// Nodes whose status must be written again.
    fn nodes_needing_update(&self) -> Vec<String> {
        self.nodes_to_update
            .iter()
            .filter(|(_, n)| n.update_needed)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// `UpdateNodeStatuses`: every node whose attached list changed.
    pub fn update_node_statuses(&mut self, actor: &Actor, ctx: &mut Ctx<'_, ControlTimer>) {
        for node in self.nodes_needing_update() {
            self.update_node_status_for_node(&node, actor, ctx);
        }
    }

    /// `UpdateNodeStatusForNode` (`processNodeVolumes` + `updateNodeStatus`): patches
    /// `status.volumesAttached`, leaving the rest of the status (the kubelet's) alone. A
    /// node that does not exist is skipped without retry, as upstream does.
    pub fn update_node_status_for_node(
        &mut self,
        node: &str,
        actor: &Actor,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        let Some(entry) = self.nodes_to_update.get_mut(node) else {
            return;
        };
        if !entry.update_needed {
            return;
        }
        entry.update_needed = false;
        let mut client = ctx.client(actor);
        let Some(live) = client.get::<Node>(&ObjectKey::cluster(node)) else {
            return;
        };
        // Compared in place: the list is built only when it changed.
        let listed = &live.status.volumes_attached;
        if listed.len() == entry.volumes.len()
            && listed
                .iter()
                .zip(&entry.volumes)
                .all(|(l, v)| l.name == *v && l.device_path.is_empty())
        {
            return;
        }
        let attached: Vec<NodeAttachedVolume> = entry
            .volumes
            .iter()
            .map(|v| NodeAttachedVolume {
                name: v.clone(),
                device_path: String::new(),
            })
            .collect();
        // The name and the status only: all the status subresource reads of a cluster-scoped
        // object (a status patch of one field: no resourceVersion precondition). The status
        // is copied but for the list it replaces.
        let crate::api::node::NodeStatus {
            capacity,
            allocatable,
            conditions,
            volumes_in_use,
            volumes_attached: _,
        } = &live.status;
        let next = Node {
            metadata: crate::api::ObjectMeta {
                name: live.metadata.name.clone(),
                ..Default::default()
            },
            status: crate::api::node::NodeStatus {
                capacity: capacity.clone(),
                allocatable: allocatable.clone(),
                conditions: conditions.clone(),
                volumes_in_use: volumes_in_use.clone(),
                volumes_attached: attached,
            },
            ..Default::default()
        };
        if client.update_status(&next).is_err()
            && let Some(e) = self.nodes_to_update.get_mut(node)
        {
            e.update_needed = true;
        }
    }

    /// The volumes `node`'s status should list (for tests and checks).
    #[cfg(test)]
    pub fn reported(&self, node: &str) -> Vec<String> {
        self.nodes_to_update
            .get(node)
            .map_or_else(Vec::new, |n| n.volumes.iter().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VolumeSpec {
        VolumeSpec {
            pv_name: "pvc-1".into(),
            driver: "d".into(),
            handle: "h".into(),
            multi_attach_allowed: false,
        }
    }

    #[test]
    fn attached_volumes_are_assumed_mounted_until_the_node_says_otherwise() {
        let mut a = ActualState::default();
        a.mark_attached("v", &spec(), "n1");
        let e = &a.attached_volumes()[0].3;
        assert!(e.attached_confirmed && e.mounted_by_node);
        assert_eq!(a.reported("n1"), ["v"]);
        assert!(a.set_volumes_mounted_by_node("n1", &[]));
        assert!(!a.attached_volumes()[0].3.mounted_by_node);
        // Re-adding keeps what the node said.
        a.mark_attached("v", &spec(), "n1");
        assert!(!a.attached_volumes()[0].3.mounted_by_node);
        assert!(a.set_volumes_mounted_by_node("n1", &["v".into()]));
    }

    #[test]
    fn uncertain_entries_are_not_reported_and_not_exclusive() {
        let mut a = ActualState::default();
        a.mark_uncertain("v", &spec(), "n1");
        assert_eq!(a.attach_state("v", "n1"), AttachState::Uncertain);
        assert!(a.reported("n1").is_empty());
        assert!(a.nodes_for_attached_volume("v").is_empty());
        a.mark_attached("v", &spec(), "n1");
        assert_eq!(a.nodes_for_attached_volume("v"), ["n1"]);
        a.mark_detached("v", "n1");
        assert_eq!(a.attach_state("v", "n1"), AttachState::Detached);
        assert!(a.reported("n1").is_empty());
    }

    #[test]
    fn the_detach_request_time_is_the_first_sighting() {
        let mut a = ActualState::default();
        a.mark_attached("v", &spec(), "n1");
        let t = |s| SimTime::ZERO + SimDuration::from_secs(s);
        assert_eq!(
            a.set_detach_request_time("v", "n1", t(10)),
            SimDuration::ZERO
        );
        assert_eq!(
            a.set_detach_request_time("v", "n1", t(70)),
            SimDuration::from_secs(60)
        );
        a.reset_detach_request_time("v", "n1");
        assert_eq!(
            a.set_detach_request_time("v", "n1", t(80)),
            SimDuration::ZERO
        );
    }
}
