//! The trace contract: `trace.jsonl`, one JSON object per line, in order, for every API
//! write, every Kubernetes Event, every operator action and fault, and every controller
//! note. Field order is fixed by the structs below; the same scenario, seed and build give
//! the same bytes. Scripts rely on this format: change it only additively.
//!
//! Every line has `seq` (0, 1, 2, …), `t_us` (simulated microseconds since the start) and
//! `type` (`write`, `event`, `action`, `fault`, `note`).

use crate::api::AnyObject;
use crate::api::K8sEvent;
use crate::apiserver::{JournalEntry, Verb, WatchEvent};
use crate::component::Note;
use crate::time::{NANOS_PER_MICRO, SimTime};
use serde::Serialize;
use std::io::Write;

mod escape;
mod event;
mod json;
mod meta;
mod objects;
mod status;
#[cfg(test)]
mod tests;

/// Writes trace lines to any sink; I/O errors are kept and reported once, at the end.
pub struct TraceWriter {
    out: Option<Box<dyn Write>>,
    seq: u64,
    error: Option<std::io::Error>,
    buf: Vec<u8>,
    /// Whether heartbeat-level writes are traced ([`is_heartbeat`]).
    heartbeats: bool,
    /// What status writes reuse of each object's previous line.
    objects: objects::ObjectCache,
}

/// A write line without its object: the object is written after it by
/// [`objects::ObjectCache`]. Written by [`write_head`], in this order.
#[derive(Serialize)]
struct WriteHead<'a> {
    seq: u64,
    t_us: u64,
    #[serde(rename = "type")]
    type_: &'static str,
    verb: &'static str,
    kind: &'static str,
    namespace: &'a str,
    name: &'a str,
    #[serde(rename = "resourceVersion")]
    resource_version: &'a str,
    /// Whether the object left the store with this write.
    removed: bool,
    actor: &'a str,
}

/// Writes `head` as its derived `Serialize` does, without the closing `}`, and then
/// `,"object":`: the keys and the constant values (line type, verb, kind: identifiers,
/// which need no escape) are copied in runs rather than field by field.
fn write_head(buf: &mut Vec<u8>, head: &WriteHead<'_>) {
    let WriteHead {
        seq,
        t_us,
        type_,
        verb,
        kind,
        namespace,
        name,
        resource_version,
        removed,
        actor,
    } = head;
    debug_assert!(
        [type_, verb, kind]
            .iter()
            .all(|s| escape::needs_no_escape(s))
    );
    buf.extend_from_slice(b"{\"seq\":");
    json::write_u64(buf, *seq);
    buf.extend_from_slice(b",\"t_us\":");
    json::write_u64(buf, *t_us);
    buf.extend_from_slice(b",\"type\":\"");
    buf.extend_from_slice(type_.as_bytes());
    buf.extend_from_slice(b"\",\"verb\":\"");
    buf.extend_from_slice(verb.as_bytes());
    buf.extend_from_slice(b"\",\"kind\":\"");
    buf.extend_from_slice(kind.as_bytes());
    buf.extend_from_slice(b"\",\"namespace\":");
    escape::write_str(buf, namespace);
    buf.extend_from_slice(b",\"name\":");
    escape::write_str(buf, name);
    buf.extend_from_slice(b",\"resourceVersion\":");
    escape::write_str(buf, resource_version);
    buf.extend_from_slice(if *removed {
        b",\"removed\":true,\"actor\":"
    } else {
        b",\"removed\":false,\"actor\":"
    });
    escape::write_str(buf, actor);
    buf.extend_from_slice(b",\"object\":");
}

/// A whole write line, as serde_json writes it (the fallback, and the reference in tests).
#[derive(Serialize)]
struct WriteLine<'a> {
    #[serde(flatten)]
    head: &'a WriteHead<'a>,
    object: ObjectJson<'a>,
}

/// The object of a write line, serialised in place: the same bytes as the object's own
/// JSON, without building it apart first.
struct ObjectJson<'a>(&'a AnyObject);

impl Serialize for ObjectJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_with(s)
    }
}

/// Written by [`event::write_event_line`], in this order.
#[derive(Serialize)]
struct EventLine<'a> {
    seq: u64,
    t_us: u64,
    #[serde(rename = "type")]
    type_: &'static str,
    #[serde(rename = "eventType")]
    event_type: &'a str,
    reason: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    message: &'a str,
    count: i32,
    source: &'a str,
    object: &'a K8sEvent,
}

#[derive(Serialize)]
struct ActionLine<'a> {
    seq: u64,
    t_us: u64,
    #[serde(rename = "type")]
    type_: &'static str,
    command: &'a str,
    ok: bool,
    output: &'a str,
}

#[derive(Serialize)]
struct FaultLine<'a> {
    seq: u64,
    t_us: u64,
    #[serde(rename = "type")]
    type_: &'static str,
    fault: &'a str,
    /// `start` or `end`.
    phase: &'static str,
    description: &'a str,
}

#[derive(Serialize)]
struct NoteLine<'a> {
    seq: u64,
    t_us: u64,
    #[serde(rename = "type")]
    type_: &'static str,
    source: &'a str,
    object: &'a str,
    message: &'a str,
}

fn micros(t: SimTime) -> u64 {
    t.as_nanos() / NANOS_PER_MICRO
}

