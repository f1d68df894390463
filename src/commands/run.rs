//! `fhec run program.ron --backend clear --images 0..N [--weights W] [--report r.json]`: runs a
//! compiled program on CIFAR-10 test images and compares it with the tensor-level model
//! (DESIGN §7, §8).
//!
//! The program records the model and weights it was compiled from (`--weights` names others of
//! the same architecture; the graph hash must match). Per image: the raw pixels are
//! preprocessed as the model says, packed with the program's input layout, run on the clear
//! backend with the weights bound through their recipes, and the logits unpacked; the same
//! image goes through the tensor-level model exactly (`plain_class`) and with the program's
//! own polynomial activations (`approx_class`, the logits the clear run must reproduce).
//! `precision_bits` is `−log2` of the largest absolute logit difference from the latter,
//! `max_rel_diff` that difference over the largest `|logit|`.
//!
//! Stdout gets a JSON summary; `--report` writes the DESIGN §10 report with every image.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context, bail};
use fhec_compiler::data::{CIFAR_IMAGE_SHAPE, CifarBatch, DataDirSearch};
use fhec_compiler::frontend::load_model;
use fhec_compiler::graph::TensorGraph;
use fhec_compiler::linear::{WeightPlaintexts, Weights};
use fhec_compiler::lower::bindings::graph_weights;
use fhec_compiler::lower::io::{descriptions, program_source, unpack};
use fhec_compiler::lower::{IoDescription, graph_hash};
use fhec_compiler::reference::{ApproxActivations, Reference, arg_max};
use fhec_ir::Program;
use fhec_runtime::exec::layer_probe::{LayerTimer, worst_difference};
use fhec_runtime::exec::{ClearBackend, Observer, run_observed};
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;
use serde::Serialize;

use super::compile::progress_bar;
use super::files::write_atomically;
use super::process_stats::peak_rss_bytes;

/// The CIFAR-10 test batch, relative to the data directory.
pub const TEST_BATCH: &str = "cifar10/test_batch.bin";

/// The backends `run` knows.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum BackendKind {
    /// `f64` slot vectors with exact semantics.
    Clear,
    /// Real encryption: keygen, encrypt, evaluate, decrypt (`run` only).
    Ckks,
}

/// A half-open image range `a..b`, or one index `i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRange(pub Range<usize>);

impl FromStr for ImageRange {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let number = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("{t:?} is not an image index"))
        };
        let range = match text.split_once("..") {
            Some((a, b)) => number(a)?..number(b)?,
            None => {
                let i = number(text)?;
                i..i + 1
            }
        };
        if range.is_empty() {
            return Err(format!("the image range {text:?} is empty"));
        }
        Ok(ImageRange(range))
    }
}

/// Arguments of `fhec run`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub program: ProgramArgs,
    /// Test images to run, `a..b` or one index.
    #[arg(long, default_value = "0..8")]
    pub images: ImageRange,
    /// Write the full JSON report here (with `--backend ckks`: rewritten after every image,
    /// so an interrupted run keeps every finished image).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// With `--backend ckks`: continue the `--report` of an earlier run of the same program,
    /// skipping the images it already holds.
    #[arg(long, requires = "report")]
    pub resume: bool,
    /// With `--backend ckks`: accept a program compiled for INSECURE parameters (tests and
    /// small experiments only; every output then says so).
    #[arg(long)]
    pub insecure: bool,
    /// With `--backend ckks`: keep the bootstrapping DFT diagonals `encoded` once (fastest;
    /// 2.7 GB at N = 2^16) or encode them `on-demand` at each bootstrap (a few MB, ~1.5 s more
    /// per bootstrap at N = 2^16).
    #[arg(long, value_enum, default_value_t = DiagonalsArg::Encoded)]
    pub bootstrap_diagonals: DiagonalsArg,
}

/// Where the bootstrapper keeps its DFT diagonals (`--bootstrap-diagonals`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum DiagonalsArg {
    /// Encoded once and kept.
    Encoded,
    /// Encoded at each bootstrap.
    OnDemand,
}

/// What `run` and `bench model` share: the program, where to run it, its weights and data,
/// and the thread count.
#[derive(clap::Args)]
pub struct ProgramArgs {
    /// The compiled program (RON).
    pub program: PathBuf,
    /// Where to run it.
    #[arg(long, value_enum, default_value_t = BackendKind::Clear)]
    pub backend: BackendKind,
    /// Weights of the same architecture instead of those the program was compiled with.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Data directory (else $FHEC_DATA, else ../shared/data, else the shipped sample).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Threads (default: all cores).
    #[arg(long, value_parser = super::limits::parse_threads)]
    pub threads: Option<usize>,
}

