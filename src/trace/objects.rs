//! The `object` of a write line, with the bytes a write cannot have changed taken from the
//! object's previous line instead of serialised again.
//!
//! A status write (`Verb::Status`, `ApiServer::update_status`) stores the previous object
//! with the request's status and a new resourceVersion (`Resource::with_status_of` copies
//! `apiVersion`, `kind`, `metadata` and `spec`), so its JSON is the previous version's with
//! two spans replaced: the resourceVersion's value and the status. Every write of an object
//! passes through [`ObjectCache::write`] in journal order (traced or not: heartbeat-level
//! writes are seen by [`ObjectCache::unseen`]), so the bytes kept for an object are those of
//! the version the status write started from. Status writes are a third of the attach
//! storm's object lines (pods, nodes, volumes, claims, attachments, sets), and their
//! metadata and spec about half of those lines' bytes.
//!
//! Other writes copy what they find equal (`PartialEq`) to the previous version: the spec
//! and the status of an update that changes only metadata or spec, and the endpoints of an
//! EndpointSlice update that stayed in place ([`KeptSlice`]). Equal values serialise to
//! equal bytes, so these copies rely on nothing else.
//!
//! An object is written field by field in the order its derived `Serialize` writes it
//! (apiVersion, kind, metadata, spec, status; none skipped); every struct is taken apart
//! whole, so a field added to a kind does not compile here until it is placed. Under
//! `cfg(test)` every trace line is compared with serde_json's (`TraceWriter::emit_write`).

use super::escape::write_str;
use super::json::{self, Unsupported};
use super::meta;
use super::status::StatusJson;
use crate::api::{
    AnyObject, EndpointSlice, Node, ObjectMeta, PersistentVolume, PersistentVolumeClaim, Pod,
    PodDisruptionBudget, StatefulSet, VolumeAttachment,
};
use crate::apiserver::{Verb, WatchEvent};
use crate::lookup_map::LookupMap;
use serde::Serialize;
use std::ops::Range;
use std::rc::Rc;

/// The bytes kept per object (by uid) of the kinds with a status subresource, and per
/// EndpointSlice.
#[derive(Default)]
pub struct ObjectCache {
    kept: LookupMap<String, Kept>,
    slices: LookupMap<String, KeptSlice>,
    /// The status parts of the line being written (swapped with the kept ones).
    parts: Vec<Range<usize>>,
}

/// An EndpointSlice as last written, and its endpoints' JSON. An endpoint equal to the one at its place in the slice written before has
/// the same JSON: its bytes are copied. (The EndpointSlice controller keeps a slice's
/// endpoints in place and appends new ones, so most of an update's endpoints are copied.)
struct KeptSlice {
    slice: Rc<EndpointSlice>,
    /// The endpoints' JSON, commas between them included.
    endpoints: Vec<u8>,
    /// Where each endpoint is in `endpoints`.
    each: Vec<Range<usize>>,
    /// The metadata's JSON, and where in it its last four fields ([`meta::Written::tail`])
    /// and the parts around its resourceVersion ([`meta::Written::around_rv`]) are.
    meta: Vec<u8>,
    tail: Option<Range<usize>>,
    around_rv: Option<(Range<usize>, Range<usize>)>,
}

/// An object of a kind with a status as last written: its JSON without the closing `}`,
/// and where in it the resourceVersion's value (between its quotes), the spec and the
/// status (to the end) are.
struct Kept {
    obj: AnyObject,
    json: Vec<u8>,
    rv: Range<usize>,
    /// The metadata's last four fields ([`meta::Written::tail`]).
    tail: Option<Range<usize>>,
    /// The metadata's parts around its resourceVersion ([`meta::Written::around_rv`]).
    around_rv: Option<(Range<usize>, Range<usize>)>,
    spec: Range<usize>,
    status: usize,
    /// Where the status's parts are ([`super::status`]; none for most kinds).
    parts: Vec<Range<usize>>,
}

