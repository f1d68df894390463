//! The special FFT of CKKS: evaluation of a real polynomial at the primitive 2N-th roots of
//! unity ζ^(5^j), j < n, and its inverse, in O(n log n).
//!
//! A message of `n` complex slots (n a power of two, n ≤ N/2) lives in the subring Z[Y] with
//! Y = X^(N/2n). Writing its 2n real coefficients as n complex numbers w_k = c_k + i·c_(k+n),
//! slot j is Σ_k w_k · ξ^(5^j·k) with ξ a primitive 4n-th root of unity, because ξ^(n·5^j) = i.
//! That sum is a length-n DFT twisted by the rotation group ⟨5⟩, which this module computes with
//! a radix-2 butterfly network over one precomputed table of 2N-th roots. The same table serves
//! every slot count up to N/2, so one [`SpecialFft`] covers dense and sparse packing.

use std::ops::{Add, Mul, Sub};

/// A complex number of two `f64`, the slot type of CKKS.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct C64 {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl C64 {
    /// Builds `re + i·im`.
    pub const fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }

    /// The complex conjugate.
    pub fn conj(self) -> Self {
        Self::new(self.re, -self.im)
    }

    /// Scales both parts by a real factor.
    pub fn scale(self, factor: f64) -> Self {
        Self::new(self.re * factor, self.im * factor)
    }

    /// `e^(iθ)`.
    pub fn from_angle(theta: f64) -> Self {
        let (sin, cos) = theta.sin_cos();
        Self::new(cos, sin)
    }

    /// The modulus |z|.
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }
}

impl Add for C64 {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self::new(self.re + rhs.re, self.im + rhs.im)
    }
}

impl Sub for C64 {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self::new(self.re - rhs.re, self.im - rhs.im)
    }
}

impl Mul for C64 {
    type Output = Self;
    fn mul(self, rhs: Self) -> Self {
        Self::new(
            self.re * rhs.re - self.im * rhs.im,
            self.re * rhs.im + self.im * rhs.re,
        )
    }
}

/// Precomputed roots and rotation group for the special FFT of ring degree N.
#[derive(Clone, Debug)]
pub struct SpecialFft {
    /// 2N, the order of the roots of unity.
    order: usize,
    /// `roots[k] = e^(2πik / 2N)` for k < 2N.
    roots: Vec<C64>,
    /// `rot_group[j] = 5^j mod 2N` for j < N/2.
    rot_group: Vec<usize>,
}

impl SpecialFft {
    /// Precomputes the tables for ring degree `ring_degree` (a power of two ≥ 4).
    ///
    /// # Panics
    /// If `ring_degree` is not a power of two of at least 4 (a programmer error: ring degrees
    /// come from validated parameters).
    pub fn new(ring_degree: usize) -> Self {
        assert!(
            ring_degree.is_power_of_two() && ring_degree >= 4,
            "ring degree {ring_degree} is not a power of two >= 4"
        );
        let order = 2 * ring_degree;
        let roots = (0..order)
            .map(|k| C64::from_angle(2.0 * std::f64::consts::PI * k as f64 / order as f64))
            .collect();
        let mut rot_group = Vec::with_capacity(ring_degree / 2);
        let mut power = 1usize;
        for _ in 0..ring_degree / 2 {
            rot_group.push(power);
            power = power * 5 % order;
        }
        Self {
            order,
            roots,
            rot_group,
        }
    }

    /// The ring degree N these tables were built for.
    pub fn ring_degree(&self) -> usize {
        self.order / 2
    }

    /// The largest number of slots, N/2.
    pub fn max_slots(&self) -> usize {
        self.order / 4
    }

    /// In place, maps the folded coefficients `w` (length n = slot count) to the slot values.
    pub fn coefficients_to_slots(&self, values: &mut [C64]) {
        let n = self.check_len(values.len());
        bit_reverse(values);
        let mut len = 2;
        while len <= n {
            let half = len / 2;
            let quarter_order = 4 * len;
            let stride = self.order / quarter_order;
            for block in values.chunks_exact_mut(len) {
                let (lo, hi) = block.split_at_mut(half);
                for (j, (u, v)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                    let root = self.roots[(self.rot_group[j] % quarter_order) * stride];
                    let t = *v * root;
                    *v = *u - t;
                    *u = *u + t;
                }
            }
            len *= 2;
        }
    }

