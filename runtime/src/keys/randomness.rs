//! Random polynomials in RNS form for key generation and encryption: secret ternary and
//! Gaussian polynomials from the CSPRNG, and uniform polynomials expanded from a public seed.
//!
//! Uniform limbs are expanded on a ChaCha20 stream named by `(domain, prime index)`, where the
//! prime index counts through the whole chain q_0..q_L, p_0..p_(k−1). A polynomial restricted
//! to fewer levels therefore regenerates exactly the limbs it keeps.

use crate::context::CkksContext;
use crate::ring::{Form, RnsPoly};
use crate::sampling::{SecureRng, Seed, expand_uniform};
use fhec_params::Level;
use rayon::prelude::*;

/// Index of limb `limb` of a polynomial with `q_limbs` ciphertext limbs in the whole prime
/// chain q_0..q_L, p_0..p_(k−1).
pub(crate) fn chain_index(context: &CkksContext, q_limbs: usize, limb: usize) -> usize {
    if limb < q_limbs {
        limb
    } else {
        limb - q_limbs + context.max_level().limbs()
    }
}

/// The uniform polynomial of `seed` in stream domain `domain`, over q_0..q_level (and P when
/// `with_special`), taken directly as NTT evaluations (uniform either way).
pub(crate) fn uniform_poly(
    context: &CkksContext,
    seed: &Seed,
    domain: u32,
    level: Level,
    with_special: bool,
) -> RnsPoly {
    let ring = context.ring();
    let mut poly = ring.zero(level, with_special, Form::Ntt);
    let q_limbs = poly.q_limbs();
    poly.data_mut()
        .par_chunks_mut(ring.degree())
        .enumerate()
        .for_each(|(limb, values)| {
            let modulus = ring.limb_prime(q_limbs, limb).0.value();
            let stream = (u64::from(domain) << 32) | chain_index(context, q_limbs, limb) as u64;
            expand_uniform(seed, stream, modulus, values);
        });
    poly
}

/// A discrete Gaussian error polynomial (σ = 3.2) in NTT form.
pub(crate) fn gaussian_poly(
    context: &CkksContext,
    rng: &mut SecureRng,
    level: Level,
    with_special: bool,
) -> RnsPoly {
    small_poly(context, level, with_special, |c| rng.gaussian(c))
}

/// The NTT form of the small coefficients that `sample` writes (wiped afterwards).
fn small_poly(
    context: &CkksContext,
    level: Level,
    with_special: bool,
    sample: impl FnOnce(&mut [i64]),
) -> RnsPoly {
    let mut coefficients = vec![0i64; context.ring().degree()];
    sample(&mut coefficients);
    signed_ntt_poly(context, &mut coefficients, level, with_special)
}

/// The NTT form of small signed coefficients (|c| below every prime, as for secrets, errors
/// and ternary masks); wipes `coefficients` afterwards (they are secret).
pub(crate) fn signed_ntt_poly(
    context: &CkksContext,
    coefficients: &mut [i64],
    level: Level,
    with_special: bool,
) -> RnsPoly {
    let ring = context.ring();
    let mut poly = context.ring().zero(level, with_special, Form::Coefficient);
    let q_limbs = poly.q_limbs();
    let small: &[i64] = coefficients;
    poly.data_mut()
        .par_chunks_mut(ring.degree())
        .enumerate()
        .for_each(|(limb, residues)| {
            let (modulus, ntt) = ring.limb_prime(q_limbs, limb);
            let q = modulus.value();
            for (r, &c) in residues.iter_mut().zip(small) {
                debug_assert!(c.unsigned_abs() < q);
                *r = if c < 0 {
                    q - c.unsigned_abs()
                } else {
                    c as u64
                };
            }
            ntt.forward(residues);
        });
    poly.set_form(Form::Ntt);
    zeroize::Zeroize::zeroize(coefficients);
    poly
}

/// Overwrites a polynomial that held secret data with zeros.
pub(crate) fn wipe(poly: &mut RnsPoly) {
    zeroize::Zeroize::zeroize(poly.data_mut());
}
