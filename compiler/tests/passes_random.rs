//! Property test: random unscheduled programs in the lowering's placeholder form (every value
//! at level 0 and scale 1) go through all passes, verify, and compute what they computed
//! before on the IR interpreter.

mod passes_support;

use fhec_compiler::passes::{PassError, PassOptions, PlacementError, run_passes};
use fhec_ir::{BootstrapSpec, Builder, Program, Recipe, Scale, ScaledConst, Type, Value, verify};
use passes_support::{HashedPlaintexts, assert_same_outputs, io, run, values};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::cell::Cell;
use std::collections::BTreeMap;

const SLOTS: u32 = 8;

#[derive(Clone, Debug)]
enum Step {
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Square(usize),
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
        i.clone().prop_map(Step::Square),
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
/// last two values are the outputs. With `deep`, operands are picked among the four latest
/// values, which makes long product chains.
fn build(steps: &[Step], deep: bool) -> Program {
    let mut b = Builder::new();
    let placeholder = Type::cipher(0, Scale::one(), SLOTS);
    let mut values: Vec<Value> = ["x", "z"]
        .iter()
        .map(|name| b.input(io(name), placeholder.clone()).unwrap())
        .collect();
    for step in steps {
        let pick = |i: &usize| {
            let n = values.len();
            if deep {
                values[n - 1 - i % n.min(4)]
            } else {
                values[i % n]
            }
        };
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
            Step::Square(a) => b.mul(pick(a), pick(a)),
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

fn inputs() -> BTreeMap<String, Vec<f64>> {
    BTreeMap::from([
        ("x".to_string(), values(1, SLOTS as usize)),
        ("z".to_string(), values(2, SLOTS as usize)),
    ])
}

/// With a short chain and bootstraps, a random program either schedules (and keeps its
/// outputs) or has no squared value to bootstrap before it runs out of levels; most schedule.
#[test]
fn random_programs_with_bootstraps_keep_their_outputs() {
    let mut runner = TestRunner::new(ProptestConfig::with_cases(96));
    let (scheduled_count, bootstrapped) = (Cell::new(0), Cell::new(0));
    let strategy = prop::collection::vec(step(), 1..40);
    runner
        .run(&strategy, |steps| {
            let program = build(&steps, true);
            let options = PassOptions {
                input_level: Some(4),
                input_scale: Some(Scale::pow2(40)),
                bootstrap: Some(BootstrapSpec {
                    input_level: 0,
                    input_scale: Scale::pow2(40),
                    output_level: 4,
                    output_scale: Scale::pow2(40),
                }),
                ..PassOptions::default()
            };
            match run_passes(program.clone(), &options) {
                Ok((scheduled, report)) => {
                    scheduled_count.set(scheduled_count.get() + 1);
                    bootstrapped
                        .set(bootstrapped.get() + usize::from(report.levels.bootstraps > 0));
                    let before = run(&program, &inputs(), &HashedPlaintexts);
                    let after = run(&scheduled, &inputs(), &HashedPlaintexts);
                    assert_same_outputs(&before, &after, 1e-9);
                }
                Err(PassError::Placement(PlacementError::NoCandidate { .. })) => {}
                Err(other) => return Err(TestCaseError::fail(format!("{other}\n{program}"))),
            }
            Ok(())
        })
        .unwrap();
    assert!(
        scheduled_count.get() > 48,
        "{} of 96 scheduled",
        scheduled_count.get()
    );
    assert!(
        bootstrapped.get() > 10,
        "{} needed bootstraps",
        bootstrapped.get()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_programs_keep_their_outputs(steps in prop::collection::vec(step(), 1..40)) {
        let program = build(&steps, false);
        verify(&program).unwrap();
        let inputs = inputs();
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
