//! Parsing of the node commands: accepted forms and kubectl's refusals.

use super::*;
use crate::api::LabelSelector;
use crate::time::SimDuration;

fn zone_a() -> NodeTarget {
    NodeTarget::Selector {
        text: "topology.kubernetes.io/zone=a".into(),
        selector: LabelSelector {
            match_labels: [("topology.kubernetes.io/zone".to_string(), "a".to_string())].into(),
            ..Default::default()
        },
    }
}

fn parse(line: &str) -> Result<Action, String> {
    crate::scenario::parse_kubectl(line)
}

#[test]
fn cordon_and_uncordon_by_name_or_selector() {
    assert_eq!(
        parse("cordon node/w-1"),
        Ok(Action::Cordon { node: "w-1".into() })
    );
    assert_eq!(
        parse("uncordon -l topology.kubernetes.io/zone=a"),
        Ok(Action::CordonSelected {
            selector: zone_a(),
            unschedulable: false
        })
    );
    assert_eq!(
        parse("cordon --selector=topology.kubernetes.io/zone=a"),
        Ok(Action::CordonSelected {
            selector: zone_a(),
            unschedulable: true
        })
    );
    let both = parse("cordon w-1 -l topology.kubernetes.io/zone=a").unwrap_err();
    assert!(both.contains("cannot specify both a node name and a --selector option"));
    assert!(
        parse("cordon -l")
            .unwrap_err()
            .contains("needs a label selector")
    );
    assert!(
        parse("cordon -l 'a in b'")
            .unwrap_err()
            .contains("invalid label selector")
    );
}

#[test]
fn drain_flags() {
    assert_eq!(
        parse("drain w-1"),
        Ok(Action::Drain {
            target: NodeTarget::Name("w-1".into()),
            options: DrainOptions::default()
        })
    );
    let all = parse(
        "drain w-1 --ignore-daemonsets --delete-emptydir-data --force --grace-period=10 --timeout 2m",
    )
    .unwrap();
    assert_eq!(
        all,
        Action::Drain {
            target: NodeTarget::Name("w-1".into()),
            options: DrainOptions {
                ignore_daemonsets: true,
                delete_emptydir_data: true,
                force: true,
                grace_period_seconds: Some(10),
                timeout: Some(SimDuration::from_secs(120)),
            }
        }
    );
    let Ok(Action::Drain { target, options }) =
        parse("drain -l topology.kubernetes.io/zone=a --grace-period=-1 --timeout=0 --force=false")
    else {
        panic!("drain by selector")
    };
    assert_eq!(target, zone_a());
    assert_eq!(options, DrainOptions::default());
    for (line, want) in [
        ("drain", "needs a node name"),
        ("drain w-1 --timeout=soon", "--timeout must be a duration"),
        ("drain w-1 --grace-period=x", "whole number of seconds"),
        ("drain w-1 --disable-eviction", "unexpected argument"),
        ("drain w-1 w-2", "unexpected argument"),
        ("drain w-1 --force=maybe", "invalid argument"),
    ] {
        let err = parse(line).expect_err(line);
        assert!(err.contains(want), "{line}: {err}");
    }
}

#[test]
fn taint_specs_as_kubectl_parses_them() {
    let oos = Taint {
        key: "node.kubernetes.io/out-of-service".into(),
        value: "nodeshutdown".into(),
        effect: "NoExecute".into(),
        time_added: None,
    };
    assert_eq!(
        parse("taint nodes w-1 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"),
        Ok(Action::Taint {
            target: NodeTarget::Name("w-1".into()),
            changes: vec![TaintChange::Add(oos.clone())],
            overwrite: false
        })
    );
    assert_eq!(
        parse("taint node/w-1 node.kubernetes.io/out-of-service:NoExecute- dedicated- --overwrite"),
        Ok(Action::Taint {
            target: NodeTarget::Name("w-1".into()),
            changes: vec![
                TaintChange::Remove {
                    key: "node.kubernetes.io/out-of-service".into(),
                    effect: Some("NoExecute".into())
                },
                TaintChange::Remove {
                    key: "dedicated".into(),
                    effect: None
                },
            ],
            overwrite: true
        })
    );
    let Ok(Action::Taint {
        target, changes, ..
    }) = parse("taint nodes -l topology.kubernetes.io/zone=a spot:PreferNoSchedule")
    else {
        panic!("taint by selector")
    };
    assert_eq!(target, zone_a());
    assert_eq!(changes.len(), 1);
    for (line, want) in [
        ("taint nodes w-1", "at least one taint update is required"),
        (
            "taint nodes w-1 a=b:Sometimes",
            "invalid taint effect: Sometimes, unsupported taint effect",
        ),
        ("taint nodes w-1 a=b", "invalid taint spec: a=b"),
        (
            "taint nodes w-1 a=b=c:NoSchedule",
            "invalid taint spec: a=b=c:NoSchedule",
        ),
        ("taint nodes w-1 -bad:NoSchedule", "unexpected argument"),
        (
            "taint nodes w-1 b@d:NoSchedule",
            "invalid taint spec: b@d:NoSchedule",
        ),
        (
            "taint nodes w-1 a:NoSchedule a=x:NoSchedule",
            "duplicated taints with the same key and effect",
        ),
        ("taint pods p-1 a:NoSchedule", "only taint nodes"),
        ("taint nodes", "missing the node name"),
    ] {
        let err = parse(line).expect_err(line);
        assert!(err.contains(want), "{line}: {err}");
    }
}

#[test]
fn delete_node_forms() {
    for line in [
        "delete node w-1",
        "delete nodes w-1",
        "delete node/w-1",
        "delete no w-1",
    ] {
        assert_eq!(
            parse(line),
            Ok(Action::DeleteNode { node: "w-1".into() }),
            "{line}"
        );
    }
    assert!(
        parse("delete node")
            .unwrap_err()
            .contains("missing the name")
    );
    assert!(
        parse("delete node w-1 --force")
            .unwrap_err()
            .contains("unexpected")
    );
}
