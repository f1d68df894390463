//! ScaleDown, sparse-secret encapsulation and ModRaise (plan §5.2 test 6), at the small
//! **insecure** bootstrapping test chain (N = 2^11, `test_boot_insecure`, labelled).
//!
//! A ciphertext is scaled down to level 0 at the bootstrap input scale, switched to the
//! ephemeral sparse key (h = 32), raised to the top level and switched back to the dense key
//! (the one-digit switch fused with the raise).
//! Decrypting the raised ciphertext gives Δ·m + e + q0·I with I integral and |I| ≤ (h + 1)/2,
//! under the sparse key before the switch back and under the dense key after it (the same I);
//! wrong keys give noise.

mod ckks_support;

use ckks_support::{TestContext, check_precision};
use fhec_params::bootstrap::test_boot_insecure;
use fhec_params::{BootstrapConfig, Level};
use fhec_runtime::bootstrap::encapsulation::{
    EncapsulationError, EncapsulationKeys, SparseSwitchKey, ephemeral_secret, raise_to_dense,
    switch_to_sparse,
};
use fhec_runtime::bootstrap::mod_raise::{RaiseError, mod_raise, scale_down};
use fhec_runtime::ciphertext::Ciphertext;
use fhec_runtime::encoding::C64;
use fhec_runtime::encrypt::decrypt;
use fhec_runtime::eval::Evaluator;
use fhec_runtime::keys::switch_between::SingleDigitKey;
use fhec_runtime::keys::{KeyError, KeyGenerator, SecretKey};
use fhec_runtime::precision::PrecisionStats;
use fhec_runtime::sampling::SecureRng;

const HAMMING_WEIGHT: usize = 32;

struct Setup {
    config: BootstrapConfig,
    test: TestContext,
    sparse: SecretKey,
    keys: EncapsulationKeys,
}

fn setup() -> Setup {
    let config = BootstrapConfig::new(test_boot_insecure(11, 10)).unwrap();
    let test = TestContext::new("TEST_BOOT_N11_INSECURE", config.params().literal());
    let mut generator =
        KeyGenerator::with_rng(&test.context, SecureRng::insecure_from_fixed_seed([31; 32]));
    let sparse = ephemeral_secret(&test.context, &mut generator, HAMMING_WEIGHT).unwrap();
    assert_eq!(
        sparse.coefficients().iter().filter(|&&c| c != 0).count(),
        HAMMING_WEIGHT
    );
    let keys =
        EncapsulationKeys::generate(&test.context, &mut generator, &test.secret, &sparse).unwrap();
    drop(generator);
    Setup {
        config,
        test,
        sparse,
        keys,
    }
}

/// The integers I_j and remainders r_j of the raised decryption c0 + c1·s = r + q0·I under
/// `key`, with r_j centered mod q0.
fn overflow(test: &TestContext, key: &SecretKey, raised: &Ciphertext) -> (Vec<i64>, Vec<f64>) {
    let ring = test.context.ring();
    let mut plaintext = decrypt(&test.context, key, raised).poly;
    ring.to_coefficient(&mut plaintext);
    let mut values = vec![0.0; ring.degree()];
    ring.coefficients_centered_f64(&plaintext, &mut values);
    let q0 = test.context.q_prime(Level(0)) as f64;
    let integers: Vec<i64> = values.iter().map(|v| (v / q0).round() as i64).collect();
    let remainders = values
        .iter()
        .zip(&integers)
        .map(|(v, &i)| v - i as f64 * q0)
        .collect();
    (integers, remainders)
}

fn decrypt_with(test: &TestContext, key: &SecretKey, ciphertext: &Ciphertext) -> Vec<C64> {
    test.encoder()
        .decode(&decrypt(&test.context, key, ciphertext))
}

#[test]
fn scale_down_encapsulate_and_raise_keep_the_message_modulo_q0() {
    let Setup {
        config,
        test,
        sparse,
        keys,
    } = setup();
    let slots = config.slots();
    let values = test.random_values(slots);
    let evaluator = Evaluator::new(&test.context);

    // ScaleDown from the circuit's output level to level 0 at exactly 2^52.
    let circuit = test.encrypt(&values, slots, config.output_level());
    let input = scale_down(&evaluator, &circuit, config.input_scale()).unwrap();
    assert_eq!(input.level(), Level(0));
    assert_eq!(input.scale, config.input_scale());
    check_precision("ScaleDown", &values, &test.decrypt(&input), 30.0);

    // Dense → sparse at level 0: decrypts under s', not under s.
    let under_sparse = switch_to_sparse(&test.context, &keys.dense_to_sparse, &input).unwrap();
    let sparse_values = decrypt_with(&test, &sparse, &under_sparse);
    check_precision("dense→sparse", &values, &sparse_values, 30.0);
    let wrong = PrecisionStats::of(&values, &decrypt_with(&test, &test.secret, &under_sparse));
    assert!(
        wrong.mean_bits() < 2.0,
        "the dense key must not decrypt it: {wrong}"
    );

    // ModRaise under s': the remainder is the level-0 decryption, |I| ≤ (h + 1)/2.
    let raised = mod_raise(&test.context, &under_sparse).unwrap();
    assert_eq!(raised.level(), config.levels().top);
    let (integers, remainders) = overflow(&test, &sparse, &raised);
    let (_, level0) = overflow(&test, &sparse, &under_sparse);
    for (r, l) in remainders.iter().zip(&level0) {
        assert!(
            (r - l).abs() < 4096.0,
            "remainder {r} vs level-0 decryption {l}"
        );
    }
    let largest = integers.iter().map(|i| i.unsigned_abs()).max().unwrap();
    assert!(
        (1..=(HAMMING_WEIGHT as u64).div_ceil(2)).contains(&largest),
        "max |I| = {largest}"
    );

    // Raise and switch back to s in one step: the same I under s, small key-switching noise.
    let back = raise_to_dense(&test.context, &keys.sparse_to_dense, &under_sparse).unwrap();
    assert_eq!(back.level(), config.levels().top);
    let (integers_dense, remainders_dense) = overflow(&test, &test.secret, &back);
    assert_eq!(integers_dense, integers);
    for (a, b) in remainders_dense.iter().zip(&remainders) {
        // Below the f64 resolution of these ~2^62 values (2^10): the noise is a few units.
        assert!((a - b).abs() <= 4096.0, "key-switching noise {}", a - b);
    }
    let (integers_wrong, _) = overflow(&test, &sparse, &back);
    let wrong_largest = integers_wrong
        .iter()
        .map(|i| i.unsigned_abs())
        .max()
        .unwrap();
    assert!(
        wrong_largest > 1 << 20,
        "s' must not decrypt the switched-back ciphertext"
    );
}

