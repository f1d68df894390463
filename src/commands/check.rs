//! `fhec check MODEL.ron [--weights W] [--data DIR]`: validate a model, infer shapes and print
//! the graph with shapes and parameter counts.

use std::path::PathBuf;

use fhec_compiler::data::DataDirSearch;
use fhec_compiler::frontend::{LoadedModel, load_model};

/// The model a command works on: description, weights override and data directory. Shared by
/// every command that reads a model description.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// The model description (RON).
    pub model: PathBuf,
    /// Weights file to use instead of the model's default.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Data directory (else $FHEC_DATA, else ../shared/data, else the shipped sample).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

impl ModelArgs {
    /// The data-directory rule with this command's `--data`.
    pub fn data_search(&self) -> DataDirSearch {
        DataDirSearch::from_process(self.data.clone())
    }

    /// Loads and validates the model, printing its warnings on stderr, and which data
    /// directory the weights came from when they came from one.
    pub fn load(&self) -> anyhow::Result<LoadedModel> {
        let search = self.data_search();
        let loaded = load_model(&self.model, self.weights.as_deref(), &search)?;
        for warning in &loaded.graph.warnings {
            eprintln!("warning: {warning}");
        }
        if let Ok(data) = search.resolve_dir()
            && loaded.weights_path.starts_with(&data.path)
        {
            eprintln!("{}", data.describe());
        }
        Ok(loaded)
    }
}

/// Arguments of `fhec check`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
}

/// Loads and validates the model, then prints its graph.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = args.model.load()?;
    println!("weights {}", loaded.weights_path.display());
    println!("{}", loaded.graph);
    Ok(())
}
