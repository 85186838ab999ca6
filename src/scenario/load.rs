//! The scenario document, section by section: top-level identity, `spec` settings, the
//! cluster, images, manifests and actions. Each section is decoded on its own so that one
//! bad section does not hide the problems of the others.

use super::de::{index, join};
use super::error::{Diagnostic, ScenarioError, Source};
use super::located::Loc;
use super::model::{
    ImageBehavior, ImageSpec, KubeVersion, Manifest, ManifestObject, Scenario, Timing,
};
use super::raw::{RawAction, RawBehavior, RawImage, RawSpecKeys, RawTop};
use super::report::Reporter;
use super::values::{GoDuration, KubeVersionInput};
use super::yaml::{Node, Pos, Value, parse_documents};
use super::{actions, cluster, faults, manifests, storage};
use std::path::Path;

pub const API_VERSION: &str = "stsim/v1alpha1";
pub const KIND: &str = "Scenario";
const DEFAULT_SEED: u64 = 1;

/// Parses and checks a scenario (see [`super::load_str`]).
pub fn load_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let src = Source::new(path, text);
    let docs = parse_documents(text)
        .map_err(|e| ScenarioError::Invalid(vec![src.diag(e.pos, "", e.message)]))?;
    let doc = match docs.as_slice() {
        [doc] => doc,
        [] => {
            let d = src.diag(Pos { line: 1, column: 1 }, "", "the scenario file is empty");
            return Err(ScenarioError::Invalid(vec![
                d.with_hint(Some(format!("start with apiVersion: {API_VERSION}"))),
            ]));
        }
        [_, second, ..] => {
            let msg = "a scenario file holds one YAML document";
            let hint = Some(
                "put Kubernetes objects in spec.manifests, or in files it references".to_string(),
            );
            return Err(ScenarioError::Invalid(vec![
                src.diag(second.pos, "", msg).with_hint(hint),
            ]));
        }
    };
    let mut diags = Vec::new();
    let base_dir = path.parent().unwrap_or(Path::new(""));
    let scenario = Loader {
        r: Reporter {
            src: &src,
            diags: &mut diags,
        },
    }
    .scenario(doc, base_dir)?;
    match scenario {
        Some(s) if diags.is_empty() => Ok(s),
        _ => Err(ScenarioError::Invalid(sorted(diags, path))),
    }
}

/// Scenario-file problems first, then each manifest file's, each in line order.
fn sorted(mut diags: Vec<Diagnostic>, scenario: &Path) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location.as_ref().map(|l| {
                (
                    l.file.as_path() != scenario,
                    l.file.clone(),
                    l.line,
                    l.column,
                )
            })
        };
        key(a).cmp(&key(b))
    });
    diags.dedup();
    diags
}

struct Loader<'a> {
    r: Reporter<'a>,
}

