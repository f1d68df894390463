//! Emission of a linear map to the HE IR.
//!
//! For each input ciphertext, one hoisted rotation group by its baby steps (a plain `rotate`
//! when there is a single one); for each output ciphertext and giant step, a `plain` diagonal
//! recipe pre-rotated by `−g` and a `mul_plain` per term, their sum, one `rotate` by `g`; the
//! giant steps summed, then the bias as an `add_plain` recipe. Everything stays at the input's
//! level: no rescale is emitted (management ops belong to the levels pass). The
//! diagonals are encoded at `weight_scale`, so outputs have scale `input scale · weight_scale`
//! and the caller (or the levels pass) chooses e.g. `q_l` to make a later rescale exact.

use super::LinearError;
use super::bsgs::{BsgsPlan, plan};
use super::map::LinearMap;
use super::recipes::{Scaling, scaled_bias_recipe, scaled_diagonal_recipe};
use fhec_ir::{Builder, Scale, ScaledConst, Type, Value};
use std::collections::HashMap;

/// What [`emit`] produced.
#[derive(Clone, PartialEq, Debug)]
pub struct LinearLowering {
    /// The output ciphertexts, one per ciphertext of the output layout.
    pub outputs: Vec<Value>,
    /// The plan used (its cost has the rotation, product and addition counts).
    pub plan: BsgsPlan,
    /// Plaintexts emitted (diagonals and biases).
    pub plaintexts: usize,
}

fn offset(value: i64) -> Result<i32, LinearError> {
    i32::try_from(value).map_err(|_| LinearError::Plan(format!("rotation {value} out of range")))
}

/// The common type of the input ciphertexts, checked against the map's input layout.
fn input_type(builder: &Builder, map: &LinearMap, inputs: &[Value]) -> Result<Type, LinearError> {
    let from = map.from();
    if inputs.len() != from.cts() {
        return Err(LinearError::Inputs(format!(
            "the input layout {from} has {} ciphertexts, {} given",
            from.cts(),
            inputs.len()
        )));
    }
    let mut first: Option<Type> = None;
    for &value in inputs {
        let ty = builder
            .value_type(value)
            .ok_or_else(|| LinearError::Inputs(format!("{value} is not a value")))?;
        if !ty.is_cipher() || ty.slots as usize != from.slots() {
            return Err(LinearError::Inputs(format!(
                "{value} : {ty} is not a ciphertext of {} slots",
                from.slots()
            )));
        }
        match &first {
            Some(f) if f.level != ty.level || f.scale != ty.scale => {
                return Err(LinearError::Inputs(format!(
                    "input ciphertexts differ in level or scale: {f} and {ty}"
                )));
            }
            Some(_) => {}
            None => first = Some(ty.clone()),
        }
    }
    first.ok_or_else(|| LinearError::Inputs("no input ciphertext".into()))
}

fn sum(builder: &mut Builder, acc: Option<Value>, term: Value) -> Result<Value, LinearError> {
    Ok(match acc {
        Some(a) => builder.add(a, term)?,
        None => term,
    })
}

/// Emits `map` applied to `inputs` (the ciphertexts of its input layout) into `builder`,
/// with diagonals encoded at `weight_scale`, following the cheapest plan; see the module
/// documentation.
pub fn emit(
    builder: &mut Builder,
    map: &LinearMap,
    inputs: &[Value],
    weight_scale: &Scale,
) -> Result<LinearLowering, LinearError> {
    let plan = plan(&map.diagonals()?);
    emit_with(builder, map, inputs, weight_scale, plan)
}

/// [`emit`] with a given plan (e.g. [`plan_with`](super::plan_with) a baby step count chosen
/// for fewer keys); the plan must come from `map`'s diagonals.
pub fn emit_with(
    builder: &mut Builder,
    map: &LinearMap,
    inputs: &[Value],
    weight_scale: &Scale,
    plan: BsgsPlan,
) -> Result<LinearLowering, LinearError> {
    emit_scaled(
        builder,
        map,
        inputs,
        weight_scale,
        plan,
        &Scaling::default(),
    )
}

