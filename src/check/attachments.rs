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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::Informer;
    use crate::infra::csi::cloud::{CreateDisk, Placement};
    use crate::rng::RngStreams;
    use crate::time::SimDuration;

    fn world() -> (Cloud, NodeAgents) {
        let text = "apiVersion: stsim/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
  duration: 1m
  cluster:
    zones:
      - name: a
        nodePools: [ { name: w, count: 2, capacity: { cpu: \"4\", memory: 8Gi } } ]
";
        let s = crate::scenario::load_str(text, std::path::Path::new("t.yaml")).unwrap();
        let nodes: Vec<_> = s
            .cluster
            .zones
            .iter()
            .flat_map(|z| z.nodes.iter().cloned())
            .collect();
        let agents = NodeAgents::new(
            Informer::new(SimDuration::from_millis(10)),
            &nodes,
            &[],
            &s.timing,
            &RngStreams::new(1),
        );
        (Cloud::new(&s), agents)
    }

    fn change(handle: &str, node: &str, attached: bool, multi: bool) -> AttachmentChange {
        AttachmentChange {
            driver: "d".into(),
            handle: handle.into(),
            pv: "pvc-1".into(),
            node: node.into(),
            attached,
            multi_attach_allowed: multi,
        }
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn a_read_write_once_disk_on_two_nodes_is_one_finding_per_episode() {
        let (mut cloud, nodes) = world();
        let h = cloud
            .create_disk(
                CreateDisk {
                    driver: "d".into(),
                    name: "pvc-1".into(),
                    size_bytes: 1,
                    placement: Placement::Anywhere,
                    claim: None,
                },
                at(0),
            )
            .unwrap()
            .handle
            .clone();
        let mut check = Attachments::default();
        let mut out = Vec::new();
        for n in ["w-a-1", "w-a-2"] {
            cloud.attach_begin(&h, n, at(1)).unwrap();
            cloud.attach_end(&h, n, at(2)).unwrap();
            check.on_change(at(2), &change(&h, n, true, false), &cloud, &nodes, &mut out);
        }
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].invariant, RWO_MULTI_ATTACH);
        assert_eq!(
            out[0].message,
            format!(
                "volume pvc-1 (disk {h}) is attached read-write to nodes w-a-1 and w-a-2 at once"
            )
        );
        // Down to one node, then two again: a new episode.
        cloud.detach_end(&h, "w-a-2").unwrap();
        check.on_change(
            at(3),
            &change(&h, "w-a-2", false, false),
            &cloud,
            &nodes,
            &mut out,
        );
        cloud.attach_begin(&h, "w-a-2", at(4)).unwrap();
        cloud.attach_end(&h, "w-a-2", at(5)).unwrap();
        check.on_change(
            at(5),
            &change(&h, "w-a-2", true, false),
            &cloud,
            &nodes,
            &mut out,
        );
        assert_eq!(out.len(), 2);
        // A multi-attachable volume may be on both.
        let mut fine = Vec::new();
        Attachments::default().on_change(
            at(5),
            &change(&h, "w-a-2", true, true),
            &cloud,
            &nodes,
            &mut fine,
        );
        assert!(fine.is_empty());
    }

    #[test]
    fn a_detach_under_no_running_pod_is_fine() {
        let (cloud, nodes) = world();
        let mut out = Vec::new();
        Attachments::default().on_change(
            at(1),
            &change("h", "w-a-1", false, false),
            &cloud,
            &nodes,
            &mut out,
        );
        assert!(out.is_empty());
    }
}
