//! The volume manager's gate before containers start (`volumeManager.WaitForAttachAndMount`,
//! `pkg/kubelet/volumemanager/volume_manager.go`). Today a pod's volumes are ready as soon
//! as every PersistentVolumeClaim it mounts exists and is Bound (the desired-state
//! populator refuses unbound claims); other volume sources need nothing. The kubelet
//! re-checks waiting pods whenever its informer delivers a claim change.
//!
//! Later issues slot in here: attach (VolumeAttachment `attached`), mount latency, the
//! 2m3s timeout with its `FailedMount` Event, and the retry on the next pod sync.

use crate::api::{ObjectKey, Pod, Tables};

/// Why the pod's volumes are not ready: the claims not yet usable, in spec order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumesNotReady {
    /// Claims that do not exist (yet).
    pub missing: Vec<String>,
    /// Claims that exist but are not Bound.
    pub unbound: Vec<String>,
}

impl VolumesNotReady {
    /// One line for the timeline: why the pod waits.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "persistentvolumeclaim {} not found",
                self.missing.join(", ")
            ));
        }
        if !self.unbound.is_empty() {
            parts.push(format!(
                "persistentvolumeclaim {} not bound",
                self.unbound.join(", ")
            ));
        }
        format!("waiting for volumes: {}", parts.join("; "))
    }
}

/// Whether the pod's volumes are ready to be used, judged from the kubelet's informer.
pub fn volumes_ready(pod: &Pod, cache: &Tables) -> Result<(), VolumesNotReady> {
    let mut missing = Vec::new();
    let mut unbound = Vec::new();
    for claim in pod.claim_names() {
        let key = ObjectKey::new(&pod.metadata.namespace, claim);
        match cache.pvcs.get(&key) {
            None => missing.push(claim.to_string()),
            Some(pvc) if !pvc.is_bound() => unbound.push(claim.to_string()),
            Some(_) => {}
        }
    }
    if missing.is_empty() && unbound.is_empty() {
        Ok(())
    } else {
        Err(VolumesNotReady { missing, unbound })
    }
}
