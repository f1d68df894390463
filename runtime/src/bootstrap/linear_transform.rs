//! Homomorphic matrix–vector products by diagonals, with baby-step giant-step and hoisted
//! baby-step rotations (docs/plans/bootstrapping.md §2.3).
//!
//! For a matrix over m slots with diagonals `d_k` and a baby step N1, every index splits as
//! k = g + b (b = k mod N1), and
//!
//! `M·z = Σ_g rot_g( Σ_b d'_(g+b) ⊙ rot_b(z) )` with `d'_k = rot_(−g)(d_k)` in the clear.
//!
//! The baby rotations `rot_b(z)` share one decomposition of the input
//! ([`crate::eval::Evaluator::rotate_hoisted`]); each giant step costs one full rotation of its
//! inner sum. The pre-rotated diagonals are encoded once, at the level of the input and at a
//! chosen scale, so the output scale (input scale × diagonal scale / q_l after the one rescale)
//! is exactly what the next stage expects.
//!
//! Inputs with fewer slots than the matrix are accepted when their slot count divides m: an
//! n-slot ciphertext is m-periodic, which is all the diagonal method needs.

use super::bootstrapper::BootstrapError;
use super::dft::DiagonalMatrix;
use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::encoding::{C64, Encoder, Plaintext};
use crate::eval::Evaluator;
use crate::ring::Form;
use fhec_params::Level;
use fhec_params::dft_plan::signed_rotation;
use std::collections::{BTreeMap, BTreeSet};

/// One giant step: its rotation and the (baby index, pre-rotated diagonal) pairs it sums.
#[derive(Clone, Debug)]
struct GiantStep {
    rotation: i64,
    terms: Vec<(usize, Plaintext)>,
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
    giants: Vec<GiantStep>,
}

impl LinearTransform {
    /// Encodes `matrix` for inputs at `level`, with baby step `baby_step` (a power of two) and
    /// diagonals at `diagonal_scale`; outputs are labelled with `output_slots` slots (the
    /// matrix's slot count, or a divisor of it when the output is known to be periodic).
    ///
    /// Errors: [`BootstrapError::Shape`] for a baby step or output slot count that does not
    /// fit the matrix, [`BootstrapError::Encode`] when a diagonal cannot be encoded.
    pub fn new(
        context: &CkksContext,
        matrix: &DiagonalMatrix,
        baby_step: usize,
        level: Level,
        diagonal_scale: f64,
        output_slots: usize,
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
        let encoder = Encoder::new(context);
        let mut baby_index: BTreeMap<usize, usize> = BTreeMap::from([(0, 0)]);
        let mut giants: BTreeMap<usize, Vec<(usize, Plaintext)>> = BTreeMap::new();
        for (&k, diagonal) in matrix.diagonals() {
            let b = k % baby_step;
            let g = k - b;
            let next = baby_index.len();
            let index = *baby_index.entry(b).or_insert(next);
            // d'[j] = d[(j − g) mod m].
            let rotated: Vec<C64> = (0..m).map(|j| diagonal[(j + m - g) % m]).collect();
            let plaintext = encoder.encode(&rotated, m, level, diagonal_scale)?;
            giants.entry(g).or_default().push((index, plaintext));
        }
        let mut babies = vec![0i64; baby_index.len()];
        for (&b, &index) in &baby_index {
            babies[index] = signed_rotation(b, m);
        }
        let giants = giants
            .into_iter()
            .map(|(g, terms)| GiantStep {
                rotation: signed_rotation(g, m),
                terms,
            })
            .collect();
        Ok(Self {
            slots: m,
            output_slots,
            level,
            diagonal_scale,
            babies,
            giants,
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

    /// Every rotation an evaluation performs (signed, 0 excluded).
    pub fn rotations(&self) -> BTreeSet<i64> {
        self.babies
            .iter()
            .copied()
            .chain(self.giants.iter().map(|g| g.rotation))
            .filter(|&r| r != 0)
            .collect()
    }

    /// Number of encoded diagonals.
    pub fn diagonal_count(&self) -> usize {
        self.giants.iter().map(|g| g.terms.len()).sum()
    }

    /// Bytes of the encoded diagonals.
    pub fn size_bytes(&self) -> usize {
        self.giants
            .iter()
            .flat_map(|g| &g.terms)
            .map(|(_, p)| p.poly.data().len() * 8)
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
        let context = evaluator.context();
        let ring = context.ring();
        let rotated = evaluator.rotate_hoisted(input, &self.babies)?;
        let mut total: Option<Ciphertext> = None;
        for giant in &self.giants {
            let mut inner = Ciphertext {
                c0: ring.zero(self.level, false, Form::Ntt),
                c1: ring.zero(self.level, false, Form::Ntt),
                scale: input.scale * self.diagonal_scale,
                slots: self.slots,
            };
            for (baby, plaintext) in &giant.terms {
                ring.mul_acc(&mut inner.c0, &rotated[*baby].c0, &plaintext.poly);
                ring.mul_acc(&mut inner.c1, &rotated[*baby].c1, &plaintext.poly);
            }
            if giant.rotation != 0 {
                evaluator.rotate_assign(&mut inner, giant.rotation)?;
            }
            match total.as_mut() {
                None => total = Some(inner),
                Some(sum) => evaluator.add_assign(sum, &inner)?,
            }
        }
        let mut output = total.ok_or_else(|| BootstrapError::Shape("empty matrix".into()))?;
        evaluator.rescale_assign(&mut output)?;
        output.slots = self.output_slots;
        Ok(output)
    }
}
