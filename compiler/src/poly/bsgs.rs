//! Baby-step giant-step evaluation of a Chebyshev series, appended to a [`Circuit`].
//!
//! For `p(t) = Σ_{i ≤ d} c_i T_i(t)` and a baby step `b = 2^m`:
//!
//! - **baby steps** `T_2..T_{b−1}` on demand by `T_{2k} = 2T_k² − 1` and
//!   `T_{2k+1} = 2T_{k+1}T_k − T_1`, so `T_i` has depth `⌈log2 i⌉`;
//! - **giant steps** `T_b, T_{2b}, T_{4b}, …` by doubling;
//! - a **recursive split** by the largest useful giant step `T_N`:
//!   `p = q·T_N + r` with `q_0 = c_N`, `q_j = 2c_{N+j}` and `r_i = c_i − c_{2N−i}` (from
//!   `2T_N T_j = T_{N+j} + T_{N−j}`), down to leaves of degree `< b` that are sums of
//!   `c_i·T_i` (`mul_const`) plus `c_0` (`add_const`).
//!
//! Depth: at most `⌈log2(d + 1)⌉ + 1` (the `+1` is the leaves' constant products), the
//! Paterson–Stockmeyer shape of Lattigo's and OpenFHE's evaluators. With `b = 2` the leaves are
//! `c_0 + c_1·T_1`, no deeper than `T_2`, and the depth is exactly `⌈log2(d + 1)⌉`, at about
//! three times the products; degrees a little below a power of two (119, 247) reach
//! `⌈log2(d + 1)⌉` with any `b` because the top quotient is short. Products: about
//! `b + 2d/b + log2(d/b)`; [`best_plan`] tries every `m` for a [`PlanObjective`].
//!
//! Exact scales without rescales: `T_i` has scale exponent `i·e₁` (`e₁` that of `t`); each
//! leaf encodes `c_i` at `s^{E − e(T_i)}` so that all its terms land on the exponent `E` chosen
//! top-down (Bossuat et al.'s scale-invariant evaluation, Eurocrypt 2021, does the same with
//! rescales); the recurrences' subtrahend `T_1` is lifted by an exact `1.0` product.

