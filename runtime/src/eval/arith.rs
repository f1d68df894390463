//! Linear operations: ciphertext ± ciphertext, negation, ciphertext ± or × plaintext, and
//! ciphertext + or × constant (a scaled real constant, or an exact integer).

use super::{EvalError, Evaluator, check_same_scale, check_slots, three_forms};
use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::encoding::embed::MAX_SCALED_COEFFICIENT;
use crate::encoding::{Plaintext, check_within_modulus};
use crate::ring::{Modulus, RnsPoly};
use fhec_params::Level;
use rayon::prelude::*;

/// Applies `f(modulus, target limb, source limb)` to every limb of `target` and the limb of the
/// same index of `source` (which may have more limbs: a plaintext above the ciphertext's level).
fn zip_prefix<F>(context: &CkksContext, target: &mut RnsPoly, source: &RnsPoly, f: F)
where
    F: Fn(&Modulus, &mut [u64], &[u64]) + Sync,
{
    let ring = context.ring();
    let n = ring.degree();
    let q_limbs = target.q_limbs();
    target
        .data_mut()
        .par_chunks_mut(n)
        .zip(source.data().par_chunks(n))
        .enumerate()
        .for_each(|(i, (t, s))| f(ring.limb_prime(q_limbs, i).0, t, s));
}

/// Residues of the signed integer `value` modulo q_0..q_(q_limbs−1).
fn signed_residues(context: &CkksContext, value: i128, q_limbs: usize) -> Vec<u64> {
    let ring = context.ring();
    (0..q_limbs)
        .map(|i| {
            let modulus = ring.limb_prime(q_limbs, i).0;
            let magnitude = modulus.reduce_u128(value.unsigned_abs());
            if value < 0 {
                modulus.neg(magnitude)
            } else {
                magnitude
            }
        })
        .collect()
}

fn add_limbs(m: &Modulus, t: &mut [u64], s: &[u64]) {
    t.iter_mut().zip(s).for_each(|(x, &y)| *x = m.add(*x, y));
}

fn sub_limbs(m: &Modulus, t: &mut [u64], s: &[u64]) {
    t.iter_mut().zip(s).for_each(|(x, &y)| *x = m.sub(*x, y));
}

fn mul_limbs(m: &Modulus, t: &mut [u64], s: &[u64]) {
    t.iter_mut().zip(s).for_each(|(x, &y)| *x = m.mul(*x, y));
}

