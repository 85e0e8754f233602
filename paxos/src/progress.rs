//! What a leader knows about each follower: the next slot to send, the pipelining window,
//! how far the follower holds the log (the counterpart of Raft's `next_index` /
//! `match_index` and etcd's `tracker/progress.go` + `inflights.go`, as `raft/src/progress.rs`
//! holds them), and when it last answered.
//!
//! A follower's progress is in one of two states, as in Raft:
//! - **Probe**: the leader does not know which slots the follower lacks (it did not promise
//!   in this leader's phase 1, or it went silent, or it reported a gap). One message at a
//!   time, until the follower answers.
//! - **Replicate**: the leader streams `Accept`s (and `Learn`s for slots the follower should
//!   already know to be chosen) from `next_slot`, with at most `max_inflight_msgs` messages
//!   unanswered.
//!
//! Acknowledgements are cumulative, as Raft's: an answer that reports no gap says the
//! follower holds, durably, every slot up to the message's last one, accepted at this
//! leader's ballot or known chosen (`match_slot`, Raft's `match_index`), and frees every
//! message in the window up to there. The leader's view of a follower (`match_slot`,
//! `chosen_upto`) only ever grows: stale and duplicated answers cannot move it back, and
//! every answer reports only durable state, so a restart cannot either.
//!
//! Each message in the window is identified by its last slot. The network may lose,
//! duplicate and reorder messages, so the window is a bound, not a ledger: when its oldest
//! message has gone unanswered for a heartbeat interval, the leader presumes the window lost
//! and restarts it from `match_slot + 1`, as Raft restarts from `match_index + 1`: the whole
//! window at once if the follower is answering, a probe if it is not. (In Paxos later
//! accepts succeed without earlier ones, so "no acknowledgement at all", Raft's stall rule,
//! would miss a single lost accept whose successors were answered with a gap report that
//! was itself acted on once; the oldest message's age does not.)

use replog::{LogIndex, Nanos};
use std::collections::VecDeque;

/// Flow-control state of one follower (the same two states as Raft's `ProgressState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressState {
    /// Finding out which slots the follower lacks: one message at a time.
    Probe,
    /// Streaming, pipelined up to the in-flight window.
    Replicate,
}

/// The leader's view of one follower.
#[derive(Clone, Debug)]
pub struct Progress {
    /// The next slot to send.
    pub next_slot: LogIndex,
    /// Every slot up to here the follower holds durably, accepted at this leader's ballot or
    /// known chosen (Raft's `match_index`). Never decreases.
    pub match_slot: LogIndex,
    /// Probe or Replicate.
    pub state: ProgressState,
    /// First slot, last slot and send time of each unanswered `Accept` or `Learn`, oldest
    /// first.
    inflight: VecDeque<(LogIndex, LogIndex, Nanos)>,
    /// At most this many messages in flight while replicating.
    max_inflight: usize,
    /// The follower's chosen prefix, the highest any of its answers reported (0: none yet).
    /// Never decreases.
    pub chosen_upto: LogIndex,
    /// Gap detection: the highest missing slot this follower reported that the leader
    /// rewound to (0: none at this ballot). Reports at or below it are not acted on again.
    pub(crate) gap_rewound: LogIndex,
    /// Catch-up by snapshot: the last slot of the snapshot being sent (0: none yet).
    pub snapshot_upto: LogIndex,
    /// Bytes of that snapshot's image the follower confirmed; the next chunk starts here.
    pub snapshot_offset: u64,
    /// When the follower last answered this leader (its quorum check, Raft's CheckQuorum).
    pub last_heard_ns: Nanos,
}

/// What an answer told the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Answered {
    /// It answered a message still in the window (not a duplicate, not one sent before a
    /// rewind).
    pub in_window: bool,
    /// `match_slot` before the answer: the slots after it up to the new `match_slot` are
    /// newly known to be held.
    pub match_before: LogIndex,
}

impl Progress {
    /// A follower the new leader knows nothing about (it did not promise): probe from the
    /// first slot the leader does not know to be chosen, `leader_chosen + 1`; its answer
    /// will say what it lacks. Reference: Raft §5.3, Figure 2 ("reinitialized after
    /// election"), as Raft's `Progress::new`.
    pub fn new(leader_chosen: LogIndex, max_inflight: usize, now_ns: Nanos) -> Self {
        assert!(max_inflight >= 1, "the window holds at least one message");
        Progress {
            next_slot: leader_chosen + 1,
            match_slot: 0,
            state: ProgressState::Probe,
            inflight: VecDeque::new(),
            max_inflight,
            chosen_upto: 0,
            gap_rewound: 0,
            snapshot_upto: 0,
            snapshot_offset: 0,
            last_heard_ns: now_ns,
        }
    }

    /// The follower promised in the new leader's phase 1, reporting its chosen prefix
    /// `peer_chosen`: stream from the first slot either of them may lack.
    pub(crate) fn on_promise(&mut self, peer_chosen: LogIndex, leader_chosen: LogIndex) {
        self.chosen_upto = peer_chosen;
        self.match_slot = peer_chosen;
        self.next_slot = peer_chosen.min(leader_chosen) + 1;
        self.state = ProgressState::Replicate;
    }

