//! The file write-ahead log.
//!
//! Layout: a directory of segments `0000000000000001.wal`, `...002.wal`, each starting with
//! the 8-byte magic [`SEGMENT_MAGIC`] and then records framed as
//!
//! ```text
//! +------------+---------------+------------------+
//! | len: u32le | crc32c: u32le | payload: len B   |
//! +------------+---------------+------------------+
//! ```
//!
//! The checksum covers the payload. Appends are buffered; [`Wal::sync`] writes them and calls
//! fdatasync, so one sync covers every append before it (group commit).
//!
//! Recovery reads segments in order and stops at the first record that is cut short, fails
//! its checksum or claims an impossible length. Everything before it is returned; the damage
//! is reported with the segment and byte offset. [`Wal::open`] then repairs the log so new
//! appends follow the last good record, after copying the discarded bytes into
//! `quarantine/`, so nothing is silently thrown away.

use super::StorageError;
use super::faults::{self, DiskFaults};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// First bytes of every segment: format name and version.
pub const SEGMENT_MAGIC: [u8; 8] = *b"RPLWAL01";
/// Bytes of framing before each payload.
pub const RECORD_HEADER_LEN: usize = 8;
/// Largest payload accepted; a length field above it is treated as corruption.
pub const MAX_RECORD_LEN: usize = 64 << 20;

/// Tuning for [`Wal`].
#[derive(Clone, Debug)]
pub struct WalOptions {
    /// A new segment starts once the current one would exceed this many bytes.
    pub segment_bytes: u64,
    /// Faults to inject into writes and fsyncs (tests); `None` in production.
    pub faults: Option<DiskFaults>,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_bytes: 64 << 20,
            faults: None,
        }
    }
}

/// What recovery found.
#[derive(Debug)]
pub struct Recovery {
    /// Every intact record, in append order.
    pub records: Vec<Vec<u8>>,
    /// Whether the log ended cleanly.
    pub tail: Tail,
}

/// How the log ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    Clean,
    Damaged(Damage),
}

/// Where recovery stopped and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The segment holding the first bad byte.
    pub segment: PathBuf,
    /// Byte offset of the first bad record (its length field) within that segment.
    pub offset: u64,
    pub kind: DamageKind,
    /// Bytes from `offset` to the end of that segment, which recovery could not use.
    pub discarded_bytes: u64,
    /// Segments after the damaged one: unreachable, since log order cannot skip a hole.
    pub later_segments: Vec<PathBuf>,
}

/// The kind of damage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamageKind {
    /// The segment is shorter than its magic, or the magic is wrong.
    BadSegmentHeader,
    /// Fewer than 8 bytes of record header remain: a write torn inside the header.
    TornHeader { available: u64 },
    /// The header promises more payload than the file holds: a write torn inside the payload.
    TornPayload { needed: u64, available: u64 },
    /// The payload does not match its checksum: a flipped bit or a misdirected write.
    ChecksumMismatch { stored: u32, computed: u32 },
    /// The length field exceeds [`MAX_RECORD_LEN`]: garbage where a header should be.
    ImpossibleLength { len: u64 },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.kind {
            DamageKind::BadSegmentHeader => "missing or wrong segment magic".to_string(),
            DamageKind::TornHeader { available } => {
                format!("torn record header ({available} of {RECORD_HEADER_LEN} bytes)")
            }
            DamageKind::TornPayload { needed, available } => {
                format!("torn record payload ({available} of {needed} bytes)")
            }
            DamageKind::ChecksumMismatch { stored, computed } => {
                format!("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")
            }
            DamageKind::ImpossibleLength { len } => format!("impossible record length {len}"),
        };
        write!(
            f,
            "{} at byte {}: {what}; {} bytes and {} later segment(s) unusable",
            self.segment.display(),
            self.offset,
            self.discarded_bytes,
            self.later_segments.len()
        )
    }
}

