//! Field names of the real Kubernetes API (target 1.36) for the kinds stsim reads from manifests.
//!
//! stsim only simulates part of each object, but users paste whole manifests and
//! `kubectl get -o yaml` output. This table lets the loader tell a field that exists in the real
//! API but is not simulated (e.g. `spec.template.spec.securityContext`) from a misspelling (e.g.
//! `replica:` instead of `replicas:`). It is pure data: one `const` slice of [`Field`] per API
//! type, keyed by the upstream Go type name, with the JSON (camelCase) field names taken from the
//! `json:"..."` struct tags.
//!
//! Conventions:
//! - Structs embedded with `json:",inline"` (e.g. `VolumeSource` in `Volume`, `ProbeHandler` in
//!   `Probe`, `PersistentVolumeSource` in `PersistentVolumeSpec`, `LocalObjectReference` in
//!   `ConfigMapVolumeSource`, `EphemeralContainerCommon` in `EphemeralContainer`, `TypeMeta`
//!   (`apiVersion`, `kind`) in top-level kinds) have their fields listed directly in the outer
//!   type, because that is how the JSON looks.
//! - Strings, numbers, booleans, quantities, int-or-string and timestamps are [`Ty::Scalar`];
//!   `map[string]string`, `ResourceList` and `map[string]metav1.Time` are [`Ty::ScalarMap`];
//!   `[]string` / `[]int` are [`Ty::ScalarList`]; `runtime.RawExtension` and `FieldsV1` are
//!   [`Ty::Any`].
//!
//! Sources (stored copies of the upstream Go types, read field by field, tag by tag):
//! - `kubernetes/api`, `core/v1/types.go` at commit 3fed8b5a8558cb508dd58c8cfb228d04cc9a52a5
//!   (a 1.36 development snapshot: it carries `+k8s:alpha(since: "1.36")` markers); read in
//!   full. An older copy, `kubernetes/kubernetes` `staging/src/k8s.io/api/core/v1/types.go` at
//!   815c3d8f70473678341a03abc0a6fb7bab000d3c, was read first and agrees where they overlap.
//! - `kubernetes/api`, `apps/v1/types.go` at d6dbde39dfe405c153d298c2121971233b88fdce
//!   (StatefulSet, ControllerRevision, Deployment).
//! - `kubernetes/kubernetes`, `staging/src/k8s.io/api/policy/v1/types.go` at
//!   dd7e566dce45b921f1b66d08b30ebb35b84bd6c1 (PodDisruptionBudget).
//! - `kubernetes/api`, `storage/v1/types.go` at 1b4e6c3a55f9ee8a1686ca169d46f627875f91c2
//!   (StorageClass, VolumeAttachment, CSIDriver).
//! - `kubernetes/apimachinery`, `pkg/apis/meta/v1/types.go` at
//!   048d783371697f65e816d3d923481c476cc85e06 (ObjectMeta, ListMeta, OwnerReference,
//!   LabelSelector, ManagedFieldsEntry, Condition).
//! - Cross-checked against `kubernetes-client/python` `kubernetes/docs/V1*.md` at
//!   02124c4e4e49edeededfb8b882c50fb2e48451aa, generated from the 1.36 OpenAPI document. That
//!   check brought in the 1.36 changes missing from the snapshots above: `PodSpec.schedulingGroup`
//!   (which replaces the 1.35 alpha `workloadRef`, absent in 1.36),
//!   `PodStatus.nodeAllocatableResourceClaimStatuses`, `ListMeta.shardInfo`,
//!   `CSIDriverSpec.preventPodSchedulingIfMissing`, `DeploymentStatus.terminatingReplicas` and
//!   `PodDisruptionBudgetSpec.unhealthyPodEvictionPolicy`.

use Ty::{Any, ListOf, Obj, Scalar, ScalarList, ScalarMap};

/// The shape of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// string, number, bool, quantity, int-or-string, timestamp: any scalar
    Scalar,
    /// a nested object of the named type (a key of this table)
    Obj(&'static str),
    /// a list whose items are objects of the named type
    ListOf(&'static str),
    /// a list of scalars
    ScalarList,
    /// a map from free-form keys to scalars (labels, annotations, nodeSelector, resource lists, parameters)
    ScalarMap,
    /// free-form content we do not check (e.g. RawExtension, ControllerRevision.data)
    Any,
}

/// One field of an API type: its JSON name and the shape of its value.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
}

const fn f(name: &'static str, ty: Ty) -> Field {
    Field { name, ty }
}

// ---- k8s.io/api/core/v1 ----

const VOLUME: &[Field] = &[
    f("name", Scalar),
    f("hostPath", Obj("HostPathVolumeSource")),
    f("emptyDir", Obj("EmptyDirVolumeSource")),
    f("gcePersistentDisk", Obj("GCEPersistentDiskVolumeSource")),
    f(
        "awsElasticBlockStore",
        Obj("AWSElasticBlockStoreVolumeSource"),
    ),
    f("gitRepo", Obj("GitRepoVolumeSource")),
    f("secret", Obj("SecretVolumeSource")),
    f("nfs", Obj("NFSVolumeSource")),
    f("iscsi", Obj("ISCSIVolumeSource")),
    f("glusterfs", Obj("GlusterfsVolumeSource")),
    f(
        "persistentVolumeClaim",
        Obj("PersistentVolumeClaimVolumeSource"),
    ),
    f("rbd", Obj("RBDVolumeSource")),
    f("flexVolume", Obj("FlexVolumeSource")),
    f("cinder", Obj("CinderVolumeSource")),
    f("cephfs", Obj("CephFSVolumeSource")),
    f("flocker", Obj("FlockerVolumeSource")),
    f("downwardAPI", Obj("DownwardAPIVolumeSource")),
    f("fc", Obj("FCVolumeSource")),
    f("azureFile", Obj("AzureFileVolumeSource")),
    f("configMap", Obj("ConfigMapVolumeSource")),
    f("vsphereVolume", Obj("VsphereVirtualDiskVolumeSource")),
    f("quobyte", Obj("QuobyteVolumeSource")),
    f("azureDisk", Obj("AzureDiskVolumeSource")),
    f(
        "photonPersistentDisk",
        Obj("PhotonPersistentDiskVolumeSource"),
    ),
    f("projected", Obj("ProjectedVolumeSource")),
    f("portworxVolume", Obj("PortworxVolumeSource")),
    f("scaleIO", Obj("ScaleIOVolumeSource")),
    f("storageos", Obj("StorageOSVolumeSource")),
    f("csi", Obj("CSIVolumeSource")),
    f("ephemeral", Obj("EphemeralVolumeSource")),
    f("image", Obj("ImageVolumeSource")),
];

const PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: &[Field] =
    &[f("claimName", Scalar), f("readOnly", Scalar)];

const PERSISTENT_VOLUME: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("PersistentVolumeSpec")),
    f("status", Obj("PersistentVolumeStatus")),
];

/// PersistentVolumeSpec with PersistentVolumeSource inlined.
const PERSISTENT_VOLUME_SPEC: &[Field] = &[
    f("capacity", ScalarMap),
    // PersistentVolumeSource (inline)
    f("gcePersistentDisk", Obj("GCEPersistentDiskVolumeSource")),
    f(
        "awsElasticBlockStore",
        Obj("AWSElasticBlockStoreVolumeSource"),
    ),
    f("hostPath", Obj("HostPathVolumeSource")),
    f("glusterfs", Obj("GlusterfsPersistentVolumeSource")),
    f("nfs", Obj("NFSVolumeSource")),
    f("rbd", Obj("RBDPersistentVolumeSource")),
    f("iscsi", Obj("ISCSIPersistentVolumeSource")),
    f("cinder", Obj("CinderPersistentVolumeSource")),
    f("cephfs", Obj("CephFSPersistentVolumeSource")),
    f("fc", Obj("FCVolumeSource")),
    f("flocker", Obj("FlockerVolumeSource")),
    f("flexVolume", Obj("FlexPersistentVolumeSource")),
    f("azureFile", Obj("AzureFilePersistentVolumeSource")),
    f("vsphereVolume", Obj("VsphereVirtualDiskVolumeSource")),
    f("quobyte", Obj("QuobyteVolumeSource")),
    f("azureDisk", Obj("AzureDiskVolumeSource")),
    f(
        "photonPersistentDisk",
        Obj("PhotonPersistentDiskVolumeSource"),
    ),
    f("portworxVolume", Obj("PortworxVolumeSource")),
    f("scaleIO", Obj("ScaleIOPersistentVolumeSource")),
    f("local", Obj("LocalVolumeSource")),
    f("storageos", Obj("StorageOSPersistentVolumeSource")),
    f("csi", Obj("CSIPersistentVolumeSource")),
    // end of PersistentVolumeSource
    f("accessModes", ScalarList),
    f("claimRef", Obj("ObjectReference")),
    f("persistentVolumeReclaimPolicy", Scalar),
    f("storageClassName", Scalar),
    f("mountOptions", ScalarList),
    f("volumeMode", Scalar),
    f("nodeAffinity", Obj("VolumeNodeAffinity")),
    f("volumeAttributesClassName", Scalar),
];

const VOLUME_NODE_AFFINITY: &[Field] = &[f("required", Obj("NodeSelector"))];

const PERSISTENT_VOLUME_STATUS: &[Field] = &[
    f("phase", Scalar),
    f("message", Scalar),
    f("reason", Scalar),
    f("lastPhaseTransitionTime", Scalar),
];

const PERSISTENT_VOLUME_CLAIM: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("PersistentVolumeClaimSpec")),
    f("status", Obj("PersistentVolumeClaimStatus")),
];

const PERSISTENT_VOLUME_CLAIM_SPEC: &[Field] = &[
    f("accessModes", ScalarList),
    f("selector", Obj("LabelSelector")),
    f("resources", Obj("VolumeResourceRequirements")),
    f("volumeName", Scalar),
    f("storageClassName", Scalar),
    f("volumeMode", Scalar),
    f("dataSource", Obj("TypedLocalObjectReference")),
    f("dataSourceRef", Obj("TypedObjectReference")),
    f("volumeAttributesClassName", Scalar),
];

const TYPED_OBJECT_REFERENCE: &[Field] = &[
    f("apiGroup", Scalar),
    f("kind", Scalar),
    f("name", Scalar),
    f("namespace", Scalar),
];

const MODIFY_VOLUME_STATUS: &[Field] = &[
    f("targetVolumeAttributesClassName", Scalar),
    f("status", Scalar),
];

const PERSISTENT_VOLUME_CLAIM_CONDITION: &[Field] = &[
    f("type", Scalar),
    f("status", Scalar),
    f("lastProbeTime", Scalar),
    f("lastTransitionTime", Scalar),
    f("reason", Scalar),
    f("message", Scalar),
];

const PERSISTENT_VOLUME_CLAIM_STATUS: &[Field] = &[
    f("phase", Scalar),
    f("accessModes", ScalarList),
    f("capacity", ScalarMap),
    f("conditions", ListOf("PersistentVolumeClaimCondition")),
    f("allocatedResources", ScalarMap),
    f("allocatedResourceStatuses", ScalarMap),
    f("currentVolumeAttributesClassName", Scalar),
    f("modifyVolumeStatus", Obj("ModifyVolumeStatus")),
];

const HOST_PATH_VOLUME_SOURCE: &[Field] = &[f("path", Scalar), f("type", Scalar)];

const EMPTY_DIR_VOLUME_SOURCE: &[Field] = &[f("medium", Scalar), f("sizeLimit", Scalar)];

const GLUSTERFS_VOLUME_SOURCE: &[Field] = &[
    f("endpoints", Scalar),
    f("path", Scalar),
    f("readOnly", Scalar),
];

const GLUSTERFS_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("endpoints", Scalar),
    f("path", Scalar),
    f("readOnly", Scalar),
    f("endpointsNamespace", Scalar),
];

const RBD_VOLUME_SOURCE: &[Field] = &[
    f("monitors", ScalarList),
    f("image", Scalar),
    f("fsType", Scalar),
    f("pool", Scalar),
    f("user", Scalar),
    f("keyring", Scalar),
    f("secretRef", Obj("LocalObjectReference")),
    f("readOnly", Scalar),
];

