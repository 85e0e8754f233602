//! Snapshot files: a checkpoint that replaces the write-ahead log before it.
//!
//! A checkpoint is a list of records (the protocol's: its snapshot and the state that
//! follows it) that stands for every record appended before it. It is written beside the
//! log's segments as `snapshot-<segment>.snap`, where `<segment>` is the first segment whose
//! records follow the checkpoint:
//!
//! ```text
//! +-------------+------------------+-------------+---------------+---------------+
//! | "RPLSNP01"  | segment: u64le   | len: u64le  | crc32c: u32le | payload: len B |
//! +-------------+------------------+-------------+---------------+---------------+
//! ```
//!
//! The checksum covers the segment number, the length and the payload.
//!
//! | rule | where |
//! | --- | --- |
//! | a snapshot file appears whole or not at all: written to a temporary file, fsynced, renamed, the directory fsynced | [`write_snapshot`] |
//! | recovery uses the newest snapshot whose checksum holds; a damaged newer one is reported and skipped | [`load_snapshot`] |
//! | the previous snapshot and the segments after it stay until a newer snapshot exists, so a damaged newest one falls back to them | [`prune`] |
//! | a leftover temporary file (a crash during the write) is ignored and removed | [`load_snapshot`], [`prune`] |

use super::StorageError;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// First bytes of every snapshot file: format name and version.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"RPLSNP01";
/// Bytes before the payload: magic, segment, length, checksum.
pub const SNAPSHOT_HEADER_LEN: usize = 8 + 8 + 8 + 4;
/// Snapshot files kept: the newest and the one before it (the fallback).
pub const SNAPSHOTS_KEPT: usize = 2;

const SUFFIX: &str = ".snap";
const TMP_SUFFIX: &str = ".snap.tmp";

fn snapshot_name(segment: u64) -> String {
    format!("snapshot-{segment:016}{SUFFIX}")
}

/// A snapshot recovery found intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedSnapshot {
    pub path: PathBuf,
    /// The first write-ahead-log segment whose records follow the checkpoint.
    pub segment: u64,
    pub payload: Vec<u8>,
}

/// A snapshot file recovery could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotDamage {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for SnapshotDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// What [`load_snapshot`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SnapshotRecovery {
    /// The newest intact snapshot, if any.
    pub snapshot: Option<LoadedSnapshot>,
    /// Newer snapshot files that were damaged, newest first.
    pub damaged: Vec<SnapshotDamage>,
}

/// The bytes of a snapshot file for `payload`, checkpointing before `segment`.
pub fn encode_snapshot(segment: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SNAPSHOT_HEADER_LEN + payload.len());
    out.extend_from_slice(&SNAPSHOT_MAGIC);
    out.extend_from_slice(&segment.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&out[8..24]), payload);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Checks one snapshot file's bytes: the segment and payload, or what is wrong, with the
/// byte offset.
pub fn decode_snapshot(bytes: &[u8]) -> Result<(u64, Vec<u8>), String> {
    if bytes.len() < SNAPSHOT_HEADER_LEN {
        return Err(format!(
            "header cut short at byte {} of {SNAPSHOT_HEADER_LEN}",
            bytes.len()
        ));
    }
    if bytes[..8] != SNAPSHOT_MAGIC {
        return Err("wrong magic at byte 0".into());
    }
    let segment = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    let len = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let stored = u32::from_le_bytes(bytes[24..28].try_into().expect("4 bytes"));
    let available = (bytes.len() - SNAPSHOT_HEADER_LEN) as u64;
    if available != len {
        return Err(format!(
            "payload at byte {SNAPSHOT_HEADER_LEN} has {available} bytes, the header says {len}"
        ));
    }
    let payload = &bytes[SNAPSHOT_HEADER_LEN..];
    let computed = crc32c::crc32c_append(crc32c::crc32c(&bytes[8..24]), payload);
    if computed != stored {
        return Err(format!(
            "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
        ));
    }
    Ok((segment, payload.to_vec()))
}

/// The snapshot files in `dir`, newest (highest segment) first.
fn list_snapshots(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| StorageError::io(dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(no) = name
            .strip_prefix("snapshot-")
            .and_then(|rest| rest.strip_suffix(SUFFIX))
            .and_then(|no| no.parse().ok())
        {
            out.push((no, path));
        }
    }
    out.sort_by(|a, b| b.cmp(a));
    Ok(out)
}

/// Writes a snapshot file for `payload`, checkpointing before `segment`, so that it exists
/// whole or not at all: a temporary file, fsync, rename, fsync of the directory.
pub fn write_snapshot(dir: &Path, segment: u64, payload: &[u8]) -> Result<PathBuf, StorageError> {
    let path = dir.join(snapshot_name(segment));
    let tmp = dir.join(format!("snapshot-{segment:016}{TMP_SUFFIX}"));
    let mut file = File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
    file.write_all(&encode_snapshot(segment, payload))
        .map_err(|e| StorageError::io(&tmp, e))?;
    file.sync_all().map_err(|e| StorageError::io(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))?;
    super::wal::sync_dir(dir)?;
    Ok(path)
}

