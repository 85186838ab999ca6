//! Kubernetes Events as upstream components record them. Most components use client-go's
//! legacy `record.EventRecorder`, whose `EventCorrelator` (`event_correlator.rs`) counts
//! repeats, combines similar Events and drops a source's spam about one object. The
//! scheduler records through `events.k8s.io/v1` (`tools/events`,
//! `eventBroadcasterImpl.recordToSink`), which has no spam filter and turns repeats into a
//! series; here a repeat within 10 minutes raises the count.

use super::event_correlator::{COMBINED_PREFIX, Correlated, EventFacts};
use super::{Actor, ApiServer, JournalEntry, Recorder};
use crate::api::event::EventSource;
use crate::api::{K8sEvent, ObjectMeta, ObjectReference, Resource, Timestamp};
use crate::time::{SimDuration, SimTime};
use std::rc::Rc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// How long the scheduler's repeated Event keeps counting (see the header).
const SERIES_WINDOW: SimDuration = SimDuration::from_secs(600);

/// One Event as a component records it.
pub struct EventRecord<'a> {
    pub type_: EventType,
    pub reason: &'a str,
    pub message: String,
}

impl ApiServer {
    /// Records an Event about `involved` from `actor` (its component and, for kubelets and
    /// CSI sidecars, host are the Event's source). `posted` says whether the write reaches the API server: the recorder
    /// correlates an Event before it tries to write it, so one that cannot be written
    /// still counts (and spends the spam filter's budget), as upstream.
    pub fn record_event<T: Resource>(
        &mut self,
        now: SimTime,
        involved: &T,
        record: EventRecord<'_>,
        actor: &Actor,
        posted: bool,
    ) {
        let (component, host) = (actor.component, actor.host.as_str());
        if actor.recorder == Recorder::EventsApi {
            if posted {
                self.record_series_event(now, involved, record, (component, host));
            }
            return;
        }
        let meta = involved.meta();
        let facts = EventFacts {
            kind: T::KIND.as_str(),
            namespace: &meta.namespace,
            name: &meta.name,
            uid: &meta.uid,
            api_version: T::KIND.api_version(),
            type_: record.type_.as_str(),
            reason: record.reason,
            message: &record.message,
        };
        let correlator = match self.correlators.get_mut(&*actor.name) {
            Some(c) => c,
            None => self.correlators.entry(Rc::clone(&actor.name)).or_default(),
        };
        let counter = &mut self.event_counter;
        let correlated = correlator.correlate(now, &facts, || {
            *counter += 1;
            event_name(&meta.name, *counter)
        });
        let Correlated::Write(observed) = correlated else {
            return;
        };
        if !posted {
            return;
        }
        let ts = Timestamp::at(now);
        let message = if observed.combined {
            format!("{COMBINED_PREFIX}{}", record.message)
        } else {
            record.message
        };
        let about = match self.event_index.get_mut(meta.uid.as_str()) {
            Some(about) => about,
            None => self.event_index.entry(meta.uid.clone()).or_default(),
        };
        let ev = match about
            .iter_mut()
            .find(|ev| ev.metadata.name == observed.name)
        {
            // The patch: count, lastTimestamp and message.
            Some(prev) => patch(prev, observed.count as i32, ts, Some(message)),
            None => {
                let ev = Rc::new(new_event(
                    involved,
                    observed.name,
                    record.type_,
                    record.reason,
                    message,
                    (component, host),
                    (Timestamp::at(observed.first_seen), ts, observed.count),
                ));
                about.push(Rc::clone(&ev));
                ev
            }
        };
        self.push(JournalEntry::Event { at: now, event: ev });
    }

