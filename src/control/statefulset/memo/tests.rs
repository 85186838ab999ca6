//! The memo is exact: facts kept across syncs equal facts computed afresh, and a
//! controller that keeps its memo writes, notes and requeues exactly what one that forgets
//! it before every sync does.

use super::*;
use crate::api::pod::{
    Container, PersistentVolumeClaimVolumeSource, PodCondition, Volume, condition, phase,
};
use crate::api::statefulset::{
    RollingUpdateStatefulSetStrategy, StatefulSetOrdinals,
    StatefulSetPersistentVolumeClaimRetentionPolicy, names,
};
use crate::api::{ObjectMeta, OwnerReference, Timestamp};
use crate::apiserver::{Actor, ApiClient, ApiServer, DeleteOptions, Informer};
use crate::component::{Ctx, Note};
use crate::control::statefulset::retention::{
    ClaimOwnerFacts, has_owner_ref, has_stale_owner_ref, has_unexpected_controller,
    is_claim_owner_up_to_date, retention,
};
use crate::control::statefulset::revision::{apply_revision, new_revision, patch_bytes};
use crate::control::statefulset::utils::{
    CONTROLLER_KIND, POD_KIND, STATEFUL_SET_POD_NAME_LABEL, STATEFUL_SET_REVISION_LABEL,
    get_ordinal, get_pod_revision, identity_matches, is_created, is_failed, is_member_of,
    is_pending, is_running_and_available, is_running_and_ready, is_succeeded, is_terminating,
    is_unavailable, new_controller_ref, new_stateful_set_pod, pod_in_ordinal_range,
    storage_matches,
};
use crate::control::statefulset::{StatefulSetConfig, StatefulSetController};
use crate::control::{ControlTimer, Controller, Enqueue};
use crate::rng::{RngStreams, SimRng};
use crate::time::{SimDuration, SimTime};

fn secs(s: u64) -> SimTime {
    SimTime(s * 1_000_000_000)
}

fn set(name: &str, uid: &str, templates: &[&str]) -> StatefulSet {
    let mut s = StatefulSet {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    };
    s.metadata.uid = uid.into();
    s.spec.replicas = Some(3);
    s.spec
        .selector
        .match_labels
        .insert("app".into(), "nginx".into());
    s.spec
        .template
        .metadata
        .labels
        .insert("app".into(), "nginx".into());
    for t in templates {
        let mut claim = PersistentVolumeClaim::default();
        claim.metadata.name = (*t).into();
        s.spec.volume_claim_templates.push(claim);
    }
    s
}

/// Pods that differ in every way a fact can tell apart.
fn pod_variants(owner: &StatefulSet) -> Vec<Pod> {
    let mut out = Vec::new();
    let base = new_stateful_set_pod(owner, 1);
    for name in [
        "web-1",
        "web-01",
        "web",
        "other-2",
        "web-1-2",
        "web-2147483648",
    ] {
        for phase_ in ["", phase::PENDING, phase::RUNNING, phase::FAILED, "Unknown"] {
            for ready in [
                None,
                Some((true, Some(5))),
                Some((true, None)),
                Some((false, Some(5))),
            ] {
                let mut p = base.clone();
                p.metadata.name = name.into();
                p.metadata.uid = format!("uid-{name}");
                p.status.phase = phase_.into();
                if let Some((ready, at)) = ready {
                    p.status.conditions.push(PodCondition {
                        type_: condition::READY.into(),
                        status: if ready { "True" } else { "False" }.into(),
                        last_transition_time: at.map(|s| Timestamp(secs(s))),
                        ..Default::default()
                    });
                }
                out.push(p);
            }
        }
    }
    let mut more = Vec::new();
    for p in out.iter().step_by(7) {
        let mut terminating = p.clone();
        terminating.metadata.deletion_timestamp = Some(Timestamp(secs(1)));
        more.push(terminating);
        let mut orphan = p.clone();
        orphan.metadata.owner_references.clear();
        more.push(orphan);
        let mut foreign = p.clone();
        foreign.metadata.owner_references[0].uid = "someone-else".into();
        more.push(foreign);
        let mut unlabelled = p.clone();
        unlabelled.metadata.labels.remove("app");
        unlabelled
            .metadata
            .labels
            .remove(STATEFUL_SET_POD_NAME_LABEL);
        more.push(unlabelled);
        let mut revised = p.clone();
        revised
            .metadata
            .labels
            .insert(STATEFUL_SET_REVISION_LABEL.into(), "web-abc".into());
        more.push(revised);
        let mut moved = p.clone();
        moved.metadata.namespace = "other".into();
        more.push(moved);
        let mut no_volumes = p.clone();
        no_volumes.spec.volumes.clear();
        more.push(no_volumes);
        let mut wrong_claim = p.clone();
        wrong_claim.spec.volumes.push(Volume {
            name: "www".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: "www-web-7".into(),
                read_only: false,
            }),
            ..Default::default()
        });
        more.push(wrong_claim);
    }
    out.extend(more);
    out
}

