//! A primary–replica database — PostgreSQL managed by Patroni on Kubernetes — at the level
//! of detail that decides what clients see: which member takes writes, when a failover
//! happens, how far each replica lags, and which acknowledged writes a failover discards.
//!
//! The members are the StatefulSet's pods by ordinal. A member takes part while its
//! container runs; whether two members can talk, and whether a member can reach the DCS
//! (on Kubernetes the API server: the leader key is an annotation on the `<scope>`
//! Endpoints), is asked of the network model by the caller (`PrimaryReach`). The rules
//! follow Patroni's HA loop (patroni/patroni `patroni/ha.py`, `patroni/dcs/kubernetes.py`)
//! with Patroni's defaults — ttl 30 s, loop_wait 10 s, retry_timeout 10 s,
//! maximum_lag_on_failover 1 MiB:
//!
//! - Bootstrap (`Ha.bootstrap`): the first member to take the `initialize` key runs initdb.
//!   Here that is always ordinal 0 (the StatefulSet starts it first), once it runs and
//!   reaches the DCS; the others wait for it ("waiting for leader to bootstrap").
//! - HA cycles (`Patroni.run` → `Ha._run_cycle`): each member's loop runs at its container's
//!   start and every `loop_wait` after, so its phase comes from its start time alone (no
//!   random draw); a cycle that overruns `loop_wait` (a renewal retried for `retry_timeout`)
//!   restarts the count, as `Patroni.run` does. On Kubernetes a replica's loop is also woken
//!   by each renewal it watches, which locks its phase to the primary's; keeping each
//!   member's own phase instead (as with etcd) spreads failovers over
//!   `(ttl, ttl + loop_wait]` rather than bunching them at the two ends. Cycles that change
//!   nothing are not simulated: the primary's renewals are computed, not scheduled, and a
//!   timer is armed only for a cycle that may act. A member that cannot reach the DCS does
//!   not start PostgreSQL (`_handle_dcs_error`: "DCS is not accessible").
//! - The leader key (`Ha.update_lock`, `Kubernetes.update_leader`): the primary renews it at
//!   every cycle; it expires `ttl` after the last renewal (`Kubernetes._cluster_from_nodes`
//!   treats the leader as gone once `observed + ttl < now`; Patroni counts from when each
//!   member observed the renewal, here everyone counts from the renewal itself). A renewal
//!   that cannot reach the DCS is retried until `retry_timeout` after the cycle began
//!   (`Retry(deadline=retry_timeout)`); if the DCS answers within that window the renewal
//!   succeeds then.
//! - Fencing (on by default, which is Patroni's only behaviour outside pause and failsafe
//!   mode): when the renewal fails, the primary demotes itself — `_handle_dcs_error` →
//!   `demote('offline')` — and stops taking writes. So a primary cut off at `x` stops at
//!   its first cycle after `x` plus `retry_timeout`, which with the defaults
//!   (`loop_wait + 2·retry_timeout ≤ ttl`) is before the key expires. Fencing off models a
//!   manager without that step (as Patroni in pause mode: "continue to run as primary after
//!   failing to update leader lock"): the old primary keeps taking writes from the clients
//!   that reach it until it reaches the DCS again.
//! - Failover (`Ha.process_unhealthy_cluster`): at its first cycle after the key expired, a
//!   replica that reaches the DCS tries to take it if it is the healthiest node
//!   (`Ha.is_healthiest_node` → `Ha._is_healthiest_node`): PostgreSQL running (not
//!   rebuilding); not lagging — `Ha.is_lagging`: the primary's WAL position recorded with
//!   its last renewal (`/status` `last_lsn`) minus its own exceeds `maximum_lag_on_failover`
//!   — and no member it can reach (`fetch_nodes_statuses`) is still a primary ("Primary is
//!   still alive") or ahead of it ("Wal position of %s is ahead"). With synchronous mode
//!   active only the synchronous standby may promote (`sync.matches`). Two replicas whose
//!   cycles fall at the same instant both race for the key; which write lands first is
//!   drawn from the model's random stream. The winner promotes onto a new timeline
//!   (`enforce_primary_role`).
//! - Rejoin (`Ha.process_healthy_cluster` → `Ha.follow`): a member that reaches the DCS and
//!   sees another leader follows it at once (the Kubernetes watch wakes its loop on every
//!   leader change, `ObjectCache._process_event`); a primary demotes
//!   (`demote('immediate-nolock')`), and a member whose history diverged from the leader's
//!   runs pg_rewind (`Rewind.execute`), which discards its writes past the fork. A primary
//!   whose timeline is behind the cluster's never retakes the key ("My timeline %s is
//!   behind last known cluster timeline"), and a diverged replica does not race (see
//!   `healthiest`), so writes on an abandoned timeline are lost for good the moment its
//!   writer stops.
//! - Replication is asynchronous by default: a streaming replica has applied the primary's
//!   history up to `now − (replication_latency + apply_delay)`; cut off, its position
//!   freezes; reconnected, it catches up at once (WAL streams far faster than it is written).
//!   Synchronous mode (`synchronous_mode`, `Ha.process_sync_replication`): at its cycles the
//!   primary names one streaming replica its synchronous standby; a commit then waits for
//!   it, so its position is the primary's. If the standby goes, commits block until the
//!   primary's next cycle, which drops it and continues asynchronously — or, with
//!   `synchronous_mode_strict`, keeps `synchronous_standby_names = '*'` and blocks until a
//!   standby streams again.
//! - A member whose volume is empty clones the primary (pg_basebackup, `Ha.clone`) at the
//!   modelled bandwidth before it is a replica; until then it serves nothing and cannot be
//!   promoted.
//!
//! Positions are instants of the write history: the primary's is the last instant it
//! acknowledged a write. Each promotion starts a timeline forked from the new primary's
//! position; the old primary's acknowledged writes after that fork are lost and reported as
//! a `LostWindow` (at once if it had stopped taking writes, else when it stops).
//! Promotion, pg_rewind and PostgreSQL start-up take no simulated time here (seconds
//! against a ttl of 30 s).

