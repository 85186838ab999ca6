//! The application SLIs, integrated exactly over simulated time from each app's status
//! (`infra::apps`): quorum availability (share of time the leader can commit), write and
//! read availability as the clients see them (weighted by each zone's request rate, so
//! a zone sending twice the writes counts twice), leader elections, the intervals with
//! quorum lost, and the time to recover writes after each fault.
//!
//! As for pods, an app is measured from the end of its warm-up — the first moment every
//! client group's writes and reads succeed — because a cluster starting from nothing is not an
//! outage; an app that never got there is measured from the start of the run.

use super::integral::Integral;
use crate::infra::apps::AppStatus;
use crate::scenario::AppSpec;
use crate::time::{SimDuration, SimTime};

/// An interval, open while it lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub from: SimTime,
    pub to: Option<SimTime>,
}

impl Span {
    pub fn length(&self, end: SimTime) -> SimDuration {
        self.to.unwrap_or(end).saturating_since(self.from)
    }
}

/// One change of an app's status: a row of `app-metrics.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSeriesRow {
    pub at: SimTime,
    pub namespace: String,
    pub app: String,
    /// The leader's pod name, if there is a leader.
    pub leader: Option<String>,
    pub term: u64,
    pub quorum: bool,
    pub members_running: usize,
    pub members: usize,
    /// Requests per second that succeed, and offered.
    pub writes_ok: i64,
    pub writes: i64,
    pub reads_ok: i64,
    pub reads: i64,
}

/// One app's SLIs at the end of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSlis {
    pub name: String,
    pub namespace: String,
    pub stateful_set: String,
    pub model: &'static str,
    pub measured_from: SimTime,
    pub warmed_up: bool,
    pub measured_time: i128,
    /// ∫ 1{leader can commit} dt (ns).
    pub quorum_time: i128,
    /// ∫ successful write (read) rate dt and ∫ offered rate dt, in requests·ns/s.
    pub writes_ok_area: i128,
    pub writes_area: i128,
    pub reads_ok_area: i128,
    pub reads_area: i128,
    /// Leaders elected while measured (the first election is part of the warm-up).
    pub leader_elections: u64,
    /// While measured: the leader could not commit.
    pub quorum_lost: Vec<Span>,
    /// While measured: some client group's writes failed.
    pub write_outages: Vec<Span>,
    /// primaryReplica: promotions that moved the primary (after the warm-up).
    pub failovers: u64,
    /// Acknowledged writes a failover discarded (primaryReplica), in requests·ns/s: divide
    /// by 10⁹ for writes.
    pub writes_lost_area: i128,
    /// Each data-loss window: the acknowledged history a failover discarded.
    pub loss_windows: Vec<LossWindow>,
    /// Time with two or more members taking writes (split brain).
    pub split_brain: Vec<Span>,
    /// Every replica's lag while measured (primaryReplica), for its time-weighted
    /// percentiles (`sli::lag`).
    pub lag: Vec<super::lag::LagPiece>,
}

/// Writes acknowledged by `old` in `(from, to]` that the new primary does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LossWindow {
    pub from: SimTime,
    pub to: SimTime,
    pub old: String,
    pub new: String,
    /// Acknowledged writes lost (whole writes, rounded down).
    pub writes: i128,
}

impl AppSlis {
    /// Whole writes lost.
    pub fn writes_lost(&self) -> i128 {
        self.writes_lost_area / 1_000_000_000
    }
}

#[derive(Clone, Debug)]
struct Measured {
    quorum: Integral,
    writes: Integral,
    reads: Integral,
    elections_at_start: u64,
}

