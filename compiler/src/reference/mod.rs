//! The tensor-level reference executor (DESIGN §8): runs a [`TensorGraph`] on ndarrays in f32
//! or f64.
//!
//! This is where accuracy is measured (in f32, the fast default) and what the clear backend's
//! logits are compared with (in f64, the clear backend's own precision, so that the comparison
//! measures the lowering alone). A [`Reference`] takes the graph's float32 parameters into its
//! [`Scalar`] type once and runs one input or many images in parallel with rayon.
//!
//! Activations go through an [`ActivationMode`]: [`Exact`] applies the function itself,
//! [`ApproxActivations`] the polynomial the compiler chose (`fhec plain --approx`), and
//! calibration (`crate::calibrate`) observes the inputs while applying the exact function.
//! The free functions here are the float32 executor, for callers that run a graph once.

mod accuracy;
mod approx;
mod conv;
mod executor;
mod mode;
mod scalar;

pub use accuracy::{
    AccuracyReport, GAP_THRESHOLDS, GapCounts, LogitGaps, arg_max, load_logits, top_gap,
};
pub use approx::{ApproxActivations, ApproxError, approximated_function};
pub use executor::{Reference, image_tensor};
pub use mode::{ActivationMode, Exact};
pub use scalar::Scalar;

use std::ops::Range;

use ndarray::ArrayD;

use crate::data::CifarBatch;
use crate::error::Result;
use crate::graph::TensorGraph;

/// Evaluates `graph` in f32 on raw input values (one per model input, in order; preprocessing
/// is applied here as the model says) and returns the output.
pub fn forward(graph: &TensorGraph, inputs: &[ArrayD<f32>]) -> Result<ArrayD<f32>> {
    Reference::new(graph).forward(inputs)
}

/// [`forward`] with the activations evaluated by `mode`, which records what it observes of
/// this evaluation in `observed`.
pub fn forward_with<M: ActivationMode>(
    graph: &TensorGraph,
    inputs: &[ArrayD<f32>],
    mode: &M,
    observed: &mut M::Observed,
) -> Result<ArrayD<f32>> {
    Reference::new(graph).forward_with(inputs, mode, observed)
}

/// Runs a single-input image model in f32 on the images `images` of `batch` in parallel with
/// `mode` (see [`Reference::run_batch_with`]).
///
/// # Panics
/// If `images` reaches past the end of the batch (callers bound it by `batch.len()`).
pub fn run_batch_with<M: ActivationMode>(
    graph: &TensorGraph,
    batch: &CifarBatch,
    images: Range<usize>,
    mode: &M,
    progress: &(dyn Fn() + Sync),
) -> Result<(Vec<Vec<f32>>, M::Observed)> {
    Reference::new(graph).run_batch_with(batch, images, mode, progress)
}

/// Runs a single-input image model in f32 on every image of `batch` in parallel and returns
/// the flattened outputs (logits), calling `progress` after each image.
pub fn run_batch(
    graph: &TensorGraph,
    batch: &CifarBatch,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<f32>>> {
    let (logits, ()) = run_batch_with(graph, batch, 0..batch.len(), &Exact, progress)?;
    Ok(logits)
}
