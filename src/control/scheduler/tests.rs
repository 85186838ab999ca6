//! Scheduler scenarios end to end: objects created through an `ApiServer`, delivered to the
//! scheduler's informer, scheduled by `run` under a small stand-in for the engine that
//! fires the scheduler's timers and informer deliveries in time order.

use super::plugins::testing::{node, pod};
use super::queue::QueueName;
use super::{Scheduler, SchedulerConfig};
use crate::api::pod::condition;
use crate::api::{Node, ObjectKey, Pod};
use crate::apiserver::{ApiServer, DeleteOptions, Informer, JournalEntry, Strategy};
use crate::component::Ctx;
use crate::rng::{RngStreams, SimRng};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeSet;
use std::rc::Rc;

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn millis(ms: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(ms)
}

struct World {
    api: ApiServer,
    sched: Scheduler,
    rng: SimRng,
    now: SimTime,
    timers: BTreeSet<SimTime>,
    next_delivery: Option<SimTime>,
    kubectl: Rc<str>,
}

impl World {
    fn new(seed: u64, watch_delay: SimDuration) -> Self {
        let config = SchedulerConfig {
            pod_initial_backoff: SimDuration::from_secs(1),
            pod_max_backoff: SimDuration::from_secs(10),
            max_in_unschedulable: SimDuration::from_mins(5),
            storage_capacity_drivers: Default::default(),
        };
        World {
            api: ApiServer::new(Default::default()),
            sched: Scheduler::new(Informer::new(watch_delay), config),
            rng: RngStreams::new(seed).stream("scheduler"),
            now: SimTime::ZERO,
            timers: BTreeSet::new(),
            next_delivery: None,
            kubectl: Rc::from("kubectl"),
        }
    }

    fn create<T: Strategy>(&mut self, obj: T) -> Rc<T> {
        self.api
            .create(self.now, &self.kubectl, obj)
            .expect("create")
    }

    fn node(&self, name: &str) -> Node {
        (**self
            .api
            .get::<Node>(&ObjectKey::cluster(name))
            .expect("node"))
        .clone()
    }

    fn update_node(&mut self, name: &str, change: impl FnOnce(&mut Node)) {
        let mut n = self.node(name);
        change(&mut n);
        // Spec and status go through their own endpoints, as kubectl and the kubelet write.
        let stored = self
            .api
            .update(self.now, &self.kubectl, n.clone())
            .expect("update node");
        n.metadata.resource_version = stored.metadata.resource_version.clone();
        self.api
            .update_status(self.now, &self.kubectl, &n)
            .expect("update node status");
    }

    fn pod(&self, name: &str) -> Rc<Pod> {
        Rc::clone(
            self.api
                .get::<Pod>(&ObjectKey::new("default", name))
                .expect("pod"),
        )
    }

    fn queue_of(&self, name: &str) -> Option<QueueName> {
        self.sched
            .queue()
            .queue_of(&ObjectKey::new("default", name))
    }

    /// What the engine does at one instant: deliver due watch events, run the scheduler,
    /// and again while its own writes are due at once.
    fn settle(&mut self) {
        loop {
            let cursor = self.sched.informer.cursor();
            self.next_delivery = self.sched.deliver(&self.api, self.now);
            let applied = self.sched.informer.cursor() != cursor;
            let end = self.api.journal_end();
            let (mut timers, mut notes) = (Vec::new(), Vec::new());
            let mut ctx = Ctx::new(
                self.now,
                &mut self.api,
                &mut self.rng,
                &mut timers,
                &mut notes,
            );
            self.sched.run(&mut ctx);
            self.timers.extend(timers.into_iter().map(|(t, _)| t));
            if !applied && self.api.journal_end() == end {
                break;
            }
        }
    }

