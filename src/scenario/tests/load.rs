//! Whole scenarios: the valid example in full, the defaults, manifests from files, and one
//! broken variant of the example per kind of mistake.

use super::{VALID, error_of, load_text};
use crate::rng::Latency;
use crate::scenario::{Action, ImageBehavior, KubeVersion, ManifestObject, ScenarioError, load};
use crate::time::SimDuration;
use std::path::Path;

/// `VALID` with `old` (which must be there) replaced by `new`.
fn with(old: &str, new: &str) -> String {
    assert!(VALID.contains(old), "VALID has no {old:?}");
    VALID.replacen(old, new, 1)
}

/// `file:line:column` of the first `needle` in `text`, plus `offset` columns.
fn loc_of(text: &str, needle: &str, offset: usize) -> String {
    let at = text.find(needle).unwrap_or_else(|| panic!("no {needle:?}"));
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1 + offset;
    format!("scenario.yaml:{line}:{column}")
}

#[test]
fn loads_the_complete_example() {
    let s = load_text(VALID).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (s.name.as_str(), s.description.as_str(), s.seed),
        ("quickstart", "three redis pods", 7)
    );
    assert_eq!(s.duration, SimDuration::from_mins(60));
    assert_eq!(
        s.kubernetes_version,
        KubeVersion {
            major: 1,
            minor: 35
        }
    );
    assert_eq!(
        s.feature_gates.get("MaxUnavailableStatefulSet"),
        Some(&true)
    );
    assert_eq!(s.feature_gates.len(), 4);
    let nodes: Vec<&str> = s
        .cluster
        .zones
        .iter()
        .flat_map(|z| z.nodes.iter().map(|n| n.name.as_str()))
        .collect();
    assert_eq!(nodes, vec!["worker-a-1", "worker-a-2", "worker-b-1"]);
    let a1 = &s.cluster.zones[0].nodes[0];
    assert_eq!(
        a1.labels
            .get("topology.kubernetes.io/zone")
            .map(String::as_str),
        Some("a")
    );
    assert_eq!(
        a1.labels.get("kubernetes.io/hostname").map(String::as_str),
        Some("worker-a-1")
    );
    assert_eq!(a1.labels.get("disktype").map(String::as_str), Some("ssd"));
    assert_eq!(a1.capacity.get("pods").map(String::as_str), Some("110"));
    assert_eq!(a1.taints[0].effect, "NoSchedule");
    assert_eq!(
        s.cluster.zones[1].nodes[0]
            .capacity
            .get("pods")
            .map(String::as_str),
        Some("30")
    );
    let secs = SimDuration::from_secs;
    assert_eq!(s.timing.watch_delay, SimDuration::from_millis(20));
    assert_eq!(
        s.timing.scheduler_max_in_unschedulable,
        SimDuration::from_mins(1)
    );
    assert_eq!(
        s.timing.default_image_pull,
        Latency::LogNormal {
            median: secs(2),
            sigma: 0.5
        }
    );
    assert_eq!(
        s.timing.container_start,
        Latency::Uniform {
            min: secs(1),
            max: secs(4)
        }
    );
    assert_eq!(
        s.timing.default_shutdown,
        Latency::Exponential { mean: secs(2) }
    );
    assert_eq!(s.images[0].pull, Latency::Fixed(secs(3)));
    assert_eq!(s.images[1].behavior, ImageBehavior::PullError);
    assert_eq!(
        s.images[1].pull, s.timing.default_image_pull,
        "pull time defaults to the kubelet's"
    );
    assert_eq!(s.manifests.len(), 2);
    let ManifestObject::Service(svc) = &s.manifests[0].object else {
        panic!("a Service first")
    };
    assert_eq!(svc.metadata.namespace, "default");
    let ManifestObject::StatefulSet(sts) = &s.manifests[1].object else {
        panic!("then a StatefulSet")
    };
    assert_eq!((sts.metadata.namespace.as_str(), sts.replicas()), ("db", 3));
    assert_eq!(
        s.manifests[1].origin.to_string(),
        loc_of(VALID, "apiVersion: apps/v1", 0)
    );
    assert_eq!(s.not_simulated.len(), 1);
    assert_eq!(
        s.not_simulated[0].path,
        "spec.template.spec.securityContext"
    );
    assert_eq!(s.not_simulated[0].object, "StatefulSet redis");
    assert_eq!(
        s.not_simulated[0].origin.to_string(),
        loc_of(VALID, "securityContext", 0)
    );
    let actions: Vec<&Action> = s.actions.iter().map(|a| &a.action).collect();
    assert_eq!(
        actions[0],
        &Action::Cordon {
            node: "worker-a-1".into()
        },
        "sorted by time"
    );
    assert_eq!(
        actions[1],
        &Action::Scale {
            namespace: "db".into(),
            name: "redis".into(),
            replicas: 5
        }
    );
    assert_eq!(
        s.actions[1].text,
        "scale statefulset redis --replicas=5 -n db"
    );
}

