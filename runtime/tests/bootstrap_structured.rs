//! Bootstrapping structured slot vectors (INSECURE test preset, N = 2^12, full slots): a known
//! weakness, pinned down so that its fix shows.
//!
//! Uniform random slots have plaintext coefficients of size ≈ 1/√N, where EvalMod's sine is
//! almost linear. A vector with a large mean (a constant, or values around an offset, as
//! biased activations are) puts it into one coefficient, c_0 = mean, and there the sine's
//! cubic term compresses the message deterministically: sin(2πx)/(2π) ≈ x·(1 − (2πx)²/6) with
//! x = c_0/ratio (ratio = q0/Δ_in). No arcsine stage corrects it yet (`bootstrapping.md`).
//! This is the deterministic gap between the CKKS and clear backends on ResNet-20
//! (`execution.md`).

use fhec_params::BootstrapConfig;
use fhec_params::bootstrap::test_boot_insecure;
use fhec_runtime::bootstrap::{BootstrapKeys, Bootstrapper};
use fhec_runtime::context::CkksContext;
use fhec_runtime::encoding::{C64, Encoder};
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::keys::KeyGenerator;
use fhec_runtime::precision::PrecisionStats;
use fhec_runtime::sampling::SecureRng;
use std::f64::consts::PI;

#[test]
fn a_large_mean_is_compressed_by_the_sines_cubic_term() {
    let config = BootstrapConfig::new(test_boot_insecure(12, 11)).unwrap();
    let context = CkksContext::new(config.params().clone()).unwrap();
    let mut generator =
        KeyGenerator::with_rng(&context, SecureRng::insecure_from_fixed_seed([9; 32]));
    let secret = generator.secret_key().unwrap();
    let public = generator.public_key(&secret);
    let keys = BootstrapKeys::generate(&context, &config, &mut generator, &secret).unwrap();
    let bootstrapper = Bootstrapper::new(&context, &config, &keys).unwrap();
    let encoder = Encoder::new(&context);
    let n = config.slots();
    let ratio = 2f64.powi(config.evalmod().log_message_ratio as i32);
    let bootstrap = |values: &[C64]| -> Vec<C64> {
        let plaintext = encoder
            .encode(values, n, config.min_input_level(), config.input_scale())
            .unwrap();
        let ct = Encryptor::with_rng(&context, SecureRng::insecure_from_fixed_seed([5; 32]))
            .encrypt_pk(&public, &plaintext);
        encoder.decode(&decrypt(
            &context,
            &secret,
            &bootstrapper.bootstrap(&ct).unwrap(),
        ))
    };

    let mut rng = SecureRng::insecure_from_fixed_seed([1; 32]);
    let mut uniform = || rng.below(1 << 53) as f64 / (1u64 << 52) as f64 - 1.0;
    let random: Vec<C64> = (0..n).map(|_| C64::new(uniform(), 0.0)).collect();
    let stats = PrecisionStats::of(&random, &bootstrap(&random));
    assert!(stats.mean_bits() > 23.0, "random: {stats}");

    for mean in [0.5, 0.9] {
        let values = vec![C64::new(mean, 0.0); n];
        let got = bootstrap(&values);
        let error = got.iter().map(|g| g.re - mean).sum::<f64>() / n as f64;
        // The cubic term's prediction: −mean·(2π·mean/ratio)²/6 (measured within 2 %).
        let x = mean / ratio;
        let predicted = -mean * (2.0 * PI * x).powi(2) / 6.0;
        assert!(
            (error / predicted - 1.0).abs() < 0.1,
            "mean {mean}: error {error:.3e}, cubic term {predicted:.3e}"
        );
        let stats = PrecisionStats::of(&values, &got);
        assert!(stats.mean_bits() < 17.0, "mean {mean}: {stats}");
    }
}
