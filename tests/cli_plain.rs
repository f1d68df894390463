//! `fhec plain`: accuracy JSON on the first test images, agreement with the reference logits,
//! and the unfolded and imported variants giving the same figures.

mod cli_common;

use cli_common::{failure, fhec, fhec_in, repo_root, sample_data, success};
use serde_json::Value;

fn plain(model: &str, data: &str) -> Value {
    plain_with(model, data, &[])
}

/// `fhec plain` on the first 20 test images with `extra` arguments.
fn plain_with(model: &str, data: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "plain",
        model,
        "--limit",
        "20",
        "--data",
        data,
        "--logits",
        "resnet20/test_logits_f32.bin",
    ];
    args.extend_from_slice(extra);
    let out = success(&fhec(&args));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn plain_reports_accuracy_and_logit_agreement() {
    let data = sample_data();
    let report = plain("models/resnet20.ron", data.to_str().unwrap());
    assert_eq!(report["model"], "resnet20");
    assert_eq!(report["images"], 20);
    assert_eq!(report["approx"], false);
    let correct = report["correct"].as_u64().unwrap();
    assert_eq!(report["accuracy"].as_f64().unwrap(), correct as f64 / 20.0);
    assert!(correct >= 17, "{report}");
    assert!(
        report["max_abs_logit_diff"].as_f64().unwrap() < 1e-3,
        "{report}"
    );
    let recall = report["per_class_recall"].as_object().unwrap();
    let keys: Vec<&str> = recall.keys().map(String::as_str).collect();
    assert_eq!(keys[..3], ["airplane", "automobile", "bird"]);
    assert_eq!(keys.len(), 10);
}

#[test]
fn the_unfolded_and_imported_models_give_the_same_figures() {
    let data = sample_data();
    let data = data.to_str().unwrap();
    let folded = plain("models/resnet20.ron", data);
    let unfolded = plain("models/resnet20_bn.ron", data);
    let dir = tempfile::tempdir().unwrap();
    let ron = dir.path().join("r20.ron");
    let onnx = format!("{data}/resnet20/resnet20.onnx");
    success(&fhec(&[
        "import",
        &onnx,
        "-o",
        ron.to_str().unwrap(),
        "--mean",
        "0.4914,0.4822,0.4465",
        "--std",
        "0.2023,0.1994,0.2010",
    ]));
    assert!(dir.path().join("r20.safetensors").exists());
    let imported = plain(ron.to_str().unwrap(), data);
    for key in ["correct", "per_class_recall", "max_abs_logit_diff"] {
        assert_eq!(folded[key], unfolded[key], "{key}");
        assert_eq!(folded[key], imported[key], "{key}");
    }
}

#[test]
fn f32_and_f64_give_the_same_figures_to_float32_rounding() {
    let data = sample_data();
    let data = data.to_str().unwrap();
    let single = plain("models/resnet20.ron", data);
    let double = plain_with("models/resnet20.ron", data, &["--precision", "f64"]);
    assert_eq!(single["precision"], "f32");
    assert_eq!(double["precision"], "f64");
    for key in ["correct", "per_class_recall"] {
        assert_eq!(single[key], double[key], "{key}");
    }
    // Both are within float32 rounding of PyTorch's float32 logits, and not identical.
    let (a, b) = (
        single["max_abs_logit_diff"].as_f64().unwrap(),
        double["max_abs_logit_diff"].as_f64().unwrap(),
    );
    assert!(a < 1e-4 && b < 1e-4 && a != b, "f32 {a}, f64 {b}");
    let err = failure(&fhec(&[
        "plain",
        "models/resnet20.ron",
        "--precision",
        "f16",
    ]));
    assert!(err.contains("f16") && err.contains("f64"), "{err}");
}

#[test]
fn plain_without_data_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let model = repo_root().join("models/resnet20.ron");
    let err = failure(&fhec_in(
        dir.path(),
        &["plain", model.to_str().unwrap(), "--data", "missing"],
    ));
    assert!(
        err.contains("--data names") && err.contains("missing"),
        "{err}"
    );
}

#[test]
fn plain_counts_the_images_whose_logit_gap_is_small() {
    let data = sample_data();
    let report = plain_with(
        "models/resnet20.ron",
        data.to_str().unwrap(),
        &["--gap-below", "2.5,0.75"],
    );
    // The same counts from PyTorch's float32 logits of the same 20 images.
    let bytes = std::fs::read(data.join("resnet20/test_logits_f32.bin")).unwrap();
    let gaps: Vec<f64> = bytes[..20 * 40]
        .chunks_exact(40)
        .map(|row| {
            let mut logits: Vec<f64> = row
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect();
            logits.sort_by(|a, b| b.total_cmp(a));
            logits[0] - logits[1]
        })
        .collect();
    let gaps_json = &report["logit_gaps"];
    let below = gaps_json["below"].as_object().unwrap();
    for (threshold, key) in [(0.75, "0.75"), (1.0, "1"), (2.5, "2.5")] {
        let expected = gaps.iter().filter(|&&g| g < threshold).count();
        assert_eq!(below[key], expected, "below {key}: {gaps_json}");
    }
    let min = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        (gaps_json["min"].as_f64().unwrap() - min).abs() < 1e-3,
        "{gaps_json}"
    );
    let counts: Vec<u64> = below.values().map(|v| v.as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{gaps_json}");
}
