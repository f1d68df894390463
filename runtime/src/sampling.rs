//! Randomness for CKKS: a ChaCha20 CSPRNG seeded from the operating system for every secret
//! value, the distributions the scheme draws from (ternary secrets, dense or of fixed Hamming
//! weight; the discrete Gaussian error of σ = 3.2), and uniform residues mod q expanded from a
//! public 32-byte seed.
//!
//! The seed expansion is what makes seed-compressed keys and secret-key ciphertexts possible:
//! their uniform `a` half is never stored, only the seed, and [`expand_uniform`] regenerates it
//! limb by limb. Each limb has its own ChaCha20 stream (selected by a caller-chosen stream id),
//! so limbs expand independently and in parallel, and a key restricted to fewer limbs expands
//! to exactly the same residues on the limbs it keeps.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use thiserror::Error;
use zeroize::Zeroizing;

/// Standard deviation of the RLWE error distribution (the HE-standard value).
pub const ERROR_STD_DEV: f64 = 3.2;

/// Errors of the sampling module.
#[derive(Debug, Error)]
pub enum SamplingError {
    /// The operating system refused to provide entropy for the CSPRNG.
    #[error("cannot seed the random number generator from the operating system: {0}")]
    Entropy(String),
    /// A fixed Hamming weight larger than the ring degree was requested.
    #[error("hamming weight {weight} exceeds the ring degree {degree}")]
    HammingWeight {
        /// The requested weight.
        weight: usize,
        /// The ring degree.
        degree: usize,
    },
}

/// Length in bytes of a public expansion seed.
pub const SEED_BYTES: usize = 32;

/// A public seed from which a uniform polynomial is expanded.
pub type Seed = [u8; SEED_BYTES];

/// The cryptographically secure generator behind every secret sample (keys, errors, the
/// ephemeral values of public-key encryption): ChaCha20, seeded from the operating system.
///
/// Its state (the ChaCha key and the buffered output) replays every value it drew, the secret
/// key included, so it is overwritten when the generator is dropped.
pub struct SecureRng {
    chacha: ChaCha20Rng,
    deterministic: bool,
}

impl SecureRng {
    /// A generator seeded with 32 bytes of operating-system entropy.
    pub fn from_entropy() -> Result<Self, SamplingError> {
        let mut seed = Zeroizing::new([0u8; SEED_BYTES]);
        getrandom::fill(&mut *seed).map_err(|err| SamplingError::Entropy(err.to_string()))?;
        Ok(Self {
            chacha: ChaCha20Rng::from_seed(*seed),
            deterministic: false,
        })
    }

    /// A generator with a fixed seed, for reproducible tests and benchmarks only: anything it
    /// produces, secret keys included, is as predictable as the seed. The name says so at
    /// every call site, and [`Self::is_deterministic`] lets outputs say so too (a benchmark
    /// reports its keys as deterministic; see docs/security.md).
    pub fn insecure_from_fixed_seed(seed: Seed) -> Self {
        Self {
            chacha: ChaCha20Rng::from_seed(seed),
            deterministic: true,
        }
    }

    /// Whether this generator came from [`Self::insecure_from_fixed_seed`]: everything drawn
    /// from it is reproducible by anyone who knows the seed.
    pub fn is_deterministic(&self) -> bool {
        self.deterministic
    }

    /// A fresh public expansion seed (for the `a` half of keys and ciphertexts).
    pub fn seed(&mut self) -> Seed {
        let mut seed = [0u8; SEED_BYTES];
        self.chacha.fill_bytes(&mut seed);
        seed
    }

    /// A uniform 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        self.chacha.next_u64()
    }

    /// A uniform value in `0..bound` (rejection sampling, no modulo bias).
    pub fn below(&mut self, bound: u64) -> u64 {
        debug_assert!(bound > 0);
        let mask = u64::MAX >> (bound - 1).leading_zeros().min(63);
        loop {
            let candidate = self.next_u64() & mask;
            if candidate < bound {
                return candidate;
            }
        }
    }

    /// Fills `out` with independent uniform values of {-1, 0, 1}.
    pub fn ternary(&mut self, out: &mut [i64]) {
        for value in out.iter_mut() {
            *value = self.below(3) as i64 - 1;
        }
    }

    /// Fills `out` with a uniformly random vector of {-1, 0, 1} with exactly `weight` non-zero
    /// entries, each ±1 with probability 1/2.
    pub fn ternary_with_weight(
        &mut self,
        out: &mut [i64],
        weight: usize,
    ) -> Result<(), SamplingError> {
        let degree = out.len();
        if weight > degree {
            return Err(SamplingError::HammingWeight { weight, degree });
        }
        out.fill(0);
        // Partial Fisher-Yates over positions: the first `weight` picks are a uniform subset.
        // They are the support of the secret, so the list is wiped before it is freed.
        let mut positions = Zeroizing::new((0..degree).collect::<Vec<usize>>());
        for i in 0..weight {
            let j = i + self.below((degree - i) as u64) as usize;
            positions.swap(i, j);
            out[positions[i]] = if self.next_u64() & 1 == 0 { 1 } else { -1 };
        }
        Ok(())
    }

    /// Fills `out` with discrete Gaussian samples of standard deviation [`ERROR_STD_DEV`].
    pub fn gaussian(&mut self, out: &mut [i64]) {
        let table = GaussianTable::get();
        for value in out.iter_mut() {
            *value = table.sample(self.next_u64(), self.next_u64() & 1 == 1);
        }
    }
}

