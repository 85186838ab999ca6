//! The read-only kubectl commands, parsed as kubectl reads their flags: `get` (pods,
//! statefulsets, claims, nodes; `-o wide`, `-l`, `-A`) and `describe pod`. They change
//! nothing; the simulator prints their output into the timeline, which is what makes a
//! scenario a lesson ("what does `kubectl get pods` show one minute into the outage?").

use super::kubectl::{KubectlError, check_name, unexpected};
use super::kubectl_nodes::take_selector;
use super::model::{Action, GetRequest, GetResource, NodeTarget};

const GET_USAGE: &str =
    "get pods|statefulsets|pvc|nodes [NAME] [-o wide] [-l SELECTOR] [-A|--all-namespaces]";
const DESCRIBE_USAGE: &str = "describe pod NAME";

/// The resource names kubectl accepts for the kinds stsim prints (plural, singular, short,
/// and `kind.group`).
fn get_resource(word: &str) -> Option<GetResource> {
    Some(match word {
        "pods" | "pod" | "po" => GetResource::Pods,
        "statefulsets" | "statefulset" | "sts" | "statefulsets.apps" | "statefulset.apps" => {
            GetResource::StatefulSets
        }
        "persistentvolumeclaims" | "persistentvolumeclaim" | "pvc" => {
            GetResource::PersistentVolumeClaims
        }
        "nodes" | "node" | "no" => GetResource::Nodes,
        _ => return None,
    })
}

fn usage_error(message: impl Into<String>, usage: &str) -> KubectlError {
    KubectlError {
        message: message.into(),
        hint: Some(format!("usage: {usage}")),
    }
}

/// `get TYPE[/NAME] [NAME] [flags]`, after the namespace flag has been taken out.
pub(super) fn get(namespace: String, args: &[&str]) -> Result<Action, KubectlError> {
    let (selector, args) = take_selector(args, GET_USAGE)?;
    let mut wide = false;
    let mut all_namespaces = false;
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let t = args[i];
        let output = match t {
            "-o" | "--output" => {
                i += 1;
                Some(*args.get(i).ok_or_else(|| {
                    usage_error(format!("flag {t} needs an output format"), GET_USAGE)
                })?)
            }
            _ => t
                .strip_prefix("--output=")
                .or_else(|| t.strip_prefix("-o="))
                .or_else(|| t.strip_prefix("-o").filter(|v| !v.is_empty())),
        };
        match output {
            Some("wide") => wide = true,
            Some(other) => {
                return Err(usage_error(
                    format!("stsim prints the table or `-o wide`, not output format {other:?}"),
                    GET_USAGE,
                ));
            }
            None if t == "-A" || t == "--all-namespaces" => all_namespaces = true,
            None if t.starts_with('-') => return Err(unexpected(t, GET_USAGE)),
            None => positional.push(t),
        }
        i += 1;
    }
    let (kind_word, name) = match positional.as_slice() {
        [] => return Err(usage_error("missing the resource type", GET_USAGE)),
        [kind] => match kind.split_once('/') {
            Some((k, n)) => (k, Some(n)),
            None => (*kind, None),
        },
        [kind, name] if !kind.contains('/') => (*kind, Some(*name)),
        [_, _, extra, ..] | [_, extra] => return Err(unexpected(extra, GET_USAGE)),
    };
    let resource = get_resource(kind_word).ok_or_else(|| {
        usage_error(
            format!("stsim prints pods, statefulsets, pvc and nodes, not {kind_word:?}"),
            GET_USAGE,
        )
    })?;
    if let Some(n) = name {
        check_name(n, GET_USAGE)?;
        if all_namespaces {
            // kubectl: "a resource cannot be retrieved by name across all namespaces".
            return Err(usage_error(
                "a resource cannot be retrieved by name across all namespaces",
                GET_USAGE,
            ));
        }
    }
    let selector = selector.map(|t| match t {
        NodeTarget::Selector { text, selector } => (text, selector),
        NodeTarget::Name(n) => unreachable!("take_selector returns selectors only: {n}"),
    });
    Ok(Action::Get(GetRequest {
        resource,
        namespace: (resource.namespaced() && !all_namespaces).then_some(namespace),
        name: name.map(str::to_string),
        selector,
        wide,
    }))
}

