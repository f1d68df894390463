//! Obtaining a model's calibration (its record, or a fresh measurement on the training batch)
//! and choosing every activation's polynomial: the step `fhec compile`, `fhec plain --approx`
//! and `fhec calibrate` share, so all see the same choices.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use fhec_compiler::calibrate::{
    Calibration, CalibrationRecord, TRAINING_BATCH, calibrate, record_path,
};
use fhec_compiler::data::{CifarBatch, DataDirSearch};
use fhec_compiler::graph::TensorGraph;
use fhec_compiler::lower::chooser_options;
use fhec_compiler::poly::ActivationApprox;

use super::compile::progress_bar;

/// Calibration images used when none are asked for: all of training batch 1.
pub const DEFAULT_CALIBRATION_IMAGES: usize = 10_000;

/// Where a command's calibration comes from. Without either flag, the model's calibration
/// record (`NAME.calibration.ron` beside `NAME.ron`) when it exists, else a fresh measurement
/// on the data directory's training batch.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CalibrationArgs {
    /// Recalibrate on the training batch (cifar10/data_batch_1.bin) of DIR instead of using
    /// the model's calibration record.
    #[arg(long, value_name = "DIR")]
    pub calibrate: Option<PathBuf>,
    /// Recalibrate on the first K images of the training batch (of --calibrate DIR, else of
    /// the data directory) [default when recalibrating: 10000].
    #[arg(long, value_name = "K")]
    pub calibration_images: Option<usize>,
}

impl CalibrationArgs {
    /// Whether the user asked for a fresh measurement.
    pub fn recalibrate(&self) -> bool {
        self.calibrate.is_some() || self.calibration_images.is_some()
    }
}

/// The calibration of `graph` (described by `model`): measured afresh when `args` ask for it
/// or the model has no record, else read from the record and checked against the graph.
/// Says on stderr which it used.
///
/// Errors: a missing or malformed training batch or record (naming the file), a stale record.
pub fn obtain_calibration(
    graph: &TensorGraph,
    model: &Path,
    args: &CalibrationArgs,
    data: &DataDirSearch,
) -> anyhow::Result<Calibration> {
    let record = record_path(model);
    if !args.recalibrate() && record.exists() {
        let calibration = CalibrationRecord::read(&record)?
            .for_graph(graph, &record)?
            .clone();
        eprintln!(
            "calibration: {} ({} images of {})",
            record.display(),
            calibration.images,
            calibration.source
        );
        return Ok(calibration);
    }
    let dir = match &args.calibrate {
        Some(dir) => dir.clone(),
        None => data.resolve().with_context(|| {
            format!(
                "{}: no calibration record and no training data",
                record.display()
            )
        })?,
    };
    measure(
        graph,
        &dir,
        args.calibration_images
            .unwrap_or(DEFAULT_CALIBRATION_IMAGES),
    )
}

/// Calibrates `graph` on the first `images` images of the training batch in `dir`, with a
/// progress bar, and says so on stderr.
pub fn measure(graph: &TensorGraph, dir: &Path, images: usize) -> anyhow::Result<Calibration> {
    let path = dir.join(TRAINING_BATCH);
    let train = CifarBatch::load(&path, Some(images))?;
    let bar = progress_bar(train.len(), format!("{} calibration", graph.name), "images")?;
    let calibration = calibrate(
        graph,
        &train,
        Path::new(TRAINING_BATCH),
        0..images.min(train.len()),
        &|| bar.inc(1),
    )?;
    bar.finish_and_clear();
    eprintln!(
        "calibration: measured on {} images of {}",
        calibration.images,
        path.display()
    );
    Ok(calibration)
}

/// Chooses each activation's polynomial for its calibrated range under `--degree` and
/// `--margin`, keyed by node name.
///
/// Errors: bad options, or a range no polynomial covers (naming the node).
pub fn choose(
    graph: &TensorGraph,
    calibration: &Calibration,
    degree: Option<usize>,
    margin: Option<f64>,
) -> anyhow::Result<BTreeMap<String, ActivationApprox>> {
    let options = chooser_options(degree, margin)
        .map_err(|error| anyhow::anyhow!("--degree / --margin: {error}"))?;
    Ok(calibration
        .choose(graph, &options)?
        .into_iter()
        .map(|(node, choice)| (node, choice.approx))
        .collect())
}
