//! `kubectl rollout undo` and `kubectl rollout restart` for StatefulSets, as kubectl's
//! `StatefulSetRollbacker` and `defaultObjectRestarter` (`kubectl/pkg/polymorphichelpers`)
//! do them: both only rewrite the set's pod template; the controller does the rest.

use super::kubectl::{Failure, get_set, patched};
use crate::api::{ControllerRevision, Timestamp};
use crate::apiserver::ApiClient;
use crate::scenario::PatchType;
use serde_json::{Map, Value};
use std::rc::Rc;

/// The annotation `rollout restart` sets on the pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

// Port of `StatefulSetRollbacker.Rollback` (`toRevision` 0 means the previous revision).
pub fn undo(
    client: &mut ApiClient<'_>,
    namespace: &str,
    name: &str,
    to_revision: i64,
) -> Result<String, Failure> {
    let set = get_set(client, namespace, name)?;
    let history = controlled_history(client, &set);
    if to_revision == 0 && history.len() <= 1 {
        return Err(Failure::Client("no last revision to roll back to".into()));
    }
    let Some(to) = find_history(to_revision, history) else {
        return Err(Failure::Client(format!(
            "unable to find specified revision {to_revision} in history"
        )));
    };
    // `statefulsetMatch`: the revision already holds the current template.
    if get_stateful_set_patch(&set) == to.data {
        return Ok(format!(
            "statefulset.apps/{name} skipped rollback (current template already matches revision {to_revision})"
        ));
    }
    // The revision's data is a strategic-merge patch replacing the whole template.
    let restore =
        |e: String| Failure::Client(format!("failed restoring revision {to_revision}: {e}"));
    let next =
        patched(&set, PatchType::Strategic, &to.data).map_err(|e| restore(e.server_text()))?;
    client.update(next).map_err(|e| restore(e.to_string()))?;
    Ok(format!("statefulset.apps/{name} rolled back"))
}

// Port of `defaultObjectRestarter` for a StatefulSet: the template annotation
// `kubectl.kubernetes.io/restartedAt` set to now (RFC 3339, whole seconds), which makes
// a new revision and so a rolling replacement of every pod.
pub fn restart(client: &mut ApiClient<'_>, namespace: &str, name: &str) -> Result<String, Failure> {
    let set = get_set(client, namespace, name)?;
    let now = Timestamp::at(client.now()).rfc3339();
    let mut next = (*set).clone();
    next.spec
        .template
        .metadata
        .annotations
        .insert(RESTARTED_AT.into(), now);
    if next == *set {
        // The same second as the last restart: kubectl finds an empty patch.
        return Err(Failure::Client(format!(
            "failed to create patch for {name}: if restart has already been triggered within the past second, please wait before attempting to trigger another"
        )));
    }
    client.update(next)?;
    Ok(format!("statefulset.apps/{name} restarted"))
}

// Port of `controlledHistoryV1`: revisions matching the set's selector and controlled by it.
fn controlled_history(
    client: &ApiClient<'_>,
    set: &crate::api::StatefulSet,
) -> Vec<Rc<ControllerRevision>> {
    client
        .list_in::<ControllerRevision>(&set.metadata.namespace)
        .into_iter()
        .filter(|r| set.spec.selector.matches(&r.metadata.labels))
        .filter(|r| {
            r.metadata
                .controller_ref()
                .is_some_and(|c| c.uid == set.metadata.uid)
        })
        .collect()
}

// Port of `findHistory`: the revision numbered `to_revision`, or for 0 the second highest.
fn find_history(
    to_revision: i64,
    mut history: Vec<Rc<ControllerRevision>>,
) -> Option<Rc<ControllerRevision>> {
    if to_revision == 0 {
        if history.len() <= 1 {
            return None;
        }
        history.sort_by_key(|h| h.revision);
        return history.get(history.len() - 2).cloned();
    }
    history.into_iter().find(|h| h.revision == to_revision)
}

// Port of kubectl's `getStatefulSetPatch`: `{"spec":{"template":{…,"$patch":"replace"}}}`,
// the shape the controller stores in a revision. Compared as JSON values (key order
// aside), which is what upstream's byte comparison of sorted-key encodings amounts to.
fn get_stateful_set_patch(set: &crate::api::StatefulSet) -> Value {
    let mut template =
        serde_json::to_value(&set.spec.template).expect("API objects always serialise");
    if let Value::Object(fields) = &mut template {
        fields.insert("$patch".into(), Value::String("replace".into()));
    }
    let mut spec = Map::new();
    spec.insert("template".into(), template);
    let mut patch = Map::new();
    patch.insert("spec".into(), Value::Object(spec));
    Value::Object(patch)
}
