//! Behaviour of the kubelets end to end: API objects in, status writes and Events out,
//! with fixed latencies so every time can be stated exactly.

use super::testkit::*;
use crate::api::pod::{Probe, phase};
use crate::api::{Node, ObjectKey, Pod};
use crate::apiserver::Verb;
use crate::scenario::ImageBehavior;
use crate::time::SimTime;

const NODE: &str = "worker-zone-a-1";
/// When the kubelet sees a pod created at t = 0 (the watch delay).
const SEEN: SimTime = SimTime(10_000_000);

fn t(d: crate::time::SimDuration) -> SimTime {
    SEEN + d
}

fn texts(evs: &[Ev]) -> Vec<(SimTime, &str, &str)> {
    evs.iter()
        .map(|e| (e.at, e.reason.as_str(), e.message.as_str()))
        .collect()
}

fn waiting_reason(p: &Pod) -> Option<String> {
    p.status.container_statuses[0]
        .state
        .waiting
        .as_ref()
        .map(|w| w.reason.clone())
}

#[test]
fn registration_writes_a_ready_node_with_allocatable() {
    let w = World::new(&[NODE], vec![], fixed_timing());
    let node = w
        .api
        .get::<Node>(&ObjectKey::cluster(NODE))
        .expect("registered");
    assert!(node.is_ready());
    let ready = node
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.reason, "KubeletReady");
    assert_eq!(ready.message, "kubelet is posting ready status");
    let types: Vec<(&str, &str)> = node
        .status
        .conditions
        .iter()
        .map(|c| (c.type_.as_str(), c.status.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("MemoryPressure", "False"),
            ("DiskPressure", "False"),
            ("PIDPressure", "False"),
            ("Ready", "True")
        ]
    );
    assert_eq!(node.allocatable_milli("cpu"), 4000);
    assert_eq!(node.status.allocatable, node.status.capacity);
    assert_eq!(node.zone(), "zone-a");
    assert_eq!(node.metadata.labels["kubernetes.io/hostname"], NODE);
    assert_eq!(node.metadata.labels["disktype"], "ssd");
}

#[test]
fn healthy_pod_goes_pending_running_ready_with_upstream_events() {
    let mut w = World::new(&[NODE], vec![], fixed_timing());
    w.create_pod(pod("web-0", NODE, vec![container("redis", "redis:7.2")]));
    w.run_for(secs(60));

    let size = super::images::image_size_bytes("redis:7.2");
    let pulled = format!(
        "Successfully pulled image \"redis:7.2\" in 2s (2s including waiting). Image size: {size} bytes."
    );
    assert_eq!(
        texts(&w.events("web-0")),
        [
            (SEEN, "Pulling", "Pulling image \"redis:7.2\""),
            (t(secs(2)), "Pulled", pulled.as_str()),
            (t(secs(2)), "Created", "Container created"),
            (t(secs(2) + ms(500)), "Started", "Container started"),
        ]
    );

    let writes = w.status_writes("web-0");
    let (first_at, first) = &writes[0];
    assert_eq!(*first_at, SEEN);
    assert_eq!(first.status.phase, phase::PENDING);
    assert_eq!(waiting_reason(first).as_deref(), Some("ContainerCreating"));
    assert_eq!(first.status.pod_ip, "10.244.0.2");
    assert!(!first.status.host_ip.is_empty());
    assert!(first.status.start_time.is_some());
    let cond = |p: &Pod, t: &str| {
        let c = p.condition(t).unwrap_or_else(|| panic!("{t}"));
        (c.status.clone(), c.reason.clone(), c.message.clone())
    };
    assert_eq!(cond(first, "PodScheduled").0, "True");
    assert_eq!(cond(first, "PodReadyToStartContainers").0, "True");
    assert_eq!(cond(first, "Initialized").0, "True");
    let not_ready = (
        "False".to_string(),
        "ContainersNotReady".to_string(),
        "containers with unready status: [redis]".to_string(),
    );
    assert_eq!(cond(first, "Ready"), not_ready);
    assert_eq!(cond(first, "ContainersReady"), not_ready);

    let phases: Vec<&str> = writes
        .iter()
        .map(|(_, p)| p.status.phase.as_str())
        .collect();
    assert_eq!(phases, [phase::PENDING, phase::RUNNING]);
    let (running_at, running) = &writes[1];
    assert_eq!(*running_at, t(secs(2) + ms(500)));
    assert!(running.is_ready(), "no readiness probe: ready once running");
    assert_eq!(w.ready_at("web-0"), Some(t(secs(2) + ms(500))));
}

