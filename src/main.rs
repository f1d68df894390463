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
    /// No progress bars or spinners (they are also hidden when stdout is not a terminal).
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Classify an encrypted CIFAR-10 image with ResNet-20: compile (or reuse the cached
    /// program), generate keys, encrypt, evaluate, decrypt; time and memory of each step.
    Demo(commands::demo::Args),
    /// Data sets: `fhec data fetch [DIR]` downloads the full CIFAR-10 binary set.
    Data(commands::data_fetch::Args),
    /// Translate an ONNX model into a model description and a safetensors weights file.
    Import(commands::import::Args),
    /// Validate a model description, infer shapes and print the graph.
    Check(commands::check::Args),
    /// Plaintext reference accuracy on the CIFAR-10 test set (JSON).
    Plain(commands::plain::Args),
    /// Measure a model's activation ranges on the training batch and write its calibration
    /// record (used by compile and plain --approx).
    Calibrate(commands::calibrate::Args),
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
    /// Benchmarks, JSON on stdout with --json.
    Bench(commands::bench::BenchArgs),
    /// Work with run reports (`fhec report merge`).
    #[command(subcommand)]
    Report(ReportCommand),
}

/// `fhec report ...`.
#[derive(Subcommand)]
enum ReportCommand {
    /// Join the reports of `fhec run --backend ckks` over disjoint image ranges of one program
    /// into one report, and print its summary.
    Merge(commands::ckks_report::MergeArgs),
}

/// Runs one subcommand.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Demo(args) => commands::demo::run(args),
        Command::Data(args) => commands::data_fetch::run(args),
        Command::Import(args) => commands::import::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Plain(args) => commands::plain::run(args),
        Command::Calibrate(args) => commands::calibrate::run(args),
        Command::Compile(args) => commands::compile::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Keygen(args) => commands::keygen::run(args),
        Command::Encrypt(args) => commands::encrypt::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Decrypt(args) => commands::decrypt::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Report(ReportCommand::Merge(args)) => commands::ckks_report::merge(args),
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
    let cli = Cli::parse();
    commands::progress::set_quiet(cli.quiet);
    match run(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            std::process::ExitCode::FAILURE
        }
    }
}
