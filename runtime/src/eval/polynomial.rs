//! Homomorphic evaluation of a polynomial given in the Chebyshev basis on an interval [a, b],
//! with exact scale management.
//!
//! **Algorithm** (baby-step giant-step in the Chebyshev basis, the level-optimal variant of
//! Bossuat et al., EUROCRYPT 2021, §4): with m = ⌈log2(d + 1)⌉ and a baby size 2^l, compute
//! the baby powers T_1..T_{2^l − 1} and the giant powers T_{2^l}, T_{2^(l+1)}, …, T_{2^(m−1)}
//! (T_{a+b} = 2·T_a·T_b − T_{a−b}, each T_i at depth ⌈log2 i⌉). Then split recursively,
//! p = q·T_{2^j} + r with 2^j the largest power of two ≤ deg p (Chebyshev division:
//! T_{2^j}·T_k = (T_{2^j+k} + T_{2^j−k})/2), down to leaves of degree < 2^l, which are linear
//! combinations of baby powers with real constants.
//!
//! **Scales.** Every node is evaluated "before its rescale": a node asked for level λ and scale
//! σ returns a ciphertext at exactly that level and scale, with σ ≈ Δ·q (a rescale still to
//! come). A leaf multiplies each T_i by the integer round(c_i·σ/σ_i) (σ_i the scale of T_i),
//! so every term lands on σ exactly without consuming a level; the ratio σ/σ_i ≈ q keeps the
//! constants precise. A split evaluates q at level λ + 1 with scale σ·q_(λ+1)/σ_X, rescales it
//! and multiplies by X = T_{2^j}: the product has scale σ exactly, and r (evaluated at (λ, σ))
//! is added to it. The root is evaluated at (t + 1, target·q_(t+1)) and rescaled once, so the
//! result has **exactly** the requested target scale at level t = input level − depth.
//! Intermediate sums therefore never add mismatched scales.
//!
//! **Depth.** The only products are those of the power basis and one per split; leaves are
//! free. The leading chain of splits is the tightest spot: its last leaf sits one level above
//! the other leaves. The baby size is the largest 2^l (l ≤ ⌈m/2⌉) for which a dry run of the
//! recursion fits in m levels; l = 1 (the plain binary tree) always fits, so the depth is
//! always ⌈log2(d + 1)⌉ (and 1 for a constant). A degree 2^m − 1 fits only as the binary tree
//! (about d/2 products); 2^m − 2 already allows l ≥ 2 (degree 30: 12 products, 31: 19).
//!
//! **Power scales.** Each power is brought back to a scale close to the prime it was
//! rescaled by (multiplying by an integer before the rescale, with the scale tracked exactly),
//! so a ciphertext whose scale is below the primes does not lose precision geometrically with
//! every squaring. A scale *above* the primes cannot be lowered without a level: σ_(2^j) grows
//! like q·(σ_1/q)^(2^j), so inputs should have a scale at most about the primes of their level
//! (the usual CKKS convention).
//!
//! **Interval.** The change of variable u = (2x − a − b)/(b − a) costs no level: the input's
//! scale is relabelled (Δ·x = (Δ·(b − a)/2)·(u − shift)) and the shift added as a constant. A
//! wide interval multiplies the scale of u by (b − a)/2, so keep Δ·(b − a)/2 within the
//! primes (see above).

use super::{EvalError, Evaluator};
use crate::ciphertext::Ciphertext;
use fhec_params::Level;
use std::collections::BTreeMap;
use thiserror::Error;

/// Largest integer a power-basis product is multiplied by to bring its scale back up to the
/// prime's size (2^40: far more than any realistic gap between a scale and a prime).
const MAX_POWER_MULTIPLIER: f64 = (1u64 << 40) as f64;

/// Why a polynomial could not be built or evaluated.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PolynomialError {
    /// No coefficient at all.
    #[error("a polynomial needs at least one coefficient")]
    Empty,
    /// A coefficient is NaN or infinite.
    #[error("Chebyshev coefficient {index} is not finite")]
    NotFinite {
        /// Index of the offending coefficient.
        index: usize,
    },
    /// The interval is empty, reversed or not finite.
    #[error("interval [{a}, {b}] must be finite with a < b")]
    Interval {
        /// Left end.
        a: f64,
        /// Right end.
        b: f64,
    },
    /// The ciphertext has fewer levels left than the polynomial needs.
    #[error(
        "a degree-{degree} polynomial needs {needed} levels; the ciphertext is at level {level}"
    )]
    NotEnoughLevels {
        /// Degree of the polynomial.
        degree: usize,
        /// Levels the evaluation consumes.
        needed: usize,
        /// Level of the input ciphertext.
        level: usize,
    },
    /// The target scale is not a finite number ≥ 1.
    #[error("target scale {scale} is not a finite number >= 1")]
    TargetScale {
        /// The refused scale.
        scale: f64,
    },
    /// A homomorphic operation failed (a missing key, a scale beyond the modulus, …).
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// p(x) = Σ_k c_k·T_k(u(x)) on [a, b], u(x) = (2x − a − b)/(b − a) ∈ [−1, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct ChebyshevPolynomial {
    coefficients: Vec<f64>,
    a: f64,
    b: f64,
}