use super::circuit::{Circuit, NodeId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A circuit value or a plain constant (a series whose non-constant terms are all zero).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Term {
    /// A node of the circuit.
    Node(NodeId),
    /// A constant.
    Const(f64),
}

/// The Chebyshev powers of one variable built so far.
struct Powers {
    t: NodeId,
    nodes: HashMap<usize, NodeId>,
    lifted_t: HashMap<u32, NodeId>,
}

impl Powers {
    fn new(t: NodeId) -> Self {
        Powers {
            t,
            nodes: HashMap::from([(1, t)]),
            lifted_t: HashMap::new(),
        }
    }

    fn get(&mut self, c: &mut Circuit, i: usize) -> NodeId {
        assert!(i >= 1, "T_0 is the constant 1");
        if let Some(&node) = self.nodes.get(&i) {
            return node;
        }
        let node = if i.is_multiple_of(2) {
            let half = self.get(c, i / 2);
            let square = c.mul(half, half);
            let double = c.add(square, square);
            c.add_const(double, -1.0)
        } else {
            let hi = self.get(c, i.div_ceil(2));
            let lo = self.get(c, i / 2);
            let product = c.mul(hi, lo);
            let double = c.add(product, product);
            let target = c.node(double).scale_exp;
            let t = *self
                .lifted_t
                .entry(target)
                .or_insert_with(|| c.align(self.t, target));
            c.sub(double, t)
        };
        debug_assert_eq!(
            c.node(node).scale_exp,
            i as u32 * c.node(self.t).scale_exp,
            "T_{i} has scale exponent i·e(t)"
        );
        self.nodes.insert(i, node);
        node
    }
}

/// The split of a series into a recursion tree.
enum Tree {
    /// `Σ c_i T_i` with every `i < b`.
    Leaf(Vec<f64>),
    /// `q·T_N + r`.
    Split {
        giant: usize,
        quotient: Box<Tree>,
        remainder: Box<Tree>,
    },
}

fn trimmed(coeffs: &[f64]) -> &[f64] {
    let len = coeffs.iter().rposition(|&c| c != 0.0).map_or(0, |i| i + 1);
    &coeffs[..len]
}

impl Tree {
    fn build(coeffs: &[f64], baby: usize) -> Tree {
        let coeffs = trimmed(coeffs);
        if coeffs.len() <= baby {
            return Tree::Leaf(coeffs.to_vec());
        }
        let degree = coeffs.len() - 1;
        let mut giant = baby;
        while 2 * giant <= degree {
            giant *= 2;
        }
        let mut quotient = vec![0.0; degree - giant + 1];
        quotient[0] = coeffs[giant];
        for j in 1..quotient.len() {
            quotient[j] = 2.0 * coeffs[giant + j];
        }
        let mut remainder = coeffs[..giant].to_vec();
        for (i, r) in remainder.iter_mut().enumerate().skip(1) {
            if let Some(&high) = coeffs.get(2 * giant - i) {
                *r -= high;
            }
        }
        Tree::Split {
            giant,
            quotient: Box::new(Tree::build(&quotient, baby)),
            remainder: Box::new(Tree::build(&remainder, baby)),
        }
    }

    /// The smallest output scale exponent this subtree can be evaluated at (0: constant).
    fn min_exponent(&self, e1: u32) -> u32 {
        match self {
            Tree::Leaf(c) => (1..c.len())
                .filter(|&i| c[i] != 0.0)
                .map(|i| i as u32 * e1 + 1)
                .max()
                .unwrap_or(0),
            Tree::Split {
                giant,
                quotient,
                remainder,
            } => {
                let giant_exp = *giant as u32 * e1;
                let q = quotient.min_exponent(e1).max(1) + giant_exp;
                q.max(remainder.min_exponent(e1))
            }
        }
    }

    fn is_zero(&self) -> bool {
        matches!(self, Tree::Leaf(c) if c.is_empty())
    }

    fn emit(&self, c: &mut Circuit, powers: &mut Powers, target: u32) -> Term {
        match self {
            Tree::Leaf(coeffs) => {
                let mut sum = None;
                for (i, &ci) in coeffs.iter().enumerate().skip(1) {
                    if ci == 0.0 {
                        continue;
                    }
                    let ti = powers.get(c, i);
                    let exp = target - c.node(ti).scale_exp;
                    let term = c.mul_const(ti, ci, exp);
                    sum = Some(match sum {
                        None => term,
                        Some(acc) => c.add(acc, term),
                    });
                }
                let c0 = coeffs.first().copied().unwrap_or(0.0);
                match sum {
                    None => Term::Const(c0),
                    Some(node) if c0 == 0.0 => Term::Node(node),
                    Some(node) => Term::Node(c.add_const(node, c0)),
                }
            }
            Tree::Split {
                giant,
                quotient,
                remainder,
            } => {
                let tn = powers.get(c, *giant);
                let inner = target - c.node(tn).scale_exp;
                let high = match quotient.emit(c, powers, inner) {
                    Term::Node(q) => Some(c.mul(q, tn)),
                    Term::Const(q) if q != 0.0 => Some(c.mul_const(tn, q, inner)),
                    Term::Const(_) => None,
                };
                let low = if remainder.is_zero() {
                    Term::Const(0.0)
                } else {
                    remainder.emit(c, powers, target)
                };
                match (high, low) {
                    (None, low) => low,
                    (Some(h), Term::Node(l)) => Term::Node(c.add(h, l)),
                    (Some(h), Term::Const(0.0)) => Term::Node(h),
                    (Some(h), Term::Const(k)) => Term::Node(c.add_const(h, k)),
                }
            }
        }
    }
}

/// Appends the evaluation of `Σ coeffs[i]·T_i(t)` with baby step `2^baby_log` to `c`.
///
/// A series whose odd terms beyond `T_1` are all zero (ReLU = `t/2 + |t|/2`) is evaluated as
/// `c_1·t + Σ_j c_{2j} T_j(u)` with `u = T_2(t)`, since `T_{2j}(t) = T_j(T_2(t))`: the same
/// depth for half the degree, so fewer products (the baby step then applies to the series in
/// `u`). Any other series goes through the recursive split directly.
pub fn append_series(c: &mut Circuit, t: NodeId, coeffs: &[f64], baby_log: u32) -> Term {
    let coeffs = trimmed(coeffs);
    let baby = 1 << baby_log;
    let mut powers = Powers::new(t);
    let even_plus_linear = coeffs.len() > 4 && coeffs.iter().skip(3).step_by(2).all(|&x| x == 0.0);
    if !even_plus_linear {
        let tree = Tree::build(coeffs, baby);
        let target = tree.min_exponent(c.node(t).scale_exp);
        return tree.emit(c, &mut powers, target);
    }
    let even: Vec<f64> = coeffs.iter().step_by(2).copied().collect();
    let u = powers.get(c, 2);
    let tree = Tree::build(&even, baby);
    let (linear, t_exp) = (coeffs[1], c.node(t).scale_exp);
    let linear_exp = if linear == 0.0 { 0 } else { t_exp + 1 };
    let target = tree.min_exponent(c.node(u).scale_exp).max(linear_exp);
    let even_term = tree.emit(c, &mut Powers::new(u), target);
    if linear == 0.0 {
        return even_term;
    }
    let linear_term = c.mul_const(t, linear, target - t_exp);
    Term::Node(match even_term {
        Term::Node(n) => c.add(n, linear_term),
        Term::Const(0.0) => linear_term,
        Term::Const(k) => c.add_const(linear_term, k),
    })
}

/// What [`best_plan`] minimises first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanObjective {
    /// Depth, then ciphertext products (baby step 2 reaches `⌈log2(d + 1)⌉` for `d = 2^k − 1`
    /// at about three times the products).
    LeastDepth,
    /// Ciphertext products, then depth (baby step near `√d`, depth up to `⌈log2(d + 1)⌉ + 1`).
    FewestProducts,
}

