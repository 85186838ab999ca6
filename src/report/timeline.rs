//! The human timeline, in the spirit of `kubectl get events -w` with simulated timestamps:
//! Kubernetes Events, operator actions and controller notes, one line each.

use crate::api::K8sEvent;
use crate::time::SimTime;
use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineLine {
    pub at: SimTime,
    /// `Normal`, `Warning`, `Action`, `Note`, `Fault`.
    pub type_: String,
    pub reason: String,
    /// `kind/name` as kubectl prints it, e.g. `statefulset/web`, or empty.
    pub object: String,
    pub message: String,
}

impl TimelineLine {
    pub fn from_event(at: SimTime, e: &K8sEvent) -> Self {
        let kind = e.involved_object.kind.to_ascii_lowercase();
        TimelineLine {
            at,
            type_: e.type_.clone(),
            reason: e.reason.clone(),
            object: format!("{kind}/{}", e.involved_object.name),
            message: if e.count > 1 {
                format!("{} (x{})", e.message, e.count)
            } else {
                e.message.clone()
            },
        }
    }
}

pub const HEADER: &str =
    "TIME           TYPE     REASON                  OBJECT                         MESSAGE";

/// One line, columns padded like kubectl's table printer (wider cells push the rest right).
/// A message of several lines (the output of `kubectl get`) continues below, indented
/// past the time column.
pub fn format_line(l: &TimelineLine) -> String {
    let mut s = String::with_capacity(128);
    let mut lines = l.message.split('\n');
    let _ = write!(
        s,
        "{}  {:<7}  {:<22}  {:<29}  {}",
        l.at,
        l.type_,
        l.reason,
        l.object,
        lines.next().unwrap_or_default()
    );
    for line in lines {
        let _ = write!(s, "\n{CONTINUATION}{line}");
    }
    s
}

/// The indent of a message's continuation lines: the width of `+HH:MM:SS.mmm  `.
const CONTINUATION: &str = "               ";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    #[test]
    fn lines_line_up() {
        let l = TimelineLine {
            at: SimTime::ZERO + SimDuration::from_millis(1500),
            type_: "Normal".into(),
            reason: "SuccessfulCreate".into(),
            object: "statefulset/web".into(),
            message: "create Pod web-0 in StatefulSet web successful".into(),
        };
        let text = format_line(&l);
        assert!(
            text.starts_with("+00:00:01.500  Normal   SuccessfulCreate        statefulset/web")
        );
        assert_eq!(text.find("create Pod"), HEADER.find("MESSAGE"));
    }

    #[test]
    fn command_output_continues_below_past_the_time_column() {
        let l = TimelineLine {
            at: SimTime::ZERO,
            type_: "Action".into(),
            reason: "kubectl".into(),
            object: String::new(),
            message: "kubectl get sts\nNAME   READY   AGE\nweb    3/3     5m".into(),
        };
        let text = format_line(&l);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].ends_with("kubectl get sts"));
        assert_eq!(lines[1], "               NAME   READY   AGE");
        assert_eq!(lines[2].find("web"), Some("+00:00:00.000  ".len()));
    }
}
