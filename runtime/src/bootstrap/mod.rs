//! CKKS bootstrapping (DESIGN §4, docs/plans/bootstrapping.md): refresh a ciphertext's levels
//! by ModRaise, CoeffToSlot, EvalMod and SlotToCoeff, with sparse-secret encapsulation so the
//! long-term secret stays dense.
//!
//! - [`evalmod`]: the scaled-cosine reduction modulo 1 with double angles.
//!
//! The parameters (chain, levels, scales) come from `fhec_params::bootstrap`.

pub mod evalmod;