/// A program ready to run on the clear backend, with its model.
pub struct ClearSession {
    /// The program.
    pub program: Program,
    /// The program file.
    pub path: PathBuf,
    inputs: Vec<IoDescription>,
    outputs: Vec<IoDescription>,
    graph: TensorGraph,
    weights: Weights,
    approx: ApproxActivations,
    /// The tensor level in f64, the clear backend's precision, so that comparing logits
    /// measures the lowering and not float32 rounding.
    reference: Reference<'static, f64>,
}

/// What one image gave.
#[derive(Clone, Debug, Serialize)]
pub struct ImageResult {
    /// Index in the test batch.
    pub index: usize,
    /// True label.
    pub label: u8,
    /// The program's prediction.
    pub class: usize,
    /// The exact tensor-level model's prediction.
    pub plain_class: usize,
    /// The tensor-level model with the program's polynomial activations.
    pub approx_class: usize,
    /// Wall time of the program run.
    pub time_s: f64,
    /// `−log2(max |logit − approx logit|)`.
    pub precision_bits: f64,
    /// `max |logit − approx logit| / max |approx logit|`.
    pub max_rel_diff: f64,
    /// The program's logits.
    pub logits: Vec<f64>,
    /// Run time of each layer, seconds, by layer index.
    pub layer_eval_s: Vec<f64>,
}

impl ClearSession {
    /// Reads the program, its model (with `weights` if given) and checks they match.
    pub fn load(path: &Path, weights: Option<&Path>, data: &DataDirSearch) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let program = Program::from_ron(&text).with_context(|| format!("{}", path.display()))?;
        let source = program_source(&program).with_context(|| format!("{}", path.display()))?;
        let weights = weights
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(&source.weights));
        let loaded = load_model(Path::new(&source.model), Some(&weights), data)
            .with_context(|| format!("{}: the model it was compiled from", path.display()))?;
        if program.meta.graph_hash != Some(graph_hash(&loaded.graph)) {
            bail!(
                "{}: compiled from another version of {} (graph hash differs); compile again",
                path.display(),
                source.model
            );
        }
        let approx = ApproxActivations::new(&loaded.graph, &source.approximations)
            .with_context(|| format!("{}: recorded approximations", path.display()))?;
        Ok(ClearSession {
            inputs: descriptions(&program, false)?,
            outputs: descriptions(&program, true)?,
            weights: graph_weights(&loaded.graph),
            reference: Reference::new(&loaded.graph).into_owned(),
            graph: loaded.graph,
            approx,
            program,
            path: path.to_path_buf(),
        })
    }

    /// A plaintext source over the weights (one per worker: it caches materialised maps).
    pub fn plaintexts(&self) -> WeightPlaintexts {
        WeightPlaintexts::new(self.weights.clone())
    }

    /// Checks the model takes one CIFAR-10 image.
    pub fn check_image_model(&self) -> anyhow::Result<()> {
        let [input] = self.graph.inputs[..] else {
            bail!(
                "{}: the model must have exactly one input",
                self.path.display()
            );
        };
        let shape = &self.graph.node(input).shape;
        if shape[..] != CIFAR_IMAGE_SHAPE {
            bail!(
                "{}: input shape {shape:?} is not a CIFAR-10 image",
                self.path.display()
            );
        }
        Ok(())
    }

    /// Runs the program on raw pixels (CHW), showing every instruction to `observer`, and
    /// returns the output tensor and the wall time.
    pub fn run_program_observed(
        &self,
        plaintexts: &WeightPlaintexts,
        pixels: &[u8],
        observer: &mut dyn Observer<Vec<f64>>,
    ) -> anyhow::Result<(Vec<f64>, f64)> {
        let start = Instant::now();
        let inputs = self.pack_image(pixels)?;
        let outputs = run_observed(
            &self.program,
            &mut ClearBackend,
            inputs,
            plaintexts,
            observer,
        )?;
        let logits = self.unpack_logits(&outputs)?;
        Ok((logits, start.elapsed().as_secs_f64()))
    }

    /// Raw pixels (CHW) preprocessed and packed as the program's inputs, by input name.
    pub fn pack_image(&self, pixels: &[u8]) -> anyhow::Result<BTreeMap<String, Vec<f64>>> {
        pack_pixels(&self.inputs, pixels)
    }

    /// The output tensor (the logits) from the program's outputs by name.
    pub fn unpack_logits(&self, outputs: &BTreeMap<String, Vec<f64>>) -> anyhow::Result<Vec<f64>> {
        unpack_first_output(&self.outputs, outputs)
    }

    /// The tensor-level logits of raw pixels, computed in f64: exact, and with the program's
    /// approximations.
    pub fn reference(&self, pixels: &[u8]) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
        let image = ArrayD::from_shape_vec(
            IxDyn(&CIFAR_IMAGE_SHAPE),
            pixels.iter().map(|&p| f32::from(p)).collect(),
        )?;
        let exact = self.reference.forward(std::slice::from_ref(&image))?;
        let mut seen = self.approx.start();
        let approx = self
            .reference
            .forward_with(&[image], &self.approx, &mut seen)?;
        Ok((
            exact.iter().copied().collect(),
            approx.iter().copied().collect(),
        ))
    }

    /// Runs image `index` of `batch` and compares it with the tensor level.
    pub fn image(
        &self,
        plaintexts: &WeightPlaintexts,
        batch: &CifarBatch,
        index: usize,
    ) -> anyhow::Result<ImageResult> {
        let pixels = batch.image(index);
        let mut nothing_else = ();
        let mut timer = LayerTimer::start(&mut nothing_else);
        let (logits, time_s) = self
            .run_program_observed(plaintexts, pixels, &mut timer)
            .with_context(|| format!("image {index}"))?;
        let layer_eval_s = timer.seconds;
        let (exact, approx) = self.reference(pixels)?;
        let (diff, peak) = worst_difference(&logits, &approx);
        Ok(ImageResult {
            index,
            label: batch.labels()[index],
            class: arg_max(&logits),
            plain_class: arg_max(&exact),
            approx_class: arg_max(&approx),
            time_s,
            precision_bits: -diff.log2(),
            max_rel_diff: if peak > 0.0 { diff / peak } else { diff },
            logits,
            layer_eval_s,
        })
    }
}

