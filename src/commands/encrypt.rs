//! `fhec encrypt program.ron --keys DIR --image I [--data D] -o in.ct [--insecure]`: the
//! client packs CIFAR-10 test image `I` as the program's inputs say (preprocessing, layout)
//! and encrypts every input with `DIR/secret.key` at its declared level and scale, into one
//! ciphertext file (`ct_bundle.rs`).

use std::path::PathBuf;

use fhec_compiler::data::DataDirSearch;
use fhec_compiler::lower::io::descriptions;

use super::client_server::ProgramFile;
use super::ct_bundle;
use super::outputs::check_outputs;
use super::run::{load_test_images, pack_pixels};

/// Arguments of `fhec encrypt`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    program: ProgramFile,
    /// The CIFAR-10 test image to encrypt.
    #[arg(long)]
    image: usize,
    /// Data directory (else $FHEC_DATA, else ../shared/data, else the shipped sample).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where to write the ciphertexts.
    #[arg(short, long)]
    output: PathBuf,
}

/// Encrypts the image.
pub fn run(args: Args) -> anyhow::Result<()> {
    let secret_key = args.program.secret_key_path()?;
    check_outputs(&[&args.output], &[&args.program.program, &secret_key])?;
    let loaded = args.program.load()?;
    let data = DataDirSearch::from_process(args.data.clone());
    let batch = load_test_images(&data, &(args.image..args.image + 1))?;
    eprintln!("{}", data.resolve_dir()?.describe());
    let inputs = pack_pixels(
        &descriptions(&loaded.program, false)?,
        batch.image(args.image),
    )?;
    let (mut client, key_set) = args.program.client(&loaded, &secret_key)?;
    let encrypted = client.encrypt_inputs(&loaded.program, inputs)?;
    ct_bundle::write(&args.output, &loaded.setup, key_set, encrypted)
}
