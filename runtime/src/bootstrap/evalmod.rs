//! EvalMod: the homomorphic reduction modulo 1 at the heart of bootstrapping (plan §2.4).
//!
//! After ModRaise and CoeffToSlot, each slot holds u = x/K where x = t/q0 = I + Δ_in·m/q0,
//! I an integer with |x| ≤ K (the probability of leaving that range is
//! `fhec_params::bootstrap::rounding_failure_log2`). EvalMod returns A·sin(2πx)/(2π) ≈
//! A·(x mod 1): with A = q0/Δ_in that is the message m itself.
//!
//! **Method** (Han–Ki, CT-RSA 2020; Lattigo's `CosDiscrete`): a Chebyshev polynomial p of
//! degree d approximates λ_0·cos(2π(K·u − 1/4)/2^r) on [−1, 1], fitted by least squares only
//! on the neighbourhoods [i − ε, i + ε] of the integers i ∈ [−K, K] (ε = 2^-message ratio),
//! where the inputs can lie; then r double-angle steps. Scaled values w_i = λ_i·cos θ_i with
//! λ_r = A/(2π) and λ_(i−1) = √(2·λ_i) make every step a bare square and a constant:
//! w_i = w_(i−1)² − λ_i (since λ_(i−1)²·cos² θ − λ_i = λ_i·cos 2θ), so no level is spent on
//! constants and A costs nothing.
//!
//! **Arcsine stage** (when the literal has arcsine primes): the sine compresses a message
//! coefficient m by its cubic term, sin(2πf)/(2π) ≈ f·(1 − (2πf)²/6) with f = m/A, which is
//! 2^-11.3 at m = 1 for A = 2^7: invisible on random slots (coefficients ≈ 1/√N), but a slot
//! vector with a large mean puts it into one coefficient. Two more levels compute
//! F = s·(1 + c·s²) ≈ A·arcsin(2πs/A)/(2π) = A·(x mod 1), with c fitted so that the relative
//! error over |f| ≤ 2^-ratio is at most 0.0129·(2π·2^-ratio)⁴ (2^-23.7 at ratio 2^7; the
//! Taylor coefficient would leave 2^-21.2). See [`arcsine_coefficient`].
//!
//! **Levels**: ⌈log2(d + 1)⌉ for p (the Chebyshev evaluator's exact depth) plus r, plus 2 for
//! the arcsine stage, the same count as `EvalModLiteral::depth`. **Scales**: the target output scale is reached exactly by
//! working backwards: before the square that divides by q_ℓ the scale must be √(s·q_ℓ), and p
//! is evaluated directly at the first of these scales. The input scale should be about the
//! EvalMod primes (Lattigo relabels the ciphertext to 2^60 before EvalMod, a free division
//! by q0); see the power-scale note in [`crate::eval::ChebyshevPolynomial`]'s evaluator.

use crate::ciphertext::Ciphertext;
use crate::eval::{ChebyshevPolynomial, EvalError, Evaluator, PolynomialError};
use fhec_params::bootstrap::ARCSINE_LEVELS;
use fhec_params::{BootstrapConfig, EvalModLiteral, Level};
use std::f64::consts::PI;
use thiserror::Error;

/// Least-squares sample points per integer neighbourhood, as a multiple of the points a
/// degree-d fit needs on average (oversampling keeps the fit close to minimax).
const OVERSAMPLING: usize = 4;

/// Least-squares weight of the outermost neighbourhoods ±K. An overflow |I| = K needs |x| within
/// 1/2 of the range's end, which for h = 32, K = 16 happens with probability about 2^-122 per
/// coefficient (Irwin–Hall). Fitting those two neighbourhoods loosely (error 2^-25.6 there, still
/// a correct reduction with fewer bits in that one coefficient) frees the degree for the 2K − 1
/// others: 2^-35.8 instead of 2^-33.1 for degree 31, r = 3, 2^-35.1 for degree 30.
const EDGE_WEIGHT: f64 = 1.0 / 1024.0;

