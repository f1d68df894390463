//! The frontend: from a model description and its weights to a [`TensorGraph`].
//!
//! Steps: structural checks and evaluation order ([`order`]), then per node in that order the
//! weights are taken and checked, shapes inferred ([`build`]) and BatchNorm folded ([`fold`]).
//! Input shapes are checked against their preprocessing. Tensors in the weights file that no
//! node uses are reported as warnings on the graph, not errors: a checkpoint may carry more
//! than one model needs (training state, other heads), and refusing it would force users to
//! rewrite files that are otherwise correct.

mod build;
mod fold;
mod order;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::data::DataDirSearch;
use crate::error::{FrontendError, Result};
use crate::graph::{TensorGraph, TensorNode, TensorOp};
use crate::model::ModelDescription;
use crate::weights::WeightFile;
use build::GraphBuilder;

/// Validates `desc` (read from `path`) against `weights` and builds its tensor graph.
pub fn build_graph(
    desc: &ModelDescription,
    path: &Path,
    weights: &WeightFile,
) -> Result<TensorGraph> {
    let order = order::evaluation_order(desc, path)?;
    let mut builder = GraphBuilder::new(desc, path, weights);
    let mut inputs = Vec::with_capacity(desc.inputs.len());
    for input in &desc.inputs {
        check_input(input, path)?;
        inputs.push(builder.push(TensorNode {
            name: input.name.clone(),
            op: TensorOp::Input(input.preprocess.clone()),
            inputs: Vec::new(),
            shape: input.shape.clone(),
            folded: Vec::new(),
        }));
    }
    for index in order {
        builder.add_node(&desc.nodes[index])?;
    }
    let output = builder.ids[desc.output.as_str()];
    let used: BTreeSet<&str> = desc
        .nodes
        .iter()
        .flat_map(|n| n.op.weight_names())
        .collect();
    let warnings = weights
        .names()
        .into_iter()
        .filter(|name| !used.contains(name))
        .map(|name| {
            format!(
                "{}: tensor `{name}` is not used by model `{}`",
                weights.path().display(),
                desc.name
            )
        })
        .collect();
    Ok(TensorGraph {
        name: desc.name.clone(),
        nodes: builder.nodes,
        inputs,
        output,
        warnings,
    })
}

/// Checks an input's declared shape and preprocessing.
fn check_input(input: &crate::model::InputDescription, path: &Path) -> Result<()> {
    let error = |message: String| FrontendError::Shape {
        path: path.to_owned(),
        node: input.name.clone(),
        message,
    };
    if input.shape.is_empty() || input.shape.contains(&0) {
        return Err(error(format!(
            "input shape {:?} must have positive dimensions",
            input.shape
        )));
    }
    if let Some(pre) = &input.preprocess {
        let channels = input.shape[0];
        for (what, values) in [("mean", &pre.mean), ("std", &pre.std)] {
            if values.len() != 1 && values.len() != channels {
                return Err(error(format!(
                    "preprocess {what} has {} values for {channels} channels",
                    values.len()
                )));
            }
        }
        let mut constants = pre.mean.iter().chain(&pre.std).chain([&pre.pixel_max]);
        if let Some(value) = constants.find(|v| !v.is_finite()) {
            return Err(error(format!(
                "preprocess constants must be finite, found {value}"
            )));
        }
        if pre.std.contains(&0.0) || pre.pixel_max == 0.0 {
            return Err(error(
                "preprocess std and pixel_max must be non-zero".into(),
            ));
        }
    }
    Ok(())
}

/// A model file resolved to its graph, with the weights file it used.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// The validated graph.
    pub graph: TensorGraph,
    /// The weights file that was read.
    pub weights_path: PathBuf,
}

/// Loads `model_path` with `weights` if given, else the model's default weights (found in the
/// data directory when the model says so).
pub fn load_model(
    model_path: &Path,
    weights: Option<&Path>,
    data: &DataDirSearch,
) -> Result<LoadedModel> {
    let desc = ModelDescription::from_file(model_path)?;
    let weights_path = match weights {
        Some(path) => data.locate(path),
        None => desc.default_weights_path(model_path, || data.resolve())?,
    };
    let file = WeightFile::load(&weights_path)?;
    let graph = build_graph(&desc, model_path, &file)?;
    Ok(LoadedModel {
        graph,
        weights_path,
    })
}
