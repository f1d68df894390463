//! The keys and schedule passes: rotation keys under a budget (decompositions keep the
//! outputs), canonical offsets, level caps, frees after last uses, the predicted peak against
//! a hand count, the memory budget (met by trading keys, or refused naming the budget), the
//! per-pass dumps and a snapshot of a small scheduled program.

mod linear_support;
mod passes_support;

use fhec_compiler::linear::{LinearMap, WeightPlaintexts, Weights, emit};
use fhec_compiler::passes::{
    MemoryModel, PASS_NAMES, PassError, PassOptions, dump_after, run_passes, run_passes_dumped,
    schedule, select_keys,
};
use fhec_ir::{Builder, Opcode, Program, Recipe, Scale, Type, Value, verify};
use linear_support::layout;
use passes_support::{HashedPlaintexts, assert_same_outputs, io, run, values};
use std::collections::{BTreeMap, HashMap};

/// A 3×3 convolution on 2×8×8 in 128 slots: 9 spatial offsets × channel diagonals.
fn conv_program() -> (Program, WeightPlaintexts) {
    let op = linear_support::conv(2, 3, 1, 1, 1);
    let shape = layout([2, 8, 8], 128, 1, 1);
    let map = LinearMap::new(op, shape.clone(), shape).unwrap();
    let weights: Weights = linear_support::weights(&map, 5);
    let mut b = Builder::new();
    let x = b
        .input(io("x"), Type::cipher(1, Scale::pow2(40), 128))
        .unwrap();
    let lowered = emit(&mut b, &map, &[x], &Scale::prime(1)).unwrap();
    b.output(lowered.outputs[0], io("y")).unwrap();
    (b.finish(), WeightPlaintexts::new(weights))
}

fn inputs(slots: usize) -> BTreeMap<String, Vec<f64>> {
    BTreeMap::from([("x".to_string(), values(3, slots))])
}

fn options(max_rotation_keys: Option<usize>) -> PassOptions {
    PassOptions {
        input_level: Some(4),
        max_rotation_keys,
        ..PassOptions::default()
    }
}

fn rotations(program: &Program) -> usize {
    program
        .instructions()
        .map(|(_, d)| d.imm.offsets().len())
        .sum()
}

#[test]
fn a_key_budget_decomposes_rare_rotations_and_keeps_the_outputs() {
    let (program, weights) = conv_program();
    let before = run(&program, &inputs(128), &weights);
    let (full, full_report) = run_passes(program.clone(), &options(None)).unwrap();
    let all_keys = full_report.keys.keys_after;
    assert!(all_keys >= 4, "the conv uses {all_keys} offsets");
    assert!(full_report.keys.decomposed.is_empty());
    let budget = all_keys - 2;
    let (small, report) = run_passes(program, &options(Some(budget))).unwrap();
    assert!(report.keys.keys_after <= budget);
    assert!(!report.keys.decomposed.is_empty());
    assert_eq!(
        rotations(&small),
        rotations(&full) + report.keys.extra_rotations,
        "each decomposition adds its extra rotations"
    );
    for offset in &report.keys.decomposed {
        assert!(!small.keys.rotations.contains_key(offset));
    }
    assert_same_outputs(&before, &run(&small, &inputs(128), &weights), 1e-9);
    assert_same_outputs(&before, &run(&full, &inputs(128), &weights), 1e-9);
}

#[test]
fn an_impossible_key_budget_is_refused() {
    let (program, _) = conv_program();
    let error = run_passes(program, &options(Some(1))).unwrap_err();
    assert!(
        matches!(&error, PassError::Keys(_)) && error.to_string().contains("budget of 1"),
        "{error}"
    );
}

