//! Where a NodeInfo handed to a plugin sits in the cycle's node list (the cache's nodes in
//! name order, [`ClusterView::nodes`]), found by address: a plugin can then answer Filter
//! from per-position facts it worked out once at PreFilter instead of looking the node up
//! by name. The framework filters the list's own NodeInfos in list order from some start
//! (`nextStartNodeIndex`), so a cursor that follows them finds each at the first
//! comparison; any other NodeInfo (a copy, a test's) has no position.
//!
//! [`ClusterView::nodes`]: super::framework::ClusterView

use super::cache::NodeInfo;
use std::cell::Cell;
use std::rc::Rc;

#[derive(Debug, Default)]
pub struct ListPositions {
    /// The list's NodeInfos by address (only compared, never read through).
    nodes: Vec<*const NodeInfo>,
    /// Where the last node was found: the next one is usually the next position.
    cursor: Cell<usize>,
}

impl ListPositions {
    pub fn of(nodes: &[Rc<NodeInfo>]) -> Self {
        ListPositions {
            nodes: nodes.iter().map(Rc::as_ptr).collect(),
            cursor: Cell::new(0),
        }
    }

    /// The position of `node` in the list, if it is one of the list's NodeInfos.
    pub fn position_of(&self, node: &NodeInfo) -> Option<usize> {
        let n = self.nodes.len();
        let start = self.cursor.get();
        let k = (0..n)
            .map(|step| (start + step) % n)
            .find(|&k| std::ptr::eq(self.nodes[k], node))?;
        self.cursor.set(k + 1);
        Some(k)
    }
}