#[test]
fn fills_in_defaults() {
    let text = "apiVersion: stsim/v1alpha1\nkind: Scenario\nmetadata: {name: tiny}\nspec:\n  duration: 90s\n  cluster:\n    zones: [{name: z, nodePools: [{name: p, count: 1, capacity: {cpu: 1, memory: 1Gi}}]}]\n";
    let s = load_text(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (s.seed, s.kubernetes_version, s.duration),
        (1, KubeVersion::DEFAULT, SimDuration::from_secs(90))
    );
    assert_eq!(s.timing, crate::scenario::Timing::default());
    assert_eq!(
        s.feature_gates.get("MaxUnavailableStatefulSet"),
        Some(&false),
        "off in 1.36"
    );
    assert_eq!(s.feature_gates.get("PodIndexLabel"), Some(&true));
    assert!(s.images.is_empty() && s.manifests.is_empty() && s.actions.is_empty());
    let newer = text.replace(
        "  duration: 90s",
        "  duration: 90s\n  kubernetesVersion: \"1.37\"",
    );
    let s = load_text(&newer).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.feature_gates.get("MaxUnavailableStatefulSet"),
        Some(&true),
        "on again in 1.37"
    );
}

/// One mistake: the text to replace in `VALID`, its replacement, what the rendered error
/// must contain, and where it must point (a needle in the broken text, plus columns).
type Mistake = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<(&'static str, usize)>,
);

