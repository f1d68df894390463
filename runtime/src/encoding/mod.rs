//! Encoding and decoding of complex slot vectors into CKKS plaintexts through the canonical
//! embedding.
//!
//! A plaintext holds round(Δ·m) for a message polynomial m whose evaluations at the roots
//! ζ^(5^j) are the slot values, at any level (number of RNS limbs) and any scale Δ ≥ 1, as
//! long as every coefficient |Δ·m_i| stays below Q_l/2, half the product of the level's primes
//! ([`check_within_modulus`]); beyond it the coefficient would wrap modulo Q_l and decode to
//! garbage. Independently of the level, coefficients are reduced through `i128`, so they must
//! stay below [`embed::MAX_SCALED_COEFFICIENT`] (about 2^127) too.
//! Fewer than N/2 slots (a power of two, "sparse" packing) puts the message in the subring
//! Z[X^(N/2n)], where every slot is replicated N/2n times; all operations preserve that.

pub mod embed;
pub mod fft;

pub use fft::{C64, SpecialFft};

use crate::context::CkksContext;
use crate::ring::{Form, RnsPoly};
use fhec_params::Level;
use thiserror::Error;

/// Why a vector could not be encoded.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EncodeError {
    /// The slot count is not a power of two of at most N/2.
    #[error("slot count {slots} is not a power of two of at most N/2 = {max}")]
    SlotCount {
        /// The requested slot count.
        slots: usize,
        /// N/2.
        max: usize,
    },
    /// More values than slots.
    #[error("{values} values do not fit in {slots} slots")]
    TooManyValues {
        /// Number of values given.
        values: usize,
        /// Number of slots.
        slots: usize,
    },
    /// The scale is not a finite number of at least 1.
    #[error("scale {scale} is not a finite number >= 1")]
    Scale {
        /// The refused scale.
        scale: f64,
    },
    /// A value is NaN or infinite.
    #[error("value {index} is not finite")]
    NotFinite {
        /// Index of the first offending value.
        index: usize,
    },
    /// A scaled coefficient is too large for the encoding (value × scale beyond ~2^127).
    #[error(
        "a scaled coefficient of 2^{log2_coefficient:.1} overflows the encoding (values too large for the scale)"
    )]
    Overflow {
        /// log2 of the largest scaled coefficient.
        log2_coefficient: f64,
    },
    /// A scaled coefficient reaches half the level's modulus Q_l: it would wrap modulo Q_l
    /// and decode to garbage (values too large for the scale at that level).
    #[error(
        "a scaled coefficient of 2^{log2_coefficient:.1} does not fit below Q_{level}/2 = \
         2^{log2_half_modulus:.1}: the values are too large for the scale at level {level} \
         (lower the scale or encode at a higher level)"
    )]
    ExceedsModulus {
        /// log2 of the largest scaled coefficient.
        log2_coefficient: f64,
        /// The level encoded at.
        level: usize,
        /// log2(Q_level / 2), the bound.
        log2_half_modulus: f64,
    },
    /// The level exceeds the parameters' highest level.
    #[error("level {level} exceeds the highest level {max}")]
    Level {
        /// The requested level.
        level: usize,
        /// The highest level L.
        max: usize,
    },
}

/// An encoded message: round(scale · m) in NTT form over q_0..q_level.
#[derive(Clone, Debug, PartialEq)]
pub struct Plaintext {
    /// The polynomial, NTT form, no special limbs.
    pub poly: RnsPoly,
    /// The scale Δ the message was multiplied by.
    pub scale: f64,
    /// The number of slots n (a power of two ≤ N/2).
    pub slots: usize,
}

impl Plaintext {
    /// The level (number of limbs − 1).
    pub fn level(&self) -> Level {
        self.poly.level()
    }
}

/// Encodes slot vectors into plaintexts and decodes them back.
#[derive(Clone, Copy)]
pub struct Encoder<'a> {
    context: &'a CkksContext,
}

impl<'a> Encoder<'a> {
    /// An encoder for the parameter set of `context`.
    pub fn new(context: &'a CkksContext) -> Self {
        Self { context }
    }

    /// Encodes `values` (padded with zeros to `slots`) at `level` and `scale`.
    ///
    /// Errors: [`EncodeError::SlotCount`], [`EncodeError::TooManyValues`],
    /// [`EncodeError::Scale`], [`EncodeError::NotFinite`], [`EncodeError::Overflow`],
    /// [`EncodeError::ExceedsModulus`] (|value·scale| reaching Q_level/2),
    /// [`EncodeError::Level`].
    pub fn encode(
        &self,
        values: &[C64],
        slots: usize,
        level: Level,
        scale: f64,
    ) -> Result<Plaintext, EncodeError> {
        let max = self.context.max_level();
        if level > max {
            return Err(EncodeError::Level {
                level: level.0,
                max: max.0,
            });
        }
        let ring = self.context.ring();
        let mut coefficients = vec![0.0; ring.degree()];
        let largest = embed::scaled_coefficients(
            self.context.fft(),
            values,
            slots,
            scale,
            &mut coefficients,
        )?;
        check_within_modulus(self.context, level, largest)?;
        let mut poly = ring.zero(level, false, Form::Coefficient);
        reduce_into_limbs(self.context, &coefficients, &mut poly);
        ring.to_ntt(&mut poly);
        Ok(Plaintext { poly, scale, slots })
    }

