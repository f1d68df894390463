//! `fhec bench bootstrap`: times one CKKS bootstrap (DESIGN §10, issue 4) and reports the
//! median time over repeats, levels in and out, precision in bits (mean and worst slot) on
//! complex inputs uniform in [−1, 1], key generation and set-up time, evaluation-key bytes
//! (measured and by the DESIGN §5 formula), the encoded DFT matrices' bytes and the peak
//! resident set size.
//!
//! log N = 16 uses the 128-bit `N16_BOOT` preset; 11..=13 the small insecure test presets
//! (reported as "insecure"). Randomness comes from fixed seeds so runs are comparable; the
//! report says so (`"keys": "deterministic"`), and the keys are never used outside.

use super::process_stats::{peak_rss_bytes, process_cpu_ns};
use anyhow::{Context, Result, bail};
use clap::Args;
use fhec_params::bootstrap::{n16_boot, test_boot_insecure};
use fhec_params::{BootstrapConfig, BootstrapLiteral, Level, SecurityLevel};
use fhec_runtime::bootstrap::keys::{BootstrapKeys, dft_plan};
use fhec_runtime::bootstrap::{Bootstrapper, StageTimes};
use fhec_runtime::context::CkksContext;
use fhec_runtime::encoding::{C64, Encoder};
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::keys::KeyGenerator;
use fhec_runtime::sampling::SecureRng;
use serde::Serialize;
use std::io::IsTerminal;
use std::time::Instant;

/// Options of `fhec bench bootstrap`.
#[derive(Args)]
pub struct BootstrapBenchArgs {
    /// log2 of the ring degree: 16 (128-bit `N16_BOOT`) or 11..=13 (insecure test presets).
    #[arg(long, default_value_t = 16)]
    log_n: u32,
    /// Slots bootstrapped, a power of two ≤ N/2 (default N/4).
    #[arg(long)]
    slots: Option<usize>,
    /// Threads of the rayon pool (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Timed bootstraps (the median is reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Print JSON (DESIGN §10) instead of a summary.
    #[arg(long)]
    json: bool,
}

/// The JSON report.
#[derive(Serialize)]
struct BootstrapReport {
    bench: &'static str,
    log_n: u32,
    slots: usize,
    threads: usize,
    repeats: usize,
    security: &'static str,
    /// "deterministic" when the keys come from a fixed seed (reproducible by anyone: benchmark
    /// keys only), else "random".
    keys: &'static str,
    log_qp: f64,
    /// Level a bootstrap input must be at.
    levels_in: usize,
    /// Level of the output: levels left to the circuit.
    levels_out: usize,
    /// Levels the bootstrap consumes (top − output).
    depth: usize,
    time_median_ms: f64,
    time_min_ms: f64,
    time_max_ms: f64,
    /// Median CPU time of all threads of the process during one bootstrap (Linux; `null`
    /// elsewhere): on a shared machine the wall time includes waiting for a core.
    cpu_median_ms: Option<f64>,
    /// Wall time of each stage in the median run.
    phases_ms: Phases,
    /// −log2(mean |error|) over the slots, real and imaginary parts together.
    precision_mean_bits: f64,
    /// −log2(max |error|): the worst slot.
    precision_worst_bits: f64,
    keygen_ms: f64,
    /// Encoding the DFT matrices and fitting EvalMod.
    setup_ms: f64,
    galois_keys: usize,
    /// Evaluation keys as held in memory (expanded).
    eval_key_bytes: u64,
    /// Evaluation keys stored seed-compressed.
    eval_key_bytes_compressed: u64,
    /// The DESIGN §5 formula over the same level caps (seed-compressed).
    eval_key_bytes_formula: u64,
    /// The encoded DFT diagonals (over Q_l·P).
    plaintext_bytes: u64,
    /// Peak resident set size of the process (VmHWM), `null` where unavailable.
    peak_rss_bytes: Option<u64>,
}

