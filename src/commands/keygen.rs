//! `fhec keygen program.ron --keys DIR [--insecure]`: the client's keys of a program
//! (DESIGN §6, §7): `DIR/secret.key` (0600, never under `public/`) and `DIR/public/` (the
//! parameters and every evaluation key the program and its bootstraps need, level-capped),
//! which is all `fhec eval` gets. Prints a JSON summary.

use std::time::Instant;

use anyhow::Context;
use fhec_runtime::exec::{CkksClient, PUBLIC_DIR, SECRET_KEY_FILE};
use serde_json::json;

use super::client_server::ProgramFile;
use super::run::thread_pool;

/// Arguments of `fhec keygen`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    program: ProgramFile,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// Generates and writes the keys.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = args.program.load()?;
    let (pool, _) = thread_pool(args.threads)?;
    let start = Instant::now();
    let spinner = super::progress::spinner("generating keys".into());
    let generated = pool.install(|| CkksClient::generate(&loaded.setup, &loaded.program));
    spinner.finish_and_clear();
    let (client, keys) =
        generated.with_context(|| format!("{}: key generation", args.program.program.display()))?;
    let keygen_s = start.elapsed().as_secs_f64();
    std::fs::create_dir_all(&args.program.keys).with_context(|| {
        format!(
            "{}: cannot create the directory",
            args.program.keys.display()
        )
    })?;
    client.write_secret_key(&args.program.keys.join(SECRET_KEY_FILE))?;
    keys.write_to(&loaded.setup, &args.program.keys.join(PUBLIC_DIR))?;
    let summary = json!({
        "keys": args.program.keys.display().to_string(),
        "security": loaded.security,
        "eval_key_bytes": keys.size_bytes(),
        "keygen_s": keygen_s,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
