//! `ordered-ready-order`: a pod of an OrderedReady StatefulSet is created only when every
//! lower ordinal of the set's range is Running and Ready (R-6.4, R-6.6: "Creation of
//! ordinal k+1 requires ordinal k (and all below) to be Running, Ready and available").
//!
//! Judged against the API state at the create (each pod's Running-and-Ready history is
//! followed write by write), with the informer delay in mind: the controller decides on its
//! cache, which shows the API as it was one watch delay ago (statefulset-controller.md
//! §18.2, R-12.2), so it may legitimately create `web-2` in the instant after `web-1` turned
//! not Ready — it has not been told yet. A lower pod therefore counts only if it has been
//! not Running-and-Ready (or absent) for *longer* than the controller-manager's watch
//! delay; a pod that never existed counts at once. One finding per created pod.

use super::{Finding, owning_set, parent_and_ordinal, running_and_ready};
use crate::api::statefulset::names;
use crate::api::{ObjectKey, Pod};
use crate::apiserver::{ApiServer, Verb, WatchEvent};
use crate::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

pub const INVARIANT: &str = "ordered-ready-order";

/// A pod identity's health as the API last showed it, and since when.
#[derive(Clone, Copy, Debug)]
struct Health {
    running_and_ready: bool,
    since: SimTime,
}

pub struct Ordering {
    watch_delay: SimDuration,
    /// Per pod identity that ever existed (a removed pod stays, not Running-and-Ready from
    /// its removal on).
    health: BTreeMap<ObjectKey, Health>,
}

impl Ordering {
    pub fn new(watch_delay: SimDuration) -> Self {
        Ordering {
            watch_delay,
            health: BTreeMap::new(),
        }
    }

    pub fn on_pod_write(
        &mut self,
        w: &WatchEvent,
        pod: &Pod,
        api: &ApiServer,
        out: &mut Vec<Finding>,
    ) {
        if w.verb == Verb::Create && !w.removed {
            self.check_create(w.at, pod, api, out);
        }
        // Only pods that look like StatefulSet members can be someone's predecessor.
        if parent_and_ordinal(&pod.metadata.name).is_none() {
            return;
        }
        let now_ok = !w.removed && running_and_ready(pod);
        let key = ObjectKey::of(&pod.metadata);
        match self.health.get_mut(&key) {
            Some(h) if h.running_and_ready == now_ok => {}
            Some(h) => {
                *h = Health {
                    running_and_ready: now_ok,
                    since: w.at,
                }
            }
            None => {
                self.health.insert(
                    key,
                    Health {
                        running_and_ready: now_ok,
                        since: w.at,
                    },
                );
            }
        }
    }

    fn check_create(&self, at: SimTime, pod: &Pod, api: &ApiServer, out: &mut Vec<Finding>) {
        let Some((set, ordinal)) = owning_set(pod, api) else {
            return;
        };
        if set.spec.pod_management_policy == names::PARALLEL {
            return;
        }
        let ns = &pod.metadata.namespace;
        for lower in set.start_ordinal()..ordinal {
            let name = format!("{}-{lower}", set.metadata.name);
            let why = match self.health.get(&ObjectKey::new(ns, &name)) {
                None => "did not exist".to_string(),
                Some(h) if h.running_and_ready => continue,
                Some(h) => {
                    let for_how_long = at.saturating_since(h.since);
                    if for_how_long <= self.watch_delay {
                        continue;
                    }
                    format!(
                        "had not been Running and Ready since {} ({for_how_long}, longer than the {} watch delay)",
                        h.since, self.watch_delay
                    )
                }
            };
            out.push(Finding::new(
                at,
                INVARIANT,
                format!(
                    "{ns}/{} (OrderedReady) was created while {ns}/{name} {why}",
                    pod.metadata.name
                ),
            ));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;

    #[test]
    fn creating_after_the_predecessor_is_running_and_ready_is_fine() {
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 3));
        w.create_member_pod("web", 0, "www-web-0");
        w.advance(secs(5));
        w.mark_running_ready("web-0");
        w.advance(secs(1));
        w.create_member_pod("web", 1, "www-web-1");
        assert_eq!(w.findings(super::INVARIANT), Vec::<String>::new());
    }

    #[test]
    fn creating_while_the_predecessor_is_pending_is_a_finding() {
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 3));
        w.create_member_pod("web", 0, "www-web-0");
        w.advance(secs(1));
        w.create_member_pod("web", 1, "www-web-1");
        assert_eq!(
            w.findings(super::INVARIANT),
            [
                "ordered-ready-order: default/web-1 (OrderedReady) was created while default/web-0 \
                 had not been Running and Ready since +00:00:00.000 (1s, longer than the 10ms \
                 watch delay)"
            ]
        );
    }

    #[test]
    fn a_missing_predecessor_is_a_finding_but_not_under_parallel() {
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 3));
        w.create_member_pod("web", 2, "www-web-2");
        assert_eq!(
            w.findings(super::INVARIANT),
            [
                "ordered-ready-order: default/web-2 (OrderedReady) was created while default/web-0 did not exist"
            ]
        );

        let mut w = Cluster::new();
        w.create_set(web_set(Parallel, 3));
        w.create_member_pod("web", 2, "www-web-2");
        assert_eq!(w.findings(super::INVARIANT), Vec::<String>::new());
    }

    #[test]
    fn a_predecessor_that_turned_not_ready_within_the_watch_delay_does_not_count() {
        // The controller's cache still shows web-0 Ready: creating web-1 5 ms after web-0
        // turned not Ready is what the real controller does too.
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 3));
        w.create_member_pod("web", 0, "www-web-0");
        w.mark_running_ready("web-0");
        w.advance(secs(10));
        w.mark_not_ready("web-0");
        w.advance(ms(5));
        w.create_member_pod("web", 1, "www-web-1");
        assert_eq!(w.findings(super::INVARIANT), Vec::<String>::new());
        // Past the delay it counts.
        w.advance(ms(6));
        w.create_member_pod("web", 2, "www-web-2");
        assert_eq!(w.findings(super::INVARIANT).len(), 1);
    }
}
