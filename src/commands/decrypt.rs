//! `fhec decrypt program.ron --keys DIR out.ct [--json] [--insecure]`: the client decrypts
//! the output ciphertexts of `fhec eval` with `DIR/secret.key`, unpacks the logits as the
//! program's outputs say and prints them with the predicted class (JSON with `--json`).

use std::path::PathBuf;

use fhec_compiler::lower::io::descriptions;
use fhec_compiler::reference::arg_max;
use serde_json::json;

use super::client_server::ProgramFile;
use super::ct_bundle::{self, Side};
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
    let (client, key_set) = args.program.client(&loaded, &secret_key)?;
    let outputs = ct_bundle::read(
        &args.input,
        &loaded.setup,
        &loaded.program,
        Side::Outputs,
        key_set,
        &secret_key,
    )?;
    let decrypted = client.decrypt_outputs(&outputs);
    let logits = unpack_first_output(&descriptions(&loaded.program, true)?, &decrypted)?;
    if let Some(value) = logits.iter().find(|v| !v.is_finite()) {
        anyhow::bail!(
            "{}: decrypts to {value}, not a number",
            args.input.display()
        );
    }
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
