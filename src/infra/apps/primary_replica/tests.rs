//! The primary–replica model's bootstrap, failovers, fencing, synchronous mode and
//! data-loss accounting on hand-made timelines.

use super::*;
use crate::rng::RngStreams;
use PrimaryReplicaTimer::{Cycle, RetryDeadline};

fn ms(ms: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(ms)
}

fn s(secs: u64) -> SimTime {
    ms(secs * 1000)
}

/// Everyone reaches everyone and the DCS, except across `cut` (pairs, both ways) and the
/// members in `no_dcs`.
#[derive(Default)]
struct Net {
    cut: Vec<(usize, usize)>,
    no_dcs: Vec<usize>,
}

impl PrimaryReach for Net {
    fn peers(&mut self, a: usize, b: usize) -> bool {
        !self.cut.contains(&(a, b)) && !self.cut.contains(&(b, a))
    }
    fn dcs(&mut self, m: usize) -> bool {
        !self.no_dcs.contains(&m)
    }
}

/// Member 0's zone is partitioned away: no peers, no DCS.
fn isolate_zero(net: &mut Net) {
    net.cut = vec![(0, 1), (0, 2)];
    net.no_dcs = vec![0];
}

/// A model, its timer queue and its network; records every change of `primary()` and the
/// most members ever accepting writes at once.
struct Sim {
    c: PrimaryReplica,
    queue: Vec<(SimTime, PrimaryReplicaTimer)>,
    net: Net,
    primaries: Vec<(SimTime, Option<usize>)>,
    max_writers: usize,
}

impl Sim {
    fn new(n: usize, config: PrimaryReplicaConfig) -> Self {
        Sim::seeded(n, config, 7)
    }

    fn seeded(n: usize, config: PrimaryReplicaConfig, seed: u64) -> Self {
        let rng = RngStreams::new(seed).stream("app/postgres");
        Sim {
            c: PrimaryReplica::new(n, config, rng),
            queue: Vec::new(),
            net: Net::default(),
            primaries: vec![(SimTime::ZERO, None)],
            max_writers: 0,
        }
    }

    fn observe(&mut self, at: SimTime) {
        let primary = self.c.primary();
        if self.primaries.last().map(|p| p.1) != Some(primary) {
            self.primaries.push((at, primary));
        }
        let writers = (0..self.c.members.len())
            .filter(|&m| self.c.accepts_writes(m))
            .count();
        self.max_writers = self.max_writers.max(writers);
    }

    /// Runs the timers due before `until`, in time order.
    fn run(&mut self, until: SimTime) {
        loop {
            self.queue.sort();
            match self.queue.first().copied() {
                Some((at, timer)) if at < until => {
                    self.queue.remove(0);
                    let more = self.c.on_timer(at, timer, &mut self.net);
                    self.queue.extend(more);
                    self.observe(at);
                }
                _ => return,
            }
        }
    }

    fn start(&mut self, at: SimTime, m: usize, empty: bool) {
        self.run(at);
        let more = self.c.start(at, m, empty, &mut self.net);
        self.queue.extend(more);
        self.observe(at);
    }

    fn stop(&mut self, at: SimTime, m: usize) {
        self.run(at);
        let more = self.c.stop(at, m, &mut self.net);
        self.queue.extend(more);
        self.observe(at);
    }

    fn network(&mut self, at: SimTime, change: impl FnOnce(&mut Net)) {
        self.run(at);
        change(&mut self.net);
        let more = self.c.network_changed(at, &mut self.net);
        self.queue.extend(more);
        self.observe(at);
    }

    /// Three members started at 0, 1 and 2 s: their HA cycles fall on whole seconds 0, 1
    /// and 2 modulo 10, and member 0 bootstraps at once.
    fn three(config: PrimaryReplicaConfig) -> Self {
        let mut sim = Sim::new(3, config);
        for m in 0..3 {
            sim.start(s(m as u64), m, false);
        }
        sim
    }

    /// When `primary()` last became `m`.
    fn promoted_at(&self, m: usize) -> Option<SimTime> {
        self.primaries
            .iter()
            .rev()
            .find(|p| p.1 == Some(m))
            .map(|p| p.0)
    }
}

