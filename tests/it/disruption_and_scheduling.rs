//! Issue 5, end to end on small inline scenarios: EndpointSlices and cluster DNS follow
//! readiness; PodDisruptionBudget status and the eviction API's 200/429/500; `kubectl
//! drain` honouring a budget (the ZooKeeper tutorial) and giving up at `--timeout`; the
//! scheduler's inter-pod anti-affinity and topology spread (hard, and the soft system
//! default); `taint`, `delete node` and label selectors as scenario actions.

use crate::harness::{SharedBuf, trace_lines};
use serde_json::Value;
use std::path::Path;
use std::rc::Rc;
use stsim::api::meta::Condition;
use stsim::api::{EndpointSlice, Node, ObjectKey, Pod, PodDisruptionBudget, Tables};
use stsim::apiserver::dns;
use stsim::apiserver::{ApiError, DeleteOptions};
use stsim::scenario::{self, Scenario};
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime, parse_duration};

/// A scenario: `zones` as `(zone, node count, extra node-pool YAML)`, the manifests as YAML
/// list items (indented 4), and actions as `(time, kubectl line)`.
fn scenario(zones: &[(&str, usize, &str)], manifests: &str, actions: &[(&str, &str)]) -> Scenario {
    let mut text = String::from(
        r#"apiVersion: stsim/v1alpha1
kind: Scenario
metadata: { name: issue5 }
spec:
  duration: 30m
  cluster:
    zones:
"#,
    );
    for (zone, count, extra) in zones {
        let capacity = if extra.contains("capacity") {
            ""
        } else {
            ", capacity: { cpu: \"8\", memory: 32Gi }"
        };
        text.push_str(&format!(
            "      - name: {zone}\n        nodePools: [ {{ name: w, count: {count}{capacity}{extra} }} ]\n"
        ));
    }
    text.push_str(
        r#"  images:
    - { image: "zk:3.4", pullTime: 1s, shutdownTime: 15s }
    - { image: "nginx:1", pullTime: 1s, shutdownTime: 1s }
    - { image: "stuck:1", pullTime: 1s, shutdownTime: 1s, behavior: neverReady }
  manifests:
"#,
    );
    text.push_str(manifests);
    text.push_str("  actions:\n");
    if actions.is_empty() {
        text.push_str("    []\n");
    }
    for (at, line) in actions {
        text.push_str(&format!(
            "    - at: {at}\n      kubectl: >-\n        {line}\n"
        ));
    }
    scenario::load_str(&text, Path::new("inline.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

/// The ZooKeeper tutorial's ensemble: headless Service `zk-hs`, budget `zk-pdb`
/// (`budget` is its spec line), and set `zk` with required anti-affinity by hostname.
fn zookeeper(replicas: usize, budget: &str) -> String {
    format!(
        r#"    - apiVersion: v1
      kind: Service
      metadata: {{ name: zk-hs }}
      spec: {{ clusterIP: None, selector: {{ app: zk }}, ports: [ {{ name: client, port: 2181 }} ] }}
    - apiVersion: policy/v1
      kind: PodDisruptionBudget
      metadata: {{ name: zk-pdb }}
      spec: {{ selector: {{ matchLabels: {{ app: zk }} }}, {budget} }}
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: zk }}
      spec:
        serviceName: zk-hs
        replicas: {replicas}
        podManagementPolicy: Parallel
        selector: {{ matchLabels: {{ app: zk }} }}
        template:
          metadata: {{ labels: {{ app: zk }} }}
          spec:
            terminationGracePeriodSeconds: 30
            affinity:
              podAntiAffinity:
                requiredDuringSchedulingIgnoredDuringExecution:
                  - labelSelector: {{ matchExpressions: [ {{ key: app, operator: In, values: [ zk ] }} ] }}
                    topologyKey: kubernetes.io/hostname
            containers: [ {{ name: zk, image: "zk:3.4", resources: {{ requests: {{ cpu: 500m, memory: 1Gi }} }} }} ]
"#
    )
}

fn at(spec: &str) -> SimTime {
    SimTime::ZERO + parse_duration(spec).expect("a duration")
}

fn us(spec: &str) -> u64 {
    parse_duration(spec).unwrap().as_nanos() / 1_000
}

/// A run driven step by step, its trace kept.
struct Run {
    sim: Simulation,
    trace: SharedBuf,
}

impl Run {
    fn start(s: Scenario) -> Self {
        let trace = SharedBuf::default();
        let mut opts = RunOptions::for_scenario(&s);
        opts.trace = Some(Box::new(trace.clone()));
        Run {
            sim: Simulation::new(&s, opts),
            trace,
        }
    }
    fn until(&mut self, t: &str) -> &mut Self {
        self.sim.run_until(at(t));
        self
    }
    fn objects(&self) -> &Tables {
        self.sim.api().objects()
    }
    fn pod(&self, name: &str) -> Option<Rc<Pod>> {
        self.objects()
            .get::<Pod>(&ObjectKey::new("default", name))
            .cloned()
    }
    fn node(&self, name: &str) -> Option<Rc<Node>> {
        self.objects()
            .get::<Node>(&ObjectKey::cluster(name))
            .cloned()
    }
    fn pdb(&self, name: &str) -> Rc<PodDisruptionBudget> {
        self.objects()
            .get::<PodDisruptionBudget>(&ObjectKey::new("default", name))
            .cloned()
            .expect("the budget")
    }
    fn node_of(&self, pod: &str) -> String {
        self.pod(pod).expect("the pod").spec.node_name.clone()
    }
    fn lines(&self) -> Vec<Value> {
        trace_lines(&self.trace.0.borrow())
    }
    /// `(t_us, message)` of kubectl's later output lines (notes from `kubectl`).
    fn kubectl_notes(&self) -> Vec<(u64, String)> {
        self.lines()
            .into_iter()
            .filter(|l| l["type"] == "note" && l["source"] == "kubectl")
            .map(|l| {
                (
                    l["t_us"].as_u64().unwrap(),
                    l["message"].as_str().unwrap().into(),
                )
            })
            .collect()
    }
    /// `(command, ok, output)` of every action.
    fn actions(&self) -> Vec<(String, bool, String)> {
        self.lines()
            .into_iter()
            .filter(|l| l["type"] == "action")
            .map(|l| {
                (
                    l["command"].as_str().unwrap().into(),
                    l["ok"].as_bool().unwrap(),
                    l["output"].as_str().unwrap().into(),
                )
            })
            .collect()
    }
    /// Messages of the Kubernetes Events with `reason` about `name`.
    fn events(&self, reason: &str, name: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l["type"] == "event" && l["reason"] == reason && l["name"] == name)
            .map(|l| l["message"].as_str().unwrap().into())
            .collect()
    }
    /// When `pod` (the incarnation with `uid`, or any) first became Ready.
    fn ready_at(&self, name: &str, not_uid: &str) -> Option<u64> {
        self.lines().into_iter().find_map(|l| {
            let o = &l["object"];
            let ready = o["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (l["type"] == "write"
                && l["kind"] == "Pod"
                && l["name"] == name
                && o["metadata"]["uid"] != not_uid
                && ready)
                .then(|| l["t_us"].as_u64().unwrap())
        })
    }
}

