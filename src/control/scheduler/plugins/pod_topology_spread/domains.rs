//! Each node's topology domain — its value of a topology key — as a small number, kept
//! between scheduling cycles while the Node object is the same (not upstream, which reads
//! every node's labels again in every cycle): PreFilter counts the matching pods of each
//! domain over every node, and with numbers the counts are a vector indexed by number
//! instead of a map searched by value, and a node's domain is a pointer comparison
//! instead of a label look-up.
//!
//! Kept per topology key, by the node's position in the cycle's node list (the cache's
//! nodes in name order), and checked against the Node object itself (`Rc::ptr_eq`; the
//! `Rc` held here keeps its allocation from being reused), so any list of nodes gets the
//! right numbers: a node at a position that held another is read afresh.

use crate::api::Node;
use crate::control::scheduler::cache::NodeInfo;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Above this many topology keys everything is forgotten, and above this many values of
/// one key that key's numbers are: a bound on memory, not a limit on correctness.
const MAX_KEYS: usize = 16;
const MAX_VALUES: usize = 1 << 16;

/// One topology key's values by number, and each node's number.
#[derive(Debug, Default)]
struct KeyDomains {
    key: String,
    /// The values seen, numbered in order of first sight.
    ids: BTreeMap<String, u32>,
    /// By node position: the Node last read there and its number (`None` without the
    /// label).
    nodes: Vec<Option<(Rc<Node>, Option<u32>)>>,
}

/// Domain numbers per topology key (see the module notes).
#[derive(Debug, Default)]
pub struct Domains(RefCell<Vec<KeyDomains>>);

/// The numbers of one cycle's nodes for a list of keys.
pub struct NodeDomains {
    /// `ids[k * keys + i]`: the number of node `k`'s value of key `i`, if it has the label.
    pub ids: Vec<Option<u32>>,
    /// Per key, a bound on its numbers (every number is below it).
    pub sizes: Vec<usize>,
}

impl NodeDomains {
    /// Node `k`'s numbers, one per key.
    pub fn of_node(&self, k: usize) -> &[Option<u32>] {
        let n = self.sizes.len();
        &self.ids[k * n..(k + 1) * n]
    }
}

impl Domains {
    /// The domain numbers of every node of `all_nodes` for each of `keys`.
    pub fn of(&self, keys: &[&str], all_nodes: &[Rc<NodeInfo>]) -> NodeDomains {
        let mut memo = self.0.borrow_mut();
        let nk = keys.len();
        let mut out = NodeDomains {
            ids: vec![None; all_nodes.len() * nk],
            sizes: Vec::with_capacity(nk),
        };
        // Forgotten before any number is handed out, so that the cycle's numbers stay valid.
        let new_keys = keys
            .iter()
            .filter(|k| memo.iter().all(|d| d.key != **k))
            .count();
        if memo.len() + new_keys > MAX_KEYS {
            memo.clear();
        }
        for (i, key) in keys.iter().enumerate() {
            let at = match memo.iter().position(|d| d.key == *key) {
                Some(at) => at,
                None => {
                    memo.push(KeyDomains {
                        key: key.to_string(),
                        ..Default::default()
                    });
                    memo.len() - 1
                }
            };
            let KeyDomains { ids, nodes, .. } = &mut memo[at];
            if ids.len() >= MAX_VALUES {
                ids.clear();
                nodes.clear();
            }
            nodes.resize_with(all_nodes.len(), || None);
            for (k, info) in all_nodes.iter().enumerate() {
                let node = info.node_rc();
                let entry = &mut nodes[k];
                let id = match entry {
                    Some((n, id)) if Rc::ptr_eq(n, node) => *id,
                    _ => {
                        let id = node.metadata.labels.get(*key).map(|v| {
                            let next = ids.len() as u32;
                            *ids.entry(v.clone()).or_insert(next)
                        });
                        *entry = Some((Rc::clone(node), id));
                        id
                    }
                };
                out.ids[k * nk + i] = id;
            }
            out.sizes.push(ids.len());
        }
        out
    }
}

impl Domains {
    /// The number of `value` under `key` (given a number if it has none yet), for a node
    /// outside the cycle's list or a value a missing label stands for. `key` must have
    /// been asked for by [`Domains::of`] in this cycle.
    pub fn id(&self, key: &str, value: &str) -> u32 {
        let mut memo = self.0.borrow_mut();
        let d = memo
            .iter_mut()
            .find(|d| d.key == key)
            .expect("Domains::of ran for the key");
        if let Some(&id) = d.ids.get(value) {
            return id;
        }
        let next = d.ids.len() as u32;
        d.ids.insert(value.to_string(), next);
        next
    }

    /// A bound on `key`'s numbers so far (every number given is below it).
    pub fn size(&self, key: &str) -> usize {
        self.0
            .borrow()
            .iter()
            .find(|d| d.key == key)
            .map_or(0, |d| d.ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ObjectMeta;

    fn node(name: &str, zone: Option<&str>) -> Rc<NodeInfo> {
        let mut n = Node {
            metadata: ObjectMeta::named("", name),
            ..Default::default()
        };
        if let Some(z) = zone {
            n.metadata.labels.insert("zone".into(), z.into());
        }
        n.metadata.labels.insert("host".into(), name.into());
        Rc::new(NodeInfo::of_node(Rc::new(n)))
    }

    /// Two nodes have the same number for a key exactly when they have the same value,
    /// whatever the memo saw before (nodes relabelled, moved, gone).
    #[test]
    fn numbers_follow_the_labels() {
        let memo = Domains::default();
        let zones = [Some("a"), Some("b"), None, Some("c")];
        let mut pool: Vec<Rc<NodeInfo>> = (0..6)
            .map(|i| node(&format!("n{i}"), zones[i % 4]))
            .collect();
        for step in 0..16usize {
            // One node relabelled (a new Node object) per step; the list is a rotated,
            // sometimes shorter part of the pool, so positions hold other nodes.
            let i = step % pool.len();
            pool[i] = node(&format!("n{i}"), zones[(i + step) % 4]);
            let nodes: Vec<Rc<NodeInfo>> = (0..4 + step % 3)
                .map(|j| Rc::clone(&pool[(j + step / 4) % pool.len()]))
                .collect();
            let keys = if step % 2 == 0 {
                vec!["zone", "host"]
            } else {
                vec!["host", "zone", "missing"]
            };
            let d = memo.of(&keys, &nodes);
            for (i, key) in keys.iter().enumerate() {
                for (k, a) in nodes.iter().enumerate() {
                    let va = a.node().metadata.labels.get(*key);
                    let ia = d.of_node(k)[i];
                    assert_eq!(ia.is_some(), va.is_some());
                    assert!(ia.is_none_or(|x| (x as usize) < d.sizes[i]));
                    for (l, b) in nodes.iter().enumerate() {
                        let vb = b.node().metadata.labels.get(*key);
                        let same = va.is_some() && va == vb;
                        assert_eq!(same, ia.is_some() && ia == d.of_node(l)[i], "step {step}");
                    }
                }
            }
        }
    }
}
