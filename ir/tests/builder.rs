//! The builder: a small hand-built program's dump (insta snapshot), and the errors it returns
//! instead of panicking when operands do not fit.

use fhec_ir::{
    BootstrapSpec, BuildError, Builder, GraphHash, IoSpec, Opaque, Program, Recipe, Scale,
    ScaledConst, Selector, Type, Value, verify,
};

const SLOTS: u32 = 1024;

fn io(name: &str) -> IoSpec {
    IoSpec {
        name: name.to_string(),
        layout: Opaque::from_ron("(channels:4,gap:1)").unwrap(),
    }
}

fn ct(level: u32, scale: Scale) -> Type {
    Type::cipher(level, scale, SLOTS)
}

fn bootstrapping_builder() -> Builder {
    let mut b = Builder::new();
    b.set_bootstrap(BootstrapSpec {
        input_level: 0,
        input_scale: Scale::pow2(40),
        output_level: 4,
        output_scale: Scale::pow2(40),
    });
    b
}

/// A three-tap 1-D convolution (hoisted rotations, weights encoded at `q2` so that the rescale
/// gives back exactly `2^40`), a square activation, a constant encoded at `q1/2^40` that brings
/// the scale back to `2^40` exactly, a bootstrap and a residual add.
fn small_program() -> Result<Program, BuildError> {
    let mut b = bootstrapping_builder();
    b.set_graph_hash(GraphHash([0xab; 32]));
    b.set_params(Opaque::from_ron("(log_n:11,levels:2)").unwrap());
    let x = b.input(io("image"), ct(2, Scale::pow2(40)))?;
    let shifted = b.rotate_hoisted(x, vec![1, -1])?;
    let mut acc: Option<Value> = None;
    for (tap, v) in [x, shifted[0], shifted[1]].into_iter().enumerate() {
        let recipe = Recipe::new("conv.weight").with("tap", Selector::Int(tap as i64));
        let w = b.plain(recipe, Type::plain(2, Scale::prime(2), SLOTS))?;
        let term = b.mul_plain(v, w)?;
        b.free(w)?;
        acc = Some(match acc {
            None => term,
            Some(a) => b.add(a, term)?,
        });
    }
    let conv = b.rescale(acc.expect("three taps"))?;
    let square = b.mul(conv, conv)?;
    let square = b.rescale(square)?;
    let back_to_2_40 = Scale::prime(1)
        .checked_mul(&Scale::pow2(-40))
        .expect("small exponents");
    let half = b.mul_const(
        square,
        ScaledConst {
            value: 0.5,
            scale: back_to_2_40,
        },
    )?;
    let refreshed = b.bootstrap(half)?;
    let skip = b.level_down(x, 0)?;
    let skip = b.bootstrap(skip)?;
    let sum = b.add(refreshed, skip)?;
    b.output(sum, io("logits"))?;
    Ok(b.finish())
}

#[test]
fn small_program_dump() {
    let program = small_program().expect("the program is well typed");
    verify(&program).expect("builder output verifies");
    insta::assert_snapshot!(program.to_string());
}

/// Builds on a fresh program with one input `x` at `ct<l=1, s=2^40>` and returns the error.
fn check(build: impl FnOnce(&mut Builder, Value) -> Result<(), BuildError>, expected: &str) {
    let mut b = bootstrapping_builder();
    let x = b.input(io("x"), ct(1, Scale::pow2(40))).unwrap();
    let error = build(&mut b, x).expect_err("the builder must refuse this");
    assert_eq!(error.to_string(), expected);
}