fn lost(from: SimTime, to: SimTime, old_primary: usize, new_primary: usize) -> LostWindow {
    LostWindow {
        from,
        to,
        old_primary,
        new_primary,
    }
}

#[test]
fn ordinal_zero_bootstraps_and_a_steady_cluster_arms_no_timers() {
    let mut sim = Sim::new(3, PrimaryReplicaConfig::default());
    // A member other than 0 waits for the leader to bootstrap.
    sim.start(s(0), 1, false);
    assert_eq!((sim.c.primary(), sim.c.role(1)), (None, Role::Stopped));
    assert!(!sim.c.can_serve_read(1));
    sim.start(s(1), 0, false);
    sim.start(s(2), 2, false);
    assert_eq!((sim.c.primary(), sim.c.timeline()), (Some(0), 1));
    assert!(sim.c.accepts_writes(0));
    assert!(!sim.c.accepts_writes(1) && !sim.c.accepts_writes(2));
    assert!((0..3).all(|m| sim.c.can_serve_read(m)));
    assert_eq!(sim.c.role(1), Role::Replica);
    // Renewals are computed, not simulated: nothing is armed while nothing can change.
    assert!(sim.queue.is_empty(), "{:?}", sim.queue);
    sim.run(s(600));
    let lag = SimDuration::from_millis(1);
    assert_eq!(sim.c.replication_lag(s(600), 1), Some(lag));
    assert_eq!(sim.c.replication_lag(s(600), 0), None);
    assert_eq!(sim.c.replication_position(s(600), 2), Some(s(600) - lag));
    assert_eq!(sim.c.replication_position(s(600), 0), Some(s(600)));
    assert_eq!((sim.c.failovers(), sim.c.primary()), (0, Some(0)));
    assert!(sim.c.take_lost_windows().is_empty());
}

#[test]
fn a_crashed_primary_is_replaced_between_ttl_and_ttl_plus_loop_wait_after_its_last_renewal() {
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    // Member 0 renews at its cycles 0, 10, …, 90 s; it crashes at 95 s.
    sim.stop(s(95), 0);
    assert_eq!(sim.c.primary(), None);
    assert!(!(0..3).any(|m| sim.c.accepts_writes(m)));
    // The key expires at 120 s; the replicas' first cycles after it are at 121 and 122 s.
    assert_eq!(sim.queue.iter().min(), Some(&(s(121), Cycle(1))));
    // Another change at the very instant of member 1's cycle does not put it off.
    sim.network(s(121), |net| net.cut = vec![(0, 2)]);
    sim.run(s(300));
    let at = sim.promoted_at(1).expect("member 1 took over");
    assert!(at > s(90 + 30) && at <= s(90 + 30 + 10), "{at:?}");
    assert_eq!(at, s(121));
    assert_eq!((sim.c.failovers(), sim.c.timeline()), (1, 2));
    // Member 2 follows the new primary; the old one's key is gone for good.
    assert_eq!(
        sim.c.replication_lag(s(300), 2),
        Some(SimDuration::from_millis(1))
    );
    assert!(sim.queue.is_empty(), "{:?}", sim.queue);
}

#[test]
fn a_cycle_that_falls_on_the_expiry_still_sees_the_key() {
    // Member 1 started at 10 s cycles in phase with member 0: at 120 s the key renewed at
    // 90 s is still valid (`observed + ttl >= now`), so it takes over one loop later.
    let mut sim = Sim::new(2, PrimaryReplicaConfig::default());
    sim.start(s(0), 0, false);
    sim.start(s(10), 1, false);
    sim.stop(s(95), 0);
    sim.run(s(300));
    assert_eq!(sim.promoted_at(1), Some(s(130)));
}

