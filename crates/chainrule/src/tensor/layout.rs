//! Layout: the same values in another shape or axis order ([`Tensor::reshape`],
//! [`Tensor::unsqueeze`], [`Tensor::squeeze`], [`Tensor::permute`],
//! [`Tensor::transpose`], [`Tensor::t`]).

use ndarray::{ArcArray, ArrayD, IxDyn};

use super::axes::{norm_axis, shape_err};
use super::dtype::Elem;
use super::{Data, Tensor, Value};
use crate::error::{Error, Result};
use crate::forward::tangents::{only, with_batch};
use crate::macros::panicking;

/// `data` with a new shape of the same size, in row-major order (a new
/// header over the same buffer when it is contiguous).
fn reshaped(data: &Data, shape: &[usize]) -> Data {
    match data {
        Data::Array(a) => reshaped_array((**a).clone(), shape),
        Data::F32(a) => reshaped_array((**a).clone(), shape),
        Data::Scalar(x) => Data::from_array(ArrayD::from_elem(IxDyn(shape), *x)),
    }
}

/// [`reshaped`] of an array of either element type: a new header when it
/// is contiguous, else a row-major copy.
pub(super) fn reshaped_array<T: Elem>(a: ArcArray<T, IxDyn>, shape: &[usize]) -> Data {
    let a = if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned().into_shared()
    };
    T::wrap_shared(a.into_shape_with_order(IxDyn(shape)).expect("reshape size"))
}

impl Tensor {
    fn reshape_named(&self, shape: &[usize], name: &'static str) -> Result<Tensor> {
        if super::checked_numel("reshape", shape)? != self.numel() {
            return Err(shape_err("reshape", self.shape(), shape));
        }
        if super::same_shape(self.shape(), shape) {
            return Ok(self.clone());
        }
        let target = shape.to_vec();
        let data = Value::after(
            || shape.to_vec(),
            std::slice::from_ref(self),
            move |inp| reshaped(inp[0].data(), &target),
        );
        Ok(Tensor::custom(
            data,
            name,
            vec![self.clone()],
            |g, _, inp, b| vec![Some(b.reshape(g, inp[0].shape()))],
            |ts, out, _| {
                let t = only(ts);
                let k = t.shape().last().copied().unwrap_or(1);
                t.reshape(&with_batch(out.shape(), k))
            },
        ))
    }

    /// The same values in row-major order with a new shape of equal size.
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor> {
        self.reshape_named(shape, "ViewBackward0")
    }

    panicking! {
        /// [`Tensor::try_reshape`], panicking on a size mismatch.
        ///
        /// # Panics
        /// If the sizes differ.
        pub fn reshape(&self, shape: &[usize]) -> Tensor = try_reshape;
    }

    /// A 1-d view of all elements.
    pub fn flatten(&self) -> Tensor {
        self.reshape(&[self.numel()])
    }

    /// Inserts an axis of size 1 at `axis` (−1 appends).
    pub fn try_unsqueeze(&self, axis: isize) -> Result<Tensor> {
        let ax = norm_axis("unsqueeze", axis, self.ndim() + 1)?;
        let mut s = self.shape().to_vec();
        s.insert(ax, 1);
        self.reshape_named(&s, "UnsqueezeBackward0")
    }

    panicking! {
        /// Inserts an axis of size 1.
        ///
        /// # Panics
        /// If `axis` is out of range.
        pub fn unsqueeze(&self, axis: isize) -> Tensor = try_unsqueeze;
    }

    /// Removes the axis `axis` if it has size 1 (else returns `self`);
    /// `None` removes every axis of size 1.
    pub fn try_squeeze(&self, axis: Option<isize>) -> Result<Tensor> {
        let s: Vec<usize> = match axis {
            None => self.shape().iter().copied().filter(|&d| d != 1).collect(),
            Some(a) => {
                let ax = norm_axis("squeeze", a, self.ndim())?;
                let mut s = self.shape().to_vec();
                if s[ax] == 1 {
                    s.remove(ax);
                }
                s
            }
        };
        self.reshape_named(&s, "SqueezeBackward0")
    }

    panicking! {
        /// Removes axes of size 1 (see [`Tensor::try_squeeze`]).
        ///
        /// # Panics
        /// If `axis` is out of range.
        pub fn squeeze(&self, axis: Option<isize>) -> Tensor = try_squeeze;
    }

    fn permute_named(&self, axes: &[usize], name: &'static str) -> Result<Tensor> {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if axes.len() != n
            || axes
                .iter()
                .any(|&a| a >= n || std::mem::replace(&mut seen[a], true))
        {
            return Err(Error::NotAPermutation {
                axes: axes.to_vec(),
                shape: self.shape().to_vec(),
            });
        }
        if axes.iter().enumerate().all(|(i, &a)| i == a) {
            return Ok(self.clone());
        }
        let arr = self.0.data().with_view(|v| {
            v.permuted_axes(IxDyn(axes))
                .as_standard_layout()
                .into_owned()
        });
        // The tangent's batch axis, last, stays last.
        let forward: Vec<usize> = axes.iter().copied().chain([n]).collect();
        let mut inverse = vec![0; n];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        Ok(Tensor::custom(
            Data::from_array(arr),
            name,
            vec![self.clone()],
            move |g, _, _, b| {
                let batched: Vec<usize> =
                    (0..b.0).chain(inverse.iter().map(|&a| b.axis(a))).collect();
                vec![Some(g.permute(&batched))]
            },
            move |ts, _, _| only(ts).permute(&forward),
        ))
    }

    /// Reorders the axes: output axis i is input axis `axes[i]`.
    pub fn try_permute(&self, axes: &[usize]) -> Result<Tensor> {
        self.permute_named(axes, "PermuteBackward0")
    }

    panicking! {
        /// Reorders the axes.
        ///
        /// # Panics
        /// If `axes` is not a permutation.
        pub fn permute(&self, axes: &[usize]) -> Tensor = try_permute;
    }

    /// Swaps two axes.
    pub fn try_transpose(&self, a: isize, b: isize) -> Result<Tensor> {
        let n = self.ndim();
        let a = norm_axis("transpose", a, n)?;
        let b = norm_axis("transpose", b, n)?;
        let mut p: Vec<usize> = (0..n).collect();
        p.swap(a, b);
        self.permute_named(&p, "TransposeBackward0")
    }

    panicking! {
        /// Swaps two axes.
        ///
        /// # Panics
        /// If an axis is out of range.
        pub fn transpose(&self, a: isize, b: isize) -> Tensor = try_transpose;
    }

    /// The transpose of a matrix (0-d and 1-d tensors are returned as is).
    pub fn t(&self) -> Tensor {
        if self.ndim() < 2 {
            return self.clone();
        }
        let n = self.ndim();
        let mut p: Vec<usize> = (0..n).collect();
        p.swap(n - 2, n - 1);
        self.permute_named(&p, "TBackward0")
            .expect("swapping the last two axes is a permutation")
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn layout_ops() {
        let x = Tensor::arange(0.0, 6.0, 1.0).unwrap().reshape(&[2, 3]);
        assert_eq!(x.t().to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        assert_eq!(x.unsqueeze(0).shape(), &[1, 2, 3]);
        assert_eq!(x.unsqueeze(0).squeeze(None).shape(), &[2, 3]);
    }
}
