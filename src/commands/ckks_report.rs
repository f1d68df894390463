//! The report of an encrypted run (`fhec run --backend ckks --report r.json`), built to
//! survive interruption: it is rewritten (atomically) after every image, so a run stopped at
//! any point loses at most the image in flight; `--resume` continues it, skipping the images
//! it holds; `fhec report merge` joins the reports of ranges run in separate processes or on
//! separate machines. The summary and the per-layer table are always recomputed from the
//! image records, so a merged report says exactly what one run over all its images would.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use fhec_ir::Layer;
use fhec_runtime::exec::layer_probe::worst_difference;
use serde::{Deserialize, Serialize};

use super::files::write_atomically;
use super::outputs::check_outputs;

/// What one image gave on the CKKS backend.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CkksImage {
    /// Index in the test batch.
    pub index: usize,
    /// True label.
    pub label: u8,
    /// The CKKS prediction.
    pub class: usize,
    /// The clear backend's prediction on the same program.
    pub clear_class: usize,
    /// The exact tensor-level model's prediction.
    pub plain_class: usize,
    /// The tensor-level model with the program's polynomial activations.
    pub approx_class: usize,
    /// Encrypt + eval + decrypt, seconds.
    pub time_s: f64,
    /// Encryption, seconds.
    pub encrypt_s: f64,
    /// Evaluation, seconds.
    pub eval_s: f64,
    /// Decryption, seconds.
    pub decrypt_s: f64,
    /// CPU time over wall time during the evaluation: how many cores were busy on average.
    #[serde(default)]
    pub busy_cores: Option<f64>,
    /// `−log2(max |CKKS − clear| / max |clear|)` over the logits.
    pub precision_bits: Option<f64>,
    /// `max |CKKS − clear|` over the logits.
    pub max_abs_diff: f64,
    /// Top-1 minus top-2 clear logit: how large an error the class survives.
    pub logit_gap: f64,
    /// The precision of each layer's results against the clear backend, by layer index
    /// (`null` for layers without results, or that agree exactly).
    pub layer_precision_bits: Vec<Option<f64>>,
    /// Evaluation time of each layer, seconds, by layer index (the probes' decryptions are
    /// not counted).
    #[serde(default)]
    pub layer_eval_s: Vec<f64>,
    /// The decrypted logits.
    pub logits: Vec<f64>,
    /// The clear backend's logits.
    pub clear_logits: Vec<f64>,
}

/// Totals over the images of a report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Always `"ckks"`.
    pub backend: String,
    /// `"128-bit"` or `"INSECURE"`.
    pub security: String,
    /// Images in the report.
    pub images: usize,
    /// Fraction whose CKKS class is the label.
    pub accuracy: f64,
    /// Fraction whose CKKS class equals the clear backend's.
    pub agreement_clear: f64,
    /// Fraction whose CKKS class equals the exact tensor-level model's.
    pub agreement_plain: f64,
    /// Among the images where the approximate model agrees with the exact one, the fraction
    /// whose CKKS class equals the exact model's.
    pub agreement_plain_where_approx_agrees: f64,
    /// Smallest `precision_bits` over the images.
    pub min_precision_bits: Option<f64>,
    /// Largest `max_abs_diff` over the images: the worst logit error measured.
    pub max_abs_diff: f64,
    /// Smallest top-1/top-2 clear logit gap over the images.
    pub min_logit_gap: Option<f64>,
    /// Mean of encrypt + eval + decrypt per image, seconds.
    pub mean_time_s: f64,
    /// Mean evaluation time per image, seconds.
    pub mean_eval_s: f64,
    /// Mean number of busy cores during the evaluations.
    pub mean_busy_cores: Option<f64>,
}

/// One layer's precision over the images of a report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LayerSummary {
    /// Index in the program's layer table.
    pub index: usize,
    /// The node name.
    pub name: String,
    /// The node's operation.
    pub op: String,
    /// Smallest precision of the layer's results over the images, bits.
    pub min_precision_bits: Option<f64>,
    /// Mean precision over the images, bits.
    pub mean_precision_bits: Option<f64>,
    /// Mean evaluation time of the layer per image, seconds.
    pub mean_eval_s: f64,
}

/// One operation kind's evaluation time in the report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OpEntry {
    /// How many ran.
    pub count: u64,
    /// Their total wall time, seconds.
    pub seconds: f64,
}

