//! Running a compiled [`Program`](fhec_ir::Program) on a backend (DESIGN §1, §8).
//!
//! [`run`] is the one interpreter: it walks the program in order, binds inputs by name,
//! materialises each `plain` recipe through a [`PlaintextSource`](fhec_ir::PlaintextSource)
//! (the compiler's weights), hands every operation to a [`Backend`] and collects the outputs
//! by name. It enforces lifetimes: a value used before its definition or after its `free` is an
//! error, never a stale read. The arithmetic lives in the backends: [`ClearBackend`] computes
//! on `f64` slot vectors with exact semantics (the oracle of compiler tests); [`CkksBackend`]
//! implements the same trait on real ciphertexts, with [`CkksSetup`] (the program's recorded
//! parameters) and [`CkksClient`] (the secret key: key generation, encryption, decryption).
//! This is the only part of the runtime that uses `fhec-ir` (a tidy test enforces it).

mod backend;
mod ckks;
mod clear;
mod interp;
pub mod layer_probe;

pub use backend::Backend;
pub use ckks::{
    CkksBackend, CkksClient, CkksError, CkksSetup, EvaluationKeys, OpTime, OpTimes, PUBLIC_DIR,
    SECRET_KEY_FILE, bind_scale, check_ciphertext, check_program, new_key_set, program_hash,
    same_key_set,
};
pub use clear::{ClearBackend, ClearError};
pub use interp::{ExecError, Observer, run, run_observed};
