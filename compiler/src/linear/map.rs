//! A linear operation between two slot layouts, seen as a sparse matrix from input slots to
//! output slots, and its generalised diagonals.
//!
//! For output ciphertext `o` and input ciphertext `i`, diagonal `d` of block `(o, i)` holds
//! `M[j][(j + d) mod n]`, so `y_o = Σ_i Σ_d D_{o,i,d} ⊙ rot(x_i, d)` with
//! `rot(v, d)[j] = v[(j + d) mod n]`. The diagonals are found from the tensor-level entries and
//! the two layouts, never from a dense `n × n` matrix. Every output replica gets its rows (so
//! the result is replicated like its layout says: computed on the first replica's rows and
//! copied, shifted, to the others); the input is read through its first replica
//! and, because an input of period `p` satisfies `rot(x, d) = rot(x, d + p)`, diagonal indices
//! are **folded** modulo `p` and taken in `(-p/2, p/2]` (short rotations either way).

use super::LinearError;
use super::op::{Coef, LinearOp};
use crate::layout::Layout;
use std::collections::{BTreeMap, BTreeSet};

/// A linear operation with its input and output layouts, checked to fit together.
#[derive(Clone, PartialEq, Debug)]
pub struct LinearMap {
    op: LinearOp,
    from: Layout,
    to: Layout,
}

/// The non-zero diagonals of every block of a [`LinearMap`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DiagonalSet {
    /// Slots per ciphertext.
    pub slots: usize,
    /// The input layout's period (diagonals are folded modulo it).
    pub in_period: usize,
    /// Input ciphertexts.
    pub in_cts: usize,
    /// Output ciphertexts.
    pub out_cts: usize,
    /// Non-zero diagonal indices in `(-p/2, p/2]` per block `(out_ct, in_ct)`; blocks without
    /// any are absent.
    pub blocks: BTreeMap<(usize, usize), BTreeSet<i64>>,
}

impl DiagonalSet {
    /// Total number of non-zero diagonals over all blocks (= plaintext products).
    pub fn count(&self) -> usize {
        self.blocks.values().map(BTreeSet::len).sum()
    }
}

/// The signed representative in `(-p/2, p/2]` of `value mod p`.
pub fn fold(value: i64, period: usize) -> i64 {
    let p = period as i64;
    // Layout periods are powers of two: a mask is the Euclidean remainder, without a division.
    let r = if period.is_power_of_two() {
        value & (p - 1)
    } else {
        value.rem_euclid(p)
    };
    if r > p / 2 { r - p } else { r }
}

/// Diagonal values per block `(out_ct, in_ct)`, then per diagonal index: `n` slots each.
pub type BlockValues = BTreeMap<(usize, usize), BTreeMap<i64, Vec<f64>>>;

/// One slot-level entry: output ciphertext and slot, input ciphertext, folded diagonal.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotEntry {
    pub out_ct: usize,
    pub out_slot: usize,
    pub in_ct: usize,
    pub diagonal: i64,
    pub coef: Coef,
}

impl LinearMap {
    /// Checks that `op` maps a tensor of `from`'s shape to one of `to`'s shape and that both
    /// layouts use the same slot count.
    pub fn new(op: LinearOp, from: Layout, to: Layout) -> Result<Self, LinearError> {
        if from.slots() != to.slots() {
            return Err(LinearError::Layouts(format!(
                "input layout has {} slots, output layout {}",
                from.slots(),
                to.slots()
            )));
        }
        let out = op.output_shape(from.shape())?;
        if out != to.shape() {
            return Err(LinearError::Layouts(format!(
                "{} maps {:?} to {out:?}, but the output layout holds {:?}",
                op.kind_name(),
                from.shape(),
                to.shape()
            )));
        }
        Ok(LinearMap { op, from, to })
    }

    /// The operation.
    pub fn op(&self) -> &LinearOp {
        &self.op
    }

    /// The input layout.
    pub fn from(&self) -> &Layout {
        &self.from
    }

    /// The output layout.
    pub fn to(&self) -> &Layout {
        &self.to
    }

    /// Calls `f` for every slot-level entry of the output's first replica (rows below the
    /// output period), reading the input's first replica.
    pub(crate) fn for_each_slot_entry(
        &self,
        mut f: impl FnMut(SlotEntry),
    ) -> Result<(), LinearError> {
        let period = self.from.period();
        self.op
            .for_each_entry(self.from.shape(), |out, input, coef| {
                let (Some(source), Some(target)) = (self.from.slot_of(input), self.to.slot_of(out))
                else {
                    return;
                };
                f(SlotEntry {
                    out_ct: target.ct,
                    out_slot: target.slot,
                    in_ct: source.ct,
                    diagonal: fold(source.slot as i64 - target.slot as i64, period),
                    coef,
                });
            })
    }

