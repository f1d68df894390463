//! `fhec bench ckks`: times the CKKS library's core operations at one ring degree and reports
//! each operation's median/min/max time and precision in bits (DESIGN §10), as JSON or as a
//! table.
//!
//! Every operation runs on a fresh ciphertext at the top level of the parameter set, inputs
//! uniform in [−1, 1] in every slot, inside a rayon pool of exactly `--threads` threads.
//! Randomness comes from fixed seeds so runs are comparable; the keys are never used outside.

use super::process_stats::process_cpu_ns;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use fhec_params::{CkksParams, CkksParamsLiteral, presets};
use fhec_runtime::ciphertext::Ciphertext;
use fhec_runtime::context::CkksContext;
use fhec_runtime::encoding::{C64, Encoder};
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::eval::Evaluator;
use fhec_runtime::keys::KeyGenerator;
use fhec_runtime::precision::PrecisionStats;
use fhec_runtime::ring::Form;
use fhec_runtime::sampling::SecureRng;
use serde::Serialize;
use std::io::IsTerminal;
use std::time::Instant;

/// `fhec bench <target>`.
#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    target: BenchTarget,
}

#[derive(Subcommand)]
enum BenchTarget {
    /// Core CKKS operations: NTT, ct×ct, rotations, ct×pt, encode, encrypt, decrypt, keygen.
    Ckks(CkksBenchArgs),
    /// One CKKS bootstrap: time, levels, precision, key bytes, peak RSS.
    Bootstrap(super::bench_bootstrap::BootstrapBenchArgs),
    /// A compiled program's per-image time on a backend.
    Model(super::bench_model::Args),
}

/// Options of `fhec bench ckks`.
#[derive(Args)]
struct CkksBenchArgs {
    /// log2 of the ring degree: 13..=16 use the 128-bit presets, 10..=12 the insecure test
    /// presets (reported as "insecure").
    #[arg(long, default_value_t = 16)]
    log_n: u32,
    /// Threads of the rayon pool (default: all cores).
    #[arg(long, value_parser = super::limits::parse_threads)]
    threads: Option<usize>,
    /// Timed repetitions of every operation.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Rotations in the hoisted group used to time each extra hoisted rotation.
    #[arg(long, default_value_t = 8)]
    hoisted: usize,
    /// Only these operations (comma-separated names, e.g. `mul_relin_rescale,rotate`);
    /// default: all.
    #[arg(long, value_delimiter = ',')]
    ops: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// The JSON report of `fhec bench ckks`.
#[derive(Serialize)]
struct CkksReport {
    bench: &'static str,
    threads: usize,
    repeats: usize,
    params: ParamsEcho,
    ops: Vec<OpReport>,
}

#[derive(Serialize)]
struct ParamsEcho {
    log_n: u32,
    log_qp: f64,
    levels: usize,
    dnum: usize,
    special_primes: usize,
    log_scale: u32,
    slots: usize,
    security: &'static str,
}

#[derive(Serialize)]
struct OpReport {
    name: &'static str,
    /// What one timed run does.
    what: &'static str,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    /// Median CPU time of all threads of the process during one run (Linux; `null` elsewhere):
    /// on a shared machine, the wall time includes waiting for a core, the CPU time does not.
    /// Some kernels account it per scheduler tick (4 ms here), so it only means something for
    /// operations much longer than a tick.
    cpu_median_ms: Option<f64>,
    /// −log2(mean |error|) over the slots (DESIGN §10), `null` for operations without a result
    /// to compare.
    precision_bits: Option<f64>,
    /// −log2(max |error|): the worst slot.
    precision_min_bits: Option<f64>,
}

/// Runs `fhec bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    match args.target {
        BenchTarget::Ckks(args) => run_ckks(args),
        BenchTarget::Bootstrap(args) => super::bench_bootstrap::run(args),
        BenchTarget::Model(args) => super::bench_model::run(args),
    }
}

fn literal_for(log_n: u32) -> Result<CkksParamsLiteral> {
    Ok(match log_n {
        10..=12 => presets::test_insecure(log_n),
        13 => presets::n13_qp211(),
        14 => presets::n14_qp422(),
        15 => presets::n15_qp838(),
        16 => presets::n16_qp1740(),
        _ => bail!("--log-n {log_n}: benchmarks exist for log N 10..=16"),
    })
}

