//! Sparse-secret encapsulation (Bossuat, Troncoso-Pastoriza, Hubaux, eprint 2022/024; plan
//! §1.5): the long-term secret s stays dense, yet ModRaise sees a sparse secret s' of Hamming
//! weight h (32), so the overflow I is at most (h + 1)/2 and EvalMod's range K stays small.
//!
//! 1. [`switch_to_sparse`]: a level-0 ciphertext under s is switched to s' with
//!    [`SparseSwitchKey`], a one-digit key over q0·p0 only (p0 the first special prime). It is
//!    the only sample ever published under s', and its modulus (≤ 121 bits in `N16_BOOT`) is
//!    what `fhec_params::bootstrap::sparse_bound` checks.
//! 2. [`raise_to_dense`]: ModRaise and the switch back to s in one step. After the raise c1 is
//!    the centered lift of a residue mod q0, |c1| < q0/2 ≤ P, so it needs no decomposition:
//!    a one-digit key s' → s over Q_L·P ([`SingleDigitKey`], `KeyGenerator::single_digit_key`)
//!    does it with one inner product and a key 1/dnum the size of a hybrid key (plan §1.5
//!    step 3). [`super::mod_raise::mod_raise`] alone gives the raised ciphertext under s'.
//!
//! s' is sampled by the client ([`ephemeral_secret`]), used for the two keys
//! ([`EncapsulationKeys::generate`]) and dropped (a [`SecretKey`] is zeroized on drop); it is
//! never stored: anyone holding it could decrypt s out of the dense→sparse key.

use super::mod_raise::raise_poly;
use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::keys::randomness::domain;
use crate::keys::switch_between::SingleDigitKey;
use crate::keys::{KeyError, KeyGenerator, SecretKey};
use crate::ring::{Form, Modulus, NttTable};
use crate::sampling::{SecureRng, Seed, expand_uniform};
use fhec_params::Level;
use thiserror::Error;

/// Why an encapsulation step failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EncapsulationError {
    /// The ephemeral secret could not be sampled or a key made.
    #[error("encapsulation key: {0}")]
    Key(#[from] KeyError),
    /// The switches around ModRaise take level-0 ciphertexts only.
    #[error("the encapsulation switches work at level 0; this ciphertext is at level {level}")]
    NotAtLevelZero {
        /// The ciphertext's level.
        level: usize,
    },
}

/// Samples the ephemeral secret: exactly `hamming_weight` coefficients ±1, the rest zero.
///
/// Errors: [`EncapsulationError::Key`] for a weight above N.
pub fn ephemeral_secret(
    context: &CkksContext,
    generator: &mut KeyGenerator<'_>,
    hamming_weight: usize,
) -> Result<SecretKey, EncapsulationError> {
    let mut coefficients = vec![0i64; context.ring().degree()];
    generator
        .rng()
        .ternary_with_weight(&mut coefficients, hamming_weight)
        .map_err(KeyError::from)?;
    Ok(SecretKey::from_coefficients(context, coefficients)?)
}

/// The dense→sparse key over q0·p0: `b = −a·s' + e + p0·s`, one digit, NTT form; limb 0 is
/// q0, limb 1 is p0. `a` is expanded from `seed`.
#[derive(Clone, Debug, PartialEq)]
pub struct SparseSwitchKey {
    seed: Seed,
    b: [Vec<u64>; 2],
    a: [Vec<u64>; 2],
}

/// The two primes of a [`SparseSwitchKey`] with their NTT tables: q0, then p0.
fn key_primes(context: &CkksContext) -> [(&Modulus, &NttTable); 2] {
    let ring = context.ring();
    [
        ring.limb_prime(1, 0),
        (&ring.p_basis().moduli()[0], &ring.p_basis().ntts()[0]),
    ]
}

/// Index of the p0 limb in a polynomial over the whole chain Q_L·P.
fn p0_limb(context: &CkksContext) -> usize {
    context.max_level().limbs()
}

