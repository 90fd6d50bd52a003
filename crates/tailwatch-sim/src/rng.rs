//! One independent, seeded random stream per replicate, so results never depend on threads.
use rand::SeedableRng;

/// The generator every simulation uses (PCG-64 MCG: fast, 128-bit state, portable).
pub type SimRng = rand_pcg::Pcg64Mcg;

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream of replicate `replicate` under `seed`. Every strategy of a run gets the same
/// streams (common random numbers), which makes their differences less noisy.
pub fn replicate_rng(seed: u64, replicate: u64) -> SimRng {
    SimRng::seed_from_u64(splitmix64(splitmix64(seed) ^ replicate.wrapping_mul(0xd1b5_4a32_d192_ed03)))
}
