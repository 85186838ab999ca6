//! `spec.apps`: the application each StatefulSet runs, checked against the manifests (the
//! set must exist and have members, its governing Service must be a headless Service of
//! the manifests — clients find members through its DNS records) and the cluster's zones
//! (each client group is a zone's). Settings default to upstream's (etcd for `quorum`);
//! each mistake is reported at its line with a hint.

use super::app_settings::{RawPrimaryReplica, RawQuorum, primary_replica, quorum};
use super::de::{index, join};
use super::error::{Diagnostic, Source};
use super::located::Loc;
use super::model::{ClusterSpec, Manifest, ManifestObject};
use super::model_app::{AppModel, AppSpec, ClientSpec, DEFAULT_CLIENT_RATE, ReadConsistency};
use super::report::Reporter;
use super::suggest::did_you_mean;
use crate::api::{Service, StatefulSet};
use serde::Deserialize;

/// The models stsim runs, as scenario files name them.
const MODELS: &[&str] = &["quorum", "primaryReplica", "stateless"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawApp {
    #[serde(default)]
    name: Option<Loc<String>>,
    stateful_set: Loc<String>,
    model: Loc<String>,
    #[serde(default)]
    quorum: Option<Loc<RawQuorum>>,
    #[serde(default)]
    primary_replica: Option<Loc<RawPrimaryReplica>>,
    #[serde(default)]
    reads: Option<Loc<String>>,
    #[serde(default)]
    clients: Option<Vec<Loc<RawClient>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawClient {
    zone: Loc<String>,
    #[serde(default)]
    writes_per_second: Option<Loc<u64>>,
    #[serde(default)]
    reads_per_second: Option<Loc<u64>>,
}

/// Checks `spec.apps` (under the node `spec`). `cluster` is `None` when the cluster section
/// itself was invalid (zones are then not checked).
pub fn build(
    spec: &super::yaml::Node,
    manifests: &[Manifest],
    cluster: Option<&ClusterSpec>,
    src: &Source,
    diags: &mut Vec<Diagnostic>,
) -> Vec<AppSpec> {
    let mut r = Reporter { src, diags };
    let items: Vec<(usize, RawApp)> = r.list(spec, "apps", "spec");
    let mut out: Vec<AppSpec> = Vec::new();
    for (i, raw) in items {
        let path = index("spec.apps", i);
        let pos = raw.name.as_ref().map_or(raw.stateful_set.pos, |n| n.pos);
        let Some(app) = app(raw, &path, manifests, cluster, &mut r) else {
            continue;
        };
        if out.iter().any(|o| o.name == app.name) {
            let msg = format!("two apps are named {:?}", app.name);
            let hint = Some("give one of them its own `name`".to_string());
            r.push(pos, &join(&path, "name"), msg, hint);
        } else if out
            .iter()
            .any(|o| o.namespace == app.namespace && o.stateful_set == app.stateful_set)
        {
            let msg = format!(
                "StatefulSet {}/{} already runs an app: a pod runs one",
                app.namespace, app.stateful_set
            );
            r.push(pos, &join(&path, "statefulSet"), msg, None);
        } else {
            out.push(app);
        }
    }
    out
}

fn namespace_of(ns: &str) -> &str {
    if ns.is_empty() { "default" } else { ns }
}

fn app(
    raw: RawApp,
    path: &str,
    manifests: &[Manifest],
    cluster: Option<&ClusterSpec>,
    r: &mut Reporter,
) -> Option<AppSpec> {
    let mut ok = true;
    let (namespace, set_name) = match raw.stateful_set.value.split_once('/') {
        Some((ns, name)) => (ns.to_string(), name.to_string()),
        None => ("default".to_string(), raw.stateful_set.value.clone()),
    };
    let sets: Vec<&StatefulSet> = manifests
        .iter()
        .filter_map(|m| match &m.object {
            ManifestObject::StatefulSet(s) => Some(s),
            _ => None,
        })
        .collect();
    let set = sets
        .iter()
        .find(|s| namespace_of(&s.metadata.namespace) == namespace && s.metadata.name == set_name);
    let set_path = join(path, "statefulSet");
    let Some(set) = set else {
        let hint = did_you_mean(&set_name, sets.iter().map(|s| s.metadata.name.as_str()));
        let msg = format!("no StatefulSet {namespace}/{set_name} in spec.manifests");
        r.push(raw.stateful_set.pos, &set_path, msg, hint);
        return None;
    };
    let members = set.spec.replicas.unwrap_or(1);
    if members < 1 {
        let msg =
            format!("StatefulSet {namespace}/{set_name} has no replicas, so the app no members");
        let hint = Some("members are the set's replicas in the manifest".to_string());
        r.push(raw.stateful_set.pos, &set_path, msg, hint);
        ok = false;
    }
    let service = set.spec.service_name.clone();
    let headless = manifests.iter().any(|m| match &m.object {
        ManifestObject::Service(s) => {
            namespace_of(&s.metadata.namespace) == namespace
                && s.metadata.name == service
                && Service::is_headless(s)
        }
        _ => false,
    });
    if !headless {
        let msg = format!(
            "clients reach the members through the headless Service {namespace}/{service:?} \
             (the set's serviceName), which spec.manifests does not define"
        );
        let hint = Some(format!(
            "add a Service named {service:?} with clusterIP: None and the set's pod labels as its selector"
        ));
        r.push(raw.stateful_set.pos, &set_path, msg, hint);
        ok = false;
    }
    let clients = clients(raw.clients, &join(path, "clients"), cluster, r);
    let writes_per_second: u64 = clients.iter().flatten().map(|c| c.writes_per_second).sum();
    let model_path = join(path, "model");
    let model = match raw.model.value.as_str() {
        "quorum" => {
            if let Some(p) = &raw.primary_replica {
                misplaced(r, p.pos, path, "primaryReplica", "quorum");
            }
            let q = raw.quorum.map(|q| q.value).unwrap_or_default();
            quorum(q, &join(path, "quorum"), r).map(AppModel::Quorum)
        }
        "primaryReplica" => {
            if let Some(q) = &raw.quorum {
                misplaced(r, q.pos, path, "quorum", "primaryReplica");
            }
            let p = raw.primary_replica.map(|p| p.value).unwrap_or_default();
            let net = cluster.map(|c| c.network).unwrap_or_default();
            let at = join(path, "primaryReplica");
            primary_replica(p, &at, &net, writes_per_second, raw.model.pos, r)
                .map(AppModel::PrimaryReplica)
        }
        "stateless" => {
            for (key, node) in [
                ("quorum", raw.quorum.as_ref().map(|q| q.pos)),
                (
                    "primaryReplica",
                    raw.primary_replica.as_ref().map(|p| p.pos),
                ),
            ] {
                if let Some(pos) = node {
                    misplaced(r, pos, path, key, "stateless");
                }
            }
            Some(AppModel::Stateless)
        }
        m => {
            let hint = did_you_mean(m, MODELS.iter().copied())
                .or_else(|| Some(format!("models: {}", MODELS.join(", "))));
            r.push(
                raw.model.pos,
                &model_path,
                format!("unknown model `{m}`"),
                hint,
            );
            None
        }
    };
    let reads = match raw.reads.as_ref().map(|l| l.value.as_str()) {
        None | Some("linearizable") => ReadConsistency::Linearizable,
        Some("serializable") => ReadConsistency::Serializable,
        Some(other) => {
            let pos = raw.reads.as_ref().expect("a value").pos;
            let hint = Some("reads: linearizable (etcd's default) or serializable".to_string());
            r.push(
                pos,
                &join(path, "reads"),
                format!("unknown read mode `{other}`"),
                hint,
            );
            ok = false;
            ReadConsistency::Linearizable
        }
    };
    let model = model?;
    let clients = clients?;
    ok.then(|| AppSpec {
        name: raw.name.map_or_else(|| set_name.clone(), |n| n.value),
        namespace,
        stateful_set: set_name,
        service,
        members: members.max(0) as u32,
        start_ordinal: set.start_ordinal(),
        model,
        reads,
        clients,
    })
}

/// Settings of one model given to an app of another.
fn misplaced(r: &mut Reporter, pos: super::yaml::Pos, path: &str, key: &str, model: &str) {
    let msg = format!("`{key}` settings apply to model {key}, and this app runs {model}");
    r.push(pos, &join(path, key), msg, None);
}

fn clients(
    raw: Option<Vec<Loc<RawClient>>>,
    path: &str,
    cluster: Option<&ClusterSpec>,
    r: &mut Reporter,
) -> Option<Vec<ClientSpec>> {
    let zones: Vec<&str> = cluster.map_or_else(Vec::new, |c| {
        c.zones.iter().map(|z| z.name.as_str()).collect()
    });
    let Some(raw) = raw else {
        return Some(
            zones
                .iter()
                .enumerate()
                .map(|(i, z)| ClientSpec {
                    zone: z.to_string(),
                    zone_index: i as u32,
                    writes_per_second: DEFAULT_CLIENT_RATE,
                    reads_per_second: DEFAULT_CLIENT_RATE,
                })
                .collect(),
        );
    };
    let mut ok = true;
    let mut out: Vec<ClientSpec> = Vec::new();
    for (i, c) in raw.into_iter().enumerate() {
        let item = index(path, i);
        let c = c.value;
        let Some(zone_index) = zones.iter().position(|z| *z == c.zone.value) else {
            if cluster.is_some() {
                let hint = did_you_mean(&c.zone.value, zones.iter().copied())
                    .or_else(|| Some(format!("zones: {}", zones.join(", "))));
                let msg = format!("no zone {:?} in spec.cluster.zones", c.zone.value);
                r.push(c.zone.pos, &join(&item, "zone"), msg, hint);
            }
            ok = false;
            continue;
        };
        if out.iter().any(|o| o.zone_index == zone_index as u32) {
            let msg = format!("zone {:?} has two client groups", c.zone.value);
            r.push(
                c.zone.pos,
                &join(&item, "zone"),
                msg,
                Some("add their rates up".into()),
            );
            ok = false;
            continue;
        }
        out.push(ClientSpec {
            zone: c.zone.value,
            zone_index: zone_index as u32,
            writes_per_second: c.writes_per_second.map_or(DEFAULT_CLIENT_RATE, |v| v.value),
            reads_per_second: c.reads_per_second.map_or(DEFAULT_CLIENT_RATE, |v| v.value),
        });
    }
    ok.then_some(out)
}