/// The report (DESIGN §10 shape, with CKKS fields added).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The program file as given on the command line.
    pub program: String,
    /// BLAKE3 of the program file: reports of different programs are never joined.
    pub program_hash: String,
    /// Always `"ckks"`.
    pub backend: String,
    /// `"128-bit"` or `"INSECURE"`.
    pub security: String,
    /// Threads of every process that added images.
    pub threads: usize,
    /// Ring degree, log2.
    pub log_n: u32,
    /// Slots per ciphertext.
    pub slots: usize,
    /// Largest peak RSS of the processes that wrote the report.
    pub peak_rss_bytes: Option<u64>,
    /// The schedule's prediction (program metadata), to set beside `peak_rss_bytes`.
    pub predicted_peak_bytes: Option<u64>,
    /// Evaluation keys in memory (expanded), bytes.
    pub eval_key_bytes: usize,
    /// How many processes added images (a resumed or merged report has more than one).
    pub processes: usize,
    /// Totals over `images`.
    pub summary: Summary,
    /// One record per image, by index.
    pub images: Vec<CkksImage>,
    /// Seconds per phase, summed over the processes (`load_s`, `setup_s`, `keygen_s`,
    /// `backend_setup_s`, `encrypt_s`, `eval_s`, `decrypt_s`).
    pub phases: BTreeMap<String, f64>,
    /// Evaluation time by IR operation, summed over the images.
    pub ops: BTreeMap<String, OpEntry>,
    /// Precision per model layer over the images (where bits are lost).
    pub layers: Vec<LayerSummary>,
}

/// `−log2(max |got − expected| / max |expected|)` (`None` when they agree exactly), and the
/// largest absolute difference.
pub fn relative_precision(got: &[f64], expected: &[f64]) -> (Option<f64>, f64) {
    let (diff, peak) = worst_difference(got, expected);
    let relative = if peak > 0.0 { diff / peak } else { diff };
    (finite(-relative.log2()), diff)
}

/// `x` if finite.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl Report {
    /// An empty report of the program at `program` (hash `program_hash`) whose layers are
    /// `layers`; the other fields are set by the caller.
    pub fn new(program: String, program_hash: String, security: &str, layers: &[Layer]) -> Self {
        Report {
            program,
            program_hash,
            backend: "ckks".into(),
            security: security.into(),
            threads: 0,
            log_n: 0,
            slots: 0,
            peak_rss_bytes: None,
            predicted_peak_bytes: None,
            eval_key_bytes: 0,
            processes: 0,
            summary: summary(&[], security),
            images: Vec::new(),
            phases: BTreeMap::new(),
            ops: BTreeMap::new(),
            layers: layers
                .iter()
                .enumerate()
                .map(|(index, layer)| LayerSummary {
                    index,
                    name: layer.name.clone(),
                    op: layer.op.clone(),
                    min_precision_bits: None,
                    mean_precision_bits: None,
                    mean_eval_s: 0.0,
                })
                .collect(),
        }
    }

    /// Reads a report written by [`Report::save`].
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the report", path.display()))?;
        let report: Report = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a report of `fhec run --backend ckks` (or a damaged one)",
                path.display()
            )
        })?;
        if report.backend != "ckks" {
            bail!(
                "{}: a report of the {} backend; only CKKS reports resume and merge",
                path.display(),
                report.backend
            );
        }
        Ok(report)
    }

    /// Recomputes the summary and the layer table, then writes the report atomically.
    pub fn save(&mut self, path: &Path) -> anyhow::Result<()> {
        self.refresh();
        write_atomically(path, serde_json::to_string_pretty(self)?.as_bytes())
    }

    /// Whether image `index` is in the report.
    pub fn has_image(&self, index: usize) -> bool {
        self.images.iter().any(|image| image.index == index)
    }

    /// Adds one image's record, keeping the records ordered by index.
    pub fn add_image(&mut self, image: CkksImage) {
        let at = self.images.partition_point(|i| i.index < image.index);
        self.images.insert(at, image);
    }

    /// Checks that `other` (named `what` in errors) comes from the same program, parameters
    /// and thread count, so that its images can join this report's.
    pub fn check_compatible(&self, other: &Report, what: &str) -> anyhow::Result<()> {
        let same = |field: &str, a: String, b: String| {
            if a == b {
                Ok(())
            } else {
                Err(anyhow::anyhow!("{what}: {field} {b} differs from {a}"))
            }
        };
        same(
            "program",
            self.program_hash.clone(),
            other.program_hash.clone(),
        )?;
        same("security", self.security.clone(), other.security.clone())?;
        same("log_n", self.log_n.to_string(), other.log_n.to_string())?;
        same("slots", self.slots.to_string(), other.slots.to_string())?;
        same(
            "threads",
            self.threads.to_string(),
            other.threads.to_string(),
        )
    }

    /// Joins `other` (named `what` in errors) into this report: its images, phases and
    /// operation times are added, peaks take the larger. An image in both is refused.
    pub fn absorb(&mut self, other: Report, what: &str) -> anyhow::Result<()> {
        self.check_compatible(&other, what)?;
        if let Some(image) = other.images.iter().find(|i| self.has_image(i.index)) {
            bail!("{what}: image {} is already in the report", image.index);
        }
        for image in other.images {
            self.add_image(image);
        }
        for (phase, seconds) in other.phases {
            *self.phases.entry(phase).or_default() += seconds;
        }
        for (op, entry) in other.ops {
            let mine = self.ops.entry(op).or_insert(OpEntry {
                count: 0,
                seconds: 0.0,
            });
            mine.count += entry.count;
            mine.seconds += entry.seconds;
        }
        self.peak_rss_bytes = self.peak_rss_bytes.max(other.peak_rss_bytes);
        self.eval_key_bytes = self.eval_key_bytes.max(other.eval_key_bytes);
        self.processes += other.processes;
        self.refresh();
        Ok(())
    }

    /// Recomputes the summary and the layer table from the image records.
    pub fn refresh(&mut self) {
        self.summary = summary(&self.images, &self.security);
        for layer in &mut self.layers {
            let bits: Vec<f64> = self
                .images
                .iter()
                .filter_map(|image| image.layer_precision_bits.get(layer.index).copied()?)
                .collect();
            layer.min_precision_bits = bits.iter().copied().reduce(f64::min);
            layer.mean_precision_bits =
                (!bits.is_empty()).then(|| bits.iter().sum::<f64>() / bits.len() as f64);
            let seconds: f64 = self
                .images
                .iter()
                .filter_map(|image| image.layer_eval_s.get(layer.index))
                .sum();
            layer.mean_eval_s = seconds / self.images.len().max(1) as f64;
        }
    }
}

