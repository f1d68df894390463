//! Encoding and decoding through the canonical embedding, at every level and at scales from
//! 2^20 to 2^60, dense and sparse, and the encoder's error paths.

mod ckks_support;

use ckks_support::{TestContext, check_precision};
use fhec_params::Level;
use fhec_runtime::encoding::{C64, EncodeError};

#[test]
fn encode_decode_round_trips_at_every_level_and_scale() {
    for t in TestContext::all() {
        let slots = t.max_slots();
        let values = t.random_values(slots);
        for level in 0..=t.top().0 {
            for log_scale in [20, 40, 50] {
                let scale = 2f64.powi(log_scale);
                let plaintext = t
                    .encoder()
                    .encode(&values, slots, Level(level), scale)
                    .unwrap();
                let decoded = t.encoder().decode(&plaintext);
                // Rounding each coefficient to an integer leaves an error of about
                // 0.3·sqrt(N) in each slot: log2(N)/2 − 2 bits below the scale.
                let log_n = t.context.params().log_n().0 as f64;
                let bits = (log_scale as f64 - log_n / 2.0 - 1.0).min(45.0);
                check_precision(
                    &format!("{} level {level} scale 2^{log_scale}", t.name),
                    &values,
                    &decoded,
                    bits,
                );
            }
        }
    }
}

#[test]
fn large_scales_and_values_keep_precision() {
    // A scale of 2^60 with values up to 2^10: coefficients near 2^70 go through 128-bit
    // reduction. Only the top level has enough modulus for it.
    for t in TestContext::all() {
        let slots = 8;
        let values: Vec<C64> = t
            .random_values(slots)
            .iter()
            .map(|v| v.scale(1024.0))
            .collect();
        let plaintext = t
            .encoder()
            .encode(&values, slots, t.top(), 2f64.powi(60))
            .unwrap();
        let decoded = t.encoder().decode(&plaintext);
        check_precision(&format!("{} scale 2^60", t.name), &values, &decoded, 38.0);
    }
}

#[test]
fn sparse_slots_round_trip_for_every_power_of_two() {
    for t in TestContext::all() {
        let mut slots = 1;
        while slots <= t.max_slots() {
            let values = t.random_values(slots);
            let plaintext = t
                .encoder()
                .encode(&values, slots, t.top(), t.scale())
                .unwrap();
            let decoded = t.encoder().decode(&plaintext);
            assert_eq!(decoded.len(), slots);
            check_precision(
                &format!("{} {slots} slots", t.name),
                &values,
                &decoded,
                t.threshold(35.0),
            );
            slots *= 2;
        }
    }
}

#[test]
fn fewer_values_than_slots_are_padded_with_zeros() {
    let t = TestContext::all().remove(0);
    let values = t.random_values(5);
    let plaintext = t.encoder().encode(&values, 16, t.top(), t.scale()).unwrap();
    let decoded = t.encoder().decode(&plaintext);
    let mut expected = values.clone();
    expected.resize(16, C64::default());
    check_precision("padded", &expected, &decoded, t.threshold(35.0));
}

#[test]
fn bad_inputs_are_refused_with_a_clear_error() {
    let t = TestContext::all().remove(0);
    let encoder = t.encoder();
    let one = [C64::new(1.0, 0.0)];
    let max = t.max_slots();
    assert_eq!(
        encoder.encode(&one, 3, t.top(), t.scale()).unwrap_err(),
        EncodeError::SlotCount { slots: 3, max }
    );
    assert_eq!(
        encoder
            .encode(&one, 2 * max, t.top(), t.scale())
            .unwrap_err(),
        EncodeError::SlotCount {
            slots: 2 * max,
            max
        }
    );
    assert_eq!(
        encoder
            .encode(&[C64::default(); 5], 4, t.top(), t.scale())
            .unwrap_err(),
        EncodeError::TooManyValues {
            values: 5,
            slots: 4
        }
    );
    assert_eq!(
        encoder
            .encode(&[C64::new(f64::NAN, 0.0)], 4, t.top(), t.scale())
            .unwrap_err(),
        EncodeError::NotFinite { index: 0 }
    );
    assert_eq!(
        encoder.encode(&one, 4, t.top(), 0.5).unwrap_err(),
        EncodeError::Scale { scale: 0.5 }
    );
    assert!(matches!(
        encoder
            .encode(&[C64::new(1e30, 0.0)], 4, t.top(), 2f64.powi(60))
            .unwrap_err(),
        EncodeError::Overflow { .. }
    ));
    let above = Level(t.top().0 + 1);
    assert_eq!(
        encoder.encode(&one, 4, above, t.scale()).unwrap_err(),
        EncodeError::Level {
            level: above.0,
            max: t.top().0
        }
    );
    let message = encoder
        .encode(&one, 3, t.top(), t.scale())
        .unwrap_err()
        .to_string();
    assert!(message.contains("power of two"), "{message}");
}

#[test]
fn values_too_large_for_the_level_are_refused_not_wrapped() {
    for t in TestContext::all() {
        let encoder = t.encoder();
        let q0 = t.context.params().q_primes()[0] as f64;
        // Room for values up to about 2^9 at level 0.
        let scale = 2f64.powi(q0.log2() as i32 - 10);
        // A constant vector: coefficient 0 is value · scale, the others are zero.
        let fits = (q0 / 2.0 / scale).floor() - 1.0;
        let too_large = (q0 / 2.0 / scale).ceil() + 1.0;
        let plaintext = encoder.encode_real(&[fits; 4], 4, Level(0), scale).unwrap();
        let decoded = encoder.decode(&plaintext);
        assert!((decoded[0].re - fits).abs() < 1e-6, "{}", t.name);

        let error = encoder
            .encode_real(&[too_large; 4], 4, Level(0), scale)
            .unwrap_err();
        assert!(
            matches!(error, EncodeError::ExceedsModulus { level: 0, .. }),
            "{}: {error}",
            t.name
        );
        assert!(error.to_string().contains("Q_0/2"), "{error}");
        // One more prime makes room for it.
        let plaintext = encoder
            .encode_real(&[too_large; 4], 4, Level(1), scale)
            .unwrap();
        assert!((encoder.decode(&plaintext)[0].re - too_large).abs() < 1e-6);
    }
}
