//! `fhec compile MODEL.ron -o program.ron [--stats] [--calibration-images N] ...`: calibrate
//! the model on the training batch, choose every activation's polynomial, lower the graph to
//! one HE IR program and write it as RON (DESIGN §7).
//!
//! The program records the model, the weights, the calibration and the approximations it was
//! compiled with (`fhec run` uses them). `--stats` prints per layer and in total the rotations
//! (key switches), ct×ct and ct×pt products, plaintexts and depth (`--json`: as JSON).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use fhec_compiler::calibrate::{TRAINING_BATCH, calibrate};
use fhec_compiler::data::CifarBatch;
use fhec_compiler::lower::{CompileOptions, ProgramSource, chooser_options, compile};
use fhec_compiler::poly::ActivationApprox;
use fhec_compiler::stats::program_stats;
use indicatif::{ProgressBar, ProgressStyle};

use super::check::ModelArgs;

/// Arguments of `fhec compile`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Where to write the compiled program (RON).
    #[arg(short, long)]
    output: PathBuf,
    /// Print per-layer statistics (rotations, products, plaintexts, depth).
    #[arg(long)]
    stats: bool,
    /// With --stats: print them as JSON.
    #[arg(long, requires = "stats")]
    json: bool,
    /// Print the program's textual IR after a stage (today: `lower`).
    #[arg(long, value_name = "PASS")]
    dump_after: Option<String>,
    /// Calibrate on the first K images of the training batch.
    #[arg(long, default_value_t = 10_000)]
    calibration_images: usize,
    /// Use Chebyshev interpolants of this degree only (default: the chooser's rule).
    #[arg(long)]
    degree: Option<usize>,
    /// Interval bound = margin × the calibrated max |x| (default: the chooser's).
    #[arg(long)]
    margin: Option<f64>,
    /// Slots per ciphertext (a power of two; default: the smallest holding the largest tensor).
    #[arg(long)]
    slots: Option<usize>,
    /// The most ciphertexts one tensor may take.
    #[arg(long, default_value_t = 8)]
    max_cts: usize,
}

/// A progress bar on stderr over `len` items (hidden when stderr is not a terminal).
pub fn progress_bar(len: usize, message: String, unit: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(len as u64);
    let template = format!("{{msg}} {{bar:40}} {{pos}}/{{len}} {unit}, {{elapsed}} (eta {{eta}})");
    bar.set_style(ProgressStyle::with_template(&template).context("progress bar template")?);
    bar.set_message(message);
    Ok(bar)
}

/// `path` made absolute (so `fhec run` finds it from any directory), else as given.
fn absolute(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Compiles the model and writes the program.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(pass) = args.dump_after.as_deref().filter(|p| *p != "lower") {
        bail!("--dump-after {pass}: the only stage built today is `lower`");
    }
    let loaded = args.model.load()?;
    let graph = &loaded.graph;
    let has_activations = graph
        .nodes
        .iter()
        .any(|n| matches!(n.op, fhec_compiler::graph::TensorOp::Activation(_)));
    let (calibration, approximations) = if has_activations {
        let data_dir = args.model.data_search().resolve()?;
        let train_path = data_dir.join(TRAINING_BATCH);
        let train = CifarBatch::load(&train_path, Some(args.calibration_images))?;
        let bar = progress_bar(train.len(), format!("{} calibration", graph.name), "images")?;
        let calibration = calibrate(
            graph,
            &train,
            Path::new(TRAINING_BATCH),
            0..args.calibration_images.min(train.len()),
            &|| bar.inc(1),
        )?;
        bar.finish_and_clear();
        let options = chooser_options(args.degree, args.margin)?;
        let choices = calibration.choose(graph, &options)?;
        let approximations: BTreeMap<String, ActivationApprox> = choices
            .into_iter()
            .map(|(node, choice)| (node, choice.approx))
            .collect();
        (Some(calibration), approximations)
    } else {
        (None, BTreeMap::new())
    };
    let options = CompileOptions {
        slots: args.slots,
        max_cts: args.max_cts,
        source: Some(ProgramSource {
            model: absolute(&args.model.model),
            weights: absolute(&loaded.weights_path),
            calibration,
            approximations: approximations.clone(),
        }),
        ..CompileOptions::default()
    };
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("{}: lowering", graph.name));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let compiled = compile(graph, &approximations, &options)
        .with_context(|| format!("{}: lowering", args.model.model.display()));
    spinner.finish_and_clear();
    let compiled = compiled?;
    let text = compiled
        .program
        .to_ron()
        .context("serializing the program")?;
    std::fs::write(&args.output, text)
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    if args.dump_after.is_some() {
        println!("{}", compiled.program);
    }
    if args.stats {
        let stats = program_stats(&compiled.program, &compiled.layers, &compiled.inst_layers);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&stats)?);
        } else {
            println!("{stats}");
        }
    }
    Ok(())
}
