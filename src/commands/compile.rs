//! `fhec compile MODEL.ron -o program.ron [--stats] [--calibration-images N] ...`: calibrate
//! the model on the training batch, choose every activation's polynomial, lower the graph to
//! one HE IR program, schedule it for the 128-bit `N16_BOOT` bootstrapping parameters (levels,
//! bootstraps, rotation keys, memory order: `compiler/src/passes/`) and write it as RON
//! (DESIGN §7); `--unscheduled` stops after lowering.
//!
//! The program records the model, the weights, the calibration and the approximations it was
//! compiled with (`fhec run` uses them). `--stats` prints per layer and in total the rotations
//! (key switches), ct×ct and ct×pt products, plaintexts and depth (`--json`: as JSON).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use fhec_compiler::lower::{CompileOptions, ProgramSource, ScheduleOptions, compile};
use fhec_compiler::passes::{PASS_NAMES, PassReport, dump_after};
use fhec_compiler::stats::program_stats;
use fhec_compiler::target::Target;
use fhec_params::bootstrap::test_boot_insecure;
use indicatif::{ProgressBar, ProgressStyle};

use super::approximation::calibrate_and_choose;
use super::check::ModelArgs;
use super::files::write_atomically;
use super::outputs::check_outputs;

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
    /// Calibrate on the first K images of the training batch.
    #[arg(long, default_value_t = 10_000)]
    calibration_images: usize,
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
    let graph = &loaded.graph;
    let has_activations = graph
        .nodes
        .iter()
        .any(|n| matches!(n.op, fhec_compiler::graph::TensorOp::Activation(_)));
    let (calibration, approximations) = if has_activations {
        let data_dir = args.model.data_search().resolve()?;
        let approximations = calibrate_and_choose(
            graph,
            &data_dir,
            args.calibration_images,
            args.degree,
            args.margin,
        )?;
        (Some(approximations.calibration), approximations.chosen)
    } else {
        (None, BTreeMap::new())
    };
    let (target, max_slots) = match test_preset {
        Some(log_n) => (Some(test_target(log_n, args.slots)?), 1usize << (log_n - 1)),
        None => (None, CompileOptions::default().max_slots),
    };
    let options = CompileOptions {
        slots: args.slots.or(target.as_ref().map(|_| max_slots)),
        max_slots,
        max_cts: args.max_cts,
        source: Some(ProgramSource {
            model: absolute(&args.model.model),
            weights: absolute(&loaded.weights_path),
            calibration,
            approximations: approximations.clone(),
        }),
        schedule: (!args.unscheduled).then(|| ScheduleOptions {
            target,
            max_rotation_keys: args.max_rotation_keys,
            memory_budget: args.memory_budget,
            dump: args.dump_after.is_some(),
        }),
        ..CompileOptions::default()
    };
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("{}: lowering and scheduling", graph.name));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let compiled = compile(graph, &approximations, &options)
        .with_context(|| format!("{}: compiling", args.model.model.display()));
    spinner.finish_and_clear();
    let compiled = compiled?;
    let text = compiled
        .program
        .to_ron()
        .context("serializing the program")?;
    write_atomically(&args.output, text.as_bytes())?;
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
