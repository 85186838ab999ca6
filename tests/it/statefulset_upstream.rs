//! Upstream controller-level (`pkg/controller/statefulset/stateful_set_test.go`) and e2e
//! (`test/e2e/apps/statefulset.go`) scenarios not already covered by the cases, run
//! black-box on the simulated cluster. Each test names the upstream test it ports.

use crate::sts_harness::*;
use stsim::api::{ControllerRevision, ObjectMeta, Pod, StatefulSet};
use stsim::apiserver::Propagation;

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

fn controller_uid(p: &Pod) -> Option<String> {
    p.metadata.controller_ref().map(|r| r.uid.clone())
}

// ---------------------------------------------------------------------------------------
// test/e2e/apps/statefulset.go

/// e2e "should provide basic identity": stable hostnames and subdomain; after a restart
/// (scale to 0 and back) every pod gets its own claim back.
#[test]
fn should_provide_basic_identity() {
    let mut h = Cluster::manual();
    h.bring_up(web(3));
    let claims: Vec<String> = (0..3)
        .map(|i| {
            h.claim(&format!("www-web-{i}"))
                .unwrap()
                .metadata
                .uid
                .clone()
        })
        .collect();
    for i in 0..3 {
        let name = format!("web-{i}");
        let p = h.pod(&name).unwrap();
        assert_eq!(p.spec.hostname, name, "CheckHostname");
        assert_eq!(p.spec.subdomain, "nginx", "CheckServiceName");
        assert_eq!(
            p.claim_names().collect::<Vec<_>>(),
            [format!("www-web-{i}").as_str()],
            "CheckMount"
        );
    }
    // e2estatefulset.Restart: scale to 0, wait, scale back.
    h.patch(|s| s.spec.replicas = Some(0));
    h.converge();
    assert!(h.pods().is_empty());
    h.patch(|s| s.spec.replicas = Some(3));
    h.converge();
    assert_eq!(h.status().ready_replicas, 3);
    for (i, uid) in claims.iter().enumerate() {
        let name = format!("web-{i}");
        let p = h.pod(&name).unwrap();
        assert_eq!(p.spec.hostname, name);
        let claim = format!("www-web-{i}");
        assert_eq!(p.claim_names().collect::<Vec<_>>(), [claim.as_str()]);
        assert_eq!(&h.claim(&claim).unwrap().metadata.uid, uid, "same data");
    }
}

/// e2e "should adopt matching orphans and release non-matching pods".
#[test]
fn should_adopt_matching_orphans_and_release_non_matching_pods() {
    let mut h = Cluster::manual();
    h.bring_up(web(1));
    let set_uid = h.set().metadata.uid.clone();
    let pod = h.pod("web-0").unwrap();
    let r = pod
        .metadata
        .controller_ref()
        .expect("created with a ControllerRef");
    assert_eq!(
        (r.kind.as_str(), r.name.as_str(), r.uid.as_str()),
        ("StatefulSet", "web", set_uid.as_str())
    );
    // Orphaning one of the stateful set's pods: readopted.
    h.edit::<Pod>("web-0", |p| p.metadata.owner_references.clear());
    h.settle();
    assert_eq!(
        controller_uid(&h.pod("web-0").unwrap()),
        Some(set_uid.clone())
    );
    // Removing the labels: released.
    let labels = h.pod("web-0").unwrap().metadata.labels.clone();
    h.edit::<Pod>("web-0", |p| p.metadata.labels.clear());
    h.settle();
    assert_eq!(controller_uid(&h.pod("web-0").unwrap()), None, "released");
    // Re-adding the labels: readopted.
    h.edit::<Pod>("web-0", |p| p.metadata.labels = labels);
    h.settle();
    h.advance(secs(30));
    assert_eq!(controller_uid(&h.pod("web-0").unwrap()), Some(set_uid));
}

