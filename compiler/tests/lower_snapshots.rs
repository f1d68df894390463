//! Snapshots of the lowered IR (the unscheduled program) of small models: one convolution,
//! and one residual block with degree-7 ReLUs; and of that block scheduled for `N16_BOOT`
//! (levels, rescales, bootstraps, key caps, frees). Any change in layouts, diagonals, BSGS
//! plans, factors, polynomial emission or the passes shows up here for review.

mod lower_support;

use fhec_compiler::lower::{CompileOptions, ScheduleOptions, compile};
use fhec_compiler::stats::program_stats;
use lower_support::{approximations, one_conv, relu, residual_block};
use std::collections::BTreeMap;

#[test]
fn one_conv_dump() {
    let graph = one_conv();
    let compiled = compile(&graph, &BTreeMap::new(), &CompileOptions::default()).unwrap();
    assert_eq!(compiled.layouts.slots, 32, "2·4·4 elements need 32 slots");
    insta::assert_snapshot!(compiled.program.to_string());
}

#[test]
fn residual_block_dump() {
    let graph = residual_block();
    let approx = approximations(&graph, &relu(16.0, 7));
    let compiled = compile(&graph, &approx, &CompileOptions::default()).unwrap();
    let text = compiled.program.to_string();
    // The range normalisation is folded: the client packs x/B for the residual path, conv2
    // writes x/B, so no constant product appears before the second activation.
    let stats = program_stats(&compiled.program, &compiled.layers, &compiled.inst_layers);
    let add = stats.layers.iter().find(|l| l.name == "add").unwrap();
    assert_eq!((add.counts.mul_const, add.counts.additions), (0, 1));
    insta::assert_snapshot!(text);
}

#[test]
fn residual_block_scheduled_dump() {
    let graph = residual_block();
    let approx = approximations(&graph, &relu(16.0, 7));
    let options = CompileOptions {
        schedule: Some(ScheduleOptions::default()),
        ..CompileOptions::default()
    };
    let compiled = compile(&graph, &approx, &options).unwrap();
    let report = compiled.report.as_ref().unwrap();
    // Two degree-7 ReLUs (3 levels each) and three linear layers fit in the 10 circuit
    // levels N16_BOOT leaves: no bootstrap.
    assert_eq!(report.levels.bootstraps, 0);
    assert!(report.levels.rescales > 0);
    fhec_ir::verify(&compiled.program).unwrap();
    insta::assert_snapshot!(compiled.program.to_string());
}