    /// Whether the leader must hold further messages to this follower: one in flight while
    /// probing, `max_inflight` while replicating.
    pub fn is_paused(&self) -> bool {
        let window = match self.state {
            ProgressState::Probe => 1,
            ProgressState::Replicate => self.max_inflight,
        };
        self.inflight.len() >= window
    }

    /// Number of unanswered messages in the window.
    pub fn inflight_len(&self) -> usize {
        self.inflight.len()
    }

    /// The first slot to send next: `next_slot`, but never one the follower is known to
    /// hold.
    pub(crate) fn first_unsent(&self) -> LogIndex {
        self.next_slot.max(self.match_slot + 1)
    }

    /// A snapshot chunk for the slots up to `upto` went out: it holds the window alone
    /// (stop-and-wait) and the next slot stays where it is (a resent probe starts there
    /// again). Reference: Raft §7.
    pub(crate) fn on_snapshot_sent(&mut self, upto: LogIndex, now_ns: Nanos) {
        self.state = ProgressState::Probe;
        self.inflight.push_back((self.next_slot, upto, now_ns));
    }

    /// Records that a message carrying slots `first..=last` went out at `now_ns`.
    pub(crate) fn on_sent(&mut self, first: LogIndex, last: LogIndex, now_ns: Nanos) {
        self.inflight.push_back((first, last, now_ns));
        self.next_slot = last + 1;
    }

    /// The follower answered, at `now_ns`, a message of this leader's ballot whose last slot
    /// is `last_slot`, reporting its chosen prefix and, when acknowledgements are cumulative,
    /// that it holds every slot up to `held_upto`. Raises the view of the follower (never
    /// lowers it), frees that message's place in the window and, with cumulative
    /// acknowledgements, every message up to `match_slot` (a duplicate or stale answer
    /// frees nothing of its own). Reference: Raft §5.3 (a success advances matchIndex), as
    /// Raft's `on_ack`.
    pub(crate) fn on_answer(
        &mut self,
        last_slot: LogIndex,
        chosen_upto: LogIndex,
        held_upto: Option<LogIndex>,
        now_ns: Nanos,
    ) -> Answered {
        let match_before = self.match_slot;
        self.last_heard_ns = now_ns;
        self.chosen_upto = self.chosen_upto.max(chosen_upto);
        self.match_slot = self.match_slot.max(self.chosen_upto).max(held_upto.unwrap_or(0));
        let found = self.inflight.iter().position(|&(_, last, _)| last == last_slot);
        if let Some(i) = found {
            self.inflight.remove(i);
        }
        if held_upto.is_some() {
            let held = self.match_slot;
            self.inflight.retain(|&(_, last, _)| last > held);
        }
        // Any answer ends a probe: unlike Raft's follower, an acceptor takes later slots
        // whatever it lacks before them, so streaming may resume while a gap is resent.
        self.state = ProgressState::Replicate;
        Answered {
            in_window: found.is_some(),
            match_before,
        }
    }

    /// The follower answered, at `now_ns`, a heartbeat that announced `announced` chosen.
    /// If it knows less and nothing is in flight to it, it lacks values: rewind to catch it
    /// up.
    pub(crate) fn on_heartbeat_reply(&mut self, chosen_upto: LogIndex, announced: LogIndex, now_ns: Nanos) {
        self.last_heard_ns = now_ns;
        self.chosen_upto = self.chosen_upto.max(chosen_upto);
        self.match_slot = self.match_slot.max(self.chosen_upto);
        self.state = ProgressState::Replicate;
        if self.chosen_upto < announced && self.inflight.is_empty() {
            self.next_slot = self.next_slot.min(self.chosen_upto + 1);
        }
    }

    /// Whether the oldest message in the window has waited `timeout_ns` for an answer.
    pub fn window_stalled(&self, now_ns: Nanos, timeout_ns: Nanos) -> bool {
        self.inflight
            .front()
            .is_some_and(|&(_, _, sent_ns)| sent_ns + timeout_ns <= now_ns)
    }

    /// Presumes everything in the window lost and, still replicating, resends the whole
    /// window from `match_slot + 1`. Reference: as Raft's `reset_window`.
    pub(crate) fn reset_window(&mut self) {
        self.inflight.clear();
        self.next_slot = self.match_slot + 1;
    }

    /// Starts (or restarts) probing from `next_slot`: one message at a time.
    /// Reference: as Raft's `become_probe`.
    pub(crate) fn become_probe(&mut self, next_slot: LogIndex) {
        self.inflight.clear();
        self.state = ProgressState::Probe;
        self.next_slot = next_slot;
    }

    /// A heartbeat is due while probing: send the probe again, from the slot it started at
    /// (as Raft's leader resends its probe at an unchanged `next_index` every heartbeat).
    pub(crate) fn resend_probe(&mut self) {
        if let Some(&(first, _, _)) = self.inflight.front() {
            self.next_slot = first;
        }
        self.inflight.clear();
    }

