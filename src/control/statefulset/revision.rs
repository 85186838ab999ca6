//! ControllerRevisions of a StatefulSet (R-4): what a revision captures (only the pod
//! template, as a patch), how it is named and hashed, when two are equal, how the current and
//! update revisions are chosen each pass (including rollback by re-numbering an old
//! revision), history truncation, and adoption of orphans.
//!
//! Ports of `stateful_set_utils.go` (`getPatch`, `newRevision`, `ApplyRevision`,
//! `nextRevision`), `stateful_set_control.go` (`getStatefulSetRevisions`, `truncateHistory`)
//! and `pkg/controller/history/controller_history.go` (naming, hashing, equality, sorting
//! and the `realHistory` writes).

use super::memo::RevisionMemo;
use super::utils::{CONTROLLER_KIND, new_controller_ref};
use crate::api::pod::PodTemplateSpec;
use crate::api::{ControllerRevision, ObjectKey, StatefulSet, Tables};
use crate::apiserver::{ApiClient, ApiError, DeleteOptions};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::rc::Rc;

/// `history.ControllerRevisionHashLabel`.
pub const CONTROLLER_REVISION_HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// How many names `CreateControllerRevision` tries before giving up. Upstream loops until
/// it finds a free name; a bound keeps a pathological store from hanging the simulation.
const MAX_COLLISION_RETRIES: usize = 1000;

/// `retry.DefaultBackoff.Steps`: attempts of `UpdateControllerRevision` on conflict.
const UPDATE_RETRY_STEPS: usize = 4;

// Port of upstream `getPatch` (stateful_set_utils.go): the template, marked to replace the
// whole template when applied, as `{"spec":{"template":{…,"$patch":"replace"}}}`. Keys are
// sorted at every level, as Go's `json.Marshal` of a `map[string]interface{}` sorts them.
pub fn get_patch(set: &StatefulSet) -> Result<Value, String> {
    let mut template = serde_json::to_value(&set.spec.template).map_err(|e| e.to_string())?;
    let Value::Object(fields) = &mut template else {
        return Err("pod template did not serialise to an object".into());
    };
    fields.insert("$patch".into(), Value::String("replace".into()));
    let mut spec = Map::new();
    spec.insert("template".into(), template);
    let mut patch = Map::new();
    patch.insert("spec".into(), Value::Object(spec));
    Ok(sort_keys(Value::Object(patch)))
}

/// A copy of `v` with the keys of every object in byte order.
fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// Whether every object in `v` has its keys in byte order.
fn keys_sorted(v: &Value) -> bool {
    match v {
        Value::Object(map) => {
            map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b) && map.values().all(keys_sorted)
        }
        Value::Array(items) => items.iter().all(keys_sorted),
        _ => true,
    }
}

