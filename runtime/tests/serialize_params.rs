//! Parameter-set files: every preset round-trips, its file is pinned by digest (STYLE #33), and
//! a file whose parameters do not validate or do not match its header is refused.

use std::path::Path;

use fhec_params::{CkksParams, CkksParamsLiteral, ParamHash, SecurityPolicy, presets};
use fhec_runtime::serialize::{
    Codec, HEADER_LEN, ObjectKind, PayloadError, Problem, Reader, Writer, from_bytes, read_file,
    read_params_file, read_params_file_with, to_bytes, write_file,
};

/// The tests read insecure test presets back: they opt in, as only a caller can.
const TESTS: SecurityPolicy = SecurityPolicy::AllowInsecure;

fn all_presets() -> Vec<(&'static str, CkksParams)> {
    presets::secure()
        .into_iter()
        .chain(presets::test_insecure_all())
        .map(|(name, literal)| (name, CkksParams::new(literal).unwrap()))
        .collect()
}

/// BLAKE3 of each preset's complete file, header included. A change here means the file format,
/// the preset, its primes or its parameter hash changed: old files would no longer read.
const GOLDEN_DIGESTS: &[(&str, &str)] = &[
    (
        "N13_QP211",
        "99b3602ef871ce2af5e8b805ce45975c20689a42f7fe51d85fced5fd27383f73",
    ),
    (
        "N14_QP422",
        "d499f78430ffc9bcd789024c687bcda5dd050d396829b42ed8b6cd723d58a19a",
    ),
    (
        "N15_QP838",
        "0de0143a25984a7c274fa5393765745647c42f514feba4408017a02339e14b72",
    ),
    (
        "N16_QP1740",
        "7a5aab11b2ebe373f83b8ce11500596496c9b38adae084de925605f475981b31",
    ),
    (
        "TEST_N10_QP365_INSECURE",
        "c54caff4c163cf7d804ca2cd40c96ac6ceb64a20c52dde8ec9e2c289f2d80f8b",
    ),
    (
        "TEST_N11_QP365_INSECURE",
        "6730b2fa894a9b7833ea761d80cf7c165a3730f61d1efeeb7cb8f0c0b0f3a933",
    ),
    (
        "TEST_N12_QP365_INSECURE",
        "8ba4b4d285965995aa4d14ac715610c08edbbae63866588d1e7f1877f5d1cbd8",
    ),
];

#[test]
fn every_preset_round_trips_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, params) in all_presets() {
        let path = dir.path().join(format!("{name}.params"));
        write_file(&path, &params.hash(), &params).unwrap();
        let back = read_params_file_with(&path, TESTS).unwrap();
        assert_eq!(back, params, "{name}");
        assert_eq!(back.hash(), params.hash(), "{name}");
        assert_eq!(
            read_file::<CkksParams>(&path, &params.hash(), &TESTS).unwrap(),
            params
        );
    }
}

#[test]
fn every_preset_file_is_pinned() {
    let digests: Vec<(&str, String)> = all_presets()
        .into_iter()
        .map(|(name, params)| {
            let bytes = to_bytes(&params, &params.hash()).unwrap();
            (name, blake3::hash(&bytes).to_hex().to_string())
        })
        .collect();
    let pinned: Vec<(&str, String)> = GOLDEN_DIGESTS
        .iter()
        .map(|&(name, hex)| (name, hex.to_string()))
        .collect();
    assert_eq!(digests, pinned, "the serialized form of a preset changed");
}

#[test]
fn a_header_hash_that_is_not_the_parameters_hash_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let params = CkksParams::new(presets::test_insecure(10)).unwrap();
    let path = dir.path().join("p.params");
    write_file(&path, &ParamHash([9; 32]), &params).unwrap();
    let error = read_params_file_with(&path, TESTS).unwrap_err();
    assert!(
        matches!(error.problem(), Problem::Malformed { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("parameter hash"), "{error}");

    let error = read_file::<CkksParams>(&path, &params.hash(), &TESTS).unwrap_err();
    assert!(
        matches!(error.problem(), Problem::ParamsMismatch { .. }),
        "{error}"
    );
}

/// Raw bytes under a parameter-set header, to forge payloads with valid checksums.
struct RawParams(Vec<u8>);

impl Codec for RawParams {
    const KIND: ObjectKind = ObjectKind::Parameters;
    const VERSION: u32 = 1;
    type Context = ();

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.fixed_bytes(&self.0)
    }

    fn decode(r: &mut Reader<'_>, _version: u32, _: &()) -> Result<Self, PayloadError> {
        let len = r.remaining();
        Ok(RawParams(r.bytes(len)?))
    }
}

/// The payload of `literal`'s parameter file with `edit` applied, decoded again.
fn decode_edited(literal: CkksParamsLiteral, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let params = CkksParams::new(literal).unwrap();
    let mut payload = to_bytes(&params, &params.hash()).unwrap()[HEADER_LEN..].to_vec();
    edit(&mut payload);
    let forged = to_bytes(&RawParams(payload), &params.hash()).unwrap();
    let error = from_bytes::<CkksParams>(&forged, Path::new("p.params"), &params.hash(), &TESTS)
        .expect_err("edited parameters were accepted");
    assert!(
        matches!(error.problem(), Problem::Malformed { .. }),
        "{error}"
    );
    error.to_string()
}

#[test]
fn parameters_the_checks_refuse_are_refused_from_files_too() {
    let literal = presets::test_insecure(10);
    // Offset of the insecure flag: log_n, |q|, q sizes, |p|, p sizes, dnum, log_scale, secret tag.
    let flag_at = 4 + 8 + 4 * literal.log_q.len() + 8 + 4 * literal.log_p.len() + 8 + 4 + 1;
    assert!(literal.insecure);
    let message = decode_edited(literal.clone(), |payload| payload[flag_at] = 0);
    assert!(
        message.starts_with("p.params: malformed parameter set: parameter set: "),
        "{message}"
    );

    let message = decode_edited(literal.clone(), |payload| payload[flag_at] = 7);
    assert!(
        message.contains("insecure flag: 7 is neither 0 nor 1"),
        "{message}"
    );

    // The last byte of the last special prime.
    let message = decode_edited(literal, |payload| *payload.last_mut().unwrap() ^= 1);
    assert!(
        message.contains("primes: the file lists other primes"),
        "{message}"
    );
}

#[test]
fn insecure_parameter_files_need_the_callers_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let params = CkksParams::new(presets::test_insecure(10)).unwrap();
    let path = dir.path().join("insecure.params");
    write_file(&path, &params.hash(), &params).unwrap();
    for error in [
        read_params_file(&path).unwrap_err(),
        read_params_file_with(&path, SecurityPolicy::Require128Bit).unwrap_err(),
        read_file::<CkksParams>(&path, &params.hash(), &SecurityPolicy::default()).unwrap_err(),
    ] {
        let message = error.to_string();
        assert!(message.contains("insecure.params"), "{message}");
        assert!(
            message.contains("the caller did not opt in to insecure parameters"),
            "{message}"
        );
    }
    assert_eq!(read_params_file_with(&path, TESTS).unwrap(), params);

    // Secure parameters need no opt-in.
    let secure = CkksParams::new(presets::n13_qp211()).unwrap();
    let path = dir.path().join("secure.params");
    write_file(&path, &secure.hash(), &secure).unwrap();
    assert_eq!(read_params_file(&path).unwrap(), secure);
}
