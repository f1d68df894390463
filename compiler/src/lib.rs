//! The fhec compiler: from a model description to an HE IR program (DESIGN §1).
//!
//! Today it holds the frontend end of the pipeline: the model description format
//! ([`model`]), weight files ([`weights`]), ONNX import ([`onnx`]), validation and shape
//! inference into a [`graph::TensorGraph`] ([`frontend`]), the dataset loader and data
//! directory rule ([`data`]) and the tensor-level reference executor ([`reference`]). Then
//! the foundations of the lowering: slot layouts ([`layout`]), linear maps as generalised
//! diagonals emitted with baby-step giant-step ([`linear`]), and polynomial activations
//! ([`poly`]), chosen per activation from the ranges [`calibrate`] measures on training images,
//! and the whole-graph lowering ([`lower`], entry point [`compile`]) with per-layer statistics
//! ([`stats`]).

pub mod calibrate;
pub mod data;
pub mod error;
pub mod frontend;
pub mod graph;
pub mod layout;
pub mod linear;
pub mod lower;
pub mod model;
pub mod onnx;
pub mod passes;
pub mod poly;
pub mod reference;
pub mod stats;
pub mod target;
pub mod weights;

pub use error::FrontendError;
pub use lower::{CompileOptions, Compiled, LowerError, compile};
