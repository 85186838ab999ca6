//! `spec.manifests`: Kubernetes objects, inline or from files (several documents per file,
//! `kind: List` too), checked against the real API schema, decoded into the simulated
//! subset, validated, and listed back with what is not simulated.

use super::de::{DeError, decode, index, join};
use super::error::{Diagnostic, ScenarioError, Source};
use super::fields::{Problem, walk};
use super::model::{Manifest, ManifestObject, NotSimulated, SourceLocation};
use super::simulated::modelled_paths;
use super::suggest::did_you_mean;
use super::validate::validate;
use super::yaml::{Node, Value, parse_documents};
use crate::api::schema::{known_kinds, root_type};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::Path;

/// Everything `spec.manifests` yields.
#[derive(Default)]
pub struct Imported {
    pub manifests: Vec<Manifest>,
    pub not_simulated: Vec<NotSimulated>,
    /// `(kind, namespace, name)` → where it was first defined, to refuse duplicates.
    seen: BTreeMap<(String, String, String), SourceLocation>,
    /// The CSI drivers a StorageClass may name (see `validate`).
    drivers: Vec<String>,
}

/// Reads `spec.manifests` (the node at `path` of the scenario `src`). Manifest files are
/// resolved against `base_dir`. An unreadable file is an I/O error; everything else lands in
/// `diags`.
pub fn import(
    list: &Node,
    path: &str,
    src: &Source,
    base_dir: &Path,
    diags: &mut Vec<Diagnostic>,
    drivers: &[String],
) -> Result<Imported, ScenarioError> {
    let mut out = Imported {
        drivers: drivers.to_vec(),
        ..Default::default()
    };
    let items = match &list.value {
        Value::Seq(items) => items.as_slice(),
        Value::Null => &[],
        _ => {
            diags.push(src.diag(
                list.pos,
                path,
                format!("expected a list of manifests, found {}", list.describe()),
            ));
            &[]
        }
    };
    for (i, item) in items.iter().enumerate() {
        let item_path = index(path, i);
        match item.get("file") {
            Some(file) => import_file(item, file, &item_path, src, base_dir, &mut out, diags)?,
            None => import_object(item, &item_path, src, &mut out, diags),
        }
    }
    Ok(out)
}

fn import_file(
    item: &Node,
    file: &Node,
    item_path: &str,
    src: &Source,
    base_dir: &Path,
    out: &mut Imported,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), ScenarioError> {
    for e in item.entries().iter().filter(|e| e.key != "file") {
        let msg = format!(
            "unexpected field `{}`: an entry with `file:` takes no other fields",
            e.key
        );
        let hint = Some("write an inline object as its own list item, without `file:`".to_string());
        diags.push(
            src.diag(e.key_pos, &join(item_path, &e.key), msg)
                .with_hint(hint),
        );
    }
    let file_path = join(item_path, "file");
    let Some(name) = file.as_str().filter(|s| !s.trim().is_empty()) else {
        diags.push(src.diag(
            file.pos,
            &file_path,
            format!("expected a file path, found {}", file.describe()),
        ));
        return Ok(());
    };
    let resolved = base_dir.join(name);
    let text = std::fs::read_to_string(&resolved).map_err(|source| ScenarioError::Io {
        file: resolved.clone(),
        reference: Some(src.location(file.pos)),
        excerpt: src.line_text(file.pos.line),
        source,
    })?;
    let file_src = Source::new(&resolved, &text);
    match parse_documents(&text) {
        Ok(docs) => {
            if docs.is_empty() {
                diags.push(src.diag(
                    file.pos,
                    &file_path,
                    format!("{} holds no objects", resolved.display()),
                ));
            }
            for doc in &docs {
                import_object(doc, "", &file_src, out, diags);
            }
        }
        Err(e) => diags.push(file_src.diag(e.pos, "", e.message)),
    }
    Ok(())
}

