//! The CKKS backend: a compiled [`Program`](fhec_ir::Program) evaluated on real ciphertexts
//! (DESIGN §1, §8).
//!
//! Three parts, split along who may hold what:
//!
//! - [`CkksSetup`] (`setup.rs`): the parameters the program was compiled for, rebuilt from the
//!   bootstrapping literal the compiler recorded in its metadata (`Target::record`), checked
//!   against the program's bootstrap declaration, and refused when insecure unless the caller
//!   opts in with [`SecurityPolicy::AllowInsecure`](fhec_params::SecurityPolicy).
//! - [`CkksClient`] and [`EvaluationKeys`] (`client.rs`, `keys.rs`): the client generates the
//!   secret key and, from it, exactly the evaluation keys the program's key set names (each
//!   capped at its level) plus the bootstrapping keys of the recorded target; it encrypts
//!   inputs and decrypts outputs. The secret key never leaves the client (and is zeroized on
//!   drop); the evaluation keys hold nothing secret.
//! - [`CkksBackend`] (`backend.rs`): the [`Backend`](super::Backend) on ciphertexts, with the
//!   evaluation keys only. Plaintexts are encoded at their type's level and exact scale; every
//!   result is checked against its IR type (level, exact scale, slots) and its scale is then
//!   set to the exact value, so the runtime's `f64` scale cannot drift from the IR's over a
//!   long chain. Since inputs are checked when bound and plaintexts are encoded to their type,
//!   checking every result checks every operand too. It also records the count and wall time
//!   of each operation kind ([`OpTimes`], `timing.rs`) for reports.

mod backend;
mod client;
mod key_files;
mod keys;
mod setup;
mod timing;

pub use backend::CkksBackend;
pub use client::CkksClient;
pub use key_files::{
    PUBLIC_DIR, SECRET_KEY_FILE, check_program, new_key_set, program_hash, same_key_set,
};
pub use keys::EvaluationKeys;
pub use setup::{CkksSetup, bind_scale, check_ciphertext};
pub use timing::{OpTime, OpTimes};

use crate::bootstrap::BootstrapError as RuntimeBootstrapError;
use crate::encoding::EncodeError;
use crate::eval::EvalError;
use crate::keys::KeyError;
use crate::ring::RingError;
use thiserror::Error;