impl SparseSwitchKey {
    /// Generates the key switching ciphertexts under `from` (dense) to `to` (sparse).
    pub fn generate(
        context: &CkksContext,
        rng: &mut SecureRng,
        from: &SecretKey,
        to: &SecretKey,
    ) -> Self {
        let n = context.ring().degree();
        let seed = rng.seed();
        let mut error = vec![0i64; n];
        rng.gaussian(&mut error);
        let p0 = context.params().p_primes()[0];
        let limbs = [0, p0_limb(context)];
        let mut b: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
        let mut a: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
        for (index, ((modulus, ntt), limb)) in
            key_primes(context).into_iter().zip(limbs).enumerate()
        {
            let a_limb = uniform_limb(&seed, modulus, n, index);
            let mut b_limb: Vec<u64> = error.iter().map(|&e| signed_residue(modulus, e)).collect();
            ntt.forward(&mut b_limb);
            let sparse = to.full().limb(limb);
            let dense = from.full().limb(limb);
            // On q0 the gadget is p0·s; on p0 it vanishes.
            let gadget = modulus.reduce_u64(if index == 0 { p0 } else { 0 });
            for (((bj, &aj), &sj), &dj) in b_limb.iter_mut().zip(&a_limb).zip(sparse).zip(dense) {
                let masked = modulus.sub(*bj, modulus.mul(aj, sj));
                *bj = modulus.add(masked, modulus.mul(gadget, dj));
            }
            b[index] = b_limb;
            a[index] = a_limb;
        }
        zeroize::Zeroize::zeroize(&mut error);
        Self { seed, b, a }
    }

    /// The seed-compressed form: the seed of `a` and `b` (q0 limb, p0 limb).
    pub fn compressed(&self) -> (&Seed, &[Vec<u64>; 2]) {
        (&self.seed, &self.b)
    }

    /// Rebuilds a key from its seed-compressed form, regenerating `a` from the seed.
    ///
    /// Errors: [`EncapsulationError::Key`] ([`KeyError::KeyShape`]) unless both limbs of `b`
    /// hold N residues reduced modulo q0 and p0.
    pub fn from_compressed(
        context: &CkksContext,
        seed: Seed,
        b: [Vec<u64>; 2],
    ) -> Result<Self, EncapsulationError> {
        let n = context.ring().degree();
        let primes = key_primes(context);
        let valid = b.iter().zip(&primes).all(|(limb, (modulus, _))| {
            limb.len() == n && limb.iter().all(|&x| x < modulus.value())
        });
        if !valid {
            return Err(KeyError::KeyShape {
                expected: format!("two limbs of {n} residues mod q0 and p0"),
                found: format!(
                    "limbs of {} and {} words (or unreduced residues)",
                    b[0].len(),
                    b[1].len()
                ),
            }
            .into());
        }
        let a = [
            uniform_limb(&seed, primes[0].0, n, 0),
            uniform_limb(&seed, primes[1].0, n, 1),
        ];
        Ok(Self { seed, b, a })
    }

    /// Bytes of the expanded key (2 polynomials × 2 limbs × N × 8).
    pub fn size_bytes(&self) -> usize {
        self.b
            .iter()
            .chain(&self.a)
            .map(|limb| limb.len() * 8)
            .sum()
    }
}

/// The two switching keys of an encapsulated bootstrap.
#[derive(Clone, Debug, PartialEq)]
pub struct EncapsulationKeys {
    /// s → s' over q0·p0, used at level 0 before ModRaise.
    pub dense_to_sparse: SparseSwitchKey,
    /// s' → s over Q_L·P, one digit, used by [`raise_to_dense`].
    pub sparse_to_dense: SingleDigitKey,
}

impl EncapsulationKeys {
    /// Makes both keys from the long-term `dense` secret and the ephemeral `sparse` one; the
    /// sparse→dense key serves the top level L.
    ///
    /// Errors: [`EncapsulationError::Key`].
    pub fn generate(
        context: &CkksContext,
        generator: &mut KeyGenerator<'_>,
        dense: &SecretKey,
        sparse: &SecretKey,
    ) -> Result<Self, EncapsulationError> {
        let dense_to_sparse = SparseSwitchKey::generate(context, generator.rng(), dense, sparse);
        let sparse_to_dense = generator.single_digit_key(sparse, dense, context.max_level())?;
        Ok(Self {
            dense_to_sparse,
            sparse_to_dense,
        })
    }

    /// Bytes of both keys, expanded.
    pub fn size_bytes(&self) -> usize {
        self.dense_to_sparse.size_bytes() + self.sparse_to_dense.size_bytes()
    }
}

