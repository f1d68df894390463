//! How the reference executor evaluates activations.
//!
//! One mechanism serves the exact run, calibration (observe inputs, apply the exact function)
//! and the approximated run (apply the chosen polynomial, count inputs outside its interval):
//! each is an [`ActivationMode`], and [`Reference::run_batch_with`](super::Reference) runs any
//! of them on a range of images, one observation state per rayon worker, merged at the end.
//!
//! A mode is implemented for the precisions it supports: [`Exact`] and the approximations for
//! every [`Scalar`], a mode that only observes float32 values (calibration) for `f32` alone,
//! which is the default of the type parameter.

use ndarray::ArrayD;

use super::scalar::Scalar;
use crate::model::Activation;

/// How activation nodes are evaluated in precision `F`, and what is observed while doing so.
pub trait ActivationMode<F: Scalar = f32>: Sync {
    /// What one worker accumulates over the images it evaluates.
    type Observed: Send;

    /// A fresh observation state.
    fn start(&self) -> Self::Observed;

    /// The output of the activation node at position `node` of the graph's node list, of kind
    /// `kind`, on input `x`.
    fn activate(
        &self,
        node: usize,
        kind: Activation,
        x: &ArrayD<F>,
        observed: &mut Self::Observed,
    ) -> ArrayD<F>;

    /// Adds what another worker observed to `into`.
    fn merge(&self, into: &mut Self::Observed, other: Self::Observed);
}

/// The activation functions themselves; observes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Exact;

impl<F: Scalar> ActivationMode<F> for Exact {
    type Observed = ();

    fn start(&self) {}

    fn activate(&self, _node: usize, kind: Activation, x: &ArrayD<F>, _: &mut ()) -> ArrayD<F> {
        x.mapv(|v| kind.apply(v))
    }

    fn merge(&self, _into: &mut (), _other: ()) {}
}
