//! [`ActivationApprox`]: the polynomial chosen for one activation, kept in the compiled
//! program, with its depth, cost and measured error, and its exact `f64` evaluator.
//!
//! An approximation is one general shape: an input map `t = αx + β` onto `[−1, 1]` (folded
//! into the producer, or emitted: [`InputMap`]), a chain of
//! Chebyshev series `t ← p_i(t)` evaluated by baby-step giant-step ([`super::bsgs`]), and for
//! the sign route a final product by the input `x`. Chebyshev interpolation is one stage;
//! the composite minimax ReLU is `k` stages computing `(1 + sign)/2`, times `x`.
//!
//! [`ActivationApprox::circuit`] rebuilds the circuit the lowering emits from the stored
//! coefficients and baby steps alone, so `fhec plain --approx` (which evaluates it with
//! [`Circuit::eval_slice`]) and the clear backend running the emitted IR perform the same
//! `f64` operations in the same order.

use super::PolyError;
use super::bsgs::{PlanObjective, Term, append_series, best_plan};
use super::chebyshev::{Interval, chop, interpolate};
use super::circuit::{Circuit, NodeId};
use super::composite::composite_step;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The activation functions that have approximations.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^{−x})`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `x·sigmoid(x)`.
    Silu,
}

impl Activation {
    /// The exact function.
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::Tanh => x.tanh(),
            Activation::Silu => x / (1.0 + (-x).exp()),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Silu => "silu",
        })
    }
}

/// How the approximation was built.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum Method {
    /// The degree-`degree` Chebyshev interpolant on the interval.
    Chebyshev {
        /// Polynomial degree.
        degree: usize,
    },
    /// `x·(1 + sign(x/B))/2` with the composite minimax sign exact for `|x| ≥ ε·B`
    /// (`B` = the largest `|x|` of the interval); ReLU only.
    CompositeSign {
        /// The sign gap `ε` (relative to `B`).
        epsilon: f64,
        /// Degree of each odd stage, in application order.
        degrees: Vec<usize>,
    },
}

/// Where the input map `t = αx + β` onto `[−1, 1]` is applied.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputMap {
    /// Folded into the producer's weights and bias (the lowering plan's range normalisation):
    /// the emitted evaluation receives `t` and spends no level on the map.
    Folded,
    /// Emitted as a `mul_const α` (one level) and an `add_const β` at the start.
    Emitted,
}

/// One Chebyshev series of the chain.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Stage {
    /// Coefficients `c_0..c_d` of `Σ c_i T_i(t)`, `t ∈ [−1, 1]`.
    pub coeffs: Vec<f64>,
    /// The baby step is `2^baby_log`.
    pub baby_log: u32,
}

/// Errors measured against the exact activation on the interval.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct ErrorFigures {
    /// Largest `|p(x) − f(x)|` on the measurement grid.
    pub max_abs: f64,
    /// Mean `|p(x) − f(x)|` over uniformly spaced points (uniform inputs on the interval).
    pub mean_abs: f64,
    /// `max_abs` divided by the largest `|f(x)|` on the interval.
    pub max_rel: f64,
    /// Points of the measurement grid.
    pub samples: usize,
}

/// The chosen approximation of one activation; see the module documentation.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ActivationApprox {
    /// The function approximated.
    pub activation: Activation,
    /// The input interval it is accurate on (calibrated range plus margin).
    pub interval: Interval,
    /// How it was built.
    pub method: Method,
    /// The chain of Chebyshev series.
    pub stages: Vec<Stage>,
    /// Whether the chain's output is multiplied by the circuit's input at the end (the sign
    /// route; with a folded map the last stage carries the factor `B` so that `t·B·h = x·h`).
    pub times_input: bool,
    /// Where the input map is applied.
    pub input_map: InputMap,
    /// What the baby steps were chosen for.
    pub objective: PlanObjective,
    /// Multiplicative depth of the evaluation (levels consumed).
    pub depth: u32,
    /// Ciphertext × ciphertext products of the evaluation.
    pub ct_mults: u32,
    /// Measured error.
    pub error: ErrorFigures,
}

/// Chebyshev coefficients below this fraction of the largest are rounding residue and dropped
/// (their effect on the value is below `1e-14` of the output's range).
const CHOP_RELATIVE: f64 = 1e-14;

/// Uniform points of the error grid (its mean is taken over these).
const UNIFORM_POINTS: usize = 8192;
/// Points per octave of the geometric refinement around zero (where ReLU's kink and the sign's
/// transition concentrate the error), over 40 octaves.
const POINTS_PER_OCTAVE: usize = 8;

impl ActivationApprox {
    /// The degree-`degree` Chebyshev interpolant of `activation` on `interval`, its baby step
    /// chosen for `objective`.
    pub fn chebyshev(
        activation: Activation,
        interval: Interval,
        degree: usize,
        objective: PlanObjective,
        input_map: InputMap,
    ) -> Result<Self, PolyError> {
        if degree == 0 {
            return Err(PolyError::BadParameter("degree 0 is a constant".into()));
        }
        let mut coeffs = interpolate(|x| activation.eval(x), interval, degree)?;
        chop(&mut coeffs, CHOP_RELATIVE);
        let input = Circuit::new();
        let baby_log = best_plan(&input, Circuit::INPUT, &coeffs, objective);
        Self::assemble(
            activation,
            interval,
            Method::Chebyshev { degree },
            vec![Stage { coeffs, baby_log }],
            false,
            objective,
            input_map,
        )
    }

    /// `ReLU(x) = x·(1 + sign(x/B))/2` with the composite minimax sign of gap `epsilon` and
    /// odd stage `degrees` (see [`super::composite`]); `B` is the largest `|x|` of `interval`.
    /// Each stage's baby step is chosen for `objective`.
    pub fn composite_relu(
        interval: Interval,
        epsilon: f64,
        degrees: &[usize],
        objective: PlanObjective,
        input_map: InputMap,
    ) -> Result<Self, PolyError> {
        let mut composite = composite_step(epsilon, degrees)?;
        if input_map == InputMap::Folded {
            let bound = interval.lo.abs().max(interval.hi.abs());
            if let Some(last) = composite.stages.last_mut() {
                last.iter_mut().for_each(|c| *c *= bound);
            }
        }
        let mut circuit = Circuit::new();
        let mut t = Circuit::INPUT;
        let mut stages = Vec::new();
        for coeffs in composite.stages {
            let baby_log = best_plan(&circuit, t, &coeffs, objective);
            match append_series(&mut circuit, t, &coeffs, baby_log) {
                Term::Node(node) => t = node,
                Term::Const(_) => return Err(constant_stage()),
            }
            stages.push(Stage { coeffs, baby_log });
        }
        Self::assemble(
            Activation::Relu,
            interval,
            Method::CompositeSign {
                epsilon,
                degrees: degrees.to_vec(),
            },
            stages,
            true,
            objective,
            input_map,
        )
    }

    fn assemble(
        activation: Activation,
        interval: Interval,
        method: Method,
        stages: Vec<Stage>,
        times_input: bool,
        objective: PlanObjective,
        input_map: InputMap,
    ) -> Result<Self, PolyError> {
        let mut approx = ActivationApprox {
            activation,
            interval,
            method,
            stages,
            times_input,
            input_map,
            objective,
            depth: 0,
            ct_mults: 0,
            error: ErrorFigures {
                max_abs: 0.0,
                mean_abs: 0.0,
                max_rel: 0.0,
                samples: 0,
            },
        };
        let circuit = approx.circuit()?;
        approx.depth = circuit.depth();
        approx.ct_mults = circuit.counts().mul;
        approx.error = approx.measure(&circuit);
        Ok(approx)
    }

    /// The coefficients `(α, β)` of the input map `t = αx + β`.
    pub fn map_coefficients(&self) -> (f64, f64) {
        match self.method {
            Method::Chebyshev { .. } => self.interval.to_unit(),
            Method::CompositeSign { .. } => (1.0 / self.bound(), 0.0),
        }
    }

    /// The largest `|x|` of the interval.
    pub fn bound(&self) -> f64 {
        self.interval.lo.abs().max(self.interval.hi.abs())
    }

    /// The interval the circuit's input lies in: `[−1, 1]` with a folded map, else the
    /// approximation's interval.
    pub fn circuit_domain(&self) -> Interval {
        match self.input_map {
            InputMap::Folded => Interval { lo: -1.0, hi: 1.0 },
            InputMap::Emitted => self.interval,
        }
    }

    /// The evaluation circuit: exactly what the lowering emits (see the module documentation).
    /// Its input is `x`, or `t = αx + β` when the map is [`InputMap::Folded`].
    pub fn circuit(&self) -> Result<Circuit, PolyError> {
        let mut c = Circuit::new();
        let x = Circuit::INPUT;
        let (alpha, beta) = self.map_coefficients();
        if !(alpha.is_finite() && beta.is_finite()) {
            return Err(PolyError::NonFinite {
                what: "input map",
                at: self.interval.lo,
            });
        }
        if self.stages.is_empty() {
            return Err(PolyError::BadParameter(format!(
                "the approximation of {} has no polynomial stage",
                self.activation
            )));
        }
        let mut t = x;
        if self.input_map == InputMap::Emitted {
            if alpha != 1.0 {
                t = c.mul_const(t, alpha, 1);
            }
            if beta != 0.0 {
                t = c.add_const(t, beta);
            }
        }
        for stage in &self.stages {
            if let Some(bad) = stage.coeffs.iter().find(|v| !v.is_finite()) {
                return Err(PolyError::NonFinite {
                    what: "coefficient",
                    at: *bad,
                });
            }
            if stage.baby_log == 0 || stage.baby_log > 16 {
                return Err(PolyError::BadParameter(format!(
                    "baby step 2^{} is outside 2^1..2^16",
                    stage.baby_log
                )));
            }
            t = match append_series(&mut c, t, &stage.coeffs, stage.baby_log) {
                Term::Node(node) => node,
                Term::Const(_) => return Err(constant_stage()),
            };
        }
        let out: NodeId = if self.times_input { c.mul(x, t) } else { t };
        c.set_output(out);
        Ok(c)
    }

    /// Checks a loaded record: its circuit builds and has the stored depth and ct×ct count
    /// (a hand-edited or stale program is refused instead of evaluated with other costs).
    pub fn check(&self) -> Result<(), PolyError> {
        let circuit = self.circuit()?;
        let (depth, ct_mults) = (circuit.depth(), circuit.counts().mul);
        if (depth, ct_mults) != (self.depth, self.ct_mults) {
            return Err(PolyError::BadParameter(format!(
                "approximation of {} records depth {} and {} ct×ct, its coefficients give {depth} and {ct_mults}",
                self.activation, self.depth, self.ct_mults
            )));
        }
        Ok(())
    }

    /// Evaluates the approximation in place on every element `x` of `xs`. With a folded map
    /// the map is applied first, as the producer's folded weights do at tensor level (the
    /// values then differ from the producer's by rounding only, ~1e-16 relative).
    pub fn eval_slice(&self, xs: &mut [f64]) -> Result<(), PolyError> {
        let circuit = self.circuit()?;
        self.eval_with(&circuit, xs);
        Ok(())
    }

    /// [`Self::eval_slice`] with the circuit already built (for repeated calls).
    pub fn eval_with(&self, circuit: &Circuit, xs: &mut [f64]) {
        if self.input_map == InputMap::Folded {
            let (alpha, beta) = self.map_coefficients();
            xs.iter_mut().for_each(|x| *x = alpha * *x + beta);
        }
        circuit.eval_slice(xs);
    }

    fn measure(&self, circuit: &Circuit) -> ErrorFigures {
        let (points, uniform) = grid(self.interval);
        let mut values = points.clone();
        self.eval_with(circuit, &mut values);
        let f = |x: f64| self.activation.eval(x);
        let errors: Vec<f64> = points
            .iter()
            .zip(&values)
            .map(|(&x, &p)| (p - f(x)).abs())
            .collect();
        let max_abs = errors.iter().copied().fold(0.0, f64::max);
        let peak = points.iter().map(|&x| f(x).abs()).fold(0.0, f64::max);
        ErrorFigures {
            max_abs,
            mean_abs: errors[..uniform].iter().sum::<f64>() / uniform as f64,
            max_rel: if peak > 0.0 { max_abs / peak } else { max_abs },
            samples: points.len(),
        }
    }
}

fn constant_stage() -> PolyError {
    PolyError::BadParameter("a stage of the approximation is a constant polynomial".into())
}

/// The measurement grid: uniform points plus a geometric refinement towards 0 (if inside).
fn grid(interval: Interval) -> (Vec<f64>, usize) {
    let mut points: Vec<f64> = (0..=UNIFORM_POINTS)
        .map(|k| interval.lo + (interval.hi - interval.lo) * k as f64 / UNIFORM_POINTS as f64)
        .collect();
    let uniform = points.len();
    let bound = interval.lo.abs().max(interval.hi.abs());
    for k in 0..40 * POINTS_PER_OCTAVE {
        let r = bound * (-(k as f64) / POINTS_PER_OCTAVE as f64).exp2();
        points.extend([r, -r].into_iter().filter(|&x| interval.contains(x)));
    }
    (points, uniform)
}

/// Counts of inputs outside an approximation's interval, accumulated over a run (the
/// polynomial is only accurate inside it: outside, a high-degree polynomial explodes, so no
/// such input may go unreported).
#[derive(Clone, Copy, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct RangeReport {
    /// Inputs seen.
    pub total: u64,
    /// Inputs outside the interval.
    pub outside: u64,
    /// The largest `|x|` seen divided by the interval's bound (`> 1` means some were out).
    pub worst_ratio: f64,
}

impl RangeReport {
    /// Adds `xs`, checked against `interval`.
    pub fn record(&mut self, interval: &Interval, xs: &[f64]) {
        let bound = interval.lo.abs().max(interval.hi.abs());
        for &x in xs {
            self.total += 1;
            if !interval.contains(x) {
                self.outside += 1;
            }
            self.worst_ratio = self.worst_ratio.max(x.abs() / bound);
        }
    }

    /// Adds the counts of another report (e.g. from another thread or image).
    pub fn merge(&mut self, other: &RangeReport) {
        self.total += other.total;
        self.outside += other.outside;
        self.worst_ratio = self.worst_ratio.max(other.worst_ratio);
    }

    /// The fraction of inputs outside (0 when none were seen).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.outside as f64 / self.total as f64
        }
    }
}
