//! Per-layer statistics of a program (`fhec compile --stats`).
//!
//! Counts, per model layer and in total: key switches (every rotation offset, hoisted or
//! not, and conjugations), of which hoisted; ciphertext × ciphertext products; ciphertext ×
//! plaintext products; constant products; additions; plaintexts (`plain` recipes); rescales
//! and bootstraps (zero in the unscheduled program, counted once passes add them); and the
//! multiplicative **depth** each layer consumes.
//!
//! Depth follows the level rules of the unscheduled IR: `mul_plain`, `mul` and a `mul_const`
//! by a non-integer each add one to the deepest operand; a `bootstrap` starts again at 0;
//! everything else keeps the deepest operand's depth. A layer's depth is the deepest value it
//! defines minus the deepest value it reads from other layers; the total is the deepest
//! output.
//!
//! Instructions are attributed to layers by their `layer` field (set by the lowering, kept and
//! propagated by the passes), else by the lowering's side table; one with neither belongs to
//! the layer of its first operand's producer.

use crate::lower::Layer;
use fhec_ir::{Immediate, Inst, Opcode, Program, Value};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// The counts of one layer (or of the whole program).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct Counts {
    /// Key switches: rotation offsets (hoisted or not) and conjugations.
    pub rotations: usize,
    /// Of which in hoisted groups.
    pub hoisted: usize,
    /// Ciphertext × ciphertext products (relinearised).
    pub ct_ct: usize,
    /// Ciphertext × plaintext products.
    pub ct_pt: usize,
    /// Constant products (`mul_const`).
    pub mul_const: usize,
    /// Additions and subtractions (ciphertext and plaintext operands, constants).
    pub additions: usize,
    /// Plaintext recipes encoded.
    pub plaintexts: usize,
    /// Rescales.
    pub rescales: usize,
    /// Bootstraps.
    pub bootstraps: usize,
    /// Multiplicative depth consumed.
    pub depth: u32,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.rotations += other.rotations;
        self.hoisted += other.hoisted;
        self.ct_ct += other.ct_ct;
        self.ct_pt += other.ct_pt;
        self.mul_const += other.mul_const;
        self.additions += other.additions;
        self.plaintexts += other.plaintexts;
        self.rescales += other.rescales;
        self.bootstraps += other.bootstraps;
    }
}

/// One layer's statistics.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct LayerStats {
    /// The layer (node) name.
    pub name: String,
    /// Its operation.
    pub op: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// Statistics of a whole program.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ProgramStats {
    /// Slots per ciphertext.
    pub slots: u32,
    /// Per layer, in program order.
    pub layers: Vec<LayerStats>,
    /// Sums over the layers; `depth` is the deepest output's.
    pub total: Counts,
}

fn depth_step(opcode: Opcode, imm: &Immediate) -> Option<u32> {
    match (opcode, imm) {
        (Opcode::Mul | Opcode::MulPlain, _) => Some(1),
        (Opcode::MulConst, Immediate::ScaledConst(c)) => Some(u32::from(c.value.fract() != 0.0)),
        (Opcode::Bootstrap, _) => None,
        _ => Some(0),
    }
}

