//! Serialized files: payloads round-trip through files and memory, and every kind of damage or
//! mismatch is refused with its own error naming the file.

use std::fs;
use std::path::{Path, PathBuf};

use fhec_runtime::serialize::{
    Codec, FileError, HEADER_LEN, Header, ObjectKind, ParamHash, PayloadError, Problem, Reader,
    Writer, from_bytes, read_file, read_file_any_params, read_header, to_bytes, write_file,
};
use proptest::prelude::*;

/// Asserts that `error`'s problem matches the pattern; the message names the file (and with
/// it the case: files are named after what was done to them).
macro_rules! assert_problem {
    ($error:expr, $pattern:pat $(if $guard:expr)?) => {{
        let error = &$error;
        assert!(matches!(error.problem(), $pattern $(if $guard)?), "{error}");
    }};
}

/// A stand-in for a ciphertext using every payload primitive.
#[derive(Clone, Debug, PartialEq)]
struct Sample {
    level: u32,
    scale: f64,
    seed: [u8; 32],
    label: Vec<u8>,
    limbs: Vec<Vec<u64>>,
}

const MAX_LIMBS: u64 = 64;

impl Codec for Sample {
    const KIND: ObjectKind = ObjectKind::Ciphertext;
    const VERSION: u32 = 1;
    type Context = ();

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.u32(self.level)?;
        w.f64(self.scale)?;
        w.fixed_bytes(&self.seed)?;
        w.bytes(&self.label)?;
        w.u64(self.limbs.len() as u64)?;
        for limb in &self.limbs {
            w.u64_slice(limb)?;
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'_>, _version: u32, _: &()) -> Result<Self, PayloadError> {
        let level = r.u32()?;
        let scale = r.f64()?;
        let seed = r.array()?;
        let label = r.bytes(1024)?;
        let count = r.u64()?;
        if count > MAX_LIMBS {
            let reason = format!("{count} limbs, at most {MAX_LIMBS}");
            return Err(PayloadError::Invalid {
                what: "limb count",
                reason,
            });
        }
        let limbs = (0..count)
            .map(|_| r.u64_vec(1 << 17))
            .collect::<Result<_, _>>()?;
        Ok(Sample {
            level,
            scale,
            seed,
            label,
            limbs,
        })
    }
}

/// Raw payload bytes under a ciphertext header, to forge payloads with a valid checksum.
struct RawPayload(Vec<u8>);

impl Codec for RawPayload {
    const KIND: ObjectKind = ObjectKind::Ciphertext;
    const VERSION: u32 = 1;
    type Context = ();

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.fixed_bytes(&self.0)
    }

    fn decode(r: &mut Reader<'_>, _version: u32, _: &()) -> Result<Self, PayloadError> {
        let len = r.remaining();
        Ok(RawPayload(r.bytes(len)?))
    }
}

fn params() -> ParamHash {
    ParamHash([0x5a; 32])
}

/// A sample whose limbs (3 × 2^14 values after a 3-byte label) cross the 128 KiB I/O buffer
/// at an odd offset, so values straddle buffer boundaries on both sides.
fn large_sample() -> Sample {
    let limb = |seed: u64| {
        (0..1u64 << 14)
            .map(|i| i.wrapping_mul(seed) ^ (seed << 40))
            .collect()
    };
    Sample {
        level: 7,
        scale: 2f64.powi(40) * 1.000_000_1,
        seed: [0xc3; 32],
        label: b"abc".to_vec(),
        limbs: vec![limb(0x9e37_79b9), limb(3), limb(u64::MAX)],
    }
}

fn small_sample() -> Sample {
    Sample {
        level: 1,
        scale: -0.0,
        seed: std::array::from_fn(|i| i as u8),
        label: Vec::new(),
        limbs: vec![vec![], vec![1, 2, 3]],
    }
}

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `bytes` as `name` and returns its path.
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    /// A valid file of `large_sample()`, as bytes.
    fn good_bytes(&self) -> Vec<u8> {
        let path = self.dir.path().join("good.ct");
        write_file(&path, &params(), &large_sample()).unwrap();
        fs::read(path).unwrap()
    }
}

/// Reads `path` as a `Sample`, expecting failure; checks the message names the file.
fn refusal(path: &Path) -> FileError {
    let error = read_file::<Sample>(path, &params(), &()).expect_err("damaged file was accepted");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{}: ", path.display())),
        "{message}"
    );
    assert_eq!(error.path(), path);
    error
}

