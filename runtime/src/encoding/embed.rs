//! The ring-independent half of encoding: slot values ↔ scaled real coefficients of the message
//! polynomial, through the special FFT, for any power-of-two slot count (sparse packing places
//! the 2n coefficients of Z[Y], Y = X^(N/2n), at every (N/2n)-th position of X).

use super::EncodeError;
use super::fft::{C64, SpecialFft};

/// Largest magnitude of a scaled coefficient: coefficients are reduced into RNS limbs through
/// `i128`, and a product of a value with a scale beyond this overflows it.
pub const MAX_SCALED_COEFFICIENT: f64 = 1.7e38; // just below 2^127

/// Checks `slots` and the number of values against the ring.
pub(crate) fn check_slots(
    fft: &SpecialFft,
    values: usize,
    slots: usize,
) -> Result<(), EncodeError> {
    if !slots.is_power_of_two() || slots > fft.max_slots() {
        return Err(EncodeError::SlotCount {
            slots,
            max: fft.max_slots(),
        });
    }
    if values > slots {
        return Err(EncodeError::TooManyValues { values, slots });
    }
    Ok(())
}

/// Writes into `coefficients` (length N) the rounded coefficients round(scale · m) of the
/// message m whose first `values.len()` slots are `values` and remaining slots (up to `slots`)
/// are zero. Each entry is an exact integer held in an `f64`. Returns the largest magnitude
/// written, for the caller's check against the level's modulus.
pub(crate) fn scaled_coefficients(
    fft: &SpecialFft,
    values: &[C64],
    slots: usize,
    scale: f64,
    coefficients: &mut [f64],
) -> Result<f64, EncodeError> {
    check_slots(fft, values.len(), slots)?;
    if !(scale.is_finite() && scale >= 1.0) {
        return Err(EncodeError::Scale { scale });
    }
    if let Some(index) = values
        .iter()
        .position(|v| !(v.re.is_finite() && v.im.is_finite()))
    {
        return Err(EncodeError::NotFinite { index });
    }
    let mut folded = vec![C64::default(); slots];
    folded[..values.len()].copy_from_slice(values);
    fft.slots_to_coefficients(&mut folded);
    let gap = fft.ring_degree() / (2 * slots);
    coefficients.fill(0.0);
    for (k, w) in folded.iter().enumerate() {
        coefficients[k * gap] = (w.re * scale).round();
        coefficients[(k + slots) * gap] = (w.im * scale).round();
    }
    let largest = coefficients.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    if largest >= MAX_SCALED_COEFFICIENT {
        return Err(EncodeError::Overflow {
            log2_coefficient: largest.log2(),
        });
    }
    Ok(largest)
}

/// Reads `slots` slot values from the message coefficients `coefficients` (length N, already
/// centered and as real numbers), dividing by `scale`.
pub(crate) fn slots_from_coefficients(
    fft: &SpecialFft,
    coefficients: &[f64],
    slots: usize,
    scale: f64,
) -> Vec<C64> {
    let gap = fft.ring_degree() / (2 * slots);
    let inv = 1.0 / scale;
    let mut values: Vec<C64> = (0..slots)
        .map(|k| {
            C64::new(
                coefficients[k * gap] * inv,
                coefficients[(k + slots) * gap] * inv,
            )
        })
        .collect();
    fft.coefficients_to_slots(&mut values);
    values
}