#[test]
fn offsets_are_canonical_and_keys_capped_at_their_levels() {
    let mut b = Builder::new();
    let x = b
        .input(io("x"), Type::cipher(3, Scale::pow2(40), 16))
        .unwrap();
    // 15 and -1 are the same rotation on 16 slots; 9 is -7.
    let r = b.rotate_hoisted(x, vec![15, 9, 2]).unwrap();
    let s = b.rotate(x, -1).unwrap();
    let low = b.level_down(r[2], 1).unwrap();
    let t = b.rotate(low, 2).unwrap();
    let t = b.level_down(t, 0).unwrap();
    let sum = b.add(r[0], s).unwrap();
    let sum = b.add(sum, r[1]).unwrap();
    let sum = b.level_down(sum, 0).unwrap();
    let y = b.add(sum, t).unwrap();
    b.output(y, io("y")).unwrap();
    let program = b.finish();
    let before = run(&program, &inputs(16), &HashedPlaintexts);
    let (keyed, report) = select_keys(program, None).unwrap();
    verify(&keyed).unwrap();
    assert_eq!(report.keys_before, 4);
    let caps: Vec<(i32, u32)> = keyed.keys.rotations.iter().map(|(&k, &c)| (k, c)).collect();
    assert_eq!(caps, [(-7, 3), (-1, 3), (2, 3)]);
    assert_same_outputs(&before, &run(&keyed, &inputs(16), &HashedPlaintexts), 0.0);
}

/// Every value but the outputs is freed exactly once, after its last use.
fn check_frees(program: &Program) {
    let outputs: Vec<Value> = program.outputs().map(|(_, v)| v).collect();
    let mut freed: HashMap<Value, usize> = HashMap::new();
    let mut last_use: HashMap<Value, usize> = HashMap::new();
    for (position, (_, data)) in program.instructions().enumerate() {
        if data.opcode == Opcode::Free {
            *freed.entry(data.args[0]).or_insert(0) += 1;
            assert!(last_use[&data.args[0]] < position);
            continue;
        }
        for &v in data.args.iter().chain(&data.results) {
            assert!(!freed.contains_key(&v), "{v} used after its free");
            last_use.insert(v, position);
        }
    }
    for v in last_use.keys() {
        let expected = usize::from(!outputs.contains(v));
        assert_eq!(freed.get(v).copied().unwrap_or(0), expected, "{v}");
    }
}

#[test]
fn frees_follow_last_uses_and_the_peak_matches_a_hand_count() {
    // x, then two independent products of x by plaintexts, summed: at most x, one plaintext
    // and two ciphertexts are live at once (before the sum frees its operands).
    let mut b = Builder::new();
    let x = b
        .input(io("x"), Type::cipher(1, Scale::pow2(40), 8))
        .unwrap();
    let w1 = b
        .plain(Recipe::new("w1"), Type::plain(1, Scale::prime(1), 8))
        .unwrap();
    let w2 = b
        .plain(Recipe::new("w2"), Type::plain(1, Scale::prime(1), 8))
        .unwrap();
    let p1 = b.mul_plain(x, w1).unwrap();
    let p2 = b.mul_plain(x, w2).unwrap();
    let y = b.add(p1, p2).unwrap();
    b.output(y, io("y")).unwrap();
    let program = b.finish();
    let model = MemoryModel {
        ring_degree: 16,
        top_level: 1,
        dnum: 1,
        special_primes: 1,
        ..MemoryModel::default()
    };
    let (scheduled, report) = schedule(program.clone(), &model);
    verify(&scheduled).unwrap();
    check_frees(&scheduled);
    let ct = model.ciphertext_bytes(1);
    let pt = model.plaintext_bytes(1);
    // Greedy order: x, w1, p1 (w1 freed), w2, p2 (w2 and x freed), y (p1, p2 freed). Peak
    // just after p2: x + w2 + p1 + p2.
    assert_eq!(report.peak_value_bytes, 3 * ct + pt);
    assert_eq!(report.key_bytes, 0);
    assert_eq!(report.frees, 5);
    assert_same_outputs(
        &run(&program, &inputs(8), &HashedPlaintexts),
        &run(&scheduled, &inputs(8), &HashedPlaintexts),
        0.0,
    );
}

