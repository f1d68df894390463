//! Node-by-node emission of a tensor graph into one IR program.
//!
//! Every node becomes an IR fragment appended in graph order, and every instruction is
//! attributed to its node's [`Layer`] (the side table `--stats` reads):
//!
//! - **inputs**: one `input` per ciphertext of the node's layout, described by an
//!   [`IoDescription`] (layout, factor, preprocessing);
//! - **linear nodes** (Conv2d of any stride/padding/groups, channel-wise affine, AvgPool,
//!   GlobalAvgPool, Gemm): one [`LinearMap`] from the input's layout to the node's, emitted by
//!   its generalised diagonals with baby-step giant-step ([`linear::emit_scaled`]); the input's
//!   factor, the wanted output factor and offset are folded into the plaintexts;
//! - **activations**: the chosen polynomial, per ciphertext ([`poly::emit`]), on the input
//!   converted to the approximation's input map (free when the producer folded it), the last
//!   stage multiplied by the wanted output factor;
//! - **Add**: operands brought to one factor (and layout, by a layout-change map, if the layout
//!   plan could not align them), then `add` per ciphertext;
//! - **Flatten**: no instruction; the value keeps its `[C, H, W]` layout (a Gemm reads it in
//!   row-major order, which is the flattened order);
//! - the graph output: one `output` per ciphertext.
//!
//! Nothing here places rescales, level drops or bootstraps: every value is typed at the
//! placeholder level and scale 1 (see the module documentation of [`super`]).

use super::factors::{Wish, activation_input};
use super::io::{IoDescription, ProgramSource};
use super::layouts::LayoutPlan;
use super::{Layer, LowerError, bindings};
use crate::graph::{NodeId, TensorGraph, TensorOp};
use crate::layout::Layout;
use crate::linear::{self, LinearMap, LinearOp, MapKind, Scaling};
use crate::poly::{self, ActivationApprox};
use fhec_ir::{Builder, Inst, Scale, ScaledConst, Type, Value};
use std::collections::{BTreeMap, HashMap};

/// A lowered tensor: its ciphertexts, their layout, and what the slots hold.
#[derive(Clone, Debug)]
struct Lowered {
    cts: Vec<Value>,
    layout: Layout,
    /// Element slots hold `factor · x + offset`.
    factor: f64,
    offset: f64,
}

/// What the node emission produced.
pub struct Emitted {
    /// The builder holding the program.
    pub builder: Builder,
    /// One layer per node that emitted instructions (plus the conversions it needed).
    pub layers: Vec<Layer>,
    /// The layer of every instruction.
    pub inst_layers: HashMap<Inst, usize>,
}

/// The emission state; see the module documentation.
pub struct NodeLowering<'a> {
    graph: &'a TensorGraph,
    approximations: &'a BTreeMap<String, ActivationApprox>,
    plan: &'a LayoutPlan,
    wants: Vec<Option<Wish>>,
    level: u32,
    source: Option<ProgramSource>,
    builder: Builder,
    values: Vec<Option<Lowered>>,
    layers: Vec<Layer>,
    inst_layers: HashMap<Inst, usize>,
}

fn node_error(name: &str) -> impl Fn(linear::LinearError) -> LowerError + '_ {
    move |e| LowerError::Linear {
        node: name.to_string(),
        source: e,
    }
}

impl<'a> NodeLowering<'a> {
    /// Prepares the emission of `graph` with the layouts of `plan` and the factors `wants`.
    pub fn new(
        graph: &'a TensorGraph,
        approximations: &'a BTreeMap<String, ActivationApprox>,
        plan: &'a LayoutPlan,
        wants: Vec<Option<Wish>>,
        level: u32,
        source: Option<ProgramSource>,
    ) -> Self {
        NodeLowering {
            graph,
            approximations,
            plan,
            wants,
            level,
            source,
            builder: Builder::new(),
            values: vec![None; graph.nodes.len()],
            layers: Vec::new(),
            inst_layers: HashMap::new(),
        }
    }

    fn cipher_type(&self) -> Type {
        Type::cipher(self.level, Scale::one(), self.plan.slots as u32)
    }

    fn value(&self, id: NodeId) -> Lowered {
        self.values[id.index()]
            .clone()
            .expect("nodes are lowered in topological order")
    }

    /// Emits every node, then the outputs.
    pub fn run(mut self) -> Result<Emitted, LowerError> {
        for index in 0..self.graph.nodes.len() {
            let start = self.builder.program().order().len();
            let lowered = self.node(NodeId(index as u32))?;
            self.values[index] = Some(lowered);
            let node = &self.graph.nodes[index];
            self.attribute(start, &node.name, node.op.kind());
        }
        let start = self.builder.program().order().len();
        self.outputs()?;
        let name = self.graph.node(self.graph.output).name.clone();
        self.attribute(start, &format!("{name} (output)"), "Output");
        Ok(Emitted {
            builder: self.builder,
            layers: self.layers,
            inst_layers: self.inst_layers,
        })
    }

