//! Zones and their disruption states: `GetZoneKey` (`k8s.io/component-helpers/node/
//! topology`), `ComputeZoneState`, `handleDisruption`, `setLimiterInZone` with
//! `HealthyQPSFunc` / `ReducedQPSFunc`, and `addPodEvictorForNewZone`.
//!
//! A zone whose nodes are all not Ready is in FullDisruption; one with more than two not
//! Ready nodes making up at least `unhealthyZoneThreshold` of it is in PartialDisruption.
//! The tainting rate follows: Normal and FullDisruption taint at `evictionLimiterQPS`, a
//! PartialDisruption zone at `secondaryEvictionLimiterQPS` if it has more than
//! `largeClusterSizeThreshold` nodes and not at all otherwise. When every zone is fully
//! disrupted the controller assumes it is the one cut off ("master disruption mode"):
//! tainting stops everywhere and the NoExecute taints it put on come off.

use super::NodeLifecycleController;
use super::rate_limited_queue::RateLimitedTimedQueue;
use crate::api::{Node, Tables};
use crate::component::Ctx;
use crate::control::ControlTimer;
use std::collections::BTreeMap;
use std::rc::Rc;

/// `ZoneState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneState {
    Initial,
    Normal,
    FullDisruption,
    PartialDisruption,
}

impl ZoneState {
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneState::Initial => "Initial",
            ZoneState::Normal => "Normal",
            ZoneState::FullDisruption => "FullDisruption",
            ZoneState::PartialDisruption => "PartialDisruption",
        }
    }
}

const LABEL_FAILURE_DOMAIN_BETA_ZONE: &str = "failure-domain.beta.kubernetes.io/zone";
const LABEL_FAILURE_DOMAIN_BETA_REGION: &str = "failure-domain.beta.kubernetes.io/region";
/// `labelNodeDisruptionExclusion`.
pub const LABEL_NODE_DISRUPTION_EXCLUSION: &str = "node.kubernetes.io/exclude-disruption";

// Port of `GetZoneKey`: region and zone (the beta labels win over the GA ones), joined by
// ":\0:"; the empty key for a node with neither.
pub fn get_zone_key(node: &Node) -> String {
    use crate::api::node::well_known::{LABEL_REGION, LABEL_ZONE};
    let labels = &node.metadata.labels;
    let zone = labels
        .get(LABEL_FAILURE_DOMAIN_BETA_ZONE)
        .or_else(|| labels.get(LABEL_ZONE))
        .map_or("", String::as_str);
    let region = labels
        .get(LABEL_FAILURE_DOMAIN_BETA_REGION)
        .or_else(|| labels.get(LABEL_REGION))
        .map_or("", String::as_str);
    if region.is_empty() && zone.is_empty() {
        return String::new();
    }
    format!("{region}:\0:{zone}")
}

/// How a zone key reads in notes: `region/zone`, or the zone alone.
pub fn zone_display(key: &str) -> String {
    match key.split_once(":\0:") {
        Some(("", zone)) => zone.to_string(),
        Some((region, zone)) => format!("{region}/{zone}"),
        None if key.is_empty() => "(no zone)".into(),
        None => key.to_string(),
    }
}

/// `isNodeExcludedFromDisruptionChecks`.
pub fn is_node_excluded_from_disruption_checks(node: &Node) -> bool {
    node.metadata
        .labels
        .contains_key(LABEL_NODE_DISRUPTION_EXCLUSION)
}

/// A zone's entry of `zoneToNodeConditions` as `ComputeZoneState` reads it: how many of
/// its nodes' Ready conditions are True and how many not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZoneCount {
    pub ready: usize,
    pub not_ready: usize,
}

impl ZoneCount {
    /// The zone's node count (`len(zoneToNodeConditions[zone])`).
    pub fn nodes(self) -> usize {
        self.ready + self.not_ready
    }
}