#[test]
fn a_dense_key_overflows_far_beyond_the_sparse_bound() {
    // Negative control for the bound above: without encapsulation the raised overflow is
    // driven by the dense key's ~2N/3 non-zero coefficients (σ = √((h + 1)/12) ≈ 10.7 here).
    let Setup { config, test, .. } = setup();
    let slots = config.slots();
    let values = test.random_values(slots);
    let evaluator = Evaluator::new(&test.context);
    let circuit = test.encrypt(&values, slots, config.output_level());
    let input = scale_down(&evaluator, &circuit, config.input_scale()).unwrap();
    let raised = mod_raise(&test.context, &input).unwrap();
    let (integers, _) = overflow(&test, &test.secret, &raised);
    let largest = integers.iter().map(|i| i.unsigned_abs()).max().unwrap();
    let h = test
        .secret
        .coefficients()
        .iter()
        .filter(|&&c| c != 0)
        .count() as u64;
    assert!(
        largest > 16 && largest <= h.div_ceil(2),
        "max |I| = {largest}"
    );
}

#[test]
fn wrong_levels_and_scales_are_refused() {
    let Setup {
        config, test, keys, ..
    } = setup();
    let slots = config.slots();
    let values = test.random_values(slots);
    let evaluator = Evaluator::new(&test.context);
    let circuit = test.encrypt(&values, slots, config.output_level());
    assert_eq!(
        mod_raise(&test.context, &circuit),
        Err(RaiseError::NotAtLevelZero { level: 2 })
    );
    assert_eq!(
        switch_to_sparse(&test.context, &keys.dense_to_sparse, &circuit),
        Err(EncapsulationError::NotAtLevelZero { level: 2 })
    );
    // A level-0 ciphertext at another scale cannot be scaled down any more.
    let level0 = test.encrypt(&values, slots, Level(0));
    assert!(matches!(
        scale_down(&evaluator, &level0, config.input_scale()),
        Err(RaiseError::ScaleAtLevelZero { .. })
    ));
    // A target scale above q0 is refused.
    assert!(matches!(
        scale_down(&evaluator, &circuit, 2f64.powi(61)),
        Err(RaiseError::ScaleDown { .. })
    ));
    assert_eq!(
        raise_to_dense(&test.context, &keys.sparse_to_dense, &circuit),
        Err(EncapsulationError::NotAtLevelZero { level: 2 })
    );
}

#[test]
fn the_sparse_to_dense_key_has_one_digit() {
    let Setup {
        config, keys, test, ..
    } = setup();
    // Seed-compressed forms rebuild the same keys; malformed ones are refused.
    let (level, seed, b) = keys.sparse_to_dense.compressed();
    let rebuilt = SingleDigitKey::from_compressed(&test.context, level, *seed, b.clone()).unwrap();
    assert_eq!(rebuilt, keys.sparse_to_dense);
    assert!(matches!(
        SingleDigitKey::from_compressed(&test.context, Level(1), *seed, b.clone()),
        Err(KeyError::KeyShape { .. })
    ));
    let (seed, b) = keys.dense_to_sparse.compressed();
    let rebuilt = SparseSwitchKey::from_compressed(&test.context, *seed, b.clone()).unwrap();
    assert_eq!(rebuilt, keys.dense_to_sparse);
    let truncated = [b[0][1..].to_vec(), b[1].clone()];
    assert!(matches!(
        SparseSwitchKey::from_compressed(&test.context, *seed, truncated),
        Err(EncapsulationError::Key(KeyError::KeyShape { .. }))
    ));
    let top = config.levels().top;
    assert_eq!(keys.sparse_to_dense.level(), top);
    let n = config.params().degree();
    let limbs = top.limbs() + config.params().p_primes().len();
    assert_eq!(keys.sparse_to_dense.size_bytes(), 2 * n * limbs * 8);
    assert_eq!(keys.dense_to_sparse.size_bytes(), 2 * n * 2 * 8);
    assert_eq!(
        keys.size_bytes() as u64,
        config.key_bytes(0, false)
            - 2 * config.switching_key_bytes(config.levels().c2s_output, false)
    );
}
