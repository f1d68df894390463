//! The bootstrap pipeline around EvalMod with the two DFTs replaced by a secret-key oracle, at
//! the small **insecure** test chain (N = 2^11, full slots, labelled): ScaleDown →
//! dense→sparse → ModRaise + sparse→dense → [oracle C2S: decrypt the raised coefficients t_j,
//! encrypt t_j/(q0·K) in slots] → EvalMod (A = q0/Δ_in) → [oracle S2C: decrypt, read the slots
//! as coefficients, decode]. What comes out must be the input message: this checks the real
//! overflow distribution, the message ratio, EvalMod's scaling, and the precision EvalMod and
//! ModRaise leave to a bootstrap (the DFTs' own errors come on top).

mod ckks_support;

use ckks_support::{TestContext, check_precision};
use fhec_params::bootstrap::test_boot_insecure;
use fhec_params::{BootstrapConfig, Level};
use fhec_runtime::bootstrap::encapsulation::{
    EncapsulationKeys, ephemeral_secret, raise_to_dense, switch_to_sparse,
};
use fhec_runtime::bootstrap::evalmod::EvalMod;
use fhec_runtime::bootstrap::mod_raise::scale_down;
use fhec_runtime::encoding::{C64, Plaintext};
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::eval::Evaluator;
use fhec_runtime::keys::KeyGenerator;
use fhec_runtime::ring::Form;
use fhec_runtime::sampling::SecureRng;

#[test]
fn modraise_and_evalmod_between_oracle_dfts_return_the_message() {
    // The preset's EvalMod (degree 30, r = 4, arcsine stage: 11 levels).
    let config = BootstrapConfig::new(test_boot_insecure(11, 10)).unwrap();
    assert_eq!(config.levels_per_step()[1], 11);
    run(&config, "TEST_BOOT_N11_INSECURE r=4", 30.5);
}

#[test]
fn three_double_angles_save_a_level_for_less_precision() {
    // r = 3 (Lattigo's default, 8 levels for the sine): the polynomial error is 2^-35.1
    // instead of 2^-45.
    let mut literal = test_boot_insecure(11, 10);
    literal.evalmod.double_angles = 3;
    let config = BootstrapConfig::new(literal).unwrap();
    assert_eq!(config.levels_per_step()[1], 10);
    // With the arcsine stage the sine's cubic term no longer limits either variant (it held
    // both near 24 bits at N = 2^11): r = 4 gives 31.7 bits, r = 3 stays at 24.0, its
    // polynomial error amplified by √N (docs/bootstrapping.md).
    run(&config, "TEST_BOOT_N11_INSECURE r=3", 22.0);
}

/// The pipeline of the module documentation; fails below `min_mean_bits` (mean) or
/// `min_mean_bits − 6` (worst slot) against the input message.
fn run(config: &BootstrapConfig, name: &str, min_mean_bits: f64) {
    let test = TestContext::new(name, config.params().literal());
    let context = &test.context;
    let ring = context.ring();
    let n = ring.degree();
    let slots = config.slots();
    assert_eq!(slots, n / 2);
    let mut generator =
        KeyGenerator::with_rng(context, SecureRng::insecure_from_fixed_seed([41; 32]));
    let sparse = ephemeral_secret(context, &mut generator, 32).unwrap();
    let keys = EncapsulationKeys::generate(context, &mut generator, &test.secret, &sparse).unwrap();
    drop(sparse);
    let evaluator = Evaluator::new(context).with_relinearization_key(&test.relinearization);

    // Uniform complex slots in [−1, 1] at the circuit's output level, then up to the top.
    let values = test.random_values(slots);
    let circuit = test.encrypt(&values, slots, config.output_level());
    let input = scale_down(&evaluator, &circuit, config.input_scale()).unwrap();
    let under_sparse = switch_to_sparse(context, &keys.dense_to_sparse, &input).unwrap();
    let raised = raise_to_dense(context, &keys.sparse_to_dense, &under_sparse).unwrap();
    assert_eq!(raised.level(), config.levels().top);

    // Oracle C2S: the raised coefficients t_j, as x_j/K = t_j/(q0·K) in two real ciphertexts.
    let mut plaintext = decrypt(context, &test.secret, &raised).poly;
    ring.to_coefficient(&mut plaintext);
    let mut t = vec![0.0; n];
    ring.coefficients_centered_f64(&plaintext, &mut t);
    let q0 = context.q_prime(Level(0)) as f64;
    let k = f64::from(config.evalmod().k);
    let evalmod_scale = 2f64.powi(config.evalmod().log_scale as i32);
    let mut encryptor = Encryptor::with_rng(context, SecureRng::insecure_from_fixed_seed([42; 32]));
    let halves: Vec<_> = t
        .chunks(slots)
        .map(|half| {
            let u: Vec<f64> = half.iter().map(|&tj| tj / (q0 * k)).collect();
            let plaintext = test
                .encoder()
                .encode_real(&u, slots, config.levels().c2s_output, evalmod_scale)
                .unwrap();
            encryptor.encrypt_pk(&test.public, &plaintext)
        })
        .collect();

    // EvalMod on both halves: A·sin(2πx)/(2π) with A = q0/Δ_in gives the coefficients of m.
    // The output stays at the EvalMod scale (2^60): noise added before SlotToCoeff is amplified
    // by √N on the way to the slots, so S2C, not EvalMod, should come down to 2^45.
    let evalmod = EvalMod::for_bootstrap(config).unwrap();
    assert_eq!(evalmod.output_factor(), q0 / config.input_scale());
    let mut coefficients = Vec::with_capacity(n);
    for half in &halves {
        let out = evalmod.evaluate(&evaluator, half, evalmod_scale).unwrap();
        assert_eq!(out.level(), config.levels().evalmod_output);
        assert_eq!(out.scale, evalmod_scale);
        coefficients.extend(test.decrypt(&out).iter().map(|z| z.re));
    }

    // Oracle S2C: the slots read as the message's coefficients, decoded.
    let scale = 2f64.powi(40);
    let integers: Vec<i64> = coefficients
        .iter()
        .map(|&c| (c * scale).round() as i64)
        .collect();
    let mut poly = ring.from_signed(&integers, Level(0), false);
    ring.to_ntt(&mut poly);
    assert_eq!(poly.form(), Form::Ntt);
    let decoded = test.encoder().decode(&Plaintext { poly, scale, slots });
    let stats = check_precision(
        &format!("{} ModRaise+EvalMod (oracle DFTs)", test.name),
        &values,
        &decoded,
        min_mean_bits,
    );
    // A wrong ratio A (off by 2^-10) must be visible: a negative control on the check itself.
    let wrong: Vec<C64> = decoded
        .iter()
        .map(|z| C64::new(z.re * (1.0 + 1.0 / 1024.0), z.im))
        .collect();
    let wrong_stats = fhec_runtime::precision::PrecisionStats::of(&values, &wrong);
    assert!(wrong_stats.mean_bits() < stats.mean_bits() - 8.0);
}
