//! The faults in force right now: the physical world's answer to "is this zone's storage
//! failing?", "are attaches slow?". The engine starts and ends faults on schedule; infra
//! components only read this registry (and are told when a fault starts or ends, for
//! one-off effects such as a disk being destroyed).

use crate::scenario::Fault;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct ActiveFaults {
    /// By the fault's index in the scenario, so iteration order is the file's order.
    active: BTreeMap<usize, Fault>,
}

impl ActiveFaults {
    pub fn start(&mut self, index: usize, fault: Fault) {
        self.active.insert(index, fault);
    }
    pub fn end(&mut self, index: usize) {
        self.active.remove(&index);
    }
    /// Every fault in force, in scenario order.
    pub fn iter(&self) -> impl Iterator<Item = &Fault> {
        self.active.values()
    }
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}
