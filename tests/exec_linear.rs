//! Every linear operation kind lowered by the compiler, verified, run on the clear backend and
//! compared with a straightforward tensor computation on random tensors and weights.

#[path = "../compiler/tests/linear_support/mod.rs"]
mod linear_support;

use fhec_compiler::linear::{LinearMap, MapKind, WeightPlaintexts, Weights, plan_with};
use fhec_ir::{Program, verify};
use fhec_runtime::exec::{ClearBackend, run};
use linear_support::{Rng, cases, lower, lower_with, weights};
use std::collections::BTreeMap;

/// The operation computed directly on the row-major `[C, H, W]` tensor `x`.
fn reference(map: &LinearMap, x: &[f64], w: &Weights) -> Vec<f64> {
    let [c, h, wd] = map.from().shape();
    let [co, oh, ow] = map.to().shape();
    let at = |ch: usize, y: i64, xx: i64| -> f64 {
        if y < 0 || xx < 0 || y >= h as i64 || xx >= wd as i64 {
            0.0
        } else {
            x[(ch * h + y as usize) * wd + xx as usize]
        }
    };
    let weight = |name: &str| -> Vec<f64> { w[name].iter().map(|&v| f64::from(v)).collect() };
    let mut out = vec![0.0; co * oh * ow];
    match map.op().kind {
        MapKind::Conv2d {
            kernel,
            stride,
            padding,
            groups,
            ..
        } => {
            let (kernel_w, bias) = (weight("w"), weight("b"));
            let (cin_g, cout_g) = (c / groups, co / groups);
            for o in 0..co {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = bias[o];
                        for cl in 0..cin_g {
                            let ci = (o / cout_g) * cin_g + cl;
                            for ky in 0..kernel[0] {
                                for kx in 0..kernel[1] {
                                    let iy = (oy * stride[0] + ky) as i64 - padding[0] as i64;
                                    let ix = (ox * stride[1] + kx) as i64 - padding[1] as i64;
                                    let k = ((o * cin_g + cl) * kernel[0] + ky) * kernel[1] + kx;
                                    acc += kernel_w[k] * at(ci, iy, ix);
                                }
                            }
                        }
                        out[(o * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        MapKind::AvgPool {
            kernel,
            stride,
            padding,
        } => {
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0;
                        for ky in 0..kernel[0] {
                            for kx in 0..kernel[1] {
                                let iy = (oy * stride[0] + ky) as i64 - padding[0] as i64;
                                let ix = (ox * stride[1] + kx) as i64 - padding[1] as i64;
                                acc += at(ch, iy, ix);
                            }
                        }
                        out[(ch * oh + oy) * ow + ox] = acc / (kernel[0] * kernel[1]) as f64;
                    }
                }
            }
        }
        MapKind::GlobalAvgPool => {
            for (ch, value) in out.iter_mut().enumerate() {
                *value = x[ch * h * wd..(ch + 1) * h * wd].iter().sum::<f64>() / (h * wd) as f64;
            }
        }
        MapKind::Gemm { out_features } => {
            let (matrix, bias) = (weight("w"), weight("b"));
            for o in 0..out_features {
                out[o] = bias[o]
                    + (0..x.len())
                        .map(|f| matrix[o * x.len() + f] * x[f])
                        .sum::<f64>();
            }
        }
        MapKind::Relayout => out.copy_from_slice(x),
    }
    out
}

/// Runs `program` (lowered from `map`) on a random tensor and compares every output slot
/// (elements, replicas and zeros) with the tensor computation, to 1e-9 relative.
fn check_run(name: &str, map: &LinearMap, program: &Program, seed: u64) {
    verify(program).unwrap_or_else(|e| panic!("{name}: {e}"));
    let w = weights(map, seed + 100);
    let x = Rng::new(seed + 1).vec(map.from().elements());
    let inputs: BTreeMap<String, Vec<f64>> = map
        .from()
        .pack(&x)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!("x{i}"), v))
        .collect();
    let source = WeightPlaintexts::new(w.clone());
    let outputs = run(program, &mut ClearBackend, inputs, &source).unwrap();
    assert_eq!(outputs.len(), map.to().cts(), "{name}");
    let expected = reference(map, &x, &w);
    let tolerance = 1e-9 * expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let expected_slots = map.to().pack(&expected).unwrap();
    for (o, e) in expected_slots.iter().enumerate() {
        for (slot, (a, b)) in outputs[&format!("y{o}")].iter().zip(e).enumerate() {
            assert!(
                (a - b).abs() <= tolerance,
                "{name}: ct {o} slot {slot}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn every_linear_kind_matches_the_tensor_computation() {
    for (seed, (name, map)) in cases().into_iter().enumerate() {
        let (program, _) = lower(&map);
        check_run(name, &map, &program, seed as u64);
    }
}

#[test]
fn every_baby_step_count_gives_the_same_result() {
    for (seed, (name, map)) in cases().into_iter().enumerate() {
        let set = map.diagonals().unwrap();
        let p = set.in_period;
        for b in [1, 2, 3, 5, p / 2, p - 1, p, set.slots] {
            let plan = plan_with(&set, b.clamp(1, set.slots)).unwrap();
            let (program, _) = lower_with(&map, Some(plan));
            check_run(&format!("{name} with b = {b}"), &map, &program, seed as u64);
        }
    }
}

#[test]
fn different_weights_change_the_result_of_the_same_program() {
    let (_, map) = cases().remove(0);
    let (program, _) = lower(&map);
    let x = Rng::new(5).vec(map.from().elements());
    let inputs = || -> BTreeMap<String, Vec<f64>> {
        BTreeMap::from([("x0".to_string(), map.from().pack(&x).unwrap().remove(0))])
    };
    let first = WeightPlaintexts::new(weights(&map, 1));
    let second = WeightPlaintexts::new(weights(&map, 2));
    let a = run(&program, &mut ClearBackend, inputs(), &first).unwrap();
    let b = run(&program, &mut ClearBackend, inputs(), &second).unwrap();
    let expected = reference(&map, &x, &weights(&map, 2));
    assert_ne!(a["y0"], b["y0"]);
    let got = map.to().unpack(&[b["y0"].clone()]).unwrap();
    assert!(got.iter().zip(&expected).all(|(g, e)| (g - e).abs() < 1e-9));
}
