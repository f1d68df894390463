//! CKKS bootstrapping (DESIGN §4, docs/plans/bootstrapping.md): refreshes a ciphertext at the
//! bottom of the chain to a high level, through ScaleDown → ModRaise → CoeffToSlot → EvalMod →
//! SlotToCoeff, for full (N/2) and sparse (2^k < N/2) slot counts.

pub mod bootstrapper;
pub mod dft;
pub mod homomorphic_dft;
pub mod keys;
pub mod linear_transform;

pub use bootstrapper::BootstrapError;
pub use homomorphic_dft::{DftSettings, HomomorphicDft, SlotCoefficients};
pub use linear_transform::LinearTransform;
