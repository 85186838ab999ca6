//! Which fields of each supported Kubernetes kind stsim models, derived from the typed
//! structs in `src/api`. A field of the real API outside this table is accepted and listed
//! back to the user as "not simulated".
//!
//! Paths are relative to the object, with `[]` for "every item of a list". An entry covers
//! everything below it (`spec.template.spec.affinity` models all of affinity), and every
//! ancestor of an entry is modelled as well.

/// Container fields the kubelet model reads (`api::pod::Container`).
const CONTAINER: &[&str] = &[
    "name",
    "image",
    "resources.requests",
    "resources.limits",
    "ports[].name",
    "ports[].containerPort",
    "ports[].protocol",
    "volumeMounts[].name",
    "volumeMounts[].mountPath",
    "volumeMounts[].readOnly",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "restartPolicy",
];

/// Pod spec fields (`api::pod::PodSpec`). Every volume source is accepted: sources other
/// than `persistentVolumeClaim` need no attach and are mounted at once.
const POD_SPEC: &[&str] = &[
    "volumes",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "nodeSelector",
    "nodeName",
    "schedulerName",
    "affinity",
    "tolerations",
    "topologySpreadConstraints",
    "hostname",
    "subdomain",
    "priority",
    "priorityClassName",
];

/// PersistentVolumeClaim spec fields (`api::storage::PersistentVolumeClaimSpec`).
const PVC_SPEC: &[&str] = &[
    "accessModes",
    "selector",
    "resources.requests",
    "resources.limits",
    "volumeName",
    "storageClassName",
    "volumeMode",
];

/// PersistentVolume spec fields (`api::storage::PersistentVolumeSpec`); volume sources other
/// than `csi` are kept as written.
const PV_SPEC: &[&str] = &[
    "capacity",
    "accessModes",
    "claimRef",
    "persistentVolumeReclaimPolicy",
    "storageClassName",
    "nodeAffinity",
    "volumeMode",
    "csi",
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "glusterfs",
    "hostPath",
    "iscsi",
    "local",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
];

const STATEFUL_SET_SPEC: &[&str] = &[
    "replicas",
    "selector",
    "template.metadata",
    "serviceName",
    "podManagementPolicy",
    "updateStrategy",
    "revisionHistoryLimit",
    "minReadySeconds",
    "persistentVolumeClaimRetentionPolicy",
    "ordinals",
    "volumeClaimTemplates[].apiVersion",
    "volumeClaimTemplates[].kind",
    "volumeClaimTemplates[].metadata",
];

const SERVICE_SPEC: &[&str] = &[
    "type",
    "clusterIP",
    "selector",
    "ports[].name",
    "ports[].port",
    "ports[].targetPort",
    "ports[].protocol",
    "publishNotReadyAddresses",
];

const STORAGE_CLASS: &[&str] = &[
    "provisioner",
    "parameters",
    "reclaimPolicy",
    "volumeBindingMode",
    "allowVolumeExpansion",
    "allowedTopologies",
    "mountOptions",
];

const PDB_SPEC: &[&str] = &[
    "minAvailable",
    "maxUnavailable",
    "selector",
    "unhealthyPodEvictionPolicy",
];

