//! [`Bootstrapper`]: the whole refresh of a ciphertext, and [`BootstrapError`], the error of
//! every bootstrapping stage.

use crate::encoding::EncodeError;
use crate::eval::EvalError;
use crate::keys::KeyError;
use fhec_params::DftPlanError;
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
}
