//! Attach storms and the storage latency summary (issue 4, items 2 and 9): the
//! distribution of attach latency (VolumeAttachment created → attached) and pod start
//! latency a run reports in its summary and `result.json`, with nearest-rank percentiles.
//!
//! First on a small storm whose figures can be derived by hand — a fixed attach latency
//! L and a cloud that serves at most N operations at once, first in first out, so that the
//! k-th attach (in creation order) completes in round ⌈k/N⌉ — then on the bundled
//! `scenarios/attach-storm.yaml` (300 EBS volumes), whose latency must grow with the load.

use crate::harness::{bundled, repo_path, run_with_trace, trace_lines};
use crate::storage_attach::{DRIVER, Parts, Run, SECOND, pod_manifest, scenario, secs};
use serde_json::Value;
use std::collections::BTreeMap;
use stsim::report::latency::nearest_rank;
use stsim::time::SimDuration;

/// The informer delay between a VolumeAttachment's creation and the attacher's call.
const WATCH_DELAY_US: u64 = 10_000;

/// `k` pods, each with its own claim pre-bound to a static volume (so that every
/// VolumeAttachment is created in the attach/detach controller's first pass), spread over
/// four nodes; the driver attaches in exactly `attach` seconds and its cloud serves at most
/// `concurrency` operations at once.
fn small_storm(k: usize, attach: u64, concurrency: u32) -> stsim::scenario::Scenario {
    let mut manifests = String::new();
    for i in 0..k {
        manifests.push_str(&format!(
            "    - apiVersion: v1
      kind: PersistentVolume
      metadata: {{ name: pv-{i} }}
      spec:
        capacity: {{ storage: 1Gi }}
        accessModes: [ ReadWriteOnce ]
        storageClassName: disk
        claimRef: {{ namespace: default, name: data-{i} }}
        csi: {{ driver: {DRIVER}, volumeHandle: vol-{i} }}
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata: {{ name: data-{i} }}
      spec: {{ accessModes: [ReadWriteOnce], storageClassName: disk, volumeName: pv-{i}, resources: {{ requests: {{ storage: 1Gi }} }} }}
"
        ));
        manifests.push_str(&pod_manifest(
            &format!("p{i}"),
            &format!("w-a-{}", 1 + i % 4),
            &format!("data-{i}"),
            "db",
        ));
    }
    scenario(Parts {
        driver: format!(
            "        attachTime: {attach}s\n        attachWorkers: 100\n        cloudAttachConcurrency: {concurrency}\n        maxVolumesPerNode: 64\n"
        ),
        manifests,
        nodes: 4,
        ..Default::default()
    })
}

/// Attach latency (µs) of every VolumeAttachment in the trace, in creation order.
fn attach_latencies_in_creation_order(lines: &[Value]) -> Vec<u64> {
    let mut created: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    let mut out: Vec<(usize, u64)> = Vec::new();
    for l in lines {
        if l["type"] != "write" || l["kind"] != "VolumeAttachment" {
            continue;
        }
        let uid = l["object"]["metadata"]["uid"].as_str().unwrap().to_string();
        let t = l["t_us"].as_u64().unwrap();
        if l["verb"] == "create" {
            let n = created.len() + out.len();
            created.insert(uid, (n, t));
        } else if l["object"]["status"]["attached"] == true
            && let Some((n, c)) = created.remove(&uid)
        {
            out.push((n, t - c));
        }
    }
    assert!(created.is_empty(), "every attachment attached");
    out.sort();
    out.into_iter().map(|(_, d)| d).collect()
}

fn us(d: SimDuration) -> u64 {
    d.as_nanos() / 1_000
}

