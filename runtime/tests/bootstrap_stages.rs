//! The bootstrap stage by stage on small, explicitly INSECURE parameters (N = 2^12, full
//! slots, `test_boot_insecure`): the exact raised polynomial t is read with the secret key,
//! and each stage's output is compared with what it should hold, so a precision loss is
//! attributed to the stage that causes it (the plan's §3 budget, measured).
//!
//! - CoeffToSlot: slot j ≈ x_(brv j)/K, x = t/q0 (bound in x units).
//! - EvalMod, homomorphic part: against its own clear evaluation (bound in message units).
//! - EvalMod's approximation of x mod 1 (sine and arcsine stage, and the sine alone): printed
//!   with `FHEC_PRINT_PRECISION=1`; it is EvalMod's own concern (tests/evalmod_precision.rs).

use fhec_params::bootstrap::test_boot_insecure;
use fhec_params::{BootstrapConfig, DftPlan, Level};
use fhec_runtime::bootstrap::encapsulation::{raise_to_dense, switch_to_sparse};
use fhec_runtime::bootstrap::evalmod::EvalMod;
use fhec_runtime::bootstrap::mod_raise::scale_down;
use fhec_runtime::bootstrap::{
    BootstrapKeys, DftSettings, DiagonalResidency, HomomorphicDft, SlotCoefficients,
};
use fhec_runtime::context::CkksContext;
use fhec_runtime::encoding::{C64, Encoder};
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::eval::Evaluator;
use fhec_runtime::keys::KeyGenerator;
use fhec_runtime::sampling::SecureRng;
use std::f64::consts::PI;

/// log2 of the mean and of the largest of `errors`.
fn summary(errors: &[f64]) -> (f64, f64) {
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    let max = errors.iter().copied().fold(0.0, f64::max);
    (mean.log2(), max.log2())
}

fn print(name: &str, errors: &[f64]) {
    if std::env::var("FHEC_PRINT_PRECISION").is_ok() {
        let (mean, max) = summary(errors);
        println!("{name}: mean 2^{mean:.2}, max 2^{max:.2}");
    }
}