impl ChebyshevPolynomial {
    /// The polynomial with Chebyshev coefficients `coefficients` (c_0 first, full weight) on
    /// [a, b]. Trailing zero coefficients are dropped (they would only cost levels).
    ///
    /// Errors: [`PolynomialError::Empty`], [`PolynomialError::NotFinite`],
    /// [`PolynomialError::Interval`].
    pub fn new(mut coefficients: Vec<f64>, a: f64, b: f64) -> Result<Self, PolynomialError> {
        if coefficients.is_empty() {
            return Err(PolynomialError::Empty);
        }
        if let Some(index) = coefficients.iter().position(|c| !c.is_finite()) {
            return Err(PolynomialError::NotFinite { index });
        }
        check_interval(a, b)?;
        while coefficients.len() > 1 && coefficients.last() == Some(&0.0) {
            coefficients.pop();
        }
        Ok(Self { coefficients, a, b })
    }

    /// Chebyshev interpolation of `f` at the d + 1 Chebyshev nodes of [a, b] (near-minimax for
    /// smooth functions).
    ///
    /// Errors: as [`Self::new`] (a non-finite f value gives [`PolynomialError::NotFinite`]).
    pub fn interpolate(
        f: impl Fn(f64) -> f64,
        degree: usize,
        a: f64,
        b: f64,
    ) -> Result<Self, PolynomialError> {
        check_interval(a, b)?;
        let count = degree + 1;
        let nodes: Vec<f64> = (0..count)
            .map(|j| (std::f64::consts::PI * (j as f64 + 0.5) / count as f64).cos())
            .collect();
        let values: Vec<f64> = nodes
            .iter()
            .map(|&u| f(0.5 * (b - a) * u + 0.5 * (a + b)))
            .collect();
        let coefficients = (0..count)
            .map(|k| {
                let sum: f64 = nodes
                    .iter()
                    .zip(&values)
                    .map(|(&u, &v)| v * chebyshev_t(k, u))
                    .sum();
                let weight = if k == 0 { 1.0 } else { 2.0 };
                weight * sum / count as f64
            })
            .collect();
        Self::new(coefficients, a, b)
    }

    /// The coefficients c_0..c_d.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// The interval [a, b].
    pub fn interval(&self) -> (f64, f64) {
        (self.a, self.b)
    }

    /// The degree d.
    pub fn degree(&self) -> usize {
        self.coefficients.len() - 1
    }

    /// Levels [`Evaluator::evaluate_chebyshev`] consumes: ⌈log2(d + 1)⌉, and 1 for a constant.
    pub fn depth(&self) -> usize {
        plan(&self.coefficients).depth
    }

    /// p(x) in the clear (Clenshaw's recurrence).
    pub fn evaluate(&self, x: f64) -> f64 {
        let u = (2.0 * x - self.a - self.b) / (self.b - self.a);
        let (mut b1, mut b2) = (0.0, 0.0);
        for &c in self.coefficients.iter().skip(1).rev() {
            let b0 = 2.0 * u * b1 - b2 + c;
            b2 = b1;
            b1 = b0;
        }
        u * b1 - b2 + self.coefficients[0]
    }
}

/// Refuses an interval that is not finite with a < b (NaN ends included).
fn check_interval(a: f64, b: f64) -> Result<(), PolynomialError> {
    if a.is_finite() && b.is_finite() && a < b {
        Ok(())
    } else {
        Err(PolynomialError::Interval { a, b })
    }
}

/// T_k(u) by the three-term recurrence.
fn chebyshev_t(k: usize, u: f64) -> f64 {
    let (mut previous, mut current) = (1.0, u);
    if k == 0 {
        return 1.0;
    }
    for _ in 1..k {
        let next = 2.0 * u * current - previous;
        previous = current;
        current = next;
    }
    current
}

/// ⌈log2(n)⌉ for n ≥ 1.
fn ceil_log2(n: usize) -> usize {
    n.next_power_of_two().trailing_zeros() as usize
}

