//! Random polynomials in RNS form for key generation and encryption: secret ternary and
//! Gaussian polynomials from the CSPRNG, and uniform polynomials expanded from a public seed.
//!
//! Uniform limbs are expanded on a ChaCha20 stream named by `(domain, prime index)`, where the
//! prime index counts through the whole chain q_0..q_L, p_0..p_(k−1). A polynomial restricted
//! to fewer levels therefore regenerates exactly the limbs it keeps. The domains of every kind
//! of seeded polynomial are listed in [`domain`], disjoint, so two kinds never share a stream
//! even if they were ever given the same seed.

use crate::context::CkksContext;
use crate::ring::{Form, RnsPoly};
use crate::sampling::{SecureRng, Seed, expand_uniform};
use fhec_params::Level;
use rayon::prelude::*;

/// The stream domains of uniform polynomials expanded from a seed: one table, disjoint ranges.
///
/// | domain | polynomial |
/// | ------ | ---------- |
/// | `0 .. 2^31` | `a_j` of a key-switching key, digit j ([`key_switch_digit`]) |
/// | `2^31` | `c1` of a seeded (secret-key) ciphertext |
/// | `2^31 + 1` | `a` of a one-digit switching key (sparse → dense encapsulation) |
/// | `2^31 + 2` | `a` of the dense → sparse switching key (limbs q0, p0) |
/// | `2^32 − 1` | `a` of the public key |
pub(crate) mod domain {
    use std::ops::Range;

    /// The domains of key-switching digits: digit j uses domain j.
    pub(crate) const KEY_SWITCH_DIGITS: Range<u32> = 0..1 << 31;
    /// The domain of the uniform `c1` of a seeded ciphertext (since payload version 2).
    pub(crate) const SEEDED_CIPHERTEXT: u32 = 1 << 31;
    /// The domain version-1 seeded ciphertext files were written with (it overlapped digit 0
    /// of the keys); used only to read those files.
    pub(crate) const SEEDED_CIPHERTEXT_V1: u32 = 0;
    /// The domain of a one-digit switching key's uniform `a` (`keys::switch_between`).
    pub(crate) const SINGLE_DIGIT_KEY: u32 = (1 << 31) + 1;
    /// The domain of the dense → sparse switching key's uniform `a`
    /// (`bootstrap::encapsulation`).
    pub(crate) const SPARSE_SWITCH_KEY: u32 = (1 << 31) + 2;
    /// The domain of the public key's uniform `a`.
    pub(crate) const PUBLIC_KEY: u32 = u32::MAX;

    /// The domain of key-switching digit `digit` (the number of digits is at most the number of
    /// ciphertext primes, far below 2^31).
    pub(crate) fn key_switch_digit(digit: usize) -> u32 {
        let domain = u32::try_from(digit).unwrap_or(u32::MAX);
        assert!(
            KEY_SWITCH_DIGITS.contains(&domain),
            "digit {digit} is outside the key-switching domains"
        );
        domain
    }
}

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

#[cfg(test)]
mod tests {
    use super::domain::*;
    use super::*;
    use fhec_params::{CkksParams, presets};

    #[test]
    fn stream_domains_are_disjoint() {
        let singles = [
            SEEDED_CIPHERTEXT,
            SINGLE_DIGIT_KEY,
            SPARSE_SWITCH_KEY,
            PUBLIC_KEY,
        ];
        for (i, single) in singles.iter().enumerate() {
            assert!(!KEY_SWITCH_DIGITS.contains(single), "{single}");
            assert!(!singles[i + 1..].contains(single), "{single} twice");
        }
        assert_eq!(key_switch_digit(3), 3);
    }

    /// Under one seed, a seeded ciphertext's `c1` and a key's first `a_j` are unrelated.
    #[test]
    fn a_ciphertext_and_a_key_never_share_a_stream() {
        let params = CkksParams::new(presets::test_insecure(10)).unwrap();
        let context = CkksContext::new(params).unwrap();
        let level = context.max_level();
        let seed = [5; 32];
        let c1 = uniform_poly(&context, &seed, SEEDED_CIPHERTEXT, level, false);
        let a0 = uniform_poly(&context, &seed, key_switch_digit(0), level, false);
        assert_ne!(c1.data(), a0.data());
    }
}
