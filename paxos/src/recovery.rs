//! Restart from durable state: replay the write-ahead-log records in order to rebuild the
//! acceptor (its promise and the values it accepted) and the learner's durable knowledge
//! (values learned as chosen, the chosen prefix). Everything else (the role, a leader's
//! per-follower progress, which slots a leader saw acknowledged) is volatile: a restarted
//! node is a follower that commits again from slot 1 and learns the rest from a leader.
//! Reference: Paxos Made Simple §2.2 ("an acceptor must remember this information even if
//! it fails and then restarts").

use crate::durable::Record;
use crate::log::SlotLog;
use replog::Epoch;

/// The durable state, as the records left it.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The highest ballot promised or accepted at.
    pub promised: Epoch,
    /// Accepted and learned values, and the chosen prefix.
    pub log: SlotLog,
}

/// Replays `records` in the order they were persisted.
pub fn replay(records: Vec<Record>) -> Recovered {
    let mut state = Recovered::default();
    let mut chosen_mark = 0;
    for record in records {
        match record {
            Record::Promised { ballot } => {
                assert!(
                    ballot >= state.promised,
                    "WAL: promise went back from {:?} to {ballot:?}",
                    state.promised
                );
                state.promised = ballot;
            }
            Record::Accepted {
                ballot,
                first_slot,
                cmds,
            } => {
                // An accept at a ballot raises the promise to it (Paxos Made Simple §2.2:
                // accepting is answering a request numbered `ballot`).
                state.promised = state.promised.max(ballot);
                for (i, cmd) in cmds.into_iter().enumerate() {
                    state.log.accept(first_slot + i as u64, ballot, cmd);
                }
            }
            Record::Learned {
                ballot,
                first_slot,
                cmds,
            } => {
                state.promised = state.promised.max(ballot);
                for (i, cmd) in cmds.into_iter().enumerate() {
                    state.log.learn(first_slot + i as u64, cmd);
                }
            }
            Record::ChosenUpto { upto } => chosen_mark = chosen_mark.max(upto),
            Record::Snapshot { upto, image } => {
                // A checkpoint starts here: what follows it describes the slots after it.
                state.log = SlotLog::from_snapshot(upto, image);
                chosen_mark = chosen_mark.max(upto);
            }
        }
    }
    state.log.mark_chosen_upto(chosen_mark);
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::{Command, NodeId, Op};

    fn put(seq: u64) -> Command {
        Command::client(
            1,
            seq,
            Op::Put {
                key: "k".into(),
                value: seq.to_string(),
            },
        )
    }

    #[test]
    fn replay_rebuilds_promise_values_and_chosen_prefix() {
        let b1 = Epoch::ballot(1, NodeId(0));
        let b2 = Epoch::ballot(2, NodeId(1));
        let records = vec![
            Record::Promised { ballot: b1 },
            Record::Accepted {
                ballot: b1,
                first_slot: 1,
                cmds: vec![put(1), put(2), put(3)],
            },
            Record::ChosenUpto { upto: 1 },
            Record::Accepted {
                ballot: b2,
                first_slot: 3,
                cmds: vec![put(30)],
            },
            Record::Learned {
                ballot: b1,
                first_slot: 2,
                cmds: vec![put(2)],
            },
        ];
        let r = replay(records);
        assert_eq!(r.promised, b2);
        assert_eq!(r.log.chosen_upto(), 2);
        assert_eq!(
            r.log.get(3).map(|e| (e.ballot, e.cmd.clone())),
            Some((b2, put(30)))
        );
    }
}
