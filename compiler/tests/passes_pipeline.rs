//! The passes on programs built with the compiler's own emitters (a convolution, a ReLU
//! approximation, conv → relu → conv with a residual add) and by hand: after the pipeline the
//! program verifies (exact scales, levels, keys, frees), the clear interpreter gives the same
//! outputs as on the unscheduled program, and bootstrap counts match the budget.

mod linear_support;
mod passes_support;

use fhec_compiler::linear::{LinearMap, LinearOp, WeightPlaintexts, Weights, emit};
use fhec_compiler::passes::{PassOptions, PassReport, run_passes};
use fhec_compiler::poly::chebyshev::Interval;
use fhec_compiler::poly::{Activation, ActivationApprox, InputMap, PlanObjective};
use fhec_ir::{
    BootstrapSpec, Builder, ChainFacts, Opcode, PlaintextSource, Program, Scale, Type, Value,
    verify, verify_with,
};
use linear_support::layout;
use passes_support::{assert_same_outputs, io, run, values};
use std::collections::BTreeMap;

const SLOTS: u32 = 64;

fn spec(output_level: u32) -> BootstrapSpec {
    BootstrapSpec {
        input_level: 0,
        input_scale: Scale::pow2(40),
        output_level,
        output_scale: Scale::pow2(40),
    }
}

/// A chain of 60-bit q0 and 40-bit primes up to `top`, for the parameter-aware verifier.
fn chain(top: u32) -> ChainFacts {
    let mut primes = vec![60.0];
    primes.extend(std::iter::repeat_n(40.0, top as usize));
    ChainFacts::new(primes, SLOTS)
}

fn options(input_level: u32, bootstrap_out: Option<u32>) -> PassOptions {
    let top = input_level.max(bootstrap_out.unwrap_or(0));
    PassOptions {
        input_level: Some(input_level),
        bootstrap: bootstrap_out.map(spec),
        chain: Some(chain(top)),
        ..PassOptions::default()
    }
}

/// A 3×3 stride-1 convolution to `out_channels` with weights `<name>.w` and `<name>.b`.
fn named_conv(out_channels: usize, name: &str) -> LinearOp {
    let mut op = linear_support::conv(out_channels, 3, 1, 1, 1);
    op.weight = Some(format!("{name}.w"));
    op.bias = Some(format!("{name}.b"));
    op
}

/// A 3×3 convolution on a 2×4×4 tensor in 64 slots, with its own weight names.
fn conv_map(name: &str) -> LinearMap {
    let op = named_conv(2, name);
    let shape = layout([2, 4, 4], SLOTS as usize, 1, 1);
    LinearMap::new(op, shape.clone(), shape).unwrap()
}

/// Random weights for `map` under its names, scaled by `gain`.
fn add_weights(weights: &mut Weights, map: &LinearMap, seed: u64, gain: f32) {
    let generated = linear_support::weights(map, seed);
    let op = map.op();
    for (key, name) in [("w", op.weight.clone()), ("b", op.bias.clone())] {
        if let (Some(tensor), Some(name)) = (generated.get(key), name) {
            weights.insert(name, tensor.mapv(|v| v * gain));
        }
    }
}

/// ReLU on [-bound, bound] by a degree-`degree` Chebyshev interpolant, map emitted.
fn relu(bound: f64, degree: usize) -> ActivationApprox {
    relu_with(bound, degree, InputMap::Emitted)
}

fn relu_with(bound: f64, degree: usize, map: InputMap) -> ActivationApprox {
    ActivationApprox::chebyshev(
        Activation::Relu,
        Interval::symmetric(bound).unwrap(),
        degree,
        PlanObjective::FewestProducts,
        map,
    )
    .unwrap()
}

fn input(b: &mut Builder) -> Value {
    b.input(io("x"), Type::cipher(1, Scale::pow2(40), SLOTS))
        .unwrap()
}