/// e2e "should not deadlock when a pod's predecessor fails": with web-1 unhealthy, a
/// deleted web-0 is still recreated, because the scan starts at the lowest ordinal.
#[test]
fn should_not_deadlock_when_a_pods_predecessor_fails() {
    let mut h = Cluster::manual();
    h.apply(web(2));
    h.settle();
    h.run("web-0"); // PauseNewPods: Running, not Ready
    h.settle();
    h.ready("web-0"); // ResumeNextPod
    h.settle();
    h.run("web-1"); // running, paused
    h.settle();
    h.mark();
    // Deleting the healthy stateful pod at index 0.
    h.delete("web-0");
    h.settle();
    h.finish_termination("web-0");
    h.settle();
    assert_eq!(
        h.new_op_texts(),
        strs(&["create pod web-0"]),
        "web-0 recreated while web-1 is unhealthy"
    );
    h.run("web-0");
    h.ready("web-1");
    h.ready("web-0");
    h.settle();
    assert_eq!(h.status().ready_replicas, 2);
    assert!(h.is_ready("web-0") && h.is_ready("web-1"));
}

/// e2e Conformance "should perform rolling updates and roll backs of template
/// modifications" (`rollbackTest`): with web-1 unready the update does not start; then pods
/// are updated in reverse ordinal order; reverting the template is a rollback to the prior
/// revision (same name), again in reverse order.
#[test]
fn should_perform_rolling_updates_and_roll_backs_of_template_modifications() {
    let mut h = Cluster::manual();
    h.bring_up(web(3));
    let st = h.status();
    assert_eq!(st.current_revision, st.update_revision);
    let r1 = st.current_revision.clone();
    for i in 0..3 {
        assert_eq!(h.revision_of(&format!("web-{i}")), r1);
    }
    h.unready("web-1"); // breakPodHTTPProbe
    h.settle();
    h.mark();
    h.patch(|s| set_image(s, IMAGE_2));
    h.settle();
    let st = h.status();
    assert_ne!(st.current_revision, st.update_revision, "a new revision");
    let r2 = st.update_revision.clone();
    h.advance(secs(60));
    assert!(h.new_ops().is_empty(), "no update while web-1 is not Ready");
    h.ready("web-1"); // restorePodHTTPProbe
    h.converge();
    let pod_ops: Vec<String> = texts(&h.new_ops());
    assert_eq!(
        pod_ops,
        strs(&[
            "delete pod web-2",
            "create pod web-2",
            "delete pod web-1",
            "create pod web-1",
            "delete pod web-0",
            "create pod web-0"
        ]),
        "updating pods in reverse ordinal order"
    );
    assert_eq!(h.status().current_revision, r2);
    for i in 0..3 {
        let name = format!("web-{i}");
        assert_eq!(h.image_of(&name), IMAGE_2);
        assert_eq!(h.revision_of(&name), r2);
    }
    // Rolling back to a previous revision.
    h.unready("web-1");
    h.settle();
    h.patch(|s| set_image(s, IMAGE_1));
    h.settle();
    let st = h.status();
    assert_eq!(st.update_revision, r1, "the prior revision");
    assert_ne!(st.current_revision, st.update_revision);
    h.ready("web-1");
    h.converge();
    assert_eq!(
        texts(&h.new_ops()),
        strs(&[
            "delete pod web-2",
            "create pod web-2",
            "delete pod web-1",
            "create pod web-1",
            "delete pod web-0",
            "create pod web-0"
        ]),
        "rolling back in reverse ordinal order"
    );
    assert_eq!(h.status().current_revision, r1);
    for i in 0..3 {
        let name = format!("web-{i}");
        assert_eq!(h.image_of(&name), IMAGE_1);
        assert_eq!(h.revision_of(&name), r1);
    }
}

