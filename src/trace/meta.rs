//! An object's `metadata` for the trace, written field by field as its derived `Serialize`
//! writes it (same keys, same order, same fields left out), so that the writer knows where
//! the resourceVersion's value is (a status write replaces just that) and can copy the
//! costly last four fields — labels, annotations, owner references, finalizers, which
//! writes seldom change — from the object's previous line when they are equal.
//!
//! `ObjectMeta` is taken apart whole: a field added to it does not compile here until it
//! is placed. Under `cfg(test)` every trace line is compared with serde_json's.

use super::escape::write_str;
use super::json::{self, Unsupported};
use crate::api::ObjectMeta;
use std::ops::Range;

/// Where the parts the object cache reuses are in `out`.
pub struct Written {
    /// The resourceVersion's value, between its quotes (`None`: empty, not written).
    pub rv: Option<Range<usize>>,
    /// Labels, annotations, owner references and finalizers, each with its leading comma
    /// (`None`: the metadata has no name, so the first of them would have no comma).
    pub tail: Option<Range<usize>>,
}

/// Appends `meta` as JSON; `before` is the previous version's metadata and the bytes its
/// [`Written::tail`] covered.
pub fn write_meta(
    out: &mut Vec<u8>,
    meta: &ObjectMeta,
    before: Option<(&ObjectMeta, &[u8])>,
) -> Result<Written, Unsupported> {
    let ObjectMeta {
        name,
        generate_name,
        namespace,
        uid,
        resource_version,
        generation,
        creation_timestamp,
        deletion_timestamp,
        deletion_grace_period_seconds,
        labels,
        annotations,
        owner_references,
        finalizers,
    } = meta;
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, key: &[u8]| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.extend_from_slice(key);
    };
    out.push(b'{');
    for (k, v) in [
        (&b"\"name\":"[..], name),
        (b"\"generateName\":", generate_name),
        (b"\"namespace\":", namespace),
        (b"\"uid\":", uid),
    ] {
        if !v.is_empty() {
            key(out, k);
            write_str(out, v);
        }
    }
    let rv = (!resource_version.is_empty()).then(|| {
        key(out, b"\"resourceVersion\":");
        let at = out.len() + 1;
        write_str(out, resource_version);
        at..out.len() - 1
    });
    if *generation != 0 {
        key(out, b"\"generation\":");
        json::to_vec(out, generation)?;
    }
    if let Some(t) = creation_timestamp {
        key(out, b"\"creationTimestamp\":");
        json::to_vec(out, t)?;
    }
    if let Some(t) = deletion_timestamp {
        key(out, b"\"deletionTimestamp\":");
        json::to_vec(out, t)?;
    }
    if let Some(s) = deletion_grace_period_seconds {
        key(out, b"\"deletionGracePeriodSeconds\":");
        json::to_vec(out, s)?;
    }
    let named = !name.is_empty();
    let at = out.len();
    match before {
        Some((prev, bytes))
            if named
                && prev.labels == *labels
                && prev.annotations == *annotations
                && prev.owner_references == *owner_references
                && prev.finalizers == *finalizers =>
        {
            out.extend_from_slice(bytes);
        }
        _ => {
            if !labels.is_empty() {
                key(out, b"\"labels\":");
                json::to_vec(out, labels)?;
            }
            if !annotations.is_empty() {
                key(out, b"\"annotations\":");
                json::to_vec(out, annotations)?;
            }
            if !owner_references.is_empty() {
                key(out, b"\"ownerReferences\":");
                json::to_vec(out, owner_references)?;
            }
            if !finalizers.is_empty() {
                key(out, b"\"finalizers\":");
                json::to_vec(out, finalizers)?;
            }
        }
    }
    let tail = named.then_some(at..out.len());
    out.push(b'}');
    Ok(Written { rv, tail })
}
