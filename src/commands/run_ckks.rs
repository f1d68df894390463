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

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use fhec_compiler::data::CifarBatch;
use fhec_compiler::linear::WeightPlaintexts;
use fhec_compiler::reference::{arg_max, top_gap};
use fhec_ir::Value;
use fhec_params::{SecurityLevel, SecurityPolicy};
use fhec_runtime::bootstrap::DiagonalResidency;
use fhec_runtime::exec::layer_probe::{Both, Capture, Compare, LayerTimer, layer_results};
use fhec_runtime::exec::{CkksBackend, CkksClient, CkksSetup, run_observed};

use super::ckks_report::{CkksImage, OpEntry, Report, relative_precision};
use super::eval_progress::EvalProgress;
use super::process_stats::{peak_rss_bytes, process_cpu_ns};
use super::progress;
use super::run::{Args, ClearSession, DiagonalsArg, Loaded, thread_pool};

/// The security label every output carries.
pub fn security_label(level: SecurityLevel) -> &'static str {
    match level {
        SecurityLevel::Bits128 => "128-bit",
        SecurityLevel::Insecure => "INSECURE",
    }
}

/// Seconds since `start`.
fn seconds(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// The CKKS context of a loaded program, refusing insecure parameters unless `insecure`
/// (and then warning on stderr).
pub fn setup(session: &ClearSession, insecure: bool) -> anyhow::Result<CkksSetup> {
    let policy = if insecure {
        SecurityPolicy::AllowInsecure
    } else {
        SecurityPolicy::Require128Bit
    };
    let setup = CkksSetup::from_program(&session.program, policy)
        .with_context(|| session.path.display().to_string())?;
    if setup.security() == SecurityLevel::Insecure {
        eprintln!(
            "WARNING: INSECURE parameters (N = 2^{}): results are for testing only",
            setup.config().params().log_n().0
        );
    }
    Ok(setup)
}

/// An encrypted run ready for images: the client (secret key), the backend (evaluation
/// keys, bootstrapper) and the per-layer probes.
pub struct Encrypted<'a> {
    session: &'a ClearSession,
    client: CkksClient<'a>,
    backend: CkksBackend<'a>,
    plaintexts: WeightPlaintexts,
    probes: HashMap<Value, u32>,
    /// Evaluation keys in memory (expanded), bytes.
    pub eval_key_bytes: usize,
    /// The one-off phases: `keygen_s` and `backend_setup_s`.
    pub phases: BTreeMap<&'static str, f64>,
}

