//! ONNX import: an ONNX model file to a model description plus its weight tensors.
//!
//! Reads the protobuf with `onnx-protobuf` (messages generated from `onnx.proto`). Supports the
//! opset-13 operators Conv, Relu, Add, GlobalAveragePool, Flatten (axis 1), Gemm,
//! BatchNormalization and AveragePool, with the attribute values that have a counterpart in
//! [`Op`]; anything else is refused with the operator and node named. Tensor names of the ONNX
//! graph become node names; initializers become weights under their own names. The batch axis
//! of each graph input is dropped. ONNX carries no preprocessing, so the caller supplies it.

mod attributes;

use std::collections::HashMap;
use std::path::Path;

use onnx_protobuf::{GraphProto, Message, ModelProto, NodeProto};

use crate::error::{FrontendError, Result, read_file};
use crate::model::{
    Activation, InputDescription, ModelDescription, NodeDescription, Op, Preprocess,
    WeightsLocation, tensor_elements, too_large,
};
use crate::weights::WeightTensor;
use attributes::{Attributes, decode_initializer, node_label};

/// What the import needs besides the ONNX file.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Name of the model in the description.
    pub name: String,
    /// Where the description will say the weights are.
    pub weights: WeightsLocation,
    /// Preprocessing of the (single or every) input.
    pub preprocess: Option<Preprocess>,
}

/// A translated ONNX model: the description and the weights it references.
#[derive(Clone, Debug)]
pub struct ImportedModel {
    /// The model description.
    pub description: ModelDescription,
    /// Weight tensors in first-use order.
    pub tensors: Vec<(String, WeightTensor)>,
}

/// Imports the ONNX file at `path`.
pub fn import_onnx(path: &Path, options: &ImportOptions) -> Result<ImportedModel> {
    let bytes = read_file(path)?;
    import_onnx_bytes(&bytes, path, options)
}

/// Imports ONNX bytes; `path` names the source in errors.
pub fn import_onnx_bytes(
    bytes: &[u8],
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportedModel> {
    let model = ModelProto::parse_from_bytes(bytes).map_err(|e| FrontendError::Onnx {
        path: path.to_owned(),
        message: format!("not a readable ONNX model: {e}"),
    })?;
    let Some(graph) = model.graph.as_ref() else {
        return Err(FrontendError::Onnx {
            path: path.to_owned(),
            message: "the model has no graph".into(),
        });
    };
    Importer::new(graph, path)?.run(options)
}

struct Importer<'a> {
    graph: &'a GraphProto,
    path: &'a Path,
    initializers: HashMap<&'a str, WeightTensor>,
    used: Vec<(String, WeightTensor)>,
}

