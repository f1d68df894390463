//! Automorphisms `X ↦ X^g`: agreement between NTT and coefficient forms, composition,
//! compatibility with products, and the rotation and conjugation elements.

mod ring_support;

use fhec_params::Level;
use fhec_runtime::ring::{Form, RingContext, RnsPoly};
use ring_support::{TestRng, context, random_poly, shapes};

fn apply(ctx: &RingContext, a: &RnsPoly, g: u64) -> RnsPoly {
    let mut out = ctx.zero(Level(0), false, Form::Coefficient);
    ctx.automorphism(a, g, &mut out);
    out
}

fn galois_elements(ctx: &RingContext, rng: &mut TestRng) -> Vec<u64> {
    let two_n = 2 * ctx.degree() as u64;
    let mut gs = vec![
        1,
        3,
        5,
        two_n - 1,
        ctx.galois_element_for_rotation(1),
        ctx.galois_element_for_rotation(-3),
    ];
    gs.extend((0..4).map(|_| rng.below(two_n) | 1));
    gs
}

#[test]
fn ntt_and_coefficient_forms_agree() {
    let mut rng = TestRng::new(21);
    for (log_n, log_q, log_p, dnum) in shapes() {
        let ctx = context(log_n, &log_q, &log_p, dnum);
        let a = random_poly(&ctx, &mut rng, ctx.max_level(), true, Form::Coefficient);
        let mut a_ntt = a.clone();
        ctx.to_ntt(&mut a_ntt);
        for g in galois_elements(&ctx, &mut rng) {
            let from_coefficients = apply(&ctx, &a, g);
            let mut from_ntt = apply(&ctx, &a_ntt, g);
            assert_eq!(from_ntt.form(), Form::Ntt);
            ctx.to_coefficient(&mut from_ntt);
            assert_eq!(from_ntt, from_coefficients, "logN {log_n}, g = {g}");
        }
    }
}

#[test]
fn coefficient_form_moves_monomials_with_the_negacyclic_sign() {
    let ctx = context(10, &[40, 40], &[41], 2);
    let n = ctx.degree();
    // X^3 ↦ X^(3g mod 2N), negated when that exponent is ≥ N (3·343 = 1029 = N + 5).
    for (g, expected_index, expected_sign) in [(3u64, 9usize, 1i64), (343, 5, -1), (683, 1, 1)] {
        let mut x3 = vec![0i64; n];
        x3[3] = 1;
        let image = apply(&ctx, &ctx.from_signed(&x3, Level(1), false), g);
        let mut expected = vec![0i64; n];
        expected[expected_index] = expected_sign;
        assert_eq!(
            image,
            ctx.from_signed(&expected, Level(1), false),
            "g = {g}"
        );
    }
}

#[test]
fn composition_multiplies_galois_elements() {
    let mut rng = TestRng::new(22);
    let ctx = context(11, &[50, 40, 40], &[51, 51], 3);
    let two_n = 2 * ctx.degree() as u64;
    let a = random_poly(&ctx, &mut rng, ctx.max_level(), false, Form::Ntt);
    for _ in 0..6 {
        let (g, h) = (rng.below(two_n) | 1, rng.below(two_n) | 1);
        let composed = apply(&ctx, &apply(&ctx, &a, h), g);
        assert_eq!(composed, apply(&ctx, &a, g * h % two_n), "g = {g}, h = {h}");
    }
    let conjugation = ctx.galois_element_for_conjugation();
    assert_eq!(apply(&ctx, &apply(&ctx, &a, conjugation), conjugation), a);
    assert_eq!(apply(&ctx, &a, 1), a);
}

#[test]
fn automorphisms_are_ring_homomorphisms() {
    let mut rng = TestRng::new(23);
    let ctx = context(10, &[50, 40], &[51], 2);
    let a = random_poly(&ctx, &mut rng, ctx.max_level(), false, Form::Ntt);
    let b = random_poly(&ctx, &mut rng, ctx.max_level(), false, Form::Ntt);
    let mut product = a.clone();
    ctx.mul_assign(&mut product, &b);
    let g = ctx.galois_element_for_rotation(7);
    let mut images = apply(&ctx, &a, g);
    ctx.mul_assign(&mut images, &apply(&ctx, &b, g));
    assert_eq!(apply(&ctx, &product, g), images);
}

#[test]
fn rotation_elements_form_the_cyclic_group_of_five() {
    let ctx = context(10, &[40], &[41], 1);
    let two_n = 2 * ctx.degree() as u64;
    assert_eq!(ctx.galois_element_for_rotation(0), 1);
    assert_eq!(ctx.galois_element_for_rotation(1), 5);
    assert_eq!(ctx.galois_element_for_rotation(2), 25);
    let slots = ctx.degree() as i64 / 2;
    assert_eq!(ctx.galois_element_for_rotation(slots), 1);
    for k in [1i64, 3, 100, slots - 1] {
        let forward = ctx.galois_element_for_rotation(k);
        let backward = ctx.galois_element_for_rotation(-k);
        assert_eq!(forward * backward % two_n, 1, "k = {k}");
    }
    assert_eq!(ctx.galois_element_for_conjugation(), two_n - 1);
}

#[test]
fn precomputed_permutation_is_reusable_across_levels() {
    let mut rng = TestRng::new(24);
    let ctx = context(10, &[50, 40, 40], &[51], 3);
    let g = ctx.galois_element_for_rotation(5);
    let permutation = ctx.galois_permutation(g);
    assert_eq!(permutation.galois_element(), g);
    for level in [Level(0), Level(2)] {
        let a = random_poly(&ctx, &mut rng, level, true, Form::Ntt);
        let mut out = ctx.zero(Level(0), false, Form::Ntt);
        ctx.automorphism_ntt(&a, &permutation, &mut out);
        assert_eq!(out, apply(&ctx, &a, g));
    }
}

#[test]
#[should_panic(expected = "must be odd")]
fn even_galois_elements_are_refused() {
    let ctx = context(10, &[40], &[41], 1);
    let a = ctx.zero(Level(0), false, Form::Coefficient);
    apply(&ctx, &a, 4);
}
