//! Why a pod fits nowhere: `framework.Diagnosis` and `FitError`, whose message is what
//! users read in `FailedScheduling` events, e.g.
//! `0/6 nodes are available: 3 Insufficient cpu, 3 node(s) were unschedulable.`

use std::collections::{BTreeMap, BTreeSet};

/// `ErrNoNodesAvailable`: the message when the cluster has no nodes at all.
pub const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";

/// `framework.Diagnosis`.
#[derive(Clone, Debug, Default)]
pub struct Diagnosis {
    /// The reasons of each node a filter rejected, one entry per node (upstream's
    /// `NodeToStatus` map by node name: the message only counts the reasons, and a cycle
    /// filters a node once, so a list in filter order says the same without a map insert
    /// and a name copy for every rejected node).
    pub node_to_status: Vec<Vec<String>>,
    /// Reasons for the nodes a PreFilter result left out (`AbsentNodesStatus`).
    pub absent_nodes_reasons: Vec<String>,
    /// Plugins that rejected the pod somewhere; they decide which events requeue it.
    pub unschedulable_plugins: BTreeSet<&'static str>,
    /// The message of a PreFilter rejection of every node.
    pub pre_filter_msg: String,
}

/// `framework.FitError`.
#[derive(Clone, Debug)]
pub struct FitError {
    pub num_all_nodes: usize,
    pub diagnosis: Diagnosis,
}

impl FitError {
    /// `FitError.Error()`: a histogram of reasons, each "<count> <reason>", sorted as
    /// strings (so "10 …" sorts before "3 …", as upstream's `sort.Strings` does), joined
    /// by ", " and ended with a full stop. A PreFilter rejection replaces the histogram.
    /// Preemption's own sentence (`PostFilterMsg`) is not appended: preemption is not
    /// modelled yet.
    pub fn message(&self) -> String {
        let mut msg = format!("0/{} nodes are available:", self.num_all_nodes);
        let d = &self.diagnosis;
        if !d.pre_filter_msg.is_empty() {
            msg.push_str(&format!(" {}.", d.pre_filter_msg));
            return msg;
        }
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for status in &d.node_to_status {
            for r in status {
                *reasons.entry(r).or_default() += 1;
            }
        }
        let absent = self.num_all_nodes.saturating_sub(d.node_to_status.len());
        if absent > 0 {
            for r in &d.absent_nodes_reasons {
                *reasons.entry(r).or_default() += absent;
            }
        }
        let mut parts: Vec<String> = reasons
            .into_iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        parts.sort();
        if !parts.is_empty() {
            msg.push_str(&format!(" {}.", parts.join(", ")));
        }
        msg
    }
}

/// `validation.NoteLengthLimit`: Event messages longer than this are cut.
const NOTE_LENGTH_LIMIT: usize = 1024;

/// `truncateMessage`: cut an Event message to the API's limit, ending with " ...".
pub fn truncate_message(message: &str) -> String {
    if message.len() <= NOTE_LENGTH_LIMIT {
        return message.to_string();
    }
    let suffix = " ...";
    let mut end = NOTE_LENGTH_LIMIT - suffix.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &message[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(n: usize, statuses: &[(&str, &[&str])]) -> FitError {
        let mut d = Diagnosis::default();
        for (_node, reasons) in statuses {
            d.node_to_status
                .push(reasons.iter().map(|r| r.to_string()).collect());
        }
        FitError {
            num_all_nodes: n,
            diagnosis: d,
        }
    }

    #[test]
    fn mixed_reasons_are_counted_and_sorted() {
        let e = fit(
            6,
            &[
                ("a1", &["node(s) were unschedulable"]),
                ("a2", &["Insufficient cpu"]),
                ("b1", &["node(s) were unschedulable"]),
                ("b2", &["Insufficient cpu"]),
                ("c1", &["node(s) were unschedulable"]),
                ("c2", &["Insufficient cpu"]),
            ],
        );
        assert_eq!(
            e.message(),
            "0/6 nodes are available: 3 Insufficient cpu, 3 node(s) were unschedulable."
        );
    }

    #[test]
    fn one_node_can_give_several_reasons_and_counts_sort_as_strings() {
        let mut statuses: Vec<(String, Vec<&str>)> = (0..10)
            .map(|i| (format!("x{i}"), vec!["node(s) had untolerated taint {a: }"]))
            .collect();
        statuses.push(("y".into(), vec!["Insufficient cpu", "Insufficient memory"]));
        let mut d = Diagnosis::default();
        for (_n, r) in statuses {
            d.node_to_status
                .push(r.into_iter().map(String::from).collect());
        }
        let e = FitError {
            num_all_nodes: 11,
            diagnosis: d,
        };
        assert_eq!(
            e.message(),
            "0/11 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, \
             10 node(s) had untolerated taint {a: }."
        );
    }

    #[test]
    fn absent_nodes_and_prefilter_messages() {
        let mut e = fit(6, &[("a1", &["Insufficient cpu"])]);
        e.diagnosis.absent_nodes_reasons =
            vec!["node(s) didn't satisfy plugin(s) [NodeAffinity]".into()];
        assert_eq!(
            e.message(),
            "0/6 nodes are available: 1 Insufficient cpu, \
             5 node(s) didn't satisfy plugin(s) [NodeAffinity]."
        );
        let mut e = fit(3, &[]);
        e.diagnosis.pre_filter_msg = "pod affinity terms conflict".into();
        assert_eq!(
            e.message(),
            "0/3 nodes are available: pod affinity terms conflict."
        );
        assert_eq!(fit(0, &[]).message(), "0/0 nodes are available:");
    }

    #[test]
    fn long_messages_are_truncated() {
        let long = "x".repeat(2000);
        let t = truncate_message(&long);
        assert_eq!(t.len(), 1024);
        assert!(t.ends_with(" ..."));
        assert_eq!(truncate_message("short"), "short");
    }
}
