//! Slot layouts: where every element of a C×H×W tensor lives in the slots of one or more
//! ciphertexts of `n` slots (DESIGN §1).
//!
//! A [`Layout`] is channel-major: channels are grouped into *planes* of `plane_h × plane_w`
//! slots, planes follow each other inside a ciphertext, and a tensor needs several ciphertexts
//! when its planes do not fit in `n` slots. Inside a plane an element `(y, x)` sits at row
//! `y·gap_y`, column `x·gap_x`: a gap of 2 is what a stride-2 convolution leaves. The gaps may be
//! filled by other channels (*multiplexing*, `mux`): `mux²` channels share one plane, channel
//! `c` at sub-position `((c mod mux²) / mux, c mod mux)`. When one ciphertext's planes take fewer
//! than `n` slots they are **replicated** with a period `p` (a power of two dividing `n`): slot
//! `s` and `s + p` hold the same element, which lets a linear map fold its diagonals modulo `p`.
//!
//! Both directions are closed forms: [`Layout::slot_of`] / [`Layout::slots_of`] (element →
//! slots) and [`Layout::element_at`] (slot → element or empty). The constructor checks that no
//! two elements overlap and that everything fits; [`text`] gives the compact printable form,
//! which is also the serde form (a layout travels in `Program` inputs/outputs as opaque RON and
//! in plaintext recipes as a selector string).

mod text;

use serde::{Deserialize, Serialize};

/// Why a layout is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayoutError {
    /// A dimension, gap, multiplexing factor or plane size is zero.
    #[error("layout: {what} must be at least 1")]
    Zero {
        /// Which quantity.
        what: &'static str,
    },
    /// The slot count is not a power of two.
    #[error("layout: the slot count {0} is not a power of two")]
    Slots(usize),
    /// The replication period is not a power of two dividing the slot count.
    #[error("layout: the period {period} is not a power of two dividing the slot count {slots}")]
    Period {
        /// The period.
        period: usize,
        /// The slot count.
        slots: usize,
    },
    /// Multiplexed channels would land on each other's slots.
    #[error(
        "layout: overlapping elements: mux {mux} interleaves {mux} channels per axis but the element stride is {gap_y}x{gap_x}"
    )]
    Overlap {
        /// The multiplexing factor.
        mux: usize,
        /// Element stride along y.
        gap_y: usize,
        /// Element stride along x.
        gap_x: usize,
    },
    /// The elements of one channel group do not fit in a plane.
    #[error(
        "layout: a {h}x{w} channel with stride {gap_y}x{gap_x} needs a plane of at least {need_h}x{need_w}, the plane is {plane_h}x{plane_w}"
    )]
    Plane {
        /// Tensor height.
        h: usize,
        /// Tensor width.
        w: usize,
        /// Element stride along y.
        gap_y: usize,
        /// Element stride along x.
        gap_x: usize,
        /// Plane height needed.
        need_h: usize,
        /// Plane width needed.
        need_w: usize,
        /// Plane height given.
        plane_h: usize,
        /// Plane width given.
        plane_w: usize,
    },
    /// The planes of one ciphertext do not fit in one period.
    #[error(
        "layout does not fit: {planes} planes of {plane_slots} slots per ciphertext need {needed} slots, the period is {period}"
    )]
    DoesNotFit {
        /// Planes per ciphertext.
        planes: usize,
        /// Slots per plane.
        plane_slots: usize,
        /// Slots needed.
        needed: usize,
        /// The period (at most the slot count).
        period: usize,
    },
    /// Slot data does not match the layout (wrong tensor size or vector count).
    #[error("layout {layout}: {message}")]
    Data {
        /// The layout, in its compact form.
        layout: String,
        /// What is wrong.
        message: String,
    },
    /// The compact text form could not be read.
    #[error("layout {text:?}: {message}")]
    Parse {
        /// The text read.
        text: String,
        /// What is wrong.
        message: String,
    },
}

/// A slot position: ciphertext index and slot index in it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SlotRef {
    /// Which ciphertext of the tensor.
    pub ct: usize,
    /// Which slot of that ciphertext.
    pub slot: usize,
}

/// Where the elements of a C×H×W tensor live in slots; see the module documentation.
///
/// Fields are private: every `Layout` went through [`Layout::new`]'s checks.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Layout {
    shape: [usize; 3],
    slots: usize,
    gap: [usize; 2],
    mux: usize,
    plane: [usize; 2],
    planes_per_ct: usize,
    period: usize,
}

