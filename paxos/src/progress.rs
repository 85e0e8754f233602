//! What a leader knows about each follower: the next slot to send, the pipelining window,
//! and the follower's chosen prefix (the counterpart of Raft's `next_index` / `match_index`
//! and etcd's `tracker/progress.go` + `inflights.go`, as `raft/src/progress.rs` holds them).
//!
//! A follower's progress is in one of two states, as in Raft:
//! - **Probe**: the leader does not know which slots the follower lacks (it did not promise
//!   in this leader's phase 1, or its window was presumed lost, or it reported a gap). One
//!   message at a time, until the follower answers.
//! - **Replicate**: the leader streams `Accept`s (and `Learn`s for slots the follower should
//!   already know to be chosen) from `next_slot`, with at most `max_inflight_msgs` messages
//!   unanswered.
//!
//! Each message in the window is identified by its last slot. The network may lose,
//! duplicate and reorder messages, so the window is a bound, not a ledger: when its oldest
//! message has gone unanswered for a heartbeat interval, the leader presumes it lost, empties
//! the window, rewinds `next_slot` to the first slot the follower may lack, and probes. (In
//! Paxos later accepts succeed without earlier ones, so "no acknowledgement at all", Raft's
//! rule, would miss a single lost accept; the oldest message's age does not.)

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
    /// Probe or Replicate.
    pub state: ProgressState,
    /// Last slot and send time of each unanswered `Accept` or `Learn`, oldest first.
    inflight: VecDeque<(LogIndex, Nanos)>,
    /// At most this many messages in flight while replicating.
    max_inflight: usize,
    /// The follower's chosen prefix, as its latest answer reported it.
    pub chosen_upto: LogIndex,
    /// Gap detection: the highest missing slot this follower reported that the leader
    /// rewound to (0: none at this ballot). Reports at or below it are not acted on again.
    pub(crate) gap_rewound: LogIndex,
    /// Catch-up by snapshot: the last slot of the snapshot being sent (0: none yet).
    pub snapshot_upto: LogIndex,
    /// Bytes of that snapshot's image the follower confirmed; the next chunk starts here.
    pub snapshot_offset: u64,
}

impl Progress {
    /// A follower the new leader knows nothing about (it did not promise): probe from the
    /// first slot the leader does not know to be chosen, `leader_chosen + 1`.
    pub fn new(leader_chosen: LogIndex, max_inflight: usize) -> Self {
        Progress {
            next_slot: leader_chosen + 1,
            state: ProgressState::Probe,
            inflight: VecDeque::new(),
            max_inflight,
            chosen_upto: leader_chosen,
            gap_rewound: 0,
            snapshot_upto: 0,
            snapshot_offset: 0,
        }
    }

