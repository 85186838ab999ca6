//! The network: latencies along the topology, every fault kind, overlaps and healing,
//! one-way cuts, regional and zonal control planes, power, and the per-epoch caches
//! (checked against a network rebuilt from scratch after every change).

use super::{Endpoint, Network};
use crate::scenario::{
    ClusterSpec, Fault, NetTarget, NetworkSpec, NodeSpecInput, ZoneOutageFlavour, ZoneSpec,
};
use crate::time::SimDuration;

use Endpoint::{Clients, ControlPlane as Cp, Node};

/// Zones `a`, `b`, `c` with two nodes each (`w-a-1` = node 0, `w-a-2` = 1, `w-b-1` = 2,
/// ..., `w-c-2` = 5); the control plane in `cp_zone` (None = regional).
fn cluster(cp_zone: Option<&str>) -> ClusterSpec {
    let zones = ["a", "b", "c"]
        .iter()
        .map(|z| ZoneSpec {
            name: z.to_string(),
            nodes: (1..=2)
                .map(|i| NodeSpecInput {
                    name: format!("w-{z}-{i}"),
                    zone: z.to_string(),
                    pool: "w".into(),
                    capacity: Default::default(),
                    labels: Default::default(),
                    taints: Vec::new(),
                })
                .collect(),
        })
        .collect();
    ClusterSpec {
        zones,
        control_plane_zone: cp_zone.map(str::to_string),
        network: NetworkSpec::default(),
    }
}

fn us(n: u64) -> Option<SimDuration> {
    Some(SimDuration::from_micros_u64(n))
}

fn zone_outage(zone: &str, flavour: ZoneOutageFlavour) -> Fault {
    Fault::ZoneOutage {
        zone: zone.into(),
        flavour,
    }
}

fn zone(z: &str) -> NetTarget {
    NetTarget::Zone(z.into())
}
fn node(n: &str) -> NetTarget {
    NetTarget::Node(n.into())
}

fn partition(groups: Vec<Vec<NetTarget>>, one_way: bool) -> Fault {
    Fault::NetPartition { groups, one_way }
}

/// Every endpoint of the test cluster.
fn all() -> Vec<Endpoint> {
    let mut v: Vec<Endpoint> = (0..6).map(Node).collect();
    v.push(Cp);
    v.extend((0..3).map(Clients));
    v
}

#[test]
fn names_map_to_indices_in_the_kubelets_order() {
    let net = Network::new(&cluster(None));
    assert_eq!(net.node_index("w-a-1"), Some(0));
    assert_eq!(net.node_index("w-c-2"), Some(5));
    assert_eq!(net.node_index("w-d-1"), None);
    assert_eq!(net.zone_index("b"), Some(1));
    assert_eq!(net.zone_index("d"), None);
    assert_eq!(net.nodes_in_zone("b"), vec![2, 3]);
    assert!(net.nodes_in_zone("d").is_empty());
}

#[test]
fn latencies_add_up_along_the_shortest_path() {
    let mut net = Network::new(&cluster(None));
    // Two hops through the zone router.
    assert_eq!(net.latency(Node(0), Node(1)), us(400));
    // Node, router, router, node.
    assert_eq!(net.latency(Node(0), Node(2)), us(1_400));
    // A regional control plane is one link from every router.
    assert_eq!(net.latency(Node(0), Cp), us(1_200));
    assert_eq!(net.latency(Cp, Node(5)), us(1_200));
    assert_eq!(net.latency(Clients(0), Node(1)), us(400));
    assert_eq!(net.latency(Clients(0), Node(4)), us(1_400));
    assert_eq!(net.latency(Node(3), Node(3)), Some(SimDuration::ZERO));
    // A zonal control plane: one link from its router only.
    let mut net = Network::new(&cluster(Some("b")));
    assert_eq!(net.latency(Node(2), Cp), us(1_200));
    assert_eq!(net.latency(Node(0), Cp), us(2_200));
    assert_eq!(net.latency(Cp, Clients(2)), us(2_200));
}

