//! The applications inside the pods (issue 6): each `spec.apps` entry runs a model over
//! its StatefulSet's pods — a quorum group (`quorum.rs`, etcd's Raft), a primary with
//! replicas (`primary_replica.rs`, PostgreSQL with Patroni), or stateless servers (no
//! state machine: every member serves on its own). A member takes part while its container runs (the
//! kubelets report every start and stop); members and clients talk through the network
//! model; clients find members through the headless Service's ready endpoints. The
//! engine asks for the app's status after anything it depends on changed, and the SLIs
//! integrate it (`sli::apps`).
//!
//! Like the kubelets and the CSI drivers this is infrastructure: it reads what a process
//! in the pod would know (its volumes, its Service's endpoints) and never writes to the
//! API server.

mod clients;
mod group;
mod members;
pub mod primary_replica;
pub mod quorum;

pub use group::{AppGroup, AppStatus, Lag, ModelTimer};

use crate::api::{AnyObject, ObjectKey, Pod, Tables};
use crate::apiserver::{WatchEvent, dns};
use crate::infra::kubelet::LiveChange;
use crate::infra::network::Network;
use crate::rng::RngStreams;
use crate::scenario::AppSpec;
use crate::time::SimTime;
use std::collections::BTreeSet;

/// An app model's timer, for the engine's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppTimer {
    pub app: u32,
    pub timer: ModelTimer,
}

/// One app's status changed: its index, the status before (none at the first look) and now.
pub struct StatusChange {
    pub app: usize,
    pub before: Option<AppStatus>,
    pub now: AppStatus,
}

/// Every app of the run.
pub struct Apps {
    groups: Vec<AppGroup>,
    /// The network model's epoch the groups were last told about.
    epoch: u64,
    /// Something a status depends on may have changed since the last look.
    dirty: bool,
    last: Vec<Option<AppStatus>>,
    /// The API server answers (no `apiServerOutage`): Patroni's DCS.
    api_up: bool,
}

impl Apps {
    pub fn new(specs: &[AppSpec], rngs: &RngStreams, net: &Network) -> Self {
        let groups: Vec<AppGroup> = specs
            .iter()
            .map(|s| {
                let rng = rngs.stream(&format!("app/{}/{}", s.namespace, s.name));
                AppGroup::new(s.clone(), rng)
            })
            .collect();
        Apps {
            last: vec![None; groups.len()],
            groups,
            epoch: net.epoch(),
            dirty: true,
            api_up: true,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn groups(&self) -> &[AppGroup] {
        &self.groups
    }

    /// A kubelet started or stopped a pod instance's containers.
    pub fn on_live_change(
        &mut self,
        now: SimTime,
        change: &LiveChange,
        objects: &Tables,
        net: &mut Network,
    ) -> Vec<(SimTime, AppTimer)> {
        let mut out = Vec::new();
        for (i, g) in self.groups.iter_mut().enumerate() {
            let Some(m) = g.member_of(&change.pod) else {
                continue;
            };
            let Some(node) = net.node_index(&change.node) else {
                continue;
            };
            // The kubelet sends SIGTERM to the containers of a pod being deleted (an
            // eviction, a rollout, a drain); a process that stops while its pod is not
            // being deleted crashed or lost its machine.
            let graceful = !change.live
                && objects.get::<Pod>(&change.pod).is_none_or(|p| {
                    p.metadata.uid != change.uid || p.metadata.deletion_timestamp.is_some()
                });
            let timers = g.live_change(now, m, change, graceful, node, objects, net, self.api_up);
            out.extend(tag(i, timers));
            self.dirty = true;
        }
        out
    }

    /// A write the API server journaled: the clients' view follows the Services'
    /// EndpointSlices.
    pub fn on_write(&mut self, w: &WatchEvent) {
        if self.dirty {
            return;
        }
        if let AnyObject::EndpointSlice(s) = &w.obj {
            let service = s.service_name();
            self.dirty = self.groups.iter().any(|g| {
                g.spec.namespace == s.metadata.namespace && service == Some(g.spec.service.as_str())
            });
        }
    }

    /// `diskLoss`: these PersistentVolumes' disks are destroyed.
    pub fn on_disks_lost(&mut self, pvs: &BTreeSet<String>) {
        for g in &mut self.groups {
            g.disks_lost(pvs);
        }
    }

    /// Tells every app if who-reaches-whom changed since it last heard; `api_up` is
    /// whether the API server answers.
    pub fn after_network(
        &mut self,
        now: SimTime,
        net: &mut Network,
        api_up: bool,
    ) -> Vec<(SimTime, AppTimer)> {
        if net.epoch() == self.epoch && api_up == self.api_up {
            return Vec::new();
        }
        self.epoch = net.epoch();
        self.api_up = api_up;
        self.dirty = true;
        let mut out = Vec::new();
        for (i, g) in self.groups.iter_mut().enumerate() {
            out.extend(tag(i, g.network_changed(now, net, api_up)));
        }
        out
    }

    pub fn on_timer(
        &mut self,
        now: SimTime,
        t: AppTimer,
        net: &mut Network,
    ) -> Vec<(SimTime, AppTimer)> {
        self.dirty = true;
        let i = t.app as usize;
        let timers = self.groups[i].on_timer(now, t.timer, net, self.api_up);
        tag(i, timers)
    }

    /// The apps whose status changed since the last look.
    pub fn changes(
        &mut self,
        now: SimTime,
        objects: &Tables,
        net: &mut Network,
    ) -> Vec<StatusChange> {
        if !std::mem::take(&mut self.dirty) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, g) in self.groups.iter_mut().enumerate() {
            let ready = ready_members(objects, g);
            let status = g.status(now, &ready, net, self.api_up);
            if self.last[i].as_ref() != Some(&status) {
                // Lost windows are news once; the next look compares without them.
                let mut kept = status.clone();
                kept.lost.clear();
                let before = self.last[i].replace(kept);
                out.push(StatusChange {
                    app: i,
                    before,
                    now: status,
                });
            }
        }
        out
    }
}

fn tag(app: usize, timers: Vec<(SimTime, ModelTimer)>) -> Vec<(SimTime, AppTimer)> {
    timers
        .into_iter()
        .map(|(at, timer)| {
            let app = app as u32;
            (at, AppTimer { app, timer })
        })
        .collect()
}

/// Members with a ready endpoint in the app's Service: the pod names cluster DNS answers
/// for under it (`apiserver::dns`).
fn ready_members(objects: &Tables, g: &AppGroup) -> BTreeSet<usize> {
    let ns = &g.spec.namespace;
    dns::ready_hosts(objects, ns, &g.spec.service)
        .filter_map(|host| g.member_of(&ObjectKey::new(ns, &host)))
        .collect()
}