fn ready_and_serving(p: &Pod) -> bool {
    p.is_ready() && !p.is_terminating()
}

fn fqdn(pod: &str, svc: &str) -> String {
    format!("{pod}.{svc}.default.svc.cluster.local")
}

const WEB: &str = r#"    - apiVersion: v1
      kind: Service
      metadata: { name: nginx }
      spec: { clusterIP: None, selector: { app: web }, ports: [ { name: web, port: 80 } ] }
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: { name: web }
      spec:
        serviceName: nginx
        replicas: 3
        selector: { matchLabels: { app: web } }
        template:
          metadata: { labels: { app: web } }
          spec:
            terminationGracePeriodSeconds: 10
            containers: [ { name: nginx, image: "nginx:1", ports: [ { name: web, containerPort: 80 } ] } ]
"#;

#[test]
fn endpoints_and_dns_records_exist_exactly_while_the_pod_is_ready() {
    let mut r = Run::start(scenario(&[("a", 3, "")], WEB, &[]));
    r.until("2m");
    let slices: Vec<Rc<EndpointSlice>> = r.objects().list::<EndpointSlice>().cloned().collect();
    assert_eq!(slices.len(), 1, "one slice for the service");
    let slice = &slices[0];
    assert_eq!(slice.service_name(), Some("nginx"));
    assert_eq!(slice.endpoints.len(), 3);
    assert_eq!(slice.ports[0].port, Some(80));
    for (i, e) in slice.endpoints.iter().enumerate() {
        let pod = r.pod(&format!("web-{i}")).unwrap();
        assert_eq!(e.hostname.as_deref(), Some(pod.metadata.name.as_str()));
        assert_eq!(e.addresses, vec![pod.status.pod_ip.clone()]);
        assert_eq!(e.conditions.ready, Some(true));
        assert_eq!(e.zone.as_deref(), Some("a"));
        assert_eq!(e.node_name.as_deref(), Some(pod.spec.node_name.as_str()));
        assert_eq!(
            dns::resolve(r.objects(), &fqdn(&pod.metadata.name, "nginx")),
            Some(pod.status.pod_ip.clone())
        );
    }
    assert_eq!(
        dns::resolve_all(r.objects(), "nginx.default.svc.cluster.local").len(),
        3
    );
    // web-1 is deleted and comes back: sample every 10 ms. The record must follow the pod's
    // readiness within the informer lag (two watch delays).
    let lag = SimDuration::from_millis(50);
    let mut history: Vec<(SimTime, bool)> = vec![(r.sim.now(), true)];
    r.sim.kubectl("delete pod web-1").unwrap();
    let (mut saw_gone, mut saw_back) = (false, false);
    let end = at("3m");
    while r.sim.now() < end {
        let now = r.sim.now();
        let expected = r.pod("web-1").is_some_and(|p| ready_and_serving(&p));
        history.push((now, expected));
        let got = dns::resolve(r.objects(), &fqdn("web-1", "nginx"));
        let consistent = history
            .iter()
            .rev()
            .take_while(|(t, _)| now.saturating_since(*t) <= lag)
            .any(|(_, e)| *e == got.is_some());
        assert!(consistent, "at {now}: record {got:?}, pod ready {expected}");
        if let Some(ip) = got {
            assert_eq!(ip, r.pod("web-1").unwrap().status.pod_ip);
            saw_back |= saw_gone;
        } else {
            saw_gone = true;
        }
        r.sim.run_for(SimDuration::from_millis(10));
    }
    assert!(saw_gone && saw_back, "the record went and came back");
    // While the old pod terminated, its endpoint stayed listed as terminating.
    let terminating_listed = r.lines().iter().any(|l| {
        l["type"] == "write"
            && l["kind"] == "EndpointSlice"
            && l["object"]["endpoints"].as_array().is_some_and(|es| {
                es.iter().any(|e| {
                    e["hostname"] == "web-1"
                        && e["conditions"]["terminating"] == true
                        && e["conditions"]["ready"] == false
                        && e["conditions"]["serving"] == true
                })
            })
    });
    assert!(terminating_listed);
}

