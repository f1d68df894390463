//! CoeffToSlot and SlotToCoeff on ciphertexts: the factored special FFT of [`super::dft`]
//! evaluated level by level with [`LinearTransform`]s, plus the trace (sparse slots) and the
//! real/imaginary split by conjugation (docs/plans/bootstrapping.md §2.1–2.5).
//!
//! - **CoeffToSlot** takes a ciphertext whose message polynomial (relative to its scale) has
//!   real coefficients m_0..m_(2n−1) in the slot subring, and returns them in slots, times a
//!   constant, in bit-reversed slot order (EvalMod is slot-wise, and SlotToCoeff reads the
//!   same order): for full slots two n-slot ciphertexts (slot j: m_(brv j), and
//!   m_(brv j + n)); for sparse slots one 2n-slot ciphertext holding both halves. A sparse
//!   input is first projected onto the subring by the trace (its factor N/2n is folded into
//!   the matrices, as is the 1/2 of the real/imaginary split). The scale is unchanged.
//! - **SlotToCoeff** is the inverse: it recombines the halves (full slots: re + i·im, the
//!   product by i being the free monomial X^(N/2); sparse: the repack folded into its first
//!   matrix), applies the decoding factors, and lands on an exact target scale, moving there
//!   by the same factor at each level (so EvalMod can hand over a high-scale result whose
//!   noise is small relative to it).

use super::bootstrapper::BootstrapError;
use super::dft::factor_matrices;
use super::linear_transform::{DiagonalResidency, LinearTransform};
use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::eval::Evaluator;
use crate::ring::{Form, RnsPoly};
use fhec_params::{DftDirection, DftPlan, Level};

/// Smallest diagonal scale SlotToCoeff accepts: diagonals are rounded to 1/scale, and below
/// 2^30 that rounding would show in the bootstrap's precision.
const MIN_DIAGONAL_SCALE: f64 = (1u64 << 30) as f64;

/// Relative difference below which a ciphertext's scale counts as the expected one (exactly
/// tracked scales differ by f64 rounding only).
const SCALE_TOLERANCE: f64 = 1.0 / (1u64 << 40) as f64;

/// The coefficients of a message after CoeffToSlot, in the shape EvalMod works on.
#[derive(Clone, Debug)]
pub enum SlotCoefficients {
    /// Full slots: the first n coefficients (`real`) and the last n (`imag`), one per slot.
    Full {
        /// Slot j holds m_(brv j).
        real: Ciphertext,
        /// Slot j holds m_(brv j + n).
        imag: Ciphertext,
    },
    /// Sparse slots: one ciphertext of 2n slots, m_(brv j) in slot j and m_(brv j + n) in
    /// slot j + n.
    Packed(Ciphertext),
}

impl SlotCoefficients {
    /// The ciphertexts (one or two), for slot-wise processing such as EvalMod.
    pub fn ciphertexts_mut(&mut self) -> Vec<&mut Ciphertext> {
        match self {
            SlotCoefficients::Full { real, imag } => vec![real, imag],
            SlotCoefficients::Packed(packed) => vec![packed],
        }
    }

    /// The ciphertexts (one or two).
    pub fn ciphertexts(&self) -> Vec<&Ciphertext> {
        match self {
            SlotCoefficients::Full { real, imag } => vec![real, imag],
            SlotCoefficients::Packed(packed) => vec![packed],
        }
    }
}

/// Where and how the two transforms run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DftSettings {
    /// Level of CoeffToSlot's input (it consumes one level per factor).
    pub c2s_level: Level,
    /// Constant multiplying CoeffToSlot's output coefficients.
    pub c2s_constant: f64,
    /// Level of SlotToCoeff's input.
    pub s2c_level: Level,
    /// Constant multiplying SlotToCoeff's output slots.
    pub s2c_constant: f64,
    /// Scale of SlotToCoeff's input.
    pub s2c_input_scale: f64,
    /// Exact scale of SlotToCoeff's output.
    pub s2c_output_scale: f64,
    /// Whether the diagonals are kept encoded or encoded at each use.
    pub diagonals: DiagonalResidency,
}

/// Both transforms of one plan, with their diagonals encoded.
#[derive(Clone, Debug)]
pub struct HomomorphicDft {
    plan: DftPlan,
    settings: DftSettings,
    coeff_to_slot: Vec<LinearTransform>,
    slot_to_coeff: Vec<LinearTransform>,
    /// X^(N/2) (i in every slot) in NTT form at CoeffToSlot's output level.
    i_after_c2s: RnsPoly,
    /// X^(N/2) at SlotToCoeff's input level.
    i_before_s2c: RnsPoly,
}

