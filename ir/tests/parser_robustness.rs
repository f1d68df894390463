//! Property test: the parser, verifier and printer never panic on damaged text. Valid programs
//! are edited at random (characters deleted, tokens inserted, lines swapped); whatever still
//! parses must verify without panicking and print to a fixed point.

use fhec_ir::{parse, verify};
use proptest::prelude::*;

const SEEDS: [&str; 3] = [
    include_str!("filetests/cat/all_ops.fhir"),
    include_str!("filetests/cat/recipes.fhir"),
    include_str!("filetests/verify/valid_management.fhir"),
];

const TOKENS: &[&str] = &[
    "%",
    "%0",
    "%99",
    "%4194305",
    ",",
    "=",
    ":",
    "<",
    ">",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "\\",
    ";",
    "^",
    "/",
    "*",
    "q",
    "q4294967296",
    "2^",
    "-",
    "1e999",
    "0.5",
    "2147483648",
    "-2147483649",
    "ct",
    "pt",
    "l=",
    "s=",
    "n=",
    "rescale",
    "rotate",
    "rotate_hoisted",
    "bootstrap",
    "free",
    "output",
    "plain",
    "keys",
    "program",
    "params",
    "\u{e9}",
    "\n",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..8).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    match *edit {
        Edit::Delete(at, len) => {
            let at = at % (chars.len() + 1);
            let end = (at + len).min(chars.len());
            chars[..at].iter().chain(&chars[end..]).collect()
        }
        Edit::Insert(at, token) => {
            let at = at % (chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(TOKENS[token]);
            out.extend(&chars[at..]);
            out
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn damaged_text_never_panics(seed in 0..SEEDS.len(), edits in prop::collection::vec(edit(), 1..6)) {
        // Drop the `test <kind>` header line.
        let mut text = SEEDS[seed].split_once('\n').map_or("", |(_, rest)| rest).to_string();
        for e in &edits {
            text = apply(&text, e);
        }
        if let Ok(program) = parse(&text) {
            let _ = verify(&program);
            let printed = program.to_string();
            let reparsed = parse(&printed).map_err(|e| TestCaseError::fail(format!("{e}\n{printed}")))?;
            prop_assert_eq!(reparsed.to_string(), printed);
        }
    }
}
