//! The quorum model's elections, step-downs and catch-up on hand-made timelines.

use super::*;
use crate::rng::RngStreams;

fn t(ms: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(ms)
}

/// Everyone reaches everyone except across `cut` (pairs, both ways).
struct Net {
    cut: Vec<(usize, usize)>,
}

impl Reach for Net {
    fn reach(&mut self, a: usize, b: usize) -> bool {
        !self
            .cut
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
    }
}

fn full() -> Net {
    Net { cut: Vec::new() }
}

/// Isolates member `m` from the others.
fn isolate(m: usize, n: usize) -> Net {
    Net {
        cut: (0..n).filter(|&o| o != m).map(|o| (m, o)).collect(),
    }
}

/// Runs timers in time order until none is left before `until`; returns the queue left.
fn run(
    q: &mut Quorum,
    mut timers: Vec<(SimTime, QuorumTimer)>,
    until: SimTime,
    net: &mut Net,
) -> Vec<(SimTime, QuorumTimer)> {
    loop {
        timers.sort();
        match timers.first().copied() {
            Some((at, timer)) if at < until => {
                timers.remove(0);
                let more = q.on_timer(at, timer, net);
                timers.extend(more);
            }
            _ => return timers,
        }
    }
}

fn bootstrap(n: usize) -> (Quorum, Vec<(SimTime, QuorumTimer)>) {
    let rng = RngStreams::new(7).stream("app/etcd");
    let mut q = Quorum::new(n, QuorumConfig::default(), rng);
    let mut timers = Vec::new();
    for m in 0..n {
        timers.extend(q.start(t(0), m, false, &mut full()));
    }
    (q, timers)
}

#[test]
fn a_new_group_elects_a_leader_within_one_to_two_election_timeouts() {
    let (mut q, timers) = bootstrap(3);
    assert_eq!(q.leader(), None);
    assert!(!q.can_commit(&mut full()));
    // Every member armed a timer in [1 s, 2 s).
    assert_eq!(timers.len(), 3);
    assert!(timers.iter().all(|(at, _)| (t(1000)..t(2000)).contains(at)));
    let first = timers.iter().min().copied().unwrap();
    let left = run(&mut q, timers, t(2000), &mut full());
    let QuorumTimer::Election(winner) = first.1 else {
        panic!("{first:?}")
    };
    assert_eq!((q.leader(), q.elections(), q.term()), (Some(winner), 1, 1));
    assert!(q.can_commit(&mut full()));
    assert!(left.is_empty(), "the others' timers were stale: {left:?}");
}

#[test]
fn a_crashed_leader_is_replaced_one_to_two_timeouts_later() {
    let (mut q, timers) = bootstrap(3);
    run(&mut q, timers, t(5000), &mut full());
    let old = q.leader().unwrap();
    let timers = q.stop(t(10_000), old, false, &mut full());
    assert_eq!(q.leader(), None);
    assert!(!q.can_commit(&mut full()));
    assert_eq!(timers.len(), 2);
    assert!(
        timers
            .iter()
            .all(|(at, _)| (t(11_000)..t(12_000)).contains(at))
    );
    run(&mut q, timers, t(20_000), &mut full());
    let new = q.leader().unwrap();
    assert_ne!(new, old);
    assert_eq!(q.elections(), 2);
    // Two of three current members: writes commit.
    assert!(q.can_commit(&mut full()));
}

#[test]
fn prevote_keeps_an_isolated_follower_from_disturbing_the_leader() {
    let (mut q, timers) = bootstrap(3);
    run(&mut q, timers, t(5000), &mut full());
    let leader = q.leader().unwrap();
    let follower = (leader + 1) % 3;
    let mut net = isolate(follower, 3);
    let timers = q.network_changed(t(10_000), &mut net);
    // Only the isolated follower arms a timer; it keeps losing its pre-vote.
    assert_eq!(timers.len(), 1);
    let left = run(&mut q, timers, t(60_000), &mut net);
    assert_eq!((q.leader(), q.elections()), (Some(leader), 1));
    assert!(q.can_commit(&mut net));
    assert_eq!(left.len(), 1, "it tries again after each lost pre-vote");
    // Healed: the follower is in touch again and its timer goes stale.
    let more = q.network_changed(t(60_000), &mut full());
    assert!(more.is_empty());
    run(&mut q, left, t(70_000), &mut full());
    assert_eq!(q.elections(), 1);
}

