//! Editing a program in place, for passes: typed insertion at any position, removal, use
//! rewriting and use queries.
//!
//! Insertion types the new instruction with the op table's rules, exactly as the builder does,
//! so a pass cannot create an ill-typed instruction; it does not touch the key set (the keys
//! pass owns it; the verifier reports a rotation without a key). Removal and use rewriting do
//! not check anything: run the verifier after the pass, as the pipeline does.

use crate::builder::BuildError;
use crate::entity::{Inst, Value};
use crate::ops::{Immediate, Opcode};
use crate::program::{InstData, Program};
use crate::rules::{RuleCtx, type_instruction};
use crate::types::Type;

impl Program {
    /// Types an instruction and inserts it at `position` in the program order (clamped to the
    /// end), returning its handle and results. `declared` is the result type of ops whose type
    /// is declared (`input`, `plain`), `None` otherwise.
    pub fn insert_inst(
        &mut self,
        position: usize,
        opcode: Opcode,
        args: Vec<Value>,
        imm: Immediate,
        declared: Option<Type>,
    ) -> Result<(Inst, Vec<Value>), BuildError> {
        let op = opcode.mnemonic();
        let arg_types = args
            .iter()
            .map(|&value| {
                self.value_type(value)
                    .ok_or(BuildError::UnknownValue { op, value })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ctx = RuleCtx {
            bootstrap: self.bootstrap.as_ref(),
        };
        let declared: Vec<Type> = declared.into_iter().collect();
        let result_types = type_instruction(&ctx, opcode, &arg_types, &imm, &declared)
            .map_err(|message| BuildError::Type { op, message })?;
        let results: Vec<Value> = result_types
            .into_iter()
            .map(|ty| self.make_value(ty))
            .collect();
        let inst = self.make_inst(InstData {
            opcode,
            args,
            imm,
            results: results.clone(),
            layer: None,
        });
        let position = position.min(self.order.len());
        self.order.insert(position, inst);
        Ok((inst, results))
    }

    /// Removes an instruction from the program order (its handle and values stay allocated).
    /// Returns whether it was there.
    pub fn remove_inst(&mut self, inst: Inst) -> bool {
        let before = self.order.len();
        self.order.retain(|&i| i != inst);
        self.order.len() != before
    }

    /// Mutable access to an instruction's data, for passes that rewrite operands or
    /// immediates in place (e.g. canonical rotation offsets). Nothing is re-typed: run the
    /// verifier after the pass.
    pub fn inst_mut(&mut self, inst: Inst) -> Option<&mut InstData> {
        self.insts.get_mut(inst)
    }

    /// The position of an instruction in the program order.
    pub fn position(&self, inst: Inst) -> Option<usize> {
        self.order.iter().position(|&i| i == inst)
    }

    /// Makes every instruction placed after `position` in the program order read `to` where it
    /// read `from` (the usual rewrite after inserting, at `position`, an instruction that
    /// consumes `from` and produces `to`); returns the number of operands rewritten.
    pub fn replace_uses_after(&mut self, position: usize, from: Value, to: Value) -> usize {
        let mut count = 0;
        for &inst in self.order.iter().skip(position + 1) {
            if let Some(data) = self.insts.get_mut(inst) {
                for arg in data.args.iter_mut().filter(|a| **a == from) {
                    *arg = to;
                    count += 1;
                }
            }
        }
        count
    }

    /// The instructions (in program order) that read `value`.
    pub fn users(&self, value: Value) -> Vec<Inst> {
        self.instructions()
            .filter(|(_, d)| d.args.contains(&value))
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Builder, IoSpec, Opaque, Opcode, Program, Scale, Type, Value, verify};

    fn io(name: &str) -> IoSpec {
        IoSpec {
            name: name.into(),
            layout: Opaque::encode(&()).unwrap(),
        }
    }

    /// `%0 = input; %1 = mul %0, %0; output %1`, the start of each editing test.
    fn square() -> (Program, Value, Value) {
        let mut b = Builder::new();
        let x = b
            .input(io("x"), Type::cipher(2, Scale::pow2(40), 8))
            .unwrap();
        let y = b.mul(x, x).unwrap();
        b.output(y, io("y")).unwrap();
        (b.finish(), x, y)
    }

    #[test]
    fn a_pass_inserts_a_rescale_and_redirects_the_uses() {
        let (mut program, _, y) = square();
        let output = program.users(y)[0];
        let at = program.position(output).unwrap();
        let (_, results) = program
            .insert_inst(at, Opcode::Rescale, vec![y], crate::Immediate::None, None)
            .unwrap();
        assert_eq!(
            program.replace_uses_after(at, y, results[0]),
            1,
            "only the output reads %1 after the rescale"
        );
        assert_eq!(
            program.users(y).len(),
            1,
            "the rescale itself still reads the product"
        );
        verify(&program).unwrap();
        assert_eq!(
            program.to_string().lines().nth(4).unwrap(),
            "%2 = rescale %1                         : ct<l=1, s=2^80/q2, n=8>"
        );
    }

    #[test]
    fn insertion_is_typed() {
        let (mut program, x, _) = square();
        let error = program
            .insert_inst(1, Opcode::Add, vec![x], crate::Immediate::None, None)
            .unwrap_err();
        assert_eq!(error.to_string(), "add: expects 2 operand(s), found 1");
        assert_eq!(
            program.order().len(),
            3,
            "a refused insertion changes nothing"
        );
    }

    #[test]
    fn removal() {
        let (mut program, _, y) = square();
        let output = program.users(y)[0];
        assert!(program.remove_inst(output));
        assert!(!program.remove_inst(output));
        assert!(
            verify(&program)
                .unwrap_err()
                .to_string()
                .contains("the program has no output")
        );
    }
}