#[test]
fn pod_facts_answer_as_the_upstream_helpers() {
    let owner = set("web", "set-uid", &["www"]);
    let sets = [
        owner.clone(),
        set("web", "set-uid", &[]),
        set("web", "set-uid", &["www", "data"]),
        set("other", "other-uid", &["www"]),
    ];
    let (mut checked, mut claimable_checked) = (0, 0);
    for s in &sets {
        let mut names = RevisionNames::default();
        for pod in pod_variants(&owner) {
            checked += 1;
            let f = PodFacts::of(&pod, s, &mut names);
            let matches = s.spec.selector.matches(&pod.metadata.labels) && is_member_of(s, &pod);
            let controller = match pod.metadata.controller_ref() {
                None => ControlledBy::None,
                Some(r) if r.uid == s.metadata.uid => ControlledBy::ThisSet,
                Some(_) => ControlledBy::Other,
            };
            assert_eq!(f.controlled_by, controller);
            // A pod another owner controls is not matched at all.
            if controller != ControlledBy::Other {
                assert_eq!(f.matches, matches);
            }
            // The rest is computed only for pods `ClaimPods` can return.
            let claimable = matches && controller != ControlledBy::Other;
            assert_eq!(f.is_claimable(), claimable);
            if !claimable {
                continue;
            }
            claimable_checked += 1;
            assert_eq!(f.ordinal, get_ordinal(&pod));
            assert_eq!(f.identity_matches, identity_matches(s, &pod));
            assert_eq!(f.storage_matches, storage_matches(s, &pod));
            assert_eq!(names.name(f.revision), get_pod_revision(&pod));
            assert_eq!(f.is_created(), is_created(&pod));
            assert_eq!(f.is_pending(), is_pending(&pod));
            assert_eq!(f.is_failed(), is_failed(&pod));
            assert_eq!(f.is_succeeded(), is_succeeded(&pod));
            assert_eq!(f.is_terminating(), is_terminating(&pod));
            assert_eq!(f.is_running_and_ready(), is_running_and_ready(&pod));
            for min_ready in [-1, 0, 1, 5, 10] {
                for now in [
                    secs(0),
                    secs(5),
                    secs(10),
                    secs(11),
                    SimTime(10_000_000_001),
                ] {
                    assert_eq!(
                        f.is_running_and_available(min_ready, now),
                        is_running_and_available(&pod, min_ready, now),
                        "{} {min_ready} {now:?}",
                        pod.metadata.name
                    );
                    assert_eq!(
                        f.is_unavailable(min_ready, now),
                        is_unavailable(&pod, min_ready, now)
                    );
                }
            }
        }
        // The same label always gets the same number, different labels different ones.
        assert_eq!(names.id("web-abc"), names.id("web-abc"));
        assert_ne!(names.id("web-abc"), names.id(""));
    }
    assert!(checked > 400, "{checked} pods checked");
    assert!(
        claimable_checked > 100,
        "{claimable_checked} claimable pods checked"
    );
}

/// `isClaimOwnerUpToDate` as it was written before it was split in two (the reference
/// for the split).
fn reference_is_claim_owner_up_to_date(
    claim: &PersistentVolumeClaim,
    set: &StatefulSet,
    pod: &Pod,
) -> bool {
    if has_stale_owner_ref(claim, &set.metadata, CONTROLLER_KIND)
        || has_stale_owner_ref(claim, &pod.metadata, POD_KIND)
    {
        return true;
    }
    let meta = &claim.metadata;
    if has_unexpected_controller(claim, set, pod) {
        return !(has_owner_ref(meta, &set.metadata) || has_owner_ref(meta, &pod.metadata));
    }
    if claim.metadata.owner_references.iter().any(|r| {
        (r.uid == set.metadata.uid || r.uid == pod.metadata.uid) && r.controller != Some(true)
    }) {
        return false;
    }
    let set_ref = has_owner_ref(meta, &set.metadata);
    let pod_ref = has_owner_ref(meta, &pod.metadata);
    let scaled_down = !pod_in_ordinal_range(pod, set);
    let when = |f: fn(&StatefulSetPersistentVolumeClaimRetentionPolicy) -> &str| {
        set.spec
            .persistent_volume_claim_retention_policy
            .as_ref()
            .map_or(names::RETAIN, f)
    };
    match (when(|p| &p.when_scaled), when(|p| &p.when_deleted)) {
        (names::RETAIN, names::DELETE) => set_ref && !pod_ref,
        (names::DELETE, names::RETAIN) => !set_ref && scaled_down == pod_ref,
        (names::DELETE, names::DELETE) => scaled_down != set_ref && scaled_down == pod_ref,
        _ => !set_ref && !pod_ref,
    }
}

