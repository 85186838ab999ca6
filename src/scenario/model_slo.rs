//! Service level objectives in the validated scenario (`spec.slos`): which SLI each one
//! judges, and its target — a ratio objective (`objective: "99.9%"`, with an optional
//! compliance `window` its error budget is for), a longest acceptable duration
//! (`max: 10m`) or a largest acceptable count (`max: 0`).

use crate::time::SimDuration;

/// The SLIs stsim measures, as scenario files name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SliKind {
    /// Time-average of Ready pods over desired replicas (a set, an ordinal, or all sets).
    PodAvailability,
    /// Share of time every desired replica (of a set, or of every set) is Ready.
    FullRedundancy,
    /// Pod created → Running (image pulls and volume attach included).
    PodPendingTime,
    /// Pod created → bound to a node by the scheduler.
    SchedulerPendingTime,
    /// Claim created → Bound.
    PvcBindTime,
    /// VolumeAttachment created → attached.
    AttachLatency,
    /// A StatefulSet's update revision changes → every replica updated and Ready.
    RolloutDuration,
    /// A fault starts → every StatefulSet has all its replicas Ready again.
    TimeToRecover,
    /// Share of time an app's leader can commit (`spec.apps`).
    QuorumAvailability,
    /// Share of the clients' writes (reads) that succeed, weighted by each zone's rate.
    WriteAvailability,
    ReadAvailability,
    /// Leaders an app elected after its warm-up.
    LeaderElections,
    /// Each interval an app's leader could not commit, from loss to recovery.
    QuorumLoss,
    /// A fault starts → every app's clients can write again.
    TimeToRecoverWrites,
    /// Promotions that moved a primary (primaryReplica), after the warm-up.
    Failovers,
    /// Acknowledged writes a failover discarded (primaryReplica).
    WritesLost,
    /// Each span of acknowledged history a failover discarded (primaryReplica).
    DataLossWindow,
    /// How far replicas trail the primary, time-weighted over replica-time (primaryReplica).
    ReplicationLag,
}

/// What an SLI's value is, which decides the targets it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliShape {
    /// A share of measured time: `objective`.
    Ratio,
    /// Durations, one per occurrence: `max` (of a percentile, default the largest).
    Durations,
    /// A number of occurrences: `max` (an integer, e.g. `max: 0`).
    Count,
}

impl SliKind {
    pub const ALL: [SliKind; 18] = [
        SliKind::PodAvailability,
        SliKind::FullRedundancy,
        SliKind::PodPendingTime,
        SliKind::SchedulerPendingTime,
        SliKind::PvcBindTime,
        SliKind::AttachLatency,
        SliKind::RolloutDuration,
        SliKind::TimeToRecover,
        SliKind::QuorumAvailability,
        SliKind::WriteAvailability,
        SliKind::ReadAvailability,
        SliKind::LeaderElections,
        SliKind::QuorumLoss,
        SliKind::TimeToRecoverWrites,
        SliKind::Failovers,
        SliKind::WritesLost,
        SliKind::DataLossWindow,
        SliKind::ReplicationLag,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SliKind::PodAvailability => "podAvailability",
            SliKind::FullRedundancy => "fullRedundancy",
            SliKind::PodPendingTime => "podPendingTime",
            SliKind::SchedulerPendingTime => "schedulerPendingTime",
            SliKind::PvcBindTime => "pvcBindTime",
            SliKind::AttachLatency => "attachLatency",
            SliKind::RolloutDuration => "rolloutDuration",
            SliKind::TimeToRecover => "timeToRecover",
            SliKind::QuorumAvailability => "quorumAvailability",
            SliKind::WriteAvailability => "writeAvailability",
            SliKind::ReadAvailability => "readAvailability",
            SliKind::LeaderElections => "leaderElections",
            SliKind::QuorumLoss => "quorumLoss",
            SliKind::TimeToRecoverWrites => "timeToRecoverWrites",
            SliKind::Failovers => "failovers",
            SliKind::WritesLost => "writesLost",
            SliKind::DataLossWindow => "dataLossWindow",
            SliKind::ReplicationLag => "replicationLag",
        }
    }

    pub fn from_name(name: &str) -> Option<SliKind> {
        SliKind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn shape(self) -> SliShape {
        match self {
            SliKind::PodAvailability
            | SliKind::FullRedundancy
            | SliKind::QuorumAvailability
            | SliKind::WriteAvailability
            | SliKind::ReadAvailability => SliShape::Ratio,
            SliKind::LeaderElections | SliKind::Failovers | SliKind::WritesLost => SliShape::Count,
            _ => SliShape::Durations,
        }
    }

    /// Whether a `statefulSet` (and, for pod availability, an `ordinal`) narrows it.
    pub fn per_set(self) -> bool {
        matches!(
            self,
            SliKind::PodAvailability
                | SliKind::FullRedundancy
                | SliKind::PodPendingTime
                | SliKind::RolloutDuration
        ) || self.per_app()
    }

    /// Measured per app (`spec.apps`): a `statefulSet` narrows it to that set's app.
    pub fn per_app(self) -> bool {
        matches!(
            self,
            SliKind::QuorumAvailability
                | SliKind::WriteAvailability
                | SliKind::ReadAvailability
                | SliKind::LeaderElections
                | SliKind::QuorumLoss
                | SliKind::Failovers
                | SliKind::WritesLost
                | SliKind::DataLossWindow
                | SliKind::ReplicationLag
        )
    }

    /// Needs an app (`spec.apps`) to measure anything.
    pub fn needs_app(self) -> bool {
        self.per_app() || self == SliKind::TimeToRecoverWrites
    }
}

/// An objective as an exact fraction (`"99.9%"` is 999/1000), so that verdicts at the
/// boundary are exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fraction {
    pub num: u128,
    pub den: u128,
}

impl Fraction {
    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

/// What the SLO demands of its SLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloTarget {
    /// The ratio SLI is at least this.
    Objective(Fraction),
    /// The chosen percentile (nearest rank; 100 = the largest) of the durations is at most
    /// this; no occurrence at all meets it.
    MaxDuration { max: SimDuration, percentile: u32 },
    /// The count is at most this.
    MaxCount(u64),
}

/// One entry of `spec.slos`.
#[derive(Clone, Debug, PartialEq)]
pub struct SloSpec {
    pub name: String,
    pub sli: SliKind,
    /// Only this StatefulSet (`namespace/name` or a name in `default`); all sets if unset.
    pub stateful_set: Option<(String, String)>,
    /// Only this ordinal of the set (pod availability).
    pub ordinal: Option<i32>,
    pub target: SloTarget,
    /// The compliance period the error budget is for; the measured part of the run if
    /// unset. A run shorter than the window spends part of the window's budget.
    pub window: Option<SimDuration>,
}
