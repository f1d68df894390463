//! `fhec keygen`, `encrypt`, `eval` and `decrypt` as separate processes on a tiny CIFAR-10
//! program compiled for an **INSECURE** target (N = 2^12: tests only): the server evaluates
//! with a copy of `public/` alone, and the decrypted logits agree with `run --backend ckks`'s
//! clear reference. Error paths: a missing secret key, a secret key under `public/`, keys of
//! other parameters, truncated and corrupt ciphertext files, insecure without `--insecure`.
//! On the shipped sample's test images.

#[path = "../compiler/tests/lower_support/mod.rs"]
mod lower_support;

mod ckks_support;
mod cli_common;

use ckks_support::{TINY_LOG_SLOTS, literal, relative_bits, write_tiny_cifar_program};
use cli_common::{failure, fhec, sample_data, success};
use fhec_params::BootstrapLiteral;
use std::path::Path;

fn floats(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `fhec eval program --keys public input -o output --insecure`, expected to fail: its stderr.
fn eval_fails(program: &Path, public: &Path, input: &Path, output: &Path) -> String {
    failure(&fhec(&[
        "eval",
        arg(program),
        "--keys",
        arg(public),
        arg(input),
        "-o",
        arg(output),
        "--insecure",
    ]))
}

#[test]
fn keygen_encrypt_eval_decrypt_agree_with_run() {
    let data = sample_data();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let program_path = write_tiny_cifar_program(root, literal(TINY_LOG_SLOTS));
    let program_path = program_path.as_path();
    let (program, data) = (arg(program_path), arg(&data));
    let keys = root.join("keys");
    let server = root.join("server");
    let (input, output) = (root.join("in.ct"), root.join("out.ct"));

    let refused = failure(&fhec(&["keygen", program, "--keys", arg(&keys)]));
    assert!(refused.contains("INSECURE"), "{refused}");
    success(&fhec(&[
        "keygen",
        program,
        "--keys",
        arg(&keys),
        "--insecure",
    ]));
    let secret = keys.join("secret.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secret.key mode {mode:o}");
    }
    // The server gets a copy of public/ and nothing else.
    std::fs::create_dir(&server).unwrap();
    let public = server.join("public");
    std::fs::create_dir(&public).unwrap();
    for entry in std::fs::read_dir(keys.join("public")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), public.join(entry.file_name())).unwrap();
    }

    let image = "3";
    let keys_arg = arg(&keys);
    success(&fhec(&[
        "encrypt",
        program,
        "--keys",
        keys_arg,
        "--image",
        image,
        "--data",
        data,
        "-o",
        arg(&input),
        "--insecure",
    ]));
    success(&fhec(&[
        "eval",
        program,
        "--keys",
        arg(&public),
        arg(&input),
        "-o",
        arg(&output),
        "--insecure",
        "--threads",
        "2",
    ]));
    let decrypted = success(&fhec(&[
        "decrypt",
        program,
        "--keys",
        keys_arg,
        arg(&output),
        "--json",
        "--insecure",
    ]));
    let decrypted: serde_json::Value = serde_json::from_str(&decrypted).unwrap();
    assert_eq!(decrypted["security"], "INSECURE");

    let report = root.join("report.json");
    success(&fhec(&[
        "run",
        program,
        "--backend",
        "ckks",
        "--images",
        "3..4",
        "--data",
        data,
        "--insecure",
        "--report",
        arg(&report),
    ]));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let reference = &report["images"][0];
    let bits = relative_bits(
        &floats(&decrypted["logits"]),
        &floats(&reference["clear_logits"]),
    );
    eprintln!("keygen/encrypt/eval/decrypt vs clear: {bits:.1} bits");
    assert!(bits > 16.0, "{bits:.1} bits");
    assert_eq!(decrypted["class"], reference["clear_class"]);

    // Error paths, each naming the file.
    let no_secret = failure(&fhec(&[
        "decrypt",
        program,
        "--keys",
        arg(&server),
        arg(&output),
        "--insecure",
    ]));
    assert!(no_secret.contains("secret.key"), "{no_secret}");
    let under_public = failure(&fhec(&[
        "keygen",
        program,
        "--keys",
        arg(&root.join("x").join("public")),
        "--insecure",
    ]));
    assert!(under_public.contains("public"), "{under_public}");

    let bytes = std::fs::read(&input).unwrap();
    let truncated = root.join("truncated.ct");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    let error = eval_fails(program_path, &public, &truncated, &output);
    assert!(
        error.contains("truncated.ct") && error.contains("truncated"),
        "{error}"
    );
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let corrupt = root.join("corrupt.ct");
    std::fs::write(&corrupt, &flipped).unwrap();
    let error = eval_fails(program_path, &public, &corrupt, &output);
    assert!(
        error.contains("corrupt.ct") && error.contains("checksum"),
        "{error}"
    );

    // Another program, compiled for other parameters (one more special prime): the key
    // directory of the first is refused.
    let other_dir = root.join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = write_tiny_cifar_program(
        &other_dir,
        BootstrapLiteral {
            special_bits: vec![61; 3],
            ..literal(TINY_LOG_SLOTS)
        },
    );
    let error = eval_fails(&other, &public, &input, &output);
    assert!(
        error.contains("params") && error.contains("other parameters"),
        "{error}"
    );
}
