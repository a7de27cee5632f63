//! The storage behind the API, for code that must work on it directly (the
//! benchmark's hand-written baselines): conversions between [`Tensor`] and
//! `ndarray` arrays. Compiled only with the `internals` cargo feature, with
//! [`gemm`](super::gemm): not part of the stable API, since the storage type
//! is private and may change.

use ndarray::ArrayD;

use super::dtype::Elem;
use super::Tensor;

impl Tensor {
    /// A copy of the value as an f64 `ndarray` array (f32 values widened).
    pub fn to_ndarray(&self) -> ArrayD<f64> {
        self.0.data().to_array()
    }

    /// A leaf tensor holding a copy of an `ndarray` array.
    pub fn from_ndarray(a: ArrayD<f64>) -> Tensor {
        Tensor::from_array(a)
    }

    /// A leaf tensor holding an f32 `ndarray` array.
    pub fn from_ndarray_f32(a: ArrayD<f32>) -> Tensor {
        Tensor::from_data(f32::wrap(a))
    }
}
