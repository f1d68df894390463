//! `fhec compile`, `fhec run --backend clear` and `fhec bench model` on the shipped ResNet-20
//! with its calibration record and the shipped sample images: the clear backend's logits equal the
//! tensor-level model's (computed in f64) with the same polynomial activations to 1e-12
//! relative, with the same class, and the files and reports have the documented shape. Plus the
//! errors naming the file.

mod cli_common;

use cli_common::{failure, fhec, sample_data, success};

#[test]
fn resnet20_compiles_and_runs_on_the_clear_backend_like_the_tensor_level() {
    let data = sample_data();
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("resnet20.ron");
    let report = dir.path().join("report.json");
    let (program_arg, report_arg) = (program.to_str().unwrap(), report.to_str().unwrap());
    let data_arg = data.to_str().unwrap();
    let stats = success(&fhec(&[
        "compile",
        "models/resnet20.ron",
        "-o",
        program_arg,
        "--data",
        data_arg,
        "--stats",
        "--json",
    ]));
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["slots"], 16384);
    let total = &stats["total"];
    assert_eq!(total["ct_pt"], 8800, "the linear layers' diagonals");
    assert_eq!(total["rotations"], 849);
    assert!(total["ct_ct"].as_u64().unwrap() > 0);
    // Scheduled for N16_BOOT: a bootstrap before every activation but the first few, and
    // every level accounted for.
    let passes = &stats["passes"];
    let bootstraps = passes["levels"]["bootstraps"].as_u64().unwrap();
    // Exactly: the bootstrap pass removes the redundant ones (22 without that step).
    assert_eq!(bootstraps, 19, "{bootstraps} bootstraps");
    assert_eq!(total["bootstraps"].as_u64(), Some(bootstraps));
    assert!(passes["schedule"]["peak_bytes"].as_u64().unwrap() > 0);

    let summary = success(&fhec(&[
        "run",
        program_arg,
        "--backend",
        "clear",
        "--images",
        "0..2",
        "--data",
        data_arg,
        "--report",
        report_arg,
    ]));
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["images"], 2);
    assert_eq!(summary["agreement_approx"], 1.0);
    // The tensor level is computed in f64 like the clear backend, so only the lowering's own
    // rounding remains (about 1e-14 on ResNet-20).
    let worst = summary["max_rel_diff"].as_f64().unwrap();
    assert!(worst <= 1e-12, "clear vs tensor-level --approx: {worst}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["backend"], "clear");
    for image in report["images"].as_array().unwrap() {
        for key in [
            "index",
            "label",
            "class",
            "plain_class",
            "time_s",
            "precision_bits",
        ] {
            assert!(image.get(key).is_some(), "report image lacks {key}");
        }
        assert_eq!(image["class"], image["approx_class"]);
    }
    // Where the time goes, per model layer: every layer of ResNet-20 is named, and the
    // layers' times add up to at most an image's.
    let layers = report["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    for layer in ["conv1", "layer3.2.relu2", "avgpool", "fc"] {
        assert!(names.contains(&layer), "{layer}: {names:?}");
    }
    let layer_time: f64 = layers
        .iter()
        .map(|l| l["mean_eval_s"].as_f64().unwrap())
        .sum();
    let image_time = summary["mean_time_s"].as_f64().unwrap();
    assert!(
        layer_time > 0.0 && layer_time <= image_time * 1.001,
        "layers {layer_time} s, image {image_time} s"
    );

    let bench = success(&fhec(&[
        "bench",
        "model",
        program_arg,
        "--backend",
        "clear",
        "--images",
        "0",
        "--data",
        data_arg,
        "--json",
    ]));
    let bench: serde_json::Value = serde_json::from_str(&bench).unwrap();
    assert_eq!(bench["bench"], "model");
    assert!(bench["time_s"]["median"].as_f64().unwrap() > 0.0);
}

#[test]
fn compile_and_run_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.ron");
    let out = dir.path().join("p.ron");
    let message = failure(&fhec(&[
        "compile",
        missing.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]));
    assert!(message.contains("missing.ron"), "{message}");
    let bogus = dir.path().join("bogus.ron");
    std::fs::write(&bogus, "not a program").unwrap();
    let message = failure(&fhec(&["run", bogus.to_str().unwrap(), "--images", "0"]));
    assert!(
        message.starts_with("error: ") && message.contains("bogus.ron"),
        "{message}"
    );
    let message = failure(&fhec(&["run", bogus.to_str().unwrap(), "--images", "3..3"]));
    assert!(message.contains("empty"), "{message}");
}

/// A model without activations needs no calibration data: `compile` writes the program,
/// prints the stats table and the dump after lowering.
#[test]
fn compile_without_data_prints_stats_and_dump() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny.ron");
    std::fs::write(
        &model,
        r#"Model(name: "tiny", weights: ModelDir("tiny.safetensors"),
            inputs: [Input(name: "x", shape: [2, 4, 4])],
            nodes: [Node(name: "conv", op: Conv2d(weight: "conv.weight", padding: 1), inputs: ["x"])],
            output: "conv")"#,
    )
    .unwrap();
    let weight = fhec_compiler::weights::WeightTensor {
        shape: vec![2, 2, 3, 3],
        data: (0..36).map(|i| i as f32 / 36.0).collect(),
    };
    fhec_compiler::weights::write_safetensors(
        &dir.path().join("tiny.safetensors"),
        &[("conv.weight".into(), weight)],
    )
    .unwrap();
    let program = dir.path().join("tiny.program.ron");
    let out = success(&fhec(&[
        "compile",
        model.to_str().unwrap(),
        "-o",
        program.to_str().unwrap(),
        "--stats",
        "--dump-after",
        "lower",
        "--unscheduled",
    ]));
    assert!(out.contains("rotate_hoisted"), "{out}");
    let total = out.lines().find(|l| l.starts_with("total")).unwrap();
    let numbers: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(numbers[1..5], ["8", "5", "0", "18"], "{total}");
    let text = std::fs::read_to_string(&program).unwrap();
    let parsed = fhec_ir::Program::from_ron(&text).unwrap();
    fhec_ir::verify(&parsed).unwrap();
    let scheduled = success(&fhec(&[
        "compile",
        model.to_str().unwrap(),
        "-o",
        program.to_str().unwrap(),
        "--dump-after",
        "levels",
    ]));
    assert!(scheduled.contains("rescale"), "{scheduled}");
    let message = failure(&fhec(&[
        "compile",
        model.to_str().unwrap(),
        "-o",
        program.to_str().unwrap(),
        "--dump-after",
        "optimise",
    ]));
    assert!(message.contains("--dump-after optimise"), "{message}");

    // The model changes after compiling: `run` refuses the stale program before reading data.
    let text = std::fs::read_to_string(&model).unwrap();
    std::fs::write(&model, text.replace("padding: 1", "padding: 0")).unwrap();
    let message = failure(&fhec(&["run", program.to_str().unwrap(), "--images", "0"]));
    assert!(message.contains("graph hash differs"), "{message}");
}