impl Loader<'_> {
    fn push(&mut self, pos: Pos, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.r.push(pos, path, message, hint);
    }

    fn scenario(&mut self, doc: &Node, base_dir: &Path) -> Result<Option<Scenario>, ScenarioError> {
        if !matches!(doc.value, Value::Map(_)) {
            let msg = format!(
                "expected a scenario (a map with apiVersion, kind, metadata and spec), found {}",
                doc.describe()
            );
            self.push(doc.pos, "", msg, None);
            return Ok(None);
        }
        let top: Option<RawTop> = self.r.decode(doc, "");
        let metadata = top.as_ref().and_then(|t| self.identity(t, doc.pos));
        let Some(spec) = doc.get("spec").filter(|s| !s.is_null()) else {
            self.push(doc.pos, "spec", "missing required field `spec`", None);
            return Ok(None);
        };
        let _: Option<RawSpecKeys> = self.r.decode(spec, "spec");
        let seed: Option<u64> = self.r.optional(spec, "seed", "spec");
        let duration = self.duration(spec);
        let version: Option<KubeVersionInput> = self.r.optional(spec, "kubernetesVersion", "spec");
        let version = version.map_or(KubeVersion::DEFAULT, |v| v.0);
        let cluster = match spec.get("cluster") {
            Some(node) => Some(cluster::build(node, version, &mut self.r, "spec.cluster")),
            None => {
                self.push(
                    spec.pos,
                    "spec.cluster",
                    "missing required field `cluster`",
                    None,
                );
                None
            }
        };
        let timing = cluster
            .as_ref()
            .map_or_else(Timing::default, |c| c.timing.clone());
        let images = self.images(spec, &timing);
        let declared = storage::declared(spec, &mut self.r);
        let drivers = storage::known_names(&declared);
        let imported = match spec.get("manifests") {
            Some(list) => manifests::import(
                list,
                "spec.manifests",
                self.r.src,
                base_dir,
                self.r.diags,
                &drivers,
            )?,
            None => manifests::Imported::default(),
        };
        let storage = storage::complete(declared, &imported.manifests);
        let raw_actions: Vec<(usize, RawAction)> = self.r.list(spec, "actions", "spec");
        let nodes = cluster.as_ref().filter(|c| c.complete).map(|c| &c.spec);
        let actions = actions::build(raw_actions, duration, nodes, self.r.src, self.r.diags);
        let classes = storage_class_names(&imported.manifests);
        let fault_ctx = faults::Context {
            duration,
            cluster: nodes,
            classes: &classes,
            drivers: &drivers,
        };
        let faults = faults::build(spec, &fault_ctx, self.r.src, self.r.diags);
        let apps = super::apps::build(
            spec,
            &imported.manifests,
            cluster.as_ref().map(|c| &c.spec),
            self.r.src,
            self.r.diags,
        );
        let slos = super::slos::build(spec, &imported.manifests, &apps, self.r.src, self.r.diags);
        let (Some((name, description)), Some(duration), Some(cluster)) =
            (metadata, duration, cluster)
        else {
            return Ok(None);
        };
        Ok(Some(Scenario {
            name,
            description,
            path: self.r.src.file.clone(),
            seed: seed.unwrap_or(DEFAULT_SEED),
            duration,
            kubernetes_version: version,
            feature_gates: cluster.feature_gates,
            cluster: cluster.spec,
            timing,
            images,
            manifests: imported.manifests,
            not_simulated: imported.not_simulated,
            actions,
            storage,
            faults,
            slos,
            apps,
        }))
    }

    /// `apiVersion`, `kind` and `metadata`: the scenario's name and description.
    fn identity(&mut self, top: &RawTop, doc_pos: Pos) -> Option<(String, String)> {
        let version_hint = Some(format!("write apiVersion: {API_VERSION}"));
        match &top.api_version {
            None => self.push(
                doc_pos,
                "apiVersion",
                "missing required field `apiVersion`",
                version_hint,
            ),
            Some(v) if v.value != API_VERSION => {
                let msg = format!("unsupported apiVersion {:?}", v.value);
                self.push(v.pos, "apiVersion", msg, version_hint);
            }
            Some(_) => {}
        }
        let kind_hint = |k: &str| {
            Some(if k == KIND {
                format!("write kind: {KIND}")
            } else {
                format!(
                    "this is a Kubernetes {k}? A scenario is kind: {KIND}, and lists Kubernetes objects under spec.manifests"
                )
            })
        };
        match &top.kind {
            None => self.push(
                doc_pos,
                "kind",
                "missing required field `kind`",
                kind_hint(KIND),
            ),
            Some(Loc { value, pos }) if value != KIND => {
                let hint = if super::suggest::closest(value, [KIND]).is_some() {
                    kind_hint(KIND)
                } else {
                    kind_hint(value)
                };
                self.push(*pos, "kind", format!("unsupported kind {value:?}"), hint);
            }
            Some(_) => {}
        }
        match &top.metadata {
            None => {
                self.push(
                    doc_pos,
                    "metadata",
                    "missing required field `metadata`",
                    Some("give the scenario a metadata.name".into()),
                );
                None
            }
            Some(m) => {
                let name = &m.name.value;
                let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
                if name.is_empty() || name.starts_with('.') || !name.chars().all(ok) {
                    let msg = format!("invalid scenario name {name:?}");
                    let hint = Some(
                        "use letters, digits, '-', '_' and '.': it names the output directory"
                            .into(),
                    );
                    self.push(m.name.pos, "metadata.name", msg, hint);
                }
                Some((name.clone(), m.description.clone()))
            }
        }
    }

    fn duration(&mut self, spec: &Node) -> Option<crate::time::SimDuration> {
        let Some(node) = spec.get("duration") else {
            self.push(
                spec.pos,
                "spec.duration",
                "missing required field `duration`",
                Some("e.g. duration: 30m".into()),
            );
            return None;
        };
        let d: Loc<GoDuration> = self.r.decode(node, "spec.duration")?;
        if d.value.0 == crate::time::SimDuration::ZERO {
            self.push(
                d.pos,
                "spec.duration",
                "the run must last longer than 0s",
                None,
            );
            return None;
        }
        Some(d.value.0)
    }

    fn images(&mut self, spec: &Node, timing: &Timing) -> Vec<ImageSpec> {
        let raw: Vec<(usize, RawImage)> = self.r.list(spec, "images", "spec");
        let mut out: Vec<ImageSpec> = Vec::new();
        for (i, img) in raw {
            let path = join(&index("spec.images", i), "image");
            let Loc { value: image, pos } = img.image;
            if image.trim().is_empty() {
                self.push(pos, &path, "an image entry needs an image reference", None);
                continue;
            }
            if out.iter().any(|o| o.image == image) {
                let msg = format!("image {image:?} is described twice");
                self.push(pos, &path, msg, None);
                continue;
            }
            out.push(ImageSpec {
                image,
                pull: img.pull_time.map_or(timing.default_image_pull, |l| l.0),
                behavior: match img.behavior {
                    RawBehavior::Healthy => ImageBehavior::Healthy,
                    RawBehavior::PullError => ImageBehavior::PullError,
                    RawBehavior::CrashLoop => ImageBehavior::CrashLoop,
                    RawBehavior::NeverReady => ImageBehavior::NeverReady,
                },
                shutdown: img.shutdown_time.map_or(timing.default_shutdown, |l| l.0),
            });
        }
        out
    }
}

/// The StorageClasses the cluster will have: the manifests' own, and the default
/// `standard` unless the manifests bring a default class (see `sim::setup`).
fn storage_class_names(manifests: &[Manifest]) -> Vec<String> {
    let mut names = Vec::new();
    let mut brings_default = false;
    for m in manifests {
        if let ManifestObject::StorageClass(c) = &m.object {
            names.push(c.metadata.name.clone());
            brings_default |= c.is_default();
        }
    }
    if !brings_default && !names.iter().any(|n| n == "standard") {
        names.push("standard".to_string());
    }
    names
}
