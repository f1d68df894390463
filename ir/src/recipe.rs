//! Plaintext recipes: what a plaintext *is*, not its data (DESIGN §3).
//!
//! A recipe names a source (a weight tensor, a mask family, a constant vector) and typed
//! `key=value` selectors saying which part of it (diagonal, kernel offset, mask, channel
//! block, …). The level and scale it is encoded at are the plaintext value's type. The runtime
//! encodes a recipe when the schedule needs it, binding weights at execution time, so one
//! compiled program serves any weights of the same architecture. The selector set is open: the
//! lowering decides which keys it writes, the IR only prints, parses and compares them.
//!
//! Text form: `"layer1.0.conv1.weight" {diag=3, kernel=[1, -1], mask="even", scale=0.5}`
//! (selectors sorted by key; the braces are omitted when there is none).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One typed selector value.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum Selector {
    /// An integer, e.g. a diagonal index or a rotation offset.
    Int(i64),
    /// A finite real number (printed in Rust's shortest round-trip form, always with `.` or `e`).
    Float(f64),
    /// A flag.
    Bool(bool),
    /// A string, printed quoted.
    Str(String),
    /// A list of selectors, e.g. a kernel offset `[1, -1]`.
    List(Vec<Selector>),
}

impl Selector {
    /// Why this value cannot be printed and parsed back, if so (a non-finite float).
    pub fn problem(&self) -> Option<String> {
        match self {
            Selector::Float(x) if !x.is_finite() => {
                Some(format!("selector value {x} is not finite"))
            }
            Selector::List(items) => items.iter().find_map(Selector::problem),
            _ => None,
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Int(i) => write!(f, "{i}"),
            Selector::Float(x) => write!(f, "{x:?}"),
            Selector::Bool(b) => write!(f, "{b}"),
            Selector::Str(s) => write!(f, "{s:?}"),
            Selector::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A plaintext recipe: a source name and selectors; see the module documentation.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct Recipe {
    /// The source the data comes from (a weight name, a mask family, `"const"`, …).
    pub source: String,
    /// Which part of the source, by selector key (identifiers: `[A-Za-z_][A-Za-z0-9_]*`).
    pub selectors: BTreeMap<String, Selector>,
}

impl Recipe {
    /// A recipe with no selector.
    pub fn new(source: impl Into<String>) -> Self {
        Recipe {
            source: source.into(),
            selectors: BTreeMap::new(),
        }
    }

    /// This recipe with one more selector (replacing any previous value of `key`).
    pub fn with(mut self, key: impl Into<String>, value: Selector) -> Self {
        self.selectors.insert(key.into(), value);
        self
    }

    /// Why this recipe cannot be printed and parsed back, if so.
    pub fn problem(&self) -> Option<String> {
        for (key, value) in &self.selectors {
            if !is_identifier(key) {
                return Some(format!("selector key {key:?} is not an identifier"));
            }
            if let Some(problem) = value.problem() {
                return Some(format!("selector {key}: {problem}"));
            }
        }
        None
    }
}

/// Whether `text` is an identifier of the textual form (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl fmt::Display for Recipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.source)?;
        if self.selectors.is_empty() {
            return Ok(());
        }
        f.write_str(" {")?;
        for (i, (key, value)) in self.selectors.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{key}={value}")?;
        }
        f.write_str("}")
    }
}

/// Why a recipe could not be turned into slot values.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("plaintext {recipe}: {message}")]
pub struct RecipeError {
    /// The recipe, printed as in the textual form.
    pub recipe: String,
    /// What is wrong (an unknown source, a missing selector, a weight of the wrong shape, …).
    pub message: String,
}

impl RecipeError {
    /// An error about `recipe`.
    pub fn new(recipe: &Recipe, message: impl Into<String>) -> Self {
        RecipeError {
            recipe: recipe.to_string(),
            message: message.into(),
        }
    }
}

/// Turns recipes into slot values: the bridge between a program's plaintext operands and the
/// data they are made of (DESIGN §3).
///
/// The compiler implements it (it knows what each selector means and holds the weights); an
/// executor calls it when a `plain` instruction runs, so the runtime never depends on the
/// compiler. The values are the real slot values *before* encoding: the executor's backend
/// encodes them at the `plain` value's level and scale.
pub trait PlaintextSource {
    /// The `slots` real values of `recipe` (slot `j` of the plaintext is element `j`).
    fn slots(&self, recipe: &Recipe, slots: usize) -> Result<Vec<f64>, RecipeError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_sorted_selectors() {
        let recipe = Recipe::new("conv1.weight")
            .with("mask", Selector::Str("even".into()))
            .with("diag", Selector::Int(3))
            .with(
                "kernel",
                Selector::List(vec![Selector::Int(1), Selector::Int(-1)]),
            )
            .with("gain", Selector::Float(0.5))
            .with("replicated", Selector::Bool(true));
        assert_eq!(
            recipe.to_string(),
            r#""conv1.weight" {diag=3, gain=0.5, kernel=[1, -1], mask="even", replicated=true}"#
        );
        assert_eq!(Recipe::new("ones").to_string(), "\"ones\"");
    }

    #[test]
    fn problems_are_named() {
        assert!(
            Recipe::new("w")
                .with("bad key", Selector::Int(1))
                .problem()
                .unwrap()
                .contains("not an identifier")
        );
        assert!(
            Recipe::new("w")
                .with("x", Selector::Float(f64::NAN))
                .problem()
                .unwrap()
                .contains("not finite")
        );
        assert_eq!(
            Recipe::new("w").with("x", Selector::Float(1e300)).problem(),
            None
        );
    }
}
