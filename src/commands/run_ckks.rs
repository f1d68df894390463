//! `fhec run program.ron --backend ckks --images a..b [--threads T] [--report r.json]
//! [--insecure]`: the compiled program on real ciphertexts (DESIGN §7, §8).
//!
//! Once: the CKKS context is rebuilt from the parameters the program records, the client
//! generates the secret key and the evaluation keys of the program's key set plus the
//! bootstrapping keys, and the backend prepares the bootstrapper. Per image: pack and encrypt
//! the input (client), evaluate (server side: evaluation keys only), decrypt and unpack the
//! logits (client), and compare with the clear backend on the same program:
//! `precision_bits` is `−log2(max |CKKS logit − clear logit| / max |clear logit|)`, `class`
//! is the CKKS prediction beside `clear_class`, the tensor-level `plain_class` and the label.
//!
//! `--bootstrap-diagonals on-demand` trades about 1.5 s per bootstrap at N = 2^16 for the
//! 2.7 GB of DFT diagonals the bootstrapper otherwise keeps encoded.
//!
//! A program compiled for insecure parameters is refused unless `--insecure` is given, and
//! then every output (stderr banner, summary, report) says INSECURE. Stdout gets a JSON
//! summary; `--report` writes the DESIGN §10 report with the time of each phase (setup,
//! keygen, backend setup, and per image encrypt, eval, decrypt), the evaluation time by IR
//! operation and the peak RSS.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;
use fhec_compiler::reference::arg_max;
use fhec_params::{SecurityLevel, SecurityPolicy};
use fhec_runtime::bootstrap::DiagonalResidency;
use fhec_runtime::exec::{CkksBackend, CkksClient, CkksSetup, run as exec_run};
use indicatif::ProgressBar;
use serde::Serialize;

use super::compile::progress_bar;
use super::files::write_atomically;
use super::process_stats::peak_rss_bytes;
use super::run::{Args, DiagonalsArg, Loaded, thread_pool};

/// What one image gave on the CKKS backend.
#[derive(Clone, Debug, Serialize)]
struct CkksImage {
    index: usize,
    label: u8,
    /// The CKKS prediction.
    class: usize,
    /// The clear backend's prediction on the same program.
    clear_class: usize,
    /// The exact tensor-level model's prediction.
    plain_class: usize,
    /// Encrypt + eval + decrypt, seconds.
    time_s: f64,
    encrypt_s: f64,
    eval_s: f64,
    decrypt_s: f64,
    /// `−log2(max |CKKS − clear| / max |clear|)` over the logits.
    precision_bits: f64,
    /// `max |CKKS − clear|`.
    max_abs_diff: f64,
    logits: Vec<f64>,
    clear_logits: Vec<f64>,
}

/// Totals over the images run.
#[derive(Serialize)]
struct Summary {
    backend: &'static str,
    /// `"128-bit"` or `"INSECURE"`.
    security: &'static str,
    images: usize,
    accuracy: f64,
    /// Fraction of images whose CKKS class equals the clear backend's.
    agreement_clear: f64,
    /// Fraction whose CKKS class equals the exact tensor-level model's.
    agreement_plain: f64,
    /// Smallest `precision_bits` over the images.
    min_precision_bits: f64,
    mean_time_s: f64,
}

/// The report (DESIGN §10 shape, with CKKS fields added).
#[derive(Serialize)]
struct Report<'a> {
    program: String,
    backend: &'static str,
    security: &'static str,
    threads: usize,
    log_n: u32,
    slots: usize,
    peak_rss_bytes: Option<u64>,
    /// The schedule's prediction (program metadata), to set beside `peak_rss_bytes`.
    predicted_peak_bytes: Option<u64>,
    /// Evaluation keys in memory (expanded), bytes.
    eval_key_bytes: usize,
    summary: &'a Summary,
    images: &'a [CkksImage],
    phases: BTreeMap<&'static str, f64>,
    /// Evaluation time by IR operation over all images (`bootstrap`, `rotate`, `plain`, ...).
    ops: BTreeMap<&'static str, OpEntry>,
    layers: Vec<()>,
}

/// One operation kind in the report.
#[derive(Serialize)]
struct OpEntry {
    count: u64,
    seconds: f64,
}

/// The security label every output carries.
fn security_label(level: SecurityLevel) -> &'static str {
    match level {
        SecurityLevel::Bits128 => "128-bit",
        SecurityLevel::Insecure => "INSECURE",
    }
}

/// `−log2(max |got − expected| / max |expected|)`, and the largest absolute difference.
fn relative_precision(got: &[f64], expected: &[f64]) -> (f64, f64) {
    let diff = got
        .iter()
        .zip(expected)
        .map(|(g, e)| (g - e).abs())
        .fold(0.0, f64::max);
    let peak = expected.iter().map(|e| e.abs()).fold(0.0, f64::max);
    let relative = if peak > 0.0 { diff / peak } else { diff };
    (-relative.log2(), diff)
}

/// Seconds since `start`.
fn seconds(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// A spinner on stderr for a long single step (hidden when stderr is not a terminal).
fn spinner(message: String) -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(message);
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    spinner
}

