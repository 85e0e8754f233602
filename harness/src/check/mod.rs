//! Correctness checking: linearizability of client histories, and protocol invariants.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`linearizability`] | the checker: per key, Wing & Gong / Lowe search, shrunk witnesses |
//! | [`synth`] | seeded synthetic histories, linearizable or with an injected bug |
//! | [`jepsen`] | a reader for Jepsen's register logs (the etcd test corpus) |
//! | [`invariants`] | protocol invariants checked as the simulator runs |
//! | [`verdict`] | the verdict in the shape `summary.json` stores |
//! | [`fxhash`] | the fast hash the checker's and the history's maps use |

pub mod fxhash;
pub mod invariants;
pub mod jepsen;
pub mod linearizability;
pub mod synth;
pub mod verdict;
