//! Making two values addable with exactly equal scales, converting a value to a given level
//! and scale, and bootstrapping (see the module documentation of the levels pass).

use super::{LevelsError, Rebuild, State};
use fhec_ir::{Scale, ScaledConst, Value};

impl Rebuild {
    /// Makes two states addable: the two emitted operands (in order) and whether the sum is
    /// pending.
    pub(super) fn align(
        &mut self,
        a: State,
        b: State,
    ) -> Result<(Value, Value, bool), LevelsError> {
        match (a, b) {
            (a @ State::Deferred { .. }, b @ State::Deferred { .. }) => {
                let (v, pending) = self.fixed(a)?;
                self.align_deferred(v, pending, b, false)
            }
            (State::Fixed { value, pending }, b @ State::Deferred { .. }) => {
                self.align_deferred(value, pending, b, false)
            }
            (a @ State::Deferred { .. }, State::Fixed { value, pending }) => {
                self.align_deferred(value, pending, a, true)
            }
            (
                State::Fixed {
                    value: x,
                    pending: px,
                },
                State::Fixed {
                    value: y,
                    pending: py,
                },
            ) => self.align_fixed(x, px, y, py),
        }
    }

    /// A fixed value `v` plus a deferred product: the product's factor is encoded so its
    /// scale meets `v`'s exactly. `swapped` when the deferred operand comes first.
    fn align_deferred(
        &mut self,
        v: Value,
        pending: bool,
        deferred: State,
        swapped: bool,
    ) -> Result<(Value, Value, bool), LevelsError> {
        let State::Deferred { src, factor } = deferred else {
            unreachable!("align_deferred is called with a deferred state")
        };
        let (vt, st) = (self.ty(v), self.ty(src));
        let (x, y) = if pending {
            let level = vt.level.min(st.level);
            let v = self.level_down(v, level)?;
            let scale = vt.scale.checked_div(&st.scale).ok_or_else(|| {
                self.underflow(format!("scale {} / {} overflows", vt.scale, st.scale))
            })?;
            let product = self.multiply(src, &factor, level, scale)?;
            (v, product)
        } else {
            let level = st.level.min(vt.level + 1);
            let scale = self.quotient(&vt.scale, level, &st.scale)?;
            let product = self.multiply(src, &factor, level, scale)?;
            let product = self.rescale(product)?;
            let v = self.level_down(v, level - 1)?;
            (v, product)
        };
        Ok(if swapped {
            (y, x, pending)
        } else {
            (x, y, pending)
        })
    }

    fn align_fixed(
        &mut self,
        x: Value,
        px: bool,
        y: Value,
        py: bool,
    ) -> Result<(Value, Value, bool), LevelsError> {
        let (tx, ty) = (self.ty(x), self.ty(y));
        match (px, py) {
            (false, false) => self.align_settled(x, y),
            (true, true) if tx.scale == ty.scale => {
                let level = tx.level.min(ty.level);
                Ok((self.level_down(x, level)?, self.level_down(y, level)?, true))
            }
            // Different scales: the higher operand is settled (a level it has to spare) and
            // then lifted to the lower one's scale; at equal levels both are settled.
            (true, true) if tx.level > ty.level => {
                let x = self.rescale(x)?;
                self.align_pending_settled(y, x, true)
            }
            (true, true) if tx.level < ty.level => {
                let y = self.rescale(y)?;
                self.align_pending_settled(x, y, false)
            }
            (true, true) => {
                let x = self.rescale(x)?;
                let y = self.rescale(y)?;
                self.align_settled(x, y)
            }
            (true, false) => self.align_pending_settled(x, y, false),
            (false, true) => self.align_pending_settled(y, x, true),
        }
    }

    /// A pending `p` and a settled `s`: `s` is lifted to `p`'s scale by an exact constant 1.
    fn align_pending_settled(
        &mut self,
        p: Value,
        s: Value,
        swapped: bool,
    ) -> Result<(Value, Value, bool), LevelsError> {
        let (tp, ts) = (self.ty(p), self.ty(s));
        let (x, y, pending) = if ts.level == 0 {
            let p = self.rescale(p)?;
            self.align_settled(p, s)?
        } else {
            let level = tp.level.min(ts.level);
            let p = self.level_down(p, level)?;
            let s = self.level_down(s, level)?;
            let lift = tp.scale.checked_div(&ts.scale).ok_or_else(|| {
                self.underflow(format!("scale {} / {} overflows", tp.scale, ts.scale))
            })?;
            let s = self.b.mul_const(
                s,
                ScaledConst {
                    value: 1.0,
                    scale: lift,
                },
            )?;
            (p, s, true)
        };
        Ok(if swapped {
            (y, x, pending)
        } else {
            (x, y, pending)
        })
    }

