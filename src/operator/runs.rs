//! The operator as the engine runs it: each action starts at its time; most finish at once,
//! `kubectl drain` keeps running on operator timers. Lines a running command prints later
//! become notes (source `kubectl`, object `node/NAME`) at the instant they are printed.

use super::drain::{DrainRun, Wake};
use super::kubectl::{ActionOutcome, execute};
use crate::apiserver::Actor;
use crate::component::Ctx;
use crate::scenario::Action;

/// An operator timer: a drain's pod task wants its next step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorTimer {
    /// The drain (index among the drains started so far).
    pub run: usize,
    pub node: usize,
    pub task: usize,
}

/// The operator's running commands.
#[derive(Default)]
pub struct Operator {
    drains: Vec<DrainRun>,
}

impl Operator {
    /// Starts `action` now, writing as `actor`; the outcome holds what kubectl printed at
    /// once (for a drain still running, `Ok` with the lines so far).
    pub fn start(
        &mut self,
        action: &Action,
        actor: &Actor,
        ctx: &mut Ctx<'_, OperatorTimer>,
    ) -> ActionOutcome {
        let Action::Drain { target, options } = action else {
            return execute(&mut ctx.client(actor), action);
        };
        let run = self.drains.len();
        let mut out = Vec::new();
        let mut wakes = Vec::new();
        let started = DrainRun::start(
            &mut ctx.client(actor),
            target,
            options,
            &mut out,
            &mut wakes,
        );
        let drain = match started {
            Ok(d) => d,
            Err(e) => return ActionOutcome::Error(e.text()),
        };
        schedule(ctx, run, wakes);
        let ok = drain.finished != Some(false);
        self.drains.push(drain);
        let text = out.join("\n");
        if ok {
            ActionOutcome::Ok(text)
        } else {
            ActionOutcome::Error(text)
        }
    }

    /// A drain's pod task is due.
    pub fn on_timer(&mut self, t: OperatorTimer, actor: &Actor, ctx: &mut Ctx<'_, OperatorTimer>) {
        let Some(drain) = self.drains.get_mut(t.run) else {
            return;
        };
        let node = drain.current_node().map(str::to_string);
        let mut out = Vec::new();
        let mut wakes = Vec::new();
        drain.wake(
            Wake {
                at: ctx.now,
                node: t.node,
                task: t.task,
            },
            &mut ctx.client(actor),
            &mut out,
            &mut wakes,
        );
        // Lines name the node they are about; a node's last line ("drained") before the
        // next node's first.
        let mut object = node.map(|n| format!("node/{n}")).unwrap_or_default();
        for line in out {
            if let Some(n) = line
                .strip_prefix("node/")
                .and_then(|r| r.strip_suffix(" drained"))
            {
                object = format!("node/{n}");
            }
            ctx.note("kubectl", object.clone(), line);
        }
        schedule(ctx, t.run, wakes);
    }

    /// Whether every drain has ended (`Some(ok)` each).
    pub fn drains_finished(&self) -> Vec<Option<bool>> {
        self.drains.iter().map(|d| d.finished).collect()
    }
}

fn schedule(ctx: &mut Ctx<'_, OperatorTimer>, run: usize, wakes: Vec<Wake>) {
    for w in wakes {
        ctx.at(
            w.at,
            OperatorTimer {
                run,
                node: w.node,
                task: w.task,
            },
        );
    }
}
