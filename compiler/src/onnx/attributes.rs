//! Reading ONNX node attributes and initializer tensors, with errors naming the node.

use std::path::Path;

use onnx_protobuf::{AttributeProto, NodeProto, TensorProto, attribute_proto::AttributeType};
use protobuf::Enum;

use crate::error::{FrontendError, Result};
use crate::model::{tensor_elements, too_large};
use crate::weights::WeightTensor;

/// The name to report for a node: its own, else its first output.
pub(crate) fn node_label(node: &NodeProto) -> String {
    if !node.name.is_empty() {
        node.name.clone()
    } else {
        node.output.first().cloned().unwrap_or_default()
    }
}

/// Attribute access for one node.
pub(crate) struct Attributes<'a> {
    pub(crate) path: &'a Path,
    pub(crate) node: &'a NodeProto,
}

impl Attributes<'_> {
    /// An "unsupported" error for this node with a detail.
    pub(crate) fn unsupported(&self, detail: String) -> FrontendError {
        FrontendError::UnsupportedOnnx {
            path: self.path.to_owned(),
            node: node_label(self.node),
            op: self.node.op_type.clone(),
            detail: format!(": {detail}"),
        }
    }

    fn find(&self, name: &str, kind: AttributeType) -> Result<Option<&AttributeProto>> {
        let Some(attr) = self.node.attribute.iter().find(|a| a.name == name) else {
            return Ok(None);
        };
        match attr.type_.enum_value() {
            Ok(found) if found == kind => Ok(Some(attr)),
            _ => Err(FrontendError::Onnx {
                path: self.path.to_owned(),
                message: format!(
                    "node `{}`: attribute `{name}` is not of type {kind:?}",
                    node_label(self.node)
                ),
            }),
        }
    }

    /// An integer attribute, or `default`.
    pub(crate) fn int(&self, name: &str, default: i64) -> Result<i64> {
        Ok(self
            .find(name, AttributeType::INT)?
            .map_or(default, |a| a.i))
    }

    /// A float attribute, or `default`.
    pub(crate) fn float(&self, name: &str, default: f32) -> Result<f32> {
        Ok(self
            .find(name, AttributeType::FLOAT)?
            .map_or(default, |a| a.f))
    }

    /// An integer-list attribute, if present.
    pub(crate) fn ints(&self, name: &str) -> Result<Option<Vec<i64>>> {
        Ok(self
            .find(name, AttributeType::INTS)?
            .map(|a| a.ints.clone()))
    }

    /// A string attribute, or `default`.
    pub(crate) fn string(&self, name: &str, default: &str) -> Result<String> {
        Ok(self
            .find(name, AttributeType::STRING)?
            .map_or(default.to_owned(), |a| {
                String::from_utf8_lossy(&a.s).into_owned()
            }))
    }

    /// Rejects attributes other than `known`.
    pub(crate) fn only(&self, known: &[&str]) -> Result<()> {
        match self
            .node
            .attribute
            .iter()
            .find(|a| !known.contains(&a.name.as_str()))
        {
            Some(a) => Err(self.unsupported(format!("attribute `{}` is not supported", a.name))),
            None => Ok(()),
        }
    }

    /// A list attribute whose values must all be equal (one value for both spatial axes);
    /// `default` when absent.
    pub(crate) fn uniform(&self, name: &str, len: usize, default: usize) -> Result<usize> {
        let Some(values) = self.ints(name)? else {
            return Ok(default);
        };
        match values.as_slice() {
            [first, rest @ ..]
                if values.len() == len && rest.iter().all(|v| v == first) && *first >= 0 =>
            {
                Ok(*first as usize)
            }
            _ => Err(self.unsupported(format!(
                "`{name}` = {values:?}: only {len} equal non-negative values are supported"
            ))),
        }
    }

    /// Checks `auto_pad` is unset.
    pub(crate) fn no_auto_pad(&self) -> Result<()> {
        let auto_pad = self.string("auto_pad", "NOTSET")?;
        if auto_pad != "NOTSET" {
            return Err(self.unsupported(format!("auto_pad = {auto_pad} (give explicit pads)")));
        }
        Ok(())
    }
}

/// Decodes a float32 initializer.
pub(crate) fn decode_initializer(tensor: &TensorProto, path: &Path) -> Result<WeightTensor> {
    let error = |message: String| FrontendError::Onnx {
        path: path.to_owned(),
        message: format!("initializer `{}`: {message}", tensor.name),
    };
    if tensor.data_type != onnx_protobuf::tensor_proto::DataType::FLOAT.value() {
        return Err(error(format!(
            "data type {} is not supported (only FLOAT = 1)",
            tensor.data_type
        )));
    }
    if !tensor.external_data.is_empty() {
        return Err(error("external data is not supported".into()));
    }
    let shape = tensor
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| error(format!("negative dimension {d}"))))
        .collect::<Result<Vec<usize>>>()?;
    let count = tensor_elements(&shape).ok_or_else(|| error(too_large(&shape)))?;
    let stored = if tensor.raw_data.is_empty() {
        tensor.float_data.len()
    } else {
        tensor.raw_data.len() / 4 + usize::from(!tensor.raw_data.len().is_multiple_of(4))
    };
    if stored != count {
        return Err(error(format!(
            "holds {stored} values for shape {shape:?} ({count} values)"
        )));
    }
    let data: Vec<f32> = if !tensor.raw_data.is_empty() {
        tensor
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        tensor.float_data.clone()
    };
    Ok(WeightTensor { shape, data })
}
