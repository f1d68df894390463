//! Emitting an approximation's evaluation into the HE IR through [`fhec_ir::Builder`].
//!
//! The circuit of [`ActivationApprox::circuit`] is emitted op for op (`add`, `sub`, `mul`,
//! `mul_const`, `add_const`), all at the input's level and without any rescale, level drop or
//! relinearisation bookkeeping: only the levels pass inserts management ops.
//!
//! What the IR's exact-scale typing implies here, and what the levels pass must know:
//!
//! - `mul` accepts operands of different scales at one level (the product rule), but `add` and
//!   `sub` need *exactly* equal scales. Without rescales a node's scale is therefore `s^e`
//!   (`s` the input's scale, `e` its scale exponent, see [`super::circuit`]), and every sum is
//!   made scale-consistent by the constants themselves: a real coefficient `c` is encoded at
//!   the scale `s^j` that brings its term to the sum's exponent, and the recurrence's
//!   subtrahend `T_1` is lifted by `mul_const 1.0, s=s^j` (an exact integer product).
//! - The emitted scales are large symbolic powers (`2^280` for degree 7 at `s = 2^40`); the
//!   levels pass rewrites them when it inserts rescales: it may re-encode any `mul_const`
//!   at another scale, and replace an integer `mul_const 1.0` (a pure scale lift) by a
//!   `level_down` to the other operand's level.
//! - [`EmittedActivation::depths`] gives each emitted value's multiplicative depth relative to
//!   the activation's input (`mul` +1, non-integer `mul_const` +1, the rest 0): the level the
//!   value ends up at is the input's level minus that depth when a rescale follows every
//!   product. The output's depth is [`ActivationApprox::depth`].

use super::PolyError;
use super::approx::ActivationApprox;
use super::circuit::Step;
use fhec_ir::{BuildError, Builder, Scale, ScaledConst, Value};

/// What [`emit`] appended.
#[derive(Clone, PartialEq, Debug)]
pub struct EmittedActivation {
    /// The approximation's result.
    pub output: Value,
    /// Every value emitted, with its multiplicative depth relative to the input.
    pub depths: Vec<(Value, u32)>,
    /// Depth of the output.
    pub depth: u32,
    /// Ciphertext × ciphertext products emitted.
    pub ct_mults: u32,
}

/// `scale^exponent`, exactly.
fn power(scale: &Scale, exponent: u32) -> Option<Scale> {
    let e = i32::try_from(exponent).ok()?;
    let mut out = Scale::pow2(scale.pow2_exponent().checked_mul(e)?);
    for (index, k) in scale.prime_exponents() {
        let k = k.checked_mul(e)?;
        out = out.checked_mul(&Scale::one().with_prime(index, k))?;
    }
    Some(out)
}

/// Appends the evaluation of `approx` on the ciphertext `input` to `builder`; `input` holds
/// `x`, or `t = αx + β` when the approximation's map is folded into the producer.
pub fn emit(
    builder: &mut Builder,
    input: Value,
    approx: &ActivationApprox,
) -> Result<EmittedActivation, PolyError> {
    let circuit = approx.circuit()?;
    let scale = builder
        .value_type(input)
        .ok_or(BuildError::UnknownValue {
            op: "mul_const",
            value: input,
        })?
        .scale
        .clone();
    let mut values: Vec<Value> = Vec::with_capacity(circuit.nodes().len());
    let mut depths = Vec::with_capacity(circuit.nodes().len());
    for node in circuit.nodes() {
        let v = |id: usize| values[id];
        let value = match node.step {
            Step::Input => input,
            Step::Add(a, b) => builder.add(v(a), v(b))?,
            Step::Sub(a, b) => builder.sub(v(a), v(b))?,
            Step::Mul(a, b) => builder.mul(v(a), v(b))?,
            Step::MulConst {
                arg,
                value,
                scale_exp,
            } => {
                let encoding = power(&scale, scale_exp).ok_or_else(|| {
                    PolyError::BadParameter(format!(
                        "scale ({scale})^{scale_exp} leaves the exponent range"
                    ))
                })?;
                builder.mul_const(
                    v(arg),
                    ScaledConst {
                        value,
                        scale: encoding,
                    },
                )?
            }
            Step::AddConst { arg, value } => builder.add_const(v(arg), value)?,
        };
        if node.step != Step::Input {
            depths.push((value, node.depth));
        }
        values.push(value);
    }
    Ok(EmittedActivation {
        output: values[circuit.output()],
        depths,
        depth: circuit.depth(),
        ct_mults: circuit.counts().mul,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_exact_scales() {
        let s = Scale::pow2(80).rescaled_at(3).unwrap();
        assert_eq!(power(&s, 3).unwrap().to_string(), "2^240/q3^3");
        assert_eq!(power(&s, 0).unwrap(), Scale::one());
        assert!(power(&Scale::pow2(1 << 30), 4).is_none());
    }
}
