//! The EndpointSlice controller (`pkg/controller/endpointslice` and the reconciler of
//! `k8s.io/endpointslice`): for each Service with a selector, EndpointSlices (at most 100
//! endpoints each) listing every selected pod that has an IP, with its conditions —
//! `ready` (Ready and not terminating, or always with `publishNotReadyAddresses`),
//! `serving` (Ready), `terminating` — its node, zone and, when the pod's subdomain names
//! the Service, its hostname. A Service without endpoints keeps one empty placeholder slice.
//!
//! Like upstream, the controller remembers what it wrote (`endpointSliceTracker`) and
//! waits, retrying, while its informer has not yet seen its own writes, so that a lagging
//! cache never makes it create a slice twice.

use super::{ControlTimer, Controller, Enqueue, Kinds};
use crate::api::discovery::{Endpoint, EndpointConditions, EndpointPort, labels};
use crate::api::key_ref::cmp_str;
use crate::api::node::well_known::LABEL_ZONE;
use crate::api::pod::phase;
use crate::api::{
    AnyObject, EndpointSlice, IntOrString, Kind, Node, ObjectKey, ObjectMeta, ObjectReference,
    OwnerReference, Pod, Service, Tables,
};
use crate::apiserver::{Actor, DeleteOptions, WatchEvent};
use crate::component::Ctx;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// `--max-endpoints-per-slice` default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// The name it writes under (`names.EndpointSliceController`).
const COMPONENT: &str = "endpointslice-controller";
/// `v1.IsHeadlessService`: the label headless Services' slices carry.
const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
/// The address type this controller writes (pod IPs are IPv4 in stsim).
const ADDRESS_TYPE: &str = "IPv4";

pub struct EndpointSliceController {
    actor: Actor,
    /// `endpointSliceTracker`: per Service, per slice name, the resourceVersion of this
    /// controller's last write (`None`: it deleted the slice).
    tracker: BTreeMap<ObjectKey, BTreeMap<String, Option<u64>>>,
    /// Counter behind the generated slice names.
    generated: u64,
}

impl Default for EndpointSliceController {
    fn default() -> Self {
        EndpointSliceController {
            actor: Actor::new(COMPONENT),
            tracker: BTreeMap::new(),
            generated: 0,
        }
    }
}

/// Whether `svc`'s selector selects pods with `labels` (a Service without a selector has
/// no managed endpoints).
fn selects(svc: &Service, labels: &BTreeMap<String, String>) -> bool {
    !svc.spec.selector.is_empty()
        && svc
            .spec
            .selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
}

fn managed_by_us(slice: &EndpointSlice) -> bool {
    slice
        .metadata
        .labels
        .get(labels::MANAGED_BY)
        .map(String::as_str)
        == Some(labels::CONTROLLER_NAME)
}

