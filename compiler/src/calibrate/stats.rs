//! Streaming statistics of one activation site's inputs: exact minimum and maximum, and a
//! percentile of `|x|` from a histogram over the bits of `f32`.
//!
//! The histogram bin of `|x|` is its exponent and top [`MANTISSA_BITS`] mantissa bits (the
//! bit pattern of a non-negative `f32` is monotone in its value), so binning costs a shift and
//! the percentile is known to within `2^-MANTISSA_BITS` relative, from above, whatever the
//! range: no pass to find the range first, no sorting of billions of values.

use super::SiteCalibration;

/// The fraction of inputs below the recorded percentile of `|x|`.
pub const ABS_PERCENTILE: f64 = 0.9999;

/// Mantissa bits kept in a histogram bin.
const MANTISSA_BITS: u32 = 6;
/// Shift from an `f32`'s bits to its bin.
const SHIFT: u32 = 23 - MANTISSA_BITS;
/// Bins: every non-negative `f32` bit pattern (sign bit clear) shifted right.
const BINS: usize = 1 << (31 - SHIFT);

/// Accumulates one site's inputs over images (one per worker, merged at the end).
#[derive(Clone, Debug, PartialEq)]
pub struct SiteAccumulator {
    min: f32,
    max: f32,
    count: u64,
    /// Counts per bin of `|x|`; allocated on the first input.
    histogram: Vec<u64>,
}

impl Default for SiteAccumulator {
    fn default() -> Self {
        Self {
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            count: 0,
            histogram: Vec::new(),
        }
    }
}

fn bin(x: f32) -> usize {
    (x.abs().to_bits() >> SHIFT) as usize
}

/// The largest `|x|` of a bin.
fn bin_top(bin: usize) -> f64 {
    let next = ((bin as u32 + 1) << SHIFT).min(f32::INFINITY.to_bits());
    f64::from(f32::from_bits(next))
}

impl SiteAccumulator {
    /// Adds inputs (a NaN is counted, in a bin above every finite value, but does not move
    /// the minimum or maximum).
    pub fn record(&mut self, xs: impl Iterator<Item = f32>) {
        if self.histogram.is_empty() {
            self.histogram = vec![0; BINS];
        }
        for x in xs {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
            self.histogram[bin(x)] += 1;
            self.count += 1;
        }
    }

    /// Adds another accumulator's inputs.
    pub fn merge(&mut self, other: &SiteAccumulator) {
        if other.count == 0 {
            return;
        }
        if self.histogram.is_empty() {
            self.histogram = vec![0; BINS];
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.histogram
            .iter_mut()
            .zip(&other.histogram)
            .for_each(|(a, b)| *a += b);
    }

    /// The figures kept in the calibration.
    pub fn summary(&self) -> SiteCalibration {
        let (min, max) = (f64::from(self.min), f64::from(self.max));
        let max_abs = min.abs().max(max.abs());
        let wanted = (ABS_PERCENTILE * self.count as f64).ceil() as u64;
        let mut seen = 0;
        let mut percentile = max_abs;
        for (index, &count) in self.histogram.iter().enumerate() {
            seen += count;
            if count > 0 && seen >= wanted {
                percentile = bin_top(index).min(max_abs);
                break;
            }
        }
        SiteCalibration {
            min,
            max,
            max_abs,
            abs_percentile: percentile,
            count: self.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_exact_and_percentile_an_upper_bound_within_a_bin() {
        let xs: Vec<f32> = (0..100_000)
            .map(|k| (k as f32 - 30_000.0) / 1000.0)
            .collect();
        let mut a = SiteAccumulator::default();
        let mut b = SiteAccumulator::default();
        a.record(xs[..50_000].iter().copied());
        b.record(xs[50_000..].iter().copied());
        a.merge(&b);
        let s = a.summary();
        let top = f64::from(xs[xs.len() - 1]);
        assert_eq!(
            (s.min, s.max, s.max_abs, s.count),
            (-30.0, top, top, 100_000)
        );
        let mut abs: Vec<f64> = xs.iter().map(|&x| f64::from(x.abs())).collect();
        abs.sort_by(f64::total_cmp);
        let exact = abs[(ABS_PERCENTILE * abs.len() as f64).ceil() as usize - 1];
        assert!(s.abs_percentile >= exact, "{} < {exact}", s.abs_percentile);
        assert!(
            s.abs_percentile <= exact * (1.0 + 1.0 / 64.0),
            "{}",
            s.abs_percentile
        );
    }
}
