//! ScaleDown and ModRaise: the first two steps of a bootstrap (plan §2.1).
//!
//! - [`scale_down`] brings a ciphertext to level 0 with scale **exactly** the bootstrap's
//!   input scale q0-bits − ratio (`BootstrapConfig::input_scale`): from level ≥ 1 with any scale
//!   by one constant product and one rescale by q1, which absorbs the scale mismatch; at level
//!   0 only a ciphertext already at that scale is accepted.
//! - [`mod_raise`] reads a level-0 ciphertext's coefficients as centered integers in
//!   (−q0/2, q0/2] and writes them into every prime of the chain. It consumes no level. The
//!   raised ciphertext decrypts to t = Δ·m + e + q0·I, I an integer polynomial with
//!   |I_j| ≤ (h + 1)/2 for a secret of Hamming weight h (each coefficient of (c0 + c1·s)/q0
//!   is a sum of h + 1 terms in [−1/2, 1/2]); EvalMod removes q0·I.

use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::eval::{EvalError, Evaluator};
use crate::ring::{Form, RnsPoly};
use fhec_params::Level;
use thiserror::Error;

/// Smallest constant scale ScaleDown accepts: the constant round(κ) must carry at least this
/// many units so its rounding (relative 1/(2κ)) stays below the bootstrap's precision.
const MIN_SCALE_DOWN_FACTOR: f64 = (1u64 << 30) as f64;

/// Relative scale difference below which a level-0 input counts as already at the input scale.
const SCALE_TOLERANCE: f64 = 1.0 / (1u64 << 40) as f64;

/// Why ScaleDown or ModRaise refused a ciphertext.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RaiseError {
    /// A level-0 ciphertext whose scale is not the input scale (nothing left to rescale).
    #[error(
        "a level-0 bootstrap input must have scale 2^{:.4}, this one has 2^{:.4}; \
         bootstrap it from level 1 or above",
        .expected.log2(), .found.log2()
    )]
    ScaleAtLevelZero {
        /// The scale the bootstrap expects.
        expected: f64,
        /// The ciphertext's scale.
        found: f64,
    },
    /// ScaleDown would multiply by a constant too small to be precise, or the target scale is
    /// not below q0.
    #[error(
        "cannot scale 2^{:.2} at level 1 down to 2^{:.2} at level 0 precisely (constant \
         2^{:.2}, at least 2^30 needed, and the target must be below q0)",
        .scale.log2(), .target.log2(), .factor.log2()
    )]
    ScaleDown {
        /// The ciphertext's scale.
        scale: f64,
        /// The requested scale.
        target: f64,
        /// The constant factor κ = target·q1/scale.
        factor: f64,
    },
    /// ModRaise takes level-0 ciphertexts only.
    #[error("ModRaise takes a level-0 ciphertext, this one is at level {level}")]
    NotAtLevelZero {
        /// The ciphertext's level.
        level: usize,
    },
    /// An evaluation step failed.
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// Brings `input` to level 0 with scale exactly `target_scale` (see the module
/// documentation). Errors: [`RaiseError::ScaleAtLevelZero`], [`RaiseError::ScaleDown`].
pub fn scale_down(
    evaluator: &Evaluator<'_>,
    input: &Ciphertext,
    target_scale: f64,
) -> Result<Ciphertext, RaiseError> {
    if input.level().0 == 0 {
        if ((input.scale - target_scale) / target_scale).abs() > SCALE_TOLERANCE {
            return Err(RaiseError::ScaleAtLevelZero {
                expected: target_scale,
                found: input.scale,
            });
        }
        let mut output = input.clone();
        output.scale = target_scale;
        return Ok(output);
    }
    let context = evaluator.context();
    let q0 = context.q_prime(Level(0)) as f64;
    let q1 = context.q_prime(Level(1)) as f64;
    let factor = target_scale * q1 / input.scale;
    if !(factor >= MIN_SCALE_DOWN_FACTOR && target_scale < q0) {
        return Err(RaiseError::ScaleDown {
            scale: input.scale,
            target: target_scale,
            factor,
        });
    }
    let mut output = evaluator.level_down_new(input, Level(1))?;
    evaluator.mul_const_assign(&mut output, 1.0, factor)?;
    evaluator.rescale_assign(&mut output)?;
    output.scale = target_scale;
    Ok(output)
}

/// Lifts a level-0 ciphertext to level `level` (its coefficients centered mod q0 written into
/// every prime q_0..q_level). Scale and slots are kept; the message gains q0·I (see the module
/// documentation). Errors: [`RaiseError::NotAtLevelZero`].
///
/// # Panics
/// If `level` exceeds the parameters' highest level (a programming error).
pub fn mod_raise_to(
    context: &CkksContext,
    input: &Ciphertext,
    level: Level,
) -> Result<Ciphertext, RaiseError> {
    if input.level().0 != 0 {
        return Err(RaiseError::NotAtLevelZero {
            level: input.level().0,
        });
    }
    Ok(Ciphertext {
        c0: raise_poly(context, &input.c0, level, false),
        c1: raise_poly(context, &input.c1, level, false),
        scale: input.scale,
        slots: input.slots,
    })
}

/// [`mod_raise_to`] the top level L of the parameters.
pub fn mod_raise(context: &CkksContext, input: &Ciphertext) -> Result<Ciphertext, RaiseError> {
    mod_raise_to(context, input, context.max_level())
}

/// The centered lift of a one-limb NTT polynomial mod q0 into q_0..q_level (and the special
/// primes when `with_special`), NTT form.
pub(crate) fn raise_poly(
    context: &CkksContext,
    poly: &RnsPoly,
    level: Level,
    with_special: bool,
) -> RnsPoly {
    let ring = context.ring();
    let (q0_modulus, q0_ntt) = ring.limb_prime(1, 0);
    let q0 = q0_modulus.value();
    let mut coefficients = poly.limb(0).to_vec();
    q0_ntt.inverse(&mut coefficients);
    let mut raised = ring.zero(level, with_special, Form::Coefficient);
    let q_limbs = raised.q_limbs();
    ring.for_each_limb(raised.data_mut(), |j, limb| {
        let modulus = ring.limb_prime(q_limbs, j).0;
        for (dst, &v) in limb.iter_mut().zip(&coefficients) {
            *dst = if v > q0 / 2 {
                modulus.neg(modulus.reduce_u64(q0 - v))
            } else {
                modulus.reduce_u64(v)
            };
        }
    });
    ring.to_ntt(&mut raised);
    raised
}