#[test]
fn claim_owner_facts_answer_as_is_claim_owner_up_to_date() {
    let mut s = set("web", "set-uid", &["www"]);
    let in_range = {
        let mut p = new_stateful_set_pod(&s, 1);
        p.metadata.uid = "pod-uid".into();
        p
    };
    let condemned = {
        let mut p = new_stateful_set_pod(&s, 7);
        p.metadata.uid = "pod7-uid".into();
        p
    };
    let set_ref = new_controller_ref(&s.metadata, CONTROLLER_KIND);
    let pod_ref = |p: &Pod| new_controller_ref(&p.metadata, POD_KIND);
    let weak = |mut r: OwnerReference| {
        r.controller = None;
        r
    };
    let stale = |mut r: OwnerReference| {
        r.uid = "old".into();
        r
    };
    let foreign = OwnerReference {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "cm".into(),
        uid: "cm-uid".into(),
        controller: Some(true),
        block_owner_deletion: None,
    };
    let mut checked = 0;
    for pod in [&in_range, &condemned] {
        let ref_sets: Vec<Vec<OwnerReference>> = vec![
            vec![],
            vec![set_ref.clone()],
            vec![pod_ref(pod)],
            vec![set_ref.clone(), pod_ref(pod)],
            vec![weak(set_ref.clone())],
            vec![weak(pod_ref(pod))],
            vec![stale(set_ref.clone())],
            vec![stale(pod_ref(pod))],
            vec![foreign.clone()],
            vec![foreign.clone(), set_ref.clone()],
            vec![weak(foreign.clone()), pod_ref(pod)],
        ];
        for refs in ref_sets {
            let mut claim = PersistentVolumeClaim {
                metadata: ObjectMeta::named("default", "www-web-1"),
                ..Default::default()
            };
            claim.metadata.owner_references = refs;
            for (scaled, deleted) in [
                (names::RETAIN, names::RETAIN),
                (names::RETAIN, names::DELETE),
                (names::DELETE, names::RETAIN),
                (names::DELETE, names::DELETE),
                ("Bogus", names::DELETE),
            ] {
                s.spec.persistent_volume_claim_retention_policy =
                    Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
                        when_scaled: scaled.into(),
                        when_deleted: deleted.into(),
                    });
                let facts = ClaimOwnerFacts::of(&claim, &s, pod);
                let scaled_down = !pod_in_ordinal_range(pod, &s);
                let want = reference_is_claim_owner_up_to_date(&claim, &s, pod);
                assert_eq!(is_claim_owner_up_to_date(&claim, &s, pod), want);
                assert_eq!(facts.is_up_to_date(retention(&s), scaled_down), want);
                assert_eq!(
                    facts.has_unexpected_controller(retention(&s)),
                    has_unexpected_controller(&claim, &s, pod)
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 11 * 5);
}

/// The memo's pods and claims after `begin`, compared with the cache computed afresh.
fn assert_memo_matches_cache(memo: &SetMemo, cache: &Tables, s: &StatefulSet) {
    let mut names = RevisionNames::default();
    let fresh: Vec<(Rc<Pod>, PodFacts)> = cache
        .list_in::<Pod>(&s.metadata.namespace)
        .map(|p| (Rc::clone(p), PodFacts::of(p, s, &mut names)))
        .collect();
    assert_eq!(memo.pods().len(), fresh.len());
    for (view, (pod, facts)) in memo.pods().iter().zip(&fresh) {
        assert!(Rc::ptr_eq(&view.pod, pod), "{}", pod.metadata.name);
        let mut kept = view.facts;
        // Revision numbers are per memo: compare the labels they stand for (a pod the set
        // cannot claim has none).
        if facts.is_claimable() {
            assert_eq!(
                memo.revisions.name(kept.revision),
                names.name(facts.revision)
            );
            kept.revision = facts.revision;
        }
        assert_eq!(kept, *facts, "{}", pod.metadata.name);
    }
    for (t, template) in s.spec.volume_claim_templates.iter().enumerate() {
        for ordinal in [-1, 0, 1, 2, 3, 5, 9, 10, 11, 99, 100_000, i32::MAX] {
            let name = format!("{}-{}-{ordinal}", template.metadata.name, s.metadata.name);
            let want = cache
                .pvcs
                .get(&ObjectKey::new(&s.metadata.namespace, &name));
            let got = memo.find_claim(t, ordinal);
            assert_eq!(got.map(Rc::as_ptr), want.map(Rc::as_ptr), "{name}");
        }
    }
}

fn claim(name: &str) -> Rc<PersistentVolumeClaim> {
    Rc::new(PersistentVolumeClaim {
        metadata: ObjectMeta::named("default", name),
        ..Default::default()
    })
}

fn put_pod(cache: &mut Tables, pod: Pod) {
    cache
        .pods
        .insert(ObjectKey::of(&pod.metadata), Rc::new(pod));
}

fn put_claim(cache: &mut Tables, c: Rc<PersistentVolumeClaim>) {
    cache.pvcs.insert(ObjectKey::of(&c.metadata), c);
}

#[test]
fn the_memo_follows_every_change_of_the_cache() {
    let s = set("web", "set-uid", &["www", "data", "www"]);
    let mut memo = SetMemo::default();
    let mut cache = Tables::default();
    for i in [0, 1, 2, 10, 11] {
        put_pod(&mut cache, new_stateful_set_pod(&s, i));
        put_claim(&mut cache, claim(&format!("www-web-{i}")));
    }
    put_claim(&mut cache, claim("data-web-1"));
    put_claim(&mut cache, claim("www-web-01"));
    put_claim(&mut cache, claim("other-claim"));
    // Objects of another namespace, before and after "default" in key order.
    for ns in ["aaa", "zzz"] {
        let mut p = new_stateful_set_pod(&s, 1);
        p.metadata.namespace = ns.into();
        put_pod(&mut cache, p);
        let mut c = (*claim("www-web-1")).clone();
        c.metadata.namespace = ns.into();
        put_claim(&mut cache, Rc::new(c));
    }
    memo.begin(&cache, &s, None);
    assert_memo_matches_cache(&memo, &cache, &s);

    // Unchanged objects keep their entries.
    let before: Vec<*const Pod> = memo.pods().iter().map(|v| Rc::as_ptr(&v.pod)).collect();
    memo.begin(&cache, &s, None);
    let after: Vec<*const Pod> = memo.pods().iter().map(|v| Rc::as_ptr(&v.pod)).collect();
    assert_eq!(before, after);
    assert_memo_matches_cache(&memo, &cache, &s);

    type Edit = Box<dyn Fn(&mut Tables)>;
    let edits: Vec<Edit> = vec![
        // A claim replaced by a new object of the same name, nothing added or removed.
        Box::new(|c: &mut Tables| {
            let mut w = (*claim("www-web-1")).clone();
            w.metadata.resource_version = "7".into();
            put_claim(c, Rc::new(w));
        }),
        // A pod replaced by a new object of the same name (a write).
        Box::new(|c: &mut Tables| {
            let key = ObjectKey::new("default", "web-1");
            let mut p = (*c.pods[&key]).clone();
            p.status.phase = phase::RUNNING.into();
            c.pods.insert(key, Rc::new(p));
        }),
        // Pods added in the middle and at the end, one removed.
        Box::new(|c: &mut Tables| {
            let s = set("web", "set-uid", &["www"]);
            put_pod(c, new_stateful_set_pod(&s, 3));
            put_pod(c, new_stateful_set_pod(&s, 5));
            c.pods.remove(&ObjectKey::new("default", "web-0"));
        }),
        // Everything of the namespace gone.
        Box::new(|c: &mut Tables| {
            c.pods.retain(|k, _| k.namespace != "default");
            c.pvcs.retain(|k, _| k.namespace != "default");
        }),
        // Claims back, sparse ordinals (the map index), and a pod again.
        Box::new(|c: &mut Tables| {
            put_claim(c, claim("www-web-2"));
            put_claim(c, claim("www-web-100000"));
            put_claim(c, claim(&format!("data-web-{}", i32::MAX)));
            put_pod(c, new_stateful_set_pod(&set("web", "set-uid", &["www"]), 2));
        }),
        // A claim rewritten, one removed, dense again.
        Box::new(|c: &mut Tables| {
            c.pvcs.remove(&ObjectKey::new("default", "www-web-100000"));
            c.pvcs.remove(&ObjectKey::new(
                "default",
                &format!("data-web-{}", i32::MAX),
            ));
            let mut w = (*claim("www-web-2")).clone();
            w.metadata.deletion_timestamp = Some(Timestamp(secs(3)));
            put_claim(c, Rc::new(w));
            put_claim(c, claim("data-web-9"));
        }),
    ];
    for edit in edits {
        edit(&mut cache);
        memo.begin(&cache, &s, None);
        assert_memo_matches_cache(&memo, &cache, &s);
    }

    // A set with another identity or selector starts afresh.
    let mut relabelled = s.clone();
    relabelled
        .spec
        .selector
        .match_labels
        .insert("tier".into(), "db".into());
    let mut recreated = s.clone();
    recreated.metadata.uid = "set-uid-2".into();
    let fewer_templates = set("web", "set-uid", &["data"]);
    for other in [relabelled, recreated, fewer_templates, s.clone()] {
        assert!(!memo.is_for(&other) || other == s);
        memo.begin(&cache, &other, None);
        assert!(memo.is_for(&other));
        assert_memo_matches_cache(&memo, &cache, &other);
    }
}

#[test]
fn claim_checks_answer_as_the_fresh_claim_checks() {
    let mut s = set("web", "set-uid", &["www"]);
    s.spec.persistent_volume_claim_retention_policy =
        Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
            when_scaled: names::DELETE.into(),
            when_deleted: names::DELETE.into(),
        });
    let mut cache = Tables::default();
    let mut pods = Vec::new();
    for i in 0..6 {
        let mut p = new_stateful_set_pod(&s, i);
        p.metadata.uid = format!("uid-{i}");
        pods.push(Rc::new(p.clone()));
        put_pod(&mut cache, p);
    }
    // web-0: no claim; web-1: bare; web-2: owned by the set; web-3: being deleted;
    // web-4: a foreign controller; web-5: owned by the (condemned) pod.
    let refs = |i: usize| -> Vec<OwnerReference> {
        match i {
            2 => vec![new_controller_ref(&s.metadata, CONTROLLER_KIND)],
            4 => vec![OwnerReference {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: "cm".into(),
                uid: "cm-uid".into(),
                controller: Some(true),
                block_owner_deletion: None,
            }],
            5 => vec![new_controller_ref(&pods[5].metadata, POD_KIND)],
            _ => vec![],
        }
    };
    for i in 1..6 {
        let mut c = (*claim(&format!("www-web-{i}"))).clone();
        c.metadata.owner_references = refs(i);
        if i == 3 {
            c.metadata.deletion_timestamp = Some(Timestamp(secs(1)));
        }
        put_claim(&mut cache, Rc::new(c));
    }
    let mut memo = SetMemo::default();
    for (round, replicas) in [6, 5, 3, 3, 6, 6, 6, 6, 4].into_iter().enumerate() {
        s.spec.replicas = Some(replicas);
        // Claims change under the answers kept per ordinal: one replaced in place (its
        // refs dropped), one added, one removed, one replaced by a claim being deleted.
        match round {
            5 => put_claim(&mut cache, claim("www-web-2")),
            6 => put_claim(&mut cache, claim("www-web-0")),
            7 => {
                cache.pvcs.remove(&ObjectKey::new("default", "www-web-5"));
            }
            8 => {
                let mut c = (*claim("www-web-1")).clone();
                c.metadata.deletion_timestamp = Some(Timestamp(secs(2)));
                put_claim(&mut cache, Rc::new(c));
            }
            _ => {}
        }
        if round == 3 {
            // New incarnations of every pod (same names, new uids): the claims, unchanged,
            // now carry stale refs or none to them.
            for i in 0..6 {
                let mut p = new_stateful_set_pod(&s, i);
                p.metadata.uid = format!("uid-{i}-again");
                put_pod(&mut cache, p);
            }
        }
        memo.begin(&cache, &s, None);
        for again in 0..2 {
            for view in memo.pods().to_vec() {
                let pod = &view.pod;
                let scaled_down = !pod_in_ordinal_range(pod, &s);
                let got = memo.claim_checks(&s, &view, retention(&s), scaled_down);
                let existing = cache.pvcs.get(&ObjectKey::new(
                    "default",
                    &format!("www-{}", pod.metadata.name),
                ));
                let match_policy = existing.is_none_or(|c| is_claim_owner_up_to_date(c, &s, pod));
                let settled = existing.is_some_and(|c| {
                    c.metadata.deletion_timestamp.is_none()
                        && !has_unexpected_controller(c, &s, pod)
                        && is_claim_owner_up_to_date(c, &s, pod)
                });
                let want = ClaimChecks {
                    match_retention_policy: match_policy,
                    settled,
                };
                assert_eq!(got, want, "{} round {round} {again}", pod.metadata.name);
            }
        }
    }
}

