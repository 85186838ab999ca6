//! The API client a component writes through: who is writing, at which instant, and
//! whether the API server can be reached at all. Components never touch the store directly.

use super::{ApiError, ApiServer, DeleteOptions, EventRecord, EventType, Strategy};
use crate::api::{ObjectKey, Resource};
use crate::time::SimTime;
use std::rc::Rc;

/// The identity a component writes under: `name` appears in the trace (`actor`), `component`
/// and `host` in the source of the Events it records.
#[derive(Clone, Debug)]
pub struct Actor {
    pub name: Rc<str>,
    pub component: &'static str,
    pub host: String,
    /// Which of client-go's two Event libraries the component records through.
    pub recorder: Recorder,
}

/// client-go's Event libraries: they treat repeats differently (`events.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorder {
    /// `tools/record` (core/v1 Events): controllers, kubelets, CSI sidecars.
    Legacy,
    /// `tools/events` (events.k8s.io/v1): the scheduler.
    EventsApi,
}

impl Actor {
    pub fn new(component: &'static str) -> Self {
        Actor {
            name: Rc::from(component),
            component,
            host: String::new(),
            recorder: Recorder::Legacy,
        }
    }
    /// The same component, recording through `events.k8s.io/v1`.
    pub fn recording_through_events_api(self) -> Self {
        Actor {
            recorder: Recorder::EventsApi,
            ..self
        }
    }
    pub fn on_host(component: &'static str, host: &str) -> Self {
        Actor {
            name: Rc::from(format!("{component}/{host}")),
            component,
            host: host.to_string(),
            recorder: Recorder::Legacy,
        }
    }
}

pub struct ApiClient<'a> {
    api: &'a mut ApiServer,
    actor: &'a Actor,
    now: SimTime,
}

impl<'a> ApiClient<'a> {
    pub fn new(api: &'a mut ApiServer, actor: &'a Actor, now: SimTime) -> Self {
        ApiClient { api, actor, now }
    }
    pub fn now(&self) -> SimTime {
        self.now
    }
    /// A live (quorum) read, as `Get` without the informer cache.
    pub fn get<T: Resource>(&self, key: &ObjectKey) -> Option<Rc<T>> {
        self.api.get::<T>(key).cloned()
    }
    /// A live (quorum) list of one namespace's objects of a kind, in name order.
    pub fn list_in<T: Resource>(&self, namespace: &str) -> Vec<Rc<T>> {
        self.api
            .objects()
            .list_in::<T>(namespace)
            .cloned()
            .collect()
    }
    /// A live (quorum) list of every object of a kind, all namespaces, in key order.
    pub fn list<T: Resource>(&self) -> Vec<Rc<T>> {
        self.api.objects().list::<T>().cloned().collect()
    }
    /// What a GET or LIST sees (everything the API server holds, and the Events it still
    /// keeps), or the error of a request that does not get through.
    pub fn read(&self) -> Result<(&crate::api::Tables, &ApiServer), ApiError> {
        self.reach("GET")?;
        Ok((self.api.objects(), self.api))
    }
    pub fn create<T: Strategy>(&mut self, obj: T) -> Result<Rc<T>, ApiError> {
        self.reach("POST")?;
        self.api.create(self.now, &self.actor.name, obj)
    }
    pub fn update<T: Strategy>(&mut self, obj: T) -> Result<Rc<T>, ApiError> {
        self.reach("PUT")?;
        self.api.update(self.now, &self.actor.name, obj)
    }
    /// Renews the Lease `key` (version `base`) to `renew_time`: the update a kubelet's
    /// lease controller makes, on the store's fast path (`lease_renewal.rs`). Returns the
    /// new version.
    pub fn renew_lease(
        &mut self,
        key: &ObjectKey,
        base: super::LeaseVersion,
        renew_time: crate::api::coordination::MicroTime,
    ) -> Result<super::LeaseVersion, ApiError> {
        self.reach("PUT")?;
        self.api
            .renew_lease(self.now, &self.actor.name, key, base, renew_time)
    }
    pub fn update_status<T: Strategy>(&mut self, obj: &T) -> Result<Rc<T>, ApiError> {
        self.reach("PUT")?;
        self.api.update_status(self.now, &self.actor.name, obj)
    }
    /// [`ApiClient::update_status`] giving the request up, so that its status is moved into
    /// the stored object rather than copied.
    pub fn update_status_owned<T: Strategy>(&mut self, obj: T) -> Result<Rc<T>, ApiError> {
        self.reach("PUT")?;
        self.api
            .update_status_owned(self.now, &self.actor.name, obj)
    }
    pub fn delete<T: Strategy>(
        &mut self,
        key: &ObjectKey,
        opts: &DeleteOptions,
    ) -> Result<(Rc<T>, bool), ApiError> {
        self.reach("DELETE")?;
        self.api.delete::<T>(self.now, &self.actor.name, key, opts)
    }
    /// Evicts a pod through the eviction subresource (PodDisruptionBudgets apply).
    pub fn evict(&mut self, key: &ObjectKey, opts: &DeleteOptions) -> Result<(), ApiError> {
        self.reach("POST")?;
        self.api.evict(self.now, &self.actor.name, key, opts)
    }
    /// Fails a request the network or an API server outage keeps from getting through.
    fn reach(&self, verb: &str) -> Result<(), ApiError> {
        if self.api.serves(self.actor) {
            Ok(())
        } else {
            Err(self.api.unreachable(verb))
        }
    }
    /// Whether this client's requests get through right now.
    pub fn connected(&self) -> bool {
        self.api.serves(self.actor)
    }
    /// Arms a one-shot request failure (see [`super::InjectedFailure`]).
    pub fn inject_failure(&mut self, failure: super::InjectedFailure) {
        self.api.inject_failure(failure);
    }
    /// Records a Kubernetes Event about `involved`, as this component's EventRecorder would.
    pub fn event<T: Resource>(
        &mut self,
        involved: &T,
        type_: EventType,
        reason: &str,
        message: String,
    ) {
        // An Event that cannot be posted is dropped, as the EventRecorder's broadcaster
        // gives up on it after its retries; it has been correlated all the same.
        let posted = self.api.serves(self.actor);
        let record = EventRecord {
            type_,
            reason,
            message,
        };
        self.api
            .record_event(self.now, involved, record, self.actor, posted);
    }
}
