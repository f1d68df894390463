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
        "7f0bd6462b4915ebf12c899a6c9175da82da79eb322f0829c0bb7c537230e251",
    ),
    (
        "N14_QP422",
        "19768286d13eca2203b6acae7f5bce83b5f2fe39c57fe9937b9abdb7b3818a35",
    ),
    (
        "N15_QP838",
        "81bb9b1e36cb975f01c9adbf199ece10892fe741a09a41a5c10b589c66d94782",
    ),
    (
        "N16_QP1740",
        "cf3e34a79e10713351d2c2aee140cf71a8216b620f720397bcad7440201aad35",
    ),
    (
        "TEST_N10_QP365_INSECURE",
        "b7ee61ca0479ce5cbe7c75cbfbc88f4d33bf3a3fed826ec6d96b0bb3545cf47c",
    ),
    (
        "TEST_N11_QP365_INSECURE",
        "135f9bf2a92bf1c2e662c654c7d2a26594955f2862290083699a33b49f851d64",
    ),
    (
        "TEST_N12_QP365_INSECURE",
        "5c6eb8a500f628649947032010aef10371c2d2e7ba9219af595e081fa67cba59",
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
