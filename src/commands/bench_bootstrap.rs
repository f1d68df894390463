//! `fhec bench bootstrap`: times one CKKS bootstrap (DESIGN §10, issue 4) and reports the
//! median time over repeats, levels in and out, precision in bits (mean and worst slot) on
//! complex inputs uniform in [−1, 1] or the structured slot vector `--input` names, key generation and set-up time, evaluation-key bytes
//! (measured and by the DESIGN §5 formula), the encoded DFT matrices' bytes and the peak
//! resident set size.
//!
//! log N = 16 uses the 128-bit `N16_BOOT` preset; 11..=13 the small insecure test presets
//! (reported as "insecure"). Randomness comes from fixed seeds so runs are comparable; the
//! report says so (`"keys": "deterministic"`), and the keys are never used outside.

use super::process_stats::{peak_rss_bytes, process_cpu_ns};
use super::run::thread_pool;
use anyhow::{Context, Result, bail};
use clap::Args;
use fhec_params::bootstrap::{n16_boot, test_boot_insecure};
use fhec_params::{BootstrapConfig, BootstrapLiteral, Level, SecurityLevel};
use fhec_runtime::bootstrap::keys::{BootstrapKeys, dft_plan};
use fhec_runtime::bootstrap::{Bootstrapper, DiagonalResidency, StageTimes};
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
    #[arg(long, value_parser = super::limits::parse_threads)]
    threads: Option<usize>,
    /// Timed bootstraps (the median is reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Where the DFT diagonals live: kept encoded (fast) or encoded at each bootstrap (lean).
    #[arg(long, value_enum, default_value_t = Diagonals::Encoded)]
    diagonals: Diagonals,
    /// The slot vector bootstrapped (precision is measured against it).
    #[arg(long, value_enum, default_value_t = InputKind::Uniform)]
    input: InputKind,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

/// `--input`: what the bootstrapped slots hold. Random slots have plaintext coefficients of
/// size ≈ 1/√N; the others put a large mean into one coefficient, where EvalMod's sine would
/// compress it without the arcsine stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
enum InputKind {
    /// Real and imaginary parts uniform in [−1, 1] (DESIGN §10's benchmark input).
    Uniform,
    /// Every slot 0.9 (real).
    Constant,
    /// Real, uniform in [0.7, 0.9]: mean 0.8, spread ±0.1.
    Biased,
    /// A ResNet-20 pre-ReLU tensor as the compiled program bootstraps it (built in, see
    /// `bench/inputs/README.md`).
    Activation,
}

/// `--diagonals`: the runtime's [`DiagonalResidency`], as a command-line value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Diagonals {
    /// Encoded once at set-up and kept in memory.
    Encoded,
    /// Kept as slot values, encoded at each use.
    OnDemand,
}

impl From<Diagonals> for DiagonalResidency {
    fn from(diagonals: Diagonals) -> Self {
        match diagonals {
            Diagonals::Encoded => DiagonalResidency::Encoded,
            Diagonals::OnDemand => DiagonalResidency::OnDemand,
        }
    }
}

