//! Node lifecycle controller tests on the simulated clock: a real API server, the node
//! lifecycle and taint eviction controllers behind an informer with no watch delay, and
//! hand-driven kubelets (a Lease renewed every 10 s at a 3 s phase, node status written
//! by the test). The controller's loops start with the first write at t = 0, so monitor
//! passes run at 0, 5, 10, … s and tainting ticks every 100 ms from 0.
//!
//! The common timeline, hand-computed: a kubelet's last renewal is at 33 s; the pass at
//! 35 s sees it (probeTimestamp = 35 s); with the 1.32+ grace period of 50 s the pass at
//! 85 s finds the grace period over (see `health::grace_expired`): Ready → Unknown, pods
//! not Ready, NoSchedule taint. That pass still observed Ready True, so the node is
//! queued for its NoExecute taint by the next pass, at 90 s, and tainted at that tick if
//! the zone's bucket has a token.

use super::{NodeLifecycleConfig, NodeLifecycleController, default_node_monitor_grace_period};
use crate::api::coordination::{Lease, LeaseSpec, MicroTime, NAMESPACE_NODE_LEASE};
use crate::api::node::NodeCondition;
use crate::api::pod::{Container, PodCondition};
use crate::api::{Node, ObjectKey, ObjectMeta, Pod, Timestamp};
use crate::control::Controller;
use crate::control::taint_eviction::TaintEvictionController;
use crate::control::testkit::ControlHarness;
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeSet;
use std::rc::Rc;

pub(crate) fn at(secs: f64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis((secs * 1000.0).round() as u64)
}

/// The four conditions a healthy kubelet posts, heartbeat and transition at `now`.
pub(crate) fn healthy_conditions(now: SimTime) -> Vec<NodeCondition> {
    let ts = Some(Timestamp::at(now));
    [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID"),
        ("Ready", "True", "KubeletReady"),
    ]
    .into_iter()
    .map(|(t, s, r)| NodeCondition {
        type_: t.into(),
        status: s.into(),
        reason: r.into(),
        last_heartbeat_time: ts,
        last_transition_time: ts,
        ..Default::default()
    })
    .collect()
}

pub(crate) struct World {
    pub h: ControlHarness,
    /// Nodes whose kubelet renews its Lease.
    pub alive: BTreeSet<String>,
}

impl World {
    pub fn with(controllers: Vec<Box<dyn Controller>>) -> Self {
        let mut h = ControlHarness::new(controllers);
        h.now = SimTime::ZERO;
        World {
            h,
            alive: BTreeSet::new(),
        }
    }

    /// The node lifecycle controller of 1.`minor` with the taint eviction controller.
    pub fn new(minor: u32) -> Self {
        Self::with_config(NodeLifecycleConfig::for_version(minor))
    }

    pub fn with_config(config: NodeLifecycleConfig) -> Self {
        World::with(vec![
            Box::new(NodeLifecycleController::new(config)),
            Box::new(TaintEvictionController::default()),
        ])
    }

    /// Registers a node in `zone` as its kubelet does: healthy status and a Lease.
    pub fn add_node(&mut self, name: &str, zone: &str) {
        let now = self.h.now;
        let mut node = Node::default();
        node.metadata.name = name.into();
        node.metadata
            .labels
            .insert("topology.kubernetes.io/zone".into(), zone.into());
        node.status.conditions = healthy_conditions(now);
        self.h.client().create(node).expect("node");
        // A node registered again keeps its Lease (renewed, not created).
        if self.h.client().create(lease(name, now)).is_err() {
            self.renew(name);
        }
        self.alive.insert(name.into());
    }