/// Switches a level-0 ciphertext under s to s' with the q0·p0 key: (c0 + ⌊c1·b/p0⌉,
/// ⌊c1·a/p0⌉), c1 lifted centered to p0. The added error c1·e/p0 is below one unit.
///
/// Errors: [`EncapsulationError::NotAtLevelZero`].
pub fn switch_to_sparse(
    context: &CkksContext,
    key: &SparseSwitchKey,
    input: &Ciphertext,
) -> Result<Ciphertext, EncapsulationError> {
    if input.level().0 != 0 {
        return Err(EncapsulationError::NotAtLevelZero {
            level: input.level().0,
        });
    }
    let [(q0, q0_ntt), (p0, p0_ntt)] = key_primes(context);
    let c1_q = input.c1.limb(0);
    let mut c1_coefficients = c1_q.to_vec();
    q0_ntt.inverse(&mut c1_coefficients);
    let mut c1_p: Vec<u64> = c1_coefficients
        .iter()
        .map(|&v| centered_residue(p0, q0.value(), v))
        .collect();
    p0_ntt.forward(&mut c1_p);
    let p0_inverse = q0.shoup(
        q0.inv(q0.reduce_u64(p0.value()))
            .expect("q0 and p0 are distinct primes"),
    );
    let divide = |key_half: &[Vec<u64>; 2]| -> Vec<u64> {
        let mut on_q: Vec<u64> = c1_q
            .iter()
            .zip(&key_half[0])
            .map(|(&c, &k)| q0.mul(c, k))
            .collect();
        let mut on_p: Vec<u64> = c1_p
            .iter()
            .zip(&key_half[1])
            .map(|(&c, &k)| p0.mul(c, k))
            .collect();
        q0_ntt.inverse(&mut on_q);
        p0_ntt.inverse(&mut on_p);
        // (x − [x]_p0)/p0 with [x]_p0 centered: the rounded division by p0, exactly.
        for (x, &r) in on_q.iter_mut().zip(&on_p) {
            let remainder = centered_residue(q0, p0.value(), r);
            *x = q0.mul_shoup(q0.sub(*x, remainder), p0_inverse);
        }
        q0_ntt.forward(&mut on_q);
        on_q
    };
    let shift = divide(&key.b);
    let mask = divide(&key.a);
    let ring = context.ring();
    let mut c0 = input.c0.clone();
    for (x, &s) in c0.limb_mut(0).iter_mut().zip(&shift) {
        *x = q0.add(*x, s);
    }
    let mut c1 = ring.zero(Level(0), false, Form::Ntt);
    c1.limb_mut(0).copy_from_slice(&mask);
    Ok(Ciphertext {
        c0,
        c1,
        scale: input.scale,
        slots: input.slots,
    })
}

/// ModRaise of a level-0 ciphertext under s' and its switch back to s, to the key's level
/// (the top level L for [`EncapsulationKeys`]): (raise(c0) + ModDown(ĉ1·b), ModDown(ĉ1·a)) with
/// ĉ1 the centered lift of c1 over Q_L·P. Decrypts under s to t = Δ·m + e + q0·I, I the same
/// integers as the raise under s' (plus a key-switching error below a few units).
///
/// Errors: [`EncapsulationError::NotAtLevelZero`].
pub fn raise_to_dense(
    context: &CkksContext,
    key: &SingleDigitKey,
    input: &Ciphertext,
) -> Result<Ciphertext, EncapsulationError> {
    if input.level().0 != 0 {
        return Err(EncapsulationError::NotAtLevelZero {
            level: input.level().0,
        });
    }
    let level = key.level();
    let ring = context.ring();
    let extended = raise_poly(context, &input.c1, level, true);
    let mut product = ring.zero(level, true, Form::Ntt);
    let mut c0 = ring.zero(level, false, Form::Ntt);
    let mut c1 = ring.zero(level, false, Form::Ntt);
    ring.mul(&extended, key.b(), &mut product);
    ring.mod_down(&product, &mut c0);
    ring.mul(&extended, key.a(), &mut product);
    ring.mod_down(&product, &mut c1);
    ring.add_assign(&mut c0, &raise_poly(context, &input.c0, level, false));
    Ok(Ciphertext {
        c0,
        c1,
        scale: input.scale,
        slots: input.slots,
    })
}

/// Limb `index` (0: q0, 1: p0) of the uniform half of a [`SparseSwitchKey`].
fn uniform_limb(seed: &Seed, modulus: &Modulus, n: usize, index: usize) -> Vec<u64> {
    let mut limb = vec![0u64; n];
    expand_uniform(
        seed,
        (u64::from(domain::SPARSE_SWITCH_KEY) << 32) | index as u64,
        modulus.value(),
        &mut limb,
    );
    limb
}

/// The residue mod `m` of a small signed value.
fn signed_residue(m: &Modulus, c: i64) -> u64 {
    let magnitude = m.reduce_u64(c.unsigned_abs());
    if c < 0 { m.neg(magnitude) } else { magnitude }
}

/// The residue mod `m` of the centered lift of `x mod p` (in (−p/2, p/2]).
fn centered_residue(m: &Modulus, p: u64, x: u64) -> u64 {
    if x > p / 2 {
        m.neg(m.reduce_u64(p - x))
    } else {
        m.reduce_u64(x)
    }
}
