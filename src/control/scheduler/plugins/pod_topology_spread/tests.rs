//! PodTopologySpread table tests, after upstream's `filtering_test.go` and `scoring_test.go`.

use super::*;
use crate::api::{Service, StatefulSet};
use crate::control::scheduler::plugins::testing::{info, node, pod, taint};

fn zoned(name: &str, zone: &str) -> Node {
    let mut n = node(name, "4", "8Gi");
    n.metadata.labels.insert(LABEL_ZONE.into(), zone.into());
    n
}

fn web(name: &str) -> Pod {
    let mut p = pod(name, &[]);
    p.metadata.labels.insert("app".into(), "web".into());
    p
}

fn spread(key: &str, max_skew: i32, when: &str) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew,
        topology_key: key.into(),
        when_unsatisfiable: when.into(),
        label_selector: Some(LabelSelector {
            match_labels: [("app".to_string(), "web".to_string())].into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn with_constraints(name: &str, c: Vec<TopologySpreadConstraint>) -> Pod {
    let mut p = web(name);
    p.spec.topology_spread_constraints = c;
    p
}

/// A cycle state over `nodes` (each with the pods given), after PreFilter ran.
fn prepared(p: &Pod, nodes: Vec<(Node, Vec<Pod>)>) -> (CycleState, Vec<NodeInfo>, PreFilterResult) {
    let infos: Vec<NodeInfo> = nodes.into_iter().map(|(n, pods)| info(n, &pods)).collect();
    let state = CycleState::new(p).with_cluster(ClusterView {
        nodes: infos.iter().cloned().map(Rc::new).collect(),
        ..Default::default()
    });
    let pre = PodTopologySpread::default().pre_filter(&state, p);
    (state, infos, pre)
}

fn verdicts(state: &CycleState, p: &Pod, infos: &[NodeInfo]) -> Vec<Result<(), String>> {
    infos
        .iter()
        .map(|n| {
            PodTopologySpread::default()
                .filter(state, p, n)
                .map_err(|r| r.message())
        })
        .collect()
}

const NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";

#[test]
fn max_skew_one_across_zones_keeps_domains_even() {
    let p = with_constraints("p", vec![spread(LABEL_ZONE, 1, "DoNotSchedule")]);
    let (state, infos, pre) = prepared(
        &p,
        vec![
            (zoned("a1", "a"), vec![web("w0")]),
            (zoned("b1", "b"), vec![web("w1")]),
            (zoned("c1", "c"), vec![]),
        ],
    );
    assert_eq!(pre, PreFilterResult::AllNodes);
    assert_eq!(
        verdicts(&state, &p, &infos),
        vec![Err(NOT_MATCH.into()), Err(NOT_MATCH.into()), Ok(())]
    );
}

#[test]
fn tainted_zone_still_counts_as_a_domain_unless_taints_are_honored() {
    let mut c1 = zoned("c1", "c");
    c1.spec.taints = vec![taint("node.kubernetes.io/unreachable", "", "NoSchedule")];
    let nodes = || {
        vec![
            (zoned("a1", "a"), vec![web("w0")]),
            (zoned("b1", "b"), vec![web("w1")]),
            (c1.clone(), vec![]),
        ]
    };
    // nodeTaintsPolicy Ignore (the default): zone c is a domain with 0 pods, so a third
    // replica may not go to a or b. (TaintToleration is what keeps it off c1.)
    let p = with_constraints("p", vec![spread(LABEL_ZONE, 1, "DoNotSchedule")]);
    let (state, infos, _) = prepared(&p, nodes());
    let v = verdicts(&state, &p, &infos);
    assert_eq!(v[..2], [Err(NOT_MATCH.into()), Err(NOT_MATCH.into())]);
    // Honor: zone c is no domain, the minimum is 1, a and b may take it.
    let mut honor = spread(LABEL_ZONE, 1, "DoNotSchedule");
    honor.node_taints_policy = Some("Honor".into());
    let p = with_constraints("p", vec![honor]);
    let (state, infos, _) = prepared(&p, nodes());
    assert_eq!(verdicts(&state, &p, &infos)[..2], [Ok(()), Ok(())]);
}

#[test]
fn node_affinity_policy_honor_leaves_unselected_nodes_out_of_the_domains() {
    let mut p = with_constraints("p", vec![spread(LABEL_ZONE, 1, "DoNotSchedule")]);
    p.spec.node_selector.insert("disk".into(), "ssd".into());
    let mut a1 = zoned("a1", "a");
    a1.metadata.labels.insert("disk".into(), "ssd".into());
    let mut b1 = zoned("b1", "b");
    b1.metadata.labels.insert("disk".into(), "ssd".into());
    // c1 lacks the label: with Honor its zone is no domain, so the minimum is 1.
    let nodes = vec![
        (a1, vec![web("w0"), web("w1")]),
        (b1, vec![web("w2")]),
        (zoned("c1", "c"), vec![]),
    ];
    let (state, infos, _) = prepared(&p, nodes.clone());
    assert_eq!(
        verdicts(&state, &p, &infos)[..2],
        [Err(NOT_MATCH.into()), Ok(())]
    );
    let mut ignore = spread(LABEL_ZONE, 1, "DoNotSchedule");
    ignore.node_affinity_policy = Some("Ignore".into());
    p.spec.topology_spread_constraints = vec![ignore];
    let (state, infos, _) = prepared(&p, nodes);
    assert_eq!(
        verdicts(&state, &p, &infos)[..2],
        [Err(NOT_MATCH.into()), Err(NOT_MATCH.into())]
    );
}

#[test]
fn missing_topology_label_is_unresolvable() {
    let p = with_constraints("p", vec![spread(LABEL_ZONE, 1, "DoNotSchedule")]);
    let (state, infos, _) = prepared(
        &p,
        vec![(zoned("a1", "a"), vec![]), (node("x1", "4", "8Gi"), vec![])],
    );
    let err = PodTopologySpread::default()
        .filter(&state, &p, &infos[1])
        .unwrap_err();
    assert_eq!(
        err.code,
        crate::control::scheduler::framework::Code::UnschedulableAndUnresolvable
    );
    assert_eq!(
        err.reasons,
        vec!["node(s) didn't match pod topology spread constraints (missing required label)"]
    );
}

#[test]
fn min_domains_treats_the_global_minimum_as_zero() {
    let mut c = spread(LABEL_ZONE, 1, "DoNotSchedule");
    c.min_domains = Some(3);
    let p = with_constraints("p", vec![c]);
    // Two domains with one pod each: without minDomains the minimum is 1 and both fit.
    let (state, infos, _) = prepared(
        &p,
        vec![
            (zoned("a1", "a"), vec![web("w0")]),
            (zoned("b1", "b"), vec![web("w1")]),
        ],
    );
    assert_eq!(
        verdicts(&state, &p, &infos),
        vec![Err(NOT_MATCH.into()), Err(NOT_MATCH.into())]
    );
}

#[test]
fn terminating_pods_and_other_namespaces_are_not_counted() {
    let p = with_constraints("p", vec![spread(LABEL_ZONE, 1, "DoNotSchedule")]);
    let mut leaving = web("w0");
    leaving.metadata.deletion_timestamp = Some(crate::api::Timestamp::default());
    let mut elsewhere = web("w1");
    elsewhere.metadata.namespace = "other".into();
    let (state, infos, _) = prepared(
        &p,
        vec![
            (zoned("a1", "a"), vec![leaving, elsewhere]),
            (zoned("b1", "b"), vec![]),
        ],
    );
    assert_eq!(verdicts(&state, &p, &infos), vec![Ok(()), Ok(())]);
}

#[test]
fn match_label_keys_narrow_the_selector_to_the_pods_revision() {
    let mut c = spread(LABEL_ZONE, 1, "DoNotSchedule");
    c.match_label_keys = vec!["controller-revision-hash".into()];
    let mut p = with_constraints("p", vec![c]);
    p.metadata
        .labels
        .insert("controller-revision-hash".into(), "v2".into());
    let mut old = web("w0");
    old.metadata
        .labels
        .insert("controller-revision-hash".into(), "v1".into());
    // The old revision's pod in zone a does not count against the new one.
    let (state, infos, _) = prepared(
        &p,
        vec![(zoned("a1", "a"), vec![old]), (zoned("b1", "b"), vec![])],
    );
    assert_eq!(verdicts(&state, &p, &infos), vec![Ok(()), Ok(())]);
}

#[test]
fn pods_without_hard_constraints_skip_the_filter() {
    let p = web("p");
    let (_, _, pre) = prepared(&p, vec![(zoned("a1", "a"), vec![])]);
    assert_eq!(pre, PreFilterResult::Skip);
    let soft = with_constraints("p", vec![spread(LABEL_ZONE, 1, "ScheduleAnyway")]);
    let (_, _, pre) = prepared(&soft, vec![(zoned("a1", "a"), vec![])]);
    assert_eq!(pre, PreFilterResult::Skip);
}

fn stateful_set_pod(name: &str) -> Pod {
    let mut p = web(name);
    p.metadata
        .owner_references
        .push(crate::api::OwnerReference {
            api_version: "apps/v1".into(),
            kind: "StatefulSet".into(),
            name: "web".into(),
            uid: "set-uid".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        });
    p
}

fn web_set() -> Rc<StatefulSet> {
    let mut set = StatefulSet::default();
    set.metadata.namespace = "default".into();
    set.metadata.name = "web".into();
    set.spec.selector.match_labels = [("app".to_string(), "web".to_string())].into();
    Rc::new(set)
}

#[test]
fn system_default_spread_is_soft_and_prefers_emptier_nodes() {
    let p = stateful_set_pod("web-1");
    let infos = [
        info(zoned("a1", "a"), &[stateful_set_pod("web-0")]),
        info(zoned("a2", "a"), &[]),
    ];
    let cluster = ClusterView {
        nodes: infos.iter().cloned().map(Rc::new).collect(),
        services: vec![],
        stateful_sets: vec![web_set()],
    };
    let state = CycleState::new(&p).with_cluster(cluster);
    // Soft: nothing to filter.
    assert_eq!(
        PodTopologySpread::default().pre_filter(&state, &p),
        PreFilterResult::Skip
    );
    // hostname (maxSkew 3, weight ln 4) + zone (maxSkew 5, weight ln 3): a1 scores
    // round(1·1.386 + 2 + 1·1.099 + 4) = 8, a2 round(0 + 2 + 1.099 + 4) = 7; normalised
    // 100·(8+7-8)/8 = 87 and 100.
    let scores = PodTopologySpread::default().score(&state, &p, &[&infos[0], &infos[1]]);
    assert_eq!(scores, Some(vec![87, 100]));
    // A pod that no Service or StatefulSet selects gets no default constraints.
    let lone = web("lone");
    let empty = CycleState::new(&lone).with_cluster(ClusterView {
        nodes: state.cluster.nodes.clone(),
        ..Default::default()
    });
    assert_eq!(
        PodTopologySpread::default().score(&empty, &lone, &[&infos[0]]),
        None
    );
}

#[test]
fn default_selector_ands_services_and_stateful_sets() {
    let p = stateful_set_pod("web-0");
    let mut svc = Service::default();
    svc.metadata.namespace = "default".into();
    svc.spec.selector = [("app".to_string(), "web".to_string())].into();
    let mut other = Service::default();
    other.metadata.namespace = "default".into();
    other.spec.selector = [("app".to_string(), "db".to_string())].into();
    let cluster = ClusterView {
        nodes: vec![],
        services: vec![Rc::new(svc), Rc::new(other)],
        stateful_sets: vec![web_set()],
    };
    let sel = default_selector(&p, &cluster);
    assert_eq!(sel.match_labels.len(), 1);
    assert_eq!(sel.match_expressions.len(), 1);
    assert!(sel.matches(&p.metadata.labels));
}

#[test]
fn soft_zone_spread_scores_the_empty_zone_highest() {
    let p = with_constraints("p", vec![spread(LABEL_ZONE, 1, "ScheduleAnyway")]);
    let infos = [
        info(zoned("a1", "a"), &[web("w0"), web("w1")]),
        info(zoned("b1", "b"), &[web("w2")]),
        info(zoned("c1", "c"), &[]),
    ];
    let state = CycleState::new(&p).with_cluster(ClusterView {
        nodes: infos.iter().cloned().map(Rc::new).collect(),
        ..Default::default()
    });
    // weight ln 5 = 1.609: raw 3, 2, 0 → 100·(3+0-s)/3.
    let scores = PodTopologySpread::default()
        .score(&state, &p, &[&infos[0], &infos[1], &infos[2]])
        .unwrap();
    assert_eq!(scores, vec![0, 33, 100]);
}

#[test]
fn requeue_on_matching_pod_changes_and_relevant_node_changes() {
    let p = with_constraints("p", vec![spread(LABEL_ZONE, 1, "DoNotSchedule")]);
    let mut assigned = web("w0");
    assigned.spec.node_name = "a1".into();
    let ev = ClusterEvent::ASSIGNED_POD_DELETE;
    let gone = AnyObject::Pod(Rc::new(assigned.clone()));
    assert_eq!(
        PodTopologySpread::default().queueing_hint(&p, &ev, Some(&gone), None),
        QueueingHint::Queue
    );
    let mut stranger = pod("x", &[]);
    stranger.spec.node_name = "a1".into();
    let stranger = AnyObject::Pod(Rc::new(stranger));
    assert_eq!(
        PodTopologySpread::default().queueing_hint(&p, &ev, Some(&stranger), None),
        QueueingHint::QueueSkip
    );
    let added = AnyObject::Node(Rc::new(zoned("d1", "d")));
    let unlabelled = AnyObject::Node(Rc::new(node("x1", "1", "1Gi")));
    assert_eq!(
        PodTopologySpread::default().queueing_hint(&p, &ClusterEvent::NODE_ADD, None, Some(&added)),
        QueueingHint::Queue
    );
    assert_eq!(
        PodTopologySpread::default().queueing_hint(
            &p,
            &ClusterEvent::NODE_ADD,
            None,
            Some(&unlabelled)
        ),
        QueueingHint::QueueSkip
    );
}

/// One plugin scoring cycle after cycle (its kept label values and counts, the feasible
/// nodes being the cycle list's own, in rotation) scores as a fresh plugin does, while
/// nodes change zone, lose the label and gain pods.
#[test]
fn kept_labels_and_counts_score_as_a_fresh_plugin() {
    let p = with_constraints(
        "p",
        vec![
            spread(LABEL_ZONE, 1, "ScheduleAnyway"),
            spread(LABEL_HOSTNAME, 2, "ScheduleAnyway"),
        ],
    );
    let kept = PodTopologySpread::default();
    let mut cache = crate::control::scheduler::cache::Cache::default();
    let names = ["n0", "n1", "n2", "n3"];
    let zones = ["a", "b", "c"];
    for step in 0..12usize {
        for (i, name) in names.iter().enumerate() {
            let mut n = zoned(name, zones[(i + step / 3) % zones.len()]);
            n.metadata
                .labels
                .insert(LABEL_HOSTNAME.into(), (*name).into());
            if (i + step) % 5 == 0 {
                n.metadata.labels.remove(LABEL_ZONE);
            }
            // A new Node object only every other step: kept values are reused in between.
            if step % 2 == 0 || cache.get(name).is_none() {
                cache.set_node(&Rc::new(n));
            }
        }
        let mut w = web(&format!("w{step}"));
        w.metadata.uid = format!("w{step}");
        w.spec.node_name = names[step % names.len()].into();
        cache.add_pod(&Rc::new(w));
        let all = cache.shared_snapshot();
        let state = CycleState::new(&p).with_cluster(ClusterView {
            nodes: all.clone(),
            ..Default::default()
        });
        let start = step % all.len();
        let feasible: Vec<&NodeInfo> = (0..all.len())
            .filter(|i| (i + step) % 4 != 0)
            .map(|i| &*all[(start + i) % all.len()])
            .collect();
        let fresh = PodTopologySpread::default().score(&state, &p, &feasible);
        assert_eq!(kept.score(&state, &p, &feasible), fresh, "step {step}");
    }
}

/// Upstream's `calPreFilterState` and `Filter` as written there: every node's labels and
/// pods read afresh, counts in a map by topology value. The reference the kept domain
/// numbers, kept counts and PreFilter verdicts are checked against.
fn reference_filter(p: &Pod, all: &[Rc<NodeInfo>], n: &NodeInfo) -> Result<(), String> {
    let constraints = get_constraints(p, &ClusterView::default(), DO_NOT_SCHEDULE);
    let required = RequiredNodeAffinity::of(&p.spec);
    let ns = &p.metadata.namespace;
    let mut counts = vec![BTreeMap::<String, i64>::new(); constraints.len()];
    for info in all {
        let node = info.node();
        if !node_labels_match_spread_constraints(&node.metadata.labels, &constraints) {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if !c.match_node_inclusion_policies(p, node, &required) {
                continue;
            }
            let value = node.metadata.labels[&c.topology_key].clone();
            *counts[i].entry(value).or_insert(0) += count_pods_match_selector(info, c, ns);
        }
    }
    let labels = &n.node().metadata.labels;
    for (i, c) in constraints.iter().enumerate() {
        let Some(value) = labels.get(&c.topology_key) else {
            return Err(ERR_REASON_NODE_LABEL_NOT_MATCH.into());
        };
        let min = if (counts[i].len() as i64) < i64::from(c.min_domains) {
            0
        } else {
            counts[i].values().copied().min().unwrap_or(0)
        };
        let self_match = i64::from(c.matches(&p.metadata.labels));
        let match_num = counts[i].get(value).copied().unwrap_or(0);
        if match_num + self_match - min > i64::from(c.max_skew) {
            return Err(NOT_MATCH.into());
        }
    }
    Ok(())
}

/// One plugin kept over many cycles (nodes changing zone, losing the zone label, getting
/// tainted; pods coming, going and terminating; pods with zone, hostname, minDomains and
/// inclusion-policy constraints) answers as upstream's from-scratch computation, for the
/// list's own nodes in the framework's rotated order (the answers worked out at PreFilter)
/// and for copies of them (answered from their labels).
#[test]
fn kept_domains_and_verdicts_filter_as_a_fresh_computation() {
    let kept = PodTopologySpread::default();
    let mut cache = crate::control::scheduler::cache::Cache::default();
    let names = ["n0", "n1", "n2", "n3", "n4", "n5"];
    let zones = ["a", "b", "c"];
    let mut placed: Vec<Rc<Pod>> = Vec::new();
    for step in 0..24usize {
        for (i, name) in names.iter().enumerate() {
            if (i + step) % 3 != 0 && cache.get(name).is_some() {
                continue; // The same Node object: kept domains are reused.
            }
            let mut n = zoned(name, zones[(i + step / 4) % zones.len()]);
            if (i + step) % 7 == 0 {
                n.metadata.labels.remove(LABEL_ZONE);
            }
            if (i * step) % 5 == 1 {
                n.spec.taints = vec![taint("t", "", "NoSchedule")];
            }
            if i % 2 == 0 {
                n.metadata.labels.insert("disk".into(), "ssd".into());
            }
            cache.set_node(&Rc::new(n));
        }
        let mut w = web(&format!("w{step}"));
        w.metadata.uid = format!("w{step}");
        w.spec.node_name = names[(step * 5) % names.len()].into();
        if step % 6 == 5 {
            w.metadata.deletion_timestamp = Some(crate::api::Timestamp::default());
        }
        let w = Rc::new(w);
        cache.add_pod(&w);
        placed.push(w);
        if step % 4 == 3 {
            let gone = placed.remove(step % placed.len());
            cache.remove_pod(&gone);
        }
        let mut zone = spread(LABEL_ZONE, 1 + (step % 2) as i32, "DoNotSchedule");
        if step % 3 == 0 {
            zone.min_domains = Some(3);
        }
        if step % 5 == 0 {
            zone.node_taints_policy = Some("Honor".into());
        }
        let host = spread(LABEL_HOSTNAME, 1, "DoNotSchedule");
        let mut p = match step % 4 {
            0 => with_constraints("p", vec![zone]),
            1 => with_constraints("p", vec![host]),
            2 => with_constraints("p", vec![zone, host]),
            _ => with_constraints("p", vec![host, zone]),
        };
        if step % 4 == 2 {
            p.spec.node_selector.insert("disk".into(), "ssd".into());
        }
        let all = cache.shared_snapshot();
        let state = CycleState::new(&p).with_cluster(ClusterView {
            nodes: all.clone(),
            ..Default::default()
        });
        assert_eq!(kept.pre_filter(&state, &p), PreFilterResult::AllNodes);
        let start = step % all.len();
        for i in (0..all.len()).filter(|i| (i + step) % 4 != 1) {
            let n = &all[(start + i) % all.len()];
            let want = reference_filter(&p, &all, n);
            let got = kept.filter(&state, &p, n).map_err(|r| r.message());
            assert_eq!(got, want, "step {step}, node {}", n.name);
            let copy = (**n).clone();
            let got = kept.filter(&state, &p, &copy).map_err(|r| r.message());
            assert_eq!(got, want, "step {step}, copy of {}", n.name);
        }
    }
}

/// Upstream's PreScore, Score and NormalizeScore as written there: every node's labels
/// and pods read afresh, counts in maps by topology value. The reference for the kept
/// domain numbers and counts.
fn reference_score(p: &Pod, state: &CycleState, nodes: &[&NodeInfo]) -> Option<Vec<i64>> {
    let all = &state.cluster.nodes;
    if all.is_empty() {
        return None;
    }
    let require_all = !p.spec.topology_spread_constraints.is_empty();
    let constraints = get_constraints(p, &state.cluster, SCHEDULE_ANYWAY);
    if constraints.is_empty() {
        return None;
    }
    let ns = &p.metadata.namespace;
    let value = |n: &NodeInfo, c: &Constraint| {
        let labels = &n.node().metadata.labels;
        labels.get(&c.topology_key).cloned()
    };
    let has_all = |n: &NodeInfo| constraints.iter().all(|c| value(n, c).is_some());
    let is_host = |c: &Constraint| c.topology_key == LABEL_HOSTNAME;
    let mut ignored = std::collections::BTreeSet::new();
    let mut counts = vec![BTreeMap::<String, i64>::new(); constraints.len()];
    for n in nodes {
        if require_all && !has_all(n) {
            ignored.insert(n.name.clone());
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if !is_host(c) {
                counts[i]
                    .entry(value(n, c).unwrap_or_default())
                    .or_insert(0);
            }
        }
    }
    let weights: Vec<f64> = constraints
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let size = if is_host(c) {
                nodes.len() - ignored.len()
            } else {
                counts[i].len()
            };
            topology_normalizing_weight(size)
        })
        .collect();
    let required = RequiredNodeAffinity::of(&p.spec);
    for info in all {
        if require_all && !has_all(info) {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if is_host(c) || !c.match_node_inclusion_policies(p, info.node(), &required) {
                continue;
            }
            if let Some(n) = counts[i].get_mut(&value(info, c).unwrap_or_default()) {
                *n += count_pods_match_selector(info, c, ns);
            }
        }
    }
    let raw: Vec<Option<i64>> = nodes
        .iter()
        .map(|n| {
            if ignored.contains(&n.name) {
                return None;
            }
            let mut score = 0.0;
            for (i, c) in constraints.iter().enumerate() {
                let Some(v) = value(n, c) else {
                    continue;
                };
                let cnt = if is_host(c) {
                    count_pods_match_selector(n, c, ns)
                } else {
                    counts[i].get(&v).copied().unwrap_or(0)
                };
                score += score_for_count(cnt, c.max_skew, weights[i]);
            }
            Some(score.round() as i64)
        })
        .collect();
    Some(normalize_score(raw))
}