/// An open write-ahead log, positioned after its last intact record.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    file: File,
    path: PathBuf,
    segment_no: u64,
    /// Bytes in the current segment, counting buffered ones.
    segment_len: u64,
    buf: Vec<u8>,
    /// The first write or fsync that failed: the log takes nothing more.
    failed: Option<String>,
}

fn segment_name(no: u64) -> String {
    format!("{no:016}.wal")
}

/// The segments in `dir`, in log order.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("wal") {
            continue;
        }
        if let Some(no) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse().ok())
        {
            out.push((no, path));
        }
    }
    out.sort();
    Ok(out)
}

/// Scans one segment's bytes: the intact payloads, and where it went bad if it did.
fn scan_segment(bytes: &[u8]) -> (Vec<Vec<u8>>, Option<(u64, DamageKind)>) {
    let mut records = Vec::new();
    if bytes.is_empty() {
        // Created but the header never reached the disk: an empty log, not damage.
        return (records, None);
    }
    if bytes.len() < SEGMENT_MAGIC.len() || bytes[..SEGMENT_MAGIC.len()] != SEGMENT_MAGIC {
        return (records, Some((0, DamageKind::BadSegmentHeader)));
    }
    let mut pos = SEGMENT_MAGIC.len();
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.len() < RECORD_HEADER_LEN {
            let kind = DamageKind::TornHeader {
                available: rest.len() as u64,
            };
            return (records, Some((pos as u64, kind)));
        }
        let len = u32::from_le_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
        let stored = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        if len > MAX_RECORD_LEN {
            let kind = DamageKind::ImpossibleLength { len: len as u64 };
            return (records, Some((pos as u64, kind)));
        }
        let available = rest.len() - RECORD_HEADER_LEN;
        if available < len {
            let kind = DamageKind::TornPayload {
                needed: len as u64,
                available: available as u64,
            };
            return (records, Some((pos as u64, kind)));
        }
        let payload = &rest[RECORD_HEADER_LEN..RECORD_HEADER_LEN + len];
        let computed = crc32c::crc32c(payload);
        if computed != stored {
            let kind = DamageKind::ChecksumMismatch { stored, computed };
            return (records, Some((pos as u64, kind)));
        }
        records.push(payload.to_vec());
        pos += RECORD_HEADER_LEN + len;
    }
    (records, None)
}

