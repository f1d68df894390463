//! Ciphertext and plaintext files.
//!
//! A ciphertext file holds either an expanded ciphertext `(c0, c1)` or a seed-compressed fresh
//! encryption `(c0, seed of c1)`, half the size; reading a [`Ciphertext`] accepts both
//! (expanding the seed), reading a [`SeededCiphertext`] only the second. Payloads (version 2;
//! version 1 is the same bytes, but its seeded `c1` was expanded in a stream domain that
//! overlapped the keys': such files still read as a [`Ciphertext`], expanded the old way, and
//! are refused as a [`SeededCiphertext`]):
//!
//! - ciphertext: form tag (u8: 0 expanded, 1 seeded), scale (f64), slot count (u64), `c0`
//!   (see [`write_poly`]), then `c1` (expanded) or the 32-byte seed of `c1` (seeded);
//! - plaintext: scale (f64), slot count (u64), the polynomial.
//!
//! Decoding checks that the scale is finite and positive, that the slot count is a power of two
//! no larger than N/2, and that the polynomials are in NTT form over ciphertext primes only,
//! both parts at the same level.

use super::invalid;
use crate::ciphertext::{Ciphertext, SeededCiphertext};
use crate::context::CkksContext;
use crate::encoding::Plaintext;
use crate::keys::randomness::domain;
use crate::ring::{Form, RnsPoly};
use crate::sampling::SEED_BYTES;
use crate::serialize::{Codec, ObjectKind, PayloadError, Reader, Writer, read_poly, write_poly};

const EXPANDED: u8 = 0;
const SEEDED: u8 = 1;

impl Codec for Ciphertext {
    const KIND: ObjectKind = ObjectKind::Ciphertext;
    const VERSION: u32 = 2;
    type Context = CkksContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.u8(EXPANDED)?;
        write_message_fields(w, self.scale, self.slots)?;
        write_poly(w, &self.c0)?;
        write_poly(w, &self.c1)
    }

    fn decode(
        r: &mut Reader<'_>,
        version: u32,
        context: &CkksContext,
    ) -> Result<Self, PayloadError> {
        match r.u8()? {
            EXPANDED => {
                let (scale, slots) = read_message_fields(r, context)?;
                let c0 = read_message_poly(r, context, "ciphertext c0")?;
                let c1 = read_message_poly(r, context, "ciphertext c1")?;
                if !c1.same_shape(&c0) {
                    let reason = format!("c1 has shape {}, c0 {}", c1.shape(), c0.shape());
                    return Err(invalid("ciphertext", reason));
                }
                Ok(Ciphertext {
                    c0,
                    c1,
                    scale,
                    slots,
                })
            }
            SEEDED => {
                let seeded = decode_seeded(r, context)?;
                Ok(match version {
                    1 => seeded.expand_in(context, domain::SEEDED_CIPHERTEXT_V1),
                    _ => seeded.expand(context),
                })
            }
            tag => Err(invalid("ciphertext form", format!("unknown tag {tag}"))),
        }
    }
}

impl Codec for SeededCiphertext {
    const KIND: ObjectKind = ObjectKind::Ciphertext;
    const VERSION: u32 = 2;
    type Context = CkksContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.u8(SEEDED)?;
        write_message_fields(w, self.scale, self.slots)?;
        write_poly(w, &self.c0)?;
        w.fixed_bytes(&self.seed)
    }

    fn decode(
        r: &mut Reader<'_>,
        version: u32,
        context: &CkksContext,
    ) -> Result<Self, PayloadError> {
        match r.u8()? {
            SEEDED if version == 1 => Err(invalid(
                "ciphertext form",
                "a version-1 seeded ciphertext expands its c1 in a retired stream domain; \
                 read it as a Ciphertext"
                    .to_string(),
            )),
            SEEDED => decode_seeded(r, context),
            EXPANDED => Err(invalid(
                "ciphertext form",
                "the file holds an expanded ciphertext; read it as a Ciphertext".to_string(),
            )),
            tag => Err(invalid("ciphertext form", format!("unknown tag {tag}"))),
        }
    }
}

impl Codec for Plaintext {
    const KIND: ObjectKind = ObjectKind::Plaintext;
    const VERSION: u32 = 1;
    type Context = CkksContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        write_message_fields(w, self.scale, self.slots)?;
        write_poly(w, &self.poly)
    }

    fn decode(r: &mut Reader<'_>, _: u32, context: &CkksContext) -> Result<Self, PayloadError> {
        let (scale, slots) = read_message_fields(r, context)?;
        let poly = read_message_poly(r, context, "plaintext")?;
        Ok(Plaintext { poly, scale, slots })
    }
}

/// The rest of a seeded ciphertext, after its tag.
fn decode_seeded(
    r: &mut Reader<'_>,
    context: &CkksContext,
) -> Result<SeededCiphertext, PayloadError> {
    let (scale, slots) = read_message_fields(r, context)?;
    let c0 = read_message_poly(r, context, "ciphertext c0")?;
    let seed = r.array::<SEED_BYTES>()?;
    Ok(SeededCiphertext {
        c0,
        seed,
        scale,
        slots,
    })
}

fn write_message_fields(w: &mut Writer<'_>, scale: f64, slots: usize) -> Result<(), PayloadError> {
    w.f64(scale)?;
    w.u64(slots as u64)
}

/// Scale and slot count, checked.
fn read_message_fields(
    r: &mut Reader<'_>,
    context: &CkksContext,
) -> Result<(f64, usize), PayloadError> {
    let scale = r.f64()?;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(invalid(
            "scale",
            format!("{scale} is not a positive finite number"),
        ));
    }
    let slots = r.u64()?;
    let max_slots = context.params().max_slots() as u64;
    if !slots.is_power_of_two() || slots > max_slots {
        let reason = format!("{slots} is not a power of two up to N/2 = {max_slots}");
        return Err(invalid("slot count", reason));
    }
    Ok((scale, slots as usize))
}

/// A polynomial of a ciphertext or plaintext: NTT form, ciphertext primes only.
fn read_message_poly(
    r: &mut Reader<'_>,
    context: &CkksContext,
    what: &'static str,
) -> Result<RnsPoly, PayloadError> {
    let poly = read_poly(r, context.ring())?;
    if poly.has_special() || poly.form() != Form::Ntt {
        let reason = format!(
            "shape {}, expected NTT form without special primes",
            poly.shape()
        );
        return Err(invalid(what, reason));
    }
    Ok(poly)
}
