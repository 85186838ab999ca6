//! The settings of each application model in `spec.apps` — etcd's flags for `quorum`,
//! Patroni's and PostgreSQL's for `primaryReplica` — decoded over their upstream defaults,
//! each mistake reported at its line.

use super::de::join;
use super::located::Loc;
use super::model::NetworkSpec;
use super::report::Reporter;
use super::values::parse_go_duration;
use crate::api::IntOrString;
use crate::api::quantity::parse_quantity_milli;
use crate::infra::apps::primary_replica::PrimaryReplicaConfig;
use crate::infra::apps::quorum::QuorumConfig;
use crate::time::SimDuration;
use serde::Deserialize;

/// etcd's flags, by their scenario names.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawQuorum {
    #[serde(default)]
    heartbeat_interval: Option<Loc<String>>,
    #[serde(default)]
    election_timeout: Option<Loc<String>>,
    #[serde(default)]
    data_size: Option<Loc<IntOrString>>,
    #[serde(default)]
    snapshot_transfer_rate: Option<Loc<IntOrString>>,
    #[serde(default)]
    transfer_leadership_on_stop: Option<Loc<bool>>,
}

/// Patroni's and PostgreSQL's settings, by their scenario names.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawPrimaryReplica {
    #[serde(default)]
    ttl: Option<Loc<String>>,
    #[serde(default)]
    loop_wait: Option<Loc<String>>,
    #[serde(default)]
    retry_timeout: Option<Loc<String>>,
    #[serde(default)]
    maximum_lag_on_failover: Option<Loc<IntOrString>>,
    #[serde(default)]
    synchronous_mode: Option<Loc<bool>>,
    #[serde(default)]
    synchronous_mode_strict: Option<Loc<bool>>,
    #[serde(default)]
    fencing: Option<Loc<bool>>,
    #[serde(default)]
    apply_delay: Option<Loc<String>>,
    #[serde(default)]
    wal_rate: Option<Loc<IntOrString>>,
    #[serde(default)]
    wal_per_write: Option<Loc<IntOrString>>,
    #[serde(default)]
    replay_rate: Option<Loc<u64>>,
    #[serde(default)]
    data_size: Option<Loc<IntOrString>>,
    #[serde(default)]
    basebackup_rate: Option<Loc<IntOrString>>,
}

/// Reads optional fields into a config, noting whether all were valid.
struct Fields<'r, 'a, 'b> {
    r: &'r mut Reporter<'a>,
    path: &'b str,
    ok: bool,
}

impl Fields<'_, '_, '_> {
    fn flag(&mut self, field: &Option<Loc<bool>>, into: &mut bool) {
        if let Some(f) = field {
            *into = f.value;
        }
    }

    /// A Go duration; `zero_ok` allows 0.
    fn duration(
        &mut self,
        field: &Option<Loc<String>>,
        name: &str,
        zero_ok: bool,
        into: &mut SimDuration,
    ) {
        let Some(f) = field else { return };
        match parse_go_duration(&f.value) {
            Ok(d) if zero_ok || d > SimDuration::ZERO => *into = d,
            Ok(_) => self.fail(f.pos, name, format!("{name} must be positive"), None),
            Err(e) => self.fail(f.pos, name, e, Some("e.g. 100ms, 1s, 30s".into())),
        }
    }

    /// A byte quantity (`2Gi`, `500Mi`, or a plain number of bytes).
    fn bytes(&mut self, field: &Option<Loc<IntOrString>>, name: &str, into: &mut u64) {
        let Some(f) = field else { return };
        let text = match &f.value {
            IntOrString::Int(n) => n.to_string(),
            IntOrString::String(s) => s.clone(),
        };
        match parse_quantity_milli(&text) {
            Ok(m) if m > 0 => *into = (m / 1000).clamp(1, i128::from(u64::MAX)) as u64,
            Ok(_) => self.fail(f.pos, name, format!("{name} must be positive"), None),
            Err(e) => self.fail(f.pos, name, e, Some("a byte quantity: 2Gi, 500Mi".into())),
        }
    }

    fn fail(&mut self, pos: super::yaml::Pos, name: &str, msg: String, hint: Option<String>) {
        self.r.push(pos, &join(self.path, name), msg, hint);
        self.ok = false;
    }
}

