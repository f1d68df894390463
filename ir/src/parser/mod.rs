//! The parser of the textual form the printer writes (grammar in `docs/ir.md`).
//!
//! It reads structure only: anything well-formed is accepted, including programs the verifier
//! will reject (a use before definition, a wrong level, a missing key), so that verifier
//! filetests can be written as text. Errors name the 1-based line.

mod cursor;

use crate::entity::Inst;
use crate::opaque::Opaque;
use crate::ops::{ImmKind, Immediate, IoSpec, Opcode, ScaledConst};
use crate::program::{BootstrapSpec, FORMAT_VERSION, GraphHash, InstData, Program};
use crate::scale::Scale;
use crate::types::Type;
use cursor::Cursor;
pub use cursor::MAX_VALUE_NUMBER;

/// A syntax error, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a program.
pub fn parse(text: &str) -> Result<Program, ParseError> {
    parse_with_lines(text).map(|(program, _)| program)
}

/// Parses a program and also returns the 1-based line of every instruction, indexed by
/// instruction number (the filetests use it to match verifier errors to annotated lines).
pub fn parse_with_lines(text: &str) -> Result<(Program, Vec<usize>), ParseError> {
    let mut parser = Parser::default();
    for (index, line) in text.lines().enumerate() {
        let code = strip_comment(line);
        if code.trim().is_empty() {
            continue;
        }
        parser.line(code, index + 1).map_err(|message| ParseError {
            line: index + 1,
            message,
        })?;
    }
    Ok((parser.program, parser.lines))
}

/// Parses a scale on its own (`Scale::from_str`).
pub(crate) fn parse_scale(text: &str) -> Result<Scale, String> {
    let mut cursor = Cursor::new(text);
    let scale = cursor.scale()?;
    cursor.expect_end()?;
    Ok(scale)
}

/// Parses a type on its own (`Type::from_str`).
pub(crate) fn parse_type(text: &str) -> Result<Type, String> {
    let mut cursor = Cursor::new(text);
    let ty = cursor.ty()?;
    cursor.expect_end()?;
    Ok(ty)
}

/// The code part of a line: everything before a `;` that is not inside a string.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ';' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

#[derive(Default)]
struct Parser {
    program: Program,
    lines: Vec<usize>,
    seen_headers: Vec<&'static str>,
}

impl Parser {
    fn line(&mut self, code: &str, line: usize) -> Result<(), String> {
        let mut c = Cursor::new(code);
        if c.rest().starts_with('%') {
            return self.inst(&mut c, line);
        }
        let word = c.ident()?;
        let header = match word {
            "program" => "program",
            "params" => "params",
            "keys" => "keys",
            "bootstrap" => "bootstrap",
            "source" => "source",
            _ => {
                let mut c = Cursor::new(code);
                return self.inst(&mut c, line);
            }
        };
        if self.seen_headers.contains(&header) {
            return Err(format!("a second `{header}` line"));
        }
        self.seen_headers.push(header);
        match header {
            "program" => self.program_line(&mut c)?,
            "params" => {
                let text = c.string()?;
                self.program.meta.params =
                    Some(Opaque::from_ron(&text).map_err(|e| e.to_string())?);
            }
            "source" => {
                let text = c.string()?;
                self.program.meta.source =
                    Some(Opaque::from_ron(&text).map_err(|e| e.to_string())?);
            }
            "keys" => {
                c.key("rotate")?;
                c.expect("[")?;
                let keys = &mut self.program.keys;
                for (offset, cap) in c.list(Cursor::capped_offset)? {
                    if keys.rotations.insert(offset, cap).is_some() {
                        return Err(format!("rotation key {offset} is listed twice"));
                    }
                }
                c.expect(",")?;
                c.key("conjugate")?;
                keys.conjugation = c.level_cap()?;
                c.expect(",")?;
                c.key("relin")?;
                keys.relinearization = c.level_cap()?;
            }
            _ => self.bootstrap_line(&mut c)?,
        }
        c.expect_end()
    }