    /// A Running, Ready pod bound to `node` (created through admission, so with the
    /// default tolerations unless it brings its own).
    pub fn add_pod(
        &mut self,
        name: &str,
        node: &str,
        tolerations: Option<Vec<crate::api::scheduling::Toleration>>,
    ) {
        let mut pod = Pod {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        };
        pod.spec.containers = vec![Container {
            name: "c".into(),
            image: "busybox".into(),
            ..Default::default()
        }];
        if let Some(t) = tolerations {
            pod.spec.tolerations = t;
        }
        let created = self.h.client().create(pod).expect("pod");
        let mut bound = (*created).clone();
        bound.spec.node_name = node.into();
        let bound = self.h.client().update(bound).expect("bind");
        let mut running = (*bound).clone();
        running.status.phase = "Running".into();
        let ts = Some(Timestamp::at(self.h.now));
        running.status.conditions = vec![PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            last_transition_time: ts,
            ..Default::default()
        }];
        self.h.client().update_status(&running).expect("status");
    }

    /// The node's kubelet stops (no more renewals, no status).
    pub fn kill(&mut self, name: &str) {
        self.alive.remove(name);
    }

    /// The node's kubelet is back: it renews its Lease and posts Ready now.
    pub fn revive(&mut self, name: &str) {
        self.alive.insert(name.into());
        let now = self.h.now;
        self.renew(name);
        let node = self.node(name);
        let mut next = (*node).clone();
        next.status.conditions = healthy_conditions(now);
        self.h.client().update_status(&next).expect("status");
    }

    fn renew(&mut self, name: &str) {
        let key = ObjectKey::new(NAMESPACE_NODE_LEASE, name);
        let live = self.h.api.get::<Lease>(&key).cloned().expect("lease");
        let mut next = (*live).clone();
        next.spec.renew_time = Some(MicroTime::at(self.h.now));
        self.h.client().update(next).expect("renew");
    }

    /// Runs to `t`, renewing the live kubelets' Leases at 3, 13, 23, … s.
    pub fn advance(&mut self, t: SimTime) {
        let period = SimDuration::from_secs(10).as_nanos();
        let phase = SimDuration::from_secs(3).as_nanos();
        loop {
            let now = self.h.now.as_nanos();
            let next = if now < phase {
                phase
            } else {
                phase + ((now - phase) / period + 1) * period
            };
            let next = SimTime(next);
            if next > t {
                self.h.run_until(t);
                return;
            }
            self.h.run_until(next);
            for n in self.alive.clone() {
                self.renew(&n);
            }
        }
    }

    pub fn node(&self, name: &str) -> Rc<Node> {
        self.h
            .api
            .get::<Node>(&ObjectKey::cluster(name))
            .cloned()
            .expect("node")
    }

    pub fn pod(&self, name: &str) -> Option<Rc<Pod>> {
        self.h
            .api
            .get::<Pod>(&ObjectKey::new("default", name))
            .cloned()
    }

    pub fn ready_status(&self, name: &str) -> String {
        let node = self.node(name);
        node.status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .map_or("none".into(), |c| c.status.to_string())
    }

    /// The node's taint of this key and effect, if any.
    pub fn taint(
        &self,
        node: &str,
        key: &str,
        effect: &str,
    ) -> Option<crate::api::scheduling::Taint> {
        self.node(node)
            .spec
            .taints
            .iter()
            .find(|t| t.key == key && t.effect == effect)
            .cloned()
    }

    pub fn unreachable_no_execute(&self, node: &str) -> bool {
        self.taint(node, "node.kubernetes.io/unreachable", "NoExecute")
            .is_some()
    }

    /// Nodes among `names` with the NoExecute unreachable taint.
    pub fn tainted(&self, names: &[String]) -> usize {
        names
            .iter()
            .filter(|n| self.unreachable_no_execute(n))
            .count()
    }

    /// Events recorded so far with this reason, as "object: message".
    pub fn events(&self, reason: &str) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..self.h.api.journal_end() {
            if let Some(crate::apiserver::JournalEntry::Event { event, .. }) =
                self.h.api.journal_entry(i)
                && event.reason == reason
            {
                out.push(format!("{}: {}", event.involved_object.name, event.message));
            }
        }
        out
    }

    pub fn notes(&self) -> Vec<(SimTime, String)> {
        self.h
            .notes
            .iter()
            .map(|n| (n.at, n.message.clone()))
            .collect()
    }
}

