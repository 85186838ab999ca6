//! kubectl commands on nodes, parsed as kubectl reads its flags: `cordon`/`uncordon` and
//! `drain` (a node name or `-l SELECTOR`), `taint nodes` (taint specs as `parseTaints`
//! checks them) and `delete node`.

use super::kubectl::KubectlError;
use super::model::{Action, DrainOptions, NodeTarget, TaintChange};
use crate::api::scheduling::Taint;
use crate::api::selector::parse_selector_text;

fn error(message: impl Into<String>, usage: &str) -> KubectlError {
    KubectlError {
        message: message.into(),
        hint: Some(format!("usage: {usage}")),
    }
}

fn unexpected(token: &str, usage: &str) -> KubectlError {
    error(format!("unexpected argument {token:?}"), usage)
}

fn is_node(resource: &str) -> bool {
    matches!(resource, "node" | "nodes" | "no")
}

/// A node name as written (`NAME`, `node/NAME`, `nodes/NAME`).
fn node_name(token: &str) -> &str {
    token
        .strip_prefix("node/")
        .or_else(|| token.strip_prefix("nodes/"))
        .or_else(|| token.strip_prefix("no/"))
        .unwrap_or(token)
}

/// Splits out `-l SEL` / `-l=SEL` / `--selector SEL` / `--selector=SEL`.
pub(super) fn take_selector<'a>(
    args: &[&'a str],
    usage: &str,
) -> Result<(Option<NodeTarget>, Vec<&'a str>), KubectlError> {
    let mut selector = None;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let t = args[i];
        let value = if t == "-l" || t == "--selector" {
            i += 1;
            Some(
                *args
                    .get(i)
                    .ok_or_else(|| error(format!("flag {t} needs a label selector"), usage))?,
            )
        } else {
            t.strip_prefix("-l=")
                .or_else(|| t.strip_prefix("--selector="))
                .or_else(|| t.strip_prefix("-l").filter(|v| !v.is_empty()))
        };
        match value {
            Some(text) => {
                let parsed = parse_selector_text(text)
                    .map_err(|e| error(format!("invalid label selector {text:?}: {e}"), usage))?;
                if parsed.is_empty() {
                    return Err(error("the label selector is empty", usage));
                }
                selector = Some(NodeTarget::Selector {
                    text: text.to_string(),
                    selector: parsed,
                });
            }
            None => rest.push(t),
        }
        i += 1;
    }
    Ok((selector, rest))
}

/// Exactly one of a node name (the one positional word) or a selector.
fn target(
    selector: Option<NodeTarget>,
    positional: &[&str],
    verb: &str,
    usage: &str,
) -> Result<NodeTarget, KubectlError> {
    match (selector, positional) {
        (Some(_), [_, ..]) => Err(error(
            "cannot specify both a node name and a --selector option",
            usage,
        )),
        (Some(s), []) => Ok(s),
        (None, [name]) => {
            let name = node_name(name);
            if name.is_empty() {
                return Err(error("missing the node name", usage));
            }
            Ok(NodeTarget::Name(name.to_string()))
        }
        (None, []) => Err(error(
            format!("{verb} needs a node name or -l SELECTOR"),
            usage,
        )),
        (None, [_, extra, ..]) => Err(unexpected(extra, usage)),
    }
}

/// `cordon NODE`, `uncordon NODE`, or either with `-l SELECTOR`.
pub fn cordon(args: &[&str], unschedulable: bool) -> Result<Action, KubectlError> {
    let verb = if unschedulable { "cordon" } else { "uncordon" };
    let usage = format!("{verb} NODE | {verb} -l SELECTOR");
    let (selector, rest) = take_selector(args, &usage)?;
    if let Some(flag) = rest.iter().find(|t| t.starts_with('-')) {
        return Err(unexpected(flag, &usage));
    }
    Ok(match target(selector, &rest, verb, &usage)? {
        NodeTarget::Name(node) if unschedulable => Action::Cordon { node },
        NodeTarget::Name(node) => Action::Uncordon { node },
        selector => Action::CordonSelected {
            selector,
            unschedulable,
        },
    })
}

/// A kubectl boolean flag: `--flag`, `--flag=true|false`.
fn bool_flag(token: &str, flag: &str) -> Result<Option<bool>, KubectlError> {
    let Some(rest) = token.strip_prefix(flag) else {
        return Ok(None);
    };
    match rest {
        "" | "=true" => Ok(Some(true)),
        "=false" => Ok(Some(false)),
        _ if !rest.starts_with('=') => Ok(None),
        _ => Err(KubectlError {
            message: format!("invalid argument {:?} for {flag}", &rest[1..]),
            hint: None,
        }),
    }
}

