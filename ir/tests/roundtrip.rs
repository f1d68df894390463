//! Property test: random well-typed programs (built with the builder, so every instruction
//! passed the typing rules) verify clean, print, parse back to the *same* program, print
//! identically, and survive the RON round trip unchanged.

use fhec_ir::{
    BootstrapSpec, Builder, GraphHash, IoSpec, Opaque, Program, Recipe, Scale, ScaledConst,
    Selector, Type, Value, parse, verify,
};
use proptest::prelude::*;

const SLOTS: u32 = 64;
const TOP_LEVEL: u32 = 4;

/// One random construction step; indices pick among the live ciphertexts (modulo their count).
#[derive(Debug, Clone)]
enum Step {
    Input(u32, IoSpec),
    Add(usize, usize, bool),
    Neg(usize),
    Plain(usize, Recipe, bool),
    MulConst(usize, f64, Scale),
    AddConst(usize, f64),
    Mul(usize, usize),
    Rotate(usize, i32),
    RotateHoisted(usize, Vec<i32>),
    Conjugate(usize),
    Rescale(usize),
    LevelDown(usize, u32),
    Bootstrap(usize),
    Free(usize),
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
        -4.0..4.0f64,
        Just(-0.0),
    ]
}

fn selector() -> impl Strategy<Value = Selector> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Selector::Int),
        finite().prop_map(Selector::Float),
        any::<bool>().prop_map(Selector::Bool),
        any::<String>().prop_map(Selector::Str),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(Selector::List)
    })
}

fn recipe() -> impl Strategy<Value = Recipe> {
    (
        any::<String>(),
        prop::collection::btree_map("[a-z_][a-z0-9_]{0,6}", selector(), 0..4),
    )
        .prop_map(|(source, selectors)| Recipe { source, selectors })
}

fn io_spec() -> impl Strategy<Value = IoSpec> {
    (any::<String>(), any::<(String, Vec<i16>)>()).prop_map(|(name, layout)| IoSpec {
        name,
        layout: Opaque::encode(&layout).unwrap(),
    })
}

fn scale() -> impl Strategy<Value = Scale> {
    (
        -3i32..60,
        prop::collection::vec((0u32..=TOP_LEVEL, -2i32..3), 0..3),
    )
        .prop_map(|(e, primes)| {
            primes
                .into_iter()
                .fold(Scale::pow2(e), |s, (i, k)| s.with_prime(i, k))
        })
}

fn offset() -> impl Strategy<Value = i32> {
    (1i32..SLOTS as i32, any::<bool>()).prop_map(|(k, neg)| if neg { -k } else { k })
}

fn step() -> impl Strategy<Value = Step> {
    let i = || any::<usize>();
    prop_oneof![
        ((0..=TOP_LEVEL), io_spec()).prop_map(|(l, io)| Step::Input(l, io)),
        (i(), i(), any::<bool>()).prop_map(|(a, b, s)| Step::Add(a, b, s)),
        i().prop_map(Step::Neg),
        (i(), recipe(), any::<bool>()).prop_map(|(a, r, m)| Step::Plain(a, r, m)),
        (i(), finite(), scale()).prop_map(|(a, c, s)| Step::MulConst(a, c, s)),
        (i(), finite()).prop_map(|(a, c)| Step::AddConst(a, c)),
        (i(), i()).prop_map(|(a, b)| Step::Mul(a, b)),
        (i(), offset()).prop_map(|(a, k)| Step::Rotate(a, k)),
        (i(), prop::collection::btree_set(offset(), 1..4))
            .prop_map(|(a, ks)| Step::RotateHoisted(a, ks.into_iter().collect())),
        i().prop_map(Step::Conjugate),
        i().prop_map(Step::Rescale),
        (i(), 0..TOP_LEVEL).prop_map(|(a, l)| Step::LevelDown(a, l)),
        i().prop_map(Step::Bootstrap),
        i().prop_map(Step::Free),
    ]
}

