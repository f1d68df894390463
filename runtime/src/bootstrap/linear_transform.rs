//! Homomorphic matrix–vector products by diagonals, with baby-step giant-step and hoisted
//! baby-step rotations (docs/plans/bootstrapping.md §2.3).
//!
//! For a matrix over m slots with diagonals `d_k` and a baby step N1, every index splits as
//! k = g + b (b = k mod N1), and
//!
//! `M·z = Σ_g rot_g( Σ_b d'_(g+b) ⊙ rot_b(z) )` with `d'_k = rot_(−g)(d_k)` in the clear.
//!
//! The giants are summed by Horner's rule along chains of consecutive multiples of N1
//! ([`fhec_params::dft_plan::giant_chains`] explains why: about two giant keys per matrix
//! instead of one per giant, at the same number of key switches).
//!
//! Double hoisting (BMTH21): the baby rotations `rot_b(z)` share one decomposition of the
//! input and stay over Q_l·P without their ModDowns
//! ([`crate::eval::Evaluator::rotate_hoisted_extended`]); the diagonals are encoded over Q_l·P
//! too, so each inner sum is accumulated there, each giant rotation costs one ModDown (of c1)
//! and one key switch whose result also stays over Q_l·P, and a single division by P·q_l ends
//! the product (ModDown fused with the rescale). The pre-rotated diagonals are encoded once, at
//! the level of the input and at a chosen scale, so the output scale (input scale × diagonal
//! scale / q_l) is exactly what the next stage expects.
//!
//! Inputs with fewer slots than the matrix are accepted when their slot count divides m: an
//! n-slot ciphertext is m-periodic, which is all the diagonal method needs.
//!
//! Where the diagonals live is a [`DiagonalResidency`]: encoded once and kept (fast; at
//! N = 2^16 a bootstrap's diagonals take 2.7 GB), or kept as slot values and encoded at each
//! use (about 1/250 of the memory, one FFT and l + 1 + k NTTs more per diagonal and use).

use super::bootstrapper::BootstrapError;
use super::dft::DiagonalMatrix;
use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::encoding::C64;
use crate::encoding::embed::scaled_coefficients;
use crate::eval::{Evaluator, ExtendedCiphertext};
use crate::ring::{Form, RnsPoly};
use fhec_params::Level;
use fhec_params::dft_plan::{GiantChain, giant_chains, signed_rotation};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// Whether a transform keeps its diagonals encoded or encodes them at each use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DiagonalResidency {
    /// Encoded once, at construction, and kept: no encoding during evaluation.
    #[default]
    Encoded,
    /// Kept as complex slot values (m × 16 bytes) and encoded when the transform runs.
    OnDemand,
}

/// One pre-rotated diagonal, in the form its residency keeps.
#[derive(Clone, Debug)]
enum Diagonal {
    /// Over Q_l·P, NTT form, at the transform's diagonal scale.
    Encoded(RnsPoly),
    /// The slot values, encoded when used.
    Values(Vec<C64>),
}

impl Diagonal {
    fn size_bytes(&self) -> usize {
        match self {
            Diagonal::Encoded(poly) => poly.data().len() * 8,
            Diagonal::Values(values) => values.len() * std::mem::size_of::<C64>(),
        }
    }
}

/// The inner sum of one giant step: (baby index, pre-rotated diagonal) pairs.
type InnerSum = Vec<(usize, Diagonal)>;

/// One Horner chain: `rot_anchor(u_0 + rot_step(u_1 + rot_step(…)))` over its links' inner
/// sums u_i, in the plan's order.
#[derive(Clone, Debug)]
struct Chain {
    plan: GiantChain,
    links: Vec<InnerSum>,
}

/// A matrix ready to apply to ciphertexts at one level.
#[derive(Clone, Debug)]
pub struct LinearTransform {
    slots: usize,
    output_slots: usize,
    level: Level,
    diagonal_scale: f64,
    /// Baby rotations, signed; index 0 is the identity.
    babies: Vec<i64>,
    /// The inner sum of giant 0 (no rotation).
    unrotated: InnerSum,
    /// The chains summing the non-zero giants.
    chains: Vec<Chain>,
}

