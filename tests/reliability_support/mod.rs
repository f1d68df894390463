//! A tiny linear CIFAR-10 program (average pool → flatten → gemm) compiled through the command
//! line for the **INSECURE** test preset `test-n12` (tests only): keygen, encrypt, eval and
//! decrypt each take a fraction of a second, so every bad input gets its own case.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};

use fhec_compiler::weights::{WeightTensor, write_safetensors};

use crate::cli_common::{fhec_in, success};

/// The model: no activation, so no calibration data and no bootstrap.
pub const MODEL: &str = r#"#![enable(implicit_some)]
Model(
    name: "lin",
    weights: ModelDir("lin.safetensors"),
    inputs: [Input(name: "image", shape: [3, 32, 32], preprocess: Preprocess(
        pixel_max: 255.0, mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010]))],
    nodes: [
        Node(name: "pool", op: AvgPool(kernel: 8, stride: 8), inputs: ["image"]),
        Node(name: "flat", op: Flatten, inputs: ["pool"]),
        Node(name: "fc", op: Gemm(weight: "fc.weight", bias: "fc.bias", trans_b: true), inputs: ["flat"]),
    ],
    output: "fc",
)"#;

/// Writes `dir/lin.ron` and `dir/lin.safetensors` (weights `value(i)` for the i-th weight).
pub fn write_model(dir: &Path, value: impl Fn(usize) -> f32) {
    std::fs::write(dir.join("lin.ron"), MODEL).unwrap();
    let tensor = |shape: Vec<usize>, offset: usize| WeightTensor {
        data: (0..shape.iter().product())
            .map(|i| value(i + offset))
            .collect(),
        shape,
    };
    let tensors = [
        ("fc.weight".to_string(), tensor(vec![10, 48], 0)),
        ("fc.bias".to_string(), tensor(vec![10], 480)),
    ];
    write_safetensors(&dir.join("lin.safetensors"), &tensors).unwrap();
}

/// Small, varied, finite weights.
pub fn weight(i: usize) -> f32 {
    ((i * 37 % 101) as f32 - 50.0) / 200.0
}

/// Writes the model into `dir` and compiles `dir/program.ron` for `test-n12`; returns its path.
pub fn tiny_program(dir: &Path) -> PathBuf {
    write_model(dir, weight);
    success(&fhec_in(
        dir,
        &[
            "compile",
            "lin.ron",
            "-o",
            "program.ron",
            "--params",
            "test-n12",
            "--insecure",
        ],
    ));
    dir.join("program.ron")
}

/// Runs `fhec args… --insecure` in `dir`.
pub fn insecure(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = args.to_vec();
    all.push("--insecure");
    fhec_in(dir, &all)
}