const RBD_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("monitors", ScalarList),
    f("image", Scalar),
    f("fsType", Scalar),
    f("pool", Scalar),
    f("user", Scalar),
    f("keyring", Scalar),
    f("secretRef", Obj("SecretReference")),
    f("readOnly", Scalar),
];

const CINDER_VOLUME_SOURCE: &[Field] = &[
    f("volumeID", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
    f("secretRef", Obj("LocalObjectReference")),
];

const CINDER_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("volumeID", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
    f("secretRef", Obj("SecretReference")),
];

const CEPH_FS_VOLUME_SOURCE: &[Field] = &[
    f("monitors", ScalarList),
    f("path", Scalar),
    f("user", Scalar),
    f("secretFile", Scalar),
    f("secretRef", Obj("LocalObjectReference")),
    f("readOnly", Scalar),
];

const SECRET_REFERENCE: &[Field] = &[f("name", Scalar), f("namespace", Scalar)];

const CEPH_FS_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("monitors", ScalarList),
    f("path", Scalar),
    f("user", Scalar),
    f("secretFile", Scalar),
    f("secretRef", Obj("SecretReference")),
    f("readOnly", Scalar),
];

const FLOCKER_VOLUME_SOURCE: &[Field] = &[f("datasetName", Scalar), f("datasetUUID", Scalar)];

const GCE_PERSISTENT_DISK_VOLUME_SOURCE: &[Field] = &[
    f("pdName", Scalar),
    f("fsType", Scalar),
    f("partition", Scalar),
    f("readOnly", Scalar),
];

const QUOBYTE_VOLUME_SOURCE: &[Field] = &[
    f("registry", Scalar),
    f("volume", Scalar),
    f("readOnly", Scalar),
    f("user", Scalar),
    f("group", Scalar),
    f("tenant", Scalar),
];

const FLEX_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("driver", Scalar),
    f("fsType", Scalar),
    f("secretRef", Obj("SecretReference")),
    f("readOnly", Scalar),
    f("options", ScalarMap),
];

const FLEX_VOLUME_SOURCE: &[Field] = &[
    f("driver", Scalar),
    f("fsType", Scalar),
    f("secretRef", Obj("LocalObjectReference")),
    f("readOnly", Scalar),
    f("options", ScalarMap),
];

const AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: &[Field] = &[
    f("volumeID", Scalar),
    f("fsType", Scalar),
    f("partition", Scalar),
    f("readOnly", Scalar),
];

const GIT_REPO_VOLUME_SOURCE: &[Field] = &[
    f("repository", Scalar),
    f("revision", Scalar),
    f("directory", Scalar),
];

const SECRET_VOLUME_SOURCE: &[Field] = &[
    f("secretName", Scalar),
    f("items", ListOf("KeyToPath")),
    f("defaultMode", Scalar),
    f("optional", Scalar),
];

/// SecretProjection with LocalObjectReference inlined.
const SECRET_PROJECTION: &[Field] = &[
    f("name", Scalar),
    f("items", ListOf("KeyToPath")),
    f("optional", Scalar),
];

const NFS_VOLUME_SOURCE: &[Field] = &[
    f("server", Scalar),
    f("path", Scalar),
    f("readOnly", Scalar),
];

