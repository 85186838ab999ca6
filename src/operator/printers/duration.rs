//! Ages as kubectl prints them: apimachinery's `duration.HumanDuration` and the printers'
//! `translateTimestampSince` (`5m`, `2m5s`, `3h5m`, `<invalid>` for a time in the future).

use crate::api::Timestamp;
use crate::time::SimTime;

// Port of k8s.io/apimachinery/pkg/util/duration.HumanDuration.
pub fn human_duration(nanos: i128) -> String {
    const SEC: i128 = 1_000_000_000;
    let secs = nanos / SEC; // Go's int(d.Seconds()) truncates toward zero
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 60 * 2 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

// Port of printers.go `translateTimestampSince`: `<unknown>` for an unset time.
pub fn since(ts: Option<Timestamp>, now: SimTime) -> String {
    match ts {
        None => "<unknown>".into(),
        Some(t) => human_duration(i128::from(now.0) - i128::from(t.time().0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i128) -> String {
        human_duration(s * 1_000_000_000)
    }

    #[test]
    fn thresholds_match_apimachinery() {
        assert_eq!(secs(-5), "<invalid>");
        assert_eq!(human_duration(-1_500_000_000), "0s");
        assert_eq!(secs(0), "0s");
        assert_eq!(secs(119), "119s");
        assert_eq!(secs(120), "2m");
        assert_eq!(secs(125), "2m5s");
        assert_eq!(secs(599), "9m59s");
        assert_eq!(secs(600), "10m");
        assert_eq!(secs(179 * 60 + 59), "179m");
        assert_eq!(secs(3 * 3600), "3h");
        assert_eq!(secs(3 * 3600 + 5 * 60), "3h5m");
        assert_eq!(secs(8 * 3600), "8h");
        assert_eq!(secs(47 * 3600), "47h");
        assert_eq!(secs(50 * 3600), "2d2h");
        assert_eq!(secs(8 * 86_400), "8d");
        assert_eq!(secs(730 * 86_400), "2y");
        assert_eq!(secs(731 * 86_400), "2y1d");
        assert_eq!(secs(9 * 365 * 86_400), "9y");
    }
}