    /// Gap detection: rewinds to the `missing` slot the follower reported, drops the
    /// window's messages at or after it (their answers are now stale) and probes from there.
    pub(crate) fn rewind_to_gap(&mut self, missing: LogIndex) {
        self.gap_rewound = missing;
        self.inflight.retain(|&(_, last, _)| last < missing);
        self.next_slot = missing;
        self.state = ProgressState::Probe;
    }

    /// The last gap the follower reported, if no answer has shown it filled since: the
    /// resend may have been lost.
    pub(crate) fn unfilled_gap(&self) -> Option<LogIndex> {
        (self.gap_rewound > self.match_slot).then_some(self.gap_rewound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_of_w_pauses_after_w_sends_and_reopens_on_an_answer() {
        let mut pr = Progress::new(0, 2, 0);
        pr.on_promise(0, 0);
        pr.on_sent(1, 3, 0);
        pr.on_sent(4, 6, 0);
        assert!(pr.is_paused());
        assert!(pr.on_answer(3, 0, Some(3), 1).in_window);
        assert_eq!((pr.is_paused(), pr.next_slot), (false, 7));
    }

    #[test]
    fn a_probe_allows_one_message_in_flight() {
        let mut pr = Progress::new(4, 8, 0);
        pr.on_sent(5, 5, 0);
        assert_eq!((pr.state, pr.is_paused()), (ProgressState::Probe, true));
    }

    /// A lost answer costs nothing once a later one arrives: the later one acknowledges
    /// everything before it. Reference: Raft §5.3 (matchIndex), applied alike.
    #[test]
    fn a_cumulative_answer_frees_every_earlier_message_in_the_window() {
        let mut pr = Progress::new(0, 4, 0);
        pr.on_promise(0, 0);
        for last in [2, 4, 6] {
            pr.on_sent(last - 1, last, 0);
        }
        pr.on_answer(4, 0, Some(4), 1);
        assert_eq!((pr.match_slot, pr.inflight_len()), (4, 1));
    }

    #[test]
    fn a_per_message_answer_frees_only_its_own_message() {
        let mut pr = Progress::new(0, 4, 0);
        pr.on_promise(0, 0);
        for last in [2, 4, 6] {
            pr.on_sent(last - 1, last, 0);
        }
        pr.on_answer(4, 0, None, 1);
        assert_eq!((pr.match_slot, pr.inflight_len()), (0, 2));
    }

    /// Answers may arrive late or twice: the leader's view of the follower never goes back.
    #[test]
    fn a_stale_answer_never_lowers_the_view_of_the_follower() {
        let mut pr = Progress::new(0, 4, 0);
        pr.on_promise(0, 0);
        pr.on_sent(1, 9, 0);
        pr.on_answer(9, 7, Some(9), 1);
        pr.on_answer(3, 2, Some(3), 2);
        pr.on_heartbeat_reply(1, 7, 3);
        assert_eq!((pr.match_slot, pr.chosen_upto), (9, 7));
    }

    #[test]
    fn a_reset_window_resends_from_the_last_acknowledged_slot_and_keeps_replicating() {
        let mut pr = Progress::new(0, 4, 0);
        pr.on_promise(2, 5);
        pr.on_sent(3, 4, 0);
        pr.on_answer(4, 2, Some(4), 1);
        pr.on_sent(5, 6, 10);
        pr.on_sent(7, 8, 10);
        assert!(pr.window_stalled(60, 50));
        pr.reset_window();
        assert_eq!(
            (pr.next_slot, pr.inflight_len(), pr.state),
            (5, 0, ProgressState::Replicate)
        );
    }

    #[test]
    fn an_unanswered_probe_is_resent_from_where_it_started() {
        let mut pr = Progress::new(4, 8, 0);
        pr.on_sent(5, 9, 0);
        pr.resend_probe();
        assert_eq!((pr.next_slot, pr.inflight_len()), (5, 0));
    }

    #[test]
    fn a_gap_drops_the_messages_at_or_after_it() {
        let mut pr = Progress::new(0, 4, 0);
        pr.on_promise(0, 0);
        pr.on_sent(1, 1, 0);
        pr.on_sent(2, 2, 0);
        pr.on_sent(3, 3, 0);
        pr.rewind_to_gap(2);
        assert_eq!((pr.next_slot, pr.inflight_len(), pr.gap_rewound), (2, 1, 2));
    }

    /// A reported gap stays "unfilled" until an answer shows the follower holds it, so the
    /// heartbeat can resend it if its resend was lost.
    #[test]
    fn a_reported_gap_is_unfilled_until_an_answer_covers_it() {
        let mut pr = Progress::new(0, 4, 0);
        pr.on_promise(0, 0);
        pr.on_sent(1, 4, 0);
        pr.on_sent(5, 8, 0);
        pr.on_answer(8, 0, Some(0), 1);
        pr.rewind_to_gap(1);
        let before = pr.unfilled_gap();
        pr.on_answer(4, 0, Some(8), 2);
        assert_eq!((before, pr.unfilled_gap()), (Some(1), None));
    }
}