/// Raw pixels (CHW) preprocessed and packed as the inputs `descriptions` describe, by input
/// name (what `run` and `fhec encrypt` feed a program).
pub fn pack_pixels(
    descriptions: &[IoDescription],
    pixels: &[u8],
) -> anyhow::Result<BTreeMap<String, Vec<f64>>> {
    let mut inputs = BTreeMap::new();
    for description in descriptions {
        let plane = pixels.len() / description.shape[0].max(1);
        let values: Vec<f64> = pixels
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let raw = f32::from(p);
                let x = match &description.preprocess {
                    Some(pre) => pre.apply(i / plane, raw),
                    None => raw,
                };
                f64::from(x)
            })
            .collect();
        inputs.insert(description.spec_name(), description.pack(&values)?);
    }
    Ok(inputs)
}

/// The first output tensor (the logits) from a program's outputs by name.
pub fn unpack_first_output(
    descriptions: &[IoDescription],
    outputs: &BTreeMap<String, Vec<f64>>,
) -> anyhow::Result<Vec<f64>> {
    let tensor = &descriptions
        .first()
        .context("the program has no output")?
        .tensor;
    Ok(unpack(descriptions, tensor, outputs)?)
}

/// A rayon pool of `threads` threads (default: all cores), and its size.
pub fn thread_pool(threads: Option<usize>) -> anyhow::Result<(rayon::ThreadPool, usize)> {
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the thread pool")?;
    Ok((pool, threads))
}

/// Loads the test batch up to the end of `images`, checking the range fits.
pub fn load_test_images(data: &DataDirSearch, images: &Range<usize>) -> anyhow::Result<CifarBatch> {
    let path = data.resolve()?.join(TEST_BATCH);
    let batch = CifarBatch::load(&path, Some(images.end))?;
    if images.end > batch.len() {
        bail!(
            "{}: images {}..{} asked, the batch holds {}",
            path.display(),
            images.start,
            images.end,
            batch.len()
        );
    }
    Ok(batch)
}

/// The report of `fhec run` (DESIGN §10).
#[derive(Serialize)]
struct Report<'a> {
    program: String,
    backend: &'static str,
    threads: usize,
    peak_rss_bytes: Option<u64>,
    /// The schedule's prediction for a CKKS run (program metadata); `null` on the clear
    /// backend, whose f64 slot vectors it does not describe.
    predicted_peak_bytes: Option<u64>,
    summary: Summary,
    images: &'a [ImageResult],
    phases: BTreeMap<&'static str, f64>,
    /// Mean run time per image of each model layer.
    layers: Vec<LayerTime>,
}

/// One layer's mean run time per image.
#[derive(Serialize)]
pub struct LayerTime {
    /// Index in the program's layer table.
    pub index: usize,
    /// The node name.
    pub name: String,
    /// The node's operation.
    pub op: String,
    /// Mean run time per image, seconds.
    pub mean_eval_s: f64,
}

/// The mean time per image of every layer of `program` over `results`.
pub fn layer_times(program: &Program, results: &[ImageResult]) -> Vec<LayerTime> {
    let images = results.len().max(1) as f64;
    program
        .meta
        .layers
        .iter()
        .enumerate()
        .map(|(index, layer)| LayerTime {
            index,
            name: layer.name.clone(),
            op: layer.op.clone(),
            mean_eval_s: results
                .iter()
                .filter_map(|r| r.layer_eval_s.get(index))
                .sum::<f64>()
                / images,
        })
        .collect()
}

