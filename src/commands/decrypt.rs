//! `fhec decrypt program.ron --keys DIR out.ct [--json] [--insecure]`: the client decrypts
//! the output ciphertexts of `fhec eval` with `DIR/secret.key`, unpacks the logits as the
//! program's outputs say and prints them with the predicted class (JSON with `--json`).

use std::path::PathBuf;

use fhec_compiler::lower::io::descriptions;
use fhec_compiler::reference::arg_max;
use fhec_runtime::exec::CkksClient;
use serde_json::json;

use super::client_server::ProgramFile;
use super::ct_bundle;
use super::run::unpack_first_output;

/// Arguments of `fhec decrypt`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    program: ProgramFile,
    /// The output ciphertexts (`fhec eval`).
    input: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Decrypts and prints the logits and class.
pub fn run(args: Args) -> anyhow::Result<()> {
    let secret_key = args.program.secret_key_path()?;
    let loaded = args.program.load()?;
    let client = CkksClient::read_secret_key(&loaded.setup, &secret_key)?;
    let outputs = ct_bundle::read(&args.input, loaded.setup.context())?;
    let decrypted = client.decrypt_outputs(&outputs);
    let logits = unpack_first_output(&descriptions(&loaded.program, true)?, &decrypted)?;
    let class = arg_max(&logits);
    if args.json {
        let document = json!({"class": class, "logits": logits, "security": loaded.security});
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        let printed: Vec<String> = logits.iter().map(|v| format!("{v:.6}")).collect();
        println!(
            "class {class} ({}); logits [{}]",
            loaded.security,
            printed.join(", ")
        );
    }
    Ok(())
}
