//! Node (`v1`): capacity, labels, taints, unschedulable, and the conditions the kubelet and
//! the node lifecycle controller write.

mod resource_list;
mod text;

pub use resource_list::ResourceList;
pub use text::Text;

use super::meta::{ObjectMeta, Timestamp};
use super::scalar::Quantity;
use super::scheduling::Taint;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    #[serde(default = "super::pod::v1")]
    pub api_version: String,
    #[serde(default = "node_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NodeSpec,
    #[serde(default)]
    pub status: NodeStatus,
}

fn node_kind() -> String {
    "Node".into()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unschedulable: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider_id: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    // Shared between the Node's versions ([`ResourceList`]): every status write copies
    // the status, and these maps are set once at registration.
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub capacity: ResourceList,
    #[serde(default, skip_serializing_if = "ResourceList::is_empty")]
    pub allocatable: ResourceList,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<NodeCondition>,
    /// Attachable volumes the kubelet's volume manager wants or still has mounted (unique
    /// volume names, sorted); written by the kubelet, read by the attach/detach controller.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes_in_use: Vec<String>,
    /// Volumes the attach/detach controller has attached to the node; the kubelet mounts
    /// an attachable volume only once it is listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes_attached: Vec<AttachedVolume>,
}

/// Field by field with the conditions first: the API server compares every status write
/// with the stored status, and a kubelet's post differs from it only in its conditions'
/// heartbeat times, found at the first condition, while the capacity and allocatable maps
/// (the derived order) are equal and cost most of a comparison.
impl PartialEq for NodeStatus {
    fn eq(&self, other: &Self) -> bool {
        // Taken apart whole, so that a field added to the status must be compared here.
        let NodeStatus {
            capacity,
            allocatable,
            conditions,
            volumes_in_use,
            volumes_attached,
        } = self;
        *conditions == other.conditions
            && *volumes_in_use == other.volumes_in_use
            && *volumes_attached == other.volumes_attached
            && *capacity == other.capacity
            && *allocatable == other.allocatable
    }
}

/// `v1.AttachedVolume`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachedVolume {
    /// The unique volume name, e.g. `kubernetes.io/csi/ebs.csi.aws.com^vol-0123`.
    pub name: String,
    /// Empty for CSI volumes (the CSI attacher returns no device path).
    #[serde(default)]
    pub device_path: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeCondition {
    // The texts are [`Text`]s, not `String`s: copying a Node (every status write) then
    // copies no text, and the kubelet's and node lifecycle controller's literals are
    // never allocated.
    #[serde(rename = "type")]
    pub type_: Text,
    pub status: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub reason: Text,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub message: Text,
}

/// Well-known label and taint keys.
pub mod well_known {
    pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
    pub const LABEL_REGION: &str = "topology.kubernetes.io/region";
    pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
    pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
    pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
    pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
    pub const TAINT_OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";
    /// `volumeutil.ControllerManagedAttachAnnotation`: the kubelet leaves attach and detach
    /// of this node's volumes to the attach/detach controller.
    pub const ANNOTATION_CONTROLLER_MANAGED_ATTACH: &str =
        "volumes.kubernetes.io/controller-managed-attach-detach";
}

impl Node {
    pub fn zone(&self) -> &str {
        self.metadata
            .labels
            .get(well_known::LABEL_ZONE)
            .map_or("", String::as_str)
    }
    pub fn is_ready(&self) -> bool {
        self.status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    }
    /// `taints.TaintKeyExists`: a taint with this key, whatever its value and effect.
    pub fn has_taint(&self, key: &str) -> bool {
        self.spec.taints.iter().any(|t| t.key == key)
    }
    pub fn allocatable_milli(&self, resource: &str) -> i128 {
        self.status
            .allocatable
            .get(resource)
            .map_or(0, Quantity::milli)
    }
}