/// e2e Conformance "should perform canary updates and phased rolling updates of template
/// modifications": partition 3 updates nothing; partition 2 updates web-2 only; deleted
/// pods come back at the revision their side of the partition says; lowering the
/// partition step by step completes the update.
#[test]
fn should_perform_canary_updates_and_phased_rolling_updates_of_template_modifications() {
    let mut h = Cluster::manual();
    let mut s = web(3);
    set_partition(&mut s, 3);
    h.bring_up(s);
    let r1 = h.status().current_revision;
    h.patch(|s| set_image(s, IMAGE_2));
    h.converge();
    let st = h.status();
    let r2 = st.update_revision.clone();
    assert_ne!(r1, r2);
    for i in 0..3 {
        assert_eq!(
            h.revision_of(&format!("web-{i}")),
            r1,
            "partition > replicas"
        );
    }
    let check = |h: &Cluster, partition: usize| {
        for i in 0..3 {
            let name = format!("web-{i}");
            let (rev, image) = if i < partition {
                (&r1, IMAGE_1)
            } else {
                (&r2, IMAGE_2)
            };
            assert_eq!(
                &h.revision_of(&name),
                rev,
                "{name} at partition {partition}"
            );
            assert_eq!(h.image_of(&name), image);
        }
    };
    // Performing a canary update.
    h.patch(|s| set_partition(s, 2));
    h.converge();
    check(&h, 2);
    // Restoring pods to the correct revision when they are deleted.
    h.delete("web-0");
    h.delete("web-2");
    h.converge();
    check(&h, 2);
    // Performing a phased rolling update.
    for p in [1, 0] {
        h.patch(|s| set_partition(s, p));
        h.converge();
        check(&h, p as usize);
    }
    assert_eq!(h.status().current_revision, r2, "completed");
}

fn on_delete(mut s: StatefulSet) -> StatefulSet {
    s.spec.update_strategy.type_ = "OnDelete".into();
    s.spec.update_strategy.rolling_update = None;
    s
}

fn delete_all_and_converge(h: &mut Cluster) {
    for i in 0..3 {
        h.delete(&format!("web-{i}"));
    }
    h.converge();
}

/// e2e "should implement legacy replacement when the update strategy is OnDelete":
/// deleted pods come back at the current revision; after a template change nothing is
/// replaced until pods are deleted, and then they come back at the new revision. With 1.36
/// `currentRevision` never advances (issue #73492).
#[test]
fn should_implement_legacy_replacement_when_the_update_strategy_is_on_delete() {
    let mut h = Cluster::manual();
    h.bring_up(on_delete(web(3)));
    let st = h.status();
    assert_eq!(st.current_revision, st.update_revision);
    let r1 = st.current_revision.clone();
    delete_all_and_converge(&mut h);
    for i in 0..3 {
        assert_eq!(
            h.revision_of(&format!("web-{i}")),
            r1,
            "restored to the current revision"
        );
    }
    h.mark();
    h.patch(|s| set_image(s, IMAGE_2));
    h.settle();
    h.advance(secs(600));
    assert!(
        h.new_ops().is_empty(),
        "OnDelete: the controller deletes nothing"
    );
    let st = h.status();
    assert_ne!(st.current_revision, st.update_revision);
    let r2 = st.update_revision.clone();
    delete_all_and_converge(&mut h);
    for i in 0..3 {
        let name = format!("web-{i}");
        assert_eq!(h.image_of(&name), IMAGE_2);
        assert_eq!(h.revision_of(&name), r2);
    }
    let st = h.status();
    assert_eq!(st.updated_replicas, 3);
    assert_eq!(
        st.current_revision, r1,
        "1.36: never advanced under OnDelete"
    );
}

/// The same on 1.37 (PR #136833): once every pod runs the update revision,
/// `currentRevision` advances under OnDelete too.
#[test]
fn should_implement_legacy_replacement_when_the_update_strategy_is_on_delete_v1_37() {
    let mut h = Cluster::builder().version("1.37").build();
    h.bring_up(on_delete(web(3)));
    h.patch(|s| set_image(s, IMAGE_2));
    h.converge();
    let r2 = h.status().update_revision;
    h.delete("web-2");
    h.converge();
    assert_ne!(h.status().current_revision, r2, "not all pods updated yet");
    h.delete("web-1");
    h.delete("web-0");
    h.converge();
    let st = h.status();
    assert_eq!(st.current_revision, r2);
    assert_eq!(st.current_replicas, 3);
}

