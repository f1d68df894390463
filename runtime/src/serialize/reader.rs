//! [`Reader`]: reads an object's payload back from a file, never past the payload's announced
//! length, hashing every byte it pulls from the file so the checksum is verified without a
//! second pass.
//!
//! Every length read from the file is checked against the caller's limit and against the bytes
//! the payload still holds *before* anything is allocated, so a corrupt length can never make
//! us allocate more than the file's size. The buffer and the hasher's state are zeroized on
//! drop, as in the [`Writer`](super::Writer).

use std::fmt;
use std::io::{self, Read};

use zeroize::Zeroizing;

use super::error::PayloadError;
use super::writer::BUFFER_LEN;

/// Reads a payload written by a [`Writer`](super::Writer), method for method.
pub struct Reader<'a> {
    source: &'a mut dyn Read,
    /// Payload bytes not yet pulled from `source`.
    unpulled: u64,
    buffer: Zeroizing<Vec<u8>>,
    pos: usize,
    filled: usize,
    hasher: Zeroizing<blake3::Hasher>,
}

/// What is left once decoding is done: how many payload bytes the decoder did not read, and
/// the checksum of the whole payload.
pub(crate) struct Finished {
    pub unread: u64,
    pub checksum: [u8; 32],
}

impl<'a> Reader<'a> {
    /// A reader of a payload of `payload_len` bytes from `source`.
    pub(crate) fn new(source: &'a mut dyn Read, payload_len: u64) -> Self {
        Reader {
            source,
            unpulled: payload_len,
            buffer: Zeroizing::new(vec![0u8; BUFFER_LEN]),
            pos: 0,
            filled: 0,
            hasher: Zeroizing::new(blake3::Hasher::new()),
        }
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, PayloadError> {
        Ok(self.array::<1>()?[0])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32, PayloadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64, PayloadError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// An f64 written by [`Writer::f64`](super::Writer::f64), bit for bit.
    pub fn f64(&mut self) -> Result<f64, PayloadError> {
        Ok(f64::from_bits(self.u64()?))
    }

    /// A fixed-length byte array (no length prefix), e.g. a 32-byte seed.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], PayloadError> {
        self.require(N as u64, "fixed-length array")?;
        let mut out = [0u8; N];
        self.copy_into(&mut out)?;
        Ok(out)
    }

    /// Fills `out` with bytes written by [`Writer::fixed_bytes`](super::Writer::fixed_bytes)
    /// (no length prefix: the caller knows how many there are).
    pub fn fixed_bytes_into(&mut self, out: &mut [u8]) -> Result<(), PayloadError> {
        self.require(out.len() as u64, "fixed-length bytes")?;
        self.copy_into(out)
    }

    /// A length-prefixed u64 slice written by [`Writer::u64_slice`](super::Writer::u64_slice),
    /// refused if its length exceeds `max_len` elements.
    pub fn u64_vec(&mut self, max_len: u64) -> Result<Vec<u64>, PayloadError> {
        let len = self.length("u64 slice", max_len, 8)?;
        let mut values = vec![0u64; len];
        self.u64s_into(&mut values)?;
        Ok(values)
    }

    /// Fills `out` with values written by [`Writer::u64s`](super::Writer::u64s) (no length
    /// prefix: the caller knows how many there are).
    pub fn u64s_into(&mut self, out: &mut [u64]) -> Result<(), PayloadError> {
        self.require(8 * out.len() as u64, "u64 values")?;
        let mut done = 0;
        while done < out.len() {
            if self.filled - self.pos < 8 {
                // A value straddles the end of the buffer (or the buffer is empty).
                out[done] = u64::from_le_bytes(self.array()?);
                done += 1;
                continue;
            }
            let count = ((self.filled - self.pos) / 8).min(out.len() - done);
            let bytes = &self.buffer[self.pos..self.pos + 8 * count];
            for (value, chunk) in out[done..done + count]
                .iter_mut()
                .zip(bytes.chunks_exact(8))
            {
                let mut le = [0u8; 8];
                le.copy_from_slice(chunk);
                *value = u64::from_le_bytes(le);
            }
            self.pos += 8 * count;
            done += count;
        }
        Ok(())
    }

    /// A length-prefixed byte string written by [`Writer::bytes`](super::Writer::bytes),
    /// refused if longer than `max_len` bytes. Wrap the result in `Zeroizing` if it is secret.
    pub fn bytes(&mut self, max_len: u64) -> Result<Vec<u8>, PayloadError> {
        let len = self.length("byte string", max_len, 1)?;
        let mut bytes = vec![0u8; len];
        self.copy_into(&mut bytes)?;
        Ok(bytes)
    }

    /// Payload bytes not yet read.
    pub fn remaining(&self) -> u64 {
        self.unpulled + (self.filled - self.pos) as u64
    }

    /// Reads and hashes whatever the decoder left unread, and returns the payload's checksum.
    pub(crate) fn finish(mut self) -> io::Result<Finished> {
        let unread = self.remaining();
        while self.unpulled > 0 {
            self.refill()?;
        }
        Ok(Finished {
            unread,
            checksum: *self.hasher.finalize().as_bytes(),
        })
    }

    /// Reads a length prefix, checked against `max_len` and against the bytes left (each
    /// element taking `element_size` bytes), before the caller allocates.
    fn length(
        &mut self,
        what: &'static str,
        max_len: u64,
        element_size: u64,
    ) -> Result<usize, PayloadError> {
        let len = self.u64()?;
        if len > max_len {
            return Err(PayloadError::TooLong {
                what,
                len,
                max: max_len,
            });
        }
        let needed = len.saturating_mul(element_size);
        self.require(needed, what)?;
        usize::try_from(len).map_err(|_| PayloadError::TooLong {
            what,
            len,
            max: max_len,
        })
    }

    fn require(&self, needed: u64, what: &'static str) -> Result<(), PayloadError> {
        let remaining = self.remaining();
        if needed > remaining {
            return Err(PayloadError::Truncated {
                what,
                needed,
                remaining,
            });
        }
        Ok(())
    }

    /// Copies the next `out.len()` bytes (already checked to be in the payload).
    fn copy_into(&mut self, out: &mut [u8]) -> Result<(), PayloadError> {
        let mut done = 0;
        while done < out.len() {
            if self.pos == self.filled {
                self.refill()?;
            }
            let count = (self.filled - self.pos).min(out.len() - done);
            out[done..done + count].copy_from_slice(&self.buffer[self.pos..self.pos + count]);
            self.pos += count;
            done += count;
        }
        Ok(())
    }

    /// Pulls the next block of the payload from the source, hashing it. Bytes still buffered
    /// are dropped, so callers refill only once the buffer is consumed (or to drain it).
    fn refill(&mut self) -> io::Result<()> {
        let len = BUFFER_LEN.min(usize::try_from(self.unpulled).unwrap_or(BUFFER_LEN));
        self.source.read_exact(&mut self.buffer[..len])?;
        self.hasher.update(&self.buffer[..len]);
        self.unpulled -= len as u64;
        self.pos = 0;
        self.filled = len;
        Ok(())
    }
}

/// Shows only how much is left: the buffer may hold secret bytes.
impl fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}
