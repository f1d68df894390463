//! The one printer of the textual form (used by `Display` and `Debug` of [`Program`] and by
//! verifier messages). The parser reads exactly this text back (see `docs/ir.md` for the
//! grammar): `print(parse(print(p))) == print(p)`.
//!
//! One instruction per line; every line that defines values ends with their type, aligned at
//! [`TYPE_COLUMN`]:
//!
//! ```text
//! program version=1
//! keys rotate=[32@11], conjugate=none, relin=none
//! %40 = input "x", "()"                   : ct<l=11, s=2^40, n=16384>
//! %41 = rotate %40, 32                    : ct<l=11, s=2^40, n=16384>
//! output %41, "y", "()"
//! ```

use crate::ops::Immediate;
use crate::program::{InstData, Program};
use std::fmt::{self, Write};

/// The column at which result types start (text before it is padded with spaces).
pub const TYPE_COLUMN: usize = 40;

/// Items joined by `, `.
fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The immediate's text, or `None` when the op has none.
fn immediate_text(imm: &Immediate) -> Option<String> {
    Some(match imm {
        Immediate::None => return None,
        Immediate::Io(spec) => format!("{:?}, {:?}", spec.name, spec.layout.as_ron()),
        Immediate::Recipe(recipe) => recipe.to_string(),
        Immediate::Const(value) => format!("{value:?}"),
        Immediate::ScaledConst(c) => format!("{:?}, s={}", c.value, c.scale),
        Immediate::Level(level) => format!("l={level}"),
        Immediate::Offset(k) => k.to_string(),
        Immediate::Offsets(ks) => format!("[{}]", join(ks)),
    })
}

/// An instruction without its result type, e.g. `%7 = rescale %5` (the form verifier messages
/// quote).
pub fn inst_text(data: &InstData) -> String {
    let mut text = String::new();
    if !data.results.is_empty() {
        text.push_str(&join(&data.results));
        text.push_str(" = ");
    }
    text.push_str(data.opcode.mnemonic());
    let mut parts = Vec::new();
    if !data.args.is_empty() {
        parts.push(join(&data.args));
    }
    parts.extend(immediate_text(&data.imm));
    if !parts.is_empty() {
        text.push(' ');
        text.push_str(&parts.join(", "));
    }
    text
}

/// An instruction line as the program dump shows it, with its result type.
pub fn inst_line(program: &Program, data: &InstData) -> String {
    let text = inst_text(data);
    let line = match data.results.first() {
        None => text,
        Some(&first) => {
            let ty = program
                .value_type(first)
                .map_or_else(|| "<untyped>".to_string(), ToString::to_string);
            format!("{text:<width$} : {ty}", width = TYPE_COLUMN - 1)
        }
    };
    match data.layer {
        Some(layer) => format!("{line} layer={layer}"),
        None => line,
    }
}

/// Writes the whole program.
pub fn write_program(out: &mut impl Write, program: &Program) -> fmt::Result {
    write!(out, "program version={}", program.meta.format_version)?;
    if let Some(hash) = &program.meta.graph_hash {
        write!(out, ", graph={hash}")?;
    }
    writeln!(out)?;
    if let Some(params) = &program.meta.params {
        writeln!(out, "params {:?}", params.as_ron())?;
    }
    if let Some(source) = &program.meta.source {
        writeln!(out, "source {:?}", source.as_ron())?;
    }
    let keys = &program.keys;
    let rotations: Vec<String> = keys
        .rotations
        .iter()
        .map(|(k, cap)| format!("{k}@{cap}"))
        .collect();
    let cap = |cap: Option<u32>| cap.map_or_else(|| "none".to_string(), |c| c.to_string());
    writeln!(
        out,
        "keys rotate=[{}], conjugate={}, relin={}",
        join(&rotations),
        cap(keys.conjugation),
        cap(keys.relinearization)
    )?;
    if let Some(b) = &program.bootstrap {
        writeln!(
            out,
            "bootstrap in=<l={}, s={}>, out=<l={}, s={}>",
            b.input_level, b.input_scale, b.output_level, b.output_scale
        )?;
    }
    for (_, data) in program.instructions() {
        writeln!(out, "{}", inst_line(program, data))?;
    }
    Ok(())
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_program(f, self)
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_program(f, self)
    }
}