#[test]
fn readiness_probe_passes_at_the_first_tick_after_the_initial_delay() {
    // A slow pull, so the container starts 8.5 s after the probe worker (the sandbox):
    // ticks at +10 s (1.5 s after start: too early) and +20 s (11.5 s: counts).
    let images = vec![image("slow:1", secs(8), ImageBehavior::Healthy, ms(500))];
    let mut w = World::new(&[NODE], images, fixed_timing());
    let mut c = container("app", "slow:1");
    c.readiness_probe = Some(Probe {
        http_get: Some(serde_json::json!({ "path": "/healthz", "port": 8080 })),
        initial_delay_seconds: Some(5),
        period_seconds: Some(10),
        ..Default::default()
    });
    w.create_pod(pod("p", NODE, vec![c]));
    w.run_for(secs(60));

    let started = w.events_with("p", "Started")[0].at;
    assert_eq!(started, t(secs(8) + ms(500)));
    let worker_start = SEEN;
    let first_tick = (1..)
        .map(|k| worker_start + secs(10 * k))
        .find(|tick| tick.saturating_since(started).as_secs() >= 5)
        .unwrap();
    assert_eq!(first_tick, t(secs(20)));
    assert_eq!(w.ready_at("p"), Some(first_tick));
    assert!(w.events_with("p", "Unhealthy").is_empty());
}

/// With a 150 s initial delay, resyncs (every 60–90 s) find the status unchanged before
/// the probe passes; the probe result alone must still get the Ready status written
/// (`status_memo.rs` keeps the probe results among the inputs it compares).
#[test]
fn a_probe_passing_after_quiet_resyncs_still_makes_the_pod_ready() {
    let images = vec![image("slow:1", secs(8), ImageBehavior::Healthy, ms(500))];
    let mut w = World::new(&[NODE], images, fixed_timing());
    let mut c = container("app", "slow:1");
    c.readiness_probe = Some(Probe {
        http_get: Some(serde_json::json!({ "path": "/healthz", "port": 8080 })),
        initial_delay_seconds: Some(150),
        period_seconds: Some(10),
        ..Default::default()
    });
    w.create_pod(pod("p", NODE, vec![c]));
    w.run_for(secs(400));
    // Started at 8.5 s; ticks every 10 s from SEEN; the first at least 150 s after the
    // start is SEEN + 160 s.
    assert_eq!(w.ready_at("p"), Some(t(secs(160))));
}

#[test]
fn readiness_probe_without_initial_delay_passes_when_the_container_starts() {
    // `UpdatePodStatus` triggers the readiness worker at once when a started container is
    // not ready yet, so a probe with no initial delay does not wait for its ticker.
    let mut w = World::new(&[NODE], vec![], fixed_timing());
    let mut c = container("app", "app:1");
    c.readiness_probe = Some(Probe {
        tcp_socket: Some(serde_json::json!({ "port": 80 })),
        ..Default::default()
    });
    w.create_pod(pod("p", NODE, vec![c]));
    w.run_for(secs(30));
    assert_eq!(w.ready_at("p"), Some(t(secs(2) + ms(500))));
}

