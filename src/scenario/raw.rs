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
