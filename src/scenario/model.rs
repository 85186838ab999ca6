//! The validated scenario: everything a run needs, ids resolved and every default explicit.
//! `scenario::load` turns a YAML file into this; the engine reads only this.

pub use super::model_app::{AppModel, AppSpec, ClientSpec, ReadConsistency};
pub use super::model_faults::{Fault, NetTarget, TimedFault, ZoneOutageFlavour};
pub use super::model_operator::{DrainOptions, GetRequest, GetResource, NodeTarget, TaintChange};
pub use super::model_slo::{Fraction, SliKind, SliShape, SloSpec, SloTarget};
pub use super::model_storage::{CsiDriverProfile, StorageSpec, VolumeTopology};
use crate::api::scheduling::Taint;
use crate::api::{
    PersistentVolume, PersistentVolumeClaim, Pod, PodDisruptionBudget, Service, StatefulSet,
    StorageClass,
};
use crate::apiserver::Propagation;
use crate::rng::Latency;
use crate::time::SimDuration;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A position in a scenario or manifest file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct SourceLocation {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The scenario file as given on the command line.
    pub path: PathBuf,
    pub seed: u64,
    pub duration: SimDuration,
    pub kubernetes_version: KubeVersion,
    pub feature_gates: BTreeMap<String, bool>,
    pub cluster: ClusterSpec,
    pub timing: Timing,
    pub images: Vec<ImageSpec>,
    pub manifests: Vec<Manifest>,
    /// Fields of real Kubernetes manifests that the simulator reads but does not model.
    pub not_simulated: Vec<NotSimulated>,
    pub actions: Vec<TimedAction>,
    /// CSI drivers and their profiles (`spec.storage`).
    pub storage: StorageSpec,
    /// Timed faults (`spec.faults`), in time order.
    pub faults: Vec<TimedFault>,
    /// Service level objectives (`spec.slos`), in file order.
    pub slos: Vec<SloSpec>,
    /// The applications the StatefulSets run (`spec.apps`), in file order.
    pub apps: Vec<AppSpec>,
}

/// `major.minor` of the Kubernetes release whose defaults apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    pub const DEFAULT: KubeVersion = KubeVersion {
        major: 1,
        minor: 36,
    };
    pub fn at_least(self, minor: u32) -> bool {
        self.major > 1 || self.minor >= minor
    }
}

impl std::fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[derive(Clone, Debug, Default)]
pub struct ClusterSpec {
    /// Zones in the order the file lists them.
    pub zones: Vec<ZoneSpec>,
    /// `spec.cluster.controlPlane.zone`: the zone the API server and controllers run in;
    /// `None` = regional (reachable from every zone, survives any single-zone outage).
    pub control_plane_zone: Option<String>,
    /// `spec.cluster.network`: link latencies.
    pub network: NetworkSpec,
}

/// One-way latencies of the network's links (`spec.cluster.network`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkSpec {
    /// A node (or the zone's clients) to its zone's router (200us).
    pub intra_zone: SimDuration,
    /// Between two zone routers (1ms).
    pub inter_zone: SimDuration,
    /// The control plane to its zone's router, or to every zone router when regional (1ms).
    pub control_plane: SimDuration,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            intra_zone: SimDuration::from_micros_u64(200),
            inter_zone: SimDuration::from_millis(1),
            control_plane: SimDuration::from_millis(1),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ZoneSpec {
    pub name: String,
    pub nodes: Vec<NodeSpecInput>,
}

/// One node to create at the start, from a node pool.
#[derive(Clone, Debug)]
pub struct NodeSpecInput {
    /// `<pool>-<zone>-<i>`, i from 1.
    pub name: String,
    pub zone: String,
    pub pool: String,
    /// Allocatable resources: `cpu`, `memory`, `pods` (and any other given), as quantities.
    pub capacity: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
}

/// Timing knobs, upstream defaults unless the scenario overrides them under
/// `spec.cluster.kubernetes`.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// Delay between a write and an informer seeing it (a simulator modelling choice).
    pub watch_delay: SimDuration,
    /// kube-scheduler `podInitialBackoffSeconds` (1 s).
    pub scheduler_pod_initial_backoff: SimDuration,
    /// kube-scheduler `podMaxBackoffSeconds` (10 s).
    pub scheduler_pod_max_backoff: SimDuration,
    /// Unschedulable pods are moved back to the active queue after this (5 min).
    pub scheduler_max_in_unschedulable: SimDuration,
    /// Image pull time for images the scenario does not describe.
    pub default_image_pull: Latency,
    /// From "image present" to "container running".
    pub container_start: Latency,
    /// Time a container takes to exit after SIGTERM (capped by the grace period).
    pub default_shutdown: Latency,
    /// kube-controller-manager `--disable-force-detach-on-timeout` (false): never
    /// force-detach a volume after the six-minute unmount wait.
    pub disable_force_detach_on_timeout: bool,
    /// The node lifecycle controller's and pod GC's flags.
    pub node_lifecycle: NodeLifecycleTiming,
    /// The kubelet's heartbeats and graceful node shutdown.
    pub kubelet: KubeletTiming,
}