/// e2e Conformance "Scaling should happen in predictable order and halt if any stateful pod
/// is unhealthy".
#[test]
fn scaling_should_happen_in_predictable_order_and_halt_if_any_stateful_pod_is_unhealthy() {
    let mut h = Cluster::manual();
    h.bring_up(web(1));
    // Scale-up halts with an unhealthy pod.
    h.unready("web-0");
    h.settle();
    assert_eq!(h.status().ready_replicas, 0);
    h.patch(|s| s.spec.replicas = Some(3));
    h.settle();
    h.advance(secs(10));
    assert_eq!(h.pods().len(), 1, "confirmStatefulPodCount(1)");
    h.ready("web-0");
    h.converge();
    assert_eq!(h.status().ready_replicas, 3);
    let added: Vec<String> = h
        .lines()
        .iter()
        .filter(|l| l.is_write() && l.kind == "Pod" && l.verb == "create")
        .map(|l| l.name.clone())
        .collect();
    assert_eq!(
        added,
        strs(&["web-0", "web-1", "web-2"]),
        "scaled up in order"
    );
    // Scale-down halts with unhealthy pods.
    for i in 0..3 {
        h.unready(&format!("web-{i}"));
    }
    h.settle();
    assert_eq!(h.status().ready_replicas, 0);
    h.patch(|s| s.spec.replicas = Some(0));
    h.settle();
    h.advance(secs(10));
    assert_eq!(h.pods().len(), 3, "confirmStatefulPodCount(3)");
    for i in 0..3 {
        h.ready(&format!("web-{i}"));
    }
    let from = h.now();
    h.converge();
    assert!(h.pods().is_empty());
    let mut deleted: Vec<(stsim::time::SimTime, String)> = (0..3)
        .map(|i| {
            let name = format!("web-{i}");
            (
                *h.removed_at(&name).iter().find(|t| **t >= from).unwrap(),
                name,
            )
        })
        .collect();
    deleted.sort();
    let order: Vec<&str> = deleted.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        order,
        ["web-2", "web-1", "web-0"],
        "scaled down in reverse order"
    );
}

/// e2e Conformance "Burst scaling should run to completion even with unhealthy pods".
#[test]
fn burst_scaling_should_run_to_completion_even_with_unhealthy_pods() {
    let mut h = Cluster::manual();
    h.bring_up(parallel(web(1)));
    h.unready("web-0");
    h.settle();
    h.patch(|s| s.spec.replicas = Some(3));
    h.settle();
    assert_eq!(h.pods().len(), 3, "scale-up does not halt");
    h.converge();
    h.ready("web-0");
    h.settle();
    assert_eq!(h.status().ready_replicas, 3);
    for i in 0..3 {
        h.unready(&format!("web-{i}"));
    }
    h.settle();
    h.mark();
    h.patch(|s| s.spec.replicas = Some(0));
    h.settle();
    assert_eq!(
        h.new_op_texts(),
        strs(&["delete pod web-2", "delete pod web-1", "delete pod web-0"]),
        "scale-down does not halt"
    );
    h.converge();
    assert!(h.pods().is_empty());
    assert_eq!(h.status().replicas, 0);
}

/// e2e Conformance "Should recreate evicted statefulset": a pod the kubelet rejects (phase
/// Failed) is deleted and recreated, again and again, until it can run; the running pod
/// has a new uid.
#[test]
fn should_recreate_evicted_statefulset() {
    let mut h = Cluster::manual();
    h.apply(web(1));
    h.settle();
    let initial = h.pod("web-0").unwrap().metadata.uid.clone();
    let mut uids = vec![initial.clone()];
    for _ in 0..3 {
        h.fail("web-0"); // rejected: the host port is taken
        h.settle();
        let uid = h.pod("web-0").expect("recreated").metadata.uid.clone();
        assert!(!uids.contains(&uid), "a new pod each time");
        uids.push(uid);
    }
    // The conflicting pod is removed: the pod runs.
    h.run_ready("web-0");
    h.settle();
    let p = h.pod("web-0").unwrap();
    assert_eq!(p.status.phase, "Running");
    assert_ne!(p.metadata.uid, initial);
}

