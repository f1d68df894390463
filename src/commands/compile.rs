//! `fhec compile MODEL.ron -o program.ron [--stats] [--calibrate DIR] ...`: take the model's
//! calibration (its record `MODEL.calibration.ron`, or a fresh measurement on the training
//! batch), choose every activation's polynomial, lower the graph to one HE IR program,
//! schedule it for the 128-bit `N16_BOOT` bootstrapping parameters (levels, bootstraps,
//! rotation keys, memory order: `compiler/src/passes/`) and write it as RON;
//! `--unscheduled` stops after lowering.
//!
//! The program records the model, the weights, the calibration and the approximations it was
//! compiled with (`fhec run` uses them). `--stats` prints per layer and in total the rotations
//! (key switches), ct×ct and ct×pt products, plaintexts and depth (`--json`: as JSON).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use fhec_compiler::frontend::LoadedModel;
use fhec_compiler::lower::{CompileOptions, Compiled, ProgramSource, ScheduleOptions, compile};
use fhec_compiler::passes::{PASS_NAMES, PassReport, dump_after};
use fhec_compiler::stats::program_stats;
use fhec_compiler::target::Target;
use fhec_params::bootstrap::test_boot_insecure;

use super::approximation::{CalibrationArgs, choose, obtain_calibration};
use super::check::ModelArgs;
use super::files::write_atomically;
use super::outputs::check_outputs;
use super::progress;

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
    /// Print the program's textual IR after a stage: `lower`, `levels`, `keys`, `schedule`
    /// or `all`.
    #[arg(long, value_name = "PASS")]
    dump_after: Option<String>,
    /// Stop after lowering: no levels, bootstraps, keys or schedule (the unscheduled form).
    #[arg(long, conflicts_with_all = ["max_rotation_keys", "memory_budget"])]
    unscheduled: bool,
    /// At most this many rotation keys; other offsets are composed from them.
    #[arg(long)]
    max_rotation_keys: Option<usize>,
    /// The predicted peak memory (ciphertexts, plaintexts and keys) must fit in this many
    /// bytes; fewer rotation keys are tried before giving up.
    #[arg(long, value_name = "BYTES")]
    memory_budget: Option<u64>,
    #[command(flatten)]
    calibration: CalibrationArgs,
    /// Use Chebyshev interpolants of this degree only (default: the chooser's rule).
    #[arg(long, value_parser = super::limits::parse_degree)]
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
    /// The parameter set: `n16-boot` (128-bit, the default) or an INSECURE test preset
    /// `test-n11`, `test-n12`, `test-n13` (N = 2^11..2^13; needs --insecure).
    #[arg(long, value_name = "NAME", conflicts_with = "unscheduled")]
    params: Option<String>,
    /// Accept an INSECURE test parameter set (tests only; every output says so).
    #[arg(long, requires = "params")]
    insecure: bool,
}

/// The ring degree (log2) of a named INSECURE test preset, `None` for the 128-bit default.
fn preset_log_n(name: &str, insecure: bool) -> anyhow::Result<Option<u32>> {
    let log_n = match name {
        "n16-boot" => return Ok(None),
        "test-n11" => 11,
        "test-n12" => 12,
        "test-n13" => 13,
        _ => {
            bail!("--params {name}: the parameter sets are n16-boot, test-n11, test-n12, test-n13")
        }
    };
    if !insecure {
        bail!(
            "--params {name}: an INSECURE test preset (N = 2^{log_n}); give --insecure to accept it (tests only)"
        );
    }
    eprintln!("WARNING: INSECURE parameters ({name}): for testing only");
    Ok(Some(log_n))
}

/// The target of an INSECURE test preset at `log_n`, bootstrapping `slots` slots (default: all
/// N/2).
fn test_target(log_n: u32, slots: Option<usize>) -> anyhow::Result<Target> {
    let max = 1usize << (log_n - 1);
    let slots = slots.unwrap_or(max);
    if !slots.is_power_of_two() || !(2..=max).contains(&slots) {
        bail!("--slots {slots}: N = 2^{log_n} holds a power of two between 2 and {max}");
    }
    Ok(Target::new(test_boot_insecure(
        log_n,
        slots.trailing_zeros(),
    ))?)
}

/// A progress bar over `len` items (`progress::bar`; hidden unless on a terminal).
pub use super::progress::bar as progress_bar;

