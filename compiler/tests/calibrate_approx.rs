//! Calibration records exactly the range each activation saw; the approximated reference
//! agrees with the exact one when the polynomial is accurate (and not when it is not); inputs
//! outside an approximation's interval are counted exactly.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{cifar_resnet, random_tensors, write_weights};
use fhec_compiler::calibrate::{CalibrateError, calibrate};
use fhec_compiler::data::CifarBatch;
use fhec_compiler::frontend::build_graph;
use fhec_compiler::graph::TensorGraph;
use fhec_compiler::model::ModelDescription;
use fhec_compiler::poly::{
    Activation, ActivationApprox, ChooserOptions, InputMap, Interval, PlanObjective,
};
use fhec_compiler::reference::{ApproxActivations, ApproxError, Exact, run_batch_with};
use fhec_compiler::weights::{WeightFile, WeightTensor};

/// Two activation sites whose inputs are known without running the executor: `relu_in` reads
/// the normalised image `x = (p/255 − 0.5)/0.25`, `relu_double` reads `x + x`.
const TWO_SITES: &str = r#"#![enable(implicit_some)]
Model(
    name: "two_sites",
    weights: ModelDir("weights.safetensors"),
    inputs: [Input(name: "image", shape: [3, 32, 32],
        preprocess: Preprocess(pixel_max: 255.0, mean: [0.5], std: [0.25]))],
    nodes: [
        Node(name: "relu_in", op: Activation(Relu), inputs: ["image"]),
        Node(name: "double", op: Add, inputs: ["image", "image"]),
        Node(name: "relu_double", op: Activation(Relu), inputs: ["double"]),
        Node(name: "sum", op: Add, inputs: ["relu_in", "relu_double"]),
        Node(name: "gap", op: GlobalAvgPool, inputs: ["sum"]),
        Node(name: "flat", op: Flatten, inputs: ["gap"]),
        Node(name: "fc", op: Gemm(weight: "fc.weight", bias: "fc.bias", trans_b: true),
             inputs: ["flat"]),
    ],
    output: "fc",
)"#;

fn build(dir: &Path, ron: &str, tensors: &[(String, WeightTensor)]) -> TensorGraph {
    let model_path = dir.join("model.ron");
    let desc = ModelDescription::from_ron(ron, &model_path).expect("parse");
    let weights =
        WeightFile::load(&write_weights(dir, "weights.safetensors", tensors)).expect("load");
    build_graph(&desc, &model_path, &weights).expect("build graph")
}

fn two_sites(dir: &Path) -> TensorGraph {
    let specs = [
        ("fc.weight".to_owned(), vec![10, 3]),
        ("fc.bias".to_owned(), vec![10]),
    ];
    build(dir, TWO_SITES, &random_tensors(3, &specs))
}

/// `images` CIFAR records whose pixels are the bytes of a 64-bit LCG seeded with `seed`.
fn batch(seed: u64, images: usize) -> CifarBatch {
    let mut state = seed;
    let mut bytes = Vec::with_capacity(images * 3073);
    for image in 0..images {
        bytes.push((image % 10) as u8);
        for _ in 0..3072 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            bytes.push((state >> 56) as u8);
        }
    }
    CifarBatch::from_bytes(&bytes, Path::new("synthetic.bin"), None).expect("valid batch")
}

/// The normalised pixel, in the executor's f32 operation order.
fn normalised(pixel: u8) -> f32 {
    (f32::from(pixel) / 255.0 - 0.5) / 0.25
}

#[test]
fn calibration_records_exactly_the_min_and_max_seen() {
    let dir = tempfile::tempdir().unwrap();
    let graph = two_sites(dir.path());
    let data = batch(11, 8);
    // Images 2..6 only: the extremes of the other images must not leak in.
    let cal = calibrate(&graph, &data, Path::new("synthetic.bin"), 2..6, &|| ()).unwrap();
    assert_eq!(
        (cal.first, cal.images, cal.source.as_str()),
        (2, 4, "synthetic.bin")
    );
    let xs: Vec<f32> = (2..6)
        .flat_map(|i| data.image(i).iter().map(|&p| normalised(p)))
        .collect();
    let min = xs.iter().copied().fold(f32::INFINITY, f32::min);
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let site = cal.sites["relu_in"];
    assert_eq!((site.min, site.max), (f64::from(min), f64::from(max)));
    assert_eq!(site.max_abs, f64::from(min.abs().max(max.abs())));
    assert_eq!(site.count, 4 * 3072);
    let doubled = cal.sites["relu_double"];
    assert_eq!((doubled.min, doubled.max), (2.0 * site.min, 2.0 * site.max));
    assert!(site.abs_percentile <= site.max_abs && site.abs_percentile > 0.9 * site.max_abs);
    assert_eq!(cal.sites.len(), 2);
    // The calibration round-trips through serde (it is kept with the compiled program).
    let text = serde_json::to_string(&cal).unwrap();
    assert_eq!(
        serde_json::from_str::<fhec_compiler::calibrate::Calibration>(&text).unwrap(),
        cal
    );
}

