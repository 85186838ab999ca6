//! The cloud's block storage: disks with a zone (or zones, or a node), a size, whether they
//! still exist, and which nodes they are attached to. SKELETON: the storage model is being
//! written.

use crate::api::Tables;
use crate::scenario::{Fault, Scenario};

#[derive(Default)]
pub struct Cloud {}

impl Cloud {
    pub fn new(_scenario: &Scenario) -> Self {
        Cloud {}
    }
    pub fn on_fault(&mut self, _fault: &Fault, _start: bool, _cache: &Tables) {}
}
