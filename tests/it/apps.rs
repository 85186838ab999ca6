//! Applications in the pods (`spec.apps`, the quorum model): elections and step-downs
//! at etcd's timings, what each zone's clients get through partitions, exact write
//! availability, a member rebuilt from an empty volume, and the bundled quorum-loss
//! scenario's verdict.

use crate::harness::{bundled, repo_path, run};
use std::path::Path;
use stsim::report::timeline::TimelineLine;
use stsim::scenario::{self, Scenario};
use stsim::sim::RunResult;
use stsim::time::{SimDuration, SimTime};

/// node-crash.yaml's cluster and 3-member etcd (etcd-0 on zone-c, etcd-1 on zone-b,
/// etcd-2 on zone-a), without its fault, actions and SLOs, running `apps` and `rest`.
fn etcd(apps: &str, rest: &str) -> Scenario {
    let base = std::fs::read_to_string(repo_path("scenarios/node-crash.yaml")).unwrap();
    let cut = base.find("  faults:").expect("node-crash has faults");
    let text = format!("{}{apps}{rest}", &base[..cut]);
    scenario::load_str(&text, Path::new("apps-test.yaml"))
        .unwrap_or_else(|e| panic!("the test scenario loads:\n{e}"))
}

const QUORUM: &str = "  apps:
    - statefulSet: etcd
      model: quorum
      clients:
        - { zone: zone-a, writesPerSecond: 100 }
        - { zone: zone-b, writesPerSecond: 100 }
        - { zone: zone-c, writesPerSecond: 100 }
";

/// `secs` seconds into the run.
fn t(secs: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(secs)
}

fn app_notes(r: &RunResult) -> Vec<&TimelineLine> {
    r.timeline
        .iter()
        .filter(|l| l.type_ == "Note" && l.object == "app default/etcd")
        .collect()
}

fn first_note<'a>(r: &'a RunResult, after: SimTime, text: &str) -> &'a TimelineLine {
    app_notes(r)
        .into_iter()
        .find(|l| l.at >= after && l.message.contains(text))
        .unwrap_or_else(|| panic!("no note {text:?} after {after}"))
}

#[test]
fn a_leader_crash_elects_another_within_one_to_two_election_timeouts() {
    let s = etcd(
        QUORUM,
        "  faults:\n    - { at: 5m, nodeCrash: { node: worker-zone-c-1 } }\n",
    );
    let r = run(&s);
    let lost = first_note(&r, t(300), "etcd-0 is no longer the leader");
    assert_eq!(lost.at, t(300), "the leader's process died with its node");
    let new = first_note(&r, t(300), "is the leader (term 2)");
    let waited = new.at.saturating_since(t(300));
    assert!(
        waited >= SimDuration::from_secs(1) && waited < SimDuration::from_secs(2),
        "election after {waited}: etcd's randomised timeout is in [1s, 2s)"
    );
    let app = &r.slis.apps[0];
    assert_eq!(app.leader_elections, 1, "one election after the warm-up");
    assert_eq!(app.quorum_lost.len(), 1);
    assert_eq!(app.quorum_lost[0].from, t(300));
    assert_eq!(app.quorum_lost[0].to, Some(new.at));
}

#[test]
fn an_isolated_leader_steps_down_and_its_zone_loses_writes_exactly_while_cut_off() {
    let s = etcd(
        QUORUM,
        "  faults:\n    - { at: 5m, duration: 10m, netPartition: { isolate: zone-c } }\n",
    );
    let r = run(&s);
    // CheckQuorum: the leader steps down one election timeout after losing its majority.
    let down = first_note(&r, t(300), "etcd-0 is no longer the leader");
    assert_eq!(down.at, t(301));
    let new = first_note(&r, t(300), "is the leader (term 2)");
    assert!(new.message.starts_with("etcd-1") || new.message.starts_with("etcd-2"));
    assert!(new.at >= t(301) && new.at < t(302), "{}", new.at);
    // Zone c's clients reach only etcd-0, cut off with them, until the partition heals;
    // after it, etcd-0 follows the new leader and serves them again.
    let healed = first_note(&r, t(900), "writes and reads succeed for clients in zone-c");
    assert_eq!(healed.at, t(900));
    assert!(
        !app_notes(&r)
            .iter()
            .any(|l| l.at > t(900) && l.message.contains("is the leader")),
        "PreVote: the rejoining member does not disturb the leader"
    );
    // Write availability is the exact rate-weighted area: zones a and b (200/s) lack
    // writes from 5m until the new leader, zone c (100/s) for the whole 10 minutes.
    let app = &r.slis.apps[0];
    let end = t(1800);
    let ns = |d: SimDuration| i128::from(d.as_nanos());
    let measured = ns(end.saturating_since(app.measured_from));
    assert_eq!(app.writes_area, 300 * measured);
    let lost = 200 * ns(new.at.saturating_since(t(300))) + 100 * ns(SimDuration::from_secs(600));
    assert_eq!(app.writes_ok_area, 300 * measured - lost);
    // The quorum itself was back with the new leader.
    assert_eq!(app.quorum_lost.len(), 1);
    assert_eq!(app.quorum_lost[0].to, Some(new.at));
}

