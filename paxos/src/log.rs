//! The acceptor's and learner's state for every slot: one instance of the synod algorithm
//! per log position (Paxos Made Simple §3), held side by side.
//!
//! Unlike Raft's log, slots are independent: a node may hold a value in slot 9 and nothing
//! in slot 8, and a value may be replaced by one accepted at a higher ballot until the slot
//! is known to be chosen. The learner's knowledge is the contiguous chosen prefix
//! [`chosen_upto`](SlotLog::chosen_upto) plus per-slot flags beyond it.

use crate::msg::{ShortBallot, ShortCommand};
use replog::{Command, Epoch, LogIndex, SnapshotImage};
use std::fmt;

/// What one slot holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The ballot at which the value was accepted (the null ballot for a value learned as
    /// chosen without being accepted).
    pub ballot: Epoch,
    /// The value.
    pub cmd: Command,
    /// Whether the value is known to be chosen. Once set, the value never changes.
    pub chosen: bool,
}

/// Slots 1, 2, ... and the chosen prefix. With compaction on, the slots up to the last
/// snapshot are replaced by it (every one of them chosen).
#[derive(Debug, Default)]
pub struct SlotLog {
    /// The last slot the snapshot replaces (0: no snapshot).
    base: LogIndex,
    /// The state after every slot up to `base`.
    snapshot: Option<SnapshotImage>,
    /// Slot `s` lives at index `s - base - 1`; `None` is a hole. Never ends in a hole.
    slots: Vec<Option<Entry>>,
    /// Every slot up to here is chosen (and holds its value).
    chosen_upto: LogIndex,
}

/// A clone keeps the original's spare capacity, so appending to a clone (the step benches
/// step cloned nodes) allocates when the original would, not on the first append.
impl Clone for SlotLog {
    fn clone(&self) -> Self {
        let mut slots = Vec::with_capacity(self.slots.capacity());
        slots.extend_from_slice(&self.slots);
        SlotLog {
            base: self.base,
            snapshot: self.snapshot.clone(),
            slots,
            chosen_upto: self.chosen_upto,
        }
    }
}

impl SlotLog {
    /// An empty log.
    pub fn new() -> Self {
        SlotLog::default()
    }

    /// A log whose slots up to `upto` are replaced by the snapshot `image`: all chosen.
    pub(crate) fn from_snapshot(upto: LogIndex, image: SnapshotImage) -> Self {
        SlotLog {
            base: upto,
            snapshot: Some(image),
            slots: Vec::new(),
            chosen_upto: upto,
        }
    }

    /// The entry in `slot`, if any (none inside the snapshot).
    pub fn get(&self, slot: LogIndex) -> Option<&Entry> {
        if slot <= self.base {
            return None;
        }
        self.slots.get((slot - self.base) as usize - 1)?.as_ref()
    }

    /// The highest slot holding a value (the snapshot's last when none follows; 0 when empty).
    pub fn last_slot(&self) -> LogIndex {
        self.base + self.slots.len() as LogIndex
    }

    /// The last slot the snapshot replaces (0: none).
    pub fn snapshot_upto(&self) -> LogIndex {
        self.base
    }

    /// The snapshot: the last slot it replaces and the image.
    pub fn snapshot(&self) -> Option<(LogIndex, &SnapshotImage)> {
        self.snapshot.as_ref().map(|image| (self.base, image))
    }

    /// Log compaction: the snapshot `image` replaces every slot up to `upto`, which must be
    /// chosen. Reference: Raft §7, applied to the chosen prefix.
    pub(crate) fn compact(&mut self, upto: LogIndex, image: SnapshotImage) {
        assert!(
            upto > self.base && upto <= self.chosen_upto,
            "compaction up to {upto} outside the chosen prefix ({}..={})",
            self.base,
            self.chosen_upto
        );
        self.slots.drain(..(upto - self.base) as usize);
        self.base = upto;
        self.snapshot = Some(image);
    }