#[test]
fn never_ready_image_runs_but_never_becomes_ready() {
    let images = vec![image("bad:1", secs(2), ImageBehavior::NeverReady, ms(500))];
    let mut w = World::new(&[NODE], images, fixed_timing());
    let mut c = container("app", "bad:1");
    c.readiness_probe = Some(Probe {
        http_get: Some(serde_json::json!({ "path": "/ready", "port": 8080 })),
        period_seconds: Some(10),
        ..Default::default()
    });
    c.liveness_probe = c.readiness_probe.clone();
    w.create_pod(pod("p", NODE, vec![c]));
    w.run_for(secs(120));

    assert_eq!(w.ready_at("p"), None);
    let p = w.pod("p").unwrap();
    assert_eq!(p.status.phase, phase::RUNNING);
    assert_eq!(
        p.status.container_statuses[0].restart_count, 0,
        "liveness passes"
    );
    let ready = p.condition("Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "ContainersNotReady")
    );
    let unhealthy = w.events_with("p", "Unhealthy");
    // The immediate probe at start, then the ticks at +10 s, +20 s, ... from the worker.
    assert!(unhealthy.len() >= 11, "{}", unhealthy.len());
    assert_eq!(unhealthy[0].at, t(secs(2) + ms(500)));
    assert_eq!(unhealthy[1].at, t(secs(10)));
    for e in &unhealthy {
        assert_eq!(e.type_, "Warning");
        assert_eq!(
            e.message,
            "Readiness probe failed: HTTP probe failed with statuscode: 503"
        );
    }
}

#[test]
fn crash_loop_restarts_with_doubling_back_off() {
    let images = vec![image("crash:1", secs(2), ImageBehavior::CrashLoop, ms(500))];
    let mut w = World::new(&[NODE], images, fixed_timing());
    w.create_pod(pod("c", NODE, vec![container("app", "crash:1")]));
    w.run_for(secs(200));

    let started: Vec<SimTime> = w.events_with("c", "Started").iter().map(|e| e.at).collect();
    let created: Vec<SimTime> = w.events_with("c", "Created").iter().map(|e| e.at).collect();
    assert!(started.len() >= 5, "{started:?}");
    // Each instance exits 1 s after it starts; the restart (Created) comes after the
    // back-off measured from that exit. The first restart is immediate: the back-off entry
    // is only created by the first restart (`doBackOff` → `backOff.Next`).
    let delays: Vec<u64> = started
        .iter()
        .zip(&created[1..])
        .map(|(s, c)| c.saturating_since(*s + secs(1)).as_secs())
        .collect();
    assert_eq!(&delays[..4], [0, 10, 20, 40]);

    let uid = w.pod("c").unwrap().metadata.uid.clone();
    let back_off = w.events_with("c", "BackOff");
    assert!(!back_off.is_empty());
    assert_eq!(back_off[0].type_, "Warning");
    assert_eq!(
        back_off[0].message,
        format!("Back-off restarting failed container app in pod c_default({uid})")
    );
    // Restarts are pulled from the node's cache.
    let pulled = w.events_with("c", "Pulled");
    assert!(pulled[1].message.contains("already present on machine"));

    // While held back the container waits in CrashLoopBackOff; the pod stays Running.
    let writes = w.status_writes("c");
    let held = writes
        .iter()
        .find(|(_, p)| waiting_reason(p).as_deref() == Some("CrashLoopBackOff"))
        .expect("a CrashLoopBackOff status");
    assert_eq!(held.1.status.phase, phase::RUNNING);
    let msg = &held.1.status.container_statuses[0]
        .state
        .waiting
        .as_ref()
        .unwrap()
        .message;
    assert_eq!(
        *msg,
        format!("back-off 10s restarting failed container=app pod=c_default({uid})")
    );
    let last = w.pod("c").unwrap();
    assert_eq!(
        last.status.container_statuses[0].restart_count as usize,
        started.len() - 1
    );
}

