//! The `levels` pass: rescale and level-drop insertion with exact scales, bootstraps at the
//! values the placement chose, and the level of every value.
//!
//! The input is an *unscheduled* program (the lowering's output): every ciphertext at its
//! input's level, no rescale, scales that are only formally consistent. Its meaning is the
//! real-valued computation; scales are an encoding detail. The pass rebuilds the program
//! instruction by instruction, choosing every encoding scale itself, so the output verifies
//! with **exactly** equal scales wherever the IR demands them:
//!
//! - a ciphertext is *settled* (scale ≈ Δ, the working scale), *pending* (scale ≈ Δ², one
//!   rescale owed: a product, or a sum of products), or *deferred*: a product by a real
//!   constant or a plaintext not yet emitted, whose encoding scale is still free;
//! - a deferred product is emitted when its use decides the scale: next to a settled value of
//!   scale `s` the factor is encoded at `s·q_l/s_src` and rescaled, landing on `s` exactly;
//!   next to a pending value of scale `S` it is encoded at `S/s_src` and joins the pending
//!   sum (so a linear layer's products are summed and rescaled once, Lattigo-style); anywhere
//!   else at `q_l`, which gives back the source's scale after the rescale;
//! - `mul` settles both operands, drops the higher to the lower level and leaves the product
//!   pending; integer constants (`2`, `-1`, the `1.0` scale lifts of the polynomial emitter)
//!   are encoded at scale 1 and cost no level;
//! - additions align levels with `level_down`; two settled values of different scales are
//!   matched by `mul_const 1.0` at the exact quotient plus a rescale on the higher operand (a
//!   *scale fix*, free on the critical path), or, at equal levels, by lifting both to pending;
//! - a bootstrapped value is brought to the bootstrap's input level and scale the same way.
//!
//! Instructions no output depends on are dropped (counted as dead). Management ops already
//! present (`rescale`, `level_down`) are semantic identities and are dropped; `free` is
//! dropped (the schedule pass places frees); a `bootstrap` is kept as a forced bootstrap
//! point. When a multiplication would need a level below 0 the pass stops with
//! [`LevelsError::Underflow`] naming the value: the bootstrap placement reacts to it.
//!
//! Code map: this file holds the states and the emission primitives (rescale, level drop,
//! deferred products, each emitted once); `ops.rs` translates each unscheduled op;
//! `align.rs` makes operands addable and converts values for a bootstrap. The analyses it
//! reads (the live instructions, the values that flow into a bootstrap) are in
//! [`super::analysis`].

mod align;
mod ops;

use super::analysis::liveness::live_instructions;
use super::analysis::scale_flow::scale_targets;
use super::dataflow::Dataflow;
use fhec_ir::{
    BootstrapSpec, BuildError, Builder, Opcode, Program, Recipe, Scale, ScaledConst, Type, Value,
};
use std::collections::{BTreeSet, HashMap};

/// Integer constants up to this magnitude are multiplied in exactly at scale 1.
const MAX_EXACT_INTEGER: f64 = (1u64 << 20) as f64;

/// Why the levels could not be assigned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LevelsError {
    /// Computing `at` needs a rescale below level 0 (a bootstrap is needed before it).
    #[error("{at}: {reason}")]
    Underflow {
        /// The value of the unscheduled program whose computation runs out of levels.
        at: Value,
        /// The bootstrap candidate whose input conversion failed, if that is where.
        bootstrapping: Option<Value>,
        /// What ran out.
        reason: String,
    },
    /// The program uses a construct the pass cannot schedule.
    #[error("{at}: {message}")]
    Unsupported {
        /// The offending value or instruction result.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// An instruction the pass emitted was refused (a bug in the pass).
    #[error("levels pass emitted an ill-typed instruction: {0}")]
    Build(#[from] BuildError),
}

/// Counts of what the pass inserted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LevelsCounts {
    /// `rescale` instructions.
    pub rescales: usize,
    /// `level_down` instructions.
    pub level_downs: usize,
    /// Scale fixes (`mul_const 1.0` at an exact quotient to equalise scales).
    pub scale_fixes: usize,
    /// `bootstrap` instructions.
    pub bootstraps: usize,
    /// The lowest level any ciphertext reaches.
    pub lowest_level: u32,
    /// Instructions of the unscheduled program dropped because no output depends on them.
    pub dead: usize,
}

/// The rebuilt program and what was inserted.
#[derive(Clone, Debug)]
pub struct LevelsOutcome {
    /// The scheduled program.
    pub program: Program,
    /// Counts.
    pub counts: LevelsCounts,
    /// The level each ciphertext value of the unscheduled program is computed at, before a
    /// bootstrap refreshes it: its settled level (one less than the emitted level when a
    /// rescale is still owed, or when the value is a product not emitted yet). The bootstrap
    /// placement reads each operation's level cost from it.
    pub levels: HashMap<Value, i64>,
}

