//! Storage objects: PersistentVolumeClaim and PersistentVolume (`v1`), StorageClass
//! (`storage.k8s.io/v1`).

use super::meta::{ObjectMeta, ObjectReference};
use super::scalar::Quantity;
use super::scheduling::NodeSelector;
use super::selector::LabelSelector;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolumeClaim {
    #[serde(default = "super::pod::v1")]
    pub api_version: String,
    #[serde(default = "pvc_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PersistentVolumeClaimSpec,
    #[serde(default)]
    pub status: PersistentVolumeClaimStatus,
}

fn pvc_kind() -> String {
    "PersistentVolumeClaim".into()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolumeClaimSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_modes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    #[serde(default)]
    pub resources: VolumeResourceRequirements,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub volume_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mode: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeResourceRequirements {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, Quantity>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Quantity>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolumeClaimStatus {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phase: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_modes: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capacity: BTreeMap<String, Quantity>,
}

impl PersistentVolumeClaim {
    pub fn is_bound(&self) -> bool {
        self.status.phase == "Bound"
    }
    pub fn requested_storage(&self) -> Option<&Quantity> {
        self.spec.resources.requests.get("storage")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolume {
    #[serde(default = "super::pod::v1")]
    pub api_version: String,
    #[serde(default = "pv_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PersistentVolumeSpec,
    #[serde(default)]
    pub status: PersistentVolumeStatus,
}

fn pv_kind() -> String {
    "PersistentVolume".into()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolumeSpec {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capacity: BTreeMap<String, Quantity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_modes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_ref: Option<ObjectReference>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub persistent_volume_reclaim_policy: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub storage_class_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<VolumeNodeAffinity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi: Option<CsiPersistentVolumeSource>,
    /// Other volume sources (hostPath, local, nfs, ...), kept as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeNodeAffinity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<NodeSelector>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CsiPersistentVolumeSource {
    pub driver: String,
    pub volume_handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volume_attributes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolumeStatus {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phase: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageClass {
    #[serde(default = "storage_v1")]
    pub api_version: String,
    #[serde(default = "sc_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub provisioner: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_binding_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_volume_expansion: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_topologies: Vec<TopologySelectorTerm>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mount_options: Vec<String>,
}

fn storage_v1() -> String {
    "storage.k8s.io/v1".into()
}
fn sc_kind() -> String {
    "StorageClass".into()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySelectorTerm {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_label_expressions: Vec<TopologySelectorLabelRequirement>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySelectorLabelRequirement {
    pub key: String,
    pub values: Vec<String>,
}

/// `volumeutil.PVCProtectionFinalizer`: keeps a claim while a pod uses it.
pub const PVC_PROTECTION_FINALIZER: &str = "kubernetes.io/pvc-protection";
/// `volumeutil.PVProtectionFinalizer`: keeps a volume while a claim is bound to it.
pub const PV_PROTECTION_FINALIZER: &str = "kubernetes.io/pv-protection";

/// The annotation that marks the default StorageClass.
pub const ANNOTATION_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";

impl StorageClass {
    pub fn is_default(&self) -> bool {
        self.metadata
            .annotations
            .get(ANNOTATION_DEFAULT_CLASS)
            .is_some_and(|v| v == "true")
    }
}

/// VolumeAttachment (`storage.k8s.io/v1`): the attach/detach controller's request that a
/// CSI driver's attacher attach one PersistentVolume to one node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeAttachment {
    #[serde(default = "storage_v1")]
    pub api_version: String,
    #[serde(default = "va_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: VolumeAttachmentSpec,
    #[serde(default)]
    pub status: VolumeAttachmentStatus,
}

fn va_kind() -> String {
    "VolumeAttachment".into()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeAttachmentSpec {
    /// The CSI driver name that must handle this attachment.
    pub attacher: String,
    pub source: VolumeAttachmentSource,
    pub node_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeAttachmentSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeAttachmentStatus {
    #[serde(default)]
    pub attached: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attachment_metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_error: Option<VolumeError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detach_error: Option<VolumeError>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<super::meta::Timestamp>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// CSINode (`storage.k8s.io/v1`): what the CSI drivers on a node report — their node id,
/// topology keys and how many volumes the node can take (`allocatable.count`, read by the
/// scheduler's NodeVolumeLimits plugin).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CSINode {
    #[serde(default = "storage_v1")]
    pub api_version: String,
    #[serde(default = "csinode_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: CSINodeSpec,
}

fn csinode_kind() -> String {
    "CSINode".into()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CSINodeSpec {
    #[serde(default)]
    pub drivers: Vec<CSINodeDriver>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CSINodeDriver {
    pub name: String,
    #[serde(rename = "nodeID")]
    pub node_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocatable: Option<VolumeNodeResources>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeNodeResources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
}

/// `csi.CSIPluginName`: the in-tree volume plugin that drives every CSI volume.
pub const CSI_PLUGIN_NAME: &str = "kubernetes.io/csi";

impl PersistentVolume {
    /// The unique volume name the attach/detach controller and the kubelet use for a CSI
    /// volume (`GetUniqueVolumeNameFromSpec`: plugin name, `/`, then `csiPlugin.GetVolumeName`
    /// = `<driver>^<volumeHandle>`), as it appears in `node.status.volumesInUse` and
    /// `volumesAttached`. `None` for volumes without a CSI source.
    pub fn csi_unique_volume_name(&self) -> Option<String> {
        let csi = self.spec.csi.as_ref()?;
        Some(format!(
            "{CSI_PLUGIN_NAME}/{}^{}",
            csi.driver, csi.volume_handle
        ))
    }

    /// `util.IsMultiAttachAllowed` for a PV: only ReadWriteMany or ReadOnlyMany volumes may
    /// be attached to several nodes; no access mode at all counts as not allowed.
    pub fn is_multi_attach_allowed(&self) -> bool {
        self.spec
            .access_modes
            .iter()
            .any(|m| m == "ReadWriteMany" || m == "ReadOnlyMany")
    }
}

/// CSIStorageCapacity (`storage.k8s.io/v1`, namespaced): the capacity a CSI driver has for
/// new volumes of one StorageClass in one topology segment, published by the
/// external-provisioner (`--enable-capacity`) and read by the scheduler's VolumeBinding
/// plugin for drivers whose CSIDriver has `storageCapacity: true`. Like upstream, the
/// fields are at the top level (no spec); `nodeTopology` unset means "no node".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CSIStorageCapacity {
    #[serde(default = "storage_v1")]
    pub api_version: String,
    #[serde(default = "csisc_kind")]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_topology: Option<LabelSelector>,
    pub storage_class_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_volume_size: Option<Quantity>,
}

fn csisc_kind() -> String {
    "CSIStorageCapacity".into()
}
