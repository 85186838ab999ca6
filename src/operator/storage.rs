//! kubectl on storage objects: `delete pv NAME` (a cluster-scoped delete: the volume's
//! protection finalizers keep it while it is bound) and `patch pvc NAME -p PATCH` (the API
//! server's validation and the `PersistentVolumeClaimResize` admission decide whether a
//! claim may grow).

use super::kubectl::Failure;
use super::patch;
use crate::api::{Kind, ObjectKey, PersistentVolume, PersistentVolumeClaim};
use crate::apiserver::{ApiClient, ApiError, DeleteOptions, Propagation};
use crate::scenario::PatchType;

/// `kubectl delete pv NAME`: `persistentvolume "NAME" deleted`.
pub(super) fn delete_pv(client: &mut ApiClient<'_>, name: &str) -> Result<String, Failure> {
    let opts = DeleteOptions {
        propagation: Some(Propagation::Background),
        ..Default::default()
    };
    client.delete::<PersistentVolume>(&ObjectKey::cluster(name), &opts)?;
    Ok(format!("persistentvolume \"{name}\" deleted"))
}

/// `kubectl patch pvc NAME -p PATCH`: `persistentvolumeclaim/NAME patched`.
pub(super) fn patch_pvc(
    client: &mut ApiClient<'_>,
    namespace: &str,
    name: &str,
    patch_type: PatchType,
    p: &serde_json::Value,
) -> Result<String, Failure> {
    let key = ObjectKey::new(namespace, name);
    let current = client.get::<PersistentVolumeClaim>(&key).ok_or_else(|| {
        Failure::Api(ApiError::NotFound {
            kind: Kind::PersistentVolumeClaim,
            name: name.to_string(),
        })
    })?;
    let bad_request = |e: String| Failure::Api(ApiError::Unavailable { message: e });
    let doc = serde_json::to_value(&*current).expect("API objects always serialise");
    let doc = patch::apply(&doc, patch_type, p, "PersistentVolumeClaim").map_err(bad_request)?;
    let next: PersistentVolumeClaim = serde_json::from_value(doc).map_err(|e| {
        bad_request(format!(
            "error decoding the patched PersistentVolumeClaim: {e}"
        ))
    })?;
    if next == *current {
        return Ok(format!("persistentvolumeclaim/{name} patched (no change)"));
    }
    client.update(next)?;
    Ok(format!("persistentvolumeclaim/{name} patched"))
}
