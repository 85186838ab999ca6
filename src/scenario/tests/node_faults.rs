//! Node, zone and network faults in `spec.faults`, and `spec.cluster.controlPlane` and
//! `spec.cluster.network`: every shape, the defaults, the `isolate` sugar, and every
//! mistake located with its path, hint and line:column.

use super::{VALID, error_of, load_text};
use crate::scenario::{Fault, NetTarget, NetworkSpec, ZoneOutageFlavour};
use crate::time::SimDuration;

/// `VALID` (zones `a` with worker-a-1 and worker-a-2, `b` with worker-b-1; 1h run) with
/// these fault items.
fn with_faults(faults: &str) -> String {
    VALID.replace("  faults: []\n", &format!("  faults:\n{faults}"))
}

/// `VALID` with `lines` added to `spec.cluster` (after the zones) and these fault items.
fn with_cluster(lines: &str, faults: &str) -> String {
    with_faults(faults).replace("    kubernetes:\n", &format!("{lines}    kubernetes:\n"))
}

/// The faults of a scenario that must load, in order.
fn faults_of(text: &str) -> Vec<(SimDuration, Option<SimDuration>, String, Fault)> {
    let s = load_text(text).unwrap_or_else(|e| panic!("{e}"));
    s.faults
        .into_iter()
        .map(|f| (f.at, f.duration, f.text, f.fault))
        .collect()
}

fn zone(z: &str) -> NetTarget {
    NetTarget::Zone(z.into())
}
fn node(n: &str) -> NetTarget {
    NetTarget::Node(n.into())
}

#[test]
fn every_node_zone_and_network_fault_parses() {
    let faults = "    - { at: 1m, duration: 10m, nodeCrash: { node: worker-a-1 } }
    - { at: 2m, nodeCrash: { node: worker-a-2 } }
    - { at: 3m, nodeReboot: { node: worker-a-1, bootTime: 90s } }
    - { at: 4m, nodeReboot: { node: worker-b-1 } }
    - { at: 5m, duration: 5m, kubeletStop: { node: worker-b-1 } }
    - { at: 6m, duration: 30m, zoneOutage: { zone: a, kind: network } }
    - { at: 7m, duration: 30m, zoneOutage: { zone: b } }
    - { at: 8m, duration: 10m, netPartition: { groups: [[a], [b, controlPlane]], oneWay: false } }
    - { at: 9m, duration: 10m, netPartition: { groups: [[worker-a-1], [a]], oneWay: true } }
    - { at: 10m, duration: 10m, controlPlanePartition: { zones: [a], nodes: [worker-b-1] } }
    - { at: 11m, duration: 2m, apiServerOutage: {} }
    - at: 12m
      apiServerOutage:
";
    let f = faults_of(&with_faults(faults));
    let m = SimDuration::from_mins;
    let want: Vec<(SimDuration, Option<SimDuration>, &str, Fault)> = vec![
        (
            m(1),
            Some(m(10)),
            "nodeCrash node=worker-a-1",
            Fault::NodeCrash {
                node: "worker-a-1".into(),
            },
        ),
        (
            m(2),
            None,
            "nodeCrash node=worker-a-2",
            Fault::NodeCrash {
                node: "worker-a-2".into(),
            },
        ),
        (
            m(3),
            None,
            "nodeReboot node=worker-a-1 bootTime=1m30s",
            Fault::NodeReboot {
                node: "worker-a-1".into(),
                boot_time: SimDuration::from_secs(90),
            },
        ),
        (
            m(4),
            None,
            "nodeReboot node=worker-b-1 bootTime=1m0s",
            Fault::NodeReboot {
                node: "worker-b-1".into(),
                boot_time: SimDuration::from_secs(60),
            },
        ),
        (
            m(5),
            Some(m(5)),
            "kubeletStop node=worker-b-1",
            Fault::KubeletStop {
                node: "worker-b-1".into(),
            },
        ),
        (
            m(6),
            Some(m(30)),
            "zoneOutage zone=a kind=network",
            Fault::ZoneOutage {
                zone: "a".into(),
                flavour: ZoneOutageFlavour::Network,
            },
        ),
        (
            m(7),
            Some(m(30)),
            "zoneOutage zone=b kind=power",
            Fault::ZoneOutage {
                zone: "b".into(),
                flavour: ZoneOutageFlavour::Power,
            },
        ),
        (
            m(8),
            Some(m(10)),
            "netPartition groups=[a],[b,controlPlane]",
            Fault::NetPartition {
                groups: vec![vec![zone("a")], vec![zone("b"), NetTarget::ControlPlane]],
                one_way: false,
            },
        ),
        (
            m(9),
            Some(m(10)),
            "netPartition groups=[worker-a-1],[a] oneWay=true",
            Fault::NetPartition {
                groups: vec![vec![node("worker-a-1")], vec![zone("a")]],
                one_way: true,
            },
        ),
        (
            m(10),
            Some(m(10)),
            "controlPlanePartition zones=a nodes=worker-b-1",
            Fault::ControlPlanePartition {
                targets: vec![zone("a"), node("worker-b-1")],
            },
        ),
        (m(11), Some(m(2)), "apiServerOutage", Fault::ApiServerOutage),
        (m(12), None, "apiServerOutage", Fault::ApiServerOutage),
    ];
    assert_eq!(f.len(), want.len());
    for (got, want) in f.iter().zip(&want) {
        assert_eq!(
            (got.0, got.1, got.2.as_str(), &got.3),
            (want.0, want.1, want.2, &want.3)
        );
    }
}