#[rustfmt::skip]
const MISTAKES: &[Mistake] = &[
    ("        replicas: 3\n", "        replica: 3\n", &["spec.manifests[1].spec.replica: unknown field `replica`", "hint: did you mean \"replicas\"?"], Some(("replica:", 0))),
    ("        replicas: 3\n", "        replicas: three\n", &["spec.manifests[1].spec.replicas: expected an integer, found a string \"three\""], Some(("three\n", 0))),
    ("spec:\n  seed", "sepc:\n  seed", &["sepc: unknown field `sepc`", "did you mean \"spec\"?", "missing required field `spec`"], Some(("sepc", 0))),
    ("ports: [ { name: redis, port: 6379 } ]", "ports: [ { name: redis, port: 6379 }", &["error: scenario.yaml:"], None),
    ("count: 2", "count: two", &["spec.cluster.zones[0].nodePools[0].count: expected an integer, found a string \"two\""], Some(("two", 0))),
    ("count: 2", "count: 0", &["count must be between 1 and 100000, found 0"], Some(("0\n", 0))),
    ("seed: 7", "seed: -7", &["spec.seed: invalid value an integer -7: expected u64"], Some(("-7", 0))),
    ("duration: 1h", "duration: 1 hour", &["spec.duration: invalid duration \"1 hour\""], Some(("1 hour", 0))),
    ("duration: 1h", "duration: 60", &["a duration needs a unit", "hint: write \"60s\""], Some(("60", 0))),
    ("  duration: 1h\n", "", &["spec.duration: missing required field `duration`"], None),
    ("at: 5m", "at: 2h", &["spec.actions[0].at: action at 2h0m0s is after the end of the run (1h0m0s)"], Some(("2h", 0))),
    ("at: 5m", "at: soon", &["spec.actions[0].at: invalid duration"], Some(("soon", 0))),
    ("kubectl: scale statefulset redis --replicas=5 -n db", "kubectl: scale statefulset redis -n db", &["spec.actions[0].kubectl: scale needs --replicas"], Some(("scale statefulset", 0))),
    ("kubectl: scale statefulset redis --replicas=5 -n db", "kubectl: frobnicate pod x", &["unsupported kubectl command `frobnicate`", "cordon NODE"], Some(("frobnicate", 0))),
    ("kubectl: scale statefulset redis --replicas=5 -n db", "kubectl: scael statefulset redis --replicas=5", &["hint: did you mean \"scale\"?"], Some(("scael", 0))),
    ("kubectl: cordon worker-a-1", "kubectl: cordon worker-a-3", &["no node named \"worker-a-3\"", "did you mean \"worker-a-1\"?"], Some(("cordon worker-a-3", 0))),
    ("{ median: 2s, sigma: 0.5 }", "{ median: 2s }", &["kubelet.imagePullTime: this combination of keys is not a latency", "{min: 1s, max: 4s}"], Some(("{ median", 0))),
    ("{ median: 2s, sigma: 0.5 }", "{ median: 2s, sigam: 0.5 }", &["imagePullTime.sigam: unknown field `sigam`", "did you mean \"sigma\"?"], Some(("sigam", 0))),
    ("{ min: 1s, max: 4s }", "{ min: 5s, max: 4s }", &["min (5s) is larger than max (4s)"], Some(("{ min", 0))),
    ("pullTime: 3s", "pullTime: 3", &["spec.images[0].pullTime: a duration needs a unit"], Some(("3\n", 0))),
    ("MaxUnavailableStatefulSet: true", "MaxUnavailableStatefulSets: true", &["featureGates.MaxUnavailableStatefulSets: unknown feature gate", "did you mean \"MaxUnavailableStatefulSet\"?"], Some(("MaxUnavailableStatefulSets", 0))),
    ("MaxUnavailableStatefulSet: true", "MaxUnavailableStatefulSet: yes", &["expected a boolean (true or false), found a string \"yes\""], Some(("yes", 0))),
    ("kubernetesVersion: \"1.35\"", "kubernetesVersion: 1.30", &["kubernetesVersion must be a quoted string, found the number 1.3", "hint: quote it"], Some(("1.30", 0))),
    ("kubernetesVersion: \"1.35\"", "kubernetesVersion: \"1.20\"", &["unsupported Kubernetes version \"1.20\"", "1.28 to 1.37"], Some(("\"1.20\"", 0))),
    ("apiVersion: stsim/v1alpha1", "apiVersion: stsim/v1", &["apiVersion: unsupported apiVersion \"stsim/v1\"", "hint: write apiVersion: stsim/v1alpha1"], Some(("stsim/v1", 0))),
    ("kind: Scenario", "kind: StatefulSet", &["unsupported kind \"StatefulSet\"", "spec.manifests"], Some(("StatefulSet", 0))),
    ("  faults: []", "  faults: [ { at: 1m, crash: node } ]", &["spec.faults[0].crash: unknown fault kind `crash`", "fault kinds: provisioningFailure"], Some(("crash", 0))),
    ("  faults: []", "  faults: [ { at: 1m, duration: 5m, zoneCapacityExhuasted: { zone: a } } ]", &["unknown fault kind `zoneCapacityExhuasted`", "did you mean \"zoneCapacityExhausted\"?"], Some(("zoneCapacityExhuasted", 0))),
    ("  faults: []", "  slos: [ x ]", &["spec.slos[0]: expected a map"], Some(("x ]", 0))),
    ("  faults: []", "  slos: [ { name: up, sli: podAvailabilty, objective: \"99.9%\" } ]", &["spec.slos[0].sli: unknown SLI `podAvailabilty`", "did you mean \"podAvailability\"?"], Some(("podAvailabilty", 0))),
    ("  faults: []", "  slos: [ { name: lag, sli: commitLatency, max: 1s } ]", &["SLI `commitLatency` is not measured yet"], Some(("commitLatency", 0))),
    ("  faults: []", "  slos: [ { name: lost, sli: writesLost, max: 0 } ]", &["SLI `writesLost` measures an application, and spec.apps runs none"], Some(("writesLost", 0))),
    ("  faults: []", "  slos: [ { name: q, sli: quorumAvailability, objective: \"99%\" } ]", &["spec.slos[0].sli: SLI `quorumAvailability` measures an application, and spec.apps runs none", "spec.apps: [{statefulSet: NAME, model: quorum}]"], Some(("quorumAvailability", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: quorum } ]\n  slos: [ { name: e, sli: leaderElections, max: 1m } ]", &["spec.slos[0].max: SLI `leaderElections` is a count: `max` is a whole number", "e.g. max: 0"], Some(("1m } ]", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: quorum } ]", &["spec.apps[0].statefulSet: clients reach the members through the headless Service db/\"redis\"", "hint: add a Service named \"redis\" with clusterIP: None"], Some(("db/redis, model", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redsi, model: quorum } ]", &["spec.apps[0].statefulSet: no StatefulSet db/redsi in spec.manifests", "did you mean \"redis\"?"], Some(("db/redsi", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: qorum } ]", &["spec.apps[0].model: unknown model `qorum`", "did you mean \"quorum\"?"], Some(("qorum", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: primaryReplica, quorum: {} } ]", &["spec.apps[0].quorum: `quorum` settings apply to model quorum, and this app runs primaryReplica"], Some(("{} }", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: primaryReplica, primaryReplica: { ttl: 20s } } ]", &["spec.apps[0].primaryReplica.ttl: ttl must be at least loopWait + 2 × retryTimeout, as Patroni requires"], Some(("20s } }", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: quorum, clients: [ { zone: c } ] } ]", &["spec.apps[0].clients[0].zone: no zone \"c\" in spec.cluster.zones"], Some(("c } ]", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: quorum, quorum: { electionTimeout: 200ms } } ]", &["spec.apps[0].quorum.electionTimeout: electionTimeout must be at least 5 times heartbeatInterval"], Some(("200ms", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: quorum, quorum: { dataSize: 2Gx } } ]", &["spec.apps[0].quorum.dataSize", "hint: a byte quantity: 2Gi, 500Mi"], Some(("2Gx", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: primaryReplica, primaryReplica: { replayRate: 500 }, clients: [ { zone: a, writesPerSecond: 800 } ] } ]", &["spec.apps[0].primaryReplica.replayRate: replicas replay at most 500 writes/s and the clients write 800/s: they would fall behind without bound", "hint: raise replayRate"], Some(("500 }", 0))),
    ("  faults: []", "  apps: [ { statefulSet: db/redis, model: quorum, reads: stale } ]", &["spec.apps[0].reads: unknown read mode `stale`", "linearizable"], Some(("stale", 0))),
    ("  faults: []", "  slos: [ { name: p, sli: podPendingTime, objective: \"99%\" } ]", &["spec.slos[0].objective: SLI `podPendingTime` is a duration: give it a `max`", "e.g. max: 10m"], Some(("\"99%", 0))),
    ("  faults: []", "  slos: [ { name: up, sli: podAvailability, statefulSet: db/redsi, objective: \"99%\" } ]", &["spec.slos[0].statefulSet: no StatefulSet db/redsi in spec.manifests", "did you mean \"redis\"?"], Some(("db/redsi", 0))),
    ("  faults: []", "  slos: [ { name: up, sli: fullRedundancy, objective: \"99.9\" } ]", &["spec.slos[0].objective: objective \"99.9\" is not a percentage", "\"99.9%\""], Some(("\"99.9\"", 0))),
    ("  faults: []", "  slos: [ { name: r, sli: timeToRecover, max: 10 } ]", &["spec.slos[0].max: a duration needs a unit"], Some(("10 }", 0))),
    ("      kind: Service", "      kind: Servce", &["spec.manifests[0].kind: unknown kind \"Servce\"", "did you mean \"Service\"?"], Some(("Servce", 0))),
    ("apiVersion: apps/v1", "apiVersion: apps/v1beta1", &["unknown apiVersion \"apps/v1beta1\" for kind StatefulSet", "did you mean apiVersion: apps/v1?"], Some(("apps/v1beta1", 0))),
    ("metadata: { labels: { app: redis } }", "metadata: { labels: { app: cache } }", &["spec.manifests[1].spec.template.metadata.labels: `selector` does not match template `labels`"], Some(("{ app: cache", 0))),
    ("            securityContext", "            restartPolicy: Never\n            securityContext", &["spec.template.spec.restartPolicy: unsupported value \"Never\""], Some(("Never", 0))),
    ("                image: redis:7.2\n", "", &["spec.manifests[1].spec.template.spec.containers[0].image: container \"redis\" needs an image"], None),
    ("cpu: 500m", "cpu: 500x", &["resources.requests.cpu: quantity \"500x\" has an unknown suffix"], Some(("500x", 0))),
    ("ports: [ { name: redis, port: 6379 } ]", "ports: { name: redis }", &["spec.manifests[0].spec.ports: expected a list, found a map"], Some(("ports: { name", 7))),
    ("      metadata: { name: redis }\n", "      metadata: { namespace: x }\n", &["spec.manifests[0].metadata.name: a Service needs metadata.name"], Some(("{ namespace", 0))),
    ("memory: 16Gi }", "memroy: 16Gi }", &["capacity needs `memory`", "did you mean \"memroy\"?"], Some(("{ cpu: \"4\"", 0))),
    ("effect: NoSchedule", "effect: NoSchedul", &["taints[0].effect: unknown value \"NoSchedul\"", "did you mean \"NoSchedule\"?"], Some(("NoSchedul ", 0))),
    ("behavior: pullError", "behavior: pullerror", &["spec.images[1].behavior", "did you mean \"pullError\"?"], Some(("pullerror", 0))),
    ("      - name: b\n", "      - name: a\n", &["zone \"a\" is listed twice", "node name \"worker-a-1\" is also made by spec.cluster.zones[0].nodePools[0]"], None),
    ("name: quickstart", "name: ../up", &["metadata.name: invalid scenario name \"../up\"", "names the output directory"], Some(("../up", 0))),
    ("    - image: redis:bad\n", "    - image: redis:7.2\n", &["spec.images[1].image: image \"redis:7.2\" is described twice"], Some(("redis:7.2\n      behavior: pullError", 0))),
    ("  cluster:\n", "  cluster: ~\n  clusterX:\n", &["spec.cluster: the cluster needs zones", "spec.clusterX: unknown field `clusterX`"], Some(("~", 0))),
    ("    zones:\n", "    zones: []\n    zonesX:\n", &["spec.cluster.zones: the cluster needs at least one zone"], Some(("[]", 0))),
    ("  manifests:\n", "  manifests:\n    - 42\n", &["spec.manifests[0]: expected a Kubernetes object", "found an integer 42"], Some(("42", 0))),
];