fn lease(name: &str, now: SimTime) -> Lease {
    Lease {
        metadata: ObjectMeta::named(NAMESPACE_NODE_LEASE, name),
        spec: LeaseSpec {
            holder_identity: Some(name.into()),
            lease_duration_seconds: Some(40),
            renew_time: Some(MicroTime::at(now)),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:02}")).collect()
}

#[test]
fn grace_period_defaults_by_version() {
    assert_eq!(
        default_node_monitor_grace_period(31),
        SimDuration::from_secs(40)
    );
    assert_eq!(
        default_node_monitor_grace_period(32),
        SimDuration::from_secs(50)
    );
    assert_eq!(
        default_node_monitor_grace_period(36),
        SimDuration::from_secs(50)
    );
    let c = NodeLifecycleConfig::for_version(36);
    assert_eq!(c.node_monitor_period, SimDuration::from_secs(5));
    assert_eq!(c.node_startup_grace_period, SimDuration::from_secs(60));
    assert_eq!(
        (c.eviction_limiter_qps, c.secondary_eviction_limiter_qps),
        (0.1, 0.01)
    );
    assert_eq!(c.large_cluster_size_threshold, 50);
    assert_eq!(c.unhealthy_zone_threshold, 0.55);
}

/// Last renewal 33 s, seen by the 35 s pass: Unknown at the pass 35 s + grace — 85 s
/// with 1.36's 50 s, 75 s with 1.31's 40 s.
#[test]
fn ready_goes_unknown_after_the_grace_period_of_the_version() {
    for (minor, unknown_at) in [(36, 85.0), (31, 75.0)] {
        let mut w = World::new(minor);
        w.add_node("n1", "a");
        w.add_node("n2", "a");
        w.advance(at(33.0));
        w.kill("n1");
        w.advance(at(unknown_at - 5.0));
        assert_eq!(
            w.ready_status("n1"),
            "True",
            "1.{minor} at {}",
            unknown_at - 5.0
        );
        w.advance(at(unknown_at - 0.001));
        assert_eq!(w.ready_status("n1"), "True");
        w.advance(at(unknown_at));
        assert_eq!(w.ready_status("n1"), "Unknown", "1.{minor}");
        assert_eq!(w.ready_status("n2"), "True");
        let node = w.node("n1");
        for c in &node.status.conditions {
            assert_eq!(c.status, "Unknown", "{}", c.type_);
            assert_eq!(c.reason, "NodeStatusUnknown");
            assert_eq!(c.message, "Kubelet stopped posting node status.");
            assert_eq!(c.last_transition_time, Some(Timestamp::at(at(unknown_at))));
        }
        assert_eq!(
            w.events("NodeNotReady"),
            vec!["n1: Node n1 status is now: NodeNotReady".to_string()]
        );
    }
}

/// Once a walk has found the node lister, the entries and the Lease lister aligned, the
/// passes pair them by position. A node added later (with its Lease) sorts first and
/// shifts every position, so it must end the pairing: each node still goes Unknown at its
/// own grace period, from its own Lease (as in the test above: killed at 33 s, Unknown at
/// the 85 s pass), and the newcomer is monitored too.
#[test]
fn a_node_added_after_the_listings_were_paired_keeps_every_node_on_its_own_lease() {
    let mut w = World::new(36);
    for n in ["n1", "n2", "n3"] {
        w.add_node(n, "a");
    }
    w.advance(at(30.0));
    w.add_node("n0", "a");
    w.advance(at(33.0));
    w.kill("n2");
    // n0 renews once more at 43 s (seen by the 45 s pass): Unknown at 95 s.
    w.advance(at(50.0));
    w.kill("n0");
    w.advance(at(85.0 - 0.001));
    for n in ["n0", "n1", "n2", "n3"] {
        assert_eq!(w.ready_status(n), "True", "{n} before 85 s");
    }
    w.advance(at(85.0));
    assert_eq!(w.ready_status("n2"), "Unknown");
    for n in ["n0", "n1", "n3"] {
        assert_eq!(w.ready_status(n), "True", "{n} at 85 s");
    }
    w.advance(at(95.0 - 0.001));
    assert_eq!(w.ready_status("n0"), "True");
    w.advance(at(95.0));
    assert_eq!(w.ready_status("n0"), "Unknown");
    assert_eq!(w.ready_status("n1"), "True");
    assert_eq!(w.ready_status("n3"), "True");
}

/// A node that never posted a Ready condition gets the 60 s startup grace from its
/// creation (0 s): Unknown at the 60 s pass, with `NodeStatusNeverUpdated` conditions. A
/// Lease renewal alone keeps such a node healthy.
#[test]
fn startup_grace_for_a_node_that_never_posted_status() {
    let mut w = World::new(36);
    w.add_node("alive", "a");
    for name in ["silent", "leased"] {
        let mut node = Node::default();
        node.metadata.name = name.into();
        node.metadata
            .labels
            .insert("topology.kubernetes.io/zone".into(), "a".into());
        w.h.client().create(node).unwrap();
    }
    let l = lease("leased", SimTime::ZERO);
    w.h.client().create(l).unwrap();
    w.alive.insert("leased".into());
    w.advance(at(59.9));
    assert_eq!(w.ready_status("silent"), "none");
    w.advance(at(60.0));
    let node = w.node("silent");
    assert_eq!(node.status.conditions.len(), 4);
    for c in &node.status.conditions {
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("Unknown", "NodeStatusNeverUpdated")
        );
        assert_eq!(c.message, "Kubelet never posted node status.");
        assert_eq!(c.last_transition_time, Some(Timestamp::at(at(60.0))));
        assert_eq!(c.last_heartbeat_time, Some(Timestamp::at(SimTime::ZERO)));
    }
    w.advance(at(300.0));
    assert_eq!(
        w.ready_status("leased"),
        "none",
        "renewing its Lease keeps it healthy"
    );
    // The 60 s startup grace, not the monitor grace period, applies without a Ready
    // condition: with a 10 s grace period configured the silent node still waits 60 s.
    let mut cfg = NodeLifecycleConfig::for_version(36);
    cfg.node_monitor_grace_period = SimDuration::from_secs(10);
    let mut w = World::with_config(cfg);
    w.add_node("alive", "a");
    let mut node = Node::default();
    node.metadata.name = "silent".into();
    w.h.client().create(node).unwrap();
    w.advance(at(59.9));
    assert_eq!(w.ready_status("silent"), "none");
    w.advance(at(60.0));
    assert_eq!(w.ready_status("silent"), "Unknown");
}

