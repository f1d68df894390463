//! The float types the reference executor computes in: [`f32`] (fast, the default of
//! `fhec plain`) and [`f64`] (the precision of the clear backend, so that comparing the two
//! measures the lowering and not the reference's own rounding).
//!
//! Models, weights and raw inputs are float32 (safetensors, the data set's pixels and the
//! model's float32 preprocessing). A [`Scalar`] says how to take them into its precision:
//! [`f32`] borrows them as they are, [`f64`] widens them, which is exact.

use ndarray::{Array, CowArray, Dimension, NdFloat};

/// A float type the reference executor can run in.
pub trait Scalar: NdFloat {
    /// The name used on the command line and in reports: `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// The value of a float32 (exact for both types).
    fn of_f32(value: f32) -> Self;

    /// The nearest value to a float64 (exact for [`f64`], rounded for [`f32`]).
    fn of_f64(value: f64) -> Self;

    /// The value as a float64 (exact for both types).
    fn into_f64(self) -> f64;

    /// A float32 tensor in this precision: borrowed when nothing changes, else converted once.
    fn cast<D: Dimension>(tensor: &Array<f32, D>) -> CowArray<'_, Self, D>;
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";

    fn of_f32(value: f32) -> Self {
        value
    }

    fn of_f64(value: f64) -> Self {
        value as f32
    }

    fn into_f64(self) -> f64 {
        f64::from(self)
    }

    fn cast<D: Dimension>(tensor: &Array<f32, D>) -> CowArray<'_, Self, D> {
        CowArray::from(tensor.view())
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";

    fn of_f32(value: f32) -> Self {
        f64::from(value)
    }

    fn of_f64(value: f64) -> Self {
        value
    }

    fn into_f64(self) -> f64 {
        self
    }

    fn cast<D: Dimension>(tensor: &Array<f32, D>) -> CowArray<'_, Self, D> {
        CowArray::from(tensor.mapv(f64::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn f32_borrows_and_f64_widens_exactly() {
        let tensor = array![0.1f32, -3.5e-8, 1.0e30];
        let same = f32::cast(&tensor);
        assert!(same.is_view());
        assert_eq!(same, tensor);
        let wide = f64::cast(&tensor);
        assert!(!wide.is_view());
        for (w, n) in wide.iter().zip(&tensor) {
            assert_eq!(*w as f32, *n);
            assert_eq!(*w, f64::from(*n));
        }
        assert_eq!(f64::of_f32(0.1), f64::from(0.1f32));
        assert_eq!(f32::of_f64(0.1), 0.1f32);
        assert_eq!(0.1f32.into_f64(), f64::from(0.1f32));
    }
}
