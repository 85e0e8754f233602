//! The workbench harness: everything that drives the protocols.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`sim`] | the deterministic discrete-event simulator |
//! | [`history`] | client histories (`history.jsonl`) |
//! | [`check`] | the linearizability checker and protocol invariants |

pub mod campaign;
pub mod check;
pub mod experiments;
pub mod explore;
pub mod faults;
pub mod history;
pub mod live;
pub mod metrics;
pub mod properties;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod suite;
pub mod workload;