impl Measured {
    fn starting(at: SimTime, l: Levels) -> Self {
        Measured {
            quorum: Integral::starting(at, i64::from(l.quorum)),
            writes: Integral::starting(at, l.writes_ok),
            reads: Integral::starting(at, l.reads_ok),
            elections_at_start: l.elections,
        }
    }
    fn set(&mut self, at: SimTime, l: Levels) {
        self.quorum.set(at, i64::from(l.quorum));
        self.writes.set(at, l.writes_ok);
        self.reads.set(at, l.reads_ok);
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Levels {
    quorum: bool,
    writes_ok: i64,
    reads_ok: i64,
    elections: u64,
}

#[derive(Debug)]
struct AppSignals {
    name: String,
    namespace: String,
    stateful_set: String,
    model: &'static str,
    start_ordinal: i32,
    write_rates: Vec<i64>,
    read_rates: Vec<i64>,
    levels: Levels,
    measured: Option<Measured>,
    from_start: Measured,
    quorum_lost: Vec<Span>,
    write_outages: Vec<Span>,
    split_brain: Vec<Span>,
    failovers_at_start: u64,
    failovers: u64,
    /// Per member: the write rate it acknowledged, as (from, level) steps.
    acks: Vec<Vec<(SimTime, i64)>>,
    writes_lost_area: i128,
    loss_windows: Vec<LossWindow>,
    lag: super::lag::LagRecorder,
}

impl AppSignals {
    fn member(&self, m: usize) -> String {
        format!("{}-{}", self.stateful_set, self.start_ordinal + m as i32)
    }

    /// ∫ over (from, to] of the write rate member `m` acknowledged (requests·ns/s).
    fn acked(&self, m: usize, from: SimTime, to: SimTime) -> i128 {
        let steps = &self.acks[m];
        let mut area = 0i128;
        for (i, &(at, level)) in steps.iter().enumerate() {
            let end = steps.get(i + 1).map_or(to, |&(next, _)| next).min(to);
            let start = at.max(from);
            if end > start {
                area += i128::from(level) * i128::from(end.0 - start.0);
            }
        }
        area
    }

    fn writes_full(&self) -> bool {
        self.levels.writes_ok == self.write_rates.iter().sum::<i64>()
    }

    fn reads_full(&self) -> bool {
        self.levels.reads_ok == self.read_rates.iter().sum::<i64>()
    }
}

/// Follows every app's status.
#[derive(Debug, Default)]
pub struct AppRecorder {
    apps: Vec<AppSignals>,
    /// Per fault: until every app's clients can write again.
    recoveries: super::recovery::RecoveryClocks,
    series: Vec<AppSeriesRow>,
}

impl AppRecorder {
    pub fn new(specs: &[AppSpec]) -> Self {
        AppRecorder {
            apps: specs
                .iter()
                .map(|s| AppSignals {
                    name: s.name.clone(),
                    namespace: s.namespace.clone(),
                    stateful_set: s.stateful_set.clone(),
                    model: s.model.name(),
                    start_ordinal: s.start_ordinal,
                    write_rates: s
                        .clients
                        .iter()
                        .map(|c| c.writes_per_second as i64)
                        .collect(),
                    read_rates: s
                        .clients
                        .iter()
                        .map(|c| c.reads_per_second as i64)
                        .collect(),
                    levels: Levels::default(),
                    measured: None,
                    from_start: Measured::starting(SimTime::ZERO, Levels::default()),
                    quorum_lost: Vec::new(),
                    write_outages: Vec::new(),
                    split_brain: Vec::new(),
                    failovers_at_start: 0,
                    failovers: 0,
                    acks: vec![vec![(SimTime::ZERO, 0)]; s.members as usize],
                    writes_lost_area: 0,
                    loss_windows: Vec::new(),
                    lag: Default::default(),
                })
                .collect(),
            recoveries: Default::default(),
            series: Vec::new(),
        }
    }

    /// A fault begins: time the recovery of writes from it.
    pub fn on_fault(&mut self, at: SimTime) {
        if self.apps.is_empty() {
            return;
        }
        let degraded = self.degraded();
        self.recoveries.fault(at, degraded);
    }

    /// Some measured app's clients lack writes.
    fn degraded(&self) -> bool {
        self.apps
            .iter()
            .any(|a| a.measured.is_some() && !a.writes_full())
    }

    /// App number `i`'s status is now `s`.
    pub fn on_status(&mut self, at: SimTime, i: usize, s: &AppStatus) {
        let a = &mut self.apps[i];
        let rate = |rates: &[i64], ok: &[bool]| -> i64 {
            rates
                .iter()
                .zip(ok)
                .filter(|(_, ok)| **ok)
                .map(|(r, _)| r)
                .sum()
        };
        a.levels = Levels {
            quorum: s.quorum,
            writes_ok: rate(&a.write_rates, &s.writes_ok),
            reads_ok: rate(&a.read_rates, &s.reads_ok),
            elections: s.elections,
        };
        a.failovers = s.failovers;
        for (m, steps) in a.acks.iter_mut().enumerate() {
            let level: i64 = s
                .write_targets
                .iter()
                .zip(&a.write_rates)
                .filter(|(t, _)| **t == Some(m))
                .map(|(_, r)| r)
                .sum();
            if steps.last().is_some_and(|&(_, l)| l != level) {
                steps.push((at, level));
            }
        }
        for w in &s.lost {
            let area = a.acked(w.old_primary, w.from, w.to);
            a.writes_lost_area += area;
            a.loss_windows.push(LossWindow {
                from: w.from,
                to: w.to,
                old: a.member(w.old_primary),
                new: a.member(w.new_primary),
                writes: area / 1_000_000_000,
            });
        }
        track(&mut a.split_brain, at, s.writers.len() > 1);
        a.lag.on_status(at, &s.lag);
        let l = a.levels;
        self.series.push(AppSeriesRow {
            at,
            namespace: a.namespace.clone(),
            app: a.name.clone(),
            leader: s
                .leader
                .map(|m| format!("{}-{}", a.stateful_set, a.start_ordinal + m as i32)),
            term: s.term,
            quorum: s.quorum,
            members_running: s.running.iter().filter(|r| **r).count(),
            members: s.running.len(),
            writes_ok: l.writes_ok,
            writes: a.write_rates.iter().sum(),
            reads_ok: l.reads_ok,
            reads: a.read_rates.iter().sum(),
        });
        a.from_start.set(at, l);
        let full = a.writes_full();
        let served = full && a.reads_full();
        match &mut a.measured {
            Some(m) => m.set(at, l),
            None if served && l.quorum => {
                a.measured = Some(Measured::starting(at, l));
                a.failovers_at_start = s.failovers;
            }
            None => return,
        }
        track(&mut a.quorum_lost, at, !l.quorum);
        track(&mut a.write_outages, at, !full);
        if self.degraded() {
            self.recoveries.degraded();
        } else {
            self.recoveries.whole(at);
        }
    }

    /// The SLIs at `end`, the write recoveries (recovered, not recovered by the end) and
    /// the series of statuses.
    pub fn finish(self, end: SimTime) -> AppsFinished {
        let (recovered, not_recovered) = self.recoveries.finish(end);
        let apps = self
            .apps
            .into_iter()
            .map(|a| {
                let warmed_up = a.measured.is_some();
                let m = a.measured.unwrap_or(a.from_start);
                let from = m.quorum.from();
                let measured_time = i128::from(end.0.saturating_sub(from.0));
                let per_sec = |rates: &[i64]| i128::from(rates.iter().sum::<i64>()) * measured_time;
                AppSlis {
                    name: a.name,
                    namespace: a.namespace,
                    stateful_set: a.stateful_set,
                    model: a.model,
                    measured_from: from,
                    warmed_up,
                    measured_time,
                    quorum_time: m.quorum.area_until(end),
                    writes_ok_area: m.writes.area_until(end),
                    writes_area: per_sec(&a.write_rates),
                    reads_ok_area: m.reads.area_until(end),
                    reads_area: per_sec(&a.read_rates),
                    leader_elections: a.levels.elections - m.elections_at_start,
                    quorum_lost: a.quorum_lost,
                    write_outages: a.write_outages,
                    failovers: a.failovers - a.failovers_at_start,
                    writes_lost_area: a.writes_lost_area,
                    loss_windows: a.loss_windows,
                    split_brain: a.split_brain,
                    lag: a.lag.finish(from, end),
                }
            })
            .collect();
        AppsFinished {
            apps,
            recovered,
            not_recovered,
            series: self.series,
        }
    }
}

pub struct AppsFinished {
    pub apps: Vec<AppSlis>,
    pub recovered: Vec<SimDuration>,
    pub not_recovered: Vec<SimDuration>,
    pub series: Vec<AppSeriesRow>,
}

/// Opens a span when `bad` starts, closes it when it ends.
fn track(spans: &mut Vec<Span>, at: SimTime, bad: bool) {
    let open = spans.last().is_some_and(|s| s.to.is_none());
    if bad && !open {
        spans.push(Span { from: at, to: None });
    } else if !bad && open {
        spans.last_mut().expect("an open span").to = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::apps::primary_replica::LostWindow;
    use crate::infra::apps::quorum::QuorumConfig;
    use crate::scenario::{AppModel, ClientSpec, ReadConsistency};

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    /// An app with two client groups writing 100/s and 300/s.
    fn recorder() -> AppRecorder {
        let client = |zone: &str, i: u32, writes: u64| ClientSpec {
            zone: zone.into(),
            zone_index: i,
            writes_per_second: writes,
            reads_per_second: 0,
        };
        AppRecorder::new(&[AppSpec {
            name: "etcd".into(),
            namespace: "default".into(),
            stateful_set: "etcd".into(),
            service: "etcd".into(),
            members: 3,
            start_ordinal: 0,
            model: AppModel::Quorum(QuorumConfig::default()),
            reads: ReadConsistency::Linearizable,
            clients: vec![client("a", 0, 100), client("b", 1, 300)],
        }])
    }

    fn status(writes: [bool; 2], quorum: bool, elections: u64) -> AppStatus {
        AppStatus {
            leader: quorum.then_some(0),
            term: elections,
            elections,
            quorum,
            running: vec![true; 3],
            current: vec![true; 3],
            writes_ok: writes.to_vec(),
            reads_ok: writes.to_vec(),
            write_targets: writes.iter().map(|ok| ok.then_some(0)).collect(),
            writers: Vec::new(),
            failovers: 0,
            lost: Vec::new(),
            lag: Vec::new(),
        }
    }

    #[test]
    fn write_availability_is_the_exact_rate_weighted_area_on_a_hand_computed_timeline() {
        let mut r = recorder();
        r.on_status(t(0), 0, &status([false, false], false, 0));
        r.on_status(t(10), 0, &status([true, true], true, 1)); // warm-up ends
        r.on_fault(t(20));
        r.on_status(t(30), 0, &status([true, false], true, 1)); // zone b cut off
        r.on_status(t(40), 0, &status([false, false], false, 1)); // leader lost
        r.on_status(t(45), 0, &status([true, true], true, 2)); // re-elected
        let done = r.finish(t(100));
        let a = &done.apps[0];
        let s = 1_000_000_000i128;
        assert_eq!(a.measured_from, t(10));
        assert_eq!(a.measured_time, 90 * s);
        // 400 writes/s for 90 s, less zone b (300/s) from 30 s to 45 s and zone a (100/s)
        // from 40 s to 45 s.
        assert_eq!(a.writes_area, 400 * 90 * s);
        assert_eq!(a.writes_ok_area, (36_000 - 4_500 - 500) * s);
        assert_eq!(a.quorum_time, 85 * s);
        assert_eq!(a.leader_elections, 1, "the first election is the warm-up's");
        assert_eq!(
            a.quorum_lost,
            [Span {
                from: t(40),
                to: Some(t(45))
            }]
        );
        assert_eq!(
            a.write_outages,
            [Span {
                from: t(30),
                to: Some(t(45))
            }]
        );
        // The fault at 20 s: writes degraded at 30 s, whole again at 45 s.
        assert_eq!(done.recovered, [SimDuration::from_secs(25)]);
        assert!(done.not_recovered.is_empty());
    }

    #[test]
    fn lost_writes_are_the_old_primarys_acknowledged_rate_over_the_window() {
        let mut r = recorder();
        let mut s = status([true, true], true, 1);
        r.on_status(t(10), 0, &s);
        // From 50 s zone b writes to member 1 (promoted); zone a stays on member 0.
        s.write_targets = vec![Some(0), Some(1)];
        s.writers = vec![0, 1];
        r.on_status(t(50), 0, &s);
        // At 60 s member 0 stops; what it acknowledged after 40 s is lost.
        s.write_targets = vec![None, Some(1)];
        s.writers = vec![1];
        s.writes_ok = vec![false, true];
        s.lost = vec![LostWindow {
            from: t(40),
            to: t(60),
            old_primary: 0,
            new_primary: 1,
        }];
        r.on_status(t(60), 0, &s);
        let a = &r.finish(t(100)).apps[0];
        // (40, 50]: 400/s → 4,000; (50, 60]: 100/s → 1,000.
        assert_eq!(a.writes_lost(), 5_000);
        assert_eq!(a.loss_windows[0].writes, 5_000);
        assert_eq!(
            (
                a.loss_windows[0].old.as_str(),
                a.loss_windows[0].new.as_str()
            ),
            ("etcd-0", "etcd-1")
        );
        assert_eq!(
            a.split_brain,
            [Span {
                from: t(50),
                to: Some(t(60))
            }]
        );
    }

    #[test]
    fn an_app_that_never_serves_writes_is_measured_from_the_start() {
        let mut r = recorder();
        r.on_status(t(0), 0, &status([false, false], false, 0));
        r.on_status(t(30), 0, &status([false, false], false, 0));
        let a = &r.finish(t(60)).apps[0];
        assert!(!a.warmed_up);
        assert_eq!(a.measured_from, t(0));
        assert_eq!(
            (a.writes_ok_area, a.writes_area),
            (0, 400 * 60 * 1_000_000_000)
        );
    }
}
