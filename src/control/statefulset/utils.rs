//! Identity, storage and health helpers of the StatefulSet controller (upstream
//! `stateful_set_utils.go`): how a pod's name encodes its set and ordinal, which
//! labels, owner, hostname and volumes a member pod carries, which
//! revision a new pod gets, and the health predicates every decision of a pass is
//! made from. The claim-retention helpers are in `retention`.
//!
//! Everything here is a pure function of API objects (and, for availability, of the pass's
//! single `now`), so it is unit-tested table-driven below.

use crate::api::pod::{PersistentVolumeClaimVolumeSource, Volume, phase};
use crate::api::statefulset::names;
use crate::api::{
    IntOrString, LabelSelector, ObjectMeta, OwnerReference, PersistentVolumeClaim, Pod, StatefulSet,
};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// `apps.StatefulSetPodNameLabel`.
pub const STATEFUL_SET_POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// `apps.PodIndexLabel` (gate `PodIndexLabel`, on by default since 1.28).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// `apps.StatefulSetRevisionLabel`: its value is the full ControllerRevision name.
pub const STATEFUL_SET_REVISION_LABEL: &str = "controller-revision-hash";

/// A group/version and kind, as `schema.GroupVersionKind` is used for ownerRefs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gvk {
    pub api_version: &'static str,
    pub kind: &'static str,
}

/// `controllerKind`: what a StatefulSet's controller ownerRefs name.
pub const CONTROLLER_KIND: Gvk = Gvk {
    api_version: "apps/v1",
    kind: "StatefulSet",
};
/// `podKind`: what a claim's ownerRef to its pod names.
pub const POD_KIND: Gvk = Gvk {
    api_version: "v1",
    kind: "Pod",
};

// Port of upstream `getParentNameAndOrdinal` (stateful_set_utils.go). The pattern
// `(.*)-([0-9]+)$` is greedy, so the parent is everything before the *last* dash and the
// rest must be ASCII digits; a number that does not fit in 32 bits gives ordinal -1 (but
// keeps the parent, as `strconv.ParseInt(_, 10, 32)` failing does upstream).
pub fn get_parent_name_and_ordinal(pod: &Pod) -> (&str, i32) {
    parse_parent_name_and_ordinal(&pod.metadata.name)
}

/// [`get_parent_name_and_ordinal`] on a bare name.
pub fn parse_parent_name_and_ordinal(name: &str) -> (&str, i32) {
    // The trailing digits, then the dash before them: the same as splitting at the last
    // dash and requiring digits after it, in one short backward scan (this runs several
    // times per pod per pass).
    let bytes = name.as_bytes();
    let first_digit = bytes
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    if first_digit == bytes.len() || first_digit == 0 || bytes[first_digit - 1] != b'-' {
        return ("", -1);
    }
    let digits = &name[first_digit..];
    (
        &name[..first_digit - 1],
        digits.parse::<i32>().unwrap_or(-1),
    )
}

// Port of upstream `getParentName`.
pub fn get_parent_name(pod: &Pod) -> &str {
    get_parent_name_and_ordinal(pod).0
}

// Port of upstream `getOrdinal`.
pub fn get_ordinal(pod: &Pod) -> i32 {
    get_parent_name_and_ordinal(pod).1
}

// Port of upstream `getStartOrdinal`.
pub fn get_start_ordinal(set: &StatefulSet) -> i32 {
    set.start_ordinal()
}

// Port of upstream `getEndOrdinal`: inclusive.
pub fn get_end_ordinal(set: &StatefulSet) -> i32 {
    get_start_ordinal(set) + set.replicas() - 1
}

// Port of upstream `podInOrdinalRange`.
pub fn pod_in_ordinal_range(pod: &Pod, set: &StatefulSet) -> bool {
    ordinal_in_range(get_ordinal(pod), set)
}

/// [`pod_in_ordinal_range`] for a pod of this ordinal.
pub fn ordinal_in_range(ordinal: i32, set: &StatefulSet) -> bool {
    ordinal >= get_start_ordinal(set) && ordinal <= get_end_ordinal(set)
}

// Port of upstream `getPodName`.
pub fn get_pod_name(set: &StatefulSet, ordinal: i32) -> String {
    dashed_name(&[&set.metadata.name], ordinal)
}

