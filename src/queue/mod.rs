//! The event queue: events ordered by `(time, seq)`, first-in first-out among equal times,
//! with cancellable timers.
//!
//! `seq` is a counter handed out at scheduling, so two events at the same instant run in
//! the order they were scheduled: that, and integer time, is what makes runs repeatable.
//!
//! Timers not in a lane wait in a timing wheel on the integer time (`wheel.rs`) as
//! `(time, seq, slot)` only; payloads wait in a slab (`slots`, reused through a free
//! list), so that the entries the wheel moves and sorts stay small (24 bytes, where events
//! with names in them are 70 and more).
//!
//! Lanes: many events are scheduled a fixed delay after the instant they are scheduled
//! at — a probe ticker's period, an informer's watch delay, a controller's work "now".
//! Scheduling instants never go back, so the events of one such delay arrive in
//! `(time, seq)` order already, and a first-in first-out lane keeps them sorted for a
//! push and a pop of a few instructions each, without the wheel's sort. The
//! caller says which events are worth a lane ([`EventQueue::schedule_in_lane`]); a lane
//! takes an entry only if it is not earlier than the lane's last one, so every lane is
//! always sorted, and a pop takes the smallest `(time, seq)` among the wheel's earliest
//! and the lanes' fronts: the order is exactly the order of one sorted queue.
//!
//! Keyed events: a periodic ticker whose order among the events of its instant must not
//! depend on when its previous tick was scheduled (so that its ticks can be left out of
//! the queue while they change nothing and put back later in the very place they would
//! have had — the kubelet's parked probe tickers) is scheduled with a fixed key of its
//! own ([`EventQueue::schedule_keyed`]). Keys are below every sequence number, so at
//! one instant keyed events run first, by key, then the others in scheduling order.

mod wheel;

use crate::time::SimTime;
use std::collections::{BTreeSet, VecDeque};
use wheel::TimerWheel;

/// Handle of a scheduled event, for cancelling it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// The first sequence number: keys of keyed events are below it.
pub const FIRST_SEQ: u64 = 1 << 63;

#[derive(Clone, Copy)]
struct Entry {
    at: SimTime,
    seq: u64,
    /// Index of the payload in `EventQueue::slots`.
    slot: u32,
}

/// Most lanes a queue keeps (each pop from a lane compares every lane's front).
const MAX_LANES: usize = 6;

/// Entries scheduled `delay` after their scheduling instant, in `(time, seq)` order.
struct Lane {
    delay: u64,
    entries: VecDeque<Entry>,
}