/// `--flag=value` or `--flag value`.
fn value_flag<'a>(
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
        return args.get(*i).map(|v| Some(*v)).ok_or_else(|| KubectlError {
            message: format!("flag {flag} needs a value"),
            hint: None,
        });
    }
    Ok(None)
}

/// `drain NODE|-l SELECTOR [--ignore-daemonsets] [--delete-emptydir-data] [--force]
/// [--grace-period=N] [--timeout=DURATION]`.
pub fn drain(args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str = "drain NODE|-l SELECTOR [--ignore-daemonsets] [--delete-emptydir-data] \
                         [--force] [--grace-period=N] [--timeout=DURATION]";
    let (selector, rest) = take_selector(args, USAGE)?;
    let mut options = DrainOptions::default();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let t = rest[i];
        if let Some(v) = bool_flag(t, "--ignore-daemonsets")? {
            options.ignore_daemonsets = v;
        } else if let Some(v) = bool_flag(t, "--delete-emptydir-data")? {
            options.delete_emptydir_data = v;
        } else if let Some(v) = bool_flag(t, "--delete-local-data")? {
            options.delete_emptydir_data = v; // the deprecated spelling
        } else if let Some(v) = bool_flag(t, "--force")? {
            options.force = v;
        } else if let Some(v) = value_flag(&rest, &mut i, "--grace-period")? {
            let n: i64 = v.parse().map_err(|_| {
                error(
                    format!("--grace-period must be a whole number of seconds, found {v:?}"),
                    USAGE,
                )
            })?;
            options.grace_period_seconds = (n >= 0).then_some(n);
        } else if let Some(v) = value_flag(&rest, &mut i, "--timeout")? {
            let d = crate::time::parse_duration(v).map_err(|e| {
                error(
                    format!("--timeout must be a duration such as 60s or 5m: {e}"),
                    USAGE,
                )
            })?;
            options.timeout = (d != crate::time::SimDuration::ZERO).then_some(d);
        } else if t.starts_with('-') {
            return Err(unexpected(t, USAGE));
        } else {
            positional.push(t);
        }
        i += 1;
    }
    let target = target(selector, &positional, "drain", USAGE)?;
    Ok(Action::Drain { target, options })
}

/// `taint nodes NODE|-l SELECTOR KEY[=VALUE]:EFFECT ... KEY[:EFFECT]- ... [--overwrite]`.
pub fn taint(args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str =
        "taint nodes NODE|-l SELECTOR KEY[=VALUE]:EFFECT ... [KEY[:EFFECT]-] [--overwrite]";
    let (selector, rest) = take_selector(args, USAGE)?;
    let mut overwrite = false;
    let mut words = Vec::new();
    for t in rest {
        match bool_flag(t, "--overwrite")? {
            Some(v) => overwrite = v,
            None if t.starts_with('-') => return Err(unexpected(t, USAGE)),
            None => words.push(t),
        }
    }
    // The resource: `nodes NAME` or `node/NAME`; with a selector, just `nodes`.
    let Some((&first, after)) = words.split_first() else {
        return Err(error("taint needs the nodes to act on", USAGE));
    };
    let (kind, name, specs) = match first.split_once('/') {
        Some((kind, name)) => (kind, Some(name), after),
        None if selector.is_some() => (first, None, after),
        None => match after.split_first() {
            Some((name, specs)) => (first, Some(*name), specs),
            None => return Err(error("missing the node name", USAGE)),
        },
    };
    if !is_node(kind) {
        return Err(error(
            format!("stsim can only taint nodes, not {kind:?}"),
            USAGE,
        ));
    }
    let names: Vec<&str> = name.into_iter().collect();
    let target = target(selector, &names, "taint", USAGE)?;
    if specs.is_empty() {
        return Err(error("at least one taint update is required", USAGE));
    }
    let changes = parse_taints(specs).map_err(|m| error(m, USAGE))?;
    Ok(Action::Taint {
        target,
        changes,
        overwrite,
    })
}

