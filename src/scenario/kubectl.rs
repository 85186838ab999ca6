//! Operator actions written as kubectl command lines: `scale`, `set image`, `delete`
//! (pods, statefulsets, claims), `rollout undo|restart`, `patch`, `cordon`, `uncordon`
//! (and the read-only `get` and `describe`, in `kubectl_get.rs`), parsed into
//! `model::Action` the way kubectl reads its flags. The line is split into words as a
//! shell would (`shell.rs`), so a patch can be quoted: `-p '{"spec":{...}}'`.

use super::model::{Action, PatchType};
use super::suggest::did_you_mean;
use crate::apiserver::Propagation;

/// The commands stsim understands, for error messages.
pub const SUPPORTED: &str = "scale statefulset NAME --replicas=N, set image statefulset/NAME CONTAINER=IMAGE..., \
delete pod NAME [--grace-period=N] [--force], delete statefulset NAME [--cascade=background|foreground|orphan], \
delete pvc NAME, delete pv NAME, rollout undo statefulset/NAME [--to-revision=N], rollout restart statefulset/NAME, \
patch statefulset|pvc NAME -p PATCH [--type=strategic|merge|json], cordon NODE|-l SELECTOR, \
uncordon NODE|-l SELECTOR, drain NODE|-l SELECTOR [flags], taint nodes NODE|-l SELECTOR KEY[=VALUE]:EFFECT[-]..., \
delete node NAME, get pods|statefulsets|pvc|nodes [NAME] [-o wide] [-l SELECTOR] [-A], describe pod NAME";

const VERBS: &[&str] = &[
    "scale", "set", "delete", "rollout", "patch", "cordon", "uncordon", "drain", "taint", "get",
    "describe",
];

/// A parse failure: what is wrong, and what might fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubectlError {
    pub message: String,
    pub hint: Option<String>,
}

impl KubectlError {
    fn new(message: impl Into<String>) -> Self {
        KubectlError {
            message: message.into(),
            hint: None,
        }
    }
    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl std::fmt::Display for KubectlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// Parses one kubectl command line (with or without a leading `kubectl`) into an action.
/// The namespace (`-n NS`, `--namespace NS`, `--namespace=NS`, anywhere) defaults to
/// `default`.
pub fn parse_kubectl(line: &str) -> Result<Action, String> {
    parse(line).map_err(|e| e.to_string())
}

/// Like [`parse_kubectl`], keeping the hint apart.
pub fn parse(line: &str) -> Result<Action, KubectlError> {
    let words = super::shell::split_words(line)
        .map_err(|e| KubectlError::new(format!("cannot split the command line: {e}")))?;
    let mut tokens: Vec<&str> = words.iter().map(String::as_str).collect();
    if tokens.first() == Some(&"kubectl") {
        tokens.remove(0);
    }
    let (namespace, args) = take_namespace(&tokens)?;
    let Some((&verb, rest)) = args.split_first() else {
        return Err(
            KubectlError::new("empty kubectl command").hint(format!("supported: {SUPPORTED}"))
        );
    };
    match verb {
        "scale" => scale(namespace, rest),
        "set" => set_image(namespace, rest),
        "delete" => delete(namespace, rest),
        "rollout" => rollout(namespace, rest),
        "patch" => patch(namespace, rest),
        "cordon" => super::kubectl_nodes::cordon(rest, true),
        "uncordon" => super::kubectl_nodes::cordon(rest, false),
        "drain" => super::kubectl_nodes::drain(rest),
        "taint" => super::kubectl_nodes::taint(rest),
        "get" => super::kubectl_get::get(namespace, rest),
        "describe" => super::kubectl_get::describe(namespace, rest),
        other => {
            let error = KubectlError::new(format!(
                "unsupported kubectl command `{other}`; stsim runs: {SUPPORTED}"
            ));
            Err(KubectlError {
                hint: did_you_mean(other, VERBS.iter().copied()),
                ..error
            })
        }
    }
}

/// Removes the namespace flag wherever it is; returns the namespace and the other tokens.
fn take_namespace<'a>(tokens: &[&'a str]) -> Result<(String, Vec<&'a str>), KubectlError> {
    let mut namespace = None;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        let value = if t == "-n" || t == "--namespace" {
            i += 1;
            let v = tokens
                .get(i)
                .ok_or_else(|| KubectlError::new(format!("flag {t} needs a namespace")))?;
            Some(*v)
        } else {
            t.strip_prefix("--namespace=")
                .or_else(|| t.strip_prefix("-n="))
        };
        match value {
            Some(v) if v.is_empty() || v.starts_with('-') => {
                return Err(KubectlError::new(format!("flag {t} needs a namespace")));
            }
            Some(v) => namespace = Some(v.to_string()),
            None => rest.push(t),
        }
        i += 1;
    }
    Ok((namespace.unwrap_or_else(|| "default".to_string()), rest))
}

