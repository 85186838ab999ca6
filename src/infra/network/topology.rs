//! The network's fixed shape: one vertex per endpoint (nodes, the control plane, each
//! zone's clients) and one router per zone, joined by directed links that carry a one-way
//! latency. Each node and its zone's clients hang off the zone router (`intraZoneLatency`),
//! the routers are fully meshed (`interZoneLatency`), and the control plane hangs off its
//! zone's router or, when regional, off every router (`controlPlaneLatency`). Faults never
//! change this graph: they mark links cut (see `mod.rs`), so healing is exact.
//!
//! Vertex indices are dense: nodes `0..n` (in `ClusterSpec.zones[*].nodes[*]` order), the
//! control plane `n`, clients of zone `z` at `n + 1 + z`, the router of zone `z` after
//! those. Endpoints are leaves for routing: only routers forward, so a path never transits
//! a node or a regional control plane.

use super::Endpoint;
use crate::scenario::ClusterSpec;
use petgraph::graph::{DiGraph, EdgeIndex, EdgeReference, NodeIndex};
use petgraph::visit::{EdgeFiltered, EdgeRef, Reversed, ReversedEdgeReference};
use std::collections::BTreeMap;

/// What a vertex is; only routers forward traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Vertex {
    Endpoint,
    Router,
}

pub(super) struct Topology {
    /// Link weights are one-way latencies in nanoseconds.
    pub graph: DiGraph<Vertex, u64>,
    pub nodes: u32,
    pub zones: u32,
    /// The zone index of each node.
    pub node_zone: Vec<u32>,
    pub node_names: BTreeMap<String, u32>,
    pub zone_names: BTreeMap<String, u32>,
    /// Node indices per zone, in index order.
    pub zone_nodes: Vec<Vec<u32>>,
    /// `None`: regional.
    pub control_plane_zone: Option<u32>,
}

impl Topology {
    pub fn new(cluster: &ClusterSpec) -> Topology {
        let zones = u32::try_from(cluster.zones.len()).expect("fewer than 2^32 zones");
        let mut node_zone = Vec::new();
        let mut node_names = BTreeMap::new();
        let mut zone_names = BTreeMap::new();
        let mut zone_nodes = Vec::new();
        for (zi, z) in (0u32..).zip(&cluster.zones) {
            zone_names.entry(z.name.clone()).or_insert(zi);
            let mut members = Vec::new();
            for n in &z.nodes {
                let ni = u32::try_from(node_zone.len()).expect("fewer than 2^32 nodes");
                node_names.entry(n.name.clone()).or_insert(ni);
                node_zone.push(zi);
                members.push(ni);
            }
            zone_nodes.push(members);
        }
        let nodes = u32::try_from(node_zone.len()).expect("fewer than 2^32 nodes");
        let control_plane_zone = cluster
            .control_plane_zone
            .as_ref()
            .and_then(|z| zone_names.get(z).copied());
        let mut t = Topology {
            graph: DiGraph::new(),
            nodes,
            zones,
            node_zone,
            node_names,
            zone_names,
            zone_nodes,
            control_plane_zone,
        };
        for _ in 0..t.endpoints() {
            t.graph.add_node(Vertex::Endpoint);
        }
        for _ in 0..zones {
            t.graph.add_node(Vertex::Router);
        }
        let net = cluster.network;
        for n in 0..nodes {
            let router = t.router(t.node_zone[n as usize]);
            t.link(
                NodeIndex::new(n as usize),
                router,
                net.intra_zone.as_nanos(),
            );
        }
        for z in 0..zones {
            let clients = t.vertex(Endpoint::Clients(z));
            t.link(clients, t.router(z), net.intra_zone.as_nanos());
            for o in (z + 1)..zones {
                t.link(t.router(z), t.router(o), net.inter_zone.as_nanos());
            }
        }
        let cp = t.vertex(Endpoint::ControlPlane);
        let cp_latency = net.control_plane.as_nanos();
        match t.control_plane_zone {
            Some(z) => t.link(cp, t.router(z), cp_latency),
            None => {
                for z in 0..zones {
                    t.link(cp, t.router(z), cp_latency);
                }
            }
        }
        t
    }

