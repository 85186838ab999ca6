//! The event queue: events ordered by `(time, seq)`, first-in first-out among equal times,
//! with cancellable timers.
//!
//! `seq` is a counter handed out at scheduling, so two events at the same instant run in
//! the order they were scheduled: that, and integer time, is what makes runs repeatable.
//!
//! The heap holds only `(time, seq, slot)`; payloads wait in a slab (`slots`, reused
//! through a free list). A pop moves a heap entry about log₂(n) times, so keeping the
//! entries small (24 bytes, where events with names in them are 70 and more) keeps the
//! queue cheap with thousands of timers pending.

use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};

/// Handle of a scheduled event, for cancelling it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

struct Entry {
    at: SimTime,
    seq: u64,
    /// Index of the payload in `EventQueue::slots`.
    slot: u32,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the earliest `(time, seq)`.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// A priority queue of simulator events of type `E`.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry>,
    /// Payloads of the scheduled events, by slot; `None` in a free slot.
    slots: Vec<Option<E>>,
    /// Free slots, reused last-freed first.
    free: Vec<u32>,
    next_seq: u64,
    cancelled: BTreeSet<u64>,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            cancelled: BTreeSet::new(),
            now: SimTime::ZERO,
        }
    }

    /// The time of the last popped event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `payload` at `at`. Scheduling in the past is a simulator bug.
    pub fn schedule(&mut self, at: SimTime, payload: E) -> TimerId {
        assert!(
            at >= self.now,
            "event scheduled in the past: {at:?} < now {:?}",
            self.now
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(payload);
                slot
            }
            None => {
                self.slots.push(Some(payload));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 pending events")
            }
        };
        self.heap.push(Entry { at, seq, slot });
        TimerId(seq)
    }

    /// Cancels a scheduled event; cancelling one that already ran is harmless.
    pub fn cancel(&mut self, id: TimerId) {
        if id.0 < self.next_seq {
            self.cancelled.insert(id.0);
        }
    }

    /// Pops the earliest live event and advances `now` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        while let Some(e) = self.heap.pop() {
            let payload = self.take(e.slot);
            if !self.cancelled.is_empty() && self.cancelled.remove(&e.seq) {
                continue;
            }
            debug_assert!(e.at >= self.now, "time went backwards");
            self.now = e.at;
            return Some((e.at, e.seq, payload));
        }
        None
    }

    /// The time of the next live event, without popping it.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some(e) = self.heap.peek() {
            if self.cancelled.contains(&e.seq) {
                let (seq, slot) = (e.seq, e.slot);
                self.heap.pop();
                self.take(slot);
                self.cancelled.remove(&seq);
                continue;
            }
            return Some(e.at);
        }
        None
    }

    /// Takes the payload out of `slot` and frees the slot.
    fn take(&mut self, slot: u32) -> E {
        self.free.push(slot);
        self.slots[slot as usize]
            .take()
            .expect("a queued entry's slot holds its payload")
    }

    pub fn len(&self) -> usize {
        self.heap.len() - self.cancelled.len().min(self.heap.len())
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    fn t(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn orders_by_time_then_fifo() {
        let mut q = EventQueue::new();
        q.schedule(t(5), "c");
        q.schedule(t(1), "a");
        q.schedule(t(5), "d");
        q.schedule(t(1), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
        assert_eq!(q.now(), t(5));
    }

    #[test]
    fn cancelled_timers_never_fire() {
        let mut q = EventQueue::new();
        let a = q.schedule(t(1), 1);
        q.schedule(t(2), 2);
        let c = q.schedule(t(3), 3);
        q.cancel(a);
        q.cancel(c);
        assert_eq!(q.len(), 1);
        assert_eq!(q.peek_time(), Some(t(2)));
        assert_eq!(q.pop().map(|(_, _, e)| e), Some(2));
        assert!(q.pop().is_none());
        q.cancel(a); // already gone: harmless
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn refuses_the_past() {
        let mut q = EventQueue::new();
        q.schedule(t(10), ());
        q.pop();
        q.schedule(t(9), ());
    }
}
