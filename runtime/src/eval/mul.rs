//! Ciphertext × ciphertext with relinearisation, rescaling by the last prime, and level drops.
//!
//! The product of `(a0, a1)` and `(b0, b1)` is `(a0·b0, a0·b1 + a1·b0, a1·b1)`, a ciphertext
//! under (1, s, s²); relinearisation key-switches the last part from s² to s. Rescaling divides
//! by q_l with rounding and drops that limb; the scale is divided by q_l exactly.

use super::keyswitch::{Decomposition, check_key_level, inner_product, key_switch};
use super::rescale_down::rescale_down;
use super::{EvalError, Evaluator, three_forms};
use crate::ciphertext::Ciphertext;
use crate::ring::Form;
use fhec_params::Level;

impl Evaluator<'_> {
    fn check_mul(&self, a: &Ciphertext, b: &Ciphertext) -> Result<(), EvalError> {
        self.check_same_level(a, b)?;
        let key = self
            .relinearization_key
            .ok_or(EvalError::MissingRelinearizationKey)?;
        check_key_level(&key.0, a.level())?;
        self.check_product_scale(a.level(), a.scale * b.scale)
    }

    fn apply_mul(&self, a: &mut Ciphertext, b: &Ciphertext) {
        let context = self.context;
        let ring = context.ring();
        let level = a.level();
        let mut cross = context.scratch_poly(level, false, Form::Ntt);
        let mut square = context.scratch_poly(level, false, Form::Ntt);
        ring.mul(&a.c1, &b.c1, &mut square);
        ring.mul(&a.c0, &b.c1, &mut cross);
        ring.mul_acc(&mut cross, &a.c1, &b.c0);
        let mut constant = context.scratch_poly(level, false, Form::Ntt);
        ring.mul(&a.c0, &b.c0, &mut constant);
        std::mem::swap(&mut a.c0, &mut constant);
        context.recycle(constant);
        let key = self.relinearization_key.expect("checked");
        let mut u0 = context.scratch_poly(level, false, Form::Ntt);
        let mut u1 = context.scratch_poly(level, false, Form::Ntt);
        key_switch(context, &square, &key.0, &mut u0, &mut u1).expect("checked");
        ring.add_assign(&mut a.c0, &u0);
        ring.add(&cross, &u1, &mut a.c1);
        a.scale *= b.scale;
        for poly in [cross, square, u0, u1] {
            context.recycle(poly);
        }
    }

    fn check_mul_rescale(&self, a: &Ciphertext, b: &Ciphertext) -> Result<(), EvalError> {
        self.check_rescale(a)?;
        self.check_mul(a, b)
    }

    /// The relinearised product, with its key switch's ModDown and the rescale done as one
    /// division by P·q_l (see `rescale_down.rs`).
    fn apply_mul_rescale(&self, a: &mut Ciphertext, b: &Ciphertext) {
        let context = self.context;
        let ring = context.ring();
        let level = a.level();
        let prime = context.q_prime(level) as f64;
        let mut cross = context.scratch_poly(level, false, Form::Ntt);
        let mut square = context.scratch_poly(level, false, Form::Ntt);
        let mut constant = context.scratch_poly(level, false, Form::Ntt);
        ring.mul(&a.c1, &b.c1, &mut square);
        ring.mul(&a.c0, &b.c1, &mut cross);
        ring.mul_acc(&mut cross, &a.c1, &b.c0);
        ring.mul(&a.c0, &b.c0, &mut constant);
        let key = &self.relinearization_key.expect("checked").0;
        let decomposition = Decomposition::new(context, &square);
        let [sum0, sum1] = inner_product(context, &decomposition, key, |i| i);
        drop(decomposition);
        rescale_down(context, &sum0, &constant, &mut a.c0);
        rescale_down(context, &sum1, &cross, &mut a.c1);
        a.scale = a.scale * b.scale / prime;
        for poly in [cross, square, constant, sum0, sum1] {
            context.recycle(poly);
        }
    }

    fn check_rescale(&self, a: &Ciphertext) -> Result<(), EvalError> {
        if a.level().0 == 0 {
            return Err(EvalError::RescaleAtLevelZero);
        }
        Ok(())
    }

    fn apply_rescale(&self, a: &mut Ciphertext) {
        let prime = self.context.q_prime(a.level());
        let ring = self.context.ring();
        ring.rescale_assign(&mut a.c0);
        ring.rescale_assign(&mut a.c1);
        a.scale /= prime as f64;
    }

    fn check_level_down(&self, a: &Ciphertext, target: Level) -> Result<(), EvalError> {
        if target > a.level() {
            return Err(EvalError::LevelDown {
                from: a.level().0,
                to: target.0,
            });
        }
        Ok(())
    }

    fn apply_level_down(&self, a: &mut Ciphertext, target: Level) {
        let drop = a.level().0 - target.0;
        if drop > 0 {
            a.c0.drop_last_q_limbs(drop);
            a.c1.drop_last_q_limbs(drop);
        }
    }

    three_forms! {
        /// `a · b`, relinearised. Requires equal levels ([`EvalError::LevelMismatch`]) and slot
        /// counts ([`EvalError::SlotMismatch`]), a relinearisation key
        /// ([`EvalError::MissingRelinearizationKey`]) serving this level
        /// ([`EvalError::KeyLevel`]), and a product scale below the modulus
        /// ([`EvalError::ScaleExceedsModulus`]). The result's scale is the product of the
        /// scales; rescale afterwards.
        mul, mul_new, mul_assign, (other: &Ciphertext), check_mul, apply_mul
    }

    three_forms! {
        /// `a · b`, relinearised and rescaled in one step: the same result as [`Self::mul`]
        /// followed by [`Self::rescale`] up to rounding, faster because the key switch's
        /// division by P and the rescale's division by q_l are one base conversion. Level
        /// l → l − 1, scale `a.scale · b.scale / q_l`. Errors as for [`Self::mul`], and
        /// [`EvalError::RescaleAtLevelZero`] at level 0.
        mul_rescale, mul_rescale_new, mul_rescale_assign, (other: &Ciphertext),
        check_mul_rescale, apply_mul_rescale
    }

    three_forms! {
        /// Divides by the last prime q_l with rounding: level l → l − 1, scale / q_l.
        /// [`EvalError::RescaleAtLevelZero`] at level 0.
        rescale, rescale_new, rescale_assign, (), check_rescale, apply_rescale
    }

    three_forms! {
        /// Drops limbs down to `target` (≤ the current level, else [`EvalError::LevelDown`]);
        /// the message and scale are unchanged.
        level_down, level_down_new, level_down_assign, (target: Level), check_level_down,
        apply_level_down
    }
}
