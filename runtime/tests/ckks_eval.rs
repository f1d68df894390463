//! Arithmetic on ciphertexts against an f64 reference, in bits of precision, and the error
//! paths of wrong levels, scales, slot counts and missing keys.

mod ckks_support;

use ckks_support::TestContext;
use fhec_params::Level;
use fhec_runtime::encoding::C64;
use fhec_runtime::eval::{EvalError, Evaluator};

fn zip_with(a: &[C64], b: &[C64], f: impl Fn(C64, C64) -> C64) -> Vec<C64> {
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

/// A ciphertext of another level to write results into (its memory is reused).
fn placeholder(a: &fhec_runtime::ciphertext::Ciphertext) -> fhec_runtime::ciphertext::Ciphertext {
    let mut other = a.clone();
    other.c0.drop_last_q_limbs(1);
    other.c1.drop_last_q_limbs(1);
    other.scale = 1.0;
    other
}

#[test]
fn additions_subtractions_and_negation() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let (x, y) = (t.random_values(slots), t.random_values(slots));
        let (a, b) = (t.encrypt(&x, slots, t.top()), t.encrypt(&y, slots, t.top()));
        let eval = Evaluator::new(&t.context);
        t.check(
            "add",
            &eval.add_new(&a, &b).unwrap(),
            &zip_with(&x, &y, |p, q| p + q),
            29.0,
        );
        t.check(
            "sub",
            &eval.sub_new(&a, &b).unwrap(),
            &zip_with(&x, &y, |p, q| p - q),
            29.0,
        );
        t.check(
            "neg",
            &eval.neg_new(&a).unwrap(),
            &zip_with(&x, &y, |p, _| C64::default() - p),
            29.0,
        );
        // The three forms agree.
        let mut out = b.clone();
        eval.add(&a, &b, &mut out).unwrap();
        let mut in_place = a.clone();
        eval.add_assign(&mut in_place, &b).unwrap();
        assert_eq!(out, in_place);
        assert_eq!(out, eval.add_new(&a, &b).unwrap());
    }
}

#[test]
fn plaintext_operations_and_constants() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let (x, y) = (t.random_values(slots), t.random_values(slots));
        let a = t.encrypt(&x, slots, t.top());
        let eval = Evaluator::new(&t.context);
        let plain = t.encoder().encode(&y, slots, t.top(), t.scale()).unwrap();
        t.check(
            "add_plain",
            &eval.add_plain_new(&a, &plain).unwrap(),
            &zip_with(&x, &y, |p, q| p + q),
            29.0,
        );
        t.check(
            "sub_plain",
            &eval.sub_plain_new(&a, &plain).unwrap(),
            &zip_with(&x, &y, |p, q| p - q),
            29.0,
        );

        // Without rescaling, the product decodes at scale Δ² (2^80): decryption then needs
        // more primes than at scale Δ, and still only a prefix of them.
        let unscaled = eval.mul_plain_new(&a, &plain).unwrap();
        t.check(
            "mul_plain at scale Δ²",
            &unscaled,
            &zip_with(&x, &y, |p, q| p * q),
            27.0,
        );

        // The three forms of ct × pt agree (the out-of-place ones skip copying the input).
        let mut into = placeholder(&a);
        eval.mul_plain(&a, &plain, &mut into).unwrap();
        let mut assigned = a.clone();
        eval.mul_plain_assign(&mut assigned, &plain).unwrap();
        assert_eq!(into, unscaled);
        assert_eq!(assigned, unscaled);

        // ct × pt at the scale of the prime rescaled away: the scale returns to Δ·Δ/q_l.
        let q_top = t.context.q_prime(t.top()) as f64;
        let weights = t.encoder().encode(&y, slots, t.top(), q_top).unwrap();
        let mut product = eval.mul_plain_new(&a, &weights).unwrap();
        eval.rescale_assign(&mut product).unwrap();
        assert_eq!(product.level(), Level(t.top().0 - 1));
        assert!((product.scale / t.scale() - 1.0).abs() < 1e-12);
        t.check(
            "mul_plain+rescale",
            &product,
            &zip_with(&x, &y, |p, q| p * q),
            27.0,
        );

        // A plaintext above the ciphertext's level serves it.
        let low = eval.level_down_new(&a, Level(1)).unwrap();
        t.check(
            "add_plain from above",
            &eval.add_plain_new(&low, &plain).unwrap(),
            &zip_with(&x, &y, |p, q| p + q),
            29.0,
        );

        let c = -0.7312;
        t.check(
            "add_const",
            &eval.add_const_new(&a, c).unwrap(),
            &zip_with(&x, &y, |p, _| p + C64::new(c, 0.0)),
            29.0,
        );
        let mut scaled = eval.mul_const_new(&a, c, q_top).unwrap();
        eval.rescale_assign(&mut scaled).unwrap();
        t.check(
            "mul_const+rescale",
            &scaled,
            &zip_with(&x, &y, |p, _| p.scale(c)),
            28.0,
        );
        let tripled = eval.mul_integer_new(&a, -3).unwrap();
        assert_eq!(tripled.scale, a.scale);
        t.check(
            "mul_integer",
            &tripled,
            &zip_with(&x, &y, |p, _| p.scale(-3.0)),
            28.0,
        );
    }
}