/// A constant or plaintext factor whose encoding scale is not chosen yet.
#[derive(Clone, Copy, Debug)]
enum Factor {
    Const(f64),
    /// The unscheduled program's `plain` value (its recipe is looked up when emitted).
    Plain(Value),
}

/// What identifies a factor in the product cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum FactorKey {
    Const(u64),
    Plain(Value),
}

/// The state of one value of the unscheduled program in the rebuilt one.
#[derive(Clone, Copy, Debug)]
enum State {
    /// An emitted ciphertext; `pending` when it owes one rescale.
    Fixed { value: Value, pending: bool },
    /// `factor · src` with `src` settled, not emitted yet.
    Deferred { src: Value, factor: Factor },
}

/// The level and scale the inputs are encrypted at, overriding what the unscheduled program
/// declares (the lowering types every value at a placeholder level and scale 1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputTypes {
    /// The inputs' level (`None`: as declared).
    pub level: Option<u32>,
    /// The inputs' scale, the working scale Δ (`None`: as declared).
    pub scale: Option<Scale>,
}

/// Rebuilds `program` with rescales, level drops and scale fixes, bootstrapping the values in
/// `bootstraps` (values of `program`) right after their definition; see the module
/// documentation. Only the unscheduled program's operations, recipes and constant values are
/// read: its levels and scales (placeholders or not) are ignored except the inputs', which
/// `inputs` may override. `spec` is the bootstrapping configuration (the program's own when
/// `None`).
pub fn assign_levels(
    program: &Program,
    bootstraps: &BTreeSet<Value>,
    inputs: &InputTypes,
    spec: Option<&BootstrapSpec>,
) -> Result<LevelsOutcome, LevelsError> {
    let spec = spec.or(program.bootstrap.as_ref()).cloned();
    let mut builder = Builder::new();
    if let Some(spec) = &spec {
        builder.set_bootstrap(spec.clone());
    }
    if let Some(hash) = program.meta.graph_hash {
        builder.set_graph_hash(hash);
    }
    if let Some(params) = &program.meta.params {
        builder.set_params(params.clone());
    }
    if let Some(source) = &program.meta.source {
        builder.set_source(source.clone());
    }
    let dataflow = Dataflow::new(program);
    let targets = spec
        .as_ref()
        .map(|spec| scale_targets(&dataflow, bootstraps, &spec.input_scale))
        .unwrap_or_default();
    let mut rebuild = Rebuild {
        b: builder,
        targets,
        rescaled: HashMap::new(),
        dropped: HashMap::new(),
        products: HashMap::new(),
        spec,
        states: HashMap::new(),
        plains: HashMap::new(),
        counts: LevelsCounts {
            lowest_level: u32::MAX,
            ..LevelsCounts::default()
        },
        at: Value::with_number(0),
    };
    let live = live_instructions(&dataflow);
    let mut levels = HashMap::new();
    for (inst, data) in program.instructions() {
        if !live.contains(&inst) {
            rebuild.counts.dead += usize::from(data.opcode != Opcode::Free);
            continue;
        }
        rebuild.at = data
            .results
            .first()
            .or(data.args.first())
            .copied()
            .unwrap_or(rebuild.at);
        rebuild.b.set_layer(data.layer);
        rebuild.instruction(program, data, inputs)?;
        for &result in &data.results {
            if let Some(state) = rebuild.states.get(&result).copied() {
                let level = rebuild.settled_level(state);
                levels.insert(result, level);
            }
            if bootstraps.contains(&result) && data.opcode != Opcode::Bootstrap {
                let state = rebuild.state(result)?;
                let refreshed = rebuild.bootstrap(state, result)?;
                rebuild.states.insert(result, refreshed);
            }
        }
    }
    let mut counts = rebuild.counts;
    let out = rebuild.b.finish();
    counts.lowest_level = out
        .instructions()
        .flat_map(|(_, d)| d.results.iter())
        .filter_map(|&v| out.value_type(v))
        .filter(|t| t.is_cipher())
        .map(|t| t.level)
        .min()
        .unwrap_or(0);
    Ok(LevelsOutcome {
        program: out,
        counts,
        levels,
    })
}

struct Rebuild {
    b: Builder,
    /// Values of the unscheduled program that flow, through scale-preserving ops only, into a
    /// bootstrap: the settled scale their pending sums should land on.
    targets: HashMap<Value, Scale>,
    /// Emitted rescales, level drops and products, so each is emitted once (SSA values can be
    /// reused anywhere after their definition).
    rescaled: HashMap<Value, Value>,
    dropped: HashMap<(Value, u32), Value>,
    products: HashMap<(Value, FactorKey, u32, Scale), Value>,
    spec: Option<BootstrapSpec>,
    states: HashMap<Value, State>,
    plains: HashMap<Value, Recipe>,
    counts: LevelsCounts,
    /// The unscheduled value being computed (named by underflow errors).
    at: Value,
}