/// Generates the keys of `session`'s program, prepares the backend, and hands `work` the
/// [`Encrypted`] run.
pub fn with_encrypted<R>(
    session: &ClearSession,
    setup: &CkksSetup,
    diagonals: DiagonalsArg,
    work: impl FnOnce(&mut Encrypted<'_>) -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let path = session.path.display().to_string();
    let program = &session.program;
    let waiting = progress::spinner(format!("{path}: generating keys"));
    let start = Instant::now();
    let generated = CkksClient::generate(setup, program);
    waiting.finish_and_clear();
    let (client, keys) = generated.with_context(|| format!("{path}: key generation"))?;
    let keygen_s = seconds(start);

    let waiting = progress::spinner(format!("{path}: preparing the bootstrapper"));
    let start = Instant::now();
    let residency = match diagonals {
        DiagonalsArg::Encoded => DiagonalResidency::Encoded,
        DiagonalsArg::OnDemand => DiagonalResidency::OnDemand,
    };
    let backend = CkksBackend::with_residency(setup, &keys, residency);
    waiting.finish_and_clear();
    let backend = backend.with_context(|| format!("{path}: backend set-up"))?;
    let backend_setup_s = seconds(start);
    work(&mut Encrypted {
        session,
        client,
        backend,
        plaintexts: session.plaintexts(),
        probes: layer_results(program),
        eval_key_bytes: keys.size_bytes(),
        phases: BTreeMap::from([("keygen_s", keygen_s), ("backend_setup_s", backend_setup_s)]),
    })
}

impl Encrypted<'_> {
    /// Encrypts test image `index` of `batch`, evaluates it (a progress bar titled `title`),
    /// decrypts, and compares it with the clear backend, layer by layer.
    pub fn image(
        &mut self,
        batch: &CifarBatch,
        index: usize,
        title: &str,
    ) -> anyhow::Result<CkksImage> {
        let session = self.session;
        let program = &session.program;
        let context = || format!("{}: image {index}", session.path.display());
        let pixels = batch.image(index);

        // The clear backend first, keeping every layer's results for the comparison.
        let mut capture = Capture::new(&self.probes, Box::new(|c: &Vec<f64>| c.clone()));
        let (clear_logits, _) = session
            .run_program_observed(&self.plaintexts, pixels, &mut capture)
            .with_context(context)?;
        let reference = capture.values;
        let (exact, approx) = session.reference(pixels).with_context(context)?;

        let inputs = session.pack_image(pixels).with_context(context)?;
        let start = Instant::now();
        let encrypted = self
            .client
            .encrypt_inputs(program, inputs)
            .with_context(context)?;
        let encrypt_s = seconds(start);

        let start = Instant::now();
        let cpu_start = process_cpu_ns();
        let mut progress = EvalProgress::new(program, title);
        let client = &self.client;
        let mut compare = Compare::new(&self.probes, &reference, Box::new(|c| client.decrypt(c)));
        let mut watchers = Both(&mut progress, &mut compare);
        let mut timer = LayerTimer::start(&mut watchers);
        let outputs = run_observed(
            program,
            &mut self.backend,
            encrypted,
            &self.plaintexts,
            &mut timer,
        );
        let wall_s = seconds(start);
        // The evaluation's own time: the probes' decryptions and the bar are left out.
        let eval_s = wall_s - timer.watching_s;
        let layer_eval_s = timer.seconds;
        let busy_cores = cpu_start
            .zip(process_cpu_ns())
            .map(|(from, to)| (to - from) as f64 * 1e-9 / wall_s.max(1e-9));
        progress.finish();
        let layer_precision_bits = compare.precision.bits();
        let outputs = outputs.with_context(context)?;

        let start = Instant::now();
        let decrypted = self.client.decrypt_outputs(&outputs);
        let logits = session.unpack_logits(&decrypted).with_context(context)?;
        let decrypt_s = seconds(start);

        let (precision_bits, max_abs_diff) = relative_precision(&logits, &clear_logits);
        Ok(CkksImage {
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
            busy_cores,
            precision_bits,
            max_abs_diff,
            logit_gap: top_gap(&clear_logits),
            layer_precision_bits,
            layer_eval_s,
            logits,
            clear_logits,
        })
    }

    /// Evaluation time by IR operation so far.
    pub fn ops(&self) -> BTreeMap<String, OpEntry> {
        self.backend
            .op_times()
            .iter()
            .map(|(op, time)| {
                let entry = OpEntry {
                    count: time.count,
                    seconds: time.total.as_secs_f64(),
                };
                (op.to_string(), entry)
            })
            .collect()
    }
}

/// One line on stderr for a finished image.
pub fn announce(image: &CkksImage) {
    eprintln!(
        "image {}: class {} (clear {}, label {}), {} bits, eval {:.1} s",
        image.index,
        image.class,
        image.clear_class,
        image.label,
        image
            .precision_bits
            .map_or("exact".to_string(), |b| format!("{b:.1}")),
        image.eval_s
    );
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
    let (pool, threads) = thread_pool(args.program.threads)?;
    let program = &session.program;

    let start = Instant::now();
    let setup = setup(&session, args.insecure)?;
    let setup_s = seconds(start);
    let security = security_label(setup.security());
    let fresh = || {
        let mut report = Report::new(
            args.program.program.display().to_string(),
            blake3::hash(&program_bytes).to_hex().to_string(),
            security,
            &program.meta.layers,
        );
        report.threads = threads;
        report.log_n = setup.config().params().log_n().0;
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
    let mut once = BTreeMap::from([("load_s", load_s), ("setup_s", setup_s)]);

    pool.install(|| {
        with_encrypted(&session, &setup, args.bootstrap_diagonals, |encrypted| {
            this_run.eval_key_bytes = encrypted.eval_key_bytes;
            once.extend(encrypted.phases.clone());
            for (done, &index) in todo.iter().enumerate() {
                let title = format!("image {index} ({}/{})", done + 1, todo.len());
                let image = encrypted.image(&batch, index, &title)?;
                announce(&image);
                this_run.add_image(image);
                this_run.ops = encrypted.ops();
                this_run.peak_rss_bytes = peak_rss_bytes();
                update_phases(&mut this_run, &once);
                if let Some((earlier, path)) = &report {
                    let mut joined = earlier.clone();
                    joined.absorb(this_run.clone(), "this run")?;
                    joined.save(path)?;
                }
            }
            Ok(())
        })
    })?;
    update_phases(&mut this_run, &once);
    let summary = match report {
        Some((mut earlier, path)) => {
            earlier.absorb(this_run, "this run")?;
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