#[test]
fn ciphertext_products_with_relinearisation_and_rescale_keep_25_bits() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let (x, y) = (t.random_values(slots), t.random_values(slots));
        let (a, b) = (t.encrypt(&x, slots, t.top()), t.encrypt(&y, slots, t.top()));
        let eval = Evaluator::new(&t.context).with_relinearization_key(&t.relinearization);
        let mut product = eval.mul_new(&a, &b).unwrap();
        eval.rescale_assign(&mut product).unwrap();
        let mut expected = zip_with(&x, &y, |p, q| p * q);
        t.check("mul+relin+rescale", &product, &expected, 25.0);

        // The fused form lands on the same level and scale with the same precision.
        let fused = eval.mul_rescale_new(&a, &b).unwrap();
        assert_eq!(fused.level(), product.level());
        assert_eq!(fused.scale, product.scale);
        t.check("mul_rescale (fused)", &fused, &expected, 25.0);
        let low = eval.level_down_new(&a, fhec_params::Level(0)).unwrap();
        assert_eq!(
            eval.mul_rescale_new(&low, &low).unwrap_err(),
            EvalError::RescaleAtLevelZero
        );

        // A chain down to level 0: square and rescale until the last level, both with the
        // two-step and the fused product (every level's fused tables take part).
        let (mut chain, mut fused_chain) = (product, fused);
        while chain.level().0 > 0 {
            chain = eval.mul_new(&chain, &chain).unwrap();
            eval.rescale_assign(&mut chain).unwrap();
            fused_chain = eval.mul_rescale_new(&fused_chain, &fused_chain).unwrap();
            assert_eq!(fused_chain.scale, chain.scale);
            expected = expected.iter().map(|&v| v * v).collect();
        }
        t.check("square chain to level 0", &chain, &expected, 20.0);
        t.check(
            "fused square chain to level 0",
            &fused_chain,
            &expected,
            20.0,
        );
    }
}

#[test]
fn level_down_keeps_the_message() {
    for t in TestContext::all() {
        let x = t.random_values(16);
        let a = t.encrypt(&x, 16, t.top());
        let eval = Evaluator::new(&t.context);
        for level in 0..=t.top().0 {
            let low = eval.level_down_new(&a, Level(level)).unwrap();
            assert_eq!(low.level(), Level(level));
            t.check(&format!("level_down to {level}"), &low, &x, 29.0);
        }
    }
}

