//! Baby-step giant-step plans (counts checked against hand-computed cases) and emission to
//! the IR: every case verifies, its instruction counts are the plan's, nothing is rescaled,
//! and the dump of one small convolution is pinned.

mod linear_support;

use fhec_compiler::linear::{DiagonalSet, LinearMap, emit, fold, plan, plan_with};
use fhec_ir::{Builder, Opcode, Program, Scale, Type, verify};
use linear_support::{cases, conv, layout};
use linear_support::{io, lower};
use std::collections::{BTreeMap, BTreeSet, HashSet};

fn single_block(n: usize, diagonals: &[i64]) -> DiagonalSet {
    DiagonalSet {
        slots: n,
        in_period: n,
        in_cts: 1,
        out_cts: 1,
        blocks: BTreeMap::from([((0, 0), diagonals.iter().copied().collect::<BTreeSet<_>>())]),
    }
}

#[test]
fn three_diagonals_need_two_rotations() {
    let set = single_block(16, &[-1, 0, 1]);
    // b = 1: giant steps -1 and 1. b = 2: baby 1, giant -2 (for -1 = -2 + 1). b = 3: baby 1
    // and 2, giant -3.
    let counts: Vec<usize> = (1..=3)
        .map(|b| plan_with(&set, b).unwrap().cost.rotations())
        .collect();
    assert_eq!(counts, [2, 2, 3]);
    // b = 16 (the period) also needs two, both hoisted baby steps: -1 = -16 + 15 and the
    // giant step -16 is no rotation at all. Hoisted rotations are cheaper, so it wins the tie.
    assert_eq!(plan_with(&set, 16).unwrap().cost.rotations(), 2);
    let best = plan(&set);
    assert_eq!(best.baby_steps, 16, "ties go to fewer giant rotations");
    assert_eq!(best.baby, [vec![1, 15]]);
    let offsets: Vec<i64> = best.giant[0].iter().map(|g| g.offset).collect();
    assert_eq!(offsets, [0]);
    assert_eq!((best.cost.mul_plain, best.cost.additions), (3, 2));
}

#[test]
fn conv_stencil_counts_by_hand() {
    // The 3x3 stencil on a 4-wide plane: d = 4·dy + dx.
    let set = single_block(64, &[-5, -4, -3, -1, 0, 1, 3, 4, 5]);
    let four = plan_with(&set, 4).unwrap();
    assert_eq!(four.baby, [vec![1, 3]]);
    let giants: Vec<i64> = four.giant[0].iter().map(|g| g.offset).collect();
    assert_eq!(giants, [-8, -4, 0, 4]);
    assert_eq!(
        (four.cost.hoisted_rotations, four.cost.giant_rotations),
        (2, 3)
    );
    assert_eq!(plan_with(&set, 1).unwrap().cost.rotations(), 8);
    assert_eq!(plan_with(&set, 2).unwrap().cost.rotations(), 6);
    // b = 3 and b = 4 both need 5 (2 baby + 3 giant); the smaller wins the tie.
    let best = plan(&set);
    assert_eq!((best.baby_steps, best.cost.rotations()), (3, 5));
    assert!(plan_with(&set, 0).is_err() && plan_with(&set, 65).is_err());
}

/// Key switches of a split counted independently of the planner.
fn brute_force(set: &DiagonalSet, b: usize) -> usize {
    let mut baby = HashSet::new();
    let mut giant = HashSet::new();
    for (&(o, i), diagonals) in &set.blocks {
        for &d in diagonals {
            let beta = d.rem_euclid(b as i64);
            if beta != 0 {
                baby.insert((i, beta));
            }
            let g = fold(d - beta, set.slots);
            if g != 0 {
                giant.insert((o, g));
            }
        }
    }
    baby.len() + giant.len()
}

#[test]
fn the_plan_is_the_cheapest_split() {
    for (name, map) in cases() {
        let set = map.diagonals().unwrap();
        let best = plan(&set);
        let minimum = (1..=set.in_period)
            .map(|b| brute_force(&set, b))
            .min()
            .unwrap();
        assert_eq!(best.cost.rotations(), minimum, "{name}");
        assert_eq!(best.cost.mul_plain, set.count(), "{name}");
        for (o, steps) in best.giant.iter().enumerate() {
            for step in steps {
                for term in &step.terms {
                    assert_eq!(fold(step.offset + term.baby - term.diagonal, set.slots), 0);
                    assert!(set.blocks[&(o, term.in_ct)].contains(&term.diagonal));
                }
            }
        }
    }
}

fn count(program: &Program, opcode: Opcode) -> usize {
    program
        .instructions()
        .filter(|(_, d)| d.opcode == opcode)
        .count()
}

#[test]
fn emitted_programs_verify_and_match_their_plan() {
    for (name, map) in cases() {
        let (program, lowered) = lower(&map);
        verify(&program).unwrap_or_else(|e| panic!("{name}: {e}\n{program}"));
        let cost = lowered.plan.cost;
        let rotations: usize = program
            .instructions()
            .map(|(_, d)| match d.opcode {
                Opcode::Rotate => 1,
                Opcode::RotateHoisted => d.results.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(rotations, cost.rotations(), "{name}");
        assert_eq!(count(&program, Opcode::MulPlain), cost.mul_plain, "{name}");
        assert_eq!(count(&program, Opcode::Add), cost.additions, "{name}");
        assert_eq!(count(&program, Opcode::Plain), lowered.plaintexts, "{name}");
        assert_eq!(
            count(&program, Opcode::Rescale),
            0,
            "{name}: lowering never rescales"
        );
        let out_type = program.value_type(lowered.outputs[0]).unwrap();
        assert_eq!(
            out_type.to_string(),
            format!("ct<l=1, s=2^40*q1, n={}>", map.from().slots())
        );
    }
}

#[test]
fn inputs_that_do_not_match_the_layout_are_refused() {
    let map = cases().remove(0).1;
    let mut b = Builder::new();
    let x = b
        .input(io("x", map.from()), Type::cipher(1, Scale::pow2(40), 32))
        .unwrap();
    let error = emit(&mut b, &map, &[x], &Scale::prime(1))
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not a ciphertext of 64 slots"), "{error}");
    let error = emit(&mut b, &map, &[x, x], &Scale::prime(1))
        .unwrap_err()
        .to_string();
    assert!(error.contains("has 1 ciphertexts, 2 given"), "{error}");
}

#[test]
fn small_conv_dump() {
    // One channel to two, 3x3, on a 4x4 image: n = 32, the input replicated twice.
    let map = LinearMap::new(
        conv(2, 3, 1, 1, 1),
        layout([1, 4, 4], 32, 1, 1),
        layout([2, 4, 4], 32, 1, 1),
    )
    .unwrap();
    let (program, _) = lower(&map);
    verify(&program).unwrap();
    insta::assert_snapshot!(program.to_string());
}
