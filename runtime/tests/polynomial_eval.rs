//! Homomorphic Chebyshev evaluation against the clear polynomial, at small **insecure**
//! parameters (N = 2^11, labelled): the output level is the input level minus
//! ⌈log2(d + 1)⌉, the output scale is exactly the requested one, and the slots match the clear
//! evaluation to the precision of the scale.

mod ckks_support;

use ckks_support::{TestContext, check_precision};
use fhec_params::{CkksParamsLiteral, Level, SecretDistribution};
use fhec_runtime::encoding::C64;
use fhec_runtime::encrypt::Encryptor;
use fhec_runtime::eval::{ChebyshevPolynomial, EvalError, Evaluator, PolynomialError};
use fhec_runtime::sampling::SecureRng;

/// N = 2^11, q0 of 60 bits and 8 primes of 50 bits, scale 2^50. INSECURE (tests only).
fn literal() -> CkksParamsLiteral {
    CkksParamsLiteral {
        log_n: 11,
        log_q: std::iter::once(60)
            .chain(std::iter::repeat_n(50, 8))
            .collect(),
        log_p: vec![61, 61],
        dnum: 5,
        log_scale: 50,
        secret: SecretDistribution::Ternary,
        insecure: true,
    }
}

fn context() -> TestContext {
    TestContext::new("TEST_N11_POLY_INSECURE", literal())
}

/// Real inputs uniform in [a, b] in every slot.
fn inputs(test: &TestContext, a: f64, b: f64) -> Vec<C64> {
    let slots = test.max_slots();
    test.random_values(slots)
        .into_iter()
        .map(|z| C64::new(a + (z.re + 1.0) * 0.5 * (b - a), 0.0))
        .collect()
}

/// Evaluates `poly` on fresh inputs at the top level, encrypted at `input_scale`, and checks
/// level, scale and precision.
fn check_at(
    test: &TestContext,
    poly: &ChebyshevPolynomial,
    input_scale: f64,
    target_scale: f64,
    min_bits: f64,
) {
    let (a, b) = poly.interval();
    let values = inputs(test, a, b);
    let slots = test.max_slots();
    let plaintext = test
        .encoder()
        .encode(&values, slots, test.top(), input_scale)
        .unwrap();
    let input = Encryptor::with_rng(&test.context, SecureRng::insecure_from_fixed_seed([5; 32]))
        .encrypt_pk(&test.public, &plaintext);
    let evaluator = Evaluator::new(&test.context).with_relinearization_key(&test.relinearization);
    let output = evaluator
        .evaluate_chebyshev(&input, poly, target_scale)
        .unwrap();
    assert_eq!(output.level().0, test.top().0 - poly.depth());
    assert_eq!(output.scale, target_scale, "the scale must be exact");
    let expected: Vec<C64> = values
        .iter()
        .map(|x| C64::new(poly.evaluate(x.re), 0.0))
        .collect();
    let got = test.decrypt(&output);
    check_precision(
        &format!("{} degree {}", test.name, poly.degree()),
        &expected,
        &got,
        min_bits,
    );
}

/// [`check_at`] with the input at the parameters' scale.
fn check(test: &TestContext, poly: &ChebyshevPolynomial, target_scale: f64, min_bits: f64) {
    check_at(test, poly, test.scale(), target_scale, min_bits);
}

#[test]
fn dense_polynomials_of_every_shape_land_on_the_target_scale() {
    let test = context();
    let scale = test.scale();
    for degree in [1, 2, 3, 5, 7, 8, 13, 16, 30, 31] {
        let poly =
            ChebyshevPolynomial::interpolate(|x| (0.7 * x).sin() + 0.1, degree, -2.0, 3.0).unwrap();
        assert_eq!(
            poly.depth(),
            (degree + 1).next_power_of_two().trailing_zeros() as usize
        );
        // Δ·(b − a)/2 = Δ: the scale of u matches the primes.
        check_at(&test, &poly, scale / 2.5, scale, 36.0);
    }
    // An input scale 2^-6 below the primes: the power basis brings its scales back up.
    let poly = ChebyshevPolynomial::interpolate(|x| (0.7 * x).cos(), 30, -1.0, 1.0).unwrap();
    check_at(&test, &poly, scale / 64.0, scale, 33.0);
}

#[test]
fn sparse_and_constant_polynomials_and_other_target_scales() {
    let test = context();
    // Odd only (every even coefficient zero): some leaves are constants or empty.
    let odd = ChebyshevPolynomial::new(
        (0..16)
            .map(|k| if k % 2 == 1 { 1.0 / k as f64 } else { 0.0 })
            .collect(),
        -1.0,
        1.0,
    )
    .unwrap();
    check(&test, &odd, test.scale(), 35.0);
    // Only T_0 and T_16: the quotient is a constant.
    let mut coefficients = vec![0.0; 17];
    coefficients[0] = 0.25;
    coefficients[16] = 0.5;
    let spike = ChebyshevPolynomial::new(coefficients, -1.0, 1.0).unwrap();
    check(&test, &spike, test.scale(), 33.0);
    let constant = ChebyshevPolynomial::new(vec![0.375], -1.0, 1.0).unwrap();
    assert_eq!(constant.depth(), 1);
    check(&test, &constant, test.scale(), 30.0);
    // A target scale that is no power of two and far from the primes.
    let poly = ChebyshevPolynomial::interpolate(|x| x.exp(), 12, -1.0, 1.0).unwrap();
    check(&test, &poly, 3.0e13, 31.0);
}

#[test]
fn missing_levels_and_keys_are_reported() {
    let test = context();
    let slots = test.max_slots();
    let values = inputs(&test, -1.0, 1.0);
    let poly = ChebyshevPolynomial::interpolate(f64::cos, 30, -1.0, 1.0).unwrap();
    let low = test.encrypt(&values, slots, Level(4));
    let evaluator = Evaluator::new(&test.context).with_relinearization_key(&test.relinearization);
    assert_eq!(
        evaluator.evaluate_chebyshev(&low, &poly, test.scale()),
        Err(PolynomialError::NotEnoughLevels {
            degree: 30,
            needed: 5,
            level: 4
        })
    );
    let top = test.encrypt(&values, slots, test.top());
    assert_eq!(
        Evaluator::new(&test.context).evaluate_chebyshev(&top, &poly, test.scale()),
        Err(PolynomialError::Eval(EvalError::MissingRelinearizationKey))
    );
    assert!(matches!(
        evaluator.evaluate_chebyshev(&top, &poly, f64::NAN),
        Err(PolynomialError::TargetScale { .. })
    ));
}
