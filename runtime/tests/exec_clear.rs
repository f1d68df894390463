//! The clear backend's semantics on hand-built programs: rotation direction, arithmetic,
//! identity of management ops, input binding, lifetimes and error reporting.

use fhec_ir::{
    BootstrapSpec, Builder, IoSpec, Opaque, PlaintextSource, Program, Recipe, RecipeError, Scale,
    ScaledConst, Selector, Type, parse,
};
use fhec_runtime::exec::{ClearBackend, ExecError, run};
use std::collections::BTreeMap;

/// Plaintexts `"ramp" {step=s}`: slot j holds `s·j`.
struct Ramp;

impl PlaintextSource for Ramp {
    fn slots(&self, recipe: &Recipe, slots: usize) -> Result<Vec<f64>, RecipeError> {
        match (recipe.source.as_str(), recipe.selectors.get("step")) {
            ("ramp", Some(Selector::Float(s))) => Ok((0..slots).map(|j| s * j as f64).collect()),
            _ => Err(RecipeError::new(recipe, "not a ramp")),
        }
    }
}

fn io(name: &str) -> IoSpec {
    IoSpec {
        name: name.into(),
        layout: Opaque::from_ron("()").unwrap(),
    }
}

fn ct(n: u32) -> Type {
    Type::cipher(2, Scale::pow2(40), n)
}

fn inputs(pairs: &[(&str, Vec<f64>)]) -> BTreeMap<String, Vec<f64>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn iota(n: usize) -> Vec<f64> {
    (0..n).map(|j| j as f64).collect()
}