// Port of `ComputeZoneState`, given for each node of the zone whether its Ready condition
// is True: the number of not-Ready nodes and the state.
pub fn compute_zone_state(
    ready_nodes: &[bool],
    unhealthy_zone_threshold: f32,
) -> (usize, ZoneState) {
    let ready = ready_nodes.iter().filter(|r| **r).count();
    let count = ZoneCount {
        ready,
        not_ready: ready_nodes.len() - ready,
    };
    compute_zone_state_of(count, unhealthy_zone_threshold)
}

/// [`compute_zone_state`] from the counts alone (all it reads). The fraction is computed
/// in float32, as upstream compares it with a float32 threshold.
pub fn compute_zone_state_of(
    count: ZoneCount,
    unhealthy_zone_threshold: f32,
) -> (usize, ZoneState) {
    let ZoneCount { ready, not_ready } = count;
    let state = if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2
        && (not_ready as f32) / ((not_ready + ready) as f32) >= unhealthy_zone_threshold
    {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    };
    (not_ready, state)
}

impl NodeLifecycleController {
    /// `HealthyQPSFunc`: the normal rate, whatever the zone's size.
    pub(super) fn healthy_qps(&self, _node_num: usize) -> f32 {
        self.config.eviction_limiter_qps
    }

    /// `ReducedQPSFunc`: the secondary rate for a zone larger than the threshold, else 0.
    pub(super) fn reduced_qps(&self, node_num: usize) -> f32 {
        if node_num as i64 > i64::from(self.config.large_cluster_size_threshold) {
            self.config.secondary_eviction_limiter_qps
        } else {
            0.0
        }
    }

    /// `addPodEvictorForNewZone`: a zone seen for the first time starts Initial, with a
    /// full bucket at the normal rate.
    pub(super) fn add_pod_evictor_for_new_zone(&mut self, zone: &str) {
        if self.zone_states.contains_key(zone) {
            return;
        }
        self.zone_states
            .insert(zone.to_string(), ZoneState::Initial);
        let qps = self.config.eviction_limiter_qps;
        self.zone_tainter
            .insert(zone.to_string(), RateLimitedTimedQueue::new(qps));
    }

    /// The zone's tainting queue, created if a node's zone label changed under it.
    pub(super) fn tainter(&mut self, zone: &str) -> &mut RateLimitedTimedQueue {
        if !self.zone_tainter.contains_key(zone) {
            let qps = self.config.eviction_limiter_qps;
            self.zone_tainter
                .insert(zone.to_string(), RateLimitedTimedQueue::new(qps));
        }
        self.zone_tainter.get_mut(zone).expect("just made sure")
    }

    /// A node's zone key, from its entry (outside the monitor pass).
    fn zone_of(&mut self, node: &Rc<Node>) -> Rc<str> {
        match self.entries.get_mut(node.metadata.name.as_str()) {
            Some(e) => e.topology(node, &mut self.zone_keys).0,
            None => Rc::from(get_zone_key(node)),
        }
    }

    /// `setLimiterInZone`.
    fn set_limiter_in_zone(
        &mut self,
        zone: &str,
        zone_size: usize,
        state: ZoneState,
        ctx: &Ctx<'_, ControlTimer>,
    ) {
        let qps = match state {
            ZoneState::Normal => self.config.eviction_limiter_qps,
            ZoneState::PartialDisruption => self.reduced_qps(zone_size),
            ZoneState::FullDisruption => self.healthy_qps(zone_size),
            ZoneState::Initial => return,
        };
        let now = ctx.now;
        self.tainter(zone).swap_limiter(qps, now);
    }

    /// Whether the zones counted are exactly those with a state, each already in the
    /// state its counts give. `handleDisruption` then changes nothing: no zone is added
    /// or forgotten, and either every zone was and is fully disrupted (it returns), or
    /// not, with no state change for its last loop to act on.
    fn zone_states_hold(&self, zone_to_node_conditions: &BTreeMap<Rc<str>, ZoneCount>) -> bool {
        let threshold = self.config.unhealthy_zone_threshold;
        zone_to_node_conditions.len() == self.zone_states.len()
            && zone_to_node_conditions.iter().zip(&self.zone_states).all(
                |((zone, count), (known, state))| {
                    **zone == **known && compute_zone_state_of(*count, threshold).1 == *state
                },
            )
    }

