//! stsim's scenario schema as written in the YAML file: plain serde structs, every one
//! denying unknown fields. `spec.manifests` is not here: manifests are read from the YAML
//! tree directly (see `manifests.rs`), since they are checked against the Kubernetes schema.

use super::located::{Loc, LocMap};
use super::values::{GoDuration, LatencyInput};
use crate::api::Quantity;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;

/// The top level, with `spec` only checked for its keys here; each section of `spec` is
/// decoded on its own so that an error in one does not hide errors in another.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTop {
    pub api_version: Option<Loc<String>>,
    pub kind: Option<Loc<String>>,
    pub metadata: Option<RawMetadata>,
    /// Checked section by section, from the tree.
    #[allow(dead_code)]
    pub spec: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetadata {
    pub name: Loc<String>,
    #[serde(default)]
    pub description: String,
}

/// The keys of `spec`, for the unknown-field check only (the values are never read).
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSpecKeys {
    pub seed: Option<IgnoredAny>,
    pub duration: Option<IgnoredAny>,
    pub kubernetes_version: Option<IgnoredAny>,
    pub cluster: Option<IgnoredAny>,
    pub images: Option<IgnoredAny>,
    pub manifests: Option<IgnoredAny>,
    pub actions: Option<IgnoredAny>,
    pub faults: Option<IgnoredAny>,
    pub slos: Option<IgnoredAny>,
    pub apps: Option<IgnoredAny>,
    pub storage: Option<IgnoredAny>,
}

/// The keys of `spec.cluster`, for the unknown-field check only; each section is decoded
/// on its own.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawClusterKeys {
    pub feature_gates: Option<IgnoredAny>,
    pub zones: Option<IgnoredAny>,
    pub kubernetes: Option<IgnoredAny>,
    pub control_plane: Option<IgnoredAny>,
    pub network: Option<IgnoredAny>,
}

/// `spec.cluster.controlPlane`: where the API server and controllers run.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawControlPlane {
    /// Absent: regional (reachable from every zone, survives any one zone's outage).
    pub zone: Option<Loc<String>>,
}