/// Why EvalMod could not be set up or evaluated.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvalModError {
    /// The EvalMod literal or the output factor is unusable.
    #[error("EvalMod: {reason}")]
    Shape {
        /// What is wrong.
        reason: String,
    },
    /// The ciphertext has fewer levels than EvalMod consumes.
    #[error("EvalMod needs {needed} levels; the ciphertext is at level {level}")]
    NotEnoughLevels {
        /// Levels EvalMod consumes.
        needed: usize,
        /// Level of the input.
        level: usize,
    },
    /// The polynomial evaluation failed.
    #[error(transparent)]
    Polynomial(#[from] PolynomialError),
    /// A double-angle step failed.
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// EvalMod prepared for one [`EvalModLiteral`] and one output factor A.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalMod {
    literal: EvalModLiteral,
    /// A: the output is A·sin(2πx)/(2π).
    output_factor: f64,
    /// p ≈ λ_0·cos(2π(K·u − 1/4)/2^r) on [−1, 1].
    polynomial: ChebyshevPolynomial,
    /// λ_1..λ_r: the constants subtracted after each square.
    constants: Vec<f64>,
    /// c of the arcsine stage F = s·(1 + c·s²), if the literal has one.
    arcsine: Option<f64>,
}

impl EvalMod {
    /// Fits the cosine polynomial of `literal` for the output factor A (`output_factor`,
    /// typically q0/Δ_in so the output is the message).
    ///
    /// Errors: [`EvalModError::Shape`] for a degree below 2, K = 0, more than 8 double angles
    /// or a non-positive or non-finite A.
    pub fn new(literal: &EvalModLiteral, output_factor: f64) -> Result<Self, EvalModError> {
        let shape = |reason: &str| {
            Err(EvalModError::Shape {
                reason: reason.to_string(),
            })
        };
        if literal.degree < 2 {
            return shape("the cosine approximation needs degree >= 2");
        }
        if literal.k == 0 {
            return shape("K must be at least 1");
        }
        if literal.double_angles > 8 {
            return shape("at most 8 double-angle steps");
        }
        if !(output_factor.is_finite() && output_factor > 0.0) {
            return shape("the output factor A must be a positive finite number");
        }
        let r = literal.double_angles as usize;
        // λ_r = A/(2π), λ_(i−1) = √(2·λ_i).
        let mut lambdas = vec![output_factor / (2.0 * PI); r + 1];
        for i in (0..r).rev() {
            lambdas[i] = (2.0 * lambdas[i + 1]).sqrt();
        }
        let polynomial = fit_cosine(literal, lambdas[0])?;
        let arcsine = match literal.arcsine_bits.len() {
            0 => None,
            ARCSINE_LEVELS => Some(arcsine_coefficient(
                literal.log_message_ratio,
                output_factor,
            )),
            _ => return shape("the arcsine stage takes exactly two primes (or none)"),
        };
        Ok(Self {
            literal: literal.clone(),
            output_factor,
            polynomial,
            constants: lambdas[1..].to_vec(),
            arcsine,
        })
    }

    /// EvalMod for a bootstrap of `config`: its EvalMod shape with A = q0/input scale, so the
    /// output is the message itself (the input's coefficients over its scale).
    ///
    /// Errors: as [`Self::new`].
    pub fn for_bootstrap(config: &BootstrapConfig) -> Result<Self, EvalModError> {
        let q0 = config.params().q_primes()[0] as f64;
        Self::new(config.evalmod(), q0 / config.input_scale())
    }

    /// Levels consumed: ⌈log2(degree + 1)⌉ + double angles (+ 2 for the arcsine stage).
    pub fn depth(&self) -> usize {
        self.sine_depth() + self.arcsine.map_or(0, |_| ARCSINE_LEVELS)
    }

    /// Levels of the polynomial and the double angles.
    fn sine_depth(&self) -> usize {
        self.polynomial.depth() + self.constants.len()
    }

    /// c of the arcsine stage F = s·(1 + c·s²), `None` without one.
    pub fn arcsine_coefficient(&self) -> Option<f64> {
        self.arcsine
    }

    /// The fitted cosine polynomial (on u = x/K ∈ [−1, 1]).
    pub fn polynomial(&self) -> &ChebyshevPolynomial {
        &self.polynomial
    }

    /// The output factor A.
    pub fn output_factor(&self) -> f64 {
        self.output_factor
    }

    /// The clear-side result for x (in q0 units, |x| ≤ K): the same polynomial, double
    /// angles and arcsine stage in f64, ≈ A·sin(2πx)/(2π) without the arcsine stage, ≈
    /// A·(x − round(x)) with it. The oracle of the tests and of precision budgets.
    pub fn evaluate_clear(&self, x: f64) -> f64 {
        let mut w = self.polynomial.evaluate(x / f64::from(self.literal.k));
        for &lambda in &self.constants {
            w = w * w - lambda;
        }
        match self.arcsine {
            Some(c) => w * (1.0 + c * w * w),
            None => w,
        }
    }