use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// The model's settings, with Patroni's and PostgreSQL's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct PrimaryReplicaConfig {
    /// Patroni `ttl`: the leader key expires this long after its last renewal (30 s).
    pub ttl: SimDuration,
    /// Patroni `loop_wait`: the time between two HA cycles of a member (10 s).
    pub loop_wait: SimDuration,
    /// Patroni `retry_timeout`: how long a DCS call is retried before it fails; a DCS outage
    /// shorter than this does not demote the primary (10 s).
    pub retry_timeout: SimDuration,
    /// Patroni `maximum_lag_on_failover`: a replica further behind the primary's last
    /// recorded WAL position, in bytes, does not take part in a failover (1 MiB).
    pub maximum_lag_on_failover: u64,
    /// Patroni `synchronous_mode`: one synchronous standby; without one the primary goes on
    /// asynchronously (off).
    pub synchronous_mode: bool,
    /// Patroni `synchronous_mode_strict`: without a synchronous standby writes block
    /// (off; meaningful only with `synchronous_mode`).
    pub synchronous_mode_strict: bool,
    /// Whether a primary that cannot renew the leader key within `retry_timeout` demotes
    /// itself (Patroni's behaviour, `Ha._handle_dcs_error` → `demote('offline')`; on).
    pub fencing: bool,
    /// One-way network latency from the primary to a replica (1 ms, a cross-zone hop in one
    /// region); the caller can set it from the network model.
    pub replication_latency: SimDuration,
    /// Time from a WAL record's arrival on a replica to its replay (0: replay keeps up; raise
    /// it to model a replica that lags under write load).
    pub apply_delay: SimDuration,
    /// WAL the primary writes per second, which turns a replica's lag in time into the
    /// bytes `maximum_lag_on_failover` is measured in (1 MiB/s; the caller can set it from
    /// its write rate).
    pub wal_bytes_per_sec: u64,
    /// Size of the data set a member with an empty volume copies (pg_basebackup) before it
    /// replicates (2 GiB).
    pub data_bytes: u64,
    /// Base-backup transfer rate, bytes per second (100 MiB/s).
    pub transfer_bytes_per_sec: u64,
}

impl Default for PrimaryReplicaConfig {
    fn default() -> Self {
        PrimaryReplicaConfig {
            ttl: SimDuration::from_secs(30),
            loop_wait: SimDuration::from_secs(10),
            retry_timeout: SimDuration::from_secs(10),
            maximum_lag_on_failover: 1 << 20,
            synchronous_mode: false,
            synchronous_mode_strict: false,
            fencing: true,
            replication_latency: SimDuration::from_millis(1),
            apply_delay: SimDuration::ZERO,
            wal_bytes_per_sec: 1 << 20,
            data_bytes: 2 << 30,
            transfer_bytes_per_sec: 100 << 20,
        }
    }
}

/// What a member's PostgreSQL is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Not running: the container is down, or Patroni has not started PostgreSQL (no DCS,
    /// no cluster yet, or nobody to clone an empty volume from).
    Stopped,
    /// Copying the primary's data set (pg_basebackup); a replica at the given time.
    Rebuilding { done_at: SimTime },
    /// Running in recovery: a replica (hot standby), or a demoted primary.
    Replica,
    /// Running as a primary.
    Primary,
}

/// Writes the old primary acknowledged in `(from, to]` that the new primary's history does
/// not hold. The caller counts the writes it saw `old_primary` acknowledge in that span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LostWindow {
    pub from: SimTime,
    pub to: SimTime,
    pub old_primary: usize,
    pub new_primary: usize,
}

/// What the model wants the engine to wake it for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrimaryReplicaTimer {
    /// Member `n`'s HA cycle (`Ha._run_cycle`).
    Cycle(usize),
    /// Member `n`'s leader-key renewal gives up (`retry_timeout` after its cycle began).
    RetryDeadline(usize),
    /// Member `n` has copied the data set.
    Rebuilt(usize),
}

/// Who can reach whom now (both running is checked by the model).
pub trait PrimaryReach {
    /// Whether members `a` and `b` can talk (replication, Patroni's REST API).
    fn peers(&mut self, a: usize, b: usize) -> bool;
    /// Whether member `m` can reach the DCS (the Kubernetes API server).
    fn dcs(&mut self, m: usize) -> bool;
}

/// A pair of closures: `(peers, dcs)`.
impl<P, D> PrimaryReach for (P, D)
where
    P: FnMut(usize, usize) -> bool,
    D: FnMut(usize) -> bool,
{
    fn peers(&mut self, a: usize, b: usize) -> bool {
        (self.0)(a, b)
    }
    fn dcs(&mut self, m: usize) -> bool {
        (self.1)(m)
    }
}

/// A primary's `synchronous_standby_names`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SyncNames {
    /// Empty: commits do not wait.
    Async,
    /// `'*'`: commits wait for any standby (strict mode without a named one).
    Any,
    /// Commits wait for this member.
    One(usize),
}

#[derive(Clone, Debug)]
struct Member {
    up: bool,
    /// The HA cycles run at `phase + k·loop_wait`: the container's start, or the end of a
    /// cycle that overran `loop_wait`.
    phase: SimTime,
    role: Role,
    /// The volume holds a copy of the cluster (false: empty, must clone first).
    has_data: bool,
    /// The timeline its data is on (0: a copy of the empty, not yet initialised cluster).
    timeline: u32,
    /// Its position in the write history as of the model's clock.
    pos: SimTime,
    /// The member it replicates from (`primary_conninfo`), or clones from.
    follows: Option<usize>,
    /// Connected to `follows`, which runs as a primary on a history it can follow.
    streaming: bool,
    /// A primary whose commits succeed now.
    commits: bool,
    sync_names: SyncNames,
    /// When its armed HA cycle runs.
    tick_at: Option<SimTime>,
    /// When its failing leader-key renewal gives up.
    retry_until: Option<SimTime>,
}

