//! Bootstrapping structured slot vectors (INSECURE test preset, N = 2^12, full slots): a slot
//! vector with a large mean must come back as precisely as random slots.
//!
//! Uniform random slots have plaintext coefficients of size ≈ 1/√N, where EvalMod's sine is
//! almost linear. A vector with a large mean (a constant, or values around an offset, as
//! biased activations are) puts it into one coefficient, c_0 = mean, and there the sine alone
//! compresses the message deterministically: sin(2πx)/(2π) ≈ x·(1 − (2πx)²/6) with
//! x = c_0/ratio (ratio = q0/Δ_in), 13.7 bits for a constant 0.9 at this preset's ratio 2^8.
//! The arcsine stage after the double angles undoes it (`bootstrapping.md`): 29.3 bits.

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
fn a_large_mean_bootstraps_as_precisely_as_random_slots() {
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
    let print = |what: &str, stats: &PrecisionStats| {
        if std::env::var("FHEC_PRINT_PRECISION").is_ok_and(|v| v == "1") {
            println!("{what}: {stats}");
        }
    };

    let mut rng = SecureRng::insecure_from_fixed_seed([1; 32]);
    let mut uniform = || rng.below(1 << 53) as f64 / (1u64 << 52) as f64 - 1.0;
    let random: Vec<C64> = (0..n).map(|_| C64::new(uniform(), 0.0)).collect();
    let stats = PrecisionStats::of(&random, &bootstrap(&random));
    print("random", &stats);
    assert!(stats.mean_bits() > 28.0, "random: {stats}");

    let biased: Vec<C64> = (0..n)
        .map(|_| C64::new(0.8 + 0.1 * uniform(), 0.0))
        .collect();
    let mut cases = vec![("biased 0.8 ± 0.1", biased)];
    for mean in [0.5, 0.9, -0.9] {
        cases.push(("constant", vec![C64::new(mean, 0.0); n]));
    }
    for (what, values) in cases {
        let got = bootstrap(&values);
        let stats = PrecisionStats::of(&values, &got);
        print(&format!("{what} {}", values[0].re), &stats);
        // The sine alone would lose (2π·mean/ratio)²/6 of the mean: 2^-13.6 at 0.9.
        let mean = values.iter().map(|v| v.re).sum::<f64>() / n as f64;
        let cubic = (mean * (2.0 * PI * mean / ratio).powi(2) / 6.0).abs();
        let error = (got.iter().map(|g| g.re).sum::<f64>() / n as f64 - mean).abs();
        assert!(
            error < cubic / 256.0,
            "{what} {mean}: mean error {error:.3e}, the sine's cubic term {cubic:.3e}"
        );
        // Measured 28.4–29.3 bits mean, 26.7–27.2 in the worst slot (random: 29.3 / 27.0).
        assert!(
            stats.mean_bits() > 27.5 && stats.min_bits() > 25.5,
            "{what} {mean}: {stats}"
        );
    }
}
