//! The fhec compiler: from a model description to an HE IR program (DESIGN §1).
//!
//! Today it holds the frontend end of the pipeline: the model description format
//! ([`model`]), weight files ([`weights`]), ONNX import ([`onnx`]), validation and shape
//! inference into a [`graph::TensorGraph`] ([`frontend`]), the dataset loader and data
//! directory rule ([`data`]) and the tensor-level reference executor ([`reference`]); and the
//! polynomial approximation of activations ([`poly`]) the lowering will use.

pub mod data;
pub mod error;
pub mod frontend;
pub mod graph;
pub mod model;
pub mod onnx;
pub mod poly;
pub mod reference;
pub mod weights;

pub use error::FrontendError;
