//! One module per `fhec` subcommand.

pub mod bench;
pub mod check;
pub mod import;
pub mod plain;
