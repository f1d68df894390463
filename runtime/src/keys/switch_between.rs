//! [`SingleDigitKey`]: a key switching ciphertexts from one secret to another when the
//! polynomial multiplying the source secret is already small, |c| < P/2 — then it needs no
//! gadget decomposition at all: one digit, gadget P on every limb.
//!
//! Bootstrapping's sparse-secret encapsulation (BTH22, plan §1.5 step 3) is the use: right after
//! ModRaise, c1 is the centered lift of a residue mod q0, so |c1| < q0/2 ≤ P, and switching it
//! from the ephemeral sparse secret back to the dense one costs one inner product instead of
//! dnum, with a key 1/dnum the size of a hybrid key at the same level.
//!
//! For c with |c| < P/2 extended exactly to Q_l·P: c·b + c·a·to = c·e + P·c·from, so
//! ModDown(c·b) + ModDown(c·a)·to ≈ c·from with error |c·e|/P + rounding, below a few units.

use super::randomness::{domain, gaussian_poly, uniform_poly, wipe};
use super::secret::SecretPoly;
use super::switching::restrict_to_level;
use super::{KeyError, KeyGenerator, SecretKey};
use crate::context::CkksContext;
use crate::ring::{Form, RnsPoly};
use crate::sampling::Seed;
use fhec_params::Level;

/// A one-digit switching key over Q_level·P, NTT form: `b = −a·to + e + P·from`, `a` from a
/// seed (so the key can be stored seed-compressed, level, seed and `b`).
#[derive(Clone, Debug, PartialEq)]
pub struct SingleDigitKey {
    level: Level,
    seed: Seed,
    b: RnsPoly,
    a: RnsPoly,
}

impl SingleDigitKey {
    /// The highest ciphertext level the key serves.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The seed-compressed form: level, seed of `a`, and `b`.
    pub fn compressed(&self) -> (Level, &Seed, &RnsPoly) {
        (self.level, &self.seed, &self.b)
    }

    /// Rebuilds a key from its seed-compressed form, regenerating `a` from the seed.
    ///
    /// Errors: [`KeyError::Level`] for a level above L, [`KeyError::KeyShape`] when `b` is not
    /// an NTT polynomial over Q_level·P.
    pub fn from_compressed(
        context: &CkksContext,
        level: Level,
        seed: Seed,
        b: RnsPoly,
    ) -> Result<Self, KeyError> {
        check_level(context, level)?;
        let expected = context.ring().zero(level, true, Form::Ntt);
        if !b.same_shape(&expected) {
            return Err(KeyError::KeyShape {
                expected: format!("one polynomial of shape {}", expected.shape()),
                found: format!("one of shape {}", b.shape()),
            });
        }
        let a = uniform_poly(context, &seed, domain::SINGLE_DIGIT_KEY, level, true);
        Ok(Self { level, seed, b, a })
    }

    /// Bytes of the expanded key: 2 · N · (level + 1 + k) · 8 (DESIGN §5 with one digit).
    pub fn size_bytes(&self) -> usize {
        (self.b.data().len() + self.a.data().len()) * 8
    }

    /// `b`.
    pub(crate) fn b(&self) -> &RnsPoly {
        &self.b
    }

    /// `a`.
    pub(crate) fn a(&self) -> &RnsPoly {
        &self.a
    }
}

impl KeyGenerator<'_> {
    /// The one-digit key switching a small polynomial's secret from `from` to `to`, for
    /// ciphertexts up to `level` (see the module documentation for when it applies).
    ///
    /// Errors: [`KeyError::Level`] for a level above L.
    pub fn single_digit_key(
        &mut self,
        from: &SecretKey,
        to: &SecretKey,
        level: Level,
    ) -> Result<SingleDigitKey, KeyError> {
        let context = self.context;
        check_level(context, level)?;
        let ring = context.ring();
        let seed = self.rng.seed();
        let a = uniform_poly(context, &seed, domain::SINGLE_DIGIT_KEY, level, true);
        let mut b = gaussian_poly(context, &mut self.rng, level, true);
        let target = SecretPoly(restrict_to_level(context, to.full(), level));
        let source = SecretPoly(restrict_to_level(context, from.full(), level));
        let mut product = ring.zero(level, true, Form::Ntt);
        ring.mul(&a, &target, &mut product);
        ring.sub_assign(&mut b, &product);
        wipe(&mut product);
        add_special_multiple(context, &mut b, &source);
        Ok(SingleDigitKey { level, seed, b, a })
    }
}

/// [`KeyError::Level`] for a level above L.
fn check_level(context: &CkksContext, level: Level) -> Result<(), KeyError> {
    let max = context.max_level();
    if level > max {
        return Err(KeyError::Level {
            level: level.0,
            max: max.0,
        });
    }
    Ok(())
}

/// `b += [P]_(q_i)·s` on every ciphertext limb (P vanishes on the special limbs).
fn add_special_multiple(context: &CkksContext, b: &mut RnsPoly, s: &RnsPoly) {
    let ring = context.ring();
    let q_limbs = b.q_limbs();
    for limb in 0..q_limbs {
        let modulus = ring.limb_prime(q_limbs, limb).0;
        let p_mod_q = context
            .params()
            .p_primes()
            .iter()
            .fold(1u64, |acc, &p| modulus.mul(acc, modulus.reduce_u64(p)));
        let factor = modulus.shoup(p_mod_q);
        for (x, &v) in b.limb_mut(limb).iter_mut().zip(s.limb(limb)) {
            *x = modulus.add(*x, modulus.mul_shoup(v, factor));
        }
    }
}