/// The pass that writes Unknown (85 s) marks the pods not Ready and the NoSchedule taint
/// follows the condition at once; the NoExecute taint comes from the next pass (90 s);
/// the taint eviction controller deletes the pod 300 s later (390 s, its default
/// toleration), and the pod then stays Terminating: no kubelet finishes it.
#[test]
fn unknown_node_pods_not_ready_taints_and_eviction_timeline() {
    let mut w = World::new(36);
    w.add_node("n1", "a");
    w.add_node("n2", "a");
    w.add_pod("p1", "n1", None);
    w.advance(at(33.0));
    w.kill("n1");
    w.advance(at(85.0));
    let pod = w.pod("p1").unwrap();
    let ready = pod.condition("Ready").unwrap();
    assert_eq!(ready.status, "False");
    assert_eq!(ready.last_transition_time, Some(Timestamp::at(at(85.0))));
    assert_eq!(w.events("NodeNotReady").len(), 2);
    assert!(
        w.events("NodeNotReady")
            .contains(&"p1: Node is not ready".to_string())
    );
    let ns = w
        .taint("n1", "node.kubernetes.io/unreachable", "NoSchedule")
        .unwrap();
    assert_eq!(ns.time_added, Some(Timestamp::at(at(85.0))));
    assert!(
        !w.unreachable_no_execute("n1"),
        "queued only by the next pass"
    );
    w.advance(at(89.9));
    assert!(!w.unreachable_no_execute("n1"));
    w.advance(at(90.0));
    let ne = w
        .taint("n1", "node.kubernetes.io/unreachable", "NoExecute")
        .unwrap();
    assert_eq!(ne.time_added, Some(Timestamp::at(at(90.0))));
    w.advance(at(389.9));
    assert!(!w.pod("p1").unwrap().is_terminating());
    w.advance(at(390.0));
    let pod = w.pod("p1").unwrap();
    assert!(pod.is_terminating());
    assert_eq!(
        pod.metadata.deletion_timestamp,
        Some(Timestamp::at(at(420.0)))
    );
    let dt = pod.condition("DisruptionTarget").unwrap();
    assert_eq!(
        (dt.status.as_str(), dt.reason.as_str()),
        ("True", "DeletionByTaintManager")
    );
    assert_eq!(dt.message, "Taint manager: deleting due to NoExecute taint");
    assert_eq!(
        w.events("TaintManagerEviction"),
        vec!["p1: Marking for deletion Pod default/p1".to_string()]
    );
    w.advance(at(2000.0));
    assert!(w.pod("p1").unwrap().is_terminating(), "stays Terminating");
    assert_eq!(w.events("NodeNotReady").len(), 2, "reported once");
}

