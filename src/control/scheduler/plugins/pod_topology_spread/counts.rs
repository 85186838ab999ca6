//! `countPodsMatchSelector` kept per node between scheduling cycles (not upstream, which
//! counts every node's pods again in every cycle): a count depends only on the node's
//! pods, the selector and the namespace, and the node's pods change only with its
//! [`NodeInfo::generation`], so a count is reused while the generation is the same.
//! In a scale-up, one node changes per cycle and the 49 others are looked up.
//!
//! Counts are kept by the node's position in the cycle's node list (the cache's nodes in
//! name order, which only changes when a node comes or goes) and checked against the
//! node's name and generation, so a look-up is a string comparison, not a search.
//!
//! A cycle first numbers its (selector, namespace) pairs ([`MatchCounts::key`], one
//! comparison of selectors per pair and cycle), then looks counts up by node and number.

use super::{Constraint, count_pods_match_selector};
use crate::api::LabelSelector;
use crate::control::scheduler::cache::NodeInfo;
use crate::hash::fmix64;
use std::cell::RefCell;

/// Above this many distinct (selector, namespace) pairs everything is forgotten, so that
/// ever new selectors cannot grow the memo without bound.
const MAX_KEYS: usize = 64;

/// A (selector, namespace) pair by number (see [`MatchCounts::key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountKey(usize);

/// A hash of a (selector, namespace) pair: equal pairs hash alike (the selector's parts
/// in order, each string with its length so that no two splits of one text collide).
fn key_hash(selector: Option<&LabelSelector>, namespace: &str) -> u64 {
    fn add(h: u64, s: &str) -> u64 {
        let mut h = fmix64(h ^ s.len() as u64);
        for chunk in s.as_bytes().chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            h = fmix64(h ^ u64::from_le_bytes(word));
        }
        h
    }
    let mut h = add(0, namespace);
    let Some(selector) = selector else {
        return h;
    };
    h = fmix64(h ^ 1);
    for (k, v) in &selector.match_labels {
        h = add(add(h, k), v);
    }
    for e in &selector.match_expressions {
        h = add(add(fmix64(h ^ 2), &e.key), &e.operator);
        for v in &e.values {
            h = add(h, v);
        }
    }
    h
}

/// The counts of one node, valid for one name and generation.
#[derive(Debug, Default)]
struct NodeCounts {
    name: String,
    generation: u64,
    counts: Vec<(usize, i64)>,
}

#[derive(Debug, Default)]
struct Memo {
    /// The (selector, namespace) pairs seen, numbered by position, each with its
    /// [`key_hash`] (compared first: a cycle's pair is looked for among every pair seen,
    /// and whole selectors of one namespace compare equal for most of their length).
    keys: Vec<(u64, Option<LabelSelector>, String)>,
    /// By the node's position in the cycle's node list.
    nodes: Vec<NodeCounts>,
}

/// Above this position a node's counts are not kept (a guard against a stray position).
const MAX_POSITIONS: usize = 1 << 16;

/// Counts by node position and (selector, namespace) pair (see the module notes).
#[derive(Debug, Default)]
pub struct MatchCounts(RefCell<Memo>);

impl MatchCounts {
    /// The number of `c`'s selector with `namespace`, for [`MatchCounts::count`] in this
    /// cycle.
    pub fn key(&self, c: &Constraint, namespace: &str) -> CountKey {
        let mut memo = self.0.borrow_mut();
        let hash = key_hash(c.selector.as_ref(), namespace);
        if let Some(i) = memo
            .keys
            .iter()
            .position(|(h, s, ns)| *h == hash && *s == c.selector && ns == namespace)
        {
            return CountKey(i);
        }
        if memo.keys.len() == MAX_KEYS {
            *memo = Memo::default();
        }
        memo.keys
            .push((hash, c.selector.clone(), namespace.to_string()));
        CountKey(memo.keys.len() - 1)
    }

    /// [`count_pods_match_selector`] of `node`, `c`'s selector and `namespace`, where
    /// `key` is their [`MatchCounts::key`] of this cycle and `position` the node's place
    /// in the cycle's node list (any number is correct; the same node at the same place
    /// from cycle to cycle is what makes the count be reused).
    pub fn count(
        &self,
        position: usize,
        node: &NodeInfo,
        c: &Constraint,
        namespace: &str,
        key: CountKey,
    ) -> i64 {
        // A NodeInfo made outside a cache has no generation to key on.
        if node.generation == 0 || position >= MAX_POSITIONS {
            return count_pods_match_selector(node, c, namespace);
        }
        let mut memo = self.0.borrow_mut();
        if memo.nodes.len() <= position {
            memo.nodes.resize_with(position + 1, NodeCounts::default);
        }
        let entry = &mut memo.nodes[position];
        if entry.generation != node.generation || entry.name != node.name {
            if entry.name != node.name {
                entry.name.clone_from(&node.name);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Node, ObjectMeta, Pod};
    use crate::control::scheduler::cache::Cache;
    use std::rc::Rc;

    fn pod(name: &str, app: &str) -> Rc<Pod> {
        let mut p = Pod {
            metadata: ObjectMeta::named("default", name),
            ..Default::default()
        };
        p.metadata.uid = name.into();
        p.metadata.labels.insert("app".into(), app.into());
        p.spec.node_name = "n1".into();
        Rc::new(p)
    }

    fn constraint(app: &str) -> Constraint {
        let mut selector = LabelSelector::default();
        selector.match_labels.insert("app".into(), app.into());
        Constraint {
            max_skew: 1,
            topology_key: "kubernetes.io/hostname".into(),
            selector: Some(selector),
            min_domains: 1,
            node_affinity_honor: true,
            node_taints_honor: false,
        }
    }

    /// A kept count always equals a fresh count, as pods come and go on the node (each
    /// change gives the NodeInfo a new generation).
    #[test]
    fn kept_counts_follow_the_node_generation() {
        let mut cache = Cache::default();
        cache.set_node(&Rc::new(Node {
            metadata: ObjectMeta::named("", "n1"),
            ..Default::default()
        }));
        let memo = MatchCounts::default();
        let (web, db) = (constraint("web"), constraint("db"));
        let mut last = None;
        for step in 0..12 {
            let app = if step % 3 == 0 { "db" } else { "web" };
            cache.add_pod(&pod(&format!("p{step}"), app));
            if step % 4 == 3 {
                cache.remove_pod(&pod(&format!("p{}", step - 1), "web"));
            }
            let info = cache.get("n1").expect("the node");
            assert_ne!(Some(info.generation), last, "a change, a new generation");
            last = Some(info.generation);
            for c in [&web, &db] {
                for ns in ["default", "other"] {
                    let key = memo.key(c, ns);
                    for _ in 0..2 {
                        let fresh = count_pods_match_selector(info, c, ns);
                        assert_eq!(memo.count(0, info, c, ns, key), fresh, "step {step}");
                        // Another node at this position is counted afresh.
                        assert_eq!(memo.count(1, info, c, ns, key), fresh, "step {step}");
                    }
                }
            }
        }
        assert_eq!(
            memo.key(&web, "default"),
            memo.key(&constraint("web"), "default")
        );
        assert_ne!(memo.key(&web, "default"), memo.key(&db, "default"));
    }
}
