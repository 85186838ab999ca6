//! A quorum-replicated store (etcd, ZooKeeper, any Raft group) at the level of detail
//! that decides what clients see: who leads, when an election happens, and whether a
//! write can commit.
//!
//! The members are the StatefulSet's pods by ordinal. A member takes part while its
//! container runs; whether two members can talk is asked of the network model by the
//! caller (`reach`). The rules follow etcd's Raft (etcd-io/raft `raft.go`) with etcd's
//! defaults — heartbeat 100 ms, election timeout 1 s, PreVote and CheckQuorum on:
//!
//! - A follower that stops hearing from a leader (the leader stopped, or the network cut
//!   it off) starts an election after a randomised timeout in [ET, 2·ET)
//!   (`resetRandomizedElectionTimeout`).
//! - PreVote (`campaign(campaignPreElection)`): the candidate wins only with votes from a
//!   majority of all members, each up, reachable and not itself in touch with a live
//!   leader (a voter that heard from a leader within the election timeout refuses,
//!   `Step` "lease is not expired"), and only if its log is current — a member still
//!   catching up never wins. A lost pre-vote re-arms the timer; it does not disturb a
//!   working leader, which is what PreVote is for.
//! - CheckQuorum (`stepLeader` `MsgCheckQuorum`): a leader that cannot reach a majority
//!   steps down one election timeout after it lost it.
//! - A leader stopped gracefully (SIGTERM: a pod deleted, evicted, rolled) first hands its
//!   leadership to a current follower it reaches (`EtcdServer.Stop` →
//!   `TransferLeadership`, `MsgTimeoutNow`), which wins at once with a majority's votes;
//!   a crashed one (power loss, a process that dies) leaves the followers to time out.
//! - A write commits when the leader reaches a majority of members whose logs are current:
//!   a member replaced with an empty volume first receives the data set (a snapshot) at
//!   the modelled bandwidth and only then counts.
//!
//! Elections take no message round trips here (milliseconds against a one-second
//! timeout); every timer is an engine event, so the model costs nothing between changes.

use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// The model's settings, with etcd's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct QuorumConfig {
    /// `--heartbeat-interval` (100 ms).
    pub heartbeat: SimDuration,
    /// `--election-timeout` (1 s).
    pub election_timeout: SimDuration,
    /// Size of the data set a new member must receive before it counts.
    pub data_bytes: u64,
    /// Snapshot transfer rate to a catching-up member, bytes per second.
    pub transfer_bytes_per_sec: u64,
    /// A leader stopping gracefully hands over its leadership first (etcd's
    /// `EtcdServer.Stop`, read in its server.go; ZooKeeper 3.4 has no such step — its
    /// followers elect a new leader; that side is not checked against ZooKeeper's source).
    pub transfer_leadership_on_stop: bool,
}

impl Default for QuorumConfig {
    fn default() -> Self {
        QuorumConfig {
            heartbeat: SimDuration::from_millis(100),
            election_timeout: SimDuration::from_secs(1),
            data_bytes: 2 << 30,
            transfer_bytes_per_sec: 100 << 20,
            transfer_leadership_on_stop: true,
        }
    }
}

/// A member's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    /// Up to date with the leader's log (or the group's, before any leader).
    Current,
    /// An empty volume, waiting for a leader to send the data set.
    Empty,
    /// Receiving the data set; current at the given time.
    CatchingUp { done_at: SimTime },
}

#[derive(Clone, Debug)]
struct Member {
    up: bool,
    data: Data,
    /// When this follower's election timer fires, if armed.
    election_at: Option<SimTime>,
}

/// What the model wants the engine to wake it for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum QuorumTimer {
    /// Member `n`'s election timeout.
    Election(usize),
    /// The leader's CheckQuorum deadline.
    StepDown,
    /// Member `n` has received the data set.
    CaughtUp(usize),
}