/// The kubelet comes back at 199 s (Lease and Ready status): the NoSchedule taint follows
/// the condition at once, the next pass (200 s) sees Ready and takes the NoExecute taint
/// off; the pending deletion (due at 390 s) is cancelled with an Event.
#[test]
fn recovery_removes_taints_and_cancels_the_eviction() {
    let mut w = World::new(36);
    w.add_node("n1", "a");
    w.add_node("n2", "a");
    w.add_pod("p1", "n1", None);
    w.advance(at(33.0));
    w.kill("n1");
    w.advance(at(199.0));
    assert!(w.unreachable_no_execute("n1"));
    w.revive("n1");
    w.advance(at(199.5));
    assert!(
        w.taint("n1", "node.kubernetes.io/unreachable", "NoSchedule")
            .is_none()
    );
    assert!(
        w.unreachable_no_execute("n1"),
        "NoExecute waits for the monitor pass"
    );
    w.advance(at(200.0));
    assert!(!w.unreachable_no_execute("n1"));
    assert_eq!(
        w.events("TaintManagerEviction"),
        vec!["p1: Cancelling deletion of Pod default/p1".to_string()]
    );
    w.advance(at(600.0));
    assert!(!w.pod("p1").unwrap().is_terminating());
    assert_eq!(w.ready_status("n1"), "True");
}

/// Three of ten nodes of a zone die together (0.3 < 0.55: the zone stays Normal). They
/// are queued at 90 s and tainted one per token: 90, 100, 110 s.
#[test]
fn normal_zone_taints_one_node_per_10_s() {
    let mut w = World::new(36);
    let all = names("n", 10);
    for n in &all {
        w.add_node(n, "a");
    }
    w.advance(at(33.0));
    let dead: Vec<String> = all[..3].to_vec();
    for n in &dead {
        w.kill(n);
    }
    w.advance(at(85.0));
    assert_eq!(
        dead.iter()
            .filter(|n| w.ready_status(n) == "Unknown")
            .count(),
        3
    );
    for (t, count) in [
        (89.9, 0),
        (90.0, 1),
        (99.9, 1),
        (100.0, 2),
        (109.9, 2),
        (110.0, 3),
    ] {
        w.advance(at(t));
        assert_eq!(w.tainted(&dead), count, "at {t}");
    }
    assert!(
        !w.notes().iter().any(|(_, m)| m.contains("is now in state")),
        "the zone stays Normal: {:?}",
        w.notes()
    );
}