/// The evaluation shape: levels consumed and the baby-step size 2^log_baby.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Plan {
    depth: usize,
    log_baby: usize,
}

/// Chooses the baby size: the largest l ≤ ⌈m/2⌉ whose recursion fits in m levels.
fn plan(coefficients: &[f64]) -> Plan {
    let degree = coefficients.len() - 1;
    if degree == 0 {
        return Plan {
            depth: 1,
            log_baby: 0,
        };
    }
    let depth = ceil_log2(degree + 1);
    let log_baby = (1..=depth.div_ceil(2))
        .rev()
        .find(|&l| fits(coefficients, 1, depth, l))
        .expect("the binary tree (l = 1) always fits in ceil(log2(d + 1)) levels");
    Plan { depth, log_baby }
}

/// Dry run of [`Evaluator::evaluate_node`] with levels relative to the output (output at 0,
/// input at `depth`): does every power the node at `level` reads exist at that level?
fn fits(coefficients: &[f64], level: usize, depth: usize, log_baby: usize) -> bool {
    let degree = coefficients.len() - 1;
    let power_level = |i: usize| depth - ceil_log2(i);
    if degree < (1 << log_baby) {
        return coefficients
            .iter()
            .enumerate()
            .skip(1)
            .all(|(i, &c)| c == 0.0 || power_level(i) >= level);
    }
    let split = 1usize << degree.ilog2();
    let (remainder, quotient) = split_chebyshev(coefficients, split);
    power_level(split) >= level
        && level < depth
        && fits(&quotient, level + 1, depth, log_baby)
        && fits(&remainder, level, depth, log_baby)
}

/// Chebyshev division by T_split (split a power of two, deg p < 2·split): p = q·T_split + r
/// with deg r < split. Returns (r, q).
fn split_chebyshev(coefficients: &[f64], split: usize) -> (Vec<f64>, Vec<f64>) {
    let mut remainder = coefficients[..split].to_vec();
    let mut quotient = vec![0.0; coefficients.len() - split];
    quotient[0] = coefficients[split];
    for k in 1..quotient.len() {
        // T_{split+k} = 2·T_split·T_k − T_{split−k}.
        let c = coefficients[split + k];
        quotient[k] = 2.0 * c;
        remainder[split - k] -= c;
    }
    (remainder, quotient)
}

/// A node's value before its final rescale: a ciphertext, or a constant when the node has no
/// non-constant term.
enum NodeValue {
    Cipher(Ciphertext),
    Constant(f64),
}

/// The Chebyshev powers T_i of the input, each at level input − ⌈log2 i⌉.
struct PowerBasis {
    powers: BTreeMap<usize, Ciphertext>,
    /// The baby-step size 2^l: nodes of lower degree are leaves.
    baby: usize,
}

impl PowerBasis {
    fn get(&self, i: usize) -> &Ciphertext {
        &self.powers[&i]
    }
}

