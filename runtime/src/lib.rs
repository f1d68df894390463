//! fhec's CKKS runtime: an RNS-CKKS library in its own right (DESIGN §4).

pub mod ring;

pub mod encoding;
pub mod sampling;