/// Totals over the images run.
#[derive(Serialize)]
struct Summary {
    images: usize,
    accuracy: f64,
    /// Fraction of images whose class equals the exact tensor-level model's.
    agreement_plain: f64,
    /// Fraction whose class equals the tensor-level model with the same approximations.
    agreement_approx: f64,
    /// Largest `max_rel_diff` over the images.
    max_rel_diff: f64,
    /// Smallest `precision_bits` over the images.
    min_precision_bits: f64,
    mean_time_s: f64,
}

fn summary(results: &[ImageResult]) -> Summary {
    let n = results.len().max(1) as f64;
    let fraction =
        |f: &dyn Fn(&ImageResult) -> bool| results.iter().filter(|r| f(r)).count() as f64 / n;
    Summary {
        images: results.len(),
        accuracy: fraction(&|r| r.class == usize::from(r.label)),
        agreement_plain: fraction(&|r| r.class == r.plain_class),
        agreement_approx: fraction(&|r| r.class == r.approx_class),
        max_rel_diff: results.iter().map(|r| r.max_rel_diff).fold(0.0, f64::max),
        min_precision_bits: results
            .iter()
            .map(|r| r.precision_bits)
            .fold(f64::INFINITY, f64::min),
        mean_time_s: results.iter().map(|r| r.time_s).sum::<f64>() / n,
    }
}

/// A program with its weights and the test images it runs on: what `run` and `bench model`
/// load before timing anything.
pub struct Loaded {
    /// The program and its plaintext source.
    pub session: ClearSession,
    /// The test batch, up to the last image asked for.
    pub batch: CifarBatch,
    /// The images to run.
    pub images: Range<usize>,
    /// Seconds spent loading.
    pub load_s: f64,
}

impl ProgramArgs {
    /// Loads the program (with `--weights`, else the ones it was compiled from) and the test
    /// `images`, refusing a backend this command does not offer and a program that does not
    /// take images.
    pub fn load(&self, images: Range<usize>) -> anyhow::Result<Loaded> {
        if self.backend == BackendKind::Ckks {
            bail!("--backend ckks: this command runs the clear backend only (use `fhec run`)");
        }
        self.load_for_any_backend(images)
    }

    /// [`Self::load`] whatever the backend (`run --backend ckks`).
    pub fn load_for_any_backend(&self, images: Range<usize>) -> anyhow::Result<Loaded> {
        let data = DataDirSearch::from_process(self.data.clone());
        let start = Instant::now();
        let session = ClearSession::load(&self.program, self.weights.as_deref(), &data)?;
        session.check_image_model()?;
        eprintln!("{}", data.resolve_dir()?.describe());
        let batch = load_test_images(&data, &images)?;
        Ok(Loaded {
            session,
            batch,
            images,
            load_s: start.elapsed().as_secs_f64(),
        })
    }
}

/// Runs the program on the images and prints the summary.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(report) = &args.report {
        super::outputs::check_outputs(&[report], &[&args.program.program])?;
    }
    if args.program.backend == BackendKind::Ckks {
        return super::run_ckks::run(args);
    }
    if args.insecure {
        bail!("--insecure only applies to --backend ckks");
    }
    if args.resume {
        bail!("--resume only applies to --backend ckks (the clear backend is fast to rerun)");
    }
    let Loaded {
        session,
        batch,
        images,
        load_s,
    } = args.program.load(args.images.0.clone())?;
    let (pool, threads) = thread_pool(args.program.threads)?;
    let bar = progress_bar(images.len(), "clear backend".into(), "images")?;
    let run_start = Instant::now();
    let results: Vec<ImageResult> = pool.install(|| {
        images
            .clone()
            .into_par_iter()
            .map_init(
                || session.plaintexts(),
                |plaintexts, index| {
                    let result = session.image(plaintexts, &batch, index);
                    bar.inc(1);
                    result
                },
            )
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    bar.finish_and_clear();
    let phases = BTreeMap::from([
        ("load_s", load_s),
        ("run_s", run_start.elapsed().as_secs_f64()),
    ]);
    let summary = summary(&results);
    println!("{}", serde_json::to_string_pretty(&summary)?);
    if let Some(path) = &args.report {
        let report = Report {
            program: args.program.program.display().to_string(),
            backend: "clear",
            threads,
            peak_rss_bytes: peak_rss_bytes(),
            predicted_peak_bytes: None,
            summary,
            images: &results,
            phases,
            layers: layer_times(&session.program, &results),
        };
        write_atomically(path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    Ok(())
}