#[test]
fn rotation_by_k_moves_slot_i_plus_k_to_slot_i() {
    let mut b = Builder::new();
    let x = b.input(io("x"), ct(8)).unwrap();
    let left = b.rotate(x, 3).unwrap();
    let group = b.rotate_hoisted(x, vec![1, -1]).unwrap();
    b.output(left, io("left")).unwrap();
    b.output(group[0], io("one")).unwrap();
    b.output(group[1], io("minus_one")).unwrap();
    let out = run(
        &b.finish(),
        &mut ClearBackend,
        inputs(&[("x", iota(8))]),
        &Ramp,
    )
    .unwrap();
    assert_eq!(out["left"], [3.0, 4.0, 5.0, 6.0, 7.0, 0.0, 1.0, 2.0]);
    assert_eq!(out["one"], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 0.0]);
    assert_eq!(out["minus_one"], [7.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn arithmetic_is_slot_wise_and_management_changes_no_value() {
    let mut b = Builder::new();
    b.set_bootstrap(BootstrapSpec {
        input_level: 0,
        input_scale: Scale::pow2(40),
        output_level: 2,
        output_scale: Scale::pow2(40),
    });
    let x = b.input(io("x"), ct(4)).unwrap();
    let y = b.input(io("y"), ct(4)).unwrap();
    let sum = b.add(x, y).unwrap();
    let diff = b.sub(sum, y).unwrap(); // x
    let neg = b.neg(diff).unwrap(); // -x
    let ramp = b
        .plain(
            Recipe::new("ramp").with("step", Selector::Float(0.5)),
            Type::plain(2, Scale::pow2(40), 4),
        )
        .unwrap();
    let shifted = b.add_plain(neg, ramp).unwrap(); // -x + j/2
    let prime = b
        .plain(
            Recipe::new("ramp").with("step", Selector::Float(2.0)),
            Type::plain(2, Scale::prime(2), 4),
        )
        .unwrap();
    let scaled = b.mul_plain(shifted, prime).unwrap(); // 2j(-x + j/2)
    let down = b.rescale(scaled).unwrap();
    let c = b
        .mul_const(
            down,
            ScaledConst {
                value: 3.0,
                scale: Scale::prime(1),
            },
        )
        .unwrap();
    let c = b.rescale(c).unwrap();
    let c = b.add_const(c, 1.0).unwrap();
    let xx = b.level_down(x, 0).unwrap();
    let square = b.mul(xx, c).unwrap();
    let conj = b.conjugate(square).unwrap();
    let fresh = b.bootstrap(c).unwrap();
    b.output(conj, io("out")).unwrap();
    b.output(fresh, io("fresh")).unwrap();
    let program = b.finish();
    fhec_ir::verify(&program).unwrap();
    let xs = vec![1.0, -2.0, 0.25, 4.0];
    let ys = vec![5.0, 6.0, 7.0, 8.0];
    let out = run(
        &program,
        &mut ClearBackend,
        inputs(&[("x", xs.clone()), ("y", ys)]),
        &Ramp,
    )
    .unwrap();
    for j in 0..4 {
        let jf = j as f64;
        let c = 3.0 * 2.0 * jf * (-xs[j] + jf / 2.0) + 1.0;
        assert!((out["fresh"][j] - c).abs() < 1e-12);
        assert!((out["out"][j] - xs[j] * c).abs() < 1e-12);
    }
}

fn simple_program() -> Program {
    let mut b = Builder::new();
    let x = b.input(io("x"), ct(4)).unwrap();
    let y = b.neg(x).unwrap();
    b.output(y, io("y")).unwrap();
    b.finish()
}

#[test]
fn inputs_are_bound_by_name() {
    let program = simple_program();
    let missing = run(&program, &mut ClearBackend, inputs(&[]), &Ramp).unwrap_err();
    assert!(
        matches!(&missing, ExecError::MissingInput(name) if name == "x"),
        "{missing}"
    );
    let extra = run(
        &program,
        &mut ClearBackend,
        inputs(&[("x", iota(4)), ("z", iota(4))]),
        &Ramp,
    )
    .unwrap_err();
    assert_eq!(extra.to_string(), "the program has no input named \"z\"");
    let short = run(
        &program,
        &mut ClearBackend,
        inputs(&[("x", iota(3))]),
        &Ramp,
    )
    .unwrap_err();
    assert!(
        short
            .to_string()
            .contains("a vector of 3 values where the type ct<l=2, s=2^40, n=4> needs 4"),
        "{short}"
    );
}

#[test]
fn a_freed_value_is_never_read_again() {
    // The builder refuses this program; a parsed (or hand-edited) one reaches the executor.
    let program = parse(
        "%0 = input \"x\", \"()\" : ct<l=2, s=2^40, n=4>\n\
         %1 = neg %0 : ct<l=2, s=2^40, n=4>\n\
         free %0\n\
         %2 = add %1, %0 : ct<l=2, s=2^40, n=4>\n\
         output %2, \"y\", \"()\"\n",
    )
    .unwrap();
    let error = run(
        &program,
        &mut ClearBackend,
        inputs(&[("x", iota(4))]),
        &Ramp,
    )
    .unwrap_err();
    assert!(matches!(error, ExecError::UseAfterFree { .. }), "{error}");
    assert!(error.to_string().contains("%0 was freed"), "{error}");
}

#[test]
fn freeing_a_value_after_its_last_use_is_accepted() {
    // The interpreter drops %0 after `neg` (its last use); the scheduler's `free` comes later.
    let program = parse(
        "%0 = input \"x\", \"()\" : ct<l=2, s=2^40, n=4>\n\
         %1 = neg %0 : ct<l=2, s=2^40, n=4>\n\
         free %0\n\
         output %1, \"y\", \"()\"\n",
    )
    .unwrap();
    let outputs = run(
        &program,
        &mut ClearBackend,
        inputs(&[("x", iota(4))]),
        &Ramp,
    )
    .unwrap();
    assert_eq!(outputs["y"], vec![-0.0, -1.0, -2.0, -3.0]);
}

#[test]
fn recipe_errors_name_the_instruction() {
    let mut b = Builder::new();
    let x = b.input(io("x"), ct(4)).unwrap();
    let p = b
        .plain(Recipe::new("weights"), Type::plain(2, Scale::pow2(40), 4))
        .unwrap();
    let y = b.add_plain(x, p).unwrap();
    b.output(y, io("y")).unwrap();
    let error = run(
        &b.finish(),
        &mut ClearBackend,
        inputs(&[("x", iota(4))]),
        &Ramp,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "%1 = plain \"weights\": plaintext \"weights\": not a ramp"
    );
}
