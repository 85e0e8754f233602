//! [`WireSize`]: how many bytes a value occupies in the wire encoding.
//!
//! The simulator counts bytes per committed command without encoding every message; this
//! trait computes the exact length of the postcard encoding the live runtime sends (the
//! protocol crates test that the two agree).

use crate::command::{ClientCommand, Command, Op};
use std::sync::Arc;

/// The exact length of `postcard::to_allocvec(self)`.
pub trait WireSize {
    fn wire_size(&self) -> usize;
}

/// Length of a LEB128 varint (postcard encodes every integer above u8 this way).
pub const fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

impl WireSize for u8 {
    fn wire_size(&self) -> usize {
        1
    }
}
impl WireSize for bool {
    fn wire_size(&self) -> usize {
        1
    }
}
impl WireSize for u32 {
    fn wire_size(&self) -> usize {
        varint_len(*self as u64)
    }
}
impl WireSize for u64 {
    fn wire_size(&self) -> usize {
        varint_len(*self)
    }
}
impl WireSize for usize {
    fn wire_size(&self) -> usize {
        varint_len(*self as u64)
    }
}
impl WireSize for str {
    fn wire_size(&self) -> usize {
        varint_len(self.len() as u64) + self.len()
    }
}
impl WireSize for String {
    fn wire_size(&self) -> usize {
        self.as_str().wire_size()
    }
}
impl<T: WireSize> WireSize for Option<T> {
    fn wire_size(&self) -> usize {
        1 + self.as_ref().map_or(0, T::wire_size)
    }
}
impl<T: WireSize> WireSize for Vec<T> {
    fn wire_size(&self) -> usize {
        varint_len(self.len() as u64) + self.iter().map(T::wire_size).sum::<usize>()
    }
}
impl<T: WireSize + ?Sized> WireSize for Arc<T> {
    fn wire_size(&self) -> usize {
        (**self).wire_size()
    }
}
impl<A: WireSize, B: WireSize> WireSize for (A, B) {
    fn wire_size(&self) -> usize {
        self.0.wire_size() + self.1.wire_size()
    }
}
impl WireSize for crate::types::NodeId {
    fn wire_size(&self) -> usize {
        self.0.wire_size()
    }
}
impl WireSize for crate::types::Epoch {
    fn wire_size(&self) -> usize {
        self.round.wire_size() + self.owner.wire_size()
    }
}

impl WireSize for Op {
    fn wire_size(&self) -> usize {
        1 + match self {
            Op::Get { key } => key.wire_size(),
            Op::Put { key, value } => key.wire_size() + value.wire_size(),
            Op::Cas { key, expected, new } => key.wire_size() + expected.wire_size() + new.wire_size(),
        }
    }
}

impl WireSize for ClientCommand {
    fn wire_size(&self) -> usize {
        self.client.wire_size() + self.seq.wire_size() + self.op.wire_size()
    }
}

impl WireSize for Command {
    fn wire_size(&self) -> usize {
        1 + match self {
            Command::Noop => 0,
            Command::Client(c) => c.wire_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Epoch, NodeId};

    fn postcard_len<T: serde::Serialize>(v: &T) -> usize {
        postcard::to_allocvec(v).unwrap().len()
    }

    #[test]
    fn varint_lengths_match_postcard() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            assert_eq!(v.wire_size(), postcard_len(&v), "value {v}");
        }
    }

    #[test]
    fn command_sizes_match_postcard() {
        let cmds = [
            Command::Noop,
            Command::client(3, 900, Op::Get { key: "k1".into() }),
            Command::client(
                70_000,
                1,
                Op::Put {
                    key: "key".into(),
                    value: "v".repeat(300),
                },
            ),
            Command::client(
                1,
                2,
                Op::Cas {
                    key: "k".into(),
                    expected: None,
                    new: "x".into(),
                },
            ),
        ];
        for c in &cmds {
            assert_eq!(c.wire_size(), postcard_len(c), "{c:?}");
        }
        let e = Epoch::ballot(300, NodeId(2));
        assert_eq!(e.wire_size(), postcard_len(&e));
    }
}
