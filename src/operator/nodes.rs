//! kubectl commands on nodes that finish at once: `cordon`/`uncordon -l`, `taint nodes`
//! (port of kubectl's `reorganizeTaints` and friends) and `delete node`. `drain` is in
//! `drain.rs`: it runs for a while.

use super::kubectl::{Failure, set_unschedulable};
use crate::api::scheduling::Taint;
use crate::api::{Kind, Node, ObjectKey};
use crate::apiserver::{ApiClient, ApiError, DeleteOptions};
use crate::scenario::{NodeTarget, TaintChange};
use std::rc::Rc;

/// The nodes `target` names: the one node (NotFound if it does not exist), or every node
/// the selector matches, in name order (none is no error, as kubectl's builder finds none).
pub(super) fn resolve(
    client: &ApiClient<'_>,
    target: &NodeTarget,
) -> Result<Vec<Rc<Node>>, Failure> {
    match target {
        NodeTarget::Name(name) => {
            let node = client
                .get::<Node>(&ObjectKey::cluster(name))
                .ok_or_else(|| ApiError::NotFound {
                    kind: Kind::Node,
                    name: name.clone(),
                })?;
            Ok(vec![node])
        }
        NodeTarget::Selector { selector, .. } => Ok(client
            .list::<Node>()
            .into_iter()
            .filter(|n| selector.matches(&n.metadata.labels))
            .collect()),
    }
}

/// `cordon|uncordon -l SELECTOR`: one line per node.
pub(super) fn cordon(
    client: &mut ApiClient<'_>,
    target: &NodeTarget,
    unschedulable: bool,
) -> Result<String, Failure> {
    let nodes = resolve(client, target)?;
    let mut out = Vec::new();
    for n in nodes {
        out.push(set_unschedulable(client, &n.metadata.name, unschedulable)?);
    }
    Ok(out.join("\n"))
}

/// `Taint.ToString`: `key=value:effect`, `key:effect`, `key=value`, or `key`.
fn taint_string(key: &str, value: &str, effect: &str) -> String {
    match (value.is_empty(), effect.is_empty()) {
        (true, true) => key.to_string(),
        (true, false) => format!("{key}:{effect}"),
        (false, true) => format!("{key}={value}"),
        (false, false) => format!("{key}={value}:{effect}"),
    }
}

// Port of kubectl's `reorganizeTaints` (with `addTaints` and `deleteTaints`): the taints to
// add first, then the node's others; removals by key and effect, or by key alone. Returns
// the operation kubectl prints (`tainted`, `untainted`, `modified`) and the new taints.
fn reorganize_taints(
    old: &[Taint],
    overwrite: bool,
    changes: &[TaintChange],
) -> Result<(&'static str, Vec<Taint>), String> {
    let mut taints: Vec<Taint> = changes
        .iter()
        .filter_map(|c| match c {
            TaintChange::Add(t) => Some(t.clone()),
            TaintChange::Remove { .. } => None,
        })
        .collect();
    for o in old {
        // `MatchTaint`: same key and effect.
        if !taints
            .iter()
            .any(|t| t.key == o.key && t.effect == o.effect)
        {
            taints.push(o.clone());
        }
    }
    let added = old.len() != taints.len();
    let mut errors = Vec::new();
    let mut deleted = false;
    for c in changes {
        let TaintChange::Remove { key, effect } = c else {
            continue;
        };
        let before = taints.len();
        taints.retain(|t| !(t.key == *key && effect.as_ref().is_none_or(|e| *e == t.effect)));
        deleted = taints.len() != before;
        if !deleted {
            let spec = taint_string(key, "", effect.as_deref().unwrap_or(""));
            errors.push(format!("taint {spec:?} not found"));
        }
    }
    if !errors.is_empty() {
        return Err(super::drain::aggregate(&errors));
    }
    let op = if (added && deleted) || overwrite {
        "modified"
    } else if added {
        "tainted"
    } else {
        "untainted"
    };
    Ok((op, taints))
}

/// `taint nodes ...`: one line per node, `node/NAME tainted`.
pub(super) fn taint(
    client: &mut ApiClient<'_>,
    target: &NodeTarget,
    changes: &[TaintChange],
    overwrite: bool,
) -> Result<String, Failure> {
    let nodes = resolve(client, target)?;
    let mut out = Vec::new();
    for node in nodes {
        let name = &node.metadata.name;
        if !overwrite {
            // `checkIfTaintsAlreadyExists`.
            let existing: Vec<&str> = changes
                .iter()
                .filter_map(|c| match c {
                    TaintChange::Add(t) => Some(t),
                    TaintChange::Remove { .. } => None,
                })
                .filter(|t| {
                    node.spec
                        .taints
                        .iter()
                        .any(|o| o.key == t.key && o.effect == t.effect)
                })
                .map(|t| t.key.as_str())
                .collect();
            if !existing.is_empty() {
                return Err(Failure::Client(format!(
                    "node {name} already has {} taint(s) with same effect(s) and --overwrite is false",
                    existing.join(",")
                )));
            }
        }
        let (op, taints) =
            reorganize_taints(&node.spec.taints, overwrite, changes).map_err(Failure::Client)?;
        let mut next = (*node).clone();
        next.spec.taints = taints;
        client.update(next)?;
        out.push(format!("node/{name} {op}"));
    }
    Ok(out.join("\n"))
}

/// `delete node NAME`: `node "NAME" deleted` (nodes have no namespace to name).
pub(super) fn delete_node(client: &mut ApiClient<'_>, name: &str) -> Result<String, Failure> {
    client.delete::<Node>(&ObjectKey::cluster(name), &DeleteOptions::default())?;
    Ok(format!("node \"{name}\" deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: value.into(),
            effect: effect.into(),
            time_added: None,
        }
    }

    #[test]
    fn reorganize_taints_as_kubectl() {
        let old = vec![t("a", "1", "NoSchedule"), t("b", "", "NoExecute")];
        let add = |x: Taint| TaintChange::Add(x);
        let (op, taints) = reorganize_taints(&old, false, &[add(t("c", "", "NoExecute"))]).unwrap();
        assert_eq!(op, "tainted");
        assert_eq!(
            taints.iter().map(|x| x.key.as_str()).collect::<Vec<_>>(),
            vec!["c", "a", "b"]
        );
        let rm = |k: &str, e: Option<&str>| TaintChange::Remove {
            key: k.into(),
            effect: e.map(String::from),
        };
        let (op, taints) = reorganize_taints(&old, false, &[rm("b", Some("NoExecute"))]).unwrap();
        assert_eq!((op, taints.len()), ("untainted", 1));
        let (op, taints) = reorganize_taints(&old, false, &[rm("a", None)]).unwrap();
        assert_eq!((op, taints.len()), ("untainted", 1));
        let (op, _) =
            reorganize_taints(&old, false, &[add(t("c", "", "NoSchedule")), rm("a", None)])
                .unwrap();
        assert_eq!(op, "modified");
        let (op, taints) =
            reorganize_taints(&old, true, &[add(t("a", "2", "NoSchedule"))]).unwrap();
        assert_eq!(
            (op, taints[0].value.as_str(), taints.len()),
            ("modified", "2", 2)
        );
        let err = reorganize_taints(&old, false, &[rm("z", Some("NoSchedule"))]).unwrap_err();
        assert_eq!(err, "taint \"z:NoSchedule\" not found");
    }
}