/// kube-controller-manager's node lifecycle and pod GC flags (upstream defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeLifecycleTiming {
    /// `--node-monitor-period` (5 s).
    pub node_monitor_period: SimDuration,
    /// `--node-monitor-grace-period`; `None`: the version's default (40 s up to 1.31,
    /// 50 s from 1.32).
    pub node_monitor_grace_period: Option<SimDuration>,
    /// `--node-startup-grace-period` (60 s).
    pub node_startup_grace_period: SimDuration,
    /// `--node-eviction-rate` (0.1 nodes/s).
    pub node_eviction_rate: f32,
    /// `--secondary-node-eviction-rate` (0.01 nodes/s).
    pub secondary_node_eviction_rate: f32,
    /// `--large-cluster-size-threshold` (50).
    pub large_cluster_size_threshold: i32,
    /// `--unhealthy-zone-threshold` (0.55).
    pub unhealthy_zone_threshold: f32,
    /// `--terminated-pod-gc-threshold` (12 500; ≤ 0 disables).
    pub terminated_pod_gc_threshold: i32,
}

impl Default for NodeLifecycleTiming {
    fn default() -> Self {
        NodeLifecycleTiming {
            node_monitor_period: SimDuration::from_secs(5),
            node_monitor_grace_period: None,
            node_startup_grace_period: SimDuration::from_secs(60),
            node_eviction_rate: 0.1,
            secondary_node_eviction_rate: 0.01,
            large_cluster_size_threshold: 50,
            unhealthy_zone_threshold: 0.55,
            terminated_pod_gc_threshold: 12_500,
        }
    }
}

/// KubeletConfiguration fields stsim models, with the upstream defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct KubeletTiming {
    /// `nodeLeaseDurationSeconds` (40); the Lease is renewed every quarter of it
    /// (`renewInterval` = 10 s), with 4 % jitter.
    pub node_lease_duration_secs: u32,
    /// `nodeStatusUpdateFrequency` (10 s): how often the kubelet computes the node status.
    pub node_status_update_frequency: SimDuration,
    /// `nodeStatusReportFrequency` (5 min): an unchanged status is still posted this often.
    pub node_status_report_frequency: SimDuration,
    /// `shutdownGracePeriod` (0 = graceful node shutdown off).
    pub shutdown_grace_period: SimDuration,
    /// `shutdownGracePeriodCriticalPods` (0).
    pub shutdown_grace_period_critical_pods: SimDuration,
}

impl Default for KubeletTiming {
    fn default() -> Self {
        KubeletTiming {
            node_lease_duration_secs: 40,
            node_status_update_frequency: SimDuration::from_secs(10),
            node_status_report_frequency: SimDuration::from_mins(5),
            shutdown_grace_period: SimDuration::ZERO,
            shutdown_grace_period_critical_pods: SimDuration::ZERO,
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            watch_delay: SimDuration::from_millis(10),
            scheduler_pod_initial_backoff: SimDuration::from_secs(1),
            scheduler_pod_max_backoff: SimDuration::from_secs(10),
            scheduler_max_in_unschedulable: SimDuration::from_mins(5),
            default_image_pull: Latency::LogNormal {
                median: SimDuration::from_millis(2_000),
                sigma: 0.5,
            },
            container_start: Latency::LogNormal {
                median: SimDuration::from_millis(500),
                sigma: 0.3,
            },
            default_shutdown: Latency::Fixed(SimDuration::from_millis(500)),
            disable_force_detach_on_timeout: false,
            node_lifecycle: NodeLifecycleTiming::default(),
            kubelet: KubeletTiming::default(),
        }
    }
}

/// What an image does when the kubelet runs it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSpec {
    /// The image reference, matched exactly (`redis:7.2`).
    pub image: String,
    pub pull: Latency,
    pub behavior: ImageBehavior,
    /// Time from SIGTERM to exit (capped by the grace period).
    pub shutdown: Latency,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageBehavior {
    /// Starts and passes its probes.
    Healthy,
    /// The pull fails (`ErrImagePull`, then `ImagePullBackOff`).
    PullError,
    /// The container exits with an error shortly after it starts (`CrashLoopBackOff`).
    CrashLoop,
    /// Runs but never passes its readiness probe.
    NeverReady,
}