/// The revision's `data.raw` bytes: compact JSON with sorted keys and Go's HTML-safe string
/// escapes (`<`, `>`, `&`, U+2028, U+2029), as Go's `json.Marshal` writes them. (The
/// template itself is this crate's serialisation, so the bytes, and therefore the hashes,
/// are not those a real cluster computes for the same manifest.)
pub fn patch_bytes(data: &Value) -> Vec<u8> {
    // Revisions written by this controller are stored sorted already: no copy needed.
    let text = if keys_sorted(data) {
        serde_json::to_string(data)
    } else {
        serde_json::to_string(&sort_keys(data.clone()))
    }
    .expect("JSON values serialise");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

/// Go's `hash/fnv.New32` (FNV-1, 32 bits: multiply, then xor), which
/// `HashControllerRevision` uses.
fn fnv1_32(bytes: &[u8], mut hash: u32) -> u32 {
    for &b in bytes {
        hash = hash.wrapping_mul(16_777_619) ^ u32::from(b);
    }
    hash
}
const FNV32_OFFSET_BASIS: u32 = 2_166_136_261;

// Port of `rand.SafeEncodeString` (apimachinery): maps each character onto an alphabet
// without vowels, so that hashes never spell words.
pub fn safe_encode_string(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.chars()
        .map(|c| ALPHANUMS[(c as usize) % ALPHANUMS.len()] as char)
        .collect()
}

// Port of `history.HashControllerRevision`: FNV-32 of the data bytes, then of the decimal
// collision count if given, printed in decimal and safe-encoded.
pub fn hash_controller_revision(revision: &ControllerRevision, probe: Option<i32>) -> String {
    let mut hash = fnv1_32(&patch_bytes(&revision.data), FNV32_OFFSET_BASIS);
    if let Some(probe) = probe {
        hash = fnv1_32(probe.to_string().as_bytes(), hash);
    }
    safe_encode_string(&hash.to_string())
}

// Port of `history.ControllerRevisionName`: `<prefix>-<hash>`, prefix cut to 223 bytes.
pub fn controller_revision_name(prefix: &str, hash: &str) -> String {
    let mut cut = prefix.len().min(223);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{}", &prefix[..cut], hash)
}

// Port of `history.NewControllerRevision` (R-4.2).
pub fn new_controller_revision(
    parent: &StatefulSet,
    data: Value,
    revision: i64,
    collision_count: i32,
) -> ControllerRevision {
    let mut cr = ControllerRevision {
        api_version: "apps/v1".into(),
        kind: "ControllerRevision".into(),
        data,
        revision,
        ..Default::default()
    };
    cr.metadata.labels = parent.spec.template.metadata.labels.clone();
    cr.metadata.owner_references = vec![new_controller_ref(&parent.metadata, CONTROLLER_KIND)];
    let hash = hash_controller_revision(&cr, Some(collision_count));
    cr.metadata.name = controller_revision_name(&parent.metadata.name, &hash);
    cr.metadata
        .labels
        .insert(CONTROLLER_REVISION_HASH_LABEL.into(), hash);
    cr
}

// Port of upstream `newRevision` (stateful_set_utils.go): the set's annotations are copied.
pub fn new_revision(
    set: &StatefulSet,
    revision: i64,
    collision_count: i32,
) -> Result<ControllerRevision, String> {
    let mut cr = new_controller_revision(set, get_patch(set)?, revision, collision_count);
    for (k, v) in &set.metadata.annotations {
        cr.metadata.annotations.insert(k.clone(), v.clone());
    }
    Ok(cr)
}

// Port of upstream `ApplyRevision` (R-4.8): the live set with the revision's template. The
// stored patch replaces the whole template (`$patch: replace`); everything else stays.
// (A pass applies revisions through its memo, `RevisionMemo::apply_revision`, which
// keeps each revision's parsed template.)
#[cfg(test)]
pub fn apply_revision(
    set: &StatefulSet,
    revision: &ControllerRevision,
) -> Result<StatefulSet, String> {
    Ok(with_template(set, revision_template(revision)?.as_ref()))
}

/// The template `revision` restores (none when its patch has no template).
pub fn revision_template(revision: &ControllerRevision) -> Result<Option<PodTemplateSpec>, String> {
    let Some(template) = revision.data.get("spec").and_then(|s| s.get("template")) else {
        return Ok(None);
    };
    let mut template = template.clone();
    if let Value::Object(fields) = &mut template {
        fields.remove("$patch");
    }
    serde_json::from_value::<PodTemplateSpec>(template)
        .map(Some)
        .map_err(|e| format!("revision {}: {e}", revision.metadata.name))
}

/// `set` with `template` in place of its own, if given.
pub fn with_template(set: &StatefulSet, template: Option<&PodTemplateSpec>) -> StatefulSet {
    let mut restored = set.clone();
    if let Some(template) = template {
        restored.spec.template = template.clone();
    }
    restored
}

// Port of upstream `nextRevision`: one more than the highest (the list is sorted).
pub fn next_revision(revisions: &[Rc<ControllerRevision>]) -> i64 {
    revisions.last().map_or(1, |r| r.revision + 1)
}

// Port of `history.SortControllerRevisions`: stable, by revision, then creation time, then
// name.
pub fn sort_controller_revisions(revisions: &mut [Rc<ControllerRevision>]) {
    revisions.sort_by(|a, b| {
        (a.revision, a.metadata.creation_timestamp, &a.metadata.name).cmp(&(
            b.revision,
            b.metadata.creation_timestamp,
            &b.metadata.name,
        ))
    });
}

// Port of `history.EqualRevision`: hash labels first (only when both parse as 32-bit
// decimal numbers, as upstream's `strconv.ParseInt(_, 10, 32)`), then the data bytes.
// (A pass compares with the data bytes its memo keeps: [`equal_revision_bytes`].)
#[cfg(test)]
pub fn equal_revision(lhs: &ControllerRevision, rhs: &ControllerRevision) -> bool {
    equal_revision_bytes(lhs, &patch_bytes(&lhs.data), rhs, &patch_bytes(&rhs.data))
}

/// [`equal_revision`] with both revisions' data bytes ([`patch_bytes`]) given.
pub fn equal_revision_bytes(
    lhs: &ControllerRevision,
    lhs_bytes: &[u8],
    rhs: &ControllerRevision,
    rhs_bytes: &[u8],
) -> bool {
    let hash = |cr: &ControllerRevision| {
        cr.metadata
            .labels
            .get(CONTROLLER_REVISION_HASH_LABEL)
            .and_then(|h| h.parse::<i32>().ok())
    };
    if let (Some(l), Some(r)) = (hash(lhs), hash(rhs))
        && l != r
    {
        return false;
    }
    lhs_bytes == rhs_bytes
}

// Port of `history.FindEqualRevisions`: in list order. (A pass uses
// [`find_equal_revisions_bytes`] with the data bytes its memo keeps.)
#[cfg(test)]
pub fn find_equal_revisions(
    revisions: &[Rc<ControllerRevision>],
    needle: &ControllerRevision,
) -> Vec<Rc<ControllerRevision>> {
    let bytes = |r: &ControllerRevision| std::borrow::Cow::Owned(patch_bytes(&r.data));
    find_equal_revisions_bytes(revisions, needle, &patch_bytes(&needle.data), bytes)
}

/// [`find_equal_revisions`] with the data bytes given: the needle's, and each revision's
/// by `bytes_of`.
pub fn find_equal_revisions_bytes<'b>(
    revisions: &[Rc<ControllerRevision>],
    needle: &ControllerRevision,
    needle_bytes: &[u8],
    bytes_of: impl Fn(&ControllerRevision) -> std::borrow::Cow<'b, [u8]>,
) -> Vec<Rc<ControllerRevision>> {
    revisions
        .iter()
        .filter(|r| equal_revision_bytes(r, &bytes_of(r), needle, needle_bytes))
        .cloned()
        .collect()
}

