//! `fhec calibrate MODEL.ron [--calibrate DIR] [--calibration-images K] [-o FILE]`: measure
//! the model's activation ranges on the training batch and write its calibration record
//! (default `MODEL.calibration.ron` beside the description), which `compile` and
//! `plain --approx` then use without training data.

use std::path::PathBuf;

use fhec_compiler::calibrate::{CalibrationRecord, record_path};

use super::approximation::{DEFAULT_CALIBRATION_IMAGES, measure};
use super::check::ModelArgs;
use super::files::write_atomically;

/// Arguments of `fhec calibrate`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// The directory holding the training batch (cifar10/data_batch_1.bin) [default: the
    /// data directory].
    #[arg(long, value_name = "DIR")]
    calibrate: Option<PathBuf>,
    /// Calibrate on the first K images of the training batch.
    #[arg(long, value_name = "K", default_value_t = DEFAULT_CALIBRATION_IMAGES)]
    calibration_images: usize,
    /// Where to write the record [default: MODEL.calibration.ron beside the model].
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Calibrates and writes the record.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = args.model.load()?;
    let dir = match args.calibrate {
        Some(dir) => dir,
        None => args.model.data_search().resolve()?,
    };
    let calibration = measure(&loaded.graph, &dir, args.calibration_images)?;
    let record = CalibrationRecord::new(&loaded.graph, calibration);
    let output = args
        .output
        .unwrap_or_else(|| record_path(&args.model.model));
    write_atomically(&output, format!("{}\n", record.to_ron()).as_bytes())?;
    eprintln!("wrote {}", output.display());
    Ok(())
}