    /// A link both ways: two directed edges, so that one direction can be cut alone.
    fn link(&mut self, a: NodeIndex, b: NodeIndex, latency: u64) {
        self.graph.add_edge(a, b, latency);
        self.graph.add_edge(b, a, latency);
    }

    /// Nodes, the control plane and every zone's clients.
    pub fn endpoints(&self) -> usize {
        self.nodes as usize + 1 + self.zones as usize
    }

    /// Whether `e` names something in this cluster.
    pub fn contains(&self, e: Endpoint) -> bool {
        match e {
            Endpoint::Node(n) => n < self.nodes,
            Endpoint::ControlPlane => true,
            Endpoint::Clients(z) => z < self.zones,
        }
    }

    /// The dense index of a valid endpoint (also its vertex index).
    pub fn dense(&self, e: Endpoint) -> usize {
        match e {
            Endpoint::Node(n) => n as usize,
            Endpoint::ControlPlane => self.nodes as usize,
            Endpoint::Clients(z) => self.nodes as usize + 1 + z as usize,
        }
    }

    pub fn vertex(&self, e: Endpoint) -> NodeIndex {
        NodeIndex::new(self.dense(e))
    }

    pub fn router(&self, zone: u32) -> NodeIndex {
        NodeIndex::new(self.endpoints() + zone as usize)
    }

    /// The links (both directions) between `a` and `b`.
    pub fn links_between(&self, a: NodeIndex, b: NodeIndex) -> Vec<EdgeIndex> {
        let mut out: Vec<EdgeIndex> = self.graph.edges_connecting(a, b).map(|e| e.id()).collect();
        out.extend(self.graph.edges_connecting(b, a).map(|e| e.id()));
        out
    }

    /// One-way latency (ns) of the shortest path from `source` to every endpoint over the
    /// links not cut (`cuts[edge] == 0`), by dense index; `None` = no path. Only routers
    /// and the source itself forward.
    pub fn shortest_from(&self, source: usize, cuts: &[u32]) -> Vec<Option<u64>> {
        let start = NodeIndex::new(source);
        let graph = &self.graph;
        let usable = EdgeFiltered::from_fn(graph, |e: EdgeReference<'_, u64>| {
            cuts[e.id().index()] == 0
                && (e.source() == start || graph[e.source()] == Vertex::Router)
        });
        let scores = petgraph::algo::dijkstra(&usable, start, None, |e| *e.weight());
        self.scores(|v| scores.get(&v).copied())
    }

    /// One-way latency (ns) of the shortest path from every endpoint to `target` (the same
    /// search on the reversed links), so that "who reaches the control plane" is one search.
    pub fn shortest_to(&self, target: usize, cuts: &[u32]) -> Vec<Option<u64>> {
        let end = NodeIndex::new(target);
        let graph = &self.graph;
        let reversed = Reversed(graph);
        // A reversed edge leaves the vertex that would forward the packet last.
        let usable = EdgeFiltered::from_fn(
            reversed,
            |e: ReversedEdgeReference<EdgeReference<'_, u64>>| {
                cuts[e.id().index()] == 0
                    && (e.source() == end || graph[e.source()] == Vertex::Router)
            },
        );
        let scores = petgraph::algo::dijkstra(&usable, end, None, |e| *e.weight());
        self.scores(|v| scores.get(&v).copied())
    }

    /// petgraph answers with a hash map; it is only read by key here, in index order, so
    /// nothing depends on its iteration order.
    fn scores(&self, get: impl Fn(NodeIndex) -> Option<u64>) -> Vec<Option<u64>> {
        (0..self.endpoints())
            .map(|i| get(NodeIndex::new(i)))
            .collect()
    }
}
