//! Leader changes and election durations, read off the status log (protocol-neutral: Raft's
//! candidates and Paxos's phase-1 proposers both report `Candidate`).

use crate::run::StatusChange;
use replog::{Epoch, Nanos, NodeId, Role};
use serde::{Deserialize, Serialize};

/// A node became leader of a new, higher epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderChange {
    pub at_ns: Nanos,
    pub leader: NodeId,
    pub epoch: Epoch,
    /// Time since the first node started campaigning (None if nobody campaigned, e.g. a
    /// protocol with a fixed leader).
    pub election_ns: Option<Nanos>,
}

/// Every leader change, in time order.
pub fn leader_changes(log: &[StatusChange]) -> Vec<LeaderChange> {
    let mut out = Vec::new();
    let mut highest: Option<Epoch> = None;
    let mut campaign_start: Option<Nanos> = None;
    for change in log {
        if !change.up {
            continue;
        }
        let s = &change.status;
        match s.role {
            Role::Candidate | Role::PreCandidate => {
                campaign_start.get_or_insert(change.time);
            }
            Role::Leader if highest.is_none_or(|h| s.epoch > h) => {
                highest = Some(s.epoch);
                out.push(LeaderChange {
                    at_ns: change.time,
                    leader: s.id,
                    epoch: s.epoch,
                    election_ns: campaign_start.take().map(|t| change.time - t),
                });
            }
            _ => {}
        }
    }
    out
}

/// The first leader change at or after `t` (how long a fault left the cluster leaderless is
/// `change.at_ns - t`).
pub fn next_leader_after(changes: &[LeaderChange], t: Nanos) -> Option<&LeaderChange> {
    changes.iter().find(|c| c.at_ns >= t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::Status;

    fn at(time: Nanos, id: u32, role: Role, term: u64) -> StatusChange {
        StatusChange {
            time,
            up: true,
            status: Status {
                id: NodeId(id),
                role,
                leader_hint: None,
                epoch: Epoch::term(term),
                commit_index: 0,
                last_index: 0,
            },
        }
    }

    #[test]
    fn an_election_lasts_from_the_first_candidate_to_the_new_leader() {
        let log = [
            at(100, 0, Role::Candidate, 1),
            at(150, 1, Role::Candidate, 1),
            at(180, 0, Role::Leader, 1),
            at(200, 1, Role::Follower, 1),
        ];
        let changes = leader_changes(&log);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].election_ns, Some(80));
    }

    #[test]
    fn a_leader_of_an_old_epoch_is_not_a_change() {
        let log = [at(10, 0, Role::Leader, 2), at(20, 1, Role::Leader, 1)];
        assert_eq!(leader_changes(&log).len(), 1);
    }
}
