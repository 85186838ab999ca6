//! kubectl commands on storage objects beyond `delete pvc`: `delete pv NAME` and
//! `patch pvc NAME -p PATCH` (to resize a claim), the patch checked against the claim's
//! API fields that stsim models.

use super::kubectl::{KubectlError, check_name, resource, unexpected};
use super::model::{Action, PatchType};

const DELETE_PV_USAGE: &str = "delete pv NAME";
const PATCH_PVC_USAGE: &str = "patch pvc NAME -p PATCH [--type=strategic|merge|json]";

pub fn is_pv(resource: &str) -> bool {
    matches!(
        resource,
        "pv" | "pvs" | "persistentvolume" | "persistentvolumes"
    )
}

/// `delete pv NAME` (PersistentVolumes are cluster-scoped: `-n` does not apply).
pub fn delete_pv(args: &[&str]) -> Result<Action, KubectlError> {
    let (_, name, rest) = resource(args, DELETE_PV_USAGE)?;
    check_name(name, DELETE_PV_USAGE)?;
    if let Some(t) = rest.first() {
        return Err(unexpected(t, DELETE_PV_USAGE));
    }
    Ok(Action::DeletePv {
        name: name.to_string(),
    })
}

/// `patch pvc NAME -p PATCH`, flags already read by the caller.
pub fn patch_pvc(
    namespace: String,
    name: &str,
    extra: &[&str],
    text: Option<&str>,
    patch_type: PatchType,
) -> Result<Action, KubectlError> {
    check_name(name, PATCH_PVC_USAGE)?;
    if let Some(t) = extra.first() {
        return Err(unexpected(t, PATCH_PVC_USAGE));
    }
    let text = text.ok_or_else(|| KubectlError {
        message: "patch needs -p PATCH".into(),
        hint: Some(format!("usage: {PATCH_PVC_USAGE}")),
    })?;
    let to_error = |e: super::patch::PatchError| KubectlError {
        message: e.message,
        hint: e.hint,
    };
    let patch = super::patch::parse(text).map_err(to_error)?;
    super::patch::validate_kind("PersistentVolumeClaim", patch_type, &patch).map_err(to_error)?;
    Ok(Action::PatchPvc {
        namespace,
        name: name.to_string(),
        patch_type,
        patch,
    })
}

#[cfg(test)]
mod tests {
    use crate::scenario::{Action, PatchType, parse_kubectl};

    #[test]
    fn parses_delete_pv_and_patch_pvc() {
        assert_eq!(
            parse_kubectl("delete pv pvc-1").unwrap(),
            Action::DeletePv {
                name: "pvc-1".into()
            }
        );
        assert_eq!(
            parse_kubectl("delete persistentvolume/pvc-1").unwrap(),
            Action::DeletePv {
                name: "pvc-1".into()
            }
        );
        let a = parse_kubectl(
            r#"patch pvc data-web-0 -n db -p '{"spec":{"resources":{"requests":{"storage":"20Gi"}}}}'"#,
        )
        .unwrap();
        assert_eq!(
            a,
            Action::PatchPvc {
                namespace: "db".into(),
                name: "data-web-0".into(),
                patch_type: PatchType::Strategic,
                patch: serde_json::json!({"spec":{"resources":{"requests":{"storage":"20Gi"}}}}),
            }
        );
        let err = parse_kubectl(
            r#"patch pvc d -p '{"spec":{"resources":{"request":{"storage":"2Gi"}}}}'"#,
        )
        .unwrap_err();
        assert!(
            err.contains("unknown field \"spec.resources.request\""),
            "{err}"
        );
        assert!(parse_kubectl("delete pv").is_err());
        assert!(parse_kubectl("delete pv a b").is_err());
    }
}