/// `quorum`: etcd's flags over their defaults (`QuorumConfig::default`).
pub fn quorum(raw: RawQuorum, path: &str, r: &mut Reporter) -> Option<QuorumConfig> {
    let mut c = QuorumConfig::default();
    let mut f = Fields { r, path, ok: true };
    f.duration(
        &raw.heartbeat_interval,
        "heartbeatInterval",
        false,
        &mut c.heartbeat,
    );
    f.duration(
        &raw.election_timeout,
        "electionTimeout",
        false,
        &mut c.election_timeout,
    );
    f.flag(
        &raw.transfer_leadership_on_stop,
        &mut c.transfer_leadership_on_stop,
    );
    f.bytes(&raw.data_size, "dataSize", &mut c.data_bytes);
    f.bytes(
        &raw.snapshot_transfer_rate,
        "snapshotTransferRate",
        &mut c.transfer_bytes_per_sec,
    );
    // etcd refuses to start otherwise (`embed.Config.Validate`): "--election-timeout
    // should be at least as 5 times as --heartbeat-interval".
    if f.ok && c.election_timeout.as_nanos() < 5 * c.heartbeat.as_nanos() {
        let pos = raw
            .election_timeout
            .as_ref()
            .or(raw.heartbeat_interval.as_ref())
            .expect("a default pair is valid")
            .pos;
        let msg = "electionTimeout must be at least 5 times heartbeatInterval, as etcd requires";
        f.fail(pos, "electionTimeout", msg.into(), None);
    }
    f.ok.then_some(c)
}

/// Writes per second a replica replays when not set (PostgreSQL's single startup process
/// applying small transactions).
pub const DEFAULT_REPLAY_RATE: u64 = 20_000;
/// WAL bytes per client write when not set (a small OLTP transaction).
pub const DEFAULT_WAL_PER_WRITE: u64 = 2 << 10;

/// `primaryReplica`: Patroni's settings over their defaults (`PrimaryReplicaConfig`). The
/// replication latency is the network's node-to-node latency across zones; the replay
/// delay grows with the clients' write rate λ (`writes_per_second`) against what a replica
/// replays, μ (`replayRate`): a replica is a queue, and its mean time in it is the M/M/1
/// sojourn 1/(μ − λ), added to `applyDelay`. The WAL rate the lag limit is measured in is
/// λ × `walPerWrite` unless `walRate` is given.
pub fn primary_replica(
    raw: RawPrimaryReplica,
    path: &str,
    net: &NetworkSpec,
    writes_per_second: u64,
    model_pos: super::yaml::Pos,
    r: &mut Reporter,
) -> Option<PrimaryReplicaConfig> {
    let mut c = PrimaryReplicaConfig {
        replication_latency: net.intra_zone + net.intra_zone + net.inter_zone,
        ..PrimaryReplicaConfig::default()
    };
    let mut f = Fields { r, path, ok: true };
    f.duration(&raw.ttl, "ttl", false, &mut c.ttl);
    f.duration(&raw.loop_wait, "loopWait", false, &mut c.loop_wait);
    f.duration(
        &raw.retry_timeout,
        "retryTimeout",
        false,
        &mut c.retry_timeout,
    );
    f.bytes(
        &raw.maximum_lag_on_failover,
        "maximumLagOnFailover",
        &mut c.maximum_lag_on_failover,
    );
    f.flag(&raw.synchronous_mode, &mut c.synchronous_mode);
    f.flag(&raw.synchronous_mode_strict, &mut c.synchronous_mode_strict);
    f.flag(&raw.fencing, &mut c.fencing);
    f.duration(&raw.apply_delay, "applyDelay", true, &mut c.apply_delay);
    let mut wal_per_write = DEFAULT_WAL_PER_WRITE;
    f.bytes(&raw.wal_per_write, "walPerWrite", &mut wal_per_write);
    if writes_per_second > 0 {
        c.wal_bytes_per_sec = writes_per_second.saturating_mul(wal_per_write);
    }
    f.bytes(&raw.wal_rate, "walRate", &mut c.wal_bytes_per_sec);
    let replay = raw
        .replay_rate
        .as_ref()
        .map_or(DEFAULT_REPLAY_RATE, |v| v.value);
    if replay <= writes_per_second {
        let pos = raw.replay_rate.as_ref().map(|v| v.pos);
        let msg = format!(
            "replicas replay at most {replay} writes/s and the clients write {writes_per_second}/s: \
             they would fall behind without bound"
        );
        let hint = Some("raise replayRate, or lower the clients' writesPerSecond".to_string());
        f.fail(pos.unwrap_or(model_pos), "replayRate", msg, hint);
    } else {
        let sojourn = SimDuration::from_nanos(1_000_000_000 / (replay - writes_per_second));
        c.apply_delay = c.apply_delay + sojourn;
    }
    f.bytes(&raw.data_size, "dataSize", &mut c.data_bytes);
    f.bytes(
        &raw.basebackup_rate,
        "basebackupRate",
        &mut c.transfer_bytes_per_sec,
    );
    // Patroni's documented rule (dynamic_configuration.rst): "when changing values of
    // loop_wait, retry_timeout, or ttl you have to follow the rule: loop_wait + 2 *
    // retry_timeout <= ttl".
    if f.ok && c.ttl.as_nanos() < c.loop_wait.as_nanos() + 2 * c.retry_timeout.as_nanos() {
        let pos = raw
            .ttl
            .as_ref()
            .or(raw.loop_wait.as_ref())
            .or(raw.retry_timeout.as_ref())
            .expect("the defaults are valid")
            .pos;
        let msg = "ttl must be at least loopWait + 2 × retryTimeout, as Patroni requires";
        f.fail(pos, "ttl", msg.into(), None);
    }
    f.ok.then_some(c)
}