#[test]
fn reports_each_mistake_where_it_is() {
    for &(old, new, wants, at) in MISTAKES {
        let text = with(old, new);
        let err = error_of(&text);
        for want in wants {
            assert!(
                err.contains(want),
                "{old:?} -> {new:?}: missing {want:?} in:\n{err}"
            );
        }
        if let Some((needle, offset)) = at {
            let loc = loc_of(&text, needle, offset);
            assert!(
                err.contains(&format!("error: {loc}: ")),
                "{old:?} -> {new:?}: not at {loc}:\n{err}"
            );
        }
        assert!(err.contains('^'), "an excerpt with a caret:\n{err}");
    }
}

#[test]
fn reports_independent_mistakes_together() {
    let text = with("spec:\n  seed", "extra: 1\nspec:\n  sed: 1\n  seed")
        .replace("count: 2", "count: two")
        .replace("replicas: 3", "replica: 3");
    let text = text.replace("kubectl: cordon worker-a-1", "kubectl: frobnicate");
    let Err(ScenarioError::Invalid(diags)) = load_text(&text) else {
        panic!("expected errors")
    };
    let paths: Vec<&str> = diags.iter().map(|d| d.path.as_str()).collect();
    for want in [
        "extra",
        "spec.sed",
        "spec.cluster.zones[0].nodePools[0].count",
        "spec.manifests[1].spec.replica",
        "spec.actions[1].kubectl",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    let lines: Vec<u64> = diags
        .iter()
        .filter_map(|d| d.location.as_ref().map(|l| l.line))
        .collect();
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "sorted by line: {lines:?}"
    );
}

