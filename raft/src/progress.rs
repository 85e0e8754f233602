//! What a leader knows about each follower: Figure 2's `next_index` and `match_index`, and
//! the flow control around them (etcd's `tracker/progress.go` and `inflights.go`).
//!
//! A follower's progress is in one of two states:
//! - **Probe**: the leader does not know where the follower's log matches its own (just
//!   elected, or the follower rejected an AppendEntries). It sends one AppendEntries at a
//!   time and waits for the answer (or the next heartbeat) before sending another.
//! - **Replicate**: the follower's log matches up to `match_index` and the leader streams
//!   entries from `next_index`, with at most `max_inflight_msgs` entry-carrying
//!   AppendEntries unacknowledged (the pipelining window).
//!
//! The network may lose, duplicate and reorder messages, so the window is a bound, not a
//! ledger: a window that has seen no acknowledgement for a heartbeat interval is presumed
//! lost, emptied, and replication restarts from `match_index + 1`.

use replog::{LogIndex, Nanos};
use std::collections::VecDeque;

/// Flow-control state of one follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressState {
    /// Looking for the point where the follower's log matches: one message at a time.
    Probe,
    /// Streaming entries, pipelined up to the in-flight window.
    Replicate,
    /// The entries the follower needs are compacted: sending the snapshot, one chunk at a
    /// time (Raft §7).
    Snapshot,
}

/// The leader's view of one follower.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Index of the next log entry to send to the follower (Figure 2).
    pub next_index: LogIndex,
    /// Index of the highest log entry known to be replicated on the follower (Figure 2).
    pub match_index: LogIndex,
    /// Probe or Replicate.
    pub state: ProgressState,
    /// Probe: an AppendEntries is outstanding, so send no other until an answer or a heartbeat.
    probe_sent: bool,
    /// Replicate: the last index carried by each unacknowledged entry-carrying AppendEntries,
    /// oldest first. Never longer than `max_inflight`.
    inflight: VecDeque<LogIndex>,
    max_inflight: usize,
    /// When the window last moved: an acknowledgement freed part of it, or it went from
    /// empty to non-empty.
    window_moved_ns: Nanos,
    /// When the follower last answered an AppendEntries in this term (CheckQuorum, thesis §6.2).
    pub last_heard_ns: Nanos,
    /// Snapshot: the last included index of the snapshot being sent.
    pub snapshot_index: LogIndex,
    /// Snapshot: bytes of the image the follower confirmed; the next chunk starts here.
    pub snapshot_offset: u64,
}

impl Progress {
    /// A follower's progress when a leader takes office: `next_index` is the leader's last
    /// index + 1, `match_index` is 0, and the leader probes. Reference: Raft §5.3, Figure 2
    /// ("reinitialized after election").
    pub fn new(last_index: LogIndex, now_ns: Nanos, max_inflight: usize) -> Self {
        assert!(max_inflight >= 1, "the window holds at least one message");
        Progress {
            next_index: last_index + 1,
            match_index: 0,
            state: ProgressState::Probe,
            probe_sent: false,
            inflight: VecDeque::with_capacity(max_inflight),
            max_inflight,
            window_moved_ns: now_ns,
            last_heard_ns: now_ns,
            snapshot_index: 0,
            snapshot_offset: 0,
        }
    }

    /// Whether the leader must hold further AppendEntries to this follower.
    pub fn is_paused(&self) -> bool {
        match self.state {
            ProgressState::Probe | ProgressState::Snapshot => self.probe_sent,
            ProgressState::Replicate => self.inflight.len() >= self.max_inflight,
        }
    }

    /// Number of unacknowledged entry-carrying AppendEntries in the window.
    pub fn inflight_len(&self) -> usize {
        self.inflight.len()
    }

    /// Records that an AppendEntries carrying entries up to `last` (or none, when
    /// `last < next_index`) went out.
    pub(crate) fn on_sent(&mut self, last: LogIndex, now_ns: Nanos) {
        match self.state {
            ProgressState::Probe | ProgressState::Snapshot => self.probe_sent = true,
            ProgressState::Replicate => {
                assert!(
                    last >= self.next_index,
                    "replicate sends only entry-carrying messages"
                );
                assert!(!self.is_paused(), "sent beyond the in-flight window");
                if self.inflight.is_empty() {
                    self.window_moved_ns = now_ns;
                }
                self.inflight.push_back(last);
                self.next_index = last + 1;
            }
        }
    }

