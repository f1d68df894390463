//! One module per `fhec` subcommand.

pub mod bench;
pub mod bench_bootstrap;
pub mod bench_model;
pub mod check;
pub mod compile;
pub mod files;
pub mod import;
pub mod plain;
pub mod process_stats;
pub mod run;
pub mod run_ckks;