#[test]
fn an_asynchronous_failover_loses_the_replication_lag_at_the_crash() {
    let config = PrimaryReplicaConfig {
        apply_delay: SimDuration::from_millis(4),
        ..PrimaryReplicaConfig::default()
    };
    let mut sim = Sim::three(config);
    sim.run(s(95));
    let lag = sim.c.replication_lag(s(95), 1).unwrap();
    assert_eq!(
        lag,
        SimDuration::from_millis(5),
        "1 ms latency + 4 ms apply delay"
    );
    sim.stop(s(95), 0);
    sim.run(s(300));
    assert_eq!(sim.c.primary(), Some(1));
    assert_eq!(
        sim.c.take_lost_windows(),
        vec![lost(s(95) - lag, s(95), 0, 1)]
    );
    assert!(sim.c.take_lost_windows().is_empty(), "drained");
    // The old primary comes back as a replica of the new one (pg_rewind), losing nothing
    // more.
    sim.start(s(300), 0, false);
    assert_eq!((sim.c.role(0), sim.c.primary()), (Role::Replica, Some(1)));
    assert_eq!(sim.c.replication_lag(s(301), 0), Some(lag));
    assert!(sim.c.take_lost_windows().is_empty());
}

#[test]
fn with_fencing_a_partitioned_primary_demotes_before_anyone_is_promoted() {
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    sim.network(s(95), isolate_zero);
    // Its cycle at 100 s cannot renew; the retry gives up at 110 s and it demotes.
    sim.run(s(110));
    assert!(
        sim.c.accepts_writes(0),
        "still the primary until the retry deadline"
    );
    sim.run(ms(110_001));
    assert!(!sim.c.accepts_writes(0));
    assert_eq!(sim.c.role(0), Role::Replica);
    sim.run(s(200));
    assert_eq!(sim.promoted_at(1), Some(s(121)));
    assert_eq!(sim.max_writers, 1, "never two writers");
    // The writes member 0 acknowledged after member 1's last received one are lost.
    let lag = SimDuration::from_millis(1);
    assert_eq!(
        sim.c.take_lost_windows(),
        vec![lost(s(95) - lag, s(110), 0, 1)]
    );
    // Healed: member 0 rewinds and replicates from member 1.
    sim.network(s(200), |net| *net = Net::default());
    assert_eq!((sim.c.role(0), sim.c.primary()), (Role::Replica, Some(1)));
    assert_eq!(sim.c.replication_lag(s(201), 0), Some(lag));
    assert!(sim.c.take_lost_windows().is_empty());
    assert_eq!(sim.max_writers, 1);
}

#[test]
fn without_fencing_a_partitioned_primary_keeps_writing_and_loses_it_all_on_rejoin() {
    let config = PrimaryReplicaConfig {
        fencing: false,
        ..PrimaryReplicaConfig::default()
    };
    let mut sim = Sim::three(config);
    sim.network(s(95), isolate_zero);
    sim.run(s(150));
    assert_eq!(sim.promoted_at(1), Some(s(121)));
    assert!(
        sim.c.accepts_writes(0) && sim.c.accepts_writes(1),
        "split brain"
    );
    assert_eq!((sim.c.primary(), sim.max_writers), (Some(1), 2));
    let from = s(95) - SimDuration::from_millis(1);
    assert!(sim.c.take_lost_windows().is_empty(), "not over yet");
    assert_eq!(
        sim.c.open_lost_windows(s(150)),
        vec![lost(from, s(150), 0, 1)]
    );
    // Healed: member 0 sees member 1's key, demotes and rewinds; all it took is lost.
    sim.network(s(200), |net| *net = Net::default());
    assert!(!sim.c.accepts_writes(0));
    assert_eq!(sim.c.role(0), Role::Replica);
    assert_eq!(sim.c.take_lost_windows(), vec![lost(from, s(200), 0, 1)]);
    assert!(sim.c.open_lost_windows(s(200)).is_empty());
    assert_eq!(sim.c.failovers(), 1);
}

