//! The kubelets of all nodes. SKELETON: being written.

use crate::apiserver::Informer;
use crate::component::Ctx;
use crate::rng::RngStreams;
use crate::scenario::{ImageSpec, NodeSpecInput, Timing};
use crate::time::SimTime;

/// A kubelet's timer, delivered back by the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeletTimer {
    Placeholder,
}

pub struct NodeAgents {
    pub informer: Informer,
}

impl NodeAgents {
    pub fn new(
        informer: Informer,
        _nodes: &[NodeSpecInput],
        _images: &[ImageSpec],
        _timing: &Timing,
        _rngs: &RngStreams,
    ) -> Self {
        NodeAgents { informer }
    }
    /// Registers every node (creates its Node object, Ready).
    pub fn register_all(&mut self, _ctx: &mut Ctx<'_, KubeletTimer>) {}
    /// Delivers due watch events; returns the next delivery time.
    pub fn deliver(&mut self, ctx: &mut Ctx<'_, KubeletTimer>) -> Option<SimTime> {
        self.informer.catch_up(ctx.api, ctx.now, |_, _, _| {})
    }
    pub fn on_timer(&mut self, _timer: KubeletTimer, _ctx: &mut Ctx<'_, KubeletTimer>) {}
}
