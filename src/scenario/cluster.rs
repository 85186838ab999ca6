//! `spec.cluster`: zones and node pools expanded into nodes, feature gates, the timing
//! knobs under `kubernetes`, the control plane's placement and the network's latencies,
//! with their checks.

use super::de::{index, join};
use super::located::Loc;
use super::model::NetworkSpec;
use super::model::{ClusterSpec, KubeVersion, NodeSpecInput, Timing, ZoneSpec};
use super::raw::{RawClusterKeys, RawControlPlane, RawKubernetes, RawNetwork, RawPool, RawZone};
use super::report::Reporter;
use super::suggest::did_you_mean;
use super::yaml::{Node, Value};
use crate::api::quantity::parse_quantity_milli;
use crate::api::scheduling::Taint;
use std::collections::BTreeMap;

/// Feature gates a scenario may set.
pub const FEATURE_GATES: &[&str] = &[
    "MaxUnavailableStatefulSet",
    "StatefulSetAutoDeletePVC",
    "PodIndexLabel",
    "StatefulSetStartOrdinal",
];

/// A gate's default in release `version`. `MaxUnavailableStatefulSet` was beta and on in
/// 1.35.0-1.35.3 only, then off again until 1.37; the others are on since 1.27/1.28, below
/// the oldest supported release.
pub fn gate_default(gate: &str, version: KubeVersion) -> bool {
    match gate {
        "MaxUnavailableStatefulSet" => version.at_least(37),
        _ => true,
    }
}

/// The most nodes one pool may make.
const MAX_POOL_NODES: i64 = 100_000;

/// Default `pods` capacity of a node (the kubelet's `maxPods`).
const DEFAULT_MAX_PODS: &str = "110";

/// What `spec.cluster` turns into.
pub struct Cluster {
    pub spec: ClusterSpec,
    pub feature_gates: BTreeMap<String, bool>,
    pub timing: Timing,
    /// Whether every zone and pool was fine: only then can actions be checked against the
    /// node names.
    pub complete: bool,
}

/// Checks and expands `spec.cluster` (the node at `path`), each section on its own.
pub fn build(node: &Node, version: KubeVersion, r: &mut Reporter, path: &str) -> Cluster {
    let _: Option<RawClusterKeys> = r.decode(node, path);
    let feature_gates = feature_gates(node, version, r, path);
    if !matches!(node.value, Value::Map(_)) {
        // Anything but null was reported by the decode above.
        if node.is_null() {
            r.push(
                node.pos,
                path,
                "the cluster needs zones",
                Some("see spec.cluster.zones".into()),
            );
        }
        let (spec, timing) = (ClusterSpec::default(), Timing::default());
        return Cluster {
            spec,
            feature_gates,
            timing,
            complete: false,
        };
    }
    let cm_path = join(&join(path, "kubernetes"), "controllerManager");
    let timing = r
        .optional::<RawKubernetes>(node, "kubernetes", path)
        .map_or_else(Timing::default, |raw| {
            let nl = super::node_lifecycle_knobs::node_lifecycle_timing(
                &raw.controller_manager,
                r,
                &cm_path,
            );
            Timing {
                node_lifecycle: nl,
                ..timing(raw)
            }
        });
    let zones_path = join(path, "zones");
    let raw_zones: Vec<(usize, RawZone)> = r.list(node, "zones", path);
    let complete = match node.get("zones") {
        Some(Node {
            value: Value::Seq(items),
            ..
        }) if !items.is_empty() => raw_zones.len() == items.len(),
        Some(
            z @ Node {
                value: Value::Seq(_) | Value::Null,
                ..
            },
        ) => {
            r.push(
                z.pos,
                &zones_path,
                "the cluster needs at least one zone",
                None,
            );
            false
        }
        Some(_) => false,
        None => {
            r.push(
                node.pos,
                &zones_path,
                "missing required field `zones`",
                None,
            );
            false
        }
    };
    let before = r.diags.len();
    let mut spec = zones(&raw_zones, r, &zones_path);
    let complete = complete && r.diags.len() == before;
    spec.network = r
        .optional::<RawNetwork>(node, "network", path)
        .map_or_else(NetworkSpec::default, network);
    let control_plane: Option<RawControlPlane> = r.optional(node, "controlPlane", path);
    if let Some(zone) = control_plane.and_then(|c| c.zone) {
        let cp_path = join(path, "controlPlane.zone");
        control_plane_zone(&zone, &spec, r, &cp_path);
        spec.control_plane_zone = Some(zone.value);
    }
    Cluster {
        spec,
        feature_gates,
        timing,
        complete,
    }
}