#[test]
fn a_primary_cut_off_from_the_dcs_alone_demotes_with_fencing_and_loses_nothing() {
    // Fencing on: the replicas still receive everything, so the failover loses nothing.
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    sim.network(s(95), |net| net.no_dcs = vec![0]);
    sim.run(s(200));
    assert_eq!(sim.promoted_at(1), Some(s(121)));
    assert!(sim.c.take_lost_windows().is_empty());
    assert_eq!(sim.max_writers, 1);
    sim.network(s(200), |net| *net = Net::default());
    assert_eq!(
        sim.c.replication_lag(s(201), 0),
        Some(SimDuration::from_millis(1))
    );
    // Fencing off: the replicas see the old primary alive ("Primary is still alive") and
    // none takes over; it keeps the cluster's writes.
    let config = PrimaryReplicaConfig {
        fencing: false,
        ..PrimaryReplicaConfig::default()
    };
    let mut sim = Sim::three(config);
    sim.network(s(95), |net| net.no_dcs = vec![0]);
    sim.run(s(300));
    assert_eq!((sim.c.primary(), sim.c.failovers()), (Some(0), 0));
    assert!(sim.c.accepts_writes(0));
    // Healed: it renews again and the replicas stop racing.
    sim.network(s(300), |net| *net = Net::default());
    sim.run(s(600));
    assert!(sim.queue.is_empty(), "{:?}", sim.queue);
    assert_eq!(sim.c.failovers(), 0);
    // Even a synchronous standby, as far ahead as the primary, does not take over while it
    // sees the primary alive.
    let config = PrimaryReplicaConfig {
        fencing: false,
        synchronous_mode: true,
        ..PrimaryReplicaConfig::default()
    };
    let mut sim = Sim::three(config);
    sim.run(s(50));
    assert_eq!(sim.c.sync_standby(), Some(1));
    sim.network(s(95), |net| net.no_dcs = vec![0]);
    sim.run(s(300));
    assert_eq!((sim.c.primary(), sim.c.failovers()), (Some(0), 0));
    assert!(sim.c.accepts_writes(0));
}

#[test]
fn a_dcs_outage_shorter_than_retry_timeout_changes_nothing_and_its_timers_go_stale() {
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    sim.network(s(95), |net| net.no_dcs = vec![0]);
    sim.run(s(105));
    assert!(sim.queue.contains(&(s(110), RetryDeadline(0))));
    assert!(sim.queue.contains(&(s(121), Cycle(1))));
    // The DCS answers at 105 s, inside the renewal's retry window: renewed then.
    sim.network(s(105), |net| *net = Net::default());
    let stale = [
        (s(110), RetryDeadline(0)),
        (s(121), Cycle(1)),
        (s(37), Cycle(2)),
    ];
    for (at, timer) in stale {
        assert!(
            sim.c.on_timer(at, timer, &mut sim.net).is_empty(),
            "{timer:?}"
        );
    }
    sim.run(s(600));
    assert_eq!((sim.c.primary(), sim.c.failovers()), (Some(0), 0));
    assert!(sim.c.accepts_writes(0));
    assert!(sim.queue.is_empty(), "{:?}", sim.queue);

    // The renewal that succeeded at 105 s is what the ttl counts from: lost again at
    // 106 s, the key expires at 135 s (not 120 s) and member 1 takes over at 141 s.
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    sim.network(s(95), |net| net.no_dcs = vec![0]);
    sim.network(s(105), |net| *net = Net::default());
    sim.network(s(106), |net| net.no_dcs = vec![0]);
    sim.run(s(300));
    assert_eq!(sim.promoted_at(1), Some(s(141)));
}

#[test]
fn a_replica_lagging_beyond_maximum_lag_on_failover_is_not_promoted() {
    let failover = |config: PrimaryReplicaConfig| {
        let mut sim = Sim::new(3, config);
        sim.start(s(0), 0, false);
        sim.start(s(1), 1, false);
        // Member 1 loses member 0 at 50 s, which goes on writing until it crashes at 95 s:
        // 44 s behind the last renewal at 90 s is 44 MiB at 1 MiB/s.
        sim.network(s(50), |net| net.cut = vec![(0, 1)]);
        sim.stop(s(95), 0);
        sim.run(s(300));
        sim
    };
    let mut sim = failover(PrimaryReplicaConfig::default());
    assert_eq!((sim.c.primary(), sim.c.failovers()), (None, 0));
    assert_eq!(sim.c.role(1), Role::Replica);
    assert!(!sim.queue.is_empty(), "it keeps checking at every cycle");
    assert!(sim.c.take_lost_windows().is_empty());
    // Without the limit it is promoted and 45 s of writes are lost.
    let config = PrimaryReplicaConfig {
        maximum_lag_on_failover: u64::MAX,
        ..PrimaryReplicaConfig::default()
    };
    let mut sim = failover(config);
    assert_eq!(sim.promoted_at(1), Some(s(121)));
    let from = s(50) - SimDuration::from_millis(1);
    assert_eq!(sim.c.take_lost_windows(), vec![lost(from, s(95), 0, 1)]);
}