// Port of upstream `getPersistentVolumeClaimName`.
pub fn get_persistent_volume_claim_name(
    set: &StatefulSet,
    claim: &PersistentVolumeClaim,
    ordinal: i32,
) -> String {
    dashed_name(&[&claim.metadata.name, &set.metadata.name], ordinal)
}

/// `parts` and `ordinal` joined by dashes, as `format!("{}-{}", …)` spells them, without
/// the formatting machinery (names are built for every pod and claim created).
fn dashed_name(parts: &[&str], ordinal: i32) -> String {
    let mut buf = [0u8; 12];
    let digits = decimal(ordinal, &mut buf);
    let len = parts.iter().map(|p| p.len() + 1).sum::<usize>() + digits.len();
    let mut name = String::with_capacity(len);
    for part in parts {
        name.push_str(part);
        name.push('-');
    }
    // `decimal` writes ASCII digits and a sign.
    name.push_str(std::str::from_utf8(digits).expect("ASCII"));
    name
}

/// Whether `name` is `parts` and `ordinal` joined by dashes, exactly as `format!` spells
/// it (`getPodName`, `getPersistentVolumeClaimName`), without building the string: every
/// pass compares a name per pod, and the allocation showed in the benchmarks.
pub fn is_dashed_name(name: &str, parts: &[&str], ordinal: i32) -> bool {
    parse_dashed_name(name, parts) == Some(ordinal)
}

/// The ordinal whose name is `parts` and it joined by dashes (as `format!` spells it), if
/// `name` is such a name.
pub fn parse_dashed_name(name: &str, parts: &[&str]) -> Option<i32> {
    let mut rest = name;
    for part in parts {
        rest = rest.strip_prefix(part)?.strip_prefix('-')?;
    }
    let n = rest.parse::<i32>().ok()?;
    let mut buf = [0u8; 12];
    // Only the canonical spelling: `007` or `+7` is no ordinal's name.
    (rest.as_bytes() == decimal(n, &mut buf)).then_some(n)
}

/// The decimal text of `n` (as `Display` writes it), in `buf`.
fn decimal(n: i32, buf: &mut [u8; 12]) -> &[u8] {
    let mut i = buf.len();
    let mut v = i64::from(n).unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

// Port of upstream `isMemberOf`.
pub fn is_member_of(set: &StatefulSet, pod: &Pod) -> bool {
    get_parent_name(pod) == set.metadata.name
}

// Port of upstream `identityMatches`. The pod-index label is deliberately not
// checked, as upstream does not check it.
pub fn identity_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let (parent, ordinal) = get_parent_name_and_ordinal(pod);
    ordinal >= 0
        && set.metadata.name == parent
        && is_dashed_name(&pod.metadata.name, &[&set.metadata.name], ordinal)
        && pod.metadata.namespace == set.metadata.namespace
        && pod.metadata.labels.get(STATEFUL_SET_POD_NAME_LABEL) == Some(&pod.metadata.name)
}

// Port of upstream `storageMatches`.
pub fn storage_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let ordinal = get_ordinal(pod);
    if ordinal < 0 {
        return false;
    }
    // Upstream builds a name → volume map, so a later volume with the same name wins.
    set.spec.volume_claim_templates.iter().all(|claim| {
        let name = claim.metadata.name.as_str();
        pod.spec
            .volumes
            .iter()
            .rev()
            .find(|v| v.name == name)
            .and_then(|v| v.persistent_volume_claim.as_ref())
            .is_some_and(|src| {
                is_dashed_name(&src.claim_name, &[name, &set.metadata.name], ordinal)
            })
    })
}

