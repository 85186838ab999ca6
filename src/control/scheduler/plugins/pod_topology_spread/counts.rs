//! `countPodsMatchSelector` kept per node between scheduling cycles (not upstream, which
//! counts every node's pods again in every cycle): a count depends only on the node's
//! pods, the selector and the namespace, and the node's pods change only with its
//! [`NodeInfo::generation`], so a count is reused while the generation is the same.
//! In a scale-up, one node changes per cycle and the 49 others are looked up.
//!
//! A cycle first numbers its (selector, namespace) pairs ([`MatchCounts::key`], one
//! comparison of selectors per pair and cycle), then looks counts up by node and number.

use super::{Constraint, count_pods_match_selector};
use crate::api::LabelSelector;
use crate::control::scheduler::cache::NodeInfo;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Above this many distinct (selector, namespace) pairs everything is forgotten, so that
/// ever new selectors cannot grow the memo without bound.
const MAX_KEYS: usize = 64;

/// A (selector, namespace) pair by number (see [`MatchCounts::key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountKey(usize);

/// The counts of one node, valid for one generation.
#[derive(Debug, Default)]
struct NodeCounts {
    generation: u64,
    counts: Vec<(usize, i64)>,
}

#[derive(Debug, Default)]
struct Memo {
    /// The (selector, namespace) pairs seen, numbered by position.
    keys: Vec<(Option<LabelSelector>, String)>,
    nodes: BTreeMap<String, NodeCounts>,
}

/// Counts by node name and (selector, namespace) pair (see the module notes).
#[derive(Debug, Default)]
pub struct MatchCounts(RefCell<Memo>);

impl MatchCounts {
    /// The number of `c`'s selector with `namespace`, for [`MatchCounts::count`] in this
    /// cycle.
    pub fn key(&self, c: &Constraint, namespace: &str) -> CountKey {
        let mut memo = self.0.borrow_mut();
        if let Some(i) = memo
            .keys
            .iter()
            .position(|(s, ns)| *s == c.selector && ns == namespace)
        {
            return CountKey(i);
        }
        if memo.keys.len() == MAX_KEYS {
            *memo = Memo::default();
        }
        memo.keys.push((c.selector.clone(), namespace.to_string()));
        CountKey(memo.keys.len() - 1)
    }

    /// [`count_pods_match_selector`] of `node`, `c`'s selector and `namespace`, where
    /// `key` is their [`MatchCounts::key`] of this cycle.
    pub fn count(&self, node: &NodeInfo, c: &Constraint, namespace: &str, key: CountKey) -> i64 {
        // A NodeInfo made outside a cache has no generation to key on.
        if node.generation == 0 {
            return count_pods_match_selector(node, c, namespace);
        }
        let mut memo = self.0.borrow_mut();
        let entry = match memo.nodes.get_mut(node.name.as_str()) {
            Some(e) => e,
            None => memo.nodes.entry(node.name.clone()).or_default(),
        };
        if entry.generation != node.generation {
            entry.generation = node.generation;
            entry.counts.clear();
        }
        if let Some((_, n)) = entry.counts.iter().find(|(k, _)| *k == key.0) {
            return *n;
        }
        let n = count_pods_match_selector(node, c, namespace);
        entry.counts.push((key.0, n));
        n
    }
}
