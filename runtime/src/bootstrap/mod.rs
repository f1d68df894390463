//! CKKS bootstrapping (DESIGN §4, docs/plans/bootstrapping.md): refresh a ciphertext's levels
//! by ModRaise, CoeffToSlot, EvalMod and SlotToCoeff, with sparse-secret encapsulation so the
//! long-term secret stays dense.
//!
//! - [`mod_raise`]: ScaleDown (to level 0 at the input scale) and ModRaise (q0 → Q_L).
//! - [`encapsulation`]: the ephemeral sparse secret and the dense→sparse / sparse→dense
//!   switches around ModRaise (BTH22).
//! - [`evalmod`]: the scaled-cosine reduction modulo 1 with double angles.
//!
//! The parameters (chain, levels, scales) come from `fhec_params::bootstrap`.

pub mod encapsulation;
pub mod evalmod;
pub mod mod_raise;
