//! A fluent harness for black-box StatefulSet controller tests, in the vocabulary of
//! `shared/reference/statefulset-cases.md` ("Harness vocabulary").
//!
//! A [`Cluster`] is a small simulated cluster (three nodes, the headless Service `nginx`,
//! the default StorageClass) running the real engine: controller manager, scheduler, PV
//! binder and kubelets. By default the kubelets are *manual* (`RunOptions.manual_kubelets`):
//! they leave pods alone and the test drives every pod phase itself, writing the pod status
//! as the pod's kubelet would (actor `kubelet/<node>`), exactly as upstream's controller
//! tests drive their fake pods. `auto_kubelet()` lets the real kubelets run pods instead.
//!
//! Observables come from the trace (the same bytes `stsim run` writes): the ordered log of
//! pod and claim create/delete requests issued by `statefulset-controller` ([`Op`]), every
//! status write, every Kubernetes Event; plus the current objects (`sim.api().objects()`).
//!
//! Time: every driver acts at the current instant; [`Cluster::settle`] runs the clock one
//! second (ten times the informer delay, and enough for the controller's error backoff to
//! retry a few times), [`Cluster::advance`] any duration.

use crate::harness::SharedBuf;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::path::Path;
use std::rc::Rc;
use stsim::api::pod::{Container, phase};
use stsim::api::statefulset::{ControllerRevision, StatefulSetStatus, names};
use stsim::api::{ObjectKey, PersistentVolumeClaim, Pod, Resource, StatefulSet, Timestamp};
use stsim::apiserver::{
    Actor, ApiClient, DeleteOptions, InjectedFailure, Propagation, Strategy, Verb,
};
use stsim::scenario;
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime};

/// The controller's actor name in the trace.
pub const CONTROLLER: &str = "statefulset-controller";
/// The namespace every case uses.
pub const NS: &str = "default";
/// Image of the first and of the updated template.
pub const IMAGE_1: &str = "nginx:1";
pub const IMAGE_2: &str = "nginx:2";
/// `controller-revision-hash`, the label naming a pod's revision.
pub const REVISION_LABEL: &str = "controller-revision-hash";

pub fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

pub fn millis(ms: u64) -> SimDuration {
    SimDuration::from_millis(ms)
}

/// The set every case starts from unless it says otherwise: `web`, selector and template
/// labels `app=nginx`, one container `nginx:1`, one claim template `www`, Service `nginx`.
pub fn web(replicas: i32) -> StatefulSet {
    sts("web", replicas)
}

/// The same set under another name; its selector and template labels are `app=<name>`
/// (`app=nginx` for `web`).
pub fn sts(name: &str, replicas: i32) -> StatefulSet {
    let app = if name == "web" { "nginx" } else { name };
    let mut s = StatefulSet::default();
    s.metadata.name = name.into();
    s.metadata.namespace = NS.into();
    s.spec.replicas = Some(replicas);
    s.spec.service_name = "nginx".into();
    s.spec
        .selector
        .match_labels
        .insert("app".into(), app.into());
    s.spec
        .template
        .metadata
        .labels
        .insert("app".into(), app.into());
    s.spec.template.spec.termination_grace_period_seconds = Some(30);
    s.spec.template.spec.containers.push(Container {
        name: "nginx".into(),
        image: IMAGE_1.into(),
        ..Default::default()
    });
    let mut claim = PersistentVolumeClaim::default();
    claim.metadata.name = "www".into();
    claim.spec.access_modes = vec!["ReadWriteOnce".into()];
    s.spec.volume_claim_templates.push(claim);
    s
}

pub fn parallel(mut s: StatefulSet) -> StatefulSet {
    s.spec.pod_management_policy = names::PARALLEL.into();
    s
}

/// Sets the (first) container's image: a new template, hence a new revision.
pub fn set_image(s: &mut StatefulSet, image: &str) {
    s.spec.template.spec.containers[0].image = image.into();
}

