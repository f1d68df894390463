//! `fhec plain MODEL.ron [--weights W] [--data DIR] [--limit N] [--logits FILE] [--approx ...]
//! [--precision f32|f64]`: plaintext reference accuracy on the CIFAR-10 test set, as JSON
//! (DESIGN §10), computed in f32 (the default) or f64.
//!
//! With `--approx` every activation is replaced by the polynomial the compiler chooses for it:
//! the model is first calibrated on the training batch (never the test set), each site's
//! approximation is chosen for its calibrated range, and the report gains, per activation,
//! the choice and how many evaluated inputs fell outside its interval.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::bail;
use fhec_compiler::calibrate::{Calibration, TRAINING_BATCH};
use fhec_compiler::data::{CIFAR_IMAGE_SHAPE, CifarBatch, DataDirSearch, TEST_BATCH, class_names};
use fhec_compiler::graph::TensorGraph;
use fhec_compiler::poly::{ActivationApprox, Method, RangeReport};
use fhec_compiler::reference::{
    AccuracyReport, ApproxActivations, Exact, GAP_THRESHOLDS, LogitGaps, Reference, Scalar,
    arg_max, load_logits,
};
use serde::Serialize;

use super::approximation::{CalibrationArgs, choose, obtain_calibration};
use super::check::ModelArgs;
use super::compile::progress_bar;

/// Class names, relative to the data directory.
const CLASS_NAMES: &str = "cifar10/batches.meta.txt";

/// Which CIFAR-10 batch the accuracy is measured on.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
enum EvalBatch {
    /// `cifar10/test_batch.bin`: the reported accuracy.
    Test,
    /// `cifar10/data_batch_1.bin`: for choosing options without touching the test set.
    Train,
}

/// Arguments of `fhec plain`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Evaluate only the first N images (after `--skip`).
    #[arg(long, value_parser = super::limits::parse_count)]
    limit: Option<usize>,
    /// Skip the first N images of the evaluated batch.
    #[arg(long, default_value_t = 0)]
    skip: usize,
    /// The batch to evaluate on.
    #[arg(long, value_enum, default_value_t = EvalBatch::Test)]
    eval_batch: EvalBatch,
    /// Float32 reference logits `[images, classes]` to compare with (a relative path not found
    /// from the current directory is looked up in the data directory).
    #[arg(long)]
    logits: Option<PathBuf>,
    /// Replace every activation by its polynomial approximation, chosen for the range measured
    /// on the training batch.
    #[arg(long)]
    approx: bool,
    #[command(flatten)]
    calibration: CalibrationArgs,
    /// Use Chebyshev interpolants of this degree only (default: the chooser's rule).
    #[arg(long, requires = "approx", value_parser = super::limits::parse_degree)]
    degree: Option<usize>,
    /// Interval bound = margin × the calibrated max |x| (default: the chooser's).
    #[arg(long, requires = "approx")]
    margin: Option<f64>,
    /// Also run the exact model and report the fraction of images whose prediction agrees.
    #[arg(long, requires = "approx")]
    compare_exact: bool,
    /// The float type the tensor level computes in (f64 is the clear backend's; f32 is
    /// faster). The model's inputs and preprocessing stay float32.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    precision: Precision,
    /// Also count the images whose top-1/top-2 logit gap is below these values (e.g. twice
    /// the worst logit error of an encrypted run), beside the standard ladder.
    #[arg(long, value_delimiter = ',')]
    gap_below: Vec<f64>,
}

/// The float type of `--precision`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
enum Precision {
    /// Single precision.
    F32,
    /// Double precision.
    F64,
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

/// One activation in the `--approx` report.
#[derive(Serialize)]
struct ActivationEntry<'a> {
    node: &'a str,
    method: &'a Method,
    /// Degree of each polynomial stage.
    degrees: Vec<usize>,
    depth: u32,
    ct_mults: u32,
    interval: [f64; 2],
    /// Maximum error on the interval relative to the largest |f| there.
    max_rel_error: f64,
    /// Largest |x| seen in calibration.
    calibrated_max_abs: f64,
    /// Inputs evaluated, outside the interval, their fraction, and the worst |x|/B.
    inputs: u64,
    outside: u64,
    outside_fraction: f64,
    worst_ratio: f64,
}

/// The `--approx` report: the usual figures plus the calibration and every activation.
#[derive(Serialize)]
struct ApproxReport<'a> {
    #[serde(flatten)]
    accuracy: AccuracyReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    agreement_with_exact: Option<f64>,
    calibration: CalibrationSummary<'a>,
    activations: Vec<ActivationEntry<'a>>,
}

#[derive(Serialize)]
struct CalibrationSummary<'a> {
    source: &'a str,
    first: usize,
    images: usize,
}

fn degrees(method: &Method) -> Vec<usize> {
    match method {
        Method::Chebyshev { degree } => vec![*degree],
        Method::CompositeSign { degrees, .. } => degrees.clone(),
    }
}

/// What the logits of a run are scored against.
struct Scoring<'a> {
    model: &'a str,
    labels: &'a [u8],
    names: &'a [String],
    reference: Option<&'a [f32]>,
    gap_thresholds: Vec<f64>,
}

impl Scoring<'_> {
    fn score<F: Scalar>(&self, logits: &[Vec<F>]) -> AccuracyReport {
        let mut report =
            AccuracyReport::new(self.model, logits, self.labels, self.names, self.reference);
        report.logit_gaps = LogitGaps::new(logits, &self.gap_thresholds);
        report
    }
}

/// The calibration and the approximations chosen from it (`--approx`).
struct Approximated {
    calibration: Calibration,
    mode: ApproxActivations,
}

