//! Shared helpers of the `ring_*` integration tests: contexts from small insecure parameter
//! sets, a seeded generator, random polynomials and slow reference arithmetic.
#![allow(dead_code)] // each test crate uses a different subset

use fhec_params::{CkksParams, CkksParamsLiteral, Level, SecretDistribution};
use fhec_runtime::ring::{Form, RingContext, RnsPoly};

/// A small seeded generator (splitmix64): tests are reproducible without a dependency.
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> TestRng {
        TestRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, bound)`.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((self.next_u64() as u128 * bound as u128) >> 64) as u64
    }

    /// Uniform in `[-bound, bound]`.
    pub fn signed(&mut self, bound: i64) -> i64 {
        self.below(2 * bound as u64 + 1) as i64 - bound
    }
}

/// The validated parameters of an insecure test shape.
pub fn params(log_n: u32, log_q: &[u32], log_p: &[u32], dnum: usize) -> CkksParams {
    CkksParams::new(CkksParamsLiteral {
        log_n,
        log_q: log_q.to_vec(),
        log_p: log_p.to_vec(),
        dnum,
        log_scale: 20,
        secret: SecretDistribution::Ternary,
        insecure: true,
    })
    .expect("test parameters are valid")
}

/// A context of an insecure test shape.
pub fn context(log_n: u32, log_q: &[u32], log_p: &[u32], dnum: usize) -> RingContext {
    RingContext::new(&params(log_n, log_q, log_p, dnum)).expect("test context builds")
}

/// The shapes most tests loop over: varied degrees, prime sizes (small to 61 bits), digit
/// counts and special-basis sizes.
pub fn shapes() -> Vec<(u32, Vec<u32>, Vec<u32>, usize)> {
    vec![
        (10, vec![55, 40, 40, 40, 40], vec![50, 50, 50], 2),
        (11, vec![61, 61, 61, 61], vec![61, 61, 61], 2),
        (12, vec![30, 25, 25, 25, 25, 25], vec![31, 31], 3),
        (10, vec![50, 36, 36, 36, 36, 36, 36], vec![60], 7),
        // Digits and P of five primes: the base conversion's four-at-a-time path.
        (
            10,
            vec![50, 40, 40, 40, 40, 40, 40, 40, 40, 40],
            vec![50; 5],
            2,
        ),
    ]
}

/// A polynomial with uniform residues on every limb (uniform in either form).
pub fn random_poly(
    ctx: &RingContext,
    rng: &mut TestRng,
    level: Level,
    with_special: bool,
    form: Form,
) -> RnsPoly {
    let mut poly = ctx.zero(level, with_special, form);
    let n = ctx.degree();
    let q_limbs = poly.q_limbs();
    for i in 0..poly.limb_count() {
        let q = ctx.limb_prime(q_limbs, i).0.value();
        for x in &mut poly.data_mut()[i * n..(i + 1) * n] {
            *x = rng.below(q);
        }
    }
    poly
}

/// Random signed coefficients in `[-bound, bound]`.
pub fn small_coefficients(ctx: &RingContext, rng: &mut TestRng, bound: i64) -> Vec<i64> {
    (0..ctx.degree()).map(|_| rng.signed(bound)).collect()
}

/// The negacyclic product of two coefficient vectors modulo q, in O(N²).
pub fn naive_negacyclic(a: &[u64], b: &[u64], q: u64) -> Vec<u64> {
    let n = a.len();
    let mut out = vec![0u128; n];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let product = x as u128 * y as u128 % q as u128;
            let k = i + j;
            if k < n {
                out[k] = (out[k] + product) % q as u128;
            } else {
                out[k - n] = (out[k - n] + q as u128 - product) % q as u128;
            }
        }
    }
    out.into_iter().map(|x| x as u64).collect()
}

/// The digits of a context with one digit spanning `primes` ciphertext primes.
pub fn single_digit(primes: usize) -> Vec<std::ops::Range<usize>> {
    let whole = 0..primes;
    vec![whole]
}