/// The bytes of `header` (re-checksummed) followed by `payload`.
fn forged(header: &Header, payload: &[u8]) -> Vec<u8> {
    let mut bytes = header.to_bytes().to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

#[test]
fn payloads_round_trip_through_files_and_memory() {
    let scratch = Scratch::new();
    for (name, sample) in [("small", small_sample()), ("large", large_sample())] {
        let path = scratch.dir.path().join(name);
        write_file(&path, &params(), &sample).unwrap();
        assert_eq!(
            read_file::<Sample>(&path, &params(), &()).unwrap(),
            sample,
            "{name}"
        );
        let in_memory = to_bytes(&sample, &params()).unwrap();
        // Sized exactly up front: no reallocation left a stray copy behind.
        assert_eq!(in_memory.capacity(), in_memory.len(), "{name}");
        assert_eq!(
            *in_memory,
            fs::read(&path).unwrap(),
            "{name}: file and memory differ"
        );
        let back: Sample = from_bytes(&in_memory, Path::new(name), &params(), &()).unwrap();
        assert_eq!(back, sample);
    }
}

#[test]
fn header_and_any_params_reading_report_the_file_contents() {
    let scratch = Scratch::new();
    let path = scratch.file("x.ct", &scratch.good_bytes());
    let header = read_header(&path).unwrap();
    assert_eq!(header.kind, ObjectKind::Ciphertext);
    assert_eq!(header.payload_version, 1);
    assert_eq!(header.params, params());
    assert_eq!(
        header.payload_len,
        fs::metadata(&path).unwrap().len() - HEADER_LEN as u64
    );
    let (value, found) = read_file_any_params::<Sample>(&path, &()).unwrap();
    assert_eq!((value, found), (large_sample(), params()));
}

#[test]
fn truncation_anywhere_is_refused_as_truncation() {
    let scratch = Scratch::new();
    let good = scratch.good_bytes();
    let payload_len = (good.len() - HEADER_LEN) as u64;
    for cut in [0, 3, 8, 9, 50, 95, HEADER_LEN - 1] {
        let path = scratch.file(&format!("cut{cut}.ct"), &good[..cut]);
        let error = refusal(&path);
        assert_problem!(error, Problem::TruncatedHeader { file_len } if *file_len == cut as u64);
    }
    for cut in [
        HEADER_LEN,
        HEADER_LEN + 1,
        HEADER_LEN + 200_000,
        good.len() - 1,
    ] {
        let path = scratch.file(&format!("cut{cut}.ct"), &good[..cut]);
        let error = refusal(&path);
        let file_has = (cut - HEADER_LEN) as u64;
        assert_problem!(
            error,
            Problem::TruncatedPayload { header_says, file_has: has }
                if *header_says == payload_len && *has == file_has
        );
        let expected =
            format!("truncated: header says {payload_len} payload bytes, file has {file_has}");
        assert!(error.to_string().ends_with(&expected), "{error}");
    }
}

#[test]
fn flipped_bytes_are_refused_as_corruption() {
    let scratch = Scratch::new();
    let good = scratch.good_bytes();
    // Kind, payload version, parameter hash, length, payload checksum, key set, header
    // checksum.
    for at in [10, 13, 20, 50, 60, 90, 120, 140] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        let error = refusal(&scratch.file(&format!("h{at}.ct"), &bad));
        assert_problem!(error, Problem::CorruptHeader);
    }
    for at in [HEADER_LEN, HEADER_LEN + 47, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x80;
        let error = refusal(&scratch.file(&format!("p{at}.ct"), &bad));
        assert_problem!(error, Problem::CorruptPayload);
    }
}

#[test]
fn foreign_files_are_refused() {
    let scratch = Scratch::new();
    for (name, bytes) in [
        (
            "json",
            &b"{\"kind\": \"ciphertext\", \"data\": [1, 2, 3]}"[..],
        ),
        ("short", &b"FH"[..]),
        (
            "png",
            &b"\x89PNG\r\n\x1a\n and more bytes than a header holds ...."[..],
        ),
    ] {
        let error = refusal(&scratch.file(name, bytes));
        assert_problem!(error, Problem::NotFhec { .. });
        assert!(error.to_string().contains("not an fhec file"), "{error}");
    }
}

#[test]
fn unknown_versions_are_refused() {
    let scratch = Scratch::new();
    let good = scratch.good_bytes();
    for other in [1, 3] {
        let mut other_format = good.clone();
        other_format[8] = other;
        let error = refusal(&scratch.file("format.ct", &other_format));
        assert_problem!(error, Problem::UnknownFormatVersion { found } if *found == u16::from(other));
    }

    let mut header = Header::parse(&good[..HEADER_LEN], good.len() as u64).unwrap();
    for version in [0, 2, u32::MAX] {
        header.payload_version = version;
        let error = refusal(&scratch.file("payload.ct", &forged(&header, &good[HEADER_LEN..])));
        assert_problem!(
            error,
            Problem::UnsupportedPayloadVersion { found, newest: 1, .. } if *found == version
        );
    }
}

