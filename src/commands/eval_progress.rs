//! Progress of one encrypted evaluation, layer by layer: a bar on stderr (drawn as
//! `progress` says: terminals only, never with `--quiet`) that names the layer being
//! evaluated, the elapsed time and an estimate of what is left.
//!
//! The estimate weighs each instruction by the typical cost of its operation relative to an
//! addition (measured on ResNet-20 at N = 2^16: a bootstrap costs about 8 000 additions, a
//! key switch about 30), so the bar moves with time rather than with instruction count.

use std::time::Duration;

use fhec_ir::{InstData, Opcode, Program, Value};
use fhec_runtime::exec::Observer;
use indicatif::{ProgressBar, ProgressStyle};

use super::progress;

/// The cost of one instruction in units of an addition.
fn weight(opcode: Opcode, results: usize) -> u64 {
    match opcode {
        Opcode::Bootstrap => 8000,
        Opcode::Mul | Opcode::Rotate | Opcode::Conjugate => 30,
        Opcode::RotateHoisted => 30 * results as u64,
        Opcode::Rescale | Opcode::Plain | Opcode::MulConst => 3,
        Opcode::Free | Opcode::Input | Opcode::Output => 0,
        _ => 1,
    }
}

/// An [`Observer`] that advances a progress bar as a program runs.
pub struct EvalProgress<'p> {
    program: &'p Program,
    bar: ProgressBar,
    layer: Option<u32>,
}

impl<'p> EvalProgress<'p> {
    /// A bar for one run of `program`, titled `title` (e.g. `image 3`).
    pub fn new(program: &'p Program, title: &str) -> Self {
        let total: u64 = program
            .instructions()
            .map(|(_, data)| weight(data.opcode, data.results.len()))
            .sum();
        let bar = ProgressBar::with_draw_target(Some(total.max(1)), progress::target());
        let style = ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {percent:>3}% ~{eta} left  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(title.to_string());
        bar.enable_steady_tick(Duration::from_millis(500));
        EvalProgress {
            program,
            bar,
            layer: None,
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

impl<C> Observer<C> for EvalProgress<'_> {
    fn executed(&mut self, _: usize, data: &InstData, _: &[(Value, &C)]) {
        if data.layer != self.layer {
            self.layer = data.layer;
            let name = data
                .layer
                .and_then(|l| self.program.meta.layers.get(l as usize))
                .map(|layer| format!("{} ({})", layer.name, layer.op))
                .unwrap_or_default();
            self.bar.set_message(name);
        }
        self.bar.inc(weight(data.opcode, data.results.len()));
    }
}
