//! Builds a simulation at time zero: components with their informers and random streams,
//! nodes registered by their kubelets, the cluster's default StorageClass, the scenario's
//! manifests applied (as `kubectl apply` would, in file order) and the actions scheduled.

use super::{RunOptions, SimEvent, Simulation};
use crate::api::{ObjectMeta, StorageClass};
use crate::apiserver::{Actor, ApiClient, ApiServer, ApiServerConfig, Informer};
use crate::component::Ctx;
use crate::control::Controller;
use crate::control::attach_detach::{AttachDetachConfig, AttachDetachController};
use crate::control::garbage_collector::GarbageCollector;
use crate::control::manager::ControllerManager;
use crate::control::node_lifecycle::{
    NodeLifecycleConfig, NodeLifecycleController, default_node_monitor_grace_period,
};
use crate::control::pv_controller::PersistentVolumeController;
use crate::control::pv_protection::PvProtectionController;
use crate::control::pvc_protection::PvcProtectionController;
use crate::control::scheduler::{Scheduler, SchedulerConfig};
use crate::control::statefulset::{StatefulSetConfig, StatefulSetController};
use crate::infra::kubelet::NodeAgents;
use crate::queue::EventQueue;
use crate::rng::RngStreams;
use crate::scenario::{ManifestObject, Scenario};
use crate::time::SimTime;
use crate::trace::TraceWriter;

/// Name of the StorageClass a cluster gets when the scenario brings no default class,
/// as managed clusters ship one (`standard`, `gp2`, ...).
pub const DEFAULT_STORAGE_CLASS: &str = "standard";

/// The node lifecycle controller's flags: the scenario's knobs over the version's defaults.
fn node_lifecycle_config(scenario: &Scenario) -> NodeLifecycleConfig {
    let k = &scenario.timing.node_lifecycle;
    let minor = scenario.kubernetes_version.minor;
    NodeLifecycleConfig {
        node_monitor_period: k.node_monitor_period,
        node_monitor_grace_period: k
            .node_monitor_grace_period
            .unwrap_or_else(|| default_node_monitor_grace_period(minor)),
        node_startup_grace_period: k.node_startup_grace_period,
        eviction_limiter_qps: k.node_eviction_rate,
        secondary_eviction_limiter_qps: k.secondary_node_eviction_rate,
        large_cluster_size_threshold: k.large_cluster_size_threshold,
        unhealthy_zone_threshold: k.unhealthy_zone_threshold,
    }
}

