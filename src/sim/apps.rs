//! The engine's side of the application models: tells them what the kubelets and the
//! network did during the event just handled, queues their timers, and hands every change
//! of an app's status to the SLIs and, in words, to the timeline.

use super::{SimEvent, Simulation};
use crate::component::Note;
use crate::infra::apps::{AppStatus, StatusChange};
use crate::infra::kubelet::LiveChange;
use crate::time::SimTime;

impl Simulation {
    pub(super) fn follow_apps(&mut self, now: SimTime, live_changes: &[LiveChange]) {
        let mut timers = Vec::new();
        for c in live_changes {
            let objects = self.api.objects();
            timers.extend(self.apps.on_live_change(now, c, objects, &mut self.network));
        }
        timers.extend(self.apps.after_network(now, &mut self.network));
        for (at, t) in timers {
            self.queue.schedule(at, SimEvent::App(t));
        }
        for change in self.apps.changes(self.api.objects(), &mut self.network) {
            self.slis.on_app(now, change.app, &change.now);
            let group = &self.apps.groups()[change.app];
            let object = format!("app {}/{}", group.spec.namespace, group.spec.name);
            for message in describe(&change, |m| group.member_name(m), &group.spec.clients) {
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

/// What changed, in words: the leader, the quorum, and each zone's writes and reads.
fn describe(
    change: &StatusChange,
    member: impl Fn(usize) -> String,
    clients: &[crate::scenario::ClientSpec],
) -> Vec<String> {
    let new = &change.now;
    let old = change.before.as_ref();
    let mut out = Vec::new();
    let first_look_idle = old.is_none() && !new.running.contains(&true);
    if old.map(|o| &o.running) != Some(&new.running) && !first_look_idle {
        let names: Vec<String> = (0..new.running.len())
            .filter(|&m| new.running[m])
            .map(&member)
            .collect();
        let n = new.running.len();
        out.push(format!(
            "{} of {n} members run{}{}",
            names.len(),
            if names.is_empty() { "" } else { ": " },
            names.join(", ")
        ));
    }
    for m in 0..new.current.len() {
        let was = old.is_none_or(|o| o.current[m]);
        if was != new.current[m] {
            out.push(if new.current[m] {
                format!(
                    "{} has caught up with the data set and counts again",
                    member(m)
                )
            } else {
                format!(
                    "{} started on an empty volume: it must receive the data set before it counts",
                    member(m)
                )
            });
        }
    }
    if old.map(|o| (o.leader, o.term)) != Some((new.leader, new.term)) {
        match (old.and_then(|o| o.leader), new.leader) {
            (_, Some(l)) => out.push(format!("{} is the leader (term {})", member(l), new.term)),
            (Some(l), None) => out.push(format!("{} is no longer the leader", member(l))),
            (None, None) => {}
        }
    }
    if old.map(|o| o.quorum) != Some(new.quorum) && (old.is_some() || new.quorum) {
        out.push(match (new.quorum, new.leader) {
            (true, _) => {
                "writes can commit: the leader reaches a majority of current members".into()
            }
            (false, None) => "writes cannot commit: no leader".into(),
            (false, Some(l)) => format!(
                "writes cannot commit: leader {} does not reach a majority of current members",
                member(l)
            ),
        });
    }
    // Per zone, which requests changed and how: "writes and reads fail for clients in
    // zone-b" when both flipped the same way. At the first look, only what succeeds.
    let before = |get: fn(&AppStatus) -> &Vec<bool>| {
        old.map_or_else(|| vec![false; get(new).len()], |o| get(o).clone())
    };
    let (w0, r0) = (before(|s| &s.writes_ok), before(|s| &s.reads_ok));
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        let (w, r) = (new.writes_ok[i], new.reads_ok[i]);
        let verb = |ok: bool| if ok { "succeed" } else { "fail" };
        let what = match (w != w0[i], r != r0[i]) {
            (true, true) if w == r => format!("writes and reads {}", verb(w)),
            (true, true) => format!("writes {} and reads {}", verb(w), verb(r)),
            (true, false) => format!("writes {}", verb(w)),
            (false, true) => format!("reads {}", verb(r)),
            (false, false) => continue,
        };
        match groups.iter_mut().find(|(k, _)| *k == what) {
            Some((_, zones)) => zones.push(&c.zone),
            None => groups.push((what, vec![&c.zone])),
        }
    }
    for (what, zones) in groups {
        out.push(format!("{what} for clients in {}", zones.join(", ")));
    }
    out
}