/// The JSON report, in the shape of DESIGN §10 (`time_s`, `precision_bits`, `levels_in`,
/// `levels_out`, `eval_key_bytes`, `keygen_s`, `peak_rss_bytes`) plus fhec's own detail.
#[derive(Serialize)]
struct BootstrapReport {
    bench: &'static str,
    threads: usize,
    slots: usize,
    repeats: usize,
    params: ParamsEcho,
    /// "deterministic" when the keys come from a fixed seed (reproducible by anyone: benchmark
    /// keys only), else "random".
    keys: &'static str,
    /// Wall time of one bootstrap over the repeats.
    time_s: Spread,
    /// Median CPU time of all threads of the process during one bootstrap (Linux; `null`
    /// elsewhere): on a shared machine the wall time includes waiting for a core.
    cpu_median_s: Option<f64>,
    /// Wall time of each stage in the median run.
    phases_s: Phases,
    /// Against the input (`input`: uniform complex slots by default).
    precision_bits: Precision,
    /// Level a bootstrap input must be at.
    levels_in: usize,
    /// Level of the output: levels left to the circuit.
    levels_out: usize,
    /// Levels the bootstrap consumes (top − output).
    depth: usize,
    keygen_s: f64,
    /// Encoding the DFT matrices and fitting EvalMod.
    setup_s: f64,
    galois_keys: usize,
    /// Evaluation keys as stored and sent (seed-compressed: the uniform half is a seed).
    eval_key_bytes: u64,
    /// Evaluation keys as held in memory while bootstrapping (expanded).
    eval_key_bytes_in_memory: u64,
    /// The DESIGN §5 formula over the same level caps (seed-compressed), as the compiler
    /// predicts it.
    eval_key_bytes_formula: u64,
    /// Where the DFT diagonals live (`--diagonals`).
    diagonals: Diagonals,
    /// The slot vector bootstrapped (`--input`).
    input: InputKind,
    /// The DFT diagonals as held in memory (encoded over Q_l·P, or slot values on demand).
    plaintext_bytes: u64,
    /// Peak resident set size of the process (VmHWM), `null` where unavailable.
    peak_rss_bytes: Option<u64>,
}

/// The parameters, under the names the peer scripts echo.
#[derive(Serialize)]
struct ParamsEcho {
    log_n: u32,
    log_qp: f64,
    /// Top level of the chain (primes − 1).
    levels: usize,
    dnum: usize,
    special_primes: usize,
    /// log2 of the circuit's scale after bootstrapping.
    log_scale: u32,
    security: &'static str,
}

/// Median, minimum and maximum.
#[derive(Serialize)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

/// −log2(mean |error|) and −log2(max |error|) (the worst slot).
#[derive(Serialize)]
struct Precision {
    mean: f64,
    min: f64,
}