/// A heartbeat-level write: a node Lease write, or a kubelet's periodic node status post
/// in which no condition changed (every condition's heartbeat time is this instant, no
/// transition time is: its only news is the heartbeat). A 300-node cluster makes
/// about 2.6 million of them a day; they are left out of the trace unless asked for, and
/// the timeline never shows them.
pub fn is_heartbeat(w: &WatchEvent) -> bool {
    match &w.obj {
        AnyObject::Lease(_) => true,
        AnyObject::Node(node) => {
            let now = crate::api::Timestamp::at(w.at);
            let conds = &node.status.conditions;
            w.verb == Verb::Status
                && w.actor.starts_with("kubelet/")
                && !conds.is_empty()
                && conds.iter().all(|c| c.last_heartbeat_time == Some(now))
                && !conds.iter().any(|c| c.last_transition_time == Some(now))
        }
        _ => false,
    }
}

impl TraceWriter {
    /// A writer to `out`, or one that discards everything (`None`).
    pub fn new(out: Option<Box<dyn Write>>) -> Self {
        TraceWriter {
            out,
            seq: 0,
            error: None,
            buf: Vec::with_capacity(4096),
            heartbeats: false,
            objects: objects::ObjectCache::default(),
        }
    }

    /// Traces heartbeat-level writes too.
    pub fn with_heartbeats(mut self, on: bool) -> Self {
        self.heartbeats = on;
        self
    }

    pub fn lines_written(&self) -> u64 {
        self.seq
    }

    /// Takes the first I/O error met, if any.
    pub fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }

    pub fn flush(&mut self) {
        if let Some(out) = self.out.as_mut()
            && let Err(e) = out.flush()
        {
            self.error.get_or_insert(e);
        }
    }

    pub fn entry(&mut self, entry: &JournalEntry) {
        match entry {
            JournalEntry::Write(w) => self.write(w),
            JournalEntry::Event { at, event } => self.event(*at, event),
        }
    }

    fn write(&mut self, w: &WatchEvent) {
        if !self.heartbeats && is_heartbeat(w) {
            if self.out.is_some() {
                self.objects.unseen(w);
            }
            return;
        }
        if self.out.is_none() {
            self.seq += 1;
            return;
        }
        let meta = w.obj.meta();
        let head = WriteHead {
            seq: self.seq,
            t_us: micros(w.at),
            type_: "write",
            verb: w.verb.as_str(),
            kind: w.obj.kind().as_str(),
            namespace: &meta.namespace,
            name: &meta.name,
            resource_version: &meta.resource_version,
            removed: w.removed,
            actor: &w.actor,
        };
        self.emit_write(&head, w);
    }

    /// `emit` for a write line: the head, then the object through [`objects::ObjectCache`].
    fn emit_write(&mut self, head: &WriteHead<'_>, w: &WatchEvent) {
        let line = WriteLine {
            head,
            object: ObjectJson(&w.obj),
        };
        self.emit_by(&line, |buf, objects| {
            write_head(buf, head);
            let written = objects.write(buf, w);
            if written.is_err() {
                objects.forget(&w.obj);
            }
            written.map(|()| buf.push(b'}'))
        });
    }

    /// `emit` with the line's bytes written by `write`; where it fails, by serde_json.
    fn emit_by<T: Serialize>(
        &mut self,
        line: &T,
        write: impl FnOnce(&mut Vec<u8>, &mut objects::ObjectCache) -> Result<(), json::Unsupported>,
    ) {
        self.seq += 1;
        let Some(out) = self.out.as_mut() else { return };
        if self.error.is_some() {
            return;
        }
        let buf = &mut self.buf;
        buf.clear();
        if write(buf, &mut self.objects).is_err() {
            buf.clear();
            serde_json::to_writer(&mut *buf, line).expect("trace lines always serialise");
        }
        // Every trace line a unit test writes is checked against serde_json's bytes.
        #[cfg(test)]
        assert_eq!(
            String::from_utf8_lossy(buf),
            String::from_utf8_lossy(&serde_json::to_vec(line).expect("serialises")),
        );
        buf.push(b'\n');
        if let Err(e) = out.write_all(buf) {
            self.error = Some(e);
        }
    }

    fn event(&mut self, at: SimTime, e: &K8sEvent) {
        let line = EventLine {
            seq: self.seq,
            t_us: micros(at),
            type_: "event",
            event_type: &e.type_,
            reason: &e.reason,
            kind: &e.involved_object.kind,
            namespace: &e.involved_object.namespace,
            name: &e.involved_object.name,
            message: &e.message,
            count: e.count,
            source: &e.source.component,
            object: e,
        };
        self.emit_by(&line, |buf, _| {
            event::write_event_line(buf, line.seq, line.t_us, e)
        });
    }

    pub fn action(&mut self, at: SimTime, command: &str, ok: bool, output: &str) {
        let line = ActionLine {
            seq: self.seq,
            t_us: micros(at),
            type_: "action",
            command,
            ok,
            output,
        };
        self.emit(&line);
    }

    pub fn fault(&mut self, at: SimTime, fault: &str, start: bool, description: &str) {
        let phase = if start { "start" } else { "end" };
        let line = FaultLine {
            seq: self.seq,
            t_us: micros(at),
            type_: "fault",
            fault,
            phase,
            description,
        };
        self.emit(&line);
    }

    pub fn note(&mut self, note: &Note) {
        let line = NoteLine {
            seq: self.seq,
            t_us: micros(note.at),
            type_: "note",
            source: &note.source,
            object: &note.object,
            message: &note.message,
        };
        self.emit(&line);
    }

    fn emit<T: Serialize>(&mut self, line: &T) {
        // Something only serde_json writes (see `json`) fails here: it then writes the line.
        self.emit_by(line, |buf, _| json::to_vec(buf, line));
    }
}