/// The group's state.
#[derive(Debug)]
pub struct Quorum {
    config: QuorumConfig,
    members: Vec<Member>,
    leader: Option<usize>,
    term: u64,
    /// When the leader will step down for lack of a quorum, if it lost one.
    step_down_at: Option<SimTime>,
    elections: u64,
    rng: SimRng,
}

/// Whether members `a` and `b` can talk now (both running is checked by the model).
pub trait Reach {
    fn reach(&mut self, a: usize, b: usize) -> bool;
}

impl<F: FnMut(usize, usize) -> bool> Reach for F {
    fn reach(&mut self, a: usize, b: usize) -> bool {
        self(a, b)
    }
}

impl Quorum {
    /// `members` members, none running yet, all with current (empty-cluster) data.
    pub fn new(members: usize, config: QuorumConfig, rng: SimRng) -> Self {
        Quorum {
            config,
            members: vec![
                Member {
                    up: false,
                    data: Data::Current,
                    election_at: None,
                };
                members
            ],
            leader: None,
            term: 0,
            step_down_at: None,
            elections: 0,
            rng,
        }
    }

    pub fn leader(&self) -> Option<usize> {
        self.leader
    }

    pub fn term(&self) -> u64 {
        self.term
    }

    /// Leaders elected so far.
    pub fn elections(&self) -> u64 {
        self.elections
    }

    pub fn data(&self, member: usize) -> Data {
        self.members[member].data
    }

    fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    fn talk(&self, reach: &mut impl Reach, a: usize, b: usize) -> bool {
        self.members[a].up && self.members[b].up && (a == b || reach.reach(a, b))
    }

    /// Whether a write reaching the leader commits now: the leader reaches a majority of
    /// members with current data.
    pub fn can_commit(&self, reach: &mut impl Reach) -> bool {
        let Some(l) = self.leader else {
            return false;
        };
        let current = (0..self.members.len())
            .filter(|&m| self.members[m].data == Data::Current && self.talk(reach, l, m))
            .count();
        current >= self.majority()
    }

    /// Member `m`'s container started; `empty` if its volume holds no data (a new
    /// claim). Returns the timers to arm.
    pub fn start(
        &mut self,
        now: SimTime,
        m: usize,
        empty: bool,
        reach: &mut impl Reach,
    ) -> Vec<(SimTime, QuorumTimer)> {
        self.members[m].up = true;
        if empty {
            self.members[m].data = Data::Empty;
        }
        self.settle(now, reach)
    }

    /// Member `m`'s container stopped; `graceful` if it was told to (SIGTERM) rather than
    /// killed by a crash or a power loss.
    pub fn stop(
        &mut self,
        now: SimTime,
        m: usize,
        graceful: bool,
        reach: &mut impl Reach,
    ) -> Vec<(SimTime, QuorumTimer)> {
        if graceful && self.leader == Some(m) && self.config.transfer_leadership_on_stop {
            self.transfer_leadership(m, reach);
        }
        let member = &mut self.members[m];
        member.up = false;
        member.election_at = None;
        if let Data::CatchingUp { .. } = member.data {
            member.data = Data::Empty; // The transfer starts over.
        }
        if self.leader == Some(m) {
            self.leader = None;
            self.step_down_at = None;
        }
        self.settle(now, reach)
    }

    /// Who can reach whom changed.
    pub fn network_changed(
        &mut self,
        now: SimTime,
        reach: &mut impl Reach,
    ) -> Vec<(SimTime, QuorumTimer)> {
        self.settle(now, reach)
    }

    /// A timer the model asked for has come due. Stale timers (no longer armed for that
    /// time) are ignored.
    pub fn on_timer(
        &mut self,
        now: SimTime,
        timer: QuorumTimer,
        reach: &mut impl Reach,
    ) -> Vec<(SimTime, QuorumTimer)> {
        match timer {
            QuorumTimer::Election(m) if self.members[m].election_at == Some(now) => {
                self.members[m].election_at = None;
                self.campaign(m, reach);
            }
            QuorumTimer::StepDown if self.step_down_at == Some(now) => {
                self.step_down_at = None;
                self.leader = None;
            }
            QuorumTimer::CaughtUp(m) => {
                if self.members[m].data == (Data::CatchingUp { done_at: now }) {
                    self.members[m].data = Data::Current;
                }
            }
            _ => return Vec::new(),
        }
        self.settle(now, reach)
    }