#[test]
fn the_revision_memo_answers_as_the_revision_functions() {
    let mut s = set("web", "set-uid", &["www"]);
    s.spec.template.spec.containers.push(Container {
        name: "nginx".into(),
        image: "nginx:1".into(),
        ..Default::default()
    });
    let mut memo = RevisionMemo::default();
    let r1 = Rc::new(new_revision(&s, 1, 0).unwrap());
    let mut s2 = s.clone();
    s2.spec.template.spec.containers[0].image = "nginx:2".into();
    let r2 = Rc::new(new_revision(&s2, 2, 0).unwrap());
    let revisions = vec![Rc::clone(&r1), Rc::clone(&r2)];
    let variants = {
        let mut annotated = s.clone();
        annotated
            .metadata
            .annotations
            .insert("note".into(), "x".into());
        let mut renamed_uid = s.clone();
        renamed_uid.metadata.uid = "other".into();
        vec![s.clone(), s2.clone(), annotated, renamed_uid, s.clone()]
    };
    for v in &variants {
        for cc in [0, 1, 0] {
            memo.prepare(v, cc, &revisions).unwrap();
            let (candidate, bytes) = memo.candidate();
            let mut want = new_revision(v, 0, cc).unwrap();
            want.revision = candidate.revision;
            assert_eq!(*candidate, want);
            assert_eq!(bytes, patch_bytes(&want.data));
            for r in &revisions {
                assert_eq!(&*memo.bytes(r), patch_bytes(&r.data).as_slice());
            }
            let other = new_revision(&s2, 9, 3).unwrap();
            assert_eq!(&*memo.bytes(&other), patch_bytes(&other.data).as_slice());
            for r in &revisions {
                let got = memo.apply_revision(v, r).unwrap();
                assert_eq!(got, apply_revision(v, r).unwrap());
            }
        }
    }
}

