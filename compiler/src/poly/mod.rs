//! Polynomial activations: approximations chosen for a calibrated range, their exact `f64`
//! evaluation, and their homomorphic evaluation emitted into the HE IR.
//!
//! - [`chebyshev`]: Chebyshev interpolation of any `f64` function on an interval, Clenshaw.
//! - [`remez`]: odd minimax polynomials by the Remez exchange (the sign's building blocks).
//! - [`composite`]: the composite minimax sign and `ReLU(x) = x·(1 + sign(x))/2`.
//! - [`circuit`], [`bsgs`]: the one circuit (baby-step giant-step in the Chebyshev basis)
//!   that both the `f64` evaluator and the IR emitter read, so they agree bit for bit.
//! - [`approx`]: [`ActivationApprox`], the serializable record of a choice with its depth,
//!   cost and measured error.
//! - [`choose`]: picks the approximation per activation from the calibrated range.
//! - [`emit`]: appends the evaluation to a [`fhec_ir::Builder`] without any level management.
//!
//! `docs/activations.md` has the cost/error tables, the chooser's defaults and the sources.

pub mod approx;
pub mod bsgs;
pub mod chebyshev;
pub mod choose;
pub mod circuit;
pub mod composite;
pub mod emit;
pub mod remez;

pub use approx::{
    Activation, ActivationApprox, ErrorFigures, InputMap, Method, RangeReport, Stage,
};
pub use bsgs::PlanObjective;
pub use chebyshev::Interval;
pub use choose::{
    BoundSource, CalibratedRange, Candidate, Choice, ChooserOptions, Percentile, choose,
};
pub use circuit::{Circuit, OpCounts};
pub use emit::{EmittedActivation, emit};

/// Why an approximation could not be built, chosen or emitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolyError {
    /// An interval is empty, reversed or not finite.
    #[error("interval [{lo}, {hi}] is not a finite interval with lo < hi")]
    BadInterval {
        /// Lower end given.
        lo: f64,
        /// Upper end given.
        hi: f64,
    },
    /// A function or coefficient value is NaN or infinite.
    #[error("{what} is not finite at {at}")]
    NonFinite {
        /// What was evaluated.
        what: &'static str,
        /// Where.
        at: f64,
    },
    /// A parameter is outside what the method supports.
    #[error("{0}")]
    BadParameter(String),
    /// The Remez exchange did not converge or lost its alternation.
    #[error("Remez exchange for degree {degree} on [{lo}, {hi}]: {reason}")]
    Remez {
        /// Degree asked.
        degree: usize,
        /// Lower end of the approximation set.
        lo: f64,
        /// Upper end.
        hi: f64,
        /// What went wrong.
        reason: String,
    },
    /// No candidate fits the depth limit.
    #[error("no approximation of {activation} fits in depth {max_depth}")]
    NothingFits {
        /// The activation's name.
        activation: String,
        /// The depth limit.
        max_depth: u32,
    },
    /// The IR builder refused an instruction of the evaluation.
    #[error("emitting the polynomial evaluation: {0}")]
    Build(#[from] fhec_ir::BuildError),
}