/// The leader key: who holds it, and when it was last renewed.
#[derive(Clone, Copy, Debug)]
struct LeaderKey {
    holder: usize,
    /// The last renewal recorded explicitly.
    renewed: SimTime,
    /// While the holder runs as primary and reaches the DCS: it renews at each of its
    /// cycles from this instant on (computed, not simulated).
    renewing_from: Option<SimTime>,
}

/// A PostgreSQL timeline: the history a promotion starts.
#[derive(Clone, Copy, Debug)]
struct Timeline {
    /// The timeline it forked from (0: none).
    parent: u32,
    /// Position in the parent's history where it forked.
    fork: SimTime,
    /// The member promoted onto it.
    writer: usize,
    /// When the writer began taking writes on it.
    start: SimTime,
    /// The writer's last acknowledged write, once it stopped being the primary.
    end: Option<SimTime>,
}

/// Writes being lost while their writer still takes them (split brain).
#[derive(Clone, Copy, Debug)]
struct Pending {
    timeline: u32,
    from: SimTime,
    old_primary: usize,
    new_primary: usize,
}

/// The cluster's state.
#[derive(Debug)]
pub struct PrimaryReplica {
    config: PrimaryReplicaConfig,
    members: Vec<Member>,
    /// The `initialize` key is set.
    initialized: bool,
    key: Option<LeaderKey>,
    /// The primary's position at its last renewal (the `/status` key's `last_lsn`).
    last_lsn: SimTime,
    /// Timeline `n` is `timelines[n - 1]`; the last is the cluster's.
    timelines: Vec<Timeline>,
    /// The `/sync` key: the primary that wrote it and its synchronous standby.
    sync_leader: Option<usize>,
    sync_standby: Option<usize>,
    failovers: u64,
    lost: Vec<LostWindow>,
    pending: Vec<Pending>,
    /// The instant positions were last brought up to date.
    clock: SimTime,
    rng: SimRng,
}

impl PrimaryReplica {
    /// `members` members, none running yet, each volume holding a copy of the (not yet
    /// initialised) cluster: a member of a new set starts with `empty = false`, as there is
    /// nothing to copy yet.
    pub fn new(members: usize, config: PrimaryReplicaConfig, rng: SimRng) -> Self {
        PrimaryReplica {
            config,
            members: vec![
                Member {
                    up: false,
                    phase: SimTime::ZERO,
                    role: Role::Stopped,
                    has_data: true,
                    timeline: 0,
                    pos: SimTime::ZERO,
                    follows: None,
                    streaming: false,
                    commits: false,
                    sync_names: SyncNames::Async,
                    tick_at: None,
                    retry_until: None,
                };
                members
            ],
            initialized: false,
            key: None,
            last_lsn: SimTime::ZERO,
            timelines: Vec::new(),
            sync_leader: None,
            sync_standby: None,
            failovers: 0,
            lost: Vec::new(),
            pending: Vec::new(),
            clock: SimTime::ZERO,
            rng,
        }
    }

    /// The member the leader key names, while it runs as a primary (where the leader
    /// Endpoints send clients).
    pub fn primary(&self) -> Option<usize> {
        let h = self.key?.holder;
        (self.members[h].up && self.members[h].role == Role::Primary).then_some(h)
    }

    /// Whether `m` runs as a primary whose commits succeed now. With fencing off two members
    /// can (split brain); in synchronous mode a primary waiting for its standby cannot.
    pub fn accepts_writes(&self, m: usize) -> bool {
        let member = &self.members[m];
        member.up && member.role == Role::Primary && member.commits
    }

    /// Whether `m` answers reads: any running member with data, replicas included (hot
    /// standby; how stale the answer is, is `replication_lag`).
    pub fn can_serve_read(&self, m: usize) -> bool {
        let member = &self.members[m];
        member.up && matches!(member.role, Role::Primary | Role::Replica)
    }

    /// How far replica `m`'s history trails the primary it streams from, or, cut off, the
    /// current primary's. `None` for a primary, a member not running or rebuilding, or when
    /// there is no primary to trail.
    pub fn replication_lag(&self, now: SimTime, m: usize) -> Option<SimDuration> {
        let member = &self.members[m];
        if !member.up || member.role != Role::Replica {
            return None;
        }
        let source = if member.streaming {
            member.follows
        } else {
            self.primary()
        }?;
        Some(
            self.source_pos(source, now)
                .saturating_since(self.live_pos(m, now)),
        )
    }

    /// Member `m`'s position in the write history (for a primary, its last acknowledged
    /// write); `None` while its volume holds no copy.
    pub fn replication_position(&self, now: SimTime, m: usize) -> Option<SimTime> {
        let member = &self.members[m];
        let copied = member.has_data && !matches!(member.role, Role::Rebuilding { .. });
        (copied && self.initialized).then(|| self.live_pos(m, now))
    }

    pub fn role(&self, m: usize) -> Role {
        self.members[m].role
    }

    /// Promotions that moved the primary to another member.
    pub fn failovers(&self) -> u64 {
        self.failovers
    }

    /// The cluster's timeline (0 before bootstrap; each promotion adds one).
    pub fn timeline(&self) -> u32 {
        self.timelines.len() as u32
    }

    /// The synchronous standby in the `/sync` key.
    pub fn sync_standby(&self) -> Option<usize> {
        self.sync_standby
    }

    /// Data-loss windows found since the last call.
    pub fn take_lost_windows(&mut self) -> Vec<LostWindow> {
        std::mem::take(&mut self.lost)
    }