/// A priority queue of simulator events of type `E`.
pub struct EventQueue<E> {
    wheel: TimerWheel,
    lanes: Vec<Lane>,
    /// The lane whose front is the earliest of the lanes' fronts (`None` when every lane
    /// is empty): a lane's front changes only when it is popped or gets its first entry,
    /// so a pop from the wheel compares one lane front, not every lane's.
    first_lane: Option<usize>,
    /// Payloads of the scheduled events, by slot; `None` in a free slot.
    slots: Vec<Option<E>>,
    /// Free slots, reused last-freed first.
    free: Vec<u32>,
    next_seq: u64,
    cancelled: BTreeSet<u64>,
    now: SimTime,
    /// The sequence number (or key) of the last popped event.
    last_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            wheel: TimerWheel::new(),
            lanes: Vec::new(),
            first_lane: None,
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: FIRST_SEQ,
            cancelled: BTreeSet::new(),
            now: SimTime::ZERO,
            last_seq: 0,
        }
    }

    /// The time of the last popped event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Where the last popped event stands in the order: its time and its sequence number
    /// (its key, if keyed). Every event before it has run, none after it.
    pub fn last_popped(&self) -> (SimTime, u64) {
        (self.now, self.last_seq)
    }

    /// Schedules `payload` at `at`. Scheduling in the past is a simulator bug.
    pub fn schedule(&mut self, at: SimTime, payload: E) -> TimerId {
        let seq = self.take_seq();
        let e = self.entry(at, seq, payload);
        self.wheel.push(e);
        TimerId(seq)
    }

    /// [`EventQueue::schedule`] for an event whose delay (`at` − now) recurs often: it
    /// goes to that delay's lane (made if there is room) when that keeps the lane sorted.
    /// Where an event waits never changes when it runs.
    pub fn schedule_in_lane(&mut self, at: SimTime, payload: E) -> TimerId {
        let seq = self.take_seq();
        self.push_in_lane(at, seq, payload);
        TimerId(seq)
    }

    /// Schedules a keyed event (see the module header): at `at` it runs before every
    /// event that is not keyed, and after the keyed ones with smaller keys. A key is
    /// the ticker's own, the same at every tick, so keyed events cannot be cancelled.
    pub fn schedule_keyed(&mut self, at: SimTime, key: u64, payload: E) {
        assert!(
            key < FIRST_SEQ,
            "event key {key} is not below the sequence numbers"
        );
        let e = self.entry(at, key, payload);
        self.wheel.push(e);
    }

    /// [`EventQueue::schedule_keyed`] in the lane of its delay (see
    /// [`EventQueue::schedule_in_lane`]).
    pub fn schedule_keyed_in_lane(&mut self, at: SimTime, key: u64, payload: E) {
        assert!(
            key < FIRST_SEQ,
            "event key {key} is not below the sequence numbers"
        );
        self.push_in_lane(at, key, payload);
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn push_in_lane(&mut self, at: SimTime, seq: u64, payload: E) {
        let e = self.entry(at, seq, payload);
        let delay = e.at.as_nanos() - self.now.as_nanos();
        match self.lanes.iter().position(|l| l.delay == delay) {
            Some(i) => {
                let lane = &mut self.lanes[i].entries;
                if lane.back().is_none_or(|b| (b.at, b.seq) < (e.at, e.seq)) {
                    lane.push_back(e);
                    if lane.len() == 1 {
                        self.new_front(i, e);
                    }
                } else {
                    self.wheel.push(e);
                }
            }
            None if self.lanes.len() < MAX_LANES => {
                self.lanes.push(Lane {
                    delay,
                    entries: VecDeque::from([e]),
                });
                self.new_front(self.lanes.len() - 1, e);
            }
            None => self.wheel.push(e),
        }
    }

    /// Lane `i` (empty until now) has front `e`.
    fn new_front(&mut self, i: usize, e: Entry) {
        let earlier = match self.first_lane {
            None => true,
            Some(j) => {
                let f = self.lanes[j].entries[0];
                (e.at, e.seq) < (f.at, f.seq)
            }
        };
        if earlier {
            self.first_lane = Some(i);
        }
    }

    /// A new entry for `payload` at `at` with sequence number (or key) `seq`, in a slot.
    fn entry(&mut self, at: SimTime, seq: u64, payload: E) -> Entry {
        assert!(
            at >= self.now,
            "event scheduled in the past: {at:?} < now {:?}",
            self.now
        );
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
        Entry { at, seq, slot }
    }

    /// The earliest entry and where it waits: `None` for the wheel's earliest, `Some(i)` for
    /// lane `i`'s front.
    fn earliest(&mut self) -> Option<(Option<usize>, Entry)> {
        let best = self.wheel.peek().map(|e| (None, *e));
        let Some(i) = self.first_lane else {
            return best;
        };
        let f = self.lanes[i].entries[0];
        if best.is_none_or(|(_, b)| (f.at, f.seq) < (b.at, b.seq)) {
            Some((Some(i), f))
        } else {
            best
        }
    }

    /// Removes the entry `earliest` found there.
    fn remove_earliest(&mut self, from: Option<usize>) {
        match from {
            Some(i) => {
                self.lanes[i].entries.pop_front();
                self.first_lane = self.first_front();
            }
            None => {
                self.wheel.pop();
            }
        }
    }

    /// The lane whose front is the earliest, if any lane has entries.
    fn first_front(&self) -> Option<usize> {
        let mut best: Option<(usize, Entry)> = None;
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(f) = lane.entries.front()
                && best.is_none_or(|(_, b)| (f.at, f.seq) < (b.at, b.seq))
            {
                best = Some((i, *f));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Cancels a scheduled event; cancelling one that already ran is harmless. Keys are
    /// no handles: a keyed event is not cancelled.
    pub fn cancel(&mut self, id: TimerId) {
        if (FIRST_SEQ..self.next_seq).contains(&id.0) {
            self.cancelled.insert(id.0);
        }
    }

    /// Pops the earliest live event and advances `now` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        self.pop_due(SimTime(u64::MAX))
    }

    /// Pops the earliest live event if it is due at or before `t` (and advances `now` to
    /// its time); `None` if there is none by then. One search for both questions.
    pub fn pop_due(&mut self, t: SimTime) -> Option<(SimTime, u64, E)> {
        let (from, e) = self.earliest_live()?;
        if e.at > t {
            return None;
        }
        self.remove_earliest(from);
        let payload = self.take(e.slot);
        debug_assert!(e.at >= self.now, "time went backwards");
        self.now = e.at;
        self.last_seq = e.seq;
        Some((e.at, e.seq, payload))
    }

    /// The time of the next live event, without popping it.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.earliest_live().map(|(_, e)| e.at)
    }

    /// [`EventQueue::earliest`] after dropping the cancelled entries in front of it.
    fn earliest_live(&mut self) -> Option<(Option<usize>, Entry)> {
        loop {
            let (from, e) = self.earliest()?;
            if !self.cancelled.is_empty() && self.cancelled.remove(&e.seq) {
                self.remove_earliest(from);
                self.take(e.slot);
                continue;
            }
            return Some((from, e));
        }
    }

    /// Takes the payload out of `slot` and frees the slot.
    fn take(&mut self, slot: u32) -> E {
        self.free.push(slot);
        self.slots[slot as usize]
            .take()
            .expect("a queued entry's slot holds its payload")
    }

    pub fn len(&self) -> usize {
        let queued = self.wheel.len() + self.lanes.iter().map(|l| l.entries.len()).sum::<usize>();
        queued - self.cancelled.len().min(queued)
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

    /// A heap-only queue, the reference order for the lanes.
    fn reference_order(ops: &[(u64, u64)]) -> Vec<u64> {
        // (time, seq) sorted: what the heap alone gives.
        let mut v: Vec<(u64, u64)> = ops.to_vec();
        v.sort();
        v.into_iter().map(|(_, seq)| seq).collect()
    }

    #[test]
    fn lanes_keep_the_heap_order_exactly() {
        // Pops interleaved with pushes, to lanes or not, at fixed delays (which get
        // lanes, up to four) and jittered ones (lanes only while they stay sorted), equal
        // instants across heap and lanes, and cancellations.
        let mut q = EventQueue::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut scheduled: Vec<(u64, u64)> = Vec::new();
        let mut popped: Vec<u64> = Vec::new();
        let mut cancelled = BTreeSet::new();
        for round in 0..5_000u64 {
            let now = q.now().as_nanos();
            let delay = match next() % 6 {
                0 => 0,
                1 => 10_000,
                2 => 5_000,
                3 => 7_000,
                4 => next() % 20_000,
                _ => 10_000,
            };
            let id = if next() % 4 == 0 {
                q.schedule(SimTime(now + delay), round)
            } else {
                q.schedule_in_lane(SimTime(now + delay), round)
            };
            scheduled.push((now + delay, id.0 - FIRST_SEQ));
            if next() % 50 == 0 {
                q.cancel(id);
                cancelled.insert(id.0 - FIRST_SEQ);
            }
            if next() % 3 != 0
                && let Some((at, seq, payload)) = q.pop()
            {
                assert_eq!(seq - FIRST_SEQ, payload, "payloads follow their entries");
                assert_eq!(at, q.now());
                popped.push(payload);
            }
        }
        while let Some((_, _, payload)) = q.pop() {
            popped.push(payload);
        }
        assert_eq!(q.lanes.len(), MAX_LANES, "delays got lanes");
        let expected: Vec<u64> = reference_order(&scheduled)
            .into_iter()
            .filter(|s| !cancelled.contains(s))
            .collect();
        // Every live entry came out once, and in (time, seq) order: since pops only ever
        // take the earliest pending entry and pushes are never earlier than now, the pop
        // sequence is sorted.
        let mut sorted = popped.clone();
        sorted.sort_by_key(|s| {
            let (at, _) = scheduled[*s as usize];
            (at, *s)
        });
        assert_eq!(popped, sorted);
        let mut all = popped.clone();
        all.sort();
        let mut want = expected;
        want.sort();
        assert_eq!(all, want);
    }

    #[test]
    fn keyed_events_run_first_at_their_instant_by_key() {
        let mut q = EventQueue::new();
        q.schedule(t(5), "x");
        q.schedule_keyed(t(5), 7, "k7");
        q.schedule(t(1), "a");
        q.schedule_keyed(t(5), 3, "k3");
        q.schedule_in_lane(t(5), "y");
        q.schedule_keyed(t(9), 1, "k1");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, ["a", "k3", "k7", "x", "y", "k1"]);
        assert_eq!(q.last_popped(), (t(9), 1));
    }

    #[test]
    fn a_lane_refuses_a_keyed_entry_that_would_unsort_it() {
        // Same delay, same instant: the keyed entry sorts before the lane's back, so it
        // must wait in the wheel, and still comes out first.
        let mut q = EventQueue::new();
        q.schedule_in_lane(t(10), "late");
        q.schedule_keyed_in_lane(t(10), 4, "keyed");
        q.schedule_keyed_in_lane(t(10), 2, "first");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, ["first", "keyed", "late"]);
    }

    #[test]
    fn cancelling_a_key_cancels_nothing() {
        let mut q = EventQueue::new();
        q.schedule_keyed(t(1), 0, "keyed");
        q.cancel(TimerId(0));
        assert_eq!(q.pop().map(|(_, _, e)| e), Some("keyed"));
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
