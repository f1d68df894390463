//! Malformed text gets a `ParseError` naming the line and the problem, never a panic.

use fhec_ir::parse;

/// Parses `text` and checks the error's line and that its message contains `message`.
fn check(text: &str, line: usize, message: &str) {
    let error = parse(text).expect_err("must not parse");
    assert_eq!(error.line, line, "{error}");
    assert!(
        error.message.contains(message),
        "expected {message:?} in {error}"
    );
}

const X: &str = "%0 = input \"x\", \"()\" : ct<l=1, s=2^40, n=8>\n";

#[test]
fn syntax_errors_name_the_line() {
    check(
        "%0 = frobnicate %1 : ct<l=1, s=2^40, n=8>",
        1,
        "unknown operation `frobnicate`",
    );
    check(
        &format!("{X}%1 = add %0 : ct<l=1, s=2^40, n=8>"),
        2,
        "expected `,`, found `: ct<l=1",
    );
    check(
        &format!("{X}%1 = neg %0"),
        2,
        "expected `:`, found end of line",
    );
    check(
        &format!("{X}%1 = neg %0 : ct<l=1, n=8, s=2^40>"),
        2,
        "expected `s`",
    );
    check(
        &format!("{X}%1 = neg %0 : xt<l=1, s=2^40, n=8>"),
        2,
        "expected a type",
    );
    check(
        &format!("{X}%1 = neg %0 : ct<l=1, s=3^40, n=8>"),
        2,
        "expected a scale factor",
    );
    check(
        &format!("{X}%1 = neg %0 : ct<l=1, s=2^40, n=8> trailing"),
        2,
        "unexpected `trailing`",
    );
    check(
        &format!("{X}%1 = neg %0 : ct<l=-1, s=2^40, n=8>"),
        2,
        "integer -1 out of range",
    );
    check(
        &format!("{X}%1 = rotate %0, 1.5 : ct<l=1, s=2^40, n=8>"),
        2,
        "expected an integer, found 1.5",
    );
    check(
        &format!("{X}%1 = level_down %0, 0 : ct<l=0, s=2^40, n=8>"),
        2,
        "expected `l`",
    );
    check(
        &format!("{X}%1 = neg %99999999 : ct<l=1, s=2^40, n=8>"),
        2,
        "value number 99999999 is too large (at most 4194304)",
    );
    check(
        &format!("{X}%1 = neg %0 : ct<l=1, s=2^2147483647*2, n=8>"),
        2,
        "scale exponent out of range",
    );
    check(
        &format!("{X}%1 = plain \"w\" {{a=1, a=2}} : pt<l=1, s=2^40, n=8>"),
        2,
        "selector `a` given twice",
    );
    check(
        &format!("{X}%1 = plain \"w\" {{a=nope}} : pt<l=1, s=2^40, n=8>"),
        2,
        "expected a selector value",
    );
    check(
        &format!("{X}%1 = plain \"w : pt<l=1, s=2^40, n=8>"),
        2,
        "unterminated string",
    );
    check(
        "%0 = input \"x\", \"(unclosed\" : ct<l=1, s=2^40, n=8>",
        1,
        "opaque data",
    );
}

#[test]
fn header_errors_name_the_line() {
    check(
        "program version=2",
        1,
        "format version 2 is not supported (this fhec reads version 1)",
    );
    check(
        "program version=1, graph=abc",
        1,
        "graph hash must be 64 hex digits",
    );
    check(
        "keys rotate=[1@2], conjugate=maybe, relin=none",
        1,
        "expected a number",
    );
    check(
        "keys rotate=[1], conjugate=none, relin=none",
        1,
        "expected `@`",
    );
    check(
        "keys rotate=[1@2, 1@3], conjugate=none, relin=none",
        1,
        "rotation key 1 is listed twice",
    );
    check(
        "keys rotate=[1@0], conjugate=0, relin=none\nkeys rotate=[], conjugate=none, relin=0",
        2,
        "a second `keys` line",
    );
    check("bootstrap in=<l=0, s=2^40>", 1, "expected `,`");
    check("params \"(a:\"", 1, "opaque data");
}

#[test]
fn comments_do_not_hide_semicolons_in_strings() {
    let program = parse(
        "%0 = input \"a;b\", \"()\" : ct<l=1, s=2^40, n=8> ; comment\noutput %0, \"y\", \"()\"",
    )
    .unwrap();
    assert!(program.to_string().contains("\"a;b\""));
}