    // Port of `handleDisruption`: each zone's new state from its nodes' Ready conditions,
    // then the limiters: all zones fully disrupted → stop everything and take the
    // NoExecute taints off (entering master disruption mode); leaving that mode → every
    // node's probe timestamp reset to now and every limiter set for its state; otherwise
    // only zones whose state changed get a new limiter. Zones are visited in key order
    // (upstream's map order is random; the outcome does not depend on it but for which
    // vanished zones are forgotten in a pass).
    pub(super) fn handle_disruption(
        &mut self,
        zone_to_node_conditions: &BTreeMap<Rc<str>, ZoneCount>,
        cache: &Tables,
        ctx: &mut Ctx<'_, ControlTimer>,
    ) {
        if self.shortcuts && self.zone_states_hold(zone_to_node_conditions) {
            // The steady state: nothing below would change anything.
            return;
        }
        let mut new_zone_states: BTreeMap<String, ZoneState> = BTreeMap::new();
        let mut all_are_fully_disrupted = true;
        for (zone, conditions) in zone_to_node_conditions {
            let (_, state) =
                compute_zone_state_of(*conditions, self.config.unhealthy_zone_threshold);
            if state != ZoneState::FullDisruption {
                all_are_fully_disrupted = false;
            }
            new_zone_states.insert(zone.to_string(), state);
            if !self.zone_states.contains_key(&**zone) {
                self.zone_states
                    .insert(zone.to_string(), ZoneState::Initial);
            }
        }

        let mut all_was_fully_disrupted = true;
        let zones: Vec<(String, ZoneState)> = self
            .zone_states
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (zone, state) in zones {
            if !zone_to_node_conditions.contains_key(zone.as_str()) {
                self.zone_states.remove(&zone);
                // Its nodes (if any are left, all excluded) represent a new zone next pass.
                self.classify = true;
                continue;
            }
            if state != ZoneState::FullDisruption {
                all_was_fully_disrupted = false;
                break;
            }
        }

        if all_are_fully_disrupted && all_was_fully_disrupted {
            return;
        }
        let now = ctx.now;
        if all_are_fully_disrupted {
            ctx.note(
                super::COMPONENT,
                "cluster".into(),
                "Controller detected that all Nodes are not-Ready. Entering master disruption mode."
                    .into(),
            );
            for node in cache.nodes.values() {
                let zone = self.zone_of(node);
                let _ = self.mark_node_as_reachable(node, &zone, ctx);
            }
            let zones: Vec<String> = self.zone_states.keys().cloned().collect();
            for zone in &zones {
                self.tainter(zone).swap_limiter(0.0, now);
            }
            for zone in zones {
                self.zone_states.insert(zone, ZoneState::FullDisruption);
            }
            return;
        }
        if all_was_fully_disrupted {
            ctx.note(
                super::COMPONENT,
                "cluster".into(),
                "Controller detected that some Nodes are Ready. Exiting master disruption mode."
                    .into(),
            );
            for name in cache.nodes.keys() {
                let entry = self.entries.get_mut(name.name.as_str());
                if let Some(h) = entry.and_then(|e| e.health.as_mut()) {
                    h.probe_timestamp = now;
                    h.ready_transition_timestamp = now;
                }
            }
            let zones: Vec<String> = self.zone_states.keys().cloned().collect();
            for zone in zones {
                let size = zone_to_node_conditions
                    .get(zone.as_str())
                    .map_or(0, |c| c.nodes());
                let state = new_zone_states
                    .get(&zone)
                    .copied()
                    .unwrap_or(ZoneState::Initial);
                self.set_limiter_in_zone(&zone, size, state, ctx);
                self.zone_states.insert(zone, state);
            }
            return;
        }
        let zones: Vec<(String, ZoneState)> = self
            .zone_states
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (zone, old) in zones {
            let Some(&state) = new_zone_states.get(&zone) else {
                continue;
            };
            if old == state {
                continue;
            }
            // Upstream logs every change; the first one of a healthy zone (Initial →
            // Normal, at start-up) is left off the timeline.
            if !(old == ZoneState::Initial && state == ZoneState::Normal) {
                ctx.note(
                    super::COMPONENT,
                    format!("zone {}", zone_display(&zone)),
                    format!(
                        "Controller detected that zone {} is now in state {}",
                        zone_display(&zone),
                        state.as_str()
                    ),
                );
            }
            let size = zone_to_node_conditions
                .get(zone.as_str())
                .map_or(0, |c| c.nodes());
            self.set_limiter_in_zone(&zone, size, state, ctx);
            self.zone_states.insert(zone, state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conds(ready: usize, not_ready: usize) -> Vec<bool> {
        let mut v = vec![true; ready];
        v.extend(vec![false; not_ready]);
        v
    }

    #[test]
    fn zone_state_at_the_thresholds() {
        let t = 0.55;
        assert_eq!(
            compute_zone_state(&conds(0, 1), t),
            (1, ZoneState::FullDisruption)
        );
        assert_eq!(compute_zone_state(&conds(3, 0), t), (0, ZoneState::Normal));
        // Two not-Ready nodes never make a partial disruption, whatever the fraction.
        assert_eq!(compute_zone_state(&conds(1, 2), t), (2, ZoneState::Normal));
        // 3 of 5 = 0.6 ≥ 0.55.
        assert_eq!(
            compute_zone_state(&conds(2, 3), t),
            (3, ZoneState::PartialDisruption)
        );
        // 3 of 6 = 0.5 < 0.55.
        assert_eq!(compute_zone_state(&conds(3, 3), t), (3, ZoneState::Normal));
        // 11 of 20 = 0.55 exactly (in float32 as upstream): partial.
        assert_eq!(
            compute_zone_state(&conds(9, 11), t),
            (11, ZoneState::PartialDisruption)
        );
        // 54 of 99 = 0.5454… just under.
        assert_eq!(
            compute_zone_state(&conds(45, 54), t),
            (54, ZoneState::Normal)
        );
        assert_eq!(
            compute_zone_state(&[false], t),
            (1, ZoneState::FullDisruption)
        );
        assert_eq!(compute_zone_state(&[], t), (0, ZoneState::Normal));
    }

    #[test]
    fn partial_disruption_rate_by_zone_size() {
        let c = NodeLifecycleController::new(super::super::NodeLifecycleConfig::for_version(36));
        // `ReducedQPSFunc`: more than `largeClusterSizeThreshold` (50) nodes → 0.01/s.
        assert_eq!(c.reduced_qps(50), 0.0);
        assert_eq!(c.reduced_qps(51), 0.01);
        assert_eq!(c.reduced_qps(3), 0.0);
        // `HealthyQPSFunc` (a fully disrupted zone) ignores the size.
        assert_eq!(c.healthy_qps(3), 0.1);
        assert_eq!(c.healthy_qps(500), 0.1);
    }

    #[test]
    fn zone_keys_join_region_and_zone() {
        let mut n = Node::default();
        assert_eq!(get_zone_key(&n), "");
        n.metadata
            .labels
            .insert("topology.kubernetes.io/zone".into(), "a".into());
        assert_eq!(get_zone_key(&n), ":\0:a");
        assert_eq!(zone_display(&get_zone_key(&n)), "a");
        n.metadata
            .labels
            .insert("topology.kubernetes.io/region".into(), "r".into());
        n.metadata
            .labels
            .insert(LABEL_FAILURE_DOMAIN_BETA_ZONE.into(), "b".into());
        assert_eq!(get_zone_key(&n), "r:\0:b");
        assert_eq!(zone_display("r:\0:b"), "r/b");
    }
}
