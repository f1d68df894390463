//! [`Bootstrapper`]: the whole refresh of a ciphertext, and [`BootstrapError`], the error of
//! every bootstrapping stage.

use super::encapsulation::{EncapsulationError, raise_to_dense, switch_to_sparse};
use super::evalmod::{EvalMod, EvalModError};
use super::homomorphic_dft::{DftSettings, HomomorphicDft};
use super::keys::{BootstrapKeys, dft_plan};
use super::linear_transform::DiagonalResidency;
use super::mod_raise::{RaiseError, mod_raise, scale_down};
use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::encoding::EncodeError;
use crate::eval::{EvalError, Evaluator};
use crate::keys::KeyError;
use fhec_params::{BootstrapConfig, DftPlanError, Level};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why a bootstrapping stage could not be built or run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BootstrapError {
    /// The DFT plan refused the shape (slot count, level budgets).
    #[error("bootstrapping plan: {0}")]
    Plan(#[from] DftPlanError),
    /// A matrix diagonal or constant could not be encoded.
    #[error("encoding a bootstrapping plaintext: {0}")]
    Encode(#[from] EncodeError),
    /// A homomorphic operation was refused (typically a missing Galois key).
    #[error("bootstrapping evaluation: {0}")]
    Eval(#[from] EvalError),
    /// A key could not be generated.
    #[error("bootstrapping key: {0}")]
    Key(#[from] KeyError),
    /// A ciphertext reached a stage at the wrong level.
    #[error("{stage} expects a ciphertext at level {expected}, got level {found}")]
    Level {
        /// The stage, e.g. "CoeffToSlot".
        stage: &'static str,
        /// The level it needs.
        expected: usize,
        /// The ciphertext's level.
        found: usize,
    },
    /// A slot count, matrix or level layout that does not fit (the message says which).
    #[error("bootstrapping shape: {0}")]
    Shape(String),
    /// A Galois key the bootstrap needs is absent or serves too few levels.
    #[error(
        "bootstrapping needs the Galois key of {what} (element {galois_element}) up to level \
         {level}; it is missing or capped lower"
    )]
    MissingKey {
        /// "rotation by k" or "conjugation".
        what: String,
        /// The Galois element (5^k mod 2N for a rotation by k, 2N − 1 for conjugation).
        galois_element: u64,
        /// The highest level it is used at.
        level: usize,
    },
    /// The configuration encapsulates but the keys have no encapsulation keys.
    #[error("the configuration uses sparse-secret encapsulation; its keys are missing")]
    MissingEncapsulationKeys,
    /// ScaleDown or ModRaise refused the ciphertext.
    #[error(transparent)]
    Raise(#[from] RaiseError),
    /// A dense↔sparse switch failed.
    #[error(transparent)]
    Encapsulation(#[from] EncapsulationError),
    /// EvalMod could not be set up or evaluated.
    #[error(transparent)]
    EvalMod(#[from] EvalModError),
}

/// Refreshes ciphertexts of one [`BootstrapConfig`]: a level-0 ciphertext of
/// `config.slots()` slots at `config.input_scale()` comes back at `config.output_level()`
/// with scale exactly `config.output_scale()`.
///
/// Stages (plan §0): ScaleDown → (dense → sparse) → ModRaise → (sparse → dense) →
/// CoeffToSlot (trace first for sparse slots) → EvalMod (once per half for full slots) →
/// SlotToCoeff.
///
/// Scales: the raised ciphertext decrypts to t = Δ_in·m + q0·I. It is relabelled with the
/// EvalMod scale S (free), and CoeffToSlot multiplies by S/(q0·K), so EvalMod's slots hold
/// u = t/(q0·K) = x/K carried at scale S (≈ its 60-bit primes). EvalMod returns
/// (q0/Δ_in)·(x mod 1) = m (the sine, then the arcsine stage when the configuration has one),
/// also at scale S, and SlotToCoeff brings it to the output scale.
pub struct Bootstrapper<'a> {
    context: &'a CkksContext,
    config: BootstrapConfig,
    keys: &'a BootstrapKeys,
    dft: HomomorphicDft,
    evalmod: EvalMod,
    /// The scale the raised ciphertext is relabelled with: EvalMod's input scale.
    evalmod_scale: f64,
}

impl<'a> Bootstrapper<'a> {
    /// Prepares the bootstrap of `config` on `context` (built from `config.params()`) with
    /// `keys`: plans and encodes the DFT matrices, fits EvalMod, and checks the keys.
    ///
    /// Errors: [`BootstrapError::Shape`] when the context is not `config`'s chain,
    /// [`BootstrapError::MissingKey`] naming the first Galois key absent or capped too low,
    /// [`BootstrapError::Plan`], [`BootstrapError::Encode`], [`BootstrapError::EvalMod`].
    pub fn new(
        context: &'a CkksContext,
        config: &BootstrapConfig,
        keys: &'a BootstrapKeys,
    ) -> Result<Self, BootstrapError> {
        Self::with_residency(context, config, keys, DiagonalResidency::Encoded)
    }

    /// As [`Self::new`], with the DFT diagonals kept as `residency` says: encoded once (the
    /// default; 2.7 GB at N = 2^16 and 2^14 slots) or encoded at each bootstrap (a few MB, about
    /// 1.5 s more per bootstrap on 2 threads at N = 2^16).
    ///
    /// Errors: as [`Self::new`].
    pub fn with_residency(
        context: &'a CkksContext,
        config: &BootstrapConfig,
        keys: &'a BootstrapKeys,
        residency: DiagonalResidency,
    ) -> Result<Self, BootstrapError> {
        if context.params().hash() != config.params().hash() {
            return Err(BootstrapError::Shape(
                "the context was not built from the bootstrapping configuration's parameters"
                    .into(),
            ));
        }
        let plan = dft_plan(config)?;
        let levels = config.levels();
        let ring = context.ring();
        let needed = plan
            .bootstrap_rotation_levels(config)
            .into_iter()
            .map(|(r, level)| {
                (
                    format!("rotation by {r}"),
                    ring.galois_element_for_rotation(r),
                    level,
                )
            })
            .chain(std::iter::once((
                "conjugation".to_string(),
                ring.galois_element_for_conjugation(),
                Level(plan.conjugation_level(levels.top.0)),
            )));
        for (what, galois_element, level) in needed {
            let cap = keys.galois.get(galois_element).map(|key| key.level());
            if cap.is_none_or(|cap| cap < level) {
                return Err(BootstrapError::MissingKey {
                    what,
                    galois_element,
                    level: level.0,
                });
            }
        }
        if config.ephemeral_hamming_weight().is_some() && keys.encapsulation.is_none() {
            return Err(BootstrapError::MissingEncapsulationKeys);
        }
        if keys.relinearization.0.level() < levels.c2s_output {
            return Err(BootstrapError::Shape(format!(
                "the relinearisation key serves levels up to {}, EvalMod starts at level {}",
                keys.relinearization.0.level().0,
                levels.c2s_output.0
            )));
        }
        let q0 = context.q_prime(Level(0)) as f64;
        let evalmod_literal = config.evalmod();
        let evalmod = EvalMod::new(evalmod_literal, q0 / config.input_scale())?;
        let evalmod_scale = 2f64.powi(evalmod_literal.log_scale as i32);
        let settings = DftSettings {
            c2s_level: levels.top,
            c2s_constant: evalmod_scale / (q0 * f64::from(evalmod_literal.k)),
            s2c_level: levels.evalmod_output,
            s2c_constant: 1.0,
            s2c_input_scale: evalmod_scale,
            s2c_output_scale: config.output_scale(),
            diagonals: residency,
        };
        let dft = HomomorphicDft::new(context, &plan, settings)?;
        Ok(Self {
            context,
            config: config.clone(),
            keys,
            dft,
            evalmod,
            evalmod_scale,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BootstrapConfig {
        &self.config
    }

    /// The homomorphic DFTs (plan, encoded matrices).
    pub fn dft(&self) -> &HomomorphicDft {
        &self.dft
    }

    /// ScaleDown to level 0 at the input scale, then ModRaise to the top level (through the
    /// sparse secret when the configuration encapsulates: dense → sparse at q0, then the raise
    /// fused with the one-digit switch back to the dense key).
    fn raise(
        &self,
        evaluator: &Evaluator<'_>,
        input: &Ciphertext,
    ) -> Result<Ciphertext, BootstrapError> {
        let bottom = scale_down(evaluator, input, self.config.input_scale())?;
        let encapsulation = self
            .config
            .ephemeral_hamming_weight()
            .and(self.keys.encapsulation.as_ref());
        match encapsulation {
            Some(keys) => {
                let sparse = switch_to_sparse(self.context, &keys.dense_to_sparse, &bottom)?;
                Ok(raise_to_dense(
                    self.context,
                    &keys.sparse_to_dense,
                    &sparse,
                )?)
            }
            None => Ok(mod_raise(self.context, &bottom)?),
        }
    }

    fn evaluator(&self) -> Evaluator<'a> {
        Evaluator::new(self.context)
            .with_galois_keys(&self.keys.galois)
            .with_relinearization_key(&self.keys.relinearization)
    }

    /// Refreshes `input` (see [`Bootstrapper`]): level `output_level()`, scale exactly
    /// `output_scale()`, same slots, message ≈ the input's.
    ///
    /// Errors: [`BootstrapError::Shape`] for another slot count than the configuration's,
    /// and any stage's error.
    pub fn bootstrap(&self, input: &Ciphertext) -> Result<Ciphertext, BootstrapError> {
        self.bootstrap_timed(input).map(|(output, _)| output)
    }

    /// [`Self::bootstrap`], also returning the wall time of each stage (for benchmarks).
    ///
    /// Errors: as [`Self::bootstrap`].
    pub fn bootstrap_timed(
        &self,
        input: &Ciphertext,
    ) -> Result<(Ciphertext, StageTimes), BootstrapError> {
        if input.slots != self.config.slots() {
            return Err(BootstrapError::Shape(format!(
                "the bootstrapper refreshes {} slots, the ciphertext packs {}",
                self.config.slots(),
                input.slots
            )));
        }
        let evaluator = self.evaluator();
        let mut clock = Instant::now();
        let mut lap = || {
            let now = Instant::now();
            let elapsed = now - clock;
            clock = now;
            elapsed
        };
        let mut raised = self.raise(&evaluator, input)?;
        raised.scale = self.evalmod_scale;
        let raise = lap();
        let mut coefficients = self.dft.coeff_to_slot(&evaluator, &raised)?;
        let coeff_to_slot = lap();
        // EvalMod hands over at its own (high) scale: its noise is amplified by √N on the way
        // to the slots, so it should be small relative to the scale; SlotToCoeff then brings
        // the scale down to the output scale.
        let target = self.evalmod_scale;
        for ct in coefficients.ciphertexts_mut() {
            *ct = self.evalmod.evaluate(&evaluator, ct, target)?;
        }
        let evalmod = lap();
        let output = self.dft.slot_to_coeff(&evaluator, &coefficients)?;
        let slot_to_coeff = lap();
        Ok((
            output,
            StageTimes {
                raise,
                coeff_to_slot,
                evalmod,
                slot_to_coeff,
            },
        ))
    }
}

/// Wall time of each stage of one bootstrap.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageTimes {
    /// ScaleDown, the dense↔sparse switches and ModRaise.
    pub raise: Duration,
    /// The trace (sparse slots), CoeffToSlot and the real/imaginary split.
    pub coeff_to_slot: Duration,
    /// EvalMod (twice for full slots).
    pub evalmod: Duration,
    /// SlotToCoeff.
    pub slot_to_coeff: Duration,
}
