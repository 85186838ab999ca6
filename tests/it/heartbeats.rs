//! The kubelet's heartbeats: the node Lease renewed every 10–10.4 s while the API server is
//! reachable (backing off 200 ms → 7 s when it is not), node status posted every 5 min or
//! when it changed, and both left out of the trace unless asked for.

use super::harness::{SharedBuf, bundled, trace_lines};
use std::collections::BTreeSet;
use stsim::api::coordination::NAMESPACE_NODE_LEASE;
use stsim::api::{Lease, Node, ObjectKey};
use stsim::apiserver::Actor;
use stsim::sim::{RunOptions, Simulation};
use stsim::time::{SimDuration, SimTime};

const NODE: &str = "worker-zone-a-1";

fn sim(trace_heartbeats: bool) -> (Simulation, SharedBuf) {
    let s = bundled("quickstart");
    let buf = SharedBuf::default();
    let mut opts = RunOptions::for_scenario(&s);
    opts.trace = Some(Box::new(buf.clone()));
    opts.trace_heartbeats = trace_heartbeats;
    (Simulation::new(&s, opts), buf)
}

fn renew_time(sim: &Simulation) -> SimTime {
    let key = ObjectKey::new(NAMESPACE_NODE_LEASE, NODE);
    let lease = sim.api().get::<Lease>(&key).expect("the node's lease");
    assert_eq!(lease.spec.holder_identity.as_deref(), Some(NODE));
    assert_eq!(lease.spec.lease_duration_seconds, Some(40));
    assert_eq!(lease.metadata.owner_references[0].kind, "Node");
    lease.spec.renew_time.expect("renewed").time()
}

fn lease_writes(buf: &SharedBuf) -> Vec<u64> {
    trace_lines(&buf.0.borrow())
        .into_iter()
        .filter(|l| l["kind"] == "Lease" && l["name"] == NODE)
        .map(|l| l["t_us"].as_u64().unwrap())
        .collect()
}

#[test]
fn the_lease_is_created_at_registration_and_renewed_every_10_to_10_4_seconds() {
    let (mut sim, buf) = sim(true);
    sim.run_for(SimDuration::from_mins(10));
    let writes = lease_writes(&buf);
    assert_eq!(writes[0], 0, "created when the node registers");
    for pair in writes.windows(2) {
        let gap = pair[1] - pair[0];
        assert!((10_000_000..=10_400_000).contains(&gap), "gap {gap} µs");
    }
    assert!(writes.len() >= 58 && writes.len() <= 61, "{}", writes.len());
    let last = *writes.last().unwrap();
    assert_eq!(renew_time(&sim).as_nanos() / 1_000, last);
}

#[test]
fn heartbeat_writes_stay_out_of_the_trace_by_default() {
    let (mut sim, buf) = sim(false);
    sim.run_for(SimDuration::from_mins(10));
    let lines = trace_lines(&buf.0.borrow());
    assert!(lines.iter().all(|l| l["kind"] != "Lease"));
    // The lease is renewed all the same.
    assert!(renew_time(&sim) > SimTime::ZERO + SimDuration::from_secs(580));
    // seq stays contiguous.
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"].as_u64(), Some(i as u64));
    }
}

#[test]
fn node_status_is_posted_every_five_minutes_and_when_it_changed() {
    let (mut sim, buf) = sim(true);
    sim.run_for(SimDuration::from_mins(11));
    let posts: Vec<u64> = trace_lines(&buf.0.borrow())
        .into_iter()
        .filter(|l| {
            l["kind"] == "Node" && l["name"] == NODE && l["verb"] == "status" && {
                let a = l["actor"].as_str().unwrap();
                a.starts_with("kubelet/")
            }
        })
        .map(|l| l["t_us"].as_u64().unwrap())
        .collect();
    // Registration posts the status with the Node itself (a create, not a status write);
    // the report comes at the first 10 s tick ≥ 5 min after it, and again ≥ 5 min later.
    assert!(posts.len() == 2, "{posts:?}");
    assert!((300_000_000..=311_000_000).contains(&posts[0]), "{posts:?}");
    assert!(posts[1] - posts[0] >= 300_000_000 && posts[1] - posts[0] <= 311_000_000);

    // Someone else marks the node Unknown: the kubelet posts Ready again at its next tick.
    let at = sim.now();
    sim.act(&Actor::new("node-controller"), |c| {
        let mut n = (*c.get::<Node>(&ObjectKey::cluster(NODE)).unwrap()).clone();
        for cond in &mut n.status.conditions {
            cond.status = "Unknown".into();
            cond.reason = "NodeStatusUnknown".into();
        }
        n.metadata.resource_version.clear();
        c.update_status(&n).unwrap();
    });
    sim.run_for(SimDuration::from_millis(10_500));
    let node = sim.api().get::<Node>(&ObjectKey::cluster(NODE)).unwrap();
    let ready = node
        .status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "True");
    assert!(ready.last_transition_time.unwrap().time() > at);
}

#[test]
fn a_kubelet_cut_off_from_the_api_server_stops_renewing_and_resumes_within_seven_seconds() {
    let (mut sim, _buf) = sim(false);
    sim.run_for(SimDuration::from_mins(1));
    let before = renew_time(&sim);
    sim.set_cut_hosts([NODE.to_string()].into_iter().collect::<BTreeSet<_>>());
    sim.run_for(SimDuration::from_mins(2));
    assert_eq!(renew_time(&sim), before, "no renewal while cut off");
    let healed = sim.now();
    sim.set_cut_hosts(BTreeSet::new());
    sim.run_for(SimDuration::from_secs(8));
    let after = renew_time(&sim);
    // `backoffEnsureLease` retries at most 7 s apart.
    assert!(after > healed && after <= healed + SimDuration::from_secs(7));
}

#[test]
fn stopped_heartbeats_leave_the_lease_as_it_was() {
    let (mut sim, _buf) = sim(false);
    sim.run_for(SimDuration::from_secs(30));
    assert!(sim.stop_heartbeats(NODE));
    let last = renew_time(&sim);
    sim.run_for(SimDuration::from_mins(5));
    assert_eq!(renew_time(&sim), last);
    assert!(!sim.stop_heartbeats("no-such-node"));
}
