//! Calibrating a model on the training batch and choosing every activation's polynomial: the
//! step `fhec compile` and `fhec plain --approx` share, so both see the same choices.

use std::collections::BTreeMap;
use std::path::Path;

use fhec_compiler::calibrate::{Calibration, TRAINING_BATCH, calibrate};
use fhec_compiler::data::CifarBatch;
use fhec_compiler::graph::TensorGraph;
use fhec_compiler::lower::chooser_options;
use fhec_compiler::poly::ActivationApprox;

use super::compile::progress_bar;

/// The calibration of a graph and the approximation chosen for each activation node.
pub struct Approximations {
    /// Per-activation input ranges over the calibration images.
    pub calibration: Calibration,
    /// Node name → chosen polynomial.
    pub chosen: BTreeMap<String, ActivationApprox>,
}

/// Calibrates `graph` on the first `images` images of the training batch in `data_dir`
/// (progress on a terminal) and chooses each activation's polynomial under `--degree` and
/// `--margin`.
///
/// Errors: a missing or malformed training batch (naming the file), bad options, or a range
/// no polynomial covers (naming the node).
pub fn calibrate_and_choose(
    graph: &TensorGraph,
    data_dir: &Path,
    images: usize,
    degree: Option<usize>,
    margin: Option<f64>,
) -> anyhow::Result<Approximations> {
    let options = chooser_options(degree, margin)
        .map_err(|error| anyhow::anyhow!("--degree / --margin: {error}"))?;
    let train = CifarBatch::load(&data_dir.join(TRAINING_BATCH), Some(images))?;
    let bar = progress_bar(train.len(), format!("{} calibration", graph.name), "images")?;
    let calibration = calibrate(
        graph,
        &train,
        Path::new(TRAINING_BATCH),
        0..images.min(train.len()),
        &|| bar.inc(1),
    )?;
    bar.finish_and_clear();
    let chosen = calibration
        .choose(graph, &options)?
        .into_iter()
        .map(|(node, choice)| (node, choice.approx))
        .collect();
    Ok(Approximations {
        calibration,
        chosen,
    })
}
