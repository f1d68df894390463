//! One module per `fhec` subcommand.

pub mod bench;
