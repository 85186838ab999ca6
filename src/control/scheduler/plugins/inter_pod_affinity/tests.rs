//! InterPodAffinity table tests, after upstream's `filtering_test.go` and `scoring_test.go`.

use super::*;
use crate::api::LabelSelector;
use crate::api::node::well_known::{LABEL_HOSTNAME, LABEL_ZONE};
use crate::api::scheduling::{Affinity, WeightedPodAffinityTerm};
use crate::control::scheduler::framework::{ClusterView, Code};
use crate::control::scheduler::plugins::testing::{info, node, pod};

fn zoned(name: &str, zone: &str) -> Node {
    let mut n = node(name, "4", "8Gi");
    n.metadata.labels.insert(LABEL_ZONE.into(), zone.into());
    n
}

fn labelled(name: &str, app: &str) -> Pod {
    let mut p = pod(name, &[]);
    p.metadata.labels.insert("app".into(), app.into());
    p
}

fn term(app: &str, key: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: [("app".to_string(), app.to_string())].into(),
            ..Default::default()
        }),
        topology_key: key.into(),
        ..Default::default()
    }
}

fn required(affinity: Vec<PodAffinityTerm>, anti: Vec<PodAffinityTerm>) -> Option<Affinity> {
    let wrap = |terms: Vec<PodAffinityTerm>| {
        (!terms.is_empty()).then(|| PodAffinity {
            required_during_scheduling_ignored_during_execution: terms,
            ..Default::default()
        })
    };
    Some(Affinity {
        pod_affinity: wrap(affinity),
        pod_anti_affinity: wrap(anti),
        ..Default::default()
    })
}

/// A ZooKeeper-tutorial member: app=zk, required anti-affinity to app=zk by hostname.
fn zk(name: &str) -> Pod {
    let mut p = labelled(name, "zk");
    p.spec.affinity = required(vec![], vec![term("zk", LABEL_HOSTNAME)]);
    p
}

fn prepared(p: &Pod, nodes: Vec<(Node, Vec<Pod>)>) -> (CycleState, Vec<NodeInfo>, PreFilterResult) {
    let infos: Vec<NodeInfo> = nodes.into_iter().map(|(n, pods)| info(n, &pods)).collect();
    let state = CycleState::new(p).with_cluster(ClusterView {
        nodes: infos.iter().cloned().map(Rc::new).collect(),
        ..Default::default()
    });
    let pre = InterPodAffinity.pre_filter(&state, p);
    (state, infos, pre)
}

fn verdicts(state: &CycleState, p: &Pod, infos: &[NodeInfo]) -> Vec<Result<(), String>> {
    infos
        .iter()
        .map(|n| {
            InterPodAffinity
                .filter(state, p, n)
                .map_err(|r| r.message())
        })
        .collect()
}

const ANTI: &str = "node(s) didn't match pod anti-affinity rules";
const EXISTING: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
const AFFINITY: &str = "node(s) didn't match pod affinity rules";

#[test]
fn required_anti_affinity_spreads_members_one_per_node() {
    let p = zk("zk-2");
    let (state, infos, _) = prepared(
        &p,
        vec![
            (node("n1", "4", "8Gi"), vec![zk("zk-0")]),
            (node("n2", "4", "8Gi"), vec![zk("zk-1")]),
            (node("n3", "4", "8Gi"), vec![]),
        ],
    );
    assert_eq!(
        verdicts(&state, &p, &infos),
        vec![Err(ANTI.into()), Err(ANTI.into()), Ok(())]
    );
    let err = InterPodAffinity.filter(&state, &p, &infos[0]).unwrap_err();
    assert_eq!(err.code, Code::Unschedulable);
}

#[test]
fn existing_pods_anti_affinity_keeps_matching_pods_away() {
    // The incoming pod has no affinity of its own; the existing one refuses app=web.
    let mut guard = labelled("guard", "db");
    guard.spec.affinity = required(vec![], vec![term("web", LABEL_HOSTNAME)]);
    let p = labelled("web-0", "web");
    let (state, infos, pre) = prepared(
        &p,
        vec![
            (node("n1", "4", "8Gi"), vec![guard]),
            (node("n2", "4", "8Gi"), vec![]),
        ],
    );
    assert_eq!(pre, PreFilterResult::AllNodes);
    assert_eq!(
        verdicts(&state, &p, &infos),
        vec![Err(EXISTING.into()), Ok(())]
    );
    // Nobody with affinity anywhere: the plugin skips.
    let (_, _, pre) = prepared(
        &p,
        vec![(node("n1", "4", "8Gi"), vec![labelled("x", "db")])],
    );
    assert_eq!(pre, PreFilterResult::Skip);
}

#[test]
fn required_affinity_follows_the_matching_pods_zone() {
    let mut p = labelled("web-0", "web");
    p.spec.affinity = required(vec![term("db", LABEL_ZONE)], vec![]);
    let (state, infos, _) = prepared(
        &p,
        vec![
            (zoned("a1", "a"), vec![labelled("db-0", "db")]),
            (zoned("a2", "a"), vec![]),
            (zoned("b1", "b"), vec![]),
            (node("x1", "4", "8Gi"), vec![]),
        ],
    );
    assert_eq!(
        verdicts(&state, &p, &infos),
        vec![Ok(()), Ok(()), Err(AFFINITY.into()), Err(AFFINITY.into())]
    );
    let err = InterPodAffinity.filter(&state, &p, &infos[2]).unwrap_err();
    assert_eq!(err.code, Code::UnschedulableAndUnresolvable);
}

