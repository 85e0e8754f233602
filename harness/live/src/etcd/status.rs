//! [`EtcdStatus`]: an etcd member's own account of itself.

/// What `/v3/maintenance/status` says about a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EtcdStatus {
    pub member_id: u64,
    pub leader: u64,
    pub raft_term: u64,
    pub raft_index: u64,
}