/// Finds the newest snapshot in `dir` whose checksum holds. Damaged newer ones are reported
/// (and left in place for inspection); temporary files of an interrupted write are ignored.
pub fn load_snapshot(dir: &Path) -> Result<SnapshotRecovery, StorageError> {
    let mut recovery = SnapshotRecovery::default();
    for (no, path) in list_snapshots(dir)? {
        let bytes = fs::read(&path).map_err(|e| StorageError::io(&path, e))?;
        match decode_snapshot(&bytes) {
            Ok((segment, _)) if segment != no => recovery.damaged.push(SnapshotDamage {
                path,
                reason: format!("names segment {no} but holds segment {segment}"),
            }),
            Ok((segment, payload)) => {
                recovery.snapshot = Some(LoadedSnapshot {
                    path,
                    segment,
                    payload,
                });
                break;
            }
            Err(reason) => recovery.damaged.push(SnapshotDamage { path, reason }),
        }
    }
    for damage in &recovery.damaged {
        tracing::warn!(%damage, "snapshot file damaged; using an older one");
    }
    Ok(recovery)
}

/// Removes what no recovery can need once a snapshot before `newest_segment` is written:
/// snapshot files beyond the newest [`SNAPSHOTS_KEPT`], the segments before the oldest one
/// kept, and temporary files. Returns the first segment still needed.
pub fn prune(dir: &Path, newest_segment: u64) -> Result<u64, StorageError> {
    let snapshots = list_snapshots(dir)?;
    let kept: Vec<u64> = snapshots
        .iter()
        .map(|&(no, _)| no)
        .filter(|&no| no <= newest_segment)
        .take(SNAPSHOTS_KEPT)
        .collect();
    let first_needed = kept.last().copied().unwrap_or(newest_segment);
    for (no, path) in &snapshots {
        if *no < first_needed {
            fs::remove_file(path).map_err(|e| StorageError::io(path, e))?;
        }
    }
    for (no, path) in super::wal::list_segments(dir)? {
        if no < first_needed {
            fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
        }
    }
    remove_temporaries(dir)?;
    super::wal::sync_dir(dir)?;
    Ok(first_needed)
}

/// Removes the temporary files of snapshot writes a crash interrupted.
pub fn remove_temporaries(dir: &Path) -> Result<(), StorageError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| StorageError::io(dir, e))?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(TMP_SUFFIX))
        {
            fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        write_snapshot(dir.path(), 3, b"state").unwrap();
        let rec = load_snapshot(dir.path()).unwrap();
        let snap = rec.snapshot.unwrap();
        assert_eq!((snap.segment, snap.payload), (3, b"state".to_vec()));
        assert!(rec.damaged.is_empty());
    }

    #[test]
    fn a_torn_newest_snapshot_is_detected_and_the_previous_one_used() {
        let dir = tempfile::tempdir().unwrap();
        write_snapshot(dir.path(), 2, b"older").unwrap();
        let newest = write_snapshot(dir.path(), 5, b"newer state").unwrap();
        let bytes = fs::read(&newest).unwrap();
        fs::write(&newest, &bytes[..bytes.len() - 3]).unwrap();
        let rec = load_snapshot(dir.path()).unwrap();
        assert_eq!(rec.snapshot.map(|s| s.payload), Some(b"older".to_vec()));
        assert_eq!(rec.damaged.len(), 1, "{:?}", rec.damaged);
        assert!(rec.damaged[0].reason.contains("byte 28"), "{}", rec.damaged[0]);
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let mut bytes = encode_snapshot(4, b"payload");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(decode_snapshot(&bytes).unwrap_err().contains("checksum"));
    }

    #[test]
    fn a_crash_during_the_write_leaves_only_a_temporary_file_which_recovery_ignores() {
        let dir = tempfile::tempdir().unwrap();
        write_snapshot(dir.path(), 2, b"older").unwrap();
        // The process died after writing part of the temporary file, before the rename.
        let partial = &encode_snapshot(7, b"newer")[..10];
        fs::write(dir.path().join("snapshot-0000000000000007.snap.tmp"), partial).unwrap();
        let rec = load_snapshot(dir.path()).unwrap();
        assert_eq!(rec.snapshot.map(|s| s.segment), Some(2));
        assert!(rec.damaged.is_empty(), "a temporary file is not a snapshot");
        remove_temporaries(dir.path()).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn pruning_keeps_two_snapshots_and_the_segments_after_the_older() {
        let dir = tempfile::tempdir().unwrap();
        for no in 1..=6 {
            fs::write(dir.path().join(format!("{no:016}.wal")), b"").unwrap();
        }
        for no in [2, 4, 6] {
            write_snapshot(dir.path(), no, b"s").unwrap();
        }
        assert_eq!(prune(dir.path(), 6).unwrap(), 4);
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "0000000000000004.wal",
                "0000000000000005.wal",
                "0000000000000006.wal",
                "snapshot-0000000000000004.snap",
                "snapshot-0000000000000006.snap"
            ]
        );
    }
}
