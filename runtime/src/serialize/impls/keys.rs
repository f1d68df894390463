//! Key files: the secret key, the public key, the relinearisation key and Galois key sets.
//!
//! Public and evaluation keys are stored seed-compressed (DESIGN §4): the uniform halves are
//! regenerated from their 32-byte seed on reading, halving the files. Evaluation keys keep the
//! level they were restricted to. Payloads (version 1):
//!
//! - secret key: N bytes, one per coefficient as a signed byte (0, 1 or 0xff for −1);
//! - public key: seed (32 bytes), then `b` as a polynomial (see [`write_poly`]);
//! - key-switching key (inside the two below): level (u32), seed (32 bytes), digit count (u64),
//!   then one polynomial `b_j` per digit;
//! - relinearisation key: one key-switching key;
//! - Galois key set: key count (u64), then per key, by ascending Galois element: the element
//!   (u64, odd, below 2N) and its key-switching key.

use fhec_params::{Level, SecretDistribution};
use zeroize::Zeroizing;

use super::invalid;
use crate::context::CkksContext;
use crate::keys::{GaloisKeys, KeyError, KeySwitchKey, PublicKey, RelinearizationKey, SecretKey};
use crate::sampling::SEED_BYTES;
use crate::serialize::{Codec, ObjectKind, PayloadError, Reader, Writer, read_poly, write_poly};

impl Codec for SecretKey {
    const KIND: ObjectKind = ObjectKind::SecretKey;
    const VERSION: u32 = 1;
    type Context = CkksContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        let bytes: Zeroizing<Vec<u8>> =
            Zeroizing::new(self.coefficients().iter().map(|&c| c as i8 as u8).collect());
        w.fixed_bytes(&bytes)
    }

    fn decode(r: &mut Reader<'_>, _: u32, context: &CkksContext) -> Result<Self, PayloadError> {
        let mut bytes = Zeroizing::new(vec![0u8; context.ring().degree()]);
        r.fixed_bytes_into(&mut bytes)?;
        // Positions and counts only in messages: the coefficients are the secret.
        if let Some(at) = bytes.iter().position(|&b| !matches!(b, 0 | 1 | 0xff)) {
            let reason = format!("coefficient {at} is not -1, 0 or 1");
            return Err(invalid("secret key", reason));
        }
        if let SecretDistribution::FixedHammingWeight { hamming_weight } = context.params().secret()
        {
            let weight = bytes.iter().filter(|&&b| b != 0).count();
            if weight != hamming_weight {
                let reason = format!(
                    "{weight} non-zero coefficients, the parameters call for {hamming_weight}"
                );
                return Err(invalid("secret key", reason));
            }
        }
        let coefficients = bytes.iter().map(|&b| i64::from(b as i8)).collect();
        SecretKey::from_coefficients(context, coefficients).map_err(key_error)
    }
}

impl Codec for PublicKey {
    const KIND: ObjectKind = ObjectKind::PublicKey;
    const VERSION: u32 = 1;
    type Context = CkksContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        let (seed, b) = self.compressed();
        w.fixed_bytes(seed)?;
        write_poly(w, b)
    }

    fn decode(r: &mut Reader<'_>, _: u32, context: &CkksContext) -> Result<Self, PayloadError> {
        let seed = r.array::<SEED_BYTES>()?;
        let b = read_poly(r, context.ring())?;
        PublicKey::from_compressed(context, seed, b).map_err(key_error)
    }
}

impl Codec for RelinearizationKey {
    const KIND: ObjectKind = ObjectKind::RelinearizationKey;
    const VERSION: u32 = 1;
    type Context = CkksContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        write_switching_key(w, &self.0)
    }

    fn decode(r: &mut Reader<'_>, _: u32, context: &CkksContext) -> Result<Self, PayloadError> {
        read_switching_key(r, context).map(RelinearizationKey)
    }
}

impl Codec for GaloisKeys {
    const KIND: ObjectKind = ObjectKind::GaloisKeys;
    const VERSION: u32 = 1;
    type Context = CkksContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.u64(self.len() as u64)?;
        self.iter().try_for_each(|(element, key)| {
            w.u64(element)?;
            write_switching_key(w, key)
        })
    }

    fn decode(r: &mut Reader<'_>, _: u32, context: &CkksContext) -> Result<Self, PayloadError> {
        let two_n = 2 * context.ring().degree() as u64;
        // At most one key per odd element below 2N.
        let count = r.u64()?;
        if count > two_n / 2 {
            return Err(PayloadError::TooLong {
                what: "Galois key count",
                len: count,
                max: two_n / 2,
            });
        }
        let mut keys = GaloisKeys::default();
        let mut previous = None;
        for _ in 0..count {
            let element = r.u64()?;
            if element % 2 == 0 || element >= two_n {
                let reason = format!("{element} is not an odd number below 2N = {two_n}");
                return Err(invalid("Galois element", reason));
            }
            if let Some(previous) = previous
                && element <= previous
            {
                let reason = format!("{element} does not follow {previous} in ascending order");
                return Err(invalid("Galois element", reason));
            }
            previous = Some(element);
            keys.insert(element, read_switching_key(r, context)?);
        }
        Ok(keys)
    }
}

/// Writes a key-switching key seed-compressed: level, seed, the `b_j`.
pub(super) fn write_switching_key(
    w: &mut Writer<'_>,
    key: &KeySwitchKey,
) -> Result<(), PayloadError> {
    let (level, seed, b) = key.compressed();
    let level = u32::try_from(level.0)
        .map_err(|_| invalid("key level", format!("{level} does not fit in 32 bits")))?;
    w.u32(level)?;
    w.fixed_bytes(seed)?;
    w.u64(b.len() as u64)?;
    b.iter().try_for_each(|b_j| write_poly(w, b_j))
}

/// Reads a key written by [`write_switching_key`], regenerating the `a_j` from the seed.
pub(super) fn read_switching_key(
    r: &mut Reader<'_>,
    context: &CkksContext,
) -> Result<KeySwitchKey, PayloadError> {
    let level = r.u32()? as usize;
    let max = context.max_level().0;
    if level > max {
        return Err(invalid(
            "key level",
            format!("{level} exceeds the parameters' {max}"),
        ));
    }
    let level = Level(level);
    let seed = r.array::<SEED_BYTES>()?;
    let digits = context.params().digits_at(level);
    let count = r.u64()?;
    if count != digits as u64 {
        let reason = format!("{count} digits, the parameters have {digits} at {level}");
        return Err(invalid("key-switching key", reason));
    }
    let b = (0..digits)
        .map(|_| read_poly(r, context.ring()))
        .collect::<Result<_, _>>()?;
    KeySwitchKey::from_compressed(context, level, seed, b).map_err(key_error)
}

/// A key constructor's refusal, as a payload error.
pub(super) fn key_error(error: KeyError) -> PayloadError {
    invalid("key", error.to_string())
}
