//! The engine's side of the application models: tells them what the kubelets and the
//! network did during the event just handled, queues their timers, and hands every change
//! of an app's status to the SLIs and, in words, to the timeline.

use super::{SimEvent, Simulation};
use crate::component::Note;
use crate::infra::kubelet::LiveChange;
use crate::time::SimTime;

impl Simulation {
    pub(super) fn follow_apps(&mut self, now: SimTime, live_changes: &[LiveChange]) {
        let mut timers = Vec::new();
        for c in live_changes {
            let objects = self.api.objects();
            timers.extend(self.apps.on_live_change(now, c, objects, &mut self.network));
        }
        let api_up = self.api_outages == 0;
        timers.extend(self.apps.after_network(now, &mut self.network, api_up));
        for (at, t) in timers {
            self.queue.schedule(at, SimEvent::App(t));
        }
        for change in self
            .apps
            .changes(now, self.api.objects(), &mut self.network)
        {
            self.slis.on_app(now, change.app, &change.now);
            let group = &self.apps.groups()[change.app];
            let object = format!("app {}/{}", group.spec.namespace, group.spec.name);
            let words = super::app_notes::Words::of(&group.spec.model);
            let member = |m| group.member_name(m);
            for message in super::app_notes::describe(&change, words, member, &group.spec.clients) {
                self.notes.push(Note {
                    at: now,
                    source: group.spec.model.name().to_string(),
                    object: object.clone(),
                    message,
                });
            }
        }
    }
}