/// Every known gate with its default for `version`, overridden by `featureGates`.
fn feature_gates(
    node: &Node,
    version: KubeVersion,
    r: &mut Reporter,
    path: &str,
) -> BTreeMap<String, bool> {
    let mut gates: BTreeMap<String, bool> = FEATURE_GATES
        .iter()
        .map(|&name| (name.to_string(), gate_default(name, version)))
        .collect();
    let gates_path = join(path, "featureGates");
    let Some(given) = node.get("featureGates").filter(|n| !n.is_null()) else {
        return gates;
    };
    if !matches!(given.value, Value::Map(_)) {
        r.push(
            given.pos,
            &gates_path,
            format!(
                "expected a map of gate names to true or false, found {}",
                given.describe()
            ),
            None,
        );
    }
    for e in given.entries() {
        let gate_path = join(&gates_path, &e.key);
        let on: Option<bool> = r.decode(&e.value, &gate_path);
        if !gates.contains_key(&e.key) {
            let names = FEATURE_GATES.iter().copied();
            let hint = did_you_mean(&e.key, names.clone()).or_else(|| {
                Some(format!(
                    "known gates: {}",
                    names.collect::<Vec<_>>().join(", ")
                ))
            });
            r.push(
                e.key_pos,
                &gate_path,
                format!("unknown feature gate {:?}", e.key),
                hint,
            );
        } else if let Some(on) = on {
            gates.insert(e.key.clone(), on);
        }
    }
    gates
}

fn zones(raw: &[(usize, RawZone)], r: &mut Reporter, zones_path: &str) -> ClusterSpec {
    // Node name -> the pool path that made it, to refuse duplicates.
    let mut seen_nodes: BTreeMap<String, String> = BTreeMap::new();
    let mut seen_zones: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = ClusterSpec::default();
    for (zi, zone) in raw {
        let zone_path = index(zones_path, *zi);
        let zone_name = zone.name.value.as_str();
        if zone_name.is_empty() {
            r.push(
                zone.name.pos,
                &join(&zone_path, "name"),
                "a zone needs a name",
                None,
            );
        } else if let Some(first) = seen_zones.insert(zone_name, *zi) {
            let msg = format!(
                "zone {zone_name:?} is listed twice (first at {})",
                index(zones_path, first)
            );
            r.push(zone.name.pos, &join(&zone_path, "name"), msg, None);
        }
        let pools_path = join(&zone_path, "nodePools");
        if zone.node_pools.value.is_empty() {
            r.push(
                zone.node_pools.pos,
                &pools_path,
                format!("zone {zone_name:?} has no node pools"),
                None,
            );
        }
        let mut nodes = Vec::new();
        for (pi, pool) in zone.node_pools.value.iter().enumerate() {
            let pool_path = index(&pools_path, pi);
            let Some(capacity) = capacity(pool, r, &pool_path) else {
                continue;
            };
            if pool.name.value.is_empty() {
                r.push(
                    pool.name.pos,
                    &join(&pool_path, "name"),
                    "a node pool needs a name",
                    None,
                );
                continue;
            }
            if !(1..=MAX_POOL_NODES).contains(&pool.count.value) {
                let msg = format!(
                    "count must be between 1 and {MAX_POOL_NODES}, found {}",
                    pool.count.value
                );
                r.push(pool.count.pos, &join(&pool_path, "count"), msg, None);
                continue;
            }
            for i in 1..=pool.count.value {
                let name = format!("{}-{}-{}", pool.name.value, zone_name, i);
                if let Some(first) = seen_nodes.get(&name) {
                    let msg = format!(
                        "node name {name:?} is also made by {first}: node names must be unique"
                    );
                    r.push(
                        pool.name.pos,
                        &join(&pool_path, "name"),
                        msg,
                        Some("rename the pool or the zone".to_string()),
                    );
                    break;
                }
                seen_nodes.insert(name.clone(), pool_path.clone());
                nodes.push(node(name, zone_name, pool, &capacity));
            }
        }
        out.zones.push(ZoneSpec {
            name: zone_name.to_string(),
            nodes,
        });
    }
    out
}

/// The control plane's zone must be one of the cluster's.
fn control_plane_zone(zone: &Loc<String>, spec: &ClusterSpec, r: &mut Reporter, path: &str) {
    let known: Vec<&str> = spec.zones.iter().map(|z| z.name.as_str()).collect();
    if known.contains(&zone.value.as_str()) {
        return;
    }
    let hint = did_you_mean(&zone.value, known.iter().copied()).or_else(|| {
        Some(format!(
            "known: {}; leave controlPlane out for a regional control plane",
            known.join(", ")
        ))
    });
    r.push(
        zone.pos,
        path,
        format!("no zone named {:?}", zone.value),
        hint,
    );
}

fn network(raw: RawNetwork) -> NetworkSpec {
    let d = NetworkSpec::default();
    NetworkSpec {
        intra_zone: raw.intra_zone_latency.map_or(d.intra_zone, |v| v.0),
        inter_zone: raw.inter_zone_latency.map_or(d.inter_zone, |v| v.0),
        control_plane: raw.control_plane_latency.map_or(d.control_plane, |v| v.0),
    }
}