#[test]
fn an_isolated_leader_steps_down_and_the_majority_elects_another() {
    let (mut q, timers) = bootstrap(3);
    run(&mut q, timers, t(5000), &mut full());
    let old = q.leader().unwrap();
    let mut net = isolate(old, 3);
    let timers = q.network_changed(t(10_000), &mut net);
    assert!(!q.can_commit(&mut net), "no quorum behind the leader");
    assert!(timers.contains(&(t(11_000), QuorumTimer::StepDown)));
    run(&mut q, timers, t(20_000), &mut net);
    let new = q.leader().unwrap();
    assert_ne!(new, old);
    assert!(q.can_commit(&mut net));
    assert_eq!(q.elections(), 2);
}

#[test]
fn a_member_with_an_empty_volume_counts_only_once_caught_up() {
    let (mut q, timers) = bootstrap(3);
    run(&mut q, timers, t(5000), &mut full());
    let leader = q.leader().unwrap();
    let (a, b) = ((leader + 1) % 3, (leader + 2) % 3);
    // `a` is replaced with a new, empty volume: 2 GiB at 100 MiB/s = 20.48 s.
    q.stop(t(10_000), a, false, &mut full());
    let timers = q.start(t(30_000), a, true, &mut full());
    assert_eq!(q.data(a), Data::CatchingUp { done_at: t(50_480) });
    assert_eq!(timers, vec![(t(50_480), QuorumTimer::CaughtUp(a))]);
    // Meanwhile `b` stops: the leader and a catching-up member are no quorum.
    let more = q.stop(t(40_000), b, false, &mut full());
    assert!(more.is_empty());
    assert!(!q.can_commit(&mut full()));
    run(&mut q, timers, t(60_000), &mut full());
    assert_eq!(q.data(a), Data::Current);
    assert!(q.can_commit(&mut full()));
}

#[test]
fn the_same_seed_gives_the_same_elections() {
    let elect = || {
        let (mut q, timers) = bootstrap(5);
        run(&mut q, timers, t(5000), &mut full());
        let first = q.leader();
        let timers = q.stop(t(10_000), first.unwrap(), false, &mut full());
        run(&mut q, timers, t(20_000), &mut full());
        (first, q.leader(), q.term())
    };
    assert_eq!(elect(), elect());
}

#[test]
fn a_leader_stopped_gracefully_hands_over_at_once_unless_transfer_is_off() {
    let (mut q, timers) = bootstrap(3);
    run(&mut q, timers, t(5000), &mut full());
    let old = q.leader().unwrap();
    // etcd: leadership moves to the lowest current follower the leader reaches, now.
    q.stop(t(10_000), old, true, &mut full());
    let new = q.leader().expect("a transferee took over");
    assert_eq!(new, (0..3).find(|&m| m != old).unwrap());
    assert_eq!((q.elections(), q.term()), (2, 2));
    assert!(q.can_commit(&mut full()));
    // A follower the stopping leader cannot reach is not a transferee; with no one
    // reachable, nobody takes over and the others time out as after a crash.
    let (mut q, timers) = bootstrap(3);
    run(&mut q, timers, t(5000), &mut full());
    let old = q.leader().unwrap();
    q.stop(t(10_000), old, true, &mut isolate(old, 3));
    assert_eq!(q.leader(), None);
    // ZooKeeper-like: no transfer even when stopped gracefully.
    let rng = RngStreams::new(7).stream("app/zk");
    let config = QuorumConfig {
        transfer_leadership_on_stop: false,
        ..QuorumConfig::default()
    };
    let mut q = Quorum::new(3, config, rng);
    let mut timers = Vec::new();
    for m in 0..3 {
        timers.extend(q.start(t(0), m, false, &mut full()));
    }
    run(&mut q, timers, t(5000), &mut full());
    let old = q.leader().unwrap();
    let timers = q.stop(t(10_000), old, true, &mut full());
    assert_eq!(q.leader(), None);
    assert_eq!(timers.len(), 2, "the followers arm their election timers");
}
