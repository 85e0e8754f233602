//! paxos (in progress)