fn node(
    name: String,
    zone: &str,
    pool: &RawPool,
    capacity: &BTreeMap<String, String>,
) -> NodeSpecInput {
    let mut labels = pool.labels.clone();
    labels.insert("topology.kubernetes.io/zone".into(), zone.to_string());
    labels.insert("kubernetes.io/hostname".into(), name.clone());
    labels.insert("kubernetes.io/os".into(), "linux".into());
    let taints = pool
        .taints
        .iter()
        .map(|t| Taint {
            key: t.key.clone(),
            value: t.value.clone(),
            effect: t.effect.as_str().into(),
            time_added: None,
        })
        .collect();
    NodeSpecInput {
        name,
        zone: zone.to_string(),
        pool: pool.name.value.clone(),
        capacity: capacity.clone(),
        labels,
        taints,
    }
}

/// The pool's capacity with `pods` defaulted; `None` (and diagnostics) if it is unusable.
fn capacity(pool: &RawPool, r: &mut Reporter, pool_path: &str) -> Option<BTreeMap<String, String>> {
    let cap_path = join(pool_path, "capacity");
    let before = r.diags.len();
    let mut out = BTreeMap::new();
    for (name, qty) in &pool.capacity.value.0 {
        match parse_quantity_milli(&qty.value.0) {
            Ok(v) if v > 0 => {}
            Ok(_) => r.push(
                qty.pos,
                &join(&cap_path, &name.value),
                "capacity must be positive",
                None,
            ),
            Err(e) => r.push(qty.pos, &join(&cap_path, &name.value), e, None),
        }
        out.insert(name.value.clone(), qty.value.0.clone());
    }
    for required in ["cpu", "memory"] {
        if !out.contains_key(required) {
            let names = out.keys().map(String::as_str);
            let hint = did_you_mean(required, names);
            let msg = format!("capacity needs `{required}`");
            r.push(pool.capacity.pos, &cap_path, msg, hint);
        }
    }
    out.entry("pods".to_string())
        .or_insert_with(|| DEFAULT_MAX_PODS.to_string());
    (r.diags.len() == before).then_some(out)
}

fn timing(raw: RawKubernetes) -> Timing {
    let d = Timing::default();
    let kubelet = kubelet_timing(&raw.kubelet);
    Timing {
        watch_delay: raw.watch_delay.map_or(d.watch_delay, |v| v.0),
        scheduler_pod_initial_backoff: raw
            .scheduler
            .pod_initial_backoff
            .map_or(d.scheduler_pod_initial_backoff, |v| v.0),
        scheduler_pod_max_backoff: raw
            .scheduler
            .pod_max_backoff
            .map_or(d.scheduler_pod_max_backoff, |v| v.0),
        scheduler_max_in_unschedulable: raw
            .scheduler
            .pod_max_in_unschedulable_pods_duration
            .map_or(d.scheduler_max_in_unschedulable, |v| v.0),
        default_image_pull: raw
            .kubelet
            .image_pull_time
            .map_or(d.default_image_pull, |v| v.0),
        container_start: raw
            .kubelet
            .container_start_time
            .map_or(d.container_start, |v| v.0),
        default_shutdown: raw
            .kubelet
            .shutdown_time
            .map_or(d.default_shutdown, |v| v.0),
        disable_force_detach_on_timeout: raw
            .controller_manager
            .disable_force_detach_on_timeout
            .unwrap_or(d.disable_force_detach_on_timeout),
        node_lifecycle: d.node_lifecycle,
        kubelet,
    }
}

fn kubelet_timing(raw: &crate::scenario::raw::RawKubelet) -> crate::scenario::KubeletTiming {
    let d = crate::scenario::KubeletTiming::default();
    crate::scenario::KubeletTiming {
        node_lease_duration_secs: raw
            .node_lease_duration_seconds
            .as_ref()
            .map_or(d.node_lease_duration_secs, |v| v.value.max(1)),
        node_status_update_frequency: raw
            .node_status_update_frequency
            .as_ref()
            .map_or(d.node_status_update_frequency, |v| v.0),
        // `SetDefaults_KubeletConfiguration`: an unset report frequency is the update
        // frequency when that one is set explicitly (backward compatibility), else 5 min.
        node_status_report_frequency: raw
            .node_status_report_frequency
            .as_ref()
            .or(raw.node_status_update_frequency.as_ref())
            .map_or(d.node_status_report_frequency, |v| v.0),
        shutdown_grace_period: raw
            .shutdown_grace_period
            .as_ref()
            .map_or(d.shutdown_grace_period, |v| v.0),
        shutdown_grace_period_critical_pods: raw
            .shutdown_grace_period_critical_pods
            .as_ref()
            .map_or(d.shutdown_grace_period_critical_pods, |v| v.0),
    }
}
