//! The StatefulSet controller's speed at scale (issue 3).
//!
//! * `sync_1000_ready`: one reconcile pass (`StatefulSetController::sync`) of a
//!   1,000-replica StatefulSet whose pods all exist and are Running and Ready — the pass
//!   every pod status change of a large set triggers. It finds nothing to do and writes
//!   nothing, so every iteration is the same pass. Target: < 1 ms.
//! * `scale_up_parallel_0_to_1000`: a `podManagementPolicy: Parallel` set scaled from 0 to
//!   1,000 replicas on 50 nodes × 32 cpu, simulated end to end with the real scheduler and
//!   kubelets until all 1,000 pods are Ready (trace discarded). Target: < 200 ms wall.
//!
//! Run: `cargo bench --bench statefulset`.

use std::path::Path;
use stsim::api::pod::{Container, phase};
use stsim::api::{
    ObjectKey, ObjectMeta, PersistentVolumeClaim, Pod, StatefulSet, Tables, Timestamp,
};
use stsim::apiserver::{Actor, ApiClient, ApiServer};
use stsim::component::{Ctx, Note};
use stsim::control::statefulset::{StatefulSetConfig, StatefulSetController};
use stsim::control::{ControlTimer, Controller, Enqueue};
use stsim::rng::{RngStreams, SimRng};
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime};

fn main() {
    divan::main();
}

const REPLICAS: i32 = 1_000;

/// The API server, the controller and a clock, as the controller's unit tests drive a pass
/// by hand (`src/control/statefulset/tests.rs`): a cache copied from the store before each
/// sync stands for an informer with no delay.
struct Cluster {
    api: ApiServer,
    ctrl: StatefulSetController,
    rng: SimRng,
    timers: Vec<(SimTime, ControlTimer)>,
    notes: Vec<Note>,
    now: SimTime,
    kubelet: Actor,
}

impl Cluster {
    fn key() -> ObjectKey {
        ObjectKey::new("default", "web")
    }

    fn sync(&mut self, cache: &Tables) {
        let mut q = Enqueue::default();
        let mut ctx = Ctx::new(
            self.now,
            &mut self.api,
            &mut self.rng,
            &mut self.timers,
            &mut self.notes,
        );
        self.ctrl
            .sync(&Self::key(), cache, &mut ctx, &mut q)
            .expect("a sync on a healthy set succeeds");
        self.timers.clear();
        self.notes.clear();
    }

    /// As every kubelet at once: each pod not yet Running and Ready is bound and becomes so.
    fn make_ready(&mut self) -> usize {
        let pods: Vec<_> = self.api.objects().pods.values().cloned().collect();
        let ts = Timestamp::at(self.now);
        let mut changed = 0;
        for pod in pods {
            if pod.status.phase == phase::RUNNING && pod.is_ready() {
                continue;
            }
            let mut client = ApiClient::new(&mut self.api, &self.kubelet, self.now);
            let mut p: Pod = (*pod).clone();
            if p.spec.node_name.is_empty() {
                p.spec.node_name = "node-1".into();
                p = (*client.update(p).expect("bind")).clone();
            }
            p.status.phase = phase::RUNNING.into();
            p.set_condition("Ready", true, ts, "");
            client.update_status(&p).expect("status");
            changed += 1;
        }
        changed
    }
}