    /// In place, maps slot values (length n = slot count) to the folded coefficients `w`;
    /// the exact inverse of [`Self::coefficients_to_slots`].
    pub fn slots_to_coefficients(&self, values: &mut [C64]) {
        let n = self.check_len(values.len());
        let mut len = n;
        while len >= 2 {
            let half = len / 2;
            let quarter_order = 4 * len;
            let stride = self.order / quarter_order;
            for block in values.chunks_exact_mut(len) {
                let (lo, hi) = block.split_at_mut(half);
                for (j, (u, v)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                    let exponent = quarter_order - self.rot_group[j] % quarter_order;
                    let root = self.roots[exponent * stride];
                    let sum = *u + *v;
                    *v = (*u - *v) * root;
                    *u = sum;
                }
            }
            len /= 2;
        }
        bit_reverse(values);
        let inv = 1.0 / n as f64;
        for value in values.iter_mut() {
            *value = value.scale(inv);
        }
    }

    fn check_len(&self, len: usize) -> usize {
        assert!(
            len.is_power_of_two() && len <= self.max_slots(),
            "slot count {len} is not a power of two <= {}",
            self.max_slots()
        );
        len
    }
}

/// Permutes `values` into bit-reversed index order (length a power of two).
fn bit_reverse(values: &mut [C64]) {
    let n = values.len();
    if n <= 2 {
        return;
    }
    let shift = usize::BITS - n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> shift;
        if i < j {
            values.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slot j of a real polynomial with coefficients `coeffs` (degree < N), evaluated naively.
    fn naive_embedding(coeffs: &[f64], slot: usize) -> C64 {
        let order = 2 * coeffs.len();
        let mut exponent = 1usize;
        for _ in 0..slot {
            exponent = exponent * 5 % order;
        }
        let mut sum = C64::default();
        for (k, &c) in coeffs.iter().enumerate() {
            let angle = 2.0 * std::f64::consts::PI * ((exponent * k) % order) as f64 / order as f64;
            sum = sum + C64::from_angle(angle).scale(c);
        }
        sum
    }

    fn pseudo_random(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    /// For every slot count, the FFT of the folded coefficients equals the naive embedding of
    /// the polynomial in Z[X^(N/2n)], at every one of the N/2 slots (replicated packing).
    #[test]
    fn fft_matches_naive_embedding_for_dense_and_sparse_slots() {
        let ring_degree = 64;
        let fft = SpecialFft::new(ring_degree);
        let mut state = 7;
        for log_slots in 0..=5 {
            let slots = 1usize << log_slots;
            let gap = ring_degree / (2 * slots);
            let folded: Vec<C64> = (0..slots)
                .map(|_| C64::new(pseudo_random(&mut state), pseudo_random(&mut state)))
                .collect();
            let mut coeffs = vec![0.0; ring_degree];
            for (k, w) in folded.iter().enumerate() {
                coeffs[k * gap] = w.re;
                coeffs[(k + slots) * gap] = w.im;
            }
            let mut values = folded.clone();
            fft.coefficients_to_slots(&mut values);
            for slot in 0..ring_degree / 2 {
                let expected = naive_embedding(&coeffs, slot);
                let got = values[slot % slots];
                assert!(
                    (expected - got).abs() < 1e-12,
                    "slots {slots}, slot {slot}: {got:?} != {expected:?}"
                );
            }
        }
    }

    #[test]
    fn inverse_fft_round_trips() {
        let fft = SpecialFft::new(1 << 10);
        let mut state = 3;
        for slots in [1, 2, 16, 512] {
            let original: Vec<C64> = (0..slots)
                .map(|_| C64::new(pseudo_random(&mut state), pseudo_random(&mut state)))
                .collect();
            let mut values = original.clone();
            fft.slots_to_coefficients(&mut values);
            fft.coefficients_to_slots(&mut values);
            for (a, b) in original.iter().zip(&values) {
                assert!((*a - *b).abs() < 1e-12, "slots {slots}: {a:?} != {b:?}");
            }
        }
    }
}