#[test]
fn isolate_is_two_groups_the_target_against_everything_else() {
    let faults = "    - { at: 1m, duration: 1m, netPartition: { isolate: worker-a-1 } }
    - { at: 2m, duration: 1m, netPartition: { isolate: a, oneWay: true } }
";
    // Regional control plane: it is part of "everything else" for a zone too.
    let f = faults_of(&with_faults(faults));
    assert_eq!(f[0].2, "netPartition isolate=worker-a-1");
    assert_eq!(
        f[0].3,
        Fault::NetPartition {
            groups: vec![
                vec![node("worker-a-1")],
                vec![zone("a"), zone("b"), NetTarget::ControlPlane]
            ],
            one_way: false,
        }
    );
    assert_eq!(f[1].2, "netPartition isolate=a oneWay=true");
    assert_eq!(
        f[1].3,
        Fault::NetPartition {
            groups: vec![vec![zone("a")], vec![zone("b"), NetTarget::ControlPlane]],
            one_way: true,
        }
    );
    // A control plane placed in the isolated zone stays with it.
    let f = faults_of(&with_cluster("    controlPlane: { zone: a }\n", faults));
    assert_eq!(
        f[1].3,
        Fault::NetPartition {
            groups: vec![vec![zone("a")], vec![zone("b")]],
            one_way: true,
        }
    );
    // Placed elsewhere, it is on the other side.
    let f = faults_of(&with_cluster("    controlPlane: { zone: b }\n", faults));
    assert_eq!(
        f[1].3,
        Fault::NetPartition {
            groups: vec![vec![zone("a")], vec![zone("b"), NetTarget::ControlPlane]],
            one_way: true,
        }
    );
}

#[test]
fn the_control_plane_is_regional_and_latencies_default_unless_given() {
    let s = load_text(VALID).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.cluster.control_plane_zone, None);
    assert_eq!(
        s.cluster.network,
        NetworkSpec {
            intra_zone: SimDuration::from_micros_u64(200),
            inter_zone: SimDuration::from_millis(1),
            control_plane: SimDuration::from_millis(1),
        }
    );
    let text = with_cluster(
        "    controlPlane: { zone: b }\n    network: { intraZoneLatency: 50us, interZoneLatency: 2ms }\n",
        "",
    );
    let s = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.cluster.control_plane_zone.as_deref(), Some("b"));
    assert_eq!(
        s.cluster.network,
        NetworkSpec {
            intra_zone: SimDuration::from_micros_u64(50),
            inter_zone: SimDuration::from_millis(2),
            control_plane: SimDuration::from_millis(1),
        }
    );
    // An empty controlPlane map is regional too.
    let s = load_text(&with_cluster("    controlPlane: {}\n", "")).unwrap();
    assert_eq!(s.cluster.control_plane_zone, None);
}