/// Runs the pipeline, checks the result verifies against the chain and computes what the
/// unscheduled program computes.
fn check(
    program: Program,
    options: &PassOptions,
    plaintexts: &dyn PlaintextSource,
) -> (Program, PassReport) {
    verify(&program).unwrap();
    let inputs = BTreeMap::from([("x".to_string(), values(7, SLOTS as usize))]);
    let before = run(&program, &inputs, plaintexts);
    // The lowering's placeholder form (every type at level 0, scale 1) schedules the same.
    let placeholder = passes_support::placeholder_form(&program);
    let placeholder_options = PassOptions {
        input_scale: Some(Scale::pow2(40)),
        ..options.clone()
    };
    let (from_placeholder, _) = run_passes(placeholder, &placeholder_options).unwrap();
    let (scheduled, report) = run_passes(program, options).unwrap();
    verify_with(&scheduled, options.chain.as_ref()).unwrap();
    assert_eq!(from_placeholder.to_string(), scheduled.to_string());
    let after = run(&scheduled, &inputs, plaintexts);
    assert_same_outputs(&before, &after, 1e-9);
    (scheduled, report)
}

fn count(program: &Program, opcode: Opcode) -> usize {
    program
        .instructions()
        .filter(|(_, d)| d.opcode == opcode)
        .count()
}

/// conv → relu → conv → (+ x) → relu, the shape of a residual block.
fn residual_block(degree: usize) -> (Program, WeightPlaintexts) {
    residual_block_with(degree, InputMap::Emitted)
}

fn residual_block_with(degree: usize, map: InputMap) -> (Program, WeightPlaintexts) {
    let (first, second) = (conv_map("conv1"), conv_map("conv2"));
    let mut weights = Weights::new();
    add_weights(&mut weights, &first, 1, 0.3);
    add_weights(&mut weights, &second, 2, 0.3);
    let mut b = Builder::new();
    b.set_layer(Some(0));
    let x = input(&mut b);
    b.set_layer(Some(1));
    let y = emit(&mut b, &first, &[x], &Scale::pow2(40))
        .unwrap()
        .outputs[0];
    b.set_layer(Some(2));
    let r = fhec_compiler::poly::emit(&mut b, y, &relu_with(4.0, degree, map))
        .unwrap()
        .output;
    b.set_layer(Some(3));
    let z = emit(&mut b, &second, &[r], &Scale::pow2(40))
        .unwrap()
        .outputs[0];
    // The unscheduled emitters leave the skip operand at another formal scale: bring x to
    // z's scale with an exact integer lift, as the lowering does.
    b.set_layer(Some(4));
    let x_scale = b.value_type(x).unwrap().scale.clone();
    let lift = b
        .value_type(z)
        .unwrap()
        .scale
        .checked_div(&x_scale)
        .unwrap();
    let skip = b
        .mul_const(
            x,
            fhec_ir::ScaledConst {
                value: 1.0,
                scale: lift,
            },
        )
        .unwrap();
    let sum = b.add(z, skip).unwrap();
    b.set_layer(Some(5));
    let out = fhec_compiler::poly::emit(&mut b, sum, &relu_with(4.0, degree, map))
        .unwrap()
        .output;
    b.output(out, io("y")).unwrap();
    (b.finish(), WeightPlaintexts::new(weights))
}

#[test]
fn a_convolution_costs_one_level_and_one_rescale_per_output() {
    let map = conv_map("conv");
    let mut weights = Weights::new();
    add_weights(&mut weights, &map, 3, 1.0);
    let mut b = Builder::new();
    let x = input(&mut b);
    let lowered = emit(&mut b, &map, &[x], &Scale::prime(1)).unwrap();
    b.output(lowered.outputs[0], io("y")).unwrap();
    let (program, report) = check(
        b.finish(),
        &options(3, None),
        &WeightPlaintexts::new(weights),
    );
    assert_eq!(
        report.levels.rescales, 1,
        "the products are summed, then rescaled once"
    );
    assert_eq!(report.levels.lowest_level, 2);
    assert_eq!(report.levels.bootstraps, 0);
    let (_, out) = program.outputs().next().unwrap();
    assert_eq!(
        program.value_type(out).unwrap().to_string(),
        "ct<l=2, s=2^40, n=64>",
        "weights encoded at q3 give back the input scale exactly"
    );
}

