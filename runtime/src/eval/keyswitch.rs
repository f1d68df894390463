//! Hybrid key switching: turn a polynomial `d` that multiplies a secret s' into a pair
//! `(u0, u1)` with `u0 + u1·s ≈ d·s'`.
//!
//! 1. **Decompose** (ModUp): for each digit j, the residues of `d` on the digit's primes are
//!    extended by fast base conversion to all of Q_l·P ([`Decomposition`]). This is the
//!    expensive half and does not depend on the key, so hoisted rotations do it once.
//! 2. **Inner product** with the key: `Σ_j d̃_j · (b_j, a_j)` over Q_l·P, optionally reading
//!    the digits through a Galois slot permutation (rotating the decomposition for free).
//! 3. **ModDown**: divide both sums by P with rounding, back to Q_l.
//!
//! The fast-conversion error `u·D_j` of step 1 vanishes in step 2 because the key's gadget is
//! zero modulo every prime outside digit j; dividing by P in step 3 shrinks the key's noise
//! `Σ d̃_j·e_j` (|d̃_j| < D_j ≤ P) to a few units.

use super::EvalError;
use crate::context::CkksContext;
use crate::keys::KeySwitchKey;
use crate::ring::{Form, RnsPoly};
use fhec_params::Level;
use rayon::prelude::*;

/// Products of residues below 2^62 summed before an intermediate reduction (15 · 2^124 < 2^128).
const LAZY_PRODUCTS: usize = 15;

/// The ModUp of every digit of one polynomial, shared by all key switches of that polynomial.
/// Its buffers return to the context's scratch pool when it is dropped.
pub struct Decomposition<'a> {
    context: &'a CkksContext,
    level: Level,
    digits: Vec<RnsPoly>,
}

impl<'a> Decomposition<'a> {
    /// Decomposes `d` (NTT form over Q_l, no special limbs).
    pub fn new(context: &'a CkksContext, d: &RnsPoly) -> Self {
        let ring = context.ring();
        let level = d.level();
        let digits = (0..context.params().digits_at(level))
            .map(|digit| {
                let mut extended = context.scratch_poly(level, true, Form::Ntt);
                ring.mod_up(d, digit, &mut extended);
                extended
            })
            .collect();
        Self {
            context,
            level,
            digits,
        }
    }

    /// The level of the decomposed polynomial.
    pub fn level(&self) -> Level {
        self.level
    }
}

impl Drop for Decomposition<'_> {
    fn drop(&mut self) {
        for digit in self.digits.drain(..) {
            self.context.recycle(digit);
        }
    }
}

/// Checks that `key` serves ciphertexts at `level`.
pub(crate) fn check_key_level(key: &KeySwitchKey, level: Level) -> Result<(), EvalError> {
    if key.level() < level {
        return Err(EvalError::KeyLevel {
            key: key.level().0,
            ciphertext: level.0,
        });
    }
    Ok(())
}

/// `(out0, out1) = ModDown(Σ_j σ(d̃_j) · (b_j, a_j))` where σ reads slot `source(i)` of each
/// digit for output slot i (the identity, or a Galois permutation in NTT form). Both outputs
/// become NTT polynomials over Q_l. The caller has checked the key's level.
pub(crate) fn switch_decomposed<F>(
    context: &CkksContext,
    decomposition: &Decomposition<'_>,
    key: &KeySwitchKey,
    source: F,
    out0: &mut RnsPoly,
    out1: &mut RnsPoly,
) where
    F: Fn(usize) -> usize + Sync,
{
    let [sum0, sum1] = inner_product(context, decomposition, key, source);
    let ring = context.ring();
    ring.mod_down(&sum0, out0);
    ring.mod_down(&sum1, out1);
    context.recycle(sum0);
    context.recycle(sum1);
}

/// `Σ_j σ(d̃_j) · (b_j, a_j)` over Q_l·P (NTT form), in two scratch polynomials the caller
/// recycles.
pub(crate) fn inner_product<F>(
    context: &CkksContext,
    decomposition: &Decomposition<'_>,
    key: &KeySwitchKey,
    source: F,
) -> [RnsPoly; 2]
where
    F: Fn(usize) -> usize + Sync,
{
    let ring = context.ring();
    let level = decomposition.level;
    let n = ring.degree();
    let q_limbs = level.limbs();
    let key_q_limbs = key.level().limbs();
    let mut sum0 = context.scratch_poly(level, true, Form::Ntt);
    let mut sum1 = context.scratch_poly(level, true, Form::Ntt);
    let digits = &decomposition.digits;
    sum0.data_mut()
        .par_chunks_mut(n)
        .zip(sum1.data_mut().par_chunks_mut(n))
        .enumerate()
        .for_each(|(t, (acc0_limb, acc1_limb))| {
            let modulus = ring.limb_prime(q_limbs, t).0;
            // Limb t of Q_l·P sits at the same index of the key's q limbs, or past all of them.
            let key_limb = if t < q_limbs {
                t
            } else {
                t - q_limbs + key_q_limbs
            };
            let key_range = key_limb * n..(key_limb + 1) * n;
            for chunk_start in (0..digits.len()).step_by(LAZY_PRODUCTS) {
                let chunk_end = (chunk_start + LAZY_PRODUCTS).min(digits.len());
                let first = chunk_start == 0;
                let parts = (chunk_start..chunk_end).map(|j| {
                    (
                        &digits[j].data()[t * n..(t + 1) * n],
                        &key.b()[j].data()[key_range.clone()],
                        &key.a()[j].data()[key_range.clone()],
                    )
                });
                let parts: Vec<_> = parts.collect();
                for (i, (o0, o1)) in acc0_limb.iter_mut().zip(acc1_limb.iter_mut()).enumerate() {
                    let src = source(i);
                    let (mut acc0, mut acc1) = if first {
                        (0u128, 0u128)
                    } else {
                        (*o0 as u128, *o1 as u128)
                    };
                    for &(digit, b, a) in &parts {
                        let d = digit[src] as u128;
                        acc0 += d * b[i] as u128;
                        acc1 += d * a[i] as u128;
                    }
                    *o0 = modulus.reduce_u128(acc0);
                    *o1 = modulus.reduce_u128(acc1);
                }
            }
        });
    [sum0, sum1]
}

/// Key-switches `d` (NTT form over Q_l) with `key` into `(out0, out1)`: `out0 + out1·s ≈ d·s'`.
pub(crate) fn key_switch(
    context: &CkksContext,
    d: &RnsPoly,
    key: &KeySwitchKey,
    out0: &mut RnsPoly,
    out1: &mut RnsPoly,
) -> Result<(), EvalError> {
    check_key_level(key, d.level())?;
    let decomposition = Decomposition::new(context, d);
    switch_decomposed(context, &decomposition, key, |i| i, out0, out1);
    Ok(())
}