    /// Windows still growing: an old primary cut off with fencing off takes writes that
    /// will be lost; `to` is `now`. For reports at the end of a run.
    pub fn open_lost_windows(&self, now: SimTime) -> Vec<LostWindow> {
        self.pending
            .iter()
            .map(|p| LostWindow {
                from: p.from,
                to: self.source_pos(p.old_primary, now),
                old_primary: p.old_primary,
                new_primary: p.new_primary,
            })
            .collect()
    }

    /// Member `m`'s container started; `empty` if its volume holds no data (a new claim
    /// replacing one). Returns the timers to arm.
    pub fn start(
        &mut self,
        now: SimTime,
        m: usize,
        empty: bool,
        reach: &mut impl PrimaryReach,
    ) -> Vec<(SimTime, PrimaryReplicaTimer)> {
        self.advance(now);
        let member = &mut self.members[m];
        if !member.up {
            member.up = true;
            member.phase = now;
            if empty {
                member.has_data = false;
                member.timeline = 0;
                member.pos = SimTime::ZERO;
            }
        }
        self.settle(now, reach)
    }

    /// Member `m`'s container stopped (a crash: the leader key is left to expire).
    pub fn stop(
        &mut self,
        now: SimTime,
        m: usize,
        reach: &mut impl PrimaryReach,
    ) -> Vec<(SimTime, PrimaryReplicaTimer)> {
        self.advance(now);
        if self.members[m].role == Role::Primary {
            self.leave_primary(m);
        }
        self.down(m);
        self.settle(now, reach)
    }

    /// Member `m` was asked to stop (SIGTERM, as for a pod deletion): Patroni's `shutdown`
    /// stops PostgreSQL with a fast shutdown, so connected replicas receive all WAL, then
    /// deletes the leader key if it held it; the watch wakes the others, which race at once.
    /// A synchronous standby is first released by the primary.
    pub fn shutdown(
        &mut self,
        now: SimTime,
        m: usize,
        reach: &mut impl PrimaryReach,
    ) -> Vec<(SimTime, PrimaryReplicaTimer)> {
        self.advance(now);
        let holds = self.key.is_some_and(|k| k.holder == m);
        if self.members[m].role == Role::Primary {
            self.flush_replicas(m);
            self.leave_primary(m);
        }
        self.down(m);
        if holds && reach.dcs(m) {
            // `delete_leader(last_lsn)`.
            self.last_lsn = self.members[m].pos;
            self.release_key(now, reach);
        }
        // `while_not_sync_standby`: a synchronous standby has the primary release it
        // before it stops, so commits do not wait for it.
        if let Some(p) = self.primary().filter(|&p| self.current_sync(p) == Some(m))
            && reach.dcs(p)
        {
            self.sync_cycle(p);
        }
        self.settle(now, reach)
    }

    /// Who can reach whom changed.
    pub fn network_changed(
        &mut self,
        now: SimTime,
        reach: &mut impl PrimaryReach,
    ) -> Vec<(SimTime, PrimaryReplicaTimer)> {
        self.advance(now);
        self.settle(now, reach)
    }

    /// A timer the model asked for has come due. Stale timers (no longer armed for that
    /// time) are ignored.
    pub fn on_timer(
        &mut self,
        now: SimTime,
        timer: PrimaryReplicaTimer,
        reach: &mut impl PrimaryReach,
    ) -> Vec<(SimTime, PrimaryReplicaTimer)> {
        let mut timers = Vec::new();
        match timer {
            PrimaryReplicaTimer::Cycle(m) if self.members[m].tick_at == Some(now) => {
                self.advance(now);
                self.members[m].tick_at = None;
                self.cycle(now, m, reach, &mut timers);
            }
            PrimaryReplicaTimer::RetryDeadline(m) if self.members[m].retry_until == Some(now) => {
                self.advance(now);
                self.members[m].retry_until = None;
                let holds = self.key.is_some_and(|k| k.holder == m);
                if holds && self.members[m].role == Role::Primary && !reach.dcs(m) {
                    if self.config.fencing {
                        self.demote_offline(m);
                    } else if self.config.retry_timeout >= self.config.loop_wait {
                        // The cycle overran loop_wait: `Patroni.run` starts the next one at
                        // once and counts the loop from there.
                        self.members[m].phase = now;
                        self.cycle(now, m, reach, &mut timers);
                    }
                }
            }
            PrimaryReplicaTimer::Rebuilt(m)
                if self.members[m].role == (Role::Rebuilding { done_at: now }) =>
            {
                self.advance(now);
                let source = self.members[m].follows.expect("a rebuild has a source");
                let received = (now - self.delay()).min(self.source_pos(source, now));
                let timeline = self.members[source].timeline;
                let member = &mut self.members[m];
                member.role = Role::Replica;
                member.has_data = true;
                member.timeline = timeline;
                member.pos = received;
            }
            _ => return timers,
        }
        timers.extend(self.settle(now, reach));
        timers
    }

    // One HA cycle of member `m` (`Ha._run_cycle`), for the cases a timer is armed for:
    // the primary's renewal without the DCS, its synchronous-standby upkeep, and the
    // leader race after the key expired.
    fn cycle(
        &mut self,
        now: SimTime,
        m: usize,
        reach: &mut impl PrimaryReach,
        timers: &mut Vec<(SimTime, PrimaryReplicaTimer)>,
    ) {
        if !self.members[m].up {
            return;
        }
        let holds = self.key.is_some_and(|k| k.holder == m);
        let role = self.members[m].role;
        if !reach.dcs(m) {
            // `update_lock` retries until the deadline; `network_changed` completes it
            // if the DCS answers before.
            if holds && role == Role::Primary && self.members[m].retry_until.is_none() {
                let at = now + self.config.retry_timeout;
                self.members[m].retry_until = Some(at);
                timers.push((at, PrimaryReplicaTimer::RetryDeadline(m)));
            }
            return;
        }
        match role {
            // `process_healthy_cluster`: the renewal is computed; `process_sync_replication`.
            Role::Primary if holds => self.sync_cycle(m),
            // A demoted primary whose key is still valid: `update_lock` then
            // `enforce_primary_role` ("promoted self to leader because I had the session
            // lock").
            Role::Replica if holds && !self.expired(now) => {
                if let Some(k) = &mut self.key {
                    k.renewed = now;
                    k.renewing_from = Some(now);
                }
                self.promote(m, now);
            }
            Role::Replica if self.expired(now) => self.race(m, now, reach),
            _ => {}
        }
    }