#[test]
fn pull_error_backs_off_10_20_40_seconds() {
    let images = vec![image("nope:1", secs(2), ImageBehavior::PullError, ms(500))];
    let mut w = World::new(&[NODE], images, fixed_timing());
    w.create_pod(pod("e", NODE, vec![container("app", "nope:1")]));
    w.run_for(secs(150));

    let pulling: Vec<SimTime> = w.events_with("e", "Pulling").iter().map(|e| e.at).collect();
    assert!(pulling.len() >= 4, "{pulling:?}");
    let delays: Vec<u64> = pulling
        .windows(2)
        .map(|p| p[1].saturating_since(p[0] + secs(2)).as_secs())
        .collect();
    assert_eq!(&delays[..3], [10, 20, 40]);

    let failed = w.events_with("e", "Failed");
    let full = "docker.io/library/nope:1";
    assert_eq!(failed[0].at, t(secs(2)));
    assert_eq!(
        failed[0].message,
        format!(
            "Failed to pull image \"nope:1\": rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found"
        )
    );
    assert_eq!(failed[1].message, "Error: ErrImagePull");
    assert_eq!(failed[2].message, "Error: ImagePullBackOff");
    let back_off = w.events_with("e", "BackOff");
    assert_eq!(back_off[0].type_, "Normal");
    assert_eq!(back_off[0].message, "Back-off pulling image \"nope:1\"");
    assert_eq!(back_off[0].at, t(secs(3)), "the relist after the failure");

    let reasons: Vec<String> = w
        .status_writes("e")
        .iter()
        .filter_map(|(_, p)| waiting_reason(p))
        .collect();
    assert_eq!(
        reasons[..3],
        ["ContainerCreating", "ErrImagePull", "ImagePullBackOff"]
    );
    assert_eq!(w.pod("e").unwrap().status.phase, phase::PENDING);
}

#[test]
fn graceful_deletion_stops_at_the_image_shutdown_time() {
    let images = vec![image("redis:7.2", secs(2), ImageBehavior::Healthy, secs(3))];
    let mut w = World::new(&[NODE], images, fixed_timing());
    w.create_pod(pod("web-0", NODE, vec![container("redis", "redis:7.2")]));
    w.run_for(secs(10));
    let deleted_at = w.now;
    w.delete_pod("web-0", None); // the pod's own 30 s
    w.run_for(secs(60));

    let seen = deleted_at + ms(10);
    let killing = w.events_with("web-0", "Killing");
    assert_eq!(
        texts(&killing),
        [(seen, "Killing", "Stopping container redis")]
    );
    let writes = w.writes("web-0");
    let (gone_at, verb, removed, actor, last) = writes.last().unwrap().clone();
    assert!(removed && verb == Verb::Delete);
    assert_eq!(actor, format!("kubelet/{NODE}"));
    assert_eq!(gone_at, seen + secs(3));
    assert!(w.pod("web-0").is_none());
    // The final status, written just before the delete.
    assert_eq!(last.status.phase, phase::SUCCEEDED);
    let term = last.status.container_statuses[0]
        .state
        .terminated
        .clone()
        .unwrap();
    assert_eq!((term.exit_code, term.reason.as_str()), (0, "Completed"));
    let ready = last.condition("Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "PodCompleted")
    );
    assert_eq!(
        last.condition("PodReadyToStartContainers").unwrap().status,
        "False"
    );
}

#[test]
fn graceful_deletion_kills_at_the_grace_deadline() {
    let images = vec![image(
        "slowstop:1",
        secs(2),
        ImageBehavior::Healthy,
        secs(60),
    )];
    let mut w = World::new(&[NODE], images, fixed_timing());
    w.create_pod(pod("db-0", NODE, vec![container("db", "slowstop:1")]));
    w.run_for(secs(10));
    let deleted_at = w.now;
    w.delete_pod("db-0", Some(5));
    w.run_for(secs(60));

    let (gone_at, _, removed, _, last) = w.writes("db-0").last().unwrap().clone();
    assert!(removed);
    assert_eq!(gone_at, deleted_at + ms(10) + secs(5));
    assert_eq!(last.status.phase, phase::FAILED);
    let term = last.status.container_statuses[0]
        .state
        .terminated
        .clone()
        .unwrap();
    assert_eq!(term.exit_code, 137);
    assert_eq!(last.condition("Ready").unwrap().reason, "PodFailed");
}