#[test]
fn the_memory_budget_trades_keys_or_is_refused_by_name() {
    let (program, weights) = conv_program();
    let (_, free_run) = run_passes(program.clone(), &options(None)).unwrap();
    let peak = free_run.schedule.peak_bytes;
    assert!(free_run.schedule.key_bytes > 0);
    // A budget just under the peak: fewer keys make it fit.
    let tight = PassOptions {
        memory_budget: Some(peak - 1),
        ..options(None)
    };
    let (fitted, report) = run_passes(program.clone(), &tight).unwrap();
    assert!(report.key_budget_retries > 0);
    assert!(report.schedule.peak_bytes < peak);
    // The program carries the prediction of the schedule it was given, not the first try's.
    assert_eq!(
        fitted.meta.predicted_peak_bytes,
        Some(report.schedule.peak_bytes)
    );
    assert!(report.keys.keys_after < free_run.keys.keys_after);
    check_frees(&fitted);
    assert_same_outputs(
        &run(&program, &inputs(128), &weights),
        &run(&fitted, &inputs(128), &weights),
        1e-9,
    );
    // A budget below what the values alone need: refused, naming the budget.
    let impossible = PassOptions {
        memory_budget: Some(1000),
        ..options(None)
    };
    let error = run_passes(program, &impossible).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("memory budget 1000 bytes not met"),
        "{error}"
    );
}

#[test]
fn dumps_after_each_pass_and_a_small_scheduled_program() {
    let mut b = Builder::new();
    let x = b
        .input(io("x"), Type::cipher(1, Scale::pow2(40), 8))
        .unwrap();
    let w = b
        .plain(Recipe::new("w"), Type::plain(1, Scale::prime(1), 8))
        .unwrap();
    let y = b.mul_plain(x, w).unwrap();
    let bias = b
        .plain(
            Recipe::new("bias"),
            Type::plain(1, Scale::pow2(40).with_prime(1, 1), 8),
        )
        .unwrap();
    let y = b.add_plain(y, bias).unwrap();
    let r = b.rotate(y, 7).unwrap();
    let y = b.add(y, r).unwrap();
    let sq = b.mul(y, y).unwrap();
    let half = b
        .mul_const(
            y,
            fhec_ir::ScaledConst {
                value: 0.5,
                scale: Scale::pow2(40),
            },
        )
        .unwrap();
    let lifted = b
        .mul_const(
            half,
            fhec_ir::ScaledConst {
                value: 1.0,
                scale: Scale::pow2(0),
            },
        )
        .unwrap();
    let _ = lifted;
    let z = b.add_const(sq, 0.25).unwrap();
    b.output(z, io("z")).unwrap();
    let program = b.finish();
    let options = PassOptions {
        input_level: Some(4),
        ..PassOptions::default()
    };
    let (scheduled, report, dumps) = run_passes_dumped(program.clone(), &options).unwrap();
    let names: Vec<&str> = dumps.iter().map(|d| d.pass).collect();
    assert_eq!(names, PASS_NAMES);
    assert_eq!(
        dump_after(&dumps, "schedule").unwrap(),
        scheduled.to_string()
    );
    assert!(
        dump_after(&dumps, "all")
            .unwrap()
            .contains("; after keys\n")
    );
    assert_eq!(dump_after(&dumps, "lower"), None);
    assert_same_outputs(
        &run(&program, &inputs(8), &HashedPlaintexts),
        &run(&scheduled, &inputs(8), &HashedPlaintexts),
        1e-12,
    );
    assert_eq!(
        report.levels.dead, 2,
        "the unused halving and its lift are dropped"
    );
    insta::assert_snapshot!(format!(
        "; levels {:?}\n; keys {:?}\n; peak {} bytes\n{scheduled}",
        report.levels, report.keys, report.schedule.peak_bytes
    ));
}