/// Sets `updateStrategy.rollingUpdate.partition`.
pub fn set_partition(s: &mut StatefulSet, partition: i32) {
    s.spec.update_strategy.type_ = names::ROLLING_UPDATE.into();
    s.spec
        .update_strategy
        .rolling_update
        .get_or_insert_with(Default::default)
        .partition = Some(partition);
}

/// How the cluster is built.
#[derive(Clone, Debug)]
pub struct Options {
    pub version: String,
    pub gates: Vec<(String, bool)>,
    pub auto_kubelet: bool,
    pub nodes: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            version: "1.36".into(),
            gates: Vec::new(),
            auto_kubelet: false,
            nodes: 3,
        }
    }
}

impl Options {
    pub fn version(mut self, v: &str) -> Self {
        self.version = v.into();
        self
    }
    pub fn gate(mut self, name: &str, on: bool) -> Self {
        self.gates.push((name.into(), on));
        self
    }
    /// The real kubelets run pods: created pods start (1 s pull, 500 ms start) and become
    /// Ready; deleted pods stop within 500 ms and go.
    pub fn auto_kubelet(mut self) -> Self {
        self.auto_kubelet = true;
        self
    }
    pub fn build(self) -> Cluster {
        Cluster::new(self)
    }
}

/// One controller request on a pod or claim, as the trace records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub at: SimTime,
    /// `create` or `delete`.
    pub verb: String,
    /// `pod` or `pvc`.
    pub kind: &'static str,
    pub name: String,
    /// For pod creates: the revision label the new pod carries.
    pub revision: String,
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.verb, self.kind, self.name)
    }
}

/// Renders ops as `["create pvc www-web-0", "create pod web-0", ...]` for comparisons.
pub fn texts(ops: &[Op]) -> Vec<String> {
    ops.iter().map(ToString::to_string).collect()
}

/// One trace line (the fields the tests read; `object` is kept unparsed).
#[derive(Deserialize, Debug)]
pub struct Line {
    pub t_us: u64,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub verb: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub removed: bool,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub source: String,
    pub object: Option<Box<RawValue>>,
}

impl Line {
    pub fn at(&self) -> SimTime {
        SimTime::ZERO + SimDuration::from_micros_u64(self.t_us)
    }
    pub fn is_write(&self) -> bool {
        self.type_ == "write"
    }
    /// The written object, parsed as `T` (timestamps inside are not restored).
    pub fn object<T: for<'de> Deserialize<'de>>(&self) -> T {
        let raw = self.object.as_ref().expect("write lines carry the object");
        serde_json::from_str(raw.get()).expect("trace objects parse as their kind")
    }
}

/// A small cluster running the real engine, with drivers and observables.
pub struct Cluster {
    pub sim: Simulation,
    buf: SharedBuf,
    /// Bytes of the trace already parsed into `lines`.
    parsed: usize,
    lines: Vec<Line>,
    /// Index into `ops()` up to which [`Cluster::new_ops`] has reported.
    ops_mark: usize,
    /// The ops found in `lines[..ops_scanned]`.
    ops_cache: Vec<Op>,
    ops_scanned: usize,
    kubectl: Actor,
}

impl Cluster {
    pub fn builder() -> Options {
        Options::default()
    }

    /// Three nodes, manual kubelets, Kubernetes 1.36 defaults.
    pub fn manual() -> Cluster {
        Options::default().build()
    }

    /// Three nodes, real kubelets.
    pub fn auto() -> Cluster {
        Options::default().auto_kubelet().build()
    }