impl LinearTransform {
    /// Prepares `matrix` for inputs at `level`, with baby step `baby_step` (a power of two) and
    /// diagonals at `diagonal_scale`, kept as `residency` says; outputs are labelled with
    /// `output_slots` slots (the matrix's slot count, or a divisor of it when the output is
    /// known to be periodic).
    ///
    /// Errors: [`BootstrapError::Shape`] for a baby step or output slot count that does not
    /// fit the matrix or a level outside 1..=L, [`BootstrapError::Encode`] when a diagonal cannot be encoded.
    pub fn new(
        context: &CkksContext,
        matrix: &DiagonalMatrix,
        baby_step: usize,
        level: Level,
        diagonal_scale: f64,
        output_slots: usize,
        residency: DiagonalResidency,
    ) -> Result<Self, BootstrapError> {
        let m = matrix.slots();
        if !baby_step.is_power_of_two() || baby_step > m {
            return Err(BootstrapError::Shape(format!(
                "baby step {baby_step} is not a power of two of at most {m} slots"
            )));
        }
        if !output_slots.is_power_of_two() || !m.is_multiple_of(output_slots) {
            return Err(BootstrapError::Shape(format!(
                "output slot count {output_slots} does not divide the matrix's {m} slots"
            )));
        }
        if level.0 == 0 || level > context.max_level() {
            return Err(BootstrapError::Shape(format!(
                "a linear transform needs a level in 1..={} to rescale, not {}",
                context.max_level().0,
                level.0
            )));
        }
        // Pre-rotate (and encode, if kept encoded) every diagonal in parallel (each encoding is
        // one FFT and a few NTTs).
        let diagonals: Vec<(&usize, &Vec<C64>)> = matrix.diagonals().iter().collect();
        let encoded = diagonals
            .par_iter()
            .map(|&(&k, diagonal)| {
                let g = k - k % baby_step;
                // d'[j] = d[(j − g) mod m].
                let rotated: Vec<C64> = (0..m).map(|j| diagonal[(j + m - g) % m]).collect();
                Ok(match residency {
                    DiagonalResidency::Encoded => Diagonal::Encoded(encode_extended(
                        context,
                        &rotated,
                        level,
                        diagonal_scale,
                    )?),
                    DiagonalResidency::OnDemand => Diagonal::Values(rotated),
                })
            })
            .collect::<Result<Vec<_>, BootstrapError>>()?;
        let mut baby_index: BTreeMap<usize, usize> = BTreeMap::from([(0, 0)]);
        let mut giants: BTreeMap<usize, InnerSum> = BTreeMap::new();
        for ((&k, _), plaintext) in diagonals.into_iter().zip(encoded) {
            let b = k % baby_step;
            let next = baby_index.len();
            let index = *baby_index.entry(b).or_insert(next);
            giants.entry(k - b).or_default().push((index, plaintext));
        }
        let mut babies = vec![0i64; baby_index.len()];
        for (&b, &index) in &baby_index {
            babies[index] = signed_rotation(b, m);
        }
        let unrotated = giants.remove(&0).unwrap_or_default();
        let plans = giant_chains(giants.keys().copied(), baby_step, m);
        let chains = plans
            .into_iter()
            .map(|plan| Chain {
                links: plan
                    .giants
                    .iter()
                    .map(|g| giants.remove(g).expect("every giant is in one chain"))
                    .collect(),
                plan,
            })
            .collect();
        Ok(Self {
            slots: m,
            output_slots,
            level,
            diagonal_scale,
            babies,
            unrotated,
            chains,
        })
    }

    /// The level inputs must be at (the output is one below).
    pub fn level(&self) -> Level {
        self.level
    }

    /// The scale of the encoded diagonals.
    pub fn diagonal_scale(&self) -> f64 {
        self.diagonal_scale
    }

    /// The slot count m of the matrix.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Every rotation an evaluation performs (signed, 0 excluded): the babies and the chain
    /// steps, hence the keys it needs.
    pub fn rotations(&self) -> BTreeSet<i64> {
        self.babies
            .iter()
            .copied()
            .chain(self.chains.iter().flat_map(|chain| chain.plan.rotations()))
            .filter(|&r| r != 0)
            .collect()
    }

    /// Every inner sum: giant 0's, then each chain's links.
    fn inner_sums(&self) -> impl Iterator<Item = &InnerSum> {
        std::iter::once(&self.unrotated).chain(self.chains.iter().flat_map(|chain| &chain.links))
    }

    /// Number of encoded diagonals.
    pub fn diagonal_count(&self) -> usize {
        self.inner_sums().map(Vec::len).sum()
    }

    /// Bytes the diagonals take as kept (encoded, or slot values when encoded on demand).
    pub fn size_bytes(&self) -> usize {
        self.inner_sums()
            .flatten()
            .map(|(_, diagonal)| diagonal.size_bytes())
            .sum()
    }