#[test]
fn cluster_network_mistakes_are_located_with_hints() {
    let cases: &[(&str, &[&str])] = &[
        (
            "    controlPlane: { zone: c }\n",
            &[
                "spec.cluster.controlPlane.zone: no zone named \"c\"",
                "leave controlPlane out for a regional control plane",
            ],
        ),
        (
            "    controlPlane: { zones: a }\n",
            &["unknown field `zones`", "did you mean \"zone\"?"],
        ),
        (
            "    network: { intraZoneLatency: 5 }\n",
            &[
                "spec.cluster.network.intraZoneLatency",
                "a duration needs a unit, found the bare number 5",
            ],
        ),
        (
            "    network: { interZonLatency: 1ms }\n",
            &[
                "unknown field `interZonLatency`",
                "did you mean \"interZoneLatency\"?",
            ],
        ),
        (
            "    netwrok: {}\n",
            &["unknown field `netwrok`", "did you mean \"network\"?"],
        ),
    ];
    for (lines, wants) in cases {
        let err = error_of(&with_cluster(lines, ""));
        for want in *wants {
            assert!(err.contains(want), "wanted {want:?} in:\n{err}");
        }
    }
}

#[test]
fn node_and_network_fault_mistakes_are_located_with_hints() {
    let cases: &[(&str, &[&str])] = &[
        (
            "    - { at: 1m, nodeCrash: { node: worker-a-3 } }\n",
            &[
                "spec.faults[0].nodeCrash.node: no node named \"worker-a-3\"",
                "did you mean \"worker-a-1\"?",
            ],
        ),
        (
            "    - { at: 1m, nodeCrash: {} }\n",
            &["spec.faults[0].nodeCrash", "missing", "node"],
        ),
        (
            "    - { at: 1m, duration: 5m, nodeReboot: { node: worker-a-1 } }\n",
            &[
                "spec.faults[0].duration: nodeReboot happens once: it takes no duration",
                "set nodeReboot.bootTime",
            ],
        ),
        (
            "    - { at: 1m, nodeReboot: { node: worker-a-1, bootTime: 0s } }\n",
            &["spec.faults[0].nodeReboot.bootTime: bootTime must be longer than 0s"],
        ),
        (
            "    - { at: 1m, nodeReboot: { node: worker-a-1, boottime: 1m } }\n",
            &["unknown field `boottime`", "did you mean \"bootTime\"?"],
        ),
        (
            "    - { at: 1m, kubeletStop: { node: worker-c-1 } }\n",
            &["spec.faults[0].kubeletStop.node: no node named \"worker-c-1\""],
        ),
        (
            "    - { at: 1m, zoneOutage: { zone: c } }\n",
            &[
                "spec.faults[0].zoneOutage.zone: no zone named \"c\"",
                "known: a, b",
            ],
        ),
        (
            "    - { at: 1m, zoneOutage: { zone: a, kind: netwrk } }\n",
            &[
                "spec.faults[0].zoneOutage.kind",
                "unknown value \"netwrk\", expected one of: power, network",
                "did you mean \"network\"?",
            ],
        ),
        (
            "    - { at: 1m, zoneOutag: { zone: a } }\n",
            &[
                "unknown fault kind `zoneOutag`",
                "did you mean \"zoneOutage\"?",
            ],
        ),
        (
            "    - { at: 1m, nodeCrash: { node: worker-a-1 }, apiServerOutage: {} }\n",
            &["one fault kind per item, found `nodeCrash` and `apiServerOutage`"],
        ),
        (
            "    - { at: 1m, apiServerOutage: { zone: a } }\n",
            &["spec.faults[0].apiServerOutage", "unknown field `zone`"],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [[a], [c]] } }\n",
            &[
                "spec.faults[0].netPartition.groups[1][0]: no zone or node named \"c\"",
                "name a zone (a, b), a node, or controlPlane",
            ],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [[a], [controlPlan]] } }\n",
            &[
                "no zone or node named \"controlPlan\"",
                "did you mean \"controlPlane\"?",
            ],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [[a, b]] } }\n",
            &[
                "spec.faults[0].netPartition.groups: a partition needs at least two groups, found 1",
                "isolate: NAME",
            ],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [[a], []] } }\n",
            &["spec.faults[0].netPartition.groups[1]: group 1 is empty"],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [[a, worker-b-1], [b, worker-b-1]] } }\n",
            &[
                "spec.faults[0].netPartition.groups[1][1]: \"worker-b-1\" is already in group 0: a target belongs to one group",
            ],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [[a, a], [b]] } }\n",
            &["spec.faults[0].netPartition.groups[0][1]: \"a\" is listed twice in group 0"],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [[a], [b], [controlPlane]], oneWay: true } }\n",
            &[
                "spec.faults[0].netPartition.oneWay: oneWay needs exactly two groups (traffic from the first to the second is dropped), found 3",
            ],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [[a], [b]], isolate: a } }\n",
            &["spec.faults[0].netPartition.isolate: give groups or isolate, not both"],
        ),
        (
            "    - { at: 1m, netPartition: { oneWay: true } }\n",
            &[
                "spec.faults[0].netPartition: netPartition needs groups or isolate",
                "e.g. netPartition:",
            ],
        ),
        (
            "    - { at: 1m, netPartition: { isolate: worker-b-9 } }\n",
            &[
                "spec.faults[0].netPartition.isolate: no zone or node named \"worker-b-9\"",
                "did you mean \"worker-b-1\"?",
            ],
        ),
        (
            "    - { at: 1m, netPartition: { groups: [a, b] } }\n",
            &["spec.faults[0].netPartition.groups[0]", "expected a list"],
        ),
        (
            "    - { at: 1m, controlPlanePartition: {} }\n",
            &[
                "spec.faults[0].controlPlanePartition: controlPlanePartition needs at least one zone or node",
                "e.g. controlPlanePartition: { zones: [zone-a] }",
            ],
        ),
        (
            "    - { at: 1m, controlPlanePartition: { zones: [a, c] } }\n",
            &["spec.faults[0].controlPlanePartition.zones[1]: no zone named \"c\""],
        ),
        (
            "    - { at: 1m, controlPlanePartition: { nodes: [worker-a-1, worker-a-1] } }\n",
            &["spec.faults[0].controlPlanePartition.nodes[1]: \"worker-a-1\" is listed twice"],
        ),
        (
            "    - { at: 1m, controlPlanePartition: { nodes: [worker-b-3] } }\n",
            &[
                "no node named \"worker-b-3\"",
                "did you mean \"worker-b-1\"?",
            ],
        ),
        (
            "    - { at: 50m, duration: 20m, nodeCrash: { node: worker-a-1 } }\n",
            &["spec.faults[0].duration: the fault ends at 1h10m0s"],
        ),
    ];
    for (faults, wants) in cases {
        let err = error_of(&with_faults(faults));
        for want in *wants {
            assert!(err.contains(want), "wanted {want:?} in:\n{err}");
        }
    }
}

