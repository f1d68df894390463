//! The optimisation passes over the HE IR (DESIGN §1), run in this order on the lowering's
//! unscheduled program (no rescale, no bootstrap, no level management):
//!
//! 1. [`levels`] with [`bootstrap`] placement (`--dump-after levels`): rescales, level drops
//!    and exact scale fixes; the fewest bootstraps the greedy placement and its merging at
//!    shared ancestors find, with the inputs raised above the bootstrap's output level when
//!    that saves one ([`PassOptions::max_input_level`]); every value's level;
//! 2. [`keys`] (`--dump-after keys`): canonical rotation offsets, the rotation-key set under a
//!    key budget (other offsets decomposed onto it), level caps on every key;
//! 3. [`schedule`] (`--dump-after schedule`): instruction order, `free`s, the peak-memory
//!    estimate of [`memory`]'s model and the `--memory-budget` check. Over the budget, the
//!    keys pass is re-run with fewer keys (trading key switches for key memory) until the
//!    peak fits or the keys cannot shrink further.
//!
//! The verifier runs on the incoming program and after every pass (unless
//! [`PassOptions::skip_verify`]), with the chain facts when given. `docs/passes.md` describes each pass and its report.

pub mod analysis;
pub mod bootstrap;
pub mod dataflow;
pub mod keys;
pub mod levels;
pub mod memory;
pub mod schedule;

pub use bootstrap::{Placement, PlacementError, place_bootstraps};
pub use keys::{KeyError, KeyReport, canonical_offset, naf_terms, select_keys};
pub use levels::{InputTypes, LevelsCounts, LevelsError, LevelsOutcome, assign_levels};
pub use memory::{BootstrapResidency, MemoryModel, ResidentBytes};
pub use schedule::{ScheduleReport, schedule};

use fhec_ir::{BootstrapSpec, ChainFacts, Program, Scale, VerifierErrors, verify_with};

/// The passes, in pipeline order, by the names `--dump-after` accepts.
pub const PASS_NAMES: [&str; 3] = ["levels", "keys", "schedule"];

/// What the pipeline needs to know beyond the program.
#[derive(Clone, Debug, Default)]
pub struct PassOptions {
    /// Re-declare every input at this level (the top of the chain the inputs are encrypted
    /// at); `None` keeps the levels the lowering declared.
    pub input_level: Option<u32>,
    /// The inputs may be encrypted up to this level (above `input_level`): when bootstraps
    /// are needed, the placement is re-run with the inputs one level higher at a time, and
    /// the lowest input level giving the fewest bootstraps is kept (a fresh encryption can
    /// start above the bootstrap's output level; `None`: only `input_level`).
    pub max_input_level: Option<u32>,
    /// The scale the inputs are encrypted at (the working scale Δ); `None` keeps the declared
    /// one unless it is the lowering's placeholder 1, which is replaced by the bootstrap's
    /// output scale when there is a bootstrapping configuration.
    pub input_scale: Option<Scale>,
    /// The bootstrapping configuration (input and output level and scale); `None` uses the
    /// program's own, and a program without one may not need a bootstrap.
    pub bootstrap: Option<BootstrapSpec>,
    /// The modulus chain, for the parameter-aware verifier checks.
    pub chain: Option<ChainFacts>,
    /// At most this many rotation keys (`None`: one per offset used).
    pub max_rotation_keys: Option<usize>,
    /// The memory model; `None` derives one from the program ([`MemoryModel::for_program`]).
    pub memory: Option<MemoryModel>,
    /// The predicted peak (values + keys) must stay within this many bytes.
    pub memory_budget: Option<u64>,
    /// Skip the verifier between passes (it runs by default).
    pub skip_verify: bool,
}

/// What the pipeline did, pass by pass.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PassReport {
    /// Rescales, level drops, scale fixes, bootstraps and the lowest level reached.
    pub levels: LevelsCounts,
    /// Key counts before and after, decomposed offsets and the rotations they add.
    pub keys: KeyReport,
    /// Peak memory and frees.
    pub schedule: ScheduleReport,
    /// How many times the keys pass was re-run with a smaller key budget to meet the memory
    /// budget.
    pub key_budget_retries: usize,
}