/// `describe pod NAME` / `describe pod/NAME`.
pub(super) fn describe(namespace: String, args: &[&str]) -> Result<Action, KubectlError> {
    let (kind, name) = match args {
        [one] => one
            .split_once('/')
            .ok_or_else(|| usage_error(format!("missing the name of the {one}"), DESCRIBE_USAGE))?,
        [kind, name] if !kind.contains('/') => (*kind, *name),
        [] => return Err(usage_error("missing the resource type", DESCRIBE_USAGE)),
        [_, extra, ..] => return Err(unexpected(extra, DESCRIBE_USAGE)),
    };
    if get_resource(kind) != Some(GetResource::Pods) {
        return Err(usage_error(
            format!("stsim describes pods, not {kind:?}"),
            DESCRIBE_USAGE,
        ));
    }
    check_name(name, DESCRIBE_USAGE)?;
    Ok(Action::DescribePod {
        namespace,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::kubectl::parse;
    use super::*;

    fn get_of(line: &str) -> GetRequest {
        match parse(line) {
            Ok(Action::Get(g)) => g,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn get_reads_resource_name_and_flags_as_kubectl_does() {
        let g = get_of("kubectl get pods -o wide");
        assert_eq!(g.resource, GetResource::Pods);
        assert_eq!(g.namespace.as_deref(), Some("default"));
        assert!(g.wide && g.name.is_none() && g.selector.is_none());

        let g = get_of("get sts web -n prod");
        assert_eq!(
            (
                g.resource,
                g.namespace.as_deref(),
                g.name.as_deref(),
                g.wide
            ),
            (GetResource::StatefulSets, Some("prod"), Some("web"), false)
        );
        let g = get_of("get pvc/data-web-0 --output=wide");
        assert_eq!(g.name.as_deref(), Some("data-web-0"));
        assert!(g.wide);
        let g = get_of("get po -l app=web -A");
        assert_eq!(g.namespace, None);
        assert_eq!(g.selector.as_ref().map(|s| s.0.as_str()), Some("app=web"));
        let g = get_of("get nodes -owide");
        assert_eq!(
            (g.resource, g.namespace.clone(), g.wide),
            (GetResource::Nodes, None, true)
        );
    }

    #[test]
    fn get_refuses_what_it_cannot_print_with_a_hint() {
        for (line, needle) in [
            ("get deployments", "not \"deployments\""),
            ("get pods -o yaml", "not output format \"yaml\""),
            ("get pods web-0 extra", "unexpected argument \"extra\""),
            ("get", "missing the resource type"),
            ("get pods web-0 -A", "across all namespaces"),
            ("get pods --watch", "unexpected argument \"--watch\""),
        ] {
            let e = parse(line).unwrap_err();
            assert!(e.message.contains(needle), "{line}: {e}");
            assert!(
                e.hint.as_deref().is_some_and(|h| h.contains("usage: get")),
                "{line}"
            );
        }
    }

    #[test]
    fn describe_takes_one_pod() {
        assert_eq!(
            parse("describe pod web-0 -n db").unwrap(),
            Action::DescribePod {
                namespace: "db".into(),
                name: "web-0".into()
            }
        );
        assert_eq!(
            parse("kubectl describe pods/web-1").unwrap(),
            Action::DescribePod {
                namespace: "default".into(),
                name: "web-1".into()
            }
        );
        let e = parse("describe sts web").unwrap_err();
        assert!(e.message.contains("describes pods"), "{e}");
        assert!(parse("describe pod").is_err());
    }
}
