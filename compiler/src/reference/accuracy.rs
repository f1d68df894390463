//! Accuracy figures of a run: top-1 accuracy, per-class recall and agreement with reference
//! logits (DESIGN §10 `fhec plain` JSON).

use std::path::Path;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::scalar::Scalar;
use crate::error::{FrontendError, Result, read_file};

/// What `fhec plain` reports; serializes to the JSON of DESIGN §10.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AccuracyReport {
    /// Model name.
    pub model: String,
    /// Images evaluated.
    pub images: usize,
    /// Images whose arg-max matches the label.
    pub correct: usize,
    /// `correct / images` (printed to 4 decimals).
    #[serde(serialize_with = "four_decimals")]
    pub accuracy: f64,
    /// Whether activations were replaced by their approximations (never, here).
    pub approx: bool,
    /// The float type the reference computed in: `"f32"` or `"f64"`.
    pub precision: &'static str,
    /// Recall of each class, in label order.
    pub per_class_recall: ClassRecall,
    /// Largest absolute difference to reference logits, when some were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_abs_logit_diff: Option<f64>,
    /// How close the decisions are: the distribution of top-1 minus top-2 logit.
    pub logit_gaps: LogitGaps,
}

/// The top-1/top-2 logit gaps of a run: an image whose gap exceeds twice a logit error keeps
/// its class under that error, so these counts turn an encrypted run's worst error into a
/// statement about the whole set (`docs/benchmarks.md`, margin analysis).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LogitGaps {
    /// The smallest gap (0 without images).
    pub min: f64,
    /// For each threshold, how many images have a gap below it.
    pub below: GapCounts,
}

/// Threshold → images with a smaller gap, in increasing threshold order (a JSON object).
#[derive(Clone, Debug, PartialEq)]
pub struct GapCounts(pub Vec<(f64, usize)>);

impl Serialize for GapCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (threshold, count) in &self.0 {
            map.serialize_entry(&threshold.to_string(), count)?;
        }
        map.end()
    }
}

/// The thresholds [`LogitGaps`] counts below: from far under to far over the logit errors
/// an encrypted run makes.
pub const GAP_THRESHOLDS: [f64; 8] = [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0];

/// Top-1 minus top-2 of `row` (0 with fewer than two values).
pub fn top_gap(row: &[f64]) -> f64 {
    let (mut first, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &v in row {
        if v > first {
            (first, second) = (v, first);
        } else if v > second {
            second = v;
        }
    }
    if second.is_finite() {
        first - second
    } else {
        0.0
    }
}

impl LogitGaps {
    /// The gaps of `logits` (one row per image) counted below each of `thresholds`.
    pub fn new<F: Scalar>(logits: &[Vec<F>], thresholds: &[f64]) -> Self {
        let gaps: Vec<f64> = logits
            .iter()
            .map(|row| top_gap(&row.iter().map(|v| v.into_f64()).collect::<Vec<_>>()))
            .collect();
        let mut sorted: Vec<f64> = thresholds.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        LogitGaps {
            min: gaps.iter().copied().reduce(f64::min).unwrap_or(0.0),
            below: GapCounts(
                sorted
                    .into_iter()
                    .map(|t| (t, gaps.iter().filter(|&&g| g < t).count()))
                    .collect(),
            ),
        }
    }
}

/// Class name → recall, kept in label order (serialized as a JSON object, each recall to 4
/// decimals: `2/3` prints as `0.6667`, not `0.6666666666666666`).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassRecall(pub Vec<(String, f64)>);

impl Serialize for ClassRecall {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, recall) in &self.0 {
            map.serialize_entry(name, &rounded(*recall))?;
        }
        map.end()
    }
}

/// `value` to 4 decimals: a fraction of images, printed for a reader.
fn rounded(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}

fn four_decimals<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(rounded(*value))
}

/// Index of the largest value (the first one on ties): the predicted class.
pub fn arg_max<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (index, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = index;
        }
    }
    best
}

impl AccuracyReport {
    /// Scores `logits` (one row per image, computed in precision `F`) against `labels`;
    /// `reference` holds rows of the same width to compare with.
    pub fn new<F: Scalar>(
        model: &str,
        logits: &[Vec<F>],
        labels: &[u8],
        class_names: &[String],
        reference: Option<&[f32]>,
    ) -> Self {
        let mut seen = vec![0usize; class_names.len()];
        let mut hit = vec![0usize; class_names.len()];
        for (row, &label) in logits.iter().zip(labels) {
            let label = usize::from(label);
            if label < seen.len() {
                seen[label] += 1;
                hit[label] += usize::from(arg_max(row) == label);
            }
        }
        let correct = hit.iter().sum();
        let recall = class_names
            .iter()
            .zip(seen.iter().zip(&hit))
            .map(|(name, (&s, &h))| (name.clone(), if s == 0 { 0.0 } else { h as f64 / s as f64 }))
            .collect();
        let max_abs_logit_diff = reference.map(|reference| {
            logits
                .iter()
                .flatten()
                .zip(reference)
                .map(|(&a, &b)| (a.into_f64() - f64::from(b)).abs())
                .fold(0.0, f64::max)
        });
        Self {
            model: model.to_owned(),
            images: logits.len(),
            correct,
            accuracy: if logits.is_empty() {
                0.0
            } else {
                correct as f64 / logits.len() as f64
            },
            approx: false,
            precision: F::NAME,
            per_class_recall: ClassRecall(recall),
            max_abs_logit_diff,
            logit_gaps: LogitGaps::new(logits, &GAP_THRESHOLDS),
        }
    }
}

/// Reads the first `images` rows of a little-endian float32 `[rows, width]` logits file.
pub fn load_logits(path: &Path, images: usize, width: usize) -> Result<Vec<f32>> {
    let bytes = read_file(path)?;
    let row_bytes = 4 * width;
    if width == 0 || !bytes.len().is_multiple_of(row_bytes) {
        return Err(FrontendError::Data {
            path: path.to_owned(),
            message: format!(
                "{} bytes is not a whole number of float32 rows of {width} logits",
                bytes.len()
            ),
        });
    }
    let rows = bytes.len() / row_bytes;
    if rows < images {
        return Err(FrontendError::Data {
            path: path.to_owned(),
            message: format!("holds logits of {rows} images, {images} were evaluated"),
        });
    }
    Ok(bytes[..images * row_bytes]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}