#[test]
fn only_routers_forward_so_a_fast_regional_control_plane_is_no_shortcut() {
    let mut spec = cluster(None);
    spec.network = NetworkSpec {
        intra_zone: SimDuration::from_micros_u64(50),
        inter_zone: SimDuration::from_millis(5),
        control_plane: SimDuration::from_micros_u64(10),
    };
    let mut net = Network::new(&spec);
    assert_eq!(net.latency(Node(0), Node(2)), us(5_100));
    assert_eq!(net.latency(Node(0), Cp), us(60));
    // With zone a's links to the other routers down, the control plane does not carry its
    // traffic to zone b either (its own link to zone a is down too).
    net.start_fault(0, &zone_outage("a", ZoneOutageFlavour::Network));
    assert!(!net.reachable(Node(0), Node(2)));
}

#[test]
fn a_zone_network_outage_cuts_the_zone_from_the_rest_and_a_regional_control_plane() {
    let mut net = Network::new(&cluster(None));
    assert!(net.start_fault(3, &zone_outage("a", ZoneOutageFlavour::Network)));
    // Inside zone a everything still works, clients included.
    assert!(net.connected(Node(0), Node(1)));
    assert!(net.connected(Clients(0), Node(1)));
    // Nothing crosses the zone's edge, either way.
    for inside in [Node(0), Node(1), Clients(0)] {
        for outside in [Node(2), Node(5), Cp, Clients(1)] {
            assert!(!net.reachable(inside, outside), "{inside:?} -> {outside:?}");
            assert!(!net.reachable(outside, inside), "{outside:?} -> {inside:?}");
        }
    }
    // The other zones still reach each other and the control plane.
    assert!(net.connected(Node(2), Node(5)));
    assert!(net.connected(Node(3), Cp));
    assert_eq!(net.latency(Node(3), Cp), us(1_200));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![0, 1]);
    // Nothing is powered off.
    assert!(net.node_powered(0) && net.control_plane_up());
    net.end_fault(3);
    assert!(net.connected(Node(0), Cp));
    assert!(net.nodes_cut_from_control_plane().is_empty());
    assert_eq!(net.latency(Node(0), Node(2)), us(1_400));
}

#[test]
fn a_control_plane_placed_in_a_cut_off_zone_stays_with_that_zone() {
    let mut net = Network::new(&cluster(Some("a")));
    net.start_fault(0, &zone_outage("a", ZoneOutageFlavour::Network));
    assert!(net.connected(Node(0), Cp));
    assert!(net.connected(Clients(0), Cp));
    assert!(!net.reachable(Node(2), Cp) && !net.reachable(Cp, Node(2)));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![2, 3, 4, 5]);
    // Cutting another zone leaves the control plane with zone a.
    let mut net = Network::new(&cluster(Some("a")));
    net.start_fault(0, &zone_outage("c", ZoneOutageFlavour::Network));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![4, 5]);
}

#[test]
fn a_zone_power_outage_powers_off_its_nodes_and_a_control_plane_placed_there() {
    let mut net = Network::new(&cluster(None));
    net.start_fault(1, &zone_outage("b", ZoneOutageFlavour::Power));
    assert!(!net.node_powered(2) && !net.node_powered(3));
    assert!(net.node_powered(0) && net.control_plane_up());
    // A dead node reaches nothing and nothing reaches it, not even its neighbour.
    assert!(!net.reachable(Node(2), Node(3)));
    assert!(!net.reachable(Node(0), Node(2)));
    assert!(!net.reachable(Node(2), Node(2)));
    assert_eq!(net.latency(Cp, Node(3)), None);
    // The zone's router and clients are still up.
    assert!(net.connected(Clients(1), Node(0)));
    assert!(net.connected(Clients(1), Cp));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![2, 3]);
    net.end_fault(1);
    assert!(net.node_powered(2) && net.connected(Node(2), Cp));

    let mut net = Network::new(&cluster(Some("b")));
    net.start_fault(1, &zone_outage("b", ZoneOutageFlavour::Power));
    assert!(!net.control_plane_up());
    assert!(!net.reachable(Node(0), Cp) && !net.reachable(Clients(0), Cp));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![0, 1, 2, 3, 4, 5]);
    // The surviving zones still talk to each other.
    assert!(net.connected(Node(0), Node(5)));
    net.end_fault(1);
    assert!(net.control_plane_up());
    assert!(net.nodes_cut_from_control_plane().is_empty());
}