    /// Encodes real `values` (imaginary parts zero); see [`Self::encode`].
    pub fn encode_real(
        &self,
        values: &[f64],
        slots: usize,
        level: Level,
        scale: f64,
    ) -> Result<Plaintext, EncodeError> {
        let complex: Vec<C64> = values.iter().map(|&x| C64::new(x, 0.0)).collect();
        self.encode(&complex, slots, level, scale)
    }

    /// Decodes every slot of `plaintext` (its `slots` values, divided by its scale).
    ///
    /// Only the first primes whose product exceeds 2^64 · scale take part (see
    /// [`decoding_limbs`]): slot values below ~2^60 in magnitude decode exactly as from all
    /// limbs, at a fraction of the cost at high levels.
    pub fn decode(&self, plaintext: &Plaintext) -> Vec<C64> {
        let ring = self.context.ring();
        let limbs = decoding_limbs(self.context, plaintext.scale, plaintext.level());
        let mut poly = plaintext.poly.q_prefix(limbs);
        ring.to_coefficient(&mut poly);
        let mut coefficients = vec![0.0; ring.degree()];
        ring.coefficients_centered_f64(&poly, &mut coefficients);
        embed::slots_from_coefficients(
            self.context.fft(),
            &coefficients,
            plaintext.slots,
            plaintext.scale,
        )
    }
}

/// Number of limbs, from q_0, whose product exceeds 2^64 · `scale` (all limbs at `level` if
/// none do). A decrypted or encoded coefficient is Δ·m plus small noise; while |Δ·m| stays
/// below half that product its centered residue over those limbs equals the one over all
/// limbs, so decryption and decoding can skip the others.
pub fn decoding_limbs(context: &CkksContext, scale: f64, level: Level) -> usize {
    let needed = scale.log2() + 64.0;
    let mut bits = 0.0;
    for (i, &q) in context.params().q_primes()[..level.limbs()]
        .iter()
        .enumerate()
    {
        bits += (q as f64).log2();
        if bits >= needed {
            return i + 1;
        }
    }
    level.limbs()
}

/// log2 of Q_level, the product of the ciphertext primes q_0..q_level (a sum of logarithms:
/// Q_L exceeds the range of an `f64` at large parameters).
pub fn log2_modulus(context: &CkksContext, level: Level) -> f64 {
    context
        .params()
        .q_primes_at(level)
        .iter()
        .map(|&q| (q as f64).log2())
        .sum()
}

/// Checks that an integer coefficient of magnitude `largest` fits the centered range of
/// Q_level, |c| < Q_level/2, so that it does not wrap modulo Q_level. The encoder checks
/// every coefficient it writes; a constant added to or multiplied into a ciphertext at
/// `level` must pass the same check.
///
/// Errors: [`EncodeError::ExceedsModulus`] (which names the bound), [`EncodeError::Level`]
/// for a level above L.
pub fn check_within_modulus(
    context: &CkksContext,
    level: Level,
    largest: f64,
) -> Result<(), EncodeError> {
    let max = context.max_level();
    if level > max {
        return Err(EncodeError::Level {
            level: level.0,
            max: max.0,
        });
    }
    let log2_half_modulus = log2_modulus(context, level) - 1.0;
    let log2_coefficient = largest.abs().log2();
    if log2_coefficient.is_nan() || log2_coefficient >= log2_half_modulus {
        return Err(EncodeError::ExceedsModulus {
            log2_coefficient,
            level: level.0,
            log2_half_modulus,
        });
    }
    Ok(())
}

/// Writes the integer coefficients `coefficients` (exact integers in f64, |c| < 2^127) into
/// every limb of `poly` (coefficient form).
fn reduce_into_limbs(context: &CkksContext, coefficients: &[f64], poly: &mut RnsPoly) {
    let ring = context.ring();
    let q_limbs = poly.q_limbs();
    let n = ring.degree();
    for limb_index in 0..poly.limb_count() {
        let modulus = ring.limb_prime(q_limbs, limb_index).0;
        let limb = &mut poly.data_mut()[limb_index * n..(limb_index + 1) * n];
        for (residue, &c) in limb.iter_mut().zip(coefficients) {
            let magnitude = modulus.reduce_u128(c.abs() as u128);
            *residue = if c < 0.0 {
                modulus.neg(magnitude)
            } else {
                magnitude
            };
        }
    }
}