/// Appends `payload` to `out` framed as one record (length, CRC32C, payload): the bytes
/// [`Wal::append`] writes for it.
pub fn frame_record(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The bytes of one segment holding `payloads` in order: the magic, then each framed record,
/// as [`Wal::append`] and [`Wal::sync`] would leave them in a fresh segment file.
pub fn encode_segment<P: AsRef<[u8]>>(payloads: &[P]) -> Vec<u8> {
    let mut out = SEGMENT_MAGIC.to_vec();
    for p in payloads {
        frame_record(&mut out, p.as_ref());
    }
    out
}

/// Recovers one segment from its bytes, by the rules [`Wal::read`] applies to each segment
/// file: every intact record before the first damaged one, and where and how it is damaged.
/// `segment` is the name a [`Damage`] reports; `later_segments` is left empty. For callers
/// that hold a log in memory (the simulator's corruption experiments).
pub fn recover_segment(segment: &Path, bytes: &[u8]) -> Recovery {
    let (records, damage) = scan_segment(bytes);
    let tail = match damage {
        None => Tail::Clean,
        Some((offset, kind)) => Tail::Damaged(Damage {
            segment: segment.to_path_buf(),
            offset,
            kind,
            discarded_bytes: bytes.len() as u64 - offset,
            later_segments: Vec::new(),
        }),
    };
    Recovery { records, tail }
}

impl Wal {
    /// Reads the log in `dir` without changing anything.
    pub fn read(dir: &Path) -> Result<Recovery, StorageError> {
        Self::read_from(dir, 0)
    }

    /// Reads the segments numbered `first_segment` and up (those after a checkpoint, see
    /// [`super::snapshot`]) without changing anything.
    pub fn read_from(dir: &Path, first_segment: u64) -> Result<Recovery, StorageError> {
        let segments: Vec<_> = list_segments(dir)?
            .into_iter()
            .filter(|&(no, _)| no >= first_segment)
            .collect();
        let mut records = Vec::new();
        for (i, (_, path)) in segments.iter().enumerate() {
            let bytes = fs::read(path).map_err(|e| StorageError::io(path, e))?;
            let mut segment = recover_segment(path, &bytes);
            records.append(&mut segment.records);
            if let Tail::Damaged(mut damage) = segment.tail {
                damage.later_segments = segments[i + 1..].iter().map(|(_, p)| p.clone()).collect();
                return Ok(Recovery {
                    records,
                    tail: Tail::Damaged(damage),
                });
            }
        }
        Ok(Recovery {
            records,
            tail: Tail::Clean,
        })
    }

    /// Opens (creating if needed) the log in `dir`: recovers it, repairs a damaged tail after
    /// quarantining the discarded bytes, and positions for appends.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Wal, Recovery), StorageError> {
        Self::open_from(dir, opts, 0)
    }

    /// [`open`](Self::open), recovering only the segments numbered `first_segment` and up
    /// (those after a checkpoint).
    pub fn open_from(
        dir: &Path,
        opts: WalOptions,
        first_segment: u64,
    ) -> Result<(Wal, Recovery), StorageError> {
        fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let recovery = Self::read_from(dir, first_segment)?;
        if let Tail::Damaged(damage) = &recovery.tail {
            tracing::warn!(%damage, "write-ahead log recovered up to damage");
            quarantine(dir, damage)?;
        }
        let segments = list_segments(dir)?;
        let (segment_no, path) = match segments.last() {
            Some((no, path)) if *no >= first_segment => (*no, path.clone()),
            _ => {
                let no = first_segment.max(1);
                (no, dir.join(segment_name(no)))
            }
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        let mut segment_len = file.metadata().map_err(|e| StorageError::io(&path, e))?.len();
        if segment_len == 0 {
            file.write_all(&SEGMENT_MAGIC)
                .map_err(|e| StorageError::io(&path, e))?;
            file.sync_data().map_err(|e| StorageError::io(&path, e))?;
            sync_dir(dir)?;
            segment_len = SEGMENT_MAGIC.len() as u64;
        }
        let wal = Wal {
            dir: dir.to_path_buf(),
            opts,
            file,
            path,
            segment_no,
            segment_len,
            buf: Vec::new(),
            failed: None,
        };
        Ok((wal, recovery))
    }

    /// Refuses work once a write or fsync has failed.
    fn usable(&self) -> Result<(), StorageError> {
        match &self.failed {
            None => Ok(()),
            Some(first) => Err(StorageError::Failed {
                path: self.path.clone(),
                first: first.clone(),
            }),
        }
    }

    /// Remembers a failure of `r`, after which the log refuses everything (a failed
    /// checkpoint write counts too).
    pub(crate) fn note<T>(&mut self, r: Result<T, StorageError>) -> Result<T, StorageError> {
        if let Err(e) = &r
            && self.failed.is_none()
        {
            self.failed = Some(e.to_string());
        }
        r
    }

    /// Buffers one record. Not durable until [`sync`](Self::sync).
    pub fn append(&mut self, payload: &[u8]) -> Result<(), StorageError> {
        self.usable()?;
        if payload.len() > MAX_RECORD_LEN {
            return Err(StorageError::RecordTooLarge {
                len: payload.len(),
                max: MAX_RECORD_LEN,
            });
        }
        let framed = (RECORD_HEADER_LEN + payload.len()) as u64;
        if self.segment_len + framed > self.opts.segment_bytes
            && self.segment_len > SEGMENT_MAGIC.len() as u64
        {
            self.roll()?;
        }
        frame_record(&mut self.buf, payload);
        self.segment_len += framed;
        Ok(())
    }

    /// Writes buffered records and fdatasyncs: afterwards every appended record survives a
    /// crash. An error means nothing appended since the last successful sync may be counted
    /// on, and the log takes nothing more.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        self.write_buffer()?;
        let synced = faults::sync_data(self.opts.faults.as_ref(), &self.file)
            .map_err(|e| StorageError::io(&self.path, e));
        self.note(synced)
    }

    /// Hands buffered records to the OS without syncing (they survive a process crash but
    /// not a power loss).
    pub fn write_buffer(&mut self) -> Result<(), StorageError> {
        self.usable()?;
        if !self.buf.is_empty() {
            let written = faults::write_all(self.opts.faults.as_ref(), &mut self.file, &self.buf)
                .map_err(|e| StorageError::io(&self.path, e));
            self.note(written)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// The directory holding the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Closes the current segment (synced) and starts the next, returning its number: the
    /// boundary a checkpoint written now stands before (see [`super::snapshot`]).
    pub fn start_segment(&mut self) -> Result<u64, StorageError> {
        self.roll()?;
        Ok(self.segment_no)
    }

    /// Closes the current segment (synced, so earlier records never depend on a later sync)
    /// and starts the next.
    fn roll(&mut self) -> Result<(), StorageError> {
        self.sync()?;
        let next = self.create_segment(self.segment_no + 1);
        let (file, path) = self.note(next)?;
        self.segment_no += 1;
        self.file = file;
        self.path = path;
        self.segment_len = SEGMENT_MAGIC.len() as u64;
        Ok(())
    }

    /// Creates segment `no` with its magic, durably.
    fn create_segment(&self, no: u64) -> Result<(File, PathBuf), StorageError> {
        let path = self.dir.join(segment_name(no));
        let io = |e| StorageError::io(&path, e);
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let faults = self.opts.faults.as_ref();
        faults::write_all(faults, &mut file, &SEGMENT_MAGIC).map_err(io)?;
        faults::sync_data(faults, &file).map_err(io)?;
        sync_dir(&self.dir)?;
        Ok((file, path))
    }
}

/// Copies the unusable bytes of a damaged log into `quarantine/`, then cuts the log back to
/// its last intact record.
fn quarantine(dir: &Path, damage: &Damage) -> Result<(), StorageError> {
    let qdir = dir.join("quarantine");
    fs::create_dir_all(&qdir).map_err(|e| StorageError::io(&qdir, e))?;
    let name = damage
        .segment
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = fs::read(&damage.segment).map_err(|e| StorageError::io(&damage.segment, e))?;
    let tail_copy = qdir.join(format!("{name}.from-byte-{}", damage.offset));
    fs::write(&tail_copy, &bytes[damage.offset as usize..]).map_err(|e| StorageError::io(&tail_copy, e))?;
    for later in &damage.later_segments {
        let target = qdir.join(later.file_name().unwrap_or_default());
        fs::rename(later, &target).map_err(|e| StorageError::io(later, e))?;
    }
    let file = OpenOptions::new()
        .write(true)
        .open(&damage.segment)
        .map_err(|e| StorageError::io(&damage.segment, e))?;
    // A bad segment header leaves nothing usable: cut to zero and let `open` rewrite it.
    file.set_len(damage.offset)
        .map_err(|e| StorageError::io(&damage.segment, e))?;
    file.sync_all()
        .map_err(|e| StorageError::io(&damage.segment, e))?;
    sync_dir(dir)
}

/// Makes a directory's entries (new or renamed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("record-{i}").into_bytes()).collect()
    }

    fn write_log(dir: &Path, records: &[Vec<u8>], opts: WalOptions) {
        let (mut wal, rec) = Wal::open(dir, opts).unwrap();
        assert!(rec.records.is_empty());
        for r in records {
            wal.append(r).unwrap();
        }
        wal.sync().unwrap();
    }

    fn only_segment(dir: &Path) -> PathBuf {
        let segs = list_segments(dir).unwrap();
        assert_eq!(segs.len(), 1);
        segs[0].1.clone()
    }

    #[test]
    fn records_survive_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), &payloads(50), WalOptions::default());
        let (_, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(rec.tail, Tail::Clean);
        assert_eq!(rec.records, payloads(50));
    }

    #[test]
    fn recovery_stops_at_a_truncated_last_record_and_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), &payloads(3), WalOptions::default());
        let seg = only_segment(dir.path());
        let len = fs::metadata(&seg).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len - 3)
            .unwrap();

        let rec = Wal::read(dir.path()).unwrap();
        assert_eq!(rec.records, payloads(2));
        let Tail::Damaged(d) = rec.tail else {
            panic!("torn tail not reported")
        };
        assert!(matches!(d.kind, DamageKind::TornPayload { .. }), "{d}");
    }

    #[test]
    fn recovery_detects_a_flipped_byte_by_checksum() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), &payloads(3), WalOptions::default());
        let seg = only_segment(dir.path());
        let mut bytes = fs::read(&seg).unwrap();
        // Flip a byte inside the second record's payload.
        let second = SEGMENT_MAGIC.len() + RECORD_HEADER_LEN + payloads(1)[0].len();
        bytes[second + RECORD_HEADER_LEN + 2] ^= 0x40;
        fs::write(&seg, &bytes).unwrap();

        let rec = Wal::read(dir.path()).unwrap();
        assert_eq!(rec.records, payloads(1));
        let Tail::Damaged(d) = rec.tail else {
            panic!("flipped byte not detected")
        };
        assert_eq!(d.offset, second as u64);
        assert!(matches!(d.kind, DamageKind::ChecksumMismatch { .. }), "{d}");
    }

    #[test]
    fn a_segment_encoded_in_memory_recovers_like_the_file_and_reports_a_flipped_bit() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), &payloads(4), WalOptions::default());
        let seg = only_segment(dir.path());
        let on_disk = fs::read(&seg).unwrap();
        assert_eq!(encode_segment(&payloads(4)), on_disk, "same bytes as Wal::append");

        let mut bytes = on_disk;
        let third =
            SEGMENT_MAGIC.len() + 2 * RECORD_HEADER_LEN + payloads(2).iter().map(Vec::len).sum::<usize>();
        bytes[third + RECORD_HEADER_LEN + 1] ^= 0x08;
        fs::write(&seg, &bytes).unwrap();
        let from_file = Wal::read(dir.path()).unwrap();
        let in_memory = recover_segment(&seg, &bytes);
        assert_eq!(in_memory.records, payloads(2));
        assert_eq!(in_memory.tail, from_file.tail);
        let Tail::Damaged(d) = in_memory.tail else {
            panic!("flipped bit not detected")
        };
        assert_eq!(d.offset, third as u64);
        assert!(matches!(d.kind, DamageKind::ChecksumMismatch { .. }), "{d}");
    }

    #[test]
    fn an_empty_segment_file_recovers_as_an_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        File::create(dir.path().join(segment_name(1))).unwrap();
        let (mut wal, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!((rec.records.len(), rec.tail), (0, Tail::Clean));
        wal.append(b"after").unwrap();
        wal.sync().unwrap();
        assert_eq!(Wal::read(dir.path()).unwrap().records, vec![b"after".to_vec()]);
    }

    #[test]
    fn garbage_in_a_length_field_is_reported_not_allocated() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), &payloads(1), WalOptions::default());
        let seg = only_segment(dir.path());
        let mut bytes = fs::read(&seg).unwrap();
        bytes.extend_from_slice(&[0xff; 12]);
        fs::write(&seg, &bytes).unwrap();
        let Tail::Damaged(d) = Wal::read(dir.path()).unwrap().tail else {
            panic!()
        };
        assert!(matches!(d.kind, DamageKind::ImpossibleLength { .. }), "{d}");
    }

    #[test]
    fn open_repairs_a_torn_tail_so_new_records_follow_the_last_good_one() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), &payloads(3), WalOptions::default());
        let seg = only_segment(dir.path());
        let len = fs::metadata(&seg).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len - 1)
            .unwrap();

        let (mut wal, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        assert!(matches!(rec.tail, Tail::Damaged(_)));
        wal.append(b"next").unwrap();
        wal.sync().unwrap();

        let after = Wal::read(dir.path()).unwrap();
        assert_eq!(after.tail, Tail::Clean);
        assert_eq!(after.records, [payloads(2), vec![b"next".to_vec()]].concat());
        let quarantined = fs::read_dir(dir.path().join("quarantine")).unwrap().count();
        assert_eq!(quarantined, 1, "discarded bytes are kept for inspection");
    }

    #[test]
    fn segments_roll_over_and_recover_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let opts = WalOptions {
            segment_bytes: 64,
            ..WalOptions::default()
        };
        write_log(dir.path(), &payloads(20), opts.clone());
        assert!(list_segments(dir.path()).unwrap().len() > 3);
        let (_, rec) = Wal::open(dir.path(), opts).unwrap();
        assert_eq!((rec.records, rec.tail), (payloads(20), Tail::Clean));
    }

    #[test]
    fn damage_in_an_early_segment_makes_later_segments_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let opts = WalOptions {
            segment_bytes: 64,
            ..WalOptions::default()
        };
        write_log(dir.path(), &payloads(20), opts);
        let segs = list_segments(dir.path()).unwrap();
        let mut bytes = fs::read(&segs[0].1).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&segs[0].1, &bytes).unwrap();
        let Tail::Damaged(d) = Wal::read(dir.path()).unwrap().tail else {
            panic!()
        };
        assert_eq!(d.later_segments.len(), segs.len() - 1);
    }

    #[test]
    fn a_full_disk_fails_the_sync_and_every_later_write_but_keeps_what_was_synced() {
        let dir = tempfile::tempdir().unwrap();
        let faults = DiskFaults::new();
        let opts = WalOptions {
            faults: Some(faults.clone()),
            ..WalOptions::default()
        };
        let (mut wal, _) = Wal::open(dir.path(), opts).unwrap();
        wal.append(b"synced").unwrap();
        wal.sync().unwrap();
        faults.fill_after(10);
        wal.append(b"this record does not fit").unwrap();
        let full = wal.sync().unwrap_err().to_string();
        let later = wal.append(b"later").unwrap_err().to_string();
        assert!(full.contains("no space left"), "{full}");
        assert!(later.contains("failed earlier"), "{later}");
        drop(wal);
        let (_, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(
            rec.records,
            vec![b"synced".to_vec()],
            "the torn record is cut off"
        );
    }

    #[test]
    fn after_a_failed_fsync_the_log_never_claims_durability_again() {
        let dir = tempfile::tempdir().unwrap();
        let faults = DiskFaults::new();
        let opts = WalOptions {
            faults: Some(faults.clone()),
            ..WalOptions::default()
        };
        let (mut wal, _) = Wal::open(dir.path(), opts).unwrap();
        faults.fail_syncs_after(1);
        wal.append(b"a").unwrap();
        wal.sync().unwrap();
        wal.append(b"b").unwrap();
        assert!(wal.sync().is_err());
        // The device recovers, but pages the failed fsync dropped would not come back: a
        // sync that succeeded now would vouch for them.
        faults.fail_syncs_after(u64::MAX);
        assert!(matches!(wal.sync(), Err(StorageError::Failed { .. })));
    }

    #[test]
    fn unsynced_appends_are_not_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        wal.append(b"buffered").unwrap();
        assert!(Wal::read(dir.path()).unwrap().records.is_empty());
        wal.sync().unwrap();
        assert_eq!(Wal::read(dir.path()).unwrap().records.len(), 1);
    }
}
