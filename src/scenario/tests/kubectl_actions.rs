//! The kubectl forms of issue 3 (delete statefulset/pvc with `--cascade`, rollout undo and
//! restart, patch with its three types), valid and malformed, and a bad patch reported with
//! its place in the scenario file.

use super::{VALID, error_of, load_text};
use crate::apiserver::Propagation;
use crate::scenario::{Action, PatchType, parse_kubectl};
use serde_json::json;

fn delete_set(ns: &str, propagation: Propagation) -> Action {
    Action::DeleteStatefulSet {
        namespace: ns.into(),
        name: "web".into(),
        propagation,
    }
}

fn patch(patch_type: PatchType, patch: serde_json::Value) -> Action {
    Action::Patch {
        namespace: "default".into(),
        name: "web".into(),
        patch_type,
        patch,
    }
}

#[test]
fn parses_the_new_forms() {
    use Propagation::{Background, Foreground, Orphan};
    let undo = |to_revision| Action::RolloutUndo {
        namespace: "default".into(),
        name: "web".into(),
        to_revision,
    };
    let cases: Vec<(&str, Action)> = vec![
        ("delete statefulset web", delete_set("default", Background)),
        (
            "delete sts/web --cascade=foreground -n db",
            delete_set("db", Foreground),
        ),
        (
            "delete statefulsets.apps web --cascade=orphan",
            delete_set("default", Orphan),
        ),
        (
            "delete statefulset web --cascade=false",
            delete_set("default", Orphan),
        ),
        (
            "delete statefulset web --cascade=true",
            delete_set("default", Background),
        ),
        (
            "delete statefulset web --cascade",
            delete_set("default", Background),
        ),
        (
            "delete pvc www-web-0",
            Action::DeletePvc {
                namespace: "default".into(),
                name: "www-web-0".into(),
                propagation: Background,
            },
        ),
        (
            "delete persistentvolumeclaim/www-web-0 --cascade=orphan",
            Action::DeletePvc {
                namespace: "default".into(),
                name: "www-web-0".into(),
                propagation: Orphan,
            },
        ),
        ("rollout undo statefulset/web", undo(0)),
        ("rollout undo sts web --to-revision=2", undo(2)),
        (
            "kubectl rollout undo --to-revision 3 statefulset/web",
            undo(3),
        ),
        (
            "rollout restart statefulset/web",
            Action::RolloutRestart {
                namespace: "default".into(),
                name: "web".into(),
            },
        ),
        (
            r#"kubectl patch statefulset web -p '{"spec":{"replicas":2}}'"#,
            patch(PatchType::Strategic, json!({"spec": {"replicas": 2}})),
        ),
        (
            r#"patch sts web -p '{"spec": {"updateStrategy": {"rollingUpdate": {"partition": 2}}}}'"#,
            patch(
                PatchType::Strategic,
                json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 2}}}}),
            ),
        ),
        (
            r#"patch sts web --type=merge --patch '{"spec":{"minReadySeconds":5}}'"#,
            patch(PatchType::Merge, json!({"spec": {"minReadySeconds": 5}})),
        ),
        (
            r#"patch sts/web --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:2"}]'"#,
            patch(
                PatchType::Json,
                json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:2"}]),
            ),
        ),
        (
            "patch sts web -p '{spec: {revisionHistoryLimit: 3}}'",
            patch(
                PatchType::Strategic,
                json!({"spec": {"revisionHistoryLimit": 3}}),
            ),
        ),
        (
            r#"patch sts web -p "{\"spec\":{\"podManagementPolicy\":\"Parallel\"}}""#,
            patch(
                PatchType::Strategic,
                json!({"spec": {"podManagementPolicy": "Parallel"}}),
            ),
        ),
    ];
    for (line, want) in cases {
        assert_eq!(parse_kubectl(line), Ok(want), "{line}");
    }
}

#[test]
fn refuses_malformed_new_forms() {
    let cases: &[(&str, &str)] = &[
        (
            "delete statefulset web --cascade=sideways",
            r#"invalid cascade value (sideways). Must be "background", "foreground", or "orphan""#,
        ),
        (
            "delete statefulset web --cascade foreground",
            "unexpected argument \"foreground\"",
        ),
        (
            "delete statefulset web --grace-period=5",
            "unexpected argument",
        ),
        ("delete deployment web", "not \"deployment\""),
        ("delete pvc", "missing the name of the pvc"),
        (
            "rollout status statefulset/web",
            "unsupported command `rollout status`",
        ),
        ("rollout undi statefulset/web", "did you mean \"undo\"?"),
        ("rollout", "`rollout` needs a subcommand"),
        ("rollout undo deployment/web", "only roll out statefulsets"),
        (
            "rollout undo statefulset/web --to-revision=-1",
            "--to-revision must be >= 0",
        ),
        (
            "rollout undo statefulset/web --to-revision=two",
            "whole number",
        ),
        (
            "rollout restart statefulset/web --to-revision=1",
            "unexpected argument",
        ),
        (
            "rollout undo statefulset/web extra",
            "unexpected argument \"extra\"",
        ),
        ("rollout undo", "missing the resource"),
        ("patch statefulset web", "patch needs -p PATCH"),
        (
            r#"patch statefulset web -p '{"spec":{"replica":2}}'"#,
            "unknown field \"spec.replica\" in the patch: not a field of StatefulSetSpec in the Kubernetes API (did you mean \"replicas\"?)",
        ),
        (
            r#"patch statefulset web -p '{"spec":'"#,
            "the patch is not valid JSON",
        ),
        (
            "patch statefulset web -p '{unclosed",
            "unclosed single quote",
        ),
        (
            "patch statefulset web --type=apply -p '{}'",
            "--type must be one of [json merge strategic], not \"apply\"",
        ),
        ("patch deployment web -p '{}'", "only patch statefulsets"),
        (
            "patch sts web -p '{}' --dry-run=client",
            "unexpected argument \"--dry-run=client\"",
        ),
        (
            r#"patch sts web --type=json -p '[{"op":"test","path":"/spec/replicas","value":1}]'"#,
            "unsupported JSON patch operation \"test\"",
        ),
        (
            r#"patch sts web -p '{"spec":{"template":{"spec":{"securityContext":{"runAsUser":1}}}}}'"#,
            "spec.template.spec.securityContext is not simulated by stsim",
        ),
    ];
    for &(line, want) in cases {
        let err = parse_kubectl(line).expect_err(line);
        assert!(err.contains(want), "{line:?}: {err}");
    }
}

#[test]
fn a_bad_patch_is_reported_at_its_action() {
    let text = VALID.replace(
        "kubectl: cordon worker-a-1",
        r#"kubectl: patch statefulset redis -n db -p '{"spec":{"replcas":5}}'"#,
    );
    let err = error_of(&text);
    assert!(
        err.contains("spec.actions[1].kubectl: unknown field \"spec.replcas\" in the patch"),
        "{err}"
    );
    assert!(err.contains("hint: did you mean \"replicas\"?"), "{err}");
    let line = text
        .lines()
        .position(|l| l.contains("replcas"))
        .expect("the line")
        + 1;
    assert!(err.contains(&format!("scenario.yaml:{line}:")), "{err}");
    // Written as a YAML block scalar, JSON with spaces needs no extra quoting.
    let block = VALID.replace(
        "kubectl: cordon worker-a-1",
        "kubectl: >-\n        patch statefulset redis -n db -p '{\"spec\": {\"replicas\": 4}}'",
    );
    let s = load_text(&block).expect("a valid scenario");
    assert!(matches!(s.actions[0].action, Action::Patch { .. }));
}
