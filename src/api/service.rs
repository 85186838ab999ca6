//! Service (`v1`) and PodDisruptionBudget (`policy/v1`): the objects that group pods by
//! selector for clients and for voluntary disruptions.

use super::meta::{Condition, ObjectMeta, Timestamp};
use super::scalar::IntOrString;
use super::selector::LabelSelector;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default = "super::pod::v1")]
    pub api_version: String,
    #[serde(default = "svc_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ServiceSpec,
}

fn svc_kind() -> String {
    "Service".into()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub type_: String,
    #[serde(
        rename = "clusterIP",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster_ip: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish_not_ready_addresses: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
}

impl Service {
    /// A headless service has `clusterIP: None`.
    pub fn is_headless(&self) -> bool {
        self.spec.cluster_ip == "None"
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDisruptionBudget {
    #[serde(default = "policy_v1")]
    pub api_version: String,
    #[serde(default = "pdb_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodDisruptionBudgetSpec,
    #[serde(default)]
    pub status: PodDisruptionBudgetStatus,
}

fn policy_v1() -> String {
    "policy/v1".into()
}
fn pdb_kind() -> String {
    "PodDisruptionBudget".into()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDisruptionBudgetSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_available: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_pod_eviction_policy: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDisruptionBudgetStatus {
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    /// Pods the eviction subresource let go, with when, that the disruption controller has
    /// not yet seen deleted (it drops an entry after `DeletionTimeout`, 2 min).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub disrupted_pods: BTreeMap<String, Timestamp>,
    #[serde(default)]
    pub disruptions_allowed: i32,
    #[serde(default)]
    pub current_healthy: i32,
    #[serde(default)]
    pub desired_healthy: i32,
    #[serde(default)]
    pub expected_pods: i32,
    /// `DisruptionAllowed` (reasons `SufficientPods`, `InsufficientPods`, `SyncFailed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

/// PodDisruptionBudget condition and reason names (`policy/v1`).
pub mod pdb {
    /// `DisruptionAllowedCondition`.
    pub const DISRUPTION_ALLOWED: &str = "DisruptionAllowed";
    /// `SufficientPodsReason`.
    pub const SUFFICIENT_PODS: &str = "SufficientPods";
    /// `InsufficientPodsReason`.
    pub const INSUFFICIENT_PODS: &str = "InsufficientPods";
    /// `SyncFailedReason`.
    pub const SYNC_FAILED: &str = "SyncFailed";
    /// `unhealthyPodEvictionPolicy` values.
    pub const IF_HEALTHY_BUDGET: &str = "IfHealthyBudget";
    pub const ALWAYS_ALLOW: &str = "AlwaysAllow";
}

impl PodDisruptionBudget {
    /// Whether the budget selects a pod with these labels. A missing selector selects nothing
    /// and an empty one everything (policy/v1, `LabelSelectorAsSelector`).
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.spec
            .selector
            .as_ref()
            .is_some_and(|s| s.matches(labels))
    }

    // Port of component-helpers `poddisruptionbudget.UpdateDisruptionAllowedCondition`.
    /// Sets `DisruptionAllowed` from `disruptionsAllowed`.
    pub fn update_disruption_allowed_condition(&mut self, now: Timestamp) {
        let allowed = self.status.disruptions_allowed > 0;
        let condition = Condition {
            type_: pdb::DISRUPTION_ALLOWED.into(),
            status: if allowed { "True" } else { "False" }.into(),
            observed_generation: self.status.observed_generation,
            last_transition_time: None,
            reason: if allowed {
                pdb::SUFFICIENT_PODS
            } else {
                pdb::INSUFFICIENT_PODS
            }
            .into(),
            message: String::new(),
        };
        Condition::set(&mut self.status.conditions, condition, now);
    }

    // Port of component-helpers `poddisruptionbudget.ConditionsAreUpToDate`.
    /// Whether the status is of this generation and its condition agrees with it.
    pub fn conditions_are_up_to_date(&self) -> bool {
        let Some(c) = Condition::find(&self.status.conditions, pdb::DISRUPTION_ALLOWED) else {
            return false;
        };
        if self.status.observed_generation != self.metadata.generation {
            return false;
        }
        if self.status.disruptions_allowed > 0 {
            c.status == "True" && c.reason == pdb::SUFFICIENT_PODS
        } else {
            c.status == "False" && c.reason == pdb::INSUFFICIENT_PODS
        }
    }
}
