//! `fhec import model.onnx -o models/NAME.ron [--weights-out W]`: translate an ONNX model to a
//! model description and a safetensors file of its initializers, validate the pair in memory,
//! and only then write them (each atomically). The outputs are checked before any work: never
//! the ONNX input, never each other.

use std::path::{Path, PathBuf};

use anyhow::bail;
use fhec_compiler::frontend::build_graph;
use fhec_compiler::model::{ModelDescription, Preprocess, WeightsLocation};
use fhec_compiler::onnx::{ImportOptions, import_onnx};
use fhec_compiler::weights::{WeightFile, safetensors_bytes};

use super::files::write_atomically;
use super::outputs::check_outputs;

/// Arguments of `fhec import`.
#[derive(clap::Args)]
pub struct Args {
    /// The ONNX model.
    onnx: PathBuf,
    /// Where to write the model description (RON).
    #[arg(short, long)]
    output: PathBuf,
    /// Where to write the weights (default: beside the description, same stem,
    /// `.safetensors`).
    #[arg(long)]
    weights_out: Option<PathBuf>,
    /// Model name (default: the description's file stem).
    #[arg(long)]
    name: Option<String>,
    /// Input preprocessing: per-channel mean, comma separated (ONNX does not record it).
    #[arg(long, value_delimiter = ',', requires = "std")]
    mean: Option<Vec<f32>>,
    /// Input preprocessing: per-channel standard deviation, comma separated.
    #[arg(long, value_delimiter = ',', requires = "mean")]
    std: Option<Vec<f32>>,
    /// Input preprocessing: the raw value that maps to 1.0.
    #[arg(long, default_value_t = 255.0)]
    pixel_max: f32,
}

/// How the description refers to the weights: relative to its own directory when possible.
fn weights_reference(ron: &Path, weights: &Path) -> WeightsLocation {
    let ron_dir = ron.parent().unwrap_or(Path::new(""));
    match weights.strip_prefix(ron_dir) {
        Ok(relative) => WeightsLocation::ModelDir(relative.to_owned()),
        Err(_) => WeightsLocation::ModelDir(
            std::path::absolute(weights).unwrap_or_else(|_| weights.to_owned()),
        ),
    }
}

/// Imports, checks the result loads, then writes both files.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Some(stem) = args.output.file_stem().and_then(|s| s.to_str()) else {
        bail!("{}: the output needs a file name", args.output.display());
    };
    let weights_out = args
        .weights_out
        .clone()
        .unwrap_or_else(|| args.output.with_extension("safetensors"));
    check_outputs(&[&args.output, &weights_out], &[&args.onnx])?;
    let preprocess = match (args.mean, args.std) {
        (Some(mean), Some(std)) => Some(Preprocess {
            pixel_max: args.pixel_max,
            mean,
            std,
        }),
        _ => {
            eprintln!(
                "note: ONNX records no input preprocessing; the model will take raw values \
                 (give --mean/--std/--pixel-max to add it)"
            );
            None
        }
    };
    let options = ImportOptions {
        name: args.name.unwrap_or_else(|| stem.to_owned()),
        weights: weights_reference(&args.output, &weights_out),
        preprocess,
    };
    let imported = import_onnx(&args.onnx, &options)?;
    // Validate exactly what will be written: the description as read back from its text, the
    // weights as parsed from their bytes.
    let weights_bytes = safetensors_bytes(&weights_out, &imported.tensors)?;
    let text = imported.description.to_ron();
    let description = ModelDescription::from_ron(&text, &args.output)?;
    let weights = WeightFile::from_bytes(&weights_bytes, &weights_out)?;
    let graph = build_graph(&description, &args.output, &weights)?;
    write_atomically(&weights_out, &weights_bytes)?;
    write_atomically(&args.output, text.as_bytes())?;
    eprintln!(
        "wrote {} ({} nodes) and {} ({} tensors, {} parameters)",
        args.output.display(),
        imported.description.nodes.len(),
        weights_out.display(),
        imported.tensors.len(),
        graph.parameter_count()
    );
    Ok(())
}
