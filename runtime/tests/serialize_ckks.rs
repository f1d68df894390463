//! CKKS objects in files: keys written by a client serve a server that has only the files, and
//! what it computes decrypts back; seed-compressed ciphertexts; every object's file is pinned
//! (STYLE #33); and objects that do not fit the parameters are refused.

mod ckks_support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ckks_support::{TestContext, check_precision};
use fhec_params::{CkksParams, Level, ParamHash, SecurityPolicy, presets};
use fhec_runtime::ciphertext::{Ciphertext, SeededCiphertext};
use fhec_runtime::context::CkksContext;
use fhec_runtime::encoding::{C64, Encoder, Plaintext};
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::eval::Evaluator;
use fhec_runtime::keys::{
    GaloisKeys, KeyGenerator, KeySwitchKey, PublicKey, RelinearizationKey, SecretKey,
};
use fhec_runtime::ring::{Form, RnsPoly};
use fhec_runtime::sampling::SecureRng;
use fhec_runtime::serialize::{
    Codec, HEADER_LEN, Header, Problem, from_bytes, read_ckks_file, read_file,
    read_params_file_with, to_bytes, write_ckks_file, write_file,
};

fn test_context() -> TestContext {
    TestContext::new("TEST_N10_QP365_INSECURE", presets::test_insecure(10))
}