/// e2e "PVC should be recreated when pod is pending due to missing PVC": with the
/// node cordoned the recreated pod stays Pending and unscheduled, so PVC protection lets
/// its claim go; once the node is uncordoned the scheduler's binding is a pod event, and
/// that sync gives the Pending pod a new claim.
#[test]
fn pvc_should_be_recreated_when_pod_is_pending_due_to_missing_pvc() {
    let mut h = Cluster::manual();
    h.bring_up(web(1));
    let old = h.claim("www-web-0").unwrap().metadata.uid.clone();
    h.cordon_all(true);
    h.delete("web-0");
    h.finish_termination("web-0");
    h.settle();
    let p = h.pod("web-0").expect("recreated");
    assert_eq!(p.status.phase, "Pending");
    assert!(p.spec.node_name.is_empty(), "unschedulable while cordoned");
    h.mark();
    h.delete_obj::<stsim::api::PersistentVolumeClaim>("www-web-0", Default::default());
    h.until(secs(60), |h| h.claim("www-web-0").is_none());
    h.cordon_all(false);
    h.until(secs(60), |h| h.claim("www-web-0").is_some());
    assert_eq!(h.new_op_texts(), strs(&["create pvc www-web-0"]));
    assert_ne!(h.claim("www-web-0").unwrap().metadata.uid, old);
    h.until(secs(60), |h| {
        !h.pod("web-0").unwrap().spec.node_name.is_empty()
    });
    h.run_ready("web-0");
    h.settle();
    assert_eq!(h.status().ready_replicas, 1);
}

/// e2e "Setting .start.ordinal": replicas 2 → 3 with start 2 gives ss-2, ss-3, ss-4.
#[test]
fn setting_start_ordinal() {
    let mut h = Cluster::manual();
    h.bring_up(web(2));
    assert_eq!(h.pod_names(), strs(&["web-0", "web-1"]));
    h.patch(|s| {
        s.spec.ordinals = Some(stsim::api::statefulset::StatefulSetOrdinals { start: 2 });
        s.spec.replicas = Some(3);
    });
    h.converge();
    assert_eq!(h.pod_names(), strs(&["web-2", "web-3", "web-4"]));
    let st = h.status();
    assert_eq!((st.replicas, st.ready_replicas), (3, 3));
}

/// e2e "Increasing .start.ordinal": start 2 → 4 with 2 replicas gives ss-4, ss-5.
#[test]
fn increasing_start_ordinal() {
    let mut h = Cluster::manual();
    let mut s = web(2);
    s.spec.ordinals = Some(stsim::api::statefulset::StatefulSetOrdinals { start: 2 });
    h.bring_up(s);
    assert_eq!(h.pod_names(), strs(&["web-2", "web-3"]));
    h.patch(|s| s.spec.ordinals = Some(stsim::api::statefulset::StatefulSetOrdinals { start: 4 }));
    h.converge();
    assert_eq!(h.pod_names(), strs(&["web-4", "web-5"]));
    let st = h.status();
    assert_eq!((st.replicas, st.ready_replicas), (2, 2));
}

/// e2e "AvailableReplicas should get updated accordingly when MinReadySeconds is enabled"
/// (and "MinReadySeconds should be honored when enabled").
#[test]
fn available_replicas_should_get_updated_accordingly_when_min_ready_seconds_is_enabled() {
    let mut h = Cluster::manual();
    let mut s = web(2);
    s.spec.min_ready_seconds = 10;
    h.apply(s);
    h.settle();
    h.run_ready("web-0");
    h.settle();
    assert_eq!(
        h.status().available_replicas,
        0,
        "not before minReadySeconds"
    );
    h.until(secs(60), |h| h.pod("web-1").is_some());
    h.settle();
    h.run_ready("web-1");
    h.until(secs(60), |h| h.status().available_replicas == 2);
    h.patch(|s| s.spec.min_ready_seconds = 3600);
    h.settle();
    assert_eq!(
        h.status().available_replicas,
        0,
        "not available for an hour"
    );
    h.patch(|s| s.spec.min_ready_seconds = 0);
    h.settle();
    assert_eq!(h.status().available_replicas, 2);
}

// ---------------------------------------------------------------------------------------
// pkg/controller/statefulset/stateful_set_test.go

/// `TestStatefulSetControllerDeletes`: scaling 3 → 0 leaves status.replicas 0.
#[test]
fn test_stateful_set_controller_deletes() {
    let mut h = Cluster::manual();
    h.bring_up(web(3));
    assert_eq!(h.status().replicas, 3);
    h.patch(|s| s.spec.replicas = Some(0));
    h.converge();
    assert_eq!(h.status().replicas, 0);
    assert!(h.pods().is_empty());
}

