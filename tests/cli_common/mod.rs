//! Helpers of the CLI tests: run the built `fhec` from the repository root, and name the
//! shipped sample data (or the full data set, for the ignored tests that need it).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fhec_compiler::data::{DATA_ENV_VAR, DataDirSearch};
use fhec_compiler::weights::{WeightTensor, write_safetensors};

/// The repository root, where `models/` is and from where `../shared/data` is looked up.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample shipped in the repository (`models/sample`): 100 test images, the ResNet-20
/// weights and reference logits. Tests name it with `--data`, so they check the same thing
/// whatever lies beside the repository.
pub fn sample_data() -> PathBuf {
    repo_root().join("models/sample")
}

/// The full data set (`FHEC_DATA`, else `../shared/data`), for the ignored tests that need
/// the training batch or all 10,000 test images; panics saying how to provide it.
pub fn full_data() -> PathBuf {
    let search = DataDirSearch::new(None, std::env::var_os(DATA_ENV_VAR), repo_root());
    let dir = search.resolve().unwrap_or_else(|error| {
        panic!("this test needs the full CIFAR-10 data (`fhec data fetch DIR`): {error}")
    });
    assert!(
        dir.join("cifar10/data_batch_1.bin").exists(),
        "{}: no cifar10/data_batch_1.bin (`fhec data fetch DIR`)",
        dir.display()
    );
    dir
}

/// Runs `fhec args...` in `dir`.
pub fn fhec_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fhec"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run fhec")
}

/// Runs `fhec args...` from the repository root.
pub fn fhec(args: &[&str]) -> Output {
    fhec_in(&repo_root(), args)
}

/// Stdout of a successful run; panics with stderr otherwise.
pub fn success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "fhec failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

/// Stderr of a failed run; panics if it succeeded.
pub fn failure(output: &Output) -> String {
    assert!(!output.status.success(), "fhec unexpectedly succeeded");
    String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr")
}

/// Writes `tiny.ron` (conv 3→2, ReLU, global average pool, fully connected 2→10) with weights
/// scaled by `scale`.
pub fn write_tiny_model(dir: &Path, scale: f32) {
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
pub fn write_training_batch(dir: &Path, images: usize) {
    let mut bytes = Vec::with_capacity(images * 3073);
    for image in 0..images {
        bytes.push((image % 10) as u8);
        bytes.extend((0..3072).map(|p| ((p * 7 + image * 131) % 256) as u8));
    }
    std::fs::create_dir_all(dir.join("cifar10")).unwrap();
    std::fs::write(dir.join("cifar10/data_batch_1.bin"), bytes).unwrap();
}

/// A scratch directory with `tiny.ron` (weights scale 1), an 8-image training batch in
/// `train/` and the model's calibration record measured on it.
pub fn calibrated_tiny_model() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path(), 1.0);
    write_training_batch(&dir.path().join("train"), 8);
    success(&fhec_in(
        dir.path(),
        &["calibrate", "tiny.ron", "--calibrate", "train"],
    ));
    dir
}
