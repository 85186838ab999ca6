//! `metrics.csv`: the time series behind the availability SLIs, one row per change of a
//! StatefulSet's desired or available replicas, as the SLIs integrate them; and, when the
//! scenario runs apps, `app-metrics.csv`: one row per change of an app's status (leader,
//! quorum, running members, successful and offered request rates).

use crate::sli::{AppSeriesRow, SeriesRow};
use std::fmt::Write as _;

pub const HEADER: &str = "t_ms,namespace,statefulset,desired,available,full_redundancy";

/// The CSV text (header, then one row per change, in time order).
pub fn render(series: &[SeriesRow]) -> String {
    let mut s = String::with_capacity(64 * (series.len() + 1));
    s.push_str(HEADER);
    s.push('\n');
    for r in series {
        let ns = r.at.as_nanos();
        let _ = writeln!(
            s,
            "{}.{:06},{},{},{},{},{}",
            ns / 1_000_000,
            ns % 1_000_000,
            r.namespace,
            r.name,
            r.desired,
            r.available,
            u8::from(r.available >= r.desired)
        );
    }
    s
}

pub const APP_HEADER: &str = "t_ms,namespace,app,leader,term,quorum,members_running,members,writes_ok_per_s,writes_per_s,reads_ok_per_s,reads_per_s";

/// `app-metrics.csv` (header, then one row per change, in time order).
pub fn render_apps(series: &[AppSeriesRow]) -> String {
    let mut s = String::with_capacity(96 * (series.len() + 1));
    s.push_str(APP_HEADER);
    s.push('\n');
    for r in series {
        let ns = r.at.as_nanos();
        let _ = writeln!(
            s,
            "{}.{:06},{},{},{},{},{},{},{},{},{},{},{}",
            ns / 1_000_000,
            ns % 1_000_000,
            r.namespace,
            r.app,
            r.leader.as_deref().unwrap_or(""),
            r.term,
            u8::from(r.quorum),
            r.members_running,
            r.members,
            r.writes_ok,
            r.writes,
            r.reads_ok,
            r.reads
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{SimDuration, SimTime};

    #[test]
    fn one_row_per_change_with_exact_times() {
        let row = |ms: u64, available: i64| SeriesRow {
            at: SimTime::ZERO + SimDuration::from_millis(ms),
            namespace: "default".into(),
            name: "web".into(),
            desired: 3,
            available,
        };
        assert_eq!(
            render(&[row(1500, 2), row(90_000, 3)]),
            format!("{HEADER}\n1500.000000,default,web,3,2,0\n90000.000000,default,web,3,3,1\n")
        );
    }
}