impl Controller for EndpointSliceController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    // The kinds `on_watch` acts on.
    fn watches(&self) -> Kinds {
        Kinds::of(&[Kind::Service, Kind::Pod, Kind::EndpointSlice])
    }

    // `onServiceUpdate`/`onServiceDelete`, `addPod`/`updatePod`/`deletePod` (services of the
    // pod's old and new labels), `onEndpointSliceDelete`.
    fn on_watch(
        &mut self,
        old: Option<&AnyObject>,
        ev: &WatchEvent,
        cache: &Tables,
        q: &mut Enqueue,
    ) {
        match &ev.obj {
            AnyObject::Service(svc) => q.add(ObjectKey::of(&svc.metadata)),
            AnyObject::Pod(pod) => {
                let old = old.and_then(AnyObject::as_pod);
                for svc in cache.list_in::<Service>(&pod.metadata.namespace) {
                    if selects(svc, &pod.metadata.labels)
                        || old.is_some_and(|o| selects(svc, &o.metadata.labels))
                    {
                        q.add(ObjectKey::of(&svc.metadata));
                    }
                }
            }
            AnyObject::EndpointSlice(slice) if ev.removed && managed_by_us(slice) => {
                if let Some(svc) = slice.service_name() {
                    let key = ObjectKey::new(&slice.metadata.namespace, svc);
                    // A slice deleted by someone else no longer awaits our write's echo.
                    if let Some(tracked) = self.tracker.get_mut(&key) {
                        tracked.remove(&slice.metadata.name);
                    }
                    q.add(key);
                }
            }
            _ => {}
        }
    }

    // Port of `syncService` + `Reconciler.Reconcile`.
    fn sync(
        &mut self,
        key: &ObjectKey,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
        _q: &mut Enqueue,
    ) -> Result<(), String> {
        let Some(svc) = cache.services.get(key) else {
            // Its slices go with it (ownerReferences, the garbage collector).
            self.tracker.remove(key);
            return Ok(());
        };
        if svc.spec.selector.is_empty() || svc.spec.type_ == "ExternalName" {
            return Ok(());
        }
        let existing: Vec<Rc<EndpointSlice>> = cache
            .list_in::<EndpointSlice>(&key.namespace)
            .filter(|s| s.service_name() == Some(key.name.as_str()) && managed_by_us(s))
            .cloned()
            .collect();
        if self.stale(key, &existing) {
            return Err("EndpointSlice informer cache is out of date".into());
        }
        let mut errors = Vec::new();
        let mut desired: BTreeMap<Vec<EndpointPort>, Vec<Endpoint>> = BTreeMap::new();
        // Without named target ports every pod serves the same ports: the key is built once.
        let shared_ports = pod_independent_ports(svc);
        for pod in cache.list_in::<Pod>(&key.namespace) {
            if !selects(svc, &pod.metadata.labels) || !should_pod_be_in_endpoints(pod) {
                continue;
            }
            let node = cache.nodes.get_by_parts("", &pod.spec.node_name);
            if node.is_none() && !svc.spec.publish_not_ready_addresses {
                // Requeued, but the slices are written without the pod meanwhile.
                errors.push(format!(
                    "skipping Pod {} for Service {}: Node {} Not Found",
                    pod.metadata.name, key, pod.spec.node_name
                ));
                continue;
            }
            let endpoint = pod_to_endpoint(pod, node.map(|n| &**n), svc);
            if let Some(ports) = &shared_ports {
                match desired.get_mut(ports) {
                    Some(endpoints) => endpoints.push(endpoint),
                    None => {
                        desired.insert(ports.clone(), vec![endpoint]);
                    }
                }
                continue;
            }
            // The ports as a set (`port_map_key`, sorted in place: only the key is used).
            let mut ports = endpoint_ports(svc, pod);
            ports.sort();
            match desired.get_mut(&ports) {
                Some(endpoints) => endpoints.push(endpoint),
                None => {
                    desired.insert(ports, vec![endpoint]);
                }
            }
        }
        if placeholder_kept(svc, &existing, &desired) {
            // What `reconcile` finds for it: an empty plan, and `apply` writes nothing.
            return if errors.is_empty() {
                Ok(())
            } else {
                Err(errors.join("; "))
            };
        }
        let plan = match update_in_place(svc, &existing, &mut desired) {
            Some(plan) => plan,
            None => {
                let mut name = || {
                    self.generated += 1;
                    generate_name(&svc.metadata.name, self.generated)
                };
                reconcile(svc, &existing, desired, &mut name)
            }
        };
        self.apply(key, plan, ctx)?;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

impl EndpointSliceController {
    /// `StaleSlices`: the cache lacks one of this controller's writes for the Service.
    /// Expectations met are dropped.
    fn stale(&mut self, svc: &ObjectKey, existing: &[Rc<EndpointSlice>]) -> bool {
        let Some(expected) = self.tracker.get_mut(svc) else {
            return false;
        };
        let cached: BTreeMap<&str, u64> = existing
            .iter()
            .map(|s| (s.metadata.name.as_str(), s.metadata.resource_version_u64()))
            .collect();
        expected.retain(|name, rv| match (rv, cached.get(name.as_str())) {
            (Some(rv), Some(seen)) => seen < rv,
            (Some(_), None) => true,
            (None, Some(_)) => true,
            (None, None) => false,
        });
        let stale = !expected.is_empty();
        if !stale {
            self.tracker.remove(svc);
        }
        stale
    }

    // `finalize`: creates, then updates, then deletes, each remembered by the tracker.
    fn apply(
        &mut self,
        svc: &ObjectKey,
        plan: Plan,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) -> Result<(), String> {
        let mut client = ctx.client(&self.actor);
        let tracked = self.tracker.entry(svc.clone()).or_default();
        for slice in plan.create {
            let s = client.create(slice).map_err(|e| e.to_string())?;
            tracked.insert(
                s.metadata.name.clone(),
                Some(s.metadata.resource_version_u64()),
            );
        }
        for slice in plan.update {
            let s = client.update(slice).map_err(|e| e.to_string())?;
            tracked.insert(
                s.metadata.name.clone(),
                Some(s.metadata.resource_version_u64()),
            );
        }
        for name in plan.delete {
            let key = ObjectKey::new(&svc.namespace, &name);
            match client.delete::<EndpointSlice>(&key, &DeleteOptions::default()) {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.to_string()),
            }
            tracked.insert(name, None);
        }
        if tracked.is_empty() {
            self.tracker.remove(svc);
        }
        Ok(())
    }
}

