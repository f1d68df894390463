//! The emitted HE IR of polynomial activations: it verifies, has the promised depth and
//! ct×ct count, contains no management op, and a tiny f64 interpreter of the ops it uses
//! gives what the `f64` evaluator gives; a degree-7 dump is snapshotted.

use fhec_compiler::poly::chebyshev::Interval;
use fhec_compiler::poly::{Activation, ActivationApprox, InputMap, PlanObjective, PolyError, emit};
use fhec_ir::{Builder, Immediate, IoSpec, Opaque, Opcode, Program, Scale, Type, Value, verify};
use std::collections::HashMap;

const SLOTS: u32 = 16;

fn io(name: &str) -> IoSpec {
    IoSpec {
        name: name.into(),
        layout: Opaque::from_ron("()").unwrap(),
    }
}

/// Emits `approx` on a fresh input and returns the program and the per-value depths.
fn lowered(approx: &ActivationApprox) -> (Program, Vec<(Value, u32)>) {
    let mut b = Builder::new();
    let x = b
        .input(io("x"), Type::cipher(12, Scale::pow2(40), SLOTS))
        .unwrap();
    let emitted = emit(&mut b, x, approx).unwrap();
    assert_eq!(emitted.depth, approx.depth);
    assert_eq!(emitted.ct_mults, approx.ct_mults);
    b.output(emitted.output, io("y")).unwrap();
    (b.finish(), emitted.depths)
}

/// Runs the ops a polynomial evaluation may contain over f64 slot vectors.
fn interpret(program: &Program, input: &[f64]) -> Vec<f64> {
    let mut values: HashMap<Value, Vec<f64>> = HashMap::new();
    let mut output = None;
    for &inst in program.order() {
        let data = program.inst(inst).unwrap();
        let arg = |i: usize| &values[&data.args[i]];
        let zip = |f: fn(f64, f64) -> f64| -> Vec<f64> {
            arg(0).iter().zip(arg(1)).map(|(&a, &b)| f(a, b)).collect()
        };
        let result = match (&data.opcode, &data.imm) {
            (Opcode::Input, _) => input.to_vec(),
            (Opcode::Add, _) => zip(|a, b| a + b),
            (Opcode::Sub, _) => zip(|a, b| a - b),
            (Opcode::Mul, _) => zip(|a, b| a * b),
            (Opcode::MulConst, Immediate::ScaledConst(c)) => {
                arg(0).iter().map(|a| a * c.value).collect()
            }
            (Opcode::AddConst, Immediate::Const(c)) => arg(0).iter().map(|a| a + c).collect(),
            (Opcode::Output, _) => {
                output = Some(arg(0).clone());
                continue;
            }
            (op, _) => panic!("a polynomial evaluation emitted {op:?}"),
        };
        values.insert(data.results[0], result);
    }
    output.expect("the program has an output")
}

/// Depth of every value recomputed from the IR alone, by the rules the levels pass uses.
fn ir_depths(program: &Program) -> HashMap<Value, u32> {
    let mut depth: HashMap<Value, u32> = HashMap::new();
    for &inst in program.order() {
        let data = program.inst(inst).unwrap();
        let operands = data.args.iter().map(|v| depth[v]).max().unwrap_or(0);
        let d = match (&data.opcode, &data.imm) {
            (Opcode::Mul, _) => operands + 1,
            (Opcode::MulConst, Immediate::ScaledConst(c)) if c.value.fract() != 0.0 => operands + 1,
            _ => operands,
        };
        for &r in &data.results {
            depth.insert(r, d);
        }
    }
    depth
}

/// A deterministic generator of inputs (SplitMix64).
fn uniform(seed: u64, count: usize, interval: Interval) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            let unit = (z ^ (z >> 31)) as f64 / u64::MAX as f64;
            interval.lo + (interval.hi - interval.lo) * unit
        })
        .collect()
}

