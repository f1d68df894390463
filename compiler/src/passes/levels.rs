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
//! present (`rescale`, `level_down`) are semantic identities and are dropped; `free` is dropped (the schedule pass places frees); a `bootstrap` is kept as a
//! forced bootstrap point. When a multiplication would need a level below 0 the pass stops
//! with [`LevelsError::Underflow`] naming the value: the bootstrap placement reacts to it.

use fhec_ir::{
    BootstrapSpec, BuildError, Builder, Immediate, Opcode, Program, Recipe, Scale, ScaledConst,
    Type, Value,
};
use std::collections::{BTreeSet, HashMap, HashSet};

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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

/// A constant or plaintext factor whose encoding scale is not chosen yet.
#[derive(Clone, Debug)]
enum Factor {
    Const(f64),
    /// The unscheduled program's `plain` value (it names the recipe for caching) and its
    /// recipe.
    Plain(Value, Recipe),
}

/// The instructions some output depends on (inputs are kept as the program's interface;
/// `free`s are dropped, the schedule pass places its own).
fn live_instructions(program: &Program) -> HashSet<fhec_ir::Inst> {
    let mut needed: HashSet<Value> = HashSet::new();
    let mut live = HashSet::new();
    let order: Vec<_> = program.instructions().collect();
    for (inst, data) in order.into_iter().rev() {
        let keep = match data.opcode {
            Opcode::Input | Opcode::Output => true,
            Opcode::Free => false,
            _ => data.results.iter().any(|r| needed.contains(r)),
        };
        if keep {
            live.insert(inst);
            needed.extend(&data.args);
        }
    }
    live
}

/// What identifies a factor in the product cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum FactorKey {
    Const(u64),
    Plain(Value),
}

/// The state of one value of the unscheduled program in the rebuilt one.
#[derive(Clone, Debug)]
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
    let targets = spec
        .as_ref()
        .map(|spec| scale_targets(program, bootstraps, &spec.input_scale))
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
    let live = live_instructions(program);
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
    })
}

