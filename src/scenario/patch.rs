//! Checks the patch of a `kubectl patch statefulset` action when the scenario is loaded:
//! every field it touches must be a field of the real API (else an error with a
//! did-you-mean hint, as the API server's strict field validation refuses it), and one
//! that stsim models (a patch of an unmodelled field would silently do nothing).

use super::simulated::{is_modelled, modelled_paths};
use super::suggest::did_you_mean;
use crate::api::schema::{Ty, type_fields};
use crate::scenario::PatchType;
use serde_json::Value;

/// What is wrong with a patch, and what might fix it.
#[derive(Debug)]
pub struct PatchError {
    pub message: String,
    pub hint: Option<String>,
}

impl PatchError {
    fn new(message: String) -> Self {
        PatchError {
            message,
            hint: None,
        }
    }
}

/// The only kind stsim patches, and its API type in `api::schema`.
pub const PATCH_KIND: &str = "StatefulSet";

/// Parses `-p` text: JSON, or YAML as kubectl also accepts.
pub fn parse(text: &str) -> Result<Value, PatchError> {
    serde_json::from_str(text).or_else(|json_err| {
        serde_saphyr::from_str::<Value>(text)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .ok_or_else(|| PatchError::new(format!("the patch is not valid JSON: {json_err}")))
    })
}

/// Checks `patch` (of type `patch_type`) against the StatefulSet's API fields.
pub fn validate(patch_type: PatchType, patch: &Value) -> Result<(), PatchError> {
    validate_kind(PATCH_KIND, patch_type, patch)
}

/// Checks `patch` against the API fields of `kind` (a simulated kind) that stsim models.
pub fn validate_kind(
    kind: &'static str,
    patch_type: PatchType,
    patch: &Value,
) -> Result<(), PatchError> {
    let modelled = modelled_paths(kind).expect("a simulated kind");
    let walker = Walker {
        strategic: patch_type == PatchType::Strategic,
        modelled: &modelled,
    };
    match patch_type {
        PatchType::Json => walker.json_patch(patch),
        _ => {
            if !patch.is_object() {
                return Err(PatchError::new(
                    "a strategic-merge or merge patch is a JSON object".into(),
                ));
            }
            walker.value(patch, Ty::Obj(kind), &Here::root())
        }
    }
}

/// Where the walk is: the path with indices (for messages) and with `[]` (for the table).
#[derive(Clone)]
struct Here {
    path: String,
    pattern: String,
}

impl Here {
    fn root() -> Self {
        Here {
            path: String::new(),
            pattern: String::new(),
        }
    }
    fn field(&self, name: &str) -> Here {
        let join = |a: &str| {
            if a.is_empty() {
                name.to_string()
            } else {
                format!("{a}.{name}")
            }
        };
        Here {
            path: join(&self.path),
            pattern: join(&self.pattern),
        }
    }
    fn item(&self, i: &str) -> Here {
        Here {
            path: format!("{}[{i}]", self.path),
            pattern: format!("{}[]", self.pattern),
        }
    }
}

struct Walker<'a> {
    strategic: bool,
    modelled: &'a [String],
}