#[test]
fn calibration_refuses_an_empty_or_too_long_image_range() {
    let dir = tempfile::tempdir().unwrap();
    let graph = two_sites(dir.path());
    let data = batch(1, 3);
    for range in [0..0, 1..4] {
        let err = calibrate(&graph, &data, Path::new("synthetic.bin"), range, &|| ()).unwrap_err();
        assert!(
            matches!(err, CalibrateError::Images { available: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("synthetic.bin"), "{err}");
    }
}

/// Options that force Chebyshev interpolants of one degree.
fn degree(degree: usize) -> ChooserOptions {
    ChooserOptions {
        chebyshev_degrees: vec![degree],
        sign_families: vec![],
        max_depth: u32::MAX,
        ..ChooserOptions::default()
    }
}

/// Largest |approx − exact| over all logits of images 0..4 of a small random-weight ResNet,
/// relative to the largest |exact logit|, with every activation interpolated at `d` on its
/// calibrated range.
fn resnet_logit_gap(d: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let (ron, specs) = cifar_resnet(1, 4, 32);
    let graph = build(dir.path(), &ron, &random_tensors(5, &specs));
    let data = batch(7, 8);
    let cal = calibrate(&graph, &data, Path::new("synthetic.bin"), 4..8, &|| ()).unwrap();
    let choices = cal.choose(&graph, &degree(d)).unwrap();
    assert_eq!(choices.len(), 7, "stem + 2 per block × 3 blocks");
    let approximations: BTreeMap<String, ActivationApprox> =
        choices.into_iter().map(|(k, c)| (k, c.approx)).collect();
    let mode = ApproxActivations::new(&graph, &approximations).unwrap();
    let (approx, _) = run_batch_with(&graph, &data, 0..4, &mode, &|| ()).unwrap();
    let (exact, ()) = run_batch_with(&graph, &data, 0..4, &Exact, &|| ()).unwrap();
    let scale = exact
        .iter()
        .flatten()
        .map(|v| f64::from(v.abs()))
        .fold(0.0, f64::max);
    let gap = approx
        .iter()
        .flatten()
        .zip(exact.iter().flatten())
        .map(|(a, b)| f64::from((a - b).abs()))
        .fold(0.0, f64::max);
    gap / scale
}

#[test]
fn approx_mode_at_a_high_degree_agrees_with_the_exact_model() {
    let accurate = resnet_logit_gap(1023);
    let crude = resnet_logit_gap(7);
    assert!(
        accurate < 1e-3,
        "degree 1023: logits differ by {accurate} relative"
    );
    // The comparison can fail: a crude polynomial is visibly off.
    assert!(crude > 10.0 * accurate, "degree 7 differs by {crude} only");
}

#[test]
fn inputs_outside_the_interval_are_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let graph = two_sites(dir.path());
    let data = batch(23, 3);
    let on = |lo: f64, hi: f64| {
        ActivationApprox::chebyshev(
            Activation::Relu,
            Interval { lo, hi },
            63,
            PlanObjective::LeastDepth,
            InputMap::Emitted,
        )
        .unwrap()
    };
    // `relu_in` sees x in [−2, 2]: |x| > 1 iff the pixel is below 63.75 or above 191.25.
    let approximations = BTreeMap::from([
        ("relu_in".to_owned(), on(-1.0, 1.0)),
        ("relu_double".to_owned(), on(-4.5, 4.5)),
    ]);
    let mode = ApproxActivations::new(&graph, &approximations).unwrap();
    let (_, reports) = run_batch_with(&graph, &data, 0..3, &mode, &|| ()).unwrap();
    let pixels: Vec<u8> = (0..3).flat_map(|i| data.image(i).to_vec()).collect();
    let outside = pixels.iter().filter(|&&p| !(64..=191).contains(&p)).count() as u64;
    let worst = pixels
        .iter()
        .map(|&p| f64::from(normalised(p).abs()))
        .fold(0.0, f64::max);
    assert!(outside > 0);
    assert_eq!((reports[0].total, reports[0].outside), (3 * 3072, outside));
    assert_eq!(reports[0].worst_ratio, worst);
    assert_eq!((reports[1].total, reports[1].outside), (3 * 3072, 0));
    assert_eq!(reports[1].worst_ratio, 2.0 * worst / 4.5);
}

#[test]
fn approx_mode_refuses_missing_stray_and_mismatched_approximations() {
    let dir = tempfile::tempdir().unwrap();
    let graph = two_sites(dir.path());
    let relu = |bound: f64| {
        ActivationApprox::chebyshev(
            Activation::Relu,
            Interval {
                lo: -bound,
                hi: bound,
            },
            15,
            PlanObjective::LeastDepth,
            InputMap::Folded,
        )
        .unwrap()
    };
    let mut approximations = BTreeMap::from([("relu_in".to_owned(), relu(2.0))]);
    let err = ApproxActivations::new(&graph, &approximations).unwrap_err();
    assert!(
        matches!(&err, ApproxError::Missing { node } if node == "relu_double"),
        "{err}"
    );
    approximations.insert("relu_double".to_owned(), relu(4.0));
    approximations.insert("gap".to_owned(), relu(1.0));
    let err = ApproxActivations::new(&graph, &approximations).unwrap_err();
    assert!(
        matches!(&err, ApproxError::NotAnActivation { node } if node == "gap"),
        "{err}"
    );
    approximations.remove("gap");
    let mut tanh = relu(4.0);
    tanh.activation = Activation::Tanh;
    approximations.insert("relu_double".to_owned(), tanh);
    let err = ApproxActivations::new(&graph, &approximations).unwrap_err();
    assert!(err.to_string().contains("relu_double"), "{err}");
}