const ISCSI_VOLUME_SOURCE: &[Field] = &[
    f("targetPortal", Scalar),
    f("iqn", Scalar),
    f("lun", Scalar),
    f("iscsiInterface", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
    f("portals", ScalarList),
    f("chapAuthDiscovery", Scalar),
    f("chapAuthSession", Scalar),
    f("secretRef", Obj("LocalObjectReference")),
    f("initiatorName", Scalar),
];

const ISCSI_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("targetPortal", Scalar),
    f("iqn", Scalar),
    f("lun", Scalar),
    f("iscsiInterface", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
    f("portals", ScalarList),
    f("chapAuthDiscovery", Scalar),
    f("chapAuthSession", Scalar),
    f("secretRef", Obj("SecretReference")),
    f("initiatorName", Scalar),
];

const FC_VOLUME_SOURCE: &[Field] = &[
    f("targetWWNs", ScalarList),
    f("lun", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
    f("wwids", ScalarList),
];

const AZURE_FILE_VOLUME_SOURCE: &[Field] = &[
    f("secretName", Scalar),
    f("shareName", Scalar),
    f("readOnly", Scalar),
];

const AZURE_FILE_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("secretName", Scalar),
    f("shareName", Scalar),
    f("readOnly", Scalar),
    f("secretNamespace", Scalar),
];

const VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: &[Field] = &[
    f("volumePath", Scalar),
    f("fsType", Scalar),
    f("storagePolicyName", Scalar),
    f("storagePolicyID", Scalar),
];

const PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: &[Field] = &[f("pdID", Scalar), f("fsType", Scalar)];

const AZURE_DISK_VOLUME_SOURCE: &[Field] = &[
    f("diskName", Scalar),
    f("diskURI", Scalar),
    f("cachingMode", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
    f("kind", Scalar),
];

const PORTWORX_VOLUME_SOURCE: &[Field] = &[
    f("volumeID", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
];

const SCALE_IO_VOLUME_SOURCE: &[Field] = &[
    f("gateway", Scalar),
    f("system", Scalar),
    f("secretRef", Obj("LocalObjectReference")),
    f("sslEnabled", Scalar),
    f("protectionDomain", Scalar),
    f("storagePool", Scalar),
    f("storageMode", Scalar),
    f("volumeName", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
];

const SCALE_IO_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("gateway", Scalar),
    f("system", Scalar),
    f("secretRef", Obj("SecretReference")),
    f("sslEnabled", Scalar),
    f("protectionDomain", Scalar),
    f("storagePool", Scalar),
    f("storageMode", Scalar),
    f("volumeName", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
];

const STORAGE_OS_VOLUME_SOURCE: &[Field] = &[
    f("volumeName", Scalar),
    f("volumeNamespace", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
    f("secretRef", Obj("LocalObjectReference")),
];

const STORAGE_OS_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("volumeName", Scalar),
    f("volumeNamespace", Scalar),
    f("fsType", Scalar),
    f("readOnly", Scalar),
    f("secretRef", Obj("ObjectReference")),
];

/// ConfigMapVolumeSource with LocalObjectReference inlined.
const CONFIG_MAP_VOLUME_SOURCE: &[Field] = &[
    f("name", Scalar),
    f("items", ListOf("KeyToPath")),
    f("defaultMode", Scalar),
    f("optional", Scalar),
];

/// ConfigMapProjection with LocalObjectReference inlined.
const CONFIG_MAP_PROJECTION: &[Field] = &[
    f("name", Scalar),
    f("items", ListOf("KeyToPath")),
    f("optional", Scalar),
];

const SERVICE_ACCOUNT_TOKEN_PROJECTION: &[Field] = &[
    f("audience", Scalar),
    f("expirationSeconds", Scalar),
    f("path", Scalar),
];

const CLUSTER_TRUST_BUNDLE_PROJECTION: &[Field] = &[
    f("name", Scalar),
    f("signerName", Scalar),
    f("labelSelector", Obj("LabelSelector")),
    f("optional", Scalar),
    f("path", Scalar),
];

const PROJECTED_VOLUME_SOURCE: &[Field] = &[
    f("sources", ListOf("VolumeProjection")),
    f("defaultMode", Scalar),
];

const KEY_TO_PATH: &[Field] = &[f("key", Scalar), f("path", Scalar), f("mode", Scalar)];

const LOCAL_VOLUME_SOURCE: &[Field] = &[f("path", Scalar), f("fsType", Scalar)];

const CSI_PERSISTENT_VOLUME_SOURCE: &[Field] = &[
    f("driver", Scalar),
    f("volumeHandle", Scalar),
    f("readOnly", Scalar),
    f("fsType", Scalar),
    f("volumeAttributes", ScalarMap),
    f("controllerPublishSecretRef", Obj("SecretReference")),
    f("nodeStageSecretRef", Obj("SecretReference")),
    f("nodePublishSecretRef", Obj("SecretReference")),
    f("controllerExpandSecretRef", Obj("SecretReference")),
    f("nodeExpandSecretRef", Obj("SecretReference")),
];

const CSI_VOLUME_SOURCE: &[Field] = &[
    f("driver", Scalar),
    f("readOnly", Scalar),
    f("fsType", Scalar),
    f("volumeAttributes", ScalarMap),
    f("nodePublishSecretRef", Obj("LocalObjectReference")),
];

const EPHEMERAL_VOLUME_SOURCE: &[Field] = &[f(
    "volumeClaimTemplate",
    Obj("PersistentVolumeClaimTemplate"),
)];

const PERSISTENT_VOLUME_CLAIM_TEMPLATE: &[Field] = &[
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("PersistentVolumeClaimSpec")),
];

const CONTAINER_PORT: &[Field] = &[
    f("name", Scalar),
    f("hostPort", Scalar),
    f("containerPort", Scalar),
    f("protocol", Scalar),
    f("hostIP", Scalar),
];

const VOLUME_MOUNT: &[Field] = &[
    f("name", Scalar),
    f("readOnly", Scalar),
    f("recursiveReadOnly", Scalar),
    f("mountPath", Scalar),
    f("subPath", Scalar),
    f("mountPropagation", Scalar),
    f("subPathExpr", Scalar),
];

const VOLUME_DEVICE: &[Field] = &[f("name", Scalar), f("devicePath", Scalar)];

const ENV_VAR: &[Field] = &[
    f("name", Scalar),
    f("value", Scalar),
    f("valueFrom", Obj("EnvVarSource")),
];

const POD_CERTIFICATE_PROJECTION: &[Field] = &[
    f("signerName", Scalar),
    f("keyType", Scalar),
    f("maxExpirationSeconds", Scalar),
    f("credentialBundlePath", Scalar),
    f("keyPath", Scalar),
    f("certificateChainPath", Scalar),
    f("userAnnotations", ScalarMap),
];

const VOLUME_PROJECTION: &[Field] = &[
    f("secret", Obj("SecretProjection")),
    f("downwardAPI", Obj("DownwardAPIProjection")),
    f("configMap", Obj("ConfigMapProjection")),
    f("serviceAccountToken", Obj("ServiceAccountTokenProjection")),
    f("clusterTrustBundle", Obj("ClusterTrustBundleProjection")),
    f("podCertificate", Obj("PodCertificateProjection")),
];

const ENV_VAR_SOURCE: &[Field] = &[
    f("fieldRef", Obj("ObjectFieldSelector")),
    f("resourceFieldRef", Obj("ResourceFieldSelector")),
    f("configMapKeyRef", Obj("ConfigMapKeySelector")),
    f("secretKeyRef", Obj("SecretKeySelector")),
    f("fileKeyRef", Obj("FileKeySelector")),
];

const FILE_KEY_SELECTOR: &[Field] = &[
    f("volumeName", Scalar),
    f("path", Scalar),
    f("key", Scalar),
    f("optional", Scalar),
];

const OBJECT_FIELD_SELECTOR: &[Field] = &[f("apiVersion", Scalar), f("fieldPath", Scalar)];

const RESOURCE_FIELD_SELECTOR: &[Field] = &[
    f("containerName", Scalar),
    f("resource", Scalar),
    f("divisor", Scalar),
];

/// ConfigMapKeySelector with LocalObjectReference inlined.
const CONFIG_MAP_KEY_SELECTOR: &[Field] =
    &[f("name", Scalar), f("key", Scalar), f("optional", Scalar)];

/// SecretKeySelector with LocalObjectReference inlined.
const SECRET_KEY_SELECTOR: &[Field] = &[f("name", Scalar), f("key", Scalar), f("optional", Scalar)];

const ENV_FROM_SOURCE: &[Field] = &[
    f("prefix", Scalar),
    f("configMapRef", Obj("ConfigMapEnvSource")),
    f("secretRef", Obj("SecretEnvSource")),
];

/// ConfigMapEnvSource with LocalObjectReference inlined.
const CONFIG_MAP_ENV_SOURCE: &[Field] = &[f("name", Scalar), f("optional", Scalar)];

/// SecretEnvSource with LocalObjectReference inlined.
const SECRET_ENV_SOURCE: &[Field] = &[f("name", Scalar), f("optional", Scalar)];

const HTTP_HEADER: &[Field] = &[f("name", Scalar), f("value", Scalar)];

const HTTP_GET_ACTION: &[Field] = &[
    f("path", Scalar),
    f("port", Scalar),
    f("host", Scalar),
    f("scheme", Scalar),
    f("httpHeaders", ListOf("HTTPHeader")),
];

const TCP_SOCKET_ACTION: &[Field] = &[f("port", Scalar), f("host", Scalar)];

const GRPC_ACTION: &[Field] = &[f("port", Scalar), f("service", Scalar)];

const EXEC_ACTION: &[Field] = &[f("command", ScalarList)];

const SLEEP_ACTION: &[Field] = &[f("seconds", Scalar)];

/// Probe with ProbeHandler inlined.
const PROBE: &[Field] = &[
    // ProbeHandler (inline)
    f("exec", Obj("ExecAction")),
    f("httpGet", Obj("HTTPGetAction")),
    f("tcpSocket", Obj("TCPSocketAction")),
    f("grpc", Obj("GRPCAction")),
    // end of ProbeHandler
    f("initialDelaySeconds", Scalar),
    f("timeoutSeconds", Scalar),
    f("periodSeconds", Scalar),
    f("successThreshold", Scalar),
    f("failureThreshold", Scalar),
    f("terminationGracePeriodSeconds", Scalar),
];

const CONTAINER_RESIZE_POLICY: &[Field] = &[f("resourceName", Scalar), f("restartPolicy", Scalar)];

const CAPABILITIES: &[Field] = &[f("add", ScalarList), f("drop", ScalarList)];

const RESOURCE_REQUIREMENTS: &[Field] = &[
    f("limits", ScalarMap),
    f("requests", ScalarMap),
    f("claims", ListOf("ResourceClaim")),
];

const VOLUME_RESOURCE_REQUIREMENTS: &[Field] = &[f("limits", ScalarMap), f("requests", ScalarMap)];

const RESOURCE_CLAIM: &[Field] = &[f("name", Scalar), f("request", Scalar)];

const CONTAINER: &[Field] = &[
    f("name", Scalar),
    f("image", Scalar),
    f("command", ScalarList),
    f("args", ScalarList),
    f("workingDir", Scalar),
    f("ports", ListOf("ContainerPort")),
    f("envFrom", ListOf("EnvFromSource")),
    f("env", ListOf("EnvVar")),
    f("resources", Obj("ResourceRequirements")),
    f("resizePolicy", ListOf("ContainerResizePolicy")),
    f("restartPolicy", Scalar),
    f("restartPolicyRules", ListOf("ContainerRestartRule")),
    f("volumeMounts", ListOf("VolumeMount")),
    f("volumeDevices", ListOf("VolumeDevice")),
    f("livenessProbe", Obj("Probe")),
    f("readinessProbe", Obj("Probe")),
    f("startupProbe", Obj("Probe")),
    f("lifecycle", Obj("Lifecycle")),
    f("terminationMessagePath", Scalar),
    f("terminationMessagePolicy", Scalar),
    f("imagePullPolicy", Scalar),
    f("securityContext", Obj("SecurityContext")),
    f("stdin", Scalar),
    f("stdinOnce", Scalar),
    f("tty", Scalar),
];

const LIFECYCLE_HANDLER: &[Field] = &[
    f("exec", Obj("ExecAction")),
    f("httpGet", Obj("HTTPGetAction")),
    f("tcpSocket", Obj("TCPSocketAction")),
    f("sleep", Obj("SleepAction")),
];

const LIFECYCLE: &[Field] = &[
    f("postStart", Obj("LifecycleHandler")),
    f("preStop", Obj("LifecycleHandler")),
    f("stopSignal", Scalar),
];

const CONTAINER_STATE_WAITING: &[Field] = &[f("reason", Scalar), f("message", Scalar)];

const CONTAINER_STATE_RUNNING: &[Field] = &[f("startedAt", Scalar)];

const CONTAINER_STATE_TERMINATED: &[Field] = &[
    f("exitCode", Scalar),
    f("signal", Scalar),
    f("reason", Scalar),
    f("message", Scalar),
    f("startedAt", Scalar),
    f("finishedAt", Scalar),
    f("containerID", Scalar),
];

const CONTAINER_STATE: &[Field] = &[
    f("waiting", Obj("ContainerStateWaiting")),
    f("running", Obj("ContainerStateRunning")),
    f("terminated", Obj("ContainerStateTerminated")),
];

const CONTAINER_STATUS: &[Field] = &[
    f("name", Scalar),
    f("state", Obj("ContainerState")),
    f("lastState", Obj("ContainerState")),
    f("ready", Scalar),
    f("restartCount", Scalar),
    f("image", Scalar),
    f("imageID", Scalar),
    f("containerID", Scalar),
    f("started", Scalar),
    f("allocatedResources", ScalarMap),
    f("resources", Obj("ResourceRequirements")),
    f("volumeMounts", ListOf("VolumeMountStatus")),
    f("user", Obj("ContainerUser")),
    f("allocatedResourcesStatus", ListOf("ResourceStatus")),
    f("stopSignal", Scalar),
];

const RESOURCE_STATUS: &[Field] = &[f("name", Scalar), f("resources", ListOf("ResourceHealth"))];

const RESOURCE_HEALTH: &[Field] = &[f("resourceID", Scalar), f("health", Scalar)];

const CONTAINER_USER: &[Field] = &[f("linux", Obj("LinuxContainerUser"))];

const LINUX_CONTAINER_USER: &[Field] = &[
    f("uid", Scalar),
    f("gid", Scalar),
    f("supplementalGroups", ScalarList),
];

const POD_CONDITION: &[Field] = &[
    f("type", Scalar),
    f("observedGeneration", Scalar),
    f("status", Scalar),
    f("lastProbeTime", Scalar),
    f("lastTransitionTime", Scalar),
    f("reason", Scalar),
    f("message", Scalar),
];

const VOLUME_MOUNT_STATUS: &[Field] = &[
    f("name", Scalar),
    f("mountPath", Scalar),
    f("readOnly", Scalar),
    f("recursiveReadOnly", Scalar),
    // Go: embedded `VolumeStatus` with tag `json:"volumeStatus,omitempty"` (named, not inline).
    f("volumeStatus", Obj("VolumeStatus")),
];

const VOLUME_STATUS: &[Field] = &[f("image", Obj("ImageVolumeStatus"))];

const IMAGE_VOLUME_STATUS: &[Field] = &[f("imageRef", Scalar)];

const CONTAINER_RESTART_RULE: &[Field] = &[
    f("action", Scalar),
    f("exitCodes", Obj("ContainerRestartRuleOnExitCodes")),
];

const CONTAINER_RESTART_RULE_ON_EXIT_CODES: &[Field] =
    &[f("operator", Scalar), f("values", ScalarList)];

const NODE_SELECTOR: &[Field] = &[f("nodeSelectorTerms", ListOf("NodeSelectorTerm"))];

const NODE_SELECTOR_TERM: &[Field] = &[
    f("matchExpressions", ListOf("NodeSelectorRequirement")),
    f("matchFields", ListOf("NodeSelectorRequirement")),
];

const NODE_SELECTOR_REQUIREMENT: &[Field] = &[
    f("key", Scalar),
    f("operator", Scalar),
    f("values", ScalarList),
];

const TOPOLOGY_SELECTOR_TERM: &[Field] = &[f(
    "matchLabelExpressions",
    ListOf("TopologySelectorLabelRequirement"),
)];

const TOPOLOGY_SELECTOR_LABEL_REQUIREMENT: &[Field] = &[f("key", Scalar), f("values", ScalarList)];

const AFFINITY: &[Field] = &[
    f("nodeAffinity", Obj("NodeAffinity")),
    f("podAffinity", Obj("PodAffinity")),
    f("podAntiAffinity", Obj("PodAntiAffinity")),
];

const POD_AFFINITY: &[Field] = &[
    f(
        "requiredDuringSchedulingIgnoredDuringExecution",
        ListOf("PodAffinityTerm"),
    ),
    f(
        "preferredDuringSchedulingIgnoredDuringExecution",
        ListOf("WeightedPodAffinityTerm"),
    ),
];

const POD_ANTI_AFFINITY: &[Field] = POD_AFFINITY;

const WEIGHTED_POD_AFFINITY_TERM: &[Field] = &[
    f("weight", Scalar),
    f("podAffinityTerm", Obj("PodAffinityTerm")),
];

const POD_AFFINITY_TERM: &[Field] = &[
    f("labelSelector", Obj("LabelSelector")),
    f("namespaces", ScalarList),
    f("topologyKey", Scalar),
    f("namespaceSelector", Obj("LabelSelector")),
    f("matchLabelKeys", ScalarList),
    f("mismatchLabelKeys", ScalarList),
];

const NODE_AFFINITY: &[Field] = &[
    f(
        "requiredDuringSchedulingIgnoredDuringExecution",
        Obj("NodeSelector"),
    ),
    f(
        "preferredDuringSchedulingIgnoredDuringExecution",
        ListOf("PreferredSchedulingTerm"),
    ),
];

const PREFERRED_SCHEDULING_TERM: &[Field] = &[
    f("weight", Scalar),
    f("preference", Obj("NodeSelectorTerm")),
];

const TAINT: &[Field] = &[
    f("key", Scalar),
    f("value", Scalar),
    f("effect", Scalar),
    f("timeAdded", Scalar),
];

const TOLERATION: &[Field] = &[
    f("key", Scalar),
    f("operator", Scalar),
    f("value", Scalar),
    f("effect", Scalar),
    f("tolerationSeconds", Scalar),
];

const POD_READINESS_GATE: &[Field] = &[f("conditionType", Scalar)];

const POD_SPEC: &[Field] = &[
    f("volumes", ListOf("Volume")),
    f("initContainers", ListOf("Container")),
    f("containers", ListOf("Container")),
    f("ephemeralContainers", ListOf("EphemeralContainer")),
    f("restartPolicy", Scalar),
    f("terminationGracePeriodSeconds", Scalar),
    f("activeDeadlineSeconds", Scalar),
    f("dnsPolicy", Scalar),
    f("nodeSelector", ScalarMap),
    f("serviceAccountName", Scalar),
    f("serviceAccount", Scalar),
    f("automountServiceAccountToken", Scalar),
    f("nodeName", Scalar),
    f("hostNetwork", Scalar),
    f("hostPID", Scalar),
    f("hostIPC", Scalar),
    f("shareProcessNamespace", Scalar),
    f("securityContext", Obj("PodSecurityContext")),
    f("imagePullSecrets", ListOf("LocalObjectReference")),
    f("hostname", Scalar),
    f("subdomain", Scalar),
    f("affinity", Obj("Affinity")),
    f("schedulerName", Scalar),
    f("tolerations", ListOf("Toleration")),
    f("hostAliases", ListOf("HostAlias")),
    f("priorityClassName", Scalar),
    f("priority", Scalar),
    f("dnsConfig", Obj("PodDNSConfig")),
    f("readinessGates", ListOf("PodReadinessGate")),
    f("runtimeClassName", Scalar),
    f("enableServiceLinks", Scalar),
    f("preemptionPolicy", Scalar),
    f("overhead", ScalarMap),
    f(
        "topologySpreadConstraints",
        ListOf("TopologySpreadConstraint"),
    ),
    f("setHostnameAsFQDN", Scalar),
    f("os", Obj("PodOS")),
    f("hostUsers", Scalar),
    f("schedulingGates", ListOf("PodSchedulingGate")),
    f("resourceClaims", ListOf("PodResourceClaim")),
    f("resources", Obj("ResourceRequirements")),
    f("hostnameOverride", Scalar),
    // 1.36: replaces the 1.35 alpha `workloadRef` (confirmed in the 1.36 OpenAPI-generated client).
    f("schedulingGroup", Obj("PodSchedulingGroup")),
];

const POD_RESOURCE_CLAIM: &[Field] = &[
    f("name", Scalar),
    f("resourceClaimName", Scalar),
    f("resourceClaimTemplateName", Scalar),
];

const POD_RESOURCE_CLAIM_STATUS: &[Field] = &[f("name", Scalar), f("resourceClaimName", Scalar)];

const POD_EXTENDED_RESOURCE_CLAIM_STATUS: &[Field] = &[
    f(
        "requestMappings",
        ListOf("ContainerExtendedResourceRequest"),
    ),
    f("resourceClaimName", Scalar),
];

const CONTAINER_EXTENDED_RESOURCE_REQUEST: &[Field] = &[
    f("containerName", Scalar),
    f("resourceName", Scalar),
    f("requestName", Scalar),
];

const NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS: &[Field] = &[
    f("containers", ScalarList),
    f("resourceClaimName", Scalar),
    f("resources", ScalarMap),
];

const POD_OS: &[Field] = &[f("name", Scalar)];

const POD_SCHEDULING_GATE: &[Field] = &[f("name", Scalar)];

const POD_SCHEDULING_GROUP: &[Field] = &[f("podGroupName", Scalar)];

const TOPOLOGY_SPREAD_CONSTRAINT: &[Field] = &[
    f("maxSkew", Scalar),
    f("topologyKey", Scalar),
    f("whenUnsatisfiable", Scalar),
    f("labelSelector", Obj("LabelSelector")),
    f("minDomains", Scalar),
    f("nodeAffinityPolicy", Scalar),
    f("nodeTaintsPolicy", Scalar),
    f("matchLabelKeys", ScalarList),
];

const HOST_ALIAS: &[Field] = &[f("ip", Scalar), f("hostnames", ScalarList)];

const POD_SECURITY_CONTEXT: &[Field] = &[
    f("seLinuxOptions", Obj("SELinuxOptions")),
    f("windowsOptions", Obj("WindowsSecurityContextOptions")),
    f("runAsUser", Scalar),
    f("runAsGroup", Scalar),
    f("runAsNonRoot", Scalar),
    f("supplementalGroups", ScalarList),
    f("supplementalGroupsPolicy", Scalar),
    f("fsGroup", Scalar),
    f("sysctls", ListOf("Sysctl")),
    f("fsGroupChangePolicy", Scalar),
    f("seccompProfile", Obj("SeccompProfile")),
    f("appArmorProfile", Obj("AppArmorProfile")),
    f("seLinuxChangePolicy", Scalar),
];

const SECCOMP_PROFILE: &[Field] = &[f("type", Scalar), f("localhostProfile", Scalar)];

const APP_ARMOR_PROFILE: &[Field] = &[f("type", Scalar), f("localhostProfile", Scalar)];

const POD_DNS_CONFIG: &[Field] = &[
    f("nameservers", ScalarList),
    f("searches", ScalarList),
    f("options", ListOf("PodDNSConfigOption")),
];

const POD_DNS_CONFIG_OPTION: &[Field] = &[f("name", Scalar), f("value", Scalar)];

const POD_IP: &[Field] = &[f("ip", Scalar)];

const HOST_IP: &[Field] = &[f("ip", Scalar)];

/// EphemeralContainer with EphemeralContainerCommon inlined (same fields as Container).
const EPHEMERAL_CONTAINER: &[Field] = &[
    f("name", Scalar),
    f("image", Scalar),
    f("command", ScalarList),
    f("args", ScalarList),
    f("workingDir", Scalar),
    f("ports", ListOf("ContainerPort")),
    f("envFrom", ListOf("EnvFromSource")),
    f("env", ListOf("EnvVar")),
    f("resources", Obj("ResourceRequirements")),
    f("resizePolicy", ListOf("ContainerResizePolicy")),
    f("restartPolicy", Scalar),
    f("restartPolicyRules", ListOf("ContainerRestartRule")),
    f("volumeMounts", ListOf("VolumeMount")),
    f("volumeDevices", ListOf("VolumeDevice")),
    f("livenessProbe", Obj("Probe")),
    f("readinessProbe", Obj("Probe")),
    f("startupProbe", Obj("Probe")),
    f("lifecycle", Obj("Lifecycle")),
    f("terminationMessagePath", Scalar),
    f("terminationMessagePolicy", Scalar),
    f("imagePullPolicy", Scalar),
    f("securityContext", Obj("SecurityContext")),
    f("stdin", Scalar),
    f("stdinOnce", Scalar),
    f("tty", Scalar),
    // end of EphemeralContainerCommon
    f("targetContainerName", Scalar),
];

const POD_STATUS: &[Field] = &[
    f("observedGeneration", Scalar),
    f("phase", Scalar),
    f("conditions", ListOf("PodCondition")),
    f("message", Scalar),
    f("reason", Scalar),
    f("nominatedNodeName", Scalar),
    f("hostIP", Scalar),
    f("hostIPs", ListOf("HostIP")),
    f("podIP", Scalar),
    f("podIPs", ListOf("PodIP")),
    f("startTime", Scalar),
    f("initContainerStatuses", ListOf("ContainerStatus")),
    f("containerStatuses", ListOf("ContainerStatus")),
    f("qosClass", Scalar),
    f("ephemeralContainerStatuses", ListOf("ContainerStatus")),
    f("resize", Scalar),
    f("resourceClaimStatuses", ListOf("PodResourceClaimStatus")),
    f(
        "extendedResourceClaimStatus",
        Obj("PodExtendedResourceClaimStatus"),
    ),
    f(
        "nodeAllocatableResourceClaimStatuses",
        ListOf("NodeAllocatableResourceClaimStatus"),
    ),
    f("allocatedResources", ScalarMap),
    f("resources", Obj("ResourceRequirements")),
];

const POD: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("PodSpec")),
    f("status", Obj("PodStatus")),
];

const POD_TEMPLATE_SPEC: &[Field] = &[f("metadata", Obj("ObjectMeta")), f("spec", Obj("PodSpec"))];

const SESSION_AFFINITY_CONFIG: &[Field] = &[f("clientIP", Obj("ClientIPConfig"))];

const CLIENT_IP_CONFIG: &[Field] = &[f("timeoutSeconds", Scalar)];

const SERVICE_STATUS: &[Field] = &[
    f("loadBalancer", Obj("LoadBalancerStatus")),
    f("conditions", ListOf("Condition")),
];

const LOAD_BALANCER_STATUS: &[Field] = &[f("ingress", ListOf("LoadBalancerIngress"))];

const LOAD_BALANCER_INGRESS: &[Field] = &[
    f("ip", Scalar),
    f("hostname", Scalar),
    f("ipMode", Scalar),
    f("ports", ListOf("PortStatus")),
];

const PORT_STATUS: &[Field] = &[f("port", Scalar), f("protocol", Scalar), f("error", Scalar)];

const SERVICE_SPEC: &[Field] = &[
    f("ports", ListOf("ServicePort")),
    f("selector", ScalarMap),
    f("clusterIP", Scalar),
    f("clusterIPs", ScalarList),
    f("type", Scalar),
    f("externalIPs", ScalarList),
    f("sessionAffinity", Scalar),
    f("loadBalancerIP", Scalar),
    f("loadBalancerSourceRanges", ScalarList),
    f("externalName", Scalar),
    f("externalTrafficPolicy", Scalar),
    f("healthCheckNodePort", Scalar),
    f("publishNotReadyAddresses", Scalar),
    f("sessionAffinityConfig", Obj("SessionAffinityConfig")),
    f("ipFamilies", ScalarList),
    f("ipFamilyPolicy", Scalar),
    f("allocateLoadBalancerNodePorts", Scalar),
    f("loadBalancerClass", Scalar),
    f("internalTrafficPolicy", Scalar),
    f("trafficDistribution", Scalar),
];

const SERVICE_PORT: &[Field] = &[
    f("name", Scalar),
    f("protocol", Scalar),
    f("appProtocol", Scalar),
    f("port", Scalar),
    f("targetPort", Scalar),
    f("nodePort", Scalar),
];

const SERVICE: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("ServiceSpec")),
    f("status", Obj("ServiceStatus")),
];