#[test]
fn a_relu_consumes_exactly_its_depth_in_levels() {
    for degree in [7, 15, 31, 63] {
        for objective in [PlanObjective::FewestProducts, PlanObjective::LeastDepth] {
            for map in [InputMap::Emitted, InputMap::Folded] {
                let approx = ActivationApprox::chebyshev(
                    Activation::Relu,
                    Interval::symmetric(2.0).unwrap(),
                    degree,
                    objective,
                    map,
                )
                .unwrap();
                let mut b = Builder::new();
                let x = input(&mut b);
                let out = fhec_compiler::poly::emit(&mut b, x, &approx)
                    .unwrap()
                    .output;
                b.output(out, io("y")).unwrap();
                let top = 12;
                let (program, report) = check(
                    b.finish(),
                    &options(top, None),
                    &passes_support::HashedPlaintexts,
                );
                let (_, y) = program.outputs().next().unwrap();
                let consumed = top - program.value_type(y).unwrap().level;
                let case = format!("degree {degree}, {objective:?}, {map:?}");
                assert_eq!(consumed, approx.depth, "{case}");
                assert_eq!(
                    report.levels.scale_fixes, 0,
                    "{case}: constants absorb scales"
                );
                assert_eq!(report.levels.bootstraps, 0, "{case}");
            }
        }
    }
}

#[test]
fn residual_block_fits_a_long_chain_without_bootstraps() {
    let (program, weights) = residual_block(7);
    let (scheduled, report) = check(program, &options(14, None), &weights);
    assert_eq!(report.levels.bootstraps, 0);
    assert_eq!(count(&scheduled, Opcode::Bootstrap), 0);
    assert!(count(&scheduled, Opcode::Free) > 0, "frees are placed");
}

#[test]
fn residual_block_bootstraps_before_activations_when_levels_run_out() {
    let (program, weights) = residual_block(7);
    // Each ReLU (degree 7, map emitted) takes 4 levels, each conv 1, and bringing a value to
    // the bootstrap's input scale 1 more: from level 7 with bootstraps refreshing to level 7,
    // conv + ReLU + conv reach level 1, the residual sum is converted to the bootstrap input
    // (level 0) and bootstrapped right before the second ReLU.
    let (scheduled, report) = check(program, &options(7, Some(7)), &weights);
    assert_eq!(report.levels.bootstraps, 1);
    let boots: Vec<_> = scheduled
        .instructions()
        .filter(|(_, d)| d.opcode == Opcode::Bootstrap)
        .collect();
    assert_eq!(boots.len(), 1);
    // The bootstrapped value is the residual sum's normalised form (the second ReLU's input):
    // after it come exactly the second ReLU's three products.
    let position = scheduled
        .instructions()
        .position(|(_, d)| d.opcode == Opcode::Bootstrap)
        .unwrap();
    let products_after = scheduled
        .instructions()
        .skip(position)
        .filter(|(_, d)| d.opcode == Opcode::Mul)
        .count();
    assert_eq!(products_after, 3, "{scheduled}");
    // Without a bootstrapping configuration the same budget fails, naming the value.
    let (program, _) = residual_block(7);
    let error = run_passes(program, &options(7, None)).unwrap_err();
    assert!(
        error.to_string().contains("no bootstrap candidate"),
        "{error}"
    );
}

