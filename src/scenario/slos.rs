//! `spec.slos`: each item names an SLI and its target, checked against the SLI catalogue
//! (`model_slo.rs`) and the scenario's StatefulSets, each mistake reported at its line with
//! a hint (an unknown SLI gets "did you mean", a ratio SLI given `max` is told to use
//! `objective`).

use super::de::{index, join};
use super::error::{Diagnostic, Source};
use super::located::Loc;
use super::model::{Manifest, ManifestObject};
use super::model_app::AppSpec;
use super::model_slo::{Fraction, SliKind, SliShape, SloSpec, SloTarget};
use super::report::Reporter;
use super::suggest::did_you_mean;
use super::values::parse_go_duration;
use crate::api::IntOrString;
use crate::time::SimDuration;
use serde::Deserialize;

/// SLIs not measured yet, named so that a scenario asking for them gets a clear "not yet"
/// rather than "unknown".
const APP_SLIS: &[&str] = &["replicationLag", "commitLatency"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSlo {
    name: Loc<String>,
    sli: Loc<String>,
    #[serde(default)]
    stateful_set: Option<Loc<String>>,
    #[serde(default)]
    ordinal: Option<Loc<i32>>,
    #[serde(default)]
    objective: Option<Loc<IntOrString>>,
    #[serde(default)]
    max: Option<Loc<IntOrString>>,
    #[serde(default)]
    percentile: Option<Loc<u32>>,
    #[serde(default)]
    window: Option<Loc<String>>,
}

/// Checks `spec.slos` (under the node `spec`) against the scenario's manifests.
pub fn build(
    spec: &super::yaml::Node,
    manifests: &[Manifest],
    apps: &[AppSpec],
    src: &Source,
    diags: &mut Vec<Diagnostic>,
) -> Vec<SloSpec> {
    let mut r = Reporter { src, diags };
    let items: Vec<(usize, RawSlo)> = r.list(spec, "slos", "spec");
    let sets: Vec<(String, String)> = manifests
        .iter()
        .filter_map(|m| match &m.object {
            ManifestObject::StatefulSet(s) => Some((
                if s.metadata.namespace.is_empty() {
                    "default".to_string()
                } else {
                    s.metadata.namespace.clone()
                },
                s.metadata.name.clone(),
            )),
            _ => None,
        })
        .collect();
    // Apps that failed their own checks are reported there; SLOs about them say nothing more.
    let declared = match spec.get("apps").map(|n| &n.value) {
        Some(super::yaml::Value::Seq(items)) => items.len(),
        _ => 0,
    };
    let apps_invalid = declared > apps.len();
    let mut out: Vec<SloSpec> = Vec::new();
    for (i, raw) in items {
        let path = index("spec.slos", i);
        let name_pos = raw.name.pos;
        if let Some(slo) = slo(raw, &path, &sets, apps, apps_invalid, &mut r) {
            if out.iter().any(|o| o.name == slo.name) {
                let msg = format!("two SLOs are named {:?}", slo.name);
                r.push(name_pos, &join(&path, "name"), msg, None);
                continue;
            }
            out.push(slo);
        }
    }
    out
}

fn slo(
    raw: RawSlo,
    path: &str,
    sets: &[(String, String)],
    apps: &[AppSpec],
    apps_invalid: bool,
    r: &mut Reporter,
) -> Option<SloSpec> {
    let sli_path = join(path, "sli");
    let Some(sli) = SliKind::from_name(&raw.sli.value) else {
        let (msg, hint) = if APP_SLIS.contains(&raw.sli.value.as_str()) {
            (
                format!("SLI `{}` is not measured yet", raw.sli.value),
                Some(format!("SLIs measured today: {}", names())),
            )
        } else {
            (
                format!("unknown SLI `{}`", raw.sli.value),
                did_you_mean(&raw.sli.value, SliKind::ALL.iter().map(|k| k.name()))
                    .or_else(|| Some(format!("SLIs: {}", names()))),
            )
        };
        r.push(raw.sli.pos, &sli_path, msg, hint);
        return None;
    };
    let mut ok = true;
    let stateful_set = match &raw.stateful_set {
        None => None,
        Some(_) if !sli.per_set() => {
            let msg = format!("SLI `{}` is measured for the whole cluster", sli.name());
            r.push(raw.sli.pos, &join(path, "statefulSet"), msg, None);
            ok = false;
            None
        }
        Some(s) => {
            let (ns, name) = match s.value.split_once('/') {
                Some((ns, name)) => (ns.to_string(), name.to_string()),
                None => ("default".to_string(), s.value.clone()),
            };
            if !sets.iter().any(|(n, m)| *n == ns && *m == name) {
                let hint = did_you_mean(&name, sets.iter().map(|(_, m)| m.as_str()));
                let msg = format!("no StatefulSet {ns}/{name} in spec.manifests");
                r.push(s.pos, &join(path, "statefulSet"), msg, hint);
                ok = false;
            }
            Some((ns, name))
        }
    };
    if sli.needs_app() && !apps_invalid {
        let has_app = |(ns, n): &(String, String)| {
            apps.iter()
                .any(|a| a.namespace == *ns && a.stateful_set == *n)
        };
        match &stateful_set {
            _ if apps.is_empty() => {
                let msg = format!(
                    "SLI `{}` measures an application, and spec.apps runs none",
                    sli.name()
                );
                let hint = Some("attach a model to the StatefulSet: spec.apps: [{statefulSet: NAME, model: quorum}]".to_string());
                r.push(raw.sli.pos, &sli_path, msg, hint);
                ok = false;
            }
            Some(set) if ok && !has_app(set) => {
                let msg = format!("StatefulSet {}/{} runs no app (spec.apps)", set.0, set.1);
                let pos = raw.stateful_set.as_ref().map_or(raw.sli.pos, |s| s.pos);
                r.push(pos, &join(path, "statefulSet"), msg, None);
                ok = false;
            }
            _ => {}
        }
    }
    if let Some(o) = &raw.ordinal
        && (sli != SliKind::PodAvailability || stateful_set.is_none() || o.value < 0)
    {
        let msg = "`ordinal` narrows podAvailability of one statefulSet to one pod (0 or more)";
        r.push(o.pos, &join(path, "ordinal"), msg, None);
        ok = false;
    }
    let target = target(&raw, sli, path, r);
    let window = match &raw.window {
        None => None,
        Some(w) if sli.shape() != SliShape::Ratio => {
            let msg = "`window` is the compliance period of a ratio objective";
            r.push(w.pos, &join(path, "window"), msg, None);
            ok = false;
            None
        }
        Some(w) => match window(&w.value) {
            Ok(d) => Some(d),
            Err(e) => {
                let hint = Some("e.g. window: 30d, or 720h".to_string());
                r.push(w.pos, &join(path, "window"), e, hint);
                ok = false;
                None
            }
        },
    };
    let target = target?;
    ok.then(|| SloSpec {
        name: raw.name.value,
        sli,
        stateful_set,
        ordinal: raw.ordinal.map(|o| o.value),
        target,
        window,
    })
}

fn names() -> String {
    SliKind::ALL.map(|k| k.name()).join(", ")
}

/// `objective` for ratio SLIs, `max` (and `percentile`) for durations.
fn target(raw: &RawSlo, sli: SliKind, path: &str, r: &mut Reporter) -> Option<SloTarget> {
    match (sli.shape(), &raw.objective, &raw.max) {
        (_, Some(_), Some(m)) => {
            let msg = "an SLO has either `objective` (a ratio) or `max` (a duration), not both";
            r.push(m.pos, &join(path, "max"), msg, None);
            None
        }
        (SliShape::Ratio, Some(o), None) => match objective(&o.value) {
            Ok(f) => {
                if let Some(p) = &raw.percentile {
                    let msg = "`percentile` applies to duration SLIs";
                    r.push(p.pos, &join(path, "percentile"), msg, None);
                    return None;
                }
                Some(SloTarget::Objective(f))
            }
            Err(e) => {
                let hint = Some("write it as a percentage, e.g. \"99.9%\"".to_string());
                r.push(o.pos, &join(path, "objective"), e, hint);
                None
            }
        },
        (SliShape::Ratio, None, Some(m)) => {
            let msg = format!("SLI `{}` is a ratio: give it an `objective`", sli.name());
            let hint = Some("e.g. objective: \"99.9%\"".to_string());
            r.push(m.pos, &join(path, "max"), msg, hint);
            None
        }
        (SliShape::Durations, Some(o), None) => {
            let msg = format!("SLI `{}` is a duration: give it a `max`", sli.name());
            let hint = Some("e.g. max: 10m".to_string());
            r.push(o.pos, &join(path, "objective"), msg, hint);
            None
        }
        (SliShape::Durations, None, Some(m)) => {
            let max = match &m.value {
                IntOrString::Int(0) => Ok(SimDuration::ZERO),
                IntOrString::Int(n) => Err(format!(
                    "a duration needs a unit: {n}s, {n}m, ...; only 0 may be written bare"
                )),
                IntOrString::String(s) => parse_go_duration(s),
            };
            let percentile = raw.percentile.as_ref().map_or(100, |p| p.value);
            if !(1..=100).contains(&percentile) {
                let at = raw.percentile.as_ref().map_or(m.pos, |p| p.pos);
                let msg = "percentile must be between 1 and 100 (100: the largest)";
                r.push(at, &join(path, "percentile"), msg, None);
                return None;
            }
            match max {
                Ok(max) => Some(SloTarget::MaxDuration { max, percentile }),
                Err(e) => {
                    r.push(m.pos, &join(path, "max"), e, None);
                    None
                }
            }
        }
        (SliShape::Count, Some(o), None) => {
            let msg = format!("SLI `{}` is a count: give it a `max`", sli.name());
            r.push(
                o.pos,
                &join(path, "objective"),
                msg,
                Some("e.g. max: 0".to_string()),
            );
            None
        }
        (SliShape::Count, None, Some(m)) => match &m.value {
            IntOrString::Int(n) if *n >= 0 && raw.percentile.is_none() => {
                Some(SloTarget::MaxCount(*n as u64))
            }
            _ if raw.percentile.is_some() => {
                let p = raw.percentile.as_ref().expect("checked").pos;
                let msg = "`percentile` applies to duration SLIs";
                r.push(p, &join(path, "percentile"), msg, None);
                None
            }
            v => {
                let msg = format!(
                    "SLI `{}` is a count: `max` is a whole number, not {v:?}",
                    sli.name()
                );
                r.push(
                    m.pos,
                    &join(path, "max"),
                    msg,
                    Some("e.g. max: 0".to_string()),
                );
                None
            }
        },
        (_, None, None) => {
            let field = match sli.shape() {
                SliShape::Ratio => "objective",
                SliShape::Durations | SliShape::Count => "max",
            };
            let msg = format!("missing `{field}`: what the SLO demands of {}", sli.name());
            r.push(raw.sli.pos, path, msg, None);
            None
        }
    }
}

/// A compliance period: whole days (`30d`, as SLO windows are usually written) or a Go
/// duration (`720h`); at least a second.
fn window(text: &str) -> Result<SimDuration, String> {
    let d = match text.strip_suffix('d').map(str::parse::<u64>) {
        Some(Ok(days)) if days <= 3650 => SimDuration::from_secs(days * 86_400),
        Some(_) => return Err(format!("invalid window {text:?}")),
        None => parse_go_duration(text)?,
    };
    if d < SimDuration::from_secs(1) {
        return Err(format!("window {text:?} must be at least 1s"));
    }
    Ok(d)
}

/// `"99.9%"` → 999/1000, exactly; above 0 and at most 100 %.
fn objective(v: &IntOrString) -> Result<Fraction, String> {
    let text = match v {
        IntOrString::String(s) => s.trim(),
        IntOrString::Int(n) => return Err(format!("objective {n} is not a percentage")),
    };
    let Some(number) = text.strip_suffix('%') else {
        return Err(format!("objective {text:?} is not a percentage"));
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits_ok(whole) || !digits_ok(frac) || frac.len() > 9 {
        return Err(format!("objective {text:?} is not a percentage"));
    }
    let den = 100 * 10u128.pow(frac.len() as u32);
    let num: u128 = format!("{whole}{frac}")
        .parse()
        .map_err(|_| format!("objective {text:?} is not a percentage"))?;
    if num == 0 || num > den {
        return Err(format!(
            "objective {text:?} must be above 0% and at most 100%"
        ));
    }
    Ok(Fraction { num, den })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_are_exact_fractions() {
        let f = |s: &str| objective(&IntOrString::String(s.into()));
        assert_eq!(
            f("99.9%"),
            Ok(Fraction {
                num: 999,
                den: 1000
            })
        );
        assert_eq!(f("100%"), Ok(Fraction { num: 100, den: 100 }));
        assert_eq!(
            f("99.95%"),
            Ok(Fraction {
                num: 9995,
                den: 10000
            })
        );
        assert!(f("0%").is_err());
        assert!(f("101%").is_err());
        assert!(f("0.999").is_err());
        assert!(f("9x%").is_err());
        assert!(objective(&IntOrString::Int(99)).is_err());
    }

    #[test]
    fn windows_take_days_or_go_durations() {
        assert_eq!(window("30d"), Ok(SimDuration::from_secs(30 * 86_400)));
        assert_eq!(window("720h"), Ok(SimDuration::from_secs(30 * 86_400)));
        assert!(window("0s").is_err());
        assert!(window("x").is_err());
        assert!(window("1.5d").is_err());
    }
}
