//! [`FileStorage`]: typed records on the file [`Wal`], encoded with postcard.

use super::snapshot::{self, SnapshotRecovery};
use super::wal::{Recovery, Tail, Wal, WalOptions, list_segments};
use super::{Storage, StorageError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::path::Path;

/// A [`Storage`] backed by the file write-ahead log.
#[derive(Debug)]
pub struct FileStorage<R> {
    wal: Wal,
    recovered: Vec<R>,
    tail: Tail,
    snapshots: SnapshotRecovery,
    encode_buf: Vec<u8>,
    _record: PhantomData<R>,
}

impl<R: Serialize + DeserializeOwned + Clone> FileStorage<R> {
    /// Opens the log in `dir`, decoding every recovered record. A damaged tail is repaired
    /// and reported through [`tail`](Self::tail); a record whose checksum holds but which
    /// does not decode is an error naming its position.
    ///
    /// With snapshot files present (see [`checkpoint`](Storage::checkpoint)), the records
    /// recovered are the newest intact checkpoint's, then those of the segments after it.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<Self, StorageError> {
        let (first_segment, mut recovered, snapshots) = read_checkpoint::<R>(dir)?;
        snapshot::remove_temporaries(dir)?;
        let (wal, Recovery { records, tail }) = Wal::open_from(dir, opts, first_segment)?;
        recovered.extend(decode_records(dir, &records)?);
        Ok(FileStorage {
            wal,
            recovered,
            tail,
            snapshots,
            encode_buf: Vec::new(),
            _record: PhantomData,
        })
    }

    /// What recovery found among the snapshot files (damaged newer ones included).
    pub fn snapshots(&self) -> &SnapshotRecovery {
        &self.snapshots
    }

    /// How recovery found the log's end.
    pub fn tail(&self) -> &Tail {
        &self.tail
    }

    /// Takes the records recovered at open (to boot the protocol from), leaving none behind.
    pub fn take_recovered(&mut self) -> Vec<R> {
        std::mem::take(&mut self.recovered)
    }
}

