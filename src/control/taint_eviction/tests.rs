//! Taint eviction controller tests on the simulated clock, with taints put on by hand
//! (no node lifecycle controller): what is deleted when, what is cancelled, and how a
//! deletion looks (the `DisruptionTarget` condition, a graceful delete, the Events).

use super::{TaintEvictionController, get_matching_tolerations, get_min_toleration_time};
use crate::api::scheduling::{Taint, Toleration};
use crate::api::{ObjectKey, Timestamp};
use crate::apiserver::DeleteOptions;
use crate::control::node_lifecycle::tests::{World, at};
use crate::time::SimDuration;

fn world() -> World {
    let mut w = World::with(vec![Box::new(TaintEvictionController::default())]);
    w.add_node("n1", "a");
    w
}

fn no_execute(key: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: "NoExecute".into(),
        ..Default::default()
    }
}

fn tolerate(key: &str, seconds: Option<i64>) -> Toleration {
    Toleration {
        key: key.into(),
        operator: "Exists".into(),
        effect: "NoExecute".into(),
        toleration_seconds: seconds,
        ..Default::default()
    }
}

fn set_taints(w: &mut World, taints: Vec<Taint>) {
    let mut n = (*w.node("n1")).clone();
    n.spec.taints = taints;
    w.h.client().update(n).unwrap();
}

fn terminating(w: &World, pod: &str) -> bool {
    w.pod(pod).is_some_and(|p| p.is_terminating())
}

#[test]
fn matching_tolerations_and_minimum_time() {
    let taints = vec![no_execute("a"), no_execute("b")];
    let tols = vec![
        tolerate("a", Some(300)),
        tolerate("b", Some(100)),
        tolerate("a", Some(5)),
    ];
    let (all, used) = get_matching_tolerations(&taints, &tols);
    assert!(all);
    // The first toleration of each taint is the one used.
    assert_eq!(
        used.iter()
            .map(|t| t.toleration_seconds)
            .collect::<Vec<_>>(),
        vec![Some(300), Some(100)]
    );
    assert_eq!(
        get_min_toleration_time(&used),
        Some(SimDuration::from_secs(100))
    );
    let (all, _) = get_matching_tolerations(&[no_execute("c")], &tols);
    assert!(!all);
    let forever = tolerate("a", None);
    assert_eq!(get_min_toleration_time(&[&forever]), None);
    let neg = tolerate("a", Some(-5));
    assert_eq!(
        get_min_toleration_time(&[&forever, &neg]),
        Some(SimDuration::ZERO)
    );
    assert_eq!(get_min_toleration_time(&[]), Some(SimDuration::ZERO));
}

/// A NoExecute taint the pod does not tolerate: deleted when the controller sees it,
/// marked `DisruptionTarget` first, gracefully (its 30 s grace period).
#[test]
fn untolerated_taint_deletes_at_once() {
    let mut w = world();
    w.add_pod("p", "n1", None);
    w.advance(at(10.0));
    set_taints(
        &mut w,
        vec![no_execute("node.kubernetes.io/out-of-service")],
    );
    w.advance(at(10.0));
    let pod = w.pod("p").unwrap();
    assert!(pod.is_terminating());
    assert_eq!(
        pod.metadata.deletion_timestamp,
        Some(Timestamp::at(at(40.0)))
    );
    let c = pod.condition("DisruptionTarget").unwrap();
    assert_eq!(c.reason, "DeletionByTaintManager");
    assert_eq!(c.last_transition_time, Some(Timestamp::at(at(10.0))));
    assert_eq!(
        w.events("TaintManagerEviction"),
        vec!["p: Marking for deletion Pod default/p".to_string()]
    );
}

/// Tolerated for 300 s (the default tolerations) / 0 s / forever, with the taint put on at
/// 10 s: deleted at 310 s / 10 s / never.
#[test]
fn toleration_seconds_300_zero_and_absent() {
    let mut w = world();
    let unreachable = "node.kubernetes.io/unreachable";
    w.add_pod("default-tols", "n1", None);
    w.add_pod("zero", "n1", Some(vec![tolerate(unreachable, Some(0))]));
    w.add_pod("forever", "n1", Some(vec![tolerate(unreachable, None)]));
    w.advance(at(10.0));
    set_taints(&mut w, vec![no_execute(unreachable)]);
    w.advance(at(10.0));
    assert!(terminating(&w, "zero"));
    assert!(!terminating(&w, "default-tols"));
    w.advance(at(309.9));
    assert!(!terminating(&w, "default-tols"));
    w.advance(at(310.0));
    assert!(terminating(&w, "default-tols"));
    w.advance(at(5000.0));
    assert!(!terminating(&w, "forever"));
}

/// The taint goes at 200 s, before the 310 s deletion: cancelled, with an Event.
#[test]
fn removing_the_taint_cancels_the_scheduled_deletion() {
    let mut w = world();
    w.add_pod("p", "n1", None);
    w.advance(at(10.0));
    set_taints(&mut w, vec![no_execute("node.kubernetes.io/unreachable")]);
    w.advance(at(200.0));
    set_taints(&mut w, vec![]);
    w.advance(at(1000.0));
    assert!(!terminating(&w, "p"));
    assert_eq!(
        w.events("TaintManagerEviction"),
        vec!["p: Cancelling deletion of Pod default/p".to_string()]
    );
}

/// A deletion already scheduled keeps its start: a second taint at 100 s with a shorter
/// toleration (100 s) does not move the 310 s deletion, because the old start plus the
/// new minimum (10 + 100 s) is before the new trigger (200 s) — upstream returns without
/// rescheduling. A pod arriving on the tainted node later counts from its own arrival.
#[test]
fn a_scheduled_deletion_keeps_its_start() {
    let mut w = world();
    let tols = vec![tolerate("t1", Some(300)), tolerate("t2", Some(100))];
    w.add_pod("p", "n1", Some(tols.clone()));
    w.advance(at(10.0));
    set_taints(&mut w, vec![no_execute("t1")]);
    w.advance(at(100.0));
    set_taints(&mut w, vec![no_execute("t1"), no_execute("t2")]);
    w.add_pod("late", "n1", Some(tols));
    w.advance(at(199.9));
    assert!(!terminating(&w, "p"));
    assert!(!terminating(&w, "late"));
    w.advance(at(200.0));
    assert!(!terminating(&w, "p"));
    assert!(terminating(&w, "late"), "100 s after its own arrival");
    w.advance(at(309.9));
    assert!(!terminating(&w, "p"));
    w.advance(at(310.0));
    assert!(terminating(&w, "p"));
}

/// A pod deleted (by someone else) while its eviction waits: the work is cancelled with
/// an Event. A pod without a toleration for the taint goes at once.
#[test]
fn deleting_the_pod_cancels_its_eviction() {
    let mut w = world();
    let broken = "example.com/broken";
    w.add_pod("p", "n1", None);
    w.add_pod("q", "n1", Some(vec![tolerate(broken, Some(300))]));
    w.advance(at(10.0));
    set_taints(&mut w, vec![no_execute(broken)]);
    w.advance(at(10.0));
    assert!(terminating(&w, "p"), "no toleration for it: at once");
    assert!(!terminating(&w, "q"));
    w.advance(at(20.0));
    w.h.client()
        .delete::<crate::api::Pod>(&ObjectKey::new("default", "q"), &DeleteOptions::force())
        .unwrap();
    w.advance(at(400.0));
    assert_eq!(
        w.events("TaintManagerEviction"),
        vec![
            "p: Marking for deletion Pod default/p".to_string(),
            "q: Cancelling deletion of Pod default/q".to_string(),
        ]
    );
}