/// `path` made absolute (so `fhec run` finds it from any directory), else as given.
fn absolute(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Compiles the model and writes the program.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(pass) = args.dump_after.as_deref() {
        let known = pass == "lower" || pass == "all" || PASS_NAMES.contains(&pass);
        if !known {
            bail!(
                "--dump-after {pass}: the stages are lower, {}, or all",
                PASS_NAMES.join(", ")
            );
        }
        if args.unscheduled && pass != "lower" {
            bail!("--dump-after {pass}: with --unscheduled only `lower` runs");
        }
    }
    let test_preset = match args.params.as_deref() {
        Some(name) => preset_log_n(name, args.insecure)?,
        None => None,
    };
    let loaded = args.model.load()?;
    check_outputs(&[&args.output], &[&args.model.model, &loaded.weights_path])?;
    let (target, max_slots) = match test_preset {
        Some(log_n) => (Some(test_target(log_n, args.slots)?), 1usize << (log_n - 1)),
        None => (None, CompileOptions::default().max_slots),
    };
    let settings = Settings {
        degree: args.degree,
        margin: args.margin,
        slots: args.slots.or(target.as_ref().map(|_| max_slots)),
        max_slots,
        max_cts: args.max_cts,
        schedule: (!args.unscheduled).then(|| ScheduleOptions {
            target,
            max_rotation_keys: args.max_rotation_keys,
            memory_budget: args.memory_budget,
            dump: args.dump_after.is_some(),
        }),
    };
    let compiled = compile_model(&args.model, &loaded, &args.calibration, &settings)?;
    let text = compiled
        .program
        .to_ron()
        .context("serializing the program")?;
    write_atomically(&args.output, text.as_bytes())?;
    eprintln!(
        "wrote {} ({} instructions)",
        args.output.display(),
        compiled.program.order().len()
    );
    if let Some(pass) = args.dump_after.as_deref() {
        match dump_after(&compiled.dumps, pass) {
            Some(text) => println!("{text}"),
            // Unscheduled: the program is the lowering's output.
            None => println!("{}", compiled.program),
        }
    }
    if args.stats {
        let stats = program_stats(&compiled.program, &compiled.layers, &compiled.inst_layers);
        if args.json {
            let mut document = serde_json::to_value(&stats)?;
            if let Some(object) = document.as_object_mut() {
                object.insert("passes".into(), serde_json::to_value(&compiled.report)?);
            }
            println!("{}", serde_json::to_string_pretty(&document)?);
        } else {
            println!("{stats}");
            if let Some(report) = &compiled.report {
                print_pass_report(report);
            }
        }
    }
    Ok(())
}

/// The options of one compilation besides the model and its calibration.
pub struct Settings {
    /// `--degree`: Chebyshev interpolants of this degree only.
    pub degree: Option<usize>,
    /// `--margin`: interval bound over the calibrated max |x|.
    pub margin: Option<f64>,
    /// `--slots`.
    pub slots: Option<usize>,
    /// The largest slot count the target holds (N/2).
    pub max_slots: usize,
    /// `--max-cts`.
    pub max_cts: usize,
    /// The passes to run; `None` stops after lowering.
    pub schedule: Option<ScheduleOptions>,
}

impl Default for Settings {
    /// What `fhec compile MODEL -o P` does: the chooser's rule, the 128-bit target.
    fn default() -> Self {
        Settings {
            degree: None,
            margin: None,
            slots: None,
            max_slots: CompileOptions::default().max_slots,
            max_cts: 8,
            schedule: Some(ScheduleOptions::default()),
        }
    }
}

/// Compiles a loaded model: its calibration (record or fresh, as `calibration` asks), the
/// activations' polynomials, the lowering and the passes. Shared by `compile` and `demo`.
pub fn compile_model(
    model: &ModelArgs,
    loaded: &LoadedModel,
    calibration: &CalibrationArgs,
    settings: &Settings,
) -> anyhow::Result<Compiled> {
    let graph = &loaded.graph;
    let has_activations = graph
        .nodes
        .iter()
        .any(|n| matches!(n.op, fhec_compiler::graph::TensorOp::Activation(_)));
    let (calibration, approximations) = if has_activations {
        let calibration =
            obtain_calibration(graph, &model.model, calibration, &model.data_search())?;
        let chosen = choose(graph, &calibration, settings.degree, settings.margin)?;
        (Some(calibration), chosen)
    } else {
        (None, BTreeMap::new())
    };
    let options = CompileOptions {
        slots: settings.slots,
        max_slots: settings.max_slots,
        max_cts: settings.max_cts,
        source: Some(ProgramSource {
            model: absolute(&model.model),
            weights: absolute(&loaded.weights_path),
            calibration,
            approximations: approximations.clone(),
        }),
        schedule: settings.schedule.clone(),
        ..CompileOptions::default()
    };
    let spinner = progress::spinner(format!("{}: lowering and scheduling", graph.name));
    let compiled = compile(graph, &approximations, &options)
        .with_context(|| format!("{}: compiling", model.model.display()));
    spinner.finish_and_clear();
    compiled
}

/// The passes' report as text, under the per-layer table.
fn print_pass_report(report: &PassReport) {
    let levels = &report.levels;
    println!(
        "passes: {} bootstraps, {} rescales, {} level drops, {} scale fixes, lowest level {}, \
         {} dead instructions dropped",
        levels.bootstraps,
        levels.rescales,
        levels.level_downs,
        levels.scale_fixes,
        levels.lowest_level,
        levels.dead
    );
    let keys = &report.keys;
    println!(
        "keys: {} rotation offsets used, {} keys kept, {} offsets composed ({} extra rotations)",
        keys.keys_before,
        keys.keys_after,
        keys.decomposed.len(),
        keys.extra_rotations
    );
    let schedule = &report.schedule;
    println!(
        "memory (predicted, keys as held in memory): peak {:.2} GiB = {:.2} GiB values + \
         {:.2} GiB circuit keys + {:.2} GiB bootstrap keys + {:.2} GiB bootstrap plaintexts, \
         {} frees",
        gib(schedule.peak_bytes),
        gib(schedule.peak_value_bytes),
        gib(schedule.circuit_key_bytes),
        gib(schedule.bootstrap_key_bytes),
        gib(schedule.bootstrap_plaintext_bytes),
        schedule.frees
    );
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1u32 << 30)
}
