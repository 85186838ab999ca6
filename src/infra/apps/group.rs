//! One application: a StatefulSet's members running a model (`quorum`), told when member
//! processes start and stop and when the network changes, and asked what its clients see.

use super::clients::{self, ClientView};
use super::members::{MemberSlot, data_volume};
use super::primary_replica::{LostWindow, PrimaryReach, PrimaryReplica, PrimaryReplicaTimer};
use super::quorum::{Quorum, QuorumTimer, Reach};
use crate::api::{ObjectKey, Tables};
use crate::infra::kubelet::LiveChange;
use crate::infra::network::{Endpoint, Network};
use crate::rng::SimRng;
use crate::scenario::{AppModel, AppSpec};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeSet;

/// A timer an app's model asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelTimer {
    Quorum(QuorumTimer),
    PrimaryReplica(PrimaryReplicaTimer),
}

/// The model's state machine.
#[derive(Debug)]
enum Model {
    Quorum(Quorum),
    PrimaryReplica(PrimaryReplica),
    /// Every member serves requests on its own (a web server, a cache without
    /// replication): nothing to coordinate, no state machine.
    Stateless,
}

/// What the app looks like now: the levels its SLIs integrate and its timeline reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppStatus {
    /// The member that leads (quorum) — `None` while there is none.
    pub leader: Option<usize>,
    pub term: u64,
    /// Leaders elected since the start.
    pub elections: u64,
    /// Quorum: the leader can commit (reaches a majority with current data).
    pub quorum: bool,
    /// Per member: its process runs, and whether its data is current (not an empty
    /// volume waiting for, or receiving, the data set).
    pub running: Vec<bool>,
    pub current: Vec<bool>,
    /// Per client group (in `spec.clients` order): whether its writes and reads succeed.
    pub writes_ok: Vec<bool>,
    pub reads_ok: Vec<bool>,
    /// Per client group: the member that acknowledges its writes (primaryReplica; for a
    /// quorum group, the leader).
    pub write_targets: Vec<Option<usize>>,
    /// Members that accept writes now (two or more: split brain).
    pub writers: Vec<usize>,
    /// primaryReplica: promotions that moved the primary.
    pub failovers: u64,
    /// primaryReplica: acknowledged writes found lost since the last look.
    pub lost: Vec<LostWindow>,
    /// primaryReplica: per member, how far its replica trails the primary now and whether
    /// that grows (1 s per second, while it is cut off from a primary taking writes) until
    /// the next change; `None` for a primary or a member not replicating.
    pub lag: Vec<Option<Lag>>,
}

/// A replica's lag at one instant and its slope until the next change of status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lag {
    pub now: SimDuration,
    pub growing: bool,
}

/// Member-to-member reachability through the network model, for the models' `Reach`.
pub struct MemberReach<'a> {
    pub net: &'a mut Network,
    pub nodes: Vec<Option<u32>>,
    /// The API server answers (no `apiServerOutage`).
    pub api_up: bool,
}

impl Reach for MemberReach<'_> {
    fn reach(&mut self, a: usize, b: usize) -> bool {
        match (self.nodes[a], self.nodes[b]) {
            (Some(x), Some(y)) => {
                x == y || self.net.connected(Endpoint::Node(x), Endpoint::Node(y))
            }
            _ => false,
        }
    }
}

impl PrimaryReach for MemberReach<'_> {
    fn peers(&mut self, a: usize, b: usize) -> bool {
        self.reach(a, b)
    }
    /// Patroni on Kubernetes keeps its leader key in the API server.
    fn dcs(&mut self, m: usize) -> bool {
        self.api_up
            && self.nodes[m].is_some_and(|n| {
                self.net
                    .connected(Endpoint::Node(n), Endpoint::ControlPlane)
            })
    }
}

#[derive(Debug)]
pub struct AppGroup {
    pub spec: AppSpec,
    model: Model,
    members: Vec<MemberSlot>,
}