/// Why the CKKS backend could not set up, generate keys, encrypt, evaluate or decrypt.
#[derive(Debug, Error)]
pub enum CkksError {
    /// The program carries no parameters (compiled without a target, or unscheduled).
    #[error(
        "the program records no CKKS parameters; schedule it for a target first (fhec compile)"
    )]
    NoParameters,
    /// The recorded parameters could not be read back as a bootstrapping literal.
    #[error("the program's recorded parameters cannot be read: {0}")]
    ParameterText(String),
    /// The recorded parameters are invalid.
    #[error("the program's recorded parameters: {0}")]
    Parameters(#[from] fhec_params::BootstrapError),
    /// Insecure parameters without the caller's opt-in.
    #[error(
        "the program was compiled for INSECURE parameters (N = 2^{log_n}, log2 QP = {log_qp:.0}); \
         they are refused unless the caller opts in (`--insecure`, tests only)"
    )]
    Insecure {
        /// log2 of the ring degree.
        log_n: u32,
        /// log2 of the whole modulus Q·P.
        log_qp: f64,
    },
    /// The program's bootstrap declaration is not what its recorded parameters give.
    #[error("the program declares bootstraps as {declared}, its parameters give {recorded}")]
    BootstrapSpec {
        /// The program's declaration, printed.
        declared: String,
        /// What the parameters give, printed.
        recorded: String,
    },
    /// The ring tables could not be built.
    #[error("building the CKKS context: {0}")]
    Ring(#[from] RingError),
    /// A key could not be generated.
    #[error("key generation: {0}")]
    Key(#[from] KeyError),
    /// Bootstrapping could not be set up or run.
    #[error(transparent)]
    Bootstrap(#[from] RuntimeBootstrapError),
    /// A plaintext or input could not be encoded.
    #[error("encoding: {0}")]
    Encode(#[from] EncodeError),
    /// The evaluator refused an operation.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A ciphertext at another level than its IR type says.
    #[error("{what} is at level {found}, the program types it at level {expected}")]
    Level {
        /// "the result", "input x", ...
        what: String,
        /// The IR type's level.
        expected: u32,
        /// The ciphertext's level.
        found: usize,
    },
    /// A ciphertext whose scale is not its IR type's.
    #[error(
        "{what} has scale 2^{found_log2:.6}, the program types it at {expected} \
         (2^{expected_log2:.6})"
    )]
    Scale {
        /// "the result", "input x", ...
        what: String,
        /// The IR type's exact scale, printed.
        expected: String,
        /// log2 of the IR scale bound to the chain's primes.
        expected_log2: f64,
        /// log2 of the ciphertext's scale.
        found_log2: f64,
    },
    /// A scale naming a prime the chain does not have, or out of `f64` range.
    #[error("the scale {scale} cannot be bound to the chain's {primes} primes")]
    UnboundScale {
        /// The scale, printed.
        scale: String,
        /// Number of ciphertext primes.
        primes: usize,
    },
    /// A ciphertext or value vector with another slot count than its IR type says.
    #[error("{what} packs {found} slots, the program types it with {expected}")]
    Slots {
        /// "the result", "input x", ...
        what: String,
        /// The IR type's slot count.
        expected: u32,
        /// The ciphertext's slot count.
        found: usize,
    },
    /// A plaintext or ciphertext type where the other kind was expected.
    #[error("{what}: expected a {expected} type, found {found}")]
    Kind {
        /// What was being encoded or encrypted.
        what: String,
        /// "ciphertext" or "plaintext".
        expected: &'static str,
        /// The type found, printed.
        found: String,
    },
    /// A `bootstrap` instruction, but the keys were generated without bootstrapping keys.
    #[error("the program bootstraps, but the evaluation keys hold no bootstrapping keys")]
    NoBootstrapKeys,
    /// A key file could not be written or read (the error names the file).
    #[error(transparent)]
    File(#[from] crate::serialize::FileError),
    /// A key directory made for other parameters than the program's.
    #[error("{}: made for other parameters than this program's (keys of another program?)", .0.display())]
    ForeignKeys(std::path::PathBuf),
    /// Two files that must come from one `keygen` come from different ones.
    #[error(
        "{}: from another key generation than {} ({} against {}); use files of one `fhec keygen`",
        .path.display(), .reference.display(), .found, .expected
    )]
    KeySetMismatch {
        /// The file refused.
        path: std::path::PathBuf,
        /// The file it was compared with.
        reference: std::path::PathBuf,
        /// The key set `path` records, printed.
        found: String,
        /// The key set `reference` records, printed.
        expected: String,
    },
    /// A key file was generated for another program than the one given.
    #[error(
        "{}: generated for another program than {} (run `fhec keygen` for this program)",
        .path.display(), .program.display()
    )]
    OtherProgram {
        /// The key or ciphertext file.
        path: std::path::PathBuf,
        /// The program file.
        program: std::path::PathBuf,
    },
    /// The system's randomness is unavailable for the key-set id.
    #[error("cannot draw a key-set id: {0}")]
    KeySetId(getrandom::Error),
    /// A key directory could not be created.
    #[error("{}: cannot create the directory: {message}", .path.display())]
    Directory {
        /// The directory.
        path: std::path::PathBuf,
        /// The system's reason.
        message: String,
    },
    /// An input the program declares was not given to the client.
    #[error("input {0:?} is not given")]
    MissingInput(String),
    /// A value given for an input the program does not declare.
    #[error("the program has no input named {0:?}")]
    UnknownInput(String),
}