#[test]
fn a_replica_defers_to_a_reachable_one_further_ahead() {
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    // Member 1 falls 3 s behind member 2 (yet ahead of the last renewal at 90 s, so not
    // lagging by `maximum_lag_on_failover`).
    sim.network(s(92), |net| net.cut = vec![(0, 1)]);
    sim.stop(s(95), 0);
    sim.run(s(300));
    // Member 1's cycle at 121 s defers to member 2, which takes over at 122 s.
    assert_eq!(sim.promoted_at(2), Some(s(122)));
    assert_eq!(sim.promoted_at(1), None);
}

#[test]
fn synchronous_mode_promotes_only_the_synchronous_standby_and_loses_nothing() {
    let config = PrimaryReplicaConfig {
        synchronous_mode: true,
        ..PrimaryReplicaConfig::default()
    };
    let mut sim = Sim::new(3, config);
    sim.start(s(0), 0, false);
    sim.start(s(1), 2, false);
    sim.start(s(2), 1, false);
    assert_eq!(
        sim.c.sync_standby(),
        None,
        "picked at the primary's next cycle"
    );
    assert!(sim.c.accepts_writes(0), "asynchronous until then");
    sim.run(s(50));
    // Equally current at 10 s: the lower ordinal.
    assert_eq!(sim.c.sync_standby(), Some(1));
    assert_eq!(sim.c.replication_position(s(50), 1), Some(s(50)));
    assert_eq!(sim.c.replication_lag(s(50), 1), Some(SimDuration::ZERO));
    // Member 2 cannot see member 1 is ahead of it: only the /sync key holds it back.
    sim.network(s(90), |net| net.cut = vec![(1, 2)]);
    sim.stop(s(95), 0);
    sim.run(s(300));
    // Member 2's cycle at 121 s comes first, but only the synchronous standby may promote.
    assert_eq!(sim.promoted_at(2), None);
    assert_eq!(sim.promoted_at(1), Some(s(122)));
    assert!(sim.c.take_lost_windows().is_empty());
    // Member 2 follows member 1 once it reaches it, and becomes its standby.
    sim.network(s(300), |net| net.cut.clear());
    sim.run(s(400));
    assert_eq!(sim.c.sync_standby(), Some(2));
}

#[test]
fn without_its_standby_a_synchronous_primary_blocks_until_its_cycle_or_for_good_if_strict() {
    let blocked = |strict: bool| {
        let config = PrimaryReplicaConfig {
            synchronous_mode: true,
            synchronous_mode_strict: strict,
            ..PrimaryReplicaConfig::default()
        };
        let mut sim = Sim::new(3, config);
        sim.start(s(0), 0, false);
        sim.start(s(1), 1, false);
        sim.run(s(50));
        assert_eq!(sim.c.sync_standby(), Some(1));
        sim.stop(s(50), 1);
        assert!(!sim.c.accepts_writes(0), "commits wait for the standby");
        assert_eq!(sim.c.primary(), Some(0));
        sim.run(ms(60_001));
        sim
    };
    // Not strict: its cycle at 60 s drops the standby and it goes on asynchronously.
    let sim = blocked(false);
    assert!(sim.c.accepts_writes(0));
    assert_eq!(sim.c.sync_standby(), None);
    // Strict: blocked until a standby streams again.
    let mut sim = blocked(true);
    assert!(!sim.c.accepts_writes(0));
    sim.run(s(100));
    assert!(!sim.c.accepts_writes(0));
    sim.start(s(100), 1, false);
    assert!(sim.c.accepts_writes(0), "'*' takes any standby");
    sim.run(ms(110_001));
    assert_eq!(sim.c.sync_standby(), Some(1));
}

