//! Placeholder until `paxos::synod` lands.
/// Placeholder.
pub struct Synod;
