//! [`FileStorage`]: typed records on the file [`Wal`], encoded with postcard.

use super::wal::{Recovery, Tail, Wal, WalOptions};
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
    encode_buf: Vec<u8>,
    _record: PhantomData<R>,
}

impl<R: Serialize + DeserializeOwned + Clone> FileStorage<R> {
    /// Opens the log in `dir`, decoding every recovered record. A damaged tail is repaired
    /// and reported through [`tail`](Self::tail); a record whose checksum holds but which
    /// does not decode is an error naming its position.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<Self, StorageError> {
        let (wal, Recovery { records, tail }) = Wal::open(dir, opts)?;
        let recovered = records
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                postcard::from_bytes(bytes).map_err(|e| StorageError::Decode {
                    path: dir.to_path_buf(),
                    offset: i as u64,
                    reason: format!("record #{i}: {e}"),
                })
            })
            .collect::<Result<Vec<R>, _>>()?;
        Ok(FileStorage {
            wal,
            recovered,
            tail,
            encode_buf: Vec::new(),
            _record: PhantomData,
        })
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
        let recovery = Wal::read(self.wal.dir())?;
        recovery
            .records
            .iter()
            .enumerate()
            .map(|(i, b)| {
                postcard::from_bytes(b).map_err(|e| StorageError::Decode {
                    path: self.wal.dir().to_path_buf(),
                    offset: i as u64,
                    reason: format!("record #{i}: {e}"),
                })
            })
            .collect()
    }
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