/// The values whose scale reaches a bootstrap unchanged (through additions, negation,
/// rotations, constant additions and exact integer products), each with the bootstrap's input
/// scale: if their pending sums land on it, the bootstrap's input needs no scale fix.
fn scale_targets(
    program: &Program,
    bootstraps: &BTreeSet<Value>,
    input_scale: &Scale,
) -> HashMap<Value, Scale> {
    let mut definitions = HashMap::new();
    let mut roots: Vec<Value> = bootstraps.iter().copied().collect();
    for (_, data) in program.instructions() {
        for &r in &data.results {
            definitions.insert(r, data);
        }
        if data.opcode == Opcode::Bootstrap {
            roots.extend(&data.args);
        }
    }
    let mut targets = HashMap::new();
    while let Some(v) = roots.pop() {
        if targets.insert(v, input_scale.clone()).is_some() {
            continue;
        }
        let Some(data) = definitions.get(&v) else {
            continue;
        };
        let transparent = match (&data.opcode, &data.imm) {
            (Opcode::MulConst, Immediate::ScaledConst(c)) => is_exact_integer(c.value),
            (op, _) => matches!(
                op,
                Opcode::Add
                    | Opcode::Sub
                    | Opcode::Neg
                    | Opcode::AddConst
                    | Opcode::AddPlain
                    | Opcode::Rotate
                    | Opcode::RotateHoisted
                    | Opcode::Conjugate
                    | Opcode::Rescale
                    | Opcode::LevelDown
            ),
        };
        if transparent {
            roots.extend(
                data.args
                    .iter()
                    .filter(|&&a| program.value_type(a).is_some_and(fhec_ir::Type::is_cipher)),
            );
        }
    }
    targets
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

fn is_exact_integer(c: f64) -> bool {
    c.fract() == 0.0 && c.abs() <= MAX_EXACT_INTEGER
}

impl Rebuild {
    fn ty(&self, v: Value) -> Type {
        self.b
            .value_type(v)
            .cloned()
            .expect("the pass only names values it emitted")
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
            Factor::Plain(plain, _) => FactorKey::Plain(*plain),
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
            Factor::Plain(_, recipe) => {
                let slots = self.ty(src).slots;
                let plain = self
                    .b
                    .plain(recipe.clone(), Type::plain(level, scale, slots))?;
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

    fn instruction(
        &mut self,
        program: &Program,
        data: &fhec_ir::InstData,
        inputs: &InputTypes,
    ) -> Result<(), LevelsError> {
        let arg = |i: usize| data.args[i];
        let result = data.results.first().copied();
        let unsupported = |message: &str| LevelsError::Unsupported {
            at: fhec_ir::inst_text(data),
            message: message.into(),
        };
        match (data.opcode, &data.imm) {
            (Opcode::Input, Immediate::Io(spec)) => {
                let result = result.ok_or_else(|| unsupported("input without result"))?;
                let mut ty = program
                    .value_type(result)
                    .cloned()
                    .ok_or_else(|| unsupported("input without a type"))?;
                if let Some(level) = inputs.level {
                    ty.level = level;
                }
                if let Some(scale) = &inputs.scale {
                    ty.scale = scale.clone();
                }
                if ty.scale == Scale::one() {
                    return Err(unsupported(
                        "the input has no working scale (scale 1, the lowering's placeholder): \
                         give the scale the inputs are encrypted at",
                    ));
                }
                let v = self.b.input(spec.clone(), ty)?;
                self.define(result, v, false);
            }
            (Opcode::Output, Immediate::Io(spec)) => {
                let state = self.state(arg(0))?;
                let v = self.settle(state)?;
                self.b.output(v, spec.clone())?;
            }
            (Opcode::Plain, Immediate::Recipe(recipe)) => {
                let result = result.ok_or_else(|| unsupported("plain without result"))?;
                self.plains.insert(result, recipe.clone());
            }
            (Opcode::Add | Opcode::Sub, _) => {
                let (a, b) = (self.state(arg(0))?, self.state(arg(1))?);
                let (x, y, pending) = self.align(a, b)?;
                let v = if data.opcode == Opcode::Add {
                    self.b.add(x, y)?
                } else {
                    self.b.sub(x, y)?
                };
                self.define(result.ok_or_else(|| unsupported("no result"))?, v, pending);
            }
            (Opcode::Neg, _) => {
                let state = match self.state(arg(0))? {
                    State::Deferred {
                        src,
                        factor: Factor::Const(c),
                    } => State::Deferred {
                        src,
                        factor: Factor::Const(-c),
                    },
                    other => {
                        let (v, pending) = self.fixed(other)?;
                        State::Fixed {
                            value: self.b.neg(v)?,
                            pending,
                        }
                    }
                };
                self.states
                    .insert(result.ok_or_else(|| unsupported("no result"))?, state);
            }
            (Opcode::AddPlain, _) => {
                let recipe = self.recipe(arg(1))?;
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let ty = self.ty(v);
                let plain = self
                    .b
                    .plain(recipe, Type::plain(ty.level, ty.scale.clone(), ty.slots))?;
                let sum = self.b.add_plain(v, plain)?;
                self.define(
                    result.ok_or_else(|| unsupported("no result"))?,
                    sum,
                    pending,
                );
            }
            (Opcode::MulPlain, _) => {
                let recipe = self.recipe(arg(1))?;
                let state = self.state(arg(0))?;
                let src = self.settle(state)?;
                self.states.insert(
                    result.ok_or_else(|| unsupported("no result"))?,
                    State::Deferred {
                        src,
                        factor: Factor::Plain(arg(1), recipe),
                    },
                );
            }
            (Opcode::MulConst, Immediate::ScaledConst(c)) => {
                let state = self.mul_const(self.state(arg(0))?, c.value)?;
                self.states
                    .insert(result.ok_or_else(|| unsupported("no result"))?, state);
            }
            (Opcode::AddConst, Immediate::Const(c)) => {
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let sum = self.b.add_const(v, *c)?;
                self.define(
                    result.ok_or_else(|| unsupported("no result"))?,
                    sum,
                    pending,
                );
            }
            (Opcode::Mul, _) => {
                let (a, b) = (self.state(arg(0))?, self.state(arg(1))?);
                let x = self.settle(a)?;
                let y = if arg(0) == arg(1) { x } else { self.settle(b)? };
                let level = self.ty(x).level.min(self.ty(y).level);
                if level == 0 {
                    return Err(self.underflow("a ciphertext product is needed at level 0"));
                }
                let x = self.level_down(x, level)?;
                let y = self.level_down(y, level)?;
                let v = self.b.mul(x, y)?;
                self.define(result.ok_or_else(|| unsupported("no result"))?, v, true);
            }
            (Opcode::Rotate, Immediate::Offset(k)) => {
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let r = self.b.rotate(v, *k)?;
                self.define(result.ok_or_else(|| unsupported("no result"))?, r, pending);
            }
            (Opcode::RotateHoisted, Immediate::Offsets(ks)) => {
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let rs = self.b.rotate_hoisted(v, ks.clone())?;
                for (&old, new) in data.results.iter().zip(rs) {
                    self.define(old, new, pending);
                }
            }
            (Opcode::Conjugate, _) => {
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let r = self.b.conjugate(v)?;
                self.define(result.ok_or_else(|| unsupported("no result"))?, r, pending);
            }
            (Opcode::Rescale | Opcode::LevelDown, _) => {
                let state = self.state(arg(0))?;
                self.states
                    .insert(result.ok_or_else(|| unsupported("no result"))?, state);
            }
            (Opcode::Bootstrap, _) => {
                let state = self.state(arg(0))?;
                let refreshed = self.bootstrap(state, arg(0))?;
                self.states
                    .insert(result.ok_or_else(|| unsupported("no result"))?, refreshed);
            }
            (Opcode::Free, _) => {}
            _ => return Err(unsupported("immediate does not match the op")),
        }
        Ok(())
    }

    fn recipe(&self, plain: Value) -> Result<Recipe, LevelsError> {
        self.plains
            .get(&plain)
            .cloned()
            .ok_or_else(|| LevelsError::Unsupported {
                at: plain.to_string(),
                message: "is not a plaintext defined by a `plain` recipe".into(),
            })
    }

    fn mul_const(&mut self, state: State, c: f64) -> Result<State, LevelsError> {
        if !is_exact_integer(c) {
            let src = self.settle(state)?;
            return Ok(State::Deferred {
                src,
                factor: Factor::Const(c),
            });
        }
        if let State::Deferred {
            src,
            factor: Factor::Const(k),
        } = state
        {
            return Ok(State::Deferred {
                src,
                factor: Factor::Const(k * c),
            });
        }
        let (v, pending) = self.fixed(state)?;
        let value = if c == 1.0 {
            v
        } else if c == -1.0 {
            self.b.neg(v)?
        } else {
            self.b.mul_const(
                v,
                ScaledConst {
                    value: c,
                    scale: Scale::one(),
                },
            )?
        };
        Ok(State::Fixed { value, pending })
    }

    /// Makes two states addable: the two emitted operands (in order) and whether the sum is
    /// pending.
    fn align(&mut self, a: State, b: State) -> Result<(Value, Value, bool), LevelsError> {
        match (a, b) {
            (a @ State::Deferred { .. }, b @ State::Deferred { .. }) => {
                let (v, pending) = self.fixed(a)?;
                self.align_deferred(v, pending, b, false)
            }
            (State::Fixed { value, pending }, b @ State::Deferred { .. }) => {
                self.align_deferred(value, pending, b, false)
            }
            (a @ State::Deferred { .. }, State::Fixed { value, pending }) => {
                self.align_deferred(value, pending, a, true)
            }
            (
                State::Fixed {
                    value: x,
                    pending: px,
                },
                State::Fixed {
                    value: y,
                    pending: py,
                },
            ) => self.align_fixed(x, px, y, py),
        }
    }

    /// A fixed value `v` plus a deferred product: the product's factor is encoded so its
    /// scale meets `v`'s exactly. `swapped` when the deferred operand comes first.
    fn align_deferred(
        &mut self,
        v: Value,
        pending: bool,
        deferred: State,
        swapped: bool,
    ) -> Result<(Value, Value, bool), LevelsError> {
        let State::Deferred { src, factor } = deferred else {
            unreachable!("align_deferred is called with a deferred state")
        };
        let (vt, st) = (self.ty(v), self.ty(src));
        let (x, y) = if pending {
            let level = vt.level.min(st.level);
            let v = self.level_down(v, level)?;
            let scale = vt.scale.checked_div(&st.scale).ok_or_else(|| {
                self.underflow(format!("scale {} / {} overflows", vt.scale, st.scale))
            })?;
            let product = self.multiply(src, &factor, level, scale)?;
            (v, product)
        } else {
            let level = st.level.min(vt.level + 1);
            let scale = self.quotient(&vt.scale, level, &st.scale)?;
            let product = self.multiply(src, &factor, level, scale)?;
            let product = self.rescale(product)?;
            let v = self.level_down(v, level - 1)?;
            (v, product)
        };
        Ok(if swapped {
            (y, x, pending)
        } else {
            (x, y, pending)
        })
    }

    fn align_fixed(
        &mut self,
        x: Value,
        px: bool,
        y: Value,
        py: bool,
    ) -> Result<(Value, Value, bool), LevelsError> {
        let (tx, ty) = (self.ty(x), self.ty(y));
        match (px, py) {
            (false, false) => self.align_settled(x, y),
            (true, true) if tx.scale == ty.scale => {
                let level = tx.level.min(ty.level);
                Ok((self.level_down(x, level)?, self.level_down(y, level)?, true))
            }
            // Different scales: the higher operand is settled (a level it has to spare) and
            // then lifted to the lower one's scale; at equal levels both are settled.
            (true, true) if tx.level > ty.level => {
                let x = self.rescale(x)?;
                self.align_pending_settled(y, x, true)
            }
            (true, true) if tx.level < ty.level => {
                let y = self.rescale(y)?;
                self.align_pending_settled(x, y, false)
            }
            (true, true) => {
                let x = self.rescale(x)?;
                let y = self.rescale(y)?;
                self.align_settled(x, y)
            }
            (true, false) => self.align_pending_settled(x, y, false),
            (false, true) => self.align_pending_settled(y, x, true),
        }
    }

    /// A pending `p` and a settled `s`: `s` is lifted to `p`'s scale by an exact constant 1.
    fn align_pending_settled(
        &mut self,
        p: Value,
        s: Value,
        swapped: bool,
    ) -> Result<(Value, Value, bool), LevelsError> {
        let (tp, ts) = (self.ty(p), self.ty(s));
        let (x, y, pending) = if ts.level == 0 {
            let p = self.rescale(p)?;
            self.align_settled(p, s)?
        } else {
            let level = tp.level.min(ts.level);
            let p = self.level_down(p, level)?;
            let s = self.level_down(s, level)?;
            let lift = tp.scale.checked_div(&ts.scale).ok_or_else(|| {
                self.underflow(format!("scale {} / {} overflows", tp.scale, ts.scale))
            })?;
            let s = self.b.mul_const(
                s,
                ScaledConst {
                    value: 1.0,
                    scale: lift,
                },
            )?;
            (p, s, true)
        };
        Ok(if swapped {
            (y, x, pending)
        } else {
            (x, y, pending)
        })
    }

    /// Two settled values: equal scales are only level-aligned; otherwise the higher one is
    /// rescaled onto the lower one's scale, or at equal levels both are lifted to pending.
    fn align_settled(&mut self, x: Value, y: Value) -> Result<(Value, Value, bool), LevelsError> {
        let (tx, ty) = (self.ty(x), self.ty(y));
        if tx.scale == ty.scale {
            let level = tx.level.min(ty.level);
            return Ok((
                self.level_down(x, level)?,
                self.level_down(y, level)?,
                false,
            ));
        }
        self.counts.scale_fixes += 1;
        if tx.level != ty.level {
            let (high, low, swapped) = if tx.level > ty.level {
                (x, y, false)
            } else {
                (y, x, true)
            };
            let target = self.ty(low);
            let fixed = self.convert(high, target.level, &target.scale)?;
            return Ok(if swapped {
                (low, fixed, false)
            } else {
                (fixed, low, false)
            });
        }
        let level = tx.level;
        if level == 0 {
            return Err(self.underflow(format!(
                "operands at level 0 have different scales {} and {}",
                tx.scale, ty.scale
            )));
        }
        let common = tx
            .scale
            .checked_mul(&Scale::prime(level))
            .ok_or_else(|| self.underflow("scale overflow"))?;
        let lift_x = Scale::prime(level);
        let lift_y = common
            .checked_div(&ty.scale)
            .ok_or_else(|| self.underflow("scale overflow"))?;
        let one = |scale| ScaledConst { value: 1.0, scale };
        let x = self.b.mul_const(x, one(lift_x))?;
        let y = self.b.mul_const(y, one(lift_y))?;
        Ok((x, y, true))
    }

    /// A settled `v` brought to `level` and exactly `scale` (a level drop if the scale is
    /// already right, else a constant 1 at the exact quotient, a rescale and a level drop;
    /// the latter needs `v` above `level`).
    fn convert(&mut self, v: Value, level: u32, scale: &Scale) -> Result<Value, LevelsError> {
        let t = self.ty(v);
        if t.scale == *scale && t.level >= level {
            return self.level_down(v, level);
        }
        if t.level <= level {
            return Err(self.underflow(format!(
                "scale {} at level {} cannot become {scale} at level {level} without a level",
                t.scale, t.level
            )));
        }
        let via = level + 1;
        let v = self.level_down(v, via)?;
        let factor = self.quotient(scale, via, &t.scale)?;
        let v = self.b.mul_const(
            v,
            ScaledConst {
                value: 1.0,
                scale: factor,
            },
        )?;
        self.rescale(v)
    }

    /// Brings `state` to the bootstrap's input level and scale and bootstraps it.
    fn bootstrap(&mut self, state: State, old: Value) -> Result<State, LevelsError> {
        let Some(spec) = self.spec.clone() else {
            return Err(LevelsError::Underflow {
                at: old,
                bootstrapping: Some(old),
                reason: "a bootstrap is needed but the program declares no bootstrapping".into(),
            });
        };
        let with_candidate = |e: LevelsError| match e {
            LevelsError::Underflow { reason, .. } => LevelsError::Underflow {
                at: old,
                bootstrapping: Some(old),
                reason: format!("cannot reach the bootstrap input: {reason}"),
            },
            other => other,
        };
        let input = match state {
            State::Deferred { src, factor } => {
                let st = self.ty(src);
                if st.level <= spec.input_level {
                    return Err(with_candidate(self.underflow(format!(
                        "level {} is not above the bootstrap input level {}",
                        st.level, spec.input_level
                    ))));
                }
                let via = spec.input_level + 1;
                let scale = self
                    .quotient(&spec.input_scale, via, &st.scale)
                    .map_err(with_candidate)?;
                let v = self
                    .multiply(src, &factor, via, scale)
                    .map_err(with_candidate)?;
                self.rescale(v).map_err(with_candidate)?
            }
            fixed => {
                let v = self.settle(fixed).map_err(with_candidate)?;
                self.convert(v, spec.input_level, &spec.input_scale)
                    .map_err(with_candidate)?
            }
        };
        self.counts.bootstraps += 1;
        let value = self.b.bootstrap(input)?;
        Ok(State::Fixed {
            value,
            pending: false,
        })
    }
}