#[test]
fn a_member_with_an_empty_volume_rebuilds_before_it_serves_or_can_be_promoted() {
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    sim.stop(s(100), 1);
    sim.start(s(110), 1, true);
    // 2 GiB at 100 MiB/s: 20.48 s.
    let done_at = ms(130_480);
    assert_eq!(sim.c.role(1), Role::Rebuilding { done_at });
    assert!(!sim.c.can_serve_read(1));
    assert_eq!(sim.c.replication_lag(s(120), 1), None);
    assert_eq!(sim.c.replication_position(s(120), 1), None);
    sim.run(s(131));
    assert_eq!(sim.c.role(1), Role::Replica);
    assert_eq!(
        sim.c.replication_lag(s(131), 1),
        Some(SimDuration::from_millis(1))
    );

    // The primary crashes while the only other member copies: the copy starts over and
    // nobody is promoted; its completion timer is stale.
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    sim.stop(s(100), 2);
    sim.stop(s(100), 1);
    sim.start(s(110), 1, true);
    sim.stop(s(120), 0);
    assert_eq!(sim.c.role(1), Role::Stopped);
    assert!(
        sim.queue
            .contains(&(done_at, PrimaryReplicaTimer::Rebuilt(1)))
    );
    sim.run(s(600));
    assert_eq!(
        (sim.c.primary(), sim.c.failovers(), sim.c.role(1)),
        (None, 0, Role::Stopped)
    );
    // The old primary returns: it retakes the cluster (not a failover) and member 1
    // copies from it.
    sim.start(s(600), 0, false);
    sim.run(s(700));
    assert_eq!((sim.c.primary(), sim.c.failovers()), (Some(0), 0));
    assert_eq!(sim.c.role(1), Role::Replica);
    assert!(sim.c.take_lost_windows().is_empty());
}

#[test]
fn a_primary_restarted_within_the_ttl_keeps_its_key() {
    let rng = RngStreams::new(7).stream("app/postgres");
    let mut c = PrimaryReplica::new(2, PrimaryReplicaConfig::default(), rng);
    let mut reach = (|_: usize, _: usize| true, |_: usize| true);
    c.start(s(0), 0, false, &mut reach);
    c.start(s(1), 1, false, &mut reach);
    let armed = c.stop(s(95), 0, &mut reach);
    assert_eq!(armed, vec![(s(121), Cycle(1))]);
    let armed = c.start(s(100), 0, false, &mut reach);
    assert!(armed.is_empty());
    assert!(c.accepts_writes(0));
    assert!(c.on_timer(s(121), Cycle(1), &mut reach).is_empty(), "stale");
    assert_eq!((c.primary(), c.failovers(), c.timeline()), (Some(0), 0, 1));
    assert!(c.take_lost_windows().is_empty());
}

#[test]
fn simultaneous_candidates_race_and_the_seed_decides() {
    let race = |seed: u64| {
        let mut sim = Sim::seeded(3, PrimaryReplicaConfig::default(), seed);
        sim.start(s(0), 0, false);
        sim.start(s(1), 1, false);
        sim.start(s(1), 2, false);
        sim.stop(s(95), 0);
        sim.run(s(300));
        let winner = sim.c.primary().expect("one of them won");
        assert_eq!(sim.promoted_at(winner), Some(s(121)));
        assert_eq!(sim.c.failovers(), 1);
        assert_eq!(
            sim.c.replication_lag(s(300), 3 - winner),
            Some(SimDuration::from_millis(1))
        );
        winner
    };
    let winners: Vec<usize> = (0..16).map(race).collect();
    assert_eq!(
        winners,
        (0..16).map(race).collect::<Vec<_>>(),
        "same seed, same race"
    );
    assert!(winners.contains(&1) && winners.contains(&2), "{winners:?}");
}

