//! The event queue's store of timers that are not in a lane: a timing wheel (a calendar
//! queue) on the integer time, first-in first-out among equal times.
//!
//! Time is cut into windows of 2^`SHIFT` ns (≈ 268 ms). The entries of the current window
//! (`current`) are kept sorted by `(time, seq)` and popped from the front. The next
//! `SLOTS` − 1 windows (≈ 17 s: a kubelet's Lease renewal, ten seconds and a jitter ahead,
//! lands there) each have a slot, an unsorted `Vec` pushed to in a few instructions; later
//! entries wait in a binary heap (`far`: resyncs and long back-offs, few). When `current`
//! runs out, the next window with entries (the nearest filled slot, found in a bit mask,
//! or the far heap's earliest, whichever is sooner) becomes current and its entries are
//! sorted, a dozen at a time in a busy cluster. A binary heap of a thousand timers moves an
//! entry about twenty times per pop instead.
//!
//! The queue may look at the wheel's earliest entry (making its window current) and then
//! pop a lane's earlier one, whose handler schedules something before the window's end.
//! Such an entry is earlier than everything in the slots and the far heap, so it goes into
//! `current` at its sorted place, as every entry of the current window or earlier does.

use super::Entry;
use crate::time::SimTime;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Width of a window: 2^28 ns ≈ 268 ms.
const SHIFT: u32 = 28;
/// Windows with a slot, the current one's included (one bit each in `filled`).
const SLOTS: u64 = 64;

pub(super) struct TimerWheel {
    /// Entries of window `cur` or earlier, sorted by `(time, seq)`.
    current: VecDeque<Entry>,
    /// `slots[w % SLOTS]`: entries of window `w`, for `cur < w < cur + SLOTS`.
    slots: Vec<Vec<Entry>>,
    /// Bit `i` set when `slots[i]` is not empty.
    filled: u64,
    /// Entries of windows `cur + SLOTS` and later (when pushed), earliest first.
    far: BinaryHeap<Reverse<(SimTime, u64, u32)>>,
    /// The current window; never goes back.
    cur: u64,
    len: usize,
}

fn window(at: SimTime) -> u64 {
    at.as_nanos() >> SHIFT
}

impl TimerWheel {
    pub(super) fn new() -> Self {
        TimerWheel {
            current: VecDeque::new(),
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            filled: 0,
            far: BinaryHeap::new(),
            cur: 0,
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Adds `e`, which must not be earlier than the last entry popped.
    pub(super) fn push(&mut self, e: Entry) {
        self.len += 1;
        let w = window(e.at);
        if w <= self.cur {
            self.push_current(e);
        } else if w < self.cur + SLOTS {
            let i = (w % SLOTS) as usize;
            self.slots[i].push(e);
            self.filled |= 1 << i;
        } else {
            self.far.push(Reverse((e.at, e.seq, e.slot)));
        }
    }

    /// `e` into `current` at its place: nearly always the back (it has the newest
    /// sequence number).
    fn push_current(&mut self, e: Entry) {
        let key = (e.at, e.seq);
        if self.current.back().is_none_or(|b| (b.at, b.seq) < key) {
            self.current.push_back(e);
        } else {
            let at = self.current.partition_point(|x| (x.at, x.seq) < key);
            self.current.insert(at, e);
        }
    }

    /// The earliest entry, making its window current if `current` has run out.
    pub(super) fn peek(&mut self) -> Option<&Entry> {
        if self.current.is_empty() {
            self.advance();
        }
        self.current.front()
    }

    /// Removes the earliest entry (the one `peek` returns).
    pub(super) fn pop(&mut self) -> Option<Entry> {
        if self.current.is_empty() {
            self.advance();
        }
        let e = self.current.pop_front()?;
        self.len -= 1;
        Some(e)
    }

    /// Makes the next window with entries current (see the header); `current` is empty.
    fn advance(&mut self) {
        // The nearest filled slot after `cur` (slot `cur % SLOTS` is never filled: its
        // next window would be `cur + SLOTS`, which goes to `far`).
        let from = (self.cur + 1) % SLOTS;
        let rotated = self.filled.rotate_right(from as u32);
        let in_slots = (rotated != 0).then(|| self.cur + 1 + u64::from(rotated.trailing_zeros()));
        let in_far = self.far.peek().map(|Reverse((at, _, _))| window(*at));
        let next = match (in_slots, in_far) {
            (Some(s), Some(f)) => s.min(f),
            (Some(s), None) => s,
            (None, Some(f)) => f,
            (None, None) => return,
        };
        self.cur = next;
        if in_slots == Some(next) {
            let i = (next % SLOTS) as usize;
            self.filled &= !(1 << i);
            self.current.extend(self.slots[i].drain(..));
        }
        while let Some(Reverse((at, seq, slot))) = self.far.peek().copied()
            && window(at) == next
        {
            self.far.pop();
            self.current.push_back(Entry { at, seq, slot });
        }
        if self.current.len() > 1 {
            self.current
                .make_contiguous()
                .sort_unstable_by_key(|e| (e.at, e.seq));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pops come out in `(time, seq)` order whatever the mix of pushes in the current
    /// window (before and after a peek made a later window current), in later windows, and
    /// beyond the slots, with long idle stretches.
    #[test]
    fn pops_in_time_then_sequence_order() {
        let mut h = TimerWheel::new();
        let mut pending = std::collections::BTreeSet::new();
        let mut now = 0u64;
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        // Each push's sequence number is its round.
        for seq in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let delay = match x % 6 {
                0 => 0,
                1 => x % 16,
                2 => x % 400_000_000,
                3 => 10_000_000_000 + x % 400_000_000,
                4 => x % 60_000_000_000,
                _ => x % 1_000_000,
            };
            // Like the queue: a push is never before the last pop, but may be before the
            // window a peek made current.
            let at = now + delay;
            h.push(Entry {
                at: SimTime(at),
                seq,
                slot: 0,
            });
            pending.insert((at, seq));
            if seq % 3 == 0 {
                let _ = h.peek();
            }
            if x % 7 < 3 {
                let e = h.pop().expect("entries pending");
                let want = pending.pop_first().expect("entries pending");
                assert_eq!((e.at.as_nanos(), e.seq), want);
                now = want.0;
            }
            assert_eq!(h.len(), pending.len());
        }
        for want in pending {
            let e = h.pop().expect("entries pending");
            assert_eq!((e.at.as_nanos(), e.seq), want);
        }
        assert!(h.pop().is_none());
    }
}
