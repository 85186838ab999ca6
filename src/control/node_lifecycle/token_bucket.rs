//! The rate limiters of the zone tainting queues: client-go `flowcontrol`'s
//! `tokenBucketRateLimiter` (over `golang.org/x/time/rate.Limiter`) and its
//! `fakeNeverRateLimiter`, with the arithmetic of `x/time/rate` kept exactly (float64
//! tokens, a duration truncated to whole nanoseconds) so that acceptance instants match.
//!
//! A new bucket is full (`rate.NewLimiter` starts with no last event, so the first
//! `advance` fills it to `burst`). With burst 1 and 0.1 qps the first request passes at
//! once and the next one 10 s later. The qps arrives as `float32` (the controller's flag
//! type) and is widened to `float64`: 0.01 as `float32` is a little below 0.01, so 100 s
//! of refill is a hair short of one token and the next 100 ms check is the one that
//! passes.

use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};

#[derive(Clone, Debug)]
pub struct TokenBucket {
    /// The qps it was made with (`QPS()` returns it unchanged).
    qps: f32,
    /// `rate.Limit`: tokens per second.
    limit: f64,
    burst: i64,
    tokens: f64,
    /// The instant of the last accepted request; `None` for a new limiter.
    last: Option<SimTime>,
}

impl TokenBucket {
    /// `flowcontrol.NewTokenBucketRateLimiter(qps, burst)`.
    pub fn new(qps: f32, burst: i64) -> Self {
        TokenBucket {
            qps,
            limit: f64::from(qps),
            burst,
            tokens: 0.0,
            last: None,
        }
    }

    /// `Limiter.advance`: the tokens at `t`, refilled since the last event and capped at
    /// the burst.
    fn tokens_at(&self, t: SimTime) -> f64 {
        let Some(last) = self.last else {
            return self.burst as f64;
        };
        let elapsed = t.saturating_since(last).as_nanos();
        // `tokensFromDuration`: `d.Seconds() * limit`.
        let secs = (elapsed / NANOS_PER_SEC) as f64 + (elapsed % NANOS_PER_SEC) as f64 / 1e9;
        let tokens = self.tokens + secs * self.limit;
        tokens.min(self.burst as f64)
    }

    /// `reserveN(t, 1, 0).ok` without the state change: whether `TryAccept` at `t` passes.
    pub fn would_accept(&self, t: SimTime) -> bool {
        if self.limit == 0.0 {
            // A zero limit allows `burst` events in all, then none.
            return self.burst >= 1;
        }
        if self.burst < 1 {
            return false;
        }
        let remaining = self.tokens_at(t) - 1.0;
        remaining >= 0.0 || duration_from_tokens(-remaining, self.limit) == Some(0)
    }

    /// `TryAccept` (`AllowN(now, 1)`).
    pub fn try_accept(&mut self, t: SimTime) -> bool {
        if !self.would_accept(t) {
            return false;
        }
        if self.limit == 0.0 {
            self.burst -= 1;
            return true;
        }
        self.tokens = self.tokens_at(t) - 1.0;
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
        true
    }

    /// A lower bound on the first instant at or after `from` at which a request passes:
    /// when the refill reaches one token (callers check the exact rule around it).
    pub fn refill_estimate(&self, from: SimTime) -> Option<SimTime> {
        if self.limit == 0.0 {
            return (self.burst >= 1).then_some(from);
        }
        if self.limit < 0.0 || self.burst < 1 {
            return None;
        }
        let Some(last) = self.last else {
            return Some(from);
        };
        let missing = 1.0 - self.tokens;
        if missing <= 0.0 {
            return Some(from);
        }
        let nanos = missing / self.limit * 1e9;
        if !nanos.is_finite() || nanos >= (u64::MAX / 2) as f64 {
            return None;
        }
        Some(from.max(last.saturating_add(SimDuration::from_nanos(nanos as u64))))
    }

    pub fn qps(&self) -> f32 {
        self.qps
    }
}

/// `durationFromTokens`: whole nanoseconds (truncated) to gather `tokens`.
fn duration_from_tokens(tokens: f64, limit: f64) -> Option<u64> {
    if limit <= 0.0 {
        return None;
    }
    let nanos = tokens / limit * 1e9;
    if nanos > i64::MAX as f64 {
        return None;
    }
    Some(nanos as u64)
}

/// `flowcontrol.RateLimiter` as the tainting queues use it.
#[derive(Clone, Debug)]
pub enum RateLimiter {
    TokenBucket(TokenBucket),
    /// `NewFakeNeverRateLimiter`: never accepts; its `QPS()` says 1.
    Never,
}

impl RateLimiter {
    pub fn try_accept(&mut self, t: SimTime) -> bool {
        match self {
            RateLimiter::TokenBucket(b) => b.try_accept(t),
            RateLimiter::Never => false,
        }
    }
    pub fn would_accept(&self, t: SimTime) -> bool {
        match self {
            RateLimiter::TokenBucket(b) => b.would_accept(t),
            RateLimiter::Never => false,
        }
    }
    pub fn qps(&self) -> f32 {
        match self {
            RateLimiter::TokenBucket(b) => b.qps(),
            RateLimiter::Never => 1.0,
        }
    }
    pub fn refill_estimate(&self, from: SimTime) -> Option<SimTime> {
        match self {
            RateLimiter::TokenBucket(b) => b.refill_estimate(from),
            RateLimiter::Never => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_ms(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn a_new_bucket_is_full_then_refills_at_its_rate() {
        let mut b = TokenBucket::new(0.1, 1);
        assert!(b.try_accept(at_ms(1_000)));
        assert!(!b.try_accept(at_ms(1_000)));
        assert!(!b.would_accept(at_ms(10_900)));
        // 0.1f32 is a hair above 0.1: 10 s of refill is a full token.
        assert!(b.would_accept(at_ms(11_000)));
        assert!(b.try_accept(at_ms(11_000)));
        assert!(!b.would_accept(at_ms(20_999)));
        assert!(b.would_accept(at_ms(21_000)));
    }

    #[test]
    fn the_secondary_rate_of_a_float32_hundredth_needs_a_little_over_100_s() {
        let mut b = TokenBucket::new(0.01, 1);
        assert!(b.try_accept(at_ms(0)));
        // 0.01f32 = 0.00999999977648…: after exactly 100 s, 2.2e-8 of a token is missing,
        // which is 2 235 ns of refill — not within the nanosecond that truncation forgives.
        assert!(!b.would_accept(at_ms(100_000)));
        assert!(b.would_accept(at_ms(100_000) + SimDuration::from_nanos(2_236)));
        assert!(b.would_accept(at_ms(100_100)));
        let est = b.refill_estimate(at_ms(1)).unwrap();
        assert!(est > at_ms(100_000) && est < at_ms(100_001), "{est:?}");
    }

    #[test]
    fn zero_limit_spends_the_burst_and_never_limiter_refuses() {
        let mut b = TokenBucket::new(0.0, 1);
        assert!(b.try_accept(at_ms(0)));
        assert!(!b.try_accept(at_ms(1_000_000)));
        let mut never = RateLimiter::Never;
        assert!(!never.try_accept(at_ms(0)));
        assert_eq!(never.qps(), 1.0);
        assert_eq!(never.refill_estimate(at_ms(0)), None);
    }
}
