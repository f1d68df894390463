//! The composite minimax sign: `sign(t) ≈ p_k(…p_2(p_1(t)))` for `ε ≤ |t| ≤ 1`.
//!
//! Lee, Lee, No, Kim, "Minimax approximation of sign function by composite polynomial for
//! homomorphic comparison" (IEEE TDSC 2021, ePrint 2020/834) compose odd minimax polynomials: `p_1` is the odd
//! minimax approximation of 1 on `[ε, 1]`, with error `τ_1`, so it maps `[ε, 1]` into
//! `[1 − τ_1, 1 + τ_1]`; `p_2` is the minimax approximation of 1 on that image, and so on, the
//! error shrinking roughly doubly exponentially with the number of stages for the depth spent.
//! Their ReLU networks then use `ReLU(x) = x·(1 + sign(x))/2` (Lee et al., "Precise
//! approximation of convolutional neural networks for homomorphically encrypted data",
//! arXiv 2105.10879).
//!
//! Every stage here is computed by our own Remez exchange ([`super::remez`]). So that every
//! stage is a Chebyshev series on `[−1, 1]` (what the BSGS evaluator expects), each
//! intermediate polynomial is divided by its maximum `R_i` on `[0, 1]`: the next stage's input
//! then stays in `[−1, 1]` even for `|t| < ε`, and its approximation set is
//! `[(1 − τ_i)/R_i, 1]`. The last stage outputs `(1 + p_k)/2` directly, the factor `x` of
//! ReLU being one more product.

use super::PolyError;
use super::chebyshev::clenshaw;
use super::remez::odd_minimax;

/// The stages of a composite sign, ready for evaluation.
#[derive(Clone, PartialEq, Debug)]
pub struct CompositeStages {
    /// Chebyshev coefficients on `[−1, 1]` of each stage, in application order; the last one
    /// computes `(1 + sign)/2`.
    pub stages: Vec<Vec<f64>>,
    /// The minimax error `τ` of each stage on its own approximation set.
    pub stage_errors: Vec<f64>,
}

/// The largest `|p(t)|` for `t ∈ [0, 1]`, on a fine grid.
fn max_on_unit(coeffs: &[f64]) -> f64 {
    let count = 20_000;
    (0..=count)
        .map(|k| clenshaw(coeffs, k as f64 / count as f64).abs())
        .fold(0.0, f64::max)
}

/// Builds the composite approximation of `(1 + sign(t))/2` exact to the stages' minimax errors
/// on `ε ≤ |t| ≤ 1`, for odd `degrees` applied in order.
pub fn composite_step(epsilon: f64, degrees: &[usize]) -> Result<CompositeStages, PolyError> {
    if !(epsilon > 0.0 && epsilon < 1.0) {
        return Err(PolyError::BadParameter(format!(
            "sign gap ε = {epsilon} must lie in (0, 1)"
        )));
    }
    if degrees.is_empty() {
        return Err(PolyError::BadParameter(
            "a composite sign needs at least one stage".into(),
        ));
    }
    let mut lo = epsilon;
    let mut stages = Vec::with_capacity(degrees.len());
    let mut stage_errors = Vec::with_capacity(degrees.len());
    for (i, &degree) in degrees.iter().enumerate() {
        let minimax = odd_minimax(|_| 1.0, degree, lo, 1.0)?;
        let tau = minimax.error;
        let mut coeffs = minimax.coeffs;
        stage_errors.push(tau);
        if i + 1 == degrees.len() {
            coeffs.iter_mut().for_each(|c| *c *= 0.5);
            coeffs[0] = 0.5;
        } else {
            if tau >= 1.0 {
                return Err(PolyError::BadParameter(format!(
                    "stage {} (degree {degree}) does not separate [{lo:e}, 1] from 0",
                    i + 1
                )));
            }
            let peak = max_on_unit(&coeffs).max(1.0 + tau);
            coeffs.iter_mut().for_each(|c| *c /= peak);
            lo = (1.0 - tau) / peak;
        }
        stages.push(coeffs);
    }
    Ok(CompositeStages {
        stages,
        stage_errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composite(stages: &CompositeStages, t: f64) -> f64 {
        stages.stages.iter().fold(t, |v, c| clenshaw(c, v))
    }

    #[test]
    fn more_stages_sharpen_the_step() {
        let one = composite_step(1.0 / 64.0, &[7]).unwrap();
        let three = composite_step(1.0 / 64.0, &[7, 7, 7]).unwrap();
        let worst = |s: &CompositeStages| {
            (0..=1000)
                .map(|k| 1.0 / 64.0 + (1.0 - 1.0 / 64.0) * k as f64 / 1000.0)
                .map(|t| (composite(s, t) - 1.0).abs().max(composite(s, -t).abs()))
                .fold(0.0, f64::max)
        };
        assert!(worst(&three) < worst(&one) / 10.0);
        assert!(worst(&three) < 0.02, "three stages: {}", worst(&three));
        assert!((composite(&three, 0.0) - 0.5).abs() < 1e-12, "odd sign");
    }
}
