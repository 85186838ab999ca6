//! EndpointSlice (`discovery.k8s.io/v1`): the endpoints of a Service, one slice per group of
//! up to 100, as the EndpointSlice controller writes them and kube-proxy and CoreDNS read
//! them. Field names and optionality follow `k8s.io/api/discovery/v1`.

use super::meta::{ObjectMeta, ObjectReference};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSlice {
    #[serde(default = "discovery_v1")]
    pub api_version: String,
    #[serde(default = "slice_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `IPv4`, `IPv6` or `FQDN`; the controller writes `IPv4` (pod IPs are IPv4 here).
    pub address_type: String,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    #[serde(default)]
    pub ports: Vec<EndpointPort>,
}

fn discovery_v1() -> String {
    "discovery.k8s.io/v1".into()
}
fn slice_kind() -> String {
    "EndpointSlice".into()
}

/// `discovery/v1.Endpoint`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub addresses: Vec<String>,
    #[serde(default)]
    pub conditions: EndpointConditions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<ObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// `discovery/v1.EndpointConditions`: all three are set by the controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminating: Option<bool>,
}

/// `discovery/v1.EndpointPort`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

/// Well-known labels of EndpointSlices.
pub mod labels {
    /// `discovery.LabelServiceName`: the Service a slice belongs to.
    pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
    /// `discovery.LabelManagedBy`.
    pub const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
    /// The value the EndpointSlice controller writes under `MANAGED_BY`.
    pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
}

impl EndpointSlice {
    /// The Service this slice belongs to (its `kubernetes.io/service-name` label).
    pub fn service_name(&self) -> Option<&str> {
        self.metadata
            .labels
            .get(labels::SERVICE_NAME)
            .map(String::as_str)
    }
}
