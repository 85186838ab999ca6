//! The checks the API server would make before accepting a manifest (the subset that
//! matters to the simulation): selectors that match their template, required names and
//! images, allowed enum values, quantities that parse.

use super::de::{index, join};
use super::fields::Problem;
use super::model::ManifestObject;
use super::yaml::Node;
use crate::api::pod::{Container, PodSpec};
use crate::api::quantity::parse_quantity_milli;
use crate::api::{Quantity, StatefulSet};
use std::collections::BTreeMap;

/// The provisioner of StorageClasses for statically provisioned volumes only.
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// Checks one decoded object; `root` is its YAML tree, for positions; `drivers` are the
/// CSI drivers a StorageClass may name.
pub fn validate(object: &ManifestObject, root: &Node, drivers: &[String]) -> Vec<Problem> {
    let mut v = Checker {
        root,
        problems: Vec::new(),
    };
    match object {
        ManifestObject::StatefulSet(s) => v.stateful_set(s),
        ManifestObject::Pod(p) => v.pod_spec(&p.spec, "spec"),
        ManifestObject::PersistentVolumeClaim(c) => {
            v.quantities(&c.spec.resources.requests, "spec.resources.requests");
            v.quantities(&c.spec.resources.limits, "spec.resources.limits");
        }
        ManifestObject::PersistentVolume(pv) => v.quantities(&pv.spec.capacity, "spec.capacity"),
        ManifestObject::Service(s) => {
            for (i, p) in s.spec.ports.iter().enumerate() {
                if !(1..=65535).contains(&p.port) {
                    let path = join(&index("spec.ports", i), "port");
                    v.problem(
                        &path,
                        format!("port must be between 1 and 65535, found {}", p.port),
                        None,
                    );
                }
            }
        }
        ManifestObject::PodDisruptionBudget(pdb) => {
            if pdb.spec.min_available.is_some() && pdb.spec.max_unavailable.is_some() {
                let msg = "minAvailable and maxUnavailable cannot both be set";
                v.problem("spec.maxUnavailable", msg.to_string(), None);
            }
        }
        ManifestObject::StorageClass(sc) => {
            if sc.provisioner.is_empty() {
                v.problem(
                    "provisioner",
                    "a StorageClass needs a provisioner".to_string(),
                    None,
                );
            } else {
                v.provisioner(&sc.provisioner, drivers);
            }
            if let Some(mode) = &sc.volume_binding_mode {
                v.one_of(
                    "volumeBindingMode",
                    mode,
                    &["Immediate", "WaitForFirstConsumer"],
                );
            }
            if let Some(policy) = &sc.reclaim_policy {
                v.one_of("reclaimPolicy", policy, &["Delete", "Retain"]);
            }
        }
    }
    v.problems
}

