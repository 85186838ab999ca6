//! The statuses of Pods and Nodes for the trace, written field by field with the parts equal
//! to the previous version's copied from its line. A status write changes a part or two
//! (a Pod condition, the container statuses; a Node's `volumesAttached` or one
//! condition), while its whole status was serialised again: the Node statuses that the
//! attach/detach controller writes in the attach storm list 20 and more attached volumes
//! next to the node's conditions, quantities and volumes in use.
//!
//! The parts of a status are kept as ranges into its line, in a fixed layout that the
//! status's own list lengths give: a Pod's conditions one by one, its start time and its
//! container statuses one by one; a Node's capacity, allocatable, conditions one by one,
//! volumes in use, and attached volumes one by one (an empty range for a field left out).
//! An element is copied when it is equal to the previous version's element at its place,
//! allowing for one inserted or removed before it (conditions keep their places; attached
//! volumes are listed in order, one added or removed at a time). Equal values serialise to
//! equal bytes, so the copies rely on nothing else.
//!
//! Each status struct is taken apart whole, so a field added to it does not compile here
//! until it is placed; fields are left out where their derived `Serialize` skips them. Under
//! `cfg(test)` every trace line is compared with serde_json's.

use super::escape::write_str;
use super::json::{self, Unsupported};
use crate::api::node::NodeStatus;
use crate::api::pod::PodStatus;
use serde::Serialize;
use std::ops::Range;

/// The previous version of a status: the value, its object's line, and its parts.
pub type Prev<'a, S> = Option<(&'a S, &'a [u8], &'a [Range<usize>])>;

/// The previous version of a list: its elements, its object's line, and their ranges.
type PrevList<'a, T> = Option<(&'a [T], &'a [u8], &'a [Range<usize>])>;

/// A status as the trace writes it.
pub trait StatusJson: Serialize + PartialEq {
    /// Appends `self` as JSON, pushing onto `parts` where its parts are (relative to
    /// `base`); `prev` is the previous version, whose equal parts are copied.
    fn write_json(
        &self,
        out: &mut Vec<u8>,
        _base: usize,
        _prev: Prev<'_, Self>,
        _parts: &mut Vec<Range<usize>>,
    ) -> Result<(), Unsupported> {
        json::to_vec(out, self)
    }
}

impl StatusJson for crate::api::storage::PersistentVolumeClaimStatus {}
impl StatusJson for crate::api::storage::PersistentVolumeStatus {}
impl StatusJson for crate::api::statefulset::StatefulSetStatus {}
impl StatusJson for crate::api::service::PodDisruptionBudgetStatus {}
impl StatusJson for crate::api::storage::VolumeAttachmentStatus {}

/// Writes a struct's keys with the commas between its fields.
struct Fields {
    first: bool,
}

impl Fields {
    fn key(&mut self, out: &mut Vec<u8>, key: &[u8]) {
        if !std::mem::take(&mut self.first) {
            out.push(b',');
        }
        out.extend_from_slice(key);
    }

    /// A field kept as one part: its key and value ([`part`]) when present, else an empty
    /// range, so that every later part keeps its place in the line's list of parts.
    fn optional_part<T: Serialize + PartialEq + ?Sized>(
        &mut self,
        out: &mut Vec<u8>,
        base: usize,
        key: &[u8],
        v: Option<&T>,
        prev: Option<(&T, &[u8], Range<usize>)>,
        parts: &mut Vec<Range<usize>>,
    ) -> Result<(), Unsupported> {
        let Some(v) = v else {
            parts.push(0..0);
            return Ok(());
        };
        self.key(out, key);
        part(out, base, v, prev, parts)
    }
}

/// Writes `v`, copied from `prev`'s bytes when equal, and pushes its range.
fn part<T: Serialize + PartialEq + ?Sized>(
    out: &mut Vec<u8>,
    base: usize,
    v: &T,
    prev: Option<(&T, &[u8], Range<usize>)>,
    parts: &mut Vec<Range<usize>>,
) -> Result<(), Unsupported> {
    let at = out.len();
    match prev {
        Some((p, line, r)) if p == v => out.extend_from_slice(&line[r]),
        _ => json::to_vec(out, v)?,
    }
    parts.push(at - base..out.len() - base);
    Ok(())
}

/// Writes the list `v` as `[…]`, each element a part; `prev` holds the previous list and
/// its elements' ranges. An element equal to the previous list's next one is copied, as is
/// one equal to the element after that (one removed); anything else is written, and the
/// previous list's place stays (one inserted): lists that keep their order and change by an
/// element or two are copied but for those.
fn list<T: Serialize + PartialEq>(
    out: &mut Vec<u8>,
    base: usize,
    v: &[T],
    prev: PrevList<'_, T>,
    parts: &mut Vec<Range<usize>>,
) -> Result<(), Unsupported> {
    let (before, line, ranges) = prev.unwrap_or((&[], &[], &[]));
    let mut j = 0;
    out.push(b'[');
    for (i, e) in v.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let at = out.len();
        let found = if before.get(j) == Some(e) {
            Some(j)
        } else if before.get(j + 1) == Some(e) {
            Some(j + 1)
        } else {
            None
        };
        match found.and_then(|k| Some((k, ranges.get(k)?))) {
            Some((k, r)) => {
                out.extend_from_slice(&line[r.clone()]);
                j = k + 1;
            }
            None => json::to_vec(out, e)?,
        }
        parts.push(at - base..out.len() - base);
    }
    out.push(b']');
    Ok(())
}