/// A cluster of one API server and one StatefulSet controller, synced against a copy of
/// the store (or, now and then, the copy of the step before, as a lagging informer gives).
struct World {
    api: ApiServer,
    ctrl: StatefulSetController,
    rng: SimRng,
    timers: Vec<(SimTime, ControlTimer)>,
    notes: Vec<Note>,
    now: SimTime,
    /// Whether the controller forgets its memo before every sync.
    forget: bool,
    previous: Option<Tables>,
    /// If set, the controller is fed by this informer as the controller manager feeds it
    /// (every write delivered to its handler, with a watch delay) and syncs on its cache.
    informer: Option<Informer>,
}

impl World {
    fn new(config: StatefulSetConfig, forget: bool) -> Self {
        World {
            api: ApiServer::new(Default::default()),
            ctrl: StatefulSetController::new(config),
            rng: RngStreams::new(3).stream("t"),
            timers: Vec::new(),
            notes: Vec::new(),
            now: secs(1),
            forget,
            previous: None,
            informer: None,
        }
    }

    /// A world whose controller is fed by an informer with a watch delay (so that its
    /// cache lags the store now and then) and uses its change marks.
    fn fed(config: StatefulSetConfig, forget: bool) -> Self {
        let mut w = World::new(config, forget);
        w.ctrl = StatefulSetController::new(w.ctrl.config.clone()).fed_by_informer();
        w.informer = Some(Informer::new(SimDuration::from_millis(1500)));
        w
    }

