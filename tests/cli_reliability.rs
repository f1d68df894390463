//! Reliability of the command line (docs/security.md): no command loses a key or an input, and
//! none answers wrong with exit code 0. Each case is a reproduction of a defect found by probing
//! the tool as a careless or hostile user would, on a tiny program compiled for the INSECURE
//! test preset `test-n12` (tests only). Cases that encrypt need the shared CIFAR-10 test batch
//! and are skipped with a notice without it.

mod cli_common;
mod reliability_support;

use std::path::Path;

use cli_common::{failure, fhec_in, sample_data, success};
use fhec_params::SecurityPolicy;
use fhec_runtime::exec::CkksSetup;
use fhec_runtime::serialize::{read_bundle, write_bundle};
use reliability_support::{insecure, tiny_program, weight, write_model};

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// A key directory `keys` and an encrypted image `in.ct` in `dir` (which holds the program).
fn keys_and_input(dir: &Path, data: &Path, keys: &str, input: &str) {
    success(&insecure(dir, &["keygen", "program.ron", "--keys", keys]));
    let data = data.to_str().unwrap();
    success(&insecure(
        dir,
        &[
            "encrypt",
            "program.ron",
            "--keys",
            keys,
            "--image",
            "0",
            "--data",
            data,
            "-o",
            input,
        ],
    ));
}

/// `fhec encrypt program.ron --keys keys --image 0 --data DATA -o output --insecure` in `dir`.
fn encrypt(dir: &Path, data: &str, output: &str) -> std::process::Output {
    let args = [
        "encrypt",
        "program.ron",
        "--keys",
        "keys",
        "--image",
        "0",
        "--data",
        data,
        "-o",
        output,
    ];
    insecure(dir, &args)
}

/// `fhec eval program.ron --keys public input -o output --insecure` in `dir`.
fn eval(dir: &Path, public: &str, input: &str, output: &str) -> std::process::Output {
    insecure(
        dir,
        &["eval", "program.ron", "--keys", public, input, "-o", output],
    )
}

/// Asserts the command fails with a message containing every one of `needles`, on one line.
fn refused(output: &std::process::Output, needles: &[&str]) {
    let stderr = failure(output);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    for needle in needles {
        assert!(errors[0].contains(needle), "{needle:?} not in {stderr}");
    }
}

#[test]
fn no_command_writes_over_its_inputs_a_secret_key_or_into_a_key_directory() {
    let data = sample_data();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tiny_program(dir);
    keys_and_input(dir, &data, "keys", "in.ct");
    let data = data.to_str().unwrap();
    let secret = read(&dir.join("keys/secret.key"));
    let program = read(&dir.join("program.ron"));
    let model = read(&dir.join("lin.ron"));
    let weights = read(&dir.join("lin.safetensors"));
    let input = read(&dir.join("in.ct"));
    let encrypt_to = |output: &str| encrypt(dir, data, output);
    refused(
        &encrypt_to("keys/secret.key"),
        &["keys/secret.key", "secret key"],
    );
    refused(&encrypt_to("program.ron"), &["program.ron", "input"]);
    refused(&encrypt_to("keys/public/x.ct"), &["key directory"]);
    refused(&encrypt_to("missing/x.ct"), &["missing", "does not exist"]);
    let compile_to = |output: &str| {
        insecure(
            dir,
            &["compile", "lin.ron", "-o", output, "--params", "test-n12"],
        )
    };
    refused(&compile_to("lin.ron"), &["lin.ron", "input"]);
    refused(
        &compile_to("./lin.safetensors"),
        &["lin.safetensors", "input"],
    );
    refused(&compile_to("keys"), &["keys", "directory"]);
    let eval_to = |output: &str| eval(dir, "keys/public", "in.ct", output);
    refused(&eval_to("in.ct"), &["in.ct", "input"]);
    refused(&eval_to("program.ron"), &["program.ron", "input"]);
    refused(&eval_to("lin.safetensors"), &["lin.safetensors", "input"]);
    refused(&eval_to("keys/public/params"), &["key directory"]);
    refused(&eval_to("/proc/out.ct"), &["/proc/out.ct", "cannot write"]);
    assert_eq!(read(&dir.join("keys/secret.key")), secret);
    assert_eq!(read(&dir.join("program.ron")), program);
    assert_eq!(read(&dir.join("lin.ron")), model);
    assert_eq!(read(&dir.join("lin.safetensors")), weights);
    assert_eq!(read(&dir.join("in.ct")), input);
}