fn is_statefulset(resource: &str) -> bool {
    matches!(
        resource,
        "statefulset" | "statefulsets" | "sts" | "statefulset.apps" | "statefulsets.apps"
    )
}

fn is_pod(resource: &str) -> bool {
    matches!(resource, "pod" | "pods" | "po")
}

/// Reads `TYPE NAME` or `TYPE/NAME` from the front of `args`: (type, name, the rest).
pub(super) fn resource<'a>(
    args: &[&'a str],
    usage: &str,
) -> Result<(&'a str, &'a str, Vec<&'a str>), KubectlError> {
    let positional: Vec<usize> = (0..args.len())
        .filter(|&i| !args[i].starts_with('-'))
        .collect();
    let Some(&first) = positional.first() else {
        return Err(KubectlError::new("missing the resource").hint(format!("usage: {usage}")));
    };
    let without = |skip: &[usize]| -> Vec<&'a str> {
        args.iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, t)| *t)
            .collect()
    };
    if let Some((kind, name)) = args[first].split_once('/') {
        return Ok((kind, name, without(&[first])));
    }
    let Some(&second) = positional.get(1) else {
        return Err(
            KubectlError::new(format!("missing the name of the {}", args[first]))
                .hint(format!("usage: {usage}")),
        );
    };
    Ok((args[first], args[second], without(&[first, second])))
}

/// `--flag=value` or `--flag value`: the value, if `token` (at `args[*i]`) is this flag.
fn flag_value<'a>(
    args: &[&'a str],
    i: &mut usize,
    flag: &str,
) -> Result<Option<&'a str>, KubectlError> {
    let t = args[*i];
    if let Some(v) = t.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
        return Ok(Some(v));
    }
    if t == flag {
        *i += 1;
        return args
            .get(*i)
            .map(|v| Some(*v))
            .ok_or_else(|| KubectlError::new(format!("flag {flag} needs a value")));
    }
    Ok(None)
}

fn scale(namespace: String, args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str = "scale statefulset NAME --replicas=N";
    let (kind, name, rest) = resource(args, USAGE)?;
    if !is_statefulset(kind) {
        return Err(
            KubectlError::new(format!("stsim can only scale statefulsets, not {kind:?}"))
                .hint(format!("usage: {USAGE}")),
        );
    }
    check_name(name, USAGE)?;
    let mut replicas = None;
    let mut i = 0;
    while i < rest.len() {
        match flag_value(&rest, &mut i, "--replicas")? {
            Some(v) => {
                let n: i32 = v.parse().map_err(|_| {
                    KubectlError::new(format!("--replicas must be a whole number, found {v:?}"))
                })?;
                if n < 0 {
                    return Err(KubectlError::new(format!(
                        "--replicas must be >= 0, found {n}"
                    )));
                }
                replicas = Some(n);
            }
            None => return Err(unexpected(rest[i], USAGE)),
        }
        i += 1;
    }
    let replicas = replicas.ok_or_else(|| {
        KubectlError::new("scale needs --replicas").hint(format!("usage: {USAGE}"))
    })?;
    Ok(Action::Scale {
        namespace,
        name: name.to_string(),
        replicas,
    })
}

