//! SLO verdicts of the bundled failure scenarios: the numbers their headers promise, the
//! table `stsim run` prints, and exit code 1 for a missed SLO.

use crate::harness::{bundled, repo_path, run};
use std::process::Command;

fn verdicts(name: &str) -> Vec<(String, String, bool)> {
    let r = run(&bundled(name));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(
        r.exit_code(),
        if r.slos.iter().all(|s| s.met) { 0 } else { 1 }
    );
    r.slos
        .into_iter()
        .map(|v| (v.name, v.value, v.met))
        .collect()
}

fn row(name: &str, value: &str, met: bool) -> (String, String, bool) {
    (name.into(), value.into(), met)
}

#[test]
fn az_outage_keeps_pods_in_budget_but_not_redundancy() {
    assert_eq!(
        verdicts("az-outage"),
        [
            row("etcd-pods", "77.986%", true),
            row("etcd-redundancy", "33.957%", false),
            row("recovery", "1h0m1.733s", true),
            row("etcd-writes", "100%", true),
            row("etcd-quorum-loss", "no occurrence", true),
            row("write-recovery", "0s", true),
        ]
    );
}

#[test]
fn node_crash_never_recovers() {
    assert_eq!(
        verdicts("node-crash"),
        [
            row("etcd-pods", "72.93%", true),
            row("etcd-0", "18.789%", false),
            row("recovery", "not finished", false),
            row("etcd-writes", "99.898%", true),
            row("etcd-quorum-loss", "1.827s", true),
            row("write-recovery", "1.827s", true),
        ]
    );
}

#[test]
fn stsim_run_prints_the_verdict_table_and_exits_1_on_a_missed_slo() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_stsim"))
        .args(["run", "scenarios/node-crash.yaml", "--quiet", "--out"])
        .arg(dir.path().join("o"))
        .current_dir(repo_path(""))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("SLOs: 4 of 6 met"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("etcd-0"))
        .unwrap();
    assert!(
        line.contains("pod default/etcd-0") && line.ends_with("MISSED"),
        "{line}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/result.json")).unwrap())
            .unwrap();
    assert_eq!(json["slos"][0]["name"], "etcd-pods");
    assert_eq!(json["slos"][0]["met"], true);
    let left = json["slos"][0]["errorBudgetLeft"].as_f64().unwrap();
    assert!((0.81..0.82).contains(&left), "{left}");
    assert_eq!(json["slis"]["faultsNotRecovered"], 1);

    let report = std::fs::read_to_string(dir.path().join("o/report.md")).unwrap();
    for needle in [
        "**4 of 6 SLOs met — exit code 1.**",
        "| default/etcd | quorum | +00:00:15.122 | 99.898% | 99.898% | 99.898% | 1 | 0 |",
        "- default/etcd quorum lost: +00:05:00.000 → +00:05:01.826 (1.827s)",
        "1. **nodeCrash node=worker-zone-c-1** at +00:05:00.000",
        "worst: default/etcd at 2/3 Ready",
        "**not recovered** by the end of the run (25m0s after the fault began)",
        "| default/etcd | +00:00:14.550 | 72.93% | 18.789% | 0: 18.789%, 1: 100%, 2: 100% |",
    ] {
        assert!(report.contains(needle), "{needle:?} missing in\n{report}");
    }
    // metrics.csv: the set's levels at each change; the last one is etcd-0 lost.
    let csv = std::fs::read_to_string(dir.path().join("o/metrics.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "t_ms,namespace,statefulset,desired,available,full_redundancy"
    );
    assert_eq!(rows[1], "0.000000,default,etcd,3,0,0");
    assert_eq!(*rows.last().unwrap(), "350010.000000,default,etcd,3,2,0");
    // app-metrics.csv: the app's status at each change; the last two are the leader's
    // crash and the next election.
    let csv = std::fs::read_to_string(dir.path().join("o/app-metrics.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        &rows[rows.len() - 2..],
        [
            "300000.000000,default,etcd,,1,0,2,3,0,600,0,2400",
            "301826.656745,default,etcd,etcd-1,2,1,2,3,600,600,2400,2400"
        ]
    );
}

/// The verdicts without the exit-code check (network-partition exits 3 on its findings).
fn slo_rows(name: &str) -> Vec<(String, String, bool)> {
    run(&bundled(name))
        .slos
        .into_iter()
        .map(|v| (v.name, v.value, v.met))
        .collect()
}

#[test]
fn node_crash_variants_lose_one_election_and_differ_in_redundancy() {
    for (name, redundancy) in [
        ("node-crash-force-delete", "75.232%"),
        ("node-crash-out-of-service", "94.276%"),
    ] {
        assert_eq!(
            verdicts(name),
            [
                row("etcd-writes", "99.898%", true),
                row("etcd-quorum-loss", "1.827s", true),
                row("write-recovery", "1.827s", true),
                row("etcd-redundancy", redundancy, true),
            ],
            "{name}"
        );
    }
}

#[test]
fn a_control_plane_partition_is_invisible_to_etcd_clients() {
    assert_eq!(
        slo_rows("network-partition"),
        [
            row("etcd-writes", "100%", true),
            row("etcd-quorum-loss", "no occurrence", true),
            row("write-recovery", "0s", true),
            row("etcd-redundancy", "81.462%", true),
        ]
    );
}

#[test]
fn zookeeper_drains_cost_an_election_each() {
    assert_eq!(
        verdicts("zookeeper-drain"),
        [
            row("zk-writes", "99.657%", false),
            row("zk-reads", "100%", true),
            row("zk-elections", "3", false),
        ]
    );
}

#[test]
fn primary_failover_loses_the_split_brain_writes() {
    assert_eq!(
        verdicts("primary-failover"),
        [
            row("pg-writes", "98.785%", false),
            row("pg-reads", "100%", true),
            row("no-data-loss", "300302", false),
            row("failovers", "1", true),
            row("write-recovery", "32.506s", true),
            row("replica-lag", "18.022s", false),
        ]
    );
}

#[test]
fn storage_faults_hit_capacity_or_the_whole_app() {
    assert_eq!(
        verdicts("pv-bind-failure"),
        [
            row("db-writes", "100%", true),
            row("db-reads", "100%", true),
            row("scale-up-pods", "19m6.794s", false),
            row("claim-binding", "18m57.634s", false),
        ]
    );
    assert_eq!(
        verdicts("immediate-binding-conflict"),
        [
            row("cache-writes", "0%", false),
            row("cache-reads", "0%", false),
            row("cache-pods", "33.131%", false),
        ]
    );
}

#[test]
fn bad_rollouts_spare_the_web_clients() {
    for (name, pods, rollout) in [
        ("forced-rollback", "86.449%", "6m2.478s"),
        ("partitioned-rollout", "99.718%", "6m5.853s"),
    ] {
        assert_eq!(
            verdicts(name),
            [
                row("web-requests", "100%", true),
                row("web-pods", pods, false),
                row("rollout", rollout, false),
            ],
            "{name}"
        );
    }
}

#[test]
fn an_attach_storm_misses_its_attach_latency_objective() {
    assert_eq!(
        verdicts("attach-storm"),
        [
            row("attach-p99", "30.834s", false),
            row("pods-started", "42.3s", true),
        ]
    );
}
