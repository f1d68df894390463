//! Property test: random unscheduled programs in the lowering's placeholder form (every value
//! at level 0 and scale 1) go through all passes, verify, and compute what they computed
//! before on the IR interpreter.

mod passes_support;

use fhec_compiler::passes::{PassOptions, run_passes};
use fhec_ir::{Builder, Program, Recipe, Scale, ScaledConst, Type, Value, verify};
use passes_support::{HashedPlaintexts, assert_same_outputs, io, run, values};
use proptest::prelude::*;
use std::collections::BTreeMap;

const SLOTS: u32 = 8;

#[derive(Clone, Debug)]
enum Step {
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Neg(usize),
    MulConst(usize, f64),
    MulInteger(usize, i8),
    AddConst(usize, f64),
    MulPlain(usize, u8),
    AddPlain(usize, u8),
    Rotate(usize, i32),
}

fn step() -> impl Strategy<Value = Step> {
    let i = 0..64usize;
    prop_oneof![
        (i.clone(), i.clone()).prop_map(|(a, b)| Step::Add(a, b)),
        (i.clone(), i.clone()).prop_map(|(a, b)| Step::Sub(a, b)),
        (i.clone(), i.clone()).prop_map(|(a, b)| Step::Mul(a, b)),
        i.clone().prop_map(Step::Neg),
        (i.clone(), -2.0..2.0f64).prop_map(|(a, c)| Step::MulConst(a, c)),
        (i.clone(), -3..4i8).prop_map(|(a, c)| Step::MulInteger(a, c)),
        (i.clone(), -1.0..1.0f64).prop_map(|(a, c)| Step::AddConst(a, c)),
        (i.clone(), 0..4u8).prop_map(|(a, w)| Step::MulPlain(a, w)),
        (i.clone(), 0..4u8).prop_map(|(a, w)| Step::AddPlain(a, w)),
        (i, 1..8i32).prop_map(|(a, k)| Step::Rotate(a, k)),
    ]
}

/// The program of `steps` over two inputs, every value typed at level 0 and scale 1; the
/// last two values are the outputs.
fn build(steps: &[Step]) -> Program {
    let mut b = Builder::new();
    let placeholder = Type::cipher(0, Scale::one(), SLOTS);
    let mut values: Vec<Value> = ["x", "z"]
        .iter()
        .map(|name| b.input(io(name), placeholder.clone()).unwrap())
        .collect();
    for step in steps {
        let pick = |i: &usize| values[i % values.len()];
        let plain = |b: &mut Builder, w: &u8| {
            b.plain(
                Recipe::new(format!("w{w}")),
                Type::plain(0, Scale::one(), SLOTS),
            )
            .unwrap()
        };
        let one = |value| ScaledConst {
            value,
            scale: Scale::one(),
        };
        let v = match step {
            Step::Add(a, c) => b.add(pick(a), pick(c)),
            Step::Sub(a, c) => b.sub(pick(a), pick(c)),
            Step::Mul(a, c) => b.mul(pick(a), pick(c)),
            Step::Neg(a) => b.neg(pick(a)),
            Step::MulConst(a, c) => b.mul_const(pick(a), one(*c)),
            Step::MulInteger(a, c) => b.mul_const(pick(a), one(f64::from(*c))),
            Step::AddConst(a, c) => b.add_const(pick(a), *c),
            Step::MulPlain(a, w) => {
                let p = plain(&mut b, w);
                b.mul_plain(pick(a), p)
            }
            Step::AddPlain(a, w) => {
                let p = plain(&mut b, w);
                b.add_plain(pick(a), p)
            }
            Step::Rotate(a, k) => b.rotate(pick(a), *k),
        }
        .unwrap();
        values.push(v);
    }
    let n = values.len();
    b.output(values[n - 1], io("y")).unwrap();
    b.output(values[n - 2], io("u")).unwrap();
    b.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_programs_keep_their_outputs(steps in prop::collection::vec(step(), 1..40)) {
        let program = build(&steps);
        verify(&program).unwrap();
        let inputs = BTreeMap::from([
            ("x".to_string(), values(1, SLOTS as usize)),
            ("z".to_string(), values(2, SLOTS as usize)),
        ]);
        let options = PassOptions {
            input_level: Some(40),
            input_scale: Some(Scale::pow2(40)),
            max_rotation_keys: Some(3),
            ..PassOptions::default()
        };
        let (scheduled, report) = run_passes(program.clone(), &options)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{program}")))?;
        prop_assert!(report.keys.keys_after <= 3);
        let before = run(&program, &inputs, &HashedPlaintexts);
        let after = run(&scheduled, &inputs, &HashedPlaintexts);
        assert_same_outputs(&before, &after, 1e-9);
    }
}
