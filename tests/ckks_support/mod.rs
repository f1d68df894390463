//! Shared by the `ckks_*` tests: the **INSECURE** bootstrapping target they compile for, and
//! the precision measure they compare CKKS with the clear backend by, and a tiny CIFAR-10
//! program for the command-line tests.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use crate::lower_support::{Rng, relu};
use fhec_compiler::data::DataDirSearch;
use fhec_compiler::frontend::load_model;
use fhec_compiler::lower::io::ProgramSource;
use fhec_compiler::lower::{CompileOptions, ScheduleOptions, compile};
use fhec_compiler::target::Target;
use fhec_compiler::weights::{WeightTensor, write_safetensors};
use fhec_ir::Opcode;
use fhec_params::BootstrapLiteral;
use fhec_params::bootstrap::test_boot_insecure;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Ring degree 2^12: INSECURE, tests only.
pub const LOG_N: u32 = 12;

/// The insecure test preset at N = 2^12 and 2^`log_slots` slots with three circuit levels
/// instead of two: a degree-2 ReLU takes two (the square, then its coefficients), the
/// linear layer after it one more; dnum 10 keeps the key-switching digits at two primes, below
/// the special modulus. SlotToCoeff's primes are 56 bits, far from the 45-bit working scale,
/// so inputs start at the circuit's top level (`Target::max_input_level` would otherwise
/// raise them through 42-bit primes) and the tiny models need a bootstrap.
pub fn literal(log_slots: u32) -> BootstrapLiteral {
    BootstrapLiteral {
        circuit_bits: vec![45; 3],
        s2c_bits: vec![56; 2],
        dnum: 10,
        ..test_boot_insecure(LOG_N, log_slots)
    }
}

/// `−log2(max |got − expected| / max |expected|)`: CKKS against clear, in bits.
pub fn relative_bits(got: &[f64], expected: &[f64]) -> f64 {
    let error = got
        .iter()
        .zip(expected)
        .map(|(g, e)| (g - e).abs())
        .fold(0.0, f64::max);
    let peak = expected.iter().map(|e| e.abs()).fold(0.0, f64::max);
    -(error / peak).log2()
}

/// Slots of the tiny CIFAR-10 program.
pub const TINY_LOG_SLOTS: u32 = 10;

/// The tiny model's description.
const MODEL: &str = r#"#![enable(implicit_some)]
Model(
    name: "tiny_cifar",
    weights: ModelDir("tiny.safetensors"),
    inputs: [Input(name: "image", shape: [3, 32, 32], preprocess: Preprocess(
        pixel_max: 255.0, mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010]))],
    nodes: [
        Node(name: "pool", op: AvgPool(kernel: 8, stride: 8), inputs: ["image"]),
        Node(name: "relu", op: Activation(Relu), inputs: ["pool"]),
        Node(name: "flat", op: Flatten, inputs: ["relu"]),
        Node(name: "fc", op: Gemm(weight: "fc.weight", bias: "fc.bias", trans_b: true), inputs: ["flat"]),
    ],
    output: "fc",
)"#;

/// Writes a tiny CIFAR-10 model (average pool → degree-2 ReLU → flatten → gemm) and random
/// weights into `dir`, compiles it for `literal` (at [`TINY_LOG_SLOTS`] slots) and writes
/// `dir/program.ron`, whose path it returns. The program bootstraps.
pub fn write_tiny_cifar_program(dir: &Path, literal: BootstrapLiteral) -> PathBuf {
    let model = dir.join("tiny.ron");
    std::fs::write(&model, MODEL).unwrap();
    let mut rng = Rng::new(3);
    let mut tensor = |shape: Vec<usize>| WeightTensor {
        data: (0..shape.iter().product()).map(|_| rng.next()).collect(),
        shape,
    };
    let weights = dir.join("tiny.safetensors");
    let tensors = [
        ("fc.weight".to_string(), tensor(vec![10, 48])),
        ("fc.bias".to_string(), tensor(vec![10])),
    ];
    write_safetensors(&weights, &tensors).unwrap();
    let loaded = load_model(&model, None, &DataDirSearch::from_process(None)).unwrap();
    // Preprocessed pixels lie in [-2.43, 2.76]; so do their averages.
    let approximations = BTreeMap::from([("relu".to_string(), relu(3.0, 2))]);
    let options = CompileOptions {
        slots: Some(1 << TINY_LOG_SLOTS),
        max_slots: 1 << (LOG_N - 1),
        source: Some(ProgramSource {
            model: model.display().to_string(),
            weights: weights.display().to_string(),
            calibration: None,
            approximations: approximations.clone(),
        }),
        schedule: Some(ScheduleOptions {
            target: Some(Target::new(literal).unwrap()),
            ..ScheduleOptions::default()
        }),
        ..CompileOptions::default()
    };
    let program = compile(&loaded.graph, &approximations, &options)
        .expect("compiles")
        .program;
    assert!(
        program
            .instructions()
            .any(|(_, data)| data.opcode == Opcode::Bootstrap),
        "the program should bootstrap"
    );
    let path = dir.join("program.ron");
    std::fs::write(&path, program.to_ron().unwrap()).unwrap();
    path
}