impl AppGroup {
    pub fn new(spec: AppSpec, rng: SimRng) -> Self {
        let n = spec.members as usize;
        let model = match &spec.model {
            AppModel::Quorum(c) => Model::Quorum(Quorum::new(n, c.clone(), rng)),
            AppModel::PrimaryReplica(c) => {
                Model::PrimaryReplica(PrimaryReplica::new(n, c.clone(), rng))
            }
            AppModel::Stateless => Model::Stateless,
        };
        AppGroup {
            spec,
            model,
            members: vec![MemberSlot::default(); n],
        }
    }

    /// The member index of pod `key`, if it is one of this app's members.
    pub fn member_of(&self, key: &ObjectKey) -> Option<usize> {
        if key.namespace != self.spec.namespace {
            return None;
        }
        let ordinal: i32 = key
            .name
            .strip_prefix(self.spec.stateful_set.as_str())?
            .strip_prefix('-')?
            .parse()
            .ok()?;
        let m = ordinal.checked_sub(self.spec.start_ordinal)?;
        (0..self.members.len() as i32)
            .contains(&m)
            .then_some(m as usize)
    }

    /// Pod `name`'s member name (`etcd-2`).
    pub fn member_name(&self, m: usize) -> String {
        format!(
            "{}-{}",
            self.spec.stateful_set,
            self.spec.start_ordinal + m as i32
        )
    }

