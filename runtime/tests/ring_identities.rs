//! Property tests (proptest) of ring identities on small rings, where every coefficient of
//! every limb is checked: CRT round trips, ModUp of small values, ModDown of multiples of P,
//! and distributivity of the NTT product.

use fhec_params::primes::largest_ntt_prime;
use fhec_params::{Level, LogN};
use fhec_runtime::ring::{Form, RingContext};
use proptest::prelude::*;

/// N = 2^5 (below what parameter sets allow, so built from primes directly): Q of 50 + 4 × 40
/// bits in digits of three and two primes (D ≥ 2^79), P of three 45-bit primes.
fn small_ring() -> RingContext {
    let mut taken = Vec::new();
    for bits in [50, 40, 40, 40, 40, 45, 45, 45] {
        taken.push(largest_ntt_prime(bits, 5, &taken).unwrap());
    }
    let (q, p) = taken.split_at(5);
    RingContext::from_primes(LogN(5), q, p, &[0..3, 3..5]).unwrap()
}

fn coefficients(bound: i64) -> impl Strategy<Value = Vec<i64>> {
    proptest::collection::vec(-bound..=bound, 32)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Signed values below 2^53 come back exactly from the centered CRT at every level.
    #[test]
    fn crt_round_trips_signed_values(values in coefficients((1 << 53) - 1), level in 1usize..5) {
        let ctx = small_ring();
        let poly = ctx.from_signed(&values, Level(level), false);
        let mut back = vec![0.0; 32];
        ctx.coefficients_centered_f64(&poly, &mut back);
        let expected: Vec<f64> = values.iter().map(|&v| v as f64).collect();
        prop_assert_eq!(back, expected);
    }

    /// ModUp of a digit holding a value smaller than half the digit's modulus reproduces the
    /// value on every other prime: mod_up(x over Q_l) = x over Q_l·P, in either form.
    #[test]
    fn mod_up_of_small_values_is_the_identity(values in coefficients(i64::MAX), digit in 0usize..2, ntt in any::<bool>()) {
        let ctx = small_ring();
        let level = ctx.max_level();
        let mut x = ctx.from_signed(&values, level, false);
        let mut expected = ctx.from_signed(&values, level, true);
        if ntt {
            ctx.to_ntt(&mut x);
            ctx.to_ntt(&mut expected);
        }
        let mut up = ctx.zero(Level(0), false, Form::Coefficient);
        ctx.mod_up(&x, digit, &mut up);
        prop_assert_eq!(up, expected);
    }

    /// ModDown of `P·x + e` with `|e| < P/2` is exactly `x`.
    #[test]
    fn mod_down_undoes_multiplication_by_p(values in coefficients(i64::MAX), noise in coefficients(1 << 40), level in 0usize..5) {
        let ctx = small_ring();
        let level = Level(level);
        let mut scaled = ctx.from_signed(&values, level, true);
        let p_residues: Vec<u64> = (0..scaled.limb_count())
            .map(|i| {
                let m = ctx.limb_prime(scaled.q_limbs(), i).0;
                ctx.p_basis().primes().iter().fold(1 % m.value(), |acc, &p| m.mul(acc, m.reduce_u64(p)))
            })
            .collect();
        ctx.mul_scalars_assign(&mut scaled, &p_residues);
        ctx.add_assign(&mut scaled, &ctx.from_signed(&noise, level, true));
        let mut down = ctx.zero(Level(0), false, Form::Coefficient);
        ctx.mod_down(&scaled, &mut down);
        prop_assert_eq!(down, ctx.from_signed(&values, level, false));
    }

    /// (a + b)·c = a·c + b·c and rescale(q_l·x) = x, through the NTT.
    #[test]
    fn products_distribute_and_rescale_divides(a in coefficients(1 << 40), b in coefficients(1 << 40), c in coefficients(1 << 40)) {
        let ctx = small_ring();
        let level = ctx.max_level();
        let [mut fa, mut fb, mut fc] = [&a, &b, &c].map(|v| ctx.from_signed(v, level, false));
        for p in [&mut fa, &mut fb, &mut fc] {
            ctx.to_ntt(p);
        }
        let mut sum = fa.clone();
        ctx.add_assign(&mut sum, &fb);
        let mut left = ctx.zero(Level(0), false, Form::Ntt);
        ctx.mul(&sum, &fc, &mut left);
        let mut right = ctx.zero(Level(0), false, Form::Ntt);
        ctx.mul(&fa, &fc, &mut right);
        ctx.mul_acc(&mut right, &fb, &fc);
        prop_assert_eq!(&left, &right);

        let q_last = ctx.q_basis().primes()[level.0];
        let mut multiple = fa.clone();
        ctx.mul_scalar_assign(&mut multiple, q_last);
        ctx.rescale_assign(&mut multiple);
        ctx.to_coefficient(&mut multiple);
        prop_assert_eq!(multiple, ctx.from_signed(&a, Level(level.0 - 1), false));
    }
}
