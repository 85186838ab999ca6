//! `spec.cluster.kubernetes.kubelet`: the KubeletConfiguration fields stsim models, read
//! with upstream's defaulting (`SetDefaults_KubeletConfiguration`).

use super::load_text;
use crate::scenario::KubeletTiming;
use crate::time::SimDuration;

/// A one-node scenario with `kubelet` as the `spec.cluster.kubernetes.kubelet` map.
fn kubelet(knobs: &str) -> KubeletTiming {
    let text = format!(
        "apiVersion: stsim/v1alpha1\nkind: Scenario\nmetadata: {{name: k}}\nspec:\n  duration: 1m\n  cluster:\n    zones: [{{name: z, nodePools: [{{name: p, count: 1, capacity: {{cpu: 1, memory: 1Gi}}}}]}}]\n    kubernetes:\n      kubelet: {knobs}\n"
    );
    load_text(&text)
        .unwrap_or_else(|e| panic!("{e}"))
        .timing
        .kubelet
}

#[test]
fn every_kubelet_knob_is_read() {
    let k = kubelet(
        "{ nodeLeaseDurationSeconds: 60, nodeStatusUpdateFrequency: 20s, nodeStatusReportFrequency: 1m, shutdownGracePeriod: 30s, shutdownGracePeriodCriticalPods: 10s }",
    );
    assert_eq!(
        k,
        KubeletTiming {
            node_lease_duration_secs: 60,
            node_status_update_frequency: SimDuration::from_secs(20),
            node_status_report_frequency: SimDuration::from_mins(1),
            shutdown_grace_period: SimDuration::from_secs(30),
            shutdown_grace_period_critical_pods: SimDuration::from_secs(10),
        }
    );
}

#[test]
fn the_report_frequency_follows_an_explicit_update_frequency() {
    let defaults = kubelet("{}");
    assert_eq!(defaults, KubeletTiming::default());
    assert_eq!(
        (
            defaults.node_status_update_frequency,
            defaults.node_status_report_frequency
        ),
        (SimDuration::from_secs(10), SimDuration::from_mins(5))
    );
    // Only the update frequency set: the report frequency takes its value.
    let k = kubelet("{ nodeStatusUpdateFrequency: 4s }");
    assert_eq!(
        (
            k.node_status_update_frequency,
            k.node_status_report_frequency
        ),
        (SimDuration::from_secs(4), SimDuration::from_secs(4))
    );
    // Only the report frequency set: the update frequency keeps its 10 s.
    let k = kubelet("{ nodeStatusReportFrequency: 1m }");
    assert_eq!(
        (
            k.node_status_update_frequency,
            k.node_status_report_frequency
        ),
        (SimDuration::from_secs(10), SimDuration::from_mins(1))
    );
}