    fn program_line(&mut self, c: &mut Cursor<'_>) -> Result<(), String> {
        c.key("version")?;
        let version: u32 = c.int()?;
        if version != FORMAT_VERSION {
            return Err(format!(
                "format version {version} is not supported (this fhec reads version {FORMAT_VERSION})"
            ));
        }
        if c.eat(",") {
            c.key("graph")?;
            let hex = c
                .rest()
                .split(|ch: char| !ch.is_ascii_hexdigit())
                .next()
                .unwrap_or("");
            self.program.meta.graph_hash = Some(hex.parse::<GraphHash>()?);
            c.eat(hex);
        }
        Ok(())
    }

    fn bootstrap_line(&mut self, c: &mut Cursor<'_>) -> Result<(), String> {
        let level_scale = |c: &mut Cursor<'_>, key: &str| -> Result<(u32, Scale), String> {
            c.key(key)?;
            c.expect("<")?;
            let pair = c.level_scale()?;
            c.expect(">")?;
            Ok(pair)
        };
        let (input_level, input_scale) = level_scale(c, "in")?;
        c.expect(",")?;
        let (output_level, output_scale) = level_scale(c, "out")?;
        self.program.bootstrap = Some(BootstrapSpec {
            input_level,
            input_scale,
            output_level,
            output_scale,
        });
        Ok(())
    }

    fn inst(&mut self, c: &mut Cursor<'_>, line: usize) -> Result<(), String> {
        let mut results = Vec::new();
        if c.rest().starts_with('%') {
            loop {
                results.push(c.value()?);
                if !c.eat(",") {
                    break;
                }
            }
            c.expect("=")?;
        }
        let mnemonic = c.ident()?;
        let opcode = Opcode::from_mnemonic(mnemonic)
            .ok_or_else(|| format!("unknown operation `{mnemonic}`"))?;
        let mut args = Vec::new();
        for i in 0..opcode.operands().len() {
            if i > 0 {
                c.expect(",")?;
            }
            args.push(c.value()?);
        }
        let imm = if opcode.immediate() == ImmKind::None {
            Immediate::None
        } else {
            if !args.is_empty() {
                c.expect(",")?;
            }
            immediate(c, opcode.immediate())?
        };
        let ty = if results.is_empty() {
            None
        } else {
            c.expect(":")?;
            Some(c.ty()?)
        };
        let layer = if c.rest().starts_with("layer") {
            c.key("layer")?;
            Some(c.int()?)
        } else {
            None
        };
        c.expect_end()?;
        for &v in args.iter().chain(&results) {
            self.program.values.ensure(v);
        }
        if let Some(ty) = ty {
            for &r in &results {
                self.program
                    .values
                    .ensure(r)
                    .get_or_insert_with(|| ty.clone());
            }
        }
        let inst: Inst = self.program.make_inst(InstData {
            opcode,
            args,
            imm,
            results,
            layer,
        });
        self.program.order.push(inst);
        self.lines.push(line);
        Ok(())
    }
}

fn immediate(c: &mut Cursor<'_>, kind: ImmKind) -> Result<Immediate, String> {
    Ok(match kind {
        ImmKind::None => Immediate::None,
        ImmKind::Io => {
            let name = c.string()?;
            c.expect(",")?;
            let layout = Opaque::from_ron(&c.string()?).map_err(|e| e.to_string())?;
            Immediate::Io(IoSpec { name, layout })
        }
        ImmKind::Recipe => Immediate::Recipe(c.recipe()?),
        ImmKind::Const => Immediate::Const(c.real()?),
        ImmKind::ScaledConst => {
            let value = c.real()?;
            c.expect(",")?;
            c.key("s")?;
            Immediate::ScaledConst(ScaledConst {
                value,
                scale: c.scale()?,
            })
        }
        ImmKind::Level => {
            c.key("l")?;
            Immediate::Level(c.int()?)
        }
        ImmKind::Offset => Immediate::Offset(c.int()?),
        ImmKind::Offsets => {
            c.expect("[")?;
            Immediate::Offsets(c.list(Cursor::int)?)
        }
    })
}