impl<'a> Importer<'a> {
    fn new(graph: &'a GraphProto, path: &'a Path) -> Result<Self> {
        let initializers = graph
            .initializer
            .iter()
            .map(|t| Ok((t.name.as_str(), decode_initializer(t, path)?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            graph,
            path,
            initializers,
            used: Vec::new(),
        })
    }

    fn malformed(&self, message: String) -> FrontendError {
        FrontendError::Onnx {
            path: self.path.to_owned(),
            message,
        }
    }

    fn run(mut self, options: &ImportOptions) -> Result<ImportedModel> {
        let inputs = self.inputs(options)?;
        if self.graph.node.is_empty() {
            return Err(self.malformed("the graph has no nodes".into()));
        }
        let nodes = self
            .graph
            .node
            .iter()
            .map(|node| self.node(node))
            .collect::<Result<Vec<_>>>()?;
        let output = match self.graph.output.as_slice() {
            [one] => one.name.clone(),
            outputs => {
                return Err(self.malformed(format!(
                    "the graph has {} outputs; exactly one is supported",
                    outputs.len()
                )));
            }
        };
        Ok(ImportedModel {
            description: ModelDescription {
                name: options.name.clone(),
                weights: options.weights.clone(),
                inputs,
                nodes,
                output,
            },
            tensors: self.used,
        })
    }

    /// Graph inputs that are not initializers, with the batch axis dropped.
    fn inputs(&self, options: &ImportOptions) -> Result<Vec<InputDescription>> {
        let mut inputs = Vec::new();
        for value in &self.graph.input {
            if self.initializers.contains_key(value.name.as_str()) {
                continue;
            }
            let error =
                |message: String| self.malformed(format!("input `{}`: {message}", value.name));
            let tensor = value.type_.tensor_type();
            if tensor.elem_type != onnx_protobuf::tensor_proto::DataType::FLOAT as i32 {
                return Err(error(format!(
                    "element type {} is not FLOAT",
                    tensor.elem_type
                )));
            }
            let dims = &tensor.shape.dim;
            if dims.len() < 2 {
                return Err(error(format!(
                    "rank {} has no batch axis and sample axes",
                    dims.len()
                )));
            }
            let shape = dims[1..]
                .iter()
                .map(|d| match usize::try_from(d.dim_value()) {
                    Ok(v) if d.has_dim_value() && v > 0 => Ok(v),
                    _ => Err(error(
                        "every axis but the batch axis needs a fixed size".into(),
                    )),
                })
                .collect::<Result<Vec<_>>>()?;
            if tensor_elements(&shape).is_none() {
                return Err(error(too_large(&shape)));
            }
            inputs.push(InputDescription {
                name: value.name.clone(),
                shape,
                preprocess: options.preprocess.clone(),
            });
        }
        Ok(inputs)
    }

    /// A weight input: must be an initializer; recorded for the weights file.
    fn weight(&mut self, node: &NodeProto, index: usize) -> Result<Option<String>> {
        let Some(name) = node.input.get(index).filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        let Some(tensor) = self.initializers.get(name.as_str()) else {
            return Err(Attributes {
                path: self.path,
                node,
            }
            .unsupported(format!("input {index} (`{name}`) must be an initializer")));
        };
        if !self.used.iter().any(|(n, _)| n == name) {
            self.used.push((name.clone(), tensor.clone()));
        }
        Ok(Some(name.clone()))
    }

    fn required_weight(&mut self, node: &NodeProto, index: usize) -> Result<String> {
        self.weight(node, index)?.ok_or_else(|| {
            Attributes {
                path: self.path,
                node,
            }
            .unsupported(format!("input {index} is missing"))
        })
    }

    /// Translates one node.
    fn node(&mut self, node: &NodeProto) -> Result<NodeDescription> {
        let attrs = Attributes {
            path: self.path,
            node,
        };
        let [output] = node.output.as_slice() else {
            if node.op_type == "BatchNormalization" || node.output.is_empty() {
                return Err(attrs.unsupported(format!(
                    "{} outputs (exactly one is supported)",
                    node.output.len()
                )));
            }
            return Err(attrs.unsupported("more than one output".into()));
        };
        if !matches!(node.domain.as_str(), "" | "ai.onnx") {
            return Err(FrontendError::UnsupportedOnnx {
                path: self.path.to_owned(),
                node: node_label(node),
                op: format!("{}.{}", node.domain, node.op_type),
                detail: String::new(),
            });
        }
        let (op, data_inputs) = match node.op_type.as_str() {
            "Conv" => {
                attrs.only(&[
                    "auto_pad",
                    "dilations",
                    "group",
                    "kernel_shape",
                    "pads",
                    "strides",
                ])?;
                attrs.no_auto_pad()?;
                if attrs.uniform("dilations", 2, 1)? != 1 {
                    return Err(attrs.unsupported("dilations other than 1".into()));
                }
                let weight = self.required_weight(node, 1)?;
                let bias = self.weight(node, 2)?;
                let dims = &self.initializers[weight.as_str()].shape;
                if let Some(kernel) = attrs.ints("kernel_shape")? {
                    let from_weight: Vec<i64> = dims.iter().skip(2).map(|&d| d as i64).collect();
                    if kernel != from_weight {
                        return Err(attrs.unsupported(format!(
                            "kernel_shape {kernel:?} differs from the weight's {from_weight:?}"
                        )));
                    }
                }
                let op = Op::Conv2d {
                    weight,
                    bias,
                    stride: attrs.uniform("strides", 2, 1)?,
                    padding: attrs.uniform("pads", 4, 0)?,
                    groups: usize::try_from(attrs.int("group", 1)?)
                        .map_err(|_| attrs.unsupported("negative group".into()))?,
                };
                (op, 1)
            }
            "Relu" => {
                attrs.only(&[])?;
                (Op::Activation(Activation::Relu), 1)
            }
            "Add" => {
                attrs.only(&[])?;
                (Op::Add, 2)
            }
            "GlobalAveragePool" => {
                attrs.only(&[])?;
                (Op::GlobalAvgPool, 1)
            }
            "Flatten" => {
                attrs.only(&["axis"])?;
                let axis = attrs.int("axis", 1)?;
                if axis != 1 {
                    return Err(attrs.unsupported(format!("axis = {axis} (only 1 is supported)")));
                }
                (Op::Flatten, 1)
            }
            "Gemm" => {
                attrs.only(&["alpha", "beta", "transA", "transB"])?;
                if attrs.int("transA", 0)? != 0 {
                    return Err(attrs.unsupported("transA = 1".into()));
                }
                let weight = self.required_weight(node, 1)?;
                let bias = self.weight(node, 2)?;
                if let Some(bias) = &bias {
                    self.flatten_row_bias(bias);
                }
                let op = Op::Gemm {
                    weight,
                    bias,
                    trans_b: attrs.int("transB", 0)? != 0,
                    alpha: attrs.float("alpha", 1.0)?,
                    beta: attrs.float("beta", 1.0)?,
                };
                (op, 1)
            }
            "BatchNormalization" => {
                attrs.only(&["epsilon", "momentum", "training_mode"])?;
                if attrs.int("training_mode", 0)? != 0 {
                    return Err(attrs.unsupported("training_mode = 1".into()));
                }
                let op = Op::BatchNorm {
                    scale: self.required_weight(node, 1)?,
                    bias: self.required_weight(node, 2)?,
                    mean: self.required_weight(node, 3)?,
                    var: self.required_weight(node, 4)?,
                    eps: attrs.float("epsilon", 1e-5)?,
                };
                (op, 1)
            }
            "AveragePool" => {
                attrs.only(&[
                    "auto_pad",
                    "ceil_mode",
                    "count_include_pad",
                    "kernel_shape",
                    "pads",
                    "strides",
                ])?;
                attrs.no_auto_pad()?;
                if attrs.int("ceil_mode", 0)? != 0 {
                    return Err(attrs.unsupported("ceil_mode = 1".into()));
                }
                if attrs.uniform("pads", 4, 0)? != 0 {
                    return Err(attrs.unsupported("padding".into()));
                }
                let kernel = match attrs.ints("kernel_shape")? {
                    Some(_) => attrs.uniform("kernel_shape", 2, 0)?,
                    None => return Err(attrs.unsupported("kernel_shape is missing".into())),
                };
                let op = Op::AvgPool {
                    kernel,
                    stride: attrs.uniform("strides", 2, 1)?,
                };
                (op, 1)
            }
            other => {
                return Err(FrontendError::UnsupportedOnnx {
                    path: self.path.to_owned(),
                    node: node_label(node),
                    op: other.to_owned(),
                    detail: String::new(),
                });
            }
        };
        let inputs: Vec<String> = node.input.iter().take(data_inputs).cloned().collect();
        if inputs.len() != data_inputs {
            return Err(attrs.unsupported(format!("needs {data_inputs} data input(s)")));
        }
        if let Some(constant) = inputs
            .iter()
            .find(|i| self.initializers.contains_key(i.as_str()))
        {
            return Err(attrs.unsupported(format!("constant data input `{constant}`")));
        }
        Ok(NodeDescription {
            name: output.clone(),
            op,
            inputs,
        })
    }

    /// ONNX allows a Gemm bias of shape `[1, N]`; the description wants `[N]`.
    fn flatten_row_bias(&mut self, name: &str) {
        if let Some((_, tensor)) = self.used.iter_mut().find(|(n, _)| n == name)
            && let [1, n] = tensor.shape[..]
        {
            tensor.shape = vec![n];
        }
    }
}
