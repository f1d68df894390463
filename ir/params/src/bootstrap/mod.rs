//! Bootstrapping parameters: the facts the compiler and the runtime share about a CKKS
//! bootstrap (docs/plans/bootstrapping.md §1, §2.6, §5.1), kept here so they cannot disagree.
//!
//! - [`BootstrapLiteral`]: what a preset or a user states (slots, the bit sizes of the circuit,
//!   SlotToCoeff, EvalMod and CoeffToSlot primes, the EvalMod shape, the ephemeral Hamming
//!   weight); public fields, serde, not validated.
//! - [`BootstrapConfig::new`]: validates it, builds the whole modulus chain as [`CkksParams`]
//!   (q0 · circuit · S2C · EvalMod · C2S, then the special primes) and checks security twice:
//!   the HE-standard bound for the dense long-term key ([`CkksParams::new`]), and
//!   [`sparse_bound`] for the single sample published under the ephemeral sparse key
//!   (the dense→sparse switching key, over q0·p0).
//! - Answers: levels consumed per step ([`BootstrapLevels`]), the level and scale an input must
//!   have, the level and scale of the output (the levels left to the circuit), the failure
//!   probability of EvalMod's range [−K, K] ([`rounding_failure_log2`]), and the evaluation-key
//!   bytes (DESIGN §5 formula) for a given set of rotation keys.
//!
//! **Rotation indices** are not computed here: they depend on the CoeffToSlot/SlotToCoeff
//! factorisation and live in the DFT plan module (`dft_plan/`, same crate); a caller passes
//! their count or their level caps to [`BootstrapConfig::key_bytes`] and
//! [`BootstrapConfig::key_bytes_capped`].
//!
//! **Chain layout**, levels counted from the bottom (level = number of primes − 1): q0 is level
//! 0; the circuit primes are levels 1..=c; then S2C (s primes), EvalMod (e primes), C2S (t
//! primes) up to the top level L = c + s + e + t. A bootstrap takes a level-0 ciphertext at
//! scale q0-bits − message-ratio bits, raises it to L, and returns it at level c with the
//! circuit scale: c levels are left to the circuit.

use crate::literal::{CkksParamsLiteral, SecretDistribution};
use crate::params::{CkksParams, ParamError};
use crate::units::Level;
use serde::{Deserialize, Serialize};
use thiserror::Error;

mod presets;
mod security;

pub use presets::{n16_boot, test_boot_insecure};
pub use security::{MAX_FAILURE_LOG2, k_for_hamming_weight, rounding_failure_log2, sparse_bound};

/// EvalMod's shape: a polynomial of `degree` approximating the scaled cosine on [−K, K] in
/// q0 units, then `double_angles` steps cos 2θ = 2cos²θ − 1 (plan §2.4), then optionally an
/// arcsine stage that turns the sine into x mod 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EvalModLiteral {
    /// Bits of each EvalMod prime (and log2 of the scale EvalMod runs at).
    pub log_scale: u32,
    /// Range: the input x = t/q0 satisfies |x| ≤ K except with the probability of
    /// [`rounding_failure_log2`].
    pub k: u32,
    /// Degree of the cosine approximation (Chebyshev basis).
    pub degree: u32,
    /// Number r of double-angle steps.
    pub double_angles: u32,
    /// log2 of the message ratio q0/Δ_in: the message occupies |x mod 1| ≤ 2^-ratio.
    pub log_message_ratio: u32,
    /// Bits of the primes of the arcsine stage (bottom first): empty for none, else
    /// [`ARCSINE_LEVELS`] primes. The stage maps s = sin(2πx)/(2π) to s + c·s³ ≈ x mod 1, so
    /// that a message coefficient of size m·Δ/q0 is not compressed by the sine's cubic term
    /// (2π·m·Δ/q0)²/6 (2^-11.3 at m = 1 with a ratio of 2^7): what a slot vector with a large
    /// mean puts into one coefficient.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arcsine_bits: Vec<u32>,
}

/// Levels of the arcsine stage: s² then s·(1 + c·s²).
pub const ARCSINE_LEVELS: usize = 2;

impl EvalModLiteral {
    /// Levels EvalMod consumes: [`Self::sine_depth`] plus the arcsine stage's.
    pub fn depth(&self) -> usize {
        self.sine_depth() + self.arcsine_bits.len()
    }