    /// A snapshot of the chosen prefix up to `upto` from a peer: it replaces every slot up to
    /// there; the slots after it stay.
    pub(crate) fn install(&mut self, upto: LogIndex, image: SnapshotImage) {
        assert!(
            upto > self.chosen_upto,
            "installing a snapshot inside the chosen prefix"
        );
        let drop = ((upto - self.base) as usize).min(self.slots.len());
        self.slots.drain(..drop);
        self.base = upto;
        self.snapshot = Some(image);
        self.chosen_upto = upto;
        while self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
        self.advance_chosen();
    }

    /// The contiguous chosen prefix.
    pub fn chosen_upto(&self) -> LogIndex {
        self.chosen_upto
    }

    /// Whether `slot` is known to be chosen.
    pub fn is_chosen(&self, slot: LogIndex) -> bool {
        slot <= self.chosen_upto || self.get(slot).is_some_and(|e| e.chosen)
    }

    fn slot_mut(&mut self, slot: LogIndex) -> &mut Option<Entry> {
        assert!(
            slot > self.base,
            "slot {slot} is inside the snapshot (up to {})",
            self.base
        );
        let i = (slot - self.base) as usize - 1;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        &mut self.slots[i]
    }

    /// Stores `cmd` as accepted in `slot` at `ballot`. A slot known to be chosen keeps its
    /// value: Paxos guarantees every later proposal carries the same one (Paxos Made Simple
    /// §2.2, P2b), and the assertion checks it.
    ///
    /// A slot inside the snapshot is chosen and its value is gone: nothing to store.
    pub fn accept(&mut self, slot: LogIndex, ballot: Epoch, cmd: Command) {
        if slot <= self.base {
            return;
        }
        match self.slot_mut(slot) {
            Some(e) if e.chosen => assert!(
                e.cmd == cmd,
                "agreement violated at slot {slot}: chosen {:?}, then accepted {cmd:?} at {ballot:?}",
                e.cmd
            ),
            entry => {
                if let Some(e) = entry.as_ref() {
                    assert!(
                        e.ballot <= ballot,
                        "slot {slot}: accepted {ballot:?} after the higher {:?}",
                        e.ballot
                    );
                }
                *entry = Some(Entry {
                    ballot,
                    cmd,
                    chosen: false,
                });
            }
        }
    }

    /// Records that `cmd` is chosen in `slot`. A value chosen once never changes: learning a
    /// different one is an agreement violation. A value learned without being accepted gets
    /// the null ballot: its chosen flag, not its ballot, is what a promise reports.
    pub fn learn(&mut self, slot: LogIndex, cmd: Command) {
        if slot <= self.base {
            return;
        }
        let entry = self.slot_mut(slot);
        match entry {
            Some(e) if e.chosen => assert!(
                e.cmd == cmd,
                "agreement violated at slot {slot}: chosen {:?}, then learned {cmd:?}",
                e.cmd
            ),
            Some(e) if e.cmd == cmd => e.chosen = true,
            _ => {
                *entry = Some(Entry {
                    ballot: Epoch::default(),
                    cmd,
                    chosen: true,
                })
            }
        }
    }

    /// Whether `slot` already holds `cmd` accepted at `ballot`, or knows `cmd` chosen there:
    /// accepting it again would change nothing.
    pub fn holds(&self, slot: LogIndex, ballot: Epoch, cmd: &Command) -> bool {
        self.get(slot)
            .is_some_and(|e| e.cmd == *cmd && (e.chosen || e.ballot == ballot))
    }

    /// Whether `slot` already knows `cmd` chosen: learning it again would change nothing.
    pub fn holds_chosen(&self, slot: LogIndex, cmd: &Command) -> bool {
        self.get(slot).is_some_and(|e| e.chosen && e.cmd == *cmd)
    }

