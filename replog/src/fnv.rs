//! FNV-1a, 64-bit: the workbench's one stable hash for values that reach an output (the
//! simulator's trace hash, a state machine's digest, a history's digest). Unlike
//! [`crate::fxhash`], its result is part of files and reports, so it must never change.

/// FNV-1a's 64-bit offset basis.
pub const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a's 64-bit prime.
pub const PRIME: u64 = 0x0100_0000_01b3;

/// `PRIME` to the powers 0 to 8.
const POWERS: [u64; 9] = {
    let mut p = [1u64; 9];
    let mut i = 1;
    while i < 9 {
        p[i] = p[i - 1].wrapping_mul(PRIME);
        i += 1;
    }
    p
};

/// A running FNV-1a hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(OFFSET_BASIS)
    }
}

impl Fnv64 {
    /// A hash of nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds in `bytes`, one at a time.
    #[inline]
    pub fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(PRIME);
        }
    }

    /// Folds in the 8 little-endian bytes of `word`, exactly as [`bytes`](Self::bytes) would.
    /// A zero byte only multiplies the hash by the prime, so the run of zero bytes at the top
    /// of a small number (most fields are small) folds in with one multiplication by a power
    /// of it: the byte-by-byte chain of dependent multiplications was a sixth of the
    /// simulator's own time per message.
    #[inline]
    pub fn word(&mut self, word: u64) {
        let significant = 8 - (word.leading_zeros() / 8) as usize;
        let mut h = self.0;
        let mut rest = word;
        for _ in 0..significant {
            h = (h ^ (rest & 0xff)).wrapping_mul(PRIME);
            rest >>= 8;
        }
        self.0 = h.wrapping_mul(POWERS[8 - significant]);
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_a_word_is_fnv_over_its_little_endian_bytes() {
        let mut words = vec![
            0,
            1,
            0xff,
            0x100,
            0x1_0000_0000,
            u64::MAX,
            1 << 63,
            0x00ff_0000_ff00,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for shift in 0..64 {
            x = x.rotate_left(7).wrapping_mul(0x2545_f491_4f6c_dd1d);
            words.push(x >> shift);
        }
        for &w in &words {
            let (mut a, mut b) = (Fnv64::new(), Fnv64::new());
            a.word(w);
            b.bytes(&w.to_le_bytes());
            assert_eq!(a, b, "{w:#x}");
        }
    }

    /// Reference: the FNV test vectors (draft-eastlake-fnv), FNV-1a 64 of "a".
    #[test]
    fn the_hash_of_a_is_the_published_one() {
        let mut h = Fnv64::new();
        h.bytes(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }
}