/// `ShouldPodBeInEndpoints(pod, includeTerminating=true)`: not terminal and has an IP.
pub fn should_pod_be_in_endpoints(pod: &Pod) -> bool {
    let terminal = matches!(pod.status.phase.as_str(), phase::SUCCEEDED | phase::FAILED);
    !terminal && !pod.status.pod_ip.is_empty()
}

// Port of `podToEndpoint`.
pub fn pod_to_endpoint(pod: &Pod, node: Option<&Node>, svc: &Service) -> Endpoint {
    let serving = pod.is_ready();
    let terminating = pod.metadata.deletion_timestamp.is_some();
    // For compatibility, "ready" is never true for a terminating pod unless the Service
    // publishes not-ready addresses.
    let ready = svc.spec.publish_not_ready_addresses || (serving && !terminating);
    // `ShouldSetHostname`.
    let hostname = (!pod.spec.hostname.is_empty()
        && pod.spec.subdomain == svc.metadata.name
        && pod.metadata.namespace == svc.metadata.namespace)
        .then(|| pod.spec.hostname.clone());
    Endpoint {
        addresses: vec![pod.status.pod_ip.clone()],
        conditions: EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        },
        hostname,
        target_ref: Some(ObjectReference {
            kind: "Pod".into(),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
        node_name: (!pod.spec.node_name.is_empty()).then(|| pod.spec.node_name.clone()),
        zone: node
            .and_then(|n| n.metadata.labels.get(LABEL_ZONE))
            .filter(|z| !z.is_empty())
            .cloned(),
    }
}

// Port of `getEndpointPorts` with `podutil.FindPort`: each Service port the pod serves,
// a named target port looked up among the pod's container ports.
pub fn endpoint_ports(svc: &Service, pod: &Pod) -> Vec<EndpointPort> {
    let tcp = |p: &str| {
        if p.is_empty() {
            "TCP".to_string()
        } else {
            p.to_string()
        }
    };
    svc.spec
        .ports
        .iter()
        .filter_map(|sp| {
            let protocol = tcp(&sp.protocol);
            let port = match &sp.target_port {
                None => sp.port,
                Some(IntOrString::Int(n)) => *n as i32,
                Some(IntOrString::String(name)) => {
                    pod.spec
                        .containers
                        .iter()
                        .flat_map(|c| &c.ports)
                        .find(|p| p.name == *name && tcp(&p.protocol) == protocol)?
                        .container_port
                }
            };
            Some(EndpointPort {
                name: Some(sp.name.clone()),
                protocol: Some(protocol),
                port: Some(port),
            })
        })
        .collect()
}

/// The sorted port list of every pod (`endpoint_ports`, sorted), when it does not depend
/// on the pod: no Service port names its target port (only a named one is looked up among
/// the pod's containers).
fn pod_independent_ports(svc: &Service) -> Option<Vec<EndpointPort>> {
    let named = |sp: &crate::api::service::ServicePort| {
        matches!(sp.target_port, Some(IntOrString::String(_)))
    };
    if svc.spec.ports.iter().any(named) {
        return None;
    }
    let mut ports = endpoint_ports(svc, &Pod::default());
    ports.sort();
    Some(ports)
}

/// Whether [`reconcile`] would find nothing to do for a Service without endpoints: its
/// one slice is its empty placeholder (no endpoints, no ports, this Service's), which it
/// keeps whatever its labels.
fn placeholder_kept(
    svc: &Service,
    existing: &[Rc<EndpointSlice>],
    desired: &BTreeMap<Vec<EndpointPort>, Vec<Endpoint>>,
) -> bool {
    desired.is_empty()
        && matches!(existing, [s] if s.endpoints.is_empty() && s.ports.is_empty() && owned_by(s, svc))
}

/// [`reconcile`]'s plan for the usual write, found without its general bookkeeping: one
/// slice, this Service's, with the Service's labels and the one desired port set, keeping
/// at least one of its endpoints, and room for every desired endpoint. `reconcile` then
/// keeps the slice's endpoints still desired, in its order and with their desired values,
/// and appends the new ones in desired order: one update (when the slice would stay as it
/// is and nothing is new, no write). Desired identities must be distinct (one pod each, as
/// `sync` builds them): each existing endpoint then matches at most one. `None`: another
/// case, left to `reconcile`, with `desired` untouched.
fn update_in_place(
    svc: &Service,
    existing: &[Rc<EndpointSlice>],
    desired: &mut BTreeMap<Vec<EndpointPort>, Vec<Endpoint>>,
) -> Option<Plan> {
    let ([slice], 1) = (existing, desired.len()) else {
        return None;
    };
    let (ports, wanted) = desired.iter_mut().next()?;
    if wanted.len() > MAX_ENDPOINTS_PER_SLICE
        || !owned_by(slice, svc)
        || port_map_key(&slice.ports) != *ports
    {
        return None;
    }
    let labels = slice_labels(svc);
    if slice.metadata.labels != labels {
        return None;
    }
    // Where each of the slice's endpoints is among the desired ones: looked for by target
    // name first (`sync` lists pods in name order), then everywhere; the identity decides.
    // A desired endpoint is kept once.
    fn target(e: &Endpoint) -> Option<&str> {
        e.target_ref.as_ref().map(|r| r.name.as_str())
    }
    let mut taken = vec![false; wanted.len()];
    let found: Vec<Option<usize>> = slice
        .endpoints
        .iter()
        .map(|e| {
            let id = endpoint_id(e);
            let same = |i: &usize| endpoint_id(&wanted[*i]) == id;
            let i = wanted
                .binary_search_by(|w| target(w).cmp(&target(e)))
                .ok()
                .filter(same)
                .or_else(|| (0..wanted.len()).find(same))?;
            (!std::mem::replace(&mut taken[i], true)).then_some(i)
        })
        .collect();
    let kept = found.iter().flatten().count();
    if kept == 0 {
        return None; // The slice is deleted or reused: the general path.
    }
    if kept == slice.endpoints.len()
        && kept == wanted.len()
        && found
            .iter()
            .zip(&slice.endpoints)
            .all(|(i, e)| i.is_some_and(|i| wanted[i] == *e))
    {
        return Some(Plan::default());
    }
    let mut wanted: Vec<Option<Endpoint>> = std::mem::take(wanted).into_iter().map(Some).collect();
    let mut endpoints: Vec<Endpoint> = Vec::with_capacity(wanted.len());
    for i in found.into_iter().flatten() {
        endpoints.extend(wanted[i].take());
    }
    endpoints.extend(wanted.into_iter().flatten());
    Some(Plan {
        update: vec![with_endpoints(slice, endpoints, labels)],
        ..Plan::default()
    })
}

/// `NewPortMapKey`: a port list as a set.
fn port_map_key(ports: &[EndpointPort]) -> Vec<EndpointPort> {
    let mut key = ports.to_vec();
    key.sort();
    key
}

/// An endpoint's identity, borrowed from it (the same equality as the owned strings). It
/// is only looked up, never stored beyond a reconcile, so its order is of no consequence:
/// the target's name comes first (it tells endpoints apart at once) and strings compare
/// inline (`cmp_str`) rather than through `memcmp`.
#[derive(Debug, PartialEq, Eq)]
struct EndpointId<'a> {
    name: &'a str,
    namespace: &'a str,
    addresses: Addresses<'a>,
    hostname: Option<&'a str>,
}