#[test]
fn a_member_on_a_new_empty_volume_counts_only_after_receiving_the_data_set() {
    let apps = "  apps:
    - statefulSet: etcd
      model: quorum
      quorum: { dataSize: 512Mi, snapshotTransferRate: 64Mi }
";
    let s = etcd(
        apps,
        "  actions:\n    - { at: 5m, kubectl: delete pvc data-etcd-2 }\n    - { at: 5m, kubectl: delete pod etcd-2 }\n",
    );
    let r = run(&s);
    let empty = first_note(&r, t(300), "etcd-2 started on an empty volume");
    let caught = first_note(&r, t(300), "etcd-2 has caught up");
    // 512 MiB at 64 MiB/s: 8 s, from the moment a leader starts sending.
    assert_eq!(
        caught.at.saturating_since(empty.at),
        SimDuration::from_secs(8)
    );
    // Two current members of three keep the quorum throughout.
    assert!(r.slis.apps[0].quorum_lost.is_empty());
}

#[test]
fn quorum_loss_scenario_verdict() {
    let r = run(&bundled("quorum-loss"));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    let app = &r.slis.apps[0];
    assert_eq!(app.quorum_lost.len(), 1);
    let lost = app.quorum_lost[0];
    assert_eq!(lost.from, t(360), "the crash leaves 2 of 5 members");
    let verdicts: Vec<(String, String, bool)> = r
        .slos
        .iter()
        .map(|v| (v.name.clone(), v.value.clone(), v.met))
        .collect();
    let row = |n: &str, v: &str, m: bool| (n.to_string(), v.to_string(), m);
    assert_eq!(
        verdicts,
        [
            row("etcd-quorum", "79.695%", false),
            row("etcd-writes", "79.695%", true),
            row("longest-quorum-loss", "6m2.358s", false),
            row("elections", "1", true),
            row("write-recovery", "6m2.358s", false),
        ]
    );
    assert_eq!(r.exit_code(), 1);
}

/// How far (ns) a replica's replay trails the primary in primary-failover.yaml: 1.4 ms
/// across zones, `applyDelay` 200 ms, and the replay queue's M/M/1 sojourn at 1,500
/// writes/s against the default 20,000/s replay rate, 10⁹ / 18,500 ns.
const REPLAY_BEHIND: i128 = 1_400_000 + 200_000_000 + 1_000_000_000 / 18_500;

/// primary-failover.yaml with its `fencing` setting replaced.
fn primary_failover(fencing: bool) -> RunResult {
    let text = std::fs::read_to_string(repo_path("scenarios/primary-failover.yaml")).unwrap();
    let text = text.replace("fencing: false", &format!("fencing: {fencing}"));
    let s = scenario::load_str(&text, Path::new("primary-failover.yaml")).unwrap();
    run(&s)
}

fn pg_notes<'a>(r: &'a RunResult, text: &str) -> Vec<&'a TimelineLine> {
    r.timeline
        .iter()
        .filter(|l| l.object == "app default/pg" && l.message.contains(text))
        .collect()
}

#[test]
fn patroni_fails_over_after_the_leader_key_expires_and_unfenced_writes_are_lost() {
    let r = primary_failover(false);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // The last renewal before the cut was at 9m57.072 (the primary's HA cycle, from its
    // start at 17.072 s): the key expires at 10m27.072 and pg-1's cycle at 10m32.505 — in
    // (ttl, ttl + loop_wait] after the renewal — takes it.
    let promoted = pg_notes(&r, "pg-1 is the primary (timeline 2)");
    assert_eq!(promoted.len(), 1);
    let after_renewal = promoted[0]
        .at
        .saturating_since(SimTime::ZERO + SimDuration::from_millis(597_072));
    assert!(
        after_renewal > SimDuration::from_secs(30) && after_renewal <= SimDuration::from_secs(40)
    );
    let app = &r.slis.apps[0];
    assert_eq!(app.failovers, 1);
    // Split brain from the promotion until the old primary stops at the heal (20m).
    assert_eq!(app.split_brain.len(), 1);
    assert_eq!(app.split_brain[0].from, promoted[0].at);
    assert_eq!(app.split_brain[0].to, Some(t(1200)));
    // Lost: everything pg-0 acknowledged after pg-1's replay position at the cut
    // (10m − REPLAY_BEHIND): 1,500 writes/s until the cut, then zone-c's 500/s for ten
    // minutes.
    let w = &app.loss_windows[0];
    assert_eq!(app.loss_windows.len(), 1);
    assert_eq!((w.old.as_str(), w.new.as_str()), ("pg-0", "pg-1"));
    assert_eq!(
        w.from,
        t(600) - SimDuration::from_nanos(REPLAY_BEHIND as u64)
    );
    assert_eq!(w.to, t(1200));
    let exact = 1500 * REPLAY_BEHIND + 500 * 600_000_000_000i128;
    assert_eq!(app.writes_lost_area, exact);
    assert_eq!(app.writes_lost(), 300_302);
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn with_fencing_the_cut_off_primary_demotes_after_retry_timeout() {
    let r = primary_failover(true);
    // pg-0's HA loop runs every 10 s from its container's start.
    let start = pg_notes(&r, "1 of 3 members run: pg-0")[0].at;
    let mut cycle = start;
    while cycle <= t(600) {
        cycle = cycle + SimDuration::from_secs(10);
    }
    // Its first cycle after the cut cannot renew; it retries for retry_timeout (10 s),
    // then demotes.
    let demoted = pg_notes(&r, "pg-0 is no longer the primary");
    assert_eq!(demoted[0].at, cycle + SimDuration::from_secs(10));
    let app = &r.slis.apps[0];
    assert!(
        app.split_brain.is_empty(),
        "never two writers: {:?}",
        app.split_brain
    );
    // Lost: what was in flight at the cut for every zone, then zone-c's writes until the
    // demotion.
    let until = i128::from(demoted[0].at.saturating_since(t(600)).as_nanos());
    assert_eq!(app.writes_lost_area, 1500 * REPLAY_BEHIND + 500 * until);
    assert_eq!(app.writes_lost(), 8838);
}