/// One plugin kept over many cycles scores as upstream's from-scratch computation: pods
/// with their own soft constraints (every label required) and StatefulSet pods under the
/// system defaults (a node without a zone label in the domain ""; one node labelled "" too),
/// nodes changing zone and losing labels, pods coming and going, the feasible nodes a
/// rotated subset of the list or copies from elsewhere.
#[test]
fn kept_domains_score_as_a_fresh_computation() {
    let kept = PodTopologySpread::default();
    let mut cache = crate::control::scheduler::cache::Cache::default();
    let names = ["n0", "n1", "n2", "n3", "n4"];
    let zones = ["a", "b", "c", ""];
    let mut placed: Vec<Rc<Pod>> = Vec::new();
    for step in 0..30usize {
        for (i, name) in names.iter().enumerate() {
            if (i + step) % 3 != 0 && cache.get(name).is_some() {
                continue;
            }
            let mut n = zoned(name, zones[(i + step / 4) % zones.len()]);
            if (i + step) % 7 == 0 {
                n.metadata.labels.remove(LABEL_ZONE);
            }
            if (i + step) % 11 == 0 {
                n.metadata.labels.remove(LABEL_HOSTNAME);
            }
            if i == 1 {
                n.metadata.labels.insert("disk".into(), "ssd".into());
            }
            cache.set_node(&Rc::new(n));
        }
        let mut w = stateful_set_pod(&format!("w{step}"));
        w.metadata.uid = format!("w{step}");
        w.spec.node_name = names[(step * 3) % names.len()].into();
        let w = Rc::new(w);
        cache.add_pod(&w);
        placed.push(w);
        if step % 5 == 4 {
            let gone = placed.remove(step % placed.len());
            cache.remove_pod(&gone);
        }
        let mut p = match step % 3 {
            0 => stateful_set_pod("p"),
            1 => with_constraints(
                "p",
                vec![
                    spread(LABEL_ZONE, 1, "ScheduleAnyway"),
                    spread(LABEL_HOSTNAME, 2, "ScheduleAnyway"),
                ],
            ),
            _ => with_constraints("p", vec![spread(LABEL_ZONE, 2, "ScheduleAnyway")]),
        };
        if step % 4 == 1 {
            p.spec.node_selector.insert("disk".into(), "ssd".into());
        }
        let all = cache.shared_snapshot();
        let state = CycleState::new(&p).with_cluster(ClusterView {
            nodes: all.clone(),
            stateful_sets: vec![web_set()],
            ..Default::default()
        });
        let start = step % all.len();
        let copies: Vec<NodeInfo> = all.iter().map(|n| (**n).clone()).collect();
        let feasible: Vec<&NodeInfo> = (0..all.len())
            .filter(|i| (i + step) % 4 != 0)
            .map(|i| {
                let k = (start + i) % all.len();
                if (i + step) % 6 == 5 {
                    &copies[k]
                } else {
                    &*all[k]
                }
            })
            .collect();
        let want = reference_score(&p, &state, &feasible);
        assert!(want.is_some(), "step {step}");
        assert_eq!(kept.score(&state, &p, &feasible), want, "step {step}");
    }
}
