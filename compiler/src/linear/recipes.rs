//! The plaintext recipes of linear maps and their materialisation from weights.
//!
//! Recipes are self-contained: their selectors carry the map's geometry and both layouts, so
//! materialising one needs only the recipe and the weights (DESIGN §3). Shapes (contract with
//! the runtime, `docs/lowering.md`):
//!
//! - **diagonal**: source = the weight tensor (`@conv2d`-style name for weightless maps),
//!   `part="diag"`, `map=<RON of MapKind>`, `from=<layout>`, `to=<layout>`,
//!   `block=[out_ct, in_ct]`, `diag=d`, `rot=r`: slot `j` holds `D_d[(j + r) mod n]`, diagonal
//!   `d` of the block pre-rotated by `r` (the giant step's `−g`);
//! - **bias**: source = the bias tensor, `part="bias"`, `to=<layout>`, `ct=o`: `bias[c]` at
//!   every slot of ciphertext `o` holding an element of channel `c`, zero elsewhere;
//! - **mask**: source `@mask`, `part="mask"`, `to=<layout>`, `ct=o`: one at every element slot
//!   of ciphertext `o`, zero elsewhere.
//!
//! Optional selectors carry a [`Scaling`] (written only when it is not the identity, so plain
//! maps print as before): `gain=g` on a diagonal multiplies it by `g`; on a bias `gain=g` and
//! `offset=β` give `g·bias[c] + β` on element slots. A bias recipe whose source starts with `@`
//! has no tensor (zero bias): it carries an offset only. The lowering folds an activation's
//! range normalisation and the factors values carry between layers into these selectors.
//!
//! [`WeightPlaintexts`] implements [`PlaintextSource`] over named `f32` tensors; it computes
//! all diagonals of a map in one pass over its entries and caches them, since a program asks
//! for every diagonal of every block in turn. The cache keeps the [`MAP_CACHE`] most recently
//! used maps: the lowering emits a map's plaintexts together, and one map's diagonals can take
//! a hundred megabytes at n = 2^14, so keeping every map would hold the whole model's weights
//! in slot form.

use super::LinearError;
use super::map::{BlockValues, LinearMap};
use super::op::{Coef, LinearOp, MapKind};
use crate::layout::Layout;
use fhec_ir::{PlaintextSource, Recipe, RecipeError, Selector};
use ndarray::ArrayD;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Weight tensors by name.
pub type Weights = BTreeMap<String, ArrayD<f32>>;

fn int(value: usize) -> Selector {
    Selector::Int(value as i64)
}

/// How a linear map's plaintexts are scaled: `y = weight·(W x) + bias·b + offset` on element
/// slots. The identity is `weight = bias = 1`, `offset = 0`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Scaling {
    /// Multiplies every diagonal (the weights, or the constants of weightless maps).
    pub weight: f64,
    /// Multiplies the bias tensor.
    pub bias: f64,
    /// Added to every element slot of the output.
    pub offset: f64,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            weight: 1.0,
            bias: 1.0,
            offset: 0.0,
        }
    }
}

impl Scaling {
    /// Whether the map needs an additive plaintext: a bias tensor or a non-zero offset.
    pub fn needs_bias(&self, has_tensor: bool) -> bool {
        has_tensor || self.offset != 0.0
    }
}

/// The recipe of diagonal `diagonal` of block `(out_ct, in_ct)` of `map`, pre-rotated by
/// `rotation`, multiplied by `gain` (written as a selector when it is not 1).
pub fn scaled_diagonal_recipe(
    map: &LinearMap,
    out_ct: usize,
    in_ct: usize,
    diagonal: i64,
    rotation: i64,
    gain: f64,
) -> Recipe {
    let recipe = diagonal_recipe(map, out_ct, in_ct, diagonal, rotation);
    if gain == 1.0 {
        recipe
    } else {
        recipe.with("gain", Selector::Float(gain))
    }
}

/// The recipe of the additive plaintext of ciphertext `ct` of `to`: the bias tensor `name`
/// (none: zero) scaled by `scaling.bias`, plus `scaling.offset` on element slots.
pub fn scaled_bias_recipe(name: Option<&str>, to: &Layout, ct: usize, scaling: &Scaling) -> Recipe {
    let mut recipe = bias_recipe(name.unwrap_or("@none"), to, ct);
    if name.is_some() && scaling.bias != 1.0 {
        recipe = recipe.with("gain", Selector::Float(scaling.bias));
    }
    if scaling.offset != 0.0 {
        recipe = recipe.with("offset", Selector::Float(scaling.offset));
    }
    recipe
}

