//! Patches applied to an object's JSON as the API server applies them: strategic merge
//! (`apimachinery/pkg/util/strategicpatch`), JSON merge (RFC 7386, `evanphx/json-patch`
//! `MergePatch`) and JSON patch (RFC 6902, add / replace / remove).
//!
//! The strategic merge is the subset the StatefulSet's modelled fields need: maps merge
//! key by key (`null` deletes), lists with a `patchMergeKey` merge item by item (new items
//! are appended; `$patch: delete` removes one), every other list is replaced, and
//! `$patch: replace` / `$patch: delete` on a map replace or delete it (what a
//! ControllerRevision's stored template relies on). Upstream's `$setElementOrder` and
//! `$retainKeys` are not supported (the scenario loader refuses them).

use crate::api::schema::{Ty, type_fields};
use crate::scenario::{PatchType, pointer_segments};
use serde_json::{Map, Value};

const DIRECTIVE: &str = "$patch";

/// `original` with `patch` applied; `root_type` is the object's API type (`StatefulSet`).
pub fn apply(
    original: &Value,
    patch_type: PatchType,
    patch: &Value,
    root_type: &str,
) -> Result<Value, String> {
    let mut doc = original.clone();
    match patch_type {
        PatchType::Strategic => {
            if strategic_merge(&mut doc, patch, Some(root_type)) == Outcome::Deleted {
                return Err("the patch deletes the whole object".into());
            }
        }
        PatchType::Merge => merge_patch(&mut doc, patch),
        PatchType::Json => json_patch(&mut doc, patch)?,
    }
    Ok(doc)
}

// The `patchMergeKey` struct tags of the list fields that merge by key, by (API type,
// field). Lists not named here are replaced by a strategic-merge patch.
fn merge_key(type_name: &str, field: &str) -> Option<&'static str> {
    Some(match (type_name, field) {
        ("PodSpec", "containers" | "initContainers" | "ephemeralContainers") => "name",
        ("PodSpec", "volumes" | "imagePullSecrets" | "resourceClaims") => "name",
        ("PodSpec", "topologySpreadConstraints") => "topologyKey",
        ("PodSpec", "hostAliases") => "ip",
        ("Container" | "EphemeralContainer", "ports") => "containerPort",
        ("Container" | "EphemeralContainer", "volumeMounts") => "mountPath",
        ("Container" | "EphemeralContainer", "volumeDevices") => "devicePath",
        ("Container" | "EphemeralContainer", "env") => "name",
        ("ObjectMeta", "ownerReferences") => "uid",
        _ => return None,
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Kept,
    /// `$patch: delete` on this map: the caller removes it.
    Deleted,
}

// Port of `strategicpatch.mergeMap` (the subset described above). `type_name` is the API
// type of `doc`, when known.
fn strategic_merge(doc: &mut Value, patch: &Value, type_name: Option<&str>) -> Outcome {
    let Value::Object(p) = patch else {
        *doc = patch.clone();
        return Outcome::Kept;
    };
    match p.get(DIRECTIVE).and_then(Value::as_str) {
        Some("delete") => return Outcome::Deleted,
        Some("replace") => {
            *doc = strip_directives(patch);
            return Outcome::Kept;
        }
        _ => {}
    }
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let Value::Object(d) = doc else {
        unreachable!("made an object above")
    };
    let fields = type_name.and_then(type_fields);
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            d.shift_remove(k);
            continue;
        }
        let ty = fields
            .and_then(|f| f.iter().find(|f| f.name == k))
            .map(|f| f.ty);
        let Some(existing) = d.get_mut(k) else {
            let mut fresh = Value::Null;
            if strategic_merge_field(&mut fresh, v, ty, type_name, k) == Outcome::Kept {
                d.insert(k.clone(), fresh);
            }
            continue;
        };
        if strategic_merge_field(existing, v, ty, type_name, k) == Outcome::Deleted {
            d.shift_remove(k);
        }
    }
    Outcome::Kept
}

