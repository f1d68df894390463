//! The CIFAR-10 binary format: records of one label byte and 3,072 pixel bytes (red, green,
//! blue planes of 32×32, row-major), no header.

use std::path::Path;

use crate::error::{FrontendError, Result, read_file};

/// Per-image shape: channels, height, width.
pub const CIFAR_IMAGE_SHAPE: [usize; 3] = [3, 32, 32];
const PIXELS: usize = 3 * 32 * 32;
const RECORD: usize = 1 + PIXELS;
const CLASSES: u8 = 10;

/// Images and labels of one batch file.
#[derive(Clone, Debug, PartialEq)]
pub struct CifarBatch {
    labels: Vec<u8>,
    pixels: Vec<u8>,
}

impl CifarBatch {
    /// Reads a batch file, keeping the first `limit` images when given.
    pub fn load(path: &Path, limit: Option<usize>) -> Result<Self> {
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes, path, limit)
    }

    /// Parses batch bytes; `path` names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path, limit: Option<usize>) -> Result<Self> {
        let error = |message: String| FrontendError::Data {
            path: path.to_owned(),
            message,
        };
        if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD) {
            return Err(error(format!(
                "truncated or not a CIFAR-10 binary batch: {} bytes is not a positive multiple \
                 of the {RECORD}-byte record",
                bytes.len()
            )));
        }
        let available = bytes.len() / RECORD;
        let count = limit.map_or(available, |l| l.min(available));
        let mut labels = Vec::with_capacity(count);
        let mut pixels = Vec::with_capacity(count * PIXELS);
        for (index, record) in bytes.chunks_exact(RECORD).take(count).enumerate() {
            if record[0] >= CLASSES {
                return Err(error(format!(
                    "record {index} has label {}, expected 0..=9",
                    record[0]
                )));
            }
            labels.push(record[0]);
            pixels.extend_from_slice(&record[1..]);
        }
        Ok(Self { labels, pixels })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All labels in order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The 3,072 pixel bytes of image `index`, channel-major.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * PIXELS..(index + 1) * PIXELS]
    }
}

/// Class names from a `batches.meta.txt` (one per line, line index = label); label numbers
/// when the file is absent.
pub fn class_names(meta: &Path) -> Vec<String> {
    let from_file = std::fs::read_to_string(meta).ok().map(|text| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    match from_file {
        Some(names) if names.len() == usize::from(CLASSES) => names,
        _ => (0..CLASSES).map(|c| c.to_string()).collect(),
    }
}
