//! Linear layers as one mechanism: every linear tensor operation (convolution of any stride,
//! padding and groups, average pooling, global average pooling, fully connected, layout change)
//! is a sparse matrix from input slots to output slots, lowered by its non-zero generalised
//! diagonals with baby-step giant-step and hoisted rotations.
//!
//! - [`op`]: the tensor-level operations and their entries ([`LinearOp`], [`MapKind`]);
//! - [`map`]: an operation between two [`Layout`](crate::layout::Layout)s and its diagonals
//!   per ciphertext block ([`LinearMap`], [`DiagonalSet`]);
//! - [`bsgs`]: the baby-step giant-step plan minimising key switches ([`BsgsPlan`]);
//! - [`emit`]: emission to the HE IR through [`fhec_ir::Builder`];
//! - [`recipes`]: the plaintext recipes the emission writes and their materialisation from
//!   weights ([`WeightPlaintexts`], an [`fhec_ir::PlaintextSource`]).
//!
//! `docs/lowering.md` states the conventions (rotation direction, recipe shapes) the runtime
//! relies on.

pub mod bsgs;
pub mod emit;
pub mod map;
pub mod op;
pub mod recipes;

pub use bsgs::{BsgsCost, BsgsPlan, GiantStep, Term, plan, plan_with};
pub use emit::{LinearLowering, emit, emit_scaled, emit_with};
pub use map::{BlockValues, DiagonalSet, LinearMap, fold};
pub use op::{Coef, LinearOp, MapKind};
pub use recipes::{
    Scaling, WeightPlaintexts, Weights, bias_recipe, diagonal_recipe, mask_recipe,
    scaled_bias_recipe, scaled_diagonal_recipe,
};

/// Why a linear map could not be built, planned, emitted or materialised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinearError {
    /// The operation's geometry or weight names are inconsistent.
    #[error("{op}: {message}")]
    Op {
        /// The operation kind.
        op: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The input and output layouts do not fit the operation.
    #[error("layouts: {0}")]
    Layouts(String),
    /// A plan parameter is out of range.
    #[error("baby-step giant-step plan: {0}")]
    Plan(String),
    /// The ciphertexts handed to the emission do not match the input layout.
    #[error("linear map inputs: {0}")]
    Inputs(String),
    /// The IR builder refused an instruction.
    #[error("emitting the linear map: {0}")]
    Build(#[from] fhec_ir::BuildError),
    /// A weight tensor is missing or has the wrong shape.
    #[error("weight {name:?}: {message}")]
    Weight {
        /// The tensor name.
        name: String,
        /// What is wrong.
        message: String,
    },
}
