//! The translation of each unscheduled instruction: what state its result takes and what is
//! emitted for it (see the module documentation of the levels pass).

use super::{Factor, InputTypes, LevelsError, Rebuild, State, is_exact_integer};
use fhec_ir::{Immediate, Opcode, Program, Recipe, Scale, ScaledConst, Type, Value};

impl Rebuild {
    pub(super) fn instruction(
        &mut self,
        program: &Program,
        data: &fhec_ir::InstData,
        inputs: &InputTypes,
    ) -> Result<(), LevelsError> {
        let arg = |i: usize| data.args[i];
        let result = data.results.first().copied();
        let unsupported = |message: &str| LevelsError::Unsupported {
            at: fhec_ir::inst_text(data),
            message: message.into(),
        };
        if data.args.len() != data.opcode.operands().len() {
            return Err(unsupported("operand count differs from the op table's"));
        }
        match (data.opcode, &data.imm) {
            (Opcode::Input, Immediate::Io(spec)) => {
                let result = result.ok_or_else(|| unsupported("input without result"))?;
                let mut ty = program
                    .value_type(result)
                    .cloned()
                    .ok_or_else(|| unsupported("input without a type"))?;
                if let Some(level) = inputs.level {
                    ty.level = level;
                }
                if let Some(scale) = &inputs.scale {
                    ty.scale = scale.clone();
                }
                if ty.scale == Scale::one() {
                    return Err(unsupported(
                        "the input has no working scale (scale 1, the lowering's placeholder): \
                         give the scale the inputs are encrypted at",
                    ));
                }
                let v = self.b.input(spec.clone(), ty)?;
                self.define(result, v, false);
            }
            (Opcode::Output, Immediate::Io(spec)) => {
                let state = self.state(arg(0))?;
                let v = self.settle(state)?;
                self.b.output(v, spec.clone())?;
            }
            (Opcode::Plain, Immediate::Recipe(recipe)) => {
                let result = result.ok_or_else(|| unsupported("plain without result"))?;
                self.plains.insert(result, recipe.clone());
            }
            (Opcode::Add | Opcode::Sub, _) => {
                let (a, b) = (self.state(arg(0))?, self.state(arg(1))?);
                let (x, y, pending) = self.align(a, b)?;
                let v = if data.opcode == Opcode::Add {
                    self.b.add(x, y)?
                } else {
                    self.b.sub(x, y)?
                };
                self.define(result.ok_or_else(|| unsupported("no result"))?, v, pending);
            }
            (Opcode::Neg, _) => {
                let state = match self.state(arg(0))? {
                    State::Deferred {
                        src,
                        factor: Factor::Const(c),
                    } => State::Deferred {
                        src,
                        factor: Factor::Const(-c),
                    },
                    other => {
                        let (v, pending) = self.fixed(other)?;
                        State::Fixed {
                            value: self.b.neg(v)?,
                            pending,
                        }
                    }
                };
                self.states
                    .insert(result.ok_or_else(|| unsupported("no result"))?, state);
            }
            (Opcode::AddPlain, _) => {
                let recipe = self.recipe(arg(1))?;
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let ty = self.ty(v);
                let plain = self
                    .b
                    .plain(recipe, Type::plain(ty.level, ty.scale.clone(), ty.slots))?;
                let sum = self.b.add_plain(v, plain)?;
                self.define(
                    result.ok_or_else(|| unsupported("no result"))?,
                    sum,
                    pending,
                );
            }
            (Opcode::MulPlain, _) => {
                self.recipe(arg(1))?;
                let state = self.state(arg(0))?;
                let src = self.settle(state)?;
                self.states.insert(
                    result.ok_or_else(|| unsupported("no result"))?,
                    State::Deferred {
                        src,
                        factor: Factor::Plain(arg(1)),
                    },
                );
            }
            (Opcode::MulConst, Immediate::ScaledConst(c)) => {
                let state = self.mul_const(self.state(arg(0))?, c.value)?;
                self.states
                    .insert(result.ok_or_else(|| unsupported("no result"))?, state);
            }
            (Opcode::AddConst, Immediate::Const(c)) => {
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let sum = self.b.add_const(v, *c)?;
                self.define(
                    result.ok_or_else(|| unsupported("no result"))?,
                    sum,
                    pending,
                );
            }
            (Opcode::Mul, _) => {
                let (a, b) = (self.state(arg(0))?, self.state(arg(1))?);
                let x = self.settle(a)?;
                let y = if arg(0) == arg(1) { x } else { self.settle(b)? };
                let level = self.ty(x).level.min(self.ty(y).level);
                if level == 0 {
                    return Err(self.underflow("a ciphertext product is needed at level 0"));
                }
                let x = self.level_down(x, level)?;
                let y = self.level_down(y, level)?;
                let v = self.b.mul(x, y)?;
                self.define(result.ok_or_else(|| unsupported("no result"))?, v, true);
            }
            (Opcode::Rotate, Immediate::Offset(k)) => {
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let r = self.b.rotate(v, *k)?;
                self.define(result.ok_or_else(|| unsupported("no result"))?, r, pending);
            }
            (Opcode::RotateHoisted, Immediate::Offsets(ks)) => {
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let rs = self.b.rotate_hoisted(v, ks.clone())?;
                for (&old, new) in data.results.iter().zip(rs) {
                    self.define(old, new, pending);
                }
            }
            (Opcode::Conjugate, _) => {
                let state = self.state(arg(0))?;
                let (v, pending) = self.fixed(state)?;
                let r = self.b.conjugate(v)?;
                self.define(result.ok_or_else(|| unsupported("no result"))?, r, pending);
            }
            (Opcode::Rescale | Opcode::LevelDown, _) => {
                let state = self.state(arg(0))?;
                self.states
                    .insert(result.ok_or_else(|| unsupported("no result"))?, state);
            }
            (Opcode::Bootstrap, _) => {
                let state = self.state(arg(0))?;
                let refreshed = self.bootstrap(state, arg(0))?;
                self.states
                    .insert(result.ok_or_else(|| unsupported("no result"))?, refreshed);
            }
            (Opcode::Free, _) => {}
            _ => return Err(unsupported("immediate does not match the op")),
        }
        Ok(())
    }

    pub(super) fn recipe(&self, plain: Value) -> Result<Recipe, LevelsError> {
        self.plains
            .get(&plain)
            .cloned()
            .ok_or_else(|| LevelsError::Unsupported {
                at: plain.to_string(),
                message: "is not a plaintext defined by a `plain` recipe".into(),
            })
    }

    fn mul_const(&mut self, state: State, c: f64) -> Result<State, LevelsError> {
        if !is_exact_integer(c) {
            let src = self.settle(state)?;
            return Ok(State::Deferred {
                src,
                factor: Factor::Const(c),
            });
        }
        if let State::Deferred {
            src,
            factor: Factor::Const(k),
        } = state
        {
            return Ok(State::Deferred {
                src,
                factor: Factor::Const(k * c),
            });
        }
        let (v, pending) = self.fixed(state)?;
        let value = if c == 1.0 {
            v
        } else if c == -1.0 {
            self.b.neg(v)?
        } else {
            self.b.mul_const(
                v,
                ScaledConst {
                    value: c,
                    scale: Scale::one(),
                },
            )?
        };
        Ok(State::Fixed { value, pending })
    }
}