/// A kind with a status subresource: its parts, in its derived `Serialize` order.
trait WithStatus: Sized {
    type Spec: Serialize + PartialEq;
    type Status: StatusJson;
    fn parts(&self) -> (&str, &str, &ObjectMeta, &Self::Spec, &Self::Status);
    /// `obj` if it is of this kind.
    fn of(obj: &AnyObject) -> Option<&Self>;
}

macro_rules! with_status {
    ($($ty:ident: $spec:ty, $status:ty;)*) => {$(
        impl WithStatus for $ty {
            type Spec = $spec;
            type Status = $status;
            fn parts(&self) -> (&str, &str, &ObjectMeta, &$spec, &$status) {
                let $ty { api_version, kind, metadata, spec, status } = self;
                (api_version, kind, metadata, spec, status)
            }
            fn of(obj: &AnyObject) -> Option<&Self> {
                match obj {
                    AnyObject::$ty(o) => Some(o),
                    _ => None,
                }
            }
        }
    )*};
}

with_status! {
    Node: crate::api::node::NodeSpec, crate::api::node::NodeStatus;
    Pod: crate::api::pod::PodSpec, crate::api::pod::PodStatus;
    PersistentVolumeClaim: crate::api::storage::PersistentVolumeClaimSpec, crate::api::storage::PersistentVolumeClaimStatus;
    PersistentVolume: crate::api::storage::PersistentVolumeSpec, crate::api::storage::PersistentVolumeStatus;
    StatefulSet: crate::api::statefulset::StatefulSetSpec, crate::api::statefulset::StatefulSetStatus;
    PodDisruptionBudget: crate::api::service::PodDisruptionBudgetSpec, crate::api::service::PodDisruptionBudgetStatus;
    VolumeAttachment: crate::api::storage::VolumeAttachmentSpec, crate::api::storage::VolumeAttachmentStatus;
}

impl ObjectCache {
    /// Appends `w`'s object as JSON to `out`.
    pub fn write(&mut self, out: &mut Vec<u8>, w: &WatchEvent) -> Result<(), Unsupported> {
        match &w.obj {
            AnyObject::Node(o) => self.write_kept(out, &**o, w),
            AnyObject::Pod(o) => self.write_kept(out, &**o, w),
            AnyObject::PersistentVolumeClaim(o) => self.write_kept(out, &**o, w),
            AnyObject::PersistentVolume(o) => self.write_kept(out, &**o, w),
            AnyObject::StatefulSet(o) => self.write_kept(out, &**o, w),
            AnyObject::PodDisruptionBudget(o) => self.write_kept(out, &**o, w),
            AnyObject::VolumeAttachment(o) => self.write_kept(out, &**o, w),
            AnyObject::EndpointSlice(o) => self.write_slice(out, o, w),
            other => json::to_vec(out, &super::ObjectJson(other)),
        }
    }

    /// A write that is not traced (heartbeat level): anything but a status write may change
    /// what is kept for the object, so it is dropped. Lease renewals, most of these, are of
    /// a kind never kept: no look-up for them.
    pub fn unseen(&mut self, w: &WatchEvent) {
        if (w.verb != Verb::Status || w.removed) && Self::keeps(&w.obj) {
            self.forget(&w.obj);
        }
    }

    /// Whether objects of `obj`'s kind are kept (the kinds [`ObjectCache::write`] writes
    /// through `write_kept` or `write_slice`).
    fn keeps(obj: &AnyObject) -> bool {
        matches!(
            obj,
            AnyObject::Node(_)
                | AnyObject::Pod(_)
                | AnyObject::PersistentVolumeClaim(_)
                | AnyObject::PersistentVolume(_)
                | AnyObject::StatefulSet(_)
                | AnyObject::PodDisruptionBudget(_)
                | AnyObject::VolumeAttachment(_)
                | AnyObject::EndpointSlice(_)
        )
    }

    /// Drops what is kept for `obj` (its line was written some other way).
    pub fn forget(&mut self, obj: &AnyObject) {
        let uid = obj.meta().uid.as_str();
        if !self.kept.is_empty() {
            self.kept.swap_remove(uid);
        }
        if !self.slices.is_empty() {
            self.slices.swap_remove(uid);
        }
    }

