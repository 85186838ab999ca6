//! An object's `metadata` for the trace, written field by field as its derived `Serialize`
//! writes it (same keys, same order, same fields left out), so that the writer knows where
//! the resourceVersion's value is (a status write replaces just that) and can copy from
//! the object's previous line what is equal: the costly last four fields — labels,
//! annotations, owner references, finalizers, which writes seldom change — and the parts
//! around the resourceVersion (name, namespace and uid before it; generation and
//! timestamps after it), which an update keeps.
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
    /// With a resourceVersion: from the metadata's `{` to the resourceVersion's opening
    /// quote (name, generateName, namespace, uid and the key), and from its closing quote
    /// to the tail (generation and the timestamps).
    pub around_rv: Option<(Range<usize>, Range<usize>)>,
    /// Labels, annotations, owner references and finalizers, each with its leading comma
    /// (`None`: the metadata has no name, so the first of them would have no comma).
    pub tail: Option<Range<usize>>,
}

/// The previous version's metadata and the bytes of its line that [`write_meta`] may copy.
#[derive(Clone, Copy)]
pub struct Before<'a> {
    pub meta: &'a ObjectMeta,
    /// The bytes its [`Written::tail`] covered.
    pub tail: &'a [u8],
    /// The bytes its [`Written::around_rv`] covered, if kept.
    pub around_rv: Option<(&'a [u8], &'a [u8])>,
}

/// Appends `meta` as JSON, copying from `before` (the previous version) what is equal.
pub fn write_meta(
    out: &mut Vec<u8>,
    meta: &ObjectMeta,
    before: Option<Before<'_>>,
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
    let key = |out: &mut Vec<u8>, first: &mut bool, key: &[u8]| {
        if !std::mem::take(first) {
            out.push(b',');
        }
        out.extend_from_slice(key);
    };
    let start = out.len();
    // An update keeps the object's name, namespace and uid, and mostly its generation and
    // timestamps: those bytes are copied from the previous line where they are equal.
    let prev_around = before.and_then(|b| {
        let p = b.meta;
        let same = !resource_version.is_empty()
            && p.uid == *uid
            && p.name == *name
            && p.namespace == *namespace
            && p.generate_name == *generate_name;
        let (head, mid) = b.around_rv.filter(|_| same)?;
        let mid_same = p.generation == *generation
            && p.creation_timestamp == *creation_timestamp
            && p.deletion_timestamp == *deletion_timestamp
            && p.deletion_grace_period_seconds == *deletion_grace_period_seconds;
        Some((head, mid_same.then_some(mid)))
    });
    let (rv, mid_copy) = match prev_around {
        Some((head, mid)) => {
            out.extend_from_slice(head);
            first = false;
            let at = out.len() + 1;
            write_str(out, resource_version);
            (Some(at..out.len() - 1), mid)
        }
        None => {
            out.push(b'{');
            for (k, v) in [
                (&b"\"name\":"[..], name),
                (b"\"generateName\":", generate_name),
                (b"\"namespace\":", namespace),
                (b"\"uid\":", uid),
            ] {
                if !v.is_empty() {
                    key(out, &mut first, k);
                    write_str(out, v);
                }
            }
            let rv = (!resource_version.is_empty()).then(|| {
                key(out, &mut first, b"\"resourceVersion\":");
                let at = out.len() + 1;
                write_str(out, resource_version);
                at..out.len() - 1
            });
            (rv, None)
        }
    };
    match mid_copy {
        Some(mid) => out.extend_from_slice(mid),
        None => {
            if *generation != 0 {
                key(out, &mut first, b"\"generation\":");
                json::to_vec(out, generation)?;
            }
            if let Some(t) = creation_timestamp {
                key(out, &mut first, b"\"creationTimestamp\":");
                json::to_vec(out, t)?;
            }
            if let Some(t) = deletion_timestamp {
                key(out, &mut first, b"\"deletionTimestamp\":");
                json::to_vec(out, t)?;
            }
            if let Some(s) = deletion_grace_period_seconds {
                key(out, &mut first, b"\"deletionGracePeriodSeconds\":");
                json::to_vec(out, s)?;
            }
        }
    }
    let around_rv = rv
        .as_ref()
        .map(|rv| (start..rv.start - 1, rv.end + 1..out.len()));
    let named = !name.is_empty();
    let at = out.len();
    match before {
        Some(Before {
            meta: prev,
            tail: bytes,
            ..
        }) if named
            && prev.labels == *labels
            && prev.annotations == *annotations
            && prev.owner_references == *owner_references
            && prev.finalizers == *finalizers =>
        {
            out.extend_from_slice(bytes);
        }
        _ => {
            if !labels.is_empty() {
                key(out, &mut first, b"\"labels\":");
                json::to_vec(out, labels)?;
            }
            if !annotations.is_empty() {
                key(out, &mut first, b"\"annotations\":");
                json::to_vec(out, annotations)?;
            }
            if !owner_references.is_empty() {
                key(out, &mut first, b"\"ownerReferences\":");
                json::to_vec(out, owner_references)?;
            }
            if !finalizers.is_empty() {
                key(out, &mut first, b"\"finalizers\":");
                json::to_vec(out, finalizers)?;
            }
        }
    }
    let tail = named.then_some(at..out.len());
    out.push(b'}');
    Ok(Written {
        rv,
        around_rv,
        tail,
    })
}