const SERVICE_ACCOUNT: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("secrets", ListOf("ObjectReference")),
    f("imagePullSecrets", ListOf("LocalObjectReference")),
    f("automountServiceAccountToken", Scalar),
];

const NODE_SPEC: &[Field] = &[
    f("podCIDR", Scalar),
    f("podCIDRs", ScalarList),
    f("providerID", Scalar),
    f("unschedulable", Scalar),
    f("taints", ListOf("Taint")),
    f("configSource", Obj("NodeConfigSource")),
    f("externalID", Scalar),
];

const NODE_CONFIG_SOURCE: &[Field] = &[f("configMap", Obj("ConfigMapNodeConfigSource"))];

const CONFIG_MAP_NODE_CONFIG_SOURCE: &[Field] = &[
    f("namespace", Scalar),
    f("name", Scalar),
    f("uid", Scalar),
    f("resourceVersion", Scalar),
    f("kubeletConfigKey", Scalar),
];

/// Note the upper-case JSON name, kept for backwards compatibility upstream.
const DAEMON_ENDPOINT: &[Field] = &[f("Port", Scalar)];

const NODE_DAEMON_ENDPOINTS: &[Field] = &[f("kubeletEndpoint", Obj("DaemonEndpoint"))];

const NODE_RUNTIME_HANDLER_FEATURES: &[Field] = &[
    f("recursiveReadOnlyMounts", Scalar),
    f("userNamespaces", Scalar),
];

const NODE_RUNTIME_HANDLER: &[Field] = &[
    f("name", Scalar),
    f("features", Obj("NodeRuntimeHandlerFeatures")),
];

const NODE_FEATURES: &[Field] = &[f("supplementalGroupsPolicy", Scalar)];

const NODE_SYSTEM_INFO: &[Field] = &[
    f("machineID", Scalar),
    f("systemUUID", Scalar),
    f("bootID", Scalar),
    f("kernelVersion", Scalar),
    f("osImage", Scalar),
    f("containerRuntimeVersion", Scalar),
    f("kubeletVersion", Scalar),
    f("kubeProxyVersion", Scalar),
    f("operatingSystem", Scalar),
    f("architecture", Scalar),
    f("swap", Obj("NodeSwapStatus")),
];

const NODE_SWAP_STATUS: &[Field] = &[f("capacity", Scalar)];

const NODE_CONFIG_STATUS: &[Field] = &[
    f("assigned", Obj("NodeConfigSource")),
    f("active", Obj("NodeConfigSource")),
    f("lastKnownGood", Obj("NodeConfigSource")),
    f("error", Scalar),
];

const NODE_STATUS: &[Field] = &[
    f("capacity", ScalarMap),
    f("allocatable", ScalarMap),
    f("phase", Scalar),
    f("conditions", ListOf("NodeCondition")),
    f("addresses", ListOf("NodeAddress")),
    f("daemonEndpoints", Obj("NodeDaemonEndpoints")),
    f("nodeInfo", Obj("NodeSystemInfo")),
    f("images", ListOf("ContainerImage")),
    f("volumesInUse", ScalarList),
    f("volumesAttached", ListOf("AttachedVolume")),
    f("config", Obj("NodeConfigStatus")),
    f("runtimeHandlers", ListOf("NodeRuntimeHandler")),
    f("features", Obj("NodeFeatures")),
    f("declaredFeatures", ScalarList),
];

const ATTACHED_VOLUME: &[Field] = &[f("name", Scalar), f("devicePath", Scalar)];

const CONTAINER_IMAGE: &[Field] = &[f("names", ScalarList), f("sizeBytes", Scalar)];

const NODE_CONDITION: &[Field] = &[
    f("type", Scalar),
    f("status", Scalar),
    f("lastHeartbeatTime", Scalar),
    f("lastTransitionTime", Scalar),
    f("reason", Scalar),
    f("message", Scalar),
];