impl Drop for SecureRng {
    fn drop(&mut self) {
        // ChaCha20Rng does not wipe itself: overwrite the whole state (key, counter and
        // buffered output) with that of an all-zero seed. The volatile write and the fence keep
        // the compiler from dropping the store to memory that is about to be freed.
        // SAFETY: `self.chacha` is a valid, aligned, initialised ChaCha20Rng that is
        // overwritten by another valid value; the old one owns no resources (no heap, no
        // `Drop`), so nothing is leaked by not dropping it.
        unsafe {
            std::ptr::write_volatile(&mut self.chacha, ChaCha20Rng::from_seed([0; SEED_BYTES]));
        }
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

/// Cumulative table of the discrete Gaussian D_σ restricted to |x| ≤ ⌊6σ⌋ (the tail beyond
/// 6σ has probability below 2^-40 and is cut).
struct GaussianTable {
    /// `thresholds[k]` is 2^64 · P(|X| ≤ k) for k < bound.
    thresholds: Vec<u64>,
}

impl GaussianTable {
    fn get() -> &'static Self {
        static TABLE: std::sync::OnceLock<GaussianTable> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| {
            let bound = (6.0 * ERROR_STD_DEV).floor() as i64;
            let density =
                |k: i64| (-((k * k) as f64) / (2.0 * ERROR_STD_DEV * ERROR_STD_DEV)).exp();
            let total: f64 = (-bound..=bound).map(density).sum();
            let mut cumulative = 0.0;
            let thresholds = (0..bound)
                .map(|k| {
                    cumulative += if k == 0 { density(0) } else { 2.0 * density(k) } / total;
                    (cumulative * 2f64.powi(64)).min(u64::MAX as f64) as u64
                })
                .collect();
            GaussianTable { thresholds }
        })
    }

    /// The sample selected by the uniform word `uniform` and sign bit `negative`; the scan
    /// visits every threshold, so its time does not depend on the result.
    fn sample(&self, uniform: u64, negative: bool) -> i64 {
        let magnitude: i64 = self
            .thresholds
            .iter()
            .map(|&t| i64::from(uniform >= t))
            .sum();
        if negative { -magnitude } else { magnitude }
    }
}

/// Fills `out` with uniform residues mod `modulus`, expanded deterministically from the public
/// `seed` on ChaCha20 stream `stream`. The same (seed, stream, modulus) always gives the same
/// residues.
pub fn expand_uniform(seed: &Seed, stream: u64, modulus: u64, out: &mut [u64]) {
    let mut rng = ChaCha20Rng::from_seed(*seed);
    rng.set_stream(stream);
    let mask = u64::MAX >> (modulus - 1).leading_zeros().min(63);
    for value in out.iter_mut() {
        *value = loop {
            let candidate = rng.next_u64() & mask;
            if candidate < modulus {
                break candidate;
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_has_the_right_spread_and_tail() {
        let mut rng = SecureRng::insecure_from_fixed_seed([1; 32]);
        let mut samples = vec![0i64; 1 << 16];
        rng.gaussian(&mut samples);
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<i64>() as f64 / n;
        let variance = samples
            .iter()
            .map(|&x| (x as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!(
            (variance.sqrt() - ERROR_STD_DEV).abs() < 0.05,
            "std dev {}",
            variance.sqrt()
        );
        assert!(samples.iter().all(|x| x.abs() <= 19));
    }

    #[test]
    fn ternary_is_balanced_and_weight_is_exact() {
        let mut rng = SecureRng::insecure_from_fixed_seed([2; 32]);
        let mut dense = vec![0i64; 30_000];
        rng.ternary(&mut dense);
        for v in [-1, 0, 1] {
            let count = dense.iter().filter(|&&x| x == v).count();
            assert!((9_500..10_500).contains(&count), "{v} drawn {count} times");
        }
        let mut sparse = vec![0i64; 1024];
        rng.ternary_with_weight(&mut sparse, 192).unwrap();
        assert_eq!(sparse.iter().filter(|&&x| x != 0).count(), 192);
        assert!(sparse.iter().all(|x| x.abs() <= 1));
        assert!(matches!(
            rng.ternary_with_weight(&mut sparse, 2000),
            Err(SamplingError::HammingWeight {
                weight: 2000,
                degree: 1024
            })
        ));
    }

    #[test]
    fn expansion_is_deterministic_per_stream_and_in_range() {
        let q = (1u64 << 59) - 55;
        let (mut a, mut b, mut c) = (vec![0; 512], vec![0; 512], vec![0; 512]);
        expand_uniform(&[9; 32], 3, q, &mut a);
        expand_uniform(&[9; 32], 3, q, &mut b);
        expand_uniform(&[9; 32], 4, q, &mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|&x| x < q));
        // Uniform: the top bit of the range is set about half the time.
        let high = a.iter().filter(|&&x| x >= q / 2).count();
        assert!(
            (200..312).contains(&high),
            "{high} of 512 in the upper half"
        );
    }

    #[test]
    fn entropy_seeded_generators_differ() {
        let mut a = SecureRng::from_entropy().unwrap();
        let mut b = SecureRng::from_entropy().unwrap();
        assert_ne!(a.seed(), b.seed());
        assert!(!a.is_deterministic());
    }

    #[test]
    fn fixed_seed_generators_are_reproducible_and_say_so() {
        let mut a = SecureRng::insecure_from_fixed_seed([3; 32]);
        let mut b = SecureRng::insecure_from_fixed_seed([3; 32]);
        assert_eq!(a.seed(), b.seed());
        assert!(a.is_deterministic());
    }
}
