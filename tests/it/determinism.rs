//! The determinism contract: same scenario and seed give the same trace bytes; another seed
//! gives another trace where randomness is used.

use crate::harness::{bundled, run_with_trace, trace_lines};

#[test]
fn same_seed_gives_identical_trace_bytes() {
    for name in [
        "quickstart",
        "statefulset-basics",
        "zookeeper-drain",
        "az-outage",
        "network-partition",
        "quorum-loss",
        "primary-failover",
    ] {
        let scenario = bundled(name);
        let (r1, a) = run_with_trace(&scenario, 11);
        let (r2, b) = run_with_trace(&scenario, 11);
        assert!(!a.is_empty(), "{name}: empty trace");
        assert!(
            a == b,
            "{name}: two runs with seed 11 gave different traces"
        );
        assert_eq!(r1.to_json(), r2.to_json(), "{name}: result.json differs");
    }
}

#[test]
fn another_seed_gives_another_trace() {
    // quickstart draws image pull times from a log-normal distribution.
    let scenario = bundled("quickstart");
    let (_, a) = run_with_trace(&scenario, 1);
    let (_, b) = run_with_trace(&scenario, 2);
    assert!(
        a != b,
        "seeds 1 and 2 gave the same trace although pull times are random"
    );
}

#[test]
fn trace_lines_follow_the_contract() {
    let scenario = bundled("statefulset-basics");
    let (_, bytes) = run_with_trace(&scenario, 1);
    let lines = trace_lines(&bytes);
    let mut last_t = 0;
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i as u64, "seq counts lines from 0");
        let t = l["t_us"].as_u64().expect("t_us is an integer");
        assert!(t >= last_t, "time never goes back (line {i})");
        last_t = t;
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        match l["type"].as_str().unwrap() {
            "write" => assert_eq!(
                keys,
                [
                    "seq",
                    "t_us",
                    "type",
                    "verb",
                    "kind",
                    "namespace",
                    "name",
                    "resourceVersion",
                    "removed",
                    "actor",
                    "object"
                ]
            ),
            "event" => assert_eq!(
                keys,
                [
                    "seq",
                    "t_us",
                    "type",
                    "eventType",
                    "reason",
                    "kind",
                    "namespace",
                    "name",
                    "message",
                    "count",
                    "source",
                    "object"
                ]
            ),
            "action" => assert_eq!(keys, ["seq", "t_us", "type", "command", "ok", "output"]),
            "note" => assert_eq!(keys, ["seq", "t_us", "type", "source", "object", "message"]),
            "fault" => assert_eq!(
                keys,
                ["seq", "t_us", "type", "fault", "phase", "description"]
            ),
            other => panic!("unexpected line type {other}"),
        }
    }
    let writes = lines.iter().filter(|l| l["type"] == "write").count();
    let actions = lines.iter().filter(|l| l["type"] == "action").count();
    assert!(
        writes > 50,
        "a scale up, scale down and rollout write many objects ({writes})"
    );
    assert_eq!(actions, 3);
    // resourceVersions of writes strictly increase.
    let rvs: Vec<u64> = lines
        .iter()
        .filter(|l| l["type"] == "write")
        .map(|l| l["resourceVersion"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]));
}
