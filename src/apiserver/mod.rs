//! The API server: the versioned object store every component reads and writes, and the
//! journal of writes and Events that watches, informers and the trace are fed from.
//!
//! Writes are immediate and atomic at the simulated instant they are made. Each write
//! gets the next resourceVersion and one journal entry; readers (informers, the trace)
//! keep their own cursor into the journal.

mod admission;
mod client;
mod default_toleration_seconds;
mod defaults;
pub mod dns;
mod errors;
mod event_correlator;
use event_correlator::EventCorrelator;
mod events;
mod eviction;
mod faults;
mod informer;
mod lease_renewal;
mod reachability;
mod store;
mod strategy;

pub use client::{Actor, ApiClient, Recorder};
pub use errors::ApiError;
pub use events::{EventRecord, EventType};
pub use eviction::{MAX_DISRUPTED_POD_SIZE, MULTIPLE_PDBS};
pub use faults::InjectedFailure;
pub use informer::Informer;
pub use lease_renewal::{LeaseVersion, resource_version_number};
pub use reachability::Reachability;
pub use store::{
    DeleteOptions, FINALIZER_DELETE_DEPENDENTS, FINALIZER_ORPHAN_DEPENDENTS, Propagation,
};
pub use strategy::Strategy;

use crate::api::{AnyObject, K8sEvent, Tables};
use crate::lookup_map::LookupMap;
use crate::time::SimTime;
use std::collections::VecDeque;
use std::rc::Rc;

/// The verb of a write, as the trace names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Create,
    Update,
    /// A write to the status subresource.
    Status,
    /// A delete: either the object is gone (`removed`), or it was marked with a
    /// deletionTimestamp and waits for its grace period or finalizers.
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Status => "status",
            Verb::Delete => "delete",
        }
    }
}

/// One write, as a watch delivers it.
#[derive(Clone, Debug)]
pub struct WatchEvent {
    pub at: SimTime,
    pub verb: Verb,
    /// The object left the store with this write (a watch DELETED event).
    pub removed: bool,
    /// The object after the write (for a removal, its last state).
    pub obj: AnyObject,
    /// Who wrote it, e.g. `statefulset-controller`, `kubelet/node-a-1`, `kubectl`.
    pub actor: Rc<str>,
    /// A node Lease renewal (`ApiServer::renew_lease`): the object differs from its
    /// previous version only in `spec.renewTime`, resourceVersion and generation. Holds
    /// the Lease's position in the API server's Lease table, where an informer's cache,
    /// which saw the same Leases added and removed in the same order, has it too (a hint:
    /// `IndexedTable::get_mut_hinted` checks it).
    pub lease_renewal: Option<u32>,
}

/// One journal entry: an object write or a recorded Kubernetes Event.
#[derive(Clone, Debug)]
pub enum JournalEntry {
    Write(WatchEvent),
    Event { at: SimTime, event: Rc<K8sEvent> },
}

impl JournalEntry {
    pub fn at(&self) -> SimTime {
        match self {
            JournalEntry::Write(w) => w.at,
            JournalEntry::Event { at, .. } => *at,
        }
    }
}

/// Behaviour switches of the API server.
#[derive(Clone, Debug)]
pub struct ApiServerConfig {
    /// Namespace used when a manifest names none.
    pub default_namespace: String,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        ApiServerConfig {
            default_namespace: "default".into(),
        }
    }
}

pub struct ApiServer {
    objects: Tables,
    resource_version: u64,
    uid_counter: u64,
    /// Entries `journal_base..journal_base + journal.len()`.
    journal: VecDeque<JournalEntry>,
    journal_base: u64,
    /// One past the newest journal entry that is not a node Lease renewal: an informer
    /// that takes renewals on read needs no delivery once its cursor is past it.
    general_end: u64,
    /// Involved uid → the latest copy of each Event about it (`events.rs`). Only looked up.
    event_index: LookupMap<String, Vec<Rc<K8sEvent>>>,
    /// Each recorder's correlator, by the recording actor's name (its component and host;
    /// `event_correlator.rs`; upstream each lives in its component's process). Only
    /// looked up.
    correlators: LookupMap<Rc<str>, EventCorrelator>,
    event_counter: u64,
    /// Armed one-shot request failures (`faults.rs`).
    injected: Vec<InjectedFailure>,
    /// Who can reach the API server (`reachability.rs`).
    reach: Reachability,
    pub config: ApiServerConfig,
}

impl ApiServer {
    pub fn new(config: ApiServerConfig) -> Self {
        ApiServer {
            objects: Tables::default(),
            resource_version: 0,
            uid_counter: 0,
            journal: VecDeque::new(),
            journal_base: 0,
            general_end: 0,
            event_index: LookupMap::default(),
            correlators: LookupMap::default(),
            event_counter: 0,
            injected: Vec::new(),
            reach: Reachability::default(),
            config,
        }
    }

    /// The current state of every object (a consistent read, as a quorum GET sees it).
    pub fn objects(&self) -> &Tables {
        &self.objects
    }

    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Index one past the newest journal entry.
    pub fn journal_end(&self) -> u64 {
        self.journal_base + self.journal.len() as u64
    }

    /// The entry at absolute index `i`, if it is still kept.
    pub fn journal_entry(&self, i: u64) -> Option<&JournalEntry> {
        i.checked_sub(self.journal_base)
            .and_then(|off| self.journal.get(off as usize))
    }

    /// Drops entries every reader has passed (`min_cursor` is the lowest reader cursor).
    pub fn compact_journal(&mut self, min_cursor: u64) {
        while self.journal_base < min_cursor && !self.journal.is_empty() {
            self.journal.pop_front();
            self.journal_base += 1;
        }
    }

    /// One past the newest journal entry that is not a node Lease renewal.
    pub fn general_journal_end(&self) -> u64 {
        self.general_end
    }

    fn push(&mut self, entry: JournalEntry) {
        if !informer::is_renewal(&entry) {
            self.general_end = self.journal_end() + 1;
        }
        self.journal.push_back(entry);
    }

    fn next_uid(&mut self) -> String {
        self.uid_counter += 1;
        // Deterministic, UUID-shaped, and readable in traces.
        format!("00000000-0000-4000-8000-{:012x}", self.uid_counter)
    }
}

#[cfg(test)]
mod tests;
