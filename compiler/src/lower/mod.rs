//! Whole-graph lowering: a validated tensor graph (BatchNorm folded) and the approximation of
//! each activation become one HE IR [`Program`] (DESIGN §1, issue 6).
//!
//! [`compile`] is the entry point. In order:
//!
//! 1. [`layouts`]: one slot count for the program and a slot layout per tensor;
//! 2. [`factors`]: what each tensor's slots hold (`factor · x + offset`), so that every
//!    activation's range normalisation is folded into the producer's weights;
//! 3. [`nodes`]: node-by-node emission (linear maps, polynomials, adds), each instruction
//!    attributed to its layer;
//! 4. **the passes** (levels, bootstrap, keys, params, schedule: `compiler/src/passes/`) run
//!    at the one marked place in [`compile`];
//! 5. the verifier.
//!
//! The lowered program is the *unscheduled* form: no rescale, level drop, bootstrap or free
//! (STYLE #14), and every value is typed at one placeholder level
//! ([`CompileOptions::level`]) and scale 1. Exact symbolic scales cannot be kept without
//! rescales (each degree-247 activation raises the scale to its 256th power, which overflows
//! the exponents after four activations), so the levels pass assigns levels and exact scales
//! when it places rescales; the depth rules it needs are in `docs/lowering.md`.
//!
//! Recipes name tensors `<node>.weight`/`<node>.bias` ([`bindings::graph_weights`]) and inputs
//! and outputs carry an [`io::IoDescription`], so a program runs with nothing but itself, the
//! weights and the data.

pub mod bindings;
pub mod factors;
pub mod io;
pub mod layouts;
pub mod nodes;

use crate::graph::TensorGraph;
use crate::linear::LinearError;
use crate::passes::{PassDump, PassError, PassReport, run_passes, run_passes_dumped};
use crate::poly::{ActivationApprox, ChooserOptions, PolyError};
use crate::reference::{ApproxActivations, ApproxError};
use crate::target::{Target, TargetError};
use fhec_ir::{BuildError, GraphHash, Inst, Program, VerifierErrors};
use std::collections::{BTreeMap, HashMap};

pub use io::{IoDescription, IoError, ProgramSource};
pub use layouts::LayoutPlan;

/// Why a graph could not be lowered. Every variant names the node at fault.
#[derive(Debug, thiserror::Error)]
pub enum LowerError {
    /// An option is out of range.
    #[error("compile options: {0}")]
    Options(String),
    /// The node's operation or tensor shape has no lowering.
    #[error("node `{node}`: unsupported: {message}")]
    Unsupported {
        /// The node.
        node: String,
        /// What is not supported.
        message: String,
    },
    /// No slot layout fits the node's tensor.
    #[error("node `{node}`: no slot layout fits: {message}")]
    Layout {
        /// The node.
        node: String,
        /// Why.
        message: String,
    },
    /// The approximations do not match the graph's activations.
    #[error(transparent)]
    Approximations(#[from] ApproxError),
    /// An activation has no approximation.
    #[error("activation node `{node}` has no approximation")]
    MissingApproximation {
        /// The node.
        node: String,
    },
    /// A linear map could not be built or emitted.
    #[error("node `{node}`: {source}")]
    Linear {
        /// The node.
        node: String,
        /// The mechanism's error.
        source: LinearError,
    },
    /// A polynomial evaluation could not be emitted.
    #[error("node `{node}`: {source}")]
    Activation {
        /// The node.
        node: String,
        /// The emitter's error.
        source: PolyError,
    },
    /// The IR builder refused an instruction.
    #[error("node `{node}`: {source}")]
    Build {
        /// The node.
        node: String,
        /// The builder's error.
        source: BuildError,
    },
    /// The finished program does not verify (a compiler bug, reported rather than hidden).
    #[error("the lowered program does not verify:\n{0}")]
    Verify(VerifierErrors),
    /// The target parameters could not be built.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A pass failed (levels, bootstraps, keys or the memory budget).
    #[error(transparent)]
    Passes(#[from] PassError),
}

/// The knobs of [`compile`].
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Force this slot count (a power of two); default: the smallest that holds the largest
    /// tensor, at most `max_slots`.
    pub slots: Option<usize>,
    /// The largest slot count: `N/2` of the ring. Default 2^15 (N = 2^16, DESIGN §4).
    pub max_slots: usize,
    /// The most ciphertexts one tensor may take before the layout is refused. Default 8
    /// (`docs/plans/lowering.md` §1.4).
    pub max_cts: usize,
    /// The placeholder level every value of the unscheduled program is typed at. Default 0.
    pub level: u32,
    /// Provenance recorded in the program (model, weights, calibration).
    pub source: Option<ProgramSource>,
    /// Run the passes (levels, bootstraps, keys, schedule) for a target; `None` stops at the
    /// unscheduled program (what the lowering snapshots show).
    pub schedule: Option<ScheduleOptions>,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            slots: None,
            max_slots: 1 << 15,
            max_cts: 8,
            level: 0,
            source: None,
            schedule: None,
        }
    }
}