    /// Runs every timer and delivery up to `t`, then settles at `t`.
    fn advance_to(&mut self, t: SimTime) {
        self.settle();
        loop {
            let next = self
                .timers
                .iter()
                .copied()
                .chain(self.next_delivery)
                .filter(|x| *x > self.now)
                .min();
            match next {
                Some(n) if n <= t => {
                    self.now = n;
                    self.timers.retain(|x| *x > n);
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = t;
        self.settle();
    }

    /// Kubernetes Events with `reason`: (time, object name, message).
    fn events(&self, reason: &str) -> Vec<(SimTime, String, String)> {
        (0..self.api.journal_end())
            .filter_map(|i| match self.api.journal_entry(i) {
                Some(JournalEntry::Event { at, event }) if event.reason == reason => Some((
                    *at,
                    event.involved_object.name.clone(),
                    event.message.clone(),
                )),
                _ => None,
            })
            .collect()
    }
}

fn cordoned(name: &str, cpu: &str) -> Node {
    let mut n = node(name, cpu, "8Gi");
    n.spec.unschedulable = true;
    n
}

#[test]
fn binds_a_pod_and_records_the_scheduled_event_and_condition() {
    let mut w = World::new(1, SimDuration::ZERO);
    w.create(cordoned("node-a-1", "4"));
    w.create(node("node-a-2", "4", "8Gi"));
    w.create(pod("web-0", &[("cpu", "1")]));
    w.advance_to(secs(1));
    let p = w.pod("web-0");
    assert_eq!(p.spec.node_name, "node-a-2");
    let cond = p.condition(condition::POD_SCHEDULED).expect("PodScheduled");
    assert_eq!((cond.status.as_str(), cond.reason.as_str()), ("True", ""));
    assert_eq!(
        w.events("Scheduled"),
        vec![(
            secs(0),
            "web-0".to_string(),
            "Successfully assigned default/web-0 to node-a-2".to_string()
        )]
    );
    assert!(w.sched.queue().is_empty());
}

#[test]
fn unschedulable_pod_gets_the_fit_error_event_and_condition() {
    let mut w = World::new(1, SimDuration::ZERO);
    for zone in ["a", "b", "c"] {
        w.create(cordoned(&format!("node-{zone}-1"), "4"));
        w.create(node(&format!("node-{zone}-2"), "1", "8Gi"));
    }
    w.create(pod("web-0", &[("cpu", "2")]));
    w.advance_to(secs(1));
    let msg = "0/6 nodes are available: 3 Insufficient cpu, 3 node(s) were unschedulable.";
    assert_eq!(
        w.events("FailedScheduling"),
        vec![(secs(0), "web-0".to_string(), msg.to_string())]
    );
    let p = w.pod("web-0");
    assert!(p.spec.node_name.is_empty());
    let cond = p.condition(condition::POD_SCHEDULED).expect("PodScheduled");
    assert_eq!(
        (
            cond.status.as_str(),
            cond.reason.as_str(),
            cond.message.as_str()
        ),
        ("False", "Unschedulable", msg)
    );
    assert_eq!(w.queue_of("web-0"), Some(QueueName::Unschedulable));
}

#[test]
fn with_no_nodes_the_pod_is_retried_on_its_error_backoff() {
    let mut w = World::new(1, SimDuration::ZERO);
    w.create(pod("web-0", &[]));
    w.advance_to(secs(45));
    let failures = w.events("FailedScheduling");
    assert!(
        failures
            .iter()
            .all(|(_, _, m)| m == "no nodes available to schedule pods")
    );
    // Backoffs of 1, 2, 4, 8, 10, 10 s, each ending at the close of its 1 s ordering
    // window (a failure at a whole second t with backoff b is retried at t + b + 1).
    let times: Vec<SimTime> = failures.iter().map(|f| f.0).collect();
    assert_eq!(times, [0, 2, 5, 10, 19, 30, 41].map(secs).to_vec());
    // The first node to register ends it at the next retry.
    w.create(node("node-a-1", "4", "8Gi"));
    w.advance_to(secs(60));
    assert_eq!(w.events("Scheduled")[0].0, secs(52));
}

#[test]
fn backoff_timing_without_pop_from_backoff_q() {
    // With the gate off the backoffQ is not popped early: a pod moved by an event while
    // still backing off waits for the flush tick after its backoff.
    let mut w = World::new(1, SimDuration::ZERO);
    w.sched = Scheduler::new(
        Informer::new(SimDuration::ZERO),
        SchedulerConfig {
            pod_initial_backoff: SimDuration::from_secs(1),
            pod_max_backoff: SimDuration::from_secs(10),
            max_in_unschedulable: SimDuration::from_mins(5),
            storage_capacity_drivers: Default::default(),
        },
    )
    .with_pop_from_backoff_q(false);
    w.create(cordoned("node-a-1", "4"));
    w.create(pod("web-0", &[]));
    w.advance_to(millis(200));
    assert_eq!(w.queue_of("web-0"), Some(QueueName::Unschedulable));
    w.update_node("node-a-1", |n| n.spec.unschedulable = false);
    w.advance_to(millis(300));
    assert_eq!(w.queue_of("web-0"), Some(QueueName::Backoff));
    w.advance_to(secs(3));
    // Failed at 0 s with 1 s of backoff: the 1 s flush tick, reading the clock a moment
    // after the second, finds it over.
    assert_eq!(w.events("Scheduled")[0].0, secs(1));
}

#[test]
fn uncordon_requeues_the_pod_and_unrelated_changes_do_not() {
    let mut w = World::new(1, SimDuration::ZERO);
    w.create(cordoned("node-a-1", "4"));
    w.create(pod("web-0", &[("cpu", "1")]));
    w.advance_to(secs(10));
    assert_eq!(w.events("FailedScheduling").len(), 1);
    // A label change cannot help a pod the cordon keeps out.
    w.update_node("node-a-1", |n| {
        n.metadata.labels.insert("team".into(), "db".into());
    });
    w.advance_to(secs(20));
    assert_eq!(w.events("FailedScheduling").len(), 1);
    assert_eq!(w.queue_of("web-0"), Some(QueueName::Unschedulable));
    w.update_node("node-a-1", |n| n.spec.unschedulable = false);
    w.advance_to(secs(30));
    assert_eq!(w.pod("web-0").spec.node_name, "node-a-1");
    assert_eq!(w.events("Scheduled")[0].0, secs(20));
}

#[test]
fn unschedulable_pods_are_retried_by_the_five_minute_flush() {
    let mut w = World::new(1, SimDuration::ZERO);
    w.create(node("node-a-1", "1", "8Gi"));
    w.create(pod("big", &[("cpu", "2")]));
    w.advance_to(secs(700));
    let times: Vec<SimTime> = w.events("FailedScheduling").iter().map(|f| f.0).collect();
    // Failed at 0 and overdue after 300 s, which is a 30 s flush tick itself.
    assert_eq!(times, vec![secs(0), secs(300), secs(600)]);
}

#[test]
fn assumed_pods_hold_their_space_until_the_informer_catches_up() {
    let mut w = World::new(1, SimDuration::from_secs(1));
    w.create(node("node-a-1", "2", "8Gi"));
    for i in 0..3 {
        w.create(pod(&format!("web-{i}"), &[("cpu", "1")]));
    }
    w.advance_to(secs(5));
    // All three arrive at 1 s; the binds of the first two are not seen back until 2 s.
    let scheduled: Vec<String> = w.events("Scheduled").into_iter().map(|e| e.1).collect();
    assert_eq!(scheduled, vec!["web-0", "web-1"]);
    assert_eq!(
        w.events("FailedScheduling"),
        vec![(
            secs(1),
            "web-2".to_string(),
            "0/1 nodes are available: 1 Insufficient cpu.".to_string()
        )]
    );
    assert!(!w.sched.cache().is_assumed(&w.pod("web-0").metadata.uid));

    // web-0 finishes: the informer drops it, its CPU is free, and web-2 is requeued.
    let mut done = (*w.pod("web-0")).clone();
    done.status.phase = "Succeeded".into();
    w.api.update_status(w.now, &w.kubectl, &done).unwrap();
    w.advance_to(secs(10));
    assert_eq!(w.pod("web-2").spec.node_name, "node-a-1");
    assert_eq!(w.events("Scheduled")[2].0, secs(6));
}

#[test]
fn deleting_a_bound_pod_requeues_pods_waiting_for_resources() {
    let mut w = World::new(1, SimDuration::ZERO);
    w.create(node("node-a-1", "1", "8Gi"));
    w.create(pod("web-0", &[("cpu", "1")]));
    w.create(pod("web-1", &[("cpu", "1")]));
    w.advance_to(secs(1));
    assert_eq!(w.queue_of("web-1"), Some(QueueName::Unschedulable));
    w.api
        .delete::<Pod>(
            w.now,
            &w.kubectl,
            &ObjectKey::new("default", "web-0"),
            &DeleteOptions::force(),
        )
        .unwrap();
    w.advance_to(secs(2));
    assert_eq!(w.pod("web-1").spec.node_name, "node-a-1");
}

#[test]
fn a_pod_deleted_before_its_binding_fails_to_bind() {
    let mut w = World::new(1, SimDuration::from_secs(1));
    w.create(node("node-a-1", "1", "8Gi"));
    w.create(pod("web-0", &[]));
    w.now = millis(500);
    w.api
        .delete::<Pod>(
            w.now,
            &w.kubectl,
            &ObjectKey::new("default", "web-0"),
            &DeleteOptions::default(),
        )
        .unwrap();
    w.advance_to(secs(1));
    assert_eq!(
        w.events("FailedScheduling"),
        vec![(
            secs(1),
            "web-0".to_string(),
            "running Bind plugin \"DefaultBinder\": pods \"web-0\" not found".to_string()
        )]
    );
    assert_eq!(w.queue_of("web-0"), Some(QueueName::Backoff));
    // The deletion reaches the informer at 1.5 s and the pod leaves the queue.
    w.advance_to(secs(3));
    assert!(w.sched.queue().is_empty());
    assert!(w.sched.cache().get("node-a-1").unwrap().pods.is_empty());
}

#[test]
fn pods_for_other_schedulers_are_left_alone() {
    let mut w = World::new(1, SimDuration::ZERO);
    w.create(node("node-a-1", "4", "8Gi"));
    let mut p = pod("custom", &[]);
    p.spec.scheduler_name = "my-scheduler".into();
    w.create(p);
    w.advance_to(secs(1));
    assert!(w.pod("custom").spec.node_name.is_empty());
    assert!(w.sched.queue().is_empty());
}

/// Places 100 request-less pods on four identical, huge nodes (every node scores the same
/// for every pod) and returns where each went.
fn placements(seed: u64) -> Vec<String> {
    let mut w = World::new(seed, SimDuration::ZERO);
    for i in 1..=4 {
        w.create(node(&format!("node-{i}"), "1000", "1000Gi"));
    }
    for i in 0..100 {
        w.create(pod(&format!("p-{i:03}"), &[]));
    }
    w.advance_to(secs(1));
    (0..100)
        .map(|i| w.pod(&format!("p-{i:03}")).spec.node_name.clone())
        .collect()
}

#[test]
fn ties_break_the_same_way_for_a_seed_and_spread_across_equal_nodes() {
    let a = placements(7);
    assert_eq!(a, placements(7));
    assert_ne!(a, placements(8));
    for i in 1..=4 {
        let n = a.iter().filter(|x| **x == format!("node-{i}")).count();
        assert!((10..=40).contains(&n), "node-{i} got {n} of 100 pods");
    }
}

#[test]
fn scores_steer_pods_to_the_emptier_and_untainted_node() {
    let mut w = World::new(3, SimDuration::ZERO);
    let mut soft = node("node-a-1", "4", "8Gi");
    soft.spec.taints = vec![super::plugins::testing::taint(
        "spot",
        "",
        "PreferNoSchedule",
    )];
    w.create(soft);
    w.create(node("node-a-2", "4", "8Gi"));
    w.create(node("node-a-3", "4", "8Gi"));
    w.create(pod("filler", &[("cpu", "3"), ("memory", "6Gi")]));
    w.advance_to(secs(1));
    let filler = w.pod("filler").spec.node_name.clone();
    assert_ne!(
        filler, "node-a-1",
        "the PreferNoSchedule taint costs 300 points"
    );
    w.create(pod("web-0", &[("cpu", "1"), ("memory", "2Gi")]));
    w.advance_to(secs(2));
    let placed = w.pod("web-0").spec.node_name.clone();
    assert!(placed != "node-a-1" && placed != filler, "went to {placed}");
}

#[test]
fn a_pod_terminating_when_popped_is_skipped_with_an_event() {
    let mut w = World::new(1, SimDuration::from_secs(1));
    w.create(node("node-a-1", "4", "8Gi"));
    let mut p = pod("web-0", &[]);
    p.metadata.finalizers = vec!["example.com/hold".into()];
    w.create(p);
    w.api
        .delete::<Pod>(
            w.now,
            &w.kubectl,
            &ObjectKey::new("default", "web-0"),
            &DeleteOptions::default(),
        )
        .unwrap();
    w.advance_to(secs(2));
    assert!(w.events("Scheduled").is_empty());
    assert_eq!(
        w.events("FailedScheduling"),
        vec![(
            secs(1),
            "web-0".to_string(),
            "skip schedule deleting pod: default/web-0".to_string()
        )]
    );
    assert!(w.sched.queue().is_empty());
}

#[test]
fn a_pod_pinned_by_node_name_affinity_counts_the_other_nodes_as_filtered_out() {
    use crate::api::scheduling::{
        Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    };
    let mut w = World::new(1, SimDuration::ZERO);
    for i in 1..=3 {
        w.create(node(&format!("node-a-{i}"), "1", "8Gi"));
    }
    let mut p = pod("web-0", &[("cpu", "2")]);
    p.spec.affinity = Some(Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_fields: vec![NodeSelectorRequirement {
                        key: "metadata.name".into(),
                        operator: "In".into(),
                        values: vec!["node-a-2".into()],
                    }],
                    ..Default::default()
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    w.create(p);
    w.advance_to(secs(1));
    assert_eq!(
        w.events("FailedScheduling")[0].2,
        "0/3 nodes are available: 1 Insufficient cpu, \
         2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    );
    // Both plugins rejected it, so a bigger node-a-2 (an allocatable change) requeues it.
    w.update_node("node-a-2", |n| {
        n.status
            .allocatable
            .insert("cpu".into(), crate::api::Quantity("4".into()));
    });
    w.advance_to(secs(2));
    assert_eq!(w.pod("web-0").spec.node_name, "node-a-2");
}
