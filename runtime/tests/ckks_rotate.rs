//! Rotations (every power of two, both directions, random amounts), hoisted rotations equal to
//! one-by-one rotations bit for bit, conjugation, sparse slots, and Galois keys restricted in
//! level or rebuilt from their seed-compressed form.

mod ckks_support;

use ckks_support::TestContext;
use fhec_params::Level;
use fhec_runtime::encoding::C64;
use fhec_runtime::eval::{EvalError, Evaluator};
use fhec_runtime::keys::{GaloisKeys, KeyGenerator, KeySwitchKey};
use fhec_runtime::sampling::SecureRng;

fn rotated(values: &[C64], steps: i64) -> Vec<C64> {
    let n = values.len() as i64;
    (0..n)
        .map(|i| values[(i + steps).rem_euclid(n) as usize])
        .collect()
}

fn galois_keys(t: &TestContext, steps: &[i64], conjugation: bool, level: Level) -> GaloisKeys {
    KeyGenerator::with_rng(&t.context, SecureRng::insecure_from_fixed_seed([5; 32]))
        .galois_keys(&t.secret, steps, conjugation, level)
        .unwrap()
}

#[test]
fn rotations_by_every_power_of_two_and_random_amounts() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let mut steps: Vec<i64> = (0..slots.trailing_zeros()).map(|k| 1i64 << k).collect();
        steps.extend(steps.clone().iter().map(|s| -s));
        let mut rng = SecureRng::insecure_from_fixed_seed([8; 32]);
        steps.extend((0..4).map(|_| rng.below(slots as u64) as i64));
        let keys = galois_keys(&t, &steps, false, t.top());
        let eval = Evaluator::new(&t.context).with_galois_keys(&keys);
        let x = t.random_values(slots);
        let a = t.encrypt(&x, slots, t.top());
        for &k in &steps {
            t.check(
                &format!("rotate {k}"),
                &eval.rotate_new(&a, k).unwrap(),
                &rotated(&x, k),
                27.0,
            );
        }
        // Rotation by 0 (or a multiple of N/2) needs no key.
        t.check("rotate 0", &eval.rotate_new(&a, 0).unwrap(), &x, 29.0);
        // At a lower level too.
        let low = eval.level_down_new(&a, Level(1)).unwrap();
        t.check(
            "rotate at level 1",
            &eval.rotate_new(&low, steps[0]).unwrap(),
            &rotated(&x, steps[0]),
            27.0,
        );
    }
}

#[test]
fn hoisted_rotations_equal_one_by_one_rotations_bit_for_bit() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let steps = [1, 2, 5, -3, 64, 0];
        let keys = galois_keys(&t, &steps, false, t.top());
        let eval = Evaluator::new(&t.context).with_galois_keys(&keys);
        let x = t.random_values(slots);
        let a = t.encrypt(&x, slots, t.top());
        let hoisted = eval.rotate_hoisted(&a, &steps).unwrap();
        assert_eq!(hoisted.len(), steps.len());
        for (&k, h) in steps.iter().zip(&hoisted) {
            assert_eq!(
                h,
                &eval.rotate_new(&a, k).unwrap(),
                "{} rotation {k}",
                t.name
            );
            t.check(&format!("hoisted {k}"), h, &rotated(&x, k), 27.0);
        }
        // One missing key refuses the whole group before any work.
        assert!(matches!(
            eval.rotate_hoisted(&a, &[1, 3]).unwrap_err(),
            EvalError::MissingGaloisKey { .. }
        ));
    }
}

#[test]
fn conjugation_conjugates_every_slot() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let keys = galois_keys(&t, &[], true, t.top());
        let eval = Evaluator::new(&t.context).with_galois_keys(&keys);
        let x = t.random_values(slots);
        let a = t.encrypt(&x, slots, t.top());
        let expected: Vec<C64> = x.iter().map(|v| v.conj()).collect();
        t.check(
            "conjugate",
            &eval.conjugate_new(&a).unwrap(),
            &expected,
            27.0,
        );
    }
}

#[test]
fn sparse_slots_rotate_within_their_packing() {
    for t in TestContext::all() {
        for slots in [4, 64] {
            let steps = [1, 3, -1];
            let keys = galois_keys(&t, &steps, true, t.top());
            let eval = Evaluator::new(&t.context).with_galois_keys(&keys);
            let x = t.random_values(slots);
            let a = t.encrypt(&x, slots, t.top());
            for k in steps {
                t.check(
                    &format!("sparse {slots} rotate {k}"),
                    &eval.rotate_new(&a, k).unwrap(),
                    &rotated(&x, k),
                    27.0,
                );
            }
            let expected: Vec<C64> = x.iter().map(|v| v.conj()).collect();
            t.check(
                &format!("sparse {slots} conjugate"),
                &eval.conjugate_new(&a).unwrap(),
                &expected,
                27.0,
            );
        }
    }
}

#[test]
fn keys_restricted_in_level_or_rebuilt_from_their_seed_work_the_same() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let g = t.context.ring().galois_element_for_rotation(1);
        let full = galois_keys(&t, &[1], false, t.top());
        let key = full.get(g).unwrap();

        // Seed-compressed round trip: the same key, bit for bit.
        let (level, seed, b) = key.compressed();
        let rebuilt = KeySwitchKey::from_compressed(&t.context, level, *seed, b.to_vec()).unwrap();
        assert_eq!(&rebuilt, key);

        // Restricted to level 1: serves level 1, refuses the top level, and agrees with the
        // full key at level 1 bit for bit (the limbs it keeps are the same).
        let mut restricted = key.clone();
        restricted.restrict(&t.context, Level(1)).unwrap();
        assert!(restricted.size_bytes() < key.size_bytes());
        let mut small = GaloisKeys::default();
        small.insert(g, restricted);
        let x = t.random_values(slots);
        let a = t.encrypt(&x, slots, t.top());
        let low = Evaluator::new(&t.context)
            .level_down_new(&a, Level(1))
            .unwrap();
        let with_small = Evaluator::new(&t.context).with_galois_keys(&small);
        let with_full = Evaluator::new(&t.context).with_galois_keys(&full);
        assert_eq!(
            with_small.rotate_new(&low, 1).unwrap(),
            with_full.rotate_new(&low, 1).unwrap()
        );
        assert_eq!(
            with_small.rotate_new(&a, 1).unwrap_err(),
            EvalError::KeyLevel {
                key: 1,
                ciphertext: t.top().0
            }
        );
        // A key generated directly at level 1 is as good.
        let direct = galois_keys(&t, &[1], false, Level(1));
        let eval = Evaluator::new(&t.context).with_galois_keys(&direct);
        t.check(
            "key made at level 1",
            &eval.rotate_new(&low, 1).unwrap(),
            &rotated(&x, 1),
            27.0,
        );
    }
}
