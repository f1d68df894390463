//! [`Writer`]: streams an object's payload as little-endian bytes to a file, hashing it on the
//! way, through one fixed buffer that is wiped when the writer is dropped.
//!
//! The writer owns its buffer (rather than wrapping a `BufWriter`) so that no copy of a secret
//! key's bytes outlives the write: the buffer and the hasher's state are zeroized on drop.

use std::fmt;
use std::io::Write;

use zeroize::Zeroizing;

use super::error::PayloadError;

/// Size of the staging buffer between the encoder and the file: large enough for BLAKE3 to hash
/// many chunks in parallel (SIMD) and for few system calls, small enough to be irrelevant in
/// memory.
pub(crate) const BUFFER_LEN: usize = 128 * 1024;

/// Writes a payload: fixed-width little-endian integers, fixed-length arrays, and
/// length-prefixed slices (the prefix is a u64 count of elements).
///
/// Every method returns the I/O error of the underlying file, if any, as
/// [`PayloadError::Io`]; a [`Codec`](super::Codec) impl just propagates it with `?`.
pub struct Writer<'a> {
    sink: &'a mut dyn Write,
    buffer: Zeroizing<Vec<u8>>,
    filled: usize,
    hasher: Zeroizing<blake3::Hasher>,
    written: u64,
}

impl<'a> Writer<'a> {
    /// A writer streaming to `sink`.
    pub(crate) fn new(sink: &'a mut dyn Write) -> Self {
        Writer {
            sink,
            buffer: Zeroizing::new(vec![0u8; BUFFER_LEN]),
            filled: 0,
            hasher: Zeroizing::new(blake3::Hasher::new()),
            written: 0,
        }
    }

    /// One byte.
    pub fn u8(&mut self, value: u8) -> Result<(), PayloadError> {
        self.fixed_bytes(&[value])
    }

    /// A little-endian u32.
    pub fn u32(&mut self, value: u32) -> Result<(), PayloadError> {
        self.fixed_bytes(&value.to_le_bytes())
    }

    /// A little-endian u64.
    pub fn u64(&mut self, value: u64) -> Result<(), PayloadError> {
        self.fixed_bytes(&value.to_le_bytes())
    }

    /// An f64, bit for bit (its IEEE 754 bits as a little-endian u64), so it reads back exactly.
    pub fn f64(&mut self, value: f64) -> Result<(), PayloadError> {
        self.u64(value.to_bits())
    }

    /// A length (u64 element count) followed by the values; read back with
    /// [`Reader::u64_vec`](super::Reader::u64_vec).
    pub fn u64_slice(&mut self, values: &[u64]) -> Result<(), PayloadError> {
        self.u64(values.len() as u64)?;
        self.u64s(values)
    }

    /// The values without a length, for arrays whose length the reader knows (e.g. a
    /// polynomial limb of N coefficients); read back with
    /// [`Reader::u64s_into`](super::Reader::u64s_into).
    pub fn u64s(&mut self, values: &[u64]) -> Result<(), PayloadError> {
        let mut rest = values;
        while !rest.is_empty() {
            if BUFFER_LEN - self.filled < 8 {
                self.flush_buffer()?;
            }
            let count = ((BUFFER_LEN - self.filled) / 8).min(rest.len());
            let target = &mut self.buffer[self.filled..self.filled + 8 * count];
            for (bytes, value) in target.chunks_exact_mut(8).zip(&rest[..count]) {
                bytes.copy_from_slice(&value.to_le_bytes());
            }
            self.filled += 8 * count;
            rest = &rest[count..];
        }
        Ok(())
    }

    /// A length (u64 byte count) followed by the bytes; read back with
    /// [`Reader::bytes`](super::Reader::bytes).
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<(), PayloadError> {
        self.u64(bytes.len() as u64)?;
        self.fixed_bytes(bytes)
    }

    /// The bytes without a length, for arrays whose length the reader knows (e.g. a 32-byte
    /// seed); read back with [`Reader::array`](super::Reader::array).
    pub fn fixed_bytes(&mut self, bytes: &[u8]) -> Result<(), PayloadError> {
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.filled == BUFFER_LEN {
                self.flush_buffer()?;
            }
            let count = (BUFFER_LEN - self.filled).min(rest.len());
            self.buffer[self.filled..self.filled + count].copy_from_slice(&rest[..count]);
            self.filled += count;
            rest = &rest[count..];
        }
        Ok(())
    }

    /// Payload bytes written so far (buffered ones included).
    pub fn position(&self) -> u64 {
        self.written + self.filled as u64
    }

    /// Flushes the buffer and returns the payload's length and BLAKE3 checksum.
    pub(crate) fn finish(mut self) -> Result<(u64, [u8; 32]), PayloadError> {
        self.flush_buffer()?;
        Ok((self.written, *self.hasher.finalize().as_bytes()))
    }

    fn flush_buffer(&mut self) -> Result<(), PayloadError> {
        let staged = &self.buffer[..self.filled];
        self.hasher.update(staged);
        self.sink.write_all(staged)?;
        self.written += self.filled as u64;
        self.filled = 0;
        Ok(())
    }
}

/// Shows only the position: the buffer may hold secret bytes.
impl fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}