fn set_image(namespace: String, args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str = "set image statefulset/NAME CONTAINER=IMAGE [CONTAINER=IMAGE...]";
    match args.first() {
        Some(&"image") => {}
        Some(other) => {
            let msg = format!("unsupported command `set {other}`; stsim runs: {SUPPORTED}");
            return Err(KubectlError::new(msg).hint(format!("usage: {USAGE}")));
        }
        None => {
            return Err(
                KubectlError::new("`set` needs a subcommand").hint(format!("usage: {USAGE}"))
            );
        }
    }
    let args = &args[1..];
    // The resource is the first positional token; pairs contain '='.
    let Some(first) = args
        .first()
        .filter(|t| !t.contains('=') && !t.starts_with('-'))
    else {
        return Err(KubectlError::new("missing the statefulset").hint(format!("usage: {USAGE}")));
    };
    let (kind, name, pairs) = match first.split_once('/') {
        Some((kind, name)) => (kind, name, &args[1..]),
        None => {
            let name = args
                .get(1)
                .filter(|t| !t.contains('=') && !t.starts_with('-'));
            let name = name.ok_or_else(|| {
                KubectlError::new("missing the statefulset name").hint(format!("usage: {USAGE}"))
            })?;
            (*first, *name, &args[2..])
        }
    };
    if !is_statefulset(kind) {
        let msg = format!("stsim can only set images of statefulsets, not {kind:?}");
        return Err(KubectlError::new(msg).hint(format!("usage: {USAGE}")));
    }
    check_name(name, USAGE)?;
    let mut images = Vec::new();
    for p in pairs {
        let Some((container, image)) = p.split_once('=').filter(|_| !p.starts_with('-')) else {
            return Err(unexpected(p, USAGE));
        };
        if container.is_empty() || image.is_empty() {
            return Err(KubectlError::new(format!(
                "expected CONTAINER=IMAGE, found {p:?}"
            )));
        }
        if container == "*" {
            return Err(KubectlError::new(
                "`*=IMAGE` is not supported: name each container",
            ));
        }
        images.push((container.to_string(), image.to_string()));
    }
    if images.is_empty() {
        return Err(
            KubectlError::new("set image needs at least one CONTAINER=IMAGE")
                .hint(format!("usage: {USAGE}")),
        );
    }
    Ok(Action::SetImage {
        namespace,
        name: name.to_string(),
        images,
    })
}

pub(super) fn is_pvc(resource: &str) -> bool {
    matches!(
        resource,
        "pvc" | "pvcs" | "persistentvolumeclaim" | "persistentvolumeclaims"
    )
}

fn delete(namespace: String, args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str = "delete pod|statefulset|pvc NAME [flags]";
    let (kind, _, _) = resource(args, USAGE)?;
    if super::kubectl_nodes::is_node_resource(kind) {
        super::kubectl_nodes::delete_node(args)
    } else if super::kubectl_storage::is_pv(kind) {
        super::kubectl_storage::delete_pv(args)
    } else if is_pod(kind) {
        delete_pod(namespace, args)
    } else if is_statefulset(kind) || is_pvc(kind) {
        delete_with_cascade(namespace, args, is_statefulset(kind))
    } else {
        Err(KubectlError::new(format!(
            "stsim can delete pods, statefulsets and persistentvolumeclaims, not {kind:?}"
        ))
        .hint(format!("usage: {USAGE}")))
    }
}

