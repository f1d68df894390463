//! `fhec bench model program.ron --backend clear|ckks --images 0..K [--json]`: the per-image
//! time of running a compiled program (DESIGN §10).
//!
//! Images run one after another (each time is one image's latency, every `--threads` thread
//! available to it). On the clear backend one untimed warm-up image runs first; on the CKKS
//! backend keys are generated once, untimed in `time_s` but reported in `phases`, and the time
//! of an image is its evaluation (encryption and decryption are client work, in `phases`).
//! The JSON has the DESIGN §10 report/bench-model shape: per image its index, label, class,
//! the exact model's class, time and precision (against the tensor level with the program's
//! activations on the clear backend, against the clear backend on CKKS), plus the
//! median/min/max time, the peak resident set size and, on CKKS, the average busy cores and
//! the evaluation time per operation and per layer.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::bail;
use serde::Serialize;

use super::ckks_report::{CkksImage, LayerSummary, OpEntry, Report};
use super::compile::progress_bar;
use super::process_stats::peak_rss_bytes;
use super::run::{
    BackendKind, DiagonalsArg, ImageRange, ImageResult, Loaded, ProgramArgs, layer_times,
    thread_pool,
};
use super::run_ckks;

/// Options of `fhec bench model`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    program: ProgramArgs,
    /// Test images to time, `a..b` or one index.
    #[arg(long, default_value = "0..4")]
    images: ImageRange,
    /// Print JSON instead of a line of text.
    #[arg(long)]
    json: bool,
    /// With `--backend ckks`: accept a program compiled for INSECURE parameters (tests and
    /// small experiments only; the JSON then says so).
    #[arg(long)]
    insecure: bool,
}

#[derive(Serialize)]
struct TimeSummary {
    median: f64,
    min: f64,
    max: f64,
}

#[derive(Serialize)]
struct ImageEntry {
    index: usize,
    label: u8,
    class: usize,
    plain_class: usize,
    time_s: f64,
    precision_bits: Option<f64>,
}

impl TimeSummary {
    fn of(mut times: Vec<f64>) -> Self {
        times.sort_by(f64::total_cmp);
        TimeSummary {
            median: times[times.len() / 2],
            min: times[0],
            max: times[times.len() - 1],
        }
    }
}

#[derive(Serialize)]
struct ModelReport {
    bench: &'static str,
    program: String,
    backend: &'static str,
    threads: usize,
    slots: u32,
    instructions: usize,
    peak_rss_bytes: Option<u64>,
    predicted_peak_bytes: Option<u64>,
    time_s: TimeSummary,
    images: Vec<ImageEntry>,
    /// Seconds spent loading (program, model, weights, data) and running.
    phases: BTreeMap<&'static str, f64>,
    /// `"128-bit"` or `"INSECURE"` on CKKS.
    #[serde(skip_serializing_if = "Option::is_none")]
    security: Option<&'static str>,
    /// CPU time over wall time during the evaluations (CKKS).
    #[serde(skip_serializing_if = "Option::is_none")]
    mean_busy_cores: Option<f64>,
    /// Evaluation time by IR operation (CKKS).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    ops: BTreeMap<String, OpEntry>,
    /// Evaluation time per model layer, and on CKKS its precision.
    layers: Vec<LayerSummary>,
}

/// The largest slot count of the program's inputs.
fn input_slots(program: &fhec_ir::Program) -> u32 {
    program
        .inputs()
        .filter_map(|(_, v)| program.value_type(v))
        .map(|t| t.slots)
        .max()
        .unwrap_or(0)
}

/// Prints `report` as JSON or as one line of text.
fn print(report: &ModelReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!(
            "{}: {} images on the {} backend, {} threads: median {:.3} s per image (min {:.3}, max {:.3})",
            report.program,
            report.images.len(),
            report.backend,
            report.threads,
            report.time_s.median,
            report.time_s.min,
            report.time_s.max
        );
    }
    Ok(())
}

