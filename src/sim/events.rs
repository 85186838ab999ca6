//! The simulator's events: one variant per thing that can happen. Payloads are ids and
//! values; handlers look the rest up.

use crate::control::ControlTimer;
use crate::infra::kubelet::KubeletTimer;
use crate::queue::EventQueue;
use crate::time::SimTime;

/// The components that read the API server through an informer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    ControllerManager = 0,
    Scheduler = 1,
    NodeAgents = 2,
    /// The CSI drivers' sidecars (external-provisioner, external-attacher).
    Csi = 3,
}

impl Reader {
    pub const COUNT: usize = 4;
    pub const ALL: [Reader; Reader::COUNT] = [
        Reader::ControllerManager,
        Reader::Scheduler,
        Reader::NodeAgents,
        Reader::Csi,
    ];
}

#[derive(Clone, Debug)]
pub enum SimEvent {
    /// Watch events have become due for this reader's informer.
    Deliver(Reader),
    /// Controller number `i` of kube-controller-manager has a key to sync.
    ControllerWork(usize),
    /// A control-plane timer.
    Control(ControlTimer),
    /// A kubelet timer.
    Kubelet(KubeletTimer),
    /// A CSI sidecar timer.
    Csi(crate::infra::csi::CsiTimer),
    /// Operator action number `i` of the scenario.
    Action(usize),
    /// A running operator command (a drain) wants its next step.
    Operator(crate::operator::OperatorTimer),
    /// Fault number `index` of the scenario starts (`start`) or ends.
    Fault { index: usize, start: bool },
    /// An application model's timer (an election timeout, a step-down, a catch-up).
    App(crate::infra::apps::AppTimer),
    /// Node number `node` (kubelet order) powers off at the end of its graceful shutdown.
    NodePowerOff { node: u32 },
}

/// Schedules kubelet timer `t` at `at`. A probe tick is a keyed event with its ticker's
/// key (so that a parked ticker can be put back in its very place, `kubelet::parking`),
/// in the lane of its period; the other timers take the next sequence number.
pub fn schedule_kubelet(queue: &mut EventQueue<SimEvent>, at: SimTime, t: KubeletTimer) {
    match t {
        KubeletTimer::Probe { ticker, .. } => {
            queue.schedule_keyed_in_lane(at, ticker, SimEvent::Kubelet(t))
        }
        t => {
            queue.schedule(at, SimEvent::Kubelet(t));
        }
    }
}
