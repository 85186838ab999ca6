//! Pod GC tests on the simulated clock. The controller's loop starts with the first write
//! at 0 s, so passes run at 0, 20, 40, … s.

use super::PodGcController;
use crate::api::node::well_known::TAINT_OUT_OF_SERVICE;
use crate::api::scheduling::Taint;
use crate::api::{Node, ObjectKey, Pod};
use crate::apiserver::{DeleteOptions, JournalEntry, Verb};
use crate::control::node_lifecycle::tests::{World, at};

fn world(threshold: i64) -> World {
    World::with(vec![Box::new(PodGcController::new(threshold))])
}

/// The last status write of pod `name` (the PodGC's Failed patch before its delete).
fn last_status(w: &World, name: &str) -> Option<Pod> {
    let mut last = None;
    for i in 0..w.h.api.journal_end() {
        if let Some(JournalEntry::Write(ev)) = w.h.api.journal_entry(i)
            && ev.verb == Verb::Status
            && let crate::api::AnyObject::Pod(p) = &ev.obj
            && p.metadata.name == name
        {
            last = Some((**p).clone());
        }
    }
    last
}

fn delete_node(w: &mut World, name: &str) {
    w.h.client()
        .delete::<Node>(&ObjectKey::cluster(name), &DeleteOptions::default())
        .unwrap();
}

fn graceful_delete(w: &mut World, pod: &str) {
    w.h.client()
        .delete::<Pod>(&ObjectKey::new("default", pod), &DeleteOptions::default())
        .unwrap();
}

/// Node deleted at 30 s; the 40 s pass finds the orphan and quarantines its node until
/// 80 s (the 60 s pass does not push that back); the 80 s pass confirms the node is gone
/// and force-deletes the pod, Failed with `DeletionByPodGC`.
#[test]
fn orphaned_pods_go_after_the_quarantine() {
    let mut w = world(12_500);
    w.add_node("n1", "a");
    w.add_pod("p", "n1", None);
    w.advance(at(30.0));
    delete_node(&mut w, "n1");
    w.advance(at(79.9));
    assert!(w.pod("p").is_some());
    w.advance(at(80.0));
    assert!(w.pod("p").is_none());
    let last = last_status(&w, "p").unwrap();
    assert_eq!(last.status.phase, "Failed");
    let c = last.condition("DisruptionTarget").unwrap();
    assert_eq!(
        (c.reason.as_str(), c.message.as_str()),
        ("DeletionByPodGC", "PodGC: node no longer exists")
    );
    assert!(
        w.notes()
            .iter()
            .any(|(t, m)| *t == at(80.0) && m == "PodGC is force deleting Pod")
    );
}

/// A node that comes back during the quarantine saves its pods.
#[test]
fn a_node_back_within_the_quarantine_keeps_its_pods() {
    let mut w = world(12_500);
    w.add_node("n1", "a");
    w.add_pod("p", "n1", None);
    w.advance(at(30.0));
    delete_node(&mut w, "n1");
    w.advance(at(50.0));
    w.add_node("n1", "a");
    w.advance(at(300.0));
    assert!(w.pod("p").is_some());
}

/// Terminating pods on a node that is not Ready and has the out-of-service taint are
/// force-deleted by the next pass (no condition: `gcTerminating` passes none). Without
/// the taint, or on a Ready node, they stay.
#[test]
fn terminating_pods_on_out_of_service_nodes() {
    let mut w = world(12_500);
    for n in ["down", "down-no-taint", "ready-tainted"] {
        w.add_node(n, "a");
    }
    w.add_pod("a", "down", None);
    w.add_pod("b", "down-no-taint", None);
    w.add_pod("c", "ready-tainted", None);
    w.advance(at(10.0));
    for p in ["a", "b", "c"] {
        graceful_delete(&mut w, p);
    }
    for n in ["down", "down-no-taint"] {
        let mut node = (*w.node(n)).clone();
        for c in &mut node.status.conditions {
            if c.type_ == "Ready" {
                c.status = "Unknown".into();
            }
        }
        w.h.client().update_status(&node).unwrap();
    }
    for n in ["down", "ready-tainted"] {
        let mut node = (*w.node(n)).clone();
        node.spec.taints.push(Taint {
            key: TAINT_OUT_OF_SERVICE.into(),
            value: "nodeshutdown".into(),
            effect: "NoExecute".into(),
            ..Default::default()
        });
        w.h.client().update(node).unwrap();
    }
    w.advance(at(19.9));
    assert!(w.pod("a").is_some());
    w.advance(at(20.0));
    assert!(w.pod("a").is_none(), "force-deleted by the 20 s pass");
    let last = last_status(&w, "a").unwrap();
    assert_eq!(last.status.phase, "Failed");
    assert!(last.condition("DisruptionTarget").is_none());
    w.advance(at(500.0));
    assert!(w.pod("b").is_some_and(|p| p.is_terminating()));
    assert!(w.pod("c").is_some_and(|p| p.is_terminating()));
}