/// Applies the steps; a step the builder refuses (ill-typed) is skipped, which is itself a
/// check that refusal leaves the program unchanged and usable.
fn build(steps: &[Step], hash: Option<[u8; 32]>) -> Program {
    let mut b = Builder::new();
    b.set_bootstrap(BootstrapSpec {
        input_level: 0,
        input_scale: Scale::pow2(40),
        output_level: TOP_LEVEL,
        output_scale: Scale::pow2(40),
    });
    if let Some(hash) = hash {
        b.set_graph_hash(GraphHash(hash));
        b.set_params(Opaque::encode(&("params", hash[0])).unwrap());
    }
    let first = b.input(
        IoSpec {
            name: "x".into(),
            layout: Opaque::encode(&()).unwrap(),
        },
        Type::cipher(TOP_LEVEL, Scale::pow2(40), SLOTS),
    );
    let mut live: Vec<Value> = vec![first.unwrap()];
    for (i, step) in steps.iter().enumerate() {
        // Some instructions carry a layer, some none: both must round-trip.
        b.set_layer((i % 3 != 0).then_some((i / 3) as u32));
        let pick = |i: &usize| live[i % live.len()];
        let ty = |b: &Builder, v: Value| b.value_type(v).cloned().expect("live values are typed");
        let made: Result<Vec<Value>, _> = match step {
            Step::Input(level, io) => b
                .input(io.clone(), Type::cipher(*level, Scale::pow2(40), SLOTS))
                .map(|v| vec![v]),
            Step::Add(a, c, sub) => {
                let x = pick(a);
                let same: Vec<Value> = live
                    .iter()
                    .copied()
                    .filter(|&v| ty(&b, v) == ty(&b, x))
                    .collect();
                let y = same[c % same.len()];
                if *sub { b.sub(x, y) } else { b.add(x, y) }.map(|v| vec![v])
            }
            Step::Neg(a) => b.neg(pick(a)).map(|v| vec![v]),
            Step::Plain(a, recipe, multiply) => {
                let x = pick(a);
                let t = ty(&b, x);
                b.plain(recipe.clone(), Type::plain(t.level, t.scale.clone(), SLOTS))
                    .and_then(|p| {
                        let r = if *multiply {
                            b.mul_plain(x, p)
                        } else {
                            b.add_plain(x, p)
                        };
                        r.map(|v| vec![v])
                    })
            }
            Step::MulConst(a, value, scale) => b
                .mul_const(
                    pick(a),
                    ScaledConst {
                        value: *value,
                        scale: scale.clone(),
                    },
                )
                .map(|v| vec![v]),
            Step::AddConst(a, value) => b.add_const(pick(a), *value).map(|v| vec![v]),
            Step::Mul(a, c) => {
                let x = pick(a);
                let level = ty(&b, x).level;
                let same: Vec<Value> = live
                    .iter()
                    .copied()
                    .filter(|&v| ty(&b, v).level == level)
                    .collect();
                b.mul(x, same[c % same.len()]).map(|v| vec![v])
            }
            Step::Rotate(a, k) => b.rotate(pick(a), *k).map(|v| vec![v]),
            Step::RotateHoisted(a, ks) => b.rotate_hoisted(pick(a), ks.clone()),
            Step::Conjugate(a) => b.conjugate(pick(a)).map(|v| vec![v]),
            Step::Rescale(a) => b.rescale(pick(a)).map(|v| vec![v]),
            Step::LevelDown(a, l) => b.level_down(pick(a), *l).map(|v| vec![v]),
            Step::Bootstrap(a) => b.bootstrap(pick(a)).map(|v| vec![v]),
            Step::Free(a) if live.len() > 1 => {
                let v = live.remove(a % live.len());
                b.free(v).map(|()| Vec::new())
            }
            Step::Free(_) => Ok(Vec::new()),
        };
        if let Ok(values) = made {
            live.extend(values);
        }
    }
    let last = *live.last().expect("the first input is never freed last");
    b.output(
        last,
        IoSpec {
            name: "y".into(),
            layout: Opaque::encode(&[1, 2]).unwrap(),
        },
    )
    .unwrap();
    b.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn print_parse_print(steps in prop::collection::vec(step(), 0..40), hash in proptest::option::of(any::<[u8; 32]>())) {
        let program = build(&steps, hash);
        verify(&program).map_err(|e| TestCaseError::fail(format!("{e}\n{program}")))?;
        let printed = program.to_string();
        let parsed = parse(&printed).map_err(|e| TestCaseError::fail(format!("{e}\n{printed}")))?;
        prop_assert_eq!(parsed.to_string(), printed.clone());
        prop_assert!(parsed == program, "parse(print(p)) differs from p:\n{}", printed);
        let ron = program.to_ron().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let from_ron = Program::from_ron(&ron).map_err(|e| TestCaseError::fail(format!("{e}\n{ron}")))?;
        prop_assert!(from_ron == program, "the RON round trip changed the program:\n{}", ron);
    }
}
