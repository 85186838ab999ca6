//! Named random streams: one independent, reproducible stream per component.
//!
//! Every component draws from its own stream, derived from `(run seed, label)` by a fixed
//! hash, so one more draw in the scheduler never shifts what a kubelet draws. This is what
//! keeps traces byte-identical and makes paired what-if runs (common random numbers) work.
//! Continuous samplers are written on `libm` so results do not depend on the platform's
//! `ln`/`exp`.

use crate::time::SimDuration;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// Derives the named streams of one run.
#[derive(Clone, Debug)]
pub struct RngStreams {
    seed: u64,
}

impl RngStreams {
    pub fn new(seed: u64) -> Self {
        RngStreams { seed }
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The stream named `label`, e.g. `"scheduler"` or `"kubelet/node-a-1"`. The same
    /// `(seed, label)` always gives the same sequence.
    pub fn stream(&self, label: &str) -> SimRng {
        SimRng(ChaCha8Rng::seed_from_u64(stream_seed(self.seed, label)))
    }
}

/// FNV-1a over the label, mixed with the run seed by SplitMix64's finaliser. Fixed forever:
/// changing it changes every trace.
pub fn stream_seed(seed: u64, label: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = seed ^ h;
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One random stream. Draws are `u64`-based so they do not depend on `usize` width.
#[derive(Clone, Debug)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform integer in `0..n` (Lemire's method, unbiased). `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no values");
        loop {
            let x = self.next_u64();
            let m = u128::from(x) * u128::from(n);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        assert!(den > 0, "chance with a zero denominator");
        num >= den || self.below(den) < num
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by Box–Muller on `libm`.
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit_f64(); // (0, 1]
        let u2 = self.unit_f64();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(1.0 - self.unit_f64())
    }

    /// Log-normal with the given median and shape `sigma` (of the underlying normal).
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * libm::exp(sigma * self.standard_normal())
    }

    /// A duration drawn from `dist`, rounded to whole microseconds so traces stay tidy.
    pub fn duration(&mut self, dist: &Latency) -> SimDuration {
        let nanos = match *dist {
            Latency::Fixed(d) => return d,
            Latency::Uniform { min, max } => {
                if max <= min {
                    return min;
                }
                return SimDuration(min.0 + self.below(max.0 - min.0 + 1));
            }
            Latency::LogNormal { median, sigma } => self.lognormal(median.0 as f64, sigma),
            Latency::Exponential { mean } => self.exponential(mean.0 as f64),
        };
        let micros = (nanos / 1_000.0).round();
        SimDuration((micros.clamp(0.0, 1.0e15) as u64) * 1_000)
    }
}

/// A latency distribution as scenario files and built-in profiles describe it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    Fixed(SimDuration),
    Uniform { min: SimDuration, max: SimDuration },
    LogNormal { median: SimDuration, sigma: f64 },
    Exponential { mean: SimDuration },
}

impl Latency {
    pub const ZERO: Latency = Latency::Fixed(SimDuration::ZERO);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ChaCha8 golden values from the design notes: if these change, every trace does.
    #[test]
    fn chacha8_golden_values() {
        let mut r = ChaCha8Rng::seed_from_u64(42);
        assert_eq!(r.next_u64(), 0xae90_bfb5_395d_5ba1);
        assert_eq!(r.next_u64(), 0xf345_3fc6_2579_9188);
    }

    /// First draw of stream "scheduler" for seed 42, recorded when the derivation was fixed.
    const GOLDEN_SCHEDULER_42: u64 = 18_379_822_555_406_059_092;

    #[test]
    fn streams_are_named_and_reproducible() {
        let s = RngStreams::new(7);
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = s.stream("scheduler");
                move |_| r.next_u64()
            })
            .collect();
        let mut again = s.stream("scheduler");
        assert_eq!(a, (0..4).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(
            s.stream("kubelet/a").next_u64(),
            s.stream("kubelet/b").next_u64()
        );
        assert_ne!(RngStreams::new(8).stream("scheduler").next_u64(), a[0]);
        // Golden: the derivation of stream seeds is part of the trace contract.
        assert_eq!(stream_seed(42, "scheduler"), stream_seed(42, "scheduler"));
        assert_eq!(stream_seed(0, ""), 14_087_677_454_934_409_008);
        assert_eq!(
            RngStreams::new(42).stream("scheduler").next_u64(),
            GOLDEN_SCHEDULER_42
        );
    }

    #[test]
    fn integer_helpers_stay_in_range() {
        let mut r = RngStreams::new(1).stream("t");
        for n in [1u64, 2, 3, 7, 1000, u64::MAX] {
            for _ in 0..200 {
                assert!(r.below(n) < n);
            }
        }
        assert!(r.chance(1, 1));
        assert!(!r.chance(0, 5));
        let hits = (0..10_000).filter(|_| r.chance(1, 4)).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
    }

    #[test]
    fn samplers_have_the_right_centre() {
        let mut r = RngStreams::new(3).stream("samplers");
        let n = 20_000;
        let mut xs: Vec<f64> = (0..n).map(|_| r.lognormal(2.0, 0.5)).collect();
        xs.sort_by(f64::total_cmp);
        let median = xs[n / 2];
        assert!((1.9..2.1).contains(&median), "{median}");
        let mean: f64 = (0..n).map(|_| r.exponential(3.0)).sum::<f64>() / n as f64;
        assert!((2.85..3.15).contains(&mean), "{mean}");
    }
}
