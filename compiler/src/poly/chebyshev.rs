//! Chebyshev interpolation on an interval: nodes, coefficients and Clenshaw evaluation.
//!
//! A function `f` on `[a, b]` is interpolated at the `d + 1` Chebyshev points of the first
//! kind, `x_k = cos(π (k + ½) / (d + 1))` mapped to `[a, b]`, and written in the Chebyshev
//! basis of the mapped variable `t = (2x − a − b) / (b − a) ∈ [−1, 1]`:
//! `p(x) = Σ_j c_j T_j(t)`. The coefficients come from the direct discrete cosine sums
//! `c_j = (2 / (d + 1)) Σ_k f(x_k) cos(j π (k + ½) / (d + 1))` (`c_0` halved), which is exact
//! interpolation (Trefethen, *Approximation Theory and Approximation Practice*); the
//! `O(d²)` cost is negligible for the degrees a CKKS circuit can afford (≤ 1023).
//!
//! [`clenshaw`] evaluates such a series in `f64` with Clenshaw's recurrence: the reference the
//! homomorphic evaluation (which uses another order of operations) is compared against.

use super::PolyError;
use serde::{Deserialize, Serialize};

/// A closed interval `[lo, hi]` with `lo < hi`, both finite.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

impl Interval {
    /// The interval `[lo, hi]`, refused unless both ends are finite and `lo < hi`.
    pub fn new(lo: f64, hi: f64) -> Result<Self, PolyError> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(PolyError::BadInterval { lo, hi });
        }
        Ok(Interval { lo, hi })
    }

    /// `[-bound, bound]`.
    pub fn symmetric(bound: f64) -> Result<Self, PolyError> {
        Self::new(-bound, bound)
    }

    /// The affine map `t = scale·x + shift` taking this interval onto `[−1, 1]`.
    pub fn to_unit(&self) -> (f64, f64) {
        let scale = 2.0 / (self.hi - self.lo);
        let shift = -(self.hi + self.lo) / (self.hi - self.lo);
        (scale, shift)
    }

    /// The point of this interval that `t ∈ [−1, 1]` stands for.
    pub fn from_unit(&self, t: f64) -> f64 {
        0.5 * (self.hi + self.lo) + 0.5 * (self.hi - self.lo) * t
    }

    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// Half the width.
    pub fn radius(&self) -> f64 {
        0.5 * (self.hi - self.lo)
    }
}

/// The `count` Chebyshev points of the first kind on `[−1, 1]`, in decreasing order.
pub fn unit_nodes(count: usize) -> Vec<f64> {
    let n = count as f64;
    (0..count)
        .map(|k| (std::f64::consts::PI * (k as f64 + 0.5) / n).cos())
        .collect()
}

/// Chebyshev coefficients `c_0..c_d` (in the variable of [`Interval::to_unit`]) of the degree-`d`
/// interpolant of `f` on `interval`.
pub fn interpolate(
    f: impl Fn(f64) -> f64,
    interval: Interval,
    degree: usize,
) -> Result<Vec<f64>, PolyError> {
    let count = degree + 1;
    let nodes = unit_nodes(count);
    let values: Vec<f64> = nodes.iter().map(|&t| f(interval.from_unit(t))).collect();
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(PolyError::NonFinite {
            what: "function value",
            at: interval.from_unit(nodes[k]),
        });
    }
    let n = count as f64;
    let coeffs = (0..count)
        .map(|j| {
            let sum: f64 = values
                .iter()
                .enumerate()
                .map(|(k, v)| v * (std::f64::consts::PI * j as f64 * (k as f64 + 0.5) / n).cos())
                .sum();
            let c = 2.0 * sum / n;
            if j == 0 { 0.5 * c } else { c }
        })
        .collect();
    Ok(coeffs)
}

/// Sets to exactly zero every coefficient at most `relative ×` the largest one: the rounding
/// residue of the cosine sums (about `1e-16` relative), which would otherwise cost products for
/// terms that are zero in exact arithmetic (the odd terms of `|x|`, the even ones of `tanh`).
pub fn chop(coeffs: &mut [f64], relative: f64) {
    let largest = coeffs.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    for c in coeffs.iter_mut() {
        if c.abs() <= relative * largest {
            *c = 0.0;
        }
    }
}

/// `Σ_j coeffs[j]·T_j(t)` by Clenshaw's recurrence (`t` is the unit-interval variable).
pub fn clenshaw(coeffs: &[f64], t: f64) -> f64 {
    let Some((&c0, rest)) = coeffs.split_first() else {
        return 0.0;
    };
    let (mut b1, mut b2) = (0.0, 0.0);
    for &c in rest.iter().rev() {
        let b0 = 2.0 * t * b1 - b2 + c;
        b2 = b1;
        b1 = b0;
    }
    t * b1 - b2 + c0
}

/// `T_n(t)` by the three-term recurrence (for tests and Remez matrices).
pub fn chebyshev_t(n: usize, t: f64) -> f64 {
    let (mut prev, mut cur) = (1.0, t);
    if n == 0 {
        return prev;
    }
    for _ in 1..n {
        let next = 2.0 * t * cur - prev;
        prev = cur;
        cur = next;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolant_reproduces_a_polynomial_exactly() {
        // 4x³ − 3x = T_3(x): coefficients [0, 0, 0, 1] whatever the degree ≥ 3.
        let c = interpolate(
            |x| 4.0 * x * x * x - 3.0 * x,
            Interval::symmetric(1.0).unwrap(),
            6,
        )
        .unwrap();
        for (j, &cj) in c.iter().enumerate() {
            let expected = if j == 3 { 1.0 } else { 0.0 };
            assert!((cj - expected).abs() < 1e-14, "c_{j} = {cj}");
        }
    }

    #[test]
    fn clenshaw_matches_the_recurrence_definition() {
        let c = [0.3, -1.2, 0.7, 0.05, 2.0];
        for &t in &[-1.0, -0.3, 0.0, 0.41, 1.0] {
            let direct: f64 = c
                .iter()
                .enumerate()
                .map(|(j, cj)| cj * chebyshev_t(j, t))
                .sum();
            assert!((clenshaw(&c, t) - direct).abs() < 1e-13);
        }
    }

    #[test]
    fn bad_intervals_are_refused() {
        assert!(Interval::new(1.0, 1.0).is_err());
        assert!(Interval::new(f64::NAN, 1.0).is_err());
        assert!(Interval::new(2.0, -1.0).is_err());
    }
}