    /// Two settled values: equal scales are only level-aligned; otherwise the higher one is
    /// rescaled onto the lower one's scale, or at equal levels both are lifted to pending.
    fn align_settled(&mut self, x: Value, y: Value) -> Result<(Value, Value, bool), LevelsError> {
        let (tx, ty) = (self.ty(x), self.ty(y));
        if tx.scale == ty.scale {
            let level = tx.level.min(ty.level);
            return Ok((
                self.level_down(x, level)?,
                self.level_down(y, level)?,
                false,
            ));
        }
        self.counts.scale_fixes += 1;
        if tx.level != ty.level {
            let (high, low, swapped) = if tx.level > ty.level {
                (x, y, false)
            } else {
                (y, x, true)
            };
            let target = self.ty(low);
            let fixed = self.convert(high, target.level, &target.scale)?;
            return Ok(if swapped {
                (low, fixed, false)
            } else {
                (fixed, low, false)
            });
        }
        let level = tx.level;
        if level == 0 {
            return Err(self.underflow(format!(
                "operands at level 0 have different scales {} and {}",
                tx.scale, ty.scale
            )));
        }
        let common = tx
            .scale
            .checked_mul(&Scale::prime(level))
            .ok_or_else(|| self.underflow("scale overflow"))?;
        let lift_x = Scale::prime(level);
        let lift_y = common
            .checked_div(&ty.scale)
            .ok_or_else(|| self.underflow("scale overflow"))?;
        let one = |scale| ScaledConst { value: 1.0, scale };
        let x = self.b.mul_const(x, one(lift_x))?;
        let y = self.b.mul_const(y, one(lift_y))?;
        Ok((x, y, true))
    }

    /// A settled `v` brought to `level` and exactly `scale` (a level drop if the scale is
    /// already right, else a constant 1 at the exact quotient, a rescale and a level drop;
    /// the latter needs `v` above `level`).
    fn convert(&mut self, v: Value, level: u32, scale: &Scale) -> Result<Value, LevelsError> {
        let t = self.ty(v);
        if t.scale == *scale && t.level >= level {
            return self.level_down(v, level);
        }
        if t.level <= level {
            return Err(self.underflow(format!(
                "scale {} at level {} cannot become {scale} at level {level} without a level",
                t.scale, t.level
            )));
        }
        let via = level + 1;
        let v = self.level_down(v, via)?;
        let factor = self.quotient(scale, via, &t.scale)?;
        let v = self.b.mul_const(
            v,
            ScaledConst {
                value: 1.0,
                scale: factor,
            },
        )?;
        self.rescale(v)
    }

    /// Brings `state` to the bootstrap's input level and scale and bootstraps it.
    pub(super) fn bootstrap(&mut self, state: State, old: Value) -> Result<State, LevelsError> {
        let Some(spec) = self.spec.clone() else {
            return Err(LevelsError::Underflow {
                at: old,
                bootstrapping: Some(old),
                reason: "a bootstrap is needed but the program declares no bootstrapping".into(),
            });
        };
        let with_candidate = |e: LevelsError| match e {
            LevelsError::Underflow { reason, .. } => LevelsError::Underflow {
                at: old,
                bootstrapping: Some(old),
                reason: format!("cannot reach the bootstrap input: {reason}"),
            },
            other => other,
        };
        let input = match state {
            State::Deferred { src, factor } => {
                let st = self.ty(src);
                if st.level <= spec.input_level {
                    return Err(with_candidate(self.underflow(format!(
                        "level {} is not above the bootstrap input level {}",
                        st.level, spec.input_level
                    ))));
                }
                let via = spec.input_level + 1;
                let scale = self
                    .quotient(&spec.input_scale, via, &st.scale)
                    .map_err(with_candidate)?;
                let v = self
                    .multiply(src, &factor, via, scale)
                    .map_err(with_candidate)?;
                self.rescale(v).map_err(with_candidate)?
            }
            fixed => {
                let v = self.settle(fixed).map_err(with_candidate)?;
                self.convert(v, spec.input_level, &spec.input_scale)
                    .map_err(with_candidate)?
            }
        };
        self.counts.bootstraps += 1;
        let value = self.b.bootstrap(input)?;
        Ok(State::Fixed {
            value,
            pending: false,
        })
    }
}