/// `delete statefulset|pvc NAME [--cascade=...]`: the propagation policy kubectl sends.
fn delete_with_cascade(
    namespace: String,
    args: &[&str],
    stateful_set: bool,
) -> Result<Action, KubectlError> {
    let usage = if stateful_set {
        "delete statefulset NAME [--cascade=background|foreground|orphan]"
    } else {
        "delete pvc NAME [--cascade=background|foreground|orphan]"
    };
    let (_, name, rest) = resource(args, usage)?;
    check_name(name, usage)?;
    let mut propagation = Propagation::Background;
    for t in rest {
        propagation = match t.strip_prefix("--cascade") {
            Some("") => Propagation::Background, // the flag's NoOptDefVal
            Some(v) if v.starts_with('=') => cascade(&v[1..])?,
            _ => return Err(unexpected(t, usage)),
        };
    }
    let name = name.to_string();
    Ok(if stateful_set {
        Action::DeleteStatefulSet {
            namespace,
            name,
            propagation,
        }
    } else {
        Action::DeletePvc {
            namespace,
            name,
            propagation,
        }
    })
}

// Port of kubectl's `GetCascadingStrategy`: a policy name, or the deprecated booleans
// (`true` is background, `false` orphan).
fn cascade(v: &str) -> Result<Propagation, KubectlError> {
    Ok(match v {
        "background" | "1" | "t" | "T" | "TRUE" | "true" | "True" => Propagation::Background,
        "foreground" => Propagation::Foreground,
        "orphan" | "0" | "f" | "F" | "FALSE" | "false" | "False" => Propagation::Orphan,
        _ => {
            return Err(KubectlError::new(format!(
                "invalid cascade value ({v}). Must be \"background\", \"foreground\", or \"orphan\""
            )));
        }
    })
}

/// `rollout undo statefulset/NAME [--to-revision=N]`, `rollout restart statefulset/NAME`.
fn rollout(namespace: String, args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str = "rollout undo|restart statefulset/NAME [--to-revision=N]";
    const SUBCOMMANDS: &[&str] = &["undo", "restart"];
    let sub = match args.first().copied() {
        Some(s @ ("undo" | "restart")) => s,
        Some(other) => {
            let msg = format!(
                "unsupported command `rollout {other}`; stsim runs: rollout undo, rollout restart"
            );
            let hint = did_you_mean(other, SUBCOMMANDS.iter().copied())
                .unwrap_or_else(|| format!("usage: {USAGE}"));
            return Err(KubectlError::new(msg).hint(hint));
        }
        None => {
            return Err(
                KubectlError::new("`rollout` needs a subcommand").hint(format!("usage: {USAGE}"))
            );
        }
    };
    let args = &args[1..];
    let mut to_revision = 0;
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match flag_value(args, &mut i, "--to-revision")? {
            Some(v) if sub == "undo" => {
                to_revision = v.parse().map_err(|_| {
                    KubectlError::new(format!("--to-revision must be a whole number, found {v:?}"))
                })?;
                if to_revision < 0 {
                    return Err(KubectlError::new(format!(
                        "--to-revision must be >= 0, found {to_revision}"
                    )));
                }
            }
            Some(_) => return Err(unexpected("--to-revision", USAGE)),
            None if args[i].starts_with('-') => return Err(unexpected(args[i], USAGE)),
            None => positional.push(args[i]),
        }
        i += 1;
    }
    let (kind, name, extra) = resource(&positional, USAGE)?;
    if !is_statefulset(kind) {
        let msg = format!("stsim can only roll out statefulsets, not {kind:?}");
        return Err(KubectlError::new(msg).hint(format!("usage: {USAGE}")));
    }
    check_name(name, USAGE)?;
    if let Some(t) = extra.first() {
        return Err(unexpected(t, USAGE));
    }
    let name = name.to_string();
    Ok(if sub == "undo" {
        Action::RolloutUndo {
            namespace,
            name,
            to_revision,
        }
    } else {
        Action::RolloutRestart { namespace, name }
    })
}

