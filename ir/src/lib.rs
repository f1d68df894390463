//! The homomorphic IR: SSA programs over ciphertexts and plaintext recipes (DESIGN §3).
//!
//! - [`Program`] holds typed values (`ct`/`pt` with level, exact [`Scale`] and slot count), the
//!   ordered instructions, the rotation key set and metadata; it serializes to RON
//!   ([`Program::to_ron`], [`Program::from_ron`]) with a format-version check.
//! - The op table (`ops.rs`) declares every [`Opcode`]; the [`Builder`] has one typed method
//!   per op.
//! - `Display`/`Debug` of a program print the stable textual form, [`parse`] reads it back,
//!   and [`verify`] checks every typing, level, scale, key and lifetime rule, reporting all
//!   violations. The format and rules are documented in `docs/ir.md`.

mod builder;
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
pub use entity::{EntityMap, EntityRef, Inst, Value};
pub use opaque::{Opaque, OpaqueError};
pub use ops::{
    ImmKind, Immediate, IoSpec, KeyNeed, OpGroup, Opcode, OperandKind, ResultShape, Rule,
    ScaledConst,
};
pub use parser::{MAX_VALUE_NUMBER, ParseError, parse, parse_with_lines};
pub use printer::{TYPE_COLUMN, inst_line, inst_text};
pub use program::{BootstrapSpec, FORMAT_VERSION, GraphHash, InstData, KeySet, Metadata, Program};
pub use recipe::{Recipe, Selector, is_identifier};
pub use ron_io::RonError;
pub use rules::{RuleCtx, RuleInput};
pub use scale::Scale;
pub use types::{Type, ValueKind};
pub use verifier::{VerifierError, VerifierErrors, verify};