#[test]
fn engine_power_and_fault_power_overlap() {
    let mut net = Network::new(&cluster(None));
    net.set_node_powered(2, false);
    assert!(!net.node_powered(2));
    net.start_fault(0, &zone_outage("b", ZoneOutageFlavour::Power));
    net.start_fault(1, &zone_outage("b", ZoneOutageFlavour::Power));
    net.end_fault(0);
    // Still covered by the second outage.
    assert!(!net.node_powered(3));
    net.end_fault(1);
    assert!(net.node_powered(3));
    // The crashed node stays off until the engine powers it on.
    assert!(!net.node_powered(2));
    assert!(!net.connected(Node(2), Cp));
    net.set_node_powered(2, true);
    assert!(net.connected(Node(2), Cp));
    // Out of range: ignored, and never powered.
    net.set_node_powered(99, true);
    assert!(!net.node_powered(99));
    assert!(!net.reachable(Node(99), Cp) && !net.reachable(Clients(7), Cp));
}

#[test]
fn a_partition_drops_traffic_between_groups_only() {
    let mut net = Network::new(&cluster(None));
    let f = partition(
        vec![vec![zone("a")], vec![zone("b"), NetTarget::ControlPlane]],
        false,
    );
    assert!(net.start_fault(0, &f));
    assert!(!net.reachable(Node(0), Node(2)) && !net.reachable(Node(2), Node(0)));
    assert!(!net.reachable(Node(1), Cp) && !net.reachable(Cp, Node(1)));
    assert!(!net.reachable(Clients(0), Clients(1)));
    // Within a group, and from endpoints in no group, traffic flows.
    assert!(net.connected(Node(0), Node(1)));
    assert!(net.connected(Node(2), Cp));
    assert!(net.connected(Node(4), Node(0)) && net.connected(Node(4), Cp));
    assert!(net.connected(Clients(2), Node(1)));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![0, 1]);
    net.end_fault(0);
    assert!(net.connected(Node(0), Node(2)) && net.connected(Node(1), Cp));
}

#[test]
fn a_one_way_partition_drops_only_the_first_groups_traffic_to_the_second() {
    let mut net = Network::new(&cluster(None));
    let f = partition(
        vec![vec![node("w-a-1")], vec![NetTarget::ControlPlane]],
        true,
    );
    net.start_fault(0, &f);
    assert!(!net.reachable(Node(0), Cp));
    assert!(net.reachable(Cp, Node(0)));
    assert_eq!(net.latency(Cp, Node(0)), us(1_200));
    // A request that gets there but whose answer cannot come back is no exchange.
    assert!(!net.connected(Node(0), Cp) && !net.connected(Cp, Node(0)));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![0]);
    // Three groups one way: only group 0 -> group 1 is dropped.
    let mut net = Network::new(&cluster(None));
    net.start_fault(
        0,
        &partition(
            vec![vec![zone("a")], vec![zone("b")], vec![zone("c")]],
            true,
        ),
    );
    assert!(!net.reachable(Node(0), Node(2)));
    assert!(net.reachable(Node(2), Node(0)) && net.reachable(Node(0), Node(4)));
    assert!(net.reachable(Node(2), Node(4)));
}

#[test]
fn a_named_node_or_control_plane_takes_precedence_over_its_zone() {
    // [[a], [w-a-1]]: w-a-1 split from the rest of its own zone, clients included.
    let mut net = Network::new(&cluster(None));
    net.start_fault(
        0,
        &partition(vec![vec![zone("a")], vec![node("w-a-1")]], false),
    );
    assert!(!net.reachable(Node(1), Node(0)) && !net.reachable(Clients(0), Node(0)));
    assert!(net.connected(Node(1), Clients(0)));
    // A zonal control plane goes with its zone unless named.
    let mut net = Network::new(&cluster(Some("a")));
    net.start_fault(0, &partition(vec![vec![zone("a")], vec![zone("b")]], false));
    assert!(net.connected(Node(0), Cp) && !net.reachable(Node(2), Cp));
    net.end_fault(0);
    net.start_fault(
        1,
        &partition(
            vec![vec![zone("a")], vec![zone("b"), NetTarget::ControlPlane]],
            false,
        ),
    );
    assert!(!net.reachable(Node(0), Cp) && net.connected(Node(2), Cp));
}