    /// Levels of the sine alone: ⌈log2(degree + 1)⌉ for the polynomial plus one per double
    /// angle (the runtime's Chebyshev evaluator reaches this depth exactly); each is a prime
    /// of `log_scale` bits.
    pub fn sine_depth(&self) -> usize {
        polynomial_depth(self.degree as usize) + self.double_angles as usize
    }
}

/// Levels of a Chebyshev polynomial of degree `degree` evaluated by baby-step giant-step:
/// ⌈log2(degree + 1)⌉, and 1 for a constant.
pub fn polynomial_depth(degree: usize) -> usize {
    ((degree + 1).next_power_of_two().trailing_zeros() as usize).max(1)
}

/// A bootstrapping parameter set as stated, before validation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BootstrapLiteral {
    /// log2 of the ring degree N.
    pub log_n: u32,
    /// log2 of the number of slots bootstrapped (≤ log N − 1; below it is "sparse").
    pub log_slots: u32,
    /// Bits of q0 (the decryption prime the message ratio is measured against).
    pub q0_bits: u32,
    /// Bits of the circuit primes q1..qc (the levels left to the circuit).
    pub circuit_bits: Vec<u32>,
    /// log2 of the circuit scale: the scale a bootstrap returns.
    pub circuit_log_scale: u32,
    /// Bits of the SlotToCoeff primes, one per S2C level (bottom first).
    pub s2c_bits: Vec<u32>,
    /// EvalMod's shape; its primes are `evalmod.depth()` primes of `evalmod.log_scale` bits.
    pub evalmod: EvalModLiteral,
    /// Bits of the CoeffToSlot primes, one per C2S level (bottom first, top last).
    pub c2s_bits: Vec<u32>,
    /// Bits of the special primes P of hybrid key switching.
    pub special_bits: Vec<u32>,
    /// Number of key-switching digits at the top level.
    pub dnum: usize,
    /// Hamming weight of the ephemeral sparse secret of the encapsulation (BTH22), or `None`
    /// to bootstrap under the dense key directly (refused unless `insecure`: no practical K
    /// makes the failure probability negligible for a dense ternary key).
    pub ephemeral_hamming_weight: Option<usize>,
    /// Explicit opt-in to parameters weaker than 128-bit security or a non-negligible failure
    /// probability (tests only).
    #[serde(default)]
    pub insecure: bool,
}

/// Why a [`BootstrapLiteral`] was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BootstrapError {
    /// The chain itself is invalid or insecure.
    #[error("bootstrapping chain: {0}")]
    Params(#[from] ParamError),
    /// The slot count does not fit the ring.
    #[error("log slots = {log_slots} must be between 1 and log N − 1 = {max}")]
    LogSlots {
        /// The requested log slots.
        log_slots: u32,
        /// log N − 1.
        max: u32,
    },
    /// A step has no level.
    #[error("{step} needs at least one prime")]
    EmptyStep {
        /// `"CoeffToSlot"` or `"SlotToCoeff"`.
        step: &'static str,
    },
    /// EvalMod's shape is unusable.
    #[error("EvalMod: {reason}")]
    EvalMod {
        /// What is wrong.
        reason: String,
    },
    /// The input scale q0/ratio or the circuit scale does not fit below q0.
    #[error(
        "input scale 2^{input_log_scale} (q0 bits {q0_bits} − message ratio) and circuit scale \
         2^{circuit_log_scale} must both lie in [2^20, 2^q0_bits)"
    )]
    Scales {
        /// log2 of the input scale.
        input_log_scale: i64,
        /// Bits of q0.
        q0_bits: u32,
        /// log2 of the circuit scale.
        circuit_log_scale: u32,
    },
    /// K is too small for the ephemeral Hamming weight.
    #[error(
        "K = {k} leaves a failure probability of 2^{failure_log2:.1} with h = {hamming_weight} \
         over {coefficients} coefficients (at most 2^{MAX_FAILURE_LOG2} allowed); use K ≥ {k_needed}"
    )]
    RangeTooSmall {
        /// The stated K.
        k: u32,
        /// The Hamming weight.
        hamming_weight: usize,
        /// Coefficients EvalMod sees (2 × slots).
        coefficients: usize,
        /// log2 of the failure probability.
        failure_log2: f64,
        /// The smallest K that suffices.
        k_needed: u32,
    },
    /// Bootstrapping under the dense key without the insecure opt-in.
    #[error(
        "bootstrapping without sparse-secret encapsulation fails with non-negligible probability \
         for a dense key; set ephemeral_hamming_weight (e.g. 32) or opt in to insecure"
    )]
    NoEncapsulation,
    /// The dense→sparse switching key's modulus exceeds the sparse-secret bound.
    #[error(
        "the dense→sparse key's modulus q0·p0 has {log_modulus:.2} bits; a Hamming-weight-{hamming_weight} \
         secret at N = 2^{log_n} is estimated 128-bit only up to {bound}"
    )]
    SparseAboveBound {
        /// log2(q0·p0).
        log_modulus: f64,
        /// The ephemeral Hamming weight.
        hamming_weight: usize,
        /// log N.
        log_n: u32,
        /// The recorded bound.
        bound: u32,
    },
    /// No security estimate is recorded for this (N, h) and the literal is not insecure.
    #[error(
        "no 128-bit estimate is recorded for a Hamming-weight-{hamming_weight} secret at \
         N = 2^{log_n}; use h = 32 at N = 2^16 or opt in to insecure"
    )]
    SparseNotCovered {
        /// The ephemeral Hamming weight.
        hamming_weight: usize,
        /// log N.
        log_n: u32,
    },
}

