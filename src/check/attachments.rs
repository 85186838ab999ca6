//! Data safety of attachments, judged from the cloud's attachment state as the external
//! attacher changes it:
//!
//! - `rwo-multi-attach`: a volume that may not be attached to several nodes (access modes
//!   ReadWriteOnce or ReadWriteOncePod, i.e. neither ReadWriteMany nor ReadOnlyMany) is
//!   attached to two nodes at once (a detaching attachment still counts: the node can still
//!   write). Clouds that fence (EBS, PD, Azure Disk) refuse the second attachment, and the
//!   attach/detach controller never asks for it; a backend that does not fence plus a
//!   VolumeAttachment made by hand can get there. One finding per episode.
//! - `unsafe-force-detach`: a volume is detached from a node while a pod on that node that
//!   has it mounted still runs (its containers may still be writing): the six-minute force
//!   detach from a node that is not Ready but whose kubelet still runs the pod (a network
//!   partition), or the out-of-service taint on a node that is not really down. One
//!   finding per detach.

use super::Finding;
use crate::infra::csi::attacher::AttachmentChange;
use crate::infra::csi::cloud::{AttachState, Cloud};
use crate::infra::kubelet::NodeAgents;
use crate::time::SimTime;
use std::collections::BTreeSet;

pub const RWO_MULTI_ATTACH: &str = "rwo-multi-attach";
pub const UNSAFE_FORCE_DETACH: &str = "unsafe-force-detach";

#[derive(Default)]
pub struct Attachments {
    /// Disks (by handle) with an open `rwo-multi-attach` episode.
    open: BTreeSet<String>,
}

impl Attachments {
    pub fn on_change(
        &mut self,
        now: SimTime,
        c: &AttachmentChange,
        cloud: &Cloud,
        nodes: &NodeAgents,
        out: &mut Vec<Finding>,
    ) {
        let holders: Vec<&str> = cloud
            .disk(&c.handle)
            .map(|d| {
                d.attachments
                    .iter()
                    .filter(|(_, a)| a.state != AttachState::Attaching)
                    .map(|(n, _)| n.as_str())
                    .collect()
            })
            .unwrap_or_default();
        if c.attached {
            if !c.multi_attach_allowed && holders.len() >= 2 && self.open.insert(c.handle.clone()) {
                out.push(Finding::new(
                    now,
                    RWO_MULTI_ATTACH,
                    format!(
                        "volume {} (disk {}) is attached read-write to nodes {} at once",
                        c.pv,
                        c.handle,
                        holders.join(" and ")
                    ),
                ));
            }
            return;
        }
        if holders.len() < 2 {
            self.open.remove(&c.handle);
        }
        for (pod, uid) in nodes.volume_writers(&c.node, &c.pv) {
            out.push(Finding::new(
                now,
                UNSAFE_FORCE_DETACH,
                format!(
                    "volume {} was detached from node {} while pod {pod} (uid {uid}) still runs there and may be writing to it",
                    c.pv, c.node
                ),
            ));
        }
    }
}
