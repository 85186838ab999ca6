//! Exact time integrals of step signals: a level that holds between changes, integrated
//! in (level × nanoseconds) with integer arithmetic, so that an SLI over a run is the
//! exact area under its signal — no sampling, no floating-point drift.

use crate::time::SimTime;

/// A piecewise-constant level and its area since `from`.
#[derive(Clone, Debug)]
pub struct Integral {
    level: i64,
    since: SimTime,
    area: i128,
    from: SimTime,
}

impl Integral {
    /// Starts integrating at `from` with `level`.
    pub fn starting(from: SimTime, level: i64) -> Self {
        Integral {
            level,
            since: from,
            area: 0,
            from,
        }
    }

    /// The level changes to `level` at `at` (not before the last change).
    pub fn set(&mut self, at: SimTime, level: i64) {
        self.advance(at);
        self.level = level;
    }

    fn advance(&mut self, at: SimTime) {
        let at = at.max(self.since);
        self.area += i128::from(self.level) * i128::from(at.0 - self.since.0);
        self.since = at;
    }

    /// The area from `from` to `at` (level × ns).
    pub fn area_until(&self, at: SimTime) -> i128 {
        let at = at.max(self.since);
        self.area + i128::from(self.level) * i128::from(at.0 - self.since.0)
    }

    pub fn from(&self) -> SimTime {
        self.from
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn area_is_exact_on_a_hand_computed_timeline() {
        // 3 ready from 10 s, 2 from 40 s, 3 from 70 s; measured to 100 s:
        // 3·30 + 2·30 + 3·30 = 240 replica-seconds.
        let mut i = Integral::starting(t(10), 3);
        i.set(t(40), 2);
        i.set(t(70), 3);
        assert_eq!(i.area_until(t(100)), 240 * 1_000_000_000);
        // Two changes at the same instant leave no area between them.
        i.set(t(100), 0);
        i.set(t(100), 1);
        assert_eq!(i.area_until(t(101)), 241 * 1_000_000_000);
        assert_eq!(i.from(), t(10));
    }
}
