//! `fhec bench model program.ron --backend clear --images 0..K [--json]`: the per-image time of
//! running a compiled program (DESIGN §10, issue 6).
//!
//! Images run one after another (each time is one image's latency, every `--threads` thread
//! available to it), after one untimed warm-up image. The JSON has the DESIGN §10
//! report/bench-model shape: per image its index, label, class, the exact model's class and
//! time, plus the median/min/max time and the peak resident set size.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::compile::progress_bar;
use super::process_stats::peak_rss_bytes;
use super::run::{ImageRange, ImageResult, Loaded, ProgramArgs, thread_pool};

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
    precision_bits: f64,
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
    /// Per-layer times: not measured yet (the layer side table is not in `program.ron`).
    layers: Vec<()>,
}

/// Times the program on the images.
pub fn run(args: Args) -> anyhow::Result<()> {
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
    let mut times: Vec<f64> = results.iter().map(|r| r.time_s).collect();
    times.sort_by(f64::total_cmp);
    let time_s = TimeSummary {
        median: times[times.len() / 2],
        min: times[0],
        max: times[times.len() - 1],
    };
    let report = ModelReport {
        bench: "model",
        program: args.program.program.display().to_string(),
        backend: "clear",
        threads,
        slots: session
            .program
            .inputs()
            .filter_map(|(_, v)| session.program.value_type(v))
            .map(|t| t.slots)
            .max()
            .unwrap_or(0),
        instructions: session.program.order().len(),
        peak_rss_bytes: peak_rss_bytes(),
        predicted_peak_bytes: None,
        time_s,
        images: results
            .iter()
            .map(|r| ImageEntry {
                index: r.index,
                label: r.label,
                class: r.class,
                plain_class: r.plain_class,
                time_s: r.time_s,
                precision_bits: r.precision_bits,
            })
            .collect(),
        phases,
        layers: Vec::new(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: {} images on the clear backend, {} threads: median {:.3} s per image (min {:.3}, max {:.3})",
            report.program,
            report.images.len(),
            threads,
            report.time_s.median,
            report.time_s.min,
            report.time_s.max
        );
    }
    Ok(())
}
