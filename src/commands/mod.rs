//! One module per `fhec` subcommand.

pub mod approximation;
pub mod bench;
pub mod bench_bootstrap;
pub mod bench_model;
pub mod check;
pub mod client_server;
pub mod compile;
pub mod ct_bundle;
pub mod decrypt;
pub mod encrypt;
pub mod eval;
pub mod files;
pub mod import;
pub mod keygen;
pub mod limits;
pub mod outputs;
pub mod plain;
pub mod process_stats;
pub mod run;
pub mod run_ckks;
