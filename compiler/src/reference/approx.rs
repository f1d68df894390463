//! The approximated reference (`fhec plain --approx`): every activation replaced by exactly
//! the polynomial the compiler chose for it, evaluated by the `poly` module's own circuit
//! interpreter so that the clear backend, which runs the emitted form of the same circuit,
//! agrees with it.
//!
//! Inputs outside an approximation's interval are where a high-degree polynomial explodes, so
//! none goes unreported: each site counts them and keeps the worst `|x|/B` in a
//! [`RangeReport`].

use std::collections::BTreeMap;

use ndarray::ArrayD;

use super::mode::ActivationMode;
use super::scalar::Scalar;
use crate::graph::{TensorGraph, TensorOp};
use crate::model::Activation;
use crate::poly::{self, ActivationApprox, Circuit, PolyError, RangeReport};

/// Why the approximated reference could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ApproxError {
    /// An activation node has no approximation.
    #[error("activation node `{node}` has no approximation")]
    Missing {
        /// The node.
        node: String,
    },
    /// An approximation names a node that is not an activation of the graph.
    #[error("an approximation is given for `{node}`, which is not an activation node of the model")]
    NotAnActivation {
        /// The name given.
        node: String,
    },
    /// An approximation approximates another function than its node computes.
    #[error("node `{node}` computes {expected}, its approximation is of {found}")]
    WrongFunction {
        /// The node.
        node: String,
        /// The node's function.
        expected: poly::Activation,
        /// The approximation's.
        found: poly::Activation,
    },
    /// An approximation's circuit could not be built.
    #[error("approximation of `{node}`: {source}")]
    Poly {
        /// The node.
        node: String,
        /// The problem.
        source: PolyError,
    },
}

/// The `poly` function that approximates a model activation.
pub fn approximated_function(kind: Activation) -> poly::Activation {
    match kind {
        Activation::Relu => poly::Activation::Relu,
    }
}

/// One activation site: the node, its approximation and the circuit built from it once.
#[derive(Clone, Debug)]
struct Site {
    node: String,
    approx: ActivationApprox,
    circuit: Circuit,
}

/// The [`ActivationMode`] that evaluates each activation by its approximation; observes one
/// [`RangeReport`] per site, in graph order.
#[derive(Clone, Debug)]
pub struct ApproxActivations {
    /// For each node of the graph, its site's position in `sites`.
    site_of_node: Vec<Option<usize>>,
    sites: Vec<Site>,
}

impl ApproxActivations {
    /// Pairs every activation node of `graph` with its approximation in `approximations`
    /// (keyed by node name). Every activation needs one, and every one given must belong to
    /// an activation of the same function.
    pub fn new(
        graph: &TensorGraph,
        approximations: &BTreeMap<String, ActivationApprox>,
    ) -> Result<Self, ApproxError> {
        let mut site_of_node = vec![None; graph.nodes.len()];
        let mut sites = Vec::new();
        for (index, node) in graph.nodes.iter().enumerate() {
            let TensorOp::Activation(kind) = node.op else {
                continue;
            };
            let approx = approximations
                .get(&node.name)
                .ok_or_else(|| ApproxError::Missing {
                    node: node.name.clone(),
                })?;
            let expected = approximated_function(kind);
            if approx.activation != expected {
                return Err(ApproxError::WrongFunction {
                    node: node.name.clone(),
                    expected,
                    found: approx.activation,
                });
            }
            let circuit = approx.circuit().map_err(|source| ApproxError::Poly {
                node: node.name.clone(),
                source,
            })?;
            site_of_node[index] = Some(sites.len());
            sites.push(Site {
                node: node.name.clone(),
                approx: approx.clone(),
                circuit,
            });
        }
        if let Some(stray) = approximations
            .keys()
            .find(|name| !sites.iter().any(|site| &site.node == *name))
        {
            return Err(ApproxError::NotAnActivation {
                node: stray.clone(),
            });
        }
        Ok(Self {
            site_of_node,
            sites,
        })
    }

    /// A fresh observation state: one empty [`RangeReport`] per site, in graph order (what
    /// every precision's [`ActivationMode::start`] returns).
    pub fn start(&self) -> Vec<RangeReport> {
        vec![RangeReport::default(); self.sites.len()]
    }

    /// The sites in graph order: node name and approximation (the order of the observed
    /// [`RangeReport`]s).
    pub fn sites(&self) -> impl Iterator<Item = (&str, &ActivationApprox)> {
        self.sites
            .iter()
            .map(|site| (site.node.as_str(), &site.approx))
    }
}

/// The polynomials are evaluated in f64 whatever `F` is (the circuit interpreter's precision);
/// in f32 their inputs are widened and their outputs rounded.
impl<F: Scalar> ActivationMode<F> for ApproxActivations {
    type Observed = Vec<RangeReport>;

    fn start(&self) -> Vec<RangeReport> {
        self.start()
    }

    fn activate(
        &self,
        node: usize,
        _kind: Activation,
        x: &ArrayD<F>,
        observed: &mut Vec<RangeReport>,
    ) -> ArrayD<F> {
        let slot = self.site_of_node[node].expect("every activation node has a site");
        let site = &self.sites[slot];
        let mut values: Vec<f64> = x.iter().map(|&v| v.into_f64()).collect();
        observed[slot].record(&site.approx.interval, &values);
        site.approx.eval_with(&site.circuit, &mut values);
        let mut y = x.to_owned();
        y.iter_mut()
            .zip(&values)
            .for_each(|(o, &v)| *o = F::of_f64(v));
        y
    }

    fn merge(&self, into: &mut Vec<RangeReport>, other: Vec<RangeReport>) {
        into.iter_mut().zip(&other).for_each(|(a, b)| a.merge(b));
    }
}