    /// EvalMod on `input` (slots u = x/K, real), returning A·sin(2πx)/(2π) at level
    /// `input.level() − self.depth()` with scale exactly `target_scale`. Needs the
    /// relinearisation key.
    ///
    /// Errors: [`EvalModError::NotEnoughLevels`], and the evaluator's errors (a missing key,
    /// a scale that does not fit the modulus).
    pub fn evaluate(
        &self,
        evaluator: &Evaluator<'_>,
        input: &Ciphertext,
        target_scale: f64,
    ) -> Result<Ciphertext, EvalModError> {
        let level = input.level().0;
        if level < self.depth() {
            return Err(EvalModError::NotEnoughLevels {
                needed: self.depth(),
                level,
            });
        }
        let context = evaluator.context();
        let polynomial_level = level - self.polynomial.depth();
        let sine_level = level - self.sine_depth();
        // The arcsine stage F = s·(1 + c·s²): s² divides by q at the sine's output level, the
        // product by the next prime, and relabelling s² by 1/c (c·s² on the same integers)
        // costs nothing, so F's scale is S³/(q_a·q_b·c) for a sine output at scale S.
        let sine_scale = match self.arcsine {
            Some(c) => {
                let q_a = context.q_prime(Level(sine_level)) as f64;
                let q_b = context.q_prime(Level(sine_level - 1)) as f64;
                (target_scale * q_a * q_b * c).cbrt()
            }
            None => target_scale,
        };
        // scales[i]: the scale of w_i; w_i is at level polynomial_level − i and its square
        // divides by q at that level.
        let r = self.constants.len();
        let mut scales = vec![sine_scale; r + 1];
        for i in (0..r).rev() {
            let prime = context.q_prime(Level(polynomial_level - i)) as f64;
            scales[i] = (scales[i + 1] * prime).sqrt();
        }
        let mut w = evaluator.evaluate_chebyshev(input, &self.polynomial, scales[0])?;
        for (i, &lambda) in self.constants.iter().enumerate() {
            let square = w.clone();
            evaluator.mul_rescale_assign(&mut w, &square)?;
            w.scale = scales[i + 1];
            evaluator.add_const_assign(&mut w, -lambda)?;
        }
        let Some(c) = self.arcsine else {
            return Ok(w);
        };
        let mut factor = evaluator.mul_rescale_new(&w, &w)?;
        factor.scale /= c;
        evaluator.add_const_assign(&mut factor, 1.0)?;
        evaluator.level_down_assign(&mut w, Level(sine_level - 1))?;
        evaluator.mul_rescale_assign(&mut factor, &w)?;
        // S³/(q_a·q_b·c) is the target up to the rounding of the cube root.
        factor.scale = target_scale;
        Ok(factor)
    }
}

/// c of the arcsine stage for a message ratio of 2^`log_message_ratio` and output factor A:
/// with y = 2π·s/A = sin(2πf), arcsin(y) = y + y³/6 + 3y⁵/40 + …, and y + c'·y³ with
/// c' = 1/6 + 2·(3/40)·(√2 − 1)·Y² equioscillates the relative error (a·(√2 − 1)²·Y⁴,
/// a = 3/40) over |y| ≤ Y = sin(2π·2^-ratio), where the message lies. In the output's units
/// c = c'·(2π/A)².
pub fn arcsine_coefficient(log_message_ratio: u32, output_factor: f64) -> f64 {
    let fifth_order = 3.0 / 40.0;
    let y_max = (2.0 * PI * 2f64.powi(-(log_message_ratio as i32))).sin();
    let c_prime = 1.0 / 6.0 + 2.0 * fifth_order * (2f64.sqrt() - 1.0) * y_max * y_max;
    c_prime * (2.0 * PI / output_factor).powi(2)
}

/// The Han–Ki fit: least squares in the Chebyshev basis on points clustered around the
/// integers of [−K, K], of λ_0·cos(2π(x − 1/4)/2^r) with x = K·u.
fn fit_cosine(literal: &EvalModLiteral, lambda0: f64) -> Result<ChebyshevPolynomial, EvalModError> {
    let k = f64::from(literal.k);
    let degree = literal.degree as usize;
    let epsilon = 2f64.powi(-(literal.log_message_ratio as i32));
    let shrink = 2f64.powi(literal.double_angles as i32);
    let target = |x: f64| lambda0 * (2.0 * PI * (x - 0.25) / shrink).cos();
    let intervals = 2 * literal.k as usize + 1;
    let per_interval = (OVERSAMPLING * (degree + 1)).div_ceil(intervals).max(4);
    let mut points = Vec::with_capacity(intervals * per_interval);
    for i in -(literal.k as i64)..=literal.k as i64 {
        let centre = i as f64;
        for j in 0..per_interval {
            // Chebyshev points of [centre − ε, centre + ε], clipped to [−K, K].
            let t = (PI * (j as f64 + 0.5) / per_interval as f64).cos();
            let x = (centre + epsilon * t).clamp(-k, k);
            let weight = if i.unsigned_abs() == u64::from(literal.k) {
                EDGE_WEIGHT
            } else {
                1.0
            };
            points.push((x, weight));
        }
    }
    let rows: Vec<Vec<f64>> = points
        .iter()
        .map(|&(x, w)| {
            chebyshev_row(x / k, degree)
                .into_iter()
                .map(|v| v * w)
                .collect()
        })
        .collect();
    let values: Vec<f64> = points.iter().map(|&(x, w)| w * target(x)).collect();
    let coefficients = least_squares(rows, values);
    ChebyshevPolynomial::new(coefficients, -1.0, 1.0).map_err(EvalModError::from)
}

