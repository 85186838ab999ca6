//! Kubernetes Events as upstream components record them through `record.EventRecorder`:
//! an identical event (same object, reason, message and source) within the correlation
//! window is not a new object but the old one with `count` raised and `lastTimestamp`
//! moved (`EventCorrelator`, 10-minute aggregation window).

use super::{ApiServer, JournalEntry};
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

/// `defaultAggregateIntervalInSeconds` of the event correlator.
const CORRELATION_WINDOW: SimDuration = SimDuration::from_secs(600);

impl ApiServer {
    /// Records an Event about `involved`, from `component` (on `host`, for kubelets).
    pub fn record_event<T: Resource>(
        &mut self,
        now: SimTime,
        involved: &T,
        type_: EventType,
        reason: &str,
        message: String,
        (component, host): (&str, &str),
    ) {
        let meta = involved.meta();
        let ts = Timestamp::at(now);
        // The correlation key is (involved uid, reason, message, component); the Events
        // are kept per involved object and matched on the other three, which each stored
        // Event carries itself: no key is built per Event, and an object has few kinds of
        // Event, so the scan is short.
        let about = match self.event_index.get_mut(meta.uid.as_str()) {
            Some(about) => about,
            None => self.event_index.entry(meta.uid.clone()).or_default(),
        };
        let found = about.iter_mut().find(|ev| {
            ev.reason == reason && ev.message == message && ev.source.component == component
        });
        let ev = match found {
            Some(prev)
                if prev
                    .last_timestamp
                    .is_some_and(|t| now.saturating_since(t.time()) <= CORRELATION_WINDOW) =>
            {
                let mut ev = (**prev).clone();
                ev.count += 1;
                ev.last_timestamp = Some(ts);
                let ev = Rc::new(ev);
                *prev = Rc::clone(&ev);
                ev
            }
            found => {
                self.event_counter += 1;
                let ev = Rc::new(K8sEvent {
                    api_version: "v1".into(),
                    kind: "Event".into(),
                    metadata: ObjectMeta {
                        name: event_name(&meta.name, self.event_counter),
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
                    first_timestamp: Some(ts),
                    last_timestamp: Some(ts),
                    count: 1,
                });
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

/// `<object name>.<counter as 16 hex digits>`, what `format!("{name}.{n:016x}")` gives,
/// written without the formatting machinery (one name per recorded Event).
fn event_name(object: &str, n: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut name = String::with_capacity(object.len() + 17);
    name.push_str(object);
    name.push('.');
    for shift in (0..16).rev() {
        name.push(HEX[((n >> (4 * shift)) & 0xf) as usize] as char);
    }
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