// Port of `realHistory.ListControllerRevisions` (via upstream `ListRevisions`): revisions in
// the set's namespace matching its selector that it controls *or that have no controller*.
//
// Both tests are pure, so their order does not change the list: the owner test runs first
// because it is the cheaper one and, in a namespace shared by many sets, rejects most
// revisions (those of the other sets) before their labels are matched.
pub fn list_revisions(cache: &Tables, set: &StatefulSet) -> Vec<Rc<ControllerRevision>> {
    cache
        .list_in::<ControllerRevision>(&set.metadata.namespace)
        .filter(|r| {
            r.metadata
                .controller_ref()
                .is_none_or(|c| c.uid == set.metadata.uid)
        })
        .filter(|r| set.spec.selector.matches(&r.metadata.labels))
        .cloned()
        .collect()
}

fn key_of(cr: &ControllerRevision) -> ObjectKey {
    ObjectKey::of(&cr.metadata)
}

// Port of `realHistory.CreateControllerRevision`: on a name taken by a revision with other
// data, bump the collision count and retry with the new hash; an equal one is reused.
pub fn create_controller_revision(
    client: &mut ApiClient<'_>,
    parent: &StatefulSet,
    revision: &ControllerRevision,
    collision_count: &mut i32,
) -> Result<Rc<ControllerRevision>, String> {
    let mut clone = revision.clone();
    clone.metadata.namespace = parent.metadata.namespace.clone();
    for _ in 0..MAX_COLLISION_RETRIES {
        let hash = hash_controller_revision(revision, Some(*collision_count));
        clone.metadata.name = controller_revision_name(&parent.metadata.name, &hash);
        match client.create(clone.clone()) {
            Err(e) if e.is_already_exists() => {
                let exists = client
                    .get::<ControllerRevision>(&key_of(&clone))
                    .ok_or_else(|| {
                        ApiError::NotFound {
                            kind: crate::api::Kind::ControllerRevision,
                            name: clone.metadata.name.clone(),
                        }
                        .to_string()
                    })?;
                if patch_bytes(&exists.data) == patch_bytes(&clone.data) {
                    return Ok(exists);
                }
                *collision_count += 1;
            }
            other => return other.map_err(|e| e.to_string()),
        }
    }
    Err(format!(
        "no free ControllerRevision name for {} after {MAX_COLLISION_RETRIES} collisions",
        parent.metadata.name
    ))
}