/// 40 of 60 nodes of a zone die (0.67 ≥ 0.55, more than 2): PartialDisruption at 85 s.
/// The zone has more than 50 nodes, so it taints at the secondary rate: the first at
/// 90 s, then one per 100 s of float32 0.01 — the 100 ms tick after 100 s, so 190.1 s.
#[test]
fn large_zone_in_partial_disruption_taints_at_the_secondary_rate() {
    let mut w = World::new(36);
    let all = names("n", 60);
    for n in &all {
        w.add_node(n, "a");
    }
    w.advance(at(33.0));
    let dead: Vec<String> = all[..40].to_vec();
    for n in &dead {
        w.kill(n);
    }
    w.advance(at(85.0));
    assert!(w.notes().contains(&(
        at(85.0),
        "Controller detected that zone a is now in state PartialDisruption".to_string()
    )));
    for (t, count) in [(90.0, 1), (190.0, 1), (190.1, 2), (290.1, 2), (290.2, 3)] {
        w.advance(at(t));
        assert_eq!(w.tainted(&dead), count, "at {t}");
    }
}

/// 6 of 10 nodes die: PartialDisruption in a zone of at most 50 nodes stops tainting
/// (rate 0). The NoSchedule taints still come; the NoExecute ones never.
#[test]
fn small_zone_in_partial_disruption_stops_tainting() {
    let mut w = World::new(36);
    let all = names("n", 10);
    for n in &all {
        w.add_node(n, "a");
    }
    w.advance(at(33.0));
    let dead: Vec<String> = all[..6].to_vec();
    for n in &dead {
        w.kill(n);
    }
    w.advance(at(1000.0));
    assert_eq!(w.tainted(&dead), 0);
    for n in &dead {
        assert!(
            w.taint(n, "node.kubernetes.io/unreachable", "NoSchedule")
                .is_some()
        );
    }
    // Two of them come back at 1000 s: the 1005 s pass finds 4 of 10 not Ready, Normal
    // again. The never-accepting limiter had no token to give, so the new bucket starts
    // drained: the first taint waits 10 s, to 1015 s.
    w.revive(&dead[0]);
    w.revive(&dead[1]);
    w.advance(at(1005.0));
    assert!(w.notes().contains(&(
        at(1005.0),
        "Controller detected that zone a is now in state Normal".to_string()
    )));
    assert_eq!(w.tainted(&dead), 0);
    w.advance(at(1015.0));
    assert_eq!(w.tainted(&dead), 1);
    w.advance(at(1025.0));
    assert_eq!(w.tainted(&dead), 2);
}

/// Three zones of two nodes; zone a goes dark. Zone a is FullDisruption and keeps the
/// normal rate (the other zones are fine, so the zone is taken to be really gone): its
/// nodes are tainted at 90 and 100 s. Zones b and c stay Normal; no master disruption.
#[test]
fn one_zone_fully_down_is_tainted_at_the_normal_rate() {
    let mut w = World::new(36);
    for z in ["a", "b", "c"] {
        w.add_node(&format!("{z}1"), z);
        w.add_node(&format!("{z}2"), z);
    }
    w.advance(at(33.0));
    w.kill("a1");
    w.kill("a2");
    w.advance(at(85.0));
    assert!(w.notes().contains(&(
        at(85.0),
        "Controller detected that zone a is now in state FullDisruption".to_string()
    )));
    let a = vec!["a1".to_string(), "a2".to_string()];
    w.advance(at(90.0));
    assert_eq!(w.tainted(&a), 1);
    w.advance(at(100.0));
    assert_eq!(w.tainted(&a), 2);
    let notes = w.notes();
    assert!(
        !notes
            .iter()
            .any(|(_, m)| m.contains("zone b") || m.contains("zone c"))
    );
    assert!(!notes.iter().any(|(_, m)| m.contains("master disruption")));
}