/// The recipe of diagonal `diagonal` of block `(out_ct, in_ct)` of `map`, pre-rotated by
/// `rotation`.
pub fn diagonal_recipe(
    map: &LinearMap,
    out_ct: usize,
    in_ct: usize,
    diagonal: i64,
    rotation: i64,
) -> Recipe {
    let op = map.op();
    let source = match &op.weight {
        Some(name) => name.clone(),
        None => format!("@{}", op.kind_name()),
    };
    let kind = ron::to_string(&op.kind).unwrap_or_default();
    Recipe::new(source)
        .with("part", Selector::Str("diag".into()))
        .with("map", Selector::Str(kind))
        .with("from", Selector::Str(map.from().to_string()))
        .with("to", Selector::Str(map.to().to_string()))
        .with("block", Selector::List(vec![int(out_ct), int(in_ct)]))
        .with("diag", Selector::Int(diagonal))
        .with("rot", Selector::Int(rotation))
}

/// The recipe of the bias `name` laid out in ciphertext `ct` of `to`.
pub fn bias_recipe(name: &str, to: &Layout, ct: usize) -> Recipe {
    Recipe::new(name)
        .with("part", Selector::Str("bias".into()))
        .with("to", Selector::Str(to.to_string()))
        .with("ct", int(ct))
}

/// The recipe of the element mask of ciphertext `ct` of `layout`.
pub fn mask_recipe(layout: &Layout, ct: usize) -> Recipe {
    Recipe::new("@mask")
        .with("part", Selector::Str("mask".into()))
        .with("to", Selector::Str(layout.to_string()))
        .with("ct", int(ct))
}

fn selector<'r>(recipe: &'r Recipe, key: &str) -> Result<&'r Selector, RecipeError> {
    recipe
        .selectors
        .get(key)
        .ok_or_else(|| RecipeError::new(recipe, format!("missing selector {key}")))
}

fn text<'r>(recipe: &'r Recipe, key: &str) -> Result<&'r str, RecipeError> {
    match selector(recipe, key)? {
        Selector::Str(s) => Ok(s),
        other => Err(RecipeError::new(
            recipe,
            format!("selector {key} should be a string, found {other}"),
        )),
    }
}

fn integer(recipe: &Recipe, key: &str) -> Result<i64, RecipeError> {
    match selector(recipe, key)? {
        Selector::Int(i) => Ok(*i),
        other => Err(RecipeError::new(
            recipe,
            format!("selector {key} should be an integer, found {other}"),
        )),
    }
}

/// An optional real selector (`default` when absent); integers are accepted.
fn real(recipe: &Recipe, key: &str, default: f64) -> Result<f64, RecipeError> {
    match recipe.selectors.get(key) {
        None => Ok(default),
        Some(Selector::Float(x)) => Ok(*x),
        Some(Selector::Int(i)) => Ok(*i as f64),
        Some(other) => Err(RecipeError::new(
            recipe,
            format!("selector {key} should be a number, found {other}"),
        )),
    }
}

fn index(recipe: &Recipe, value: i64, what: &str) -> Result<usize, RecipeError> {
    usize::try_from(value)
        .map_err(|_| RecipeError::new(recipe, format!("{what} {value} is negative")))
}

fn layout(recipe: &Recipe, key: &str) -> Result<Layout, RecipeError> {
    text(recipe, key)?
        .parse()
        .map_err(|e: crate::layout::LayoutError| RecipeError::new(recipe, e.to_string()))
}

/// The values of every non-zero diagonal of every block of one map.
type MapDiagonals = Arc<BlockValues>;

/// How many maps' diagonals [`WeightPlaintexts`] keeps (least recently used evicted first).
pub const MAP_CACHE: usize = 2;

/// Materialises linear-map recipes from named weights; see the module documentation.
pub struct WeightPlaintexts {
    weights: Weights,
    /// All diagonals of the most recently used maps, by the recipe text without `block`,
    /// `diag` and `rot`, most recent last.
    cache: Mutex<Vec<(String, MapDiagonals)>>,
}

impl WeightPlaintexts {
    /// A source over `weights`.
    pub fn new(weights: Weights) -> Self {
        WeightPlaintexts {
            weights,
            cache: Mutex::new(Vec::new()),
        }
    }

    /// Drops the cached diagonals (they are recomputed on demand).
    pub fn clear_cache(&self) {
        self.cache.lock().map(|mut c| c.clear()).unwrap_or(());
    }

    fn tensor(&self, name: &str, shape: Option<&[usize]>) -> Result<Vec<f32>, LinearError> {
        let tensor = self.weights.get(name).ok_or_else(|| LinearError::Weight {
            name: name.into(),
            message: "no such tensor in the weights".into(),
        })?;
        if let Some(shape) = shape.filter(|s| *s != tensor.shape()) {
            return Err(LinearError::Weight {
                name: name.into(),
                message: format!("expected shape {shape:?}, found {:?}", tensor.shape()),
            });
        }
        Ok(tensor.iter().copied().collect())
    }

