//! Diagonals of linear maps: the generalised diagonals found from the tensor entries and the
//! layouts reproduce the dense slot matrix on periodic inputs, for every operation kind; recipe
//! materialisation and its errors.

mod linear_support;

use fhec_compiler::layout::Layout;
use fhec_compiler::linear::{
    Coef, LinearMap, LinearOp, MapKind, WeightPlaintexts, bias_recipe, diagonal_recipe, mask_recipe,
};
use fhec_ir::{PlaintextSource, Recipe, Selector};
use linear_support::{Rng, cases, conv, layout, weights};
use std::collections::BTreeSet;

fn coef_value(weights: &[f32]) -> impl Fn(Coef) -> f64 + '_ {
    move |c| match c {
        Coef::Const(v) => v,
        Coef::Weight(i) => f64::from(weights[i]),
    }
}

#[test]
fn diagonals_reproduce_the_dense_matrix() {
    for (name, map) in cases() {
        let w = weights(&map, 7);
        let flat: Vec<f32> = w
            .get("w")
            .map(|t| t.iter().copied().collect())
            .unwrap_or_default();
        let coef = coef_value(&flat);
        let set = map.diagonals().unwrap();
        let (n, p) = (map.from().slots(), map.from().period());
        let mut rng = Rng::new(3);
        for o in 0..set.out_cts {
            for i in 0..set.in_cts {
                let dense = map.dense_block(o, i, &coef).unwrap();
                let diagonals = map.block_diagonals(o, i, |c| Ok(coef(c))).unwrap();
                let keys: BTreeSet<i64> = diagonals.keys().copied().collect();
                assert_eq!(
                    set.blocks.get(&(o, i)).cloned().unwrap_or_default(),
                    keys,
                    "{name}"
                );
                assert!(
                    keys.iter()
                        .all(|&d| -(p as i64) / 2 < d && d <= p as i64 / 2)
                );
                // A random input of the layout's period (garbage in the empty slots too).
                let period: Vec<f64> = rng.vec(p);
                let x: Vec<f64> = (0..n).map(|j| period[j % p]).collect();
                for j in 0..n {
                    let expected: f64 = (0..n).map(|s| dense[j][s] * x[s]).sum();
                    let got: f64 = diagonals
                        .iter()
                        .map(|(&d, v)| v[j] * x[(j as i64 + d).rem_euclid(n as i64) as usize])
                        .sum();
                    assert!(
                        (expected - got).abs() < 1e-12,
                        "{name} block ({o},{i}) row {j}"
                    );
                }
            }
        }
    }
}

#[test]
fn stride_one_conv_has_the_expected_diagonals() {
    // 1 -> 1 channel, 3x3 on 4x4, n = 16: offsets dy*4 + dx for dy, dx in {-1, 0, 1}.
    let map = LinearMap::new(
        conv(1, 3, 1, 1, 1),
        layout([1, 4, 4], 16, 1, 1),
        layout([1, 4, 4], 16, 1, 1),
    )
    .unwrap();
    let set = map.diagonals().unwrap();
    let expected: BTreeSet<i64> = [-5, -4, -3, -1, 0, 1, 3, 4, 5].into();
    assert_eq!(set.blocks[&(0, 0)], expected);
    assert_eq!(set.count(), 9);
}

#[test]
fn mismatched_layouts_are_refused() {
    let op = conv(3, 3, 1, 1, 1);
    let error = LinearMap::new(
        op.clone(),
        layout([2, 4, 4], 64, 1, 1),
        layout([3, 2, 2], 64, 1, 1),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("maps [2, 4, 4] to [3, 4, 4]"), "{error}");
    let error = LinearMap::new(
        op,
        layout([2, 4, 4], 64, 1, 1),
        layout([3, 4, 4], 128, 1, 1),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("64 slots, output layout 128"), "{error}");
    let grouped = conv(3, 3, 1, 1, 2);
    let error = LinearMap::new(
        grouped,
        layout([2, 4, 4], 64, 1, 1),
        layout([3, 4, 4], 64, 1, 1),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("2 groups do not divide"), "{error}");
    let unweighted = LinearOp::fixed(MapKind::Gemm { out_features: 2 });
    let error = LinearMap::new(
        unweighted,
        layout([2, 1, 1], 8, 1, 1),
        layout([2, 1, 1], 8, 1, 1),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("gemm: needs a weight tensor"), "{error}");
}

