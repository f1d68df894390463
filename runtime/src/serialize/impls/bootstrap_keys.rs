//! The bootstrapping key file: every evaluation key a [`BootstrapKeys`] holds, in one file the
//! client writes with its other public keys and the server reads before it bootstraps.
//!
//! Same store rules as the other evaluation keys (DESIGN §4): seed-compressed (only the `b`
//! halves and their seeds are written) and level-capped (each key keeps the level it was
//! generated for). The ephemeral sparse secret of the encapsulation is never part of it.
//!
//! Payload (version 1):
//! - the Galois key set, as in a Galois key file (count, then element and key-switching key
//!   each);
//! - the relinearisation key (one key-switching key);
//! - a flag byte: 0 without encapsulation, 1 with, then
//!   - dense→sparse key: seed (32 bytes), `b` on q0 then on p0 (N words each, no length);
//!   - sparse→dense key: level (u32), seed (32 bytes), `b` as a polynomial.

use super::invalid;
use super::keys::{key_error, read_switching_key, write_switching_key};
use crate::bootstrap::BootstrapKeys;
use crate::bootstrap::encapsulation::{EncapsulationKeys, SparseSwitchKey};
use crate::context::CkksContext;
use crate::keys::switch_between::SingleDigitKey;
use crate::keys::{GaloisKeys, RelinearizationKey};
use crate::sampling::SEED_BYTES;
use crate::serialize::{Codec, ObjectKind, PayloadError, Reader, Writer, read_poly, write_poly};
use fhec_params::Level;

impl Codec for BootstrapKeys {
    const KIND: ObjectKind = ObjectKind::BootstrapKeys;
    const VERSION: u32 = 1;
    type Context = CkksContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        self.galois.encode(w)?;
        write_switching_key(w, &self.relinearization.0)?;
        match &self.encapsulation {
            None => w.u8(0),
            Some(keys) => {
                w.u8(1)?;
                write_encapsulation(w, keys)
            }
        }
    }

    fn decode(r: &mut Reader<'_>, _: u32, context: &CkksContext) -> Result<Self, PayloadError> {
        let galois = GaloisKeys::decode(r, GaloisKeys::VERSION, context)?;
        let relinearization = RelinearizationKey(read_switching_key(r, context)?);
        let encapsulation = match r.u8()? {
            0 => None,
            1 => Some(read_encapsulation(r, context)?),
            flag => {
                let reason = format!("{flag} (0: no encapsulation keys, 1: present)");
                return Err(invalid("encapsulation flag", reason));
            }
        };
        Ok(Self {
            galois,
            relinearization,
            encapsulation,
        })
    }
}

fn write_encapsulation(w: &mut Writer<'_>, keys: &EncapsulationKeys) -> Result<(), PayloadError> {
    let (seed, [b_q0, b_p0]) = keys.dense_to_sparse.compressed();
    w.fixed_bytes(seed)?;
    w.u64s(b_q0)?;
    w.u64s(b_p0)?;
    let (level, seed, b) = keys.sparse_to_dense.compressed();
    let level = u32::try_from(level.0)
        .map_err(|_| invalid("key level", format!("{level} does not fit in 32 bits")))?;
    w.u32(level)?;
    w.fixed_bytes(seed)?;
    write_poly(w, b)
}

fn read_encapsulation(
    r: &mut Reader<'_>,
    context: &CkksContext,
) -> Result<EncapsulationKeys, PayloadError> {
    let n = context.ring().degree();
    let seed = r.array::<SEED_BYTES>()?;
    let mut b = [vec![0u64; n], vec![0u64; n]];
    for limb in &mut b {
        r.u64s_into(limb)?;
    }
    let dense_to_sparse = SparseSwitchKey::from_compressed(context, seed, b)
        .map_err(|error| invalid("dense-to-sparse key", error.to_string()))?;
    // SingleDigitKey::from_compressed refuses a level above the chain's.
    let level = r.u32()? as usize;
    let seed = r.array::<SEED_BYTES>()?;
    let b = read_poly(r, context.ring())?;
    let sparse_to_dense =
        SingleDigitKey::from_compressed(context, Level(level), seed, b).map_err(key_error)?;
    Ok(EncapsulationKeys {
        dense_to_sparse,
        sparse_to_dense,
    })
}