impl<R: Serialize + DeserializeOwned + Clone> Storage<R> for FileStorage<R> {
    fn append(&mut self, records: &[R]) -> Result<(), StorageError> {
        for r in records {
            self.encode_buf.clear();
            let bytes = postcard::to_extend(r, std::mem::take(&mut self.encode_buf))
                .map_err(|e| StorageError::Encode(e.to_string()))?;
            self.wal.append(&bytes)?;
            self.encode_buf = bytes;
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        self.wal.sync()
    }

    fn load(&self) -> Result<Vec<R>, StorageError> {
        let dir = self.wal.dir();
        let (first_segment, mut records, _) = read_checkpoint::<R>(dir)?;
        records.extend(decode_records(dir, &Wal::read_from(dir, first_segment)?.records)?);
        Ok(records)
    }

    /// Closes the current segment (syncing what was appended), writes the checkpoint as a
    /// snapshot file standing before the next segment, then drops what no recovery needs any
    /// more (see [`snapshot::prune`]).
    fn checkpoint(&mut self, records: &[R]) -> Result<(), StorageError> {
        let payload = postcard::to_allocvec(records).map_err(|e| StorageError::Encode(e.to_string()))?;
        let segment = self.wal.start_segment()?;
        // A failed checkpoint write leaves the log failed, as a failed append would.
        let written = snapshot::write_snapshot(self.wal.dir(), segment, &payload);
        self.wal.note(written)?;
        snapshot::prune(self.wal.dir(), segment)?;
        Ok(())
    }
}

/// The newest intact checkpoint in `dir`: the first segment after it, its records, and what
/// the search found. Without one, the log must start at its first segment.
fn read_checkpoint<R: DeserializeOwned>(dir: &Path) -> Result<(u64, Vec<R>, SnapshotRecovery), StorageError> {
    let found = snapshot::load_snapshot(dir)?;
    match &found.snapshot {
        Some(s) => {
            let records = postcard::from_bytes(&s.payload).map_err(|e| StorageError::Decode {
                path: s.path.clone(),
                offset: snapshot::SNAPSHOT_HEADER_LEN as u64,
                reason: format!("checkpoint records: {e}"),
            })?;
            Ok((s.segment, records, found))
        }
        None => {
            if let Some(&(first, _)) = list_segments(dir)?.first()
                && first > 1
            {
                return Err(StorageError::MissingSnapshot {
                    path: dir.to_path_buf(),
                    first_segment: first,
                });
            }
            Ok((0, Vec::new(), found))
        }
    }
}

fn decode_records<R: DeserializeOwned>(dir: &Path, records: &[Vec<u8>]) -> Result<Vec<R>, StorageError> {
    records
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            postcard::from_bytes(bytes).map_err(|e| StorageError::Decode {
                path: dir.to_path_buf(),
                offset: i as u64,
                reason: format!("record #{i}: {e}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_records_round_trip_through_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let mut s: FileStorage<(u64, String)> = FileStorage::open(dir.path(), WalOptions::default()).unwrap();
        s.append(&[(1, "a".into()), (2, "b".into())]).unwrap();
        s.sync().unwrap();
        drop(s);
        let mut s: FileStorage<(u64, String)> = FileStorage::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(s.take_recovered(), vec![(1, "a".into()), (2, "b".into())]);
    }

    type Rec = (u64, String);

    fn rec(i: u64) -> Rec {
        (i, format!("r{i}"))
    }

    fn open(dir: &Path) -> FileStorage<Rec> {
        FileStorage::open(dir, WalOptions::default()).unwrap()
    }

    #[test]
    fn recovery_boots_from_the_checkpoint_then_the_records_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        s.append(&[rec(1), rec(2), rec(3)]).unwrap();
        s.checkpoint(&[rec(100)]).unwrap();
        s.append(&[rec(4)]).unwrap();
        s.sync().unwrap();
        assert_eq!(s.load().unwrap(), vec![rec(100), rec(4)]);
        drop(s);
        assert_eq!(open(dir.path()).take_recovered(), vec![rec(100), rec(4)]);
    }

    #[test]
    fn compaction_drops_the_segments_before_the_previous_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        for round in 0..4 {
            s.append(&[rec(round)]).unwrap();
            s.checkpoint(&[rec(100 + round)]).unwrap();
        }
        s.sync().unwrap();
        let segments = list_segments(dir.path()).unwrap().len();
        let snapshots = snapshot::load_snapshot(dir.path()).unwrap();
        assert_eq!(segments, 2, "the segment after each of the two kept snapshots");
        assert_eq!(snapshots.snapshot.map(|s| s.segment), Some(5));
        assert_eq!(open(dir.path()).take_recovered(), vec![rec(103)]);
    }

    #[test]
    fn a_torn_newest_snapshot_falls_back_to_the_previous_one_and_the_log_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        s.append(&[rec(1)]).unwrap();
        s.checkpoint(&[rec(10)]).unwrap();
        s.append(&[rec(2)]).unwrap();
        s.checkpoint(&[rec(20)]).unwrap();
        s.append(&[rec(3)]).unwrap();
        s.sync().unwrap();
        drop(s);
        let newest = snapshot::load_snapshot(dir.path())
            .unwrap()
            .snapshot
            .unwrap()
            .path;
        let bytes = std::fs::read(&newest).unwrap();
        std::fs::write(&newest, &bytes[..bytes.len() - 1]).unwrap();
        let mut s = open(dir.path());
        assert_eq!(s.snapshots().damaged.len(), 1);
        assert_eq!(s.take_recovered(), vec![rec(10), rec(2), rec(3)]);
    }

    #[test]
    fn a_crash_during_the_snapshot_write_recovers_the_state_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        s.append(&[rec(1)]).unwrap();
        s.checkpoint(&[rec(10)]).unwrap();
        s.append(&[rec(2)]).unwrap();
        // The next checkpoint's segment was started, then the process died while writing
        // the snapshot's temporary file.
        let segment = s.wal.start_segment().unwrap();
        let partial = snapshot::encode_snapshot(segment, b"cut");
        let tmp = dir.path().join(format!("snapshot-{segment:016}.snap.tmp"));
        std::fs::write(&tmp, &partial[..12]).unwrap();
        drop(s);
        let mut s = open(dir.path());
        assert_eq!(s.take_recovered(), vec![rec(10), rec(2)]);
        assert!(!tmp.exists(), "the interrupted write's temporary file is removed");
    }

    #[test]
    fn a_log_compacted_past_every_intact_snapshot_is_an_error_naming_the_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        for round in 0..3 {
            s.append(&[rec(round)]).unwrap();
            s.checkpoint(&[rec(100 + round)]).unwrap();
        }
        drop(s);
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "snap") {
                std::fs::write(&path, b"junk").unwrap();
            }
        }
        let err = FileStorage::<Rec>::open(dir.path(), WalOptions::default()).unwrap_err();
        assert!(
            matches!(err, StorageError::MissingSnapshot { first_segment: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_checksummed_record_of_the_wrong_type_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        wal.append(&[0xff]).unwrap();
        wal.sync().unwrap();
        drop(wal);
        let err = FileStorage::<(u64, String)>::open(dir.path(), WalOptions::default()).unwrap_err();
        assert!(err.to_string().contains("record #0"), "{err}");
    }
}