#[test]
fn refuses_empty_and_multi_document_files() {
    assert!(error_of("").contains("the scenario file is empty"));
    assert!(error_of("# nothing\n").contains("empty"));
    assert!(
        error_of(&format!("{VALID}---\nkind: Other\n"))
            .contains("a scenario file holds one YAML document")
    );
    assert!(error_of("- a\n- b\n").contains("expected a scenario"));
}

/// The directory that holds the files (deleted when dropped) and the load result.
type Loaded = (
    tempfile::TempDir,
    Result<crate::scenario::Scenario, ScenarioError>,
);

/// Writes `files` under a fresh directory and loads its `scenario.yaml`.
fn load_files(files: &[(&str, &str)]) -> Loaded {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
    }
    let result = load(&dir.path().join("scenario.yaml"));
    (dir, result)
}

const REDIS_FILE: &str = "# the redis tier
apiVersion: v1
kind: ConfigMap
metadata: { name: redis-conf }
data: { redis.conf: \"maxmemory 1gb\" }
---
apiVersion: v1
kind: List
items:
  - apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: { name: redis }
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: redis } } }
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata: { name: fast }
    provisioner: pd.csi.storage.gke.io
    volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: extra, namespace: db }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Gi } }
status: { phase: Bound, anything: [goes] }
";