/// Zone a goes dark first (tainted at 90 and 100 s); zone b's nodes die at 133 s, so at
/// 185 s every zone is fully disrupted: master disruption mode — the NoExecute taints come
/// off, tainting stops. When b's kubelets come back (300 s), the controller leaves the
/// mode and gives every node a fresh grace period; a's nodes are tainted again from the
/// pass after (one tick each 10 s).
#[test]
fn all_zones_down_enters_master_disruption_mode() {
    let mut w = World::new(36);
    for z in ["a", "b"] {
        w.add_node(&format!("{z}1"), z);
        w.add_node(&format!("{z}2"), z);
    }
    w.add_pod("pa", "a1", None);
    w.advance(at(33.0));
    w.kill("a1");
    w.kill("a2");
    let a = vec!["a1".to_string(), "a2".to_string()];
    let b = vec!["b1".to_string(), "b2".to_string()];
    w.advance(at(105.0));
    assert_eq!(w.tainted(&a), 2);
    w.advance(at(133.0));
    w.kill("b1");
    w.kill("b2");
    w.advance(at(184.0));
    assert_eq!(w.tainted(&a), 2);
    w.advance(at(185.0));
    assert!(
        w.notes().contains(&(
            at(185.0),
            "Controller detected that all Nodes are not-Ready. Entering master disruption mode."
                .to_string()
        ))
    );
    assert_eq!(w.tainted(&a), 0, "NoExecute taints removed");
    assert!(
        w.events("TaintManagerEviction")
            .contains(&"pa: Cancelling deletion of Pod default/pa".to_string())
    );
    w.advance(at(299.0));
    assert_eq!(
        w.tainted(&a) + w.tainted(&b),
        0,
        "no tainting in master disruption"
    );
    w.revive("b1");
    w.revive("b2");
    w.advance(at(300.0));
    assert!(
        w.notes().contains(&(
            at(300.0),
            "Controller detected that some Nodes are Ready. Exiting master disruption mode."
                .to_string()
        ))
    );
    // Zone a's nodes are still Unknown and queued again by this pass; the limiter was
    // swapped from "never" (no token), so its new bucket starts drained: 310 and 320 s.
    w.advance(at(309.9));
    assert_eq!(w.tainted(&a), 0);
    w.advance(at(310.0));
    assert_eq!(w.tainted(&a), 1);
    w.advance(at(320.0));
    assert_eq!(w.tainted(&a), 2);
    assert_eq!(w.tainted(&b), 0);
}

/// Nodes labelled `node.kubernetes.io/exclude-disruption` do not count in their zone:
/// a zone whose only counted node is alive stays Normal when the excluded one dies.
#[test]
fn excluded_nodes_do_not_count_in_zone_states() {
    let mut w = World::new(36);
    w.add_node("a1", "a");
    w.add_node("b1", "b");
    let mut n = (*w.node("b1")).clone();
    n.metadata.labels.insert(
        super::zones::LABEL_NODE_DISRUPTION_EXCLUSION.into(),
        String::new(),
    );
    w.h.client().update(n).unwrap();
    w.advance(at(33.0));
    w.kill("b1");
    w.advance(at(200.0));
    assert_eq!(w.ready_status("b1"), "Unknown");
    // Zone b has no counted node, so it has no state and is not FullDisruption; zone a
    // is Normal: no master disruption, and b1 is tainted.
    assert!(
        !w.notes()
            .iter()
            .any(|(_, m)| m.contains("master disruption"))
    );
    assert!(w.unreachable_no_execute("b1"));
}

