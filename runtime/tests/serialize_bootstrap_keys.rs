//! Bootstrapping key files (INSECURE test parameters, `test_boot_insecure`): the whole key set
//! round-trips through a file seed-compressed, the file is about half the keys' memory, the
//! keys read back bootstrap like the originals, and a truncated file or a file of another kind
//! is refused with an error naming it.

use fhec_params::BootstrapConfig;
use fhec_params::bootstrap::test_boot_insecure;
use fhec_runtime::bootstrap::{BootstrapKeys, Bootstrapper};
use fhec_runtime::context::CkksContext;
use fhec_runtime::encoding::{C64, Encoder};
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::keys::{GaloisKeys, KeyGenerator};
use fhec_runtime::precision::PrecisionStats;
use fhec_runtime::sampling::SecureRng;
use fhec_runtime::serialize::{Problem, read_ckks_file, write_ckks_file};
use std::fs;

#[test]
fn bootstrap_keys_round_trip_and_still_bootstrap() {
    // Sparse slots with encapsulation: every part of the key set is present.
    let config = BootstrapConfig::new(test_boot_insecure(12, 9)).unwrap();
    assert!(config.ephemeral_hamming_weight().is_some());
    let context = CkksContext::new(config.params().clone()).unwrap();
    let mut generator =
        KeyGenerator::with_rng(&context, SecureRng::insecure_from_fixed_seed([3; 32]));
    let secret = generator.secret_key().unwrap();
    let public = generator.public_key(&secret);
    let keys = BootstrapKeys::generate(&context, &config, &mut generator, &secret).unwrap();
    drop(generator);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bootstrap.keys");
    write_ckks_file(&path, &context, &keys).unwrap();
    let size = fs::metadata(&path).unwrap().len() as f64;
    let compressed = keys.compressed_bytes() as f64;
    assert!(
        (size / compressed - 1.0).abs() < 0.01,
        "file {size} bytes, keys {compressed} bytes compressed"
    );
    let read: BootstrapKeys = read_ckks_file(&path, &context).unwrap();
    assert!(read == keys, "the keys read back differ from those written");

    // The keys read back bootstrap: a fresh level-0 ciphertext comes back at the output level.
    let bootstrapper = Bootstrapper::new(&context, &config, &read).unwrap();
    let slots = config.slots();
    let values: Vec<C64> = (0..slots)
        .map(|j| C64::new((j as f64 / slots as f64) - 0.5, 0.25))
        .collect();
    let encoder = Encoder::new(&context);
    let plain = encoder
        .encode(
            &values,
            slots,
            config.min_input_level(),
            config.input_scale(),
        )
        .unwrap();
    let ct = Encryptor::with_rng(&context, SecureRng::insecure_from_fixed_seed([4; 32]))
        .encrypt_pk(&public, &plain);
    let out = bootstrapper.bootstrap(&ct).unwrap();
    assert_eq!(out.level(), config.output_level());
    let decoded = encoder.decode(&decrypt(&context, &secret, &out));
    let stats = PrecisionStats::of(&values, &decoded);
    assert!(stats.min_bits() > 18.0, "{stats}");
}

#[test]
fn damaged_or_foreign_files_are_refused_naming_the_file() {
    let config = BootstrapConfig::new(test_boot_insecure(11, 10)).unwrap();
    let context = CkksContext::new(config.params().clone()).unwrap();
    let mut generator =
        KeyGenerator::with_rng(&context, SecureRng::insecure_from_fixed_seed([5; 32]));
    let secret = generator.secret_key().unwrap();
    let keys = BootstrapKeys::generate(&context, &config, &mut generator, &secret).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let truncated = dir.path().join("truncated.keys");
    write_ckks_file(&truncated, &context, &keys).unwrap();
    let bytes = fs::read(&truncated).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let error = read_ckks_file::<BootstrapKeys>(&truncated, &context).unwrap_err();
    assert!(error.to_string().contains("truncated.keys"), "{error}");

    let galois = dir.path().join("galois.keys");
    write_ckks_file(&galois, &context, &keys.galois).unwrap();
    let error = read_ckks_file::<BootstrapKeys>(&galois, &context).unwrap_err();
    assert!(
        matches!(error.problem(), Problem::WrongKind { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("galois.keys"), "{error}");
    // And the Galois set alone still reads as what it is.
    let _: GaloisKeys = read_ckks_file(&galois, &context).unwrap();
}
