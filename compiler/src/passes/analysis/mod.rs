//! Analyses of a program that the transforms read but never change: each answers one
//! question about the program (or about one levels run of it) and leaves the rewriting to the
//! pass that asked.
//!
//! | analysis | question | read by |
//! | --- | --- | --- |
//! | [`liveness`] | which instructions an output needs; how often each value is read; where each value is last used in an order | levels (dead code), schedule (frees, peak) |
//! | [`candidates`] | which values may be bootstrapped, and which of them start an activation | bootstrap placement |
//! | [`level_model`] | what each value costs in levels, and whether another bootstrap set fits | bootstrap merging |
//! | [`scale_flow`] | which values flow unchanged in scale into a bootstrap | levels (targeted encodings) |
//! | [`rotations`] | how often each rotation offset is used; the key set with its level caps | keys |

pub mod candidates;
pub mod level_model;
pub mod liveness;
pub mod rotations;
pub mod scale_flow;
