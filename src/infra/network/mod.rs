//! The network between the nodes, the control plane (API server and controllers) and each
//! zone's clients: who can reach whom right now, and how long a packet takes.
//!
//! Shape (`topology.rs`): every node and its zone's clients hang off a zone router with
//! `intraZoneLatency`, the zone routers are fully meshed with `interZoneLatency`, and the
//! control plane hangs off its zone's router or, when regional, off every router with
//! `controlPlaneLatency`. Latencies add up along the shortest path, so with the defaults
//! (200us, 1ms, 1ms): node to node in one zone 400us (two hops through the router), across
//! zones 1.4ms, node to a regional control plane 1.2ms, to a zonal one in another zone
//! 2.2ms.
//!
//! Faults (`effects.rs`): a zone's network outage cuts its router from the other routers
//! and from a regional control plane; a zone's power outage powers off its nodes and a
//! control plane placed there (its router and clients stay up); partitions drop traffic
//! between groups of endpoints, one way or both. Node crashes and reboots are the engine's:
//! it calls [`Network::set_node_powered`]. Overlapping faults combine; ending one undoes
//! only what it did (cuts and power-offs are counted, not flagged).
//!
//! Answers are cached per epoch (every change bumps it and clears the caches), so repeated
//! queries cost a map lookup.

mod effects;
mod topology;

#[cfg(test)]
mod tests;

use crate::scenario::{ClusterSpec, Fault};
use crate::time::SimDuration;
use effects::Effect;
use std::collections::BTreeMap;
use topology::Topology;

/// Something that sends and receives traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    /// A node, by index in `ClusterSpec.zones[*].nodes[*]` order (the kubelets' order).
    Node(u32),
    /// The API server and the controllers.
    ControlPlane,
    /// The clients of a zone (by index in `ClusterSpec.zones`).
    Clients(u32),
}

pub struct Network {
    topo: Topology,
    /// How many active faults cut each directed link (by edge index).
    link_cuts: Vec<u32>,
    /// Nodes the engine powered off (crash, reboot).
    engine_off: Vec<bool>,
    /// How many active power outages cover each node.
    fault_off: Vec<u32>,
    /// How many active power outages cover the control plane.
    control_plane_off: u32,
    /// By the fault's index in the scenario.
    active: BTreeMap<usize, Effect>,
    epoch: u64,
    /// Shortest-path latencies (ns) from a source (dense index) to every endpoint.
    paths_from: BTreeMap<usize, Vec<Option<u64>>>,
    /// Shortest-path latencies (ns) from every endpoint to a target (dense index).
    paths_to: BTreeMap<usize, Vec<Option<u64>>>,
    /// One-way latency, `None` = unreachable.
    answers: BTreeMap<(Endpoint, Endpoint), Option<SimDuration>>,
    cut_from_control_plane: Option<Vec<u32>>,
}

impl Network {
    pub fn new(cluster: &ClusterSpec) -> Self {
        let topo = Topology::new(cluster);
        let nodes = topo.nodes as usize;
        Network {
            link_cuts: vec![0; topo.graph.edge_count()],
            engine_off: vec![false; nodes],
            fault_off: vec![0; nodes],
            control_plane_off: 0,
            active: BTreeMap::new(),
            epoch: 0,
            paths_from: BTreeMap::new(),
            paths_to: BTreeMap::new(),
            answers: BTreeMap::new(),
            cut_from_control_plane: None,
            topo,
        }
    }

    pub fn node_index(&self, name: &str) -> Option<u32> {
        self.topo.node_names.get(name).copied()
    }

    pub fn zone_index(&self, zone: &str) -> Option<u32> {
        self.topo.zone_names.get(zone).copied()
    }

    pub fn nodes_in_zone(&self, zone: &str) -> Vec<u32> {
        self.zone_index(zone)
            .map_or_else(Vec::new, |z| self.topo.zone_nodes[z as usize].clone())
    }

    /// Applies fault number `index` of the scenario (its start); returns false and changes
    /// nothing for faults the network does not model (storage faults, NodeCrash,
    /// NodeReboot, KubeletStop, ApiServerOutage).
    pub fn start_fault(&mut self, index: usize, fault: &Fault) -> bool {
        let Some(effect) = effects::effect(&self.topo, fault) else {
            return false;
        };
        // The same fault started twice replaces itself rather than stacking.
        self.end_fault(index);
        self.apply(&effect, true);
        self.active.insert(index, effect);
        self.changed();
        true
    }

