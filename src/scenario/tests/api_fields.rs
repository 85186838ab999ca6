//! The typed structs of `src/api` against the real API schema and the "simulated" table:
//! every field a typed struct reads must be a real field (spelled as the API spells it) and
//! must be listed as modelled, so that `simulated.rs` stays derived from the structs.
//!
//! A recording deserializer walks each struct: `deserialize_struct` reveals serde's field
//! names, and the walk descends into every field with a made-up value.

use crate::api::schema::{Ty, root_type, type_fields};
use crate::api::{
    PersistentVolume, PersistentVolumeClaim, Pod, PodDisruptionBudget, Service, StatefulSet,
    StorageClass,
};
use crate::scenario::simulated::{is_modelled, modelled_paths};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;

#[derive(Debug)]
struct ProbeError(String);

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ProbeError {}
impl de::Error for ProbeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ProbeError(msg.to_string())
    }
}

/// Records the path (with `[]` for list items) of every struct field it is asked for.
struct Probe<'a> {
    /// The object's root type in the real API.
    root: &'static str,
    path: String,
    seen: &'a RefCell<Vec<String>>,
    depth: usize,
}

impl<'a> Probe<'a> {
    fn child(&self, path: String) -> Probe<'a> {
        Probe {
            root: self.root,
            path,
            seen: self.seen,
            depth: self.depth + 1,
        }
    }
}

macro_rules! integers {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
            v.visit_i64(1)
        })*
    };
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_str("1")
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_bool(true)
    }
    integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8
              deserialize_u16 deserialize_u32 deserialize_u64);
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_f64(1.0)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_some(self)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, ProbeError> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        let item = self.child(format!("{}[]", self.path));
        v.visit_seq(One(Some(item)))
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        // A free-form map (labels, resource lists): no keys. A struct with a flattened rest
        // (`Volume`, `PersistentVolumeSpec`): every real field, the struct takes its own.
        let fields = type_at(self.root, &self.path)
            .and_then(type_fields)
            .unwrap_or_default();
        let names: Vec<&'static str> = fields.iter().map(|f| f.name).collect();
        v.visit_map(Fields {
            fields: names,
            next: 0,
            probe: self,
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        if self.depth > 30 {
            return Err(ProbeError(format!("{}: too deep", self.path)));
        }
        let mut seen = self.seen.borrow_mut();
        for f in fields {
            seen.push(super::super::de::join(&self.path, f));
        }
        drop(seen);
        v.visit_map(Fields {
            fields: fields.to_vec(),
            next: 0,
            probe: self,
        })
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_unit()
    }
    serde::forward_to_deserialize_any! {
        i128 u128 f32 char str string bytes byte_buf unit unit_struct tuple tuple_struct enum
        identifier
    }
}

/// A list of one item.
struct One<'a>(Option<Probe<'a>>);

impl<'de> SeqAccess<'de> for One<'_> {
    type Error = ProbeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeError> {
        self.0.take().map(|p| seed.deserialize(p)).transpose()
    }
}

/// A map with one entry per field.
struct Fields<'a> {
    fields: Vec<&'static str>,
    next: usize,
    probe: Probe<'a>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = ProbeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        let Some(f) = self.fields.get(self.next) else {
            return Ok(None);
        };
        seed.deserialize(de::value::StrDeserializer::new(f))
            .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        let f = self.fields.get(self.next).copied().unwrap_or_default();
        self.next += 1;
        seed.deserialize(
            self.probe
                .child(super::super::de::join(&self.probe.path, f)),
        )
    }
}

/// Paths of every field `T` (of real root type `root`) reads.
fn fields_of<T: DeserializeOwned>(root: &'static str) -> Vec<String> {
    let seen = RefCell::new(Vec::new());
    if let Err(e) = T::deserialize(Probe {
        root,
        path: String::new(),
        seen: &seen,
        depth: 0,
    }) {
        panic!("probe of {root} failed: {e}");
    }
    seen.into_inner()
}

/// How `path` below root type `root` resolves in the real API: `None` if it is not a field,
/// `Some(None)` for a field without an object type, `Some(Some(t))` for an object of type `t`.
fn resolve(root: &'static str, path: &str) -> Option<Option<&'static str>> {
    let mut ty = Some(root);
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let name = segment.trim_end_matches("[]");
        let field = ty.and_then(type_fields)?.iter().find(|f| f.name == name)?;
        ty = match field.ty {
            Ty::Obj(t) | Ty::ListOf(t) => Some(t),
            // Free-form below: anything goes.
            Ty::Any => return Some(None),
            _ => None,
        };
    }
    Some(ty)
}

fn type_at(root: &'static str, path: &str) -> Option<&'static str> {
    resolve(root, path).flatten()
}

fn is_real(root: &'static str, path: &str) -> bool {
    resolve(root, path).is_some()
}

/// Fields that `src/api` spells differently from the real API, known and reported to the
/// owner of `src/api`: listed here so that any new one fails this test.
/// Typed fields whose serde name is knowingly not the real API's (none today).
const KNOWN_MISSPELLED: &[&str] = &[];

#[test]
fn typed_structs_read_only_real_and_modelled_fields() {
    let kinds: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "apps/v1",
            "StatefulSet",
            fields_of::<StatefulSet>("StatefulSet"),
        ),
        ("v1", "Service", fields_of::<Service>("Service")),
        (
            "v1",
            "PersistentVolumeClaim",
            fields_of::<PersistentVolumeClaim>("PersistentVolumeClaim"),
        ),
        (
            "v1",
            "PersistentVolume",
            fields_of::<PersistentVolume>("PersistentVolume"),
        ),
        (
            "storage.k8s.io/v1",
            "StorageClass",
            fields_of::<StorageClass>("StorageClass"),
        ),
        (
            "policy/v1",
            "PodDisruptionBudget",
            fields_of::<PodDisruptionBudget>("PodDisruptionBudget"),
        ),
        ("v1", "Pod", fields_of::<Pod>("Pod")),
    ];
    let mut misspelled = Vec::new();
    let mut unmodelled = Vec::new();
    for (api_version, kind, fields) in &kinds {
        assert!(fields.len() > 3, "{kind}: {fields:?}");
        let root = root_type(api_version, kind).unwrap_or_else(|| panic!("{kind} in the schema"));
        let modelled = modelled_paths(kind).unwrap_or_default();
        for f in fields {
            let is_status = f == "status" || f.starts_with("status.") || f.contains("[].status");
            if !is_real(root, f) {
                misspelled.push(format!("{kind} {f}"));
            } else if !is_status && !is_modelled(&modelled, f) {
                unmodelled.push(format!("{kind} {f}"));
            }
        }
    }
    misspelled.retain(|m| !KNOWN_MISSPELLED.contains(&m.as_str()));
    assert!(
        misspelled.is_empty(),
        "typed fields the real API does not have: {misspelled:?}"
    );
    assert!(
        unmodelled.is_empty(),
        "typed fields missing from simulated.rs: {unmodelled:?}"
    );
}
