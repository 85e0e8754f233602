//! The seeded RNG every random choice comes from.

use rand::SeedableRng;
pub use rand::{Rng, RngExt};
pub use rand_chacha::ChaCha8Rng;

/// The deterministic RNG used by protocols and the simulator.
pub type DetRng = ChaCha8Rng;

/// An RNG for `stream` derived from `seed`: independent streams for independent purposes,
/// so adding a random draw in one place does not shift every other draw.
pub fn rng_for(seed: u64, stream: u64) -> DetRng {
    DetRng::seed_from_u64(mix(seed, stream))
}

/// SplitMix64 finaliser over (a, b): a cheap, well-distributed seed derivation.
pub const fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