impl Ord for EndpointId<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        cmp_str(self.name, o.name)
            .then_with(|| cmp_str(self.namespace, o.namespace))
            .then_with(|| self.addresses.cmp(&o.addresses))
            .then_with(|| match (self.hostname, o.hostname) {
                (Some(a), Some(b)) => cmp_str(a, b),
                (a, b) => a.cmp(&b),
            })
    }
}

impl PartialOrd for EndpointId<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// An endpoint's addresses as a set: the one address of a pod's endpoint as it is, any
/// other number sorted into a vector (two sets are equal exactly when these are).
#[derive(Debug, PartialEq, Eq)]
enum Addresses<'a> {
    One(&'a str),
    Sorted(Vec<&'a str>),
}

impl Ord for Addresses<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        match (self, o) {
            (Addresses::One(a), Addresses::One(b)) => cmp_str(a, b),
            (Addresses::One(_), Addresses::Sorted(_)) => Ordering::Less,
            (Addresses::Sorted(_), Addresses::One(_)) => Ordering::Greater,
            (Addresses::Sorted(a), Addresses::Sorted(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Addresses<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// `endpointsliceutil` endpoint identity (`hashEndpoint`): addresses, hostname, target.
fn endpoint_id(e: &Endpoint) -> EndpointId<'_> {
    let addresses = match e.addresses.as_slice() {
        [one] => Addresses::One(one),
        many => {
            let mut sorted: Vec<&str> = many.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            Addresses::Sorted(sorted)
        }
    };
    let (namespace, name) = e
        .target_ref
        .as_ref()
        .map_or(("", ""), |r| (r.namespace.as_str(), r.name.as_str()));
    EndpointId {
        name,
        namespace,
        addresses,
        hostname: e.hostname.as_deref(),
    }
}

/// `s` with `endpoints` and `labels` in place of its own; the old endpoints and labels are
/// not copied (they are replaced anyway).
fn with_endpoints(
    s: &EndpointSlice,
    endpoints: Vec<Endpoint>,
    labels: BTreeMap<String, String>,
) -> EndpointSlice {
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
        labels: _,
        annotations,
        owner_references,
        finalizers,
    } = &s.metadata;
    EndpointSlice {
        api_version: s.api_version.clone(),
        kind: s.kind.clone(),
        metadata: ObjectMeta {
            name: name.clone(),
            generate_name: generate_name.clone(),
            namespace: namespace.clone(),
            uid: uid.clone(),
            resource_version: resource_version.clone(),
            generation: *generation,
            creation_timestamp: *creation_timestamp,
            deletion_timestamp: *deletion_timestamp,
            deletion_grace_period_seconds: *deletion_grace_period_seconds,
            labels,
            annotations: annotations.clone(),
            owner_references: owner_references.clone(),
            finalizers: finalizers.clone(),
        },
        address_type: s.address_type.clone(),
        endpoints,
        ports: s.ports.clone(),
    }
}

/// What one reconcile writes.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub create: Vec<EndpointSlice>,
    pub update: Vec<EndpointSlice>,
    pub delete: Vec<String>,
}

// `setEndpointSliceLabels`: the Service's labels plus the controller's own.
fn slice_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut l = svc.metadata.labels.clone();
    l.remove(labels::SERVICE_NAME);
    l.remove(labels::MANAGED_BY);
    l.remove(LABEL_HEADLESS);
    l.insert(labels::SERVICE_NAME.into(), svc.metadata.name.clone());
    l.insert(labels::MANAGED_BY.into(), labels::CONTROLLER_NAME.into());
    if svc.is_headless() {
        l.insert(LABEL_HEADLESS.into(), String::new());
    }
    l
}