#[test]
fn publish_not_ready_addresses_publishes_pods_that_are_not_ready() {
    let manifests = r#"    - apiVersion: v1
      kind: Service
      metadata: { name: stuck }
      spec: { clusterIP: None, publishNotReadyAddresses: true, selector: { app: stuck } }
    - apiVersion: v1
      kind: Service
      metadata: { name: strict }
      spec: { clusterIP: None, selector: { app: stuck } }
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: { name: s }
      spec:
        serviceName: stuck
        replicas: 2
        podManagementPolicy: Parallel
        selector: { matchLabels: { app: stuck } }
        template:
          metadata: { labels: { app: stuck } }
          spec:
            containers:
              - name: c
                image: "stuck:1"
                readinessProbe: { exec: { command: [ "true" ] } }
"#;
    let mut r = Run::start(scenario(&[("a", 2, "")], manifests, &[]));
    r.until("2m");
    let p = r.pod("s-0").unwrap();
    assert!(!p.is_ready() && !p.status.pod_ip.is_empty());
    assert_eq!(
        dns::resolve(r.objects(), &fqdn("s-0", "stuck")),
        Some(p.status.pod_ip.clone())
    );
    assert_eq!(
        dns::resolve_all(r.objects(), "stuck.default.svc.cluster.local").len(),
        2
    );
    assert!(dns::resolve_all(r.objects(), "strict.default.svc.cluster.local").is_empty());
}