/// Wall time of each bootstrap stage, in milliseconds.
#[derive(Serialize, Clone, Copy)]
struct Phases {
    /// ScaleDown, the dense↔sparse switches and ModRaise.
    raise: f64,
    /// Trace, CoeffToSlot and the real/imaginary split.
    coeff_to_slot: f64,
    /// EvalMod (twice for full slots).
    evalmod: f64,
    slot_to_coeff: f64,
}

impl From<StageTimes> for Phases {
    fn from(times: StageTimes) -> Self {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        Self {
            raise: ms(times.raise),
            coeff_to_slot: ms(times.coeff_to_slot),
            evalmod: ms(times.evalmod),
            slot_to_coeff: ms(times.slot_to_coeff),
        }
    }
}

fn literal_for(log_n: u32, log_slots: u32) -> Result<BootstrapLiteral> {
    Ok(match log_n {
        16 => n16_boot(log_slots),
        11..=13 => test_boot_insecure(log_n, log_slots),
        _ => bail!("--log-n {log_n}: bootstrap benchmarks exist for log N 11..=13 and 16"),
    })
}

/// Progress on a terminal, nothing when stderr is piped.
fn progress(message: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{message}");
    }
}

/// Runs `fhec bench bootstrap`.
pub fn run(args: BootstrapBenchArgs) -> Result<()> {
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    let max_slots = 1usize << args.log_n.saturating_sub(1);
    let slots = args.slots.unwrap_or(max_slots / 2);
    if !slots.is_power_of_two() || slots < 2 || slots > max_slots {
        bail!("--slots {slots}: must be a power of two between 2 and N/2 = {max_slots}");
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    let literal = literal_for(args.log_n, slots.trailing_zeros())?;
    let config = BootstrapConfig::new(literal)
        .with_context(|| format!("bootstrapping parameters for log N = {}", args.log_n))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the thread pool")?;
    let report = pool.install(|| measure(&config, &args, threads))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report);
    }
    Ok(())
}

