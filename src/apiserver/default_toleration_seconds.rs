//! The `DefaultTolerationSeconds` admission plugin
//! (`plugin/pkg/admission/defaulttolerationseconds/admission.go`), on by default: a pod
//! without a toleration for the `node.kubernetes.io/not-ready` or `…/unreachable`
//! NoExecute taints gets one for 300 s (kube-apiserver `--default-not-ready-toleration-
//! seconds`, `--default-unreachable-toleration-seconds`). That is where the five minutes
//! between a node going unreachable and its pods being evicted come from.
//!
//! Upstream admits creates and updates; on update the tolerations it would add are
//! already there (they were added on create and validation forbids removing tolerations),
//! so only creates are admitted here.

use crate::api::node::well_known::{TAINT_NOT_READY, TAINT_UNREACHABLE};
use crate::api::pod::PodSpec;
use crate::api::scheduling::Toleration;

/// The default of both kube-apiserver flags.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// Whether a toleration counts as tolerating `key`'s NoExecute taint: its key is that key
/// or empty, its effect NoExecute or empty. Operator and value are not looked at.
fn covers(t: &Toleration, key: &str) -> bool {
    (t.key == key || t.key.is_empty()) && (t.effect == "NoExecute" || t.effect.is_empty())
}

// Port of `Plugin.Admit`: adds the missing tolerations (`AddOrUpdateTolerationInPod`
// appends, there being no equal one), not-ready first.
pub fn admit(spec: &mut PodSpec) {
    for key in [TAINT_NOT_READY, TAINT_UNREACHABLE] {
        if spec.tolerations.iter().any(|t| covers(t, key)) {
            continue;
        }
        spec.tolerations.push(Toleration {
            key: key.into(),
            operator: "Exists".into(),
            effect: "NoExecute".into(),
            toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(key: &str, op: &str, value: &str, effect: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: key.into(),
            operator: op.into(),
            value: value.into(),
            effect: effect.into(),
            toleration_seconds: secs,
        }
    }

    fn admitted(tolerations: Vec<Toleration>) -> Vec<(String, String, Option<i64>)> {
        let mut spec = PodSpec {
            tolerations,
            ..Default::default()
        };
        admit(&mut spec);
        spec.tolerations
            .into_iter()
            .map(|t| (t.key, t.effect, t.toleration_seconds))
            .collect()
    }

    fn default(key: &str) -> (String, String, Option<i64>) {
        (key.into(), "NoExecute".into(), Some(300))
    }

    #[test]
    fn both_added_to_a_pod_without_tolerations() {
        assert_eq!(
            admitted(vec![]),
            vec![default(TAINT_NOT_READY), default(TAINT_UNREACHABLE)]
        );
        let mut spec = PodSpec::default();
        admit(&mut spec);
        assert!(spec.tolerations.iter().all(|t| t.operator == "Exists"));
    }

    #[test]
    fn an_existing_toleration_is_kept_whatever_its_seconds() {
        let own = tol(TAINT_NOT_READY, "Exists", "", "NoExecute", Some(60));
        assert_eq!(
            admitted(vec![own]),
            vec![
                (TAINT_NOT_READY.into(), "NoExecute".into(), Some(60)),
                default(TAINT_UNREACHABLE)
            ]
        );
        let forever = tol(TAINT_UNREACHABLE, "Exists", "", "", None);
        assert_eq!(
            admitted(vec![forever]),
            vec![
                (TAINT_UNREACHABLE.into(), String::new(), None),
                default(TAINT_NOT_READY)
            ]
        );
    }

    #[test]
    fn only_key_and_effect_count() {
        // A NoSchedule toleration does not cover the NoExecute taint.
        let ns = tol(TAINT_NOT_READY, "Exists", "", "NoSchedule", None);
        assert_eq!(admitted(vec![ns]).len(), 3);
        // An Equal toleration with a value counts, as upstream looks at key and effect.
        let eq = tol(TAINT_NOT_READY, "Equal", "x", "NoExecute", None);
        assert_eq!(admitted(vec![eq]).len(), 2);
        // Tolerate-everything covers both.
        let all = tol("", "Exists", "", "", None);
        assert_eq!(admitted(vec![all]).len(), 1);
        // An empty key with NoExecute covers both too.
        let any_no_execute = tol("", "Exists", "", "NoExecute", Some(10));
        assert_eq!(admitted(vec![any_no_execute]).len(), 1);
    }
}