#[test]
fn a_pod_that_never_started_terminates_at_once() {
    let mut w = World::new(&[NODE], vec![], fixed_timing());
    w.create_claim("data-web-0");
    w.create_pod(with_claim(
        pod("web-0", NODE, vec![container("redis", "redis:7.2")]),
        "data",
        "data-web-0",
    ));
    w.run_for(secs(5));
    let deleted_at = w.now;
    w.delete_pod("web-0", None);
    w.run_for(secs(5));

    let (gone_at, _, removed, _, last) = w.writes("web-0").last().unwrap().clone();
    assert!(removed);
    assert_eq!(gone_at, deleted_at + ms(10));
    assert!(w.events_with("web-0", "Killing").is_empty());
    assert_eq!(last.status.phase, phase::FAILED);
    let term = last.status.container_statuses[0]
        .state
        .terminated
        .clone()
        .unwrap();
    assert_eq!(
        (term.exit_code, term.reason.as_str()),
        (137, "ContainerStatusUnknown")
    );
}

#[test]
fn force_deleted_pod_is_killed_without_writes() {
    let mut w = World::new(&[NODE], vec![], fixed_timing());
    w.create_pod(pod("web-0", NODE, vec![container("redis", "redis:7.2")]));
    w.run_for(secs(10));
    let deleted_at = w.now;
    w.delete_pod("web-0", Some(0));
    assert!(w.pod("web-0").is_none(), "removed at once");
    w.run_for(secs(60));

    let killing = w.events_with("web-0", "Killing");
    assert_eq!(killing.len(), 1, "the containers are still stopped");
    assert_eq!(killing[0].at, deleted_at + ms(10));
    let late: Vec<_> = w
        .writes("web-0")
        .into_iter()
        .filter(|(at, ..)| *at > deleted_at)
        .collect();
    assert!(late.is_empty(), "no writes for a gone object: {late:?}");
}

#[test]
fn pod_waits_for_its_claim_to_be_bound() {
    let mut w = World::new(&[NODE], vec![], fixed_timing());
    w.create_claim("data-web-0");
    w.create_pod(with_claim(
        pod("web-0", NODE, vec![container("redis", "redis:7.2")]),
        "data",
        "data-web-0",
    ));
    w.run_for(secs(30));

    assert!(w.events("web-0").is_empty(), "nothing pulled while waiting");
    let p = w.pod("web-0").unwrap();
    assert_eq!(p.status.phase, phase::PENDING);
    assert_eq!(waiting_reason(&p).as_deref(), Some("ContainerCreating"));
    assert_eq!(
        p.condition("PodReadyToStartContainers").unwrap().status,
        "False"
    );
    assert_eq!(p.status.pod_ip, "");
    assert!(
        w.notes
            .iter()
            .any(|n| n.message.contains("data-web-0 not bound")),
        "{:?}",
        w.notes
    );

    let bound_at = w.now;
    w.bind_claim("data-web-0");
    w.run_for(secs(30));
    let pulling = w.events_with("web-0", "Pulling");
    assert_eq!(pulling[0].at, bound_at + ms(10));
    assert_eq!(
        w.ready_at("web-0"),
        Some(bound_at + ms(10) + secs(2) + ms(500))
    );
}

#[test]
fn second_pod_finds_the_image_already_present() {
    let mut w = World::new(&[NODE], vec![], fixed_timing());
    w.create_pod(pod("a", NODE, vec![container("redis", "redis:7.2")]));
    w.run_for(secs(10));
    let created = w.now;
    w.create_pod(pod("b", NODE, vec![container("redis", "redis:7.2")]));
    w.run_for(secs(10));

    let seen = created + ms(10);
    assert_eq!(
        texts(&w.events("b")),
        [
            (
                seen,
                "Pulled",
                "Container image \"redis:7.2\" already present on machine and can be accessed by the pod"
            ),
            (seen, "Created", "Container created"),
            (seen + ms(500), "Started", "Container started"),
        ]
    );
}

