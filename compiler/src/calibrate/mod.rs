//! Calibration: the range of every activation's inputs over training images
//! (`docs/plans/lowering.md` §3.1), and the approximations chosen for those ranges.
//!
//! [`calibrate`] runs the reference executor with the exact activations on images of the
//! CIFAR-10 **training** batch ([`TRAINING_BATCH`]; choosing anything on the test set would
//! make the reported test accuracy optimistic) and records per activation node the smallest
//! and largest input, the largest `|x|` and a high percentile of `|x|`. The result,
//! [`Calibration`], serializes with serde and names the file and the number of images it comes
//! from. [`Calibration::choose`] then picks each site's polynomial with [`poly::choose`].

mod record;
mod stats;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

use crate::data::CifarBatch;
use crate::error::FrontendError;
use crate::graph::{TensorGraph, TensorOp};
use crate::model::Activation;
use crate::poly::{self, CalibratedRange, Choice, ChooserOptions, Percentile, PolyError};
use crate::reference::{ActivationMode, run_batch_with};

pub use record::{CalibrationRecord, model_hash, record_path};
pub use stats::{ABS_PERCENTILE, SiteAccumulator};

/// The calibration batch, relative to the data directory: CIFAR-10 training batch 1.
pub const TRAINING_BATCH: &str = "cifar10/data_batch_1.bin";

/// Why calibration or the choice of approximations failed.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// Reading data or running the model failed.
    #[error(transparent)]
    Frontend(#[from] FrontendError),
    /// Fewer images were asked for than the batch holds, or none.
    #[error("{path}: calibration on images {start}..{end}, but the batch holds {available}")]
    Images {
        /// The batch file.
        path: String,
        /// First image asked for.
        start: usize,
        /// One past the last.
        end: usize,
        /// Images in the batch.
        available: usize,
    },
    /// The model has an activation the calibration did not see (another model's calibration).
    #[error("activation node `{node}` was not calibrated (calibration from {source_file})")]
    NotCalibrated {
        /// The node.
        node: String,
        /// Where the calibration came from.
        source_file: String,
    },
    /// A calibration record is unreadable or was measured on another model.
    #[error("{path}: {message}")]
    Record {
        /// The record file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// No approximation could be chosen for a site.
    #[error("activation node `{node}`: {source}")]
    Choose {
        /// The node.
        node: String,
        /// Why.
        source: PolyError,
    },
}

/// What calibration saw at one activation site.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct SiteCalibration {
    /// Smallest input.
    pub min: f64,
    /// Largest input.
    pub max: f64,
    /// Largest `|x|`.
    pub max_abs: f64,
    /// A fraction [`ABS_PERCENTILE`] of the inputs have `|x|` at most this (an upper bound,
    /// within 1/64 relative, of the exact percentile).
    pub abs_percentile: f64,
    /// Inputs seen.
    pub count: u64,
}

impl SiteCalibration {
    /// The figures [`poly::choose`] takes.
    pub fn range(&self) -> CalibratedRange {
        CalibratedRange {
            min: self.min,
            max: self.max,
            abs_percentile: Some(Percentile {
                q: ABS_PERCENTILE,
                value: self.abs_percentile,
            }),
        }
    }
}

/// Per-activation input ranges over calibration images, kept with the compiled program.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Calibration {
    /// The batch file the images came from, as given.
    pub source: String,
    /// The images used: `first..first + images` of the batch.
    pub first: usize,
    /// How many images.
    pub images: usize,
    /// Activation node name → what its inputs were.
    pub sites: BTreeMap<String, SiteCalibration>,
}

/// The activation nodes of `graph`, in graph order: (position in the node list, name).
fn activation_nodes(graph: &TensorGraph) -> Vec<(usize, &str)> {
    graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| matches!(node.op, TensorOp::Activation(_)))
        .map(|(index, node)| (index, node.name.as_str()))
        .collect()
}

/// The [`ActivationMode`] of calibration: exact activations, inputs accumulated per site.
struct Calibrator {
    site_of_node: Vec<Option<usize>>,
    sites: usize,
}

impl ActivationMode for Calibrator {
    type Observed = Vec<SiteAccumulator>;

    fn start(&self) -> Vec<SiteAccumulator> {
        vec![SiteAccumulator::default(); self.sites]
    }

    fn activate(
        &self,
        node: usize,
        kind: Activation,
        x: &ArrayD<f32>,
        observed: &mut Vec<SiteAccumulator>,
    ) -> ArrayD<f32> {
        let slot = self.site_of_node[node].expect("every activation node has a site");
        observed[slot].record(x.iter().copied());
        x.mapv(|v| kind.apply(v))
    }

    fn merge(&self, into: &mut Vec<SiteAccumulator>, other: Vec<SiteAccumulator>) {
        into.iter_mut().zip(&other).for_each(|(a, b)| a.merge(b));
    }
}

/// Runs `graph` on `images` of `batch` (read from `source`, named in the result and errors),
/// with the exact activations, and records every activation's input range. `progress` is
/// called after each image.
pub fn calibrate(
    graph: &TensorGraph,
    batch: &CifarBatch,
    source: &Path,
    images: Range<usize>,
    progress: &(dyn Fn() + Sync),
) -> Result<Calibration, CalibrateError> {
    if images.is_empty() || images.end > batch.len() {
        return Err(CalibrateError::Images {
            path: source.display().to_string(),
            start: images.start,
            end: images.end,
            available: batch.len(),
        });
    }
    let nodes = activation_nodes(graph);
    let mut site_of_node = vec![None; graph.nodes.len()];
    for (slot, &(index, _)) in nodes.iter().enumerate() {
        site_of_node[index] = Some(slot);
    }
    let mode = Calibrator {
        site_of_node,
        sites: nodes.len(),
    };
    let (first, count) = (images.start, images.len());
    let (_, observed) = run_batch_with(graph, batch, images, &mode, progress)?;
    let sites = nodes
        .iter()
        .zip(&observed)
        .map(|(&(_, name), seen)| (name.to_owned(), seen.summary()))
        .collect();
    Ok(Calibration {
        source: source.display().to_string(),
        first,
        images: count,
        sites,
    })
}

impl Calibration {
    /// Chooses the approximation of every activation of `graph` from its calibrated range
    /// with `options`; keyed by node name.
    pub fn choose(
        &self,
        graph: &TensorGraph,
        options: &ChooserOptions,
    ) -> Result<BTreeMap<String, Choice>, CalibrateError> {
        let mut choices = BTreeMap::new();
        for node in &graph.nodes {
            let TensorOp::Activation(kind) = node.op else {
                continue;
            };
            let site = self
                .sites
                .get(&node.name)
                .ok_or_else(|| CalibrateError::NotCalibrated {
                    node: node.name.clone(),
                    source_file: self.source.clone(),
                })?;
            let function = crate::reference::approximated_function(kind);
            let choice = poly::choose(function, &site.range(), options).map_err(|source| {
                CalibrateError::Choose {
                    node: node.name.clone(),
                    source,
                }
            })?;
            choices.insert(node.name.clone(), choice);
        }
        Ok(choices)
    }
}