#[test]
fn no_pods_leave_one_placeholder_slice() {
    let manifests = r#"    - apiVersion: v1
      kind: Service
      metadata: { name: lonely }
      spec: { clusterIP: None, selector: { app: nobody } }
"#;
    let mut r = Run::start(scenario(&[("a", 1, "")], manifests, &[]));
    r.until("10s");
    let slices: Vec<_> = r.objects().list::<EndpointSlice>().cloned().collect();
    assert_eq!(slices.len(), 1);
    assert!(slices[0].endpoints.is_empty() && slices[0].ports.is_empty());
    assert_eq!(
        dns::resolve(r.objects(), "lonely.default.svc.cluster.local"),
        None
    );
}

/// Four three-member sets, each with its own budget.
fn budgets() -> String {
    let mut m = String::new();
    for (name, budget) in [
        ("a", "maxUnavailable: 1"),
        ("b", "minAvailable: \"50%\""),
        ("c", "maxUnavailable: \"34%\""),
        ("d", "minAvailable: 2"),
    ] {
        m.push_str(&format!(
            r#"    - apiVersion: policy/v1
      kind: PodDisruptionBudget
      metadata: {{ name: {name} }}
      spec: {{ selector: {{ matchLabels: {{ app: {name} }} }}, {budget} }}
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: {name} }}
      spec:
        serviceName: {name}
        replicas: 3
        podManagementPolicy: Parallel
        selector: {{ matchLabels: {{ app: {name} }} }}
        template:
          metadata: {{ labels: {{ app: {name} }} }}
          spec:
            containers: [ {{ name: c, image: "nginx:1" }} ]
"#
        ));
    }
    m
}

#[test]
fn budget_status_for_integers_and_percentages() {
    let mut r = Run::start(scenario(
        &[("a", 3, "")],
        &budgets(),
        &[("2m", "scale statefulset a --replicas=5")],
    ));
    r.until("1m");
    // (expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed); percentages of the
    // set's 3 replicas round up: minAvailable 50% → 2, maxUnavailable 34% → 2.
    for (name, want) in [
        ("a", (3, 2, 3, 1)),
        ("b", (3, 2, 3, 1)),
        ("c", (3, 1, 3, 2)),
        ("d", (3, 2, 3, 1)),
    ] {
        let b = r.pdb(name);
        let s = &b.status;
        assert_eq!(
            (
                s.expected_pods,
                s.desired_healthy,
                s.current_healthy,
                s.disruptions_allowed
            ),
            want,
            "budget {name}"
        );
        assert_eq!(s.observed_generation, b.metadata.generation);
        let c = Condition::find(&s.conditions, "DisruptionAllowed").unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "SufficientPods")
        );
    }
    r.until("3m");
    let s = &r.pdb("a").status;
    assert_eq!(
        (s.expected_pods, s.desired_healthy, s.current_healthy),
        (5, 4, 5)
    );
}