#[test]
fn type_errors_are_returned_not_panics() {
    check(
        |b, x| b.rescale(x).and_then(|y| b.rescale(y)).map(drop),
        "rescale: level 0 cannot be rescaled",
    );
    check(
        |b, x| {
            let y = b.mul(x, x)?;
            b.add(x, y).map(drop)
        },
        "add: operand scales differ: 2^40 and 2^80",
    );
    check(
        |b, x| {
            let p = b.plain(Recipe::new("w"), Type::plain(0, Scale::pow2(40), SLOTS))?;
            b.mul_plain(x, p).map(drop)
        },
        "mul_plain: operand levels differ: 1 and 0",
    );
    check(
        |b, x| {
            let p = b.plain(Recipe::new("w"), Type::plain(1, Scale::pow2(40), SLOTS))?;
            b.add(x, p).map(drop)
        },
        "add: operand 2 must be a ct, found pt<l=1, s=2^40, n=1024>",
    );
    check(
        |b, x| b.level_down(x, 1).map(drop),
        "level_down: level_down only lowers: level 1 is not below 1",
    );
    check(
        |b, x| b.rotate(x, 1024).map(drop),
        "rotate: rotation offset 1024 is not below the slot count 1024",
    );
    check(
        |b, x| b.add_const(x, f64::NAN).map(drop),
        "add_const: constant NaN is not finite",
    );
    check(
        |b, x| b.bootstrap(x).map(drop),
        "bootstrap: bootstrap input must be at l=0, s=2^40, found l=1, s=2^40",
    );
    check(
        |b, _| {
            b.plain(
                Recipe::new("w").with("bad key", Selector::Int(1)),
                Type::plain(1, Scale::one(), 8),
            )
            .map(drop)
        },
        "plain: recipe w: selector key \"bad key\" is not an identifier",
    );
    check(
        |b, _| {
            b.input(io("y"), Type::cipher(1, Scale::one(), 12))
                .map(drop)
        },
        "input: slot count 12 is not a power of two",
    );
    check(
        |b, _| b.neg(Value::with_number(99)).map(drop),
        "neg: %99 is not a value of this program",
    );
}

#[test]
fn rotations_record_their_keys() {
    let mut b = Builder::new();
    let x = b.input(io("x"), ct(1, Scale::pow2(40))).unwrap();
    b.rotate_hoisted(x, vec![3, -2]).unwrap();
    let y = b.conjugate(x).unwrap();
    let low = b.level_down(y, 0).unwrap();
    let z = b.rotate(low, 3).unwrap();
    let z = b.mul(z, low).unwrap();
    b.output(z, io("y")).unwrap();
    let program = b.finish();
    // Each key is capped at the highest level it is used at: 3 is used at levels 1 and 0.
    assert_eq!(
        program
            .keys
            .rotations
            .iter()
            .map(|(&k, &cap)| (k, cap))
            .collect::<Vec<_>>(),
        [(-2, 1), (3, 1)]
    );
    assert_eq!(program.keys.conjugation, Some(1));
    assert_eq!(program.keys.relinearization, Some(0));
    verify(&program).unwrap();
}

#[test]
fn lifetime_and_name_errors() {
    check(
        |b, x| {
            b.free(x)?;
            b.neg(x).map(drop)
        },
        "neg: %0 was freed",
    );
    check(
        |b, _| b.input(io("x"), ct(1, Scale::pow2(40))).map(drop),
        "input: the name \"x\" is already used",
    );
}

#[test]
fn from_program_resumes_with_the_same_checks() {
    let mut b = Builder::new();
    let x = b.input(io("x"), ct(1, Scale::pow2(40))).unwrap();
    b.free(x).unwrap();
    let mut resumed = Builder::from_program(b.finish());
    assert_eq!(
        resumed.neg(x),
        Err(BuildError::UseAfterFree {
            op: "neg",
            value: x
        })
    );
    assert!(matches!(
        resumed.input(io("x"), ct(1, Scale::pow2(40))),
        Err(BuildError::DuplicateName { .. })
    ));
}

#[test]
fn a_formal_scale_is_reset_by_an_exact_one() {
    let mut b = Builder::new();
    let x = b.input(io("x"), ct(1, Scale::pow2(40))).unwrap();
    let sq = b.mul(x, x).unwrap();
    let reset = b.rescaled_to(sq, &Scale::pow2(40)).unwrap();
    assert_eq!(b.value_type(reset).unwrap().scale, Scale::pow2(40));
    assert_eq!(
        b.rescaled_to(reset, &Scale::pow2(40)).unwrap(),
        reset,
        "nothing to do"
    );
    let sum = b.add(reset, x).unwrap();
    b.output(sum, io("y")).unwrap();
    let program = b.finish();
    assert!(
        program
            .to_string()
            .contains("%2 = mul_const %1, 1.0, s=1/2^40")
    );
    verify(&program).unwrap();
}