#[test]
fn isolating_the_only_zone_with_its_control_plane_leaves_nothing_to_cut() {
    let one_zone = VALID
        .replace(
            "      - name: b\n        nodePools:\n          - name: worker\n            count: 1\n            capacity: { cpu: 2, memory: 8Gi, pods: 30 }\n",
            "",
        )
        .replace("    kubernetes:\n", "    controlPlane: { zone: a }\n    kubernetes:\n")
        .replace(
            "  faults: []\n",
            "  faults:\n    - { at: 1m, netPartition: { isolate: a } }\n",
        );
    let err = error_of(&one_zone);
    assert!(
        err.contains("spec.faults[0].netPartition.isolate: nothing outside \"a\" to cut it from"),
        "{err}"
    );
}

#[test]
fn errors_carry_line_and_column() {
    let text = with_faults("    - at: 1m\n      netPartition:\n        groups: [[a], [zone-z]]\n");
    let err = error_of(&text);
    let line = text.lines().position(|l| l.contains("zone-z")).unwrap() + 1;
    let column = text.lines().nth(line - 1).unwrap().find("zone-z").unwrap() + 1;
    assert!(
        err.contains(&format!("scenario.yaml:{line}:{column}")),
        "wanted {line}:{column} in:\n{err}"
    );
    let text = with_cluster("    controlPlane:\n      zone: zone-q\n", "");
    let err = error_of(&text);
    let line = text.lines().position(|l| l.contains("zone-q")).unwrap() + 1;
    assert!(err.contains(&format!("scenario.yaml:{line}:13")), "{err}");
}
