//! The homomorphic IR: SSA programs over ciphertexts and plaintext recipes (DESIGN §3).
//!
//! - [`Program`] holds typed values (`ct`/`pt` with level, exact [`Scale`] and slot count), the
//!   ordered instructions, the rotation key set and metadata; it serializes to RON
//!   ([`Program::to_ron`], [`Program::from_ron`]) with a format-version check.
//! - The op table (`ops.rs`) declares every [`Opcode`]; the [`Builder`] has one typed method
//!   per op.
//! - `Display`/`Debug` of a program print the stable textual form, [`parse`] reads it back,
//!   and [`verify`] checks every typing, level, scale, key and lifetime rule, reporting all
//!   violations; [`verify_with`] adds the checks that need the modulus chain ([`ChainFacts`]).
//!   The format and rules are documented in `docs/ir.md`.
//!
//! ```
//! use fhec_ir::{Builder, IoSpec, Opaque, Recipe, Scale, Type, parse, verify};
//!
//! let io = |name: &str| IoSpec { name: name.into(), layout: Opaque::from_ron("()").unwrap() };
//! let mut b = Builder::new();
//! let x = b.input(io("x"), Type::cipher(1, Scale::pow2(40), 8))?;
//! let w = b.plain(Recipe::new("w"), Type::plain(1, Scale::prime(1), 8))?;
//! let y = b.mul_plain(x, w)?;
//! let y = b.rescale(y)?; // exactly 2^40 again: the weight was encoded at q1
//! b.output(y, io("y"))?;
//! let program = b.finish();
//! verify(&program)?;
//! assert!(program.to_string().contains("%3 = rescale %2                         : ct<l=0, s=2^40, n=8>"));
//! assert_eq!(parse(&program.to_string())?, program);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builder;
mod chain;
mod edit;
mod entity;
mod opaque;
mod ops;
mod parser;
mod printer;
mod program;
mod recipe;
mod ron_io;
mod rules;
mod scale;
mod types;
mod verifier;

pub use builder::{BuildError, Builder};
pub use chain::ChainFacts;
pub use entity::{EntityMap, EntityRef, Inst, Value};
pub use opaque::{Opaque, OpaqueError};
pub use ops::{
    ImmKind, Immediate, IoSpec, KeyNeed, OpGroup, Opcode, OperandKind, ResultShape, Rule,
    ScaledConst,
};
pub use parser::{MAX_VALUE_NUMBER, ParseError, parse, parse_with_lines};
pub use printer::{TYPE_COLUMN, inst_line, inst_text};
pub use program::{
    BootstrapSpec, FORMAT_VERSION, GraphHash, InstData, KeySet, Layer, Metadata, Program,
};
pub use recipe::{PlaintextSource, Recipe, RecipeError, Selector, is_identifier};
pub use ron_io::RonError;
pub use rules::{RuleCtx, RuleInput};
pub use scale::Scale;
pub use types::{Type, ValueKind};
pub use verifier::{VerifierError, VerifierErrors, verify, verify_with};
