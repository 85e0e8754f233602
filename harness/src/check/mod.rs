//! Correctness checking: linearizability of client histories.
pub mod invariants;
pub mod verdict;