/// The monomial X^(N/2), which is i in every slot, in NTT form at `level`.
fn imaginary_unit(context: &CkksContext, level: Level) -> RnsPoly {
    let ring = context.ring();
    let n = ring.degree();
    let mut poly = ring.zero(level, false, Form::Coefficient);
    for limb in 0..level.limbs() {
        poly.limb_mut(limb)[n / 2] = 1;
    }
    ring.to_ntt(&mut poly);
    poly
}

impl HomomorphicDft {
    /// Encodes the diagonals of both transforms of `plan` for `settings`.
    ///
    /// Errors: [`BootstrapError::Shape`] when the plan is for another ring degree or the
    /// levels do not fit the chain, [`BootstrapError::Encode`] when a diagonal cannot be
    /// encoded.
    pub fn new(
        context: &CkksContext,
        plan: &DftPlan,
        settings: DftSettings,
    ) -> Result<Self, BootstrapError> {
        let params = context.params();
        if plan.log_n() != params.log_n().0 {
            return Err(BootstrapError::Shape(format!(
                "the DFT plan is for N = 2^{}, the parameters for N = 2^{}",
                plan.log_n(),
                params.log_n().0
            )));
        }
        let c2s_count = plan.factors(DftDirection::CoeffToSlot).len();
        let s2c_count = plan.factors(DftDirection::SlotToCoeff).len();
        if settings.c2s_level > context.max_level()
            || settings.c2s_level.0 < c2s_count
            || settings.s2c_level > context.max_level()
            || settings.s2c_level.0 < s2c_count
        {
            return Err(BootstrapError::Shape(format!(
                "CoeffToSlot at level {} ({c2s_count} levels) and SlotToCoeff at level {} \
                 ({s2c_count} levels) do not fit a chain of top level {}",
                settings.c2s_level.0,
                settings.s2c_level.0,
                context.max_level().0
            )));
        }
        let n = plan.slots();
        // The trace multiplies by N/2n; the real/imaginary split doubles.
        let trace = (params.degree() / (2 * n)) as f64;
        let c2s_constant = settings.c2s_constant / (2.0 * trace);
        let coeff_to_slot = factor_matrices(plan, DftDirection::CoeffToSlot, c2s_constant)
            .iter()
            .enumerate()
            .map(|(i, matrix)| {
                let level = Level(settings.c2s_level.0 - i);
                let prime = context.q_prime(level) as f64;
                LinearTransform::new(
                    context,
                    matrix,
                    plan.factors(DftDirection::CoeffToSlot)[i].baby_step,
                    level,
                    prime,
                    matrix.slots(),
                    settings.diagonals,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        // SlotToCoeff moves from its input scale to its output scale by the same factor at
        // every level (diagonal scale q_l · ratio), so no diagonal is encoded at a small scale.
        let ratio =
            (settings.s2c_output_scale / settings.s2c_input_scale).powf(1.0 / s2c_count as f64);
        let slot_to_coeff = factor_matrices(plan, DftDirection::SlotToCoeff, settings.s2c_constant)
            .iter()
            .enumerate()
            .map(|(i, matrix)| {
                let level = Level(settings.s2c_level.0 - i);
                let scale = context.q_prime(level) as f64 * ratio;
                if !(scale.is_finite() && scale >= MIN_DIAGONAL_SCALE) {
                    return Err(BootstrapError::Shape(format!(
                        "SlotToCoeff from scale 2^{:.1} to 2^{:.1} would encode diagonals at \
                         scale 2^{:.1} (at least 2^30 needed)",
                        settings.s2c_input_scale.log2(),
                        settings.s2c_output_scale.log2(),
                        scale.log2()
                    )));
                }
                LinearTransform::new(
                    context,
                    matrix,
                    plan.factors(DftDirection::SlotToCoeff)[i].baby_step,
                    level,
                    scale,
                    n,
                    settings.diagonals,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            plan: plan.clone(),
            settings,
            coeff_to_slot,
            slot_to_coeff,
            i_after_c2s: imaginary_unit(context, Level(settings.c2s_level.0 - c2s_count)),
            i_before_s2c: imaginary_unit(context, settings.s2c_level),
        })
    }

    /// The plan.
    pub fn plan(&self) -> &DftPlan {
        &self.plan
    }

    /// The settings.
    pub fn settings(&self) -> &DftSettings {
        &self.settings
    }

    /// The level CoeffToSlot's output is at.
    pub fn c2s_output_level(&self) -> Level {
        Level(self.settings.c2s_level.0 - self.coeff_to_slot.len())
    }

    /// The level SlotToCoeff's output is at.
    pub fn s2c_output_level(&self) -> Level {
        Level(self.settings.s2c_level.0 - self.slot_to_coeff.len())
    }

    /// The encoded transforms: CoeffToSlot's, then SlotToCoeff's.
    pub fn transforms(&self) -> impl Iterator<Item = &LinearTransform> {
        self.coeff_to_slot.iter().chain(&self.slot_to_coeff)
    }

    /// Bytes of every encoded diagonal.
    pub fn size_bytes(&self) -> usize {
        self.transforms().map(LinearTransform::size_bytes).sum()
    }

    /// Multiplies `ct` by i (the monomial X^(N/2)), exactly: no level, no scale change.
    fn times_i(evaluator: &Evaluator<'_>, unit: &RnsPoly, ct: &mut Ciphertext) {
        let ring = evaluator.context().ring();
        ring.mul_assign(&mut ct.c0, unit);
        ring.mul_assign(&mut ct.c1, unit);
    }

    /// CoeffToSlot (with the trace first for sparse slots); see the module documentation.
    ///
    /// Errors: [`BootstrapError::Level`] unless `input` is at the settings' `c2s_level`;
    /// [`BootstrapError::Shape`] unless it packs the plan's slot count;
    /// [`BootstrapError::Eval`] for a missing Galois key.
    pub fn coeff_to_slot(
        &self,
        evaluator: &Evaluator<'_>,
        input: &Ciphertext,
    ) -> Result<SlotCoefficients, BootstrapError> {
        if input.level() != self.settings.c2s_level {
            return Err(BootstrapError::Level {
                stage: "CoeffToSlot",
                expected: self.settings.c2s_level.0,
                found: input.level().0,
            });
        }
        if input.slots != self.plan.slots() {
            return Err(BootstrapError::Shape(format!(
                "CoeffToSlot was planned for {} slots, the ciphertext packs {}",
                self.plan.slots(),
                input.slots
            )));
        }
        let mut ct = input.clone();
        for steps in self.plan.trace_rotations() {
            let rotated = evaluator.rotate_new(&ct, steps)?;
            evaluator.add_assign(&mut ct, &rotated)?;
        }
        for transform in &self.coeff_to_slot {
            ct = transform.evaluate(evaluator, &ct)?;
        }
        // z = w·c (upper half zero in the sparse 2n-slot space); re = z + z̄, im = i(z̄ − z).
        let conjugate = evaluator.conjugate_new(&ct)?;
        let real = evaluator.add_new(&ct, &conjugate)?;
        let mut imag = evaluator.sub_new(&conjugate, &ct)?;
        Self::times_i(evaluator, &self.i_after_c2s, &mut imag);
        match self.plan.pack_rotation() {
            None => Ok(SlotCoefficients::Full { real, imag }),
            Some(steps) => {
                let mut packed = evaluator.rotate_new(&imag, steps)?;
                evaluator.add_assign(&mut packed, &real)?;
                Ok(SlotCoefficients::Packed(packed))
            }
        }
    }

    /// SlotToCoeff: recombines the halves and decodes, landing at the settings' output scale
    /// exactly, with n slots.
    ///
    /// Errors: [`BootstrapError::Level`] unless the input is at `s2c_level`,
    /// [`BootstrapError::Shape`] for the wrong shape (full vs packed) or another input scale
    /// than the settings',
    /// [`BootstrapError::Eval`] for a missing Galois key or mismatched halves.
    pub fn slot_to_coeff(
        &self,
        evaluator: &Evaluator<'_>,
        coefficients: &SlotCoefficients,
    ) -> Result<Ciphertext, BootstrapError> {
        for ct in coefficients.ciphertexts() {
            if ct.level() != self.settings.s2c_level {
                return Err(BootstrapError::Level {
                    stage: "SlotToCoeff",
                    expected: self.settings.s2c_level.0,
                    found: ct.level().0,
                });
            }
            let expected = self.settings.s2c_input_scale;
            if ((ct.scale - expected) / expected).abs() > SCALE_TOLERANCE {
                return Err(BootstrapError::Shape(format!(
                    "SlotToCoeff's matrices were encoded for input scale 2^{:.4}, the \
                     ciphertext has 2^{:.4}",
                    expected.log2(),
                    ct.scale.log2()
                )));
            }
        }
        let mut ct = match (coefficients, self.plan.is_sparse()) {
            (SlotCoefficients::Full { real, imag }, false) => {
                let mut combined = imag.clone();
                Self::times_i(evaluator, &self.i_before_s2c, &mut combined);
                evaluator.add_assign(&mut combined, real)?;
                combined
            }
            (SlotCoefficients::Packed(packed), true) => packed.clone(),
            _ => {
                return Err(BootstrapError::Shape(
                    "SlotToCoeff got full-slot halves for a sparse plan or the reverse".into(),
                ));
            }
        };
        for transform in &self.slot_to_coeff {
            ct = transform.evaluate(evaluator, &ct)?;
        }
        ct.scale = self.settings.s2c_output_scale;
        Ok(ct)
    }
}
