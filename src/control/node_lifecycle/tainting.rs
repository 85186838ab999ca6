//! The two tainting paths. `doNoScheduleTaintingPass` runs on every node add and update:
//! the node's conditions map straight to NoSchedule taints (Ready False → `not-ready`,
//! Unknown → `unreachable`, the pressure conditions, `spec.unschedulable` →
//! `unschedulable`), not rate limited. `doNoExecuteTaintingPass` runs every 100 ms and
//! drains each zone's rate-limited queue into NoExecute `not-ready` / `unreachable`
//! taints, which the taint eviction controller acts on. Also `reconcileNodeLabels`.

use super::NodeLifecycleController;
use super::controller_utils::{get_node_condition, swap_node_controller_taint};
use super::{NOT_READY_TAINT, UNREACHABLE_TAINT, taint_template};
use crate::api::node::well_known::TAINT_UNSCHEDULABLE;
use crate::api::scheduling::Taint;
use crate::api::{Node, ObjectKey, Tables};
use crate::component::Ctx;
use crate::control::ControlTimer;
use crate::control::taints::taint_set_diff;
use crate::time::SimDuration;

/// `nodeConditionToTaintKeyStatusMap`: (condition type, status) → taint key.
const CONDITION_TO_TAINT: [(&str, &str, &str); 6] = [
    ("Ready", "False", NOT_READY_TAINT),
    ("Ready", "Unknown", UNREACHABLE_TAINT),
    (
        "MemoryPressure",
        "True",
        "node.kubernetes.io/memory-pressure",
    ),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    (
        "NetworkUnavailable",
        "True",
        "node.kubernetes.io/network-unavailable",
    ),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
];

/// `taintKeyToNodeConditionMap`'s keys: the taints this pass owns.
fn is_condition_taint(key: &str) -> bool {
    CONDITION_TO_TAINT.iter().any(|(_, _, k)| *k == key)
}

/// `labelReconcileInfo`: the beta OS and arch labels follow the stable ones.
const LABEL_RECONCILE: [(&str, &str); 2] = [
    ("kubernetes.io/os", "beta.kubernetes.io/os"),
    ("kubernetes.io/arch", "beta.kubernetes.io/arch"),
];

impl NodeLifecycleController {
    // Port of `doNoScheduleTaintingPass`.
    pub(super) fn do_no_schedule_tainting_pass(
        &mut self,
        node: &Node,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        let mut taints: Vec<Taint> = Vec::new();
        for c in &node.status.conditions {
            for (type_, status, key) in CONDITION_TO_TAINT {
                if c.type_ == type_ && c.status == status {
                    taints.push(no_schedule(key));
                }
            }
        }
        if node.spec.unschedulable {
            taints.push(no_schedule(TAINT_UNSCHEDULABLE));
        }
        let node_taints: Vec<Taint> = node
            .spec
            .taints
            .iter()
            .filter(|t| {
                t.effect == "NoSchedule"
                    && (t.key == TAINT_UNSCHEDULABLE || is_condition_taint(&t.key))
            })
            .cloned()
            .collect();
        let (add, remove) = taint_set_diff(&taints, &node_taints);
        if add.is_empty() && remove.is_empty() {
            return;
        }
        // "Failed to taint NoSchedule on node" is only logged upstream (no requeue).
        let mut client = ctx.client(&self.actor);
        swap_node_controller_taint(&mut client, &add, &remove, node);
    }

    // Port of `reconcileNodeLabels`: a missing or different beta label gets the stable
    // label's value.
    pub(super) fn reconcile_node_labels(&mut self, node: &Node, ctx: &mut Ctx<'_, ControlTimer>) {
        let node_name = node.metadata.name.as_str();
        let labels = &node.metadata.labels;
        let mut update = Vec::new();
        for (primary, secondary) in LABEL_RECONCILE {
            let Some(value) = labels.get(primary) else {
                continue;
            };
            if labels.get(secondary) != Some(value) {
                update.push((secondary, value.clone()));
            }
        }
        if update.is_empty() {
            return;
        }
        let mut client = ctx.client(&self.actor);
        if let Some(live) = client.get::<Node>(&ObjectKey::cluster(node_name)) {
            let mut next = (*live).clone();
            for (k, v) in update {
                next.metadata.labels.insert(k.to_string(), v);
            }
            let _ = client.update(next);
        }
    }

    // Port of `doNoExecuteTaintingPass`: each zone's queue is tried under its limiter; a
    // node gone counts as done, a node without a Ready condition is retried 50 ms later,
    // a Ready node is dropped, and a not-Ready one gets the taint for its status with the
    // opposite one removed.
    pub(super) fn do_no_execute_tainting_pass(
        &mut self,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        let now = ctx.now;
        let zones: Vec<String> = self.zone_tainter.keys().cloned().collect();
        let actor = self.actor.clone();
        for zone in zones {
            let tainter = self
                .zone_tainter
                .get_mut(&zone)
                .expect("zones are never removed");
            tainter.try_process(now, |value| {
                let Some(node) = cache.nodes.get(&ObjectKey::cluster(&value.value)) else {
                    return (true, SimDuration::ZERO);
                };
                let Some(condition) = get_node_condition(node, "Ready") else {
                    return (false, SimDuration::from_millis(50));
                };
                let (add, opposite) = match condition.status.as_str() {
                    "False" => (NOT_READY_TAINT, UNREACHABLE_TAINT),
                    "Unknown" => (UNREACHABLE_TAINT, NOT_READY_TAINT),
                    // Ready again: no need to taint it.
                    _ => return (true, SimDuration::ZERO),
                };
                let mut client = ctx.client(&actor);
                let ok = swap_node_controller_taint(
                    &mut client,
                    &[taint_template(add)],
                    &[taint_template(opposite)],
                    node,
                );
                (ok, SimDuration::ZERO)
            });
        }
    }
}

fn no_schedule(key: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    }
}