    // etcd server `EtcdServer.Stop` → `TransferLeadership` (`TryTransferLeadershipOnShutdown`
    // in 3.6: skipped for a single voting member; transferee `longestConnected`, here the
    // lowest current ordinal the leader reaches) → raft `MsgTimeoutNow`: the transferee
    // campaigns at once, skipping PreVote and the leader lease, and wins with a majority's
    // votes (the old leader, still up, votes for it).
    fn transfer_leadership(&mut self, from: usize, reach: &mut impl Reach) {
        let n = self.members.len();
        let transferee = (0..n).find(|&t| {
            t != from
                && self.members[t].data == Data::Current
                && self.talk(reach, from, t)
                && (0..n).filter(|&v| self.talk(reach, t, v)).count() >= self.majority()
        });
        if let Some(t) = transferee {
            self.leader = Some(t);
            self.term += 1;
            self.elections += 1;
            self.step_down_at = None;
        }
    }

    // `campaign` with PreVote: votes from a majority of up, reachable members that are
    // not in touch with a live leader; the candidate's own log must be current.
    fn campaign(&mut self, c: usize, reach: &mut impl Reach) {
        if !self.members[c].up || self.members[c].data != Data::Current {
            return;
        }
        let leader = self.leader;
        let votes = (0..self.members.len())
            .filter(|&v| {
                self.talk(reach, c, v) && leader.is_none_or(|l| v == c || !self.talk(reach, v, l))
            })
            .count();
        if votes >= self.majority() {
            self.leader = Some(c);
            self.term += 1;
            self.elections += 1;
            self.step_down_at = None;
        }
    }

    /// Re-arms timers after any change: followers out of touch with a leader arm their
    /// election timers, a leader without a quorum its step-down, a member with an empty
    /// volume starts receiving the data set from a reachable leader.
    fn settle(&mut self, now: SimTime, reach: &mut impl Reach) -> Vec<(SimTime, QuorumTimer)> {
        let mut timers = Vec::new();
        let et = self.config.election_timeout;
        if let Some(l) = self.leader {
            let reachable = (0..self.members.len())
                .filter(|&m| self.talk(reach, l, m))
                .count();
            if reachable < self.majority() {
                if self.step_down_at.is_none() {
                    let at = now + et;
                    self.step_down_at = Some(at);
                    timers.push((at, QuorumTimer::StepDown));
                }
            } else {
                self.step_down_at = None;
            }
        }
        for m in 0..self.members.len() {
            if !self.members[m].up {
                continue;
            }
            let in_touch = self
                .leader
                .is_some_and(|l| l == m || self.talk(reach, m, l));
            if in_touch {
                self.members[m].election_at = None;
                if self.members[m].data == Data::Empty && self.leader != Some(m) {
                    let bytes = self.config.data_bytes as u128 * 1_000_000_000;
                    let nanos = bytes / u128::from(self.config.transfer_bytes_per_sec.max(1));
                    let done_at = now + SimDuration::from_nanos(nanos as u64);
                    self.members[m].data = Data::CatchingUp { done_at };
                    timers.push((done_at, QuorumTimer::CaughtUp(m)));
                }
            } else {
                if let Data::CatchingUp { .. } = self.members[m].data {
                    self.members[m].data = Data::Empty;
                }
                if self.members[m].election_at.is_none() {
                    // resetRandomizedElectionTimeout: [ET, 2·ET).
                    let jitter = self.rng.below(et.as_nanos().max(1));
                    let at = now + et + SimDuration::from_nanos(jitter);
                    self.members[m].election_at = Some(at);
                    timers.push((at, QuorumTimer::Election(m)));
                }
            }
        }
        timers
    }
}

#[cfg(test)]
mod tests;