// Port of `realHistory.UpdateControllerRevision`: sets `revision`, retrying on conflict.
// Upstream re-reads from its lister between attempts, after a backoff during which the
// informer has normally caught up; a sync takes no simulated time, so the re-read is live.
pub fn update_controller_revision(
    client: &mut ApiClient<'_>,
    revision: &ControllerRevision,
    new_revision: i64,
) -> Result<Rc<ControllerRevision>, String> {
    let mut clone = revision.clone();
    let mut last = None;
    for _ in 0..UPDATE_RETRY_STEPS {
        if clone.revision == new_revision {
            return Ok(Rc::new(clone));
        }
        clone.revision = new_revision;
        match client.update(clone.clone()) {
            Ok(updated) => return Ok(updated),
            Err(e) if e.is_conflict() => {
                if let Some(fresh) = client.get::<ControllerRevision>(&key_of(&clone)) {
                    clone = (*fresh).clone();
                }
                last = Some(e);
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(last.map_or_else(String::new, |e| e.to_string()))
}

// Port of `realHistory.DeleteControllerRevision`.
pub fn delete_controller_revision(
    client: &mut ApiClient<'_>,
    revision: &ControllerRevision,
) -> Result<(), String> {
    client
        .delete::<ControllerRevision>(&key_of(revision), &DeleteOptions::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

// Port of `realHistory.AdoptControllerRevision` (R-4.9): a strategic-merge patch adding a
// controller ref, with the revision's uid as precondition.
pub fn adopt_controller_revision(
    client: &mut ApiClient<'_>,
    parent: &StatefulSet,
    revision: &ControllerRevision,
) -> Result<Rc<ControllerRevision>, String> {
    if let Some(owner) = revision.metadata.controller_ref() {
        return Err(format!("attempt to adopt revision owned by {owner:?}"));
    }
    let key = key_of(revision);
    let live = client
        .get::<ControllerRevision>(&key)
        .ok_or_else(|| format!("controllerrevisions \"{}\" not found", key.name))?;
    if live.metadata.uid != revision.metadata.uid {
        return Err(format!(
            "Precondition failed: UID in precondition: {}, UID in object meta: {}",
            revision.metadata.uid, live.metadata.uid
        ));
    }
    let mut next = (*live).clone();
    merge_controller_ref(&mut next.metadata, &parent.metadata)?;
    client.update(next).map_err(|e| e.to_string())
}

/// The effect of a strategic-merge patch adding a controller ref to `owner`: owner
/// references merge by uid, and `ValidateOwnerReferences` refuses a second controller.
pub fn merge_controller_ref(
    target: &mut crate::api::ObjectMeta,
    owner: &crate::api::ObjectMeta,
) -> Result<(), String> {
    if let Some(c) = target.controller_ref()
        && c.uid != owner.uid
    {
        return Err(format!(
            "\"{}\" is invalid: metadata.ownerReferences: Invalid value: only one reference can have Controller set to true, found {}/{} and {}/{}",
            target.name, c.kind, c.name, CONTROLLER_KIND.kind, owner.name
        ));
    }
    let wanted = new_controller_ref(owner, CONTROLLER_KIND);
    match target
        .owner_references
        .iter_mut()
        .find(|r| r.uid == owner.uid)
    {
        Some(r) => *r = wanted,
        None => target.owner_references.push(wanted),
    }
    Ok(())
}

// Port of upstream `getStatefulSetRevisions` (R-4.3, R-4.4): returns the current and update
// revisions and the collision count to carry into status. May create a revision, or roll
// back by giving an older equal revision the next revision number (same name, so pods
// already labelled with it count as updated at once).
//
// The candidate (`newRevision`) and the revisions' data bytes come from the controller's
// memo (`RevisionMemo`), which computes them as `new_revision` and `patch_bytes` do.
pub fn get_stateful_set_revisions(
    client: &mut ApiClient<'_>,
    set: &StatefulSet,
    revisions: &mut [Rc<ControllerRevision>],
    memo: &mut RevisionMemo,
) -> Result<(Rc<ControllerRevision>, Rc<ControllerRevision>, i32), String> {
    sort_controller_revisions(revisions);
    let mut collision_count = set.status.collision_count.unwrap_or(0);
    let next = next_revision(revisions);
    memo.prepare(set, collision_count, revisions)?;
    let (candidate, candidate_bytes) = memo.candidate();
    let bytes_of = |r: &ControllerRevision| memo.bytes(r);
    let equal = find_equal_revisions_bytes(revisions, candidate, candidate_bytes, bytes_of);
    let update_revision = match (revisions.last(), equal.last()) {
        // The newest revision already has this template: nothing changed.
        (Some(newest), Some(eq))
            if equal_revision_bytes(newest, &bytes_of(newest), eq, &bytes_of(eq)) =>
        {
            Rc::clone(newest)
        }
        // An older revision has it: roll back by re-numbering that one.
        (_, Some(eq)) => update_controller_revision(client, eq, next)?,
        (_, None) => {
            let mut candidate = candidate.clone();
            candidate.revision = next;
            create_controller_revision(client, set, &candidate, &mut collision_count)?
        }
    };
    let current_revision = revisions
        .iter()
        .find(|r| r.metadata.name == set.status.current_revision)
        .cloned()
        .unwrap_or_else(|| Rc::clone(&update_revision));
    Ok((current_revision, update_revision, collision_count))
}

// Port of upstream `truncateHistory` (R-4.6): live revisions (current, update and every
// revision a pod is labelled with) are kept; of the others, the oldest are deleted until at
// most `revisionHistoryLimit` remain. Expects `revisions` sorted. `pod_revisions` are the
// pods' revision labels (`getPodRevision`), each once.
pub fn truncate_history(
    client: &mut ApiClient<'_>,
    set: &StatefulSet,
    pod_revisions: &[String],
    revisions: &[Rc<ControllerRevision>],
    current: Option<&ControllerRevision>,
    update: Option<&ControllerRevision>,
) -> Result<(), String> {
    let mut live: BTreeSet<&str> = BTreeSet::new();
    live.extend(current.map(|r| r.metadata.name.as_str()));
    live.extend(update.map(|r| r.metadata.name.as_str()));
    live.extend(pod_revisions.iter().map(String::as_str));
    let history: Vec<&Rc<ControllerRevision>> = revisions
        .iter()
        .filter(|r| !live.contains(r.metadata.name.as_str()))
        .collect();
    let limit = set.spec.revision_history_limit.unwrap_or(10);
    if limit < 0 || history.len() <= limit as usize {
        return Ok(());
    }
    for r in &history[..history.len() - limit as usize] {
        delete_controller_revision(client, r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ObjectMeta, Timestamp};
    use crate::apiserver::{Actor, ApiServer};
    use crate::time::SimTime;

    fn set_with_image(image: &str) -> StatefulSet {
        let mut s = StatefulSet {
            metadata: ObjectMeta::named("default", "web"),
            ..Default::default()
        };
        s.metadata.uid = "set-uid".into();
        s.spec
            .selector
            .match_labels
            .insert("app".into(), "nginx".into());
        s.spec
            .template
            .metadata
            .labels
            .insert("app".into(), "nginx".into());
        s.spec
            .template
            .spec
            .containers
            .push(crate::api::pod::Container {
                name: "nginx".into(),
                image: image.into(),
                ..Default::default()
            });
        s
    }

    #[test]
    fn fnv1_and_safe_encoding_match_go() {
        // Go: fnv.New32() of "" and "a"; FNV-1, not FNV-1a (which gives 0xe40c292c for "a").
        assert_eq!(fnv1_32(b"", FNV32_OFFSET_BASIS), 0x811c_9dc5);
        assert_eq!(fnv1_32(b"a", FNV32_OFFSET_BASIS), 0x050c_5d7e);
        assert_eq!(fnv1_32(b"foobar", FNV32_OFFSET_BASIS), 0x31f0_b262);
        // rand.SafeEncodeString on digits: 0..9 → 4 5 6 7 8 9 b c d f.
        assert_eq!(safe_encode_string("0123456789"), "456789bcdf");
    }

    #[test]
    fn test_hash_controller_revision() {
        let s = set_with_image("nginx:1");
        let data = get_patch(&s).unwrap();
        let cr = new_controller_revision(&s, data.clone(), 1, 0);
        // Name is `<set>-<hash>`; the hash label is the hash; collision counts change it.
        let hash = hash_controller_revision(&cr, Some(0));
        assert_eq!(cr.metadata.name, format!("web-{hash}"));
        assert_eq!(cr.metadata.labels[CONTROLLER_REVISION_HASH_LABEL], hash);
        assert_ne!(hash, hash_controller_revision(&cr, Some(1)));
        assert_ne!(hash, hash_controller_revision(&cr, None));
        // Deterministic, and independent of the revision number.
        assert_eq!(
            new_controller_revision(&s, data, 7, 0).metadata.name,
            cr.metadata.name
        );
        let other = new_revision(&set_with_image("nginx:2"), 1, 0).unwrap();
        assert_ne!(other.metadata.name, cr.metadata.name);
        assert!(cr.metadata.name.len() <= "web-".len() + 10);
    }

    #[test]
    fn test_get_patch_shape_and_apply_revision() {
        let s = set_with_image("nginx:1");
        let patch = get_patch(&s).unwrap();
        let text = String::from_utf8(patch_bytes(&patch)).unwrap();
        assert!(text.starts_with(r#"{"spec":{"template":{"$patch":"replace","metadata""#));
        let mut changed = set_with_image("nginx:2");
        changed.spec.replicas = Some(9);
        let rev = new_revision(&s, 1, 0).unwrap();
        let restored = apply_revision(&changed, &rev).unwrap();
        assert_eq!(restored.spec.template, s.spec.template);
        assert_eq!(
            restored.spec.replicas,
            Some(9),
            "only the template is restored"
        );
    }

    #[test]
    fn test_equal_revision_and_find_equal_revisions() {
        let a = Rc::new(new_revision(&set_with_image("a"), 1, 0).unwrap());
        let b = Rc::new(new_revision(&set_with_image("b"), 2, 0).unwrap());
        let a2 = Rc::new(new_revision(&set_with_image("a"), 3, 5).unwrap());
        assert!(equal_revision(&a, &a2), "data equal, labels not numeric");
        assert!(!equal_revision(&a, &b));
        let mut numeric = (*a2).clone();
        numeric
            .metadata
            .labels
            .insert(CONTROLLER_REVISION_HASH_LABEL.into(), "12".into());
        let mut numeric2 = (*a).clone();
        numeric2
            .metadata
            .labels
            .insert(CONTROLLER_REVISION_HASH_LABEL.into(), "13".into());
        assert!(
            !equal_revision(&numeric, &numeric2),
            "numeric labels differ"
        );
        let list = vec![a.clone(), b, a2.clone()];
        let found = find_equal_revisions(&list, &a);
        assert_eq!(found.len(), 2);
        assert!(Rc::ptr_eq(&found[1], &a2));
    }

    #[test]
    fn test_sort_controller_revisions() {
        let mk = |name: &str, revision: i64, created: u64| {
            let mut cr = ControllerRevision::default();
            cr.metadata.name = name.into();
            cr.revision = revision;
            cr.metadata.creation_timestamp = Some(Timestamp(SimTime(created)));
            Rc::new(cr)
        };
        let mut list = vec![mk("c", 2, 0), mk("b", 1, 5), mk("a", 1, 5), mk("z", 1, 1)];
        sort_controller_revisions(&mut list);
        let names: Vec<_> = list.iter().map(|r| r.metadata.name.as_str()).collect();
        assert_eq!(names, ["z", "a", "b", "c"]);
        assert_eq!(next_revision(&list), 3);
        assert_eq!(next_revision(&[]), 1);
    }

    #[test]
    fn patch_bytes_sort_keys_and_escape_like_go() {
        let unsorted = serde_json::json!({"b": 1, "a": {"d": "<&>", "c": [{"y": 1, "x": 2}]}});
        assert!(!keys_sorted(&unsorted));
        let text = String::from_utf8(patch_bytes(&unsorted)).unwrap();
        assert_eq!(
            text,
            r#"{"a":{"c":[{"x":2,"y":1}],"d":"\u003c\u0026\u003e"},"b":1}"#
        );
        assert!(keys_sorted(&sort_keys(unsorted)));
    }

    #[test]
    fn test_controller_revision_name_truncates() {
        let long = "x".repeat(300);
        assert_eq!(controller_revision_name(&long, "h").len(), 225);
        assert_eq!(controller_revision_name("web", "abc"), "web-abc");
    }

    #[test]
    fn test_real_history_create_controller_revision_collision() {
        let mut api = ApiServer::new(Default::default());
        let actor = Actor::new("statefulset-controller");
        let mut client = ApiClient::new(&mut api, &actor, SimTime::ZERO);
        let s = set_with_image("a");
        let rev = new_revision(&s, 1, 0).unwrap();
        // Someone else holds the name with other data: the collision count is bumped.
        let mut squatter = new_revision(&set_with_image("b"), 1, 0).unwrap();
        squatter.metadata.name = rev.metadata.name.clone();
        squatter.metadata.namespace = "default".into();
        client.create(squatter).unwrap();
        let mut cc = 0;
        let created = create_controller_revision(&mut client, &s, &rev, &mut cc).unwrap();
        assert_eq!(cc, 1);
        assert_ne!(created.metadata.name, rev.metadata.name);
        // Creating the same data again returns the existing object, no new collision.
        let mut cc2 = 1;
        let again = create_controller_revision(&mut client, &s, &rev, &mut cc2).unwrap();
        assert_eq!(
            (cc2, again.metadata.uid.clone()),
            (1, created.metadata.uid.clone())
        );
    }
}
