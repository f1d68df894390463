//! `fhec demo [--image I]`: what the tool is for, in one command. It compiles the shipped
//! ResNet-20 (or reuses the program cached for the same binary, model, weights and
//! calibration record), generates keys, encrypts CIFAR-10 test image `I` (default 0), evaluates
//! it encrypted with the evaluation keys only, decrypts, and prints the class with the label and
//! the plain model's answer, and the time and peak memory of each step.
//!
//! The steps are those of `fhec compile`, `keygen`, `encrypt`, `eval` and `decrypt` (the same
//! library calls), in one process and without writing keys or ciphertexts to disk.
//! `--program P` skips compiling (e.g. a program compiled for small insecure parameters, with
//! `--insecure`); `--compile-only` stops once the program is in the cache.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use fhec_compiler::calibrate::{model_hash, record_path};
use fhec_compiler::data::{DataDirSearch, class_names, shipped_sample_dir};
use fhec_compiler::frontend::LoadedModel;
use fhec_compiler::lower::io::program_source;
use fhec_compiler::reference::arg_max;
use fhec_params::{SecurityLevel, SecurityPolicy};
use fhec_runtime::exec::{CkksBackend, CkksClient, CkksSetup, run_observed};

use super::approximation::CalibrationArgs;
use super::check::ModelArgs;
use super::compile::{Settings, compile_model};
use super::eval_progress::EvalProgress;
use super::files::{read_chunks, write_atomically};
use super::process_stats::{peak_rss_bytes, reset_peak_rss};
use super::progress;
use super::run::{ClearSession, load_test_images, thread_pool};

/// Arguments of `fhec demo`.
#[derive(clap::Args)]
pub struct Args {
    /// The CIFAR-10 test image to classify.
    #[arg(long, default_value_t = 0)]
    image: usize,
    /// The model to compile [default: the shipped models/resnet20.ron].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Use this compiled program instead of compiling the model.
    #[arg(long, conflicts_with = "model")]
    program: Option<PathBuf>,
    /// Data directory (else $FHEC_DATA, else ../shared/data, else the shipped sample).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where compiled programs are kept between runs [default: target/fhec-demo in the
    /// source tree].
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Stop once the program is compiled (or found in the cache).
    #[arg(long, conflicts_with = "program")]
    compile_only: bool,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Accept a program compiled for INSECURE parameters (tests only; outputs say so).
    #[arg(long)]
    insecure: bool,
}

/// One step's figures.
struct Step {
    name: &'static str,
    seconds: f64,
    /// Peak resident memory during the step (of the process so far where the peak cannot be
    /// reset).
    peak_bytes: Option<u64>,
    note: String,
}

/// The steps run so far.
#[derive(Default)]
struct Steps(Vec<Step>);

impl Steps {
    /// Runs `work` as step `name` with a spinner saying `doing`, recording its time and peak
    /// memory.
    fn run<T>(
        &mut self,
        name: &'static str,
        doing: String,
        work: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        self.timed(name, Some(doing), work)
    }

    /// Runs `work` as step `name`, with a spinner saying `doing` if given.
    fn timed<T>(
        &mut self,
        name: &'static str,
        doing: Option<String>,
        work: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        reset_peak_rss();
        let spinner = doing.map(progress::spinner);
        let start = Instant::now();
        let result = work();
        if let Some(spinner) = spinner {
            spinner.finish_and_clear();
        }
        self.0.push(Step {
            name,
            seconds: start.elapsed().as_secs_f64(),
            peak_bytes: peak_rss_bytes(),
            note: String::new(),
        });
        result
    }

    /// [`Self::run`] without the spinner, for a step that draws its own progress.
    fn run_quietly<T>(
        &mut self,
        name: &'static str,
        work: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        self.timed(name, None, work)
    }

    /// Adds a note to the last step.
    fn note(&mut self, note: String) {
        if let Some(step) = self.0.last_mut() {
            step.note = note;
        }
    }

    fn print(&self) {
        println!("{:<10} {:>9} {:>12}", "step", "time", "peak memory");
        for step in &self.0 {
            let memory = step
                .peak_bytes
                .map_or_else(|| "n/a".to_owned(), |b| format!("{:.2} GiB", gib(b)));
            println!(
                "{:<10} {:>7.1} s {:>12}  {}",
                step.name, step.seconds, memory, step.note
            );
        }
        let total: f64 = self.0.iter().map(|s| s.seconds).sum();
        println!("{:<10} {total:>7.1} s", "total");
    }
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1u32 << 30)
}

/// The shipped ResNet-20 description, in the source tree this binary was built from.
fn shipped_model() -> PathBuf {
    shipped_sample_dir()
        .parent()
        .map_or_else(|| PathBuf::from("models"), Path::to_path_buf)
        .join("resnet20.ron")
}

/// The default cache: `target/fhec-demo` of the source tree.
fn default_cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fhec-demo")
}