/// Runs the program on the CKKS backend and prints the summary (and writes the report).
pub fn run(args: Args) -> anyhow::Result<()> {
    let Loaded {
        session,
        batch,
        images,
        load_s,
    } = args.program.load_for_any_backend(args.images.0.clone())?;
    let path = args.program.program.display().to_string();
    let (pool, threads) = thread_pool(args.program.threads)?;
    let policy = if args.insecure {
        SecurityPolicy::AllowInsecure
    } else {
        SecurityPolicy::Require128Bit
    };
    let mut phases = BTreeMap::from([("load_s", load_s)]);
    let program = &session.program;

    let start = Instant::now();
    let setup = CkksSetup::from_program(program, policy).with_context(|| path.clone())?;
    phases.insert("setup_s", seconds(start));
    let security = security_label(setup.security());
    if setup.security() == SecurityLevel::Insecure {
        eprintln!(
            "WARNING: INSECURE parameters (N = 2^{}): results are for testing only",
            setup.config().params().log_n().0
        );
    }

    pool.install(|| -> anyhow::Result<()> {
        let waiting = spinner(format!("{path}: generating keys"));
        let start = Instant::now();
        let generated = CkksClient::generate(&setup, program);
        waiting.finish_and_clear();
        let (mut client, keys) = generated.with_context(|| format!("{path}: key generation"))?;
        phases.insert("keygen_s", seconds(start));

        let waiting = spinner(format!("{path}: preparing the bootstrapper"));
        let start = Instant::now();
        let residency = match args.bootstrap_diagonals {
            DiagonalsArg::Encoded => DiagonalResidency::Encoded,
            DiagonalsArg::OnDemand => DiagonalResidency::OnDemand,
        };
        let backend = CkksBackend::with_residency(&setup, &keys, residency);
        waiting.finish_and_clear();
        let mut backend = backend.with_context(|| format!("{path}: backend set-up"))?;
        phases.insert("backend_setup_s", seconds(start));

        let plaintexts = session.plaintexts();
        let bar = progress_bar(images.len(), format!("ckks backend ({security})"), "images")?;
        let mut results = Vec::with_capacity(images.len());
        for index in images.clone() {
            let context = || format!("{path}: image {index}");
            let pixels = batch.image(index);
            let inputs = session.pack_image(pixels).with_context(context)?;
            let start = Instant::now();
            let encrypted = client
                .encrypt_inputs(program, inputs)
                .with_context(context)?;
            let encrypt_s = seconds(start);
            let start = Instant::now();
            let outputs =
                exec_run(program, &mut backend, encrypted, &plaintexts).with_context(context)?;
            let eval_s = seconds(start);
            let start = Instant::now();
            let decrypted = client.decrypt_outputs(&outputs);
            let logits = session.unpack_logits(&decrypted).with_context(context)?;
            let decrypt_s = seconds(start);
            let clear = session
                .image(&plaintexts, &batch, index)
                .with_context(context)?;
            let (precision_bits, max_abs_diff) = relative_precision(&logits, &clear.logits);
            results.push(CkksImage {
                index,
                label: clear.label,
                class: arg_max(&logits),
                clear_class: clear.class,
                plain_class: clear.plain_class,
                time_s: encrypt_s + eval_s + decrypt_s,
                encrypt_s,
                eval_s,
                decrypt_s,
                precision_bits,
                max_abs_diff,
                logits,
                clear_logits: clear.logits,
            });
            bar.inc(1);
        }
        bar.finish_and_clear();
        let total = |pick: fn(&CkksImage) -> f64| results.iter().map(pick).sum::<f64>();
        phases.insert("encrypt_s", total(|r| r.encrypt_s));
        phases.insert("eval_s", total(|r| r.eval_s));
        phases.insert("decrypt_s", total(|r| r.decrypt_s));

        let n = results.len().max(1) as f64;
        let fraction =
            |f: fn(&CkksImage) -> bool| results.iter().filter(|r| f(r)).count() as f64 / n;
        let summary = Summary {
            backend: "ckks",
            security,
            images: results.len(),
            accuracy: fraction(|r| r.class == usize::from(r.label)),
            agreement_clear: fraction(|r| r.class == r.clear_class),
            agreement_plain: fraction(|r| r.class == r.plain_class),
            min_precision_bits: results
                .iter()
                .map(|r| r.precision_bits)
                .fold(f64::INFINITY, f64::min),
            mean_time_s: total(|r| r.time_s) / n,
        };
        println!("{}", serde_json::to_string_pretty(&summary)?);
        if let Some(report_path) = &args.report {
            let params = setup.config().params();
            let report = Report {
                program: path.clone(),
                backend: "ckks",
                security,
                threads,
                log_n: params.log_n().0,
                slots: setup.config().slots(),
                peak_rss_bytes: peak_rss_bytes(),
                predicted_peak_bytes: program.meta.predicted_peak_bytes,
                eval_key_bytes: keys.size_bytes(),
                summary: &summary,
                images: &results,
                phases: phases.clone(),
                ops: backend
                    .op_times()
                    .iter()
                    .map(|(op, time)| {
                        let seconds = time.total.as_secs_f64();
                        (
                            op,
                            OpEntry {
                                count: time.count,
                                seconds,
                            },
                        )
                    })
                    .collect(),
                layers: Vec::new(),
            };
            write_atomically(
                report_path,
                serde_json::to_string_pretty(&report)?.as_bytes(),
            )?;
        }
        Ok(())
    })
}
