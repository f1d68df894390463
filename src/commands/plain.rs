//! `fhec plain MODEL.ron [--weights W] [--data DIR] [--limit N] [--logits FILE]`: plaintext
//! reference accuracy on the CIFAR-10 test set, as JSON (DESIGN §10).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use fhec_compiler::data::{CIFAR_IMAGE_SHAPE, CifarBatch, class_names};
use fhec_compiler::graph::TensorGraph;
use fhec_compiler::reference::{AccuracyReport, load_logits, run_batch};
use indicatif::{ProgressBar, ProgressStyle};

use super::check::ModelArgs;

/// The test batch, relative to the data directory.
const TEST_BATCH: &str = "cifar10/test_batch.bin";
/// Class names, relative to the data directory.
const CLASS_NAMES: &str = "cifar10/batches.meta.txt";

/// Arguments of `fhec plain`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Evaluate only the first N test images.
    #[arg(long)]
    limit: Option<usize>,
    /// Float32 reference logits `[images, classes]` to compare with (a relative path not found
    /// from the current directory is looked up in the data directory).
    #[arg(long)]
    logits: Option<PathBuf>,
}

/// Checks the model takes one CIFAR-sized image.
fn check_image_model(graph: &TensorGraph, model: &Path) -> anyhow::Result<()> {
    let [input] = graph.inputs[..] else {
        bail!(
            "{}: `plain` needs a model with exactly one input",
            model.display()
        );
    };
    let shape = &graph.node(input).shape;
    if shape[..] != CIFAR_IMAGE_SHAPE {
        bail!(
            "{}: input `{}` has shape {shape:?}, but CIFAR-10 images are {CIFAR_IMAGE_SHAPE:?}",
            model.display(),
            graph.node(input).name
        );
    }
    Ok(())
}

/// Runs the model on the test set and prints the accuracy report.
pub fn run(args: Args) -> anyhow::Result<()> {
    let search = args.model.data_search();
    let loaded = args.model.load()?;
    let graph = &loaded.graph;
    check_image_model(graph, &args.model.model)?;
    let data_dir = search.resolve()?;
    let batch = CifarBatch::load(&data_dir.join(TEST_BATCH), args.limit)?;
    let progress = ProgressBar::new(batch.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} images, {elapsed} (eta {eta})")
            .context("progress bar template")?,
    );
    progress.set_message(graph.name.clone());
    let logits = run_batch(graph, &batch, &|| progress.inc(1))?;
    progress.finish_and_clear();
    let reference = match &args.logits {
        Some(path) => {
            let path = search.locate(path);
            let width = graph.output_shape().iter().product();
            Some(load_logits(&path, batch.len(), width)?)
        }
        None => None,
    };
    let names = class_names(&data_dir.join(CLASS_NAMES));
    let report = AccuracyReport::new(
        &graph.name,
        &logits,
        batch.labels(),
        &names,
        reference.as_deref(),
    );
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
