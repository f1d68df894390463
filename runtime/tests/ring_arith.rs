//! Element-wise ring operations and limb reshaping against per-coefficient references.

mod ring_support;

use fhec_params::{CkksParams, Level, presets};
use fhec_runtime::ring::{Form, RingContext, RingError};
use ring_support::{TestRng, context, random_poly, shapes, single_digit, small_coefficients};

#[test]
fn add_sub_neg_and_scalars_match_integer_arithmetic() {
    let mut rng = TestRng::new(31);
    for (log_n, log_q, log_p, dnum) in shapes() {
        let ctx = context(log_n, &log_q, &log_p, dnum);
        let level = ctx.max_level();
        let (x, y) = (
            small_coefficients(&ctx, &mut rng, 1 << 30),
            small_coefficients(&ctx, &mut rng, 1 << 30),
        );
        let (a, b) = (
            ctx.from_signed(&x, level, true),
            ctx.from_signed(&y, level, true),
        );
        let at = |f: &dyn Fn(i64, i64) -> i64| {
            let values: Vec<i64> = x.iter().zip(&y).map(|(&u, &v)| f(u, v)).collect();
            ctx.from_signed(&values, level, true)
        };
        let mut out = ctx.zero(Level(0), false, Form::Coefficient);
        ctx.add(&a, &b, &mut out);
        assert_eq!(out, at(&|u, v| u + v));
        ctx.sub(&a, &b, &mut out);
        assert_eq!(out, at(&|u, v| u - v));
        let mut negated = a.clone();
        ctx.neg_assign(&mut negated);
        assert_eq!(negated, at(&|u, _| -u));
        let mut scaled = a.clone();
        ctx.mul_scalar_assign(&mut scaled, 12345);
        assert_eq!(scaled, at(&|u, _| u * 12345));
        let mut by_residues = a.clone();
        ctx.mul_scalars_assign(
            &mut by_residues,
            &ctx.scalar_residues(-77, a.q_limbs(), a.p_limbs()),
        );
        assert_eq!(by_residues, at(&|u, _| -77 * u));
    }
}

#[test]
fn constant_addition_agrees_between_forms() {
    let mut rng = TestRng::new(32);
    let ctx = context(10, &[50, 40], &[51], 2);
    let a = random_poly(&ctx, &mut rng, ctx.max_level(), false, Form::Coefficient);
    let residues = ctx.scalar_residues(-(1 << 45), a.q_limbs(), a.p_limbs());
    let mut in_coefficients = a.clone();
    ctx.add_scalars_assign(&mut in_coefficients, &residues);
    let mut in_ntt = a.clone();
    ctx.to_ntt(&mut in_ntt);
    ctx.add_scalars_assign(&mut in_ntt, &residues);
    ctx.to_coefficient(&mut in_ntt);
    assert_eq!(in_ntt, in_coefficients);
    assert_ne!(in_coefficients, a);
    assert_eq!(&in_coefficients.limb(0)[1..], &a.limb(0)[1..]);
}

#[test]
fn dropping_and_copying_limbs_keeps_the_remaining_residues() {
    let mut rng = TestRng::new(33);
    let ctx = context(10, &[50, 40, 40, 40], &[51, 51], 2);
    let a = random_poly(&ctx, &mut rng, ctx.max_level(), true, Form::Ntt);
    let mut dropped = a.clone();
    dropped.drop_last_q_limbs(2);
    assert_eq!((dropped.level(), dropped.p_limbs()), (Level(1), 2));
    assert_eq!(dropped.q_data(), &a.data()[..2 * ctx.degree()]);
    assert_eq!(dropped.p_data(), a.p_data());
    let prefix = a.q_prefix(3);
    assert_eq!((prefix.level(), prefix.has_special()), (Level(2), false));
    assert_eq!(prefix.data(), &a.data()[..3 * ctx.degree()]);
    dropped.drop_special_limbs();
    assert_eq!(dropped, a.q_prefix(2));
    // The dropped polynomial still works with the context at its new level.
    let mut doubled = dropped.clone();
    ctx.add_assign(&mut doubled, &dropped);
    let mut expected = dropped.clone();
    ctx.mul_scalar_assign(&mut expected, 2);
    assert_eq!(doubled, expected);
}