/// A terminating pod never bound to a node (kept by a finalizer) is marked Failed and
/// force-deleted; the finalizer still holds it.
#[test]
fn unscheduled_terminating_pods() {
    let mut w = world(12_500);
    let mut pod = Pod {
        metadata: crate::api::ObjectMeta::named("default", "u"),
        ..Default::default()
    };
    pod.metadata.finalizers = vec!["example.com/hold".into()];
    w.h.client().create(pod).unwrap();
    w.advance(at(5.0));
    graceful_delete(&mut w, "u");
    w.advance(at(19.9));
    assert_ne!(w.pod("u").unwrap().status.phase, "Failed");
    w.advance(at(20.0));
    assert_eq!(w.pod("u").unwrap().status.phase, "Failed");
}

/// With a threshold of 2 and four terminated pods (created at 0–3 s), the 20 s pass
/// deletes two: the evicted one, then the oldest.
#[test]
fn terminated_pods_beyond_the_threshold() {
    let mut w = world(2);
    w.add_node("n1", "a");
    for (i, name) in ["old", "mid", "new", "evicted"].iter().enumerate() {
        w.advance(at(i as f64));
        w.add_pod(name, "n1", None);
        let mut p = (*w.pod(name).unwrap()).clone();
        p.status.phase = "Failed".into();
        if *name == "evicted" {
            p.status.reason = "Evicted".into();
        }
        w.h.client().update_status(&p).unwrap();
    }
    w.add_pod("running", "n1", None);
    w.advance(at(19.9));
    assert!(w.pod("old").is_some());
    w.advance(at(20.0));
    let left: Vec<bool> = ["old", "mid", "new", "evicted", "running"]
        .iter()
        .map(|n| w.pod(n).is_some())
        .collect();
    assert_eq!(left, vec![false, true, true, false, true]);
}

/// Passes that found nothing skip their scans until a Pod changes or a Node comes or
/// goes: a pod bound at 50 s to a node that never existed is still found by the 60 s
/// pass and force-deleted when its quarantine ends at 100 s.
#[test]
fn quiet_passes_still_see_a_new_orphan() {
    let mut w = world(12_500);
    w.add_node("n1", "a");
    w.add_pod("p", "n1", None);
    w.advance(at(50.0));
    w.add_pod("q", "missing", None);
    w.advance(at(99.9));
    assert!(w.pod("q").is_some());
    w.advance(at(100.0));
    assert!(w.pod("q").is_none());
    assert!(w.pod("p").is_some());
}

/// A terminating pod keeps the passes scanning, so a node that only later turns not
/// Ready with the out-of-service taint (Node updates alone do not end a quiet stretch)
/// has the pod force-deleted by the next pass after the taint.
#[test]
fn a_terminating_pod_keeps_passes_scanning_for_node_changes() {
    let mut w = world(12_500);
    w.add_node("n1", "a");
    w.add_pod("p", "n1", None);
    w.advance(at(25.0));
    graceful_delete(&mut w, "p");
    w.advance(at(50.0));
    let mut node = (*w.node("n1")).clone();
    for c in &mut node.status.conditions {
        if c.type_ == "Ready" {
            c.status = "Unknown".into();
        }
    }
    w.h.client().update_status(&node).unwrap();
    let mut node = (*w.node("n1")).clone();
    node.spec.taints.push(Taint {
        key: TAINT_OUT_OF_SERVICE.into(),
        value: "nodeshutdown".into(),
        effect: "NoExecute".into(),
        ..Default::default()
    });
    w.h.client().update(node).unwrap();
    w.advance(at(59.9));
    assert!(w.pod("p").is_some());
    w.advance(at(60.0));
    assert!(w.pod("p").is_none(), "force-deleted by the 60 s pass");
}