    /// The row offsets of the output replicas: replica `t` repeats the first replica's rows
    /// `t · period` slots further, so its diagonals are the first replica's shifted by
    /// `−t · period` (folded modulo the input period).
    fn replica_offsets(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.to.replicas()).map(|t| t * self.to.period())
    }

    /// The non-zero diagonals of every block.
    pub fn diagonals(&self) -> Result<DiagonalSet, LinearError> {
        let mut base: BTreeMap<(usize, usize), BTreeSet<i64>> = BTreeMap::new();
        self.for_each_slot_entry(|e| {
            base.entry((e.out_ct, e.in_ct))
                .or_default()
                .insert(e.diagonal);
        })?;
        let p = self.from.period();
        let shifts: BTreeSet<i64> = self
            .replica_offsets()
            .map(|offset| (offset % p) as i64)
            .collect();
        let blocks = base
            .into_iter()
            .map(|(block, diagonals)| {
                let all = diagonals
                    .iter()
                    .flat_map(|&d| shifts.iter().map(move |&s| fold(d - s, p)))
                    .collect();
                (block, all)
            })
            .collect();
        Ok(DiagonalSet {
            slots: self.from.slots(),
            in_period: p,
            in_cts: self.from.cts(),
            out_cts: self.to.cts(),
            blocks,
        })
    }

    /// The values of every non-zero diagonal of block `(out_ct, in_ct)`, with `coef` giving
    /// each entry's value (weights bound by the caller).
    pub fn block_diagonals(
        &self,
        out_ct: usize,
        in_ct: usize,
        coef: impl FnMut(Coef) -> Result<f64, LinearError>,
    ) -> Result<BTreeMap<i64, Vec<f64>>, LinearError> {
        let mut all = self.diagonal_values(Some((out_ct, in_ct)), coef)?;
        Ok(all.remove(&(out_ct, in_ct)).unwrap_or_default())
    }

    /// The values of every non-zero diagonal of every block (or only of `only`), in one pass
    /// over the entries of the first output replica, then copied to the other replicas.
    pub fn diagonal_values(
        &self,
        only: Option<(usize, usize)>,
        mut coef: impl FnMut(Coef) -> Result<f64, LinearError>,
    ) -> Result<BlockValues, LinearError> {
        let rows = self.to.period();
        // Diagonals by (out_ct, in_ct, d) in a flat store, found through a dense index over
        // blocks × folded offsets (a hash lookup per entry costs more than the entry itself).
        type Key = (usize, usize, i64);
        let (p, in_cts) = (self.from.period(), self.from.cts());
        let mut index = vec![u32::MAX; self.to.cts() * in_cts * p];
        let mut store: Vec<(Key, Vec<f64>)> = Vec::new();
        let mut failure = None;
        self.for_each_slot_entry(|e| {
            if failure.is_some() || only.is_some_and(|b| b != (e.out_ct, e.in_ct)) {
                return;
            }
            let value = match coef(e.coef) {
                Ok(value) => value,
                Err(error) => {
                    failure = Some(error);
                    return;
                }
            };
            // Layout periods are powers of two (checked by `Layout::new`).
            let offset = (e.diagonal & (p as i64 - 1)) as usize;
            let cell = &mut index[(e.out_ct * in_cts + e.in_ct) * p + offset];
            if *cell == u32::MAX {
                *cell = store.len() as u32;
                store.push(((e.out_ct, e.in_ct, e.diagonal), vec![0.0; rows]));
            }
            let at = *cell as usize;
            store[at].1[e.out_slot] += value;
        })?;
        if let Some(error) = failure {
            return Err(error);
        }
        let mut base = BlockValues::new();
        for ((o, i, d), values) in store {
            base.entry((o, i)).or_default().insert(d, values);
        }
        let (n, p) = (self.from.slots(), self.from.period());
        let mut blocks = BlockValues::new();
        for (block, diagonals) in base {
            let out = blocks.entry(block).or_default();
            for offset in self.replica_offsets() {
                for (&d, values) in &diagonals {
                    let target = out
                        .entry(fold(d - offset as i64, p))
                        .or_insert_with(|| vec![0.0; n]);
                    for (slot, value) in target[offset..offset + rows].iter_mut().zip(values) {
                        *slot += value;
                    }
                }
            }
        }
        Ok(blocks)
    }

    /// The dense slot matrix of block `(out_ct, in_ct)` as `rows[out_slot][in_slot]`, reading
    /// the input's first replica: for tests and tiny maps only (`n²` values).
    pub fn dense_block(
        &self,
        out_ct: usize,
        in_ct: usize,
        mut coef: impl FnMut(Coef) -> f64,
    ) -> Result<Vec<Vec<f64>>, LinearError> {
        let n = self.from.slots();
        let mut rows = vec![vec![0.0; n]; n];
        self.op.for_each_entry(self.from.shape(), |out, input, c| {
            let Some(source) = self.from.slot_of(input) else {
                return;
            };
            if source.ct != in_ct {
                return;
            }
            for target in self.to.slots_of(out).filter(|t| t.ct == out_ct) {
                rows[target.slot][source.slot] += coef(c);
            }
        })?;
        Ok(rows)
    }
}