/// The operations `fhec bench ckks` measures, in report order.
const CKKS_OPS: [&str; 9] = [
    "ntt",
    "mul_relin_rescale",
    "rotate",
    "hoisted_rotate_extra",
    "mul_plain",
    "encode",
    "encrypt",
    "decrypt",
    "keygen_rotation",
];

fn run_ckks(args: CkksBenchArgs) -> Result<()> {
    if let Some(unknown) = args.ops.iter().find(|o| !CKKS_OPS.contains(&o.as_str())) {
        bail!(
            "--ops: unknown operation {unknown:?} (known: {})",
            CKKS_OPS.join(", ")
        );
    }
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    if args.hoisted < 2 {
        bail!("--hoisted must be at least 2 (one rotation plus extra ones)");
    }
    let (pool, threads) = super::run::thread_pool(args.threads)?;
    let params = CkksParams::new(literal_for(args.log_n)?)
        .with_context(|| format!("parameters for log N = {}", args.log_n))?;
    let report = pool.install(|| measure(params, &args, threads))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// Progress on a terminal, nothing when stderr is piped.
fn progress(message: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{message}");
    }
}

/// Wall and CPU time of one timed run, in milliseconds.
#[derive(Clone, Copy)]
struct Sample {
    wall_ms: f64,
    cpu_ms: Option<f64>,
}

/// A running stopwatch of wall time and process CPU time.
struct Stopwatch {
    wall: Instant,
    cpu_ns: Option<u64>,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            cpu_ns: process_cpu_ns(),
            wall: Instant::now(),
        }
    }

    fn stop(&self) -> Sample {
        let wall_ms = self.wall.elapsed().as_secs_f64() * 1e3;
        let cpu_ms = self
            .cpu_ns
            .zip(process_cpu_ns())
            .map(|(start, end)| end.saturating_sub(start) as f64 / 1e6);
        Sample { wall_ms, cpu_ms }
    }
}

/// Times all of `run`, `repeats` times, and returns the samples and the last result.
fn timed<T>(repeats: usize, mut run: impl FnMut() -> Result<T>) -> Result<(Vec<Sample>, T)> {
    let mut samples = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let start = Stopwatch::start();
        let result = run()?;
        samples.push(start.stop());
        last = Some(result);
    }
    Ok((samples, last.expect("at least one repetition")))
}

/// Times `run` `repeats` times; `run` returns its own sample (so it can exclude set-up work).
fn time_ms(repeats: usize, mut run: impl FnMut() -> Result<Sample>) -> Result<Vec<Sample>> {
    (0..repeats).map(|_| run()).collect()
}

fn op(
    name: &'static str,
    what: &'static str,
    samples: Vec<Sample>,
    precision: Option<PrecisionStats>,
) -> OpReport {
    let mut times: Vec<f64> = samples.iter().map(|s| s.wall_ms).collect();
    times.sort_by(f64::total_cmp);
    let mut cpu: Option<Vec<f64>> = samples.iter().map(|s| s.cpu_ms).collect();
    if let Some(cpu) = cpu.as_mut() {
        cpu.sort_by(f64::total_cmp);
    }
    OpReport {
        name,
        what,
        median_ms: times[times.len() / 2],
        min_ms: times[0],
        max_ms: times[times.len() - 1],
        cpu_median_ms: cpu.map(|c| c[c.len() / 2]),
        precision_bits: precision.map(|p| p.mean_bits()),
        precision_min_bits: precision.map(|p| p.min_bits()),
    }
}

fn rotated(values: &[C64], steps: i64) -> Vec<C64> {
    let n = values.len() as i64;
    (0..n)
        .map(|i| values[(i + steps).rem_euclid(n) as usize])
        .collect()
}