#[test]
fn a_graceful_shutdown_hands_over_at_once_and_loses_nothing() {
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    sim.run(s(95));
    let armed = sim.c.shutdown(s(95), 0, &mut sim.net);
    // Both replicas received everything and race at once; one wins.
    let winner = sim.c.primary().expect("handed over");
    assert!(winner == 1 || winner == 2);
    assert!(armed.is_empty(), "{armed:?}");
    assert!(sim.c.accepts_writes(winner));
    assert_eq!(sim.c.failovers(), 1);
    assert!(sim.c.take_lost_windows().is_empty());
    // The old primary returns as a replica; its history is the new one's prefix.
    sim.start(s(100), 0, false);
    assert_eq!(sim.c.role(0), Role::Replica);
    assert_eq!(
        sim.c.replication_lag(s(101), 0),
        Some(SimDuration::from_millis(1))
    );
}

#[test]
fn a_primary_restarted_with_an_empty_volume_releases_the_key_and_copies_the_new_one() {
    let mut sim = Sim::three(PrimaryReplicaConfig::default());
    sim.stop(s(95), 0);
    sim.start(s(100), 0, true);
    let winner = sim
        .c
        .primary()
        .expect("a replica took the released key at once");
    assert_ne!(winner, 0);
    assert_eq!(
        sim.c.role(0),
        Role::Rebuilding {
            done_at: ms(120_480)
        }
    );
    // The writes between the replicas' last received one and the crash are lost.
    let lag = SimDuration::from_millis(1);
    assert_eq!(
        sim.c.take_lost_windows(),
        vec![lost(s(95) - lag, s(95), 0, winner)]
    );
    sim.run(s(121));
    assert_eq!(sim.c.role(0), Role::Replica);
    assert_eq!(sim.c.replication_lag(s(121), 0), Some(lag));
}

#[test]
fn an_abandoned_timeline_stays_abandoned() {
    let config = PrimaryReplicaConfig {
        fencing: false,
        ..PrimaryReplicaConfig::default()
    };
    let mut sim = Sim::three(config);
    // Members 0 and 2 share a zone that loses member 1 and the DCS: member 1 takes over at
    // 121 s while member 0 goes on writing, and member 2 goes on replicating it.
    sim.network(s(95), |net| {
        net.cut = vec![(0, 1), (1, 2)];
        net.no_dcs = vec![0, 2];
    });
    sim.run(s(150));
    assert_eq!(sim.promoted_at(1), Some(s(121)));
    sim.stop(s(150), 1);
    sim.network(s(200), |net| *net = Net::default());
    let from = s(95) - SimDuration::from_millis(1);
    assert_eq!(sim.c.take_lost_windows(), vec![lost(from, s(200), 0, 1)]);
    // Members 0 and 2 hold the abandoned history: neither takes over (nor blocks member 1).
    sim.run(s(300));
    assert_eq!(sim.c.primary(), None);
    sim.start(s(300), 1, false);
    sim.run(s(400));
    assert_eq!(sim.promoted_at(1), Some(s(310)));
    assert_eq!((sim.c.failovers(), sim.c.timeline()), (1, 3));
    assert!(sim.c.take_lost_windows().is_empty());
    for m in [0, 2] {
        assert_eq!(
            sim.c.replication_lag(s(400), m),
            Some(SimDuration::from_millis(1))
        );
    }
}

#[test]
fn a_synchronous_standby_shut_down_gracefully_is_released_first() {
    let config = PrimaryReplicaConfig {
        synchronous_mode: true,
        ..PrimaryReplicaConfig::default()
    };
    let mut sim = Sim::three(config);
    sim.run(s(50));
    assert_eq!(sim.c.sync_standby(), Some(1));
    let armed = sim.c.shutdown(s(50), 1, &mut sim.net);
    sim.queue.extend(armed);
    assert!(
        sim.c.accepts_writes(0),
        "no commit waits for a standby that is leaving"
    );
    assert_eq!(sim.c.sync_standby(), Some(2));
    // A crash is different: commits wait until the primary's next cycle.
    sim.stop(s(60), 2);
    assert!(!sim.c.accepts_writes(0));
    sim.run(ms(70_001));
    assert!(sim.c.accepts_writes(0));
}