/// Levels of each step, as level indices (plan §2.6). A bootstrap runs top → c2s_output
/// (CoeffToSlot) → evalmod_output (EvalMod) → output (SlotToCoeff).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapLevels {
    /// The level ModRaise lifts to, L.
    pub top: Level,
    /// Level after CoeffToSlot (= EvalMod's input level).
    pub c2s_output: Level,
    /// Level after EvalMod (= SlotToCoeff's input level).
    pub evalmod_output: Level,
    /// Level after SlotToCoeff: the bootstrap's output, = levels left to the circuit.
    pub output: Level,
}

/// A validated bootstrapping parameter set.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapConfig {
    literal: BootstrapLiteral,
    params: CkksParams,
    levels: BootstrapLevels,
}

impl BootstrapConfig {
    /// Validates `literal` and builds its chain. Checks: 1 ≤ log slots ≤ log N − 1; S2C and
    /// C2S non-empty; EvalMod degree ≥ 2, K ≥ 1, at most 8 double angles, log scale ≤ 61;
    /// input scale (q0 − ratio bits) and circuit scale in [2^20, q0); the chain through
    /// [`CkksParams::new`] (prime sizes, digits, the dense 128-bit bound unless insecure);
    /// with an ephemeral key, K large enough ([`MAX_FAILURE_LOG2`]) and log2(q0·p0) within
    /// [`sparse_bound`] unless insecure; without one, insecure is required.
    pub fn new(literal: BootstrapLiteral) -> Result<Self, BootstrapError> {
        let max_log_slots = literal.log_n.saturating_sub(1);
        if !(1..=max_log_slots).contains(&literal.log_slots) {
            return Err(BootstrapError::LogSlots {
                log_slots: literal.log_slots,
                max: max_log_slots,
            });
        }
        if literal.s2c_bits.is_empty() {
            return Err(BootstrapError::EmptyStep {
                step: "SlotToCoeff",
            });
        }
        if literal.c2s_bits.is_empty() {
            return Err(BootstrapError::EmptyStep {
                step: "CoeffToSlot",
            });
        }
        check_evalmod(&literal.evalmod)?;
        let input_log_scale =
            i64::from(literal.q0_bits) - i64::from(literal.evalmod.log_message_ratio);
        let q0 = i64::from(literal.q0_bits);
        if !(20..q0).contains(&input_log_scale)
            || !(20..q0).contains(&i64::from(literal.circuit_log_scale))
        {
            return Err(BootstrapError::Scales {
                input_log_scale,
                q0_bits: literal.q0_bits,
                circuit_log_scale: literal.circuit_log_scale,
            });
        }
        let params = CkksParams::new(chain_literal(&literal))?;
        check_encapsulation(&literal, &params)?;
        let output = literal.circuit_bits.len();
        let evalmod_output = output + literal.s2c_bits.len();
        let c2s_output = evalmod_output + literal.evalmod.depth();
        let top = c2s_output + literal.c2s_bits.len();
        debug_assert_eq!(top, params.max_level().0);
        Ok(Self {
            literal,
            params,
            levels: BootstrapLevels {
                top: Level(top),
                c2s_output: Level(c2s_output),
                evalmod_output: Level(evalmod_output),
                output: Level(output),
            },
        })
    }

    /// The literal this was validated from.
    pub fn literal(&self) -> &BootstrapLiteral {
        &self.literal
    }

    /// The whole chain as CKKS parameters (dense ternary long-term secret).
    pub fn params(&self) -> &CkksParams {
        &self.params
    }

