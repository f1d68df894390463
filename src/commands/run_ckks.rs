//! `fhec run program.ron --backend ckks --images a..b [--threads T] [--report r.json]
//! [--insecure]`: the compiled program on real ciphertexts (DESIGN §7, §8).
//!
//! Once: the CKKS context is rebuilt from the parameters the program records, the client
//! generates the secret key and the evaluation keys of the program's key set plus the
//! bootstrapping keys, and the backend prepares the bootstrapper. Per image: pack and encrypt
//! the input (client), evaluate (server side: evaluation keys only), decrypt and unpack the
//! logits (client), and compare with the clear backend on the same program:
//! `precision_bits` is `−log2(max |CKKS logit − clear logit| / max |clear logit|)`, `class`
//! is the CKKS prediction beside `clear_class`, the tensor-level `plain_class` and the label,
//! and `layer_precision_bits` the same measure for every layer's results (decrypted as they
//! are computed: `run` holds the secret key), so the layer where bits are lost is visible.
//!
//! `--bootstrap-diagonals on-demand` trades about 1.5 s per bootstrap at N = 2^16 for the
//! 2.7 GB of DFT diagonals the bootstrapper otherwise keeps encoded.
//!
//! A program compiled for insecure parameters is refused unless `--insecure` is given, and
//! then every output (stderr banner, summary, report) says INSECURE. Stdout gets a JSON
//! summary; `--report` writes the DESIGN §10 report with the time of each phase (setup,
//! keygen, backend setup, and per image encrypt, eval, decrypt), the evaluation time by IR
//! operation and the peak RSS. The report is rewritten after every image and `--resume`
//! continues it (`ckks_report.rs`); an existing report is never overwritten otherwise.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use fhec_compiler::reference::{arg_max, top_gap};
use fhec_params::{SecurityLevel, SecurityPolicy};
use fhec_runtime::bootstrap::DiagonalResidency;
use fhec_runtime::exec::layer_probe::{Both, Capture, Compare, LayerTimer, layer_results};
use fhec_runtime::exec::{CkksBackend, CkksClient, CkksSetup, run_observed};
use indicatif::ProgressBar;

use super::ckks_report::{CkksImage, OpEntry, Report, relative_precision};
use super::eval_progress::EvalProgress;
use super::process_stats::peak_rss_bytes;
use super::run::{Args, DiagonalsArg, Loaded, thread_pool};

/// The security label every output carries.
fn security_label(level: SecurityLevel) -> &'static str {
    match level {
        SecurityLevel::Bits128 => "128-bit",
        SecurityLevel::Insecure => "INSECURE",
    }
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

/// The report this run adds to: the one at `--report` when resuming (checked to be of the
/// same program), else a new one; `None` without `--report`.
fn starting_report(
    args: &Args,
    fresh: impl FnOnce() -> Report,
) -> anyhow::Result<Option<(Report, &Path)>> {
    let Some(path) = args.report.as_deref() else {
        return Ok(None);
    };
    let report = fresh();
    if args.resume && path.exists() {
        let earlier = Report::load(path)?;
        earlier.check_compatible(&report, &format!("{}: this run", path.display()))?;
        return Ok(Some((earlier, path)));
    }
    if path.exists() {
        bail!(
            "{}: a report exists; --resume continues it, or choose another path",
            path.display()
        );
    }
    Ok(Some((report, path)))
}