    /// One sync of `default/web`: its result, requeues and notes, and what it wrote.
    fn sync(&mut self, lagging: bool) -> String {
        let cache = if let Some(informer) = &mut self.informer {
            let ctrl = &mut self.ctrl;
            informer.catch_up(&self.api, self.now, |old, ev, cache| {
                ctrl.on_watch(old.as_ref(), ev, cache, &mut Enqueue::default())
            });
            informer.cache.clone()
        } else {
            let current = self.api.objects().clone();
            let cache = match (&self.previous, lagging) {
                (Some(previous), true) => previous.clone(),
                _ => current.clone(),
            };
            self.previous = Some(current);
            cache
        };
        if self.forget {
            self.ctrl.forget_memos();
        }
        let mark = self.api.journal_end();
        let mut q = Enqueue::default();
        let mut ctx = Ctx::new(
            self.now,
            &mut self.api,
            &mut self.rng,
            &mut self.timers,
            &mut self.notes,
        );
        let result = self
            .ctrl
            .sync(&ObjectKey::new("default", "web"), &cache, &mut ctx, &mut q);
        let mut out = format!("{result:?} {q:?} {:?}\n", self.notes);
        self.notes.clear();
        for i in mark..self.api.journal_end() {
            out.push_str(&format!("{:?}\n", self.api.journal_entry(i)));
        }
        out
    }

    /// A write as `who`, its error ignored (both worlds get the same one).
    fn write<T>(&mut self, who: &'static str, f: impl FnOnce(&mut ApiClient<'_>) -> T) -> T {
        let actor = Actor::new(who);
        f(&mut ApiClient::new(&mut self.api, &actor, self.now))
    }
}

fn foreign_controller() -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "cm".into(),
        uid: "cm-uid".into(),
        controller: Some(true),
        block_owner_deletion: None,
    }
}