#[test]
fn reads_manifest_files_with_several_documents() {
    let scenario = with(
        "  manifests:\n",
        "  manifests:\n    - file: manifests/redis.yaml\n",
    );
    let (dir, result) = load_files(&[
        ("scenario.yaml", &scenario),
        ("manifests/redis.yaml", REDIS_FILE),
    ]);
    let s = result.unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<&str> = s
        .manifests
        .iter()
        .map(|m| match &m.object {
            ManifestObject::PodDisruptionBudget(_) => "PodDisruptionBudget",
            ManifestObject::StorageClass(_) => "StorageClass",
            ManifestObject::PersistentVolumeClaim(_) => "PersistentVolumeClaim",
            ManifestObject::Service(_) => "Service",
            ManifestObject::StatefulSet(_) => "StatefulSet",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "PodDisruptionBudget",
            "StorageClass",
            "PersistentVolumeClaim",
            "Service",
            "StatefulSet"
        ]
    );
    let file = dir.path().join("manifests/redis.yaml");
    assert_eq!(s.manifests[0].origin.file, file);
    assert_eq!(
        (s.manifests[0].origin.line, s.manifests[0].origin.column),
        (10, 5)
    );
    let ManifestObject::PersistentVolumeClaim(pvc) = &s.manifests[2].object else {
        panic!("a PVC")
    };
    assert!(pvc.status.phase.is_empty(), "status is ignored");
    let config_map = &s.not_simulated[0];
    assert_eq!(
        (config_map.object.as_str(), config_map.path.as_str()),
        ("ConfigMap redis-conf", "")
    );
    assert_eq!(
        (config_map.origin.file.as_path(), config_map.origin.line),
        (file.as_path(), 2)
    );
}

#[test]
fn points_into_the_manifest_file() {
    let scenario = with("  manifests:\n", "  manifests:\n    - file: sts.yaml\n");
    let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  replica: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n";
    let (dir, result) = load_files(&[("scenario.yaml", &scenario), ("sts.yaml", sts)]);
    let err = result.expect_err("replica").to_string();
    let want = format!(
        "error: {}:5:3: spec.replica: unknown field `replica`",
        dir.path().join("sts.yaml").display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("5 |   replica: 2\n  |   ^"), "{err}");
    let scenario = scenario.replace("- file: sts.yaml\n", "- file: sts.yaml\n      kind: Pod\n");
    let (_dir, result) = load_files(&[("scenario.yaml", &scenario), ("sts.yaml", "kind: [\n")]);
    let err = result.expect_err("broken").to_string();
    assert!(err.contains("sts.yaml:1:7: unclosed bracket"), "{err}");
    assert!(err.contains("spec.manifests[0].kind: unexpected field `kind`: an entry with `file:` takes no other fields"), "{err}");
}

#[test]
fn a_missing_manifest_file_is_an_io_error_at_the_reference() {
    let scenario = with("  manifests:\n", "  manifests:\n    - file: missing.yaml\n");
    let (dir, result) = load_files(&[("scenario.yaml", &scenario)]);
    let err = result.expect_err("missing file");
    let ScenarioError::Io {
        file, reference, ..
    } = &err
    else {
        panic!("an I/O error: {err}")
    };
    assert_eq!(file, &dir.path().join("missing.yaml"));
    let reference = reference.as_ref().expect("the reference");
    assert_eq!(
        (reference.line, reference.column),
        (loc_line(&scenario, "missing.yaml"), 13)
    );
    let text = err.to_string();
    assert!(
        text.contains("cannot read") && text.contains("missing.yaml"),
        "{text}"
    );
    let err = load(Path::new("/nonexistent/scenario.yaml")).expect_err("no scenario");
    assert!(err.to_string().contains("/nonexistent/scenario.yaml"));
}

fn loc_line(text: &str, needle: &str) -> u64 {
    let at = text.find(needle).expect("needle");
    text[..at].matches('\n').count() as u64 + 1
}
