//! Calibration records: `fhec calibrate` writes one beside the model, `fhec compile` uses it
//! (and says so) to give byte for byte the program a fresh calibration gives, and refuses a
//! record made for other weights or an unreadable one, naming the file. On a tiny CIFAR-sized
//! model with a synthetic training batch; the ignored test checks the shipped ResNet-20 record
//! against the full training batch.

mod cli_common;

use std::path::Path;

use cli_common::{failure, fhec, fhec_in, full_data, success};
use fhec_compiler::weights::{WeightTensor, write_safetensors};

/// Writes `tiny.ron` (conv 3→2, ReLU, global average pool, fully connected 2→10) with weights
/// scaled by `scale`.
fn write_tiny_model(dir: &Path, scale: f32) {
    std::fs::write(
        dir.join("tiny.ron"),
        r#"Model(name: "tiny", weights: ModelDir("tiny.safetensors"),
            inputs: [Input(name: "image", shape: [3, 32, 32],
                preprocess: Some(Preprocess(pixel_max: 255.0, mean: [0.5], std: [0.25])))],
            nodes: [
                Node(name: "conv", op: Conv2d(weight: "conv.weight", padding: 1), inputs: ["image"]),
                Node(name: "relu", op: Activation(Relu), inputs: ["conv"]),
                Node(name: "gap", op: GlobalAvgPool, inputs: ["relu"]),
                Node(name: "flat", op: Flatten, inputs: ["gap"]),
                Node(name: "fc", op: Gemm(weight: "fc.weight", trans_b: true), inputs: ["flat"]),
            ],
            output: "fc")"#,
    )
    .unwrap();
    let tensor = |shape: Vec<usize>, seed: usize| {
        let len = shape.iter().product::<usize>();
        WeightTensor {
            shape,
            data: (0..len)
                .map(|i| scale * (((i * 37 + seed) % 19) as f32 / 19.0 - 0.5))
                .collect(),
        }
    };
    write_safetensors(
        &dir.join("tiny.safetensors"),
        &[
            ("conv.weight".into(), tensor(vec![2, 3, 3, 3], 1)),
            ("fc.weight".into(), tensor(vec![10, 2], 5)),
        ],
    )
    .unwrap();
}

/// A data directory whose training batch holds `images` synthetic CIFAR records.
fn write_training_batch(dir: &Path, images: usize) {
    let mut bytes = Vec::with_capacity(images * 3073);
    for image in 0..images {
        bytes.push((image % 10) as u8);
        bytes.extend((0..3072).map(|p| ((p * 7 + image * 131) % 256) as u8));
    }
    std::fs::create_dir_all(dir.join("cifar10")).unwrap();
    std::fs::write(dir.join("cifar10/data_batch_1.bin"), bytes).unwrap();
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn compiling_with_the_record_gives_the_program_a_fresh_calibration_gives() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_tiny_model(root, 1.0);
    write_training_batch(&root.join("train"), 24);
    let measured = fhec_in(
        root,
        &[
            "calibrate",
            "tiny.ron",
            "--calibrate",
            "train",
            "--calibration-images",
            "24",
        ],
    );
    success(&measured);
    assert!(
        stderr(&measured).contains("wrote tiny.calibration.ron"),
        "{}",
        stderr(&measured)
    );
    let record = std::fs::read_to_string(root.join("tiny.calibration.ron")).unwrap();
    assert!(record.contains(r#"model: "tiny""#), "{record}");
    assert!(record.contains("images: 24"), "{record}");

    let with_record = fhec_in(root, &["compile", "tiny.ron", "-o", "a.ron"]);
    success(&with_record);
    let notes = stderr(&with_record);
    assert!(
        notes.contains("calibration: tiny.calibration.ron (24 images of cifar10/data_batch_1.bin)"),
        "{notes}"
    );
    assert!(notes.contains("wrote a.ron ("), "{notes}");
    let fresh = fhec_in(
        root,
        &[
            "compile",
            "tiny.ron",
            "-o",
            "b.ron",
            "--calibrate",
            "train",
            "--calibration-images",
            "24",
        ],
    );
    success(&fresh);
    assert!(stderr(&fresh).contains("calibration: measured on 24 images"));
    let a = std::fs::read(root.join("a.ron")).unwrap();
    let b = std::fs::read(root.join("b.ron")).unwrap();
    assert!(
        a == b,
        "the record and a fresh calibration compile differently"
    );

    // Fewer images measure other ranges, hence (here) another program: the comparison above
    // can fail.
    success(&fhec_in(
        root,
        &[
            "compile",
            "tiny.ron",
            "-o",
            "c.ron",
            "--calibrate",
            "train",
            "--calibration-images",
            "3",
        ],
    ));
    assert!(std::fs::read(root.join("c.ron")).unwrap() != a);
}

#[test]
fn a_stale_or_unreadable_record_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_tiny_model(root, 1.0);
    write_training_batch(&root.join("train"), 8);
    success(&fhec_in(
        root,
        &["calibrate", "tiny.ron", "--calibrate", "train"],
    ));
    // Other weights, same architecture: the recorded ranges no longer describe the model.
    write_tiny_model(root, 2.0);
    let message = failure(&fhec_in(root, &["compile", "tiny.ron", "-o", "p.ron"]));
    assert!(
        message.contains("tiny.calibration.ron: stale") && message.contains("fhec calibrate"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(!root.join("p.ron").exists());
    // Recalibrating on request works without touching the record.
    success(&fhec_in(
        root,
        &["compile", "tiny.ron", "-o", "p.ron", "--calibrate", "train"],
    ));

    std::fs::write(root.join("tiny.calibration.ron"), "(model: 3").unwrap();
    let message = failure(&fhec_in(root, &["compile", "tiny.ron", "-o", "p.ron"]));
    assert!(
        message.starts_with("error: tiny.calibration.ron: not a calibration record"),
        "{message}"
    );
}

/// The shipped ResNet-20 record equals a fresh calibration on the full training batch: both
/// compile to the same program. Needs `cifar10/data_batch_1.bin` (30 MB, not shipped).
#[test]
#[ignore = "needs the full CIFAR-10 training batch (FHEC_DATA or ../shared/data)"]
fn the_shipped_resnet20_record_matches_a_fresh_calibration() {
    let data = full_data();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.ron"), dir.path().join("b.ron"));
    let data = data.to_str().unwrap();
    let model = "models/resnet20.ron";
    success(&fhec(&[
        "compile",
        model,
        "--data",
        data,
        "-o",
        a.to_str().unwrap(),
    ]));
    success(&fhec(&[
        "compile",
        model,
        "--data",
        data,
        "--calibrate",
        data,
        "-o",
        b.to_str().unwrap(),
    ]));
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "models/resnet20.calibration.ron is stale: `fhec calibrate models/resnet20.ron`"
    );
}