#[test]
fn keygen_never_replaces_keys_by_accident_and_installs_new_ones_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tiny_program(dir);
    success(&insecure(dir, &["keygen", "program.ron", "--keys", "keys"]));
    let secret = read(&dir.join("keys/secret.key"));
    refused(
        &insecure(dir, &["keygen", "program.ron", "--keys", "keys"]),
        &["keys", "already holds keys", "--force"],
    );
    assert_eq!(read(&dir.join("keys/secret.key")), secret);
    // A key directory damaged so that writing into it fails part-way (a directory where a
    // key file goes) is replaced whole by --force: no new secret beside old public keys.
    let galois = dir.join("keys/public/galois.keys");
    std::fs::remove_file(&galois).unwrap();
    std::fs::create_dir(&galois).unwrap();
    success(&insecure(
        dir,
        &["keygen", "program.ron", "--keys", "keys", "--force"],
    ));
    assert_ne!(read(&dir.join("keys/secret.key")), secret);
    assert!(galois.is_file());
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::create_dir(dir.join("notes")).unwrap();
    std::fs::write(dir.join("notes/todo.txt"), "keep").unwrap();
    refused(
        &insecure(
            dir,
            &["keygen", "program.ron", "--keys", "notes", "--force"],
        ),
        &["notes", "not a key directory"],
    );
    refused(
        &insecure(dir, &["keygen", "program.ron", "--keys", "x/public"]),
        &["public"],
    );
    refused(
        &insecure(dir, &["keygen", "program.ron", "--keys", "program.ron"]),
        &["program.ron"],
    );
}

#[test]
fn files_of_another_key_generation_or_program_are_refused_naming_both() {
    let data = sample_data();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tiny_program(dir);
    keys_and_input(dir, &data, "one", "in.ct");
    success(&insecure(dir, &["keygen", "program.ron", "--keys", "two"]));
    success(&eval(dir, "one/public", "in.ct", "out.ct"));
    let right = success(&insecure(
        dir,
        &[
            "decrypt",
            "program.ron",
            "--keys",
            "one",
            "out.ct",
            "--json",
        ],
    ));
    assert!(right.contains("\"class\""), "{right}");
    refused(
        &insecure(dir, &["decrypt", "program.ron", "--keys", "two", "out.ct"]),
        &["out.ct", "two/secret.key", "another key generation"],
    );
    refused(
        &eval(dir, "two/public", "in.ct", "o.ct"),
        &["in.ct", "two/public", "another key generation"],
    );
    // A public directory mixing two key generations.
    std::fs::copy(
        dir.join("two/public/galois.keys"),
        dir.join("one/public/galois.keys"),
    )
    .unwrap();
    refused(
        &eval(dir, "one/public", "in.ct", "o.ct"),
        &["galois.keys", "params", "another key generation"],
    );
    // Keys of another program with the same parameters.
    success(&insecure(
        dir,
        &[
            "compile",
            "lin.ron",
            "-o",
            "other.ron",
            "--params",
            "test-n12",
            "--slots",
            "1024",
        ],
    ));
    let data = data.to_str().unwrap();
    refused(
        &insecure(
            dir,
            &[
                "encrypt",
                "other.ron",
                "--keys",
                "two",
                "--image",
                "0",
                "--data",
                data,
                "-o",
                "x.ct",
            ],
        ),
        &["two/secret.key", "another program", "other.ron"],
    );
    // An input bundle given to decrypt.
    refused(
        &insecure(dir, &["decrypt", "program.ron", "--keys", "one", "in.ct"]),
        &["in.ct", "inputs", "not its outputs"],
    );
}