#[test]
fn other_parameters_and_other_kinds_are_refused() {
    let scratch = Scratch::new();
    let path = scratch.file("x.ct", &scratch.good_bytes());
    let other = ParamHash([0x11; 32]);
    let error = read_file::<Sample>(&path, &other, &()).unwrap_err();
    assert_problem!(
        error,
        Problem::ParamsMismatch { expected, found } if *expected == other && *found == params()
    );
    assert!(error.to_string().contains("5a5a5a5a5a5a5a5a"), "{error}");

    let good = scratch.good_bytes();
    let mut header = Header::parse(&good[..HEADER_LEN], good.len() as u64).unwrap();
    header.kind = ObjectKind::PublicKey;
    let error = refusal(&scratch.file("pk.key", &forged(&header, &good[HEADER_LEN..])));
    assert_problem!(
        error,
        Problem::WrongKind {
            expected: ObjectKind::Ciphertext,
            found: ObjectKind::PublicKey
        }
    );
    assert!(
        error
            .to_string()
            .contains("file holds a public key, expected a ciphertext")
    );

    let mut unknown = good.clone();
    unknown[10..12].copy_from_slice(&999u16.to_le_bytes());
    let checksum = *blake3::hash(&unknown[..HEADER_LEN - 8]).as_bytes();
    unknown[HEADER_LEN - 8..HEADER_LEN].copy_from_slice(&checksum[..8]);
    let error = refusal(&scratch.file("unknown.ct", &unknown));
    assert_problem!(error, Problem::UnknownKind { code: 999 });
}

#[test]
fn absurd_and_inconsistent_lengths_are_refused_before_allocating() {
    let scratch = Scratch::new();
    let good = scratch.good_bytes();
    let mut header = Header::parse(&good[..HEADER_LEN], good.len() as u64).unwrap();
    header.payload_len = u64::MAX;
    let error = refusal(&scratch.file("absurd.ct", &forged(&header, &good[HEADER_LEN..])));
    assert_problem!(error, Problem::PayloadTooLarge { len: u64::MAX, .. });

    header.payload_len = 1 << 30;
    let error = refusal(&scratch.file("long.ct", &forged(&header, &good[HEADER_LEN..])));
    assert!(
        error
            .to_string()
            .contains("header says 1073741824 payload bytes"),
        "{error}"
    );

    let mut longer = good.clone();
    longer.extend_from_slice(b"junk");
    let error = refusal(&scratch.file("trailing.ct", &longer));
    assert_problem!(error, Problem::TrailingBytes { extra: 4 });
}

#[test]
fn payloads_that_do_not_decode_are_malformed() {
    let scratch = Scratch::new();
    let write_raw = |name: &str, payload: Vec<u8>| {
        let path = scratch.dir.path().join(name);
        write_file(&path, &params(), &RawPayload(payload)).unwrap();
        path
    };
    let prefix = |label_len: u64| {
        let mut bytes = 3u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&1f64.to_bits().to_le_bytes());
        bytes.extend_from_slice(&[0; 32]);
        bytes.extend_from_slice(&label_len.to_le_bytes());
        bytes
    };
    let malformed = |path: &Path| match refusal(path).problem() {
        Problem::Malformed { source, .. } => source.to_string(),
        other => panic!("expected a malformed payload, got {other}"),
    };

    // A huge length prefix is refused without allocating it.
    let reason = malformed(&write_raw("label.ct", prefix(1 << 60)));
    assert!(
        reason.contains("byte string has length 1152921504606846976"),
        "{reason}"
    );

    // A limb length within its limit but beyond the payload's end.
    let mut bytes = prefix(0);
    bytes.extend_from_slice(&1u64.to_le_bytes());
    bytes.extend_from_slice(&(1u64 << 17).to_le_bytes());
    let reason = malformed(&write_raw("limb.ct", bytes));
    assert!(reason.contains("only 0 remain"), "{reason}");

    // A value the decoder rejects.
    let mut bytes = prefix(0);
    bytes.extend_from_slice(&65u64.to_le_bytes());
    let reason = malformed(&write_raw("count.ct", bytes));
    assert!(
        reason.contains("limb count: 65 limbs, at most 64"),
        "{reason}"
    );

    // Bytes left over after a complete object.
    let mut bytes = prefix(0);
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(&[7; 5]);
    let reason = malformed(&write_raw("extra.ct", bytes));
    assert!(reason.contains("5 bytes left over"), "{reason}");
}

#[test]
fn a_missing_file_is_named() {
    let scratch = Scratch::new();
    let path = scratch.dir.path().join("absent.ct");
    let error = refusal(&path);
    assert_problem!(
        error,
        Problem::Io {
            action: "cannot open",
            ..
        }
    );
}

fn arbitrary_sample() -> impl Strategy<Value = Sample> {
    (
        any::<u32>(),
        any::<f64>(),
        any::<[u8; 32]>(),
        prop::collection::vec(any::<u8>(), 0..40),
        prop::collection::vec(prop::collection::vec(any::<u64>(), 0..300), 0..5),
    )
        .prop_map(|(level, scale, seed, label, limbs)| Sample {
            level,
            scale,
            seed,
            label,
            limbs,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_payloads_round_trip_in_memory(sample in arbitrary_sample()) {
        let bytes = to_bytes(&sample, &params()).unwrap();
        let back: Sample = from_bytes(&bytes, Path::new("memory"), &params(), &()).unwrap();
        // Compare the scale bit for bit (NaN != NaN).
        prop_assert_eq!(back.scale.to_bits(), sample.scale.to_bits());
        prop_assert_eq!(
            (back.level, back.seed, &back.label, &back.limbs),
            (sample.level, sample.seed, &sample.label, &sample.limbs)
        );
    }
}