// Port of `metav1.NewControllerRef`.
pub fn new_controller_ref(owner: &ObjectMeta, gvk: Gvk) -> OwnerReference {
    OwnerReference {
        api_version: gvk.api_version.into(),
        kind: gvk.kind.into(),
        name: owner.name.clone(),
        uid: owner.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

// Port of upstream `getPersistentVolumeClaims`: the claims of `pod`, keyed by
// template name. Upstream returns a Go map (random iteration order); a BTreeMap gives the
// deterministic name order everything downstream iterates in.
pub fn get_persistent_volume_claims(
    set: &StatefulSet,
    pod: &Pod,
) -> BTreeMap<String, PersistentVolumeClaim> {
    let ordinal = get_ordinal(pod);
    set.spec
        .volume_claim_templates
        .iter()
        .map(|template| {
            let mut claim = template.clone();
            claim.api_version = "v1".into();
            claim.kind = "PersistentVolumeClaim".into();
            claim.metadata.name = get_persistent_volume_claim_name(set, template, ordinal);
            claim.metadata.namespace = set.metadata.namespace.clone();
            // Template labels overlaid with the selector's matchLabels (or just those).
            for (k, v) in &set.spec.selector.match_labels {
                claim.metadata.labels.insert(k.clone(), v.clone());
            }
            (template.metadata.name.clone(), claim)
        })
        .collect()
}

// Port of upstream `updateStorage`: one volume per template claim (in template-name order),
// then the pod's other volumes; template claims win over template volumes of that name.
pub fn update_storage(set: &StatefulSet, pod: &mut Pod) {
    let claims = get_persistent_volume_claims(set, pod);
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|(name, claim)| Volume {
            name: name.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.metadata.name.clone(),
                read_only: false,
            }),
            other: BTreeMap::new(),
        })
        .collect();
    volumes.extend(
        pod.spec
            .volumes
            .iter()
            .filter(|v| !claims.contains_key(&v.name))
            .cloned(),
    );
    pod.spec.volumes = volumes;
}

// Port of upstream `initIdentity`: hostname and subdomain only at creation.
pub fn init_identity(set: &StatefulSet, pod: &mut Pod) {
    update_identity(set, pod);
    pod.spec.hostname = pod.metadata.name.clone();
    pod.spec.subdomain = set.spec.service_name.clone();
}

// Port of upstream `updateIdentity`.
pub fn update_identity(set: &StatefulSet, pod: &mut Pod) {
    let ordinal = get_ordinal(pod);
    pod.metadata.name = get_pod_name(set, ordinal);
    pod.metadata.namespace = set.metadata.namespace.clone();
    let labels = &mut pod.metadata.labels;
    labels.insert(
        STATEFUL_SET_POD_NAME_LABEL.into(),
        pod.metadata.name.clone(),
    );
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
}

// Port of upstream `isRunningAndReady`.
pub fn is_running_and_ready(pod: &Pod) -> bool {
    pod.status.phase == phase::RUNNING && pod.is_ready()
}

// Port of upstream `isRunningAndAvailable` = `podutil.IsPodAvailable`. Despite the
// name, the phase is not checked. Available means Ready and, with minReadySeconds, Ready
// for strictly longer than that: `lastTransitionTime + minReadySeconds < now`. A missing
// lastTransitionTime (Go's zero time) is never available when minReadySeconds > 0.
// (A pass reads it from the pod's facts, `memo::PodFacts`; this is their test reference.)
#[cfg(test)]
pub fn is_running_and_available(pod: &Pod, min_ready_seconds: i32, now: SimTime) -> bool {
    is_available(pod.is_ready(), ready_since(pod), min_ready_seconds, now)
}