#[test]
fn isolating_a_node_cuts_it_from_everything() {
    // What the scenario loader makes of `isolate: w-b-2`.
    let mut net = Network::new(&cluster(None));
    let f = partition(
        vec![
            vec![node("w-b-2")],
            vec![zone("a"), zone("b"), zone("c"), NetTarget::ControlPlane],
        ],
        false,
    );
    net.start_fault(0, &f);
    for other in all().into_iter().filter(|e| *e != Node(3)) {
        assert!(!net.reachable(Node(3), other) && !net.reachable(other, Node(3)));
    }
    assert!(net.node_powered(3) && net.reachable(Node(3), Node(3)));
    assert!(net.connected(Node(2), Cp) && net.connected(Node(2), Clients(1)));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![3]);
}

#[test]
fn a_control_plane_partition_cuts_only_the_control_plane() {
    for cp in [None, Some("a")] {
        let mut net = Network::new(&cluster(cp));
        let f = Fault::ControlPlanePartition {
            targets: vec![zone("a"), node("w-b-1")],
        };
        assert!(net.start_fault(0, &f));
        assert!(!net.reachable(Node(0), Cp) && !net.reachable(Cp, Node(1)));
        assert!(!net.reachable(Node(2), Cp) && !net.reachable(Clients(0), Cp));
        // The targets still reach each other and the rest.
        assert!(net.connected(Node(0), Node(2)) && net.connected(Node(0), Node(5)));
        assert!(net.connected(Node(3), Cp) && net.connected(Clients(1), Cp));
        assert_eq!(net.nodes_cut_from_control_plane(), vec![0, 1, 2], "{cp:?}");
        net.end_fault(0);
        assert!(net.nodes_cut_from_control_plane().is_empty());
    }
}

#[test]
fn overlapping_faults_heal_one_at_a_time() {
    let mut net = Network::new(&cluster(None));
    // Both outages cut the a<->b links; ending one must leave them cut.
    net.start_fault(0, &zone_outage("a", ZoneOutageFlavour::Network));
    net.start_fault(1, &zone_outage("b", ZoneOutageFlavour::Network));
    net.start_fault(
        2,
        &Fault::ControlPlanePartition {
            targets: vec![zone("c")],
        },
    );
    assert_eq!(net.nodes_cut_from_control_plane(), vec![0, 1, 2, 3, 4, 5]);
    net.end_fault(0);
    assert!(!net.reachable(Node(0), Node(2)));
    assert!(net.connected(Node(0), Cp) && net.connected(Node(0), Node(4)));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![2, 3, 4, 5]);
    net.end_fault(2);
    assert_eq!(net.nodes_cut_from_control_plane(), vec![2, 3]);
    net.end_fault(1);
    assert!(net.nodes_cut_from_control_plane().is_empty());
    assert_eq!(net.latency(Node(0), Node(2)), us(1_400));
    // Ending again, or ending a fault never started, changes nothing.
    let epoch = net.epoch();
    net.end_fault(1);
    net.end_fault(42);
    assert_eq!(net.epoch(), epoch);
}

#[test]
fn faults_the_network_does_not_model_change_nothing() {
    let mut net = Network::new(&cluster(None));
    for f in [
        Fault::NodeCrash {
            node: "w-a-1".into(),
        },
        Fault::NodeReboot {
            node: "w-a-1".into(),
            boot_time: SimDuration::from_secs(60),
        },
        Fault::KubeletStop {
            node: "w-a-1".into(),
        },
        Fault::ApiServerOutage,
        Fault::ZoneCapacityExhausted { zone: "a".into() },
    ] {
        assert!(!net.start_fault(0, &f), "{f:?}");
    }
    assert_eq!(net.epoch(), 0);
    assert!(net.node_powered(0) && net.connected(Node(0), Cp));
    net.end_fault(0);
    assert_eq!(net.epoch(), 0);
}

#[test]
fn every_change_bumps_the_epoch_and_clears_the_cached_answers() {
    let mut net = Network::new(&cluster(None));
    assert!(net.connected(Node(0), Cp));
    assert_eq!(net.nodes_cut_from_control_plane(), Vec::<u32>::new());
    let e0 = net.epoch();
    net.set_node_powered(0, false);
    assert_eq!(net.epoch(), e0 + 1);
    assert!(!net.connected(Node(0), Cp));
    assert_eq!(net.nodes_cut_from_control_plane(), vec![0]);
    // Setting the same power state again is no change.
    net.set_node_powered(0, false);
    assert_eq!(net.epoch(), e0 + 1);
    net.set_node_powered(0, true);
    assert_eq!(net.latency(Node(0), Node(2)), us(1_400));
    net.start_fault(5, &zone_outage("b", ZoneOutageFlavour::Network));
    assert_eq!(net.epoch(), e0 + 3);
    assert_eq!(net.latency(Node(0), Node(2)), None);
    net.end_fault(5);
    assert_eq!(net.epoch(), e0 + 4);
    assert_eq!(net.latency(Node(0), Node(2)), us(1_400));
    // Restarting an active fault replaces it: one end heals it.
    net.start_fault(6, &zone_outage("b", ZoneOutageFlavour::Power));
    net.start_fault(6, &zone_outage("b", ZoneOutageFlavour::Power));
    net.end_fault(6);
    assert!(net.node_powered(2));
}