    /// The follower acknowledged that its log matches up to `index`. Returns whether
    /// `match_index` advanced. Old and duplicated acknowledgements change nothing.
    pub(crate) fn on_ack(&mut self, index: LogIndex, now_ns: Nanos) -> bool {
        let advanced = index > self.match_index;
        if advanced {
            self.match_index = index;
        }
        match self.state {
            ProgressState::Probe => {
                // The probe (at next_index - 1) or something after it was accepted: the
                // leader now knows where the logs match and may stream.
                if index + 1 >= self.next_index {
                    self.become_replicate(now_ns);
                }
            }
            // An acknowledgement from before the transfer started; the snapshot's own
            // answers end it (`on_snapshot_installed`).
            ProgressState::Snapshot => {}
            ProgressState::Replicate => {
                let before = self.inflight.len();
                while self.inflight.front().is_some_and(|&last| last <= index) {
                    self.inflight.pop_front();
                }
                if self.inflight.len() < before {
                    self.window_moved_ns = now_ns;
                }
            }
        }
        self.next_index = self.next_index.max(index + 1);
        advanced
    }

    /// Starts (or restarts) probing from `next_index`, which must lie after `match_index`.
    pub(crate) fn become_probe(&mut self, next_index: LogIndex) {
        assert!(
            next_index > self.match_index,
            "next_index {next_index} at or below match_index {}",
            self.match_index
        );
        self.state = ProgressState::Probe;
        self.next_index = next_index;
        self.probe_sent = false;
        self.inflight.clear();
    }

    fn become_replicate(&mut self, now_ns: Nanos) {
        self.state = ProgressState::Replicate;
        self.next_index = self.match_index + 1;
        self.probe_sent = false;
        self.inflight.clear();
        self.window_moved_ns = now_ns;
    }

    /// A heartbeat is due: lets the probe (or the snapshot chunk) go out again in case it
    /// was lost.
    pub(crate) fn unpause_probe(&mut self) {
        if matches!(self.state, ProgressState::Probe | ProgressState::Snapshot) {
            self.probe_sent = false;
        }
    }

    /// Starts sending the snapshot that ends at `index`, from its first byte.
    /// Reference: Raft §7 ("the leader must occasionally send snapshots to followers that
    /// lag behind").
    pub(crate) fn become_snapshot(&mut self, index: LogIndex) {
        self.state = ProgressState::Snapshot;
        self.snapshot_index = index;
        self.snapshot_offset = 0;
        self.probe_sent = false;
        self.inflight.clear();
    }

    /// The follower holds `received` bytes of the image: the next chunk starts there (a
    /// duplicated answer changes nothing; an earlier offset means the follower started over).
    pub(crate) fn on_snapshot_received(&mut self, received: u64) {
        if received != self.snapshot_offset {
            self.snapshot_offset = received;
            self.probe_sent = false;
        }
    }

    /// The follower installed the snapshot ending at `index`: its log matches up to there,
    /// and the leader probes from the index after it. Returns whether `match_index` advanced.
    pub(crate) fn on_snapshot_installed(&mut self, index: LogIndex) -> bool {
        let advanced = index > self.match_index;
        self.match_index = self.match_index.max(index);
        self.state = ProgressState::Probe;
        self.next_index = self.match_index + 1;
        self.probe_sent = false;
        advanced
    }

    /// Whether the window has been waiting for an acknowledgement for `timeout_ns`.
    pub fn window_stalled(&self, now_ns: Nanos, timeout_ns: Nanos) -> bool {
        self.state == ProgressState::Replicate
            && !self.inflight.is_empty()
            && now_ns >= self.window_moved_ns + timeout_ns
    }

    /// Presumes everything in the window lost and resends from `match_index + 1`.
    pub(crate) fn reset_window(&mut self, now_ns: Nanos) {
        self.inflight.clear();
        self.next_index = self.match_index + 1;
        self.window_moved_ns = now_ns;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_of_w_pauses_after_w_sends_and_reopens_on_ack() {
        let mut pr = Progress::new(0, 0, 2);
        pr.on_ack(0, 0);
        assert_eq!(pr.state, ProgressState::Replicate);
        pr.on_sent(3, 0);
        pr.on_sent(6, 0);
        assert!(pr.is_paused());
        pr.on_ack(3, 1);
        assert!(!pr.is_paused());
        assert_eq!((pr.match_index, pr.next_index), (3, 7));
    }

    #[test]
    fn stale_and_duplicated_acks_change_nothing() {
        let mut pr = Progress::new(0, 0, 4);
        pr.on_ack(0, 0);
        pr.on_sent(5, 0);
        pr.on_ack(5, 1);
        pr.on_sent(9, 1);
        assert!(!pr.on_ack(5, 2));
        assert!(!pr.on_ack(2, 2));
        assert_eq!((pr.match_index, pr.next_index, pr.inflight_len()), (5, 10, 1));
    }

    #[test]
    fn a_stalled_window_resets_to_match_index_plus_one() {
        let mut pr = Progress::new(0, 0, 4);
        pr.on_ack(0, 0);
        pr.on_sent(5, 0);
        pr.on_sent(9, 0);
        assert!(pr.window_stalled(50, 50));
        pr.reset_window(50);
        assert_eq!((pr.next_index, pr.inflight_len()), (1, 0));
    }
}
