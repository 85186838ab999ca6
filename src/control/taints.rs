//! Taint helpers (`pkg/util/taints`) and the controllers' taint writes on nodes
//! (`pkg/controller/controller_utils.go` `AddOrUpdateTaintOnNode`, `RemoveTaintOffNode`).
//!
//! Two taints are "the same taint" when key and effect match (`Taint.MatchTaint`): the
//! value and `timeAdded` do not take part, so a node carries at most one taint per key and
//! effect, and re-adding one with a new `timeAdded` replaces it.

use crate::api::scheduling::Taint;
use crate::api::{Node, ObjectKey};
use crate::apiserver::{ApiClient, ApiError};

/// `Taint.MatchTaint`: key and effect are equal.
pub fn match_taint(a: &Taint, b: &Taint) -> bool {
    a.key == b.key && a.effect == b.effect
}

/// `TaintExists`: a taint with the key and effect of `taint`.
pub fn taint_exists(taints: &[Taint], taint: &Taint) -> bool {
    taints.iter().any(|t| match_taint(t, taint))
}

/// `TaintKeyExists`: a taint with this key, whatever its effect.
pub fn taint_key_exists(taints: &[Taint], key: &str) -> bool {
    taints.iter().any(|t| t.key == key)
}

/// `TaintSetDiff`: the taints of `new` missing from `old` (to add) and the taints of
/// `old` missing from `new` (to remove).
pub fn taint_set_diff(new: &[Taint], old: &[Taint]) -> (Vec<Taint>, Vec<Taint>) {
    let add = new
        .iter()
        .filter(|t| !taint_exists(old, t))
        .cloned()
        .collect();
    let remove = old
        .iter()
        .filter(|t| !taint_exists(new, t))
        .cloned()
        .collect();
    (add, remove)
}

/// `AddOrUpdateTaint`: the taints with `taint` added, or replacing the one with its key and
/// effect; `None` if an identical taint (`timeAdded` included) is already there.
pub fn add_or_update_taint(taints: &[Taint], taint: &Taint) -> Option<Vec<Taint>> {
    let mut out = Vec::with_capacity(taints.len() + 1);
    let mut updated = false;
    for t in taints {
        if match_taint(taint, t) {
            if taint == t {
                return None;
            }
            out.push(taint.clone());
            updated = true;
            continue;
        }
        out.push(t.clone());
    }
    if !updated {
        out.push(taint.clone());
    }
    Some(out)
}

/// `RemoveTaint` (`DeleteTaint`): the taints without any matching `taint`; `None` if
/// there was none.
pub fn remove_taint(taints: &[Taint], taint: &Taint) -> Option<Vec<Taint>> {
    if !taint_exists(taints, taint) {
        return None;
    }
    Some(
        taints
            .iter()
            .filter(|t| !match_taint(t, taint))
            .cloned()
            .collect(),
    )
}

// Port of `controller.AddOrUpdateTaintOnNode`: a fresh read of the node, each taint added
// or updated in turn, and one write of `spec.taints` if anything changed. (Upstream
// patches with the read's resourceVersion and retries on conflict; a read and a write at
// one simulated instant cannot conflict.)
pub fn add_or_update_taint_on_node(
    client: &mut ApiClient<'_>,
    node_name: &str,
    taints: &[Taint],
) -> Result<(), ApiError> {
    if taints.is_empty() {
        return Ok(());
    }
    let Some(node) = client.get::<Node>(&ObjectKey::cluster(node_name)) else {
        return Err(ApiError::NotFound {
            kind: crate::api::Kind::Node,
            name: node_name.to_string(),
        });
    };
    let mut current = node.spec.taints.clone();
    let mut updated = false;
    for taint in taints {
        if let Some(next) = add_or_update_taint(&current, taint) {
            current = next;
            updated = true;
        }
    }
    if !updated {
        return Ok(());
    }
    patch_node_taints(client, &node, current)
}

// Port of `controller.RemoveTaintOffNode`: short-circuits when the caller's copy of the node
// carries none of the taints, else a fresh read and one write without them.
pub fn remove_taint_off_node(
    client: &mut ApiClient<'_>,
    node_name: &str,
    node: Option<&Node>,
    taints: &[Taint],
) -> Result<(), ApiError> {
    if taints.is_empty() {
        return Ok(());
    }
    if let Some(n) = node
        && !taints.iter().any(|t| taint_exists(&n.spec.taints, t))
    {
        return Ok(());
    }
    let Some(live) = client.get::<Node>(&ObjectKey::cluster(node_name)) else {
        return Err(ApiError::NotFound {
            kind: crate::api::Kind::Node,
            name: node_name.to_string(),
        });
    };
    let mut current = live.spec.taints.clone();
    let mut updated = false;
    for taint in taints {
        if let Some(next) = remove_taint(&current, taint) {
            current = next;
            updated = true;
        }
    }
    if !updated {
        return Ok(());
    }
    patch_node_taints(client, &live, current)
}

/// `PatchNodeTaints`: only `spec.taints` changes, guarded by the read's resourceVersion.
fn patch_node_taints(
    client: &mut ApiClient<'_>,
    node: &Node,
    taints: Vec<Taint>,
) -> Result<(), ApiError> {
    let mut next = node.clone();
    next.spec.taints = taints;
    client.update(next).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Timestamp;

    fn taint(key: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: effect.into(),
            ..Default::default()
        }
    }

    #[test]
    fn same_taint_means_same_key_and_effect() {
        let mut a = taint("k", "NoExecute");
        a.value = "x".into();
        let b = taint("k", "NoExecute");
        assert!(match_taint(&a, &b));
        assert!(!match_taint(&a, &taint("k", "NoSchedule")));
        assert!(taint_key_exists(&[a.clone()], "k"));
        assert!(!taint_exists(&[a], &taint("k", "NoSchedule")));
    }

    #[test]
    fn set_diff_and_add_or_update() {
        let old = vec![taint("a", "NoSchedule"), taint("b", "NoSchedule")];
        let new = vec![taint("b", "NoSchedule"), taint("c", "NoSchedule")];
        let (add, remove) = taint_set_diff(&new, &old);
        assert_eq!(add, vec![taint("c", "NoSchedule")]);
        assert_eq!(remove, vec![taint("a", "NoSchedule")]);

        // An identical taint is a no-op; a new timeAdded replaces in place.
        assert_eq!(add_or_update_taint(&old, &taint("a", "NoSchedule")), None);
        let mut stamped = taint("a", "NoSchedule");
        stamped.time_added = Some(Timestamp::default());
        let next = add_or_update_taint(&old, &stamped).unwrap();
        assert_eq!(next, vec![stamped, taint("b", "NoSchedule")]);
        assert_eq!(remove_taint(&old, &taint("z", "NoSchedule")), None);
        assert_eq!(
            remove_taint(&old, &taint("a", "NoSchedule")).unwrap(),
            vec![taint("b", "NoSchedule")]
        );
    }
}
