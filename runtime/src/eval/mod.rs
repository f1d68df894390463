//! Homomorphic evaluation on [`Ciphertext`]s: additions, products (by plaintexts, constants
//! and ciphertexts with relinearisation), rescaling, level drops, rotations (single and
//! hoisted), conjugation, and polynomials in the Chebyshev basis ([`ChebyshevPolynomial`]).
//!
//! Every operation comes in three forms: `op(&a, .., &mut out)` writes into an
//! existing ciphertext (reusing its memory), `op_new(&a, ..)` allocates the result, and
//! `op_assign(&mut a, ..)` works in place. All three check their preconditions first and
//! return an [`EvalError`] without touching any output when one fails; none panics on
//! operands made for the same parameters.
//!
//! Ciphertexts and plaintexts stay in NTT form; every polynomial loop runs over RNS limbs in
//! parallel (rayon) inside the ring layer or the key-switching inner product.

mod arith;
mod keyswitch;
mod mul;
mod polynomial;
mod rescale_down;
mod rotate;

pub use keyswitch::Decomposition;
pub use polynomial::{ChebyshevPolynomial, PolynomialError};
pub(crate) use rescale_down::RescaleDownTables;
pub use rotate::ExtendedCiphertext;

use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::keys::{GaloisKeys, RelinearizationKey};
use thiserror::Error;

/// Relative difference below which two scales count as equal (f64 rounding of exactly tracked
/// scales stays far below it; a real mismatch is far above).
const SCALE_TOLERANCE: f64 = 1.0 / (1u64 << 40) as f64;

/// Why an evaluation was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvalError {
    /// Two ciphertext operands at different levels.
    #[error("operands are at different levels ({left} and {right}); drop the higher one first")]
    LevelMismatch {
        /// Level of the first operand.
        left: usize,
        /// Level of the second operand.
        right: usize,
    },
    /// Operands added or subtracted at different scales.
    #[error("operands have different scales (2^{:.4} and 2^{:.4})", .left.log2(), .right.log2())]
    ScaleMismatch {
        /// Scale of the first operand.
        left: f64,
        /// Scale of the second operand.
        right: f64,
    },
    /// Operands with different slot counts.
    #[error("operands pack different slot counts ({left} and {right})")]
    SlotMismatch {
        /// Slots of the first operand.
        left: usize,
        /// Slots of the second operand.
        right: usize,
    },
    /// A plaintext below the ciphertext's level.
    #[error("plaintext at level {plaintext} cannot serve a ciphertext at level {ciphertext}")]
    PlaintextLevel {
        /// The plaintext's level.
        plaintext: usize,
        /// The ciphertext's level.
        ciphertext: usize,
    },
    /// Rescaling at level 0.
    #[error("a ciphertext at level 0 cannot be rescaled")]
    RescaleAtLevelZero,
    /// A level drop to a level above the current one.
    #[error("cannot drop a ciphertext from level {from} to level {to}")]
    LevelDown {
        /// Current level.
        from: usize,
        /// Requested level.
        to: usize,
    },
    /// A product whose scale would not fit in the modulus.
    #[error(
        "the product's scale 2^{log2_scale:.1} does not fit the modulus of 2^{log2_modulus:.1} at this level; rescale first"
    )]
    ScaleExceedsModulus {
        /// log2 of the product scale.
        log2_scale: f64,
        /// log2 of Q_l.
        log2_modulus: f64,
    },
    /// A constant that is not finite, or that reaches half the modulus at the operand's level
    /// once scaled (it would wrap and decrypt to garbage).
    #[error(
        "constant {value} at scale 2^{:.1} cannot be encoded: not finite, or not below half the modulus at this level",
        .scale.log2()
    )]
    Constant {
        /// The constant.
        value: f64,
        /// Its scale.
        scale: f64,
    },
    /// A ciphertext product without a relinearisation key.
    #[error("ciphertext multiplication needs a relinearisation key, and the evaluator has none")]
    MissingRelinearizationKey,
    /// A rotation or conjugation without its Galois key.
    #[error("no Galois key for element {galois_element} ({what})")]
    MissingGaloisKey {
        /// The Galois element.
        galois_element: u64,
        /// The operation that needed it, e.g. "rotation by 3".
        what: String,
    },
    /// A key generated for lower levels than the ciphertext's.
    #[error("the key serves levels up to {key}, the ciphertext is at level {ciphertext}")]
    KeyLevel {
        /// The key's highest level.
        key: usize,
        /// The ciphertext's level.
        ciphertext: usize,
    },
}