/// Takes the calibration of `graph` (record or fresh) and chooses every activation's
/// approximation.
fn approximate(
    args: &Args,
    graph: &TensorGraph,
    search: &DataDirSearch,
) -> anyhow::Result<Approximated> {
    let calibration = obtain_calibration(graph, &args.model.model, &args.calibration, search)?;
    let chosen = choose(graph, &calibration, args.degree, args.margin)?;
    let mode = ApproxActivations::new(graph, &chosen)?;
    Ok(Approximated { calibration, mode })
}

/// Runs the model on the chosen images and prints the accuracy report.
pub fn run(args: Args) -> anyhow::Result<()> {
    let search = args.model.data_search();
    let loaded = args.model.load()?;
    let graph = &loaded.graph;
    check_image_model(graph, &args.model.model)?;
    if args.calibration.recalibrate() && !args.approx {
        bail!("--calibrate and --calibration-images need --approx");
    }
    let data = search.resolve_dir()?;
    if !loaded.weights_path.starts_with(&data.path) {
        // Otherwise loading the model has said it.
        eprintln!("{}", data.describe());
    }
    let data_dir = data.path;
    let batch_file = match args.eval_batch {
        EvalBatch::Test => TEST_BATCH,
        EvalBatch::Train => TRAINING_BATCH,
    };
    let batch = CifarBatch::load(
        &data_dir.join(batch_file),
        args.limit.map(|limit| limit + args.skip),
    )?;
    if args.skip >= batch.len() {
        bail!(
            "{}: --skip {} leaves no image of the {} in the batch",
            data_dir.join(batch_file).display(),
            args.skip,
            batch.len()
        );
    }
    let images = args.skip..batch.len();
    let reference = match &args.logits {
        Some(path) => {
            let path = search.locate(path);
            let width: usize = graph.output_shape().iter().product();
            let all = load_logits(&path, batch.len(), width)?;
            Some(all[args.skip * width..].to_vec())
        }
        None => None,
    };
    let names = class_names(&data_dir.join(CLASS_NAMES));
    let scoring = Scoring {
        model: &graph.name,
        labels: &batch.labels()[images.clone()],
        names: &names,
        reference: reference.as_deref(),
        gap_thresholds: GAP_THRESHOLDS
            .iter()
            .chain(&args.gap_below)
            .copied()
            .collect(),
    };
    let approximated = if args.approx {
        Some(approximate(&args, graph, &search)?)
    } else {
        None
    };
    let evaluation = Evaluation {
        batch: &batch,
        images,
        scoring: &scoring,
        approximated: approximated.as_ref(),
        compare_exact: args.compare_exact,
    };
    let report = match args.precision {
        Precision::F32 => evaluation.report(&Reference::<f32>::new(graph))?,
        Precision::F64 => evaluation.report(&Reference::<f64>::new(graph))?,
    };
    println!("{report}");
    Ok(())
}

/// One evaluation of the model on the chosen images, in any precision.
struct Evaluation<'a> {
    batch: &'a CifarBatch,
    images: Range<usize>,
    scoring: &'a Scoring<'a>,
    approximated: Option<&'a Approximated>,
    compare_exact: bool,
}

impl Evaluation<'_> {
    /// Runs `model` and returns the JSON report.
    fn report<F: Scalar>(&self, model: &Reference<'_, F>) -> anyhow::Result<String> {
        let name = &model.graph().name;
        let count = self.images.len();
        let Some(Approximated { calibration, mode }) = self.approximated else {
            let bar = progress_bar(count, name.clone(), "images")?;
            let (logits, ()) =
                model.run_batch_with(self.batch, self.images.clone(), &Exact, &|| bar.inc(1))?;
            bar.finish_and_clear();
            return Ok(serde_json::to_string_pretty(&self.scoring.score(&logits))?);
        };
        let bar = progress_bar(count, format!("{name} approx"), "images")?;
        let (logits, ranges) =
            model.run_batch_with(self.batch, self.images.clone(), mode, &|| bar.inc(1))?;
        bar.finish_and_clear();
        let agreement_with_exact = if self.compare_exact {
            let bar = progress_bar(count, format!("{name} exact"), "images")?;
            let (exact, ()) =
                model.run_batch_with(self.batch, self.images.clone(), &Exact, &|| bar.inc(1))?;
            bar.finish_and_clear();
            let same = exact
                .iter()
                .zip(&logits)
                .filter(|(a, b)| arg_max(a) == arg_max(b))
                .count();
            Some(same as f64 / logits.len() as f64)
        } else {
            None
        };

        let mut accuracy = self.scoring.score(&logits);
        accuracy.approx = true;
        let activations = mode
            .sites()
            .zip(&ranges)
            .map(
                |((node, approx), seen): ((&str, &ActivationApprox), &RangeReport)| {
                    ActivationEntry {
                        node,
                        method: &approx.method,
                        degrees: degrees(&approx.method),
                        depth: approx.depth,
                        ct_mults: approx.ct_mults,
                        interval: [approx.interval.lo, approx.interval.hi],
                        max_rel_error: approx.error.max_rel,
                        calibrated_max_abs: calibration.sites[node].max_abs,
                        inputs: seen.total,
                        outside: seen.outside,
                        outside_fraction: seen.fraction(),
                        worst_ratio: seen.worst_ratio,
                    }
                },
            )
            .collect();
        let report = ApproxReport {
            accuracy,
            agreement_with_exact,
            calibration: CalibrationSummary {
                source: &calibration.source,
                first: calibration.first,
                images: calibration.images,
            },
            activations,
        };
        Ok(serde_json::to_string_pretty(&report)?)
    }
}