/// Runs the program on the CKKS backend and prints the summary (and writes the report).
pub fn run(args: Args) -> anyhow::Result<()> {
    let program_bytes = std::fs::read(&args.program.program)
        .with_context(|| format!("{}: cannot read", args.program.program.display()))?;
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
    let program = &session.program;

    let start = Instant::now();
    let setup = CkksSetup::from_program(program, policy).with_context(|| path.clone())?;
    let setup_s = seconds(start);
    let security = security_label(setup.security());
    if setup.security() == SecurityLevel::Insecure {
        eprintln!(
            "WARNING: INSECURE parameters (N = 2^{}): results are for testing only",
            setup.config().params().log_n().0
        );
    }
    let params = setup.config().params();
    let fresh = || {
        let mut report = Report::new(
            path.clone(),
            blake3::hash(&program_bytes).to_hex().to_string(),
            security,
            &program.meta.layers,
        );
        report.threads = threads;
        report.log_n = params.log_n().0;
        report.slots = setup.config().slots();
        report.predicted_peak_bytes = program.meta.predicted_peak_bytes;
        report
    };
    let report = starting_report(&args, fresh)?;
    let mut this_run = fresh();
    this_run.processes = 1;
    let todo: Vec<usize> = images
        .clone()
        .filter(|&i| !report.as_ref().is_some_and(|(r, _)| r.has_image(i)))
        .collect();
    if todo.len() < images.len() {
        eprintln!(
            "resuming: {} of images {}..{} are in the report already",
            images.len() - todo.len(),
            images.start,
            images.end
        );
    }
    let mut phases = BTreeMap::from([("load_s", load_s), ("setup_s", setup_s)]);
    let probes = layer_results(program);

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
        this_run.eval_key_bytes = keys.size_bytes();

        let plaintexts = session.plaintexts();
        for (done, &index) in todo.iter().enumerate() {
            let context = || format!("{path}: image {index}");
            let pixels = batch.image(index);

            // The clear backend first, keeping every layer's results for the comparison.
            let mut capture = Capture::new(&probes, Box::new(|c: &Vec<f64>| c.clone()));
            let (clear_logits, _) = session
                .run_program_observed(&plaintexts, pixels, &mut capture)
                .with_context(context)?;
            let reference = capture.values;
            let (exact, approx) = session.reference(pixels).with_context(context)?;

            let inputs = session.pack_image(pixels).with_context(context)?;
            let start = Instant::now();
            let encrypted = client
                .encrypt_inputs(program, inputs)
                .with_context(context)?;
            let encrypt_s = seconds(start);

            let start = Instant::now();
            let title = format!("image {index} ({}/{})", done + 1, todo.len());
            let mut progress = EvalProgress::new(program, &title);
            let mut compare = Compare::new(&probes, &reference, Box::new(|c| client.decrypt(c)));
            let mut watchers = Both(&mut progress, &mut compare);
            let mut timer = LayerTimer::start(&mut watchers);
            let outputs = run_observed(program, &mut backend, encrypted, &plaintexts, &mut timer);
            // The evaluation's own time: the probes' decryptions and the bar are left out.
            let eval_s = seconds(start) - timer.watching_s;
            let layer_eval_s = timer.seconds;
            progress.finish();
            let layer_precision_bits = compare.precision.bits();
            let outputs = outputs.with_context(context)?;

            let start = Instant::now();
            let decrypted = client.decrypt_outputs(&outputs);
            let logits = session.unpack_logits(&decrypted).with_context(context)?;
            let decrypt_s = seconds(start);

            let (precision_bits, max_abs_diff) = relative_precision(&logits, &clear_logits);
            let image = CkksImage {
                index,
                label: batch.labels()[index],
                class: arg_max(&logits),
                clear_class: arg_max(&clear_logits),
                plain_class: arg_max(&exact),
                approx_class: arg_max(&approx),
                time_s: encrypt_s + eval_s + decrypt_s,
                encrypt_s,
                eval_s,
                decrypt_s,
                precision_bits,
                max_abs_diff,
                logit_gap: top_gap(&clear_logits),
                layer_precision_bits,
                layer_eval_s,
                logits,
                clear_logits,
            };
            eprintln!(
                "image {index}: class {} (clear {}, label {}), {} bits, eval {:.1} s",
                image.class,
                image.clear_class,
                image.label,
                image
                    .precision_bits
                    .map_or("exact".to_string(), |b| format!("{b:.1}")),
                image.eval_s
            );
            this_run.add_image(image);
            update_phases(&mut this_run, &phases);
            this_run.ops = backend
                .op_times()
                .iter()
                .map(|(op, time)| {
                    let entry = OpEntry {
                        count: time.count,
                        seconds: time.total.as_secs_f64(),
                    };
                    (op.to_string(), entry)
                })
                .collect();
            this_run.peak_rss_bytes = peak_rss_bytes();
            if let Some((earlier, path)) = &report {
                let mut joined = earlier.clone();
                joined.absorb(this_run.clone(), "this run")?;
                joined.save(path)?;
            }
        }
        Ok(())
    })?;
    update_phases(&mut this_run, &phases);
    let summary = match report {
        Some((mut earlier, path)) => {
            if this_run.images.is_empty() {
                earlier.refresh();
            } else {
                earlier.absorb(this_run, "this run")?;
            }
            earlier.save(path)?;
            earlier.summary
        }
        None => {
            this_run.refresh();
            this_run.summary
        }
    };
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// Sets this run's phases: the one-off ones as measured, the per-image ones summed over its
/// images.
fn update_phases(run: &mut Report, once: &BTreeMap<&'static str, f64>) {
    run.phases = once.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let total = |pick: fn(&CkksImage) -> f64| run.images.iter().map(pick).sum::<f64>();
    let sums = [
        ("encrypt_s", total(|i| i.encrypt_s)),
        ("eval_s", total(|i| i.eval_s)),
        ("decrypt_s", total(|i| i.decrypt_s)),
    ];
    for (phase, seconds) in sums {
        run.phases.insert(phase.to_string(), seconds);
    }
}
