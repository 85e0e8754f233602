//! The machine a live benchmark runs on: its cores, its load, how busy its CPUs were during
//! a run, and what file system holds the data directory (tmpfs makes every fdatasync free,
//! so a benchmark there measures nothing about durability).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the report says about the machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: Option<String>,
    pub kernel: Option<String>,
    /// The data directory and the file system type of its mount (e.g. `ext4`).
    pub data_dir: PathBuf,
    pub data_fs: Option<String>,
}

impl Machine {
    /// Describes this machine, with `data_dir` (which must exist) as the data directory.
    pub fn describe(data_dir: &Path) -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_string());
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            kernel,
            data_dir: data_dir.to_path_buf(),
            data_fs: fs_type(data_dir),
        }
    }

    /// Whether the data directory is on a file system held in memory.
    pub fn data_in_memory(&self) -> bool {
        self.data_fs
            .as_deref()
            .is_some_and(|t| matches!(t, "tmpfs" | "ramfs"))
    }
}

/// The type of the file system `path` lives on, from `/proc/mounts` (None elsewhere).
pub fn fs_type(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    fs_type_in(&mounts, &path)
}

/// The type of the mount in `mounts` (the text of `/proc/mounts`) that holds `path`: the
/// longest mount point that is a prefix of it (the last such line, when mounts are stacked).
pub fn fs_type_in(mounts: &str, path: &Path) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(_dev), Some(point), Some(kind)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        // /proc/mounts escapes spaces in mount points as \040.
        let point = point.replace("\\040", " ");
        if path.starts_with(&point) && best.as_ref().is_none_or(|(len, _)| point.len() >= *len) {
            best = Some((point.len(), kind.to_string()));
        }
    }
    best.map(|(_, kind)| kind)
}

/// The 1-minute load average (`/proc/loadavg`).
pub fn load_average_1m() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The machine's CPU time counters: (busy, total) in clock ticks, summed over every CPU
/// (`/proc/stat`'s first line; idle and iowait are not busy).
pub fn cpu_ticks() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_line(text.lines().next()?)
}

/// (busy, total) ticks from `/proc/stat`'s `cpu` line.
pub fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
    if v.len() < 5 {
        return None;
    }
    let total: u64 = v.iter().take(8).sum();
    let idle = v[3] + v[4];
    Some((total - idle, total))
}

/// The share of the machine's CPU time that was busy between two [`cpu_ticks`] readings.
pub fn busy_share(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let busy = after.0.checked_sub(before.0)?;
    let total = after.1.checked_sub(before.1)?;
    (total > 0).then(|| busy as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "\
/dev/vda / ext4 rw,relatime 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0
/dev/vdb /work/data xfs rw 0 0
tmpfs /work/data/scratch\\040space tmpfs rw 0 0
";

    #[test]
    fn the_longest_mount_point_holding_the_path_names_its_file_system() {
        let t = |p: &str| fs_type_in(MOUNTS, Path::new(p));
        assert_eq!(t("/home/me").as_deref(), Some("ext4"));
        assert_eq!(t("/dev/shm/bench").as_deref(), Some("tmpfs"));
        assert_eq!(t("/work/data/run1").as_deref(), Some("xfs"));
        assert_eq!(
            t("/work/database").as_deref(),
            Some("ext4"),
            "a prefix of a name is not a parent"
        );
        assert_eq!(t("/work/data/scratch space/x").as_deref(), Some("tmpfs"));
    }

    #[test]
    fn tmpfs_and_ramfs_are_in_memory() {
        let m = |fs: &str| Machine {
            data_fs: Some(fs.into()),
            ..Machine::default()
        };
        assert!(m("tmpfs").data_in_memory() && m("ramfs").data_in_memory());
        assert!(!m("ext4").data_in_memory());
        assert!(!Machine::default().data_in_memory(), "unknown is not in memory");
    }

    #[test]
    fn busy_share_counts_everything_but_idle_and_iowait() {
        let before = parse_cpu_line("cpu  100 0 100 700 100 0 0 0 0 0").unwrap();
        let after = parse_cpu_line("cpu  250 0 150 900 100 0 0 0 0 0").unwrap();
        assert_eq!(before, (200, 1000));
        assert_eq!(busy_share(before, after), Some(200.0 / 400.0));
        assert_eq!(parse_cpu_line("cpu0 1 2 3 4 5"), None);
    }
}