impl Evaluator<'_> {
    /// Evaluates `poly` on `input` (slot-wise), returning a ciphertext at level
    /// `input.level() − poly.depth()` with scale **exactly** `target_scale`.
    ///
    /// Needs the relinearisation key (from degree 2 on). The input's scale may be anything
    /// (tracked exactly); the input values should lie in the polynomial's interval (outside
    /// it Chebyshev polynomials grow fast). Errors: [`PolynomialError::NotEnoughLevels`],
    /// [`PolynomialError::TargetScale`], and [`PolynomialError::Eval`] from the operations
    /// (e.g. [`EvalError::MissingRelinearizationKey`], or
    /// [`EvalError::ScaleExceedsModulus`] when target scale × values do not fit the modulus).
    pub fn evaluate_chebyshev(
        &self,
        input: &Ciphertext,
        poly: &ChebyshevPolynomial,
        target_scale: f64,
    ) -> Result<Ciphertext, PolynomialError> {
        if !target_scale.is_finite() || target_scale < 1.0 {
            return Err(PolynomialError::TargetScale {
                scale: target_scale,
            });
        }
        let plan = plan(&poly.coefficients);
        let level = input.level().0;
        if level < plan.depth {
            return Err(PolynomialError::NotEnoughLevels {
                degree: poly.degree(),
                needed: plan.depth,
                level,
            });
        }
        let output_level = level - plan.depth;
        let top = output_level + 1;
        let top_scale = target_scale * self.context.q_prime(Level(top)) as f64;
        let basis = self.power_basis(input, poly, plan)?;
        let mut result = match self.evaluate_node(&poly.coefficients, top, top_scale, &basis)? {
            NodeValue::Cipher(ct) => ct,
            // A constant polynomial: c·T_1 with c = 0 gives a ciphertext to add it to.
            NodeValue::Constant(c) => {
                let t1 = basis.get(1);
                let mut zero = self.level_down_new(t1, Level(top))?;
                self.mul_const_assign(&mut zero, 0.0, top_scale / t1.scale)?;
                zero.scale = top_scale;
                self.add_const_assign(&mut zero, c)?;
                zero
            }
        };
        self.rescale_assign(&mut result)?;
        result.scale = target_scale;
        Ok(result)
    }

    /// T_1 = u (the input with its scale relabelled) and every power the plan reads.
    fn power_basis(
        &self,
        input: &Ciphertext,
        poly: &ChebyshevPolynomial,
        plan: Plan,
    ) -> Result<PowerBasis, PolynomialError> {
        // Δ·x = (Δ·(b − a)/2)·(u + (a + b)/(b − a)): relabel, then subtract the shift.
        let half_width = 0.5 * (poly.b - poly.a);
        let mut t1 = input.clone();
        t1.scale = input.scale * half_width;
        let shift = (poly.a + poly.b) / (poly.b - poly.a);
        if shift != 0.0 {
            self.add_const_assign(&mut t1, -shift)?;
        }
        let baby = 1usize << plan.log_baby;
        let mut basis = PowerBasis {
            powers: BTreeMap::from([(1, t1)]),
            baby,
        };
        let degree = poly.degree();
        let mut needed: Vec<usize> = (2..baby.min(degree + 1)).collect();
        let mut giant = baby;
        while giant <= degree {
            needed.push(giant);
            giant *= 2;
        }
        for i in needed {
            self.power(&mut basis, i)?;
        }
        Ok(basis)
    }

    /// Computes T_n (and what it needs): T_{2a} = 2·T_a² − 1, T_{a+b} = 2·T_a·T_b − T_{a−b}
    /// with a the largest power of two below n. Each product is taken before rescaling and the
    /// correction term multiplied onto its scale, so the sum is exact; one rescale follows.
    fn power(&self, basis: &mut PowerBasis, n: usize) -> Result<(), PolynomialError> {
        if basis.powers.contains_key(&n) {
            return Ok(());
        }
        let a = 1usize << (ceil_log2(n) - 1);
        let b = n - a;
        self.power(basis, a)?;
        self.power(basis, b)?;
        if a != b {
            self.power(basis, a - b)?;
        }
        let (ta, tb) = (basis.get(a), basis.get(b));
        let level = ta.level().min(tb.level());
        let ta = self.level_down_new(ta, level)?;
        let tb = self.level_down_new(tb, level)?;
        let mut product = self.mul_new(&ta, &tb)?;
        // The factor 2 is applied as an integer M ≥ 2 chosen so that after the rescale by q_λ
        // the power's scale is close to q_λ (the value is exactly 2·T_a·T_b, the scale
        // σ_a·σ_b·M/2 is exact): without it, scales below the primes would shrink
        // geometrically with every squaring.
        let prime = self.context.q_prime(level) as f64;
        let ratio = prime * prime / (ta.scale * tb.scale);
        let multiplier = (2.0 * ratio).round().clamp(2.0, MAX_POWER_MULTIPLIER);
        self.mul_integer_assign(&mut product, multiplier as i64)?;
        let product_scale = ta.scale * tb.scale * multiplier / 2.0;
        product.scale = product_scale;
        if a == b {
            self.add_const_assign(&mut product, -1.0)?;
        } else {
            let low = basis.get(a - b);
            let mut correction = self.level_down_new(low, level)?;
            self.mul_const_assign(&mut correction, 1.0, product_scale / low.scale)?;
            correction.scale = product_scale;
            self.sub_assign(&mut product, &correction)?;
        }
        self.rescale_assign(&mut product)?;
        basis.powers.insert(n, product);
        Ok(())
    }

    /// The node `coefficients` at `level` with scale `scale`, before its rescale (see the
    /// module documentation).
    fn evaluate_node(
        &self,
        coefficients: &[f64],
        level: usize,
        scale: f64,
        basis: &PowerBasis,
    ) -> Result<NodeValue, PolynomialError> {
        let degree = coefficients.len() - 1;
        if degree < basis.baby {
            return self.evaluate_leaf(coefficients, level, scale, basis);
        }
        let split = 1usize << degree.ilog2();
        let (remainder, quotient) = split_chebyshev(coefficients, split);
        let x = basis.get(split);
        let quotient_scale = scale * self.context.q_prime(Level(level + 1)) as f64 / x.scale;
        let x_here = self.level_down_new(x, Level(level))?;
        let mut product = match self.evaluate_node(&quotient, level + 1, quotient_scale, basis)? {
            NodeValue::Cipher(mut q) => {
                self.rescale_assign(&mut q)?;
                self.mul_assign(&mut q, &x_here)?;
                q
            }
            NodeValue::Constant(c) => self.mul_const_new(&x_here, c, scale / x.scale)?,
        };
        product.scale = scale;
        match self.evaluate_node(&remainder, level, scale, basis)? {
            NodeValue::Cipher(r) => self.add_assign(&mut product, &r)?,
            NodeValue::Constant(c) => self.add_const_assign(&mut product, c)?,
        }
        Ok(NodeValue::Cipher(product))
    }

    /// Σ c_i·T_i at (level, scale) without rescaling: each T_i times round(c_i·scale/σ_i).
    fn evaluate_leaf(
        &self,
        coefficients: &[f64],
        level: usize,
        scale: f64,
        basis: &PowerBasis,
    ) -> Result<NodeValue, PolynomialError> {
        let mut sum: Option<Ciphertext> = None;
        for (i, &c) in coefficients.iter().enumerate().skip(1) {
            if c == 0.0 {
                continue;
            }
            let power = basis.get(i);
            let mut term = self.level_down_new(power, Level(level))?;
            self.mul_const_assign(&mut term, c, scale / power.scale)?;
            term.scale = scale;
            match sum.as_mut() {
                Some(acc) => self.add_assign(acc, &term)?,
                None => sum = Some(term),
            }
        }
        Ok(match sum {
            Some(mut acc) => {
                self.add_const_assign(&mut acc, coefficients[0])?;
                NodeValue::Cipher(acc)
            }
            None => NodeValue::Constant(coefficients[0]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clenshaw_matches_the_definition() {
        let p = ChebyshevPolynomial::new(vec![0.5, -1.0, 0.25, 2.0], -2.0, 6.0).unwrap();
        for x in [-2.0, -0.3, 1.7, 6.0] {
            let u = (2.0 * x - 4.0) / 8.0;
            let direct: f64 = p
                .coefficients()
                .iter()
                .enumerate()
                .map(|(k, c)| c * chebyshev_t(k, u))
                .sum();
            assert!((p.evaluate(x) - direct).abs() < 1e-12);
        }
    }

    #[test]
    fn interpolation_reproduces_a_smooth_function() {
        let p = ChebyshevPolynomial::interpolate(f64::exp, 20, -1.0, 3.0).unwrap();
        for i in 0..=40 {
            let x = -1.0 + 0.1 * i as f64;
            assert!((p.evaluate(x) - x.exp()).abs() < 1e-12, "x = {x}");
        }
    }

    #[test]
    fn chebyshev_division_is_exact() {
        let coefficients: Vec<f64> = (0..31).map(|k| (k as f64 * 0.37).sin()).collect();
        let (r, q) = split_chebyshev(&coefficients, 16);
        for u in [-0.9, -0.2, 0.4, 1.0] {
            let eval = |c: &[f64]| -> f64 {
                c.iter()
                    .enumerate()
                    .map(|(k, c)| c * chebyshev_t(k, u))
                    .sum()
            };
            let lhs = eval(&coefficients);
            let rhs = eval(&q) * chebyshev_t(16, u) + eval(&r);
            assert!((lhs - rhs).abs() < 1e-12);
        }
    }

    #[test]
    fn depth_is_ceil_log2_of_degree_plus_one() {
        for degree in 0..=130usize {
            let coefficients = vec![1.0; degree + 1];
            let p = plan(&coefficients);
            let expected = if degree == 0 {
                1
            } else {
                ceil_log2(degree + 1)
            };
            assert_eq!(p.depth, expected, "degree {degree}");
            assert!(p.log_baby >= usize::from(degree > 0));
        }
        // Degree 30 (EvalMod): baby steps T_1..T_3, giants T_4, T_8, T_16, in 5 levels.
        assert_eq!(
            plan(&[1.0; 31]),
            Plan {
                depth: 5,
                log_baby: 2
            }
        );
    }

    #[test]
    fn bad_polynomials_are_refused() {
        assert_eq!(
            ChebyshevPolynomial::new(vec![], -1.0, 1.0),
            Err(PolynomialError::Empty)
        );
        assert_eq!(
            ChebyshevPolynomial::new(vec![1.0, f64::NAN], -1.0, 1.0),
            Err(PolynomialError::NotFinite { index: 1 })
        );
        assert!(matches!(
            ChebyshevPolynomial::new(vec![1.0], 1.0, 1.0),
            Err(PolynomialError::Interval { .. })
        ));
    }
}