/// Times the program on the CKKS backend.
fn bench_ckks(args: Args) -> anyhow::Result<()> {
    let Loaded {
        session,
        batch,
        images,
        load_s,
    } = args.program.load_for_any_backend(args.images.0.clone())?;
    let (pool, threads) = thread_pool(args.program.threads)?;
    let setup = run_ckks::setup(&session, args.insecure)?;
    let program = &session.program;
    let mut report = Report::new(
        args.program.program.display().to_string(),
        String::new(),
        run_ckks::security_label(setup.security()),
        &program.meta.layers,
    );
    let mut phases = BTreeMap::from([("load_s", load_s)]);
    pool.install(|| {
        run_ckks::with_encrypted(&session, &setup, DiagonalsArg::Encoded, |encrypted| {
            phases.extend(encrypted.phases.clone());
            for (done, index) in images.clone().enumerate() {
                let title = format!("image {index} ({}/{})", done + 1, images.len());
                let image = encrypted.image(&batch, index, &title)?;
                run_ckks::announce(&image);
                report.add_image(image);
            }
            report.ops = encrypted.ops();
            Ok(())
        })
    })?;
    report.refresh();
    let total = |pick: fn(&CkksImage) -> f64| report.images.iter().map(pick).sum::<f64>();
    phases.insert("encrypt_s", total(|i| i.encrypt_s));
    phases.insert("eval_s", total(|i| i.eval_s));
    phases.insert("decrypt_s", total(|i| i.decrypt_s));
    let bench = ModelReport {
        bench: "model",
        program: report.program.clone(),
        backend: "ckks",
        threads,
        slots: input_slots(program),
        instructions: program.order().len(),
        peak_rss_bytes: peak_rss_bytes(),
        predicted_peak_bytes: program.meta.predicted_peak_bytes,
        time_s: TimeSummary::of(report.images.iter().map(|i| i.eval_s).collect()),
        images: report
            .images
            .iter()
            .map(|i| ImageEntry {
                index: i.index,
                label: i.label,
                class: i.class,
                plain_class: i.plain_class,
                time_s: i.eval_s,
                precision_bits: i.precision_bits,
            })
            .collect(),
        phases,
        security: Some(run_ckks::security_label(setup.security())),
        mean_busy_cores: report.summary.mean_busy_cores,
        ops: report.ops.clone(),
        layers: report.layers.clone(),
    };
    print(&bench, args.json)
}

/// Times the program on the images.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.program.backend == BackendKind::Ckks {
        return bench_ckks(args);
    }
    if args.insecure {
        bail!("--insecure only applies to --backend ckks");
    }
    let Loaded {
        session,
        batch,
        images,
        load_s,
    } = args.program.load(args.images.0.clone())?;
    let (pool, threads) = thread_pool(args.program.threads)?;
    let run_start = Instant::now();
    let bar = progress_bar(images.len() + 1, "bench model".into(), "images")?;
    let results: Vec<ImageResult> = pool.install(|| {
        let plaintexts = session.plaintexts();
        session.image(&plaintexts, &batch, images.start)?;
        bar.inc(1);
        images
            .clone()
            .map(|index| {
                let result = session.image(&plaintexts, &batch, index);
                bar.inc(1);
                result
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    bar.finish_and_clear();
    let phases = BTreeMap::from([
        ("load_s", load_s),
        ("run_s", run_start.elapsed().as_secs_f64()),
    ]);
    let report = ModelReport {
        bench: "model",
        program: args.program.program.display().to_string(),
        backend: "clear",
        threads,
        slots: input_slots(&session.program),
        instructions: session.program.order().len(),
        peak_rss_bytes: peak_rss_bytes(),
        predicted_peak_bytes: None,
        time_s: TimeSummary::of(results.iter().map(|r| r.time_s).collect()),
        images: results
            .iter()
            .map(|r| ImageEntry {
                index: r.index,
                label: r.label,
                class: r.class,
                plain_class: r.plain_class,
                time_s: r.time_s,
                precision_bits: Some(r.precision_bits),
            })
            .collect(),
        phases,
        security: None,
        mean_busy_cores: None,
        ops: BTreeMap::new(),
        layers: layer_times(&session.program, &results)
            .into_iter()
            .map(|layer| LayerSummary {
                index: layer.index,
                name: layer.name,
                op: layer.op,
                min_precision_bits: None,
                mean_precision_bits: None,
                mean_eval_s: layer.mean_eval_s,
            })
            .collect(),
    };
    print(&report, args.json)
}