/// A node whose Ready is False (not Unknown) gets the `not-ready` taints instead, and a
/// later Unknown swaps NoExecute `not-ready` for `unreachable` at once.
#[test]
fn not_ready_node_gets_not_ready_taints_and_swaps_on_unknown() {
    let mut w = World::new(36);
    w.add_node("n1", "a");
    w.add_node("n2", "a");
    w.advance(at(13.0));
    // The kubelet reports NotReady at 14 s (and keeps renewing its Lease).
    w.advance(at(14.0));
    let mut n = (*w.node("n1")).clone();
    for c in &mut n.status.conditions {
        if c.type_ == "Ready" {
            c.status = "False".into();
            c.reason = "KubeletNotReady".into();
            c.last_heartbeat_time = Some(Timestamp::at(at(14.0)));
            c.last_transition_time = Some(Timestamp::at(at(14.0)));
        }
    }
    w.h.client().update_status(&n).unwrap();
    w.advance(at(14.5));
    assert!(
        w.taint("n1", "node.kubernetes.io/not-ready", "NoSchedule")
            .is_some()
    );
    w.advance(at(15.0));
    assert!(
        w.taint("n1", "node.kubernetes.io/not-ready", "NoExecute")
            .is_some()
    );
    // Now the kubelet dies: last renewal 33 s → Unknown at 85 s, and the 90 s pass swaps
    // the NoExecute taint without going through the queue.
    w.advance(at(33.0));
    w.kill("n1");
    w.advance(at(85.0));
    assert_eq!(w.ready_status("n1"), "Unknown");
    assert!(
        w.taint("n1", "node.kubernetes.io/not-ready", "NoExecute")
            .is_some()
    );
    w.advance(at(90.0));
    assert!(w.unreachable_no_execute("n1"));
    assert!(
        w.taint("n1", "node.kubernetes.io/not-ready", "NoExecute")
            .is_none()
    );
    assert!(
        w.taint("n1", "node.kubernetes.io/not-ready", "NoSchedule")
            .is_none()
    );
    assert!(
        w.taint("n1", "node.kubernetes.io/unreachable", "NoSchedule")
            .is_some()
    );
}

/// Registration and removal Events, and the cordon taint of the NoSchedule pass.
#[test]
fn node_events_and_unschedulable_taint() {
    let mut w = World::new(36);
    w.add_node("n1", "a");
    w.add_node("n2", "a");
    w.advance(at(1.0));
    assert_eq!(
        w.events("RegisteredNode"),
        vec![
            "n1: Node n1 event: Registered Node n1 in Controller".to_string(),
            "n2: Node n2 event: Registered Node n2 in Controller".to_string(),
        ]
    );
    let mut n = (*w.node("n2")).clone();
    n.spec.unschedulable = true;
    w.h.client().update(n).unwrap();
    w.advance(at(2.0));
    assert!(
        w.taint("n2", "node.kubernetes.io/unschedulable", "NoSchedule")
            .is_some()
    );
    let opts = crate::apiserver::DeleteOptions::default();
    w.h.client()
        .delete::<Node>(&ObjectKey::cluster("n2"), &opts)
        .unwrap();
    w.advance(at(6.0));
    assert_eq!(
        w.events("RemovingNode"),
        vec!["n2: Node n2 event: Removing Node n2 from Controller".to_string()]
    );
}

/// A pod bound to a node the controller already holds not Ready is marked not Ready by
/// the pod handler (`processPod`), without waiting for a pass.
#[test]
fn pod_bound_to_a_not_ready_node_is_marked_not_ready() {
    let mut w = World::new(36);
    w.add_node("n1", "a");
    w.add_node("n2", "a");
    w.advance(at(33.0));
    w.kill("n1");
    w.advance(at(91.0));
    assert_eq!(w.ready_status("n1"), "Unknown");
    w.add_pod("late", "n1", None);
    w.advance(at(91.5));
    assert_eq!(
        w.pod("late").unwrap().condition("Ready").unwrap().status,
        "False"
    );
}