    /// The scheduler's Events: the same Event again within the window raises its count.
    fn record_series_event<T: Resource>(
        &mut self,
        now: SimTime,
        involved: &T,
        record: EventRecord<'_>,
        (component, host): (&str, &str),
    ) {
        let meta = involved.meta();
        let ts = Timestamp::at(now);
        let about = match self.event_index.get_mut(meta.uid.as_str()) {
            Some(about) => about,
            None => self.event_index.entry(meta.uid.clone()).or_default(),
        };
        let found = about.iter_mut().find(|ev| {
            ev.reason == record.reason
                && ev.message == record.message
                && ev.source.component == component
        });
        let ev = match found {
            Some(prev)
                if prev
                    .last_timestamp
                    .is_some_and(|t| now.saturating_since(t.time()) <= SERIES_WINDOW) =>
            {
                let count = prev.count + 1;
                patch(prev, count, ts, None)
            }
            found => {
                self.event_counter += 1;
                let ev = Rc::new(new_event(
                    involved,
                    event_name(&meta.name, self.event_counter),
                    record.type_,
                    record.reason,
                    record.message,
                    (component, host),
                    (ts, ts, 1),
                ));
                match found {
                    // Outside the window: the new Event takes the old one's place.
                    Some(stale) => *stale = Rc::clone(&ev),
                    None => about.push(Rc::clone(&ev)),
                }
                ev
            }
        };
        self.push(JournalEntry::Event { at: now, event: ev });
    }

    /// The latest copy of every Event about the object with `uid` that the API server
    /// still keeps: Events expire `--event-ttl` (1 h, refreshed by each update) after
    /// their last write, as kube-apiserver stores them with that TTL. In kubectl's order.
    pub fn events_about(&self, uid: &str, now: SimTime) -> Vec<Rc<K8sEvent>> {
        let mut events: Vec<Rc<K8sEvent>> = self
            .event_index
            .get(uid)
            .into_iter()
            .flatten()
            .filter(|ev| {
                ev.last_timestamp
                    .is_some_and(|t| now.saturating_since(t.time()) < EVENT_TTL)
            })
            .map(Rc::clone)
            .collect();
        // kubectl sorts the list (which the API server returns in name order, and names
        // carry the creation counter) by last timestamp; for the short lists of one pod
        // Go's sort is an insertion sort, so ties keep the order they were created in.
        events.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        events.sort_by_key(|e| e.last_timestamp);
        events
    }
}

/// A repeat written as the upstream recorders patch it: `count`, `lastTimestamp` and, for
/// an aggregate, `message`; the stored copy is replaced by the patched one.
fn patch(
    prev: &mut Rc<K8sEvent>,
    count: i32,
    ts: Timestamp,
    message: Option<String>,
) -> Rc<K8sEvent> {
    // Copied only if an earlier version is still held (by the journal, say): the kept
    // copy is otherwise patched where it is.
    let ev = Rc::make_mut(prev);
    ev.count = count;
    ev.last_timestamp = Some(ts);
    if let Some(message) = message {
        ev.message = message;
    }
    Rc::clone(prev)
}

/// A new core/v1 Event about `involved`.
fn new_event<T: Resource>(
    involved: &T,
    name: String,
    type_: EventType,
    reason: &str,
    message: String,
    (component, host): (&str, &str),
    (first, last, count): (Timestamp, Timestamp, u32),
) -> K8sEvent {
    let meta = involved.meta();
    K8sEvent {
        api_version: "v1".into(),
        kind: "Event".into(),
        metadata: ObjectMeta {
            name,
            namespace: if meta.namespace.is_empty() {
                "default".into()
            } else {
                meta.namespace.clone()
            },
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: T::KIND.api_version().into(),
            kind: T::KIND.as_str().into(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
        },
        reason: reason.into(),
        message,
        type_: type_.as_str().into(),
        source: EventSource {
            component: component.into(),
            host: host.into(),
        },
        first_timestamp: Some(first),
        last_timestamp: Some(last),
        count: count as i32,
    }
}

/// `<object name>.<counter as 16 hex digits>`, what `format!("{name}.{n:016x}")` gives,
/// written without the formatting machinery (one name per recorded Event).
fn event_name(object: &str, n: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 16];
    for (i, h) in hex.iter_mut().enumerate() {
        *h = HEX[((n >> (4 * (15 - i))) & 0xf) as usize];
    }
    let mut name = String::with_capacity(object.len() + 17);
    name.push_str(object);
    name.push('.');
    name.push_str(std::str::from_utf8(&hex).expect("hex digits"));
    name
}

/// kube-apiserver's `--event-ttl` default.
const EVENT_TTL: SimDuration = SimDuration::from_secs(3600);

#[cfg(test)]
mod name_tests {
    #[test]
    fn event_name_is_the_formatted_one() {
        for n in [0, 1, 0xabc, 0x0123_4567_89ab_cdef, u64::MAX] {
            assert_eq!(super::event_name("web-0", n), format!("web-0.{n:016x}"));
        }
    }
}