/// Searches towards a target and from each source agree, with a control plane fast enough
/// to be a shortcut if it forwarded, and with links cut.
#[test]
fn searches_to_a_target_agree_with_searches_from_each_source() {
    let mut spec = cluster(None);
    spec.network.control_plane = SimDuration::from_micros_u64(10);
    let topo = super::topology::Topology::new(&spec);
    let mut cuts = vec![0; topo.graph.edge_count()];
    for round in 0..2 {
        for t in 0..topo.endpoints() {
            let to = topo.shortest_to(t, &cuts);
            for (f, d) in to.iter().enumerate() {
                assert_eq!(
                    *d,
                    topo.shortest_from(f, &cuts)[t],
                    "round {round}: {f} -> {t}"
                );
            }
        }
        // Cut zone a's router from zone b's, one way only.
        let (a, b) = (topo.router(0), topo.router(1));
        let ab = topo.graph.find_edge(a, b).unwrap();
        cuts[ab.index()] += 1;
    }
    // Node 0 -> node 2 now goes a -> c -> b, never through the control plane.
    assert_eq!(topo.shortest_from(0, &cuts)[2], Some(2_400_000));
    assert_eq!(topo.shortest_to(2, &cuts)[0], Some(2_400_000));
    assert_eq!(topo.shortest_from(2, &cuts)[0], Some(1_400_000));
}

/// A small deterministic generator (the test needs no statistical quality).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// After random starts, ends and power changes, a network that answered queries all along
/// (and so kept caches across changes) answers exactly like one built from scratch with
/// only the faults and power-offs still in force; and searches towards a target agree with
/// searches from each source.
#[test]
fn cached_answers_match_a_fresh_network_after_every_change() {
    let faults = [
        zone_outage("a", ZoneOutageFlavour::Network),
        zone_outage("b", ZoneOutageFlavour::Network),
        zone_outage("c", ZoneOutageFlavour::Power),
        partition(
            vec![vec![zone("a")], vec![zone("c"), NetTarget::ControlPlane]],
            false,
        ),
        partition(vec![vec![node("w-b-1")], vec![zone("b")]], true),
        Fault::ControlPlanePartition {
            targets: vec![node("w-a-2"), zone("c")],
        },
    ];
    for cp in [None, Some("b")] {
        let spec = cluster(cp);
        let mut net = Network::new(&spec);
        let mut active = [false; 6];
        let mut off = [false; 6];
        let mut rng = Lcg(7);
        for step in 0..300 {
            match rng.next(3) {
                0 => {
                    let i = rng.next(faults.len());
                    if active[i] {
                        net.end_fault(i);
                    } else {
                        net.start_fault(i, &faults[i]);
                    }
                    active[i] = !active[i];
                }
                1 => {
                    let n = rng.next(6);
                    off[n] = !off[n];
                    net.set_node_powered(n as u32, !off[n]);
                }
                _ => {}
            }
            // Here the searches towards the control plane answer; in `fresh`, searches
            // from each endpoint do.
            let cut = net.nodes_cut_from_control_plane();
            let mut fresh = Network::new(&spec);
            for (i, f) in faults.iter().enumerate().filter(|(i, _)| active[*i]) {
                fresh.start_fault(i, f);
            }
            for (n, _) in off.iter().enumerate().filter(|(_, o)| **o) {
                fresh.set_node_powered(n as u32, false);
            }
            for a in all() {
                for b in all() {
                    assert_eq!(
                        net.latency(a, b),
                        fresh.latency(a, b),
                        "step {step}, {a:?} -> {b:?}, active {active:?}, off {off:?}"
                    );
                }
            }
            assert_eq!(cut, fresh.nodes_cut_from_control_plane());
        }
    }
}
