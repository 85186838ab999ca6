//! An event line (`"type":"event"`), written by hand: the line's head repeats six of the
//! Event's own strings (type, reason, the involved object's kind, namespace and name, the
//! message, the source component), so each is escaped once, in the head, and its bytes are
//! copied into the object. The object is written field by field in `K8sEvent`'s derived
//! `Serialize` order (fields skipped where serde skips them); every struct is taken apart
//! whole, so a new field does not compile until it is placed. Under `cfg(test)` every line
//! is compared with serde_json's (`TraceWriter::emit_by`).

use super::escape::{needs_no_escape, write_str};
use super::json::{self, Unsupported};
use super::meta;
use crate::api::event::EventSource;
use crate::api::{K8sEvent, ObjectReference, Timestamp};
use std::ops::Range;

/// Appends `"` + `s` escaped + `"` and returns where those bytes are.
fn escaped(out: &mut Vec<u8>, s: &str) -> Range<usize> {
    let at = out.len();
    write_str(out, s);
    at..out.len()
}

/// Copies bytes written earlier on this line.
fn again(out: &mut Vec<u8>, r: &Range<usize>) {
    out.extend_from_within(r.clone());
}

/// Writes the line `{"seq":…,"t_us":…,"type":"event",…,"object":{…}}` for Event `e`: the
/// bytes of `EventLine { event_type: &e.type_, reason: &e.reason, kind, namespace and name
/// of e.involved_object, message: &e.message, count: e.count, source:
/// &e.source.component, object: e }` (see `TraceWriter::event`).
pub fn write_event_line(
    out: &mut Vec<u8>,
    seq: u64,
    t_us: u64,
    e: &K8sEvent,
) -> Result<(), Unsupported> {
    let K8sEvent {
        api_version,
        kind,
        metadata,
        involved_object,
        reason,
        message,
        type_,
        source,
        first_timestamp,
        last_timestamp,
        count,
    } = e;
    let ObjectReference {
        api_version: io_api_version,
        kind: io_kind,
        namespace: io_namespace,
        name: io_name,
        uid: io_uid,
        resource_version: io_resource_version,
    } = involved_object;
    let EventSource { component, host } = source;
    out.extend_from_slice(b"{\"seq\":");
    json::write_u64(out, seq);
    out.extend_from_slice(b",\"t_us\":");
    json::write_u64(out, t_us);
    out.extend_from_slice(b",\"type\":\"event\",\"eventType\":");
    let type_at = escaped(out, type_);
    out.extend_from_slice(b",\"reason\":");
    let reason_at = escaped(out, reason);
    out.extend_from_slice(b",\"kind\":");
    let kind_at = escaped(out, io_kind);
    out.extend_from_slice(b",\"namespace\":");
    let namespace_at = escaped(out, io_namespace);
    out.extend_from_slice(b",\"name\":");
    let name_at = escaped(out, io_name);
    out.extend_from_slice(b",\"message\":");
    let message_at = escaped(out, message);
    out.extend_from_slice(b",\"count\":");
    json::write_i64(out, i64::from(*count));
    out.extend_from_slice(b",\"source\":");
    let component_at = escaped(out, component);
    // The object.
    out.extend_from_slice(b",\"object\":{\"apiVersion\":");
    write_str(out, api_version);
    out.extend_from_slice(b",\"kind\":");
    write_str(out, kind);
    out.extend_from_slice(b",\"metadata\":");
    meta::write_meta(out, metadata, None)?;
    out.extend_from_slice(b",\"involvedObject\":{");
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, key: &[u8]| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.extend_from_slice(key);
    };
    if !io_api_version.is_empty() {
        key(out, b"\"apiVersion\":");
        write_str(out, io_api_version);
    }
    for (k, v, at) in [
        (&b"\"kind\":"[..], io_kind, &kind_at),
        (b"\"namespace\":", io_namespace, &namespace_at),
        (b"\"name\":", io_name, &name_at),
    ] {
        if !v.is_empty() {
            key(out, k);
            again(out, at);
        }
    }
    for (k, v) in [
        (&b"\"uid\":"[..], io_uid),
        (b"\"resourceVersion\":", io_resource_version),
    ] {
        if !v.is_empty() {
            key(out, k);
            write_str(out, v);
        }
    }
    out.extend_from_slice(b"},\"reason\":");
    again(out, &reason_at);
    out.extend_from_slice(b",\"message\":");
    again(out, &message_at);
    out.extend_from_slice(b",\"type\":");
    again(out, &type_at);
    out.extend_from_slice(b",\"source\":{");
    if !component.is_empty() {
        out.extend_from_slice(b"\"component\":");
        again(out, &component_at);
    }
    if !host.is_empty() {
        if !component.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"host\":");
        write_str(out, host);
    }
    out.push(b'}');
    let mut first_at = None;
    if let Some(t) = first_timestamp {
        out.extend_from_slice(b",\"firstTimestamp\":");
        first_at = Some(write_timestamp(out, *t));
    }
    if let Some(t) = last_timestamp {
        out.extend_from_slice(b",\"lastTimestamp\":");
        match (first_timestamp, first_at) {
            (Some(f), Some(at)) if f == t => again(out, &at),
            _ => {
                write_timestamp(out, *t);
            }
        }
    }
    out.extend_from_slice(b",\"count\":");
    json::write_i64(out, i64::from(*count));
    out.extend_from_slice(b"}}");
    Ok(())
}

/// A timestamp as its `Serialize` writes it (RFC 3339 text: digits and punctuation, which
/// need no escape); returns where its bytes are.
fn write_timestamp(out: &mut Vec<u8>, t: Timestamp) -> Range<usize> {
    let mut buf = [0u8; 20];
    let s = t.write_rfc3339(&mut buf);
    debug_assert!(needs_no_escape(s));
    let at = out.len();
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    at..out.len()
}
