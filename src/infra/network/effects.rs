//! What each network fault does to the network, worked out once when it starts and undone
//! exactly when it ends: links cut (a zone's network outage), endpoints powered off (a
//! zone's power outage), or a partition (traffic between endpoints of different groups
//! dropped, at the endpoints as iptables would, so it cannot be routed around).

use super::topology::Topology;
use crate::scenario::{Fault, NetTarget, ZoneOutageFlavour};
use petgraph::graph::EdgeIndex;

/// The effect of one active fault.
#[derive(Clone, Debug)]
pub(super) enum Effect {
    /// These directed links are down.
    Cut(Vec<EdgeIndex>),
    /// These nodes (and the control plane, if set) have no power.
    PowerOff {
        nodes: Vec<u32>,
        control_plane: bool,
    },
    Partition(Partition),
}

/// Each endpoint's group (by dense index), `None` = not part of the partition.
#[derive(Clone, Debug)]
pub(super) struct Partition {
    member: Vec<Option<usize>>,
    one_way: bool,
}

impl Partition {
    /// Whether packets from `from` to `to` (dense indices) are dropped.
    pub fn drops(&self, from: usize, to: usize) -> bool {
        match (self.member[from], self.member[to]) {
            (Some(a), Some(b)) if a != b => !self.one_way || (a == 0 && b == 1),
            _ => false,
        }
    }
}

/// The effect of `fault`, or `None` for the faults the network does not model.
pub(super) fn effect(topo: &Topology, fault: &Fault) -> Option<Effect> {
    Some(match fault {
        Fault::ZoneOutage {
            zone,
            flavour: ZoneOutageFlavour::Network,
        } => Effect::Cut(zone_cut(topo, zone)),
        Fault::ZoneOutage {
            zone,
            flavour: ZoneOutageFlavour::Power,
        } => {
            let z = topo.zone_names.get(zone).copied();
            Effect::PowerOff {
                nodes: z.map_or_else(Vec::new, |z| topo.zone_nodes[z as usize].clone()),
                control_plane: z.is_some() && topo.control_plane_zone == z,
            }
        }
        Fault::NetPartition { groups, one_way } => {
            Effect::Partition(partition(topo, groups, *one_way))
        }
        Fault::ControlPlanePartition { targets } => {
            let groups = [targets.clone(), vec![NetTarget::ControlPlane]];
            Effect::Partition(partition(topo, &groups, false))
        }
        _ => return None,
    })
}

/// A zone's network outage: its router loses its links to the other routers and to a
/// regional control plane. A control plane placed in the zone keeps its link and so stays
/// with the zone.
fn zone_cut(topo: &Topology, zone: &str) -> Vec<EdgeIndex> {
    let Some(&z) = topo.zone_names.get(zone) else {
        return Vec::new();
    };
    let router = topo.router(z);
    let mut cut = Vec::new();
    for o in (0..topo.zones).filter(|&o| o != z) {
        cut.extend(topo.links_between(router, topo.router(o)));
    }
    if topo.control_plane_zone.is_none() {
        let cp = topo.vertex(super::Endpoint::ControlPlane);
        cut.extend(topo.links_between(router, cp));
    }
    cut
}

/// Each endpoint's group. A zone target stands for its nodes, its clients and a control
/// plane placed in it; a node or `controlPlane` named on its own takes precedence over its
/// zone's group (so `[[zone-a], [worker-a-1]]` splits worker-a-1 from the rest of its zone).
/// Names the cluster does not have are ignored (the scenario loader refuses them).
fn partition(topo: &Topology, groups: &[Vec<NetTarget>], one_way: bool) -> Partition {
    let mut zone_group: Vec<Option<usize>> = vec![None; topo.zones as usize];
    let mut node_group: Vec<Option<usize>> = vec![None; topo.nodes as usize];
    let mut cp_group: Option<usize> = None;
    for (g, group) in groups.iter().enumerate() {
        for t in group {
            match t {
                NetTarget::Zone(name) => {
                    if let Some(&z) = topo.zone_names.get(name) {
                        zone_group[z as usize].get_or_insert(g);
                    }
                }
                NetTarget::Node(name) => {
                    if let Some(&n) = topo.node_names.get(name) {
                        node_group[n as usize].get_or_insert(g);
                    }
                }
                NetTarget::ControlPlane => {
                    cp_group.get_or_insert(g);
                }
            }
        }
    }
    let mut member = Vec::with_capacity(topo.endpoints());
    for n in 0..topo.nodes as usize {
        member.push(node_group[n].or(zone_group[topo.node_zone[n] as usize]));
    }
    member.push(cp_group.or(topo.control_plane_zone.and_then(|z| zone_group[z as usize])));
    member.extend(zone_group.iter().copied());
    Partition { member, one_way }
}
