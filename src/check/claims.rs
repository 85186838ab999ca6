//! `wrong-claim`: pod `<set>-<i>` of a StatefulSet only ever mounts the claims of its own
//! identity. For every volumeClaimTemplate `T`, the pod's volume named `T` must refer to
//! claim `<T>-<set>-<i>`, and no volume of the pod may refer to another
//! ordinal's claim `<T>-<set>-<j>`. Checked on every pod create and update (the writes
//! that can carry a spec); one finding per pod instance (uid).

use super::{Finding, owning_set};
use crate::api::{Pod, StatefulSet};
use crate::apiserver::{ApiServer, Verb, WatchEvent};
use std::collections::BTreeSet;

pub const INVARIANT: &str = "wrong-claim";

#[derive(Default)]
pub struct Claims {
    /// Pod uids already reported.
    flagged: BTreeSet<String>,
}

impl Claims {
    pub fn on_pod_write(
        &mut self,
        w: &WatchEvent,
        pod: &Pod,
        api: &ApiServer,
        out: &mut Vec<Finding>,
    ) {
        if w.removed || !matches!(w.verb, Verb::Create | Verb::Update) {
            return;
        }
        let Some((set, ordinal)) = owning_set(pod, api) else {
            return;
        };
        if self.flagged.contains(&pod.metadata.uid) {
            return;
        }
        if let Some(problem) = wrong_claim(set, ordinal, pod) {
            self.flagged.insert(pod.metadata.uid.clone());
            let pod_key = format!("{}/{}", pod.metadata.namespace, pod.metadata.name);
            out.push(Finding::new(
                w.at,
                INVARIANT,
                format!("{pod_key} (uid {}) {problem}", pod.metadata.uid),
            ));
        }
    }
}

/// What is wrong with the claims `pod` (ordinal `ordinal` of `set`) mounts, if anything.
fn wrong_claim(set: &StatefulSet, ordinal: i32, pod: &Pod) -> Option<String> {
    let set_name = &set.metadata.name;
    for template in &set.spec.volume_claim_templates {
        let t = &template.metadata.name;
        let expected = format!("{t}-{set_name}-{ordinal}");
        let other_prefix = format!("{t}-{set_name}-");
        for v in &pod.spec.volumes {
            let Some(claim) = v.persistent_volume_claim.as_ref().map(|c| &c.claim_name) else {
                if v.name == *t {
                    return Some(format!(
                        "has volume {t} from claim template {t}, but not from a claim (expected claim {expected})"
                    ));
                }
                continue;
            };
            let other_ordinal = claim
                .strip_prefix(&other_prefix)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if (v.name == *t || other_ordinal) && *claim != expected {
                return Some(format!(
                    "mounts claim {claim} as volume {}; its claim from template {t} is {expected}",
                    v.name
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;

    #[test]
    fn a_pod_mounting_its_own_claim_is_fine() {
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 3));
        w.create_member_pod("web", 1, "www-web-1");
        assert_eq!(w.findings(super::INVARIANT), Vec::<String>::new());
    }

    #[test]
    fn a_pod_mounting_another_ordinals_claim_is_one_finding() {
        let mut w = Cluster::new();
        w.create_set(web_set(OrderedReady, 3));
        let uid = w.create_member_pod("web", 1, "www-web-2");
        w.mark_running_ready("web-1");
        let f = w.findings(super::INVARIANT);
        assert_eq!(
            f,
            [format!(
                "wrong-claim: default/web-1 (uid {uid}) mounts claim www-web-2 as volume www; \
                 its claim from template www is www-web-1"
            )]
        );
    }
}