#[test]
fn a_throttled_cloud_serves_attaches_in_rounds_of_its_concurrency() {
    // 20 attaches of exactly 2 s, at most 5 at once: rounds of 5, ending at 2, 4, 6, 8 s.
    let (k, l, n) = (20usize, 2u64, 5u32);
    let s = small_storm(k, l, n);
    let (result, trace) = run_with_trace(&s, s.seed);
    let lines = trace_lines(&trace);
    let lat = attach_latencies_in_creation_order(&lines);
    let round = |k: usize| k.div_ceil(n as usize) as u64;
    let expected: Vec<u64> = (1..=k)
        .map(|i| WATCH_DELAY_US + round(i) * l * SECOND)
        .collect();
    assert_eq!(lat, expected, "the k-th attach completes in round ⌈k/N⌉");
    // Every VolumeAttachment was created in one pass, at the same instant.
    let creates: Vec<u64> = lines
        .iter()
        .filter(|l| l["kind"] == "VolumeAttachment" && l["verb"] == "create")
        .map(|l| l["t_us"].as_u64().unwrap())
        .collect();
    assert_eq!(creates.len(), k);
    assert!(creates.iter().all(|t| *t == creates[0]));

    // The summary's distribution: nearest rank ⌈p·20/100⌉ of the sorted latencies.
    let d = &result
        .storage_latency
        .as_ref()
        .expect("the run attached")
        .attach;
    assert_eq!((d.count(), d.unfinished), (k, 0));
    let p = |q: u32| us(d.percentile(q).unwrap());
    // p10: rank 2, round 1; p50: rank 10, round 2; p90: rank 18, round 4; p99: rank 20.
    assert_eq!(p(10), 2_010_000);
    assert_eq!(p(50), 4_010_000);
    assert_eq!(p(90), 8_010_000);
    assert_eq!(p(99), 8_010_000);
    assert_eq!(us(d.min().unwrap()), 2_010_000);
    assert_eq!(us(d.max().unwrap()), 8_010_000);
    for q in [10, 50, 90, 99] {
        let rank = (q as usize * k).div_ceil(100);
        assert_eq!(p(q), expected[rank - 1], "p{q}");
    }
    // What the user reads: the summary block and result.json.
    let summary = stsim::report::summary::render(&result, None);
    assert!(
        summary.contains(
            "    attach (VolumeAttachment created → attached): 20 samples: min 2.01s, p10 2.01s, p50 4.01s, p90 8.01s, p99 8.01s, max 8.01s\n"
        ),
        "{summary}"
    );
    let json: Value = serde_json::from_str(&result.to_json()).unwrap();
    let a = &json["storageLatency"]["attach"];
    assert_eq!(json["storageLatency"]["percentileMethod"], "nearest-rank");
    assert_eq!(a["count"], 20);
    assert_eq!(a["p50Ms"], 4010.0);
    assert_eq!(a["p90Ms"], 8010.0);
    assert_eq!(a["maxMs"], 8010.0);
    // Every pod started; its start waits for its attach.
    let ps = &result.storage_latency.as_ref().unwrap().pod_start;
    assert_eq!((ps.count(), ps.unfinished), (k, 0));
    assert!(ps.min().unwrap() > d.min().unwrap());
    assert!(ps.max().unwrap() > d.max().unwrap());
}

#[test]
fn an_unthrottled_cloud_attaches_everything_in_one_round() {
    // The same storm with room for every operation at once: all in the first round.
    let s = small_storm(20, 2, 20);
    let (result, _) = run_with_trace(&s, s.seed);
    let d = &result.storage_latency.as_ref().unwrap().attach;
    assert_eq!(us(d.min().unwrap()), 2_010_000);
    assert_eq!(us(d.max().unwrap()), 2_010_000);
}

#[test]
fn runs_without_attachments_report_no_storage_latency() {
    // The quick start's claims use the `instant` class: nothing to attach.
    let (result, _) = run_with_trace(&bundled("quickstart"), 1);
    assert!(result.storage_latency.is_none());
    assert!(!result.to_json().contains("storageLatency"));
    assert!(!stsim::report::summary::render(&result, None).contains("storage latency"));
}

#[test]
fn attaches_that_never_complete_are_counted_as_unfinished() {
    // Attaches fail for the whole run: no sample, one unfinished attachment and pod.
    let s = crate::storage_attach::one_pod(
        "",
        "",
        &format!(
            "    - {{ at: 0s, duration: 10m, attachFailure: {{ driver: {DRIVER}, ratio: 1.0 }} }}\n"
        ),
        "db",
    );
    let mut r = Run::start(&s);
    r.until(secs(300));
    let result = r.sim.into_result();
    let l = result.storage_latency.unwrap();
    assert_eq!((l.attach.count(), l.attach.unfinished), (0, 1));
    assert_eq!((l.pod_start.count(), l.pod_start.unfinished), (0, 1));
    assert_eq!(
        l.render(),
        "  storage latency (nearest-rank percentiles):\n    attach (VolumeAttachment created → attached): 0 samples; 1 unfinished at the end\n    pod start (pod with claims created → running): 0 samples; 1 unfinished at the end\n"
    );
}

/// The bundled storm's text with its load changed.
fn storm_text() -> String {
    std::fs::read_to_string(repo_path("scenarios/attach-storm.yaml")).unwrap()
}

