//! [`KeySwitchKey`]: a hybrid key-switching key from a secret s' to the secret s, the shared
//! form of relinearisation and Galois keys.
//!
//! For each digit j of the ciphertext primes (the digits of `CkksParams::digits`, truncated to
//! the key's level), the key holds, over q_0..q_level and the special primes P,
//! `b_j = −a_j·s + e_j + [P]_(q_i)·s'` on the limbs q_i of digit j (and `−a_j·s + e_j` on every
//! other limb), with `a_j` uniform. That is the gadget `P·(Q/D_j)·[(Q/D_j)^−1]_(D_j)` written
//! limb by limb, and it stays correct when limbs above any level are dropped, which is why a key
//! can be restricted to the highest level at which it is used.
//!
//! The `a_j` are expanded from one 32-byte seed (stream domain j, see `randomness::domain`),
//! so a key can be stored seed-compressed: level, seed and the `b_j` only (half the size).

use super::KeyError;
use super::randomness::{domain, gaussian_poly, uniform_poly, wipe};
use super::secret::{SecretKey, SecretPoly};
use crate::context::CkksContext;
use crate::ring::{Form, RnsPoly};
use crate::sampling::{SecureRng, Seed};
use fhec_params::Level;

/// A key-switching key, in NTT form, up to some level.
#[derive(Clone, Debug, PartialEq)]
pub struct KeySwitchKey {
    level: Level,
    seed: Seed,
    /// `b_j`, one per digit present at `level`.
    b: Vec<RnsPoly>,
    /// `a_j`, expanded from `seed`.
    a: Vec<RnsPoly>,
}

/// Copies the q_0..q_level limbs and the special limbs of `poly` (over Q_L'·P, L' ≥ level).
pub(crate) fn restrict_to_level(context: &CkksContext, poly: &RnsPoly, level: Level) -> RnsPoly {
    let ring = context.ring();
    let n = ring.degree();
    let mut out = ring.zero(level, poly.has_special(), poly.form());
    let keep = level.limbs() * n;
    out.data_mut()[..keep].copy_from_slice(&poly.data()[..keep]);
    out.data_mut()[keep..].copy_from_slice(poly.p_data());
    out
}

impl KeySwitchKey {
    /// Generates the key switching `target` (NTT form over Q_L·P, e.g. s² or σ_g(s)) to
    /// `secret`, valid for ciphertexts up to `level`.
    pub(crate) fn generate(
        context: &CkksContext,
        rng: &mut SecureRng,
        secret: &SecretKey,
        target: &RnsPoly,
        level: Level,
    ) -> Result<Self, KeyError> {
        check_level(context, level)?;
        let ring = context.ring();
        let seed = rng.seed();
        let s = SecretPoly(restrict_to_level(context, secret.full(), level));
        let digits = context.params().digits_at(level);
        let n = ring.degree();
        let mut b = Vec::with_capacity(digits);
        let mut a = Vec::with_capacity(digits);
        for (digit, range) in context.params().digits()[..digits].iter().enumerate() {
            let a_j = uniform_poly(context, &seed, domain::key_switch_digit(digit), level, true);
            let mut b_j = gaussian_poly(context, rng, level, true);
            let mut product = ring.zero(level, true, Form::Ntt);
            ring.mul(&a_j, &s, &mut product);
            ring.sub_assign(&mut b_j, &product);
            wipe(&mut product);
            let q_limbs = b_j.q_limbs();
            for limb in range.start..range.end.min(level.limbs()) {
                let modulus = ring.limb_prime(q_limbs, limb).0;
                let p_mod_q = context
                    .params()
                    .p_primes()
                    .iter()
                    .fold(1u64, |acc, &p| modulus.mul(acc, modulus.reduce_u64(p)));
                let factor = modulus.shoup(p_mod_q);
                let target_limb = &target.data()[limb * n..(limb + 1) * n];
                for (x, &t) in b_j.limb_mut(limb).iter_mut().zip(target_limb) {
                    *x = modulus.add(*x, modulus.mul_shoup(t, factor));
                }
            }
            b.push(b_j);
            a.push(a_j);
        }
        Ok(Self { level, seed, b, a })
    }

    /// Rebuilds a key from its seed-compressed form (level, seed, the `b_j`), regenerating the
    /// `a_j` from the seed.
    ///
    /// Errors: [`KeyError::Level`] for a level above L, [`KeyError::KeyShape`] when the number
    /// or shape of the `b_j` does not match the level.
    pub fn from_compressed(
        context: &CkksContext,
        level: Level,
        seed: Seed,
        b: Vec<RnsPoly>,
    ) -> Result<Self, KeyError> {
        check_level(context, level)?;
        let digits = context.params().digits_at(level);
        let expected = context.ring().zero(level, true, Form::Ntt);
        if b.len() != digits || b.iter().any(|b_j| !b_j.same_shape(&expected)) {
            return Err(KeyError::KeyShape {
                expected: format!("{digits} polynomials of shape {}", expected.shape()),
                found: format!(
                    "{} polynomials{}",
                    b.len(),
                    b.first()
                        .map(|p| format!(" of shape {}", p.shape()))
                        .unwrap_or_default()
                ),
            });
        }
        let a = (0..digits)
            .map(|digit| uniform_poly(context, &seed, domain::key_switch_digit(digit), level, true))
            .collect();
        Ok(Self { level, seed, b, a })
    }

    /// The seed-compressed form: level, seed and the `b_j` (the `a_j` are regenerated by
    /// [`Self::from_compressed`]).
    pub fn compressed(&self) -> (Level, &Seed, &[RnsPoly]) {
        (self.level, &self.seed, &self.b)
    }

    /// Drops every limb above `level` (and the digits with no prime left), so the key only
    /// serves ciphertexts up to `level` and takes less memory.
    ///
    /// Errors: [`KeyError::Level`] if `level` is above the key's level.
    pub fn restrict(&mut self, context: &CkksContext, level: Level) -> Result<(), KeyError> {
        if level > self.level {
            return Err(KeyError::Level {
                level: level.0,
                max: self.level.0,
            });
        }
        let digits = context.params().digits_at(level);
        self.b.truncate(digits);
        self.a.truncate(digits);
        let drop = self.level.0 - level.0;
        if drop > 0 {
            for poly in self.b.iter_mut().chain(self.a.iter_mut()) {
                poly.drop_last_q_limbs(drop);
            }
        }
        self.level = level;
        Ok(())
    }

    /// The highest ciphertext level this key serves.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The `b_j`.
    pub(crate) fn b(&self) -> &[RnsPoly] {
        &self.b
    }

    /// The `a_j`.
    pub(crate) fn a(&self) -> &[RnsPoly] {
        &self.a
    }

    /// Bytes of the expanded key in memory (DESIGN §5: digits · 2 · N · (level + 1 + k) · 8).
    pub fn size_bytes(&self) -> usize {
        self.b
            .iter()
            .chain(&self.a)
            .map(|p| p.data().len() * 8)
            .sum()
    }
}

fn check_level(context: &CkksContext, level: Level) -> Result<(), KeyError> {
    if level > context.max_level() {
        return Err(KeyError::Level {
            level: level.0,
            max: context.max_level().0,
        });
    }
    Ok(())
}
