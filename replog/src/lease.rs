//! Leader leases: the arithmetic both protocols use for `read_path = "lease"`, in one place.
//!
//! A lease lets a leader answer reads from its own state machine without a round of messages,
//! because no other node can have become leader (and committed a write) while it lasts. The
//! rules (Raft thesis §6.4.1; Chubby's and many multi-Paxos systems' leader leases):
//!
//! | rule | where |
//! | --- | --- |
//! | a lease lasts `election_timeout_min_ns`, the time a follower waits after hearing from a leader before it supports another | [`lease_length_ns`] |
//! | it is renewed by a confirmation round acknowledged by a majority, and runs from when the leader *sent* that round, not from when the answers came | [`LeaderLease::on_round_confirmed`] |
//! | the leader trusts it for `lease_drift_ns` less than its length, the bound on how much faster than the leader's a follower's clock may run over a lease | [`LeaderLease::holds`] |
//! | a new leader serves no lease read until a whole lease length after its election, so any lease of an earlier leader has run out | [`LeaderLease::new`] |
//! | a follower that acknowledged a leader supports no other (grants no vote, makes no promise) for a lease length after, measured on its own clock from receipt | [`FollowerPromise`] |
//! | a node that boots does the same for a lease length from its first moment, since it forgot whom it acknowledged | [`FollowerPromise::on_boot`] |
//!
//! Why it is safe when clocks behave: a follower acknowledged the round at real time `r >=
//! s` (the leader sent at `s`) and supports no new leader before `r + L` by its clock; the
//! leader stops at `s + L - drift` by its own. As long as the two clocks disagree by less
//! than `drift` over `L`, the lease ends before any majority can elect a successor. When they
//! disagree by more (a `clock_skew` fault beyond the bound), it does not: the scenario
//! `lease-skew-unsafe` shows the checker finding the stale read that results.
//!
//! Time is only ever the `now` a protocol is given; these functions never read a clock.

use crate::config::ProtocolConfig;
use crate::types::Nanos;

/// How long a lease lasts: the minimum election timeout, the shortest time after which a
/// follower may give up on its leader. Reference: Raft thesis §6.4.1.
pub fn lease_length_ns(cfg: &ProtocolConfig) -> Nanos {
    cfg.election_timeout_min_ns
}

/// A leader's lease: until when it may answer reads alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderLease {
    length_ns: Nanos,
    drift_ns: Nanos,
    /// No lease read before this: the previous leader's lease may still be running.
    serve_from_ns: Nanos,
    /// The lease by this leader's clock, before the drift bound is taken off (None: never
    /// confirmed).
    expires_ns: Option<Nanos>,
}

impl LeaderLease {
    /// The lease of a leader elected at `elected_ns`: empty, and unusable for a whole lease
    /// length, so that the old leader's lease has expired before this one serves. Reference:
    /// Raft thesis §6.4.1.
    pub fn new(cfg: &ProtocolConfig, elected_ns: Nanos) -> Self {
        let length_ns = lease_length_ns(cfg);
        LeaderLease {
            length_ns,
            drift_ns: cfg.lease_drift_ns,
            serve_from_ns: elected_ns + length_ns,
            expires_ns: None,
        }
    }

    /// A majority acknowledged a round sent at `sent_ns`: the lease runs a lease length from
    /// then (never shortened by an older round confirmed late).
    pub fn on_round_confirmed(&mut self, sent_ns: Nanos) {
        let expires_ns = sent_ns + self.length_ns;
        self.expires_ns = Some(self.expires_ns.map_or(expires_ns, |e| e.max(expires_ns)));
    }

    /// Whether the leader may answer a read alone at `now_ns`: past the wait of a new leader,
    /// and before the lease's end minus the drift bound.
    pub fn holds(&self, now_ns: Nanos) -> bool {
        now_ns >= self.serve_from_ns && self.expires_ns.is_some_and(|e| now_ns + self.drift_ns < e)
    }
}

/// A follower's side of a lease: after acknowledging a leader it supports no other (no vote
/// in Raft, no promise to a higher ballot in Paxos) for a lease length, by its own clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FollowerPromise {
    /// Supports no other leader before this (None: free).
    until_ns: Option<Nanos>,
}

impl FollowerPromise {
    /// A node's first moment after boot: it may have acknowledged a leader just before it
    /// crashed, and has forgotten, so it keeps the promise it might have made.
    pub fn on_boot(&mut self, cfg: &ProtocolConfig, now_ns: Nanos) {
        self.on_leader_heard(cfg, now_ns);
    }

    /// The node heard from (and is about to acknowledge) its leader at `now_ns`.
    pub fn on_leader_heard(&mut self, cfg: &ProtocolConfig, now_ns: Nanos) {
        let until_ns = now_ns + lease_length_ns(cfg);
        self.until_ns = Some(self.until_ns.map_or(until_ns, |u| u.max(until_ns)));
    }

    /// Whether the node must refuse to help elect another leader at `now_ns`.
    pub fn binds(&self, now_ns: Nanos) -> bool {
        self.until_ns.is_some_and(|u| now_ns < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    fn cfg() -> ProtocolConfig {
        ProtocolConfig {
            election_timeout_min_ns: 100 * MS,
            lease_drift_ns: 10 * MS,
            ..ProtocolConfig::default()
        }
    }

    #[test]
    fn a_lease_runs_from_when_the_round_was_sent_minus_the_drift_bound() {
        let mut lease = LeaderLease::new(&cfg(), 0);
        lease.on_round_confirmed(200 * MS);
        assert!(lease.holds(289 * MS));
        assert!(!lease.holds(290 * MS), "100ms from the send, less 10ms of drift");
    }

    #[test]
    fn a_new_leader_waits_out_a_whole_lease_before_serving() {
        let mut lease = LeaderLease::new(&cfg(), 50 * MS);
        lease.on_round_confirmed(60 * MS);
        assert!(!lease.holds(120 * MS), "the old leader's lease may still run");
        lease.on_round_confirmed(140 * MS);
        assert!(lease.holds(150 * MS));
    }

    #[test]
    fn a_late_confirmation_of_an_older_round_never_shortens_the_lease() {
        let mut lease = LeaderLease::new(&cfg(), 0);
        lease.on_round_confirmed(300 * MS);
        lease.on_round_confirmed(200 * MS);
        assert!(lease.holds(380 * MS));
    }

    #[test]
    fn an_unconfirmed_leader_holds_no_lease() {
        assert!(!LeaderLease::new(&cfg(), 0).holds(500 * MS));
    }

    #[test]
    fn a_follower_supports_no_other_leader_for_a_lease_length_after_hearing_its_own() {
        let mut p = FollowerPromise::default();
        assert!(!p.binds(0));
        p.on_leader_heard(&cfg(), 30 * MS);
        assert!(p.binds(129 * MS));
        assert!(!p.binds(130 * MS));
    }

    #[test]
    fn a_booting_node_keeps_the_promise_it_may_have_forgotten() {
        let mut p = FollowerPromise::default();
        p.on_boot(&cfg(), 7 * MS);
        assert!(p.binds(106 * MS));
    }
}