#[test]
fn the_eviction_api_answers_200_then_429_then_500() {
    let mut r = Run::start(scenario(
        &[("a", 3, "")],
        &zookeeper(3, "maxUnavailable: 1"),
        &[],
    ));
    r.until("1m");
    assert_eq!(r.pdb("zk-pdb").status.disruptions_allowed, 1);
    let kubectl = stsim::operator::actor();
    let key = |n: &str| ObjectKey::new("default", n);
    let first = r.sim.act(&kubectl, |c| {
        c.evict(&key("zk-0"), &DeleteOptions::default())
    });
    assert_eq!(first, Ok(()));
    let b = r.pdb("zk-pdb");
    assert_eq!(b.status.disruptions_allowed, 0);
    assert!(b.status.disrupted_pods.contains_key("zk-0"));
    assert!(r.pod("zk-0").unwrap().is_terminating());
    let second = r.sim.act(&kubectl, |c| {
        c.evict(&key("zk-1"), &DeleteOptions::default())
    });
    assert_eq!(second, Err(ApiError::TooManyRequests));
    assert!(!r.pod("zk-1").unwrap().is_terminating());
    // Once zk-0 is back and Ready the budget allows one again.
    r.until("2m");
    assert_eq!(r.pdb("zk-pdb").status.disruptions_allowed, 1);
    assert!(r.pdb("zk-pdb").status.disrupted_pods.is_empty());
    // A second budget over the same pods: 500.
    let mut extra = (*r.pdb("zk-pdb")).clone();
    extra.metadata = stsim::api::ObjectMeta::named("default", "zk-pdb-2");
    extra.status = Default::default();
    r.sim.act(&kubectl, |c| c.create(extra)).unwrap();
    let third = r.sim.act(&kubectl, |c| {
        c.evict(&key("zk-2"), &DeleteOptions::default())
    });
    assert_eq!(
        third,
        Err(ApiError::InternalError {
            message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.".into()
        })
    );
}

#[test]
fn draining_two_nodes_in_a_row_waits_for_the_first_member_to_be_ready_again() {
    // The ZooKeeper tutorial: 3 members on 4 nodes, maxUnavailable 1.
    let mut r = Run::start(scenario(
        &[("a", 4, "")],
        &zookeeper(3, "maxUnavailable: 1"),
        &[],
    ));
    r.until("2m");
    let (n0, n1, n2) = (r.node_of("zk-0"), r.node_of("zk-1"), r.node_of("zk-2"));
    let old_zk0 = r.pod("zk-0").unwrap().metadata.uid.clone();
    let flags = "--ignore-daemonsets --force --delete-emptydir-data";
    let first = r.sim.kubectl(&format!("drain {n0} {flags}")).unwrap();
    assert!(first.is_ok());
    assert_eq!(
        first.text(),
        format!("node/{n0} cordoned\nevicting pod default/zk-0")
    );
    let second = r.sim.kubectl(&format!("drain {n1} {flags}")).unwrap();
    assert_eq!(
        second.text(),
        format!(
            "node/{n1} cordoned\nevicting pod default/zk-1\n\
             error when evicting pods/\"zk-1\" -n \"default\" (will retry after 5s): \
             Cannot evict pod as it would violate the pod's disruption budget."
        )
    );
    r.until("4m");
    // zk-0 moved to the fourth node and became Ready; only then did zk-1's eviction pass.
    let n3 = r.node_of("zk-0");
    assert!(![&n0, &n1, &n2].contains(&&n3));
    let zk0_ready = r.ready_at("zk-0", &old_zk0).expect("zk-0 is Ready again");
    let notes = r.kubectl_notes();
    let retries: Vec<u64> = notes
        .iter()
        .filter(|(_, m)| m.starts_with("error when evicting pods/\"zk-1\""))
        .map(|(t, _)| *t)
        .collect();
    assert!(retries.len() >= 2, "{notes:?}");
    let start = us("2m");
    for (k, t) in retries.iter().enumerate() {
        assert_eq!(*t, start + (k as u64 + 1) * 5_000_000, "a retry every 5 s");
    }
    let evicted_at = notes
        .iter()
        .find(|(_, m)| m == "evicting pod default/zk-1")
        .map(|(t, _)| *t);
    let passed = notes
        .iter()
        .filter(|(_, m)| m == "evicting pod default/zk-1")
        .map(|(t, _)| *t)
        .next_back()
        .unwrap();
    assert!(evicted_at.is_some());
    assert!(
        passed > zk0_ready,
        "zk-1 went only after zk-0 was Ready again"
    );
    assert!(
        passed - zk0_ready <= 5_000_000 + 1_000_000,
        "at the next retry"
    );
    let messages: Vec<&str> = notes.iter().map(|(_, m)| m.as_str()).collect();
    assert!(messages.contains(&"pod/zk-0 evicted"));
    assert!(messages.contains(&"pod/zk-1 evicted"));
    assert!(messages.contains(&format!("node/{n0} drained").as_str()));
    assert!(messages.contains(&format!("node/{n1} drained").as_str()));
    // zk-1 cannot go anywhere: two nodes are cordoned, two hold members.
    let zk1 = r.pod("zk-1").unwrap();
    assert!(zk1.spec.node_name.is_empty());
    let failed = r.events("FailedScheduling", "zk-1");
    assert_eq!(
        failed.last().unwrap(),
        "0/4 nodes are available: 2 node(s) didn't match pod anti-affinity rules, 2 node(s) were unschedulable."
    );
    // Uncordoning the first node lets it back there.
    r.sim.kubectl(&format!("uncordon {n0}")).unwrap();
    r.until("6m");
    assert_eq!(r.node_of("zk-1"), n0);
    assert!(r.pod("zk-1").unwrap().is_ready());
}