/// One step of a random history: a user, a kubelet or another controller acts, then the
/// clock moves; the same in every world given the same `rng`.
fn act(w: &mut World, rng: &mut SimRng) {
    let pods: Vec<Rc<Pod>> = w.api.objects().pods.values().cloned().collect();
    let claims: Vec<Rc<PersistentVolumeClaim>> = w.api.objects().pvcs.values().cloned().collect();
    let key = ObjectKey::new("default", "web");
    let set = w.api.objects().stateful_sets.get(&key).cloned();
    let pick = |rng: &mut SimRng, n: usize| rng.below(n as u64) as usize;
    let edit_set = |w: &mut World, f: &dyn Fn(&mut StatefulSet)| {
        if let Some(s) = &set {
            let mut s = (**s).clone();
            f(&mut s);
            w.write("kubectl", |c| c.update(s).err());
        }
    };
    match rng.below(19) {
        0 => {
            let n = rng.below(7) as i32;
            edit_set(w, &|s| s.spec.replicas = Some(n));
        }
        1 => {
            let image = format!("nginx:{}", rng.below(3));
            edit_set(w, &|s| {
                s.spec.template.spec.containers[0].image = image.clone()
            });
        }
        2 => {
            let partition = rng.below(5) as i32;
            edit_set(w, &|s| {
                s.spec.update_strategy.rolling_update = Some(RollingUpdateStatefulSetStrategy {
                    partition: Some(partition),
                    max_unavailable: Some(crate::api::IntOrString::Int(2)),
                })
            });
        }
        3 => {
            let min_ready = [0, 0, 3][pick(rng, 3)];
            edit_set(w, &|s| s.spec.min_ready_seconds = min_ready);
        }
        4 => {
            let policy = [names::RETAIN, names::DELETE];
            let (a, b) = (policy[pick(rng, 2)], policy[pick(rng, 2)]);
            edit_set(w, &|s| {
                s.spec.persistent_volume_claim_retention_policy =
                    Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
                        when_scaled: a.into(),
                        when_deleted: b.into(),
                    })
            });
        }
        5 => {
            let start = rng.below(3) as i32;
            edit_set(w, &|s| {
                s.spec.ordinals = (start > 0).then_some(StatefulSetOrdinals { start })
            });
        }
        6..=10 if !pods.is_empty() => {
            // A kubelet: bind, then a phase and readiness.
            let mut p = (*pods[pick(rng, pods.len())]).clone();
            let (phase_, ready) = [
                (phase::RUNNING, true),
                (phase::RUNNING, true),
                (phase::RUNNING, false),
                (phase::PENDING, false),
                (phase::FAILED, false),
                (phase::SUCCEEDED, false),
            ][pick(rng, 6)];
            let now = Timestamp::at(w.now);
            w.write("kubelet", |c| {
                if p.spec.node_name.is_empty() {
                    p.spec.node_name = "node-1".into();
                    match c.update(p.clone()) {
                        Ok(bound) => p = (*bound).clone(),
                        Err(_) => return,
                    }
                }
                p.status.phase = phase_.into();
                p.set_condition(condition::READY, ready, now, "");
                let _ = c.update_status(&p);
            });
        }
        11 if !pods.is_empty() => {
            let key = ObjectKey::of(&pods[pick(rng, pods.len())].metadata);
            let opts = if rng.below(2) == 0 {
                DeleteOptions::force()
            } else {
                DeleteOptions::default()
            };
            w.write("kubectl", |c| c.delete::<Pod>(&key, &opts).err());
        }
        12 if !claims.is_empty() => {
            let key = ObjectKey::of(&claims[pick(rng, claims.len())].metadata);
            w.write("kubectl", |c| {
                let _ = c.delete::<PersistentVolumeClaim>(&key, &DeleteOptions::default());
                // No pod uses it as far as the PVC protection controller cares.
                if let Some(live) = c.get::<PersistentVolumeClaim>(&key) {
                    let mut released = (*live).clone();
                    released.metadata.finalizers.clear();
                    let _ = c.update(released);
                }
            });
        }
        13 if !pods.is_empty() => {
            // Labels or ownerRefs edited by hand: released, orphaned, adopted.
            let mut p = (*pods[pick(rng, pods.len())]).clone();
            match rng.below(3) {
                0 => {
                    p.metadata.labels.remove("app");
                }
                1 => p.metadata.owner_references.clear(),
                _ => {
                    p.metadata
                        .labels
                        .insert(STATEFUL_SET_REVISION_LABEL.into(), "web-hand".into());
                }
            }
            w.write("kubectl", |c| c.update(p).err());
        }
        14 if !claims.is_empty() => {
            let mut c = (*claims[pick(rng, claims.len())]).clone();
            c.metadata.owner_references = vec![foreign_controller()];
            w.write("other-controller", |client| client.update(c).err());
        }
        15 if rng.below(4) == 0 => {
            // The set deleted (its pods orphaned) and created again with a new uid.
            if let Some(s) = &set {
                let mut again = (**s).clone();
                again.metadata = ObjectMeta::named("default", "web");
                again.status = Default::default();
                w.write("kubectl", |c| {
                    let _ = c.delete::<StatefulSet>(&key, &DeleteOptions::force());
                    c.create(again).err()
                });
            }
        }
        16 | 17 => {
            // A neighbour in the namespace: a pod of another set (its controller a
            // StatefulSet of another uid, its labels the set's, its name the set's or its
            // own) created, or written by its kubelet; or an orphan with the set's labels
            // (adopted if its name is the set's, else ignored) or without (never matched).
            let k = rng.below(6);
            let name = match rng.below(3) {
                0 => format!("db-{k}"),
                1 => format!("web-{}", k + 4),
                _ => format!("web-x-{k}"),
            };
            let objects = w.api.objects();
            let live = objects.pods.get(&ObjectKey::new("default", &name)).cloned();
            match live {
                Some(p) if p.metadata.deletion_timestamp.is_none() => {
                    let mut p = (*p).clone();
                    let ready = !p.is_ready();
                    p.status.phase = phase::RUNNING.into();
                    p.set_condition(condition::READY, ready, Timestamp::at(w.now), "");
                    w.write("kubelet", |c| c.update_status(&p).err());
                }
                Some(_) => {}
                None => {
                    let mut p = Pod {
                        metadata: ObjectMeta::named("default", &name),
                        ..Default::default()
                    };
                    p.metadata.labels.insert("app".into(), "nginx".into());
                    if rng.below(2) == 0 {
                        let mut db = ObjectMeta::named("default", "db");
                        db.uid = "db-uid".into();
                        p.metadata.owner_references =
                            vec![new_controller_ref(&db, CONTROLLER_KIND)];
                    } else if rng.below(3) == 0 {
                        p.metadata.labels.clear();
                    }
                    w.write("user", |c| c.create(p).err());
                }
            }
        }
        18 if !pods.is_empty() => {
            // A pod of the set handed to another owner (no longer the set's to claim).
            let mut p = (*pods[pick(rng, pods.len())]).clone();
            if let Some(r) = p.metadata.owner_references.first_mut() {
                r.uid = "db-uid".into();
                w.write("kubectl", |c| c.update(p).err());
            }
        }
        _ => {}
    }
    w.now = w.now + SimDuration::from_millis(rng.below(4000));
}