#[test]
fn bundles_with_a_wrong_scale_duplicate_or_extra_names_are_refused() {
    let data = sample_data();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let program_path = tiny_program(dir);
    keys_and_input(dir, &data, "keys", "in.ct");
    let text = std::fs::read_to_string(&program_path).unwrap();
    let program = fhec_ir::Program::from_ron(&text).unwrap();
    let setup = CkksSetup::from_program(&program, SecurityPolicy::AllowInsecure).unwrap();
    let bundle = read_bundle(&dir.join("in.ct"), setup.context(), 8).unwrap();
    let eval_input = |input: &str| eval(dir, "keys/public", input, "out.ct");

    let mut scaled = bundle.clone();
    scaled.ciphertexts.values_mut().next().unwrap().scale = 2f64.powi(200);
    write_bundle(&dir.join("scaled.ct"), setup.context(), &scaled).unwrap();
    refused(&eval_input("scaled.ct"), &["scaled.ct", "scale"]);

    let mut extra = bundle.clone();
    let first = extra.ciphertexts.values().next().unwrap().clone();
    extra.ciphertexts.insert("stray".into(), first);
    write_bundle(&dir.join("extra.ct"), setup.context(), &extra).unwrap();
    refused(&eval_input("extra.ct"), &["extra.ct", "stray"]);

    let mut missing = bundle.clone();
    let name = missing.ciphertexts.keys().next().unwrap().clone();
    missing.ciphertexts.remove(&name);
    write_bundle(&dir.join("missing.ct"), setup.context(), &missing).unwrap();
    refused(&eval_input("missing.ct"), &["missing.ct", "inputs are"]);

    // Two entries of one name: the count raised by one and the first entry appended again.
    let bytes = read(&dir.join("in.ct"));
    let count_at = 8 + 48;
    let count = u32::from_le_bytes(bytes[count_at..count_at + 4].try_into().unwrap());
    let entry_start = count_at + 4;
    let name_len = usize::from(u16::from_le_bytes([
        bytes[entry_start],
        bytes[entry_start + 1],
    ]));
    let len_at = entry_start + 2 + name_len;
    let ct_len = u64::from_le_bytes(bytes[len_at..len_at + 8].try_into().unwrap()) as usize;
    let entry = bytes[entry_start..len_at + 8 + ct_len].to_vec();
    let mut doubled = bytes.clone();
    doubled[count_at..count_at + 4].copy_from_slice(&(count + 1).to_le_bytes());
    doubled.extend_from_slice(&entry);
    std::fs::write(dir.join("doubled.ct"), &doubled).unwrap();
    refused(&eval_input("doubled.ct"), &["doubled.ct", "appears twice"]);

    let mut old = bytes.clone();
    old[7] = b'1';
    std::fs::write(dir.join("old.ct"), &old).unwrap();
    refused(
        &eval_input("old.ct"),
        &["old.ct", "not an fhec ciphertext bundle"],
    );
    refused(&eval_input("/dev/zero"), &["/dev/zero", "larger than"]);
    std::fs::write(dir.join("short.ct"), &bytes[..40]).unwrap();
    refused(&eval_input("short.ct"), &["short.ct", "truncated"]);

    // The output side: decrypt checks the outputs' types as eval checks the inputs'.
    success(&eval_input("in.ct"));
    let mut outputs = read_bundle(&dir.join("out.ct"), setup.context(), 8).unwrap();
    outputs.ciphertexts.values_mut().next().unwrap().scale = 2f64.powi(200);
    write_bundle(&dir.join("scaled_out.ct"), setup.context(), &outputs).unwrap();
    refused(
        &insecure(
            dir,
            &["decrypt", "program.ron", "--keys", "keys", "scaled_out.ct"],
        ),
        &["scaled_out.ct", "scale"],
    );
}

#[test]
fn a_secret_key_others_can_read_is_refused() {
    let data = sample_data();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tiny_program(dir);
    keys_and_input(dir, &data, "keys", "in.ct");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let secret = dir.join("keys/secret.key");
        for mode in [0o644, 0o666, 0o640, 0o602] {
            std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(mode)).unwrap();
            let data = data.to_str().unwrap();
            refused(
                &encrypt(dir, data, "x.ct"),
                &["keys/secret.key", "chmod 600"],
            );
        }
    }
}

#[test]
fn eval_never_opens_a_secret_key() {
    let data = sample_data();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tiny_program(dir);
    keys_and_input(dir, &data, "keys", "in.ct");
    // Garbage secret keys, world-readable, beside and inside the public directory: reading
    // either would fail.
    std::fs::write(dir.join("keys/secret.key"), b"not a key").unwrap();
    std::fs::write(dir.join("keys/public/secret.key"), b"not a key").unwrap();
    success(&eval(dir, "keys/public", "in.ct", "out.ct"));
}