/// `patch statefulset NAME -p PATCH [--type=strategic|merge|json]`; the patch is parsed
/// and checked against the fields stsim models now, so a misspelling fails the scenario.
fn patch(namespace: String, args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str = "patch statefulset NAME -p PATCH [--type=strategic|merge|json]";
    let mut text = None;
    let mut patch_type = PatchType::Strategic;
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if let Some(v) = flag_value(args, &mut i, "-p")? {
            text = Some(v);
        } else if let Some(v) = flag_value(args, &mut i, "--patch")? {
            text = Some(v);
        } else if let Some(v) = flag_value(args, &mut i, "--type")? {
            patch_type = match v {
                "strategic" => PatchType::Strategic,
                "merge" => PatchType::Merge,
                "json" => PatchType::Json,
                _ => {
                    return Err(KubectlError::new(format!(
                        "--type must be one of [json merge strategic], not {v:?}"
                    )));
                }
            };
        } else if args[i].starts_with('-') {
            return Err(unexpected(args[i], USAGE));
        } else {
            positional.push(args[i]);
        }
        i += 1;
    }
    let (kind, name, extra) = resource(&positional, USAGE)?;
    if is_pvc(kind) {
        return super::kubectl_storage::patch_pvc(namespace, name, &extra, text, patch_type);
    }
    if !is_statefulset(kind) {
        let msg = format!("stsim can only patch statefulsets, not {kind:?}");
        return Err(KubectlError::new(msg).hint(format!("usage: {USAGE}")));
    }
    check_name(name, USAGE)?;
    if let Some(t) = extra.first() {
        return Err(unexpected(t, USAGE));
    }
    let text = text
        .ok_or_else(|| KubectlError::new("patch needs -p PATCH").hint(format!("usage: {USAGE}")))?;
    let to_error = |e: super::patch::PatchError| KubectlError {
        message: e.message,
        hint: e.hint,
    };
    let patch = super::patch::parse(text).map_err(to_error)?;
    super::patch::validate(patch_type, &patch).map_err(to_error)?;
    Ok(Action::Patch {
        namespace,
        name: name.to_string(),
        patch_type,
        patch,
    })
}

fn delete_pod(namespace: String, args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str = "delete pod NAME [--grace-period=N] [--force]";
    let (_, name, rest) = resource(args, USAGE)?;
    check_name(name, USAGE)?;
    let mut grace: i64 = -1;
    let mut force = false;
    let mut i = 0;
    while i < rest.len() {
        let t = rest[i];
        if let Some(v) = flag_value(&rest, &mut i, "--grace-period")? {
            grace = v.parse().map_err(|_| {
                KubectlError::new(format!(
                    "--grace-period must be a whole number of seconds, found {v:?}"
                ))
            })?;
        } else if t == "--force" || t == "--force=true" {
            force = true;
        } else if t == "--force=false" {
        } else if t == "--now" || t == "--now=true" {
            grace = 1;
        } else {
            return Err(unexpected(t, USAGE));
        }
        i += 1;
    }
    // As kubectl: 0 without --force means 1 ("immediate"); --force alone means 0.
    let grace = match (grace, force) {
        (g, true) if g < 0 => 0,
        (0, false) => 1,
        (g, _) if g < 0 => {
            return Ok(Action::DeletePod {
                namespace,
                name: name.to_string(),
                grace_period_seconds: None,
            });
        }
        (g, _) => g,
    };
    Ok(Action::DeletePod {
        namespace,
        name: name.to_string(),
        grace_period_seconds: Some(grace),
    })
}

pub(super) fn check_name(name: &str, usage: &str) -> Result<(), KubectlError> {
    if name.is_empty() {
        return Err(KubectlError::new("missing the name").hint(format!("usage: {usage}")));
    }
    Ok(())
}