// Port of kubectl's `parseTaints`: additions need an effect and must be unique by key and
// effect; a trailing `-` removes.
fn parse_taints(specs: &[&str]) -> Result<Vec<TaintChange>, String> {
    let mut out = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for spec in specs {
        if let Some(s) = spec.strip_suffix('-') {
            let t = parse_taint(s)?;
            out.push(TaintChange::Remove {
                key: t.key,
                effect: (!t.effect.is_empty()).then_some(t.effect),
            });
            continue;
        }
        let t = parse_taint(spec)?;
        if t.effect.is_empty() {
            return Err(format!("invalid taint spec: {spec}"));
        }
        let id = (t.key.clone(), t.effect.clone());
        if seen.contains(&id) {
            return Err(format!(
                "duplicated taints with the same key and effect: {{{} {} {} <nil>}}",
                t.key, t.value, t.effect
            ));
        }
        seen.push(id);
        out.push(TaintChange::Add(t));
    }
    Ok(out)
}

// Port of kubectl's `parseTaint`: `key=value:effect`, `key:effect` or `key`.
fn parse_taint(st: &str) -> Result<Taint, String> {
    let invalid = |why: &str| {
        if why.is_empty() {
            format!("invalid taint spec: {st}")
        } else {
            format!("invalid taint spec: {st}, {why}")
        }
    };
    let parts: Vec<&str> = st.split(':').collect();
    let (key, value, effect) = match parts[..] {
        [key] => (key, "", ""),
        [kv, effect] => {
            if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
                return Err(format!(
                    "invalid taint effect: {effect}, unsupported taint effect"
                ));
            }
            let kv: Vec<&str> = kv.split('=').collect();
            match kv[..] {
                [key] => (key, "", effect),
                [key, value] => {
                    if let Err(why) = valid_label_value(value) {
                        return Err(invalid(&why));
                    }
                    (key, value, effect)
                }
                _ => return Err(invalid("")),
            }
        }
        _ => return Err(invalid("")),
    };
    if let Err(why) = qualified_name(key) {
        return Err(invalid(&why));
    }
    Ok(Taint {
        key: key.into(),
        value: value.into(),
        effect: effect.into(),
        time_added: None,
    })
}

/// A label name or value part: at most 63 characters, alphanumeric at both ends, `-_.`
/// inside.
fn name_part(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    s.len() <= 63
        && s.chars().all(ok_char)
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// `validation.IsQualifiedName`: `[prefix/]name`, the prefix a DNS subdomain.
fn qualified_name(key: &str) -> Result<(), String> {
    let msg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must \
               start and end with an alphanumeric character";
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            let dns = prefix.len() <= 253
                && !prefix.is_empty()
                && prefix.split('.').all(|l| {
                    !l.is_empty()
                        && l.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                });
            if !dns {
                return Err(
                    "prefix part a lowercase RFC 1123 subdomain must consist of lower case \
                            alphanumeric characters, '-' or '.'"
                        .into(),
                );
            }
            name
        }
        None => key,
    };
    if name.is_empty() || !name_part(name) {
        return Err(msg.into());
    }
    Ok(())
}

/// `validation.IsValidLabelValue`.
fn valid_label_value(v: &str) -> Result<(), String> {
    if v.is_empty() || name_part(v) {
        Ok(())
    } else {
        Err(
            "a valid label must be an empty string or consist of alphanumeric characters, \
             '-', '_' or '.', and must start and end with an alphanumeric character"
                .into(),
        )
    }
}

/// `delete node NAME` (also `nodes NAME`, `node/NAME`).
pub fn delete_node(args: &[&str]) -> Result<Action, KubectlError> {
    const USAGE: &str = "delete node NAME";
    let words: Vec<&str> = args.to_vec();
    if let Some(flag) = words.iter().find(|t| t.starts_with('-')) {
        return Err(unexpected(flag, USAGE));
    }
    let name = match words[..] {
        [one] if one.contains('/') => node_name(one),
        [_, name] => name,
        [_] => return Err(error("missing the name of the node", USAGE)),
        _ => return Err(unexpected(words.get(2).copied().unwrap_or(""), USAGE)),
    };
    if name.is_empty() {
        return Err(error("missing the name of the node", USAGE));
    }
    Ok(Action::DeleteNode {
        node: name.to_string(),
    })
}

/// The node an action names, if it names one (so that the scenario can check it exists).
pub fn named_node(action: &Action) -> Option<&str> {
    match action {
        Action::Cordon { node } | Action::Uncordon { node } | Action::DeleteNode { node } => {
            Some(node)
        }
        Action::Drain {
            target: NodeTarget::Name(node),
            ..
        }
        | Action::Taint {
            target: NodeTarget::Name(node),
            ..
        } => Some(node),
        _ => None,
    }
}

/// Whether the resource word of `delete` names nodes.
pub fn is_node_resource(resource: &str) -> bool {
    is_node(resource)
}

#[cfg(test)]
mod tests;
