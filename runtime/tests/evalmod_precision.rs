//! Encrypted EvalMod on its own (plan §5.2 test 5), at the small **insecure** bootstrapping
//! test chain (N = 2^11, `test_boot_insecure`, labelled): inputs u = x/K with x = i + m/A
//! (i an integer, |m| ≤ 1, A = 2^8 the message ratio) come out as A·(x − round(x)) = m (the
//! sine, then the arcsine stage), at the expected level and exactly the requested scale.

mod ckks_support;

use ckks_support::{TestContext, check_precision, uniform};
use fhec_params::BootstrapConfig;
use fhec_params::bootstrap::test_boot_insecure;
use fhec_runtime::bootstrap::evalmod::{EvalMod, EvalModError};
use fhec_runtime::encoding::C64;
use fhec_runtime::encrypt::Encryptor;
use fhec_runtime::eval::Evaluator;
use fhec_runtime::sampling::SecureRng;

#[test]
fn encrypted_evalmod_reduces_modulo_one_at_the_planned_levels() {
    let config = BootstrapConfig::new(test_boot_insecure(11, 10)).unwrap();
    let test = TestContext::new("TEST_BOOT_N11_INSECURE", config.params().literal());
    let literal = config.evalmod();
    let ratio = 2f64.powi(literal.log_message_ratio as i32);
    let evalmod = EvalMod::new(literal, ratio).unwrap();
    assert_eq!(evalmod.depth(), config.levels_per_step()[1]);

    let slots = config.slots();
    let k = f64::from(literal.k);
    let mut rng = SecureRng::insecure_from_fixed_seed([21; 32]);
    let mut messages = Vec::with_capacity(slots);
    let mut inputs = Vec::with_capacity(slots);
    for _ in 0..slots {
        let integer = (rng.below(2 * literal.k as u64 + 1) as f64 - k).clamp(-k + 1.0, k - 1.0);
        let m = uniform(&mut rng);
        messages.push(m);
        inputs.push(C64::new((integer + m / ratio) / k, 0.0));
    }
    let levels = config.levels();
    let input_scale = 2f64.powi(literal.log_scale as i32);
    let plaintext = test
        .encoder()
        .encode(&inputs, slots, levels.c2s_output, input_scale)
        .unwrap();
    let ciphertext =
        Encryptor::with_rng(&test.context, SecureRng::insecure_from_fixed_seed([22; 32]))
            .encrypt_pk(&test.public, &plaintext);

    let evaluator = Evaluator::new(&test.context).with_relinearization_key(&test.relinearization);
    let target = config.output_scale();
    let output = evalmod.evaluate(&evaluator, &ciphertext, target).unwrap();
    assert_eq!(output.level(), levels.evalmod_output);
    assert_eq!(output.scale, target);
    let got = test.decrypt(&output);

    // Against the same polynomial, double angles and arcsine stage in the clear: the noise
    // only.
    let clear: Vec<C64> = inputs
        .iter()
        .map(|u| C64::new(evalmod.evaluate_clear(u.re * k), 0.0))
        .collect();
    check_precision(
        &format!("{} EvalMod vs clear", test.name),
        &clear,
        &got,
        33.0,
    );
    // Against the message itself. Without the arcsine stage the sine's cubic term
    // (2π·m/A)²/6 ≈ 2^-13.3 relative at |m| = 1 bounded this at about 15 bits; the arcsine
    // stage leaves 2^-27.7 at |m| = 1 (measured: 29.4 bits mean, 27.7 worst).
    let exact: Vec<C64> = messages.iter().map(|&m| C64::new(m, 0.0)).collect();
    check_precision(&format!("{} EvalMod vs m", test.name), &exact, &got, 28.5);
}

#[test]
fn evalmod_refuses_a_ciphertext_without_enough_levels() {
    let config = BootstrapConfig::new(test_boot_insecure(11, 10)).unwrap();
    let test = TestContext::new("TEST_BOOT_N11_INSECURE", config.params().literal());
    let evalmod = EvalMod::new(config.evalmod(), 256.0).unwrap();
    let low = test.encrypt(&[C64::new(0.5, 0.0)], 4, config.levels().evalmod_output);
    let evaluator = Evaluator::new(&test.context).with_relinearization_key(&test.relinearization);
    assert_eq!(
        evalmod.evaluate(&evaluator, &low, config.output_scale()),
        Err(EvalModError::NotEnoughLevels {
            needed: 11,
            level: config.levels().evalmod_output.0
        })
    );
}
