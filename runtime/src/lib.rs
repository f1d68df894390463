//! fhec's CKKS runtime: an RNS-CKKS library in its own right (DESIGN §4).

pub mod exec;