// `newEndpointSlice`.
fn new_slice(svc: &Service, ports: Vec<EndpointPort>, name: String) -> EndpointSlice {
    EndpointSlice {
        api_version: "discovery.k8s.io/v1".into(),
        kind: "EndpointSlice".into(),
        metadata: ObjectMeta {
            name,
            namespace: svc.metadata.namespace.clone(),
            labels: slice_labels(svc),
            owner_references: vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Service".into(),
                name: svc.metadata.name.clone(),
                uid: svc.metadata.uid.clone(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }],
            ..Default::default()
        },
        address_type: ADDRESS_TYPE.into(),
        endpoints: Vec::new(),
        ports,
    }
}

fn owned_by(slice: &EndpointSlice, svc: &Service) -> bool {
    slice
        .metadata
        .owner_references
        .iter()
        .any(|r| r.uid == svc.metadata.uid)
}

// Port of `Reconciler.reconcile` + `reconcileByPortMapping` + the recycling in `finalize`:
// existing slices keep the endpoints still desired (updated where they changed), slices
// left empty go, new endpoints fill slices being updated, then an unchanged slice they fit
// in whole, then new slices; a slice about to be deleted is reused for one about to be
// created; a Service with no endpoints keeps one empty placeholder slice.
pub fn reconcile(
    svc: &Service,
    existing: &[Rc<EndpointSlice>],
    mut desired: BTreeMap<Vec<EndpointPort>, Vec<Endpoint>>,
    new_name: &mut dyn FnMut() -> String,
) -> Plan {
    let max = MAX_ENDPOINTS_PER_SLICE;
    let labels = slice_labels(svc);
    let mut create: Vec<EndpointSlice> = Vec::new();
    let mut update: BTreeMap<String, EndpointSlice> = BTreeMap::new();
    let mut delete: Vec<Rc<EndpointSlice>> = Vec::new();
    let mut by_ports: BTreeMap<Vec<EndpointPort>, Vec<Rc<EndpointSlice>>> = BTreeMap::new();
    for s in existing {
        if owned_by(s, svc) {
            by_ports
                .entry(port_map_key(&s.ports))
                .or_default()
                .push(Rc::clone(s));
        } else {
            delete.push(Rc::clone(s));
        }
    }
    // The desired endpoints are moved into the slices written, not copied: the keys
    // (port maps) stay for the "no longer desired" test below.
    for (ports, endpoints) in desired.iter_mut() {
        let slices: &[Rc<EndpointSlice>] = by_ports.get(ports).map_or(&[], Vec::as_slice);
        // Where each existing endpoint is in the desired list (its identity looked up
        // while the list is borrowed; the endpoints are taken in step 1).
        let found: Vec<Vec<Option<usize>>> = {
            let index: BTreeMap<_, usize> = endpoints
                .iter()
                .enumerate()
                .map(|(i, e)| (endpoint_id(e), i))
                .collect();
            slices
                .iter()
                .map(|s| {
                    s.endpoints
                        .iter()
                        .map(|e| index.get(&endpoint_id(e)).copied())
                        .collect()
                })
                .collect()
        };
        let mut wanted: Vec<Option<Endpoint>> =
            std::mem::take(endpoints).into_iter().map(Some).collect();
        // Unchanged slices are copied only if new endpoints are added to one (step 3).
        let mut unchanged: Vec<&Rc<EndpointSlice>> = Vec::new();
        let mut to_update: Vec<EndpointSlice> = Vec::new();
        // 1. Keep the endpoints still desired, in their places.
        for (s, found) in slices.iter().zip(found) {
            let mut kept: Vec<Endpoint> = Vec::new();
            let mut changed = false;
            for (e, i) in s.endpoints.iter().zip(found) {
                if let Some(i) = i
                    && let Some(want) = wanted[i].take()
                {
                    changed |= want != *e;
                    kept.push(want);
                }
            }
            let labels_changed = s.metadata.labels != labels;
            if changed || kept.len() != s.endpoints.len() {
                if kept.is_empty() {
                    delete.push(Rc::clone(s));
                    continue;
                }
                to_update.push(with_endpoints(s, kept, labels.clone()));
            } else if labels_changed {
                // Every endpoint kept and equal: the slice's own are the desired ones.
                to_update.push(with_endpoints(s, s.endpoints.clone(), labels.clone()));
            } else {
                unchanged.push(s);
            }
        }
        let mut left: std::collections::VecDeque<Endpoint> = wanted.into_iter().flatten().collect();
        // 2. Fill the slices being updated, fullest first.
        to_update.sort_by_key(|s| std::cmp::Reverse(s.endpoints.len()));
        for s in &mut to_update {
            while s.endpoints.len() < max
                && let Some(e) = left.pop_front()
            {
                s.endpoints.push(e);
            }
        }
        // 3. The rest: into the unchanged slice they fit best, else into new slices.
        let mut filled_unchanged: BTreeSet<String> = BTreeSet::new();
        while !left.is_empty() {
            let fit = if left.len() < max {
                // `getSliceToFill`: the slice closest to full once they are added.
                unchanged
                    .iter()
                    .filter(|s| !filled_unchanged.contains(&s.metadata.name))
                    .filter(|s| s.endpoints.len() + left.len() <= max)
                    .min_by_key(|s| max - (s.endpoints.len() + left.len()))
            } else {
                None
            };
            match fit {
                Some(s) => {
                    let mut s = (***s).clone();
                    s.endpoints.extend(left.drain(..));
                    filled_unchanged.insert(s.metadata.name.clone());
                    to_update.push(s);
                }
                None => {
                    let mut s = new_slice(svc, ports.clone(), String::new());
                    while s.endpoints.len() < max
                        && let Some(e) = left.pop_front()
                    {
                        s.endpoints.push(e);
                    }
                    create.push(s);
                }
            }
        }
        for s in to_update {
            update.insert(s.metadata.name.clone(), s);
        }
    }
    // Port maps no longer desired.
    for (ports, slices) in &by_ports {
        if !desired.contains_key(ports) {
            delete.extend(slices.iter().cloned());
        }
    }
    // A Service with no endpoints keeps an empty placeholder slice.
    if existing.len() == delete.len() && create.is_empty() {
        let is_placeholder =
            |s: &EndpointSlice| s.endpoints.is_empty() && s.ports.is_empty() && owned_by(s, svc);
        if delete.len() == 1 && is_placeholder(&delete[0]) {
            delete.clear();
        } else {
            create.push(new_slice(svc, Vec::new(), String::new()));
        }
    }
    // `finalize`: reuse slices to be deleted for slices to be created.
    delete.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut kept_deletes = Vec::new();
    for d in delete {
        match create.pop() {
            Some(mut c) if owned_by(&d, svc) => {
                c.metadata.name = d.metadata.name.clone();
                c.metadata.resource_version = d.metadata.resource_version.clone();
                update.insert(c.metadata.name.clone(), c);
            }
            other => {
                create.extend(other);
                kept_deletes.push(d.metadata.name.clone());
            }
        }
    }
    for c in &mut create {
        c.metadata.name = new_name();
    }
    Plan {
        create,
        update: update.into_values().collect(),
        delete: kept_deletes,
    }
}

/// A generated name `<service>-<5 characters>`, as `generateName` gives, drawn
/// deterministically from a counter (apimachinery's alphabet: no vowels, no 0/1/3).
pub fn generate_name(service: &str, n: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    // A bijective mix so consecutive names look unrelated.
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x0005_DEEC_E66D;
    let mut suffix = String::with_capacity(5);
    for _ in 0..5 {
        suffix.push(ALPHABET[(x % ALPHABET.len() as u64) as usize] as char);
        x /= ALPHABET.len() as u64;
    }
    format!("{service}-{suffix}")
}

#[cfg(test)]
mod tests;