    /// The number of slots bootstrapped.
    pub fn slots(&self) -> usize {
        1 << self.literal.log_slots
    }

    /// EvalMod's shape.
    pub fn evalmod(&self) -> &EvalModLiteral {
        &self.literal.evalmod
    }

    /// The ephemeral Hamming weight, if the bootstrap encapsulates.
    pub fn ephemeral_hamming_weight(&self) -> Option<usize> {
        self.literal.ephemeral_hamming_weight
    }

    /// The level index of every step boundary.
    pub fn levels(&self) -> BootstrapLevels {
        self.levels
    }

    /// Levels a bootstrap consumes: C2S + EvalMod + S2C (15 for `N16_BOOT`).
    pub fn depth(&self) -> usize {
        self.levels.top.0 - self.levels.output.0
    }

    /// Levels consumed by [CoeffToSlot, EvalMod, SlotToCoeff].
    pub fn levels_per_step(&self) -> [usize; 3] {
        [
            self.literal.c2s_bits.len(),
            self.literal.evalmod.depth(),
            self.literal.s2c_bits.len(),
        ]
    }

    /// The level a bootstrap input must be at: 0, with scale exactly [`Self::input_scale`]
    /// (ScaleDown also accepts any level ≥ 1 with any scale, at the cost of one rescale).
    pub fn min_input_level(&self) -> Level {
        Level(0)
    }

    /// log2 of the scale a level-0 input must have: q0 bits − message-ratio bits (2^52 for
    /// `N16_BOOT`).
    pub fn input_log_scale(&self) -> u32 {
        self.literal.q0_bits - self.literal.evalmod.log_message_ratio
    }

    /// The scale a level-0 input must have, 2^[`Self::input_log_scale`].
    pub fn input_scale(&self) -> f64 {
        2f64.powi(self.input_log_scale() as i32)
    }

    /// The output level, which is also the number of levels left to the circuit (10 for
    /// `N16_BOOT`).
    pub fn output_level(&self) -> Level {
        self.levels.output
    }

    /// The output scale, exactly 2^circuit_log_scale.
    pub fn output_scale(&self) -> f64 {
        2f64.powi(self.literal.circuit_log_scale as i32)
    }

    /// log2 of the probability that some coefficient seen by EvalMod leaves [−K, K]
    /// ([`rounding_failure_log2`] over 2 × slots coefficients; the Hamming weight is the
    /// ephemeral one, or 2N/3 for a dense key).
    pub fn failure_log2(&self) -> f64 {
        let h = self
            .literal
            .ephemeral_hamming_weight
            .unwrap_or(self.params.degree() * 2 / 3);
        rounding_failure_log2(h, self.literal.evalmod.k, 2 * self.slots())
    }

    /// log2 of the dense→sparse switching key's modulus q0·p0 (the one sample published under
    /// the ephemeral key).
    pub fn sparse_switch_log_modulus(&self) -> f64 {
        let q0 = self.params.q_primes()[0] as f64;
        let p0 = self.params.p_primes()[0] as f64;
        q0.log2() + p0.log2()
    }

    /// Bytes of one hybrid key-switching key serving levels up to `level` (DESIGN §5:
    /// digits(l) · 2 · N · (l + 1 + k) · 8, half when seed-compressed).
    pub fn switching_key_bytes(&self, level: Level, compressed: bool) -> u64 {
        let digits = self.params.digits_at(level) as u64;
        let limbs = (level.limbs() + self.params.p_primes().len()) as u64;
        let full = digits * 2 * self.params.degree() as u64 * limbs * 8;
        if compressed { full / 2 } else { full }
    }

    /// Evaluation-key bytes when `rotations` rotation keys all serve the top level (phase 1:
    /// no level caps): see [`Self::key_bytes_capped`].
    pub fn key_bytes(&self, rotations: usize, compressed: bool) -> u64 {
        self.key_bytes_capped(&vec![self.levels.top; rotations], compressed)
    }