/// Splits `prev`'s parts into the given lengths, if they add up (they always do for parts
/// this file wrote); `None` otherwise, and then nothing is copied.
fn split<const N: usize>(parts: &[Range<usize>], lens: [usize; N]) -> Option<[&[Range<usize>]; N]> {
    if lens.iter().sum::<usize>() != parts.len() {
        return None;
    }
    let mut rest = parts;
    Some(lens.map(|n| {
        let (head, tail) = rest.split_at(n);
        rest = tail;
        head
    }))
}

impl StatusJson for PodStatus {
    fn write_json(
        &self,
        out: &mut Vec<u8>,
        base: usize,
        prev: Prev<'_, Self>,
        parts: &mut Vec<Range<usize>>,
    ) -> Result<(), Unsupported> {
        let PodStatus {
            phase,
            conditions,
            reason,
            message,
            host_ip,
            pod_ip,
            start_time,
            container_statuses,
        } = self;
        // Layout: conditions, start time, container statuses.
        let prev = prev.and_then(|(p, line, rs)| {
            let [c, s, cs] = split(rs, [p.conditions.len(), 1, p.container_statuses.len()])?;
            Some((p, line, c, &s[0], cs))
        });
        let mut f = Fields { first: true };
        out.push(b'{');
        if !phase.is_empty() {
            f.key(out, b"\"phase\":");
            write_str(out, phase);
        }
        if !conditions.is_empty() {
            f.key(out, b"\"conditions\":");
            let p = prev.map(|(p, line, c, _, _)| (&p.conditions[..], line, c));
            list(out, base, conditions, p, parts)?;
        }
        for (k, v) in [
            (&b"\"reason\":"[..], reason),
            (b"\"message\":", message),
            (b"\"hostIP\":", host_ip),
            (b"\"podIP\":", pod_ip),
        ] {
            if !v.is_empty() {
                f.key(out, k);
                write_str(out, v);
            }
        }
        let p = prev.and_then(|(p, line, _, s, _)| Some((p.start_time.as_ref()?, line, s.clone())));
        f.optional_part(out, base, b"\"startTime\":", start_time.as_ref(), p, parts)?;
        if !container_statuses.is_empty() {
            f.key(out, b"\"containerStatuses\":");
            let p = prev.map(|(p, line, _, _, cs)| (&p.container_statuses[..], line, cs));
            list(out, base, container_statuses, p, parts)?;
        }
        out.push(b'}');
        Ok(())
    }
}

impl StatusJson for NodeStatus {
    fn write_json(
        &self,
        out: &mut Vec<u8>,
        base: usize,
        prev: Prev<'_, Self>,
        parts: &mut Vec<Range<usize>>,
    ) -> Result<(), Unsupported> {
        let NodeStatus {
            capacity,
            allocatable,
            conditions,
            volumes_in_use,
            volumes_attached,
        } = self;
        // Layout: capacity, allocatable, conditions, volumes in use, attached volumes.
        let prev = prev.and_then(|(p, line, rs)| {
            let lens = [1, 1, p.conditions.len(), 1, p.volumes_attached.len()];
            let [cap, alloc, c, inuse, att] = split(rs, lens)?;
            Some((p, line, [&cap[0], &alloc[0], &inuse[0]], c, att))
        });
        let mut f = Fields { first: true };
        out.push(b'{');
        let p = prev.map(|(p, line, r, _, _)| (&p.capacity, line, r[0].clone()));
        let v = (!capacity.is_empty()).then_some(capacity);
        f.optional_part(out, base, b"\"capacity\":", v, p, parts)?;
        let p = prev.map(|(p, line, r, _, _)| (&p.allocatable, line, r[1].clone()));
        let v = (!allocatable.is_empty()).then_some(allocatable);
        f.optional_part(out, base, b"\"allocatable\":", v, p, parts)?;
        if !conditions.is_empty() {
            f.key(out, b"\"conditions\":");
            let p = prev.map(|(p, line, _, c, _)| (&p.conditions[..], line, c));
            list(out, base, conditions, p, parts)?;
        }
        let p = prev.map(|(p, line, r, _, _)| (&p.volumes_in_use, line, r[2].clone()));
        let v = (!volumes_in_use.is_empty()).then_some(volumes_in_use);
        f.optional_part(out, base, b"\"volumesInUse\":", v, p, parts)?;
        if !volumes_attached.is_empty() {
            f.key(out, b"\"volumesAttached\":");
            let p = prev.map(|(p, line, _, _, att)| (&p.volumes_attached[..], line, att));
            list(out, base, volumes_attached, p, parts)?;
        }
        out.push(b'}');
        Ok(())
    }
}
