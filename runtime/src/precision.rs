//! Precision of approximate results in bits, the unit every CKKS test and benchmark reports.
//!
//! For errors e_i = |got_i − expected_i| (per component), DESIGN §10 defines the "mean"
//! precision as −log2(mean e_i) and the "min" precision (the worst slot) as −log2(max e_i);
//! the median of the per-slot −log2(e_i) is reported beside them.

use crate::encoding::C64;
use std::fmt;

/// Bits of precision of one component (real or imaginary part) over all slots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ComponentPrecision {
    /// −log2 of the largest error: the worst slot.
    pub min_bits: f64,
    /// −log2 of the mean error.
    pub mean_bits: f64,
    /// Median over slots of −log2 of the slot's error.
    pub median_bits: f64,
}

/// Precision of a complex result: real part, imaginary part, and both together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrecisionStats {
    /// Precision of the real parts.
    pub real: ComponentPrecision,
    /// Precision of the imaginary parts.
    pub imag: ComponentPrecision,
    /// Number of slots compared.
    pub slots: usize,
}

/// Errors below this count as exact; it caps the bits reported for an exact result.
const EXACT: f64 = 1.0 / (1u64 << 60) as f64;

fn bits(error: f64) -> f64 {
    -error.max(EXACT).log2()
}

impl ComponentPrecision {
    fn from_errors(mut errors: Vec<f64>) -> Self {
        assert!(!errors.is_empty(), "precision of an empty result");
        let max = errors.iter().copied().fold(0.0, f64::max);
        let mean = errors.iter().sum::<f64>() / errors.len() as f64;
        errors.sort_by(f64::total_cmp);
        // Larger error means fewer bits, so the median error gives the median bits.
        let median = errors[errors.len() / 2];
        Self {
            min_bits: bits(max),
            mean_bits: bits(mean),
            median_bits: bits(median),
        }
    }
}

impl PrecisionStats {
    /// Compares `got` with `expected` slot by slot (the shorter length decides).
    ///
    /// # Panics
    /// If either slice is empty.
    pub fn of(expected: &[C64], got: &[C64]) -> Self {
        let pairs = || expected.iter().zip(got);
        Self {
            real: ComponentPrecision::from_errors(
                pairs().map(|(e, g)| (e.re - g.re).abs()).collect(),
            ),
            imag: ComponentPrecision::from_errors(
                pairs().map(|(e, g)| (e.im - g.im).abs()).collect(),
            ),
            slots: expected.len().min(got.len()),
        }
    }

    /// Compares real results (imaginary parts taken as zero on both sides).
    pub fn of_real(expected: &[f64], got: &[f64]) -> Self {
        let to_complex = |v: &[f64]| v.iter().map(|&x| C64::new(x, 0.0)).collect::<Vec<_>>();
        Self::of(&to_complex(expected), &to_complex(got))
    }

    /// The worst-slot precision over both components.
    pub fn min_bits(&self) -> f64 {
        self.real.min_bits.min(self.imag.min_bits)
    }

    /// The mean precision over both components (the lesser of the two).
    pub fn mean_bits(&self) -> f64 {
        self.real.mean_bits.min(self.imag.mean_bits)
    }
}

impl fmt::Display for PrecisionStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} slots, bits min/mean/median: real {:.2}/{:.2}/{:.2}, imag {:.2}/{:.2}/{:.2}",
            self.slots,
            self.real.min_bits,
            self.real.mean_bits,
            self.real.median_bits,
            self.imag.min_bits,
            self.imag.mean_bits,
            self.imag.median_bits
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_error() {
        let expected = [1.0, 2.0, 3.0, 4.0];
        let got = [
            1.0 + 2f64.powi(-10),
            2.0 - 2f64.powi(-20),
            3.0,
            4.0 + 2f64.powi(-20),
        ];
        let stats = PrecisionStats::of_real(&expected, &got);
        assert_eq!(stats.real.min_bits, 10.0);
        assert!((stats.real.mean_bits - 12.0).abs() < 0.01);
        assert_eq!(stats.real.median_bits, 20.0);
        assert_eq!(stats.imag.min_bits, 60.0);
        assert_eq!(stats.min_bits(), 10.0);
    }
}