    // `process_unhealthy_cluster`: the healthiest replicas race for the key; `acquire_lock`
    // is a compare-and-set, so of those whose cycles fall at this instant one wins.
    fn race(&mut self, c: usize, now: SimTime, reach: &mut impl PrimaryReach) {
        if !self.healthiest(c, reach) {
            return;
        }
        let mut contenders = vec![c];
        for o in 0..self.members.len() {
            if o != c && self.members[o].tick_at == Some(now) && self.healthiest(o, reach) {
                contenders.push(o);
            }
        }
        contenders.sort_unstable();
        let winner = contenders[self.rng.below(contenders.len() as u64) as usize];
        self.acquire(winner, now);
        self.promote(winner, now);
    }

    fn down(&mut self, m: usize) {
        let member = &mut self.members[m];
        member.up = false;
        member.role = Role::Stopped;
        member.follows = None;
        member.streaming = false;
        member.commits = false;
        member.tick_at = None;
        member.retry_until = None;
    }

    // The leader key is deleted: the watch wakes every member that reaches the DCS, its
    // loop counts from now, and the healthiest race for the key.
    fn release_key(&mut self, now: SimTime, reach: &mut impl PrimaryReach) {
        self.key = None;
        let n = self.members.len();
        for m in 0..n {
            if self.members[m].up && reach.dcs(m) {
                self.members[m].phase = now;
            }
        }
        let contenders: Vec<usize> = (0..n).filter(|&c| self.healthiest(c, reach)).collect();
        if !contenders.is_empty() {
            let winner = contenders[self.rng.below(contenders.len() as u64) as usize];
            self.acquire(winner, now);
            self.promote(winner, now);
        }
    }

    fn acquire(&mut self, m: usize, now: SimTime) {
        self.members[m].tick_at = None;
        self.key = Some(LeaderKey {
            holder: m,
            renewed: now,
            renewing_from: Some(now),
        });
        self.last_lsn = self.members[m].pos;
    }

    // `Ha.is_healthiest_node` / `Ha._is_healthiest_node` for a replica `c`.
    fn healthiest(&self, c: usize, reach: &mut impl PrimaryReach) -> bool {
        let member = &self.members[c];
        if !member.up || member.role != Role::Replica || !reach.dcs(c) {
            return false;
        }
        // A member whose history diverged from the cluster's (it took or received writes
        // on an abandoned timeline) does not race either. Patroni checks timelines in the
        // race only with `check_timeline`, but such a member needs pg_rewind before it can
        // even stream; keeping it out also means writes reported lost stay lost.
        if !self.compatible(member.timeline, member.pos, self.timelines.len() as u32) {
            return false;
        }
        // `sync_mode_is_active`: only the synchronous standby (or the former leader).
        if self.config.synchronous_mode
            && self.sync_leader.is_some()
            && self.sync_standby != Some(c)
            && self.sync_leader != Some(c)
        {
            return false;
        }
        // `is_lagging`: last_lsn − my position > maximum_lag_on_failover.
        let behind = self.last_lsn.saturating_since(member.pos).as_nanos();
        let bytes = u128::from(behind) * u128::from(self.config.wal_bytes_per_sec) / 1_000_000_000;
        if bytes > u128::from(self.config.maximum_lag_on_failover) {
            return false;
        }
        // `fetch_nodes_statuses`: a reachable member still primary, or ahead, wins instead
        // (a diverged member's position is on another history: not comparable).
        let cluster = self.timelines.len() as u32;
        (0..self.members.len()).all(|o| {
            let other = &self.members[o];
            let running = other.up && matches!(other.role, Role::Primary | Role::Replica);
            if o == c || !running || !reach.peers(c, o) {
                return true;
            }
            if other.role == Role::Primary {
                return false;
            }
            !self.compatible(other.timeline, other.pos, cluster) || other.pos <= member.pos
        })
    }

    // `enforce_primary_role` → `Postgresql.promote`: `m` starts a timeline forked at its
    // position. What the previous history held past the fork is lost.
    fn promote(&mut self, m: usize, now: SimTime) {
        let parent = self.members[m].timeline;
        let fork = self.members[m].pos;
        let previous = self.timelines.last().map(|t| t.writer);
        self.record_losses(parent, fork, m);
        self.timelines.push(Timeline {
            parent,
            fork,
            writer: m,
            start: now,
            end: None,
        });
        if previous.is_some_and(|p| p != m) {
            self.failovers += 1;
        }
        let timeline = self.timelines.len() as u32;
        let strict = self.config.synchronous_mode_strict;
        let member = &mut self.members[m];
        member.role = Role::Primary;
        member.timeline = timeline;
        member.follows = None;
        member.streaming = false;
        if self.config.synchronous_mode {
            // `write_sync_state(me, None)` and `synchronous_standby_names` '*' or empty.
            member.sync_names = if strict {
                SyncNames::Any
            } else {
                SyncNames::Async
            };
            self.sync_leader = Some(m);
            self.sync_standby = None;
        }
    }