fn initial_set(parallel: bool) -> StatefulSet {
    let mut s = set("web", "", &["www"]);
    s.spec.service_name = "nginx".into();
    s.spec.template.spec.containers.push(Container {
        name: "nginx".into(),
        image: "nginx:0".into(),
        ..Default::default()
    });
    if parallel {
        s.spec.pod_management_policy = names::PARALLEL.into();
    }
    s
}

/// The kind of set and controller of a history of `seed`: Parallel or not, and the
/// configuration.
fn any_kind(seed: u64) -> (bool, StatefulSetConfig) {
    let parallel = seed.is_multiple_of(2);
    let config = match seed % 3 {
        0 => StatefulSetConfig::default(),
        1 => StatefulSetConfig::for_version(36, true),
        _ => StatefulSetConfig::for_version(37, true),
    };
    (parallel, config)
}

#[test]
fn a_controller_with_its_memo_acts_as_one_without() {
    memo_and_no_memo_act_alike(World::new, any_kind);
}

/// The same with controllers fed by an informer (a watch delay, every write to the
/// handler): the memo brought up to the cache by change marks, which debug builds check
/// against a walk at every sync.
#[test]
fn a_controller_with_its_memo_and_marks_acts_as_one_without() {
    memo_and_no_memo_act_alike(World::fed, any_kind);
}

/// The same for Parallel sets with the `MaxUnavailableStatefulSet` gate off, whose passes
/// run from the kept tally whenever every replica is there (`memo::tally`; debug builds
/// check the tally against one rebuilt from every pod at each of them).
#[test]
fn a_parallel_pass_from_the_kept_tally_acts_as_one_without() {
    let before = crate::control::statefulset::KEPT_PASSES.with(|n| n.get());
    memo_and_no_memo_act_alike(World::fed, |seed| {
        (
            true,
            StatefulSetConfig::for_version(if seed.is_multiple_of(2) { 36 } else { 37 }, false),
        )
    });
    let kept = crate::control::statefulset::KEPT_PASSES.with(|n| n.get()) - before;
    assert!(kept > 200, "{kept} passes from the kept tally");
}

/// Random histories run in a world whose controller keeps its memo and in one whose
/// controller forgets it before every sync (`world(config, forget)`): the same writes,
/// notes, requeues and results at every step.
fn memo_and_no_memo_act_alike(
    world: fn(StatefulSetConfig, bool) -> World,
    kind: fn(u64) -> (bool, StatefulSetConfig),
) {
    const SEEDS: u64 = 12;
    const STEPS: usize = 150;
    let mut writes = 0;
    for seed in 0..SEEDS {
        let (parallel, config) = kind(seed);
        let mut worlds = [world(config.clone(), false), world(config, true)];
        for w in &mut worlds {
            w.write("kubectl", |c| c.create(initial_set(parallel)).unwrap());
        }
        let mut rngs = [
            RngStreams::new(seed).stream("history"),
            RngStreams::new(seed).stream("history"),
        ];
        for step in 0..STEPS {
            let lagging = step % 9 == 4;
            let outs: Vec<String> = worlds
                .iter_mut()
                .zip(&mut rngs)
                .map(|(w, rng)| {
                    act(w, rng);
                    w.sync(lagging)
                })
                .collect();
            assert_eq!(outs[0], outs[1], "seed {seed} step {step}");
            writes += outs[0].lines().count() - 1;
        }
        let objects = |w: &World| format!("{:?}", w.api.objects());
        assert_eq!(objects(&worlds[0]), objects(&worlds[1]), "seed {seed}");
    }
    // The histories did something: pods, claims and revisions were written.
    assert!(writes > 1000, "{writes} writes");
}