    /// Attributes the instructions emitted since `start` to a new layer (none: no layer).
    fn attribute(&mut self, start: usize, name: &str, op: &str) {
        let emitted = &self.builder.program().order()[start..];
        if emitted.is_empty() {
            return;
        }
        let layer = self.layers.len();
        self.layers.push(Layer {
            name: name.to_string(),
            op: op.to_string(),
        });
        self.inst_layers
            .extend(emitted.iter().map(|&inst| (inst, layer)));
    }

    fn node(&mut self, id: NodeId) -> Result<Lowered, LowerError> {
        let node = self.graph.node(id);
        let want = self.wants[id.index()];
        let layout = self.plan.layouts[id.index()].clone();
        match &node.op {
            TensorOp::Input(preprocess) => self.input(id, layout, want, preprocess.clone()),
            TensorOp::Flatten => Ok(self.value(node.inputs[0])),
            TensorOp::Activation(_) => self.activation(id, want),
            TensorOp::Add => self.add(id, want),
            op => {
                let input = self.value(node.inputs[0]);
                let linear = linear_op(&node.name, op)?;
                let wish = want.unwrap_or(Wish::IDENTITY);
                self.linear(&node.name, linear, input, layout, wish)
            }
        }
    }

    fn input(
        &mut self,
        id: NodeId,
        layout: Layout,
        want: Option<Wish>,
        preprocess: Option<crate::model::Preprocess>,
    ) -> Result<Lowered, LowerError> {
        let node = self.graph.node(id);
        let wish = want.unwrap_or(Wish::IDENTITY);
        let mut cts = Vec::with_capacity(layout.cts());
        for part in 0..layout.cts() {
            let description = IoDescription {
                tensor: node.name.clone(),
                shape: node.shape.clone(),
                part,
                layout: layout.clone(),
                factor: wish.factor,
                offset: wish.offset,
                preprocess: preprocess.clone(),
                source: if part == 0 { self.source.take() } else { None },
            };
            let ty = self.cipher_type();
            cts.push(self.builder.input(description.spec(), ty).map_err(|e| {
                LowerError::Build {
                    node: node.name.clone(),
                    source: e,
                }
            })?);
        }
        Ok(Lowered {
            cts,
            layout,
            factor: wish.factor,
            offset: wish.offset,
        })
    }

    /// `value` converted to hold `factor · x + offset` (`mul_const`, `add_const` per
    /// ciphertext, only where they change something).
    fn convert(
        &mut self,
        node: &str,
        value: Lowered,
        factor: f64,
        offset: f64,
    ) -> Result<Lowered, LowerError> {
        let build = |e| LowerError::Build {
            node: node.to_string(),
            source: e,
        };
        let ratio = factor / value.factor;
        let scaled_offset = value.offset * ratio;
        let mut cts = Vec::with_capacity(value.cts.len());
        for &ct in &value.cts {
            let mut v = ct;
            if ratio != 1.0 {
                let constant = ScaledConst {
                    value: ratio,
                    scale: Scale::one(),
                };
                v = self.builder.mul_const(v, constant).map_err(build)?;
            }
            if offset != scaled_offset {
                v = self
                    .builder
                    .add_const(v, offset - scaled_offset)
                    .map_err(build)?;
            }
            cts.push(v);
        }
        Ok(Lowered {
            cts,
            layout: value.layout,
            factor,
            offset,
        })
    }

    fn linear(
        &mut self,
        node: &str,
        op: LinearOp,
        input: Lowered,
        to: Layout,
        wish: Wish,
    ) -> Result<Lowered, LowerError> {
        let input = if input.offset != 0.0 {
            let factor = input.factor;
            self.convert(node, input, factor, 0.0)?
        } else {
            input
        };
        let scaling = Scaling {
            weight: wish.factor / input.factor,
            bias: wish.factor,
            offset: wish.offset,
        };
        let map = LinearMap::new(op, input.layout.clone(), to.clone()).map_err(node_error(node))?;
        let plan = linear::plan(&map.diagonals().map_err(node_error(node))?);
        let lowered = linear::emit_scaled(
            &mut self.builder,
            &map,
            &input.cts,
            &Scale::one(),
            plan,
            &scaling,
        )
        .map_err(node_error(node))?;
        Ok(Lowered {
            cts: lowered.outputs,
            layout: to,
            factor: wish.factor,
            offset: wish.offset,
        })
    }