#[test]
fn pulls_on_one_node_are_serial() {
    let mut w = World::new(&[NODE], vec![], fixed_timing());
    w.create_pod(pod("a", NODE, vec![container("x", "x:1")]));
    w.create_pod(pod("b", NODE, vec![container("y", "y:1")]));
    w.run_for(secs(10));

    let size = super::images::image_size_bytes("y:1");
    let pulled = w.events_with("b", "Pulled");
    assert_eq!(pulled[0].at, t(secs(4)));
    assert_eq!(
        pulled[0].message,
        format!(
            "Successfully pulled image \"y:1\" in 2s (4s including waiting). Image size: {size} bytes."
        )
    );
}

#[test]
fn two_containers_start_one_after_another() {
    let mut w = World::new(&[NODE], vec![], fixed_timing());
    w.create_pod(pod(
        "p",
        NODE,
        vec![container("main", "main:1"), container("side", "side:1")],
    ));
    w.run_for(secs(20));
    let started: Vec<SimTime> = w.events_with("p", "Started").iter().map(|e| e.at).collect();
    // main: pull 2 s + start 0.5 s; then side: pull 2 s + start 0.5 s.
    assert_eq!(started, [t(secs(2) + ms(500)), t(secs(5))]);
    assert_eq!(w.ready_at("p"), Some(t(secs(5))));
    let first = &w.status_writes("p")[0].1;
    assert_eq!(
        first.condition("Ready").unwrap().message,
        "containers with unready status: [main side]"
    );
}

#[test]
fn runs_are_deterministic_per_seed() {
    let run = |seed| {
        let mut w = World::with_seed(&[NODE, "worker-zone-a-2"], vec![], Default::default(), seed);
        for (i, node) in [NODE, "worker-zone-a-2", NODE].iter().enumerate() {
            w.create_pod(pod(&format!("p-{i}"), node, vec![container("c", "img:1")]));
        }
        w.run_for(secs(30));
        (0..3)
            .flat_map(|i| w.events(&format!("p-{i}")))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(
        run(3),
        run(4),
        "latencies are drawn from the seeded streams"
    );
}

#[test]
fn a_shorter_second_delete_kills_sooner_but_never_under_two_seconds() {
    let images = vec![image(
        "slowstop:1",
        secs(2),
        ImageBehavior::Healthy,
        secs(60),
    )];
    let mut w = World::new(&[NODE], images, fixed_timing());
    w.create_pod(pod("db-0", NODE, vec![container("db", "slowstop:1")]));
    w.run_for(secs(10));
    w.delete_pod("db-0", None);
    w.run_for(secs(5));
    let second = w.now;
    // Grace 1 s, but `KillPod` gives containers at least 2 s.
    w.delete_pod("db-0", Some(1));
    w.run_for(secs(60));

    let (gone_at, _, removed, _, last) = w.writes("db-0").last().unwrap().clone();
    assert!(removed);
    assert_eq!(gone_at, second + ms(10) + secs(2));
    let term = last.status.container_statuses[0]
        .state
        .terminated
        .clone()
        .unwrap();
    assert_eq!(term.exit_code, 137);
    assert_eq!(w.events_with("db-0", "Killing").len(), 1);
}

#[test]
fn restart_policy_never_leaves_a_failed_pod_in_place() {
    let images = vec![image("crash:1", secs(2), ImageBehavior::CrashLoop, ms(500))];
    let mut w = World::new(&[NODE], images, fixed_timing());
    let mut p = pod("job-0", NODE, vec![container("app", "crash:1")]);
    p.spec.restart_policy = "Never".into();
    w.create_pod(p);
    w.run_for(secs(120));

    assert_eq!(w.events_with("job-0", "Started").len(), 1, "not restarted");
    let last = w.pod("job-0").expect("not deleted: nobody asked");
    assert_eq!(last.status.phase, phase::FAILED);
    let term = last.status.container_statuses[0]
        .state
        .terminated
        .clone()
        .unwrap();
    assert_eq!((term.exit_code, term.reason.as_str()), (1, "Error"));
    assert_eq!(
        w.status_writes("job-0").last().unwrap().0,
        t(secs(3) + ms(500))
    );
}