fn measure(
    config: &BootstrapConfig,
    args: &BootstrapBenchArgs,
    threads: usize,
) -> Result<BootstrapReport> {
    let params = config.params().clone();
    let context = CkksContext::new(params.clone()).context("ring context")?;
    let mut generator =
        KeyGenerator::with_rng(&context, SecureRng::insecure_from_fixed_seed([1; 32]));
    let keys_origin = if generator.rng().is_deterministic() {
        "deterministic"
    } else {
        "random"
    };
    let secret = generator.secret_key()?;
    let public = generator.public_key(&secret);

    progress("generating bootstrapping keys");
    let start = Instant::now();
    let keys = BootstrapKeys::generate(&context, config, &mut generator, &secret)?;
    let keygen_ms = start.elapsed().as_secs_f64() * 1e3;

    progress("encoding the DFT matrices");
    let start = Instant::now();
    let bootstrapper = Bootstrapper::new(&context, config, &keys)?;
    let setup_ms = start.elapsed().as_secs_f64() * 1e3;

    let slots = config.slots();
    let mut rng = SecureRng::insecure_from_fixed_seed([2; 32]);
    let mut uniform = || rng.below(1 << 53) as f64 / (1u64 << 52) as f64 - 1.0;
    let values: Vec<C64> = (0..slots).map(|_| C64::new(uniform(), uniform())).collect();
    let encoder = Encoder::new(&context);
    let plaintext = encoder.encode(&values, slots, Level(0), config.input_scale())?;
    let input = Encryptor::with_rng(&context, SecureRng::insecure_from_fixed_seed([3; 32]))
        .encrypt_pk(&public, &plaintext);

    let mut times = Vec::with_capacity(args.repeats);
    let mut cpu_times = Vec::with_capacity(args.repeats);
    let mut output = None;
    for repeat in 0..args.repeats {
        progress(&format!("bootstrap {}/{}", repeat + 1, args.repeats));
        let cpu_start = process_cpu_ns();
        let start = Instant::now();
        let (refreshed, stages) = bootstrapper.bootstrap_timed(&input)?;
        times.push((start.elapsed().as_secs_f64() * 1e3, Phases::from(stages)));
        let cpu = cpu_start
            .zip(process_cpu_ns())
            .map(|(a, b)| b.saturating_sub(a) as f64 / 1e6);
        cpu_times.push(cpu);
        output = Some(refreshed);
    }
    let mut cpu_times: Option<Vec<f64>> = cpu_times.into_iter().collect();
    if let Some(cpu) = cpu_times.as_mut() {
        cpu.sort_by(f64::total_cmp);
    }
    let output = output.expect("at least one repeat");
    let decoded = encoder.decode(&decrypt(&context, &secret, &output));
    let (mean, worst) = precision_bits(&values, &decoded);
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = times[times.len() / 2];

    let plan = dft_plan(config)?;
    Ok(BootstrapReport {
        bench: "bootstrap",
        log_n: config.literal().log_n,
        slots,
        threads,
        repeats: args.repeats,
        security: match params.security() {
            SecurityLevel::Bits128 => "128-bit",
            SecurityLevel::Insecure => "insecure",
        },
        keys: keys_origin,
        log_qp: params.log_qp(),
        levels_in: config.min_input_level().0,
        levels_out: output.level().0,
        depth: config.depth(),
        time_median_ms: median.0,
        time_min_ms: times[0].0,
        time_max_ms: times[times.len() - 1].0,
        phases_ms: median.1,
        cpu_median_ms: cpu_times.map(|c| c[c.len() / 2]),
        precision_mean_bits: mean,
        precision_worst_bits: worst,
        keygen_ms,
        setup_ms,
        galois_keys: keys.galois.len(),
        eval_key_bytes: keys.size_bytes() as u64,
        eval_key_bytes_compressed: keys.compressed_bytes() as u64,
        eval_key_bytes_formula: plan.bootstrap_key_bytes(config, true),
        plaintext_bytes: bootstrapper.dft().size_bytes() as u64,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// −log2 of the mean and of the largest |error| over the slots (complex modulus).
fn precision_bits(expected: &[C64], got: &[C64]) -> (f64, f64) {
    let errors: Vec<f64> = expected
        .iter()
        .zip(got)
        .map(|(a, b)| (*a - *b).abs())
        .collect();
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    let worst = errors.iter().copied().fold(0.0, f64::max);
    (-mean.log2(), -worst.log2())
}

fn print_summary(report: &BootstrapReport) {
    println!(
        "bootstrap N = 2^{}, {} slots, {} threads ({}): {:.0} ms median of {} (min {:.0}, max {:.0})",
        report.log_n,
        report.slots,
        report.threads,
        report.security,
        report.time_median_ms,
        report.repeats,
        report.time_min_ms,
        report.time_max_ms
    );
    let p = &report.phases_ms;
    println!(
        "phases: raise {:.0} ms, CoeffToSlot {:.0} ms, EvalMod {:.0} ms, SlotToCoeff {:.0} ms",
        p.raise, p.coeff_to_slot, p.evalmod, p.slot_to_coeff
    );
    println!(
        "levels in {} → out {} (depth {}); precision {:.1} bits mean, {:.1} worst slot",
        report.levels_in,
        report.levels_out,
        report.depth,
        report.precision_mean_bits,
        report.precision_worst_bits
    );
    println!(
        "keygen {:.0} ms, set-up {:.0} ms; {} Galois keys, {:.2} GB in memory, {:.2} GB compressed; \
         plaintexts {:.2} GB; peak RSS {}",
        report.keygen_ms,
        report.setup_ms,
        report.galois_keys,
        report.eval_key_bytes as f64 / 1e9,
        report.eval_key_bytes_compressed as f64 / 1e9,
        report.plaintext_bytes as f64 / 1e9,
        report
            .peak_rss_bytes
            .map_or("unknown".to_string(), |b| format!(
                "{:.2} GB",
                b as f64 / 1e9
            ))
    );
}
