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
use crate::poly::{ActivationApprox, ChooserOptions, PolyError};
use crate::reference::{ApproxActivations, ApproxError};
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
}

/// The knobs of [`compile`].
#[derive(Clone, PartialEq, Debug)]
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
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            slots: None,
            max_slots: 1 << 15,
            max_cts: 8,
            level: 0,
            source: None,
        }
    }
}

/// One model layer as `--stats` reports it: a graph node that emitted instructions.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Layer {
    /// The node name (or `<node> (output)` for the output instructions).
    pub name: String,
    /// The node's operation (`Conv2d`, `Relu`, ...).
    pub op: String,
}

/// What [`compile`] produces.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The program.
    pub program: Program,
    /// The slot layout of every node's output, and the slot count.
    pub layouts: LayoutPlan,
    /// The layers, in program order.
    pub layers: Vec<Layer>,
    /// The layer of each instruction the lowering emitted (instructions a pass adds have no
    /// entry: [`crate::stats`] attributes them to their first operand's layer).
    pub inst_layers: HashMap<Inst, usize>,
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
    let program = builder.finish();

    // ── Passes ────────────────────────────────────────────────────────────────────────────
    // The level, bootstrap, key, parameter and schedule passes (`compiler/src/passes/`) run
    // here, and only here, on `program` (each `Program -> Program`, the verifier after each).
    // Instructions they add keep no `inst_layers` entry; `stats` attributes them by operand.
    // ──────────────────────────────────────────────────────────────────────────────────────

    fhec_ir::verify(&program).map_err(LowerError::Verify)?;
    Ok(Compiled {
        program,
        layouts: plan,
        layers: emitted.layers,
        inst_layers: emitted.inst_layers,
    })
}