/// The totals of `images`.
fn summary(images: &[CkksImage], security: &str) -> Summary {
    let n = images.len().max(1) as f64;
    let fraction = |f: &dyn Fn(&CkksImage) -> bool| images.iter().filter(|i| f(i)).count();
    let approx_agrees = fraction(&|i| i.approx_class == i.plain_class);
    let mean = |pick: fn(&CkksImage) -> f64| images.iter().map(pick).sum::<f64>() / n;
    Summary {
        backend: "ckks".into(),
        security: security.into(),
        images: images.len(),
        accuracy: fraction(&|i| i.class == usize::from(i.label)) as f64 / n,
        agreement_clear: fraction(&|i| i.class == i.clear_class) as f64 / n,
        agreement_plain: fraction(&|i| i.class == i.plain_class) as f64 / n,
        agreement_plain_where_approx_agrees: fraction(&|i| {
            i.approx_class == i.plain_class && i.class == i.plain_class
        }) as f64
            / approx_agrees.max(1) as f64,
        min_precision_bits: images
            .iter()
            .filter_map(|i| i.precision_bits)
            .reduce(f64::min),
        max_abs_diff: images.iter().map(|i| i.max_abs_diff).fold(0.0, f64::max),
        min_logit_gap: images.iter().map(|i| i.logit_gap).reduce(f64::min),
        mean_time_s: mean(|i| i.time_s),
        mean_eval_s: mean(|i| i.eval_s),
        mean_busy_cores: {
            let cores: Vec<f64> = images.iter().filter_map(|i| i.busy_cores).collect();
            (!cores.is_empty()).then(|| cores.iter().sum::<f64>() / cores.len() as f64)
        },
    }
}

/// Arguments of `fhec report merge`.
#[derive(clap::Args)]
pub struct MergeArgs {
    /// Reports of `fhec run --backend ckks --report` over disjoint image ranges of one
    /// program.
    #[arg(required = true, num_args = 2..)]
    pub reports: Vec<std::path::PathBuf>,
    /// Where to write the merged report (never one of the inputs).
    #[arg(short, long)]
    pub output: std::path::PathBuf,
}

/// `fhec report merge A.json B.json ... -o all.json`: one report over all their images;
/// prints the merged summary.
pub fn merge(args: MergeArgs) -> anyhow::Result<()> {
    let inputs: Vec<&Path> = args.reports.iter().map(|p| p.as_path()).collect();
    check_outputs(&[&args.output], &inputs)?;
    let mut reports = args.reports.iter();
    let first = reports.next().context("no report to merge")?;
    let mut merged = Report::load(first)?;
    for path in reports {
        let other = Report::load(path)?;
        merged.absorb(other, &path.display().to_string())?;
    }
    merged.save(&args.output)?;
    println!("{}", serde_json::to_string_pretty(&merged.summary)?);
    Ok(())
}