#[test]
fn non_finite_weights_and_preprocessing_are_refused_naming_file_and_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (value, shown) in [
        (f32::NAN, "NaN"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        write_model(dir, |i| if i == 487 { value } else { weight(i) });
        refused(
            &fhec_in(dir, &["check", "lin.ron"]),
            &["lin.safetensors", "fc.bias", shown, "index 7", "finite"],
        );
    }
    write_model(dir, weight);
    let nan_mean = cli_common::fhec_in(dir, &["check", "lin.ron"]);
    success(&nan_mean);
    let text = reliability_support::MODEL.replace("mean: [0.4914,", "mean: [NaN,");
    std::fs::write(dir.join("nan.ron"), text).unwrap();
    refused(&fhec_in(dir, &["check", "nan.ron"]), &["nan.ron", "finite"]);
    let text = reliability_support::MODEL.replace("std: [0.2023,", "std: [inf,");
    std::fs::write(dir.join("inf.ron"), text).unwrap();
    refused(&fhec_in(dir, &["check", "inf.ron"]), &["inf.ron", "finite"]);
}

#[test]
fn absurd_numbers_and_sizes_are_refused_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tiny_program(dir);
    for threads in ["0", "100000", "-1", "many"] {
        let flag = format!("--threads={threads}");
        let output = insecure(dir, &["keygen", "program.ron", "--keys", "k", &flag]);
        let stderr = failure(&output);
        assert!(stderr.contains("--threads"), "{stderr}");
    }
    let output = fhec_in(
        dir,
        &["compile", "lin.ron", "-o", "p.ron", "--degree", "100000"],
    );
    assert!(failure(&output).contains("--degree"));
    // A model description larger than any real one: refused by its size, not read.
    let huge = std::fs::File::create(dir.join("huge.ron")).unwrap();
    huge.set_len(65 << 20).unwrap();
    refused(
        &fhec_in(dir, &["check", "huge.ron"]),
        &["huge.ron", "limit"],
    );
    refused(
        &fhec_in(dir, &["check", "/dev/zero"]),
        &["/dev/zero", "limit"],
    );
    refused(
        &fhec_in(
            dir,
            &["compile", "lin.ron", "-o", "p.ron", "--params", "test-n12"],
        ),
        &["test-n12", "--insecure"],
    );
    refused(
        &insecure(
            dir,
            &["compile", "lin.ron", "-o", "p.ron", "--params", "n99"],
        ),
        &["n99", "test-n12"],
    );
}

#[test]
fn errors_state_their_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    tiny_program(dir);
    for args in [
        &["check", "nothere.ron"][..],
        &[
            "decrypt",
            "program.ron",
            "--keys",
            "nothere",
            "out.ct",
            "--insecure",
        ],
        &[
            "eval",
            "program.ron",
            "--keys",
            "nothere",
            "in.ct",
            "-o",
            "o.ct",
            "--insecure",
        ],
    ] {
        let stderr = failure(&fhec_in(dir, args));
        assert_eq!(
            stderr.matches("No such file").count(),
            1,
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.matches("error:").count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn a_program_with_a_damaged_order_list_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let program = tiny_program(dir);
    let text = std::fs::read_to_string(&program).unwrap();
    let start = text.find("order: [").expect("an order list");
    let end = start + text[start..].find(']').unwrap();
    let keygen = ["keygen", "program.ron", "--keys", "keys"];
    // Emptied: the program has no input left, which whatever binds inputs says.
    let emptied = format!("{}order: []{}", &text[..start], &text[end + 1..]);
    std::fs::write(&program, emptied).unwrap();
    let data = sample_data();
    let run = [
        "run",
        "program.ron",
        "--images",
        "0",
        "--data",
        data.to_str().unwrap(),
    ];
    refused(&fhec_in(dir, &run), &["program.ron", "order"]);
    // One instruction twice.
    let twice = text.replacen("order: [", "order: [0, ", 1);
    std::fs::write(&program, twice).unwrap();
    refused(&insecure(dir, &keygen), &["program.ron", "twice"]);
}