/// A 1,000-replica set (OrderedReady, the default), every pod Running and Ready, and its
/// status settled: built through the API server with the controller itself creating the
/// pods, one pass and one kubelet round per ordinal.
fn ready_cluster() -> Cluster {
    let mut set = StatefulSet {
        metadata: ObjectMeta::named("default", "web"),
        ..Default::default()
    };
    set.spec.replicas = Some(REPLICAS);
    set.spec.service_name = "nginx".into();
    set.spec
        .selector
        .match_labels
        .insert("app".into(), "nginx".into());
    set.spec
        .template
        .metadata
        .labels
        .insert("app".into(), "nginx".into());
    set.spec.template.spec.containers.push(Container {
        name: "nginx".into(),
        image: "nginx:1".into(),
        ..Default::default()
    });
    let mut claim = PersistentVolumeClaim::default();
    claim.metadata.name = "www".into();
    claim.spec.access_modes = vec!["ReadWriteOnce".into()];
    set.spec.volume_claim_templates.push(claim);

    let mut c = Cluster {
        api: ApiServer::new(Default::default()),
        ctrl: StatefulSetController::new(StatefulSetConfig::default()),
        rng: RngStreams::new(1).stream("bench"),
        timers: Vec::new(),
        notes: Vec::new(),
        now: SimTime::ZERO + SimDuration::from_secs(1),
        kubelet: Actor::new("kubelet"),
    };
    let user = Actor::new("kubectl");
    ApiClient::new(&mut c.api, &user, c.now)
        .create(set)
        .expect("create the set");
    loop {
        let cache = c.api.objects().clone();
        c.sync(&cache);
        c.now = c.now + SimDuration::from_secs(1);
        let changed = c.make_ready();
        let set = &c.api.objects().stateful_sets[&Cluster::key()];
        if changed == 0 && set.status.ready_replicas == REPLICAS {
            break;
        }
        // Keep the journal small: nothing reads it here.
        let end = c.api.journal_end();
        c.api.compact_journal(end);
    }
    let end = c.api.journal_end();
    c.api.compact_journal(end);
    assert_eq!(c.api.objects().pods.len(), REPLICAS as usize);
    c
}

#[divan::bench(sample_count = 50)]
fn sync_1000_ready(bencher: divan::Bencher) {
    let mut c = ready_cluster();
    let cache = c.api.objects().clone();
    let rv = c.api.resource_version();
    bencher.bench_local(|| c.sync(divan::black_box(&cache)));
    assert_eq!(
        c.api.resource_version(),
        rv,
        "a pass on a settled set writes nothing"
    );
}

fn scale_up_scenario() -> Scenario {
    let text = "apiVersion: stsim/v1alpha1
kind: Scenario
metadata: { name: scale-up-1000 }
spec:
  duration: 1h
  cluster:
    zones:
      - name: zone-a
        nodePools:
          - { name: worker, count: 25, capacity: { cpu: \"32\", memory: 128Gi, pods: 110 } }
      - name: zone-b
        nodePools:
          - { name: worker, count: 25, capacity: { cpu: \"32\", memory: 128Gi, pods: 110 } }
  images:
    - { image: nginx:1.27, pullTime: 2s }
  manifests:
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: { name: web }
      spec:
        serviceName: web
        replicas: 0
        podManagementPolicy: Parallel
        selector: { matchLabels: { app: web } }
        template:
          metadata: { labels: { app: web } }
          spec:
            containers:
              - name: nginx
                image: nginx:1.27
                resources: { requests: { cpu: 500m, memory: 1Gi } }
                readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 }
        volumeClaimTemplates:
          - metadata: { name: www }
            spec:
              accessModes: [ReadWriteOnce]
              resources: { requests: { storage: 1Gi } }
  actions:
    - { at: 1s, kubectl: scale statefulset web --replicas=1000 }
";
    scenario::load_str(text, Path::new("scale-up-1000.yaml")).expect("the inline scenario is valid")
}

/// Runs until every pod is Ready, in 1 s steps of simulated time; returns the instant.
fn scale_up(scenario: &Scenario) -> SimTime {
    let mut opts = RunOptions::for_scenario(scenario);
    opts.keep_timeline = false;
    let mut sim = Simulation::new(scenario, opts);
    let key = ObjectKey::new("default", "web");
    loop {
        sim.run_for(SimDuration::from_secs(1));
        let set = &sim.api().objects().stateful_sets[&key];
        if set.status.ready_replicas == REPLICAS {
            return sim.now();
        }
        assert!(
            sim.now() < SimTime::ZERO + SimDuration::from_secs(600),
            "1,000 pods should be Ready within 10 minutes: {:?}",
            set.status
        );
    }
}

#[divan::bench(sample_count = 10)]
fn scale_up_parallel_0_to_1000(bencher: divan::Bencher) {
    let scenario = scale_up_scenario();
    bencher.bench_local(|| divan::black_box(scale_up(&scenario)));
}