#[test]
fn a_folded_activation_input_reaches_the_bootstrap_without_a_scale_fix() {
    // With the range map folded into the weights, a ReLU of degree 7 takes 3 levels: conv +
    // ReLU + conv = 5 levels, and the residual sum, whose products are encoded so that its
    // rescale lands exactly on the bootstrap's input scale, is bootstrapped at no extra level.
    let (program, weights) = residual_block_with(7, InputMap::Folded);
    let (scheduled, report) = check(program, &options(5, Some(5)), &weights);
    assert_eq!(report.levels.bootstraps, 1);
    assert_eq!(report.levels.scale_fixes, 0);
    // Every instruction keeps a layer: the bootstrap belongs to the residual add (layer 4),
    // whose sum it refreshes, the rescales to the layers whose products they follow.
    assert!(scheduled.instructions().all(|(_, d)| d.layer.is_some()));
    let layer_of = |op| {
        scheduled
            .instructions()
            .filter(|(_, d)| d.opcode == op)
            .map(|(_, d)| d.layer.unwrap())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(layer_of(Opcode::Bootstrap), [4].into());
    assert!(layer_of(Opcode::Rescale).is_superset(&[2, 5].into()));
    assert_eq!(count(&scheduled, Opcode::Bootstrap), 1);
    // One level fewer: conv + ReLU + conv no longer fit; the first ReLU's input is
    // bootstrapped as well.
    let (program, weights) = residual_block_with(7, InputMap::Folded);
    let (_, report) = check(program, &options(4, Some(4)), &weights);
    assert_eq!(report.levels.bootstraps, 2);
}

/// Three ReLUs of degree 15 (depth 5 with the emitted map) separated by convolutions: a
/// builder of the program and its weights.
fn three_layers() -> (impl Fn() -> Program, WeightPlaintexts) {
    let maps = [conv_map("c1"), conv_map("c2"), conv_map("c3")];
    let mut weights = Weights::new();
    for (i, m) in maps.iter().enumerate() {
        add_weights(&mut weights, m, 10 + i as u64, 0.3);
    }
    let build = move || {
        let mut b = Builder::new();
        let mut v = input(&mut b);
        for m in &maps {
            v = emit(&mut b, m, &[v], &Scale::pow2(40)).unwrap().outputs[0];
            v = fhec_compiler::poly::emit(&mut b, v, &relu(4.0, 15))
                .unwrap()
                .output;
        }
        b.output(v, io("y")).unwrap();
        b.finish()
    };
    (build, WeightPlaintexts::new(weights))
}

#[test]
fn bootstrap_counts_follow_the_budget() {
    let (build, source) = three_layers();
    let depth = relu(4.0, 15).depth;
    // One conv + one ReLU + the conversion to the bootstrap input per cycle: a bootstrap
    // before the 2nd and 3rd ReLU.
    let cycle = depth + 2;
    let (_, report) = check(build(), &options(cycle + 1, Some(cycle + 1)), &source);
    assert_eq!(report.levels.bootstraps, 2, "cycle of {cycle} levels");
    // Enough levels for everything: none.
    let (_, report) = check(build(), &options(3 * cycle + 2, Some(cycle + 1)), &source);
    assert_eq!(report.levels.bootstraps, 0);
    // Two cycles' worth up front: one.
    let (_, report) = check(build(), &options(2 * cycle + 1, Some(cycle + 1)), &source);
    assert_eq!(report.levels.bootstraps, 1);
}

#[test]
fn inputs_start_higher_when_that_saves_bootstraps() {
    // The chain of `bootstrap_counts_follow_the_budget`, its inputs allowed above the
    // bootstrap's output level: the placement keeps the lowest input level with the fewest
    // bootstraps.
    let (build, source) = three_layers();
    let cycle = relu(4.0, 15).depth + 2;
    let input_level = |program: &Program| {
        let (_, v) = program.inputs().next().unwrap();
        program.value_type(v).unwrap().level
    };
    let bootstraps_at = |level: u32| {
        let (_, report) = check(build(), &options(level, Some(cycle + 1)), &source);
        report.levels.bootstraps
    };
    for (max, expected) in [(cycle + 1, 2), (2 * cycle + 1, 1), (3 * cycle + 2, 0)] {
        let mut headroom = options(cycle + 1, Some(cycle + 1));
        headroom.max_input_level = Some(max);
        headroom.chain = Some(chain(max));
        let (scheduled, report) = check(build(), &headroom, &source);
        assert_eq!(report.levels.bootstraps, expected, "inputs up to {max}");
        // The lowest such level: one less gives more bootstraps (or is the base level).
        let chosen = input_level(&scheduled);
        assert!((cycle + 1..=max).contains(&chosen));
        if chosen > cycle + 1 {
            assert!(bootstraps_at(chosen - 1) > expected, "inputs at {chosen}");
        }
    }
}

/// Six 3×3 convolutions of 16 channels on 16×16 in 4096 slots, each followed by a degree-63
/// ReLU (map folded), the scale reset after each layer.
fn larger_chain() -> Program {
    let shape = layout([16, 16, 16], 4096, 1, 1);
    let mut b = Builder::new();
    let mut v = b
        .input(io("x"), Type::cipher(1, Scale::pow2(40), 4096))
        .unwrap();
    for i in 0..6 {
        let map = LinearMap::new(
            named_conv(16, &format!("c{i}")),
            shape.clone(),
            shape.clone(),
        )
        .unwrap();
        v = emit(&mut b, &map, &[v], &Scale::pow2(40)).unwrap().outputs[0];
        v = fhec_compiler::poly::emit(&mut b, v, &relu_with(1.0, 63, InputMap::Folded))
            .unwrap()
            .output;
        v = b.rescaled_to(v, &Scale::pow2(40)).unwrap();
    }
    b.output(v, io("y")).unwrap();
    b.finish()
}

/// Timing of the whole pipeline and of each stage on [`larger_chain`], levels 10 per
/// bootstrap (`cargo test --test passes_pipeline timing -- --ignored --nocapture`).
#[test]
#[ignore]
fn timing_of_a_larger_chain() {
    let program = larger_chain();
    let inputs = fhec_compiler::passes::InputTypes {
        level: Some(10),
        scale: None,
    };
    let t = std::time::Instant::now();
    let placement =
        fhec_compiler::passes::place_bootstraps(&program, &inputs, Some(&spec(10))).unwrap();
    println!("placement: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let (keyed, _) =
        fhec_compiler::passes::select_keys(placement.outcome.program.clone(), None).unwrap();
    println!("keys: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let model = fhec_compiler::passes::MemoryModel::for_program(&keyed);
    let _ = fhec_compiler::passes::schedule(keyed, &model);
    println!("schedule: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let options = PassOptions {
        input_level: Some(10),
        bootstrap: Some(spec(10)),
        ..PassOptions::default()
    };
    let (scheduled, report) = run_passes(program.clone(), &options).unwrap();
    println!(
        "all passes: {:?}, {} -> {} instructions, {report:?}",
        t.elapsed(),
        program.order().len(),
        scheduled.order().len()
    );
}

/// conv → ReLU → conv → ReLU, then a fork into two conv → ReLU branches joined by an add:
/// a residual block whose skip path carries its own convolution and activation.
fn forked_block(weights: &mut Weights) -> Program {
    let maps: Vec<LinearMap> = ["f0", "f1", "fa", "fb"].map(conv_map).into();
    for (i, m) in maps.iter().enumerate() {
        add_weights(weights, m, 20 + i as u64, 0.3);
    }
    let mut b = Builder::new();
    let x = input(&mut b);
    let conv_relu = |b: &mut Builder, m: &LinearMap, v: Value| {
        let v = emit(b, m, &[v], &Scale::pow2(40)).unwrap().outputs[0];
        fhec_compiler::poly::emit(b, v, &relu(4.0, 15))
            .unwrap()
            .output
    };
    let first = conv_relu(&mut b, &maps[0], x);
    let shared = conv_relu(&mut b, &maps[1], first);
    let left = conv_relu(&mut b, &maps[2], shared);
    let right = conv_relu(&mut b, &maps[3], shared);
    let sum = b.add(left, right).unwrap();
    b.output(sum, io("y")).unwrap();
    b.finish()
}

#[test]
fn one_bootstrap_above_a_fork_serves_both_branches() {
    // A conv costs 1 level, a degree-15 ReLU with its map emitted 6 (its depth), so from the
    // inputs at 16: conv 15, ReLU 9, conv 8, ReLU 2, each branch's conv 1, and each branch's
    // ReLU runs out: at least one bootstrap. The greedy rule refreshes each branch right
    // before its ReLU (2). One bootstrap of the shared ReLU's input (after its emitted map,
    // computed at level 7) leaves 12 levels for the rest of that ReLU (5), a branch conv (1)
    // and a branch ReLU (6): exactly 12, so 1 is the minimum, and the placement finds it.
    let mut weights = Weights::new();
    let program = forked_block(&mut weights);
    assert_eq!(relu(4.0, 15).depth, 6);
    let source = WeightPlaintexts::new(weights);
    let (scheduled, report) = check(program, &options(16, Some(12)), &source);
    assert_eq!(report.levels.bootstraps, 1);
    assert_eq!(count(&scheduled, Opcode::Bootstrap), 1);
    // Two levels fewer per bootstrap: the shared bootstrap no longer reaches the end of the
    // branches, and one per branch is the minimum again.
    let mut weights = Weights::new();
    let (_, report) = check(
        forked_block(&mut weights),
        &options(16, Some(10)),
        &WeightPlaintexts::new(weights),
    );
    assert_eq!(report.levels.bootstraps, 2);
}
