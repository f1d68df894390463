//! fhec's CKKS runtime: an RNS-CKKS library in its own right (DESIGN §4).

pub mod bootstrap;
pub mod ciphertext;
pub mod context;
pub mod encoding;
pub mod encrypt;
pub mod eval;
pub mod exec;
pub mod keys;
pub mod precision;
pub mod ring;
pub mod sampling;
pub mod serialize;