/// The parameters of a layout before validation (the literal form of [`Layout`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LayoutParams {
    /// Tensor shape `[C, H, W]` (a vector of F features is `[F, 1, 1]`).
    pub shape: [usize; 3],
    /// Slots per ciphertext `n` (a power of two).
    pub slots: usize,
    /// Element stride along y and x inside a plane.
    pub gap: [usize; 2],
    /// Channels interleaved per axis in the gaps (`mux²` channels per plane; 1 = none).
    pub mux: usize,
    /// Plane height and width in slots.
    pub plane: [usize; 2],
    /// Planes stored one after the other in each ciphertext.
    pub planes_per_ct: usize,
    /// Replication period (a power of two dividing `slots`; `slots` = no replication).
    pub period: usize,
}

impl Layout {
    /// Checks `params` and builds the layout.
    pub fn new(params: LayoutParams) -> Result<Self, LayoutError> {
        let LayoutParams {
            shape,
            slots,
            gap,
            mux,
            plane,
            planes_per_ct,
            period,
        } = params;
        let named = [
            ("the channel count", shape[0]),
            ("the height", shape[1]),
            ("the width", shape[2]),
            ("the vertical gap", gap[0]),
            ("the horizontal gap", gap[1]),
            ("the multiplexing factor", mux),
            ("the plane height", plane[0]),
            ("the plane width", plane[1]),
            ("the planes per ciphertext", planes_per_ct),
        ];
        if let Some((what, _)) = named.iter().find(|(_, v)| *v == 0) {
            return Err(LayoutError::Zero { what });
        }
        if !slots.is_power_of_two() {
            return Err(LayoutError::Slots(slots));
        }
        if !period.is_power_of_two() || period > slots {
            return Err(LayoutError::Period { period, slots });
        }
        if mux > gap[0] || mux > gap[1] {
            return Err(LayoutError::Overlap {
                mux,
                gap_y: gap[0],
                gap_x: gap[1],
            });
        }
        let need = [(shape[1] - 1) * gap[0] + mux, (shape[2] - 1) * gap[1] + mux];
        if need[0] > plane[0] || need[1] > plane[1] {
            return Err(LayoutError::Plane {
                h: shape[1],
                w: shape[2],
                gap_y: gap[0],
                gap_x: gap[1],
                need_h: need[0],
                need_w: need[1],
                plane_h: plane[0],
                plane_w: plane[1],
            });
        }
        let plane_slots = plane[0] * plane[1];
        let needed = planes_per_ct.saturating_mul(plane_slots);
        if needed > period {
            return Err(LayoutError::DoesNotFit {
                planes: planes_per_ct,
                plane_slots,
                needed,
                period,
            });
        }
        Ok(Layout {
            shape,
            slots,
            gap,
            mux,
            plane,
            planes_per_ct,
            period,
        })
    }

    /// The usual layout of a `[C, H, W]` tensor with element stride `gap` and `mux`
    /// multiplexing: planes of `(H·gap) × (W·gap)` slots, as many planes per ciphertext as fit,
    /// replicated with the smallest power-of-two period holding them when one ciphertext
    /// suffices. `gap = mux = 1` is plain channel-major packing.
    pub fn strided(
        shape: [usize; 3],
        slots: usize,
        gap: usize,
        mux: usize,
    ) -> Result<Self, LayoutError> {
        if gap == 0 || mux == 0 {
            return Err(LayoutError::Zero {
                what: "the gap and the multiplexing factor",
            });
        }
        let plane = [shape[1].max(1) * gap, shape[2].max(1) * gap];
        let plane_slots = plane[0] * plane[1];
        let planes = shape[0].div_ceil(mux * mux).max(1);
        let (planes_per_ct, period) = if planes * plane_slots <= slots {
            (planes, (planes * plane_slots).next_power_of_two())
        } else {
            ((slots / plane_slots).max(1), slots)
        };
        Layout::new(LayoutParams {
            shape,
            slots,
            gap: [gap, gap],
            mux,
            plane,
            planes_per_ct,
            period,
        })
    }

    /// Plain channel-major packing (no gap, no multiplexing), replicated to fill the slots.
    pub fn packed(shape: [usize; 3], slots: usize) -> Result<Self, LayoutError> {
        Layout::strided(shape, slots, 1, 1)
    }

    /// The parameters this layout was built from.
    pub fn params(&self) -> LayoutParams {
        LayoutParams {
            shape: self.shape,
            slots: self.slots,
            gap: self.gap,
            mux: self.mux,
            plane: self.plane,
            planes_per_ct: self.planes_per_ct,
            period: self.period,
        }
    }

