//! The CSI external-attacher sidecar. SKELETON: being written.

use super::CsiTimer;
use super::cloud::Cloud;
use crate::api::Tables;
use crate::apiserver::WatchEvent;
use crate::component::Ctx;
use crate::infra::faults::ActiveFaults;
use crate::rng::RngStreams;
use crate::scenario::{Fault, Scenario};

#[derive(Clone, Debug, PartialEq)]
pub enum AttacherTimer {}

pub struct Attacher {}

impl Attacher {
    pub fn new(_scenario: &Scenario, _rngs: &RngStreams) -> Self {
        Attacher {}
    }
    pub fn on_watch(
        &mut self,
        _ev: &WatchEvent,
        _cache: &Tables,
        _cloud: &mut Cloud,
        _faults: &ActiveFaults,
        _ctx: &mut Ctx<'_, CsiTimer>,
    ) {
    }
    pub fn on_timer(
        &mut self,
        t: AttacherTimer,
        _cache: &Tables,
        _cloud: &mut Cloud,
        _faults: &ActiveFaults,
        _ctx: &mut Ctx<'_, CsiTimer>,
    ) {
        match t {}
    }
    pub fn on_fault(
        &mut self,
        _fault: &Fault,
        _start: bool,
        _cache: &Tables,
        _cloud: &mut Cloud,
        _faults: &ActiveFaults,
        _ctx: &mut Ctx<'_, CsiTimer>,
    ) {
    }
}