    fn activation(&mut self, id: NodeId, want: Option<Wish>) -> Result<Lowered, LowerError> {
        let node = self.graph.node(id);
        let approx = self.approximations.get(&node.name).ok_or_else(|| {
            LowerError::MissingApproximation {
                node: node.name.clone(),
            }
        })?;
        let input_map = activation_input(approx);
        let input = self.value(node.inputs[0]);
        let input = self.convert(&node.name, input, input_map.factor, input_map.offset)?;
        let factor = want.map_or(1.0, |w| w.factor);
        let mut scaled = approx.clone();
        if let Some(last) = scaled.stages.last_mut() {
            last.coeffs.iter_mut().for_each(|c| *c *= factor);
        }
        let mut cts = Vec::with_capacity(input.cts.len());
        for &ct in &input.cts {
            let emitted =
                poly::emit(&mut self.builder, ct, &scaled).map_err(|e| LowerError::Activation {
                    node: node.name.clone(),
                    source: e,
                })?;
            cts.push(emitted.output);
        }
        Ok(Lowered {
            cts,
            layout: input.layout,
            factor,
            offset: 0.0,
        })
    }

    fn add(&mut self, id: NodeId, want: Option<Wish>) -> Result<Lowered, LowerError> {
        let node = self.graph.node(id);
        let name = node.name.clone();
        let (first, second) = (self.value(node.inputs[0]), self.value(node.inputs[1]));
        let factor = want.map_or(first.factor, |w| w.factor);
        let first_offset = first.offset * factor / first.factor;
        let a = self.convert(&name, first, factor, first_offset)?;
        let b_offset = match want {
            Some(w) => w.offset - a.offset,
            None => second.offset * factor / second.factor,
        };
        let b = if second.layout == a.layout {
            self.convert(&name, second, factor, b_offset)?
        } else {
            let relayout = LinearOp::fixed(MapKind::Relayout);
            let wish = Wish {
                factor,
                offset: b_offset,
            };
            let to = a.layout.clone();
            self.linear(
                &format!("{name} (layout change)"),
                relayout,
                second,
                to,
                wish,
            )?
        };
        let mut cts = Vec::with_capacity(a.cts.len());
        for (&x, &y) in a.cts.iter().zip(&b.cts) {
            cts.push(self.builder.add(x, y).map_err(|e| LowerError::Build {
                node: name.clone(),
                source: e,
            })?);
        }
        Ok(Lowered {
            cts,
            layout: a.layout,
            factor,
            offset: a.offset + b.offset,
        })
    }

    fn outputs(&mut self) -> Result<(), LowerError> {
        let id = self.graph.output;
        let node = self.graph.node(id);
        let value = self.value(id);
        for (part, &ct) in value.cts.iter().enumerate() {
            let description = IoDescription {
                tensor: node.name.clone(),
                shape: node.shape.clone(),
                part,
                layout: value.layout.clone(),
                factor: value.factor,
                offset: value.offset,
                preprocess: None,
                source: None,
            };
            self.builder
                .output(ct, description.spec())
                .map_err(|e| LowerError::Build {
                    node: node.name.clone(),
                    source: e,
                })?;
        }
        Ok(())
    }
}

/// The linear map of a linear node (weights named as [`bindings`] names them).
fn linear_op(name: &str, op: &TensorOp) -> Result<LinearOp, LowerError> {
    let weight = bindings::weight_name(name);
    Ok(match op {
        TensorOp::Conv2d(conv) => {
            let (out_channels, _, kh, kw) = conv.weight.dim();
            let kind = MapKind::Conv2d {
                out_channels,
                kernel: [kh, kw],
                stride: [conv.stride; 2],
                padding: [conv.padding; 2],
                groups: conv.groups,
            };
            let bias = conv.bias.as_ref().map(|_| bindings::bias_name(name));
            LinearOp::weighted(kind, weight, bias)
        }
        TensorOp::ChannelAffine { scale, .. } => {
            let channels = scale.len();
            let kind = MapKind::Conv2d {
                out_channels: channels,
                kernel: [1, 1],
                stride: [1, 1],
                padding: [0, 0],
                groups: channels,
            };
            LinearOp::weighted(kind, weight, Some(bindings::bias_name(name)))
        }
        TensorOp::AvgPool { kernel, stride } => LinearOp::fixed(MapKind::AvgPool {
            kernel: [*kernel; 2],
            stride: [*stride; 2],
            padding: [0, 0],
        }),
        TensorOp::GlobalAvgPool => LinearOp::fixed(MapKind::GlobalAvgPool),
        TensorOp::Gemm(gemm) => {
            let bias = gemm.bias.as_ref().map(|_| bindings::bias_name(name));
            LinearOp::weighted(
                MapKind::Gemm {
                    out_features: gemm.weight.nrows(),
                },
                weight,
                bias,
            )
        }
        other => {
            return Err(LowerError::Unsupported {
                node: name.to_string(),
                message: format!("{} is not a linear operation", other.kind()),
            });
        }
    })
}