/// `spec.cluster.network`: one-way link latencies.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawNetwork {
    pub intra_zone_latency: Option<GoDuration>,
    pub inter_zone_latency: Option<GoDuration>,
    pub control_plane_latency: Option<GoDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawZone {
    pub name: Loc<String>,
    pub node_pools: Loc<Vec<RawPool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawPool {
    pub name: Loc<String>,
    pub count: Loc<i64>,
    pub capacity: Loc<LocMap<Loc<Quantity>>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<RawTaint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTaint {
    pub key: String,
    #[serde(default)]
    pub value: String,
    pub effect: TaintEffect,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// `spec.cluster.kubernetes`: timing knobs.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawKubernetes {
    pub watch_delay: Option<GoDuration>,
    #[serde(default)]
    pub scheduler: RawScheduler,
    #[serde(default)]
    pub kubelet: RawKubelet,
    #[serde(default)]
    pub controller_manager: RawControllerManager,
}

/// `spec.cluster.kubernetes.controllerManager`: kube-controller-manager flags.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawControllerManager {
    pub disable_force_detach_on_timeout: Option<bool>,
    pub node_monitor_period: Option<Loc<GoDuration>>,
    pub node_monitor_grace_period: Option<Loc<GoDuration>>,
    pub node_startup_grace_period: Option<Loc<GoDuration>>,
    pub node_eviction_rate: Option<Loc<f64>>,
    pub secondary_node_eviction_rate: Option<Loc<f64>>,
    pub large_cluster_size_threshold: Option<Loc<i64>>,
    pub unhealthy_zone_threshold: Option<Loc<f64>>,
    #[serde(rename = "terminatedPodGCThreshold")]
    pub terminated_pod_gc_threshold: Option<Loc<i64>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawScheduler {
    pub pod_initial_backoff: Option<GoDuration>,
    pub pod_max_backoff: Option<GoDuration>,
    pub pod_max_in_unschedulable_pods_duration: Option<GoDuration>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawKubelet {
    pub image_pull_time: Option<LatencyInput>,
    pub container_start_time: Option<LatencyInput>,
    pub shutdown_time: Option<LatencyInput>,
    pub node_lease_duration_seconds: Option<Loc<u32>>,
    pub node_status_update_frequency: Option<GoDuration>,
    pub node_status_report_frequency: Option<GoDuration>,
    pub shutdown_grace_period: Option<GoDuration>,
    pub shutdown_grace_period_critical_pods: Option<GoDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawImage {
    pub image: Loc<String>,
    pub pull_time: Option<LatencyInput>,
    #[serde(default)]
    pub behavior: RawBehavior,
    pub shutdown_time: Option<LatencyInput>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RawBehavior {
    #[default]
    Healthy,
    PullError,
    CrashLoop,
    NeverReady,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    pub at: Loc<GoDuration>,
    pub kubectl: Loc<String>,
}

/// `spec.storage`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    #[serde(default)]
    pub drivers: Vec<Loc<RawDriver>>,
}

/// One entry of `spec.storage.drivers`: a CSI driver, its built-in profile and overrides.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawDriver {
    pub name: Loc<String>,
    pub profile: Option<Loc<String>>,
    pub topology: Option<RawTopology>,
    pub topology_key: Option<Loc<String>>,
    pub attach_required: Option<bool>,
    pub provision_time: Option<LatencyInput>,
    pub delete_time: Option<LatencyInput>,
    pub attach_time: Option<LatencyInput>,
    pub detach_time: Option<LatencyInput>,
    pub mount_time: Option<LatencyInput>,
    pub unmount_time: Option<LatencyInput>,
    pub provision_failure_ratio: Option<Loc<f64>>,
    pub attach_failure_ratio: Option<Loc<f64>>,
    pub mount_failure_ratio: Option<Loc<f64>>,
    pub max_volumes_per_node: Option<Loc<i64>>,
    pub attach_workers: Option<Loc<i64>>,
    pub provision_workers: Option<Loc<i64>>,
    pub cloud_attach_concurrency: Option<Loc<i64>>,
    pub allow_volume_expansion: Option<bool>,
    pub storage_capacity: Option<Loc<bool>>,
    pub capacity_per_zone: Option<Loc<crate::api::Quantity>>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RawTopology {
    Zonal,
    Regional,
    NodeLocal,
    Any,
}

/// One entry of `spec.faults`: when, for how long, and exactly one fault kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawFault {
    pub at: Loc<GoDuration>,
    pub duration: Option<Loc<GoDuration>>,
    pub provisioning_failure: Option<Loc<RawProvisioningFailure>>,
    pub zone_capacity_exhausted: Option<Loc<RawZoneCapacityExhausted>>,
    pub attach_latency: Option<Loc<RawAttachLatency>>,
    pub attach_failure: Option<Loc<RawAttachFailure>>,
    pub stuck_detach: Option<Loc<RawStuckDetach>>,
    pub disk_loss: Option<Loc<RawDiskLoss>>,
    pub node_crash: Option<Loc<RawNodeFault>>,
    pub node_reboot: Option<Loc<RawNodeReboot>>,
    pub kubelet_stop: Option<Loc<RawNodeFault>>,
    pub zone_outage: Option<Loc<RawZoneOutage>>,
    pub net_partition: Option<Loc<RawNetPartition>>,
    pub control_plane_partition: Option<Loc<RawControlPlanePartition>>,
    /// `apiServerOutage: {}`, decoded for its check (no keys); whether it is given is read
    /// from the tree, since a bare `apiServerOutage:` (null) counts too.
    #[allow(dead_code)]
    pub api_server_outage: Option<Loc<RawApiServerOutage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawProvisioningFailure {
    pub storage_class: Option<Loc<String>>,
    pub zone: Option<Loc<String>>,
    pub message: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZoneCapacityExhausted {
    pub zone: Loc<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttachLatency {
    pub driver: Option<Loc<String>>,
    pub multiplier: Loc<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttachFailure {
    pub driver: Option<Loc<String>>,
    pub ratio: Loc<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStuckDetach {
    pub driver: Option<Loc<String>>,
    pub node: Option<Loc<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawDiskLoss {
    pub persistent_volume: Option<Loc<String>>,
    pub persistent_volume_claim: Option<Loc<String>>,
    pub namespace: Option<String>,
}

/// `nodeCrash` and `kubeletStop`: the node it happens to.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodeFault {
    pub node: Loc<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawNodeReboot {
    pub node: Loc<String>,
    pub boot_time: Option<Loc<GoDuration>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZoneOutage {
    pub zone: Loc<String>,
    pub kind: Option<RawZoneOutageKind>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RawZoneOutageKind {
    Power,
    Network,
}

/// `netPartition`: `groups` (lists of zone, node names or `controlPlane`) or `isolate`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawNetPartition {
    pub groups: Option<Loc<Vec<RawGroup>>>,
    pub isolate: Option<Loc<String>>,
    pub one_way: Option<Loc<bool>>,
}

/// One partition group: zone names, node names or `controlPlane`.
pub type RawGroup = Loc<Vec<Loc<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawControlPlanePartition {
    #[serde(default)]
    pub zones: Vec<Loc<String>>,
    #[serde(default)]
    pub nodes: Vec<Loc<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiServerOutage {}