/// The rule of [`is_running_and_available`] on what it reads from the pod: whether it is
/// Ready, and since when.
#[inline]
pub fn is_available(
    ready: bool,
    ready_since: Option<SimTime>,
    min_ready_seconds: i32,
    now: SimTime,
) -> bool {
    if !ready {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    ready_since
        .is_some_and(|t| t.saturating_add(SimDuration::from_secs(min_ready_seconds as u64)) < now)
}

/// The lastTransitionTime of the pod's Ready condition, if it has one.
pub fn ready_since(pod: &Pod) -> Option<SimTime> {
    pod.condition(crate::api::pod::condition::READY)
        .and_then(|c| c.last_transition_time)
        .map(|t| t.time())
}

// Port of upstream `isUnavailable` (v1.34+, PR #130909): terminating, or not Running, Ready
// and available. Placeholders (empty phase) are unavailable. (A pass reads it from the
// pod's facts, `memo::PodFacts`; this is their test reference.)
#[cfg(test)]
pub fn is_unavailable(pod: &Pod, min_ready_seconds: i32, now: SimTime) -> bool {
    is_terminating(pod)
        || !is_running_and_ready(pod)
        || !is_running_and_available(pod, min_ready_seconds, now)
}

// Port of upstream `isCreated`: the API server sets a phase on create, a placeholder has none.
pub fn is_created(pod: &Pod) -> bool {
    !pod.status.phase.is_empty()
}

// Port of upstream `isPending`.
pub fn is_pending(pod: &Pod) -> bool {
    pod.status.phase == phase::PENDING
}

// Port of upstream `isFailed`.
pub fn is_failed(pod: &Pod) -> bool {
    pod.status.phase == phase::FAILED
}

// Port of upstream `isSucceeded`.
pub fn is_succeeded(pod: &Pod) -> bool {
    pod.status.phase == phase::SUCCEEDED
}

// Port of upstream `isTerminating`.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

// Port of upstream `allowsBurst`: Parallel pod management.
pub fn allows_burst(set: &StatefulSet) -> bool {
    set.spec.pod_management_policy == names::PARALLEL
}

// Port of upstream `setPodRevision`.
pub fn set_pod_revision(pod: &mut Pod, revision: &str) {
    pod.metadata
        .labels
        .insert(STATEFUL_SET_REVISION_LABEL.into(), revision.into());
}

// Port of upstream `getPodRevision`: "" when unlabelled.
pub fn get_pod_revision(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .get(STATEFUL_SET_REVISION_LABEL)
        .map_or("", String::as_str)
}

// Port of upstream `newStatefulSetPod` with `controller.GetPodFromTemplate`.
pub fn new_stateful_set_pod(set: &StatefulSet, ordinal: i32) -> Pod {
    let template = &set.spec.template;
    let mut pod = Pod {
        api_version: "v1".into(),
        kind: "Pod".into(),
        metadata: ObjectMeta {
            labels: template.metadata.labels.clone(),
            annotations: template.metadata.annotations.clone(),
            finalizers: template.metadata.finalizers.clone(),
            generate_name: format!("{}-", set.metadata.name),
            owner_references: vec![new_controller_ref(&set.metadata, CONTROLLER_KIND)],
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: Default::default(),
    };
    pod.metadata.name = get_pod_name(set, ordinal);
    init_identity(set, &mut pod);
    update_storage(set, &mut pod);
    pod
}

// Port of upstream `newVersionedStatefulSetPod`. Go's `a && b || c` binds as
// `(a && b) || c`, so the partition clause applies whatever the strategy type.
pub fn new_versioned_stateful_set_pod(
    current_set: &StatefulSet,
    update_set: &StatefulSet,
    current_revision: &str,
    update_revision: &str,
    ordinal: i32,
) -> Pod {
    let strategy = &current_set.spec.update_strategy;
    let start = get_start_ordinal(current_set);
    let use_current = match &strategy.rolling_update {
        None => {
            strategy.type_ == names::ROLLING_UPDATE
                && ordinal < start + current_set.status.current_replicas
        }
        Some(ru) => ordinal < start + ru.partition.unwrap_or(0),
    };
    let (set, revision) = if use_current {
        (current_set, current_revision)
    } else {
        (update_set, update_revision)
    };
    let mut pod = new_stateful_set_pod(set, ordinal);
    set_pod_revision(&mut pod, revision);
    pod
}

// Port of upstream `getStatefulSetMaxUnavailable` (R-11.3 step 1): an integer, or a
// percentage of replicas rounded *down*, default 1, and never below 1.
pub fn get_stateful_set_max_unavailable(
    max_unavailable: Option<&IntOrString>,
    replica_count: i32,
) -> Result<i32, String> {
    let value = max_unavailable.cloned().unwrap_or(IntOrString::Int(1));
    let n = value.scaled_value(i64::from(replica_count), false)?;
    Ok(n.clamp(1, i64::from(i32::MAX)) as i32)
}

// Port of `metav1.LabelSelectorAsSelector`'s validation: the sync gives up (without retry)
// on a selector that cannot be converted.
pub fn label_selector_as_selector(selector: &LabelSelector) -> Result<&LabelSelector, String> {
    for req in &selector.match_expressions {
        let ok = match req.operator.as_str() {
            "In" | "NotIn" => !req.values.is_empty(),
            "Exists" | "DoesNotExist" => req.values.is_empty(),
            other => return Err(format!("{other:?} is not a valid label selector operator")),
        };
        if !ok {
            return Err(format!(
                "values: Invalid value: {:?}: wrong number of values for operator {}",
                req.values, req.operator
            ));
        }
    }
    Ok(selector)
}

/// `utilerrors.NewAggregate(errs).Error()`: one message as is, several de-duplicated in
/// brackets.
pub fn aggregate(errs: Vec<String>) -> Result<(), String> {
    let mut seen: Vec<String> = Vec::new();
    for e in errs {
        if !seen.contains(&e) {
            seen.push(e);
        }
    }
    match seen.len() {
        0 => Ok(()),
        1 => Err(seen.pop().expect("one element")),
        _ => Err(format!("[{}]", seen.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Timestamp;
    use crate::api::pod::PodCondition;
    use crate::api::statefulset::RollingUpdateStatefulSetStrategy;

    pub(crate) fn set(name: &str, replicas: i32) -> StatefulSet {
        let mut s = StatefulSet {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        };
        s.metadata.uid = "set-uid".into();
        s.spec.replicas = Some(replicas);
        s.spec.service_name = "nginx".into();
        s.spec
            .selector
            .match_labels
            .insert("app".into(), "nginx".into());
        s.spec
            .template
            .metadata
            .labels
            .insert("app".into(), "nginx".into());
        let mut claim = PersistentVolumeClaim::default();
        claim.metadata.name = "www".into();
        s.spec.volume_claim_templates.push(claim);
        s
    }

    fn named(name: &str) -> Pod {
        Pod {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        }
    }

    #[test]
    fn test_get_parent_name_and_ordinal() {
        let cases = [
            ("web-0", "web", 0),
            ("web-12", "web", 12),
            ("my-web-3", "my-web", 3),
            ("web-01", "web", 1),
            ("web-1-2", "web-1", 2),
            ("web", "", -1),
            ("web-", "", -1),
            ("web-a1", "", -1),
            ("web-99999999999", "web", -1),
            ("web-2147483647", "web", i32::MAX),
            ("-5", "", 5),
            ("5", "", -1),
            ("web-1a", "", -1),
            ("web-b5", "", -1),
            ("wéb-3", "wéb", 3),
        ];
        for (name, parent, ordinal) in cases {
            assert_eq!(
                parse_parent_name_and_ordinal(name),
                (parent, ordinal),
                "{name}"
            );
        }
    }

    #[test]
    fn dashed_names_match_what_format_would_build() {
        let cases = [
            ("web-3", &["web"][..], Some(3)),
            ("www-web-12", &["www", "web"][..], Some(12)),
            ("www-my-web-0", &["www", "my-web"][..], Some(0)),
            ("web--1", &["web"][..], Some(-1)),
            ("web-2147483647", &["web"][..], Some(i32::MAX)),
            ("web-01", &["web"][..], None),
            ("web-+1", &["web"][..], None),
            ("web-", &["web"][..], None),
            ("web-99999999999", &["web"][..], None),
            ("webx-1", &["web"][..], None),
            ("www-web-1", &["web"][..], None),
        ];
        for (name, parts, ordinal) in cases {
            assert_eq!(parse_dashed_name(name, parts), ordinal, "{name}");
            for n in [i32::MIN, -1, 0, 1, 3, 12, i32::MAX] {
                let built = format!("{}-{n}", parts.join("-"));
                assert_eq!(dashed_name(parts, n), built);
                assert_eq!(is_dashed_name(name, parts, n), built == name, "{name} {n}");
            }
        }
    }

    #[test]
    fn test_is_member_of() {
        let s = set("web", 3);
        let cases = [
            ("web-0", true),
            ("web-10", true),
            ("web2-0", false),
            ("foo-web-0", false),
            ("web", false),
        ];
        for (name, member) in cases {
            assert_eq!(is_member_of(&s, &named(name)), member, "{name}");
        }
    }

    #[test]
    fn test_identity_matches() {
        let s = set("web", 3);
        let good = new_stateful_set_pod(&s, 1);
        assert!(identity_matches(&s, &good));
        let mut no_label = good.clone();
        no_label.metadata.labels.remove(STATEFUL_SET_POD_NAME_LABEL);
        assert!(!identity_matches(&s, &no_label));
        let mut no_index = good.clone();
        no_index.metadata.labels.remove(POD_INDEX_LABEL);
        assert!(identity_matches(&s, &no_index), "pod-index is not checked");
        let mut other_ns = good.clone();
        other_ns.metadata.namespace = "other".into();
        assert!(!identity_matches(&s, &other_ns));
        let mut padded = good.clone();
        padded.metadata.name = "web-01".into();
        assert!(!identity_matches(&s, &padded));
        let mut repaired = no_label.clone();
        update_identity(&s, &mut repaired);
        assert!(identity_matches(&s, &repaired));
    }

    #[test]
    fn test_storage_matches() {
        let s = set("web", 3);
        let good = new_stateful_set_pod(&s, 2);
        assert!(storage_matches(&s, &good));
        assert_eq!(good.claim_names().collect::<Vec<_>>(), ["www-web-2"]);
        let mut missing = good.clone();
        missing.spec.volumes.clear();
        assert!(!storage_matches(&s, &missing));
        let mut wrong = good.clone();
        wrong.spec.volumes[0]
            .persistent_volume_claim
            .as_mut()
            .unwrap()
            .claim_name = "www-web-1".into();
        assert!(!storage_matches(&s, &wrong));
        update_storage(&s, &mut wrong);
        assert!(storage_matches(&s, &wrong));
        assert!(!storage_matches(&s, &named("web")));
    }

    #[test]
    fn test_new_stateful_set_pod_identity_and_labels() {
        let mut s = set("web", 3);
        s.spec.template.spec.volumes.push(Volume {
            name: "www".into(),
            ..Default::default()
        });
        s.spec.template.spec.volumes.push(Volume {
            name: "config".into(),
            ..Default::default()
        });
        let pod = new_stateful_set_pod(&s, 2);
        assert_eq!(pod.metadata.name, "web-2");
        assert_eq!(pod.metadata.generate_name, "web-");
        assert_eq!(pod.spec.hostname, "web-2");
        assert_eq!(pod.spec.subdomain, "nginx");
        assert_eq!(pod.metadata.labels[STATEFUL_SET_POD_NAME_LABEL], "web-2");
        assert_eq!(pod.metadata.labels[POD_INDEX_LABEL], "2");
        assert_eq!(pod.metadata.labels["app"], "nginx");
        let owner = pod.metadata.controller_ref().unwrap();
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("StatefulSet", "set-uid")
        );
        // The template claim wins over the template volume of the same name.
        let vols: Vec<_> = pod.spec.volumes.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(vols, ["www", "config"]);
        assert!(pod.spec.volumes[0].persistent_volume_claim.is_some());
    }

    #[test]
    fn test_get_persistent_volume_claims() {
        let mut s = set("web", 3);
        s.spec.volume_claim_templates[0]
            .metadata
            .labels
            .insert("tier".into(), "db".into());
        let claims = get_persistent_volume_claims(&s, &named("web-1"));
        let claim = &claims["www"];
        assert_eq!(claim.metadata.name, "www-web-1");
        assert_eq!(claim.metadata.namespace, "default");
        assert_eq!(claim.metadata.labels["tier"], "db");
        assert_eq!(claim.metadata.labels["app"], "nginx");
    }

    fn pod_with(phase_: &str, ready: Option<u64>, terminating: bool) -> Pod {
        let mut p = named("web-0");
        p.status.phase = phase_.into();
        if let Some(at) = ready {
            p.status.conditions.push(PodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(Timestamp(SimTime(at * 1_000_000_000))),
                ..Default::default()
            });
        }
        if terminating {
            p.metadata.deletion_timestamp = Some(Timestamp::default());
        }
        p
    }

    #[test]
    fn test_health_predicates() {
        let secs = |s: u64| SimTime(s * 1_000_000_000);
        // (pod, minReadySeconds, now) → (running and ready, available, unavailable)
        let cases = [
            (
                pod_with("Running", Some(0), false),
                0,
                secs(0),
                (true, true, false),
            ),
            (
                pod_with("Running", None, false),
                0,
                secs(5),
                (false, false, true),
            ),
            (
                pod_with("Pending", Some(0), false),
                0,
                secs(5),
                (false, true, true),
            ),
            (pod_with("", None, false), 0, secs(5), (false, false, true)),
            (
                pod_with("Running", Some(0), true),
                0,
                secs(5),
                (true, true, true),
            ),
            // Strict comparison: ready at 10 s, minReadySeconds 10 → available after 20 s.
            (
                pod_with("Running", Some(10), false),
                10,
                secs(20),
                (true, false, true),
            ),
            (
                pod_with("Running", Some(10), false),
                10,
                SimTime(20_000_000_001),
                (true, true, false),
            ),
        ];
        for (i, (pod, min_ready, now, want)) in cases.into_iter().enumerate() {
            let got = (
                is_running_and_ready(&pod),
                is_running_and_available(&pod, min_ready, now),
                is_unavailable(&pod, min_ready, now),
            );
            assert_eq!(got, want, "case {i}");
        }
        let mut no_ltt = pod_with("Running", Some(0), false);
        no_ltt.status.conditions[0].last_transition_time = None;
        assert!(!is_running_and_available(&no_ltt, 1, secs(100)));
    }

    #[test]
    fn test_get_stateful_set_max_unavailable() {
        let pct = |s: &str| Some(IntOrString::String(s.into()));
        let cases = [
            (None, 10, 1),
            (Some(IntOrString::Int(3)), 10, 3),
            (pct("25%"), 10, 2),
            (pct("5%"), 10, 1),
            (pct("50%"), 5, 2),
            (pct("100%"), 10, 10),
            (pct("0%"), 10, 1),
        ];
        for (value, replicas, want) in cases {
            assert_eq!(
                get_stateful_set_max_unavailable(value.as_ref(), replicas),
                Ok(want),
                "{value:?} of {replicas}"
            );
        }
        assert!(get_stateful_set_max_unavailable(pct("x").as_ref(), 10).is_err());
    }

    #[test]
    fn test_new_versioned_stateful_set_pod_revision_choice() {
        // (rollingUpdate, type, status.currentReplicas, ordinal) → current revision?
        let ru = |p: i32| {
            Some(RollingUpdateStatefulSetStrategy {
                partition: Some(p),
                max_unavailable: None,
            })
        };
        let cases = [
            (ru(0), names::ROLLING_UPDATE, 3, 0, false),
            (ru(2), names::ROLLING_UPDATE, 3, 1, true),
            (ru(2), names::ROLLING_UPDATE, 3, 2, false),
            (None, names::ROLLING_UPDATE, 2, 1, true),
            (None, names::ROLLING_UPDATE, 2, 2, false),
            (None, names::ON_DELETE, 3, 0, false),
            (ru(2), names::ON_DELETE, 0, 1, true),
        ];
        for (i, (rolling, type_, current_replicas, ordinal, current)) in
            cases.into_iter().enumerate()
        {
            let mut s = set("web", 3);
            s.spec.update_strategy.type_ = type_.into();
            s.spec.update_strategy.rolling_update = rolling;
            s.status.current_replicas = current_replicas;
            let pod = new_versioned_stateful_set_pod(&s, &s, "web-1", "web-2", ordinal);
            let want = if current { "web-1" } else { "web-2" };
            assert_eq!(get_pod_revision(&pod), want, "case {i}");
        }
        // With a start ordinal the partition is an offset from start.
        let mut s = set("web", 3);
        s.spec.ordinals = Some(crate::api::statefulset::StatefulSetOrdinals { start: 5 });
        s.spec.update_strategy.rolling_update = ru(1);
        let pod = new_versioned_stateful_set_pod(&s, &s, "old", "new", 5);
        assert_eq!(get_pod_revision(&pod), "old");
        let pod = new_versioned_stateful_set_pod(&s, &s, "old", "new", 6);
        assert_eq!(get_pod_revision(&pod), "new");
    }

    #[test]
    fn test_label_selector_as_selector_and_aggregate() {
        let mut sel = LabelSelector::default();
        assert!(label_selector_as_selector(&sel).is_ok());
        sel.match_expressions
            .push(crate::api::selector::LabelSelectorRequirement {
                key: "a".into(),
                operator: "In".into(),
                values: vec![],
            });
        assert!(label_selector_as_selector(&sel).is_err());
        sel.match_expressions[0].operator = "Bogus".into();
        assert!(label_selector_as_selector(&sel).is_err());
        assert_eq!(aggregate(vec![]), Ok(()));
        assert_eq!(aggregate(vec!["a".into(), "a".into()]), Err("a".into()));
        assert_eq!(
            aggregate(vec!["a".into(), "b".into()]),
            Err("[a, b]".into())
        );
    }
}
