//! Encoding and decoding of complex slot vectors into CKKS plaintexts through the canonical
//! embedding.

pub mod fft;

pub use fft::{C64, SpecialFft};