/// The baby-step exponent that is best for `objective` for these coefficients appended to `c`
/// at `t` (every exponent is tried).
pub fn best_plan(c: &Circuit, t: NodeId, coeffs: &[f64], objective: PlanObjective) -> u32 {
    let degree = trimmed(coeffs).len().saturating_sub(1);
    let max_log = (usize::BITS - degree.leading_zeros()).max(1);
    (1..=max_log)
        .min_by_key(|&m| {
            let mut trial = c.clone();
            let depth = match append_series(&mut trial, t, coeffs, m) {
                Term::Node(n) => trial.node(n).depth,
                Term::Const(_) => 0,
            };
            let mul = trial.counts().mul;
            match objective {
                PlanObjective::LeastDepth => (depth, mul, trial.nodes().len()),
                PlanObjective::FewestProducts => (mul, depth, trial.nodes().len()),
            }
        })
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poly::chebyshev::clenshaw;

    fn check(coeffs: &[f64], baby_log: u32) -> Circuit {
        let mut c = Circuit::new();
        let Term::Node(out) = append_series(&mut c, Circuit::INPUT, coeffs, baby_log) else {
            panic!("non-constant series gave a constant");
        };
        c.set_output(out);
        for k in 0..=40 {
            let t = -1.0 + k as f64 / 20.0;
            let (got, want) = (c.eval(t), clenshaw(coeffs, t));
            assert!((got - want).abs() < 1e-12, "t={t}: {got} vs {want}");
        }
        c
    }

    #[test]
    fn every_baby_step_gives_the_series() {
        let coeffs: Vec<f64> = (0..=63)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 9.0)
            .collect();
        for m in 1..=6 {
            let c = check(&coeffs, m);
            let expected = if m == 1 { 6 } else { 6 + 1 };
            assert_eq!(c.depth(), expected, "baby step 2^{m}");
        }
    }

    #[test]
    fn odd_series_skip_even_terms_and_split_exactly() {
        let coeffs = [0.0, 1.1, 0.0, -0.4, 0.0, 0.2, 0.0, 0.05];
        let c = check(&coeffs, 2);
        assert_eq!(c.depth(), 4);
    }

    #[test]
    fn even_series_are_evaluated_in_t2_for_fewer_products() {
        let mut coeffs: Vec<f64> = (0..=63)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 9.0)
            .collect();
        coeffs.iter_mut().skip(3).step_by(2).for_each(|x| *x = 0.0);
        let mut general = coeffs.clone();
        general[63] = 1e-3;
        let costs = |coeffs: &[f64]| -> Vec<(u32, u32)> {
            (1..=6)
                .map(|m| {
                    let c = check(coeffs, m);
                    (c.depth(), c.counts().mul)
                })
                .collect()
        };
        let (even, general) = (costs(&coeffs), costs(&general));
        let least = |costs: &[(u32, u32)]| costs.iter().min().copied().unwrap();
        let fewest = |costs: &[(u32, u32)]| costs.iter().map(|&(d, m)| (m, d)).min().unwrap();
        assert_eq!(least(&even).0, least(&general).0, "same least depth");
        assert!(
            least(&even).1 < least(&general).1,
            "{even:?} vs {general:?}"
        );
        assert!(
            fewest(&even).0 < fewest(&general).0,
            "{even:?} vs {general:?}"
        );
    }

    #[test]
    fn the_best_plan_minimises_products() {
        let coeffs: Vec<f64> = (0..64)
            .map(|i| ((i * 7919 % 101) as f64 - 50.0) / 77.0)
            .collect();
        let c = Circuit::new();
        let m = best_plan(&c, Circuit::INPUT, &coeffs, PlanObjective::FewestProducts);
        let products = |m| {
            let mut c = Circuit::new();
            append_series(&mut c, Circuit::INPUT, &coeffs, m);
            c.counts().mul
        };
        assert!((1..=7).all(|k| products(m) <= products(k)));
        assert!(
            products(m) < products(6),
            "baby steps only is not the cheapest"
        );
        let shallow = best_plan(&c, Circuit::INPUT, &coeffs, PlanObjective::LeastDepth);
        assert_eq!(shallow, 1, "baby step 2 reaches depth ⌈log2(d + 1)⌉");
    }
}