/// A Kubernetes object from the scenario's manifests, with where it was written.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub origin: SourceLocation,
    pub object: ManifestObject,
}

// Built once per run and consumed at start-up: boxing the large variants buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum ManifestObject {
    StatefulSet(StatefulSet),
    Service(Service),
    PersistentVolumeClaim(PersistentVolumeClaim),
    PersistentVolume(PersistentVolume),
    StorageClass(StorageClass),
    PodDisruptionBudget(PodDisruptionBudget),
    Pod(Pod),
}

/// A field of a real manifest that stsim accepts but does not simulate, or a whole object
/// of a kind it does not simulate (then `path` is empty).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotSimulated {
    pub origin: SourceLocation,
    /// e.g. `StatefulSet web`.
    pub object: String,
    /// Field path, e.g. `spec.template.spec.securityContext`.
    pub path: String,
}

/// An operator action at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedAction {
    pub at: SimDuration,
    pub origin: SourceLocation,
    /// The command line as written, for the timeline.
    pub text: String,
    pub action: Action,
}

/// Operator commands, written in scenarios as kubectl command lines.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `kubectl scale statefulset NAME --replicas=N`
    Scale {
        namespace: String,
        name: String,
        replicas: i32,
    },
    /// `kubectl set image statefulset/NAME CONTAINER=IMAGE ...`
    SetImage {
        namespace: String,
        name: String,
        images: Vec<(String, String)>,
    },
    /// `kubectl delete pod NAME [--grace-period=N] [--force]`
    DeletePod {
        namespace: String,
        name: String,
        grace_period_seconds: Option<i64>,
    },
    /// `kubectl cordon NODE`
    Cordon { node: String },
    /// `kubectl uncordon NODE`
    Uncordon { node: String },
    /// `kubectl cordon|uncordon -l SELECTOR`: every matching node, in name order.
    CordonSelected {
        selector: NodeTarget,
        unschedulable: bool,
    },
    /// `kubectl drain NODE|-l SELECTOR [flags]`: cordon, then evict every pod through the
    /// eviction API, retrying refusals every 5 s.
    Drain {
        target: NodeTarget,
        options: DrainOptions,
    },
    /// `kubectl taint nodes NODE|-l SELECTOR KEY[=VALUE]:EFFECT[-]... [--overwrite]`
    Taint {
        target: NodeTarget,
        changes: Vec<TaintChange>,
        overwrite: bool,
    },
    /// `kubectl delete node NODE`
    DeleteNode { node: String },
    /// `kubectl delete statefulset NAME [--cascade=background|foreground|orphan]`
    DeleteStatefulSet {
        namespace: String,
        name: String,
        propagation: Propagation,
    },
    /// `kubectl delete pvc NAME [--cascade=...]`
    DeletePvc {
        namespace: String,
        name: String,
        propagation: Propagation,
    },
    /// `kubectl rollout undo statefulset/NAME [--to-revision=N]` (0: the previous revision)
    RolloutUndo {
        namespace: String,
        name: String,
        to_revision: i64,
    },
    /// `kubectl rollout restart statefulset/NAME`
    RolloutRestart { namespace: String, name: String },
    /// `kubectl patch statefulset NAME -p PATCH [--type=strategic|merge|json]`, the patch
    /// checked against the fields stsim models.
    Patch {
        namespace: String,
        name: String,
        patch_type: PatchType,
        patch: serde_json::Value,
    },
    /// `kubectl delete pv NAME`
    DeletePv { name: String },
    /// `kubectl patch pvc NAME -p PATCH [--type=...]` (a claim's storage request: expansion)
    PatchPvc {
        namespace: String,
        name: String,
        patch_type: PatchType,
        patch: serde_json::Value,
    },
    /// `kubectl get pods|sts|pvc|nodes [NAME] [-o wide] [-l SELECTOR] [-A]`: prints the
    /// table kubectl would print at that simulated moment into the timeline.
    Get(GetRequest),
    /// `kubectl describe pod NAME`: prints kubectl's description of the pod.
    DescribePod { namespace: String, name: String },
}

/// `kubectl patch --type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// A strategic-merge patch (the default): lists of containers, volumes, ports, ...
    /// merge by their key.
    Strategic,
    /// A JSON merge patch (RFC 7386): lists are replaced whole.
    Merge,
    /// A JSON patch (RFC 6902): a list of operations on paths.
    Json,
}
