//! Ring polynomials inside payloads: the building block of every ciphertext, plaintext and key
//! payload. [`write_poly`] stores a polynomial as it is in memory (level, basis, form, limbs);
//! [`read_poly`] rebuilds it for a [`RingContext`] and refuses anything that does not fit the
//! parameters: a level above the chain, an unknown basis or form tag, a residue not below its
//! prime.
//!
//! Layout: level (u32), special-basis flag (u8: 0 = `q_0..q_level`, 1 = also `p_0..p_{k-1}`),
//! form (u8: 0 = coefficients, 1 = NTT evaluations in the ring's order), then the limbs, N
//! little-endian u64 words each, limb-major, without a length (it follows from the three fields
//! and N). NTT-form limbs are stored in the ring's evaluation order, so that order is part of
//! the format; `tests/serialize_poly.rs` pins it.

use fhec_params::Level;
use zeroize::Zeroize;

use super::error::PayloadError;
use super::reader::Reader;
use super::writer::Writer;
use crate::ring::{Form, RingContext, RnsPoly};

/// Writes `poly` (see the module documentation for the layout).
pub fn write_poly(w: &mut Writer<'_>, poly: &RnsPoly) -> Result<(), PayloadError> {
    let level = u32::try_from(poly.level().0).map_err(|_| PayloadError::Invalid {
        what: "polynomial level",
        reason: format!("{} does not fit in 32 bits", poly.level()),
    })?;
    w.u32(level)?;
    w.u8(u8::from(poly.has_special()))?;
    w.u8(match poly.form() {
        Form::Coefficient => 0,
        Form::Ntt => 1,
    })?;
    w.u64s(poly.data())
}

/// Reads a polynomial written by [`write_poly`] for the ring `ring`, checking its level, tags
/// and residues. Nothing is allocated before the payload is known to hold the whole polynomial.
pub fn read_poly(r: &mut Reader<'_>, ring: &RingContext) -> Result<RnsPoly, PayloadError> {
    let level = r.u32()?;
    let max_level = ring.max_level();
    if level as usize > max_level.0 {
        return Err(invalid(
            "polynomial level",
            format!("{level} exceeds the parameters' {}", max_level.0),
        ));
    }
    let level = Level(level as usize);
    let with_special = match r.u8()? {
        0 => false,
        1 => true,
        tag => return Err(invalid("polynomial basis", format!("unknown tag {tag}"))),
    };
    let form = match r.u8()? {
        0 => Form::Coefficient,
        1 => Form::Ntt,
        tag => return Err(invalid("polynomial form", format!("unknown tag {tag}"))),
    };
    let limbs = level.limbs()
        + if with_special {
            ring.p_basis().len()
        } else {
            0
        };
    let needed = (limbs * ring.degree() * 8) as u64;
    if needed > r.remaining() {
        let remaining = r.remaining();
        return Err(PayloadError::Truncated {
            what: "polynomial limbs",
            needed,
            remaining,
        });
    }
    let mut poly = ring.zero(level, with_special, form);
    match fill_checked(r, ring, &mut poly) {
        Ok(()) => Ok(poly),
        Err(error) => {
            // A secret key's polynomial must not linger in freed memory.
            poly.data_mut().zeroize();
            Err(error)
        }
    }
}

/// Reads `poly`'s limbs and checks every residue is below its prime.
fn fill_checked(
    r: &mut Reader<'_>,
    ring: &RingContext,
    poly: &mut RnsPoly,
) -> Result<(), PayloadError> {
    r.u64s_into(poly.data_mut())?;
    for limb in 0..poly.limb_count() {
        let prime = ring.limb_prime(poly.q_limbs(), limb).0.value();
        // The position only, never the value: the polynomial may be secret.
        if let Some(at) = poly.limb(limb).iter().position(|&residue| residue >= prime) {
            let reason = format!("limb {limb}, position {at}: not below its prime {prime}");
            return Err(invalid("polynomial residue", reason));
        }
    }
    Ok(())
}

fn invalid(what: &'static str, reason: String) -> PayloadError {
    PayloadError::Invalid { what, reason }
}
