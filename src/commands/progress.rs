//! Progress on long steps (calibration, compiling, key generation, evaluation), on stderr.
//!
//! Shown only when both stdout and stderr are terminals and `--quiet` was not given, so
//! JSON on stdout piped into a file or another program stays clean and logs hold no
//! redraw sequences.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Hides every progress display of this process (`--quiet`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether progress is drawn.
fn visible() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
}

/// Where progress is drawn: stderr when [`visible`], else nowhere.
pub fn target() -> ProgressDrawTarget {
    if visible() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A bar over `len` items counted in `unit`, with elapsed time and an estimate of what is
/// left.
pub fn bar(len: usize, message: String, unit: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::with_draw_target(Some(len as u64), target());
    let template = format!("{{msg}} {{bar:40}} {{pos}}/{{len}} {unit}, {{elapsed}} (eta {{eta}})");
    bar.set_style(ProgressStyle::with_template(&template).context("progress bar template")?);
    bar.set_message(message);
    Ok(bar)
}

/// A spinner with elapsed time for one long step whose length is unknown.
pub fn spinner(message: String) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, target());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.set_message(message);
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner
}

/// A bar over a download of `len` bytes (a byte counter when the length is unknown), with
/// speed and an estimate of what is left.
pub fn bytes(len: Option<u64>, message: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::with_draw_target(len, target());
    let template = if len.is_some() {
        "{msg} {bar:40} {bytes}/{total_bytes}, {bytes_per_sec} (eta {eta})"
    } else {
        "{msg} {bytes}, {bytes_per_sec}"
    };
    bar.set_style(ProgressStyle::with_template(template).context("progress bar template")?);
    bar.set_message(message.to_owned());
    Ok(bar)
}
