//! `fhec`: the command line of the fhec compiler and runtime (DESIGN §7).
//!
//! Each subcommand lives in its own module under `commands/`; this file only parses the
//! command line, dispatches, and turns every failure into one clear line and a non-zero exit.

mod commands;

use clap::{Parser, Subcommand};

/// Compile neural networks to CKKS programs and run them on encrypted data.
#[derive(Parser)]
#[command(name = "fhec", version, about, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Translate an ONNX model into a model description and a safetensors weights file.
    Import(commands::import::Args),
    /// Validate a model description, infer shapes and print the graph.
    Check(commands::check::Args),
    /// Plaintext reference accuracy on the CIFAR-10 test set (JSON).
    Plain(commands::plain::Args),
    /// Calibrate, choose the activations' polynomials and lower the model to an HE program.
    Compile(commands::compile::Args),
    /// Run a compiled program on test images (clear or CKKS backend) and compare.
    Run(commands::run::Args),
    /// Client: generate the secret key and the public evaluation keys of a program.
    Keygen(commands::keygen::Args),
    /// Client: encrypt a test image as the program's inputs.
    Encrypt(commands::encrypt::Args),
    /// Server: evaluate the program on ciphertexts with the public keys only.
    Eval(commands::eval::Args),
    /// Client: decrypt the program's outputs (logits and class).
    Decrypt(commands::decrypt::Args),
    /// Benchmarks, JSON on stdout with --json (DESIGN §10).
    Bench(commands::bench::BenchArgs),
}

/// Runs one subcommand.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Import(args) => commands::import::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Plain(args) => commands::plain::run(args),
        Command::Compile(args) => commands::compile::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Keygen(args) => commands::keygen::run(args),
        Command::Encrypt(args) => commands::encrypt::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Decrypt(args) => commands::decrypt::run(args),
        Command::Bench(args) => commands::bench::run(args),
    }
}

/// The error and its causes on one line, each cause once: many errors already print their
/// source, which the chain then repeats.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            std::process::ExitCode::FAILURE
        }
    }
}