    /// Evaluation-key bytes of a bootstrap whose rotation keys are capped at
    /// `rotation_levels` (one entry per key, from the DFT plan): the rotation keys, the
    /// conjugation key (used by CoeffToSlot's real/imaginary split, capped at the C2S output
    /// level), the relinearisation key (EvalMod, capped at its input level) and, with
    /// encapsulation, the sparse→dense key (one digit over Q_L·P: 2 · N · (L + 1 + k) · 8) and
    /// the dense→sparse key (one digit over q0·p0: 2 · N · 2 · 8); half when compressed.
    pub fn key_bytes_capped(&self, rotation_levels: &[Level], compressed: bool) -> u64 {
        let mut total: u64 = rotation_levels
            .iter()
            .map(|&level| self.switching_key_bytes(level, compressed))
            .sum();
        total += 2 * self.switching_key_bytes(self.levels.c2s_output, compressed);
        if self.literal.ephemeral_hamming_weight.is_some() {
            let n = self.params.degree() as u64;
            let top_limbs = (self.levels.top.limbs() + self.params.p_primes().len()) as u64;
            let one_digit = 2 * n * (top_limbs + 2) * 8;
            total += if compressed { one_digit / 2 } else { one_digit };
        }
        total
    }
}

/// The chain literal: q0 · circuit · S2C · EvalMod (arcsine, then sine) · C2S, dense ternary
/// secret.
fn chain_literal(literal: &BootstrapLiteral) -> CkksParamsLiteral {
    let evalmod = &literal.evalmod;
    let log_q = std::iter::once(literal.q0_bits)
        .chain(literal.circuit_bits.iter().copied())
        .chain(literal.s2c_bits.iter().copied())
        .chain(evalmod.arcsine_bits.iter().copied())
        .chain(std::iter::repeat_n(evalmod.log_scale, evalmod.sine_depth()))
        .chain(literal.c2s_bits.iter().copied())
        .collect();
    CkksParamsLiteral {
        log_n: literal.log_n,
        log_q,
        log_p: literal.special_bits.clone(),
        dnum: literal.dnum,
        log_scale: literal.circuit_log_scale,
        secret: SecretDistribution::Ternary,
        insecure: literal.insecure,
    }
}

fn check_evalmod(evalmod: &EvalModLiteral) -> Result<(), BootstrapError> {
    let reason = if evalmod.degree < 2 {
        "the cosine approximation needs degree >= 2"
    } else if evalmod.k == 0 {
        "K must be at least 1"
    } else if evalmod.double_angles > 8 {
        "at most 8 double-angle steps"
    } else if evalmod.log_scale > crate::params::MAX_PRIME_BITS {
        "the EvalMod scale cannot exceed the largest prime (61 bits)"
    } else if !matches!(evalmod.arcsine_bits.len(), 0 | ARCSINE_LEVELS) {
        "the arcsine stage takes exactly two primes (or none)"
    } else {
        return Ok(());
    };
    Err(BootstrapError::EvalMod {
        reason: reason.to_string(),
    })
}

/// With an ephemeral key: K covers it and q0·p0 is within the sparse bound (unless insecure).
/// Without: insecure is required.
fn check_encapsulation(
    literal: &BootstrapLiteral,
    params: &CkksParams,
) -> Result<(), BootstrapError> {
    let Some(h) = literal.ephemeral_hamming_weight else {
        return if literal.insecure {
            Ok(())
        } else {
            Err(BootstrapError::NoEncapsulation)
        };
    };
    if !(1..=params.degree()).contains(&h) {
        return Err(ParamError::HammingWeightOutOfRange {
            hamming_weight: h,
            n: params.degree(),
        }
        .into());
    }
    let coefficients = 2usize << literal.log_slots;
    let failure_log2 = rounding_failure_log2(h, literal.evalmod.k, coefficients);
    if failure_log2 > MAX_FAILURE_LOG2 && !literal.insecure {
        return Err(BootstrapError::RangeTooSmall {
            k: literal.evalmod.k,
            hamming_weight: h,
            coefficients,
            failure_log2,
            k_needed: k_for_hamming_weight(h, coefficients),
        });
    }
    if literal.insecure {
        return Ok(());
    }
    let log_modulus = (params.q_primes()[0] as f64).log2() + (params.p_primes()[0] as f64).log2();
    match sparse_bound(literal.log_n, h) {
        Some(bound) if log_modulus <= bound as f64 => Ok(()),
        Some(bound) => Err(BootstrapError::SparseAboveBound {
            log_modulus,
            hamming_weight: h,
            log_n: literal.log_n,
            bound,
        }),
        None => Err(BootstrapError::SparseNotCovered {
            hamming_weight: h,
            log_n: literal.log_n,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_depth_is_ceil_log2_of_degree_plus_one() {
        assert_eq!(polynomial_depth(0), 1);
        assert_eq!(polynomial_depth(1), 1);
        assert_eq!(polynomial_depth(30), 5);
        assert_eq!(polynomial_depth(31), 5);
        assert_eq!(polynomial_depth(32), 6);
    }
}
