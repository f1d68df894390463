//! The encrypted run's report as an accuracy run needs it, on the tiny CIFAR-10 model at
//! **INSECURE** parameters (N = 2^12, tests only): a precision per layer and per image, the
//! top-1/top-2 gap, a report that is valid after every image (even when the process is
//! killed), `--resume` skipping finished images, an existing report never overwritten, and
//! `fhec report merge` giving the summary of one run over the same images.

#[path = "../compiler/tests/lower_support/mod.rs"]
mod lower_support;

mod ckks_support;
mod cli_common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ckks_support::{TINY_LOG_SLOTS, literal, write_tiny_cifar_program};
use cli_common::{failure, fhec, sample_data, success};
use serde_json::Value;

/// `fhec run PROGRAM --backend ckks --insecure --images RANGE --report REPORT [extra]`.
fn run_args<'a>(program: &'a str, data: &'a str, range: &'a str, report: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        program,
        "--backend",
        "ckks",
        "--insecure",
        "--images",
        range,
        "--data",
        data,
        "--threads",
        "2",
        "--report",
        report,
    ]
}

fn read_report(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn indices(report: &Value) -> Vec<u64> {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|image| image["index"].as_u64().unwrap())
        .collect()
}

#[test]
fn the_report_has_per_layer_precision_resumes_and_merges() {
    let data = sample_data();
    let dir = tempfile::tempdir().unwrap();
    let program = write_tiny_cifar_program(dir.path(), literal(TINY_LOG_SLOTS));
    let program = program.to_str().unwrap();
    let data = data.to_str().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (whole, first, rest, merged) = (
        path("whole.json"),
        path("first.json"),
        path("rest.json"),
        path("merged.json"),
    );

    // A report that cannot be written is refused before any work.
    let nowhere = dir.path().join("missing/dir/r.json");
    let started = Instant::now();
    let refused = failure(&fhec(&run_args(
        program,
        data,
        "0..3",
        nowhere.to_str().unwrap(),
    )));
    assert!(refused.contains("missing/dir"), "{refused}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // One run over images 0..3.
    success(&fhec(&run_args(program, data, "0..3", &whole)));
    let report = read_report(Path::new(&whole));
    assert_eq!(indices(&report), [0, 1, 2]);
    let layers = report["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    eprintln!("layers: {names:?}");
    for node in ["pool", "relu", "fc"] {
        assert!(
            names.iter().any(|n| n.starts_with(node)),
            "{node}: {names:?}"
        );
    }
    for layer in layers.iter().filter(|l| !l["min_precision_bits"].is_null()) {
        let bits = layer["min_precision_bits"].as_f64().unwrap();
        assert!(bits > 12.0, "layer {}: {bits:.1} bits", layer["name"]);
    }
    assert!(
        layers
            .iter()
            .filter(|l| l["min_precision_bits"].is_number())
            .count()
            >= 3,
        "{layers:?}"
    );
    // Where the evaluation time goes: the layers' times add up to at most the evaluation's.
    let layer_time: f64 = layers
        .iter()
        .map(|l| l["mean_eval_s"].as_f64().unwrap())
        .sum();
    let eval_time = report["summary"]["mean_eval_s"].as_f64().unwrap();
    assert!(
        layer_time > 0.0 && layer_time <= eval_time * 1.001,
        "layers {layer_time} s, eval {eval_time} s"
    );
    for image in report["images"].as_array().unwrap() {
        assert_eq!(
            image["layer_precision_bits"].as_array().unwrap().len(),
            layers.len()
        );
        let clear: Vec<f64> = serde_json::from_value(image["clear_logits"].clone()).unwrap();
        let mut sorted = clear.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let gap = image["logit_gap"].as_f64().unwrap();
        assert!((gap - (sorted[0] - sorted[1])).abs() < 1e-12, "gap {gap}");
    }

    // An existing report is never overwritten without --resume.
    let refused = failure(&fhec(&run_args(program, data, "0..1", &whole)));
    assert!(
        refused.contains("whole.json") && refused.contains("--resume"),
        "{refused}"
    );
    assert_eq!(indices(&read_report(Path::new(&whole))), [0, 1, 2]);

    // The same images in two processes, the second resumed over a range that overlaps the
    // first: it runs only what is missing.
    success(&fhec(&run_args(program, data, "0..1", &first)));
    let mut resumed = run_args(program, data, "0..3", &rest);
    resumed.push("--resume");
    std::fs::copy(&first, &rest).unwrap();
    let output = fhec(&resumed);
    success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1 of images 0..3"), "{stderr}");
    let rest_report = read_report(Path::new(&rest));
    assert_eq!(indices(&rest_report), [0, 1, 2]);
    assert_eq!(rest_report["processes"], 2);

    // Merging: the first image from one report, the other two from another.
    let tail = path("tail.json");
    success(&fhec(&run_args(program, data, "1..3", &tail)));
    let summary: Value = serde_json::from_str(&success(&fhec(&[
        "report", "merge", &first, &tail, "-o", &merged,
    ])))
    .unwrap();
    let merged_report = read_report(Path::new(&merged));
    assert_eq!(indices(&merged_report), [0, 1, 2]);
    assert_eq!(merged_report["summary"], summary);
    // Classes and clear logits do not depend on the keys: the merged summary says what the
    // single run said.
    for field in [
        "images",
        "accuracy",
        "agreement_clear",
        "agreement_plain",
        "agreement_plain_where_approx_agrees",
        "min_logit_gap",
    ] {
        assert_eq!(summary[field], report["summary"][field], "{field}");
    }
    // A report never merges with itself, nor overwrites an input.
    let twice = failure(&fhec(&[
        "report",
        "merge",
        &first,
        &first,
        "-o",
        &path("x.json"),
    ]));
    assert!(twice.contains("image 0"), "{twice}");
    let over = failure(&fhec(&["report", "merge", &first, &tail, "-o", &tail]));
    assert!(over.contains("tail.json"), "{over}");
}

#[test]
fn a_killed_run_leaves_a_valid_report_that_resumes() {
    let data = sample_data();
    let dir = tempfile::tempdir().unwrap();
    let program = write_tiny_cifar_program(dir.path(), literal(TINY_LOG_SLOTS));
    let program = program.to_str().unwrap();
    let data = data.to_str().unwrap();
    let report = dir.path().join("report.json");
    let report_arg = report.to_str().unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_fhec"))
        .args(run_args(program, data, "0..40", report_arg))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !report.exists() && start.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = read_report(&report);
    let done = indices(&killed);
    eprintln!("killed after {} images", done.len());
    assert!(!done.is_empty() && done.len() < 40, "{done:?}");
    assert_eq!(killed["summary"]["images"], done.len());

    let mut resumed = run_args(program, data, "0..3", report_arg);
    resumed.push("--resume");
    success(&fhec(&resumed));
    let finished = indices(&read_report(&report));
    let expected: Vec<u64> = {
        let mut all: Vec<u64> = (0..3).chain(done.iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    assert_eq!(finished, expected);
}

#[test]
fn bench_model_times_the_ckks_backend_per_operation_and_layer() {
    let data = sample_data();
    let dir = tempfile::tempdir().unwrap();
    let program = write_tiny_cifar_program(dir.path(), literal(TINY_LOG_SLOTS));
    let args = [
        "bench",
        "model",
        program.to_str().unwrap(),
        "--backend",
        "ckks",
        "--images",
        "0..2",
        "--data",
        data.to_str().unwrap(),
        "--threads",
        "2",
        "--json",
    ];
    let refused = failure(&fhec(&args));
    assert!(refused.contains("--insecure"), "{refused}");
    let mut insecure = args.to_vec();
    insecure.push("--insecure");
    let bench: Value = serde_json::from_str(&success(&fhec(&insecure))).unwrap();
    assert_eq!(bench["backend"], "ckks");
    assert_eq!(bench["security"], "INSECURE");
    assert_eq!(bench["images"].as_array().unwrap().len(), 2);
    let busy = bench["mean_busy_cores"].as_f64().unwrap();
    assert!(busy > 0.2 && busy < 2.5, "busy cores {busy}");
    assert!(bench["ops"]["bootstrap"]["count"].as_u64().unwrap() >= 2);
    for image in bench["images"].as_array().unwrap() {
        let bits = image["precision_bits"].as_f64().unwrap();
        assert!(bits > 12.0, "{bits:.1} bits");
        let median = bench["time_s"]["median"].as_f64().unwrap();
        assert!(image["time_s"].as_f64().unwrap() > 0.0 && median > 0.0);
    }
    let fc = bench["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "fc")
        .expect("an fc layer");
    assert!(fc["mean_eval_s"].as_f64().unwrap() > 0.0, "{fc}");
}