    /// An EndpointSlice, field by field in its derived `Serialize` order (none skipped),
    /// its unchanged endpoints copied from its previous line.
    fn write_slice(
        &mut self,
        out: &mut Vec<u8>,
        obj: &Rc<EndpointSlice>,
        w: &WatchEvent,
    ) -> Result<(), Unsupported> {
        let EndpointSlice {
            api_version,
            kind,
            metadata,
            address_type,
            endpoints,
            ports,
        } = &**obj;
        out.extend_from_slice(b"{\"apiVersion\":");
        write_str(out, api_version);
        out.extend_from_slice(b",\"kind\":");
        write_str(out, kind);
        out.extend_from_slice(b",\"metadata\":");
        let uid = metadata.uid.as_str();
        let before = self.slices.get(uid);
        let prev_meta = before.and_then(|k| {
            Some(meta::Before {
                meta: &k.slice.metadata,
                tail: &k.meta[k.tail.clone()?],
                around_rv: k.around_rv.clone().map(|(h, m)| (&k.meta[h], &k.meta[m])),
            })
        });
        let meta_at = out.len();
        let written = meta::write_meta(out, metadata, prev_meta)?;
        let meta_end = out.len();
        let relative = |r: Range<usize>| r.start - meta_at..r.end - meta_at;
        let tail = written.tail.map(relative);
        let around_rv = written.around_rv.map(|(h, m)| (relative(h), relative(m)));
        out.extend_from_slice(b",\"addressType\":");
        write_str(out, address_type);
        out.extend_from_slice(b",\"endpoints\":[");
        let from = out.len();
        let mut each = Vec::with_capacity(endpoints.len());
        for (i, e) in endpoints.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let at = out.len();
            match before {
                Some(k) if k.slice.endpoints.get(i) == Some(e) => {
                    out.extend_from_slice(&k.endpoints[k.each[i].clone()]);
                }
                _ => json::to_vec(out, e)?,
            }
            each.push(at - from..out.len() - from);
        }
        let json = from..out.len();
        out.extend_from_slice(b"],\"ports\":");
        json::to_vec(out, ports)?;
        out.push(b'}');
        if w.removed || uid.is_empty() {
            self.slices.swap_remove(uid);
        } else {
            match self.slices.get_mut(uid) {
                Some(k) => {
                    k.slice = Rc::clone(obj);
                    k.endpoints.clear();
                    k.endpoints.extend_from_slice(&out[json]);
                    k.each = each;
                    k.meta.clear();
                    k.meta.extend_from_slice(&out[meta_at..meta_end]);
                    (k.tail, k.around_rv) = (tail, around_rv);
                }
                None => {
                    let kept = KeptSlice {
                        slice: Rc::clone(obj),
                        endpoints: out[json].to_vec(),
                        each,
                        meta: out[meta_at..meta_end].to_vec(),
                        tail,
                        around_rv,
                    };
                    self.slices.insert(uid.to_string(), kept);
                }
            }
        }
        Ok(())
    }

    fn write_kept<T: WithStatus>(
        &mut self,
        out: &mut Vec<u8>,
        obj: &T,
        w: &WatchEvent,
    ) -> Result<(), Unsupported> {
        let (api_version, kind, meta, spec, status) = obj.parts();
        let uid = meta.uid.as_str();
        let start = out.len();
        let mut parts = std::mem::take(&mut self.parts);
        parts.clear();
        // Found once: the map is not changed before the entry is written back.
        let at = self.kept.get_index_of(uid);
        let kept = at.and_then(|i| self.kept.get_index_mut(i)).map(|(_, k)| k);
        let (rv, tail, around_rv, spec_at, status_at) = match kept {
            // A status write: the previous version's bytes with this resourceVersion, then
            // the new status.
            Some(kept) if w.verb == Verb::Status && !meta.resource_version.is_empty() => {
                out.extend_from_slice(&kept.json[..kept.rv.start - 1]);
                write_str(out, &meta.resource_version);
                let rv = kept.rv.start..out.len() - 1 - start;
                // Positions after the resourceVersion move by its change in length.
                let shift = |at: usize| at + rv.end - kept.rv.end;
                let around_rv = kept
                    .around_rv
                    .clone()
                    .map(|(h, m)| (h, shift(m.start)..shift(m.end)));
                let (tail, spec_at, status_at) = (
                    kept.tail.clone().map(|t| shift(t.start)..shift(t.end)),
                    shift(kept.spec.start)..shift(kept.spec.end),
                    shift(kept.status),
                );
                out.extend_from_slice(&kept.json[kept.rv.end + 1..kept.status]);
                let prev = T::of(&kept.obj).map(|p| (p.parts().4, &kept.json[..], &kept.parts[..]));
                status.write_json(out, start, prev, &mut parts)?;
                (Some(rv), tail, around_rv, spec_at, status_at)
            }
            // Any other write: metadata written, spec and status copied where they are equal
            // to the previous version's (an update mostly changes one of the three).
            kept => {
                let before = kept.map(|k| (T::of(&k.obj), &*k));
                out.extend_from_slice(b"{\"apiVersion\":");
                write_str(out, api_version);
                out.extend_from_slice(b",\"kind\":");
                write_str(out, kind);
                out.extend_from_slice(b",\"metadata\":");
                let prev_meta = match before {
                    Some((Some(prev), k)) => k.tail.clone().map(|t| meta::Before {
                        meta: prev.parts().2,
                        tail: &k.json[t],
                        around_rv: k.around_rv.clone().map(|(h, m)| (&k.json[h], &k.json[m])),
                    }),
                    _ => None,
                };
                let written = meta::write_meta(out, meta, prev_meta)?;
                let relative = |r: Range<usize>| r.start - start..r.end - start;
                let (rv, tail) = (written.rv.map(relative), written.tail.map(relative));
                let around_rv = written.around_rv.map(|(h, m)| (relative(h), relative(m)));
                out.extend_from_slice(b",\"spec\":");
                let spec_at = out.len() - start;
                match before {
                    Some((Some(prev), k)) if prev.parts().3 == spec => {
                        out.extend_from_slice(&k.json[k.spec.clone()]);
                    }
                    _ => json::to_vec(out, spec)?,
                }
                let spec_at = spec_at..out.len() - start;
                out.extend_from_slice(b",\"status\":");
                let status_at = out.len() - start;
                match before {
                    Some((Some(prev), k)) if prev.parts().4 == status => {
                        out.extend_from_slice(&k.json[k.status..]);
                        // The same parts, moved with the status (a field left out has an
                        // empty range, never read).
                        let moved = |r: &Range<usize>| match r.is_empty() {
                            true => 0..0,
                            false => r.start + status_at - k.status..r.end + status_at - k.status,
                        };
                        parts.extend(k.parts.iter().map(moved));
                    }
                    Some((Some(prev), k)) => {
                        let prev = Some((prev.parts().4, &k.json[..], &k.parts[..]));
                        status.write_json(out, start, prev, &mut parts)?;
                    }
                    _ => status.write_json(out, start, None, &mut parts)?,
                }
                (rv, tail, around_rv, spec_at, status_at)
            }
        };
        // Kept for the next write of the object (not for one that removed it).
        match rv {
            Some(rv) if !w.removed && !uid.is_empty() => {
                let json = &out[start..];
                match at.and_then(|i| self.kept.get_index_mut(i)) {
                    Some((_, k)) => {
                        k.obj = w.obj.clone();
                        k.json.clear();
                        k.json.extend_from_slice(json);
                        (k.rv, k.tail, k.around_rv) = (rv, tail, around_rv);
                        (k.spec, k.status) = (spec_at, status_at);
                        std::mem::swap(&mut k.parts, &mut parts);
                    }
                    None => {
                        let k = Kept {
                            obj: w.obj.clone(),
                            json: json.to_vec(),
                            rv,
                            tail,
                            around_rv,
                            spec: spec_at,
                            status: status_at,
                            parts: std::mem::take(&mut parts),
                        };
                        self.kept.insert(uid.to_string(), k);
                    }
                }
            }
            _ => {
                if let Some(i) = at {
                    self.kept.swap_remove_index(i);
                }
            }
        }
        self.parts = parts;
        out.push(b'}');
        Ok(())
    }
}
