//! The state machine's image at an applied index: what a snapshot holds (Raft §7, "the
//! state machine's state ... and the last included index and term"; the chosen prefix of
//! multi-Paxos replaced by its result).
//!
//! The image holds every key and value in key order and the duplicate-suppression table in
//! client order, so equal states encode to equal bytes on every replica, and a replica that
//! restores it answers a retried command with its original result, as one that applied the
//! log would.

use super::{KvResult, KvStore, Outcome, SharedResult, Value};
use crate::command::{ClientId, Op};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use thiserror::Error;

/// First byte of every image: the format's version.
const IMAGE_VERSION: u8 = 1;

/// The encoded form: sorted, so the bytes depend only on the state.
#[derive(Serialize, Deserialize)]
struct Image {
    data: Vec<(String, String)>,
    /// (client, last seq applied, its result).
    sessions: Vec<(ClientId, u64, KvResult)>,
    applied_count: u64,
}

/// An image that cannot be restored.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("state machine image is empty")]
    Empty,
    #[error("state machine image has version {found} at byte 0; this build reads version {IMAGE_VERSION}")]
    Version { found: u8 },
    #[error("state machine image of {len} bytes does not decode after byte 0: {reason}")]
    Decode { len: usize, reason: String },
}

impl KvStore {
    /// The state as bytes: every key and value in key order, the session table in client
    /// order, the count of commands applied. Equal states give equal bytes.
    pub fn image(&self) -> Vec<u8> {
        let mut sessions: Vec<(ClientId, u64, KvResult)> = self
            .sessions
            .iter()
            .map(|(&client, (seq, result))| (client, *seq, result.to_result()))
            .collect();
        sessions.sort_unstable_by_key(|&(client, _, _)| client);
        let image = Image {
            data: self
                .entries()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            sessions,
            applied_count: self.applied_count,
        };
        let mut out = vec![IMAGE_VERSION];
        postcard::to_io(&image, &mut out).expect("writing to a vector cannot fail");
        out
    }

    /// The state an [`image`](Self::image) describes.
    pub fn from_image(bytes: &[u8]) -> Result<KvStore, ImageError> {
        let (&version, body) = bytes.split_first().ok_or(ImageError::Empty)?;
        if version != IMAGE_VERSION {
            return Err(ImageError::Version { found: version });
        }
        let image: Image = postcard::from_bytes(body).map_err(|e| ImageError::Decode {
            len: bytes.len(),
            reason: e.to_string(),
        })?;
        let mut kv = KvStore::new();
        for (key, value) in image.data {
            let op = Arc::new(Op::Put {
                key: key.clone(),
                value,
            });
            kv.data.insert(key.into_boxed_str(), Value(op));
        }
        for (client, seq, result) in image.sessions {
            let outcome = match result {
                KvResult::Read(v) => Outcome::Read(v.map(|value| {
                    Value(Arc::new(Op::Put {
                        key: String::new(),
                        value,
                    }))
                })),
                KvResult::Written => Outcome::Written,
                KvResult::Cas { applied } => Outcome::Cas { applied },
            };
            kv.sessions.insert(client, (seq, SharedResult(outcome)));
        }
        kv.applied_count = image.applied_count;
        Ok(kv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::kv::Applied;

    fn sample() -> KvStore {
        let mut kv = KvStore::new();
        kv.apply(&Command::client(
            1,
            1,
            Op::Put {
                key: "x".into(),
                value: "a".into(),
            },
        ));
        kv.apply(&Command::client(2, 4, Op::Get { key: "x".into() }));
        kv.apply(&Command::client(
            3,
            2,
            Op::Cas {
                key: "y".into(),
                expected: None,
                new: "b".into(),
            },
        ));
        kv
    }

    #[test]
    fn a_restored_image_equals_the_state_it_was_taken_from() {
        let kv = sample();
        let restored = KvStore::from_image(&kv.image()).unwrap();
        assert_eq!(restored, kv);
        assert_eq!(restored.digest(), kv.digest());
        assert_eq!(restored.applied_count(), kv.applied_count());
    }

    #[test]
    fn a_restored_replica_answers_a_retry_with_the_original_result() {
        let mut restored = KvStore::from_image(&sample().image()).unwrap();
        let retry = Command::client(2, 4, Op::Get { key: "x".into() });
        assert_eq!(
            restored.apply(&retry),
            Applied::Duplicate(KvResult::Read(Some("a".into())))
        );
    }

    #[test]
    fn equal_states_give_equal_images() {
        assert_eq!(sample().image(), sample().image());
    }

    #[test]
    fn a_damaged_image_is_an_error_not_a_panic() {
        let image = sample().image();
        assert_eq!(KvStore::from_image(&[]), Err(ImageError::Empty));
        assert_eq!(
            KvStore::from_image(&[9, 0]),
            Err(ImageError::Version { found: 9 })
        );
        let cut = &image[..image.len() / 2];
        assert!(matches!(KvStore::from_image(cut), Err(ImageError::Decode { .. })));
    }
}