#[test]
fn drain_timeout_gives_up_with_kubectls_error() {
    let mut r = Run::start(scenario(
        &[("a", 3, "")],
        &zookeeper(3, "minAvailable: 3"),
        &[],
    ));
    r.until("1m");
    let n0 = r.node_of("zk-0");
    let out = r.sim.kubectl(&format!("drain {n0} --timeout=20s")).unwrap();
    assert!(out.is_ok());
    r.until("2m");
    let notes: Vec<(u64, String)> = r.kubectl_notes();
    let tries: Vec<u64> = notes
        .iter()
        .filter(|(_, m)| m == "evicting pod default/zk-0")
        .map(|(t, _)| *t)
        .collect();
    let start = us("1m");
    assert_eq!(
        tries,
        (1..=4).map(|k| start + k * 5_000_000).collect::<Vec<_>>(),
        "retries at 5, 10, 15 and 20 s"
    );
    let tail: Vec<&str> = notes
        .iter()
        .filter(|(t, _)| *t == start + 20_000_000)
        .map(|(_, m)| m.as_str())
        .collect();
    let err = "error when evicting pods/\"zk-0\" -n \"default\": global timeout reached: 20s";
    assert_eq!(
        tail,
        vec![
            "evicting pod default/zk-0".to_string(),
            format!("There are pending pods in node \"{n0}\" when an error occurred: {err}"),
            "pod/zk-0".to_string(),
            format!(
                "error: unable to drain node \"{n0}\" due to error: {err}, continuing command..."
            ),
            "There are pending nodes to be drained:".to_string(),
            format!(" {n0}"),
            format!("error: {err}"),
        ]
    );
    assert!(!r.pod("zk-0").unwrap().is_terminating(), "the budget held");
    assert!(
        r.node(&n0).unwrap().spec.unschedulable,
        "the node stays cordoned"
    );
}