/// T_0(u)..T_d(u).
fn chebyshev_row(u: f64, degree: usize) -> Vec<f64> {
    let mut row = Vec::with_capacity(degree + 1);
    row.push(1.0);
    if degree >= 1 {
        row.push(u);
    }
    for k in 2..=degree {
        row.push(2.0 * u * row[k - 1] - row[k - 2]);
    }
    row
}

/// Solves min ‖A·c − b‖₂ by Householder QR (A given by rows, more rows than columns, full
/// column rank: the Chebyshev basis on well-spread points).
fn least_squares(rows: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = rows[0].len();
    debug_assert!(rows.len() >= n);
    // Column-major copy: each Householder step works on column tails.
    let mut columns: Vec<Vec<f64>> = (0..n)
        .map(|j| rows.iter().map(|row| row[j]).collect())
        .collect();
    for col in 0..n {
        let rest = &mut columns[col..];
        let pivot = &rest[0][col..];
        let norm = pivot.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if pivot[0] > 0.0 { -norm } else { norm };
        let mut v = pivot.to_vec();
        v[0] -= alpha;
        let v_norm2: f64 = v.iter().map(|x| x * x).sum();
        if v_norm2 == 0.0 {
            continue;
        }
        let reflect = |tail: &mut [f64]| {
            let dot: f64 = v.iter().zip(tail.iter()).map(|(a, b)| a * b).sum();
            let factor = 2.0 * dot / v_norm2;
            tail.iter_mut()
                .zip(&v)
                .for_each(|(t, vi)| *t -= factor * vi);
        };
        rest.iter_mut()
            .for_each(|column| reflect(&mut column[col..]));
        reflect(&mut b[col..]);
    }
    let mut c = vec![0.0; n];
    for i in (0..n).rev() {
        let tail: f64 = (i + 1..n).map(|j| columns[j][i] * c[j]).sum();
        c[i] = (b[i] - tail) / columns[i][i];
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test presets' sine: degree 30, K = 16, 4 double angles, ratio 2^8 (`N16_BOOT`
    /// differs by its ratio, 2^7), without the arcsine stage.
    fn literal() -> EvalModLiteral {
        EvalModLiteral {
            arcsine_bits: Vec::new(),
            ..fhec_params::bootstrap::test_boot_insecure(11, 10).evalmod
        }
    }

    /// The same with Lattigo's 3 double angles.
    fn three_double_angles() -> EvalModLiteral {
        EvalModLiteral {
            double_angles: 3,
            ..literal()
        }
    }

    #[test]
    fn least_squares_recovers_an_exact_fit() {
        let rows: Vec<Vec<f64>> = (0..20)
            .map(|i| chebyshev_row(-1.0 + i as f64 / 10.0, 3))
            .collect();
        let truth = [0.5, -1.0, 0.25, 2.0];
        let b = rows
            .iter()
            .map(|r| r.iter().zip(&truth).map(|(a, c)| a * c).sum())
            .collect();
        let c = least_squares(rows, b);
        for (got, want) in c.iter().zip(truth) {
            assert!((got - want).abs() < 1e-13);
        }
    }

    /// Plan §5.2 test 5 (clear side): on x = i + f, |f| ≤ 2^-ratio, the polynomial and
    /// double angles match A·sin(2πx)/(2π) to 2^-34.5 relative to A for |i| < K (measured
    /// 2^-35.1 for degree 30, K = 16, r = 3) and to 2^-24 at the rarely reached |i| = K
    /// (see `EDGE_WEIGHT`).
    #[test]
    fn clear_evalmod_matches_the_scaled_sine_near_the_integers() {
        let evalmod = EvalMod::new(&three_double_angles(), 1.0).unwrap();
        assert_eq!(evalmod.depth(), 8);
        let (mut inner, mut edge): (f64, f64) = (0.0, 0.0);
        for i in -16i32..=16 {
            for j in -32..=32 {
                let x = (f64::from(i) + f64::from(j) / 32.0 / 256.0).clamp(-16.0, 16.0);
                let err = (evalmod.evaluate_clear(x) - (2.0 * PI * x).sin() / (2.0 * PI)).abs();
                if i.abs() == 16 {
                    edge = edge.max(err);
                } else {
                    inner = inner.max(err);
                }
            }
        }
        assert!(
            inner < 2f64.powf(-34.5),
            "inner error 2^{:.2}",
            inner.log2()
        );
        assert!(edge < 2f64.powi(-24), "edge error 2^{:.2}", edge.log2());
        // Outside [−K, K] the polynomial means nothing: a negative control that the check
        // sees a wrong result.
        let x = 20.0;
        let off = (evalmod.evaluate_clear(x) - (2.0 * PI * x).sin() / (2.0 * PI)).abs();
        assert!(off > 2f64.powi(-10), "{off}");
    }

    /// A fourth double angle (one level more, the presets' choice) shrinks the polynomial's
    /// interval by two: the error near the integers drops below 2^-44 (measured 2^-45.0 for
    /// degree 30).
    #[test]
    fn a_fourth_double_angle_gains_ten_bits() {
        let evalmod = EvalMod::new(&literal(), 1.0).unwrap();
        assert_eq!(evalmod.depth(), 9);
        let mut worst: f64 = 0.0;
        for i in -15i32..=15 {
            for j in -32..=32 {
                let x = f64::from(i) + f64::from(j) / 32.0 / 256.0;
                let err = (evalmod.evaluate_clear(x) - (2.0 * PI * x).sin() / (2.0 * PI)).abs();
                worst = worst.max(err);
            }
        }
        assert!(worst < 2f64.powi(-44), "error 2^{:.2}", worst.log2());
    }

    /// With the arcsine stage (two levels more) the output is A·(x − round(x)) rather than
    /// A·sin(2πx)/(2π): on messages |m| ≤ 1 with A = 2^ratio, the sine alone is off by up to
    /// m·(2π·m/A)²/6 (2^-11.3 at ratio 2^7), the arcsine stage leaves less than 2^-23.4 at
    /// ratio 2^7 and 2^-27.4 at 2^8 (the fitted c's bound, 0.0129·(2π/A)⁴, plus the sine's own
    /// 2^-45 relative to A).
    #[test]
    fn the_arcsine_stage_returns_x_mod_1() {
        for (log_ratio, bound, sine_bound) in [(7, -23.4, -11.0), (8, -27.4, -13.0)] {
            let with_arcsine = EvalModLiteral {
                log_message_ratio: log_ratio,
                arcsine_bits: vec![60; ARCSINE_LEVELS],
                ..literal()
            };
            let a = 2f64.powi(log_ratio as i32);
            let evalmod = EvalMod::new(&with_arcsine, a).unwrap();
            assert_eq!(evalmod.depth(), 11);
            let sine = EvalMod::new(&literal(), a).unwrap();
            let (mut worst, mut worst_sine): (f64, f64) = (0.0, 0.0);
            for i in -15i32..=15 {
                for j in -64..=64 {
                    let m = f64::from(j) / 64.0;
                    let x = f64::from(i) + m / a;
                    worst = worst.max((evalmod.evaluate_clear(x) - m).abs());
                    worst_sine = worst_sine.max((sine.evaluate_clear(x) - m).abs());
                }
            }
            assert!(
                worst < 2f64.powf(bound),
                "ratio 2^{log_ratio}: 2^{:.2}",
                worst.log2()
            );
            assert!(
                worst_sine > 2f64.powf(sine_bound - 1.0) && worst_sine < 2f64.powf(sine_bound),
                "the sine alone: 2^{:.2}",
                worst_sine.log2()
            );
        }
    }

    #[test]
    fn bad_shapes_are_refused() {
        let mut bad = literal();
        bad.degree = 1;
        assert!(matches!(
            EvalMod::new(&bad, 1.0),
            Err(EvalModError::Shape { .. })
        ));
        assert!(matches!(
            EvalMod::new(&literal(), f64::NAN),
            Err(EvalModError::Shape { .. })
        ));
        let one_arcsine_prime = EvalModLiteral {
            arcsine_bits: vec![60],
            ..literal()
        };
        assert!(matches!(
            EvalMod::new(&one_arcsine_prime, 1.0),
            Err(EvalModError::Shape { .. })
        ));
    }
}