    /// The follower promised in the new leader's phase 1, reporting its chosen prefix
    /// `peer_chosen`: stream from the first slot either of them may lack.
    pub(crate) fn on_promise(&mut self, peer_chosen: LogIndex, leader_chosen: LogIndex) {
        self.chosen_upto = peer_chosen;
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

    /// The first slot to send next: `next_slot`, but never a slot the follower reported
    /// chosen (nor, while the leader knows less, one past the leader's chosen prefix).
    pub(crate) fn first_unsent(&self, leader_chosen: LogIndex) -> LogIndex {
        self.next_slot.max(self.chosen_upto.min(leader_chosen) + 1)
    }

    /// Records that a message carrying slots up to `last` went out at `now_ns`.
    /// A snapshot chunk for the slots up to `upto` went out: it holds the window alone
    /// (stop-and-wait) and the next slot stays where it is. Reference: Raft §7.
    pub(crate) fn on_snapshot_sent(&mut self, upto: LogIndex, now_ns: Nanos) {
        self.state = ProgressState::Probe;
        self.inflight.push_back((upto, now_ns));
    }

    pub(crate) fn on_sent(&mut self, last: LogIndex, now_ns: Nanos) {
        self.inflight.push_back((last, now_ns));
        self.next_slot = last + 1;
    }

    /// The follower answered a message of this leader's ballot whose last slot is
    /// `last_slot`, reporting its chosen prefix. Frees that message's place in the window (a
    /// duplicate or stale answer frees nothing) and returns whether it was in the window.
    pub(crate) fn on_answer(&mut self, last_slot: LogIndex, chosen_upto: LogIndex) -> bool {
        self.chosen_upto = chosen_upto;
        self.state = ProgressState::Replicate;
        let found = self.inflight.iter().position(|&(s, _)| s == last_slot);
        if let Some(i) = found {
            self.inflight.remove(i);
        }
        found.is_some()
    }

    /// The follower answered a heartbeat that announced `announced` chosen. If it knows less
    /// and nothing is in flight to it, it lacks values: rewind to catch it up.
    pub(crate) fn on_heartbeat_reply(&mut self, chosen_upto: LogIndex, announced: LogIndex) {
        self.chosen_upto = chosen_upto;
        self.state = ProgressState::Replicate;
        if chosen_upto < announced && self.inflight.is_empty() {
            self.next_slot = self.next_slot.min(chosen_upto + 1);
        }
    }

    /// Whether the oldest message in the window has waited `timeout_ns` for an answer.
    pub fn window_stalled(&self, now_ns: Nanos, timeout_ns: Nanos) -> bool {
        self.inflight
            .front()
            .is_some_and(|&(_, sent_ns)| sent_ns + timeout_ns <= now_ns)
    }

    /// Presumes everything in the window lost: empties it and probes from the first slot
    /// the follower may lack.
    pub(crate) fn reset_window(&mut self, leader_chosen: LogIndex) {
        self.inflight.clear();
        self.state = ProgressState::Probe;
        self.next_slot = self.chosen_upto.min(leader_chosen) + 1;
    }

    /// Gap detection: rewinds to the `missing` slot the follower reported, drops the
    /// window's messages at or after it (their answers are now stale) and probes from there.
    pub(crate) fn rewind_to_gap(&mut self, missing: LogIndex) {
        self.gap_rewound = missing;
        self.inflight.retain(|&(last, _)| last < missing);
        self.next_slot = missing;
        self.state = ProgressState::Probe;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_of_w_pauses_after_w_sends_and_reopens_on_an_answer() {
        let mut pr = Progress::new(0, 2);
        pr.on_promise(0, 0);
        pr.on_sent(3, 0);
        pr.on_sent(6, 0);
        assert!(pr.is_paused());
        assert!(pr.on_answer(3, 0));
        assert_eq!((pr.is_paused(), pr.next_slot), (false, 7));
    }

    #[test]
    fn a_probe_allows_one_message_in_flight() {
        let mut pr = Progress::new(4, 8);
        pr.on_sent(5, 0);
        assert_eq!((pr.state, pr.is_paused()), (ProgressState::Probe, true));
    }

    #[test]
    fn a_stalled_window_resets_to_the_followers_chosen_prefix_and_probes() {
        let mut pr = Progress::new(0, 4);
        pr.on_promise(2, 5);
        pr.on_sent(4, 0);
        pr.on_sent(6, 10);
        assert!(pr.window_stalled(50, 50));
        pr.reset_window(5);
        assert_eq!(
            (pr.next_slot, pr.inflight_len(), pr.state),
            (3, 0, ProgressState::Probe)
        );
    }

    #[test]
    fn a_gap_drops_the_messages_at_or_after_it() {
        let mut pr = Progress::new(0, 4);
        pr.on_promise(0, 0);
        pr.on_sent(1, 0);
        pr.on_sent(2, 0);
        pr.on_sent(3, 0);
        pr.rewind_to_gap(2);
        assert_eq!((pr.next_slot, pr.inflight_len(), pr.gap_rewound), (2, 1, 2));
    }
}
