//! Replication lag as a time-weighted distribution, exact: each replica's lag is linear
//! in time between two status changes — constant while it streams, growing one second
//! per second while it is cut off from a primary that takes writes — so the measure of
//! time with lag ≤ v is a sum of steps (constant pieces) and ramps (growing pieces), and
//! its percentiles are found by solving a linear equation between breakpoints, in
//! integer nanoseconds. "p99 lag 2 s" means: replicas trailed by 2 s or less for 99 % of
//! replica-time.

use crate::infra::apps::Lag;
use crate::time::{SimDuration, SimTime};

/// One replica's lag over `[from, to)`: `start` at `from`, growing with slope 1 if
/// `growing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LagPiece {
    pub from: SimTime,
    pub to: SimTime,
    pub start: SimDuration,
    pub growing: bool,
}

impl LagPiece {
    /// The part of this piece at or after `from`.
    fn clipped(self, from: SimTime) -> Option<LagPiece> {
        if self.to <= from {
            return None;
        }
        if self.from >= from {
            return Some(self);
        }
        let skipped = from.saturating_since(self.from);
        Some(LagPiece {
            from,
            start: if self.growing {
                self.start + skipped
            } else {
                self.start
            },
            ..self
        })
    }

    fn length(&self) -> i128 {
        i128::from(self.to.saturating_since(self.from).as_nanos())
    }

    fn end_value(&self) -> i128 {
        let start = i128::from(self.start.as_nanos());
        if self.growing {
            start + self.length()
        } else {
            start
        }
    }
}

/// Follows the lag of every member of one app.
#[derive(Clone, Debug, Default)]
pub struct LagRecorder {
    /// Per member: the open piece (since, lag then).
    open: Vec<Option<(SimTime, Lag)>>,
    pieces: Vec<LagPiece>,
}

impl LagRecorder {
    /// The members' lags from `at` on.
    pub fn on_status(&mut self, at: SimTime, lags: &[Option<Lag>]) {
        if self.open.len() < lags.len() {
            self.open.resize(lags.len(), None);
        }
        for (m, lag) in lags.iter().enumerate() {
            if let Some((since, l)) = self.open[m].take()
                && at > since
            {
                self.pieces.push(LagPiece {
                    from: since,
                    to: at,
                    start: l.now,
                    growing: l.growing,
                });
            }
            self.open[m] = lag.map(|l| (at, l));
        }
    }

    /// Every piece from `from` to `end`.
    pub fn finish(mut self, from: SimTime, end: SimTime) -> Vec<LagPiece> {
        let open: Vec<_> = self.open.iter().flatten().copied().collect();
        for (since, l) in open {
            if end > since {
                self.pieces.push(LagPiece {
                    from: since,
                    to: end,
                    start: l.now,
                    growing: l.growing,
                });
            }
        }
        self.pieces
            .into_iter()
            .filter_map(|p| p.clipped(from))
            .collect()
    }
}

/// The time-weighted `percentile` (1–100; 100 is the largest lag) of `pieces`; `None`
/// if no replica was measured.
pub fn percentile(pieces: &[LagPiece], percentile: u32) -> Option<SimDuration> {
    let total: i128 = pieces.iter().map(LagPiece::length).sum();
    if total == 0 {
        return None;
    }
    if percentile >= 100 {
        let max = pieces.iter().map(LagPiece::end_value).max()?;
        return Some(SimDuration::from_nanos(max as u64));
    }
    // The smallest v with measure{lag ≤ v} ≥ target.
    let target = ceil_div(total * i128::from(percentile), 100);
    let measure = |v: i128| -> i128 {
        pieces
            .iter()
            .map(|p| {
                let start = i128::from(p.start.as_nanos());
                if p.growing {
                    (v - start).clamp(0, p.length())
                } else if start <= v {
                    p.length()
                } else {
                    0
                }
            })
            .sum()
    };
    let mut points: Vec<i128> = pieces
        .iter()
        .flat_map(|p| [i128::from(p.start.as_nanos()), p.end_value()])
        .collect();
    points.sort_unstable();
    points.dedup();
    let mut below = 0i128; // the breakpoint before, whose measure is < target
    for &b in &points {
        if measure(b) >= target {
            // Between `below` and `b` the measure grows linearly with the number of ramps
            // that span the interval; it jumps only at breakpoints.
            let at_below = measure(below);
            let ramps = pieces
                .iter()
                .filter(|p| {
                    p.growing && i128::from(p.start.as_nanos()) <= below && p.end_value() >= b
                })
                .count() as i128;
            let v = if ramps == 0 || b == below {
                b
            } else {
                (below + ceil_div(target - at_below, ramps)).min(b)
            };
            return Some(SimDuration::from_nanos(v.max(0) as u64));
        }
        below = b;
    }
    points.last().map(|&v| SimDuration::from_nanos(v as u64))
}

/// ⌈a / b⌉ for a ≥ 0, b > 0.
fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1) / b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }
    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }
    fn lag(s: u64, growing: bool) -> Option<Lag> {
        Some(Lag {
            now: secs(s),
            growing,
        })
    }

    #[test]
    fn percentiles_of_steps_and_ramps_on_a_hand_computed_timeline() {
        // One replica: lag 0 s for 80 s, then cut off for 20 s (0 → 20 s), then back to 0.
        let mut r = LagRecorder::default();
        r.on_status(t(0), &[None, lag(0, false)]);
        r.on_status(t(80), &[None, lag(0, true)]);
        r.on_status(t(100), &[None, lag(0, false)]);
        let pieces = r.finish(t(0), t(100));
        // Measure of lag ≤ v: 80 s + v (for v ≤ 20 s), out of 100 s.
        assert_eq!(percentile(&pieces, 50), Some(secs(0)));
        assert_eq!(percentile(&pieces, 80), Some(secs(0)));
        assert_eq!(percentile(&pieces, 90), Some(secs(10)));
        assert_eq!(percentile(&pieces, 99), Some(secs(19)));
        assert_eq!(percentile(&pieces, 100), Some(secs(20)));
        // Measured from 90 s only: the ramp from 10 s to 20 s.
        let late = {
            let mut r = LagRecorder::default();
            r.on_status(t(0), &[lag(0, false)]);
            r.on_status(t(80), &[lag(0, true)]);
            r.on_status(t(100), &[lag(0, false)]);
            r.finish(t(90), t(100))
        };
        assert_eq!(percentile(&late, 50), Some(secs(15)));
        assert_eq!(percentile(&[], 50), None);
    }
}