#[test]
#[should_panic(expected = "operand shapes differ: [l=1+P0, Ntt] vs [l=0+P0, Ntt]")]
fn mismatched_shapes_are_refused_naming_both() {
    let ctx = context(10, &[50, 40], &[51], 2);
    let mut a = ctx.zero(Level(1), false, Form::Ntt);
    ctx.add_assign(&mut a, &ctx.zero(Level(0), false, Form::Ntt));
}

#[test]
#[should_panic(expected = "ring products need NTT form")]
fn products_in_coefficient_form_are_refused() {
    let ctx = context(10, &[50, 40], &[51], 2);
    let mut a = ctx.zero(Level(1), false, Form::Coefficient);
    let b = a.clone();
    ctx.mul_assign(&mut a, &b);
}

#[test]
fn contexts_build_from_every_preset_shape_and_refuse_bad_bases() {
    for (name, lit) in presets::test_insecure_all() {
        let params = CkksParams::new(lit).unwrap();
        let ctx = RingContext::new(&params).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ctx.q_basis().primes(), params.q_primes());
        assert_eq!(ctx.p_basis().primes(), params.p_primes());
        assert_eq!(ctx.digits(), params.digits());
    }
    let log_n = fhec_params::LogN(10);
    let (q, p) = (12289u64, 40961u64); // both ≡ 1 mod 2048
    assert_eq!(
        RingContext::from_primes(log_n, &[q, q], &[p], &single_digit(2)).unwrap_err(),
        RingError::RepeatedPrime { prime: q }
    );
    assert!(matches!(
        RingContext::from_primes(log_n, &[q], &[p], &single_digit(2)),
        Err(RingError::BadDigits { .. })
    ));
    assert_eq!(
        RingContext::from_primes(log_n, &[q], &[], &single_digit(1)).unwrap_err(),
        RingError::EmptyBasis
    );
    assert!(matches!(
        RingContext::from_primes(fhec_params::LogN(70), &[q], &[p], &single_digit(1)),
        Err(RingError::DegreeOutOfRange { log_n: 70 })
    ));
}

#[test]
fn raw_data_round_trips_and_bad_data_is_refused() {
    let mut rng = TestRng::new(34);
    let ctx = context(10, &[50, 40, 40], &[51], 3);
    let a = random_poly(&ctx, &mut rng, Level(1), true, Form::Ntt);
    let back = ctx
        .poly_from_data(Level(1), true, Form::Ntt, a.data().to_vec())
        .unwrap();
    assert_eq!(back, a);
    let n = ctx.degree();
    assert_eq!(
        ctx.poly_from_data(Level(1), false, Form::Ntt, a.data().to_vec())
            .unwrap_err(),
        RingError::PolyLength {
            got: 3 * n,
            expected: 2 * n,
            limbs: 2,
            degree: n
        }
    );
    let mut unreduced = a.data().to_vec();
    let q1 = ctx.q_basis().primes()[1];
    unreduced[n + 5] = q1;
    let err = ctx
        .poly_from_data(Level(1), true, Form::Ntt, unreduced)
        .unwrap_err();
    assert_eq!(
        err,
        RingError::UnreducedValue {
            limb: 1,
            index: 5,
            value: q1,
            modulus: q1
        }
    );
    assert!(err.to_string().contains("coefficient 5 of limb 1"), "{err}");
    assert_eq!(
        ctx.poly_from_data(Level(3), false, Form::Ntt, vec![0; 4 * n])
            .unwrap_err(),
        RingError::LevelOutOfRange {
            level: 3,
            max_level: 2
        }
    );
}

#[test]
fn ring_types_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<RingContext>();
    shareable::<fhec_runtime::ring::RnsPoly>();
    shareable::<fhec_runtime::ring::GaloisPermutation>();
}
