//! The StatefulSet controller (`pkg/controller/statefulset`). SKELETON: being written.

use super::{ControlTimer, Controller, Enqueue};
use crate::api::{AnyObject, ObjectKey, Tables};
use crate::apiserver::WatchEvent;
use crate::component::Ctx;

/// Version- and gate-dependent behaviour of the controller.
#[derive(Clone, Debug, Default)]
pub struct StatefulSetConfig {
    /// Feature gate `MaxUnavailableStatefulSet` (off by default in 1.36).
    pub max_unavailable_statefulset: bool,
}

pub struct StatefulSetController {
    #[allow(dead_code)]
    config: StatefulSetConfig,
}

impl StatefulSetController {
    pub fn new(config: StatefulSetConfig) -> Self {
        StatefulSetController { config }
    }
}

impl Controller for StatefulSetController {
    fn name(&self) -> &'static str {
        "statefulset-controller"
    }
    fn on_watch(
        &mut self,
        _old: Option<&AnyObject>,
        _ev: &WatchEvent,
        _cache: &Tables,
        _q: &mut Enqueue,
    ) {
    }
    fn sync(
        &mut self,
        _key: &ObjectKey,
        _cache: &Tables,
        _ctx: &mut Ctx<'_, ControlTimer>,
        _q: &mut Enqueue,
    ) -> Result<(), String> {
        Ok(())
    }
}