#[test]
fn recipes_materialise_diagonals_bias_and_masks() {
    let (_, map) = cases().remove(0);
    let source = WeightPlaintexts::new(weights(&map, 11));
    let w = weights(&map, 11);
    let flat: Vec<f32> = w["w"].iter().copied().collect();
    let diagonals = map
        .block_diagonals(0, 0, |c| Ok(coef_value(&flat)(c)))
        .unwrap();
    let (&d, values) = diagonals.iter().nth(2).unwrap();
    let got = source
        .slots(&diagonal_recipe(&map, 0, 0, d, -8), 64)
        .unwrap();
    for j in 0..64 {
        assert_eq!(got[j], values[(j + 64 - 8) % 64], "slot {j} is D[j - 8]");
    }
    let to = map.to();
    let bias = source.slots(&bias_recipe("b", to, 0), 64).unwrap();
    let mask = source.slots(&mask_recipe(to, 0), 64).unwrap();
    for slot in 0..64 {
        match to.element_at(0, slot) {
            Some([c, _, _]) => {
                assert_eq!(bias[slot], f64::from(w["b"][[c]]));
                assert_eq!(mask[slot], 1.0);
            }
            None => assert_eq!((bias[slot], mask[slot]), (0.0, 0.0)),
        }
    }
}

#[test]
fn recipe_errors_name_the_problem() {
    let (_, map) = cases().remove(0);
    let source = WeightPlaintexts::new(weights(&map, 1));
    let error = |recipe: &Recipe, n: usize| source.slots(recipe, n).unwrap_err().to_string();
    let diagonal = diagonal_recipe(&map, 0, 0, 0, 0);
    assert!(error(&diagonal, 32).contains("the layout has 64 slots, the plaintext 32"));
    assert!(error(&diagonal_recipe(&map, 0, 0, 30, 0), 64).contains("diagonal 30 is zero"));
    let renamed = Recipe {
        source: "missing".into(),
        ..diagonal.clone()
    };
    assert!(error(&renamed, 64).contains("weight \"missing\": no such tensor"));
    let unknown = diagonal.clone().with("part", Selector::Str("lut".into()));
    assert!(error(&unknown, 64).contains("unknown part \"lut\""));
    let mut no_block = diagonal.clone();
    no_block.selectors.remove("block");
    assert!(error(&no_block, 64).contains("missing selector block"));
    let bad_layout = diagonal.with("from", Selector::Str("2x4x4 n=64".into()));
    assert!(error(&bad_layout, 64).contains("missing gap="));
    let wrong = WeightPlaintexts::new(weights(&cases().remove(1).1, 1));
    let message = wrong
        .slots(&diagonal_recipe(&map, 0, 0, 0, 0), 64)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("expected shape [3, 2, 3, 3], found [4, 2, 3, 3]"),
        "{message}"
    );
    let other: Layout = layout([3, 4, 4], 64, 1, 1);
    assert!(error(&bias_recipe("b", &other, 1), 64).contains("ciphertext 1 of a layout with 1"));
}

#[test]
fn evicted_maps_are_recomputed_to_the_same_values() {
    // More maps than the cache holds, asked for twice in turn: the second round recomputes
    // the evicted ones and must give the same slots.
    let maps = cases();
    let mut weights_all = fhec_compiler::linear::Weights::new();
    let mut recipes = Vec::new();
    for (k, (_, map)) in maps.iter().enumerate() {
        let renamed = match &map.op().weight {
            Some(_) => {
                let name = format!("w{k}");
                weights_all.insert(name.clone(), weights(map, k as u64)["w"].clone());
                LinearOp {
                    weight: Some(name),
                    bias: None,
                    ..map.op().clone()
                }
            }
            None => map.op().clone(),
        };
        let map = LinearMap::new(renamed, map.from().clone(), map.to().clone()).unwrap();
        let set = map.diagonals().unwrap();
        let (&(o, i), diagonals) = set.blocks.iter().next().unwrap();
        let d = *diagonals.iter().next().unwrap();
        recipes.push((diagonal_recipe(&map, o, i, d, 1), map.from().slots()));
    }
    let source = WeightPlaintexts::new(weights_all);
    let first: Vec<Vec<f64>> = recipes
        .iter()
        .map(|(r, n)| source.slots(r, *n).unwrap())
        .collect();
    let second: Vec<Vec<f64>> = recipes
        .iter()
        .map(|(r, n)| source.slots(r, *n).unwrap())
        .collect();
    assert!(recipes.len() > fhec_compiler::linear::recipes::MAP_CACHE);
    assert_eq!(first, second);
    assert!(first.iter().all(|v| v.iter().any(|&x| x != 0.0)));
}