#[test]
fn required_anti_affinity_spreads_three_members_and_leaves_a_fourth_pending() {
    let mut r = Run::start(scenario(
        &[("a", 3, "")],
        &zookeeper(4, "maxUnavailable: 1"),
        &[],
    ));
    r.until("1m");
    let mut nodes: Vec<String> = (0..3).map(|i| r.node_of(&format!("zk-{i}"))).collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 3, "one member per node");
    assert!(r.node_of("zk-3").is_empty());
    assert_eq!(
        r.events("FailedScheduling", "zk-3").last().unwrap(),
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
    );
}

fn spread_set(policy: &str) -> String {
    format!(
        r#"    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {{ name: web }}
      spec:
        serviceName: web
        replicas: 3
        podManagementPolicy: Parallel
        selector: {{ matchLabels: {{ app: web }} }}
        template:
          metadata: {{ labels: {{ app: web }} }}
          spec:
            topologySpreadConstraints:
              - maxSkew: 1
                topologyKey: topology.kubernetes.io/zone
                whenUnsatisfiable: DoNotSchedule
                labelSelector: {{ matchLabels: {{ app: web }} }}
{policy}            containers: [ {{ name: c, image: "nginx:1" }} ]
"#
    )
}

#[test]
fn zone_spread_counts_a_zone_whose_nodes_are_all_tainted() {
    let tainted = ", taints: [ { key: dedicated, value: other, effect: NoSchedule } ]";
    let zones = [("a", 1, ""), ("b", 1, ""), ("c", 1, tainted)];
    // nodeTaintsPolicy Ignore (the default): zone c counts with 0 pods, so the third
    // replica fits neither a nor b, and c is tainted.
    let mut r = Run::start(scenario(&zones, &spread_set(""), &[]));
    r.until("1m");
    let placed: Vec<String> = (0..3).map(|i| r.node_of(&format!("web-{i}"))).collect();
    assert_eq!(
        placed.iter().filter(|n| n.is_empty()).count(),
        1,
        "{placed:?}"
    );
    let pending = placed.iter().position(|n| n.is_empty()).unwrap();
    assert_eq!(
        r.events("FailedScheduling", &format!("web-{pending}"))
            .last()
            .unwrap(),
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: other}, \
         2 node(s) didn't match pod topology spread constraints."
    );
    // Honor: the tainted zone is no domain; all three run, two in one zone.
    let honor = "                nodeTaintsPolicy: Honor\n";
    let mut r = Run::start(scenario(&zones, &spread_set(honor), &[]));
    r.until("1m");
    assert!((0..3).all(|i| !r.node_of(&format!("web-{i}")).is_empty()));
}

#[test]
fn the_system_default_spread_is_soft_and_spreads_a_sets_pods() {
    // One big node and two small ones: by resources alone every pod prefers the big one
    // (bare pods do), but the default hostname spread of a StatefulSet's pods wins.
    let big = ", capacity: { cpu: \"64\", memory: 256Gi }";
    let mut manifests = String::from(
        r#"    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: { name: web }
      spec:
        serviceName: web
        replicas: 3
        selector: { matchLabels: { app: web } }
        template:
          metadata: { labels: { app: web } }
          spec:
            containers: [ { name: c, image: "nginx:1", resources: { requests: { cpu: 100m, memory: 128Mi } } } ]
"#,
    );
    for i in 0..3 {
        manifests.push_str(&format!(
            r#"    - apiVersion: v1
      kind: Pod
      metadata: {{ name: bare-{i}, labels: {{ app: bare }} }}
      spec:
        containers: [ {{ name: c, image: "nginx:1", resources: {{ requests: {{ cpu: 100m, memory: 128Mi }} }} }} ]
"#
        ));
    }
    let text_zones = [("a", 1, big), ("b", 2, "")];
    let mut r = Run::start(scenario(&text_zones, &manifests, &[]));
    r.until("1m");
    let mut set_nodes: Vec<String> = (0..3).map(|i| r.node_of(&format!("web-{i}"))).collect();
    set_nodes.sort();
    set_nodes.dedup();
    assert_eq!(
        set_nodes.len(),
        3,
        "the set's pods spread over the three nodes"
    );
    let bare: Vec<String> = (0..3).map(|i| r.node_of(&format!("bare-{i}"))).collect();
    assert!(
        bare.iter().all(|n| n == "w-a-1"),
        "bare pods pile onto the big node: {bare:?}"
    );
}