/// Why the pipeline stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PassError {
    /// Level assignment or bootstrap placement failed.
    #[error("levels: {0}")]
    Placement(#[from] PlacementError),
    /// The key budget cannot be met.
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
    /// The program's output of a pass does not verify (a bug in that pass).
    #[error("the program after the {pass} pass does not verify: {errors}")]
    Verify {
        /// The pass that produced it.
        pass: &'static str,
        /// The violations.
        errors: VerifierErrors,
    },
    /// The predicted peak exceeds the memory budget even with the fewest keys.
    #[error(
        "memory budget {budget} bytes not met: predicted peak {peak} bytes ({values} in live \
         ciphertexts/plaintexts, {keys} in evaluation keys ({key_count} circuit rotation keys \
         and the bootstrapping's), {constants} in the bootstrapping's DFT plaintexts) with \
         the fewest rotation keys the decomposition allows"
    )]
    MemoryBudget {
        /// The budget asked for.
        budget: u64,
        /// The best peak found.
        peak: u64,
        /// Its value part.
        values: u64,
        /// Its key part (the circuit's and the bootstrapping's).
        keys: u64,
        /// The bootstrapping's encoded DFT diagonals.
        constants: u64,
        /// Rotation keys in that key set.
        key_count: usize,
    },
}

/// One pass's output as text, for `--dump-after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassDump {
    /// The pass name (one of [`PASS_NAMES`]).
    pub pass: &'static str,
    /// The program printed after it.
    pub text: String,
}

/// Runs every pass on an unscheduled `program`; see the module documentation.
pub fn run_passes(
    program: Program,
    options: &PassOptions,
) -> Result<(Program, PassReport), PassError> {
    pipeline(program, options, false).map(|(program, report, _)| (program, report))
}

/// [`run_passes`], also returning the program text after each pass (for `--dump-after`).
pub fn run_passes_dumped(
    program: Program,
    options: &PassOptions,
) -> Result<(Program, PassReport, Vec<PassDump>), PassError> {
    pipeline(program, options, true)
}

/// The pipeline; the dumps are printed only when `dump` is set (large programs print slowly).
fn pipeline(
    program: Program,
    options: &PassOptions,
    dump: bool,
) -> Result<(Program, PassReport, Vec<PassDump>), PassError> {
    if !options.skip_verify {
        // The unscheduled program's own rules (operand counts and kinds, definitions before
        // use): the passes index operands by the op table.
        fhec_ir::verify(&program).map_err(|errors| PassError::Verify {
            pass: "lowering",
            errors,
        })?;
    }
    let mut dumps = Vec::new();
    let text = |pass: &'static str, program: &Program| {
        dump.then(|| PassDump {
            pass,
            text: program.to_string(),
        })
    };
    let spec = options.bootstrap.as_ref().or(program.bootstrap.as_ref());
    let placeholder = program.inputs().any(|(_, v)| {
        program
            .value_type(v)
            .is_some_and(|t| t.scale == Scale::one())
    });
    let inputs = InputTypes {
        level: options.input_level,
        scale: options
            .input_scale
            .clone()
            .or_else(|| spec.filter(|_| placeholder).map(|s| s.output_scale.clone())),
    };
    let placement = place_with_input_headroom(&program, &inputs, options)?;
    let leveled = placement.outcome.program;
    check(&leveled, "levels", options)?;
    dumps.extend(text("levels", &leveled));
    let mut report = PassReport {
        levels: placement.outcome.counts,
        ..PassReport::default()
    };
    let model = options
        .memory
        .clone()
        .unwrap_or_else(|| MemoryModel::for_program(&leveled));
    let mut key_budget = options.max_rotation_keys;
    loop {
        let (keyed, key_report) = select_keys(leveled.clone(), key_budget)?;
        check(&keyed, "keys", options)?;
        let keyed_text = text("keys", &keyed);
        let (scheduled, schedule_report) = schedule(keyed, &model);
        check(&scheduled, "schedule", options)?;
        let fits = options
            .memory_budget
            .is_none_or(|budget| schedule_report.peak_bytes <= budget);
        let keys_after = key_report.keys_after;
        report.keys = key_report;
        report.schedule = schedule_report;
        let smaller = if fits {
            None
        } else {
            smaller_key_budget(&leveled, keys_after, &schedule_report, options)
        };
        if fits || smaller.is_none() {
            if let (false, Some(budget)) = (fits, options.memory_budget) {
                return Err(PassError::MemoryBudget {
                    budget,
                    peak: schedule_report.peak_bytes,
                    values: schedule_report.peak_value_bytes,
                    keys: schedule_report.key_bytes,
                    constants: schedule_report.bootstrap_plaintext_bytes,
                    key_count: keys_after,
                });
            }
            dumps.extend(keyed_text);
            dumps.extend(text("schedule", &scheduled));
            let mut scheduled = scheduled;
            scheduled.meta.predicted_peak_bytes = Some(schedule_report.peak_bytes);
            return Ok((scheduled, report, dumps));
        }
        key_budget = smaller;
        report.key_budget_retries += 1;
    }
}