#[test]
fn keys_from_files_serve_a_server_and_its_result_decrypts() {
    let t = test_context();
    let dir = tempfile::tempdir().unwrap();
    let (keys, public) = (dir.path().join("keys"), dir.path().join("keys/public"));
    fs::create_dir_all(&public).unwrap();
    let hash = t.context.params().hash();

    // The client writes the parameters and every key.
    let galois = KeyGenerator::with_rng(&t.context, SecureRng::insecure_from_fixed_seed([5; 32]))
        .galois_keys(&t.secret, &[1, -3], true, t.top())
        .unwrap();
    write_file(&public.join("params"), &hash, t.context.params()).unwrap();
    write_file(&keys.join("secret.key"), &hash, &t.secret).unwrap();
    write_file(&public.join("public.key"), &hash, &t.public).unwrap();
    write_file(&public.join("relin.key"), &hash, &t.relinearization).unwrap();
    write_file(&public.join("galois.key"), &hash, &galois).unwrap();
    let mode = fs::metadata(keys.join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The server knows only the public directory.
    // The test parameters are insecure: the server (this test) opts in to them.
    let params = read_params_file_with(&public.join("params"), SecurityPolicy::AllowInsecure);
    let context = CkksContext::new(params.unwrap()).unwrap();
    let public_key: PublicKey = read_ckks_file(&public.join("public.key"), &context).unwrap();
    let relin: RelinearizationKey = read_ckks_file(&public.join("relin.key"), &context).unwrap();
    let galois_back: GaloisKeys = read_ckks_file(&public.join("galois.key"), &context).unwrap();
    assert_eq!(
        (&public_key, &relin, &galois_back),
        (&t.public, &t.relinearization, &galois)
    );

    let slots = context.params().max_slots();
    let values = t.random_values(slots);
    let plaintext = Encoder::new(&context)
        .encode(&values, slots, t.top(), t.scale())
        .unwrap();
    let encrypted = Encryptor::with_rng(&context, SecureRng::insecure_from_fixed_seed([6; 32]))
        .encrypt_pk(&public_key, &plaintext);
    write_file(&dir.path().join("in.ct"), &hash, &encrypted).unwrap();
    let input: Ciphertext = read_file(&dir.path().join("in.ct"), &hash, &context).unwrap();
    assert_eq!(input, encrypted);

    let eval = Evaluator::new(&context)
        .with_relinearization_key(&relin)
        .with_galois_keys(&galois_back);
    let mut square = eval.mul_new(&input, &input).unwrap();
    eval.rescale_assign(&mut square).unwrap();
    let output = eval.rotate_new(&square, 1).unwrap();
    write_ckks_file(&dir.path().join("out.ct"), &context, &output).unwrap();

    // The client decrypts with the secret key from its file.
    let secret: SecretKey = read_file(&keys.join("secret.key"), &hash, &context).unwrap();
    assert_eq!(secret.coefficients(), t.secret.coefficients());
    let result: Ciphertext = read_file(&dir.path().join("out.ct"), &hash, &context).unwrap();
    let got = Encoder::new(&context).decode(&decrypt(&context, &secret, &result));
    let expected: Vec<C64> = (0..slots)
        .map(|i| {
            let v = values[(i + 1) % slots];
            v * v
        })
        .collect();
    check_precision("square, rotate 1, from files", &expected, &got, 20.0);
}

#[test]
fn seeded_ciphertexts_are_half_the_size_and_read_as_ciphertexts() {
    let t = test_context();
    let dir = tempfile::tempdir().unwrap();
    let hash = t.context.params().hash();
    let values = t.random_values(8);
    let plaintext = t.encoder().encode(&values, 8, t.top(), t.scale()).unwrap();
    let seeded = Encryptor::with_rng(&t.context, SecureRng::insecure_from_fixed_seed([3; 32]))
        .encrypt_sk(&t.secret, &plaintext);
    let (seeded_path, full_path) = (dir.path().join("seeded.ct"), dir.path().join("full.ct"));
    write_file(&seeded_path, &hash, &seeded).unwrap();
    write_file(&full_path, &hash, &seeded.expand(&t.context)).unwrap();
    let (seeded_len, full_len) = (
        fs::metadata(&seeded_path).unwrap().len(),
        fs::metadata(&full_path).unwrap().len(),
    );
    let header = HEADER_LEN as u64;
    assert!(
        (seeded_len - header) * 2 < full_len - header + 200,
        "{seeded_len} vs {full_len}"
    );

    let expanded: Ciphertext = read_file(&seeded_path, &hash, &t.context).unwrap();
    assert_eq!(expanded, seeded.expand(&t.context));
    let again: SeededCiphertext = read_file(&seeded_path, &hash, &t.context).unwrap();
    assert_eq!(again, seeded);
    let error = read_file::<SeededCiphertext>(&full_path, &hash, &t.context).unwrap_err();
    assert!(
        error.to_string().contains("read it as a Ciphertext"),
        "{error}"
    );

    let plain_path = dir.path().join("x.pt");
    write_file(&plain_path, &hash, &plaintext).unwrap();
    assert_eq!(
        read_file::<Plaintext>(&plain_path, &hash, &t.context).unwrap(),
        plaintext
    );
}

#[test]
fn keys_of_other_parameters_are_refused() {
    let t = test_context();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("public.key");
    write_file(&path, &t.context.params().hash(), &t.public).unwrap();
    let other = CkksContext::new(CkksParams::new(presets::test_insecure(11)).unwrap()).unwrap();
    let error = read_file::<PublicKey>(&path, &other.params().hash(), &other).unwrap_err();
    assert!(
        matches!(error.problem(), Problem::ParamsMismatch { .. }),
        "{error}"
    );
}

/// Objects built from fixed parts (no sampling), so their files depend only on the format, the
/// primes and the NTT order: one of each kind.
struct Fixed {
    context: CkksContext,
}

impl Fixed {
    fn new() -> Self {
        let params = CkksParams::new(presets::test_insecure(10)).unwrap();
        Fixed {
            context: CkksContext::new(params).unwrap(),
        }
    }

    /// An NTT-form polynomial whose residues follow a fixed pattern.
    fn poly(&self, level: Level, special: bool, salt: u64) -> RnsPoly {
        let ring = self.context.ring();
        let mut poly = ring.zero(level, special, Form::Ntt);
        for limb in 0..poly.limb_count() {
            let prime = ring.limb_prime(poly.q_limbs(), limb).0.value();
            for (i, x) in poly.limb_mut(limb).iter_mut().enumerate() {
                *x = (i as u64 * 0x9e37_79b9 + salt * 7919 + limb as u64) % prime;
            }
        }
        poly
    }

    fn switching_key(&self, level: Level, salt: u64) -> KeySwitchKey {
        let digits = self.context.params().digits_at(level);
        let b = (0..digits)
            .map(|j| self.poly(level, true, salt + j as u64))
            .collect();
        KeySwitchKey::from_compressed(&self.context, level, [salt as u8; 32], b).unwrap()
    }

    fn digest<T: Codec>(&self, value: &T) -> String {
        let bytes = to_bytes(value, &self.context.params().hash()).unwrap();
        blake3::hash(&bytes).to_hex().to_string()
    }
}

/// BLAKE3 of each object's complete file; see `Fixed` for what they depend on.
const GOLDEN: &[(&str, &str)] = &[
    (
        "secret key",
        "14faf40a3e3e296d405a187199620b0027a6fa86a12202468cb7a4940c1ac052",
    ),
    (
        "public key",
        "d0d5d364c8fcdde3d2fad3c6596ebb1d68a2ed984cc7f3ff8a8ddde7f114bedb",
    ),
    (
        "relinearisation key",
        "0d8cc2007703b73a990f40157b6586e2d7d91d93146c3ae9ab380ac164bb2c88",
    ),
    (
        "Galois keys",
        "d09b2ebd008a134a13c0840122204dbfc16531a10f9c1f1673d17f9935b40032",
    ),
    (
        "ciphertext",
        "121e8322ef04edd11d7b6e249c935ceb309102b1d3aadfeb8ce9eae4359445d4",
    ),
    (
        "seeded ciphertext",
        "95d2bf32b3a884973564d9a0d92393039bf86e8dbe2be691da77369c02c64436",
    ),
    (
        "plaintext",
        "5df772fd40faaae61f06a6e7116bf803ccac79982d68822b85eb5614fb472f17",
    ),
];

#[test]
fn the_file_of_every_object_kind_is_pinned() {
    let f = Fixed::new();
    let top = f.context.max_level();
    let n = f.context.ring().degree();
    let secret = SecretKey::from_coefficients(
        &f.context,
        (0..n).map(|i| [1, 0, -1, 0, 0][i % 5]).collect(),
    )
    .unwrap();
    let public = PublicKey::from_compressed(&f.context, [1; 32], f.poly(top, true, 1)).unwrap();
    let relin = RelinearizationKey(f.switching_key(top, 2));
    let mut galois = GaloisKeys::default();
    galois.insert(5, f.switching_key(top, 3));
    galois.insert(2 * n as u64 - 1, f.switching_key(Level(1), 4));
    let (c0, c1) = (f.poly(Level(2), false, 5), f.poly(Level(2), false, 6));
    let ciphertext = Ciphertext {
        c0: c0.clone(),
        c1,
        scale: 2f64.powi(40),
        slots: 8,
    };
    let seeded = SeededCiphertext {
        c0: c0.clone(),
        seed: [7; 32],
        scale: 2f64.powi(40),
        slots: 8,
    };
    let plaintext = Plaintext {
        poly: c0,
        scale: 2f64.powi(30),
        slots: n / 2,
    };
    let digests = vec![
        ("secret key", f.digest(&secret)),
        ("public key", f.digest(&public)),
        ("relinearisation key", f.digest(&relin)),
        ("Galois keys", f.digest(&galois)),
        ("ciphertext", f.digest(&ciphertext)),
        ("seeded ciphertext", f.digest(&seeded)),
        ("plaintext", f.digest(&plaintext)),
    ];
    let pinned: Vec<(&str, String)> = GOLDEN
        .iter()
        .map(|&(name, digest)| (name, digest.to_string()))
        .collect();
    assert_eq!(digests, pinned, "a CKKS object's file format changed");
}

/// Re-checksums a file whose payload was edited, so only the decoder can refuse it.
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    let mut header = Header::parse(&bytes[..HEADER_LEN], bytes.len() as u64).unwrap();
    header.payload_checksum = *blake3::hash(&bytes[HEADER_LEN..]).as_bytes();
    bytes[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    bytes
}

/// Encodes `value`, edits its payload, and returns the reason decoding it as `T` gives.
fn refusal<T: Codec<Context = CkksContext>>(
    context: &CkksContext,
    value: &T,
    edit: impl FnOnce(&mut [u8]),
) -> String {
    let hash: ParamHash = context.params().hash();
    let mut bytes = to_bytes(value, &hash).unwrap().to_vec();
    edit(&mut bytes[HEADER_LEN..]);
    let error = from_bytes::<T>(&resealed(bytes), Path::new("edited"), &hash, context)
        .map(|_| ())
        .expect_err("an edited object was accepted");
    match error.problem() {
        Problem::Malformed { source, .. } => source.to_string(),
        other => panic!("expected a malformed payload, got {other}"),
    }
}

#[test]
fn objects_that_do_not_fit_the_parameters_are_refused() {
    let f = Fixed::new();
    let context = &f.context;
    let n = context.ring().degree();
    let secret = SecretKey::from_coefficients(context, vec![0; n]).unwrap();
    let reason = refusal(context, &secret, |payload| payload[17] = 2);
    assert_eq!(reason, "secret key: coefficient 17 is not -1, 0 or 1");

    let mut galois = GaloisKeys::default();
    galois.insert(5, f.switching_key(Level(0), 1));
    // The element (right after the count) made even.
    let reason = refusal(context, &galois, |payload| payload[8] = 4);
    assert!(
        reason.contains("Galois element: 4 is not an odd number below 2N"),
        "{reason}"
    );
    // The key's digit count (after count, element, level and seed) made wrong.
    let reason = refusal(context, &galois, |payload| payload[8 + 8 + 4 + 32] = 9);
    assert!(reason.contains("9 digits"), "{reason}");

    let ciphertext = Ciphertext {
        c0: f.poly(Level(1), false, 1),
        c1: f.poly(Level(1), false, 2),
        scale: 2f64.powi(40),
        slots: 8,
    };
    // Slot count (after the tag and the scale) made 7.
    let reason = refusal(context, &ciphertext, |payload| payload[9] = 7);
    assert!(
        reason.contains("slot count: 7 is not a power of two"),
        "{reason}"
    );
    // Scale made negative (its sign bit is the top bit of the last byte).
    let reason = refusal(context, &ciphertext, |payload| payload[8] |= 0x80);
    assert!(reason.contains("scale: -"), "{reason}");
    // c0's form tag (after tag, scale, slots and c0's level and basis) made coefficient form.
    let reason = refusal(context, &ciphertext, |payload| {
        payload[1 + 8 + 8 + 4 + 1] = 0
    });
    assert!(reason.contains("ciphertext c0: shape"), "{reason}");
}

/// Encodes `value`, applies `edits` (position, xor) and a cut to its payload, reseals it and
/// decodes it: whatever the edit, decoding returns (an object or an error), never panics.
fn survives<T: Codec<Context = CkksContext>>(
    f: &Fixed,
    value: &T,
    edits: &[(usize, u8)],
    cut: usize,
) {
    let hash = f.context.params().hash();
    let mut bytes = to_bytes(value, &hash).unwrap().to_vec();
    let payload_len = bytes.len() - HEADER_LEN;
    for &(at, xor) in edits {
        bytes[HEADER_LEN + at % payload_len] ^= xor;
    }
    bytes.truncate(bytes.len() - cut % payload_len);
    let _ = from_bytes::<T>(&resealed(bytes), Path::new("mutated"), &hash, &f.context);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn edited_payloads_never_panic_a_decoder(
        // Half the edits land in the first fields, where the structure is.
        edits in proptest::collection::vec(
            (proptest::prop_oneof![0usize..80, 0usize..1 << 20], 1u8..=255),
            1..4,
        ),
        cut in 0usize..1 << 20,
        truncate: bool,
    ) {
        let f = Fixed::new();
        let top = f.context.max_level();
        let cut = if truncate { cut } else { 0 };
        let n = f.context.ring().degree();
        let secret = SecretKey::from_coefficients(&f.context, vec![1; n]).unwrap();
        survives(&f, &secret, &edits, cut);
        let public = PublicKey::from_compressed(&f.context, [1; 32], f.poly(top, true, 1)).unwrap();
        survives(&f, &public, &edits, cut);
        let mut galois = GaloisKeys::default();
        galois.insert(5, f.switching_key(Level(1), 3));
        galois.insert(7, f.switching_key(Level(0), 4));
        survives(&f, &galois, &edits, cut);
        let ciphertext = Ciphertext {
            c0: f.poly(Level(1), false, 5),
            c1: f.poly(Level(1), false, 6),
            scale: 2f64.powi(40),
            slots: 8,
        };
        survives(&f, &ciphertext, &edits, cut);
        let seeded = SeededCiphertext { c0: f.poly(Level(0), false, 5), seed: [7; 32], scale: 1.0, slots: 1 };
        survives(&f, &seeded, &edits, cut);
    }
}

/// Version-1 seeded ciphertexts expanded `c1` in the stream domain of key digit 0; they still
/// read as a `Ciphertext` (expanded the old way, so not like a version-2 file of the same
/// bytes) and are refused as a `SeededCiphertext`.
#[test]
fn version_1_seeded_ciphertexts_expand_in_their_old_domain() {
    let t = test_context();
    let hash = t.context.params().hash();
    let plaintext = t
        .encoder()
        .encode(&t.random_values(4), 4, t.top(), t.scale())
        .unwrap();
    let seeded = Encryptor::with_rng(&t.context, SecureRng::insecure_from_fixed_seed([8; 32]))
        .encrypt_sk(&t.secret, &plaintext);
    let current = to_bytes(&seeded, &hash).unwrap();
    let header = Header::parse(&current[..HEADER_LEN], current.len() as u64).unwrap();
    let mut old = current.to_vec();
    old[..HEADER_LEN].copy_from_slice(
        &Header {
            payload_version: 1,
            ..header
        }
        .to_bytes(),
    );
    let name = Path::new("old.ct");
    let expanded: Ciphertext = from_bytes(&old, name, &hash, &t.context).unwrap();
    assert_eq!(expanded.c0, seeded.c0);
    assert_ne!(expanded.c1, seeded.expand(&t.context).c1);
    let error = from_bytes::<SeededCiphertext>(&old, name, &hash, &t.context).unwrap_err();
    assert!(
        error.to_string().contains("retired stream domain"),
        "{error}"
    );
    let again: SeededCiphertext = from_bytes(&current, name, &hash, &t.context).unwrap();
    assert_eq!(again, seeded);
}
