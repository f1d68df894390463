//! How the reference executor evaluates activations, and the parallel batch runner that
//! gathers what a mode observes over many images.
//!
//! One mechanism serves the exact run, calibration (observe inputs, apply the exact function)
//! and the approximated run (apply the chosen polynomial, count inputs outside its interval):
//! each is an [`ActivationMode`], and [`run_batch_with`] runs any of them on a range of images,
//! one observation state per rayon worker, merged at the end.

use std::ops::Range;

use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

use crate::data::{CIFAR_IMAGE_SHAPE, CifarBatch};
use crate::error::Result;
use crate::graph::TensorGraph;
use crate::model::Activation;

/// How activation nodes are evaluated, and what is observed while doing so.
pub trait ActivationMode: Sync {
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
        x: &ArrayD<f32>,
        observed: &mut Self::Observed,
    ) -> ArrayD<f32>;

    /// Adds what another worker observed to `into`.
    fn merge(&self, into: &mut Self::Observed, other: Self::Observed);
}

/// The activation functions themselves; observes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Exact;

impl ActivationMode for Exact {
    type Observed = ();

    fn start(&self) {}

    fn activate(&self, _node: usize, kind: Activation, x: &ArrayD<f32>, _: &mut ()) -> ArrayD<f32> {
        x.mapv(|v| kind.apply(v))
    }

    fn merge(&self, _into: &mut (), _other: ()) {}
}

/// Runs a single-input image model on the images `images` of `batch` in parallel with `mode`,
/// calling `progress` after each image. Returns the flattened outputs (logits) in image order
/// and everything the mode observed, merged.
///
/// # Panics
/// If `images` reaches past the end of the batch (callers bound it by `batch.len()`).
pub fn run_batch_with<M: ActivationMode>(
    graph: &TensorGraph,
    batch: &CifarBatch,
    images: Range<usize>,
    mode: &M,
    progress: &(dyn Fn() + Sync),
) -> Result<(Vec<Vec<f32>>, M::Observed)> {
    assert!(
        images.end <= batch.len(),
        "images {images:?} past the batch's {}",
        batch.len()
    );
    let start = images.start;
    let (mut rows, observed) = images
        .into_par_iter()
        .try_fold(
            || (Vec::new(), mode.start()),
            |(mut rows, mut observed), index| {
                let pixels: Vec<f32> = batch.image(index).iter().map(|&p| f32::from(p)).collect();
                let image = ArrayD::from_shape_vec(IxDyn(&CIFAR_IMAGE_SHAPE), pixels)
                    .expect("a CIFAR image has 3·32·32 pixels");
                let logits = super::forward_with(graph, &[image], mode, &mut observed)?;
                progress();
                rows.push((index, logits.iter().copied().collect::<Vec<f32>>()));
                Ok((rows, observed))
            },
        )
        .try_reduce(
            || (Vec::new(), mode.start()),
            |(mut rows, mut observed), (more_rows, more)| {
                rows.extend(more_rows);
                mode.merge(&mut observed, more);
                Ok((rows, observed))
            },
        )?;
    rows.sort_unstable_by_key(|&(index, _)| index);
    debug_assert!(rows.iter().enumerate().all(|(k, (i, _))| k + start == *i));
    Ok((
        rows.into_iter().map(|(_, logits)| logits).collect(),
        observed,
    ))
}
