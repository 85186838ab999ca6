//! The node lifecycle and pod GC knobs under `spec.cluster.kubernetes.controllerManager`.

use super::{VALID, error_of, load_text};
use crate::scenario::model::NodeLifecycleTiming;
use crate::time::SimDuration;

const AT: &str = "    kubernetes:\n      watchDelay: 20ms\n";

fn with_cm(cm: &str) -> String {
    assert!(VALID.contains(AT));
    VALID.replacen(AT, &format!("{AT}      controllerManager: {cm}\n"), 1)
}

#[test]
fn defaults_when_absent() {
    let s = load_text(VALID).unwrap();
    assert_eq!(s.timing.node_lifecycle, NodeLifecycleTiming::default());
    let d = NodeLifecycleTiming::default();
    assert_eq!(d.node_monitor_period, SimDuration::from_secs(5));
    assert_eq!(d.node_monitor_grace_period, None, "by version");
    assert_eq!(d.node_startup_grace_period, SimDuration::from_secs(60));
    assert_eq!(
        (d.node_eviction_rate, d.secondary_node_eviction_rate),
        (0.1, 0.01)
    );
    assert_eq!(d.large_cluster_size_threshold, 50);
    assert_eq!(d.unhealthy_zone_threshold, 0.55);
    assert_eq!(d.terminated_pod_gc_threshold, 12_500);
}

#[test]
fn every_knob_can_be_set() {
    let text = with_cm(
        "{ nodeMonitorPeriod: 2s, nodeMonitorGracePeriod: 20s, nodeStartupGracePeriod: 30s, \
         nodeEvictionRate: 0.5, secondaryNodeEvictionRate: 0, largeClusterSizeThreshold: 10, \
         unhealthyZoneThreshold: 0.7, terminatedPodGCThreshold: 100 }",
    );
    let s = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    let secs = SimDuration::from_secs;
    assert_eq!(
        s.timing.node_lifecycle,
        NodeLifecycleTiming {
            node_monitor_period: secs(2),
            node_monitor_grace_period: Some(secs(20)),
            node_startup_grace_period: secs(30),
            node_eviction_rate: 0.5,
            secondary_node_eviction_rate: 0.0,
            large_cluster_size_threshold: 10,
            unhealthy_zone_threshold: 0.7,
            terminated_pod_gc_threshold: 100,
        }
    );
}

#[test]
fn bad_values_are_located_errors() {
    let e = error_of(&with_cm("{ nodeMonitorPeriod: 0s }"));
    assert!(e.contains("nodeMonitorPeriod must be positive"), "{e}");
    assert!(
        e.contains("spec.cluster.kubernetes.controllerManager.nodeMonitorPeriod"),
        "{e}"
    );
    assert!(e.contains("scenario.yaml:27:47"), "{e}");
    let e = error_of(&with_cm("{ nodeEvictionRate: -0.1 }"));
    assert!(
        e.contains("nodeEvictionRate must be a number of 0 or more, found -0.1"),
        "{e}"
    );
    let e = error_of(&with_cm("{ largeClusterSizeThreshold: 9999999999 }"));
    assert!(
        e.contains("largeClusterSizeThreshold must fit in 32 bits"),
        "{e}"
    );
    let e = error_of(&with_cm("{ nodeMonitorGracePeriod: fast }"));
    assert!(e.contains("nodeMonitorGracePeriod"), "{e}");
    let e = error_of(&with_cm("{ nodeEvictionRates: 1 }"));
    assert!(e.contains("nodeEvictionRate"), "a suggestion: {e}");
}