const NODE_ADDRESS: &[Field] = &[f("type", Scalar), f("address", Scalar)];

const NODE: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("NodeSpec")),
    f("status", Obj("NodeStatus")),
];

const NAMESPACE_SPEC: &[Field] = &[f("finalizers", ScalarList)];

const NAMESPACE_STATUS: &[Field] = &[
    f("phase", Scalar),
    f("conditions", ListOf("NamespaceCondition")),
];

const NAMESPACE_CONDITION: &[Field] = &[
    f("type", Scalar),
    f("status", Scalar),
    f("lastTransitionTime", Scalar),
    f("reason", Scalar),
    f("message", Scalar),
];

const NAMESPACE: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("NamespaceSpec")),
    f("status", Obj("NamespaceStatus")),
];

const OBJECT_REFERENCE: &[Field] = &[
    f("kind", Scalar),
    f("namespace", Scalar),
    f("name", Scalar),
    f("uid", Scalar),
    f("apiVersion", Scalar),
    f("resourceVersion", Scalar),
    f("fieldPath", Scalar),
];

const LOCAL_OBJECT_REFERENCE: &[Field] = &[f("name", Scalar)];

const TYPED_LOCAL_OBJECT_REFERENCE: &[Field] =
    &[f("apiGroup", Scalar), f("kind", Scalar), f("name", Scalar)];

const SECRET: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("immutable", Scalar),
    f("data", ScalarMap),
    f("stringData", ScalarMap),
    f("type", Scalar),
];

const CONFIG_MAP: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("immutable", Scalar),
    f("data", ScalarMap),
    f("binaryData", ScalarMap),
];

const DOWNWARD_API_VOLUME_SOURCE: &[Field] = &[
    f("items", ListOf("DownwardAPIVolumeFile")),
    f("defaultMode", Scalar),
];

const DOWNWARD_API_VOLUME_FILE: &[Field] = &[
    f("path", Scalar),
    f("fieldRef", Obj("ObjectFieldSelector")),
    f("resourceFieldRef", Obj("ResourceFieldSelector")),
    f("mode", Scalar),
];

const DOWNWARD_API_PROJECTION: &[Field] = &[f("items", ListOf("DownwardAPIVolumeFile"))];

const SECURITY_CONTEXT: &[Field] = &[
    f("capabilities", Obj("Capabilities")),
    f("privileged", Scalar),
    f("seLinuxOptions", Obj("SELinuxOptions")),
    f("windowsOptions", Obj("WindowsSecurityContextOptions")),
    f("runAsUser", Scalar),
    f("runAsGroup", Scalar),
    f("runAsNonRoot", Scalar),
    f("readOnlyRootFilesystem", Scalar),
    f("allowPrivilegeEscalation", Scalar),
    f("procMount", Scalar),
    f("seccompProfile", Obj("SeccompProfile")),
    f("appArmorProfile", Obj("AppArmorProfile")),
];

const SE_LINUX_OPTIONS: &[Field] = &[
    f("user", Scalar),
    f("role", Scalar),
    f("type", Scalar),
    f("level", Scalar),
];

const WINDOWS_SECURITY_CONTEXT_OPTIONS: &[Field] = &[
    f("gmsaCredentialSpecName", Scalar),
    f("gmsaCredentialSpec", Scalar),
    f("runAsUserName", Scalar),
    f("hostProcess", Scalar),
];

const SYSCTL: &[Field] = &[f("name", Scalar), f("value", Scalar)];

const IMAGE_VOLUME_SOURCE: &[Field] = &[f("reference", Scalar), f("pullPolicy", Scalar)];

// ---- k8s.io/apimachinery/pkg/apis/meta/v1 ----

const OBJECT_META: &[Field] = &[
    f("name", Scalar),
    f("generateName", Scalar),
    f("namespace", Scalar),
    f("selfLink", Scalar),
    f("uid", Scalar),
    f("resourceVersion", Scalar),
    f("generation", Scalar),
    f("creationTimestamp", Scalar),
    f("deletionTimestamp", Scalar),
    f("deletionGracePeriodSeconds", Scalar),
    f("labels", ScalarMap),
    f("annotations", ScalarMap),
    f("ownerReferences", ListOf("OwnerReference")),
    f("finalizers", ScalarList),
    f("managedFields", ListOf("ManagedFieldsEntry")),
];

const LIST_META: &[Field] = &[
    f("selfLink", Scalar),
    f("resourceVersion", Scalar),
    f("continue", Scalar),
    f("remainingItemCount", Scalar),
    f("shardInfo", Obj("ShardInfo")),
];

const SHARD_INFO: &[Field] = &[f("selector", Scalar)];

const OWNER_REFERENCE: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("name", Scalar),
    f("uid", Scalar),
    f("controller", Scalar),
    f("blockOwnerDeletion", Scalar),
];

const LABEL_SELECTOR: &[Field] = &[
    f("matchLabels", ScalarMap),
    f("matchExpressions", ListOf("LabelSelectorRequirement")),
];

const LABEL_SELECTOR_REQUIREMENT: &[Field] = &[
    f("key", Scalar),
    f("operator", Scalar),
    f("values", ScalarList),
];

const MANAGED_FIELDS_ENTRY: &[Field] = &[
    f("manager", Scalar),
    f("operation", Scalar),
    f("apiVersion", Scalar),
    f("time", Scalar),
    f("fieldsType", Scalar),
    // FieldsV1: free-form JSON describing the managed field set.
    f("fieldsV1", Any),
    f("subresource", Scalar),
];

const CONDITION: &[Field] = &[
    f("type", Scalar),
    f("status", Scalar),
    f("observedGeneration", Scalar),
    f("lastTransitionTime", Scalar),
    f("reason", Scalar),
    f("message", Scalar),
];

/// `kind: List` (metav1.List): items are RawExtensions, i.e. arbitrary objects.
const LIST: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ListMeta")),
    f("items", Any),
];

// ---- k8s.io/api/policy/v1 ----

const POD_DISRUPTION_BUDGET: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("PodDisruptionBudgetSpec")),
    f("status", Obj("PodDisruptionBudgetStatus")),
];

const POD_DISRUPTION_BUDGET_SPEC: &[Field] = &[
    f("minAvailable", Scalar),
    f("selector", Obj("LabelSelector")),
    f("maxUnavailable", Scalar),
    f("unhealthyPodEvictionPolicy", Scalar),
];

const POD_DISRUPTION_BUDGET_STATUS: &[Field] = &[
    f("observedGeneration", Scalar),
    f("disruptedPods", ScalarMap),
    f("disruptionsAllowed", Scalar),
    f("currentHealthy", Scalar),
    f("desiredHealthy", Scalar),
    f("expectedPods", Scalar),
    f("conditions", ListOf("Condition")),
];

// ---- k8s.io/api/storage/v1 ----

const STORAGE_CLASS: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("provisioner", Scalar),
    f("parameters", ScalarMap),
    f("reclaimPolicy", Scalar),
    f("mountOptions", ScalarList),
    f("allowVolumeExpansion", Scalar),
    f("volumeBindingMode", Scalar),
    f("allowedTopologies", ListOf("TopologySelectorTerm")),
];

const VOLUME_ATTACHMENT: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("VolumeAttachmentSpec")),
    f("status", Obj("VolumeAttachmentStatus")),
];

const VOLUME_ATTACHMENT_SPEC: &[Field] = &[
    f("attacher", Scalar),
    f("source", Obj("VolumeAttachmentSource")),
    f("nodeName", Scalar),
];

const VOLUME_ATTACHMENT_SOURCE: &[Field] = &[
    f("persistentVolumeName", Scalar),
    f("inlineVolumeSpec", Obj("PersistentVolumeSpec")),
];

const VOLUME_ATTACHMENT_STATUS: &[Field] = &[
    f("attached", Scalar),
    f("attachmentMetadata", ScalarMap),
    f("attachError", Obj("VolumeError")),
    f("detachError", Obj("VolumeError")),
];

const VOLUME_ERROR: &[Field] = &[
    f("time", Scalar),
    f("message", Scalar),
    f("errorCode", Scalar),
];

const CSI_DRIVER: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("CSIDriverSpec")),
];

const CSI_DRIVER_SPEC: &[Field] = &[
    f("attachRequired", Scalar),
    f("podInfoOnMount", Scalar),
    f("volumeLifecycleModes", ScalarList),
    f("storageCapacity", Scalar),
    f("fsGroupPolicy", Scalar),
    f("tokenRequests", ListOf("TokenRequest")),
    f("requiresRepublish", Scalar),
    f("seLinuxMount", Scalar),
    f("nodeAllocatableUpdatePeriodSeconds", Scalar),
    f("serviceAccountTokenInSecrets", Scalar),
    // Alpha in 1.36 (VolumeLimitScaling); from the 1.36 OpenAPI-generated client docs.
    f("preventPodSchedulingIfMissing", Scalar),
];

const TOKEN_REQUEST: &[Field] = &[f("audience", Scalar), f("expirationSeconds", Scalar)];

// ---- k8s.io/api/apps/v1 ----

const STATEFUL_SET: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("StatefulSetSpec")),
    f("status", Obj("StatefulSetStatus")),
];

const STATEFUL_SET_SPEC: &[Field] = &[
    f("replicas", Scalar),
    f("selector", Obj("LabelSelector")),
    f("template", Obj("PodTemplateSpec")),
    f("volumeClaimTemplates", ListOf("PersistentVolumeClaim")),
    f("serviceName", Scalar),
    f("podManagementPolicy", Scalar),
    f("updateStrategy", Obj("StatefulSetUpdateStrategy")),
    f("revisionHistoryLimit", Scalar),
    f("minReadySeconds", Scalar),
    f(
        "persistentVolumeClaimRetentionPolicy",
        Obj("StatefulSetPersistentVolumeClaimRetentionPolicy"),
    ),
    f("ordinals", Obj("StatefulSetOrdinals")),
];

const STATEFUL_SET_UPDATE_STRATEGY: &[Field] = &[
    f("type", Scalar),
    f("rollingUpdate", Obj("RollingUpdateStatefulSetStrategy")),
];

const ROLLING_UPDATE_STATEFUL_SET_STRATEGY: &[Field] =
    &[f("partition", Scalar), f("maxUnavailable", Scalar)];

const STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: &[Field] =
    &[f("whenDeleted", Scalar), f("whenScaled", Scalar)];

const STATEFUL_SET_ORDINALS: &[Field] = &[f("start", Scalar)];

const STATEFUL_SET_STATUS: &[Field] = &[
    f("observedGeneration", Scalar),
    f("replicas", Scalar),
    f("readyReplicas", Scalar),
    f("currentReplicas", Scalar),
    f("updatedReplicas", Scalar),
    f("currentRevision", Scalar),
    f("updateRevision", Scalar),
    f("collisionCount", Scalar),
    f("conditions", ListOf("StatefulSetCondition")),
    f("availableReplicas", Scalar),
];

const STATEFUL_SET_CONDITION: &[Field] = &[
    f("type", Scalar),
    f("status", Scalar),
    f("lastTransitionTime", Scalar),
    f("reason", Scalar),
    f("message", Scalar),
];

const CONTROLLER_REVISION: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    // runtime.RawExtension: an arbitrary embedded object.
    f("data", Any),
    f("revision", Scalar),
];

const DEPLOYMENT: &[Field] = &[
    f("apiVersion", Scalar),
    f("kind", Scalar),
    f("metadata", Obj("ObjectMeta")),
    f("spec", Obj("DeploymentSpec")),
    f("status", Obj("DeploymentStatus")),
];

const DEPLOYMENT_SPEC: &[Field] = &[
    f("replicas", Scalar),
    f("selector", Obj("LabelSelector")),
    f("template", Obj("PodTemplateSpec")),
    f("strategy", Obj("DeploymentStrategy")),
    f("minReadySeconds", Scalar),
    f("revisionHistoryLimit", Scalar),
    f("paused", Scalar),
    f("progressDeadlineSeconds", Scalar),
];

const DEPLOYMENT_STRATEGY: &[Field] = &[
    f("type", Scalar),
    f("rollingUpdate", Obj("RollingUpdateDeployment")),
];