#[test]
fn the_first_pod_of_a_self_affine_group_goes_anywhere_with_the_key() {
    let mut p = labelled("cache-0", "cache");
    p.spec.affinity = required(vec![term("cache", LABEL_ZONE)], vec![]);
    let (state, infos, _) = prepared(
        &p,
        vec![(zoned("a1", "a"), vec![]), (node("x1", "4", "8Gi"), vec![])],
    );
    assert_eq!(
        verdicts(&state, &p, &infos),
        vec![Ok(()), Err(AFFINITY.into())]
    );
}

#[test]
fn terms_look_only_in_their_namespaces() {
    let p = zk("zk-1");
    let mut other = zk("zk-0");
    other.metadata.namespace = "other".into();
    let (state, infos, _) = prepared(&p, vec![(node("n1", "4", "8Gi"), vec![other.clone()])]);
    assert_eq!(verdicts(&state, &p, &infos), vec![Ok(())]);
    // A namespaceSelector matches by the namespace's name label.
    let mut wide = zk("zk-1");
    let mut t = term("zk", LABEL_HOSTNAME);
    t.namespace_selector = Some(LabelSelector {
        match_labels: [(NAMESPACE_NAME_LABEL.to_string(), "other".to_string())].into(),
        ..Default::default()
    });
    wide.spec.affinity = required(vec![], vec![t]);
    // `other` refuses app=zk in its own namespace only; the incoming pod's term reaches it.
    other.spec.affinity = None;
    let (state, infos, _) = prepared(&wide, vec![(node("n1", "4", "8Gi"), vec![other])]);
    assert_eq!(verdicts(&state, &wide, &infos), vec![Err(ANTI.into())]);
}

#[test]
fn match_label_keys_restrict_terms_to_the_same_revision() {
    let mut t = term("zk", LABEL_HOSTNAME);
    t.match_label_keys = vec!["rev".into()];
    let mut p = labelled("zk-1", "zk");
    p.metadata.labels.insert("rev".into(), "2".into());
    p.spec.affinity = required(vec![], vec![t]);
    let mut old = labelled("zk-0", "zk");
    old.metadata.labels.insert("rev".into(), "1".into());
    let (state, infos, _) = prepared(&p, vec![(node("n1", "4", "8Gi"), vec![old])]);
    assert_eq!(verdicts(&state, &p, &infos), vec![Ok(())]);
}

#[test]
fn preferred_anti_affinity_scores_away_from_matching_pods() {
    let mut p = labelled("web-1", "web");
    p.spec.affinity = Some(Affinity {
        pod_anti_affinity: Some(PodAffinity {
            preferred_during_scheduling_ignored_during_execution: vec![WeightedPodAffinityTerm {
                weight: 100,
                pod_affinity_term: term("web", LABEL_ZONE),
            }],
            ..Default::default()
        }),
        ..Default::default()
    });
    let infos = [
        info(zoned("a1", "a"), &[labelled("web-0", "web")]),
        info(zoned("b1", "b"), &[]),
    ];
    let state = CycleState::new(&p).with_cluster(ClusterView {
        nodes: infos.iter().cloned().map(Rc::new).collect(),
        ..Default::default()
    });
    assert_eq!(
        InterPodAffinity.score(&state, &p, &[&infos[0], &infos[1]]),
        Some(vec![0, 100])
    );
    // Existing pods' required affinity pulls the incoming pod (hardPodAffinityWeight 1).
    let mut db = labelled("db-0", "db");
    db.spec.affinity = required(vec![term("web", LABEL_ZONE)], vec![]);
    let infos = [info(zoned("a1", "a"), &[]), info(zoned("b1", "b"), &[db])];
    let q = labelled("web-2", "web");
    let state = CycleState::new(&q).with_cluster(ClusterView {
        nodes: infos.iter().cloned().map(Rc::new).collect(),
        ..Default::default()
    });
    assert_eq!(
        InterPodAffinity.score(&state, &q, &[&infos[0], &infos[1]]),
        Some(vec![0, 100])
    );
    // Nothing to prefer: no score.
    let plain = labelled("x", "x");
    let state = CycleState::new(&plain);
    assert_eq!(InterPodAffinity.score(&state, &plain, &[&infos[0]]), None);
}

#[test]
fn requeue_when_a_conflicting_pod_goes() {
    let p = zk("zk-3");
    let mut gone = zk("zk-0");
    gone.spec.node_name = "n1".into();
    let gone = AnyObject::Pod(Rc::new(gone));
    let ev = ClusterEvent::ASSIGNED_POD_DELETE;
    assert_eq!(
        InterPodAffinity.queueing_hint(&p, &ev, Some(&gone), None),
        QueueingHint::Queue
    );
    let mut other = labelled("x", "x");
    other.spec.node_name = "n1".into();
    let other = AnyObject::Pod(Rc::new(other));
    assert_eq!(
        InterPodAffinity.queueing_hint(&p, &ev, Some(&other), None),
        QueueingHint::QueueSkip
    );
}
