//! Helpers of the CLI tests: run the built `fhec` from the repository root, and name the
//! shipped sample data (or the full data set, for the ignored tests that need it).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fhec_compiler::data::{DATA_ENV_VAR, DataDirSearch};

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