/// The bootstrap placement with the inputs at `inputs.level`, then, while bootstraps remain
/// and [`PassOptions::max_input_level`] allows, with the inputs at each higher level in turn
/// (a level whose result does not verify is skipped: the extra levels' primes may move
/// scales away from Δ): the lowest input level with the fewest bootstraps. Of `options`,
/// only `max_input_level`, `bootstrap`, `chain` and `skip_verify` are read.
pub fn place_with_input_headroom(
    program: &Program,
    inputs: &InputTypes,
    options: &PassOptions,
) -> Result<Placement, PassError> {
    let mut best = place_bootstraps(program, inputs, options.bootstrap.as_ref())?;
    let (Some(base), Some(max)) = (inputs.level, options.max_input_level) else {
        return Ok(best);
    };
    for level in base + 1..=max {
        if best.bootstrapped.is_empty() {
            break;
        }
        let higher = InputTypes {
            level: Some(level),
            ..inputs.clone()
        };
        let fewer = place_bootstraps(program, &higher, options.bootstrap.as_ref())
            .ok()
            .filter(|p| p.bootstrapped.len() < best.bootstrapped.len())
            .filter(|p| check(&p.outcome.program, "levels", options).is_ok());
        if let Some(placement) = fewer {
            best = placement;
        }
    }
    Ok(best)
}

/// A smaller rotation-key budget that the decomposition can meet, aimed at removing the key
/// bytes by which the peak exceeds the memory budget (at least one key fewer), or `None` when
/// the keys cannot shrink.
fn smaller_key_budget(
    leveled: &Program,
    keys_after: usize,
    report: &ScheduleReport,
    options: &PassOptions,
) -> Option<usize> {
    let budget = options.memory_budget?;
    if keys_after == 0 || report.circuit_key_bytes == 0 {
        return None;
    }
    let excess = report.peak_bytes.saturating_sub(budget);
    let per_key = (report.circuit_key_bytes / keys_after as u64).max(1);
    let remove = usize::try_from(excess.div_ceil(per_key)).unwrap_or(keys_after);
    let aimed = keys_after.saturating_sub(remove.max(1));
    [aimed, keys_after - 1]
        .into_iter()
        .find(|&b| select_keys(leveled.clone(), Some(b)).is_ok())
}

/// The text after `pass` (one of [`PASS_NAMES`], or `all` for every pass in order).
pub fn dump_after(dumps: &[PassDump], pass: &str) -> Option<String> {
    if pass == "all" {
        return Some(
            dumps
                .iter()
                .map(|d| format!("; after {}\n{}", d.pass, d.text))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    dumps
        .iter()
        .find(|d| d.pass == pass)
        .map(|d| d.text.clone())
}

fn check(program: &Program, pass: &'static str, options: &PassOptions) -> Result<(), PassError> {
    if options.skip_verify {
        return Ok(());
    }
    verify_with(program, options.chain.as_ref())
        .map_err(|errors| PassError::Verify { pass, errors })
}
