//! Odd minimax polynomials by the Remez exchange algorithm.
//!
//! [`odd_minimax`] finds the odd polynomial `p` of degree `d` (Chebyshev basis `T_1, T_3, …,
//! T_d` on `[−1, 1]`) minimising `max |p(t) − f(t)|` over `t ∈ [lo, hi] ⊂ (0, 1]`; by oddness
//! the same error holds on `[−hi, −lo]` for odd `f`. The Remez exchange (Remez 1934; as in
//! Trefethen's ATAP, and Lee et al., "Minimax approximation of sign function by composite
//! polynomial", which uses it on exactly these sets):
//!
//! 1. start from `n + 1` reference points (`n = (d + 1)/2` unknowns), Chebyshev extrema of
//!    `[lo, hi]`;
//! 2. solve `p(x_j) + (−1)^j E = f(x_j)` for the coefficients and the levelled error `E`;
//! 3. locate the local extrema of `p − f` on a dense grid (refined by golden-section search),
//!    one per run of equal sign, trim the ends to `n + 1` alternating points and exchange;
//! 4. stop when the extrema's magnitudes agree to `1e-9` relative: by de la Vallée Poussin's
//!    theorem the minimax error then lies between the smallest and the largest of them.

use super::PolyError;
use super::chebyshev::{chebyshev_t, clenshaw};

/// The result of [`odd_minimax`].
#[derive(Clone, PartialEq, Debug)]
pub struct OddMinimax {
    /// Chebyshev coefficients `c_0..c_d` (the even ones are exactly zero).
    pub coeffs: Vec<f64>,
    /// The measured maximum of `|p − f|` on `[lo, hi]`.
    pub error: f64,
    /// The final reference: `n + 1` points where `p − f` alternates in sign.
    pub reference: Vec<f64>,
    /// `p − f` at the reference points.
    pub reference_errors: Vec<f64>,
}

const MAX_ITERATIONS: usize = 100;
/// Relative spread of the extrema's magnitudes at which the exchange stops early.
const TOLERANCE: f64 = 1e-9;
/// Relative spread accepted once the iterations run out (rounding limits the last digits).
const FINAL_TOLERANCE: f64 = 1e-6;
/// An error this small is at `f64` rounding level: the set is already approximated exactly
/// and the alternation is noise (a late stage on a tiny set around 1).
const ROUNDING_LEVEL: f64 = 1e-13;

/// The odd minimax approximation of degree `degree` (odd) to `f` on `[lo, hi]`,
/// `0 < lo < hi ≤ 1`; see the module documentation.
pub fn odd_minimax(
    f: impl Fn(f64) -> f64,
    degree: usize,
    lo: f64,
    hi: f64,
) -> Result<OddMinimax, PolyError> {
    let fail = |reason: String| PolyError::Remez {
        degree,
        lo,
        hi,
        reason,
    };
    if degree.is_multiple_of(2) {
        return Err(fail("the degree of an odd polynomial must be odd".into()));
    }
    if !(0.0 < lo && lo < hi && hi <= 1.0) {
        return Err(fail("the set must satisfy 0 < lo < hi ≤ 1".into()));
    }
    let n = degree.div_ceil(2);
    let grid = grid(lo, hi, 64 * n + 2000);
    let (mid, rad) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let mut reference: Vec<f64> = (0..=n)
        .map(|j| mid - rad * (std::f64::consts::PI * j as f64 / n as f64).cos())
        .collect();
    let mut last_gap = f64::INFINITY;
    for iteration in 0..MAX_ITERATIONS {
        let coeffs = solve_reference(&f, &reference, degree).map_err(fail)?;
        let err = |t: f64| clenshaw(&coeffs, t) - f(t);
        let max = grid.iter().map(|&t| err(t).abs()).fold(0.0, f64::max);
        if max < ROUNDING_LEVEL {
            return Ok(finished(coeffs, reference, max, &f));
        }
        let extrema = alternating_extrema(&err, &grid, lo, hi);
        if extrema.len() < n + 1 {
            return Err(fail(format!(
                "only {} alternating extrema, {} needed",
                extrema.len(),
                n + 1
            )));
        }
        let chosen = trim(extrema, n + 1, &err);
        let mags: Vec<f64> = chosen.iter().map(|&x| err(x).abs()).collect();
        let max = mags.iter().copied().fold(max, f64::max);
        let min = mags.iter().copied().fold(f64::INFINITY, f64::min);
        reference = chosen;
        last_gap = (max - min) / max;
        let last = iteration + 1 == MAX_ITERATIONS;
        if last_gap < TOLERANCE || (last && last_gap < FINAL_TOLERANCE) {
            return Ok(finished(coeffs, reference, max, &f));
        }
    }
    Err(fail(format!(
        "no convergence in {MAX_ITERATIONS} iterations (relative gap {last_gap:e})"
    )))
}

fn finished(
    coeffs: Vec<f64>,
    reference: Vec<f64>,
    error: f64,
    f: &impl Fn(f64) -> f64,
) -> OddMinimax {
    let reference_errors = reference
        .iter()
        .map(|&x| clenshaw(&coeffs, x) - f(x))
        .collect();
    OddMinimax {
        coeffs,
        error,
        reference,
        reference_errors,
    }
}