fn approximations() -> Vec<ActivationApprox> {
    let asymmetric = Interval::new(-2.0, 6.0).unwrap();
    let symmetric = Interval::symmetric(3.0).unwrap();
    let mut list = Vec::new();
    for objective in [PlanObjective::LeastDepth, PlanObjective::FewestProducts] {
        for map in [InputMap::Folded, InputMap::Emitted] {
            for degree in [7, 31, 119] {
                let relu = ActivationApprox::chebyshev(
                    Activation::Relu,
                    symmetric,
                    degree,
                    objective,
                    map,
                );
                list.push(relu.unwrap());
            }
            let silu =
                ActivationApprox::chebyshev(Activation::Silu, asymmetric, 63, objective, map);
            list.push(silu.unwrap());
            let sign =
                ActivationApprox::composite_relu(symmetric, 1.0 / 64.0, &[7, 15], objective, map);
            list.push(sign.unwrap());
        }
    }
    list
}

#[test]
fn emitted_programs_verify_and_compute_what_the_evaluator_computes() {
    for (k, approx) in approximations().iter().enumerate() {
        let (program, depths) = lowered(approx);
        verify(&program).unwrap_or_else(|e| panic!("approximation {k}: {e}"));
        let muls = program
            .instructions()
            .filter(|(_, d)| d.opcode == Opcode::Mul)
            .count();
        assert_eq!(muls as u32, approx.ct_mults, "approximation {k}");
        let recomputed = ir_depths(&program);
        for (value, depth) in &depths {
            assert_eq!(recomputed[value], *depth, "approximation {k}, {value}");
        }
        let (_, out) = program.outputs().next().unwrap();
        assert_eq!(recomputed[&out], approx.depth);
        let inputs = uniform(k as u64, SLOTS as usize * 8, approx.circuit_domain());
        let circuit = approx.circuit().unwrap();
        for chunk in inputs.chunks(SLOTS as usize) {
            let got = interpret(&program, chunk);
            let mut want = chunk.to_vec();
            circuit.eval_slice(&mut want);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-9, "approximation {k}: {g} vs {w}");
            }
        }
    }
}

#[test]
fn all_values_stay_at_the_input_level() {
    let approx = &approximations()[8];
    let (program, _) = lowered(approx);
    for (_, data) in program.instructions() {
        for &r in &data.results {
            assert_eq!(program.value_type(r).unwrap().level, 12);
        }
        assert!(
            !matches!(
                data.opcode,
                Opcode::Rescale | Opcode::LevelDown | Opcode::Bootstrap | Opcode::Free
            ),
            "the lowering inserted {:?}",
            data.opcode
        );
    }
}

#[test]
fn the_builder_refusal_is_reported_not_panicked() {
    let approx = &approximations()[0];
    let mut b = Builder::new();
    let p = b
        .plain(
            fhec_ir::Recipe::new("w"),
            Type::plain(3, Scale::pow2(40), SLOTS),
        )
        .unwrap();
    let err = emit(&mut b, p, approx).unwrap_err();
    assert!(matches!(err, PolyError::Build(_)), "{err}");
    assert!(err.to_string().contains("must be a ct"), "{err}");
}

#[test]
fn degree_seven_dump() {
    let unit = Interval::symmetric(1.0).unwrap();
    let approx = ActivationApprox::chebyshev(
        Activation::Relu,
        unit,
        7,
        PlanObjective::FewestProducts,
        InputMap::Folded,
    )
    .unwrap();
    let mut b = Builder::new();
    let x = b
        .input(io("x"), Type::cipher(12, Scale::pow2(40), 8))
        .unwrap();
    let emitted = emit(&mut b, x, &approx).unwrap();
    b.output(emitted.output, io("relu")).unwrap();
    let program = b.finish();
    verify(&program).unwrap();
    let depths: Vec<String> = emitted
        .depths
        .iter()
        .map(|(v, d)| format!("{v}:{d}"))
        .collect();
    insta::assert_snapshot!(format!(
        "; relu ≈ Σ c_i T_i(x) on [-1, 1], degree 7, baby step 2^{}\n; depth {}, {} ct×ct\n; depths {}\n{program}",
        approx.stages[0].baby_log,
        approx.depth,
        approx.ct_mults,
        depths.join(" ")
    ));
}
