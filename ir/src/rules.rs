//! Result-type rules of the op table: how each op transforms levels and scales.
//!
//! The builder calls them to type new instructions and the verifier calls them to check
//! stored ones, so both apply exactly the same rules. Before a rule runs, the caller has
//! checked the operand count, each operand's kind (ct or pt), that all operands have the same
//! slot count, and that the immediate has the op's shape. The rules:
//!
//! - binary ops (`add`, `sub`, `add_plain`, `mul_plain`, `mul`) need **equal levels**: aligning
//!   levels is an explicit `level_down`, inserted by the levels pass;
//! - `add`, `sub`, `add_plain` need **exactly equal scales**; `mul`, `mul_plain`, `mul_const`
//!   multiply scales;
//! - `rescale` needs level `l ≥ 1`, gives level `l - 1` and divides the scale by `q_l`;
//! - `level_down` only lowers the level and keeps the scale;
//! - rotation offsets are non-zero, below the slot count in magnitude and distinct;
//! - `bootstrap` takes the program's declared input level and scale and gives its declared
//!   output level and scale;
//! - declared types (inputs, plaintexts) have a power-of-two slot count; constants are finite.

use crate::ops::Immediate;
use crate::program::BootstrapSpec;
use crate::scale::Scale;
use crate::types::{Type, ValueKind};

/// What a rule sees of one instruction: the operand types, the immediate and the declared
/// result types, plus the program context.
#[derive(Clone, Copy, Debug)]
pub struct RuleInput<'a> {
    /// Program-level facts.
    pub ctx: &'a RuleCtx<'a>,
    /// The operand types, in order.
    pub args: &'a [&'a Type],
    /// The immediate operand.
    pub imm: &'a Immediate,
    /// The result types the instruction declares (used by ops with declared results).
    pub declared: &'a [Type],
}

/// What a rule may know about the program beyond the instruction itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleCtx<'a> {
    /// The program's bootstrapping configuration, if it declares one.
    pub bootstrap: Option<&'a BootstrapSpec>,
}

fn declared(kind: ValueKind, declared: &[Type]) -> Result<Vec<Type>, String> {
    let [ty] = declared else {
        return Err(format!(
            "expects one declared result type, found {}",
            declared.len()
        ));
    };
    if ty.kind != kind {
        return Err(format!(
            "result must be a {}, declared {ty}",
            kind.keyword()
        ));
    }
    if !ty.slots.is_power_of_two() {
        return Err(format!("slot count {} is not a power of two", ty.slots));
    }
    Ok(vec![ty.clone()])
}

/// An input: a ciphertext of the declared type.
pub fn declared_cipher(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let result = input.declared;
    declared(ValueKind::Cipher, result)
}

/// A plaintext recipe: a plaintext of the declared type.
pub fn declared_plain(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let result = input.declared;
    declared(ValueKind::Plain, result)
}

/// Ops without result (`output`, `free`).
pub fn no_result(_: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    Ok(Vec::new())
}

/// The result is a ciphertext of the first operand's type.
pub fn same_as_operand(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let args = input.args;
    Ok(vec![args[0].clone()])
}

fn same_level(a: &Type, b: &Type) -> Result<(), String> {
    if a.level != b.level {
        return Err(format!(
            "operand levels differ: {} and {}",
            a.level, b.level
        ));
    }
    Ok(())
}

/// Addition-like ops: equal levels, exactly equal scales.
pub fn same_level_and_scale(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let args = input.args;
    same_level(args[0], args[1])?;
    if args[0].scale != args[1].scale {
        return Err(format!(
            "operand scales differ: {} and {}",
            args[0].scale, args[1].scale
        ));
    }
    Ok(vec![args[0].clone()])
}

fn multiplied(ty: &Type, by: &Scale) -> Result<Type, String> {
    let scale = ty
        .scale
        .checked_mul(by)
        .ok_or_else(|| format!("scale {} times {by} overflows the exponent range", ty.scale))?;
    Ok(ty.with_level_scale(ty.level, scale))
}

/// Multiplications: equal levels, scales multiply.
pub fn product(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let args = input.args;
    same_level(args[0], args[1])?;
    Ok(vec![multiplied(args[0], &args[1].scale)?])
}

fn finite(value: f64) -> Result<(), String> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(format!("constant {value} is not finite"))
    }
}

/// `mul_const`: scales multiply by the constant's encoding scale.
pub fn mul_const(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let args = input.args;
    let imm = input.imm;
    let Immediate::ScaledConst(constant) = imm else {
        return Err("expects a constant and its scale".into());
    };
    finite(constant.value)?;
    Ok(vec![multiplied(args[0], &constant.scale)?])
}