    // The writes of the current history that the new one (forked from `parent` at `fork`)
    // does not hold: on each timeline from the cluster's back to the common ancestor.
    fn record_losses(&mut self, parent: u32, fork: SimTime, new_primary: usize) {
        let mut kept = Vec::new();
        let (mut x, mut limit) = (parent, fork);
        while x != 0 {
            kept.push((x, limit));
            let t = self.tl(x);
            (x, limit) = (t.parent, t.fork);
        }
        let mut x = self.timelines.len() as u32;
        // How far the current history holds timeline `x` (None: to its end).
        let mut held: Option<SimTime> = None;
        while x != 0 {
            let t = *self.tl(x);
            let keep = kept.iter().find(|&&(y, _)| y == x).map(|&(_, l)| l);
            let from = keep.map_or(t.start, |k| k.max(t.start));
            let end = match held {
                Some(h) => Some(t.end.map_or(h, |e| e.min(h))),
                None => t.end,
            };
            match end {
                Some(to) if to > from => self.lost.push(LostWindow {
                    from,
                    to,
                    old_primary: t.writer,
                    new_primary,
                }),
                Some(_) => {}
                None => self.pending.push(Pending {
                    timeline: x,
                    from,
                    old_primary: t.writer,
                    new_primary,
                }),
            }
            if keep.is_some() {
                break;
            }
            (x, held) = (t.parent, Some(t.fork));
        }
    }

    // A fast shutdown of primary `m`: its walsenders send the replicas all WAL first.
    fn flush_replicas(&mut self, m: usize) {
        let last = self.members[m].pos;
        for r in 0..self.members.len() {
            if self.streams_from(r, m) {
                self.members[r].pos = self.members[r].pos.max(last);
            }
        }
    }

    // `m` stops being a primary: its timeline ends at its last acknowledged write, and
    // writes it took after a newer timeline forked are now lost.
    fn leave_primary(&mut self, m: usize) {
        let member = &mut self.members[m];
        member.commits = false;
        let (id, end) = (member.timeline, member.pos);
        let t = &mut self.timelines[id as usize - 1];
        if t.writer == m && t.end.is_none() {
            t.end = Some(end);
        }
        let lost = &mut self.lost;
        self.pending.retain(|p| {
            if p.timeline != id {
                return true;
            }
            if end > p.from {
                lost.push(LostWindow {
                    from: p.from,
                    to: end,
                    old_primary: p.old_primary,
                    new_primary: p.new_primary,
                });
            }
            false
        });
    }

    // `demote('offline')`: a fast shutdown, so connected replicas receive all WAL first;
    // PostgreSQL restarts read-only, following nobody.
    fn demote_offline(&mut self, m: usize) {
        self.flush_replicas(m);
        self.leave_primary(m);
        let member = &mut self.members[m];
        member.role = Role::Replica;
        member.follows = None;
        member.streaming = false;
    }

    // `process_sync_replication`: keep the synchronous standby while it streams, else pick
    // the streaming replica furthest ahead (lowest ordinal on a tie).
    fn sync_cycle(&mut self, p: usize) {
        if !self.config.synchronous_mode {
            return;
        }
        let current = self.current_sync(p);
        let picked = current.filter(|&s| self.streams_from(s, p)).or_else(|| {
            (0..self.members.len())
                .filter(|&r| self.streams_from(r, p))
                .max_by_key(|&r| (self.members[r].pos, std::cmp::Reverse(r)))
        });
        if picked != current {
            self.members[p].sync_names = match picked {
                Some(s) => SyncNames::One(s),
                None if self.config.synchronous_mode_strict => SyncNames::Any,
                None => SyncNames::Async,
            };
            self.sync_leader = Some(p);
            self.sync_standby = picked;
        }
    }

    fn current_sync(&self, p: usize) -> Option<usize> {
        if self.sync_leader == Some(p) {
            self.sync_standby
        } else {
            None
        }
    }

    fn sync_needs_change(&self, p: usize) -> bool {
        self.config.synchronous_mode
            && match self.current_sync(p) {
                Some(s) => !self.streams_from(s, p),
                None => (0..self.members.len()).any(|r| self.streams_from(r, p)),
            }
    }