/// The kinds stsim simulates, as `(apiVersion, kind)`.
pub const SIMULATED_KINDS: &[(&str, &str)] = &[
    ("apps/v1", "StatefulSet"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "PersistentVolume"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("policy/v1", "PodDisruptionBudget"),
    ("v1", "Pod"),
];

/// The modelled paths of `kind`, or `None` if stsim does not simulate it.
pub fn modelled_paths(kind: &str) -> Option<Vec<String>> {
    // `metadata`: name, namespace, labels, annotations, ownerReferences, finalizers and
    // generateName are modelled; the rest is server-set and accepted silently.
    let mut out: Vec<String> = ["apiVersion", "kind", "metadata"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut add =
        |prefix: &str, fields: &[&str]| out.extend(fields.iter().map(|f| format!("{prefix}{f}")));
    match kind {
        "StatefulSet" => {
            add("spec.", STATEFUL_SET_SPEC);
            add_pod_spec(&mut add, "spec.template.spec.");
            add("spec.volumeClaimTemplates[].spec.", PVC_SPEC);
        }
        "Pod" => add_pod_spec(&mut add, "spec."),
        "Service" => add("spec.", SERVICE_SPEC),
        "PersistentVolumeClaim" => add("spec.", PVC_SPEC),
        "PersistentVolume" => add("spec.", PV_SPEC),
        "StorageClass" => add("", STORAGE_CLASS),
        "PodDisruptionBudget" => add("spec.", PDB_SPEC),
        _ => return None,
    }
    Some(out)
}

fn add_pod_spec(add: &mut impl FnMut(&str, &[&str]), prefix: &str) {
    add(prefix, POD_SPEC);
    add(&format!("{prefix}containers[]."), CONTAINER);
    add(&format!("{prefix}initContainers[]."), CONTAINER);
}

/// Whether `path` (with `[]` for list items) is modelled by one of `modelled`: equal to an
/// entry, below one, or above one.
pub fn is_modelled(modelled: &[String], path: &str) -> bool {
    let nested = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
    };
    modelled.iter().any(|m| nested(path, m) || nested(m, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::schema::{Ty, root_type, type_fields};

    /// Guards the table against typos: every entry must be a path of the real API.
    #[test]
    fn every_modelled_path_is_a_real_field() {
        for &(api_version, kind) in SIMULATED_KINDS {
            let root = root_type(api_version, kind)
                .unwrap_or_else(|| panic!("{api_version} {kind} in the schema"));
            for path in modelled_paths(kind).unwrap_or_default() {
                let mut ty = Some(root);
                let segments: Vec<&str> = path.split('.').collect();
                for (i, segment) in segments.iter().enumerate() {
                    let name = segment.trim_end_matches("[]");
                    let fields = ty
                        .and_then(type_fields)
                        .unwrap_or_else(|| panic!("{kind} {path}: {name} is below a leaf"));
                    let field = fields
                        .iter()
                        .find(|f| f.name == name)
                        .unwrap_or_else(|| panic!("{kind} {path}: no {name}"));
                    let is_list = matches!(field.ty, Ty::ListOf(_));
                    let last = i + 1 == segments.len();
                    assert!(
                        is_list || !segment.ends_with("[]"),
                        "{kind} {path}: {segment} is not a list"
                    );
                    assert!(
                        !is_list || last || segment.ends_with("[]"),
                        "{kind} {path}: write {segment}[]"
                    );
                    ty = match field.ty {
                        Ty::Obj(t) | Ty::ListOf(t) => Some(t),
                        _ => None,
                    };
                }
            }
        }
    }

    #[test]
    fn modelled_fields_of_a_statefulset() {
        let m = modelled_paths("StatefulSet").expect("simulated");
        let cases: &[(&str, bool)] = &[
            ("spec", true),
            ("spec.replicas", true),
            ("spec.template", true),
            ("spec.template.spec", true),
            ("spec.template.spec.containers", true),
            ("spec.template.spec.containers[]", true),
            ("spec.template.spec.containers[].image", true),
            (
                "spec.template.spec.containers[].readinessProbe.httpGet.port",
                true,
            ),
            ("spec.template.spec.containers[].env", false),
            ("spec.template.spec.containers[].ports[].hostPort", false),
            ("spec.template.spec.securityContext", false),
            ("spec.template.spec.affinity.podAntiAffinity", true),
            ("spec.template.metadata.labels", true),
            ("spec.volumeClaimTemplates[].spec.resources.requests", true),
            ("spec.volumeClaimTemplates[].spec.dataSource", false),
            ("metadata.managedFields", true),
            ("spec.replicasX", false),
        ];
        for &(path, want) in cases {
            assert_eq!(is_modelled(&m, path), want, "{path}");
        }
        assert!(modelled_paths("ConfigMap").is_none());
        for (_, kind) in SIMULATED_KINDS {
            assert!(modelled_paths(kind).is_some(), "{kind}");
        }
    }
}