/// Whether `c` is an integer small enough to multiply in exactly at scale 1.
pub(crate) fn is_exact_integer(c: f64) -> bool {
    c.fract() == 0.0 && c.abs() <= MAX_EXACT_INTEGER
}

impl Rebuild {
    fn ty(&self, v: Value) -> Type {
        self.b
            .value_type(v)
            .cloned()
            .expect("the pass only names values it emitted")
    }

    /// The level `state` is settled at: a pending value owes a rescale, a deferred product
    /// a product and its rescale.
    fn settled_level(&self, state: State) -> i64 {
        match state {
            State::Fixed { value, pending } => i64::from(self.ty(value).level) - i64::from(pending),
            State::Deferred { src, .. } => i64::from(self.ty(src).level) - 1,
        }
    }

    fn state(&self, old: Value) -> Result<State, LevelsError> {
        self.states
            .get(&old)
            .cloned()
            .ok_or_else(|| LevelsError::Unsupported {
                at: old.to_string(),
                message: "used before its definition (or not a ciphertext)".into(),
            })
    }

    fn underflow(&self, reason: impl Into<String>) -> LevelsError {
        LevelsError::Underflow {
            at: self.at,
            bootstrapping: None,
            reason: reason.into(),
        }
    }

    fn level_down(&mut self, v: Value, level: u32) -> Result<Value, LevelsError> {
        if self.ty(v).level <= level {
            return Ok(v);
        }
        if let Some(&done) = self.dropped.get(&(v, level)) {
            return Ok(done);
        }
        self.counts.level_downs += 1;
        let dropped = self.b.level_down(v, level)?;
        self.dropped.insert((v, level), dropped);
        Ok(dropped)
    }

    fn rescale(&mut self, v: Value) -> Result<Value, LevelsError> {
        if let Some(&done) = self.rescaled.get(&v) {
            return Ok(done);
        }
        if self.ty(v).level == 0 {
            return Err(self.underflow("a rescale is needed at level 0"));
        }
        self.counts.rescales += 1;
        let rescaled = self.b.rescale(v)?;
        self.rescaled.insert(v, rescaled);
        Ok(rescaled)
    }

    /// `factor · src` at `level` with the factor encoded at `scale` (no rescale).
    fn multiply(
        &mut self,
        src: Value,
        factor: &Factor,
        level: u32,
        scale: Scale,
    ) -> Result<Value, LevelsError> {
        if level == 0 {
            return Err(self.underflow("a product is needed at level 0"));
        }
        let key = match factor {
            Factor::Const(value) => FactorKey::Const(value.to_bits()),
            Factor::Plain(plain) => FactorKey::Plain(*plain),
        };
        let key = (src, key, level, scale.clone());
        if let Some(&done) = self.products.get(&key) {
            return Ok(done);
        }
        let src = self.level_down(src, level)?;
        let product = match factor {
            Factor::Const(value) => self.b.mul_const(
                src,
                ScaledConst {
                    value: *value,
                    scale,
                },
            )?,
            Factor::Plain(old) => {
                let recipe = self.recipe(*old)?;
                let slots = self.ty(src).slots;
                let plain = self.b.plain(recipe, Type::plain(level, scale, slots))?;
                self.b.mul_plain(src, plain)?
            }
        };
        self.products.insert(key, product);
        Ok(product)
    }

    /// The scale `target · q_level / from`, exactly.
    fn quotient(&self, target: &Scale, level: u32, from: &Scale) -> Result<Scale, LevelsError> {
        target
            .checked_mul(&Scale::prime(level))
            .and_then(|s| s.checked_div(from))
            .ok_or_else(|| self.underflow(format!("scale {target}·q{level}/{from} overflows")))
    }

    /// The state as an emitted ciphertext (a deferred product is emitted pending, encoded at
    /// `q_l` so that its rescale gives back the source's scale, or, when the value being
    /// computed flows into a bootstrap, so that its rescale lands on the bootstrap's input
    /// scale).
    fn fixed(&mut self, state: State) -> Result<(Value, bool), LevelsError> {
        match state {
            State::Fixed { value, pending } => Ok((value, pending)),
            State::Deferred { src, factor } => {
                let level = self.ty(src).level;
                let scale = match self.targets.get(&self.at).cloned() {
                    Some(target) => self.quotient(&target, level, &self.ty(src).scale)?,
                    None => Scale::prime(level),
                };
                let v = self.multiply(src, &factor, level, scale)?;
                Ok((v, true))
            }
        }
    }

    /// The state as a settled ciphertext.
    fn settle(&mut self, state: State) -> Result<Value, LevelsError> {
        let (v, pending) = self.fixed(state)?;
        if pending { self.rescale(v) } else { Ok(v) }
    }

    fn define(&mut self, old: Value, value: Value, pending: bool) {
        self.states.insert(old, State::Fixed { value, pending });
    }
}