pub(super) fn build(scenario: &Scenario, opts: RunOptions) -> Simulation {
    let rngs = RngStreams::new(opts.seed);
    let delay = scenario.timing.watch_delay;
    let t = &scenario.timing;
    let gate = |name: &str| scenario.feature_gates.get(name).copied();
    let sts_config = StatefulSetConfig::for_version(
        scenario.kubernetes_version.minor,
        gate("MaxUnavailableStatefulSet").unwrap_or(false),
    );
    let controllers: Vec<Box<dyn Controller>> = vec![
        Box::new(StatefulSetController::new(sts_config).fed_by_informer()),
        Box::new(PersistentVolumeController::default()),
        Box::new(GarbageCollector::default()),
        Box::new(PvcProtectionController::default()),
        Box::new(crate::control::disruption::DisruptionController::default()),
        Box::new(crate::control::endpointslice::EndpointSliceController::default()),
        Box::new(PvProtectionController::default()),
        Box::new(AttachDetachController::new(
            AttachDetachConfig {
                disable_force_detach_on_timeout: t.disable_force_detach_on_timeout,
                attach_required: scenario
                    .storage
                    .drivers
                    .iter()
                    .map(|d| (d.name.clone(), d.attach_required))
                    .collect(),
            },
            rngs.stream("attachdetach-controller"),
        )),
        Box::new(NodeLifecycleController::new(node_lifecycle_config(
            scenario,
        ))),
        Box::new(crate::control::taint_eviction::TaintEvictionController::default()),
        Box::new(crate::control::pod_gc::PodGcController::new(i64::from(
            t.node_lifecycle.terminated_pod_gc_threshold,
        ))),
    ];
    let controller_count = controllers.len();
    // Only the controller manager (node lifecycle, garbage collector) reads node Leases,
    // and only by listing them: it takes renewals when it next reads its cache.
    let manager =
        ControllerManager::new(Informer::new(delay).taking_renewals_on_read(), controllers);
    let no_leases = [crate::api::Kind::Lease];
    let scheduler = Scheduler::new(
        Informer::new(delay).ignoring(&no_leases),
        SchedulerConfig {
            pod_initial_backoff: t.scheduler_pod_initial_backoff,
            pod_max_backoff: t.scheduler_pod_max_backoff,
            max_in_unschedulable: t.scheduler_max_in_unschedulable,
            storage_capacity_drivers: scenario
                .storage
                .drivers
                .iter()
                .filter(|d| d.capacity_per_zone.is_some())
                .map(|d| d.name.clone())
                .collect(),
        },
    );
    let node_inputs: Vec<_> = scenario
        .cluster
        .zones
        .iter()
        .flat_map(|z| z.nodes.iter().cloned())
        .collect();
    use crate::api::Kind;
    // Kinds a component never reads are not cached by its informer (`Informer::unread`):
    // kubelets read pods, nodes, claims and volumes; the CSI sidecars claims, volumes,
    // storage classes, nodes and VolumeAttachments.
    let kubelets_unread = [
        Kind::StorageClass,
        Kind::CSIStorageCapacity,
        Kind::StatefulSet,
        Kind::ControllerRevision,
        Kind::Service,
        Kind::PodDisruptionBudget,
        Kind::VolumeAttachment,
        Kind::CSINode,
        Kind::EndpointSlice,
    ];
    let csi_unread = [
        Kind::Pod,
        Kind::CSIStorageCapacity,
        Kind::StatefulSet,
        Kind::ControllerRevision,
        Kind::Service,
        Kind::PodDisruptionBudget,
        Kind::CSINode,
        Kind::EndpointSlice,
    ];
    let nodes = NodeAgents::new(
        Informer::new(delay)
            .ignoring(&no_leases)
            .unread(&kubelets_unread),
        &node_inputs,
        &scenario.images,
        t,
        &rngs,
    );
    let work_pending = vec![false; controller_count];
    let network = crate::infra::network::Network::new(&scenario.cluster);
    let apps = crate::infra::apps::Apps::new(&scenario.apps, &rngs, &network);
    let mut sim = Simulation {
        scenario: scenario.clone(),
        queue: EventQueue::new(),
        api: ApiServer::new(ApiServerConfig::default()),
        manager,
        manager_rng: rngs.stream("kube-controller-manager"),
        scheduler,
        scheduler_rng: rngs.stream("scheduler"),
        nodes,
        nodes_rng: rngs.stream("node-agents"),
        csi: crate::infra::csi::CsiDrivers::new(
            Informer::new(delay)
                .ignoring(&no_leases)
                .unread(&csi_unread),
            scenario,
            &rngs,
        ),
        csi_rng: rngs.stream("csi"),
        kubectl: crate::operator::actor(),
        kubectl_rng: rngs.stream("kubectl"),
        operator: Default::default(),
        faults: Default::default(),
        network,
        apps,
        api_outages: 0,
        delivery_pending: [false; super::Reader::COUNT],
        work_pending,
        // The first look finds what setting up queued.
        queues_touched: true,
        seen: 0,
        trace: TraceWriter::new(opts.trace).with_heartbeats(opts.trace_heartbeats),
        timeline: opts.keep_timeline.then(Vec::new),
        notes: Vec::new(),
        counts: Default::default(),
        budgets: opts.budgets,
        seed: opts.seed,
        clock: SimTime::ZERO,
        stopped: None,
        checks: crate::check::Checks::new(delay),
        latency: Default::default(),
        slis: crate::sli::SliRecorder::new(&scenario.apps),
        quiet_ticks: true,
        quiet_done: 0,
        parked: 0,
        drained: true,
        timer_bufs: Default::default(),
    };
    sim.nodes.set_manual_pods(opts.manual_kubelets);
    sim.nodes.set_csi_drivers(&scenario.storage.drivers);
    sim.nodes.set_storage(&scenario.storage);
    let now = SimTime::ZERO;
    {
        let mut timers = Vec::new();
        let mut ctx = Ctx::new(
            now,
            &mut sim.api,
            &mut sim.nodes_rng,
            &mut timers,
            &mut sim.notes,
        );
        sim.nodes.register_all(&mut ctx);
        for (at, t) in timers {
            super::events::schedule_kubelet(&mut sim.queue, at, t);
        }
    }
    let brings_default = scenario
        .manifests
        .iter()
        .any(|m| matches!(&m.object, ManifestObject::StorageClass(c) if c.is_default()));
    if !brings_default {
        let addon = Actor::new("cluster-addons");
        let mut client = ApiClient::new(&mut sim.api, &addon, now);
        let class = StorageClass {
            metadata: ObjectMeta {
                name: DEFAULT_STORAGE_CLASS.into(),
                annotations: [(
                    crate::api::storage::ANNOTATION_DEFAULT_CLASS.to_string(),
                    "true".to_string(),
                )]
                .into_iter()
                .collect(),
                ..Default::default()
            },
            provisioner: crate::api::volume::INSTANT_PROVISIONER.into(),
            ..Default::default()
        };
        client
            .create(class)
            .expect("a fresh API server has no StorageClass of that name");
    }
    let apply = Actor::new("kubectl");
    for m in &scenario.manifests {
        let mut client = ApiClient::new(&mut sim.api, &apply, now);
        // Errors here (e.g. two manifests with one name) are what `kubectl apply` would
        // print; the run goes on, as a real apply of the rest would.
        let result = match m.object.clone() {
            ManifestObject::StatefulSet(o) => client.create(o).map(|_| ()),
            ManifestObject::Service(o) => client.create(o).map(|_| ()),
            ManifestObject::PersistentVolumeClaim(o) => client.create(o).map(|_| ()),
            ManifestObject::PersistentVolume(o) => client.create(o).map(|_| ()),
            ManifestObject::StorageClass(o) => client.create(o).map(|_| ()),
            ManifestObject::PodDisruptionBudget(o) => client.create(o).map(|_| ()),
            ManifestObject::Pod(o) => client.create(o).map(|_| ()),
        };
        if let Err(e) = result {
            sim.notes.push(crate::component::Note {
                at: now,
                source: "kubectl".into(),
                object: m.origin.to_string(),
                message: format!("apply failed: {e}"),
            });
        }
    }
    for (i, f) in scenario.faults.iter().enumerate() {
        sim.queue.schedule(
            SimTime::ZERO + f.at,
            SimEvent::Fault {
                index: i,
                start: true,
            },
        );
        // A reboot ends by itself: the node is back after its boot time.
        let lasts = match &f.fault {
            // After graceful node shutdown, if configured (the machine powers off then).
            crate::scenario::Fault::NodeReboot { boot_time, .. } => {
                Some(t.kubelet.shutdown_grace_period + *boot_time)
            }
            _ => f.duration,
        };
        if let Some(d) = lasts {
            sim.queue.schedule(
                SimTime::ZERO + f.at + d,
                SimEvent::Fault {
                    index: i,
                    start: false,
                },
            );
        }
    }
    for (i, a) in scenario.actions.iter().enumerate() {
        sim.queue
            .schedule(SimTime::ZERO + a.at, SimEvent::Action(i));
    }
    sim.after_event(now);
    sim
}