impl Evaluator<'_> {
    /// round(value · scale) as an integer, if it is finite and stays below half the modulus at
    /// `level`: a larger integer would wrap modulo Q_level and decrypt to garbage.
    fn scaled_constant(&self, value: f64, scale: f64, level: Level) -> Result<i128, EvalError> {
        let scaled = (value * scale).round();
        let encodable = scale.is_finite()
            && scaled.is_finite()
            && scaled.abs() < MAX_SCALED_COEFFICIENT
            && check_within_modulus(self.context, level, scaled).is_ok();
        if !encodable {
            return Err(EvalError::Constant { value, scale });
        }
        Ok(scaled as i128)
    }

    fn check_add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<(), EvalError> {
        self.check_same_level(a, b)?;
        check_same_scale(a.scale, b.scale)
    }

    fn check_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<(), EvalError> {
        if p.level() < a.level() {
            return Err(EvalError::PlaintextLevel {
                plaintext: p.level().0,
                ciphertext: a.level().0,
            });
        }
        check_slots(a.slots, p.slots)
    }

    fn check_add_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<(), EvalError> {
        self.check_plain(a, p)?;
        check_same_scale(a.scale, p.scale)
    }

    fn check_mul_plain(&self, a: &Ciphertext, p: &Plaintext) -> Result<(), EvalError> {
        self.check_plain(a, p)?;
        self.check_product_scale(a.level(), a.scale * p.scale)
    }

    fn check_none(&self, _: &Ciphertext) -> Result<(), EvalError> {
        Ok(())
    }

    fn check_add_const(&self, a: &Ciphertext, value: f64) -> Result<(), EvalError> {
        self.scaled_constant(value, a.scale, a.level()).map(|_| ())
    }

    fn check_mul_const(&self, a: &Ciphertext, value: f64, scale: f64) -> Result<(), EvalError> {
        self.scaled_constant(value, scale, a.level())?;
        self.check_product_scale(a.level(), a.scale * scale)
    }

    fn check_mul_integer(&self, _: &Ciphertext, _: i64) -> Result<(), EvalError> {
        Ok(())
    }

    fn apply_add(&self, a: &mut Ciphertext, b: &Ciphertext) {
        zip_prefix(self.context, &mut a.c0, &b.c0, add_limbs);
        zip_prefix(self.context, &mut a.c1, &b.c1, add_limbs);
    }

    fn apply_sub(&self, a: &mut Ciphertext, b: &Ciphertext) {
        zip_prefix(self.context, &mut a.c0, &b.c0, sub_limbs);
        zip_prefix(self.context, &mut a.c1, &b.c1, sub_limbs);
    }

    fn apply_neg(&self, a: &mut Ciphertext) {
        let ring = self.context.ring();
        ring.neg_assign(&mut a.c0);
        ring.neg_assign(&mut a.c1);
    }

    fn apply_add_plain(&self, a: &mut Ciphertext, p: &Plaintext) {
        zip_prefix(self.context, &mut a.c0, &p.poly, add_limbs);
    }

    fn apply_sub_plain(&self, a: &mut Ciphertext, p: &Plaintext) {
        zip_prefix(self.context, &mut a.c0, &p.poly, sub_limbs);
    }

    fn apply_mul_plain(&self, a: &mut Ciphertext, p: &Plaintext) {
        if p.poly.same_shape(&a.c0) {
            // The ring's out-of-place product runs its SIMD multiply-accumulate kernel; the
            // limb loop below serves plaintexts above the ciphertext's level.
            let context = self.context;
            for part in [&mut a.c0, &mut a.c1] {
                let mut product = context.scratch_poly(part.level(), false, part.form());
                context.ring().mul(part, &p.poly, &mut product);
                std::mem::swap(part, &mut product);
                context.recycle(product);
            }
        } else {
            zip_prefix(self.context, &mut a.c0, &p.poly, mul_limbs);
            zip_prefix(self.context, &mut a.c1, &p.poly, mul_limbs);
        }
        a.scale *= p.scale;
    }

    fn apply_mul_plain_into(&self, a: &Ciphertext, p: &Plaintext, out: &mut Ciphertext) {
        if p.poly.same_shape(&a.c0) {
            let ring = self.context.ring();
            ring.mul(&a.c0, &p.poly, &mut out.c0);
            ring.mul(&a.c1, &p.poly, &mut out.c1);
            out.scale = a.scale * p.scale;
            out.slots = a.slots;
        } else {
            out.clone_from(a);
            self.apply_mul_plain(out, p);
        }
    }

    fn apply_add_const(&self, a: &mut Ciphertext, value: f64) {
        let integer = self
            .scaled_constant(value, a.scale, a.level())
            .expect("checked");
        let residues = signed_residues(self.context, integer, a.c0.q_limbs());
        self.context.ring().add_scalars_assign(&mut a.c0, &residues);
    }

    fn apply_mul_const(&self, a: &mut Ciphertext, value: f64, scale: f64) {
        let integer = self
            .scaled_constant(value, scale, a.level())
            .expect("checked");
        self.apply_mul_residues(a, integer);
        a.scale *= scale;
    }

    fn apply_mul_integer(&self, a: &mut Ciphertext, value: i64) {
        self.apply_mul_residues(a, i128::from(value));
    }

    fn apply_mul_residues(&self, a: &mut Ciphertext, integer: i128) {
        let residues = signed_residues(self.context, integer, a.c0.q_limbs());
        let ring = self.context.ring();
        ring.mul_scalars_assign(&mut a.c0, &residues);
        ring.mul_scalars_assign(&mut a.c1, &residues);
    }

    three_forms! {
        /// `a + b`. Requires equal levels ([`EvalError::LevelMismatch`]), scales
        /// ([`EvalError::ScaleMismatch`]) and slot counts ([`EvalError::SlotMismatch`]).
        add, add_new, add_assign, (other: &Ciphertext), check_add, apply_add
    }

    three_forms! {
        /// `a − b`. Same preconditions as [`Self::add`].
        sub, sub_new, sub_assign, (other: &Ciphertext), check_add, apply_sub
    }

    three_forms! {
        /// `−a`. No preconditions.
        neg, neg_new, neg_assign, (), check_none, apply_neg
    }

    three_forms! {
        /// `a + p` for a plaintext at the ciphertext's level or above
        /// ([`EvalError::PlaintextLevel`]), of the same scale ([`EvalError::ScaleMismatch`])
        /// and slot count ([`EvalError::SlotMismatch`]).
        add_plain, add_plain_new, add_plain_assign, (plaintext: &Plaintext), check_add_plain,
        apply_add_plain
    }

    three_forms! {
        /// `a − p`. Same preconditions as [`Self::add_plain`].
        sub_plain, sub_plain_new, sub_plain_assign, (plaintext: &Plaintext), check_add_plain,
        apply_sub_plain
    }

    three_forms! {
        /// `a · p` for a plaintext at the ciphertext's level or above
        /// ([`EvalError::PlaintextLevel`]) with the same slot count
        /// ([`EvalError::SlotMismatch`]). The result's scale is the product of the scales,
        /// which must stay below the modulus ([`EvalError::ScaleExceedsModulus`]); rescale
        /// afterwards.
        mul_plain, mul_plain_new, mul_plain_assign, (plaintext: &Plaintext), check_mul_plain,
        apply_mul_plain, into = apply_mul_plain_into
    }

    three_forms! {
        /// `a + c` in every slot, for a real constant c (added as round(c · scale) to the
        /// constant coefficient; [`EvalError::Constant`] if that is not finite or overflows).
        add_const, add_const_new, add_const_assign, (value: f64), check_add_const,
        apply_add_const
    }

    three_forms! {
        /// `a · c` in every slot, for a real constant c encoded as the integer round(c · scale);
        /// the result's scale is multiplied by `scale` (pass q_l to rescale back to the input
        /// scale). Errors: [`EvalError::Constant`], [`EvalError::ScaleExceedsModulus`].
        mul_const, mul_const_new, mul_const_assign, (value: f64, scale: f64), check_mul_const,
        apply_mul_const
    }

    three_forms! {
        /// `a · k` for an integer k, exactly: the scale is unchanged and no level is used.
        mul_integer, mul_integer_new, mul_integer_assign, (value: i64), check_mul_integer,
        apply_mul_integer
    }
}
