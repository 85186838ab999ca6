//! Simulated time: integer nanoseconds since the start of a run, and Go-style durations.
//!
//! Simulated time never comes from a clock. `SimTime` is an instant on the simulated
//! timeline, `SimDuration` a span; both are whole nanoseconds so that ordering and
//! arithmetic are exact and a trace is byte-identical across machines.

use std::fmt;

/// Nanoseconds in common units.
pub const NANOS_PER_MICRO: u64 = 1_000;
pub const NANOS_PER_MILLI: u64 = 1_000_000;
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant on the simulated timeline, in nanoseconds since the run began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_millis(self) -> u64 {
        self.0 / NANOS_PER_MILLI
    }
    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// `self + d`, saturating at the end of time (a timer that never fires).
    pub fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(
            self.0
                .checked_add(d.0)
                .expect("simulated time overflowed u64 nanoseconds"),
        )
    }
}

impl std::ops::Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }
    pub const fn from_micros_u64(us: u64) -> Self {
        SimDuration(us * NANOS_PER_MICRO)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * NANOS_PER_MILLI)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NANOS_PER_SEC)
    }
    pub const fn from_mins(m: u64) -> Self {
        SimDuration(m * 60 * NANOS_PER_SEC)
    }
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_millis(self) -> u64 {
        self.0 / NANOS_PER_MILLI
    }
    pub fn as_secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    pub fn saturating_mul(self, k: u64) -> Self {
        SimDuration(self.0.saturating_mul(k))
    }
    pub fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }
    pub fn saturating_sub(self, other: Self) -> Self {
        SimDuration(self.0.saturating_sub(other.0))
    }
}

impl std::ops::Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

/// Error from [`parse_duration`]: the text and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {text:?}: {reason} (use Go syntax such as \"90s\", \"5m\", \"1h30m\", \"250ms\")"
)]
pub struct DurationError {
    pub text: String,
    pub reason: &'static str,
}

/// Parses a duration in Go's `time.ParseDuration` syntax: a sequence of decimal numbers,
/// each with an optional fraction and a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), such as
/// `"90s"`, `"1h30m"`, `"1.5s"`. `"0"` alone is allowed. Negative durations are refused:
/// nothing in a scenario can last less than nothing.
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let err = |reason| DurationError {
        text: text.to_string(),
        reason,
    };
    let s = text.trim();
    if s == "0" {
        return Ok(SimDuration::ZERO);
    }
    if s.is_empty() {
        return Err(err("empty"));
    }
    if s.starts_with('-') {
        return Err(err("negative durations are not allowed"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: u128 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &s[start..i];
        let mut frac_part = "";
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let fs = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac_part = &s[fs..i];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err("expected a number"));
        }
        let us = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() && bytes[i] != b'.' {
            i += 1;
        }
        let unit_nanos: u128 = match &s[us..i] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(err("missing unit")),
            _ => return Err(err("unknown unit")),
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| err("number too large"))?
        };
        let mut nanos = whole
            .checked_mul(unit_nanos)
            .ok_or_else(|| err("too large"))?;
        // Fraction: exact decimal arithmetic, truncating below a nanosecond as Go does.
        let mut scale = unit_nanos;
        for d in frac_part.bytes().take(30) {
            scale /= 10;
            nanos += u128::from(d - b'0') * scale;
        }
        total = total.checked_add(nanos).ok_or_else(|| err("too large"))?;
    }
    u64::try_from(total)
        .map(SimDuration)
        .map_err(|_| err("too large"))
}

/// Formats like Go's `Duration.String()`: `1h30m0s`, `2.5s`, `150ms`, `0s`.
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n == 0 {
            return f.write_str("0s");
        }
        if n < NANOS_PER_SEC {
            let (unit, div) = if n < NANOS_PER_MICRO {
                ("ns", 1)
            } else if n < NANOS_PER_MILLI {
                ("µs", NANOS_PER_MICRO)
            } else {
                ("ms", NANOS_PER_MILLI)
            };
            return write!(f, "{}{}", frac(n, div), unit);
        }
        let h = n / (3600 * NANOS_PER_SEC);
        let m = (n / (60 * NANOS_PER_SEC)) % 60;
        let s_n = n % (60 * NANOS_PER_SEC);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if h > 0 || m > 0 {
            write!(f, "{m}m")?;
        }
        write!(f, "{}s", frac(s_n, NANOS_PER_SEC))
    }
}

/// `n / div` as a decimal with trailing zeros removed.
fn frac(n: u64, div: u64) -> String {
    let whole = n / div;
    let rest = n % div;
    if rest == 0 {
        return whole.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Fixed-width timeline stamp, `+HH:MM:SS.mmm` (hours grow past 99 if needed).
impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 / NANOS_PER_MILLI;
        let (h, m, s, milli) = (
            ms / 3_600_000,
            (ms / 60_000) % 60,
            (ms / 1000) % 60,
            ms % 1000,
        );
        write!(f, "+{h:02}:{m:02}:{s:02}.{milli:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("0s", 0),
            ("90s", 90 * NANOS_PER_SEC),
            ("5m", 300 * NANOS_PER_SEC),
            ("1h30m", 5400 * NANOS_PER_SEC),
            ("1.5s", 1_500 * NANOS_PER_MILLI),
            ("250ms", 250 * NANOS_PER_MILLI),
            ("2m3s", 123 * NANOS_PER_SEC),
            ("10us", 10_000),
            ("10µs", 10_000),
            ("7ns", 7),
            (".5h", 1800 * NANOS_PER_SEC),
            ("1h0m0.001s", 3600 * NANOS_PER_SEC + NANOS_PER_MILLI),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse_duration(text), Ok(SimDuration(*nanos)), "{text}");
        }
    }

    #[test]
    fn rejects_bad_durations() {
        for text in ["", "5", "-1s", "1x", "s", "1.s.", "99999999999999999999h"] {
            assert!(parse_duration(text).is_err(), "{text} should fail");
        }
        let e = parse_duration("10 minutes").unwrap_err();
        assert!(e.to_string().contains("unknown unit"), "{e}");
    }

    #[test]
    fn displays_like_go() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (90 * NANOS_PER_SEC, "1m30s"),
            (5400 * NANOS_PER_SEC, "1h30m0s"),
            (1_500 * NANOS_PER_MILLI, "1.5s"),
            (150 * NANOS_PER_MILLI, "150ms"),
            (123 * NANOS_PER_SEC, "2m3s"),
            (1_500, "1.5µs"),
        ];
        for (nanos, text) in cases {
            assert_eq!(SimDuration(*nanos).to_string(), *text);
            assert_eq!(parse_duration(text).unwrap(), SimDuration(*nanos));
        }
    }

    #[test]
    fn timeline_stamp_is_fixed_width() {
        assert_eq!(SimTime(0).to_string(), "+00:00:00.000");
        assert_eq!(
            SimTime(3_723_045 * NANOS_PER_MILLI).to_string(),
            "+01:02:03.045"
        );
    }
}
