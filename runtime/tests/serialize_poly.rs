//! Ring polynomials in payloads: they round-trip in every shape, the NTT evaluation order the
//! files depend on is pinned, and polynomials that do not fit the parameters are refused.

use std::path::Path;

use fhec_params::{CkksParams, Level, ParamHash, presets};
use fhec_runtime::ring::{Form, RingContext, RnsPoly};
use fhec_runtime::serialize::{
    Codec, HEADER_LEN, ObjectKind, PayloadError, Problem, Reader, Writer, from_bytes, read_poly,
    to_bytes, write_poly,
};

/// Polynomials under a ciphertext header, decoded for a ring.
#[derive(Debug, PartialEq)]
struct Polys(Vec<RnsPoly>);

impl Codec for Polys {
    const KIND: ObjectKind = ObjectKind::Ciphertext;
    const VERSION: u32 = 1;
    type Context = RingContext;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.u64(self.0.len() as u64)?;
        self.0.iter().try_for_each(|poly| write_poly(w, poly))
    }

    fn decode(r: &mut Reader<'_>, _: u32, ring: &RingContext) -> Result<Self, PayloadError> {
        let count = r.u64()?;
        if count > 8 {
            let reason = format!("{count} polynomials");
            return Err(PayloadError::Invalid {
                what: "count",
                reason,
            });
        }
        (0..count)
            .map(|_| read_poly(r, ring))
            .collect::<Result<_, _>>()
            .map(Polys)
    }
}

fn setup() -> (ParamHash, RingContext) {
    let params = CkksParams::new(presets::test_insecure(10)).unwrap();
    (params.hash(), RingContext::new(&params).unwrap())
}

/// Small signed coefficients from a fixed xorshift stream.
fn signed_coefficients(ring: &RingContext, seed: u64) -> Vec<i64> {
    let mut state = seed;
    (0..ring.degree())
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2001) as i64 - 1000
        })
        .collect()
}

fn round_trip(polys: Polys, hash: &ParamHash, ring: &RingContext) -> Polys {
    let bytes = to_bytes(&polys, hash).unwrap();
    from_bytes(&bytes, Path::new("polys.ct"), hash, ring).unwrap()
}

#[test]
fn polynomials_of_every_shape_round_trip() {
    let (hash, ring) = setup();
    let top = ring.max_level();
    let low = ring.from_signed(&signed_coefficients(&ring, 1), Level(0), false);
    let mut high = ring.from_signed(&signed_coefficients(&ring, 2), top, false);
    ring.to_ntt(&mut high);
    let mut extended = ring.from_signed(&signed_coefficients(&ring, 3), top, true);
    ring.to_ntt(&mut extended);
    let polys = Polys(vec![low, high, extended]);
    let expected = polys.0.clone();
    assert_eq!(round_trip(polys, &hash, &ring).0, expected);
}

/// BLAKE3 of the payload of one fixed polynomial in NTT form at the top level of
/// TEST_N10_QP365_INSECURE, with the special limbs. It changes if the NTT's evaluation order
/// (or the primes) change, which would make stored NTT-form files unreadable.
const NTT_PAYLOAD_DIGEST: &str = "12591de0af5898b589bdf1d04dca30452e4d6e16c8781d2357b871632fcfb070";

#[test]
fn the_stored_ntt_order_is_pinned() {
    let (hash, ring) = setup();
    let mut poly = ring.from_signed(&signed_coefficients(&ring, 4), ring.max_level(), true);
    ring.to_ntt(&mut poly);
    let bytes = to_bytes(&Polys(vec![poly]), &hash).unwrap();
    let digest = blake3::hash(&bytes[HEADER_LEN..]).to_hex().to_string();
    assert_eq!(
        digest, NTT_PAYLOAD_DIGEST,
        "the NTT order or the primes changed"
    );
}

/// Reads a single forged polynomial payload (count 1, then `poly_bytes`) as `Polys`.
fn refusal(poly_bytes: Vec<u8>) -> String {
    let (hash, ring) = setup();
    let mut payload = 1u64.to_le_bytes().to_vec();
    payload.extend(poly_bytes);
    let forged = to_bytes(&Raw(payload), &hash).unwrap();
    let error = from_bytes::<Polys>(&forged, Path::new("forged.ct"), &hash, &ring)
        .expect_err("a forged polynomial was accepted");
    match error.problem() {
        Problem::Malformed { source, .. } => source.to_string(),
        other => panic!("expected a malformed payload, got {other}"),
    }
}

/// Raw payload bytes under a ciphertext header.
struct Raw(Vec<u8>);

impl Codec for Raw {
    const KIND: ObjectKind = ObjectKind::Ciphertext;
    const VERSION: u32 = 1;
    type Context = ();

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.fixed_bytes(&self.0)
    }

    fn decode(r: &mut Reader<'_>, _: u32, _: &()) -> Result<Self, PayloadError> {
        let len = r.remaining();
        Ok(Raw(r.bytes(len)?))
    }
}

/// The fields before a polynomial's limbs.
fn poly_start(level: u32, special: u8, form: u8) -> Vec<u8> {
    let mut bytes = level.to_le_bytes().to_vec();
    bytes.extend([special, form]);
    bytes
}

#[test]
fn polynomials_that_do_not_fit_the_parameters_are_refused() {
    let (_, ring) = setup();
    let top = ring.max_level().0 as u32;
    let reason = refusal(poly_start(top + 1, 0, 0));
    assert!(reason.contains(&format!(
        "polynomial level: {} exceeds the parameters' {top}",
        top + 1
    )));
    let reason = refusal(poly_start(0, 2, 0));
    assert!(
        reason.contains("polynomial basis: unknown tag 2"),
        "{reason}"
    );
    let reason = refusal(poly_start(0, 0, 9));
    assert!(
        reason.contains("polynomial form: unknown tag 9"),
        "{reason}"
    );
    // The limbs of a top-level polynomial are announced but not there: refused before allocating.
    let reason = refusal(poly_start(top, 1, 1));
    assert!(reason.contains("polynomial limbs needs"), "{reason}");

    // A residue equal to its prime, in the last limb.
    let mut poly = ring.zero(Level(1), false, Form::Ntt);
    let prime = ring.q_basis().primes()[1];
    let degree = ring.degree();
    poly.limb_mut(1)[degree - 1] = prime;
    let (hash, _) = setup();
    let bytes = to_bytes(&Polys(vec![poly]), &hash).unwrap();
    let error = from_bytes::<Polys>(&bytes, Path::new("p.ct"), &hash, &ring).unwrap_err();
    let expected = format!(
        "limb 1, position {}: not below its prime {prime}",
        degree - 1
    );
    assert!(error.to_string().contains(&expected), "{error}");
}