    /// The tensor shape `[C, H, W]`.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Slots per ciphertext.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The replication period: slot `s` and `s + period` hold the same element.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Copies of each element per ciphertext (`slots / period`).
    pub fn replicas(&self) -> usize {
        self.slots / self.period
    }

    /// Number of tensor elements.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Number of ciphertexts the tensor occupies.
    pub fn cts(&self) -> usize {
        self.shape[0]
            .div_ceil(self.mux * self.mux)
            .div_ceil(self.planes_per_ct)
    }

    /// The first slot (inside the first period) holding element `(c, y, x)`, or `None` when
    /// the index is outside the shape.
    pub fn slot_of(&self, [c, y, x]: [usize; 3]) -> Option<SlotRef> {
        let [channels, h, w] = self.shape;
        if c >= channels || y >= h || x >= w {
            return None;
        }
        let group = self.mux * self.mux;
        let (plane, sub) = (c / group, c % group);
        let (a, b) = (sub / self.mux, sub % self.mux);
        let row = y * self.gap[0] + a;
        let col = x * self.gap[1] + b;
        let base = (plane % self.planes_per_ct) * self.plane[0] * self.plane[1];
        Some(SlotRef {
            ct: plane / self.planes_per_ct,
            slot: base + row * self.plane[1] + col,
        })
    }

    /// Every slot holding element `(c, y, x)` (one per replica), empty outside the shape.
    pub fn slots_of(&self, element: [usize; 3]) -> impl Iterator<Item = SlotRef> + '_ {
        let first = self.slot_of(element);
        (0..self.replicas()).filter_map(move |t| {
            first.map(|r| SlotRef {
                ct: r.ct,
                slot: r.slot + t * self.period,
            })
        })
    }

    /// The element held by slot `slot` of ciphertext `ct`, or `None` for an empty slot.
    pub fn element_at(&self, ct: usize, slot: usize) -> Option<[usize; 3]> {
        if slot >= self.slots {
            return None;
        }
        let local = slot % self.period;
        let plane_slots = self.plane[0] * self.plane[1];
        let plane_in_ct = local / plane_slots;
        if plane_in_ct >= self.planes_per_ct {
            return None;
        }
        let within = local % plane_slots;
        let (row, col) = (within / self.plane[1], within % self.plane[1]);
        let (y, a) = (row / self.gap[0], row % self.gap[0]);
        let (x, b) = (col / self.gap[1], col % self.gap[1]);
        if a >= self.mux || b >= self.mux {
            return None;
        }
        let plane = ct.checked_mul(self.planes_per_ct)? + plane_in_ct;
        let c = plane * self.mux * self.mux + a * self.mux + b;
        let [channels, h, w] = self.shape;
        (c < channels && y < h && x < w).then_some([c, y, x])
    }

    /// Every element `(c, y, x)` in row-major order.
    pub fn elements_iter(&self) -> impl Iterator<Item = [usize; 3]> + use<> {
        let [c, h, w] = self.shape;
        (0..c).flat_map(move |ci| (0..h).flat_map(move |y| (0..w).map(move |x| [ci, y, x])))
    }

    /// Places a row-major `C·H·W` tensor into `cts()` slot vectors (every replica filled,
    /// empty slots zero), as a client encodes an input.
    pub fn pack(&self, tensor: &[f64]) -> Result<Vec<Vec<f64>>, LayoutError> {
        if tensor.len() != self.elements() {
            return Err(self.data_error(format!(
                "cannot pack {} values into a tensor of {} elements",
                tensor.len(),
                self.elements()
            )));
        }
        let mut out = vec![vec![0.0; self.slots]; self.cts()];
        for (element, &value) in self.elements_iter().zip(tensor) {
            for r in self.slots_of(element) {
                out[r.ct][r.slot] = value;
            }
        }
        Ok(out)
    }

    /// Reads a row-major `C·H·W` tensor back from slot vectors (the first replica of each
    /// element), as a client decodes an output.
    pub fn unpack(&self, cts: &[Vec<f64>]) -> Result<Vec<f64>, LayoutError> {
        if cts.len() != self.cts() || cts.iter().any(|v| v.len() != self.slots) {
            return Err(self.data_error(format!(
                "expected {} vectors of {} slots, found {} of lengths {:?}",
                self.cts(),
                self.slots,
                cts.len(),
                cts.iter().map(Vec::len).collect::<Vec<_>>()
            )));
        }
        Ok(self
            .elements_iter()
            .filter_map(|e| self.slot_of(e))
            .map(|r| cts[r.ct][r.slot])
            .collect())
    }

    fn data_error(&self, message: String) -> LayoutError {
        LayoutError::Data {
            layout: self.to_string(),
            message,
        }
    }
}
