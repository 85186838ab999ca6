//! Which pod instance is each member of an app, where it runs, and which volume holds its
//! data — what an application process knows about itself, taken from its kubelet (a
//! container started or stopped) and from the volumes mounted into its pod.
//!
//! A member's data lives on its claim's PersistentVolume (or, without a claim, in the pod
//! instance itself, as an emptyDir). A member that starts on the volume it used before
//! keeps its data; the first start of each ordinal is part of the initial cluster (etcd's
//! `--initial-cluster-state=new`: every member starts empty together); any other start —
//! a new claim after the old one was deleted, a disk destroyed — starts with an empty
//! volume and must receive the data set before it counts.

use crate::api::{ObjectKey, PersistentVolumeClaim, Pod, Tables};
use std::collections::BTreeSet;

/// One member's pod instances and data.
#[derive(Clone, Debug, Default)]
pub struct MemberSlot {
    /// Live instances (uid, node index), oldest first. Normally at most one; two when a
    /// pod was force-deleted and replaced while the old process still runs on a node the
    /// control plane cannot reach.
    live: Vec<(String, u32)>,
    /// The volume the member's data lives on, if any is known to hold it.
    data: Option<String>,
    ever_started: bool,
}

impl MemberSlot {
    pub fn is_up(&self) -> bool {
        !self.live.is_empty()
    }

    /// The node of the newest live instance: the one peers and clients talk to.
    pub fn node(&self) -> Option<u32> {
        self.live.last().map(|(_, n)| *n)
    }

    /// An instance started on node `node` with its data on `volume`. Returns whether the
    /// member came up now, and if so whether its volume is empty.
    pub fn started(&mut self, uid: &str, node: u32, volume: String) -> Option<bool> {
        if self.live.iter().any(|(u, _)| u == uid) {
            return None;
        }
        let was_up = self.is_up();
        self.live.push((uid.to_string(), node));
        if was_up {
            return None;
        }
        let empty = self.ever_started && self.data.as_deref() != Some(volume.as_str());
        self.ever_started = true;
        self.data = Some(volume);
        Some(empty)
    }

    /// An instance stopped. Returns whether the member went down now.
    pub fn stopped(&mut self, uid: &str) -> bool {
        let before = self.live.len();
        self.live.retain(|(u, _)| u != uid);
        before > 0 && self.live.is_empty()
    }

    /// These disks were destroyed: a member whose data was on one of them has none.
    pub fn disks_lost(&mut self, lost: &BTreeSet<String>) {
        if self
            .data
            .as_ref()
            .is_some_and(|d| d.split(',').any(|v| lost.contains(v)))
        {
            self.data = None;
        }
    }
}

/// Where pod `key`'s data lives: the PersistentVolumes bound to its claims (sorted,
/// joined), or the pod instance itself when it mounts no bound claim.
pub fn data_volume(objects: &Tables, key: &ObjectKey, uid: &str) -> String {
    let mut volumes: Vec<String> = objects
        .get::<Pod>(key)
        .into_iter()
        .flat_map(|pod| pod.claim_names())
        .filter_map(|claim| {
            let pvc =
                objects.get::<PersistentVolumeClaim>(&ObjectKey::new(&key.namespace, claim))?;
            (!pvc.spec.volume_name.is_empty()).then(|| pvc.spec.volume_name.clone())
        })
        .collect();
    if volumes.is_empty() {
        return format!("pod:{uid}");
    }
    volumes.sort();
    volumes.join(",")
}
