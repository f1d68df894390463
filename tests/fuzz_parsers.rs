//! A byte-mutation fuzzer for every parser of a file a user hands to fhec: model description
//! (RON), compiled program (RON), safetensors weights, ONNX model, ciphertext bundle and the key
//! files (secret key, Galois keys, parameter set). Each target starts from a valid file and
//! applies random mutations (flipped bits, overwritten, inserted and deleted bytes, truncation);
//! the parser must return (a value or an error) and never panic or hang.
//!
//! In CI each target runs [`DEFAULT_CASES`] cases, a few seconds in all. For a long run set
//! `FHEC_FUZZ_CASES` (e.g. `FHEC_FUZZ_CASES=200000 cargo test --release --test fuzz_parsers`);
//! `FHEC_FUZZ_TARGET=bundle` runs one target only. docs/security.md records the long runs.

mod cli_common;
mod reliability_support;

use std::path::Path;
use std::time::{Duration, Instant};

use fhec_compiler::model::ModelDescription;
use fhec_compiler::onnx::{ImportOptions, import_onnx_bytes};
use fhec_compiler::weights::WeightFile;
use fhec_ir::Program;
use fhec_params::{CkksParams, SecurityPolicy};
use fhec_runtime::context::CkksContext;
use fhec_runtime::exec::{CkksClient, CkksSetup};
use fhec_runtime::keys::{GaloisKeys, SecretKey};
use fhec_runtime::serialize::{
    CiphertextBundle, HEADER_LEN, Header, KeySetTag, bundle_from_bytes, from_bytes, write_bundle,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per target in CI.
const DEFAULT_CASES: u32 = 256;

/// A single parse must take less than this (a hang shows up as a failure in a long run).
const MAX_PARSE: Duration = Duration::from_secs(10);

/// One edit of a file's bytes; positions are taken modulo the length.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(usize, u8),
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    /// A little-endian u64 of an extreme value written at a position (lengths, counts).
    Extreme(usize, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set(at, byte)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete(at, len)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop_oneof![
                Just(0u64),
                Just(u64::MAX),
                Just(1 << 40),
                Just(u32::MAX as u64 + 1)
            ]
        )
            .prop_map(|(at, value)| Mutation::Extreme(at, value)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let at = |pos: usize, len: usize| pos % len;
    match mutation {
        Mutation::FlipBit(pos, bit) => {
            let i = at(*pos, bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Mutation::Set(pos, byte) => {
            let i = at(*pos, bytes.len());
            bytes[i] = *byte;
        }
        Mutation::Insert(pos, extra) => {
            let i = at(*pos, bytes.len() + 1);
            bytes.splice(i..i, extra.iter().copied());
        }
        Mutation::Delete(pos, len) => {
            let i = at(*pos, bytes.len());
            let end = (i + len).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Truncate(pos) => bytes.truncate(at(*pos, bytes.len())),
        Mutation::Extreme(pos, value) => {
            if bytes.len() >= 8 {
                let i = at(*pos, bytes.len() - 7);
                bytes[i..i + 8].copy_from_slice(&value.to_le_bytes());
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("FHEC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// A container file whose payload was mutated, with its length and checksums recomputed so
/// that the payload's decoder (not the checksum) meets the damage; a file whose header was
/// hit is left as it is.
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.len() < HEADER_LEN {
        return bytes;
    }
    if let Ok(mut header) = Header::parse(&bytes[..HEADER_LEN], bytes.len() as u64) {
        header.payload_len = (bytes.len() - HEADER_LEN) as u64;
        header.payload_checksum = *blake3::hash(&bytes[HEADER_LEN..]).as_bytes();
        bytes[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    }
    bytes
}

/// Runs `parse` on mutations of `seed`; the seed itself must parse.
fn fuzz(name: &str, seed: &[u8], parse: impl Fn(&[u8]) -> bool) {
    fuzz_with(name, seed, false, parse);
}

/// [`fuzz`], and again with every mutated container resealed (see [`resealed`]).
fn fuzz_container(name: &str, seed: &[u8], parse: impl Fn(&[u8]) -> bool) {
    fuzz_with(name, seed, false, &parse);
    fuzz_with(&format!("{name}-resealed"), seed, true, &parse);
}

fn fuzz_with(name: &str, seed: &[u8], reseal: bool, parse: impl Fn(&[u8]) -> bool) {
    if std::env::var("FHEC_FUZZ_TARGET").is_ok_and(|only| !name.starts_with(&only)) {
        return;
    }
    assert!(parse(seed), "{name}: the seed file must parse");
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let start = Instant::now();
    let accepted = std::cell::Cell::new(0u64);
    let strategy = prop::collection::vec(mutation(), 1..6);
    runner
        .run(&strategy, |mutations| {
            let mut bytes = seed.to_vec();
            for mutation in &mutations {
                apply(&mut bytes, mutation);
            }
            if reseal {
                bytes = resealed(bytes);
            }
            let begin = Instant::now();
            if parse(&bytes) {
                accepted.set(accepted.get() + 1);
            }
            prop_assert!(
                begin.elapsed() < MAX_PARSE,
                "{name}: parse took {:?}",
                begin.elapsed()
            );
            Ok(())
        })
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    eprintln!(
        "fuzz {name}: {} cases in {:.1} s, {} mutated files accepted, 0 panics",
        cases(),
        start.elapsed().as_secs_f64(),
        accepted.get()
    );
}

/// The tiny program, its keys (through the command line) and its context.
struct Fixture {
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
    program_text: String,
    setup: CkksSetup,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let path = reliability_support::tiny_program(&dir);
    cli_common::success(&reliability_support::insecure(
        &dir,
        &["keygen", "program.ron", "--keys", "keys"],
    ));
    let program_text = std::fs::read_to_string(path).unwrap();
    let program = Program::from_ron(&program_text).unwrap();
    let setup = CkksSetup::from_program(&program, SecurityPolicy::AllowInsecure).unwrap();
    Fixture {
        _dir: tmp,
        dir,
        program_text,
        setup,
    }
}

fn context(f: &Fixture) -> &CkksContext {
    f.setup.context()
}

#[test]
fn fuzz_model_description() {
    let seed = reliability_support::MODEL.as_bytes();
    fuzz("model", seed, |bytes| {
        ModelDescription::from_ron(&String::from_utf8_lossy(bytes), Path::new("m.ron")).is_ok()
    });
}

#[test]
fn fuzz_program_and_key_files_and_bundle() {
    let f = fixture();
    fuzz("program", f.program_text.as_bytes(), |bytes| {
        match Program::from_ron(&String::from_utf8_lossy(bytes)) {
            Ok(program) => {
                // What the commands do next with a program: verify it and set it up.
                let _ = fhec_ir::verify(&program);
                let _ = CkksSetup::from_program(&program, SecurityPolicy::AllowInsecure);
                true
            }
            Err(_) => false,
        }
    });
    let hash = context(&f).params().hash();
    let name = Path::new("fuzzed");
    let secret = std::fs::read(f.dir.join("keys/secret.key")).unwrap();
    fuzz_container("secret-key", &secret, |bytes| {
        from_bytes::<SecretKey>(bytes, name, &hash, context(&f)).is_ok()
    });
    let galois = std::fs::read(f.dir.join("keys/public/galois.keys")).unwrap();
    fuzz_container("galois-keys", &galois, |bytes| {
        from_bytes::<GaloisKeys>(bytes, name, &hash, context(&f)).is_ok()
    });
    let params = std::fs::read(f.dir.join("keys/public/params")).unwrap();
    fuzz_container("params", &params, |bytes| {
        from_bytes::<CkksParams>(bytes, name, &hash, &SecurityPolicy::AllowInsecure).is_ok()
    });

    let program = Program::from_ron(&f.program_text).unwrap();
    let (mut client, _) = CkksClient::generate(&f.setup, &program).unwrap();
    let inputs = program
        .inputs()
        .map(|(spec, _)| (spec.name.clone(), vec![0.5; 16]))
        .collect();
    let bundle = CiphertextBundle {
        key_set: KeySetTag::random([1; 32]).unwrap(),
        ciphertexts: client.encrypt_inputs(&program, inputs).unwrap(),
    };
    let path = f.dir.join("in.ct");
    write_bundle(&path, context(&f), &bundle).unwrap();
    let seed = std::fs::read(&path).unwrap();
    fuzz("bundle", &seed, |bytes| {
        bundle_from_bytes(bytes, name, context(&f), 8).is_ok()
    });
}

#[test]
fn fuzz_safetensors() {
    let tmp = tempfile::tempdir().unwrap();
    reliability_support::write_model(tmp.path(), reliability_support::weight);
    let seed = std::fs::read(tmp.path().join("lin.safetensors")).unwrap();
    fuzz("safetensors", &seed, |bytes| {
        match WeightFile::from_bytes(bytes, Path::new("w.safetensors")) {
            Ok(file) => {
                for name in file.names() {
                    let _ = file.get(name);
                }
                true
            }
            Err(_) => false,
        }
    });
}

#[test]
fn fuzz_onnx() {
    let seed = std::fs::read(cli_common::sample_data().join("resnet20/resnet20.onnx")).unwrap();
    let options = ImportOptions {
        name: "fuzzed".into(),
        weights: fhec_compiler::model::WeightsLocation::ModelDir("w.safetensors".into()),
        preprocess: None,
    };
    fuzz("onnx", &seed, |bytes| {
        import_onnx_bytes(bytes, Path::new("m.onnx"), &options).is_ok()
    });
}