    /// Ends fault `index` (no-op if it was not a network fault).
    pub fn end_fault(&mut self, index: usize) {
        if let Some(effect) = self.active.remove(&index) {
            self.apply(&effect, false);
            self.changed();
        }
    }

    fn apply(&mut self, effect: &Effect, on: bool) {
        let step = |count: &mut u32| {
            *count = if on {
                *count + 1
            } else {
                count.saturating_sub(1)
            };
        };
        match effect {
            Effect::Cut(links) => {
                for e in links {
                    step(&mut self.link_cuts[e.index()]);
                }
            }
            Effect::PowerOff {
                nodes,
                control_plane,
            } => {
                for &n in nodes {
                    step(&mut self.fault_off[n as usize]);
                }
                if *control_plane {
                    step(&mut self.control_plane_off);
                }
            }
            Effect::Partition(_) => {}
        }
    }

    pub fn set_node_powered(&mut self, node: u32, on: bool) {
        if let Some(off) = self.engine_off.get_mut(node as usize)
            && *off == on
        {
            *off = !on;
            self.changed();
        }
    }

    pub fn node_powered(&self, node: u32) -> bool {
        let n = node as usize;
        n < self.engine_off.len() && !self.engine_off[n] && self.fault_off[n] == 0
    }

    pub fn control_plane_up(&self) -> bool {
        self.control_plane_off == 0
    }

    /// Packets from `from` get to `to` (one direction). A powered-off endpoint reaches
    /// nothing and is reached by nothing.
    pub fn reachable(&mut self, from: Endpoint, to: Endpoint) -> bool {
        self.latency(from, to).is_some()
    }

    /// Request and response both get through (reachable both ways): what a TCP exchange
    /// needs.
    pub fn connected(&mut self, a: Endpoint, b: Endpoint) -> bool {
        self.reachable(a, b) && self.reachable(b, a)
    }

    /// One-way latency of the shortest path, None if unreachable.
    pub fn latency(&mut self, from: Endpoint, to: Endpoint) -> Option<SimDuration> {
        if let Some(&answer) = self.answers.get(&(from, to)) {
            return answer;
        }
        let answer = self.compute(from, to);
        self.answers.insert((from, to), answer);
        answer
    }

    fn compute(&mut self, from: Endpoint, to: Endpoint) -> Option<SimDuration> {
        if !self.topo.contains(from) || !self.topo.contains(to) || !self.up(from) || !self.up(to) {
            return None;
        }
        if from == to {
            return Some(SimDuration::ZERO);
        }
        let (f, t) = (self.topo.dense(from), self.topo.dense(to));
        if self.active.values().any(|e| match e {
            Effect::Partition(p) => p.drops(f, t),
            _ => false,
        }) {
            return None;
        }
        // A search from the source, unless one towards the target is already there.
        let nanos = match self.paths_to.get(&t) {
            Some(to) if !self.paths_from.contains_key(&f) => to[f],
            _ => {
                let (topo, cuts) = (&self.topo, &self.link_cuts);
                let from = self
                    .paths_from
                    .entry(f)
                    .or_insert_with(|| topo.shortest_from(f, cuts));
                from[t]
            }
        };
        nanos.map(SimDuration::from_nanos)
    }

    fn up(&self, e: Endpoint) -> bool {
        match e {
            Endpoint::Node(n) => self.node_powered(n),
            Endpoint::ControlPlane => self.control_plane_up(),
            Endpoint::Clients(_) => true,
        }
    }

    /// Bumped on every change of topology, power or faults (callers cache on it).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The nodes that cannot hold a TCP exchange with the control plane right now (powered
    /// off, cut, or the control plane down), in index order.
    pub fn nodes_cut_from_control_plane(&mut self) -> Vec<u32> {
        if let Some(cut) = &self.cut_from_control_plane {
            return cut.clone();
        }
        // Two searches (from and to the control plane) answer for every node.
        let cp = self.topo.dense(Endpoint::ControlPlane);
        let (topo, cuts) = (&self.topo, &self.link_cuts);
        self.paths_from
            .entry(cp)
            .or_insert_with(|| topo.shortest_from(cp, cuts));
        self.paths_to
            .entry(cp)
            .or_insert_with(|| topo.shortest_to(cp, cuts));
        let cut: Vec<u32> = (0..self.topo.nodes)
            .filter(|&n| !self.connected(Endpoint::Node(n), Endpoint::ControlPlane))
            .collect();
        self.cut_from_control_plane = Some(cut.clone());
        cut
    }

    fn changed(&mut self) {
        self.epoch += 1;
        self.paths_from.clear();
        self.paths_to.clear();
        self.answers.clear();
        self.cut_from_control_plane = None;
    }
}