    fn new(opts: Options) -> Cluster {
        let gates = if opts.gates.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = opts
                .gates
                .iter()
                .map(|(g, on)| format!("{g}: {on}"))
                .collect();
            format!("    featureGates: {{ {} }}\n", list.join(", "))
        };
        let text = format!(
            "apiVersion: stsim/v1alpha1
kind: Scenario
metadata: {{ name: statefulset-cases }}
spec:
  duration: 24h
  kubernetesVersion: \"{version}\"
  cluster:
{gates}    zones:
      - name: a
        nodePools:
          - {{ name: w, count: {nodes}, capacity: {{ cpu: \"64\", memory: 256Gi, pods: 2000 }} }}
  images:
    - {{ image: \"{IMAGE_1}\", pullTime: 1s }}
    - {{ image: \"{IMAGE_2}\", pullTime: 1s }}
  manifests:
    - apiVersion: v1
      kind: Service
      metadata: {{ name: nginx }}
      spec: {{ clusterIP: None, selector: {{ app: nginx }} }}
",
            version = opts.version,
            nodes = opts.nodes,
        );
        let scenario = scenario::load_str(&text, Path::new("statefulset-cases.yaml"))
            .unwrap_or_else(|e| panic!("the harness scenario loads:\n{e}"));
        let buf = SharedBuf::default();
        let mut run = RunOptions::for_scenario(&scenario);
        run.trace = Some(Box::new(buf.clone()));
        run.keep_timeline = false;
        run.manual_kubelets = !opts.auto_kubelet;
        let mut sim = Simulation::new(&scenario, run);
        // Let the nodes register and the cluster settle before the case starts.
        sim.run_for(secs(1));
        Cluster {
            sim,
            buf,
            parsed: 0,
            lines: Vec::new(),
            ops_mark: 0,
            ops_cache: Vec::new(),
            ops_scanned: 0,
            kubectl: Actor::new("kubectl"),
        }
    }

    // ---- time ----

    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// Runs the clock for one second: every informer delivery and the syncs they cause.
    pub fn settle(&mut self) {
        self.sim.run_for(secs(1));
    }

    pub fn advance(&mut self, d: SimDuration) {
        self.sim.run_for(d);
    }

    /// Runs the clock in 10 ms steps until `pred` holds; panics after `limit`. Returns the
    /// instant it first held.
    pub fn until(
        &mut self,
        limit: SimDuration,
        mut pred: impl FnMut(&mut Cluster) -> bool,
    ) -> SimTime {
        let end = self.now() + limit;
        loop {
            if pred(self) {
                return self.now();
            }
            assert!(
                self.now() < end,
                "condition not reached within {limit:?}; controller ops so far: {:?}",
                texts(&self.ops())
            );
            self.sim.run_for(millis(10));
        }
    }

    // ---- writes as a user (kubectl) ----

    fn as_actor<R>(&mut self, actor: &Actor, f: impl FnOnce(&mut ApiClient<'_>) -> R) -> R {
        self.sim.act(actor, f)
    }

    fn kubectl<R>(&mut self, f: impl FnOnce(&mut ApiClient<'_>) -> R) -> R {
        let actor = self.kubectl.clone();
        self.as_actor(&actor, f)
    }

    /// `kubectl apply` of a new object.
    pub fn apply<T: Strategy>(&mut self, obj: T) {
        let name = obj.meta().name.clone();
        self.kubectl(|c| c.create(obj))
            .unwrap_or_else(|e| panic!("apply {name}: {e}"));
    }

    /// Edits the StatefulSet `web` (a read-modify-write update, as `kubectl patch`).
    pub fn patch(&mut self, f: impl FnOnce(&mut StatefulSet)) {
        self.edit::<StatefulSet>("web", f);
    }

    /// Read-modify-write of any object in the namespace, as kubectl.
    pub fn edit<T: Strategy>(&mut self, name: &str, f: impl FnOnce(&mut T)) {
        let mut obj = self
            .get::<T>(name)
            .map(|o| (*o).clone())
            .unwrap_or_else(|| panic!("{name} exists"));
        f(&mut obj);
        self.kubectl(|c| c.update(obj))
            .unwrap_or_else(|e| panic!("update {name}: {e}"));
    }

    /// `kubectl cordon` / `uncordon` of every node.
    pub fn cordon_all(&mut self, unschedulable: bool) {
        let nodes: Vec<Rc<stsim::api::Node>> = self
            .sim
            .api()
            .objects()
            .list::<stsim::api::Node>()
            .cloned()
            .collect();
        for n in nodes {
            let mut n = (*n).clone();
            n.spec.unschedulable = unschedulable;
            self.kubectl(|c| c.update(n)).expect("node update");
        }
    }

    /// Graceful delete of a pod with its own grace period, as `kubectl delete pod`.
    pub fn delete(&mut self, pod: &str) {
        self.delete_obj::<Pod>(pod, DeleteOptions::default());
    }

    /// Delete with an explicit grace period.
    pub fn delete_with_grace(&mut self, pod: &str, grace: i64) {
        let opts = DeleteOptions {
            grace_period_seconds: Some(grace),
            ..Default::default()
        };
        self.delete_obj::<Pod>(pod, opts);
    }

    /// `kubectl delete pod --force --grace-period=0`: the object goes at once.
    pub fn force_delete(&mut self, pod: &str) {
        self.delete_obj::<Pod>(pod, DeleteOptions::force());
    }

    /// Deletes the StatefulSet `web` with a propagation policy.
    pub fn delete_set(&mut self, propagation: Propagation) {
        let opts = DeleteOptions {
            propagation: Some(propagation),
            ..Default::default()
        };
        self.delete_obj::<StatefulSet>("web", opts);
    }

    pub fn delete_obj<T: Strategy>(&mut self, name: &str, opts: DeleteOptions) {
        let key = ObjectKey::new(NS, name);
        self.kubectl(|c| c.delete::<T>(&key, &opts))
            .unwrap_or_else(|e| panic!("delete {name}: {e}"));
    }

    /// Adds finalizer `test.stsim.io/hold` to an object, so that a delete leaves it
    /// terminating until [`Cluster::release`].
    pub fn hold<T: Strategy>(&mut self, name: &str) {
        self.edit::<T>(name, |o| {
            o.meta_mut().finalizers.push("test.stsim.io/hold".into())
        });
    }

    /// Removes every finalizer (a deleted object then goes).
    pub fn release<T: Strategy>(&mut self, name: &str) {
        self.edit::<T>(name, |o| o.meta_mut().finalizers.clear());
    }

    /// Makes the `skip + 1`-th next request of the controller with this verb and kind fail.
    pub fn fail_controller_request(&mut self, verb: Verb, kind: stsim::api::Kind, skip: u32) {
        let mut failure = InjectedFailure::next(CONTROLLER, verb, kind);
        failure.skip = skip;
        self.kubectl(|c| c.inject_failure(failure));
    }

    /// Touches an annotation of the set: a metadata-only update, which triggers a sync
    /// without changing the spec.
    pub fn poke(&mut self) {
        let n = self.now().as_nanos().to_string();
        self.patch(|s| {
            s.metadata
                .annotations
                .insert("test.stsim.io/poke".into(), n);
        });
    }

    // ---- writes as the pod's kubelet ----

    fn kubelet_status(&mut self, pod: &str, f: impl FnOnce(&mut Pod, Timestamp)) {
        let mut p = (*self.pod(pod).unwrap_or_else(|| panic!("pod {pod} exists"))).clone();
        assert!(
            !p.spec.node_name.is_empty(),
            "pod {pod} must be scheduled before its kubelet can report on it"
        );
        let actor = Actor::on_host("kubelet", &p.spec.node_name);
        let now = Timestamp::at(self.now());
        f(&mut p, now);
        self.as_actor(&actor, |c| c.update_status(&p))
            .unwrap_or_else(|e| panic!("status of {pod}: {e}"));
    }

    fn set_phase(&mut self, pod: &str, phase_: &str, ready: bool) {
        self.kubelet_status(pod, |p, now| {
            p.status.phase = phase_.into();
            p.set_condition("ContainersReady", ready, now, "");
            p.set_condition("Ready", ready, now, "");
        });
    }

    /// Phase Running, Ready=False.
    pub fn run(&mut self, pod: &str) {
        self.set_phase(pod, phase::RUNNING, false);
    }

    /// Phase Running, Ready=True (lastTransitionTime = now).
    pub fn ready(&mut self, pod: &str) {
        self.set_phase(pod, phase::RUNNING, true);
    }

    /// Ready=False (still Running).
    pub fn unready(&mut self, pod: &str) {
        self.set_phase(pod, phase::RUNNING, false);
    }

    pub fn fail(&mut self, pod: &str) {
        self.set_phase(pod, phase::FAILED, false);
    }

    pub fn succeed(&mut self, pod: &str) {
        self.set_phase(pod, phase::SUCCEEDED, false);
    }

    /// The kubelet's final delete with grace 0 once the containers stopped: the object goes
    /// (unless finalizers hold it).
    pub fn finish_termination(&mut self, pod: &str) {
        let p = self.pod(pod).unwrap_or_else(|| panic!("pod {pod} exists"));
        assert!(
            p.metadata.deletion_timestamp.is_some(),
            "{pod} is terminating"
        );
        let actor = Actor::on_host("kubelet", &p.spec.node_name);
        let opts = DeleteOptions {
            grace_period_seconds: Some(0),
            precondition_uid: Some(p.metadata.uid.clone()),
            ..Default::default()
        };
        let key = ObjectKey::new(NS, pod);
        self.as_actor(&actor, |c| c.delete::<Pod>(&key, &opts))
            .unwrap_or_else(|e| panic!("final delete of {pod}: {e}"));
    }

    /// Run and ready a scheduled Pending pod.
    pub fn run_ready(&mut self, pod: &str) {
        self.run(pod);
        self.ready(pod);
    }

    /// One round of a zero-latency stand-in kubelet: finishes every terminating pod that has
    /// no finalizer, and runs and readies every scheduled Pending pod. Returns whether it
    /// did anything.
    pub fn kubelet_round(&mut self) -> bool {
        let pods: Vec<Rc<Pod>> = self.pods();
        let mut acted = false;
        for p in pods {
            let name = p.metadata.name.clone();
            if p.metadata.deletion_timestamp.is_some() {
                if p.metadata.finalizers.is_empty() && !p.spec.node_name.is_empty() {
                    self.finish_termination(&name);
                    acted = true;
                }
            } else if p.status.phase == phase::PENDING && !p.spec.node_name.is_empty() {
                self.run_ready(&name);
                acted = true;
            }
        }
        acted
    }

    /// Settles, and plays the stand-in kubelet until nothing is left to do (bounded).
    pub fn converge(&mut self) {
        for _ in 0..1000 {
            self.settle();
            if !self.kubelet_round() {
                return;
            }
        }
        panic!(
            "the cluster did not converge; ops: {:?}",
            texts(&self.ops())
        );
    }

    /// Applies `set` and brings every pod up to Running and Ready, one pass of the stand-in
    /// kubelet at a time (OrderedReady creates one pod per pass).
    pub fn bring_up(&mut self, set: StatefulSet) {
        let replicas = set.replicas();
        self.apply(set);
        self.converge();
        assert_eq!(self.status().ready_replicas, replicas, "all pods Ready");
    }

    /// Waits (up to 10 minutes) until the set is fully rolled out: it owns exactly its
    /// replicas, every one Running, Ready and at the update revision, and the status says
    /// so for this generation.
    pub fn wait_rolled_out(&mut self) -> SimTime {
        self.wait_rolled_out_named("web")
    }

    /// [`Cluster::wait_rolled_out`] for any set of the namespace.
    pub fn wait_rolled_out_named(&mut self, name: &str) -> SimTime {
        self.until(secs(600), |h| {
            let set = h.get::<StatefulSet>(name).expect("the set exists");
            let st = &set.status;
            let n = set.replicas();
            let owned: Vec<Rc<Pod>> = h
                .pods()
                .into_iter()
                .filter(|p| {
                    p.metadata
                        .controller_ref()
                        .is_some_and(|r| r.uid == set.metadata.uid)
                })
                .collect();
            st.observed_generation == set.metadata.generation
                && st.replicas == n
                && st.ready_replicas == n
                && st.updated_replicas == n
                && st.current_revision == st.update_revision
                && owned.len() == n as usize
                && owned.iter().all(|p| {
                    p.metadata.deletion_timestamp.is_none()
                        && p.status.phase == phase::RUNNING
                        && p.is_ready()
                        && p.metadata.labels.get(REVISION_LABEL) == Some(&st.update_revision)
                })
        })
    }

    /// Waits (up to 10 minutes) until `n` pods are Running and Ready per the status.
    pub fn wait_ready(&mut self, n: i32) -> SimTime {
        self.until(secs(600), |h| {
            let set = h.set();
            set.status.ready_replicas == n
                && set.status.replicas == n
                && set.status.observed_generation == set.metadata.generation
        })
    }

    // ---- reads ----

    pub fn get<T: Resource>(&self, name: &str) -> Option<Rc<T>> {
        self.sim
            .api()
            .objects()
            .get::<T>(&ObjectKey::new(NS, name))
            .cloned()
    }

    pub fn set(&self) -> Rc<StatefulSet> {
        self.get::<StatefulSet>("web").expect("set web exists")
    }

    pub fn status(&self) -> StatefulSetStatus {
        self.set().status.clone()
    }

    pub fn pod(&self, name: &str) -> Option<Rc<Pod>> {
        self.get::<Pod>(name)
    }

    pub fn claim(&self, name: &str) -> Option<Rc<PersistentVolumeClaim>> {
        self.get::<PersistentVolumeClaim>(name)
    }

    /// Pods of the namespace, in name order.
    pub fn pods(&self) -> Vec<Rc<Pod>> {
        self.sim
            .api()
            .objects()
            .list_in::<Pod>(NS)
            .cloned()
            .collect()
    }

    pub fn pod_names(&self) -> Vec<String> {
        self.pods()
            .iter()
            .map(|p| p.metadata.name.clone())
            .collect()
    }

    pub fn claim_names(&self) -> Vec<String> {
        self.sim
            .api()
            .objects()
            .list_in::<PersistentVolumeClaim>(NS)
            .map(|c| c.metadata.name.clone())
            .collect()
    }

    /// ControllerRevisions of the namespace, oldest revision number first.
    pub fn revisions(&self) -> Vec<Rc<ControllerRevision>> {
        let mut r: Vec<_> = self
            .sim
            .api()
            .objects()
            .list_in::<ControllerRevision>(NS)
            .cloned()
            .collect();
        r.sort_by_key(|r| r.revision);
        r
    }

    /// The revision label of a live pod.
    pub fn revision_of(&self, pod: &str) -> String {
        let p = self.pod(pod).unwrap_or_else(|| panic!("pod {pod} exists"));
        p.metadata
            .labels
            .get(REVISION_LABEL)
            .cloned()
            .unwrap_or_default()
    }

    pub fn image_of(&self, pod: &str) -> String {
        self.pod(pod)
            .unwrap_or_else(|| panic!("pod {pod} exists"))
            .spec
            .containers[0]
            .image
            .clone()
    }

    pub fn is_ready(&self, pod: &str) -> bool {
        self.pod(pod).is_some_and(|p| {
            p.status.phase == phase::RUNNING
                && p.is_ready()
                && p.metadata.deletion_timestamp.is_none()
        })
    }

    pub fn is_terminating(&self, pod: &str) -> bool {
        self.pod(pod)
            .is_some_and(|p| p.metadata.deletion_timestamp.is_some())
    }

    // ---- the trace ----

    /// Every trace line so far.
    pub fn lines(&mut self) -> &[Line] {
        let bytes = self.buf.0.borrow();
        let new = &bytes[self.parsed..];
        let text = std::str::from_utf8(new).expect("the trace is UTF-8");
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        for l in text[..complete].lines() {
            self.lines
                .push(serde_json::from_str(l).expect("each trace line is one JSON object"));
        }
        self.parsed += complete;
        drop(bytes);
        &self.lines
    }

    /// The controller's pod and claim create/delete requests, in order.
    pub fn ops(&mut self) -> Vec<Op> {
        self.lines();
        let new: Vec<Op> = self.lines[self.ops_scanned..]
            .iter()
            .filter(|l| {
                l.is_write()
                    && l.actor == CONTROLLER
                    && (l.verb == "create" || l.verb == "delete")
                    && (l.kind == "Pod" || l.kind == "PersistentVolumeClaim")
            })
            .map(|l| {
                let revision = if l.kind == "Pod" && l.verb == "create" {
                    let p: Pod = l.object();
                    p.metadata
                        .labels
                        .get(REVISION_LABEL)
                        .cloned()
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                Op {
                    at: l.at(),
                    verb: l.verb.clone(),
                    kind: if l.kind == "Pod" { "pod" } else { "pvc" },
                    name: l.name.clone(),
                    revision,
                }
            })
            .collect();
        self.ops_scanned = self.lines.len();
        self.ops_cache.extend(new);
        self.ops_cache.clone()
    }

    /// The ops issued since the last call (or since the start).
    pub fn new_ops(&mut self) -> Vec<Op> {
        let ops = self.ops();
        let new = ops[self.ops_mark..].to_vec();
        self.ops_mark = ops.len();
        new
    }

    /// [`Cluster::new_ops`] as texts.
    pub fn new_op_texts(&mut self) -> Vec<String> {
        texts(&self.new_ops())
    }

    /// Forgets the ops so far (for [`Cluster::new_ops`]).
    pub fn mark(&mut self) {
        self.ops_mark = self.ops().len();
    }

    /// Every status the controller wrote for `web`, in order, with its instant.
    pub fn status_writes(&mut self) -> Vec<(SimTime, StatefulSetStatus)> {
        self.lines()
            .iter()
            .filter(|l| {
                l.is_write()
                    && l.actor == CONTROLLER
                    && l.verb == "status"
                    && l.kind == "StatefulSet"
                    && l.name == "web"
            })
            .map(|l| (l.at(), l.object::<StatefulSet>().status))
            .collect()
    }

    /// Kubernetes Events recorded by the controller, as `(instant, reason, message)`.
    pub fn events(&mut self) -> Vec<(SimTime, String, String)> {
        self.lines()
            .iter()
            .filter(|l| l.type_ == "event" && l.source == CONTROLLER)
            .map(|l| (l.at(), l.reason.clone(), l.message.clone()))
            .collect()
    }

    /// Every write of pod `name` by anyone, with the pod as written (`None` once removed).
    pub fn pod_history(&mut self, name: &str) -> Vec<(SimTime, String, Option<Pod>)> {
        self.lines()
            .iter()
            .filter(|l| l.is_write() && l.kind == "Pod" && l.name == name)
            .map(|l| {
                let obj = (!l.removed).then(|| l.object::<Pod>());
                (l.at(), l.actor.clone(), obj)
            })
            .collect()
    }

    /// The first instant at or after `from` at which a write left pod `name` Running and
    /// Ready (not terminating).
    pub fn ready_at(&mut self, name: &str, from: SimTime) -> Option<SimTime> {
        self.pod_history(name)
            .into_iter()
            .find(|(t, _, p)| {
                *t >= from
                    && p.as_ref().is_some_and(|p| {
                        p.status.phase == phase::RUNNING
                            && p.is_ready()
                            && p.metadata.deletion_timestamp.is_none()
                    })
            })
            .map(|(t, _, _)| t)
    }

    /// The instants at which pod `name` was removed from the store.
    pub fn removed_at(&mut self, name: &str) -> Vec<SimTime> {
        self.lines()
            .iter()
            .filter(|l| l.is_write() && l.kind == "Pod" && l.name == name && l.removed)
            .map(Line::at)
            .collect()
    }

    /// Replays the pod writes of the trace: calls `f` after every pod write with the pods
    /// as they stood then (name → pod).
    pub fn replay_pods(
        &mut self,
        mut f: impl FnMut(SimTime, &std::collections::BTreeMap<String, Pod>),
    ) {
        let mut pods = std::collections::BTreeMap::new();
        for l in self
            .lines()
            .iter()
            .filter(|l| l.is_write() && l.kind == "Pod")
        {
            if l.removed {
                pods.remove(&l.name);
            } else {
                pods.insert(l.name.clone(), l.object::<Pod>());
            }
            f(l.at(), &pods);
        }
    }
}
