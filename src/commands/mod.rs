//! One module per `fhec` subcommand.

pub mod approximation;
pub mod bench;
pub mod bench_bootstrap;
pub mod bench_model;
pub mod calibrate;
pub mod check;
pub mod ckks_report;
pub mod client_server;
pub mod compile;
pub mod ct_bundle;
pub mod data_fetch;
pub mod decrypt;
pub mod demo;
pub mod encrypt;
pub mod eval;
pub mod eval_progress;
pub mod files;
pub mod import;
pub mod keygen;
pub mod limits;
pub mod outputs;
pub mod plain;
pub mod process_stats;
pub mod progress;
pub mod run;
pub mod run_ckks;