impl Walker<'_> {
    fn value(&self, v: &Value, ty: Ty, at: &Here) -> Result<(), PatchError> {
        if v.is_null() {
            return Ok(()); // `null` deletes the field.
        }
        let shape = |what: &str| {
            PatchError::new(format!(
                "{} must be {what} in the patch, found {v}",
                at.path
            ))
        };
        match ty {
            Ty::Any => Ok(()),
            Ty::Scalar if v.is_object() || v.is_array() => Err(shape("a single value")),
            Ty::Scalar => Ok(()),
            Ty::ScalarMap => match v {
                Value::Object(m) if m.values().all(|x| !x.is_object() && !x.is_array()) => Ok(()),
                _ => Err(shape("a map of values")),
            },
            Ty::ScalarList => match v {
                Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => Ok(()),
                _ => Err(shape("a list of values")),
            },
            Ty::ListOf(t) => {
                let Value::Array(items) = v else {
                    return Err(shape("a list"));
                };
                for (i, item) in items.iter().enumerate() {
                    self.value(item, Ty::Obj(t), &at.item(&i.to_string()))?;
                }
                Ok(())
            }
            Ty::Obj(t) => {
                let Value::Object(m) = v else {
                    return Err(shape("an object"));
                };
                for (k, x) in m {
                    if k.starts_with('$') {
                        self.directive(k, x, at)?;
                        continue;
                    }
                    let (here, ty) = self.field(t, k, at)?;
                    self.value(x, ty, &here)?;
                }
                Ok(())
            }
        }
    }

    /// The field `name` of type `type_name`: its place and type, if it is a field stsim
    /// patches.
    fn field(&self, type_name: &str, name: &str, at: &Here) -> Result<(Here, Ty), PatchError> {
        let here = at.field(name);
        let root = at.path.is_empty();
        if root && name == "status" {
            return Err(PatchError::new(
                "stsim patches the spec, not status (the controllers write status)".into(),
            ));
        }
        let fields = type_fields(type_name).unwrap_or_default();
        let Some(field) = fields.iter().find(|f| f.name == name) else {
            return Err(PatchError {
                message: format!(
                    "unknown field \"{}\" in the patch: not a field of {type_name} in the Kubernetes API",
                    here.path
                ),
                hint: did_you_mean(name, fields.iter().map(|f| f.name)),
            });
        };
        if at.pattern == "metadata" && !["labels", "annotations"].contains(&name) {
            return Err(PatchError::new(format!(
                "stsim patches only metadata.labels and metadata.annotations, not {}",
                here.path
            )));
        }
        if !is_modelled(self.modelled, &here.pattern) {
            return Err(PatchError::new(format!(
                "{} is not simulated by stsim: patching it would have no effect",
                here.path
            )));
        }
        Ok((here, field.ty))
    }

    fn directive(&self, key: &str, v: &Value, at: &Here) -> Result<(), PatchError> {
        let ok = self.strategic
            && key == "$patch"
            && matches!(v.as_str(), Some("replace" | "delete" | "merge"));
        if ok {
            return Ok(());
        }
        Err(PatchError::new(if self.strategic {
            format!(
                "unsupported strategic-merge directive {key}: {v} at {}: stsim supports $patch: replace, delete or merge",
                if at.path.is_empty() {
                    "the top"
                } else {
                    &at.path
                }
            )
        } else {
            format!("{key} is a strategic-merge directive; it has no place in a merge patch")
        }))
    }

    /// A JSON patch: a list of `add`, `replace` and `remove` operations on paths that
    /// exist in the API and that stsim models.
    fn json_patch(&self, patch: &Value) -> Result<(), PatchError> {
        let Value::Array(ops) = patch else {
            return Err(PatchError::new(
                "a JSON patch is a list of operations, e.g. [{\"op\": \"replace\", \"path\": \"/spec/replicas\", \"value\": 3}]".into(),
            ));
        };
        for (i, op) in ops.iter().enumerate() {
            let field = |name: &str| op.get(name).and_then(Value::as_str);
            let Some(name) = field("op") else {
                return Err(PatchError::new(format!("operation {i} has no \"op\"")));
            };
            if !matches!(name, "add" | "replace" | "remove") {
                return Err(PatchError::new(format!(
                    "unsupported JSON patch operation \"{name}\": stsim runs add, replace and remove"
                )));
            }
            let Some(path) = field("path").filter(|p| p.starts_with('/')) else {
                return Err(PatchError::new(format!(
                    "operation {i} ({name}) needs a \"path\" starting with /"
                )));
            };
            let ty = self.pointer(path, name == "add")?;
            match (name, op.get("value")) {
                ("remove", _) => {}
                (_, None) => {
                    return Err(PatchError::new(format!(
                        "operation {i} ({name} {path}) needs a \"value\""
                    )));
                }
                (_, Some(v)) => self.value(v, ty.0, &ty.1)?,
            }
        }
        Ok(())
    }

    /// Walks a JSON pointer through the schema: the type and place it names.
    fn pointer(&self, path: &str, add: bool) -> Result<(Ty, Here), PatchError> {
        let mut ty = Ty::Obj(PATCH_KIND);
        let mut at = Here::root();
        for seg in pointer_segments(path) {
            let index = || {
                let ok = seg.parse::<usize>().is_ok() || (add && seg == "-");
                ok.then(|| at.item(&seg))
                    .ok_or_else(|| PatchError::new(format!("{path}: {seg:?} is not a list index")))
            };
            (ty, at) = match ty {
                Ty::Obj(t) => {
                    let (here, field_ty) = self.field(t, &seg, &at)?;
                    (field_ty, here)
                }
                Ty::ListOf(t) => (Ty::Obj(t), index()?),
                Ty::ScalarList => (Ty::Scalar, index()?),
                Ty::ScalarMap => (Ty::Scalar, at.field(&seg)),
                Ty::Any => return Ok((Ty::Any, at)),
                Ty::Scalar => {
                    return Err(PatchError::new(format!(
                        "{path}: {} is a single value, with no fields below it",
                        at.path
                    )));
                }
            };
        }
        if at.path.is_empty() {
            return Err(PatchError::new(
                "a JSON patch operation on the whole object is not supported".into(),
            ));
        }
        Ok((ty, at))
    }
}

