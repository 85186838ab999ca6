//! The application SLIs, integrated exactly over simulated time from each app's status
//! (`infra::apps`): quorum availability (share of time the leader can commit), write and
//! read availability as the clients see them (weighted by each zone's request rate, so
//! a zone sending twice the writes counts twice), leader elections, the intervals with
//! quorum lost, and the time to recover writes after each fault.
//!
//! As for pods, an app is measured from the end of its warm-up — the first moment every
//! client group's writes succeed — because a cluster starting from nothing is not an
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
}

impl AppSignals {
    fn writes_full(&self) -> bool {
        self.levels.writes_ok == self.write_rates.iter().sum::<i64>()
    }
}

/// A fault whose write recovery is being timed.
#[derive(Clone, Copy, Debug)]
struct Pending {
    at: SimTime,
    degraded: bool,
}

/// Follows every app's status.
#[derive(Debug, Default)]
pub struct AppRecorder {
    apps: Vec<AppSignals>,
    pending: Vec<Pending>,
    recovered: Vec<SimDuration>,
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
                })
                .collect(),
            pending: Vec::new(),
            recovered: Vec::new(),
            series: Vec::new(),
        }
    }

    /// A fault begins: time the recovery of writes from it.
    pub fn on_fault(&mut self, at: SimTime) {
        if self.apps.is_empty() {
            return;
        }
        let degraded = self.degraded();
        self.pending.push(Pending { at, degraded });
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
        match &mut a.measured {
            Some(m) => m.set(at, l),
            None if full && l.quorum => a.measured = Some(Measured::starting(at, l)),
            None => return,
        }
        track(&mut a.quorum_lost, at, !l.quorum);
        track(&mut a.write_outages, at, !full);
        if !self.degraded() {
            let recovered = &mut self.recovered;
            self.pending.retain(|p| {
                if p.degraded {
                    recovered.push(at.saturating_since(p.at));
                }
                !p.degraded
            });
        } else {
            for p in &mut self.pending {
                p.degraded = true;
            }
        }
    }

    /// The SLIs at `end`, the write recoveries (recovered, not recovered by the end) and
    /// the series of statuses.
    pub fn finish(self, end: SimTime) -> AppsFinished {
        let mut recovered = self.recovered;
        let mut not_recovered = Vec::new();
        for p in self.pending {
            if p.degraded {
                not_recovered.push(end.saturating_since(p.at));
            } else {
                recovered.push(SimDuration::ZERO);
            }
        }
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