const ROLLING_UPDATE_DEPLOYMENT: &[Field] = &[f("maxUnavailable", Scalar), f("maxSurge", Scalar)];

const DEPLOYMENT_STATUS: &[Field] = &[
    f("observedGeneration", Scalar),
    f("replicas", Scalar),
    f("updatedReplicas", Scalar),
    f("readyReplicas", Scalar),
    f("availableReplicas", Scalar),
    f("unavailableReplicas", Scalar),
    // Added in 1.33 (beta in 1.35); confirmed in the 1.36 OpenAPI-generated client docs.
    f("terminatingReplicas", Scalar),
    f("conditions", ListOf("DeploymentCondition")),
    f("collisionCount", Scalar),
];

const DEPLOYMENT_CONDITION: &[Field] = &[
    f("type", Scalar),
    f("status", Scalar),
    f("lastUpdateTime", Scalar),
    f("lastTransitionTime", Scalar),
    f("reason", Scalar),
    f("message", Scalar),
];

/// Fields of a named API type, e.g. `"PodSpec"`, or `None` if the type is unknown.
pub fn type_fields(type_name: &str) -> Option<&'static [Field]> {
    Some(match type_name {
        "Volume" => VOLUME,
        "PersistentVolumeClaimVolumeSource" => PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE,
        "PersistentVolume" => PERSISTENT_VOLUME,
        "PersistentVolumeSpec" => PERSISTENT_VOLUME_SPEC,
        "VolumeNodeAffinity" => VOLUME_NODE_AFFINITY,
        "PersistentVolumeStatus" => PERSISTENT_VOLUME_STATUS,
        "PersistentVolumeClaim" => PERSISTENT_VOLUME_CLAIM,
        "PersistentVolumeClaimSpec" => PERSISTENT_VOLUME_CLAIM_SPEC,
        "TypedObjectReference" => TYPED_OBJECT_REFERENCE,
        "ModifyVolumeStatus" => MODIFY_VOLUME_STATUS,
        "PersistentVolumeClaimCondition" => PERSISTENT_VOLUME_CLAIM_CONDITION,
        "PersistentVolumeClaimStatus" => PERSISTENT_VOLUME_CLAIM_STATUS,
        "HostPathVolumeSource" => HOST_PATH_VOLUME_SOURCE,
        "EmptyDirVolumeSource" => EMPTY_DIR_VOLUME_SOURCE,
        "GlusterfsVolumeSource" => GLUSTERFS_VOLUME_SOURCE,
        "GlusterfsPersistentVolumeSource" => GLUSTERFS_PERSISTENT_VOLUME_SOURCE,
        "RBDVolumeSource" => RBD_VOLUME_SOURCE,
        "RBDPersistentVolumeSource" => RBD_PERSISTENT_VOLUME_SOURCE,
        "CinderVolumeSource" => CINDER_VOLUME_SOURCE,
        "CinderPersistentVolumeSource" => CINDER_PERSISTENT_VOLUME_SOURCE,
        "CephFSVolumeSource" => CEPH_FS_VOLUME_SOURCE,
        "SecretReference" => SECRET_REFERENCE,
        "CephFSPersistentVolumeSource" => CEPH_FS_PERSISTENT_VOLUME_SOURCE,
        "FlockerVolumeSource" => FLOCKER_VOLUME_SOURCE,
        "GCEPersistentDiskVolumeSource" => GCE_PERSISTENT_DISK_VOLUME_SOURCE,
        "QuobyteVolumeSource" => QUOBYTE_VOLUME_SOURCE,
        "FlexPersistentVolumeSource" => FLEX_PERSISTENT_VOLUME_SOURCE,
        "FlexVolumeSource" => FLEX_VOLUME_SOURCE,
        "AWSElasticBlockStoreVolumeSource" => AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE,
        "GitRepoVolumeSource" => GIT_REPO_VOLUME_SOURCE,
        "SecretVolumeSource" => SECRET_VOLUME_SOURCE,
        "SecretProjection" => SECRET_PROJECTION,
        "NFSVolumeSource" => NFS_VOLUME_SOURCE,
        "ISCSIVolumeSource" => ISCSI_VOLUME_SOURCE,
        "ISCSIPersistentVolumeSource" => ISCSI_PERSISTENT_VOLUME_SOURCE,
        "FCVolumeSource" => FC_VOLUME_SOURCE,
        "AzureFileVolumeSource" => AZURE_FILE_VOLUME_SOURCE,
        "AzureFilePersistentVolumeSource" => AZURE_FILE_PERSISTENT_VOLUME_SOURCE,
        "VsphereVirtualDiskVolumeSource" => VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE,
        "PhotonPersistentDiskVolumeSource" => PHOTON_PERSISTENT_DISK_VOLUME_SOURCE,
        "AzureDiskVolumeSource" => AZURE_DISK_VOLUME_SOURCE,
        "PortworxVolumeSource" => PORTWORX_VOLUME_SOURCE,
        "ScaleIOVolumeSource" => SCALE_IO_VOLUME_SOURCE,
        "ScaleIOPersistentVolumeSource" => SCALE_IO_PERSISTENT_VOLUME_SOURCE,
        "StorageOSVolumeSource" => STORAGE_OS_VOLUME_SOURCE,
        "StorageOSPersistentVolumeSource" => STORAGE_OS_PERSISTENT_VOLUME_SOURCE,
        "ConfigMapVolumeSource" => CONFIG_MAP_VOLUME_SOURCE,
        "ConfigMapProjection" => CONFIG_MAP_PROJECTION,
        "ServiceAccountTokenProjection" => SERVICE_ACCOUNT_TOKEN_PROJECTION,
        "ClusterTrustBundleProjection" => CLUSTER_TRUST_BUNDLE_PROJECTION,
        "ProjectedVolumeSource" => PROJECTED_VOLUME_SOURCE,
        "KeyToPath" => KEY_TO_PATH,
        "LocalVolumeSource" => LOCAL_VOLUME_SOURCE,
        "CSIPersistentVolumeSource" => CSI_PERSISTENT_VOLUME_SOURCE,
        "CSIVolumeSource" => CSI_VOLUME_SOURCE,
        "EphemeralVolumeSource" => EPHEMERAL_VOLUME_SOURCE,
        "PersistentVolumeClaimTemplate" => PERSISTENT_VOLUME_CLAIM_TEMPLATE,
        "ContainerPort" => CONTAINER_PORT,
        "VolumeMount" => VOLUME_MOUNT,
        "VolumeDevice" => VOLUME_DEVICE,
        "EnvVar" => ENV_VAR,
        "PodCertificateProjection" => POD_CERTIFICATE_PROJECTION,
        "VolumeProjection" => VOLUME_PROJECTION,
        "EnvVarSource" => ENV_VAR_SOURCE,
        "FileKeySelector" => FILE_KEY_SELECTOR,
        "ObjectFieldSelector" => OBJECT_FIELD_SELECTOR,
        "ResourceFieldSelector" => RESOURCE_FIELD_SELECTOR,
        "ConfigMapKeySelector" => CONFIG_MAP_KEY_SELECTOR,
        "SecretKeySelector" => SECRET_KEY_SELECTOR,
        "EnvFromSource" => ENV_FROM_SOURCE,
        "ConfigMapEnvSource" => CONFIG_MAP_ENV_SOURCE,
        "SecretEnvSource" => SECRET_ENV_SOURCE,
        "HTTPHeader" => HTTP_HEADER,
        "HTTPGetAction" => HTTP_GET_ACTION,
        "TCPSocketAction" => TCP_SOCKET_ACTION,
        "GRPCAction" => GRPC_ACTION,
        "ExecAction" => EXEC_ACTION,
        "SleepAction" => SLEEP_ACTION,
        "Probe" => PROBE,
        "ContainerResizePolicy" => CONTAINER_RESIZE_POLICY,
        "Capabilities" => CAPABILITIES,
        "ResourceRequirements" => RESOURCE_REQUIREMENTS,
        "VolumeResourceRequirements" => VOLUME_RESOURCE_REQUIREMENTS,
        "ResourceClaim" => RESOURCE_CLAIM,
        "Container" => CONTAINER,
        "LifecycleHandler" => LIFECYCLE_HANDLER,
        "Lifecycle" => LIFECYCLE,
        "ContainerStateWaiting" => CONTAINER_STATE_WAITING,
        "ContainerStateRunning" => CONTAINER_STATE_RUNNING,
        "ContainerStateTerminated" => CONTAINER_STATE_TERMINATED,
        "ContainerState" => CONTAINER_STATE,
        "ContainerStatus" => CONTAINER_STATUS,
        "ResourceStatus" => RESOURCE_STATUS,
        "ResourceHealth" => RESOURCE_HEALTH,
        "ContainerUser" => CONTAINER_USER,
        "LinuxContainerUser" => LINUX_CONTAINER_USER,
        "PodCondition" => POD_CONDITION,
        "VolumeMountStatus" => VOLUME_MOUNT_STATUS,
        "VolumeStatus" => VOLUME_STATUS,
        "ImageVolumeStatus" => IMAGE_VOLUME_STATUS,
        "ContainerRestartRule" => CONTAINER_RESTART_RULE,
        "ContainerRestartRuleOnExitCodes" => CONTAINER_RESTART_RULE_ON_EXIT_CODES,
        "NodeSelector" => NODE_SELECTOR,
        "NodeSelectorTerm" => NODE_SELECTOR_TERM,
        "NodeSelectorRequirement" => NODE_SELECTOR_REQUIREMENT,
        "TopologySelectorTerm" => TOPOLOGY_SELECTOR_TERM,
        "TopologySelectorLabelRequirement" => TOPOLOGY_SELECTOR_LABEL_REQUIREMENT,
        "Affinity" => AFFINITY,
        "PodAffinity" => POD_AFFINITY,
        "PodAntiAffinity" => POD_ANTI_AFFINITY,
        "WeightedPodAffinityTerm" => WEIGHTED_POD_AFFINITY_TERM,
        "PodAffinityTerm" => POD_AFFINITY_TERM,
        "NodeAffinity" => NODE_AFFINITY,
        "PreferredSchedulingTerm" => PREFERRED_SCHEDULING_TERM,
        "Taint" => TAINT,
        "Toleration" => TOLERATION,
        "PodReadinessGate" => POD_READINESS_GATE,
        "PodSpec" => POD_SPEC,
        "PodResourceClaim" => POD_RESOURCE_CLAIM,
        "PodResourceClaimStatus" => POD_RESOURCE_CLAIM_STATUS,
        "PodExtendedResourceClaimStatus" => POD_EXTENDED_RESOURCE_CLAIM_STATUS,
        "ContainerExtendedResourceRequest" => CONTAINER_EXTENDED_RESOURCE_REQUEST,
        "NodeAllocatableResourceClaimStatus" => NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS,
        "PodOS" => POD_OS,
        "PodSchedulingGate" => POD_SCHEDULING_GATE,
        "PodSchedulingGroup" => POD_SCHEDULING_GROUP,
        "TopologySpreadConstraint" => TOPOLOGY_SPREAD_CONSTRAINT,
        "HostAlias" => HOST_ALIAS,
        "PodSecurityContext" => POD_SECURITY_CONTEXT,
        "SeccompProfile" => SECCOMP_PROFILE,
        "AppArmorProfile" => APP_ARMOR_PROFILE,
        "PodDNSConfig" => POD_DNS_CONFIG,
        "PodDNSConfigOption" => POD_DNS_CONFIG_OPTION,
        "PodIP" => POD_IP,
        "HostIP" => HOST_IP,
        "EphemeralContainer" => EPHEMERAL_CONTAINER,
        "PodStatus" => POD_STATUS,
        "Pod" => POD,
        "PodTemplateSpec" => POD_TEMPLATE_SPEC,
        "SessionAffinityConfig" => SESSION_AFFINITY_CONFIG,
        "ClientIPConfig" => CLIENT_IP_CONFIG,
        "ServiceStatus" => SERVICE_STATUS,
        "LoadBalancerStatus" => LOAD_BALANCER_STATUS,
        "LoadBalancerIngress" => LOAD_BALANCER_INGRESS,
        "PortStatus" => PORT_STATUS,
        "ServiceSpec" => SERVICE_SPEC,
        "ServicePort" => SERVICE_PORT,
        "Service" => SERVICE,
        "ServiceAccount" => SERVICE_ACCOUNT,
        "NodeSpec" => NODE_SPEC,
        "NodeConfigSource" => NODE_CONFIG_SOURCE,
        "ConfigMapNodeConfigSource" => CONFIG_MAP_NODE_CONFIG_SOURCE,
        "DaemonEndpoint" => DAEMON_ENDPOINT,
        "NodeDaemonEndpoints" => NODE_DAEMON_ENDPOINTS,
        "NodeRuntimeHandlerFeatures" => NODE_RUNTIME_HANDLER_FEATURES,
        "NodeRuntimeHandler" => NODE_RUNTIME_HANDLER,
        "NodeFeatures" => NODE_FEATURES,
        "NodeSystemInfo" => NODE_SYSTEM_INFO,
        "NodeSwapStatus" => NODE_SWAP_STATUS,
        "NodeConfigStatus" => NODE_CONFIG_STATUS,
        "NodeStatus" => NODE_STATUS,
        "AttachedVolume" => ATTACHED_VOLUME,
        "ContainerImage" => CONTAINER_IMAGE,
        "NodeCondition" => NODE_CONDITION,
        "NodeAddress" => NODE_ADDRESS,
        "Node" => NODE,
        "NamespaceSpec" => NAMESPACE_SPEC,
        "NamespaceStatus" => NAMESPACE_STATUS,
        "NamespaceCondition" => NAMESPACE_CONDITION,
        "Namespace" => NAMESPACE,
        "ObjectReference" => OBJECT_REFERENCE,
        "LocalObjectReference" => LOCAL_OBJECT_REFERENCE,
        "TypedLocalObjectReference" => TYPED_LOCAL_OBJECT_REFERENCE,
        "Secret" => SECRET,
        "ConfigMap" => CONFIG_MAP,
        "DownwardAPIVolumeSource" => DOWNWARD_API_VOLUME_SOURCE,
        "DownwardAPIVolumeFile" => DOWNWARD_API_VOLUME_FILE,
        "DownwardAPIProjection" => DOWNWARD_API_PROJECTION,
        "SecurityContext" => SECURITY_CONTEXT,
        "SELinuxOptions" => SE_LINUX_OPTIONS,
        "WindowsSecurityContextOptions" => WINDOWS_SECURITY_CONTEXT_OPTIONS,
        "Sysctl" => SYSCTL,
        "ImageVolumeSource" => IMAGE_VOLUME_SOURCE,
        "ObjectMeta" => OBJECT_META,
        "ListMeta" => LIST_META,
        "ShardInfo" => SHARD_INFO,
        "OwnerReference" => OWNER_REFERENCE,
        "LabelSelector" => LABEL_SELECTOR,
        "LabelSelectorRequirement" => LABEL_SELECTOR_REQUIREMENT,
        "ManagedFieldsEntry" => MANAGED_FIELDS_ENTRY,
        "Condition" => CONDITION,
        "List" => LIST,
        "PodDisruptionBudget" => POD_DISRUPTION_BUDGET,
        "PodDisruptionBudgetSpec" => POD_DISRUPTION_BUDGET_SPEC,
        "PodDisruptionBudgetStatus" => POD_DISRUPTION_BUDGET_STATUS,
        "StorageClass" => STORAGE_CLASS,
        "VolumeAttachment" => VOLUME_ATTACHMENT,
        "VolumeAttachmentSpec" => VOLUME_ATTACHMENT_SPEC,
        "VolumeAttachmentSource" => VOLUME_ATTACHMENT_SOURCE,
        "VolumeAttachmentStatus" => VOLUME_ATTACHMENT_STATUS,
        "VolumeError" => VOLUME_ERROR,
        "CSIDriver" => CSI_DRIVER,
        "CSIDriverSpec" => CSI_DRIVER_SPEC,
        "TokenRequest" => TOKEN_REQUEST,
        "StatefulSet" => STATEFUL_SET,
        "StatefulSetSpec" => STATEFUL_SET_SPEC,
        "StatefulSetUpdateStrategy" => STATEFUL_SET_UPDATE_STRATEGY,
        "RollingUpdateStatefulSetStrategy" => ROLLING_UPDATE_STATEFUL_SET_STRATEGY,
        "StatefulSetPersistentVolumeClaimRetentionPolicy" => {
            STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY
        }
        "StatefulSetOrdinals" => STATEFUL_SET_ORDINALS,
        "StatefulSetStatus" => STATEFUL_SET_STATUS,
        "StatefulSetCondition" => STATEFUL_SET_CONDITION,
        "ControllerRevision" => CONTROLLER_REVISION,
        "Deployment" => DEPLOYMENT,
        "DeploymentSpec" => DEPLOYMENT_SPEC,
        "DeploymentStrategy" => DEPLOYMENT_STRATEGY,
        "RollingUpdateDeployment" => ROLLING_UPDATE_DEPLOYMENT,
        "DeploymentStatus" => DEPLOYMENT_STATUS,
        "DeploymentCondition" => DEPLOYMENT_CONDITION,
        _ => return None,
    })
}

