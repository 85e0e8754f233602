//! The disk model: appends are instant, an fsync takes a sampled time, and fsyncs are
//! grouped: while one is in flight, later persists wait and the next fsync covers them all.

use super::dist::Dist;
use serde::{Deserialize, Serialize};

/// How fast the disk syncs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiskConfig {
    /// Time one fdatasync takes.
    pub fsync: Dist,
}

impl Default for DiskConfig {
    fn default() -> Self {
        DiskConfig {
            fsync: Dist::Normal {
                mean_ns: 1_000_000,
                stddev_ns: 100_000,
            },
        }
    }
}