struct Checker<'a> {
    root: &'a Node,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, path: &str, message: String, hint: Option<String>) {
        let pos = self.root.nearest(path).pos;
        self.problems.push(Problem {
            pos,
            path: path.to_string(),
            message,
            hint,
        });
    }

    fn one_of(&mut self, path: &str, value: &str, allowed: &[&str]) {
        if !value.is_empty() && !allowed.contains(&value) {
            let hint = super::suggest::did_you_mean(value, allowed.iter().copied());
            let list = allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            self.problem(
                path,
                format!("unsupported value {value:?}: supported values: {list}"),
                hint,
            );
        }
    }

    /// A StorageClass provisioner must be a CSI driver the cluster runs (or may run: the
    /// built-ins), or `kubernetes.io/no-provisioner` (static volumes only).
    fn provisioner(&mut self, provisioner: &str, drivers: &[String]) {
        if provisioner == NO_PROVISIONER || drivers.iter().any(|d| d == provisioner) {
            return;
        }
        let names = || drivers.iter().map(String::as_str);
        let hint = super::suggest::did_you_mean(provisioner, names()).or_else(|| {
            Some(format!(
                "known drivers: {} (declare others under spec.storage.drivers)",
                names().collect::<Vec<_>>().join(", ")
            ))
        });
        self.problem(
            "provisioner",
            format!("unknown provisioner {provisioner:?}: no CSI driver of that name"),
            hint,
        );
    }

    fn stateful_set(&mut self, s: &StatefulSet) {
        let spec = &s.spec;
        if let Some(r) = spec.replicas.filter(|r| *r < 0) {
            self.problem(
                "spec.replicas",
                format!("replicas must be >= 0, found {r}"),
                None,
            );
        }
        if spec.min_ready_seconds < 0 {
            self.problem(
                "spec.minReadySeconds",
                "minReadySeconds must be >= 0".to_string(),
                None,
            );
        }
        if spec.selector.is_empty() {
            let hint = Some("set spec.selector.matchLabels to the template's labels".to_string());
            self.problem(
                "spec.selector",
                "a StatefulSet needs a non-empty selector".to_string(),
                hint,
            );
        } else if !spec.selector.matches(&spec.template.metadata.labels) {
            self.problem(
                "spec.template.metadata.labels",
                "`selector` does not match template `labels`".to_string(),
                None,
            );
        }
        self.one_of(
            "spec.podManagementPolicy",
            &spec.pod_management_policy,
            &["OrderedReady", "Parallel"],
        );
        self.one_of(
            "spec.updateStrategy.type",
            &spec.update_strategy.type_,
            &["RollingUpdate", "OnDelete"],
        );
        if let Some(policy) = &spec.persistent_volume_claim_retention_policy {
            let path = "spec.persistentVolumeClaimRetentionPolicy";
            self.one_of(
                &join(path, "whenDeleted"),
                &policy.when_deleted,
                &["Retain", "Delete"],
            );
            self.one_of(
                &join(path, "whenScaled"),
                &policy.when_scaled,
                &["Retain", "Delete"],
            );
        }
        if let Some(ru) = &spec.update_strategy.rolling_update {
            if ru.partition.is_some_and(|p| p < 0) {
                self.problem(
                    "spec.updateStrategy.rollingUpdate.partition",
                    "partition must be >= 0".to_string(),
                    None,
                );
            }
            if let Some(mu) = &ru.max_unavailable {
                let path = "spec.updateStrategy.rollingUpdate.maxUnavailable";
                match mu.scaled_value(100, false) {
                    Ok(v) if v >= 1 || matches!(mu, crate::api::IntOrString::String(_)) => {}
                    Ok(v) => self.problem(
                        path,
                        format!("maxUnavailable must be >= 1, found {v}"),
                        None,
                    ),
                    Err(e) => self.problem(path, e, None),
                }
            }
        }
        if let Some(o) = &spec.ordinals
            && o.start < 0
        {
            self.problem(
                "spec.ordinals.start",
                "ordinals.start must be >= 0".to_string(),
                None,
            );
        }
        let restart = &spec.template.spec.restart_policy;
        if !restart.is_empty() && restart != "Always" {
            let msg = format!(
                "unsupported value {restart:?}: a StatefulSet's pods must use restartPolicy \"Always\""
            );
            self.problem("spec.template.spec.restartPolicy", msg, None);
        }
        self.pod_spec(&spec.template.spec, "spec.template.spec");
        for (i, t) in spec.volume_claim_templates.iter().enumerate() {
            let path = index("spec.volumeClaimTemplates", i);
            if t.metadata.name.is_empty() {
                self.problem(
                    &join(&path, "metadata.name"),
                    "a volume claim template needs a name".to_string(),
                    None,
                );
            }
            self.quantities(
                &t.spec.resources.requests,
                &join(&path, "spec.resources.requests"),
            );
            self.quantities(
                &t.spec.resources.limits,
                &join(&path, "spec.resources.limits"),
            );
        }
    }

    fn pod_spec(&mut self, spec: &PodSpec, path: &str) {
        if spec.containers.is_empty() {
            self.problem(
                &join(path, "containers"),
                "a pod needs at least one container".to_string(),
                None,
            );
        }
        self.one_of(
            &join(path, "restartPolicy"),
            &spec.restart_policy,
            &["Always", "OnFailure", "Never"],
        );
        if spec.termination_grace_period_seconds.is_some_and(|g| g < 0) {
            self.problem(
                &join(path, "terminationGracePeriodSeconds"),
                "must be >= 0".to_string(),
                None,
            );
        }
        for (list, containers) in [
            ("containers", &spec.containers),
            ("initContainers", &spec.init_containers),
        ] {
            for (i, c) in containers.iter().enumerate() {
                self.container(c, &index(&join(path, list), i));
            }
        }
    }

    fn container(&mut self, c: &Container, path: &str) {
        if c.name.is_empty() {
            self.problem(
                &join(path, "name"),
                "a container needs a name".to_string(),
                None,
            );
        }
        if c.image.is_empty() {
            self.problem(
                &join(path, "image"),
                format!("container {:?} needs an image", c.name),
                None,
            );
        }
        self.quantities(&c.resources.requests, &join(path, "resources.requests"));
        self.quantities(&c.resources.limits, &join(path, "resources.limits"));
    }

    fn quantities(&mut self, list: &BTreeMap<String, Quantity>, path: &str) {
        for (name, q) in list {
            if let Err(e) = parse_quantity_milli(&q.0) {
                // Resource names hold dots (`nvidia.com/gpu`): point at the list itself then.
                let at = if name.contains('.') {
                    path.to_string()
                } else {
                    join(path, name)
                };
                self.problems.push(Problem {
                    pos: self.root.nearest(&at).pos,
                    path: join(path, name),
                    message: e,
                    hint: None,
                });
            }
        }
    }
}