/// One object (or a `kind: List` of them) at `path` of `src`.
fn import_object(
    node: &Node,
    path: &str,
    src: &Source,
    out: &mut Imported,
    diags: &mut Vec<Diagnostic>,
) {
    let Value::Map(_) = node.value else {
        let msg = format!(
            "expected a Kubernetes object (a map with apiVersion, kind and metadata), found {}",
            node.describe()
        );
        diags.push(src.diag(node.pos, path, msg));
        return;
    };
    let (Some(api_version), Some(kind)) = (
        required_str(node, "apiVersion", path, src, diags),
        required_str(node, "kind", path, src, diags),
    ) else {
        return;
    };
    let Some(root) = root_type(api_version, kind) else {
        diags.push(unknown_kind(node, api_version, kind, path, src));
        return;
    };
    if kind == "List" {
        let items_path = join(path, "items");
        match node.get("items") {
            Some(Node {
                value: Value::Seq(list),
                ..
            }) => {
                for (i, item) in list.iter().enumerate() {
                    import_object(item, &index(&items_path, i), src, out, diags);
                }
            }
            Some(other) => diags.push(src.diag(
                other.pos,
                &items_path,
                format!("expected a list, found {}", other.describe()),
            )),
            None => {}
        }
        return;
    }
    let meta = node.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or_default();
    if name.is_empty() {
        let at = meta.unwrap_or(node);
        diags.push(src.diag(
            at.pos,
            &join(path, "metadata.name"),
            format!("a {kind} needs metadata.name"),
        ));
        return;
    }
    let origin = src.location(node.pos);
    let label = format!("{kind} {name}");
    let Some(modelled) = modelled_paths(kind) else {
        out.not_simulated.push(NotSimulated {
            origin,
            object: label,
            path: String::new(),
        });
        return;
    };
    let walked = walk(node, root, &modelled);
    let mut problems = walked.errors;
    for (pos, field) in walked.not_simulated {
        out.not_simulated.push(NotSimulated {
            origin: src.location(pos),
            object: label.clone(),
            path: field,
        });
    }
    let typed = node.without("status");
    let object = match kind {
        "StatefulSet" => typed_object(&typed, ManifestObject::StatefulSet),
        "Service" => typed_object(&typed, ManifestObject::Service),
        "PersistentVolumeClaim" => typed_object(&typed, ManifestObject::PersistentVolumeClaim),
        "PersistentVolume" => typed_object(&typed, ManifestObject::PersistentVolume),
        "StorageClass" => typed_object(&typed, ManifestObject::StorageClass),
        "PodDisruptionBudget" => typed_object(&typed, ManifestObject::PodDisruptionBudget),
        _ => typed_object(&typed, ManifestObject::Pod),
    };
    let object = match object {
        Ok(mut object) => {
            problems.extend(validate(&object, node, &out.drivers));
            default_namespace(&mut object);
            Some(object)
        }
        Err(errors) => {
            problems.extend(errors.into_iter().map(|e| de_problem(e, node)));
            None
        }
    };
    // The schema walk and the typed decode may both see a bad value: report it once.
    problems.sort_by_key(|p| p.pos);
    problems.dedup_by(|a, b| a.pos == b.pos && a.path == b.path);
    let clean = problems.is_empty();
    for p in problems {
        diags.push(
            src.diag(p.pos, &join(path, &p.path), p.message)
                .with_hint(p.hint),
        );
    }
    if let (Some(object), true) = (object, clean) {
        let key = (
            kind.to_string(),
            object_meta(&object).namespace.clone(),
            name.to_string(),
        );
        if let Some(first) = out.seen.get(&key) {
            let msg = format!("{label} is defined twice (first at {first})");
            diags.push(src.diag(node.pos, path, msg));
            return;
        }
        out.seen.insert(key, origin.clone());
        out.manifests.push(Manifest { origin, object });
    }
}

fn typed_object<T: DeserializeOwned>(
    node: &Node,
    wrap: fn(T) -> ManifestObject,
) -> Result<ManifestObject, Vec<DeError>> {
    decode::<T>(node, "", false).map(wrap)
}

fn de_problem(e: DeError, root: &Node) -> Problem {
    let path = e.path.unwrap_or_default();
    let pos = e.pos.unwrap_or_else(|| root.nearest(&path).pos);
    Problem {
        pos,
        path,
        message: e.message,
        hint: e.hint,
    }
}

/// `apiVersion` and `kind` must be given as strings.
fn required_str<'a>(
    node: &'a Node,
    key: &str,
    path: &str,
    src: &Source,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'a str> {
    match node.get(key) {
        Some(n) => match n.as_str().filter(|s| !s.is_empty()) {
            Some(s) => Some(s),
            None => {
                diags.push(src.diag(
                    n.pos,
                    &join(path, key),
                    format!("expected a string, found {}", n.describe()),
                ));
                None
            }
        },
        None => {
            diags.push(src.diag(
                node.pos,
                &join(path, key),
                format!("missing required field `{key}`"),
            ));
            None
        }
    }
}

fn unknown_kind(
    node: &Node,
    api_version: &str,
    kind: &str,
    path: &str,
    src: &Source,
) -> Diagnostic {
    let known = known_kinds();
    if let Some((good, _)) = known.iter().find(|(_, k)| *k == kind) {
        let at = node.get("apiVersion").map_or(node.pos, |n| n.pos);
        let msg = format!("unknown apiVersion {api_version:?} for kind {kind}");
        return src
            .diag(at, &join(path, "apiVersion"), msg)
            .with_hint(Some(format!("did you mean apiVersion: {good}?")));
    }
    let at = node.get("kind").map_or(node.pos, |n| n.pos);
    let hint = did_you_mean(kind, known.iter().map(|(_, k)| *k)).or_else(|| {
        let simulated = super::simulated::SIMULATED_KINDS
            .iter()
            .map(|(a, k)| format!("{a} {k}"))
            .collect::<Vec<_>>();
        Some(format!("stsim simulates {}", simulated.join(", ")))
    });
    src.diag(
        at,
        &join(path, "kind"),
        format!("unknown kind {kind:?} (apiVersion {api_version})"),
    )
    .with_hint(hint)
}

fn object_meta(object: &ManifestObject) -> &crate::api::ObjectMeta {
    match object {
        ManifestObject::StatefulSet(o) => &o.metadata,
        ManifestObject::Service(o) => &o.metadata,
        ManifestObject::PersistentVolumeClaim(o) => &o.metadata,
        ManifestObject::PersistentVolume(o) => &o.metadata,
        ManifestObject::StorageClass(o) => &o.metadata,
        ManifestObject::PodDisruptionBudget(o) => &o.metadata,
        ManifestObject::Pod(o) => &o.metadata,
    }
}

/// Namespaced objects without a namespace go to `default`, as kubectl puts them; cluster
/// scoped ones have none.
fn default_namespace(object: &mut ManifestObject) {
    let (meta, namespaced) = match object {
        ManifestObject::StatefulSet(o) => (&mut o.metadata, true),
        ManifestObject::Service(o) => (&mut o.metadata, true),
        ManifestObject::PersistentVolumeClaim(o) => (&mut o.metadata, true),
        ManifestObject::PodDisruptionBudget(o) => (&mut o.metadata, true),
        ManifestObject::Pod(o) => (&mut o.metadata, true),
        ManifestObject::PersistentVolume(o) => (&mut o.metadata, false),
        ManifestObject::StorageClass(o) => (&mut o.metadata, false),
    };
    if !namespaced {
        meta.namespace.clear();
    } else if meta.namespace.is_empty() {
        meta.namespace = "default".to_string();
    }
}
