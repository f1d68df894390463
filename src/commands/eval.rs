//! `fhec eval program.ron --keys DIR/public [--weights W] in.ct -o out.ct [--insecure]`: the
//! server side. It reads only the public key directory (parameters and evaluation keys), binds
//! the weights (those the program was compiled with, or `--weights` of the same
//! architecture), runs the program on the CKKS backend and writes the output ciphertexts.
//! Prints a JSON summary with the time of each phase and the peak RSS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use fhec_compiler::data::DataDirSearch;
use fhec_compiler::lower::io::program_source;
use fhec_runtime::exec::{CkksBackend, EvaluationKeys, check_program, run_observed};
use serde_json::json;

use super::client_server::ProgramFile;
use super::ct_bundle::{self, Side};
use super::eval_progress::EvalProgress;
use super::outputs::check_outputs;
use super::process_stats::peak_rss_bytes;
use super::run::{ClearSession, thread_pool};

/// Arguments of `fhec eval`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    program: ProgramFile,
    /// Weights of the same architecture instead of those the program was compiled with.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Data directory (else $FHEC_DATA, else ../shared/data, else the shipped sample), for weights named relative to it.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The input ciphertexts (`fhec encrypt`).
    input: PathBuf,
    /// Where to write the output ciphertexts.
    #[arg(short, long)]
    output: PathBuf,
    /// Threads (default: all cores).
    #[arg(long, value_parser = super::limits::parse_threads)]
    threads: Option<usize>,
}

/// Evaluates the program on the input ciphertexts.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = args.program.load()?;
    // Every file eval reads: the program, the ciphertexts, the weights and model it binds.
    let source = program_source(&loaded.program).ok();
    let recorded = source
        .iter()
        .flat_map(|s| [PathBuf::from(&s.model), PathBuf::from(&s.weights)]);
    let mut inputs: Vec<PathBuf> = vec![args.program.program.clone(), args.input.clone()];
    inputs.extend(args.weights.clone());
    inputs.extend(recorded);
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    check_outputs(&[&args.output], &inputs)?;
    let path = args.program.program.display().to_string();
    let data = DataDirSearch::from_process(args.data.clone());
    let session = ClearSession::load(&args.program.program, args.weights.as_deref(), &data)?;
    let (pool, threads) = thread_pool(args.threads)?;
    let mut phases = BTreeMap::new();
    pool.install(|| -> anyhow::Result<()> {
        let start = Instant::now();
        let keys_dir = &args.program.keys;
        let (keys, key_set) = EvaluationKeys::read_from(
            &loaded.setup,
            &loaded.program,
            keys_dir,
            args.program.policy(),
        )?;
        check_program(keys_dir, &key_set, &loaded.program, &args.program.program)?;
        phases.insert("read_keys_s", start.elapsed().as_secs_f64());
        let start = Instant::now();
        let mut backend = CkksBackend::new(&loaded.setup, &keys)
            .with_context(|| format!("{path}: backend set-up"))?;
        phases.insert("backend_setup_s", start.elapsed().as_secs_f64());
        let inputs = ct_bundle::read(
            &args.input,
            &loaded.setup,
            &loaded.program,
            Side::Inputs,
            key_set,
            keys_dir,
        )?;
        let start = Instant::now();
        let mut progress = EvalProgress::new(&loaded.program, "evaluating");
        let outputs = run_observed(
            &loaded.program,
            &mut backend,
            inputs,
            &session.plaintexts(),
            &mut progress,
        );
        progress.finish();
        let outputs =
            outputs.with_context(|| format!("{path}: evaluating {}", args.input.display()))?;
        phases.insert("eval_s", start.elapsed().as_secs_f64());
        ct_bundle::write(&args.output, &loaded.setup, key_set, outputs)?;
        Ok(())
    })?;
    let summary = json!({
        "output": args.output.display().to_string(),
        "security": loaded.security,
        "threads": threads,
        "phases": phases,
        "peak_rss_bytes": peak_rss_bytes(),
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