/// A pod of `web` created by the test (as `newStatefulSetPod`), bound to a node.
fn member_pod(h: &Cluster, ordinal: i32, owned: bool) -> Pod {
    let set = h.set();
    let mut p = Pod {
        metadata: ObjectMeta::named(NS, &format!("web-{ordinal}")),
        ..Default::default()
    };
    p.metadata.labels = set.spec.template.metadata.labels.clone();
    if owned {
        p.metadata
            .owner_references
            .push(stsim::api::OwnerReference {
                api_version: "apps/v1".into(),
                kind: "StatefulSet".into(),
                name: "web".into(),
                uid: set.metadata.uid.clone(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            });
    }
    p.spec = set.spec.template.spec.clone();
    p.spec.node_name = "w-a-1".into();
    p
}

/// `TestStatefulSetControllerRespectsTermination`: terminating pods above the range are
/// waited for, not deleted again; once gone, the scale-down to 0 completes.
#[test]
fn test_stateful_set_controller_respects_termination() {
    let mut h = Cluster::manual();
    h.bring_up(web(3));
    for i in [3, 4] {
        let p = member_pod(&h, i, true);
        h.apply(p);
        h.delete(&format!("web-{i}"));
    }
    h.mark();
    h.settle();
    h.advance(secs(60));
    assert_eq!(h.pods().len(), 5, "StatefulSet respects termination");
    assert!(h.new_ops().is_empty());
    h.finish_termination("web-3");
    h.finish_termination("web-4");
    h.patch(|s| s.spec.replicas = Some(0));
    h.converge();
    assert_eq!(h.status().replicas, 0);
}

/// `TestStatefulSetControllerDeletionTimestamp`: a set being deleted gets no pods.
#[test]
fn test_stateful_set_controller_deletion_timestamp() {
    let mut h = Cluster::manual();
    let mut s = web(3);
    s.metadata.finalizers.push("test.stsim.io/hold".into());
    h.apply(s);
    h.delete_set(Propagation::Background);
    assert!(h.set().metadata.deletion_timestamp.is_some());
    h.settle();
    h.advance(secs(60));
    assert!(h.pods().is_empty());
    assert!(h.ops().is_empty());
}

/// `TestStatefulSetControllerDeletionTimestampRace`: the cache still shows the set alive
/// but the API server says it is being deleted; the uncached recheck before adoption
/// (`canAdoptFunc`) keeps the orphan pod and the orphan revision unadopted, and no pod is
/// created.
#[test]
fn test_stateful_set_controller_deletion_timestamp_race() {
    let mut h = Cluster::manual();
    let mut orphan_pod = Pod {
        metadata: ObjectMeta::named(NS, "web-1"),
        ..Default::default()
    };
    orphan_pod
        .metadata
        .labels
        .insert("app".into(), "nginx".into());
    orphan_pod.spec = web(3).spec.template.spec;
    h.apply(orphan_pod);
    let mut revision = ControllerRevision {
        metadata: ObjectMeta::named(NS, "web-orphan"),
        revision: 1,
        data: serde_json::json!({"spec": {"template": {"$patch": "replace"}}}),
        ..Default::default()
    };
    revision
        .metadata
        .labels
        .insert("app".into(), "nginx".into());
    h.apply(revision);
    h.settle();
    let mut s = web(3);
    s.metadata.finalizers.push("test.stsim.io/hold".into());
    h.apply(s);
    // The controller's first sync comes 10 ms later (the watch delay): delete the set in
    // between, so that its cache still shows it alive.
    h.advance(millis(5));
    h.delete_set(Propagation::Background);
    h.settle();
    h.advance(secs(60));
    assert_eq!(h.pod_names(), strs(&["web-1"]), "no pod created");
    assert!(
        h.pod("web-1").unwrap().metadata.owner_references.is_empty(),
        "the orphan pod is not adopted"
    );
    let orphan = h.get::<ControllerRevision>("web-orphan").unwrap();
    assert!(
        orphan.metadata.owner_references.is_empty(),
        "the orphan revision is not adopted"
    );
}

/// `TestGetPodsForStatefulSetAdopt` / `TestGetPodsForStatefulSetRelease`: an orphan with
/// matching labels and name is adopted; orphans with other labels or names are ignored;
/// owned pods that lost the labels or carry another name are released.
#[test]
fn test_get_pods_for_stateful_set_adopt_and_release() {
    let mut h = Cluster::manual();
    let mut s = web(5);
    s.spec.replicas = Some(0);
    h.apply(s);
    h.settle();
    let set_uid = h.set().metadata.uid.clone();
    // Adopt: web-2 an orphan matching; web-3 an orphan with other labels; xweb-4 an orphan
    // with another name.
    h.apply(member_pod(&h, 2, false));
    let mut p3 = member_pod(&h, 3, false);
    p3.metadata.labels.clear();
    h.apply(p3);
    let mut p4 = member_pod(&h, 4, false);
    p4.metadata.name = "xweb-4".into();
    h.apply(p4);
    // Release: web-5 owned but unlabelled; xweb-6 owned with another name.
    let mut p5 = member_pod(&h, 5, true);
    p5.metadata.labels.clear();
    h.apply(p5);
    let mut p6 = member_pod(&h, 6, true);
    p6.metadata.name = "xweb-6".into();
    h.apply(p6);
    h.settle();
    let owner = |h: &Cluster, n: &str| controller_uid(&h.pod(n).unwrap());
    assert_eq!(owner(&h, "web-2"), Some(set_uid.clone()), "adopted");
    assert_eq!(owner(&h, "web-3"), None);
    assert_eq!(owner(&h, "xweb-4"), None);
    assert_eq!(owner(&h, "web-5"), None, "released: labels");
    assert_eq!(owner(&h, "xweb-6"), None, "released: name");
}

/// `TestAdoptOrphanRevisions`: an orphan ControllerRevision matching the selector is
/// adopted.
#[test]
fn test_adopt_orphan_revisions() {
    let mut h = Cluster::manual();
    let mut revision = ControllerRevision {
        metadata: ObjectMeta::named(NS, "web-orphan"),
        revision: 1,
        data: serde_json::json!({"spec": {"template": {"$patch": "replace"}}}),
        ..Default::default()
    };
    revision
        .metadata
        .labels
        .insert("app".into(), "nginx".into());
    h.apply(revision);
    h.apply(web(1));
    h.settle();
    let set_uid = h.set().metadata.uid.clone();
    let adopted = h.get::<ControllerRevision>("web-orphan").unwrap();
    assert_eq!(
        adopted.metadata.controller_ref().map(|r| r.uid.clone()),
        Some(set_uid)
    );
}

// ---------------------------------------------------------------------------------------
// Version switches

/// Issue #119234 ("Statefulset with podManagementPolicy=Parallel ignores minReadySeconds on
/// statefulset rollout update"), fixed in v1.34 by PR #130909 (`isUnavailable` replaced
/// `isHealthy` in the update path): before 1.34 the next old pod goes as soon as the new
/// one is Ready; from 1.34 only once it is available.
#[test]
fn parallel_rolling_update_honours_min_ready_seconds_from_v1_34() {
    for (version, waits) in [("1.33", false), ("1.36", true)] {
        let mut h = Cluster::builder().version(version).build();
        let mut s = parallel(web(3));
        s.spec.min_ready_seconds = 30;
        h.bring_up(s);
        h.advance(secs(60));
        h.patch(|s| set_image(s, IMAGE_2));
        h.settle();
        h.finish_termination("web-2");
        h.settle();
        h.mark();
        h.run_ready("web-2");
        let t = h.now();
        h.settle();
        let ops = h.new_ops();
        if waits {
            assert!(
                ops.is_empty(),
                "{version}: web-2 is not available yet: {ops:?}"
            );
            h.until(secs(120), |h| h.is_terminating("web-1"));
            let d = h.ops().last().unwrap().at;
            assert!(
                d > t + secs(29),
                "{version}: deleted {:?} after",
                d.saturating_since(t)
            );
        } else {
            assert_eq!(texts(&ops), ["delete pod web-1"], "{version}");
            assert_eq!(ops[0].at, t + millis(10), "{version}: at the next pass");
        }
    }
}