/// What a cached program depends on: this binary (the compiler's code), the model (graph and
/// weights, [`model_hash`]), where its weights are (recorded in the program) and its
/// calibration record. Hex.
fn cache_key(loaded: &LoadedModel, model: &Path) -> anyhow::Result<String> {
    let mut hasher = blake3::Hasher::new();
    let exe = std::env::current_exe().context("cannot find this program's executable")?;
    read_chunks(&exe, |chunk| {
        hasher.update(chunk);
    })?;
    hasher.update(model_hash(&loaded.graph).as_bytes());
    hasher.update(
        std::fs::canonicalize(&loaded.weights_path)
            .unwrap_or_else(|_| loaded.weights_path.clone())
            .to_string_lossy()
            .as_bytes(),
    );
    if let Ok(record) = std::fs::read(record_path(model)) {
        hasher.update(&record);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// The program of the model: from the cache when this binary compiled the same model with
/// the same weights and calibration before, otherwise compiled (128-bit `N16_BOOT`) and cached.
fn cached_program(args: &Args, steps: &mut Steps) -> anyhow::Result<PathBuf> {
    let model = ModelArgs {
        model: args.model.clone().unwrap_or_else(shipped_model),
        weights: None,
        data: args.data.clone(),
    };
    let loaded = model.load()?;
    let key = cache_key(&loaded, &model.model)?;
    let cache = args.cache.clone().unwrap_or_else(default_cache);
    let path = cache.join(format!("{}-{}.program.ron", loaded.graph.name, &key[..16]));
    if path.is_file() {
        steps.run("compile", "looking up the program".into(), || Ok(()))?;
        steps.note(format!("cached: {}", path.display()));
        return Ok(path);
    }
    let doing = format!("compiling {} (lowering, passes)", model.model.display());
    let compiled = steps.run("compile", doing, || {
        compile_model(
            &model,
            &loaded,
            &CalibrationArgs::default(),
            &Settings::default(),
        )
    })?;
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("{}: cannot create the directory", cache.display()))?;
    let text = compiled
        .program
        .to_ron()
        .context("serializing the program")?;
    write_atomically(&path, text.as_bytes())?;
    steps.note(format!(
        "{} instructions, cached as {}",
        compiled.program.order().len(),
        path.display()
    ));
    Ok(path)
}

/// Compiles (or finds) the program, then classifies the image encrypted and prints the steps.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut steps = Steps::default();
    let program_path = match &args.program {
        Some(path) => path.clone(),
        None => cached_program(&args, &mut steps)?,
    };
    if args.compile_only {
        steps.print();
        println!("program: {}", program_path.display());
        return Ok(());
    }
    let data = DataDirSearch::from_process(args.data.clone());
    let session = ClearSession::load(&program_path, None, &data)?;
    session.check_image_model()?;
    let index = args.image;
    let batch = load_test_images(&data, &(index..index + 1))?;
    let data_dir = data.resolve_dir()?;
    if args.program.is_some() {
        // Otherwise loading the model to compile it has said it.
        eprintln!("{}", data_dir.describe());
    }
    let names = class_names(&data_dir.path.join("cifar10/batches.meta.txt"));
    let policy = if args.insecure {
        SecurityPolicy::AllowInsecure
    } else {
        SecurityPolicy::Require128Bit
    };
    let program = &session.program;
    let path = program_path.display().to_string();
    let setup = CkksSetup::from_program(program, policy).with_context(|| path.clone())?;
    let log_n = setup.config().params().log_n().0;
    let security = match setup.security() {
        SecurityLevel::Bits128 => "128-bit",
        SecurityLevel::Insecure => {
            eprintln!("WARNING: INSECURE parameters (N = 2^{log_n}): for testing only");
            "INSECURE"
        }
    };
    let (pool, threads) = thread_pool(args.threads)?;
    let pixels = batch.image(index);
    let logits = pool.install(|| -> anyhow::Result<Vec<f64>> {
        let (mut client, keys) = steps.run("keygen", "generating keys".into(), || {
            CkksClient::generate(&setup, program).with_context(|| format!("{path}: key generation"))
        })?;
        steps.note(format!(
            "{:.2} GiB of evaluation keys",
            gib(keys.size_bytes() as u64)
        ));
        let encrypted = steps.run("encrypt", format!("encrypting image {index}"), || {
            let inputs = session.pack_image(pixels)?;
            Ok(client.encrypt_inputs(program, inputs)?)
        })?;
        let mut backend = steps.run("prepare", "preparing the bootstrapper".into(), || {
            CkksBackend::new(&setup, &keys).with_context(|| format!("{path}: backend set-up"))
        })?;
        steps.note("server: evaluation keys only".into());
        let outputs = steps.run_quietly("evaluate", || {
            let mut progress = EvalProgress::new(program, "evaluating on the ciphertext");
            let outputs = run_observed(
                program,
                &mut backend,
                encrypted,
                &session.plaintexts(),
                &mut progress,
            );
            progress.finish();
            outputs.with_context(|| format!("{path}: evaluating image {index}"))
        })?;
        steps.run("decrypt", "decrypting".into(), || {
            session.unpack_logits(&client.decrypt_outputs(&outputs))
        })
    })?;
    let (exact, _) = session.reference(pixels)?;
    let model = program_source(program)
        .ok()
        .and_then(|source| {
            Path::new(&source.model)
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "the model".to_owned());
    let name = |class: usize| {
        names
            .get(class)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    };
    let class = arg_max(&logits);
    let label = usize::from(batch.labels()[index]);
    let plain = arg_max(&exact);

    println!(
        "fhec demo: {} on CIFAR-10 test image {index}, CKKS {security} (N = 2^{log_n}), \
         {threads} threads",
        model
    );
    steps.print();
    println!("encrypted result: {} (class {class})", name(class));
    println!("label:            {} (class {label})", name(label));
    println!("plain model:      {} (class {plain})", name(plain));
    Ok(())
}
