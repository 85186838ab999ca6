//! An app's status changes in words, for the timeline: which members run, who leads,
//! whether writes can commit, which zones' requests succeed, and for a primary with
//! replicas the split brains and the acknowledged writes a failover discarded.

use crate::infra::apps::{AppStatus, StatusChange};
use crate::scenario::{AppModel, ClientSpec};

/// The model's vocabulary.
#[derive(Clone, Copy)]
pub struct Words {
    leader: &'static str,
    term: &'static str,
    primary: bool,
    stateless: bool,
}

impl Words {
    pub fn of(model: &AppModel) -> Self {
        match model {
            AppModel::Quorum(_) => Words {
                leader: "leader",
                term: "term",
                primary: false,
                stateless: false,
            },
            AppModel::PrimaryReplica(_) => Words {
                leader: "primary",
                term: "timeline",
                primary: true,
                stateless: false,
            },
            AppModel::Stateless => Words {
                leader: "leader",
                term: "term",
                primary: false,
                stateless: true,
            },
        }
    }
}

/// What changed between the app's last two statuses.
pub fn describe(
    change: &StatusChange,
    words: Words,
    member: impl Fn(usize) -> String,
    clients: &[ClientSpec],
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
            out.push(match (new.current[m], words.primary) {
                (true, false) => format!("{} has caught up with the data set and counts again", member(m)),
                (false, false) => format!(
                    "{} started on an empty volume: it must receive the data set before it counts",
                    member(m)
                ),
                (true, true) => format!("{} has copied the data set and replicates", member(m)),
                (false, true) => format!(
                    "{} started on an empty volume: it copies the primary's data set (pg_basebackup) first",
                    member(m)
                ),
            });
        }
    }
    if old.map(|o| (o.leader, o.term)) != Some((new.leader, new.term)) {
        match (old.and_then(|o| o.leader), new.leader) {
            (_, Some(l)) => out.push(format!(
                "{} is the {} ({} {})",
                member(l),
                words.leader,
                words.term,
                new.term
            )),
            (Some(l), None) => out.push(format!("{} is no longer the {}", member(l), words.leader)),
            (None, None) => {}
        }
    }
    if words.stateless {
        // Nothing but the members and the zones to speak of.
    } else if old.map(|o| o.quorum) != Some(new.quorum) && (old.is_some() || new.quorum) {
        out.push(match (new.quorum, new.leader, words.primary) {
            (true, _, false) => {
                "writes can commit: the leader reaches a majority of current members".into()
            }
            (false, None, false) => "writes cannot commit: no leader".into(),
            (false, Some(l), false) => format!(
                "writes cannot commit: leader {} does not reach a majority of current members",
                member(l)
            ),
            (true, _, true) => "writes can commit: a primary takes them".into(),
            (false, _, true) => "writes cannot commit: no primary takes them".into(),
        });
    }
    let split = |s: &AppStatus| s.writers.len() > 1;
    if old.is_some_and(|o| split(o) != split(new)) || (old.is_none() && split(new)) {
        out.push(if split(new) {
            let names: Vec<String> = new.writers.iter().map(|&m| member(m)).collect();
            format!(
                "split brain: {} all take writes; what the cut-off one acknowledges will be lost",
                names.join(", ")
            )
        } else {
            "split brain over: one member takes writes".into()
        });
    }
    for w in &new.lost {
        out.push(format!(
            "writes {} acknowledged from {} to {} are lost: {} was promoted without them",
            member(w.old_primary),
            w.from,
            w.to,
            member(w.new_primary)
        ));
    }
    zone_flips(new, old, clients, &mut out);
    out
}

/// Per zone, which requests changed and how: "writes and reads fail for clients in zone-b"
/// when both flipped the same way. At the first look, only what succeeds.
fn zone_flips(
    new: &AppStatus,
    old: Option<&AppStatus>,
    clients: &[ClientSpec],
    out: &mut Vec<String>,
) {
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
}