#[test]
fn each_stage_within_its_budget() {
    let (log_n, log_slots) = (12, 11);
    let config = BootstrapConfig::new(test_boot_insecure(log_n, log_slots)).unwrap();
    let context = CkksContext::new(config.params().clone()).unwrap();
    let mut generator =
        KeyGenerator::with_rng(&context, SecureRng::insecure_from_fixed_seed([9; 32]));
    let secret = generator.secret_key().unwrap();
    let public = generator.public_key(&secret);
    let keys = BootstrapKeys::generate(&context, &config, &mut generator, &secret).unwrap();
    let n = config.slots();
    let mut rng = SecureRng::insecure_from_fixed_seed([11; 32]);
    let mut uniform = || rng.below(1 << 53) as f64 / (1u64 << 52) as f64 - 1.0;
    let values: Vec<C64> = (0..n).map(|_| C64::new(uniform(), uniform())).collect();
    let encoder = Encoder::new(&context);
    let plaintext = encoder
        .encode(&values, n, Level(0), config.input_scale())
        .unwrap();
    let input = Encryptor::with_rng(&context, SecureRng::insecure_from_fixed_seed([5; 32]))
        .encrypt_pk(&public, &plaintext);
    let evaluator = Evaluator::new(&context)
        .with_galois_keys(&keys.galois)
        .with_relinearization_key(&keys.relinearization);
    let encapsulation = keys.encapsulation.as_ref().unwrap();

    // Raise, and read t = Δ·m + e + q0·I exactly.
    let bottom = scale_down(&evaluator, &input, config.input_scale()).unwrap();
    let sparse = switch_to_sparse(&context, &encapsulation.dense_to_sparse, &bottom).unwrap();
    let raised = raise_to_dense(&context, &encapsulation.sparse_to_dense, &sparse).unwrap();
    let mut t_poly = decrypt(&context, &secret, &raised).poly;
    context.ring().to_coefficient(&mut t_poly);
    let mut t = vec![0.0; 1 << log_n];
    context.ring().coefficients_centered_f64(&t_poly, &mut t);
    let q0 = context.q_prime(Level(0)) as f64;
    let x: Vec<f64> = t.iter().map(|&c| c / q0).collect();
    let k = f64::from(config.evalmod().k);
    assert!(x.iter().all(|x| x.abs() < k), "|x| reached K");

    // CoeffToSlot, as the Bootstrapper sets it up.
    let levels = config.levels();
    let evalmod_scale = 2f64.powi(config.evalmod().log_scale as i32);
    let plan = DftPlan::for_bootstrap(&config).unwrap();
    let settings = DftSettings {
        c2s_level: levels.top,
        c2s_constant: evalmod_scale / (q0 * k),
        s2c_level: levels.evalmod_output,
        s2c_constant: 1.0,
        s2c_input_scale: config.output_scale(),
        s2c_output_scale: config.output_scale(),
        // The stages run with diagonals encoded at each use (the memory-lean residency);
        // bootstrap_full.rs runs the default, kept encoded.
        diagonals: DiagonalResidency::OnDemand,
    };
    let dft = HomomorphicDft::new(&context, &plan, settings).unwrap();
    let mut relabelled = raised.clone();
    relabelled.scale = evalmod_scale;
    let (real, imag) = match dft.coeff_to_slot(&evaluator, &relabelled).unwrap() {
        SlotCoefficients::Full { real, imag } => (real, imag),
        SlotCoefficients::Packed(_) => unreachable!("full slots"),
    };
    let brv = |j: usize| j.reverse_bits() >> (usize::BITS - n.trailing_zeros());
    let halves = |a: &[C64], b: &[C64]| -> Vec<(f64, usize)> {
        (0..n)
            .flat_map(|j| [(a[j].re, brv(j)), (b[j].re, brv(j) + n)])
            .collect()
    };
    let decode = |ct| encoder.decode(&decrypt(&context, &secret, ct));
    let slots = halves(&decode(&real), &decode(&imag));
    let c2s_errors: Vec<f64> = slots.iter().map(|&(u, i)| (u * k - x[i]).abs()).collect();
    print("CoeffToSlot, x units", &c2s_errors);
    assert!(
        summary(&c2s_errors).1 < -36.0,
        "CoeffToSlot: {:?}",
        summary(&c2s_errors)
    );

    // EvalMod: homomorphic noise against its clear evaluation, and its approximation of
    // x mod 1 (with the arcsine stage) against the sine's.
    let factor = q0 / config.input_scale();
    let evalmod = EvalMod::new(config.evalmod(), factor).unwrap();
    let target = config.output_scale();
    let out_real = evalmod.evaluate(&evaluator, &real, target).unwrap();
    let out_imag = evalmod.evaluate(&evaluator, &imag, target).unwrap();
    let slots = halves(&decode(&out_real), &decode(&out_imag));
    let mut noise = Vec::new();
    let mut fit = Vec::new();
    let mut sine = Vec::new();
    for &(value, i) in &slots {
        let clear = evalmod.evaluate_clear(x[i]);
        let scaled_sine = factor * (2.0 * PI * x[i]).sin() / (2.0 * PI);
        let exact = factor * (x[i] - x[i].round());
        noise.push((value - clear).abs());
        fit.push((clear - exact).abs());
        sine.push((scaled_sine - exact).abs());
    }
    print("EvalMod homomorphic noise, message units", &noise);
    print(
        "EvalMod (sine + arcsine) against x mod 1, message units",
        &fit,
    );
    print("the sine alone against x mod 1, message units", &sine);
    assert!(
        summary(&noise).1 < -28.0,
        "EvalMod noise: {:?}",
        summary(&noise)
    );
}
