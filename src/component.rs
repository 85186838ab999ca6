//! What the engine hands a component when it runs: the simulated instant, the API server
//! (written through an [`ApiClient`] under the component's own [`Actor`]), the component's
//! own random stream, a place to ask for timers, and a place for notes for the timeline.

use crate::apiserver::{Actor, ApiClient, ApiServer};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// A line for the human timeline that is not an API write or a Kubernetes Event: why a
/// controller holds back, what a kubelet is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub at: SimTime,
    /// Who says it, e.g. `statefulset-controller`.
    pub source: String,
    /// The object it is about, e.g. `StatefulSet default/web`.
    pub object: String,
    pub message: String,
}

pub struct Ctx<'a, T> {
    pub now: SimTime,
    pub api: &'a mut ApiServer,
    pub rng: &'a mut SimRng,
    timers: &'a mut Vec<(SimTime, T)>,
    notes: &'a mut Vec<Note>,
}

impl<'a, T> Ctx<'a, T> {
    pub fn new(
        now: SimTime,
        api: &'a mut ApiServer,
        rng: &'a mut SimRng,
        timers: &'a mut Vec<(SimTime, T)>,
        notes: &'a mut Vec<Note>,
    ) -> Self {
        Ctx {
            now,
            api,
            rng,
            timers,
            notes,
        }
    }
    /// A client that writes as `actor` at this instant.
    pub fn client<'b>(&'b mut self, actor: &'b Actor) -> ApiClient<'b> {
        ApiClient::new(self.api, actor, self.now)
    }
    /// Asks to be called back with `timer` after `delay`.
    pub fn after(&mut self, delay: SimDuration, timer: T) {
        self.timers.push((self.now + delay, timer));
    }
    /// Asks to be called back with `timer` at `at` (not before now).
    pub fn at(&mut self, at: SimTime, timer: T) {
        self.timers.push((at.max(self.now), timer));
    }
    pub fn note(&mut self, source: &str, object: String, message: String) {
        self.notes.push(Note {
            at: self.now,
            source: source.to_string(),
            object,
            message,
        });
    }
}