fn measure(params: CkksParams, args: &CkksBenchArgs, threads: usize) -> Result<CkksReport> {
    let repeats = args.repeats;
    let echo = ParamsEcho {
        log_n: params.log_n().0,
        log_qp: params.log_qp(),
        levels: params.max_level().0,
        dnum: params.dnum(),
        special_primes: params.p_primes().len(),
        log_scale: params.log_scale(),
        slots: params.max_slots(),
        security: params.security().label(),
    };
    let context = CkksContext::new(params).context("building the ring")?;
    let top = context.max_level();
    let scale = context.default_scale();
    let slots = context.params().max_slots();
    let encoder = Encoder::new(&context);
    let mut rng = SecureRng::insecure_from_fixed_seed([42; 32]);
    let mut values = || -> Vec<C64> {
        (0..slots)
            .map(|_| {
                let mut uniform =
                    || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
                C64::new(uniform(), uniform())
            })
            .collect()
    };
    let (x, y) = (values(), values());

    progress("generating keys");
    let mut generator =
        KeyGenerator::with_rng(&context, SecureRng::insecure_from_fixed_seed([1; 32]));
    let secret = generator.secret_key()?;
    let public = generator.public_key(&secret);
    let relinearization = generator.relinearization_key(&secret, top)?;
    let steps: Vec<i64> = (1..=args.hoisted as i64).collect();
    let galois = generator.galois_keys(&secret, &steps, false, top)?;
    let eval = Evaluator::new(&context)
        .with_relinearization_key(&relinearization)
        .with_galois_keys(&galois);
    let mut encryptor = Encryptor::with_rng(&context, SecureRng::insecure_from_fixed_seed([2; 32]));
    let encrypt = |encryptor: &mut Encryptor, v: &[C64]| -> Result<Ciphertext> {
        Ok(encryptor.encrypt_pk(&public, &encoder.encode(v, slots, top, scale)?))
    };
    let decode = |ct: &Ciphertext| encoder.decode(&decrypt(&context, &secret, ct));
    let a = encrypt(&mut encryptor, &x)?;
    let b = encrypt(&mut encryptor, &y)?;
    let mut ops = Vec::new();
    let wanted = |name: &str| args.ops.is_empty() || args.ops.iter().any(|o| o == name);
    let expected: Vec<C64> = x.iter().zip(&y).map(|(&p, &q)| p * q).collect();

    if wanted("ntt") {
        progress("ntt");
        let ring = context.ring();
        let mut poly = a.c0.clone();
        ring.to_coefficient(&mut poly);
        let times = time_ms(repeats, || {
            let mut p = poly.clone();
            let start = Stopwatch::start();
            ring.to_ntt(&mut p);
            Ok(start.stop())
        })?;
        debug_assert_eq!(poly.form(), Form::Coefficient);
        ops.push(op(
            "ntt",
            "forward NTT of one polynomial over all L+1 ciphertext primes",
            times,
            None,
        ));
    }

    if wanted("mul_relin_rescale") {
        progress("mul_relin_rescale");
        let (times, product) = timed(repeats, || Ok(eval.mul_rescale_new(&a, &b)?))?;
        let precision = PrecisionStats::of(&expected, &decode(&product));
        let what = "ct×ct, relinearise, rescale at the top level (fused `mul_rescale`)";
        ops.push(op("mul_relin_rescale", what, times, Some(precision)));
        let (times, product) = timed(repeats, || {
            let mut c = eval.mul_new(&a, &b)?;
            eval.rescale_assign(&mut c)?;
            Ok(c)
        })?;
        let precision = PrecisionStats::of(&expected, &decode(&product));
        let what = "the same as `mul_new` then `rescale_assign` (two divisions)";
        ops.push(op(
            "mul_relin_rescale_unfused",
            what,
            times,
            Some(precision),
        ));
    }

    if wanted("rotate") {
        progress("rotate");
        let (times, rotation) = timed(repeats, || Ok(eval.rotate_new(&a, 1)?))?;
        let precision = PrecisionStats::of(&rotated(&x, 1), &decode(&rotation));
        let what = "rotation by 1 at the top level";
        ops.push(op("rotate", what, times, Some(precision)));
    }

    if wanted("hoisted_rotate_extra") {
        progress("hoisted_rotate_extra");
        let mut hoisted = Vec::new();
        let extra = (args.hoisted - 1) as f64;
        let times = time_ms(repeats, || {
            let start = Stopwatch::start();
            eval.rotate_hoisted(&a, &steps[..1])?;
            let single = start.stop();
            let start = Stopwatch::start();
            hoisted = eval.rotate_hoisted(&a, &steps)?;
            let group = start.stop();
            Ok(Sample {
                wall_ms: ((group.wall_ms - single.wall_ms) / extra).max(0.0),
                cpu_ms: group
                    .cpu_ms
                    .zip(single.cpu_ms)
                    .map(|(g, s)| ((g - s) / extra).max(0.0)),
            })
        })?;
        let precision = hoisted
            .iter()
            .zip(&steps)
            .map(|(c, &k)| PrecisionStats::of(&rotated(&x, k), &decode(c)))
            .min_by(|p, q| p.mean_bits().total_cmp(&q.mean_bits()));
        let what = "per extra rotation of a hoisted group: (group time − one-rotation group time) / (group size − 1)";
        ops.push(op("hoisted_rotate_extra", what, times, precision));
    }

    if wanted("mul_plain") {
        progress("mul_plain");
        let weights = encoder.encode(&y, slots, top, scale)?;
        let mut product = a.clone();
        let (times, ()) = timed(repeats, || {
            Ok(eval.mul_plain(&a, &weights, &mut product)?)
        })?;
        let precision = PrecisionStats::of(&expected, &decode(&product));
        let what = "ct×pt at the top level (no rescale), into a reused ciphertext (`mul_plain`)";
        ops.push(op("mul_plain", what, times, Some(precision)));
        let (times, product) = timed(repeats, || Ok(eval.mul_plain_new(&a, &weights)?))?;
        let precision = PrecisionStats::of(&expected, &decode(&product));
        let what = "ct×pt at the top level (no rescale), allocating the result (`mul_plain_new`)";
        ops.push(op("mul_plain_new", what, times, Some(precision)));
    }

    if wanted("encode") {
        progress("encode");
        let (times, plaintext) = timed(repeats, || Ok(encoder.encode(&x, slots, top, scale)?))?;
        let precision = PrecisionStats::of(&x, &encoder.decode(&plaintext));
        let what = "encode N/2 complex slots at the top level";
        ops.push(op("encode", what, times, Some(precision)));
    }

    if wanted("encrypt") {
        progress("encrypt");
        let plaintext = encoder.encode(&x, slots, top, scale)?;
        let (times, fresh) = timed(repeats, || Ok(encryptor.encrypt_pk(&public, &plaintext)))?;
        let precision = PrecisionStats::of(&x, &decode(&fresh));
        let what = "public-key encryption of an encoded plaintext at the top level";
        ops.push(op("encrypt", what, times, Some(precision)));
    }

    if wanted("decrypt") {
        progress("decrypt");
        let (times, decoded) = timed(repeats, || Ok(decode(&a)))?;
        let precision = PrecisionStats::of(&x, &decoded);
        let what = "decrypt and decode at the top level";
        ops.push(op("decrypt", what, times, Some(precision)));
    }

    if wanted("keygen_rotation") {
        progress("keygen_rotation");
        let g = context.ring().galois_element_for_rotation(1);
        let (times, _) = timed(repeats, || Ok(generator.galois_key(&secret, g, top)?))?;
        let what = "one rotation key at the top level";
        ops.push(op("keygen_rotation", what, times, None));
    }

    Ok(CkksReport {
        bench: "ckks",
        threads,
        repeats,
        params: echo,
        ops,
    })
}

fn print_table(report: &CkksReport) {
    let p = &report.params;
    println!(
        "CKKS benchmark: log N = {}, log QP = {:.1}, L = {}, dnum = {}, {} special primes, scale 2^{}, {} ({} threads, {} repeats)",
        p.log_n,
        p.log_qp,
        p.levels,
        p.dnum,
        p.special_primes,
        p.log_scale,
        p.security,
        report.threads,
        report.repeats
    );
    println!(
        "{:<26} {:>11} {:>11} {:>11} {:>11} {:>10} {:>10}",
        "operation", "median ms", "min ms", "max ms", "cpu ms", "bits mean", "bits min"
    );
    let bits = |b: Option<f64>| b.map_or("-".to_string(), |b| format!("{b:.1}"));
    for op in &report.ops {
        println!(
            "{:<26} {:>11.3} {:>11.3} {:>11.3} {:>11} {:>10} {:>10}",
            op.name,
            op.median_ms,
            op.min_ms,
            op.max_ms,
            op.cpu_median_ms
                .map_or("-".to_string(), |c| format!("{c:.3}")),
            bits(op.precision_bits),
            bits(op.precision_min_bits)
        );
    }
}