    /// Re-evaluates everything that follows at once from the state and the network:
    /// bootstrap, PostgreSQL starts and clones, demotion of a primary that sees another
    /// leader, leader-key bookkeeping, whom replicas follow and whether they stream, whether
    /// commits succeed; then arms the cycles that may act.
    fn settle(
        &mut self,
        now: SimTime,
        reach: &mut impl PrimaryReach,
    ) -> Vec<(SimTime, PrimaryReplicaTimer)> {
        let n = self.members.len();
        let mut timers = Vec::new();
        let dcs: Vec<bool> = (0..n).map(|m| self.members[m].up && reach.dcs(m)).collect();
        // A clone whose source is gone starts over.
        for m in 0..n {
            if let Role::Rebuilding { .. } = self.members[m].role {
                let source = self.members[m].follows.expect("a rebuild has a source");
                if !self.talks_to_primary(m, source, reach) {
                    self.members[m].role = Role::Stopped;
                    self.members[m].follows = None;
                }
            }
        }
        if !self.initialized && dcs.first() == Some(&true) {
            self.bootstrap(now);
        }
        for (m, &in_touch) in dcs.iter().enumerate() {
            if self.members[m].role != Role::Stopped || !in_touch || !self.initialized {
                continue;
            }
            let holder = self.key.map(|k| k.holder);
            let holds = holder == Some(m) && !self.expired(now);
            if self.members[m].has_data {
                if holds {
                    // `recover`: "starting primary after failure" with the key still held.
                    self.restart_primary(m, now);
                } else {
                    self.members[m].role = Role::Replica;
                    self.members[m].follows = holder.filter(|&h| h != m);
                }
                continue;
            }
            if holds {
                // "released leader key voluntarily as data dir empty and currently leader".
                self.release_key(now, reach);
            }
            let holder = self.key.map(|k| k.holder);
            if let Some(h) = holder.filter(|&h| self.talks_to_primary(m, h, reach)) {
                // `Ha.clone` from the leader.
                let bytes = u128::from(self.config.data_bytes) * 1_000_000_000;
                let nanos = bytes / u128::from(self.config.transfer_bytes_per_sec.max(1));
                let done_at = now + SimDuration::from_nanos(nanos as u64);
                self.members[m].role = Role::Rebuilding { done_at };
                self.members[m].follows = Some(h);
                timers.push((done_at, PrimaryReplicaTimer::Rebuilt(m)));
            }
        }
        // A primary that sees another leader demotes: `demote('immediate-nolock')`.
        let holder = self.key.map(|k| k.holder);
        for (m, &in_touch) in dcs.iter().enumerate() {
            if self.members[m].role == Role::Primary && in_touch && holder != Some(m) {
                self.leave_primary(m);
                self.members[m].role = Role::Replica;
                self.members[m].retry_until = None;
            }
        }
        self.keep_key(now, &dcs);
        // Replicas in touch with the DCS follow the leader; a diverged one runs pg_rewind
        // (which needs the leader running).
        for (m, &in_touch) in dcs.iter().enumerate() {
            if self.members[m].role != Role::Replica || !in_touch {
                continue;
            }
            self.members[m].follows = holder.filter(|&h| h != m);
            if let Some(h) = self.members[m].follows {
                let (tl, pos) = (self.members[m].timeline, self.members[m].pos);
                let target = self.members[h].timeline;
                if self.talks_to_primary(m, h, reach) && !self.compatible(tl, pos, target) {
                    self.rewind(m, target);
                }
            }
        }
        for m in 0..n {
            let streaming = self.members[m].role == Role::Replica
                && self.members[m].follows.is_some_and(|p| {
                    let member = &self.members[m];
                    self.talks_to_primary(m, p, reach)
                        && self.compatible(member.timeline, member.pos, self.members[p].timeline)
                });
            self.members[m].streaming = streaming;
            if streaming {
                let p = self.members[m].follows.expect("streaming has a source");
                self.members[m].timeline = self.members[p].timeline;
            }
        }
        for p in 0..n {
            if self.members[p].role == Role::Primary {
                self.members[p].commits = self.commit_possible(p);
            }
        }
        for m in 0..n {
            let mut want = self.wanted_cycle(m, now, &dcs);
            if want.is_some() && self.members[m].tick_at == Some(now) {
                // Its cycle at this instant has not run yet: it still does.
                want = Some(now);
            }
            if want != self.members[m].tick_at {
                self.members[m].tick_at = want;
                if let Some(at) = want {
                    timers.push((at, PrimaryReplicaTimer::Cycle(m)));
                }
            }
        }
        timers
    }

    // `Ha.bootstrap` → initdb, `post_bootstrap` → `take_leader`.
    fn bootstrap(&mut self, now: SimTime) {
        self.initialized = true;
        self.timelines.push(Timeline {
            parent: 0,
            fork: now,
            writer: 0,
            start: now,
            end: None,
        });
        let strict = self.config.synchronous_mode && self.config.synchronous_mode_strict;
        let member = &mut self.members[0];
        member.role = Role::Primary;
        member.has_data = true;
        member.timeline = 1;
        member.pos = now;
        member.follows = None;
        member.sync_names = if strict {
            SyncNames::Any
        } else {
            SyncNames::Async
        };
        self.key = Some(LeaderKey {
            holder: 0,
            renewed: now,
            renewing_from: Some(now),
        });
        self.last_lsn = now;
    }

    // `recover` with the key held: PostgreSQL starts as primary on the same timeline.
    fn restart_primary(&mut self, m: usize, now: SimTime) {
        let member = &mut self.members[m];
        member.role = Role::Primary;
        member.follows = None;
        let t = &mut self.timelines[member.timeline as usize - 1];
        if t.writer == m {
            t.end = None;
        }
        if let Some(k) = &mut self.key {
            k.renewed = now;
            k.renewing_from = Some(now);
        }
    }

    // The key is renewed at each cycle while its holder runs as primary and reaches the
    // DCS; when that stops, the last renewal is fixed, which starts the ttl.
    fn keep_key(&mut self, now: SimTime, dcs: &[bool]) {
        let Some(k) = self.key else {
            return;
        };
        let h = k.holder;
        let renews = self.members[h].role == Role::Primary && dcs[h];
        match (renews, k.renewing_from) {
            (true, Some(_)) => {}
            (true, None) => {
                let mut k = k;
                // A pending renewal succeeds now; otherwise the next cycle renews.
                if self.members[h].retry_until.take().is_some() {
                    k.renewed = now;
                }
                k.renewing_from = Some(now);
                self.key = Some(k);
            }
            (false, Some(_)) => {
                let renewed = self.last_renewal(&k, now);
                self.last_lsn = renewed.min(self.members[h].pos).max(self.last_lsn);
                self.key = Some(LeaderKey {
                    renewed,
                    renewing_from: None,
                    ..k
                });
            }
            (false, None) => {}
        }
    }

    /// The cycle member `m` needs armed, if any: a primary cut off from the DCS tries to
    /// renew (unless a retry is pending); a primary with the DCS fixes its synchronous
    /// standby; a demoted primary still holding the key retakes it; a replica with the DCS
    /// races once the key is not being renewed, at its first cycle after expiry.
    fn wanted_cycle(&self, m: usize, now: SimTime, dcs: &[bool]) -> Option<SimTime> {
        let member = &self.members[m];
        if !member.up || !self.initialized {
            return None;
        }
        let Some(key) = self.key else {
            // Released, and nobody could take it at once: replicas race at their cycles.
            return (member.role == Role::Replica && dcs[m]).then(|| self.next_cycle(m, now));
        };
        match member.role {
            Role::Primary if key.holder == m => {
                let act = if dcs[m] {
                    self.sync_needs_change(m)
                } else {
                    member.retry_until.is_none()
                };
                act.then(|| self.next_cycle(m, now))
            }
            Role::Replica if key.holder == m => dcs[m].then(|| self.next_cycle(m, now)),
            Role::Replica if dcs[m] && key.renewing_from.is_none() => {
                Some(self.next_cycle(m, now.max(key.renewed + self.config.ttl)))
            }
            _ => None,
        }
    }