/// Evaluates operations for one parameter set with an optional relinearisation key and
/// optional Galois keys.
#[derive(Clone, Copy)]
pub struct Evaluator<'a> {
    context: &'a CkksContext,
    relinearization_key: Option<&'a RelinearizationKey>,
    galois_keys: Option<&'a GaloisKeys>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator without keys (enough for everything but ct × ct, rotations, conjugation).
    pub fn new(context: &'a CkksContext) -> Self {
        Self {
            context,
            relinearization_key: None,
            galois_keys: None,
        }
    }

    /// Adds the relinearisation key used by [`Self::mul`].
    pub fn with_relinearization_key(mut self, key: &'a RelinearizationKey) -> Self {
        self.relinearization_key = Some(key);
        self
    }

    /// Adds the Galois keys used by rotations and conjugation.
    pub fn with_galois_keys(mut self, keys: &'a GaloisKeys) -> Self {
        self.galois_keys = Some(keys);
        self
    }

    /// The parameter set's context.
    pub fn context(&self) -> &'a CkksContext {
        self.context
    }

    /// A ciphertext of one-limb placeholders with `like`'s scale and slots, for an `into`
    /// method to reshape and overwrite.
    fn placeholder(&self, like: &Ciphertext) -> Ciphertext {
        let ring = self.context.ring();
        let empty = || ring.zero(fhec_params::Level(0), false, crate::ring::Form::Ntt);
        Ciphertext {
            c0: empty(),
            c1: empty(),
            scale: like.scale,
            slots: like.slots,
        }
    }

    /// Checks that two ciphertexts share level and slot count.
    fn check_same_level(&self, a: &Ciphertext, b: &Ciphertext) -> Result<(), EvalError> {
        if a.level() != b.level() {
            return Err(EvalError::LevelMismatch {
                left: a.level().0,
                right: b.level().0,
            });
        }
        check_slots(a.slots, b.slots)
    }

    /// Checks that a product at `level` with scale `scale` still fits the modulus (with one
    /// bit of headroom for the sign).
    fn check_product_scale(&self, level: fhec_params::Level, scale: f64) -> Result<(), EvalError> {
        let log2_modulus: f64 = self.context.params().q_primes()[..level.limbs()]
            .iter()
            .map(|&q| (q as f64).log2())
            .sum();
        if !scale.is_finite() || scale.log2() >= log2_modulus - 1.0 {
            return Err(EvalError::ScaleExceedsModulus {
                log2_scale: scale.log2(),
                log2_modulus,
            });
        }
        Ok(())
    }
}

fn check_slots(left: usize, right: usize) -> Result<(), EvalError> {
    if left != right {
        return Err(EvalError::SlotMismatch { left, right });
    }
    Ok(())
}

fn check_same_scale(left: f64, right: f64) -> Result<(), EvalError> {
    if ((left - right) / left).abs() > SCALE_TOLERANCE {
        return Err(EvalError::ScaleMismatch { left, right });
    }
    Ok(())
}

/// Generates the three forms of an operation from a `check_*` method (preconditions, no side
/// effect) and an `apply_*` method (works in place on a checked ciphertext). With
/// `into = apply_*_into` (writes the result of a checked input into any ciphertext, reusing its
/// memory), the out-of-place forms skip copying the input first.
macro_rules! three_forms {
    (
        $(#[$doc:meta])*
        $name:ident, $name_new:ident, $name_assign:ident,
        ($($arg:ident: $ty:ty),*), $check:ident, $apply:ident
    ) => {
        $(#[$doc])*
        ///
        /// Writes the result into `out`, reusing its memory.
        pub fn $name(
            &self,
            input: &Ciphertext,
            $($arg: $ty,)*
            out: &mut Ciphertext,
        ) -> Result<(), EvalError> {
            self.$check(input, $($arg),*)?;
            out.clone_from(input);
            self.$apply(out, $($arg),*);
            Ok(())
        }

        #[doc = concat!("Allocating form of [`Self::", stringify!($name), "`].")]
        pub fn $name_new(
            &self,
            input: &Ciphertext,
            $($arg: $ty),*
        ) -> Result<Ciphertext, EvalError> {
            self.$check(input, $($arg),*)?;
            let mut out = input.clone();
            self.$apply(&mut out, $($arg),*);
            Ok(out)
        }

        three_forms!(@assign $name, $name_assign, ($($arg: $ty),*), $check, $apply);
    };
    (
        $(#[$doc:meta])*
        $name:ident, $name_new:ident, $name_assign:ident,
        ($($arg:ident: $ty:ty),*), $check:ident, $apply:ident, into = $into:ident
    ) => {
        $(#[$doc])*
        ///
        /// Writes the result into `out`, reusing its memory.
        pub fn $name(
            &self,
            input: &Ciphertext,
            $($arg: $ty,)*
            out: &mut Ciphertext,
        ) -> Result<(), EvalError> {
            self.$check(input, $($arg),*)?;
            self.$into(input, $($arg,)* out);
            Ok(())
        }

        #[doc = concat!("Allocating form of [`Self::", stringify!($name), "`].")]
        pub fn $name_new(
            &self,
            input: &Ciphertext,
            $($arg: $ty),*
        ) -> Result<Ciphertext, EvalError> {
            self.$check(input, $($arg),*)?;
            let mut out = self.placeholder(input);
            self.$into(input, $($arg,)* &mut out);
            Ok(out)
        }

        three_forms!(@assign $name, $name_assign, ($($arg: $ty),*), $check, $apply);
    };
    (@assign $name:ident, $name_assign:ident, ($($arg:ident: $ty:ty),*), $check:ident, $apply:ident) => {
        #[doc = concat!("In-place form of [`Self::", stringify!($name), "`].")]
        pub fn $name_assign(
            &self,
            input: &mut Ciphertext,
            $($arg: $ty),*
        ) -> Result<(), EvalError> {
            self.$check(input, $($arg),*)?;
            self.$apply(input, $($arg),*);
            Ok(())
        }
    };
}
pub(crate) use three_forms;