/// The statistics of `program` with its instructions attributed to `layers` by
/// `inst_layers`; see the module documentation.
pub fn program_stats(
    program: &Program,
    layers: &[Layer],
    inst_layers: &HashMap<Inst, usize>,
) -> ProgramStats {
    let mut per_layer = vec![Counts::default(); layers.len()];
    let mut depth_in = vec![0u32; layers.len()];
    let mut depth: HashMap<Value, u32> = HashMap::new();
    let mut layer_of_value: HashMap<Value, usize> = HashMap::new();
    let mut slots = 0;
    let mut total_depth = 0;
    for (inst, data) in program.instructions() {
        let layer = data
            .layer
            .map(|layer| layer as usize)
            .filter(|&layer| layer < layers.len())
            .or_else(|| inst_layers.get(&inst).copied())
            .or_else(|| {
                data.args
                    .first()
                    .and_then(|v| layer_of_value.get(v))
                    .copied()
            });
        let operand_depth = data
            .args
            .iter()
            .map(|v| depth.get(v).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        let result_depth = depth_step(data.opcode, &data.imm).map_or(0, |d| operand_depth + d);
        for &result in &data.results {
            depth.insert(result, result_depth);
            if let Some(layer) = layer {
                layer_of_value.insert(result, layer);
            }
            if let Some(ty) = program.value_type(result) {
                slots = slots.max(ty.slots);
            }
        }
        if data.opcode == Opcode::Output {
            total_depth = total_depth.max(operand_depth);
        }
        let Some(layer) = layer.filter(|&l| l < layers.len()) else {
            continue;
        };
        for v in &data.args {
            if layer_of_value.get(v) != Some(&layer) {
                depth_in[layer] = depth_in[layer].max(depth.get(v).copied().unwrap_or(0));
            }
        }
        let counts = &mut per_layer[layer];
        match data.opcode {
            Opcode::Rotate | Opcode::Conjugate => counts.rotations += 1,
            Opcode::RotateHoisted => {
                let k = data.imm.offsets().len();
                counts.rotations += k;
                counts.hoisted += k;
            }
            Opcode::Mul => counts.ct_ct += 1,
            Opcode::MulPlain => counts.ct_pt += 1,
            Opcode::MulConst => counts.mul_const += 1,
            Opcode::Add | Opcode::Sub | Opcode::AddPlain | Opcode::AddConst => {
                counts.additions += 1
            }
            Opcode::Plain => counts.plaintexts += 1,
            Opcode::Rescale => counts.rescales += 1,
            Opcode::Bootstrap => counts.bootstraps += 1,
            _ => {}
        }
        if data.opcode != Opcode::Output {
            counts.depth = counts
                .depth
                .max(result_depth.saturating_sub(depth_in[layer]));
        }
    }
    let mut total = Counts::default();
    per_layer.iter().for_each(|c| total.add(c));
    total.depth = total_depth;
    ProgramStats {
        slots,
        layers: layers
            .iter()
            .zip(per_layer)
            .map(|(layer, counts)| LayerStats {
                name: layer.name.clone(),
                op: layer.op.clone(),
                counts,
            })
            .collect(),
        total,
    }
}

/// A table: one line per layer, then the totals.
impl fmt::Display for ProgramStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .layers
            .iter()
            .map(|l| l.name.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            f,
            "{:<width$}  {:<13}  {:>9}  {:>7}  {:>6}  {:>6}  {:>9}  {:>6}  {:>10}  {:>5}",
            "layer",
            "op",
            "rotations",
            "hoisted",
            "ct*ct",
            "ct*pt",
            "mul_const",
            "adds",
            "plaintexts",
            "depth"
        )?;
        let line = |f: &mut fmt::Formatter<'_>, name: &str, op: &str, c: &Counts| {
            writeln!(
                f,
                "{name:<width$}  {op:<13}  {:>9}  {:>7}  {:>6}  {:>6}  {:>9}  {:>6}  {:>10}  {:>5}",
                c.rotations,
                c.hoisted,
                c.ct_ct,
                c.ct_pt,
                c.mul_const,
                c.additions,
                c.plaintexts,
                c.depth
            )
        };
        for layer in &self.layers {
            line(f, &layer.name, &layer.op, &layer.counts)?;
        }
        line(f, "total", "", &self.total)?;
        write!(
            f,
            "slots {}, rescales {}, bootstraps {}",
            self.slots, self.total.rescales, self.total.bootstraps
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhec_ir::{BootstrapSpec, Builder, IoSpec, Opaque, Recipe, Scale, ScaledConst, Type};

    fn io(name: &str) -> IoSpec {
        IoSpec {
            name: name.into(),
            layout: Opaque::from_ron("()").unwrap(),
        }
    }

    #[test]
    fn depth_rules_and_attribution() {
        let one = Scale::one();
        let mut b = Builder::new();
        b.set_bootstrap(BootstrapSpec {
            input_level: 0,
            input_scale: one.clone(),
            output_level: 0,
            output_scale: one.clone(),
        });
        let x = b.input(io("x"), Type::cipher(0, one.clone(), 8)).unwrap();
        let p = b
            .plain(Recipe::new("w"), Type::plain(0, one.clone(), 8))
            .unwrap();
        let y = b.mul_plain(x, p).unwrap(); // depth 1
        let r = b.rotate_hoisted(y, vec![1, 2]).unwrap();
        let lift = |value| ScaledConst {
            value,
            scale: one.clone(),
        };
        let z = b.mul_const(r[0], lift(1.0)).unwrap(); // a lift: still 1
        let w = b.mul(z, r[1]).unwrap(); // 2
        let h = b.mul_const(w, lift(0.5)).unwrap(); // 3
        let layer0_end = b.program().order().len();
        let boot = b.bootstrap(h).unwrap(); // 0, attributed by operand
        let v = b.mul(boot, boot).unwrap(); // 1
        b.output(v, io("y")).unwrap();
        let program = b.finish();
        let order = program.order().to_vec();
        let mut inst_layers: HashMap<Inst, usize> =
            order[..layer0_end].iter().map(|&i| (i, 0)).collect();
        inst_layers.insert(order[layer0_end + 1], 1);
        let layers = [
            Layer {
                name: "a".into(),
                op: "A".into(),
            },
            Layer {
                name: "b".into(),
                op: "B".into(),
            },
        ];
        let stats = program_stats(&program, &layers, &inst_layers);
        let a = &stats.layers[0].counts;
        assert_eq!(
            (
                a.rotations,
                a.hoisted,
                a.ct_pt,
                a.ct_ct,
                a.mul_const,
                a.plaintexts
            ),
            (2, 2, 1, 1, 2, 1)
        );
        assert_eq!(a.depth, 3);
        assert_eq!(
            a.bootstraps, 1,
            "the unattributed bootstrap follows its operand"
        );
        let b = &stats.layers[1].counts;
        assert_eq!((b.ct_ct, b.depth), (1, 1));
        assert_eq!(
            stats.total.depth, 1,
            "the output is one product after the bootstrap"
        );
        assert_eq!(stats.total.ct_ct, 2);
    }
}