/// Sample points on `[lo, hi]`: Chebyshev-distributed (dense at both ends) and geometric
/// (dense near a small `lo`, where sign approximations turn), sorted.
fn grid(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let (mid, rad) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let mut points: Vec<f64> = (0..=count)
        .map(|k| mid - rad * (std::f64::consts::PI * k as f64 / count as f64).cos())
        .collect();
    let ratio = (hi / lo).ln();
    points.extend((0..=count).map(|k| lo * (ratio * k as f64 / count as f64).exp()));
    points.iter_mut().for_each(|p| *p = p.clamp(lo, hi));
    points.sort_by(f64::total_cmp);
    points.dedup();
    points
}

/// Solves `Σ_k a_k T_{2k+1}(x_j) + (−1)^j E = f(x_j)` and returns the coefficient vector.
fn solve_reference(
    f: &impl Fn(f64) -> f64,
    reference: &[f64],
    degree: usize,
) -> Result<Vec<f64>, String> {
    let n = reference.len() - 1;
    let mut rows: Vec<Vec<f64>> = reference
        .iter()
        .enumerate()
        .map(|(j, &x)| {
            let mut row: Vec<f64> = (0..n).map(|k| chebyshev_t(2 * k + 1, x)).collect();
            row.push(if j % 2 == 0 { 1.0 } else { -1.0 });
            row.push(f(x));
            row
        })
        .collect();
    let solution = gauss(&mut rows).ok_or("singular reference system")?;
    let mut coeffs = vec![0.0; degree + 1];
    for (k, a) in solution[..n].iter().enumerate() {
        coeffs[2 * k + 1] = *a;
    }
    Ok(coeffs)
}

/// Gaussian elimination with partial pivoting on an augmented `m × (m+1)` system.
fn gauss(rows: &mut [Vec<f64>]) -> Option<Vec<f64>> {
    let m = rows.len();
    for col in 0..m {
        let pivot = (col..m).max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))?;
        if rows[pivot][col].abs() < 1e-300 {
            return None;
        }
        rows.swap(col, pivot);
        let (top, below) = rows.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for row in below {
            let factor = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= factor * p;
            }
        }
    }
    let mut x = vec![0.0; m];
    for r in (0..m).rev() {
        let tail: f64 = (r + 1..m).map(|k| rows[r][k] * x[k]).sum();
        x[r] = (rows[r][m] - tail) / rows[r][r];
    }
    Some(x)
}

/// One extremum of `|err|` per run of equal sign on the grid, each refined by golden-section
/// search between its grid neighbours; consecutive results alternate in sign.
fn alternating_extrema(err: &impl Fn(f64) -> f64, grid: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    let values: Vec<f64> = grid.iter().map(|&t| err(t)).collect();
    let mut extrema = Vec::new();
    let mut start = 0;
    while start < grid.len() {
        let positive = values[start] >= 0.0;
        let mut end = start;
        while end + 1 < grid.len() && (values[end + 1] >= 0.0) == positive {
            end += 1;
        }
        let best = (start..=end)
            .max_by(|&a, &b| values[a].abs().total_cmp(&values[b].abs()))
            .unwrap_or(start);
        let left = grid[best.saturating_sub(1)].max(lo);
        let right = grid[(best + 1).min(grid.len() - 1)].min(hi);
        let refined = golden_max(|t| err(t).abs(), left, right, grid[best]);
        let keeps_sign = (err(refined) >= 0.0) == positive;
        extrema.push(if keeps_sign { refined } else { grid[best] });
        start = end + 1;
    }
    extrema
}

/// The maximiser of `g` on `[a, b]` by golden-section search, never worse than `start`.
fn golden_max(g: impl Fn(f64) -> f64, mut a: f64, mut b: f64, start: f64) -> f64 {
    let ratio = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..60 {
        let c = b - ratio * (b - a);
        let d = a + ratio * (b - a);
        if g(c) > g(d) {
            b = d;
        } else {
            a = c;
        }
    }
    let found = 0.5 * (a + b);
    if g(found) >= g(start) { found } else { start }
}

/// Keeps `count` consecutive alternating points by dropping, from either end, the one with
/// the smaller error.
fn trim(mut points: Vec<f64>, count: usize, err: &impl Fn(f64) -> f64) -> Vec<f64> {
    while points.len() > count {
        let last = points.len() - 1;
        if err(points[0]).abs() < err(points[last]).abs() {
            points.remove(0);
        } else {
            points.pop();
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_target_is_reproduced_when_representable() {
        // f = T_3 on [0.1, 1]: the best degree-3 odd approximation is f itself.
        let r = odd_minimax(|t| chebyshev_t(3, t), 3, 0.1, 1.0).unwrap();
        assert!(r.error < 1e-12, "error {}", r.error);
    }

    #[test]
    fn bad_requests_are_refused() {
        assert!(odd_minimax(|_| 1.0, 4, 0.1, 1.0).is_err());
        assert!(odd_minimax(|_| 1.0, 3, 0.0, 1.0).is_err());
        assert!(odd_minimax(|_| 1.0, 3, 0.5, 1.5).is_err());
    }
}
