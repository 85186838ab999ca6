//! Scenarios: from a YAML file (and the Kubernetes manifests it references) to the
//! validated [`Scenario`] the engine runs. Problems are reported with file:line:column, the
//! field path, a hint and the source line, as many at once as practical.
//!
//! Pipeline: `yaml` parses text into a tree with positions; `de` decodes typed structs
//! (`raw`, `values`) from that tree; `cluster`, `manifests` (with `fields`, `simulated`,
//! `validate`) and `actions` (with `kubectl`) check and resolve each section; `load` ties
//! them together.

pub mod model;
mod model_app;
mod model_faults;
mod model_operator;
mod model_slo;
mod model_storage;
pub use model::*;

mod actions;
mod app_settings;
mod apps;
mod cluster;
mod de;
mod error;
mod faults;
mod faults_net;
mod fields;
mod kubectl;
mod kubectl_get;
mod kubectl_nodes;
mod kubectl_storage;
mod load;
mod located;
mod manifests;
mod node_lifecycle_knobs;
mod patch;
mod raw;
mod report;
mod shell;
mod simulated;
mod slos;
mod storage;
mod suggest;
mod validate;
mod values;
mod yaml;

#[cfg(test)]
mod tests;

pub use cluster::FEATURE_GATES;
pub use error::{Diagnostic, ScenarioError};
pub use faults::FAULT_KINDS;
pub use patch::pointer_segments;

use std::path::Path;

/// Loads and validates a scenario file (and the manifest files it references).
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        file: path.to_path_buf(),
        reference: None,
        excerpt: None,
        source,
    })?;
    load_str(&text, path)
}

/// Same, from text (`path` is used for messages and to resolve relative `file:` references).
pub fn load_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    load::load_str(text, path)
}

/// Parses one kubectl command line into an Action (also used by tests), namespace default
/// "default".
pub fn parse_kubectl(line: &str) -> Result<Action, String> {
    kubectl::parse_kubectl(line)
}