/// `add_const`: type unchanged.
pub fn add_const(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let args = input.args;
    let imm = input.imm;
    let Immediate::Const(value) = imm else {
        return Err("expects a constant".into());
    };
    finite(*value)?;
    Ok(vec![args[0].clone()])
}

/// `rotate` and `rotate_hoisted`: one result per offset, of the operand's type.
pub fn rotation(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let args = input.args;
    let imm = input.imm;
    let offsets = imm.offsets();
    if offsets.is_empty() {
        return Err("a rotation needs at least one offset".into());
    }
    for (i, &k) in offsets.iter().enumerate() {
        if k == 0 {
            return Err("rotation by 0 (use the operand itself)".into());
        }
        if k.unsigned_abs() >= args[0].slots {
            return Err(format!(
                "rotation offset {k} is not below the slot count {}",
                args[0].slots
            ));
        }
        if offsets[..i].contains(&k) {
            return Err(format!("rotation offset {k} appears twice"));
        }
    }
    Ok(vec![args[0].clone(); offsets.len()])
}

/// `rescale`: level `l ≥ 1` to `l - 1`, scale divided by `q_l`.
pub fn rescale(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let args = input.args;
    let ty = args[0];
    if ty.level == 0 {
        return Err("level 0 cannot be rescaled".into());
    }
    let scale = ty
        .scale
        .rescaled_at(ty.level)
        .ok_or_else(|| format!("scale {} divided by q{} overflows", ty.scale, ty.level))?;
    Ok(vec![ty.with_level_scale(ty.level - 1, scale)])
}

/// `level_down`: to a strictly lower level, same scale.
pub fn level_down(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let args = input.args;
    let imm = input.imm;
    let Immediate::Level(target) = *imm else {
        return Err("expects a target level".into());
    };
    let ty = args[0];
    if target >= ty.level {
        return Err(format!(
            "level_down only lowers: level {target} is not below {}",
            ty.level
        ));
    }
    Ok(vec![ty.with_level_scale(target, ty.scale.clone())])
}

/// `bootstrap`: from the declared input level and scale to the declared output ones.
pub fn bootstrap(input: &RuleInput<'_>) -> Result<Vec<Type>, String> {
    let ctx = input.ctx;
    let args = input.args;
    let Some(spec) = ctx.bootstrap else {
        return Err(
            "the program declares no bootstrapping (add a `bootstrap in=…, out=…` line)".into(),
        );
    };
    let ty = args[0];
    if ty.level != spec.input_level || ty.scale != spec.input_scale {
        return Err(format!(
            "bootstrap input must be at l={}, s={}, found l={}, s={}",
            spec.input_level, spec.input_scale, ty.level, ty.scale
        ));
    }
    Ok(vec![ty.with_level_scale(
        spec.output_level,
        spec.output_scale.clone(),
    )])
}

/// Types one instruction: checks the operand count, each operand's kind, equal slot counts,
/// the immediate's shape (and that a recipe prints back), then applies the op's rule. `args`
/// are the operand types; `declared` the result types an op with declared results carries.
pub fn type_instruction(
    ctx: &RuleCtx<'_>,
    opcode: crate::ops::Opcode,
    args: &[&Type],
    imm: &Immediate,
    declared: &[Type],
) -> Result<Vec<Type>, String> {
    use crate::ops::OperandKind;
    let kinds = opcode.operands();
    if args.len() != kinds.len() {
        return Err(format!(
            "expects {} operand(s), found {}",
            kinds.len(),
            args.len()
        ));
    }
    for (i, (ty, kind)) in args.iter().zip(kinds).enumerate() {
        let expected = match kind {
            OperandKind::Cipher => ValueKind::Cipher,
            OperandKind::Plain => ValueKind::Plain,
            OperandKind::Any => continue,
        };
        if ty.kind != expected {
            return Err(format!(
                "operand {} must be a {}, found {ty}",
                i + 1,
                expected.keyword()
            ));
        }
    }
    if let Some(first) = args.first()
        && let Some(other) = args.iter().find(|t| t.slots != first.slots)
    {
        return Err(format!(
            "operand slot counts differ: {} and {}",
            first.slots, other.slots
        ));
    }
    if imm.kind() != opcode.immediate() {
        return Err(format!(
            "expects a {:?} immediate, found {:?}",
            opcode.immediate(),
            imm.kind()
        ));
    }
    if let Immediate::Recipe(recipe) = imm
        && let Some(problem) = recipe.problem()
    {
        return Err(format!("recipe {}: {problem}", recipe.source));
    }
    (opcode.rule())(&RuleInput {
        ctx,
        args,
        imm,
        declared,
    })
}