/// The unescaped reference tokens of a JSON pointer (`~1` is `/`, `~0` is `~`).
pub fn pointer_segments(path: &str) -> Vec<String> {
    path.split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(t: PatchType, v: Value) -> Result<(), String> {
        validate(t, &v).map_err(|e| match e.hint {
            Some(h) => format!("{} ({h})", e.message),
            None => e.message,
        })
    }

    #[test]
    fn accepts_patches_of_modelled_fields() {
        let ok = [
            json!({"spec": {"replicas": 3}}),
            json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 2, "maxUnavailable": "50%"}}}}),
            json!({"spec": {"podManagementPolicy": "Parallel", "minReadySeconds": 5, "revisionHistoryLimit": 3}}),
            json!({"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete"}, "ordinals": {"start": 1}}}),
            json!({"spec": {"template": {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x:2", "$patch": "merge"}]}}}}),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "$patch": "delete"}]}}}}),
            json!({"metadata": {"labels": {"team": "db"}}, "spec": {"minReadySeconds": null}}),
        ];
        for v in ok {
            assert_eq!(check(PatchType::Strategic, v.clone()), Ok(()), "{v}");
        }
        let ops = json!([
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "x:2"},
            {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "d", "image": "d"}},
            {"op": "add", "path": "/spec/template/metadata/annotations/k", "value": "v"},
            {"op": "remove", "path": "/spec/minReadySeconds"}
        ]);
        assert_eq!(check(PatchType::Json, ops), Ok(()));
    }

    #[test]
    fn refuses_unknown_unmodelled_and_malformed_patches() {
        let cases: Vec<(PatchType, Value, &str)> = vec![
            (
                PatchType::Strategic,
                json!({"spec": {"replica": 3}}),
                "unknown field \"spec.replica\" in the patch: not a field of StatefulSetSpec in the Kubernetes API (did you mean \"replicas\"?)",
            ),
            (
                PatchType::Merge,
                json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "imag": "x"}]}}}}),
                "unknown field \"spec.template.spec.containers[0].imag\"",
            ),
            (
                PatchType::Strategic,
                json!({"spec": {"template": {"spec": {"securityContext": {}}}}}),
                "spec.template.spec.securityContext is not simulated by stsim",
            ),
            (
                PatchType::Strategic,
                json!({"status": {"replicas": 3}}),
                "not status",
            ),
            (
                PatchType::Strategic,
                json!({"metadata": {"name": "other"}}),
                "only metadata.labels and metadata.annotations",
            ),
            (
                PatchType::Strategic,
                json!({"spec": {"replicas": {"n": 3}}}),
                "spec.replicas must be a single value",
            ),
            (
                PatchType::Strategic,
                json!({"spec": {"$retainKeys": ["replicas"]}}),
                "unsupported strategic-merge directive $retainKeys",
            ),
            (
                PatchType::Merge,
                json!({"spec": {"template": {"$patch": "replace"}}}),
                "no place in a merge patch",
            ),
            (PatchType::Merge, json!([1]), "is a JSON object"),
            (PatchType::Json, json!({"spec": {}}), "a list of operations"),
            (
                PatchType::Json,
                json!([{"op": "move", "from": "/a", "path": "/b"}]),
                "unsupported JSON patch operation \"move\"",
            ),
            (
                PatchType::Json,
                json!([{"op": "replace", "path": "/spec/replicas"}]),
                "needs a \"value\"",
            ),
            (
                PatchType::Json,
                json!([{"op": "replace", "path": "spec/replicas", "value": 1}]),
                "starting with /",
            ),
            (
                PatchType::Json,
                json!([{"op": "replace", "path": "/spec/replicass", "value": 1}]),
                "did you mean \"replicas\"",
            ),
            (
                PatchType::Json,
                json!([{"op": "replace", "path": "/spec/template/spec/containers/x/image", "value": 1}]),
                "\"x\" is not a list index",
            ),
            (
                PatchType::Json,
                json!([{"op": "replace", "path": "/spec/replicas/x", "value": 1}]),
                "is a single value",
            ),
        ];
        for (t, v, want) in cases {
            let err = check(t, v.clone()).expect_err(&v.to_string());
            assert!(err.contains(want), "{v}: {err}");
        }
    }

    #[test]
    fn parses_json_or_yaml() {
        assert_eq!(
            parse(r#"{"spec":{"replicas":2}}"#).unwrap(),
            json!({"spec": {"replicas": 2}})
        );
        assert_eq!(
            parse("{spec: {replicas: 2}}").unwrap(),
            json!({"spec": {"replicas": 2}})
        );
        assert!(
            parse("{\"spec\":")
                .unwrap_err()
                .message
                .starts_with("the patch is not valid JSON")
        );
    }
}