#[test]
fn wrong_levels_scales_slots_and_keys_return_errors() {
    let t = TestContext::all().remove(0);
    let x = t.random_values(16);
    let a = t.encrypt(&x, 16, t.top());
    let b = t.encrypt(&x, 16, Level(1));
    let sparse = t.encrypt(&x, 32, t.top());
    let keyless = Evaluator::new(&t.context);
    let eval = keyless.with_relinearization_key(&t.relinearization);
    let top = t.top().0;

    assert_eq!(
        eval.add_new(&a, &b).unwrap_err(),
        EvalError::LevelMismatch {
            left: top,
            right: 1
        }
    );
    assert_eq!(
        eval.mul_new(&a, &b).unwrap_err(),
        EvalError::LevelMismatch {
            left: top,
            right: 1
        }
    );
    let doubled = eval.mul_integer_new(&a, 1).map(|mut c| {
        c.scale *= 2.0;
        c
    });
    assert!(matches!(
        eval.add_new(&a, &doubled.unwrap()).unwrap_err(),
        EvalError::ScaleMismatch { .. }
    ));
    assert_eq!(
        eval.add_new(&a, &sparse).unwrap_err(),
        EvalError::SlotMismatch {
            left: 16,
            right: 32
        }
    );

    let plain = t.encoder().encode(&x, 16, Level(1), t.scale()).unwrap();
    assert_eq!(
        eval.add_plain_new(&a, &plain).unwrap_err(),
        EvalError::PlaintextLevel {
            plaintext: 1,
            ciphertext: top
        }
    );
    let bottom = eval.level_down_new(&a, Level(0)).unwrap();
    assert_eq!(
        eval.rescale_new(&bottom).unwrap_err(),
        EvalError::RescaleAtLevelZero
    );
    assert_eq!(
        eval.level_down_new(&bottom, Level(2)).unwrap_err(),
        EvalError::LevelDown { from: 0, to: 2 }
    );
    // Δ² does not fit in q_0 alone.
    assert!(matches!(
        eval.mul_new(&bottom, &bottom).unwrap_err(),
        EvalError::ScaleExceedsModulus { .. }
    ));
    assert_eq!(
        keyless.mul_new(&a, &a).unwrap_err(),
        EvalError::MissingRelinearizationKey
    );
    assert!(matches!(
        eval.rotate_new(&a, 1).unwrap_err(),
        EvalError::MissingGaloisKey { .. }
    ));
    assert!(matches!(
        eval.add_const_new(&a, f64::INFINITY).unwrap_err(),
        EvalError::Constant { .. }
    ));

    // On error, the output is untouched.
    let mut out = a.clone();
    assert!(eval.add(&a, &b, &mut out).is_err());
    assert_eq!(out, a);
    let message = EvalError::LevelMismatch { left: 3, right: 1 }.to_string();
    assert!(message.contains("different levels"), "{message}");
}

#[test]
fn constants_that_would_wrap_modulo_q_l_are_refused_at_that_level_only() {
    for t in TestContext::all() {
        let eval = Evaluator::new(&t.context);
        let values = t.random_values(8);
        let top = t.encrypt(&values, 8, t.top());
        let bottom = eval.level_down_new(&top, Level(0)).unwrap();
        // Twice the largest constant q_0 can hold at this scale: wraps at level 0, fits above.
        let log2_q0 = (t.context.q_prime(Level(0)) as f64).log2();
        let too_large = 2f64.powf(log2_q0 - t.scale().log2());
        assert!(
            matches!(
                eval.add_const_new(&bottom, too_large).unwrap_err(),
                EvalError::Constant { .. }
            ),
            "{}: add_const at level 0",
            t.name
        );
        assert!(
            matches!(
                eval.mul_const_new(&bottom, too_large, t.scale())
                    .unwrap_err(),
                EvalError::Constant { .. }
            ),
            "{}: mul_const at level 0",
            t.name
        );
        let shifted = eval.add_const_new(&top, too_large).unwrap();
        let expected: Vec<C64> = values
            .iter()
            .map(|v| *v + C64::new(too_large, 0.0))
            .collect();
        t.check(
            "add_const of a large constant above level 0",
            &shifted,
            &expected,
            20.0,
        );
    }
}