    /// `M · input`, rescaled once: level l → l − 1, scale × diagonal scale / q_l.
    ///
    /// Errors: [`BootstrapError::Level`] unless the input is at this transform's level,
    /// [`BootstrapError::Shape`] when its slot count does not divide m, and the evaluator's
    /// errors (a missing or too low Galois key) as [`BootstrapError::Eval`].
    pub fn evaluate(
        &self,
        evaluator: &Evaluator<'_>,
        input: &Ciphertext,
    ) -> Result<Ciphertext, BootstrapError> {
        if input.level() != self.level {
            return Err(BootstrapError::Level {
                stage: "linear transform",
                expected: self.level.0,
                found: input.level().0,
            });
        }
        if !input.slots.is_power_of_two() || !self.slots.is_multiple_of(input.slots) {
            return Err(BootstrapError::Shape(format!(
                "a ciphertext of {} slots is not periodic in the matrix's {} slots",
                input.slots, self.slots
            )));
        }
        let ring = evaluator.context().ring();
        let rotated = evaluator.rotate_hoisted_extended(input, &self.babies)?;
        // acc += Σ_b d ⊙ rot_b(input), all over Q_l·P (encoding the diagonals first, in
        // parallel, when they are kept as values).
        let context = evaluator.context();
        let accumulate =
            |acc: &mut ExtendedCiphertext, terms: &InnerSum| -> Result<(), BootstrapError> {
                let plains: Vec<Cow<'_, RnsPoly>> = terms
                    .par_iter()
                    .map(|(_, diagonal)| match diagonal {
                        Diagonal::Encoded(poly) => Ok(Cow::Borrowed(poly)),
                        Diagonal::Values(values) => {
                            encode_extended(context, values, self.level, self.diagonal_scale)
                                .map(Cow::Owned)
                        }
                    })
                    .collect::<Result<_, BootstrapError>>()?;
                for ((baby, _), plain) in terms.iter().zip(&plains) {
                    ring.mul_acc(&mut acc.c0, &rotated[*baby].c0, plain);
                    ring.mul_acc(&mut acc.c1, &rotated[*baby].c1, plain);
                }
                Ok(())
            };
        let mut sum = evaluator.extended_zero(input);
        accumulate(&mut sum, &self.unrotated)?;
        // Two buffers for every chain: the link being summed and the carry from the far end.
        let mut acc = evaluator.extended_zero(input);
        let mut carry = evaluator.extended_zero(input);
        for chain in &self.chains {
            // Horner from the far end: carry ← u_i + rot_step(carry), then rot_anchor(carry).
            for (position, terms) in chain.links.iter().rev().enumerate() {
                acc.c0.data_mut().fill(0);
                acc.c1.data_mut().fill(0);
                accumulate(&mut acc, terms)?;
                if position > 0 {
                    evaluator.rotate_extended_accumulate(
                        &carry,
                        input,
                        chain.plan.step,
                        &mut acc,
                    )?;
                }
                std::mem::swap(&mut acc, &mut carry);
            }
            if !chain.links.is_empty() {
                evaluator.rotate_extended_accumulate(&carry, input, chain.plan.anchor, &mut sum)?;
            }
        }
        let output = evaluator.rescale_extended(
            &sum,
            input.scale * self.diagonal_scale,
            self.output_slots,
        )?;
        Ok(output)
    }
}

/// Encodes `values` (m slots) at `scale` over Q_l·P in NTT form: the diagonal form the
/// double-hoisted product multiplies rotations with before their ModDown.
fn encode_extended(
    context: &CkksContext,
    values: &[C64],
    level: Level,
    scale: f64,
) -> Result<RnsPoly, BootstrapError> {
    let ring = context.ring();
    let mut coefficients = vec![0.0; ring.degree()];
    scaled_coefficients(
        context.fft(),
        values,
        values.len(),
        scale,
        &mut coefficients,
    )?;
    let mut poly = ring.zero(level, true, Form::Coefficient);
    let n = ring.degree();
    let q_limbs = poly.q_limbs();
    for limb in 0..poly.limb_count() {
        let modulus = ring.limb_prime(q_limbs, limb).0;
        let residues = &mut poly.data_mut()[limb * n..(limb + 1) * n];
        for (residue, &c) in residues.iter_mut().zip(&coefficients) {
            let magnitude = modulus.reduce_u128(c.abs() as u128);
            *residue = if c < 0.0 {
                modulus.neg(magnitude)
            } else {
                magnitude
            };
        }
    }
    ring.to_ntt(&mut poly);
    Ok(poly)
}
