//! `spec.cluster.kubernetes.controllerManager`'s node lifecycle and pod GC knobs, named
//! after the kube-controller-manager flags in camelCase, each optional with the upstream
//! default, checked with a located error each.

use super::de::join;
use super::located::Loc;
use super::model::NodeLifecycleTiming;
use super::raw::RawControllerManager;
use super::report::Reporter;
use super::values::GoDuration;

/// Checks the knobs given under `path` (`…controllerManager`) over the defaults.
pub fn node_lifecycle_timing(
    raw: &RawControllerManager,
    r: &mut Reporter,
    path: &str,
) -> NodeLifecycleTiming {
    let d = NodeLifecycleTiming::default();
    let positive = |v: &Option<Loc<GoDuration>>, key: &str, r: &mut Reporter| match v {
        Some(l) if l.value.0.as_nanos() == 0 => {
            r.push(
                l.pos,
                &join(path, key),
                format!("{key} must be positive"),
                None,
            );
            None
        }
        Some(l) => Some(l.value.0),
        None => None,
    };
    // Rates (nodes per second) and the zone threshold (a fraction): 0 or more.
    let rate = |v: &Option<Loc<f64>>, key: &str, r: &mut Reporter| match v {
        Some(l) if !l.value.is_finite() || l.value < 0.0 || l.value > f64::from(f32::MAX) => {
            let msg = format!("{key} must be a number of 0 or more, found {}", l.value);
            r.push(l.pos, &join(path, key), msg, None);
            None
        }
        // The flags are float32.
        Some(l) => Some(l.value as f32),
        None => None,
    };
    let int32 = |v: &Option<Loc<i64>>, key: &str, r: &mut Reporter| match v {
        Some(l) => match i32::try_from(l.value) {
            Ok(n) => Some(n),
            Err(_) => {
                let msg = format!("{key} must fit in 32 bits, found {}", l.value);
                r.push(l.pos, &join(path, key), msg, None);
                None
            }
        },
        None => None,
    };
    NodeLifecycleTiming {
        node_monitor_period: positive(&raw.node_monitor_period, "nodeMonitorPeriod", r)
            .unwrap_or(d.node_monitor_period),
        node_monitor_grace_period: raw.node_monitor_grace_period.as_ref().map(|l| l.value.0),
        node_startup_grace_period: raw
            .node_startup_grace_period
            .as_ref()
            .map_or(d.node_startup_grace_period, |l| l.value.0),
        node_eviction_rate: rate(&raw.node_eviction_rate, "nodeEvictionRate", r)
            .unwrap_or(d.node_eviction_rate),
        secondary_node_eviction_rate: rate(
            &raw.secondary_node_eviction_rate,
            "secondaryNodeEvictionRate",
            r,
        )
        .unwrap_or(d.secondary_node_eviction_rate),
        large_cluster_size_threshold: int32(
            &raw.large_cluster_size_threshold,
            "largeClusterSizeThreshold",
            r,
        )
        .unwrap_or(d.large_cluster_size_threshold),
        unhealthy_zone_threshold: rate(&raw.unhealthy_zone_threshold, "unhealthyZoneThreshold", r)
            .unwrap_or(d.unhealthy_zone_threshold),
        terminated_pod_gc_threshold: int32(
            &raw.terminated_pod_gc_threshold,
            "terminatedPodGCThreshold",
            r,
        )
        .unwrap_or(d.terminated_pod_gc_threshold),
    }
}
