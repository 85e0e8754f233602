//! `model`: the vocabulary both backends (the simulator and the live runtime) share. Nothing
//! here runs a cluster; everything here describes, drives or judges one.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`protocol`] | [`Protocol`]: the systems the workbench runs, by name |
//! | [`scenario`] | scenario files: cluster, network, disk, CPU, protocol knobs, workload, faults; validation with errors naming file, field and line |
//! | [`workload`] | clients as a sans-IO state machine: closed and open loop, keys, retries |
//! | [`timer`] | [`TimerToken`]: the timers a driver sets on its backend |
//! | [`faults`] | a scheduled fault turned into changes to a cluster, targets resolved at fire time |
//! | [`driver`] | [`ScenarioDriver`]: clients and fault schedule over any [`Backend`] |
//! | [`history`] | client histories (`history.jsonl`) and paired operations |
//! | [`check`] | the linearizability checker, Jepsen's log format, the verdict |
//! | [`metrics`] | latency, throughput, unavailability, elections, messages per command |
//! | [`run`] | what a run produced: [`RunOutput`], [`NodeStats`], [`StatusChange`] |
//! | [`stats`] | a figure over seeds: mean and 95 % confidence interval, and when two differ |
//!
//! The protocol invariants (agreement, commit order, election safety, durability,
//! convergence) are `replog::invariants`, shared with the protocols' test cluster.

pub mod check;
pub mod driver;
pub mod faults;
pub mod history;
pub mod metrics;
pub mod protocol;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod timer;
pub mod workload;

pub use driver::{Backend, ScenarioDriver};
pub use protocol::Protocol;
pub use run::{BackendKind, NodeStats, RunOutput, StatusChange};
pub use timer::TimerToken;