    fn map_diagonals(&self, recipe: &Recipe) -> Result<MapDiagonals, RecipeError> {
        // The map is determined by the source and the selectors other than the per-plaintext
        // ones (block, diagonal, rotation, gain).
        let mut key = recipe.source.clone();
        for (name, value) in &recipe.selectors {
            if !matches!(name.as_str(), "block" | "diag" | "rot" | "gain") {
                use std::fmt::Write;
                let _ = write!(key, " {name}={value}");
            }
        }
        if let Ok(mut cache) = self.cache.lock()
            && let Some(at) = cache.iter().position(|(k, _)| *k == key)
        {
            let hit = cache.remove(at);
            cache.push(hit.clone());
            return Ok(hit.1);
        }
        let fail = |e: LinearError| RecipeError::new(recipe, e.to_string());
        let kind: MapKind = ron::from_str(text(recipe, "map")?)
            .map_err(|e| RecipeError::new(recipe, format!("selector map: {e}")))?;
        let weight = (!recipe.source.starts_with('@')).then(|| recipe.source.clone());
        let op = LinearOp {
            kind,
            weight,
            bias: None,
        };
        let map =
            LinearMap::new(op, layout(recipe, "from")?, layout(recipe, "to")?).map_err(fail)?;
        let weights = match &map.op().weight {
            Some(name) => {
                let shape = map.op().weight_shape(map.from().shape());
                self.tensor(name, shape.as_deref()).map_err(fail)?
            }
            None => Vec::new(),
        };
        let diagonals = map
            .diagonal_values(None, |coef| match coef {
                Coef::Const(c) => Ok(c),
                Coef::Weight(i) => Ok(f64::from(weights[i])),
            })
            .map_err(fail)?;
        let diagonals = Arc::new(diagonals);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAP_CACHE {
                cache.remove(0);
            }
            cache.push((key, diagonals.clone()));
        }
        Ok(diagonals)
    }

    fn diagonal(&self, recipe: &Recipe, slots: usize) -> Result<Vec<f64>, RecipeError> {
        let d = integer(recipe, "diag")?;
        let rot = integer(recipe, "rot")?;
        let block = match selector(recipe, "block")? {
            Selector::List(items) => match items.as_slice() {
                [Selector::Int(o), Selector::Int(i)] => {
                    (index(recipe, *o, "block")?, index(recipe, *i, "block")?)
                }
                _ => return Err(RecipeError::new(recipe, "block should be [out_ct, in_ct]")),
            },
            _ => return Err(RecipeError::new(recipe, "block should be [out_ct, in_ct]")),
        };
        let map = self.map_diagonals(recipe)?;
        let values = map.get(&block).and_then(|b| b.get(&d)).ok_or_else(|| {
            RecipeError::new(recipe, format!("diagonal {d} is zero in this block"))
        })?;
        let gain = real(recipe, "gain", 1.0)?;
        if values.len() != slots {
            return Err(RecipeError::new(
                recipe,
                format!("the map has {} slots, the plaintext {slots}", values.len()),
            ));
        }
        // Slot j holds values[(j + rot) mod n]: the tail from the shift, then the head.
        let shift = rot.rem_euclid(slots as i64) as usize;
        let mut out = Vec::with_capacity(slots);
        out.extend_from_slice(&values[shift..]);
        out.extend_from_slice(&values[..shift]);
        if gain != 1.0 {
            out.iter_mut().for_each(|v| *v *= gain);
        }
        Ok(out)
    }

    fn per_element(
        &self,
        recipe: &Recipe,
        slots: usize,
        value: impl Fn(usize) -> f64,
    ) -> Result<Vec<f64>, RecipeError> {
        let to = layout(recipe, "to")?;
        let ct = index(recipe, integer(recipe, "ct")?, "ct")?;
        if ct >= to.cts() {
            return Err(RecipeError::new(
                recipe,
                format!("ciphertext {ct} of a layout with {}", to.cts()),
            ));
        }
        let mut out = vec![0.0; slots];
        for element in to.elements_iter() {
            for r in to.slots_of(element).filter(|r| r.ct == ct) {
                out[r.slot] = value(element[0]);
            }
        }
        Ok(out)
    }
}

impl PlaintextSource for WeightPlaintexts {
    fn slots(&self, recipe: &Recipe, slots: usize) -> Result<Vec<f64>, RecipeError> {
        let part = text(recipe, "part")?;
        if part != "diag" && part != "bias" && part != "mask" {
            return Err(RecipeError::new(recipe, format!("unknown part {part:?}")));
        }
        let expected = layout(recipe, "to")?.slots();
        if expected != slots {
            return Err(RecipeError::new(
                recipe,
                format!("the layout has {expected} slots, the plaintext {slots}"),
            ));
        }
        match part {
            "diag" => self.diagonal(recipe, slots),
            "bias" => {
                let channels = layout(recipe, "to")?.shape()[0];
                let bias = if recipe.source.starts_with('@') {
                    vec![0.0; channels]
                } else {
                    self.tensor(&recipe.source, Some(&[channels]))
                        .map_err(|e| RecipeError::new(recipe, e.to_string()))?
                };
                let gain = real(recipe, "gain", 1.0)?;
                let offset = real(recipe, "offset", 0.0)?;
                self.per_element(recipe, slots, |c| gain * f64::from(bias[c]) + offset)
            }
            _ => self.per_element(recipe, slots, |_| 1.0),
        }
    }
}
