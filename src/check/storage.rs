//! Storage data safety, the deletion side (the attach side — two read-write attachments,
//! unsafe force detach — is checked apart):
//!
//! - `retained-volume-deleted`: a PersistentVolume with reclaim policy Retain leaves the
//!   API (someone deleted it): the data the policy was to keep has no volume any more;
//! - `claim-data-destroyed`: a disk's data is gone while its claim is still wanted — the
//!   claim still exists (a `diskLoss`), or a StatefulSet still has the claim's ordinal in
//!   range (the claim was deleted and its volume reclaimed with policy Delete; the set
//!   recreates the claim, empty).
//!
//! One finding per volume (by name) for each invariant.

use super::Finding;
use crate::api::{ObjectKey, PersistentVolume, PersistentVolumeClaim, StatefulSet};
use crate::apiserver::{ApiServer, WatchEvent};
use crate::infra::csi::cloud::{DiskGone, GoneCause};
use crate::time::SimTime;
use std::collections::BTreeSet;

pub const RETAINED_VOLUME_DELETED: &str = "retained-volume-deleted";
pub const CLAIM_DATA_DESTROYED: &str = "claim-data-destroyed";

#[derive(Default)]
pub struct StorageSafety {
    flagged_retained: BTreeSet<String>,
    flagged_destroyed: BTreeSet<String>,
}

/// The StatefulSet (and ordinal) that creates claim `namespace/name` from one of its
/// templates and still has that ordinal in range, if any.
fn wanted_by_set<'a>(
    api: &'a ApiServer,
    namespace: &'a str,
    name: &str,
) -> Option<(&'a StatefulSet, i32)> {
    api.objects()
        .list_in::<StatefulSet>(namespace)
        .filter(|s| s.metadata.deletion_timestamp.is_none())
        .find_map(|set| {
            set.spec.volume_claim_templates.iter().find_map(|t| {
                let prefix = format!("{}-{}-", t.metadata.name, set.metadata.name);
                let digits = name.strip_prefix(&prefix)?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let ordinal: i32 = digits.parse().ok()?;
                let start = set.start_ordinal();
                (ordinal >= start && ordinal < start + set.replicas()).then_some((&**set, ordinal))
            })
        })
}

impl StorageSafety {
    /// A PersistentVolume write: flags a retained volume that leaves the API.
    pub fn on_volume_write(
        &mut self,
        w: &WatchEvent,
        pv: &PersistentVolume,
        out: &mut Vec<Finding>,
    ) {
        if !w.removed || pv.spec.persistent_volume_reclaim_policy != "Retain" {
            return;
        }
        let name = &pv.metadata.name;
        if !self.flagged_retained.insert(name.clone()) {
            return;
        }
        let claim = pv
            .spec
            .claim_ref
            .as_ref()
            .map(|r| format!(" (claim {}/{})", r.namespace, r.name))
            .unwrap_or_default();
        out.push(Finding::new(
            w.at,
            RETAINED_VOLUME_DELETED,
            format!(
                "PersistentVolume {name}{claim} with reclaim policy Retain was deleted by {}: the volume that kept its data is gone",
                w.actor
            ),
        ));
    }

    /// A disk's data is gone (DeleteVolume or a `diskLoss`).
    pub fn on_disk_gone(
        &mut self,
        at: SimTime,
        gone: &DiskGone,
        api: &ApiServer,
        out: &mut Vec<Finding>,
    ) {
        let pv = api.get::<PersistentVolume>(&ObjectKey::cluster(&gone.name));
        let claim = pv
            .and_then(|v| v.spec.claim_ref.as_ref())
            .map(|r| ObjectKey::new(&r.namespace, &r.name))
            .or_else(|| gone.claim.clone());
        let Some(claim) = claim else {
            return;
        };
        let live_claim = api
            .get::<PersistentVolumeClaim>(&claim)
            .filter(|c| c.metadata.deletion_timestamp.is_none());
        let set = wanted_by_set(api, &claim.namespace, &claim.name);
        let why = match (gone.cause, &live_claim, set) {
            (GoneCause::Lost, Some(_), _) => format!("claim {claim} still exists"),
            (_, _, Some((set, ordinal))) => format!(
                "StatefulSet {}/{} still has ordinal {ordinal}",
                set.metadata.namespace, set.metadata.name
            ),
            _ => return,
        };
        if !self.flagged_destroyed.insert(gone.name.clone()) {
            return;
        }
        let how = match gone.cause {
            GoneCause::Deleted => "was deleted (reclaim policy Delete)",
            GoneCause::Lost => "was destroyed (diskLoss)",
        };
        out.push(Finding::new(
            at,
            CLAIM_DATA_DESTROYED,
            format!(
                "the disk {} of PersistentVolume {} (claim {claim}) {how} while {why}: its data is lost",
                gone.handle, gone.name
            ),
        ));
    }
}