/// Top-level kinds known to this table. For every entry the root type name equals the kind.
const KINDS: &[(&str, &str)] = &[
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ControllerRevision"),
    ("apps/v1", "Deployment"),
    ("v1", "Pod"),
    ("v1", "Node"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "PersistentVolume"),
    ("v1", "Namespace"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("v1", "List"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("policy/v1", "PodDisruptionBudget"),
];

/// The root type name for a top-level object, e.g. `("apps/v1", "StatefulSet")` ->
/// `Some("StatefulSet")`. Root types list `apiVersion`, `kind`, `metadata` (`Obj("ObjectMeta")`,
/// or `ListMeta` for `List`), and `spec`/`status` where the real API has them.
pub fn root_type(api_version: &str, kind: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .find(|&&(a, k)| a == api_version && k == kind)
        .map(|&(_, k)| k)
}

/// All `(apiVersion, kind)` pairs that [`root_type`] knows, for error hints.
pub fn known_kinds() -> &'static [(&'static str, &'static str)] {
    KINDS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of the `type_fields` match.
    const ALL_TYPE_NAMES: &[&str] = &[
        "Volume",
        "PersistentVolumeClaimVolumeSource",
        "PersistentVolume",
        "PersistentVolumeSpec",
        "VolumeNodeAffinity",
        "PersistentVolumeStatus",
        "PersistentVolumeClaim",
        "PersistentVolumeClaimSpec",
        "TypedObjectReference",
        "ModifyVolumeStatus",
        "PersistentVolumeClaimCondition",
        "PersistentVolumeClaimStatus",
        "HostPathVolumeSource",
        "EmptyDirVolumeSource",
        "GlusterfsVolumeSource",
        "GlusterfsPersistentVolumeSource",
        "RBDVolumeSource",
        "RBDPersistentVolumeSource",
        "CinderVolumeSource",
        "CinderPersistentVolumeSource",
        "CephFSVolumeSource",
        "SecretReference",
        "CephFSPersistentVolumeSource",
        "FlockerVolumeSource",
        "GCEPersistentDiskVolumeSource",
        "QuobyteVolumeSource",
        "FlexPersistentVolumeSource",
        "FlexVolumeSource",
        "AWSElasticBlockStoreVolumeSource",
        "GitRepoVolumeSource",
        "SecretVolumeSource",
        "SecretProjection",
        "NFSVolumeSource",
        "ISCSIVolumeSource",
        "ISCSIPersistentVolumeSource",
        "FCVolumeSource",
        "AzureFileVolumeSource",
        "AzureFilePersistentVolumeSource",
        "VsphereVirtualDiskVolumeSource",
        "PhotonPersistentDiskVolumeSource",
        "AzureDiskVolumeSource",
        "PortworxVolumeSource",
        "ScaleIOVolumeSource",
        "ScaleIOPersistentVolumeSource",
        "StorageOSVolumeSource",
        "StorageOSPersistentVolumeSource",
        "ConfigMapVolumeSource",
        "ConfigMapProjection",
        "ServiceAccountTokenProjection",
        "ClusterTrustBundleProjection",
        "ProjectedVolumeSource",
        "KeyToPath",
        "LocalVolumeSource",
        "CSIPersistentVolumeSource",
        "CSIVolumeSource",
        "EphemeralVolumeSource",
        "PersistentVolumeClaimTemplate",
        "ContainerPort",
        "VolumeMount",
        "VolumeDevice",
        "EnvVar",
        "PodCertificateProjection",
        "VolumeProjection",
        "EnvVarSource",
        "FileKeySelector",
        "ObjectFieldSelector",
        "ResourceFieldSelector",
        "ConfigMapKeySelector",
        "SecretKeySelector",
        "EnvFromSource",
        "ConfigMapEnvSource",
        "SecretEnvSource",
        "HTTPHeader",
        "HTTPGetAction",
        "TCPSocketAction",
        "GRPCAction",
        "ExecAction",
        "SleepAction",
        "Probe",
        "ContainerResizePolicy",
        "Capabilities",
        "ResourceRequirements",
        "VolumeResourceRequirements",
        "ResourceClaim",
        "Container",
        "LifecycleHandler",
        "Lifecycle",
        "ContainerStateWaiting",
        "ContainerStateRunning",
        "ContainerStateTerminated",
        "ContainerState",
        "ContainerStatus",
        "ResourceStatus",
        "ResourceHealth",
        "ContainerUser",
        "LinuxContainerUser",
        "PodCondition",
        "VolumeMountStatus",
        "VolumeStatus",
        "ImageVolumeStatus",
        "ContainerRestartRule",
        "ContainerRestartRuleOnExitCodes",
        "NodeSelector",
        "NodeSelectorTerm",
        "NodeSelectorRequirement",
        "TopologySelectorTerm",
        "TopologySelectorLabelRequirement",
        "Affinity",
        "PodAffinity",
        "PodAntiAffinity",
        "WeightedPodAffinityTerm",
        "PodAffinityTerm",
        "NodeAffinity",
        "PreferredSchedulingTerm",
        "Taint",
        "Toleration",
        "PodReadinessGate",
        "PodSpec",
        "PodResourceClaim",
        "PodResourceClaimStatus",
        "PodExtendedResourceClaimStatus",
        "ContainerExtendedResourceRequest",
        "NodeAllocatableResourceClaimStatus",
        "PodOS",
        "PodSchedulingGate",
        "PodSchedulingGroup",
        "TopologySpreadConstraint",
        "HostAlias",
        "PodSecurityContext",
        "SeccompProfile",
        "AppArmorProfile",
        "PodDNSConfig",
        "PodDNSConfigOption",
        "PodIP",
        "HostIP",
        "EphemeralContainer",
        "PodStatus",
        "Pod",
        "PodTemplateSpec",
        "SessionAffinityConfig",
        "ClientIPConfig",
        "ServiceStatus",
        "LoadBalancerStatus",
        "LoadBalancerIngress",
        "PortStatus",
        "ServiceSpec",
        "ServicePort",
        "Service",
        "ServiceAccount",
        "NodeSpec",
        "NodeConfigSource",
        "ConfigMapNodeConfigSource",
        "DaemonEndpoint",
        "NodeDaemonEndpoints",
        "NodeRuntimeHandlerFeatures",
        "NodeRuntimeHandler",
        "NodeFeatures",
        "NodeSystemInfo",
        "NodeSwapStatus",
        "NodeConfigStatus",
        "NodeStatus",
        "AttachedVolume",
        "ContainerImage",
        "NodeCondition",
        "NodeAddress",
        "Node",
        "NamespaceSpec",
        "NamespaceStatus",
        "NamespaceCondition",
        "Namespace",
        "ObjectReference",
        "LocalObjectReference",
        "TypedLocalObjectReference",
        "Secret",
        "ConfigMap",
        "DownwardAPIVolumeSource",
        "DownwardAPIVolumeFile",
        "DownwardAPIProjection",
        "SecurityContext",
        "SELinuxOptions",
        "WindowsSecurityContextOptions",
        "Sysctl",
        "ImageVolumeSource",
        "ObjectMeta",
        "ListMeta",
        "ShardInfo",
        "OwnerReference",
        "LabelSelector",
        "LabelSelectorRequirement",
        "ManagedFieldsEntry",
        "Condition",
        "List",
        "PodDisruptionBudget",
        "PodDisruptionBudgetSpec",
        "PodDisruptionBudgetStatus",
        "StorageClass",
        "VolumeAttachment",
        "VolumeAttachmentSpec",
        "VolumeAttachmentSource",
        "VolumeAttachmentStatus",
        "VolumeError",
        "CSIDriver",
        "CSIDriverSpec",
        "TokenRequest",
        "StatefulSet",
        "StatefulSetSpec",
        "StatefulSetUpdateStrategy",
        "RollingUpdateStatefulSetStrategy",
        "StatefulSetPersistentVolumeClaimRetentionPolicy",
        "StatefulSetOrdinals",
        "StatefulSetStatus",
        "StatefulSetCondition",
        "ControllerRevision",
        "Deployment",
        "DeploymentSpec",
        "DeploymentStrategy",
        "RollingUpdateDeployment",
        "DeploymentStatus",
        "DeploymentCondition",
    ];

    fn fields(ty: &str) -> &'static [Field] {
        type_fields(ty).unwrap_or_else(|| panic!("unknown type {ty}"))
    }

    fn field(ty: &str, name: &str) -> Option<Ty> {
        fields(ty).iter().find(|fd| fd.name == name).map(|fd| fd.ty)
    }

    fn has(ty: &str, name: &str) -> bool {
        field(ty, name).is_some()
    }

    /// Types reachable from `start` through `Obj`/`ListOf`; panics on a dangling reference.
    fn closure(start: &[&'static str]) -> Vec<&'static str> {
        let mut stack: Vec<&'static str> = start.to_vec();
        let mut seen: Vec<&'static str> = Vec::new();
        while let Some(name) = stack.pop() {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            for fd in fields(name) {
                if let Ty::Obj(t) | Ty::ListOf(t) = fd.ty {
                    assert!(
                        type_fields(t).is_some(),
                        "{name}.{} refers to unknown type {t}",
                        fd.name
                    );
                    stack.push(t);
                }
            }
        }
        seen
    }

    #[test]
    fn every_referenced_type_resolves() {
        let reached = closure(ALL_TYPE_NAMES);
        assert_eq!(reached.len(), ALL_TYPE_NAMES.len());
    }

    #[test]
    fn every_type_is_reachable_from_a_root() {
        let roots: Vec<&'static str> = known_kinds().iter().map(|&(_, k)| k).collect();
        let reached = closure(&roots);
        for name in ALL_TYPE_NAMES {
            assert!(
                reached.contains(name),
                "{name} is not reachable from any root"
            );
        }
    }

    #[test]
    fn field_names_are_unique_and_json_shaped() {
        for &ty in ALL_TYPE_NAMES {
            let fs = fields(ty);
            assert!(!fs.is_empty(), "{ty} has no fields");
            for (i, fd) in fs.iter().enumerate() {
                assert!(
                    fd.name.starts_with(|c: char| c.is_ascii_alphabetic())
                        && fd.name.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{ty}.{} is not a JSON field name",
                    fd.name
                );
                assert!(
                    fs[..i].iter().all(|other| other.name != fd.name),
                    "{ty}.{} is listed twice",
                    fd.name
                );
            }
        }
    }

    #[test]
    fn unknown_type_is_none() {
        assert!(type_fields("NoSuchType").is_none());
        assert!(type_fields("podSpec").is_none());
        assert!(type_fields("").is_none());
    }

    #[test]
    fn root_type_works_for_every_known_kind() {
        assert!(known_kinds().len() >= 17);
        for &(api_version, kind) in known_kinds() {
            let root = root_type(api_version, kind)
                .unwrap_or_else(|| panic!("no root for {api_version} {kind}"));
            assert_eq!(root, kind);
            assert_eq!(field(root, "apiVersion"), Some(Ty::Scalar), "{root}");
            assert_eq!(field(root, "kind"), Some(Ty::Scalar), "{root}");
            let meta = if kind == "List" {
                "ListMeta"
            } else {
                "ObjectMeta"
            };
            assert_eq!(field(root, "metadata"), Some(Ty::Obj(meta)), "{root}");
        }
        assert_eq!(root_type("apps/v1", "StatefulSet"), Some("StatefulSet"));
        assert_eq!(root_type("v1", "Pod"), Some("Pod"));
        assert_eq!(
            root_type("policy/v1", "PodDisruptionBudget"),
            Some("PodDisruptionBudget")
        );
        assert_eq!(
            root_type("storage.k8s.io/v1", "CSIDriver"),
            Some("CSIDriver")
        );
        assert_eq!(root_type("v1", "List"), Some("List"));
        assert_eq!(root_type("v1", "StatefulSet"), None);
        assert_eq!(root_type("apps/v1beta1", "StatefulSet"), None);
        assert_eq!(root_type("apps/v1", "Statefulset"), None);
    }

    #[test]
    fn roots_have_spec_and_status_where_the_api_does() {
        for kind in [
            "StatefulSet",
            "Deployment",
            "Pod",
            "Node",
            "Service",
            "PersistentVolumeClaim",
            "PersistentVolume",
            "VolumeAttachment",
            "PodDisruptionBudget",
            "Namespace",
        ] {
            let spec = format!("{kind}Spec");
            let status = format!("{kind}Status");
            assert!(
                matches!(field(kind, "spec"), Some(Ty::Obj(t)) if t == spec),
                "{kind}.spec"
            );
            assert!(
                matches!(field(kind, "status"), Some(Ty::Obj(t)) if t == status),
                "{kind}.status"
            );
        }
        assert_eq!(field("CSIDriver", "spec"), Some(Ty::Obj("CSIDriverSpec")));
        assert!(!has("CSIDriver", "status"));
        assert!(!has("StorageClass", "spec"));
        assert!(has("StorageClass", "provisioner"));
        assert_eq!(field("ControllerRevision", "data"), Some(Ty::Any));
        assert_eq!(field("List", "items"), Some(Ty::Any));
        assert_eq!(field("ConfigMap", "data"), Some(Ty::ScalarMap));
        assert_eq!(field("Secret", "stringData"), Some(Ty::ScalarMap));
    }

    #[test]
    fn spot_checks() {
        assert_eq!(
            field("PodSpec", "terminationGracePeriodSeconds"),
            Some(Ty::Scalar)
        );
        assert_eq!(field("StatefulSetSpec", "replicas"), Some(Ty::Scalar));
        assert!(!has("StatefulSetSpec", "replica"));
        assert_eq!(field("Container", "readinessProbe"), Some(Ty::Obj("Probe")));
        assert_eq!(field("Probe", "httpGet"), Some(Ty::Obj("HTTPGetAction")));
        assert_eq!(field("Probe", "periodSeconds"), Some(Ty::Scalar));
        assert_eq!(
            field("Volume", "persistentVolumeClaim"),
            Some(Ty::Obj("PersistentVolumeClaimVolumeSource"))
        );
        assert_eq!(
            field("ObjectMeta", "ownerReferences"),
            Some(Ty::ListOf("OwnerReference"))
        );
        assert_eq!(field("ObjectMeta", "labels"), Some(Ty::ScalarMap));
        assert_eq!(
            field("PodSpec", "containers"),
            Some(Ty::ListOf("Container"))
        );
        assert_eq!(
            field("StatefulSetSpec", "template"),
            Some(Ty::Obj("PodTemplateSpec"))
        );
        assert_eq!(
            field("StatefulSetSpec", "volumeClaimTemplates"),
            Some(Ty::ListOf("PersistentVolumeClaim"))
        );
        assert_eq!(field("Container", "command"), Some(Ty::ScalarList));
        assert_eq!(field("ResourceRequirements", "limits"), Some(Ty::ScalarMap));
    }

    #[test]
    fn inlined_structs_are_flattened() {
        // VolumeSource inlined in Volume.
        for name in [
            "emptyDir",
            "hostPath",
            "configMap",
            "secret",
            "csi",
            "ephemeral",
            "image",
        ] {
            assert!(has("Volume", name), "Volume.{name}");
        }
        assert!(!has("Volume", "volumeSource"));
        // ProbeHandler inlined in Probe.
        for name in ["exec", "httpGet", "tcpSocket", "grpc"] {
            assert!(has("Probe", name), "Probe.{name}");
        }
        assert!(!has("Probe", "handler"));
        // PersistentVolumeSource inlined in PersistentVolumeSpec.
        for name in ["csi", "local", "nfs", "hostPath", "awsElasticBlockStore"] {
            assert!(
                has("PersistentVolumeSpec", name),
                "PersistentVolumeSpec.{name}"
            );
        }
        assert!(!has("PersistentVolumeSpec", "persistentVolumeSource"));
        // LocalObjectReference inlined.
        assert!(has("ConfigMapVolumeSource", "name"));
        assert!(has("SecretKeySelector", "name"));
        assert!(has("ConfigMapEnvSource", "name"));
        // EphemeralContainerCommon inlined.
        assert!(has("EphemeralContainer", "image"));
        assert!(has("EphemeralContainer", "targetContainerName"));
    }

    #[test]
    fn recent_fields_are_present() {
        for name in [
            "resources",
            "hostnameOverride",
            "schedulingGates",
            "resourceClaims",
            "os",
            "hostUsers",
            "schedulingGroup",
        ] {
            assert!(has("PodSpec", name), "PodSpec.{name}");
        }
        for name in ["resizePolicy", "restartPolicy", "restartPolicyRules"] {
            assert!(has("Container", name), "Container.{name}");
        }
        assert!(has("Probe", "terminationGracePeriodSeconds"));
        assert!(has("Lifecycle", "stopSignal"));
        assert!(has("StatefulSetSpec", "ordinals"));
        assert!(has(
            "StatefulSetSpec",
            "persistentVolumeClaimRetentionPolicy"
        ));
        assert!(has("RollingUpdateStatefulSetStrategy", "maxUnavailable"));
        assert!(has("PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy"));
        assert!(has(
            "PersistentVolumeClaimSpec",
            "volumeAttributesClassName"
        ));
        assert!(has("PersistentVolumeClaimSpec", "dataSourceRef"));
        for name in [
            "minDomains",
            "nodeAffinityPolicy",
            "nodeTaintsPolicy",
            "matchLabelKeys",
        ] {
            assert!(
                has("TopologySpreadConstraint", name),
                "TopologySpreadConstraint.{name}"
            );
        }
        assert!(has("PodAffinityTerm", "matchLabelKeys"));
        assert!(has("PodAffinityTerm", "mismatchLabelKeys"));
        assert!(has("VolumeProjection", "podCertificate"));
        assert!(has("EnvVarSource", "fileKeyRef"));
        assert!(has("ContainerStatus", "stopSignal"));
        assert!(has("PodStatus", "nodeAllocatableResourceClaimStatuses"));
        assert!(has("NodeStatus", "declaredFeatures"));
        assert!(has("DeploymentStatus", "terminatingReplicas"));
        // Removed before 1.36 / never part of v1.
        assert!(!has("PodSpec", "workloadRef"));
        assert!(!has("EphemeralVolumeSource", "readOnly"));
        assert!(!has("VolumeResourceRequirements", "claims"));
    }

    #[test]
    fn odd_json_names_are_kept_verbatim() {
        assert!(has("DaemonEndpoint", "Port"));
        assert!(has("Volume", "storageos"));
        assert!(has("Volume", "cephfs"));
        assert!(has("GlusterfsVolumeSource", "endpoints"));
        assert!(has("PodSpec", "serviceAccount"));
        assert!(has("ContainerStatus", "lastState"));
        assert!(has("ListMeta", "continue"));
    }
}