/// How to schedule the lowered program.
#[derive(Clone, Debug, Default)]
pub struct ScheduleOptions {
    /// The parameters compiled for; `None`: the 128-bit `N16_BOOT` preset at the program's
    /// slot count.
    pub target: Option<Target>,
    /// At most this many rotation keys (others are decomposed onto them).
    pub max_rotation_keys: Option<usize>,
    /// The predicted peak memory (values + keys) must fit in this many bytes.
    pub memory_budget: Option<u64>,
    /// Keep the program text after lowering and after each pass (`--dump-after`).
    pub dump: bool,
}

/// One model layer as `--stats` and run reports name it: a graph node that emitted
/// instructions (recorded in the program's metadata).
pub use fhec_ir::Layer;

/// What [`compile`] produces.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The program.
    pub program: Program,
    /// The slot layout of every node's output, and the slot count.
    pub layouts: LayoutPlan,
    /// The layers, in program order.
    pub layers: Vec<Layer>,
    /// The layer of each instruction the lowering emitted, keyed by the unscheduled
    /// program's handles (the scheduled program carries the layer in each instruction).
    pub inst_layers: HashMap<Inst, usize>,
    /// What the passes did, when they ran ([`CompileOptions::schedule`]).
    pub report: Option<PassReport>,
    /// The program text after lowering and after each pass, when asked for.
    pub dumps: Vec<PassDump>,
}

/// A 256-bit hash of the graph's architecture (its printed form: names, operations,
/// attributes, shapes, parameter counts; not the weight values), so a program can be checked
/// against the model it is run with.
pub fn graph_hash(graph: &TensorGraph) -> GraphHash {
    GraphHash(*blake3::hash(graph.to_string().as_bytes()).as_bytes())
}

/// The chooser's default options with the command line's overrides: `degree` forces
/// Chebyshev interpolants of that degree only (whatever their depth: the caller asked for it),
/// `margin` the interval's margin over the calibrated bound.
pub fn chooser_options(
    degree: Option<usize>,
    margin: Option<f64>,
) -> Result<ChooserOptions, LowerError> {
    let mut options = ChooserOptions::default();
    if let Some(degree) = degree {
        if degree == 0 {
            return Err(LowerError::Options("the degree must be at least 1".into()));
        }
        options.chebyshev_degrees = vec![degree];
        options.sign_families.clear();
        options.max_depth = u32::MAX;
    }
    if let Some(margin) = margin {
        if !(margin.is_finite() && margin >= 1.0) {
            return Err(LowerError::Options(format!(
                "the margin {margin} is not a finite number ≥ 1"
            )));
        }
        options.margin = margin;
    }
    Ok(options)
}

/// Lowers `graph` with the approximation of each activation (keyed by node name) into one
/// program; see the module documentation.
pub fn compile(
    graph: &TensorGraph,
    approximations: &BTreeMap<String, ActivationApprox>,
    options: &CompileOptions,
) -> Result<Compiled, LowerError> {
    ApproxActivations::new(graph, approximations)?;
    if options.max_cts == 0 {
        return Err(LowerError::Options("max_cts must be at least 1".into()));
    }
    let plan = layouts::plan_layouts(graph, options.slots, options.max_slots, options.max_cts)?;
    let wants = factors::plan_factors(graph, approximations);
    let emitted = nodes::NodeLowering::new(
        graph,
        approximations,
        &plan,
        wants,
        options.level,
        options.source.clone(),
    )
    .run()?;
    let mut builder = emitted.builder;
    builder.set_graph_hash(graph_hash(graph));
    let mut program = builder.finish();
    // The layer travels with each instruction, so the passes (which rebuild the program)
    // keep it and give it to the instructions they add.
    for (&inst, &layer) in &emitted.inst_layers {
        if let Some(data) = program.inst_mut(inst) {
            data.layer = u32::try_from(layer).ok();
        }
    }
    fhec_ir::verify(&program).map_err(LowerError::Verify)?;

    // ── Passes ────────────────────────────────────────────────────────────────────────────
    // The level, bootstrap, key and schedule passes (`compiler/src/passes/`) run here, and
    // only here, on `program`, for the target recorded in it (the verifier after each).
    // ──────────────────────────────────────────────────────────────────────────────────────
    let mut report = None;
    let mut dumps = Vec::new();
    if let Some(schedule) = &options.schedule {
        if schedule.dump {
            dumps.push(PassDump {
                pass: "lower",
                text: program.to_string(),
            });
        }
        let target = match &schedule.target {
            Some(target) => target.clone(),
            None => Target::n16_boot(plan.slots)?,
        };
        target.record(&mut program)?;
        let mut pass_options = target.pass_options()?;
        pass_options.max_rotation_keys = schedule.max_rotation_keys;
        pass_options.memory_budget = schedule.memory_budget;
        let (scheduled, pass_report, pass_dumps) = if schedule.dump {
            run_passes_dumped(program, &pass_options)?
        } else {
            let (scheduled, pass_report) = run_passes(program, &pass_options)?;
            (scheduled, pass_report, Vec::new())
        };
        program = scheduled;
        report = Some(pass_report);
        dumps.extend(pass_dumps);
    }
    program.meta.layers = emitted.layers.clone();
    Ok(Compiled {
        program,
        layouts: plan,
        layers: emitted.layers,
        inst_layers: emitted.inst_layers,
        report,
        dumps,
    })
}
