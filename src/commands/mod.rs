//! One module per `fhec` subcommand.
