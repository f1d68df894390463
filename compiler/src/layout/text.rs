//! The compact text form of a [`Layout`], which is also its serde form.
//!
//! `16x32x32 n=16384 gap=2x2 mux=2 plane=64x64 planes=4 period=16384`: the shape, then every
//! parameter as `key=value` (pairs written `AxB`), all required, in any order when read. The
//! same string appears in dumps, in `Program` inputs/outputs (as a RON string) and in
//! plaintext recipes, and reading it back runs [`Layout::new`]'s checks.

use super::{Layout, LayoutError, LayoutParams};
use std::fmt;
use std::str::FromStr;

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [c, h, w] = self.shape;
        write!(
            f,
            "{c}x{h}x{w} n={} gap={}x{} mux={} plane={}x{} planes={} period={}",
            self.slots,
            self.gap[0],
            self.gap[1],
            self.mux,
            self.plane[0],
            self.plane[1],
            self.planes_per_ct,
            self.period
        )
    }
}

fn numbers<const K: usize>(text: &str) -> Result<[usize; K], String> {
    let parts: Vec<&str> = text.split('x').collect();
    if parts.len() != K {
        return Err(format!("{text:?} should be {K} numbers separated by 'x'"));
    }
    let mut out = [0; K];
    for (slot, part) in out.iter_mut().zip(parts) {
        *slot = part
            .parse()
            .map_err(|_| format!("{part:?} is not a non-negative integer"))?;
    }
    Ok(out)
}

fn parse(text: &str) -> Result<LayoutParams, String> {
    let mut words = text.split_whitespace();
    let shape = numbers::<3>(words.next().ok_or("empty layout")?)?;
    let (mut slots, mut gap, mut mux, mut plane, mut planes, mut period) =
        (None, None, None, None, None, None);
    for word in words {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| format!("{word:?} is not key=value"))?;
        let seen = match key {
            "n" => slots.replace(numbers::<1>(value)?[0]).is_some(),
            "gap" => gap.replace(numbers::<2>(value)?).is_some(),
            "mux" => mux.replace(numbers::<1>(value)?[0]).is_some(),
            "plane" => plane.replace(numbers::<2>(value)?).is_some(),
            "planes" => planes.replace(numbers::<1>(value)?[0]).is_some(),
            "period" => period.replace(numbers::<1>(value)?[0]).is_some(),
            _ => return Err(format!("unknown key {key:?}")),
        };
        if seen {
            return Err(format!("{key} given twice"));
        }
    }
    let missing = |key: &str| format!("missing {key}=");
    Ok(LayoutParams {
        shape,
        slots: slots.ok_or_else(|| missing("n"))?,
        gap: gap.ok_or_else(|| missing("gap"))?,
        mux: mux.ok_or_else(|| missing("mux"))?,
        plane: plane.ok_or_else(|| missing("plane"))?,
        planes_per_ct: planes.ok_or_else(|| missing("planes"))?,
        period: period.ok_or_else(|| missing("period"))?,
    })
}

impl FromStr for Layout {
    type Err = LayoutError;

    fn from_str(text: &str) -> Result<Self, LayoutError> {
        let params = parse(text).map_err(|message| LayoutError::Parse {
            text: text.to_string(),
            message,
        })?;
        Layout::new(params)
    }
}

impl From<Layout> for String {
    fn from(layout: Layout) -> String {
        layout.to_string()
    }
}

impl TryFrom<String> for Layout {
    type Error = LayoutError;
    fn try_from(text: String) -> Result<Self, LayoutError> {
        text.parse()
    }
}
