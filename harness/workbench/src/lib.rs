//! The workbench's commands as a library: the suite plan and its runs, the design-difference
//! experiments, the fault campaign, and the thread pool they share. The `workbench` binary
//! (`main.rs` and `cli/`) parses arguments and calls into these.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`suite`] | one run of (scenario, protocol, seed) with its checks; the built-in suite; `--quick` |
//! | [`pool`] | the thread pool every batch of independent runs goes through |
//! | [`experiments`] | the design-difference experiments and their report sections |
//! | [`campaign`] | seeds times fault schedules times protocols, every run checked |
//! | [`build_info`] | what built this binary (for reports) |
//! | [`bench_live`] | `bench live`: every system on real processes, client counts times rounds, and its report sections |

pub mod bench_live;
pub mod build_info;
pub mod campaign;
pub mod experiments;
pub mod pool;
pub mod suite;