/// Merges one field's value, whose schema type (if known) is `ty`.
fn strategic_merge_field(
    doc: &mut Value,
    patch: &Value,
    ty: Option<Ty>,
    parent: Option<&str>,
    field: &str,
) -> Outcome {
    match ty {
        Some(Ty::Obj(t)) => strategic_merge(doc, patch, Some(t)),
        Some(Ty::ScalarMap) => strategic_merge(doc, patch, None),
        Some(Ty::ListOf(t)) => {
            match parent.and_then(|p| merge_key(p, field)) {
                Some(key) => merge_list_by_key(doc, patch, key, t),
                None => *doc = strip_directives(patch),
            }
            Outcome::Kept
        }
        _ => {
            *doc = strip_directives(patch);
            Outcome::Kept
        }
    }
}

// Port of `mergeSlice` for lists with a merge key: patch items update the item with the
// same key in place, or are appended; `{key: k, $patch: delete}` removes it; an item
// `{$patch: replace}` makes the rest of the patch list the whole list.
fn merge_list_by_key(doc: &mut Value, patch: &Value, key: &str, item_type: &str) {
    let Value::Array(items) = patch else {
        *doc = patch.clone();
        return;
    };
    let replace = items
        .iter()
        .any(|i| i.get(DIRECTIVE).and_then(Value::as_str) == Some("replace"));
    if replace || !doc.is_array() {
        let kept = items
            .iter()
            .filter(|i| i.get(DIRECTIVE).is_none())
            .map(strip_directives)
            .collect();
        *doc = Value::Array(kept);
        return;
    }
    let Value::Array(list) = doc else {
        unreachable!("checked above")
    };
    for item in items {
        let id = item.get(key);
        let at = id.and_then(|id| list.iter().position(|e| e.get(key) == Some(id)));
        let delete = item.get(DIRECTIVE).and_then(Value::as_str) == Some("delete");
        match (at, delete) {
            (Some(i), true) => {
                list.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => {
                strategic_merge(&mut list[i], item, Some(item_type));
            }
            (None, false) => list.push(strip_directives(item)),
        }
    }
}

/// `value` without `$`-directives, at every level.
fn strip_directives(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

// Port of RFC 7386 `MergePatch`: objects merge, `null` deletes, anything else replaces.
fn merge_patch(doc: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *doc = patch.clone();
        return;
    };
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let Value::Object(d) = doc else {
        unreachable!("made an object above")
    };
    for (k, v) in p {
        if v.is_null() {
            d.shift_remove(k);
        } else {
            merge_patch(d.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

// RFC 6902 with the operations stsim accepts (`add`, `replace`, `remove`), applied in
// order; the first failing operation fails the whole patch, as `jsonpatch.Apply` does.
fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops
        .as_array()
        .ok_or("a JSON patch is a list of operations")?;
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default();
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        let segments = pointer_segments(path);
        let missing = || {
            format!("{name} operation does not apply: doc is missing path: {path}: missing value")
        };
        let Some((last, parents)) = segments.split_last() else {
            return Err(format!(
                "{name} operation does not apply: the whole document"
            ));
        };
        let mut parent = &mut *doc;
        for s in parents {
            parent = match parent {
                Value::Object(m) => m.get_mut(s.as_str()),
                Value::Array(a) => s.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                _ => None,
            }
            .ok_or_else(missing)?;
        }
        match (name, parent) {
            ("add", Value::Object(m)) => {
                m.insert(last.clone(), value);
            }
            ("add", Value::Array(a)) => {
                let i = if last == "-" {
                    a.len()
                } else {
                    last.parse::<usize>()
                        .ok()
                        .filter(|i| *i <= a.len())
                        .ok_or_else(missing)?
                };
                a.insert(i, value);
            }
            ("replace", Value::Object(m)) => {
                *m.get_mut(last.as_str()).ok_or_else(missing)? = value;
            }
            ("replace", Value::Array(a)) => {
                let slot = last.parse::<usize>().ok().and_then(|i| a.get_mut(i));
                *slot.ok_or_else(missing)? = value;
            }
            ("remove", Value::Object(m)) => {
                m.shift_remove(last.as_str()).ok_or_else(missing)?;
            }
            ("remove", Value::Array(a)) => {
                let i = last
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < a.len())
                    .ok_or_else(missing)?;
                a.remove(i);
            }
            ("add" | "replace" | "remove", _) => return Err(missing()),
            (other, _) => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set() -> Value {
        json!({
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 3,
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]},
                            {"name": "b", "image": "b:1"}
                        ],
                        "tolerations": [{"key": "x", "operator": "Exists"}]
                    }
                }
            }
        })
    }

    fn strategic(patch: Value) -> Value {
        apply(&set(), PatchType::Strategic, &patch, "StatefulSet").unwrap()
    }

    #[test]
    fn strategic_merge_merges_containers_by_name_and_replaces_other_lists() {
        let out = strategic(json!({"spec": {"template": {"spec": {
            "containers": [{"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}],
            "tolerations": [{"key": "y", "operator": "Exists"}]
        }}}}));
        let spec = &out["spec"]["template"]["spec"];
        assert_eq!(
            spec["containers"][0],
            json!({"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]})
        );
        assert_eq!(spec["containers"][1]["image"], "b:2");
        assert_eq!(spec["containers"][2]["name"], "c");
        assert_eq!(
            spec["tolerations"],
            json!([{"key": "y", "operator": "Exists"}])
        );
        assert_eq!(out["spec"]["replicas"], 3);
    }

    #[test]
    fn strategic_merge_directives_and_nulls() {
        let out = strategic(json!({"spec": {
            "updateStrategy": {"rollingUpdate": {"partition": 2}},
            "replicas": null,
            "template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}
        }}));
        assert_eq!(
            out["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
            2
        );
        assert_eq!(out["spec"]["updateStrategy"]["type"], "RollingUpdate");
        assert!(out["spec"].get("replicas").is_none());
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // A stored ControllerRevision's patch replaces the whole template.
        let out = strategic(json!({"spec": {"template": {
            "$patch": "replace",
            "spec": {"containers": [{"name": "z", "image": "z:1"}]}
        }}}));
        assert_eq!(
            out["spec"]["template"],
            json!({"spec": {"containers": [{"name": "z", "image": "z:1"}]}})
        );
    }

    #[test]
    fn merge_patch_replaces_lists_whole() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}});
        let out = apply(&set(), PatchType::Merge, &patch, "StatefulSet").unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b", "image": "b:2"}])
        );
    }

    #[test]
    fn json_patch_operations_and_their_failures() {
        let ops = json!([
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "a:2"},
            {"op": "add", "path": "/spec/template/metadata/annotations", "value": {"k": "v"}},
            {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "c"}},
            {"op": "remove", "path": "/spec/template/spec/tolerations/0"}
        ]);
        let out = apply(&set(), PatchType::Json, &ops, "StatefulSet").unwrap();
        let t = &out["spec"]["template"];
        assert_eq!(t["spec"]["containers"][0]["image"], "a:2");
        assert_eq!(t["spec"]["containers"][2]["name"], "c");
        assert_eq!(t["metadata"]["annotations"]["k"], "v");
        assert_eq!(t["spec"]["tolerations"], json!([]));
        let bad = json!([{"op": "replace", "path": "/spec/minReadySeconds", "value": 5}]);
        let err = apply(&set(), PatchType::Json, &bad, "StatefulSet").unwrap_err();
        assert_eq!(
            err,
            "replace operation does not apply: doc is missing path: /spec/minReadySeconds: missing value"
        );
        let bad = json!([{"op": "remove", "path": "/spec/template/spec/containers/7"}]);
        assert!(apply(&set(), PatchType::Json, &bad, "StatefulSet").is_err());
        assert_eq!(
            pointer_segments("/metadata/annotations/a~1b~0c"),
            ["metadata", "annotations", "a/b~c"]
        );
    }
}