    /// Member `m`'s first cycle strictly after `after`.
    fn next_cycle(&self, m: usize, after: SimTime) -> SimTime {
        let phase = self.members[m].phase;
        if after < phase {
            return phase;
        }
        let lw = self.config.loop_wait.as_nanos().max(1);
        let k = (after.as_nanos() - phase.as_nanos()) / lw + 1;
        phase + SimDuration::from_nanos(k * lw)
    }

    /// Member `m`'s last cycle at or before `at`.
    fn last_cycle(&self, m: usize, at: SimTime) -> Option<SimTime> {
        let phase = self.members[m].phase;
        let lw = self.config.loop_wait.as_nanos().max(1);
        (at >= phase).then(|| {
            let k = (at.as_nanos() - phase.as_nanos()) / lw;
            phase + SimDuration::from_nanos(k * lw)
        })
    }

    fn last_renewal(&self, k: &LeaderKey, now: SimTime) -> SimTime {
        match (k.renewing_from, self.last_cycle(k.holder, now)) {
            (Some(from), Some(cycle)) if cycle >= from => cycle.max(k.renewed),
            _ => k.renewed,
        }
    }

    /// Whether the key has expired at `now` (valid while `now ≤ renewal + ttl`, as in
    /// `_cluster_from_nodes`).
    fn expired(&self, now: SimTime) -> bool {
        self.key
            .is_none_or(|k| now > self.last_renewal(&k, now) + self.config.ttl)
    }

    fn delay(&self) -> SimDuration {
        self.config.replication_latency + self.config.apply_delay
    }

    fn tl(&self, id: u32) -> &Timeline {
        &self.timelines[id as usize - 1]
    }

    /// Whether `m` runs and can talk to `p`, which runs as a primary.
    fn talks_to_primary(&self, m: usize, p: usize, reach: &mut impl PrimaryReach) -> bool {
        let source = &self.members[p];
        m != p
            && self.members[m].up
            && source.up
            && source.role == Role::Primary
            && reach.peers(m, p)
    }

    fn streams_from(&self, r: usize, p: usize) -> bool {
        let member = &self.members[r];
        member.role == Role::Replica && member.streaming && member.follows == Some(p)
    }

    /// Whether data on timeline `a` at `pos` can follow timeline `b` without pg_rewind:
    /// the same timeline, or `b` descends from `a` through a fork at or after `pos`.
    fn compatible(&self, a: u32, pos: SimTime, b: u32) -> bool {
        if a == 0 || a == b {
            return true;
        }
        let mut x = b;
        while x != 0 {
            let t = self.tl(x);
            if t.parent == a {
                return pos <= t.fork;
            }
            x = t.parent;
        }
        false
    }

    // `Rewind.execute`: back to where `target`'s history left this member's, then onto
    // `target`.
    fn rewind(&mut self, m: usize, target: u32) {
        let own = self.members[m].timeline;
        let on_own_line = |y: u32| {
            let mut x = own;
            while x != 0 {
                if x == y {
                    return true;
                }
                x = self.tl(x).parent;
            }
            false
        };
        let mut common = SimTime::ZERO;
        let mut x = target;
        while x != 0 {
            let t = self.tl(x);
            if on_own_line(t.parent) {
                common = t.fork;
                break;
            }
            x = t.parent;
        }
        let member = &mut self.members[m];
        member.pos = member.pos.min(common);
        member.timeline = target;
    }

    /// Whether a commit on primary `p` succeeds now.
    fn commit_possible(&self, p: usize) -> bool {
        match self.members[p].sync_names {
            SyncNames::Async => true,
            SyncNames::Any => (0..self.members.len()).any(|r| self.streams_from(r, p)),
            SyncNames::One(s) => self.streams_from(s, p),
        }
    }

    /// The standby primary `p`'s commits wait for, if it streams.
    fn sync_of(&self, p: usize) -> Option<usize> {
        match self.members[p].sync_names {
            SyncNames::Async => None,
            SyncNames::Any => (0..self.members.len()).find(|&r| self.streams_from(r, p)),
            SyncNames::One(s) => self.streams_from(s, p).then_some(s),
        }
    }

    /// Where `p` stands as a source: a committing primary is at `now`.
    fn source_pos(&self, p: usize, now: SimTime) -> SimTime {
        let member = &self.members[p];
        if member.role == Role::Primary && member.commits {
            now
        } else {
            member.pos
        }
    }

    /// Member `m`'s position at `now` (≥ the clock), from the state as of the clock.
    fn live_pos(&self, m: usize, now: SimTime) -> SimTime {
        let member = &self.members[m];
        match member.follows {
            _ if member.role == Role::Primary => self.source_pos(m, now),
            Some(p) if member.streaming => {
                let source = self.source_pos(p, now);
                let received = if self.sync_of(p) == Some(m) {
                    source
                } else {
                    source.min(now - self.delay())
                };
                member.pos.max(received)
            }
            _ => member.pos,
        }
    }

    /// Brings every position up to `now` under the relations that held since the clock.
    fn advance(&mut self, now: SimTime) {
        debug_assert!(
            now >= self.clock,
            "time went back: {now:?} < {:?}",
            self.clock
        );
        let pos: Vec<SimTime> = (0..self.members.len())
            .map(|m| self.live_pos(m, now))
            .collect();
        for (member, p) in self.members.iter_mut().zip(pos) {
            member.pos = p;
        }
        self.clock = now;
    }
}

#[cfg(test)]
mod tests;
