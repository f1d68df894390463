//! CKKS bootstrapping (DESIGN §4, docs/plans/bootstrapping.md): refreshes a ciphertext at the
//! bottom of the chain to a high level, through ScaleDown → (dense → sparse) → ModRaise →
//! (sparse → dense) → CoeffToSlot → EvalMod → SlotToCoeff, for full (N/2) and sparse
//! (2^k < N/2) slot counts, with sparse-secret encapsulation so the long-term secret stays
//! dense.
//!
//! - [`mod_raise`]: ScaleDown (to level 0 at the input scale) and ModRaise (q0 → Q_L).
//! - [`encapsulation`]: the ephemeral sparse secret and the dense→sparse / sparse→dense
//!   switches around ModRaise (BTH22).
//! - [`dft`]: the factored special FFT as diagonal matrices, in the clear.
//! - [`linear_transform`]: homomorphic matrix–vector products by diagonals (baby-step
//!   giant-step, double hoisting).
//! - [`homomorphic_dft`]: CoeffToSlot and SlotToCoeff (trace, real/imaginary split, repack).
//! - [`evalmod`]: the scaled-cosine reduction modulo 1 with double angles.
//! - [`keys`]: the level-capped evaluation keys a bootstrap needs.
//! - [`bootstrapper`]: the whole pipeline, [`Bootstrapper`], and [`BootstrapError`].
//!
//! The parameters (chain, levels, scales) come from `fhec_params::bootstrap`, the DFT
//! structure (factors, rotations) from `fhec_params::dft_plan`.

pub mod bootstrapper;
pub mod dft;
pub mod encapsulation;
pub mod evalmod;
pub mod homomorphic_dft;
pub mod keys;
pub mod linear_transform;
pub mod mod_raise;

pub use bootstrapper::{BootstrapError, Bootstrapper, StageTimes};
pub use homomorphic_dft::{DftSettings, HomomorphicDft, SlotCoefficients};
pub use keys::BootstrapKeys;
pub use linear_transform::{DiagonalResidency, LinearTransform};