pub(super) fn unexpected(token: &str, usage: &str) -> KubectlError {
    KubectlError::new(format!("unexpected argument {token:?}")).hint(format!("usage: {usage}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(ns: &str, name: &str, replicas: i32) -> Action {
        Action::Scale {
            namespace: ns.into(),
            name: name.into(),
            replicas,
        }
    }
    fn delete(name: &str, grace: Option<i64>) -> Action {
        Action::DeletePod {
            namespace: "default".into(),
            name: name.into(),
            grace_period_seconds: grace,
        }
    }

    #[test]
    fn parses_supported_forms() {
        let set = |ns: &str, pairs: &[(&str, &str)]| Action::SetImage {
            namespace: ns.into(),
            name: "web".into(),
            images: pairs
                .iter()
                .map(|(c, i)| (c.to_string(), i.to_string()))
                .collect(),
        };
        let cases: Vec<(&str, Action)> = vec![
            (
                "scale statefulset web --replicas=5",
                scale("default", "web", 5),
            ),
            ("scale sts web --replicas 0", scale("default", "web", 0)),
            (
                "scale statefulset/web --replicas=3 -n prod",
                scale("prod", "web", 3),
            ),
            (
                "kubectl -n prod scale statefulsets web --replicas=2",
                scale("prod", "web", 2),
            ),
            (
                "scale --namespace=db sts/web --replicas=1",
                scale("db", "web", 1),
            ),
            (
                "scale --replicas=4 --namespace db statefulset web",
                scale("db", "web", 4),
            ),
            (
                "set image statefulset/web nginx=nginx:1.27",
                set("default", &[("nginx", "nginx:1.27")]),
            ),
            (
                "set image statefulset web a=x:1 b=y:2 -n q",
                set("q", &[("a", "x:1"), ("b", "y:2")]),
            ),
            ("delete pod web-0", delete("web-0", None)),
            (
                "delete pod/web-0 --grace-period=10",
                delete("web-0", Some(10)),
            ),
            (
                "delete pod web-0 --grace-period 10",
                delete("web-0", Some(10)),
            ),
            (
                "delete pod web-0 --force --grace-period=0",
                delete("web-0", Some(0)),
            ),
            ("delete pod web-0 --force", delete("web-0", Some(0))),
            ("delete pod web-0 --grace-period=-1", delete("web-0", None)),
            (
                "delete pod web-0 --grace-period=0",
                delete("web-0", Some(1)),
            ),
            ("delete pods web-0 --now", delete("web-0", Some(1))),
            (
                "cordon worker-a-1",
                Action::Cordon {
                    node: "worker-a-1".into(),
                },
            ),
            (
                "  uncordon   node/worker-a-1 ",
                Action::Uncordon {
                    node: "worker-a-1".into(),
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(parse_kubectl(line), Ok(want), "{line}");
        }
    }

    #[test]
    fn refuses_malformed_lines() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("scale statefulset web", "--replicas"),
            ("scale statefulset web --replicas=three", "whole number"),
            ("scale statefulset web --replicas=-1", ">= 0"),
            (
                "scale deployment web --replicas=1",
                "only scale statefulsets",
            ),
            ("scale statefulset --replicas=1", "missing the name"),
            (
                "scale statefulset web --replicas=1 --timeout=5s",
                "unexpected argument",
            ),
            (
                "frobnicate pod x",
                "unsupported kubectl command `frobnicate`",
            ),
            ("set image statefulset/web", "at least one"),
            (
                "set image deployment/web a=b",
                "only set images of statefulsets",
            ),
            ("set env statefulset/web A=b", "set env"),
            ("set image statefulset/web *=x", "name each container"),
            ("delete pod", "missing the name of the pod"),
            ("delete", "missing the resource"),
            ("delete deployment web", "not \"deployment\""),
            (
                "delete pod web-0 --grace-period=soon",
                "whole number of seconds",
            ),
            ("cordon", "needs a node"),
            ("cordon a b", "unexpected argument"),
            ("scale sts web --replicas=1 -n", "needs a namespace"),
        ];
        for &(line, want) in cases {
            let err = parse_kubectl(line).expect_err(line);
            assert!(err.contains(want), "{line:?}: {err}");
        }
        let err = parse("scael statefulset web --replicas=2").expect_err("misspelled");
        assert_eq!(err.hint.as_deref(), Some("did you mean \"scale\"?"));
        assert!(
            parse_kubectl("frobnicate pod x")
                .expect_err("x")
                .contains("cordon NODE")
        );
    }
}
