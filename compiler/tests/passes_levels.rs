//! The levels pass on hand-built IR: scale fixes where two settled values of different exact
//! scales meet (free on a higher operand, one level at equal levels), integer constants at no
//! level, a bootstrap already in the program kept and converted to its input, and the pass
//! run again on its own output (management ops re-derived, same outputs).

mod passes_support;

use fhec_compiler::passes::{InputTypes, PassOptions, assign_levels, run_passes};
use fhec_ir::{BootstrapSpec, Builder, Opcode, Program, Scale, ScaledConst, Type, Value, verify};
use passes_support::{HashedPlaintexts, assert_same_outputs, io, run, values};
use std::collections::{BTreeMap, BTreeSet};

const SLOTS: u32 = 8;

fn inputs() -> BTreeMap<String, Vec<f64>> {
    BTreeMap::from([("x".to_string(), values(11, SLOTS as usize))])
}

/// `bootstrap in=<l=0, s=2^40>, out=<l=out, s=2^41>`: the refreshed scale differs from the
/// inputs' 2^40, so joining a bootstrapped and a fresh value needs a scale fix.
fn spec(out: u32) -> BootstrapSpec {
    BootstrapSpec {
        input_level: 0,
        input_scale: Scale::pow2(40),
        output_level: out,
        output_scale: Scale::pow2(41),
    }
}

/// `y = bootstrap(x) + 2·x`, formally consistent in the unscheduled program.
fn joined() -> Program {
    let mut b = Builder::new();
    b.set_bootstrap(BootstrapSpec {
        input_level: 1,
        ..spec(1)
    });
    let x = b
        .input(io("x"), Type::cipher(1, Scale::pow2(40), SLOTS))
        .unwrap();
    let refreshed = b.bootstrap(x).unwrap();
    let doubled = b
        .mul_const(
            x,
            ScaledConst {
                value: 2.0,
                scale: Scale::pow2(1),
            },
        )
        .unwrap();
    let y = b.add(refreshed, doubled).unwrap();
    b.output(y, io("y")).unwrap();
    b.finish()
}

fn level_of_output(program: &Program) -> u32 {
    let (_, y) = program.outputs().next().unwrap();
    program.value_type(y).unwrap().level
}

fn count(program: &Program, opcode: Opcode) -> usize {
    program
        .instructions()
        .filter(|(_, d)| d.opcode == opcode)
        .count()
}

#[test]
fn a_fresh_value_above_a_bootstrapped_one_is_fixed_onto_its_scale_for_free() {
    let options = PassOptions {
        input_level: Some(5),
        bootstrap: Some(spec(3)),
        ..PassOptions::default()
    };
    let program = joined();
    let (scheduled, report) = run_passes(program.clone(), &options).unwrap();
    verify(&scheduled).unwrap();
    assert_eq!(report.levels.scale_fixes, 1);
    assert_eq!(
        report.levels.bootstraps, 1,
        "the program's own bootstrap is kept"
    );
    // 2·x costs no level (an integer at scale 1); x is fixed from level 5 onto the refreshed
    // value's level 3 and scale 2^41 through level 4.
    assert_eq!(level_of_output(&scheduled), 3);
    let (_, y) = scheduled.outputs().next().unwrap();
    assert_eq!(scheduled.value_type(y).unwrap().scale, Scale::pow2(41));
    assert_same_outputs(
        &run(&program, &inputs(), &HashedPlaintexts),
        &run(&scheduled, &inputs(), &HashedPlaintexts),
        1e-12,
    );
}

#[test]
fn equal_levels_with_different_scales_cost_one_level() {
    let options = PassOptions {
        input_level: Some(5),
        bootstrap: Some(spec(5)),
        ..PassOptions::default()
    };
    let program = joined();
    let (scheduled, report) = run_passes(program.clone(), &options).unwrap();
    assert_eq!(report.levels.scale_fixes, 1);
    // Both operands at level 5: both are lifted to a common pending scale, the output is
    // settled one level lower.
    assert_eq!(level_of_output(&scheduled), 4);
    assert_same_outputs(
        &run(&program, &inputs(), &HashedPlaintexts),
        &run(&scheduled, &inputs(), &HashedPlaintexts),
        1e-12,
    );
}

#[test]
fn a_bootstrap_operand_that_cannot_reach_the_input_scale_is_an_error_naming_it() {
    // The input arrives at level 0 with scale 2^40; the bootstrap wants 2^39 at level 0,
    // which would take a level the value does not have.
    let options = PassOptions {
        input_level: Some(0),
        bootstrap: Some(BootstrapSpec {
            input_scale: Scale::pow2(39),
            ..spec(3)
        }),
        ..PassOptions::default()
    };
    let error = run_passes(joined(), &options).unwrap_err().to_string();
    assert!(error.contains("%0"), "{error}");
    assert!(error.contains("without a level"), "{error}");
}

#[test]
fn management_ops_in_the_input_are_re_derived() {
    // A small polynomial and a product by a plaintext, scheduled, then fed to the passes again.
    let mut b = Builder::new();
    let x = b
        .input(io("x"), Type::cipher(1, Scale::pow2(40), SLOTS))
        .unwrap();
    let sq = b.mul(x, x).unwrap();
    let w = b
        .plain(
            fhec_ir::Recipe::new("w"),
            Type::plain(1, Scale::pow2(40), SLOTS),
        )
        .unwrap();
    let p = b.mul_plain(x, w).unwrap();
    let y = b.add(sq, p).unwrap();
    let y = b.add_const(y, 0.5).unwrap();
    b.output(y, io("y")).unwrap();
    let program = b.finish();
    let options = PassOptions {
        input_level: Some(3),
        ..PassOptions::default()
    };
    let (once, _) = run_passes(program.clone(), &options).unwrap();
    assert!(count(&once, Opcode::Rescale) > 0 && count(&once, Opcode::Free) > 0);
    let (twice, _) = run_passes(once.clone(), &options).unwrap();
    assert_eq!(level_of_output(&once), level_of_output(&twice));
    assert_eq!(
        count(&once, Opcode::Rescale),
        count(&twice, Opcode::Rescale)
    );
    let before = run(&program, &inputs(), &HashedPlaintexts);
    assert_same_outputs(&before, &run(&once, &inputs(), &HashedPlaintexts), 1e-12);
    assert_same_outputs(&before, &run(&twice, &inputs(), &HashedPlaintexts), 1e-12);
}

#[test]
fn running_out_of_levels_without_bootstrapping_names_the_value() {
    let mut b = Builder::new();
    let mut v = b
        .input(io("x"), Type::cipher(1, Scale::pow2(40), SLOTS))
        .unwrap();
    for _ in 0..4 {
        v = b.mul(v, v).unwrap();
    }
    b.output(v, io("y")).unwrap();
    let program = b.finish();
    let at = |level| InputTypes {
        level: Some(level),
        scale: None,
    };
    let error = assign_levels(&program, &BTreeSet::new(), &at(2), None).unwrap_err();
    let last_square: Value = program
        .instructions()
        .filter(|(_, d)| d.opcode == Opcode::Mul)
        .nth(2)
        .map(|(_, d)| d.results[0])
        .unwrap();
    assert_eq!(
        error.to_string(),
        format!("{last_square}: a ciphertext product is needed at level 0")
    );
    // Three levels are enough for the four squarings' three rescales before the last one.
    let out = assign_levels(&program, &BTreeSet::new(), &at(4), None).unwrap();
    verify(&out.program).unwrap();
    assert_eq!(out.counts.lowest_level, 0);
}