/// [`emit_with`] with the map's plaintexts scaled by `scaling` (recorded in the recipes'
/// selectors): the output is `scaling.weight·(W x) + scaling.bias·b + scaling.offset`. A
/// non-zero offset gives a map without bias tensor an additive plaintext of its own.
pub fn emit_scaled(
    builder: &mut Builder,
    map: &LinearMap,
    inputs: &[Value],
    weight_scale: &Scale,
    plan: BsgsPlan,
    scaling: &Scaling,
) -> Result<LinearLowering, LinearError> {
    let ty = input_type(builder, map, inputs)?;
    let product_scale = ty.scale.checked_mul(weight_scale).ok_or_else(|| {
        LinearError::Inputs(format!("scale {} times {weight_scale} overflows", ty.scale))
    })?;
    if plan.baby.len() != inputs.len() || plan.giant.len() != map.to().cts() {
        return Err(LinearError::Plan(format!(
            "the plan is for {} input and {} output ciphertexts, the map has {} and {}",
            plan.baby.len(),
            plan.giant.len(),
            inputs.len(),
            map.to().cts()
        )));
    }
    let mut rotated: HashMap<(usize, i64), Value> = HashMap::new();
    for (i, (&x, babies)) in inputs.iter().zip(&plan.baby).enumerate() {
        rotated.insert((i, 0), x);
        let results = match babies.as_slice() {
            [] => Vec::new(),
            [single] => vec![builder.rotate(x, offset(*single)?)?],
            many => {
                let offsets = many.iter().map(|&b| offset(b)).collect::<Result<_, _>>()?;
                builder.rotate_hoisted(x, offsets)?
            }
        };
        for (&baby, value) in babies.iter().zip(results) {
            rotated.insert((i, baby), value);
        }
    }
    let weight_type = Type::plain(ty.level, weight_scale.clone(), ty.slots);
    let mut plaintexts = 0;
    let mut outputs = Vec::with_capacity(plan.giant.len());
    for (o, steps) in plan.giant.iter().enumerate() {
        let mut acc = None;
        for step in steps {
            let mut inner = None;
            for term in &step.terms {
                let recipe = scaled_diagonal_recipe(
                    map,
                    o,
                    term.in_ct,
                    term.diagonal,
                    -step.offset,
                    scaling.weight,
                );
                let weight = builder.plain(recipe, weight_type.clone())?;
                plaintexts += 1;
                let source = rotated.get(&(term.in_ct, term.baby)).ok_or_else(|| {
                    LinearError::Plan(format!(
                        "term needs baby step {} of input {}, which the plan lacks",
                        term.baby, term.in_ct
                    ))
                })?;
                let product = builder.mul_plain(*source, weight)?;
                inner = Some(sum(builder, inner, product)?);
            }
            let Some(mut inner) = inner else { continue };
            if step.offset != 0 {
                inner = builder.rotate(inner, offset(step.offset)?)?;
            }
            acc = Some(sum(builder, acc, inner)?);
        }
        // An output ciphertext no input reaches is zero (then only its bias).
        let mut out = match acc {
            Some(value) => value,
            None => builder.mul_const(
                inputs[0],
                ScaledConst {
                    value: 0.0,
                    scale: weight_scale.clone(),
                },
            )?,
        };
        let bias = map.op().bias.as_deref();
        if scaling.needs_bias(bias.is_some()) {
            let recipe = scaled_bias_recipe(bias, map.to(), o, scaling);
            let bias_type = Type::plain(ty.level, product_scale.clone(), ty.slots);
            let plain = builder.plain(recipe, bias_type)?;
            plaintexts += 1;
            out = builder.add_plain(out, plain)?;
        }
        outputs.push(out);
    }
    Ok(LinearLowering {
        outputs,
        plan,
        plaintexts,
    })
}