/// Wall time of each bootstrap stage, in seconds.
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
        Self {
            raise: times.raise.as_secs_f64(),
            coeff_to_slot: times.coeff_to_slot.as_secs_f64(),
            evalmod: times.evalmod.as_secs_f64(),
            slot_to_coeff: times.slot_to_coeff.as_secs_f64(),
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
    let (pool, threads) = thread_pool(args.threads)?;
    let literal = literal_for(args.log_n, slots.trailing_zeros())?;
    let config = BootstrapConfig::new(literal)
        .with_context(|| format!("bootstrapping parameters for log N = {}", args.log_n))?;
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
    let keygen_s = start.elapsed().as_secs_f64();

    progress("encoding the DFT matrices");
    let start = Instant::now();
    let bootstrapper =
        Bootstrapper::with_residency(&context, config, &keys, args.diagonals.into())?;
    let setup_s = start.elapsed().as_secs_f64();

    let slots = config.slots();
    let values = input_values(args.input, slots)?;
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
        times.push((start.elapsed().as_secs_f64(), Phases::from(stages)));
        let cpu = cpu_start
            .zip(process_cpu_ns())
            .map(|(a, b)| b.saturating_sub(a) as f64 / 1e9);
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
    let security = match params.security() {
        SecurityLevel::Bits128 => "128-bit",
        SecurityLevel::Insecure => "insecure",
    };
    Ok(BootstrapReport {
        bench: "bootstrap",
        threads,
        slots,
        repeats: args.repeats,
        params: ParamsEcho {
            log_n: config.literal().log_n,
            log_qp: params.log_qp(),
            levels: params.max_level().0,
            dnum: params.dnum(),
            special_primes: params.p_primes().len(),
            log_scale: config.literal().circuit_log_scale,
            security,
        },
        keys: keys_origin,
        time_s: Spread {
            median: median.0,
            min: times[0].0,
            max: times[times.len() - 1].0,
        },
        cpu_median_s: cpu_times.map(|c| c[c.len() / 2]),
        phases_s: median.1,
        precision_bits: Precision { mean, min: worst },
        levels_in: config.min_input_level().0,
        levels_out: output.level().0,
        depth: config.depth(),
        keygen_s,
        setup_s,
        galois_keys: keys.galois.len(),
        eval_key_bytes: keys.compressed_bytes() as u64,
        eval_key_bytes_in_memory: keys.size_bytes() as u64,
        eval_key_bytes_formula: plan.bootstrap_key_bytes(config, true),
        diagonals: args.diagonals,
        input: args.input,
        plaintext_bytes: bootstrapper.dft().size_bytes() as u64,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// The `slots` values of `kind` (fixed seeds, so runs are comparable).
fn input_values(kind: InputKind, slots: usize) -> Result<Vec<C64>> {
    let mut rng = SecureRng::insecure_from_fixed_seed([2; 32]);
    let mut uniform = || rng.below(1 << 53) as f64 / (1u64 << 52) as f64 - 1.0;
    Ok(match kind {
        InputKind::Uniform => (0..slots).map(|_| C64::new(uniform(), uniform())).collect(),
        InputKind::Constant => vec![C64::new(0.9, 0.0); slots],
        InputKind::Biased => (0..slots)
            .map(|_| C64::new(0.8 + 0.1 * uniform(), 0.0))
            .collect(),
        InputKind::Activation => activation(slots)?
            .into_iter()
            .map(|v| C64::new(v, 0.0))
            .collect(),
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
    let time = &report.time_s;
    println!(
        "bootstrap N = 2^{}, {} slots, {} threads ({}): {:.2} s median of {} (min {:.2}, max {:.2})",
        report.params.log_n,
        report.slots,
        report.threads,
        report.params.security,
        time.median,
        report.repeats,
        time.min,
        time.max
    );
    let p = &report.phases_s;
    println!(
        "phases: raise {:.2} s, CoeffToSlot {:.2} s, EvalMod {:.2} s, SlotToCoeff {:.2} s",
        p.raise, p.coeff_to_slot, p.evalmod, p.slot_to_coeff
    );
    println!(
        "levels in {} → out {} (depth {}); precision on {:?} input {:.1} bits mean, {:.1} worst \
         slot",
        report.levels_in,
        report.levels_out,
        report.depth,
        report.input,
        report.precision_bits.mean,
        report.precision_bits.min
    );
    println!(
        "keygen {:.1} s, set-up {:.1} s; {} Galois keys, {:.2} GB stored (compressed), {:.2} GB \
         in memory; plaintexts {:.2} GB; peak RSS {}",
        report.keygen_s,
        report.setup_s,
        report.galois_keys,
        report.eval_key_bytes as f64 / 1e9,
        report.eval_key_bytes_in_memory as f64 / 1e9,
        report.plaintext_bytes as f64 / 1e9,
        report
            .peak_rss_bytes
            .map_or("unknown".to_string(), |b| format!(
                "{:.2} GB",
                b as f64 / 1e9
            ))
    );
}

/// Two ResNet-20 pre-ReLU slot vectors of 2^14 slots each, side by side, as the compiled
/// program bootstraps them (test image 0; little-endian i16, value = integer / 2^15; how they
/// were made: `bench/inputs/README.md`).
const PRE_RELU: &[u8] = include_bytes!("../../bench/inputs/resnet20_pre_relu.i16");

/// The first `slots` values of [`PRE_RELU`] (2^14 slots: the input of `layer2.1.relu1`; 2^15:
/// followed by that of `layer2.1.relu2`).
fn activation(slots: usize) -> Result<Vec<f64>> {
    let available = PRE_RELU.len() / 2;
    if slots > available {
        bail!("--input activation: the built-in tensor has {available} slots, not {slots}");
    }
    Ok(PRE_RELU
        .chunks_exact(2)
        .take(slots)
        .map(|pair| f64::from(i16::from_le_bytes([pair[0], pair[1]])) / 32768.0)
        .collect())
}
