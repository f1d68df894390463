//! Per-layer probes: the values that carry each model layer's result to the rest of the
//! program, read during a run, so that two runs of one program (the clear backend and real
//! ciphertexts) can be compared layer by layer and the layer where precision is lost found.
//!
//! A value is a **layer result** when an instruction attributed to layer `L` defines it and
//! an instruction of another layer (or an `output`) reads it. [`Capture`] keeps the slots of
//! every layer result of a reference run; [`Compare`] reads the same values in a second run
//! and keeps, per layer, the largest difference from the reference and the largest reference
//! magnitude, from which [`LayerPrecision::bits`] gives `−log2(max |diff| / max |ref|)`.
//! [`LayerTimer`] measures where the time of a run goes, layer by layer.

use super::interp::Observer;
use fhec_ir::{InstData, Opcode, Program, Value};
use std::collections::HashMap;

/// The layer results of `program`, each with its layer index ([`fhec_ir::Layer`] table).
pub fn layer_results(program: &Program) -> HashMap<Value, u32> {
    let mut defined_by: HashMap<Value, u32> = HashMap::new();
    let mut results = HashMap::new();
    for (_, data) in program.instructions() {
        if data.opcode != Opcode::Free {
            for arg in &data.args {
                if let Some(&layer) = defined_by.get(arg)
                    && (data.layer != Some(layer) || data.opcode == Opcode::Output)
                {
                    results.insert(*arg, layer);
                }
            }
        }
        if let Some(layer) = data.layer {
            for &value in &data.results {
                defined_by.insert(value, layer);
            }
        }
    }
    results
}

/// `max |got − expected|` and `max |expected|`: the two numbers every precision in bits is
/// made of.
pub fn worst_difference(got: &[f64], expected: &[f64]) -> (f64, f64) {
    let diff = got
        .iter()
        .zip(expected)
        .map(|(g, e)| (g - e).abs())
        .fold(0.0, f64::max);
    let peak = expected.iter().map(|e| e.abs()).fold(0.0, f64::max);
    (diff, peak)
}

/// Reads the slots of a ciphertext (decrypts it, or copies a clear slot vector).
pub type SlotReader<'a, C> = Box<dyn FnMut(&C) -> Vec<f64> + 'a>;

/// Keeps the slots of every layer result of a run: the reference of a later [`Compare`].
pub struct Capture<'a, C> {
    results: &'a HashMap<Value, u32>,
    read: SlotReader<'a, C>,
    /// The slots of each layer result seen so far.
    pub values: HashMap<Value, Vec<f64>>,
}

impl<'a, C> Capture<'a, C> {
    /// A capture of `results` (from [`layer_results`]), reading values with `read`.
    pub fn new(results: &'a HashMap<Value, u32>, read: SlotReader<'a, C>) -> Self {
        Capture {
            results,
            read,
            values: HashMap::new(),
        }
    }
}

impl<C> Observer<C> for Capture<'_, C> {
    fn executed(&mut self, _: usize, _: &InstData, results: &[(Value, &C)]) {
        for &(value, cipher) in results {
            if self.results.contains_key(&value) {
                self.values.insert(value, (self.read)(cipher));
            }
        }
    }
}

/// Per layer: the largest absolute difference from the reference over the layer's results,
/// and the largest absolute reference value (`None` where the layer had no result).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerPrecision {
    worst: Vec<Option<(f64, f64)>>,
}

impl LayerPrecision {
    /// `−log2(max |diff| / max |reference|)` for each layer index (the absolute difference
    /// where the reference is all zeros; infinite where the two runs agree exactly).
    pub fn bits(&self) -> Vec<Option<f64>> {
        self.worst
            .iter()
            .map(|worst| {
                worst.map(|(diff, peak)| {
                    let relative = if peak > 0.0 { diff / peak } else { diff };
                    -relative.log2()
                })
            })
            .collect()
    }

    fn record(&mut self, layer: u32, diff: f64, peak: f64) {
        let layer = layer as usize;
        if self.worst.len() <= layer {
            self.worst.resize(layer + 1, None);
        }
        let (d, p) = self.worst[layer].get_or_insert((0.0, 0.0));
        *d = d.max(diff);
        *p = p.max(peak);
    }
}

/// Compares each layer result of a run with a [`Capture`]d reference run of the same program.
pub struct Compare<'a, C> {
    results: &'a HashMap<Value, u32>,
    reference: &'a HashMap<Value, Vec<f64>>,
    read: SlotReader<'a, C>,
    /// What the run has shown so far.
    pub precision: LayerPrecision,
}

impl<'a, C> Compare<'a, C> {
    /// A comparison of `results` against `reference`, reading values with `read`.
    pub fn new(
        results: &'a HashMap<Value, u32>,
        reference: &'a HashMap<Value, Vec<f64>>,
        read: SlotReader<'a, C>,
    ) -> Self {
        Compare {
            results,
            reference,
            read,
            precision: LayerPrecision::default(),
        }
    }
}

impl<C> Observer<C> for Compare<'_, C> {
    fn executed(&mut self, _: usize, _: &InstData, results: &[(Value, &C)]) {
        for &(value, cipher) in results {
            let (Some(&layer), Some(expected)) =
                (self.results.get(&value), self.reference.get(&value))
            else {
                continue;
            };
            let (diff, peak) = worst_difference(&(self.read)(cipher), expected);
            self.precision.record(layer, diff, peak);
        }
    }
}

/// Wall time per layer, around another observer whose own time (decrypting probes, drawing
/// progress) it leaves out: the time from the end of one instruction's observation to the
/// end of the next instruction is that instruction's, and belongs to its layer.
pub struct LayerTimer<'a, C> {
    last: std::time::Instant,
    watched: &'a mut dyn Observer<C>,
    /// Seconds per layer index.
    pub seconds: Vec<f64>,
    /// Seconds spent in the watched observer (to subtract from the run's wall time).
    pub watching_s: f64,
}

impl<'a, C> LayerTimer<'a, C> {
    /// A timer started now (start it right before the run), passing every instruction on to
    /// `watched`.
    pub fn start(watched: &'a mut dyn Observer<C>) -> Self {
        LayerTimer {
            last: std::time::Instant::now(),
            watched,
            seconds: Vec::new(),
            watching_s: 0.0,
        }
    }
}

impl<C> Observer<C> for LayerTimer<'_, C> {
    fn executed(&mut self, position: usize, data: &InstData, results: &[(Value, &C)]) {
        if let Some(layer) = data.layer.map(|l| l as usize) {
            if self.seconds.len() <= layer {
                self.seconds.resize(layer + 1, 0.0);
            }
            self.seconds[layer] += self.last.elapsed().as_secs_f64();
        }
        let watching = std::time::Instant::now();
        self.watched.executed(position, data, results);
        self.last = std::time::Instant::now();
        self.watching_s += (self.last - watching).as_secs_f64();
    }
}

/// Two observers watching one run.
pub struct Both<'a, C>(pub &'a mut dyn Observer<C>, pub &'a mut dyn Observer<C>);

impl<C> Observer<C> for Both<'_, C> {
    fn executed(&mut self, position: usize, data: &InstData, results: &[(Value, &C)]) {
        self.0.executed(position, data, results);
        self.1.executed(position, data, results);
    }
}
