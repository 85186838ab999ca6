//! Object metadata shared by every Kubernetes object: names, uid, resourceVersion,
//! generation, timestamps, labels, finalizers and owner references.

use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A point in time as the API stores it. Real API servers serialise `metav1.Time` as RFC 3339
/// with whole seconds, so controllers only ever see second precision; `Timestamp::at`
/// truncates the same way so that e.g. `minReadySeconds` arithmetic matches a real cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp(pub SimTime);

/// The wall-clock instant that simulated time zero stands for in traces.
pub const EPOCH_UNIX_SECS: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

impl Timestamp {
    /// The API timestamp for simulated instant `t`, truncated to whole seconds.
    pub fn at(t: SimTime) -> Self {
        Timestamp(SimTime(t.0 - t.0 % crate::time::NANOS_PER_SEC))
    }
    pub fn time(self) -> SimTime {
        self.0
    }
    /// RFC 3339 text, e.g. `2026-01-01T00:01:30Z`.
    pub fn rfc3339(self) -> String {
        let mut buf = [0u8; 20];
        self.write_rfc3339(&mut buf).to_string()
    }

    /// RFC 3339 text written into `buf`, without allocating (objects carry many
    /// timestamps and the trace serialises every object it writes). Years 0 to 9999.
    pub fn write_rfc3339(self, buf: &mut [u8; 20]) -> &str {
        let secs = EPOCH_UNIX_SECS + self.0.0 / crate::time::NANOS_PER_SEC;
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days as i64);
        let digits = |out: &mut [u8], mut v: u64| {
            for b in out.iter_mut().rev() {
                *b = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        digits(&mut buf[0..4], y.clamp(0, 9999) as u64);
        buf[4] = b'-';
        digits(&mut buf[5..7], u64::from(m));
        buf[7] = b'-';
        digits(&mut buf[8..10], u64::from(d));
        buf[10] = b'T';
        digits(&mut buf[11..13], rem / 3600);
        buf[13] = b':';
        digits(&mut buf[14..16], (rem / 60) % 60);
        buf[16] = b':';
        digits(&mut buf[17..19], rem % 60);
        buf[19] = b'Z';
        std::str::from_utf8(buf).expect("ASCII digits")
    }

    /// Go's `time.RFC1123Z` layout in UTC, as `kubectl describe` prints times:
    /// `Thu, 01 Jan 2026 00:01:30 +0000`.
    pub fn rfc1123z(self) -> String {
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let secs = EPOCH_UNIX_SECS + self.0.0 / crate::time::NANOS_PER_SEC;
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days as i64);
        // 1970-01-01, day 0, was a Thursday.
        let weekday = DAYS[((days + 4) % 7) as usize];
        format!(
            "{weekday}, {d:02} {} {y:04} {:02}:{:02}:{:02} +0000",
            MONTHS[(m - 1) as usize],
            rem / 3600,
            (rem / 60) % 60,
            rem % 60
        )
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 20];
        s.serialize_str(self.write_rfc3339(&mut buf))
    }
}

/// Timestamps in user manifests are accepted and ignored: the simulator sets its own.
impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _ = serde::de::IgnoredAny::deserialize(d)?;
        Ok(Timestamp::default())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generate_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl ObjectMeta {
    pub fn named(namespace: &str, name: &str) -> Self {
        ObjectMeta {
            name: name.into(),
            namespace: namespace.into(),
            ..Default::default()
        }
    }
    /// The controller owner reference, if any (`metav1.GetControllerOf`).
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references
            .iter()
            .find(|r| r.controller == Some(true))
    }
    pub fn is_terminating(&self) -> bool {
        self.deletion_timestamp.is_some()
    }
    pub fn resource_version_u64(&self) -> u64 {
        self.resource_version.parse().unwrap_or(0)
    }
}

/// A reference to an object, as Events and PV claimRefs carry it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
}

/// `metav1.Condition`: the standard status condition of newer APIs (PodDisruptionBudget).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub observed_generation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Timestamp>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

impl Condition {
    /// `apimeta.SetStatusCondition`: replaces the condition of the same type, keeping its
    /// lastTransitionTime unless the status changes; `now` stamps a new transition.
    pub fn set(conditions: &mut Vec<Condition>, mut new: Condition, now: Timestamp) {
        match conditions.iter_mut().find(|c| c.type_ == new.type_) {
            None => {
                new.last_transition_time.get_or_insert(now);
                conditions.push(new);
            }
            Some(c) => {
                if c.status != new.status {
                    c.status = new.status;
                    c.last_transition_time = new.last_transition_time.or(Some(now));
                }
                c.reason = new.reason;
                c.message = new.message;
                c.observed_generation = new.observed_generation;
            }
        }
    }
    /// `apimeta.FindStatusCondition`.
    pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
        conditions.iter().find(|c| c.type_ == type_)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    #[test]
    fn timestamps_are_rfc3339_whole_seconds() {
        assert_eq!(
            Timestamp::at(SimTime::ZERO).rfc3339(),
            "2026-01-01T00:00:00Z"
        );
        let t = SimTime::ZERO + SimDuration::from_millis(90_999);
        assert_eq!(Timestamp::at(t).rfc3339(), "2026-01-01T00:01:30Z");
        let leap = SimTime::ZERO + SimDuration::from_secs(59 * 86_400);
        assert_eq!(Timestamp::at(leap).rfc3339(), "2026-03-01T00:00:00Z");
    }

    #[test]
    fn rfc1123z_has_the_weekday_and_month_go_prints() {
        let t = SimTime::ZERO + SimDuration::from_millis(90_999);
        assert_eq!(
            Timestamp::at(t).rfc1123z(),
            "Thu, 01 Jan 2026 00:01:30 +0000"
        );
        // 2026-03-01 is a Sunday.
        let leap = SimTime::ZERO + SimDuration::from_secs(59 * 86_400 + 3_723);
        assert_eq!(
            Timestamp::at(leap).rfc1123z(),
            "Sun, 01 Mar 2026 01:02:03 +0000"
        );
    }
}