#[test]
fn taint_untaint_cordon_by_selector_and_delete_node_as_actions() {
    let zones = [("a", 2, ""), ("b", 1, "")];
    let actions = [
        (
            "10s",
            "taint nodes -l topology.kubernetes.io/zone=a dedicated=db:NoSchedule",
        ),
        (
            "20s",
            "taint nodes w-b-1 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute",
        ),
        ("30s", "taint nodes w-a-1 dedicated:NoSchedule-"),
        ("40s", "taint nodes w-a-2 dedicated=db:NoSchedule"),
        ("50s", "cordon -l topology.kubernetes.io/zone=a"),
        ("60s", "uncordon -l topology.kubernetes.io/zone=a"),
        ("70s", "delete node w-b-1"),
        ("80s", "taint nodes w-a-1 nothing-"),
    ];
    let mut r = Run::start(scenario(&zones, "", &actions));
    r.until("2m");
    let outputs: Vec<(bool, String)> = r.actions().into_iter().map(|a| (a.1, a.2)).collect();
    assert_eq!(
        outputs,
        vec![
            (true, "node/w-a-1 tainted\nnode/w-a-2 tainted".into()),
            (true, "node/w-b-1 tainted".into()),
            (true, "node/w-a-1 untainted".into()),
            (
                false,
                "error: node w-a-2 already has dedicated taint(s) with same effect(s) and --overwrite is false".into()
            ),
            (true, "node/w-a-1 cordoned\nnode/w-a-2 cordoned".into()),
            (true, "node/w-a-1 uncordoned\nnode/w-a-2 uncordoned".into()),
            (true, "node \"w-b-1\" deleted".into()),
            (false, "error: taint \"nothing\" not found".into()),
        ]
    );
    assert!(r.node("w-a-1").unwrap().spec.taints.is_empty());
    assert_eq!(r.node("w-a-2").unwrap().spec.taints[0].key, "dedicated");
    assert!(r.node("w-b-1").is_none());
}

#[test]
fn node_commands_must_name_nodes_that_exist() {
    let text = r#"apiVersion: stsim/v1alpha1
kind: Scenario
metadata: { name: bad }
spec:
  duration: 10m
  cluster:
    zones: [ { name: a, nodePools: [ { name: w, count: 1, capacity: { cpu: "4", memory: 8Gi } } ] } ]
  manifests: []
  actions:
    - { at: 1m, kubectl: "drain w-a-9 --ignore-daemonsets" }
    - { at: 2m, kubectl: "taint nodes w-a-1 dedicated=db:Sometimes" }
"#;
    let err = scenario::load_str(text, Path::new("bad.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no node named \"w-a-9\" in the cluster"),
        "{err}"
    );
    assert!(err.contains("did you mean \"w-a-1\"?"), "{err}");
    assert!(err.contains("bad.yaml:10:"), "{err}");
    assert!(err.contains("invalid taint effect: Sometimes"), "{err}");
}

#[test]
fn runs_with_drains_are_deterministic() {
    let s = scenario(
        &[("a", 4, "")],
        &zookeeper(3, "maxUnavailable: 1"),
        &[
            ("2m", "drain w-a-1 --ignore-daemonsets --force"),
            ("2m1s", "drain w-a-2 --ignore-daemonsets --force"),
            ("5m", "uncordon -l topology.kubernetes.io/zone=a"),
        ],
    );
    let (_, a) = crate::harness::run_with_trace(&s, 7);
    let (_, b) = crate::harness::run_with_trace(&s, 7);
    assert_eq!(a, b);
}