    fn reach<'a>(&self, net: &'a mut Network, api_up: bool) -> MemberReach<'a> {
        MemberReach {
            net,
            nodes: self.members.iter().map(MemberSlot::node).collect(),
            api_up,
        }
    }

    /// A process of member `m` started or stopped on node number `node` (`change`); a stop
    /// is `graceful` when the process was told to stop (SIGTERM).
    #[allow(clippy::too_many_arguments)]
    pub fn live_change(
        &mut self,
        now: SimTime,
        m: usize,
        change: &LiveChange,
        graceful: bool,
        node: u32,
        objects: &Tables,
        net: &mut Network,
        api_up: bool,
    ) -> Vec<(SimTime, ModelTimer)> {
        let uid = change.uid.as_str();
        if change.live {
            let volume = data_volume(objects, &change.pod, uid);
            let Some(empty) = self.members[m].started(uid, node, volume) else {
                return Vec::new();
            };
            let mut reach = self.reach(net, api_up);
            match &mut self.model {
                Model::Quorum(q) => wrap(q.start(now, m, empty, &mut reach)),
                Model::Stateless => Vec::new(),
                Model::PrimaryReplica(p) => wrap_pr(p.start(now, m, empty, &mut reach)),
            }
        } else {
            if !self.members[m].stopped(uid) {
                return Vec::new();
            }
            let mut reach = self.reach(net, api_up);
            match &mut self.model {
                Model::Quorum(q) => wrap(q.stop(now, m, graceful, &mut reach)),
                Model::Stateless => Vec::new(),
                // Patroni's shutdown on SIGTERM releases the key; a crash leaves it to expire.
                Model::PrimaryReplica(p) if graceful => wrap_pr(p.shutdown(now, m, &mut reach)),
                Model::PrimaryReplica(p) => wrap_pr(p.stop(now, m, &mut reach)),
            }
        }
    }

    pub fn disks_lost(&mut self, lost: &BTreeSet<String>) {
        for slot in &mut self.members {
            slot.disks_lost(lost);
        }
    }

    pub fn network_changed(
        &mut self,
        now: SimTime,
        net: &mut Network,
        api_up: bool,
    ) -> Vec<(SimTime, ModelTimer)> {
        let mut reach = self.reach(net, api_up);
        match &mut self.model {
            Model::Quorum(q) => wrap(q.network_changed(now, &mut reach)),
            Model::Stateless => Vec::new(),
            Model::PrimaryReplica(p) => wrap_pr(p.network_changed(now, &mut reach)),
        }
    }

    pub fn on_timer(
        &mut self,
        now: SimTime,
        timer: ModelTimer,
        net: &mut Network,
        api_up: bool,
    ) -> Vec<(SimTime, ModelTimer)> {
        let mut reach = self.reach(net, api_up);
        match (&mut self.model, timer) {
            (Model::Quorum(q), ModelTimer::Quorum(t)) => wrap(q.on_timer(now, t, &mut reach)),
            (Model::PrimaryReplica(p), ModelTimer::PrimaryReplica(t)) => {
                wrap_pr(p.on_timer(now, t, &mut reach))
            }
            _ => Vec::new(),
        }
    }

    /// The app as its clients see it now; `ready` are the members with a ready endpoint
    /// in the governing Service (the ones DNS answers for).
    pub fn status(
        &mut self,
        now: SimTime,
        ready: &BTreeSet<usize>,
        net: &mut Network,
        api_up: bool,
    ) -> AppStatus {
        let n = self.members.len();
        let view = ClientView {
            up: self.members.iter().map(MemberSlot::is_up).collect(),
            nodes: self.members.iter().map(MemberSlot::node).collect(),
            ready,
        };
        let mut reach = MemberReach {
            net,
            nodes: view.nodes.clone(),
            api_up,
        };
        match &mut self.model {
            Model::Stateless => {
                let net = reach.net;
                let ok = clients::stateless_outcomes(&self.spec, &view, net);
                AppStatus {
                    running: view.up.clone(),
                    current: vec![true; n],
                    leader: None,
                    term: 0,
                    elections: 0,
                    quorum: view.up.contains(&true),
                    write_targets: vec![None; ok.len()],
                    writes_ok: ok.clone(),
                    reads_ok: ok,
                    writers: Vec::new(),
                    failovers: 0,
                    lost: Vec::new(),
                    lag: Vec::new(),
                }
            }
            Model::Quorum(q) => {
                let quorum = q.can_commit(&mut reach);
                let net = reach.net;
                let (writes_ok, reads_ok) =
                    clients::quorum_outcomes(&self.spec, q, quorum, &view, net);
                let leader = q.leader();
                AppStatus {
                    running: view.up.clone(),
                    current: (0..n)
                        .map(|m| q.data(m) == super::quorum::Data::Current)
                        .collect(),
                    leader,
                    term: q.term(),
                    elections: q.elections(),
                    quorum,
                    write_targets: writes_ok.iter().map(|ok| leader.filter(|_| *ok)).collect(),
                    writes_ok,
                    reads_ok,
                    writers: leader.filter(|_| quorum).into_iter().collect(),
                    failovers: 0,
                    lost: Vec::new(),
                    lag: Vec::new(),
                }
            }
            Model::PrimaryReplica(p) => {
                let net = reach.net;
                let (write_targets, reads_ok) =
                    clients::primary_outcomes(&self.spec, p, &view, net);
                let writers: Vec<usize> = (0..n).filter(|&m| p.accepts_writes(m)).collect();
                AppStatus {
                    running: view.up.clone(),
                    current: (0..n)
                        .map(|m| {
                            !matches!(p.role(m), super::primary_replica::Role::Rebuilding { .. })
                        })
                        .collect(),
                    leader: p.primary(),
                    term: u64::from(p.timeline()),
                    elections: p.failovers(),
                    quorum: !writers.is_empty(),
                    writes_ok: write_targets.iter().map(Option::is_some).collect(),
                    write_targets,
                    reads_ok,
                    writers,
                    failovers: p.failovers(),
                    lost: p.take_lost_windows(),
                    // The lag is linear in time between events (`replication_lag`): its
                    // slope is what one more nanosecond adds.
                    lag: (0..n)
                        .map(|m| {
                            let lag = p.replication_lag(now, m)?;
                            let next = p.replication_lag(now + SimDuration::from_nanos(1), m);
                            Some(Lag {
                                now: lag,
                                growing: next.is_some_and(|l| l > lag),
                            })
                        })
                        .collect(),
                }
            }
        }
    }
}

fn wrap_pr(timers: Vec<(SimTime, PrimaryReplicaTimer)>) -> Vec<(SimTime, ModelTimer)> {
    timers
        .into_iter()
        .map(|(at, t)| (at, ModelTimer::PrimaryReplica(t)))
        .collect()
}

fn wrap(timers: Vec<(SimTime, QuorumTimer)>) -> Vec<(SimTime, ModelTimer)> {
    timers
        .into_iter()
        .map(|(at, t)| (at, ModelTimer::Quorum(t)))
        .collect()
}
