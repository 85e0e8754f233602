//! The no-replication baseline: the first member is leader forever and commits a command as
//! soon as its own disk has it. Reports show it as the floor that replication sits above.
//! It tolerates no failure of the leader; it is a yardstick, not a protocol.

use crate::command::Command;
use crate::config::ProtocolConfig;
use crate::log::{Action, NotLeader, ReplicatedLog, Role, Status};
use crate::read::ReadId;
use crate::types::{Epoch, LogIndex, Nanos, NodeId, PersistSeq};
use crate::wire::WireSize;
use serde::{Deserialize, Serialize};

/// The baseline never sends a message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum NullMessage {}

impl WireSize for NullMessage {
    fn wire_size(&self) -> usize {
        match *self {}
    }
}

/// A single-node log that the other members only point at.
#[derive(Debug)]
pub struct NullLog {
    id: NodeId,
    leader: NodeId,
    log: Vec<Command>,
    /// Log length covered by each outstanding persist.
    inflight: Vec<(PersistSeq, LogIndex)>,
    next_seq: PersistSeq,
    durable: LogIndex,
    committed: LogIndex,
    /// The last read id handed out.
    last_read: ReadId,
    actions: Vec<Action<NullMessage, Command>>,
}

impl NullLog {
    fn commit_durable(&mut self) {
        while self.committed < self.durable {
            self.committed += 1;
            let cmd = self.log[self.committed as usize - 1].clone();
            self.actions.push(Action::Commit {
                index: self.committed,
                cmd,
            });
        }
    }
}

impl ReplicatedLog for NullLog {
    type Message = NullMessage;
    type Record = Command;
    const NAME: &'static str = "null";

    fn boot(
        id: NodeId,
        members: &[NodeId],
        _cfg: &ProtocolConfig,
        recovered: Vec<Command>,
        _seed: u64,
    ) -> Self {
        let durable = recovered.len() as LogIndex;
        let mut node = NullLog {
            id,
            leader: members[0],
            log: recovered,
            inflight: Vec::new(),
            next_seq: 1,
            durable,
            committed: 0,
            last_read: 0,
            actions: Vec::new(),
        };
        node.commit_durable();
        node
    }

    /// The only copy is the leader's: a read needs no confirmation, only what was
    /// appended before it (the log, since it commits whatever is durable).
    fn read(&mut self, _now: Nanos) -> Result<ReadId, NotLeader> {
        if self.id != self.leader {
            return Err(NotLeader {
                hint: Some(self.leader),
            });
        }
        self.last_read += 1;
        self.actions.push(Action::ReadReady {
            upto: self.last_read,
            index: self.log.len() as LogIndex,
        });
        Ok(self.last_read)
    }

    fn propose(&mut self, _now: Nanos, cmd: Command) -> Result<(), NotLeader> {
        if self.id != self.leader {
            return Err(NotLeader {
                hint: Some(self.leader),
            });
        }
        self.log.push(cmd.clone());
        let seq = self.next_seq;
        self.next_seq += 1;
        self.inflight.push((seq, self.log.len() as LogIndex));
        self.actions.push(Action::Persist {
            seq,
            records: vec![cmd],
        });
        Ok(())
    }

    fn step(&mut self, _now: Nanos, _from: NodeId, msg: NullMessage) {
        match msg {}
    }

    fn tick(&mut self, _now: Nanos) {}

    fn next_deadline(&self) -> Option<Nanos> {
        None
    }

    fn take_actions(&mut self, out: &mut Vec<Action<NullMessage, Command>>) {
        out.append(&mut self.actions);
    }

    fn persisted(&mut self, _now: Nanos, upto: PersistSeq) {
        while let Some(&(seq, len)) = self.inflight.first() {
            if seq > upto {
                break;
            }
            self.durable = self.durable.max(len);
            self.inflight.remove(0);
        }
        self.commit_durable();
    }

    fn status(&self) -> Status {
        let is_leader = self.id == self.leader;
        Status {
            id: self.id,
            role: if is_leader { Role::Leader } else { Role::Follower },
            leader_hint: Some(self.leader),
            epoch: Epoch::term(1),
            commit_index: self.committed,
            last_index: self.log.len() as LogIndex,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;

    #[test]
    fn null_log_elects_and_replicates_trivially() {
        // The baseline has no replication: only the leader commits, so the tests that need
        // followers or failover do not apply to it.
        let mut net = crate::testkit::Network::<NullLog>::new(3, ProtocolConfig::default(), 1);
        net.propose(NodeId(0), Command::Noop).unwrap();
        net.deliver_all();
        assert_eq!(net.commits(NodeId(0)).len(), 1);
        conformance::follower_refuses_proposals_with_a_hint::<NullLog>();
        conformance::same_seed_gives_the_same_run::<NullLog>();
    }
}