fn load_text(text: &str) -> stsim::scenario::Scenario {
    stsim::scenario::load_str(text, &repo_path("scenarios/attach-storm-variant.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_bundled_attach_storm_shows_latency_climbing_with_load() {
    let s = bundled("attach-storm");
    let (result, trace) = run_with_trace(&s, s.seed);
    assert!(result.findings.is_empty(), "{:?}", result.findings);
    assert_eq!(result.counts.warnings, 0);
    assert!(result.final_state.pods.iter().all(|p| p.ready));
    assert_eq!(result.final_state.pods.len(), 300);
    let lines = trace_lines(&trace);
    let lat = attach_latencies_in_creation_order(&lines);
    assert_eq!(lat.len(), 300);
    let l = result.storage_latency.as_ref().unwrap();
    assert_eq!((l.attach.count(), l.attach.unfinished), (300, 0));
    assert_eq!((l.pod_start.count(), l.pod_start.unfinished), (300, 0));
    // The summary's percentiles are the trace's samples at their nearest rank.
    let mut sorted: Vec<SimDuration> = lat
        .iter()
        .map(|&u| SimDuration::from_micros_u64(u))
        .collect();
    sorted.sort();
    for p in [10, 50, 90, 99] {
        assert_eq!(
            l.attach.percentile(p).unwrap(),
            nearest_rank(&sorted, p),
            "p{p}"
        );
    }
    // The figures the scenario's header states (rounded to 0.1 s).
    let tenth = |d: SimDuration| (d.as_nanos() + 50_000_000) / 100_000_000;
    let a = &l.attach;
    assert_eq!(
        [
            tenth(a.min().unwrap()),
            tenth(a.percentile(10).unwrap()),
            tenth(a.percentile(50).unwrap()),
            tenth(a.percentile(90).unwrap()),
            tenth(a.percentile(99).unwrap()),
            tenth(a.max().unwrap()),
        ],
        [10, 61, 159, 258, 308, 316]
    );
    let ps = &l.pod_start;
    assert_eq!(
        [
            tenth(ps.percentile(10).unwrap()),
            tenth(ps.percentile(50).unwrap()),
            tenth(ps.percentile(90).unwrap()),
            tenth(ps.max().unwrap()),
        ],
        [142, 229, 351, 423]
    );

    // Latency grows with load. The cloud serves 20 operations at once, FIFO: the first
    // twenty attachments created wait for nobody, the last twenty for 14 rounds.
    let mean = |v: &[u64]| v.iter().sum::<u64>() / v.len() as u64;
    assert!(mean(&lat[..20]) < 4 * SECOND, "{}", mean(&lat[..20]));
    assert!(mean(&lat[280..]) > 20 * SECOND, "{}", mean(&lat[280..]));
    // One volume on an idle cloud, and 30 (one per tenant): the same profile and seed.
    let text = storm_text();
    let thirty = load_text(&text.replace("replicas: 10", "replicas: 1"));
    let one_tenant: String = text
        .lines()
        .filter(|l| !l.contains("namespace: tenant-") || l.contains("tenant-01"))
        .map(|l| format!("{l}\n"))
        .collect();
    let one = load_text(&one_tenant.replace("replicas: 10", "replicas: 1"));
    let p50 = |s: &stsim::scenario::Scenario| {
        let (r, _) = run_with_trace(s, s.seed);
        let a = r.storage_latency.unwrap().attach;
        assert_eq!(a.unfinished, 0);
        (a.count(), a.percentile(50).unwrap())
    };
    let (n1, single) = p50(&one);
    let (n30, p50_30) = p50(&thirty);
    assert_eq!((n1, n30), (1, 30));
    let p50_300 = a.percentile(50).unwrap();
    assert!(
        p50_300 > single.saturating_mul(2) && p50_300 > p50_30.saturating_mul(2),
        "p50: 1 volume {single}, 30 volumes {p50_30}, 300 volumes {p50_300}"
    );
    // Bounded: no call reached the external-attacher's 60 s timeout, none failed; 300
    // operations through 20 slots are 15 rounds of about 2 s each.
    assert!(a.max().unwrap() < SimDuration::from_secs(60));
    assert!(
        !lines
            .iter()
            .any(|l| l["type"] == "event" && l["reason"] == "FailedAttachVolume")
    );
    assert!(a.max().unwrap() > SimDuration::from_secs(14 * 2));
}
