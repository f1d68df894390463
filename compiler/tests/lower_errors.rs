//! The lowering's errors name the node at fault: a tensor needing more ciphertexts than
//! allowed, a plane larger than a ciphertext, a tensor shape without a slot layout, an
//! activation without an approximation, and bad options.

mod lower_support;

use fhec_compiler::lower::{CompileOptions, LowerError, compile};
use lower_support::{graph, model, one_conv, residual_block};
use std::collections::BTreeMap;

fn error(graph: &fhec_compiler::graph::TensorGraph, options: &CompileOptions) -> String {
    compile(graph, &BTreeMap::new(), options)
        .expect_err("lowering must fail")
        .to_string()
}

#[test]
fn too_many_ciphertexts_names_the_node() {
    let options = CompileOptions {
        slots: Some(16),
        max_cts: 1,
        ..CompileOptions::default()
    };
    let message = error(&one_conv(), &options);
    assert!(
        message.contains("node `x`") && message.contains("needs 2 ciphertexts of 16 slots"),
        "{message}"
    );
}

#[test]
fn a_plane_larger_than_a_ciphertext_names_the_node() {
    let options = CompileOptions {
        slots: Some(8),
        ..CompileOptions::default()
    };
    let message = error(&one_conv(), &options);
    assert!(
        message.contains("node `x`: no slot layout fits"),
        "{message}"
    );
}

#[test]
fn a_tensor_without_slot_layout_names_the_node() {
    let ron = model(
        "matrix",
        r#"Input(name: "m", shape: [4, 4])"#,
        r#"Node(name: "flat", op: Flatten, inputs: ["m"]), Node(name: "fc", op: Gemm(weight: "fc.weight", trans_b: true), inputs: ["flat"])"#,
        "fc",
    );
    let g = graph(&ron, &[("fc.weight", &[2, 16])], 1);
    let message = error(&g, &CompileOptions::default());
    assert!(message.contains("node `m`: unsupported"), "{message}");
}

#[test]
fn a_missing_approximation_names_the_activation() {
    let message = error(&residual_block(), &CompileOptions::default());
    assert!(
        message.contains("`relu1`") && message.contains("no approximation"),
        "{message}"
    );
}

#[test]
fn bad_options_are_refused() {
    let options = CompileOptions {
        slots: Some(48),
        ..CompileOptions::default()
    };
    assert!(matches!(
        compile(&one_conv(), &BTreeMap::new(), &options),
        Err(LowerError::Options(_))
    ));
}
