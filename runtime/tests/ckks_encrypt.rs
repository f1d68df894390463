//! Public-key and secret-key encryption, decryption, seed-compressed ciphertexts, and key
//! hygiene (the secret key prints nothing).

mod ckks_support;

use ckks_support::{TestContext, check_precision};
use fhec_params::Level;
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::sampling::SecureRng;

#[test]
fn public_key_encryption_decrypts_to_30_bits_at_scale_2_40() {
    // Thresholds are stated for scale 2^40 (the test presets); other literals shift them.
    for t in TestContext::all() {
        let slots = t.max_slots();
        let values = t.random_values(slots);
        for level in [t.top(), Level(0)] {
            let ciphertext = t.encrypt(&values, slots, level);
            assert_eq!(ciphertext.level(), level);
            t.check(
                &format!("pk encrypt level {}", level.0),
                &ciphertext,
                &values,
                30.0,
            );
        }
    }
}

#[test]
fn secret_key_encryption_is_seeded_and_decrypts_to_30_bits() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let values = t.random_values(slots);
        let plaintext = t
            .encoder()
            .encode(&values, slots, t.top(), t.scale())
            .unwrap();
        let mut encryptor =
            Encryptor::with_rng(&t.context, SecureRng::insecure_from_fixed_seed([3; 32]));
        let seeded = encryptor.encrypt_sk(&t.secret, &plaintext);
        let ciphertext = seeded.expand(&t.context);
        // The seed determines c1: expanding twice gives the same ciphertext.
        assert_eq!(ciphertext, seeded.expand(&t.context));
        t.check("sk encrypt", &ciphertext, &values, 30.0);
        // A second encryption uses a fresh seed and fresh noise.
        let other = encryptor.encrypt_sk(&t.secret, &plaintext);
        assert_ne!(other.seed, seeded.seed);
        assert_ne!(other.c0, seeded.c0);
    }
}

#[test]
fn decryption_with_another_secret_key_gives_noise() {
    let t = TestContext::all().remove(0);
    let values = t.random_values(8);
    let ciphertext = t.encrypt(&values, 8, t.top());
    let mut generator = fhec_runtime::keys::KeyGenerator::with_rng(
        &t.context,
        SecureRng::insecure_from_fixed_seed([99; 32]),
    );
    let stranger = generator.secret_key().unwrap();
    let garbage = t
        .encoder()
        .decode(&decrypt(&t.context, &stranger, &ciphertext));
    let stats = fhec_runtime::precision::PrecisionStats::of(&values, &garbage);
    assert!(stats.mean_bits() < 0.0, "a wrong key decrypted: {stats}");
}

#[test]
fn sparse_slot_ciphertexts_decrypt() {
    for t in TestContext::all() {
        for slots in [1, 4, 32] {
            let values = t.random_values(slots);
            let ciphertext = t.encrypt(&values, slots, t.top());
            let got = t.decrypt(&ciphertext);
            let threshold = t.threshold(30.0);
            check_precision(
                &format!("{} sparse {slots}", t.name),
                &values,
                &got,
                threshold,
            );
        }
    }
}

#[test]
fn secret_key_debug_output_is_redacted() {
    let t = TestContext::all().remove(0);
    assert_eq!(format!("{:?}", t.secret), "SecretKey(<redacted>)");
}
