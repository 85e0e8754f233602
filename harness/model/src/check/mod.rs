//! Correctness checking of client histories. (The protocol invariants checked as a run goes
//! are `replog::invariants`.)
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`linearizability`] | the checker: per key, Wing & Gong / Lowe search, shrunk witnesses |
//! | [`synth`] | seeded synthetic histories, linearizable or with an injected bug |
//! | [`jepsen`] | a reader for Jepsen's register logs (the etcd test corpus) |
//! | [`verdict`] | the verdict in the shape `summary.json` stores |

pub mod jepsen;
pub mod linearizability;
pub mod synth;
pub mod verdict;