    /// Marks the value already in `slot` as chosen.
    pub fn mark_chosen(&mut self, slot: LogIndex) {
        if slot <= self.base {
            return;
        }
        let entry = self
            .slot_mut(slot)
            .as_mut()
            .unwrap_or_else(|| panic!("slot {slot} marked chosen without a value"));
        entry.chosen = true;
    }

    /// Extends the chosen prefix over consecutive chosen slots. Returns whether it moved.
    pub fn advance_chosen(&mut self) -> bool {
        let before = self.chosen_upto;
        while self.get(self.chosen_upto + 1).is_some_and(|e| e.chosen) {
            self.chosen_upto += 1;
        }
        self.chosen_upto > before
    }

    /// Marks every slot up to `upto` chosen (a durable chosen mark, on recovery). Each must
    /// hold a value.
    pub fn mark_chosen_upto(&mut self, upto: LogIndex) {
        for slot in self.chosen_upto + 1..=upto {
            self.mark_chosen(slot);
        }
        self.advance_chosen();
    }

    /// The slots from `from` on that hold a value, in order.
    pub fn entries_from(&self, from: LogIndex) -> impl Iterator<Item = (LogIndex, &Entry)> {
        let base = self.base;
        let start = (from.max(base + 1) - base) as usize - 1;
        self.slots
            .iter()
            .enumerate()
            .skip(start)
            .filter_map(move |(i, e)| Some((base + i as LogIndex + 1, e.as_ref()?)))
    }

    /// The commands in `first..=last`, every one of which must hold a value.
    pub fn cmds(&self, first: LogIndex, last: LogIndex) -> Vec<Command> {
        (first..=last)
            .map(|s| {
                self.get(s)
                    .unwrap_or_else(|| panic!("slot {s} has no value"))
                    .cmd
                    .clone()
            })
            .collect()
    }
}

/// One line: `[1:b1.0 noop chosen, 2:-, 3:b2.1 x=1] chosen_upto:1`, each slot with the
/// ballot its value was accepted at (`b0`: learned as chosen), `-` for a hole.
impl fmt::Display for SlotLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        if self.base > 0 {
            write!(f, "snapshot:{}", self.base)?;
        }
        for (i, slot) in self.slots.iter().enumerate() {
            let sep = if i == 0 && self.base == 0 { "" } else { ", " };
            let i = i + self.base as usize;
            match slot {
                Some(e) => {
                    let chosen = if e.chosen || (i as LogIndex) < self.chosen_upto {
                        " chosen"
                    } else {
                        ""
                    };
                    write!(
                        f,
                        "{sep}{}:{} {}{chosen}",
                        i + 1,
                        ShortBallot(e.ballot),
                        ShortCommand(&e.cmd)
                    )?
                }
                None => write!(f, "{sep}{}:-", i + 1)?,
            }
        }
        write!(f, "] chosen_upto:{}", self.chosen_upto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::NodeId;

    fn b(round: u64) -> Epoch {
        Epoch::ballot(round, NodeId(0))
    }

    #[test]
    fn chosen_prefix_stops_at_the_first_hole() {
        let mut log = SlotLog::new();
        log.learn(1, Command::Noop);
        log.learn(3, Command::Noop);
        log.advance_chosen();
        assert_eq!(log.chosen_upto(), 1);
    }

    #[test]
    fn a_higher_ballot_replaces_an_unchosen_value() {
        let mut log = SlotLog::new();
        log.accept(2, b(1), Command::Noop);
        let cmd = Command::client(1, 1, replog::Op::Get { key: "k".into() });
        log.accept(2, b(2), cmd.clone());
        assert_eq!(log.get(2).map(|e| e.cmd.clone()), Some(cmd));
    }

    #[test]
    #[should_panic(expected = "agreement violated")]
    fn a_chosen_value_never_changes() {
        let mut log = SlotLog::new();
        log.learn(1, Command::Noop);
        log.accept(
            1,
            b(2),
            Command::client(1, 1, replog::Op::Get { key: "k".into() }),
        );
    }
}
