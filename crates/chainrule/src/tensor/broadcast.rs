//! Broadcasting: the NumPy broadcast of two shapes, [`Tensor::expand`] and
//! its adjoint [`Tensor::sum_to_shape`].

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use super::axes::shape_err;
use super::dtype::Elem;
use super::layout::reshaped_array;
use super::reduce::reduce_data;
use super::{Data, Tensor};
use crate::error::Result;
use crate::forward::tangents::{only, with_batch};
use crate::macros::panicking;

/// The NumPy broadcast of two shapes, `None` if they are incompatible.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    Some(out)
}

/// `a` broadcast to `shape` (checked by the caller), as a row-major copy.
fn expanded<T: Elem>(a: ArrayViewD<'_, T>, shape: &[usize]) -> Data {
    T::wrap(
        a.broadcast(IxDyn(shape))
            .expect("checked broadcast")
            .as_standard_layout()
            .into_owned(),
    )
}

impl Tensor {
    /// Sums a broadcast gradient back down to `shape` (leading axes and axes
    /// of size 1 in `shape` are summed); an `Err` if `shape` does not
    /// broadcast to `self.shape()`.
    pub fn try_sum_to_shape(&self, shape: &[usize]) -> Result<Tensor> {
        if super::same_shape(self.shape(), shape) {
            return Ok(self.clone());
        }
        if broadcast_shapes(shape, self.shape()).as_deref() != Some(self.shape()) {
            return Err(shape_err("sum_to_shape", self.shape(), shape));
        }
        let lead = self.ndim() - shape.len();
        let axes: Vec<usize> = (0..self.ndim())
            .filter(|&ax| ax < lead || (shape[ax - lead] == 1 && self.shape()[ax] != 1))
            .collect();
        let summed = reduce_data(self.0.data(), &axes, true, 0.0, |a, b| a + b);
        // A contiguous array of the right size: a new header for `shape`.
        let data = match summed {
            Data::F32(a) => reshaped_array(*a, shape),
            Data::Array(a) => reshaped_array(*a, shape),
            scalar => scalar,
        };
        Ok(Tensor::custom(
            data,
            "SumBackward1",
            vec![self.clone()],
            |g, _, inp, b| vec![Some(b.expand(g, inp[0].shape()))],
            |ts, out, _| {
                let t = only(ts);
                let k = t.shape().last().copied().unwrap_or(1);
                t.sum_to_shape(&with_batch(out.shape(), k))
            },
        ))
    }

    panicking! {
        /// [`Tensor::try_sum_to_shape`], panicking on a mismatch.
        ///
        /// # Panics
        /// If `shape` does not broadcast to this tensor's shape.
        pub fn sum_to_shape(&self, shape: &[usize]) -> Tensor = try_sum_to_shape;
    }

    /// Broadcasts to `shape` (NumPy rules); an `Err` if it cannot.
    pub fn try_expand(&self, shape: &[usize]) -> Result<Tensor> {
        if super::same_shape(self.shape(), shape) {
            return Ok(self.clone());
        }
        // A 0-d tensor broadcasts to every shape (no shape to compute: the
        // mean's backward expands its 0-d gradient in every training step).
        if !self.shape().is_empty()
            && broadcast_shapes(self.shape(), shape).as_deref() != Some(shape)
        {
            return Err(shape_err("expand", self.shape(), shape));
        }
        super::checked_numel("expand", shape)?;
        let data = match self.0.data() {
            Data::F32(a) => expanded(a.view(), shape),
            d => match d.as_slice() {
                Some(&[v]) => super::small::array_with(shape, |o| o.fill(v)).unwrap_or_else(|| {
                    let n = shape.iter().product();
                    let mut values = super::buffers::take(n);
                    values.resize(n, v);
                    Data::from_array(
                        ArrayD::from_shape_vec(IxDyn(shape), values).expect("n values"),
                    )
                }),
                _ => expanded(d.view_f64(), shape),
            },
        };
        if !(crate::autograd::is_grad_enabled() && self.is_requires_grad()) {
            // Not recorded: no list of inputs to make.
            return Ok(Tensor::from_data(data));
        }
        Ok(Tensor::custom(
            data,
            "ExpandBackward0",
            vec![self.clone()],
            |g, _, inp, b| vec![Some(b.sum_to(g, inp[0].shape()))],
            |ts, out, _| {
                let t = only(ts);
                let k = t.shape().last().copied().unwrap_or(1);
                t.expand(&with_batch(out.shape(), k))
            },
        ))
    }

    panicking! {
        /// Broadcasts to `shape`.
        ///
        /// # Panics
        /// If this shape does not broadcast to `shape`.
        pub fn expand(&self, shape: &[usize]) -> Tensor = try_expand;
    }

    /// Alias of [`Tensor::expand`].
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        self.expand(shape)
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor;

    #[test]
    fn sum_to_shape_values() {
        let x = tensor![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        assert_eq!(x.sum_to_shape(&[3]).to_vec(), vec![5.0, 7.0, 9.0]);
        assert_eq!(x.sum_to_shape(&[2, 1]).to_vec(), vec![6.0, 15.0]);
        assert_eq!(x.sum_to_shape(&[1, 3]).shape(), &[1, 3]);
        assert_eq!(x.sum_to_shape(&[]).item(), 21.0);
        assert!(x.try_sum_to_shape(&[2]).is_err());
    }

    #[test]
    fn expand_repeats_along_new_and_unit_axes() {
        assert_eq!(
            tensor![1.0, 2.0].expand(&[2, 2]).to_vec(),
            vec![1.0, 2.0, 1.0, 2.0]
        );
    }
}
