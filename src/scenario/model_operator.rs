//! Operator actions on nodes in the validated scenario: which nodes a command acts on, and
//! the options of `kubectl drain` and `kubectl taint`.

use crate::api::LabelSelector;
use crate::api::scheduling::Taint;
use crate::time::SimDuration;

/// The nodes a node command acts on.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeTarget {
    /// One node, by name.
    Name(String),
    /// Every node whose labels match (`-l`), in name order; `text` as written.
    Selector {
        text: String,
        selector: LabelSelector,
    },
}

/// `kubectl drain` flags.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DrainOptions {
    /// `--ignore-daemonsets` (stsim runs no DaemonSets, so there is nothing to ignore).
    pub ignore_daemonsets: bool,
    /// `--delete-emptydir-data`: pods with emptyDir volumes may go.
    pub delete_emptydir_data: bool,
    /// `--force`: pods that no controller manages may go.
    pub force: bool,
    /// `--grace-period=N` (`None`: each pod's own, kubectl's -1).
    pub grace_period_seconds: Option<i64>,
    /// `--timeout` (`None`: wait forever, kubectl's 0).
    pub timeout: Option<SimDuration>,
}

/// One `kubectl taint` argument: `key=value:Effect` adds (value may be empty), `key:Effect-`
/// removes the taint of that key and effect, `key-` every taint of that key.
#[derive(Clone, Debug, PartialEq)]
pub enum TaintChange {
    Add(Taint),
    Remove { key: String, effect: Option<String> },
}

/// What `kubectl get` lists (the kinds a person watching a StatefulSet looks at).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetResource {
    Pods,
    StatefulSets,
    PersistentVolumeClaims,
    Nodes,
}

impl GetResource {
    /// Namespaced kinds are listed in one namespace (or all with `-A`); nodes are not.
    pub fn namespaced(self) -> bool {
        !matches!(self, GetResource::Nodes)
    }
}

/// `kubectl get TYPE [NAME] [-o wide] [-l SELECTOR] [-A]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GetRequest {
    pub resource: GetResource,
    /// `None`: every namespace (`-A`, which adds a NAMESPACE column).
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// `-l`, as written and parsed.
    pub selector: Option<(String, LabelSelector)>,
    /// `-o wide`: the columns kubectl shows only on request.
    pub wide: bool,
}
