//! Indexing and selection: [`Tensor::get`], [`Tensor::select`],
//! [`Tensor::narrow`], [`Tensor::index_select`] (with their adjoint, a
//! scatter) and [`Tensor::where_`].

use std::rc::Rc;

use ndarray::{ArrayD, Axis, IxDyn, Zip};

use super::axes::norm_axis;
use super::broadcast::broadcast_shapes;
use super::{Data, Tensor};
use crate::error::{Error, Result};
use crate::forward::tangents::{batch_len, only, or_zeros, with_batch};
use crate::macros::panicking;

impl Tensor {
    /// Picks `indices` along `axis`; with `squeeze` (one index) the axis is removed.
    fn gather(
        &self,
        axis: usize,
        indices: Rc<[usize]>,
        squeeze: bool,
        name: &'static str,
    ) -> Result<Tensor> {
        let len = self.shape()[axis];
        if let Some(&bad) = indices.iter().find(|&&i| i >= len) {
            return Err(Error::IndexOutOfRange {
                index: bad,
                axis,
                size: len,
            });
        }
        let arr = self.0.data().with_view(|v| {
            if squeeze {
                v.index_axis(Axis(axis), indices[0]).to_owned()
            } else {
                v.select(Axis(axis), &indices)
            }
        });
        let picked = indices.clone();
        Ok(Tensor::custom(
            Data::from_array(arr),
            name,
            vec![self.clone()],
            move |g, _, inp, b| {
                vec![Some(g.scatter(
                    b.axis(axis),
                    indices.clone(),
                    squeeze,
                    &b.shape(g, inp[0].shape()),
                ))]
            },
            // The same entries of the tangent (its batch axis is last).
            move |ts, _, _| {
                only(ts)
                    .gather(axis, picked.clone(), squeeze, name)
                    .expect("indices in range")
            },
        ))
    }

    /// The adjoint of `gather`: a zero tensor of `shape` with `self`'s
    /// slices added at `indices` along `axis`.
    fn scatter(&self, axis: usize, indices: Rc<[usize]>, squeeze: bool, shape: &[usize]) -> Tensor {
        let mut out = ArrayD::<f64>::zeros(IxDyn(shape));
        self.0.data().with_view(|g| {
            for (k, &i) in indices.iter().enumerate() {
                let mut dst = out.index_axis_mut(Axis(axis), i);
                if squeeze {
                    dst += &g;
                } else {
                    dst += &g.index_axis(Axis(axis), k);
                }
            }
        });
        let (picked, target) = (indices.clone(), shape.to_vec());
        Tensor::custom(
            Data::from_array(out),
            "IndexAddBackward0",
            vec![self.clone()],
            move |g, _, _, b| {
                vec![Some(
                    g.gather(
                        b.axis(axis),
                        indices.clone(),
                        squeeze,
                        "IndexSelectBackward0",
                    )
                    .expect("indices in range"),
                )]
            },
            // The tangent scattered the same way (its batch axis is last).
            move |ts, _, _| {
                let t = only(ts);
                let k = t.shape().last().copied().unwrap_or(1);
                t.scatter(axis, picked.clone(), squeeze, &with_batch(&target, k))
            },
        )
    }

    /// The slice at `index` along `axis`, with that axis removed (`x[i]`).
    pub fn try_select(&self, axis: isize, index: usize) -> Result<Tensor> {
        let ax = norm_axis("select", axis, self.ndim())?;
        self.gather(ax, Rc::from([index]), true, "SelectBackward0")
    }

    panicking! {
        /// The slice at `index` along `axis`.
        ///
        /// # Panics
        /// If `axis` or `index` is out of range.
        pub fn select(&self, axis: isize, index: usize) -> Tensor = try_select;
    }

    /// `x[i][j]...`: the sub-tensor (0-d when every axis is indexed).
    pub fn try_get(&self, index: &[usize]) -> Result<Tensor> {
        if index.len() > self.ndim() {
            return Err(Error::TooManyIndices {
                count: index.len(),
                ndim: self.ndim(),
            });
        }
        let mut t = self.clone();
        for &i in index {
            t = t.try_select(0, i)?;
        }
        Ok(t)
    }

    panicking! {
        /// `x[i][j]...` (see [`Tensor::try_get`]).
        ///
        /// # Panics
        /// If an index is out of bounds.
        pub fn get(&self, index: &[usize]) -> Tensor = try_get;
    }

    /// Elements `start..start + len` along `axis` (`x[start:start+len]`).
    pub fn try_narrow(&self, axis: isize, start: usize, len: usize) -> Result<Tensor> {
        let ax = norm_axis("narrow", axis, self.ndim())?;
        let size = self.shape()[ax];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::RangeOutOfRange {
                op: "narrow",
                start,
                end: start.saturating_add(len),
                axis: ax,
                size,
            });
        }
        let idx: Rc<[usize]> = (start..start + len).collect();
        self.gather(ax, idx, false, "SliceBackward0")
    }

    panicking! {
        /// Elements `start..start + len` along `axis`.
        ///
        /// # Panics
        /// If the range exceeds the axis.
        pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor = try_narrow;
    }

    /// The slices at `indices` along `axis`, in that order (repeats allowed).
    pub fn try_index_select(&self, axis: isize, indices: &[usize]) -> Result<Tensor> {
        let ax = norm_axis("index_select", axis, self.ndim())?;
        self.gather(ax, Rc::from(indices), false, "IndexSelectBackward0")
    }

    panicking! {
        /// The slices at `indices` along `axis`.
        ///
        /// # Panics
        /// If an axis or index is out of range.
        pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor = try_index_select;
    }

    /// `a` where `mask ≠ 0`, else `b`, all three broadcast together;
    /// differentiable in `a` and `b`.
    pub fn try_where_(mask: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let shape = broadcast_shapes(mask.shape(), a.shape())
            .and_then(|s| broadcast_shapes(&s, b.shape()))
            .ok_or_else(|| Error::ShapeMismatch {
                op: "where",
                left: broadcast_shapes(mask.shape(), a.shape())
                    .unwrap_or_else(|| mask.shape().to_vec()),
                right: b.shape().to_vec(),
            })?;
        let data = if shape.is_empty() {
            Data::Scalar(if mask.item() != 0.0 {
                a.item()
            } else {
                b.item()
            })
        } else {
            let m = mask.0.data().to_array();
            let av = a.0.data().to_array();
            let bv = b.0.data().to_array();
            let d = IxDyn(&shape);
            let out: ArrayD<f64> = Zip::from(&m.broadcast(d.clone()).expect("broadcast"))
                .and(&av.broadcast(d.clone()).expect("broadcast"))
                .and(&bv.broadcast(d).expect("broadcast"))
                .map_collect(|&m, &x, &y| if m != 0.0 { x } else { y });
            Data::from_array(out)
        };
        // The mask does not take part in promotion (PyTorch's is a bool).
        let dtype = super::dtype::promote_all(&[a.clone(), b.clone()]);
        Ok(Tensor::custom_in(
            data,
            dtype,
            "WhereBackward0",
            vec![mask.clone(), a.clone(), b.clone()],
            |g, _out, inp, b| {
                let zero = Tensor::scalar(0.0);
                let ga = inp[1]
                    .is_requires_grad()
                    .then(|| b.sum_to(&Tensor::where_(&inp[0], g, &zero), inp[1].shape()));
                let gb = inp[2]
                    .is_requires_grad()
                    .then(|| b.sum_to(&Tensor::where_(&inp[0], &zero, g), inp[2].shape()));
                vec![None, ga, gb]
            },
            |ts, _out, inp| {
                // The tangent of the chosen side; the mask has none.
                let k = batch_len(ts);
                let ta = or_zeros(&ts[1], inp[1].shape(), k);
                let tb = or_zeros(&ts[2], inp[2].shape(), k);
                Tensor::where_(&inp[0].detach().unsqueeze(-1), &ta, &tb)
            },
        ))
    }

    panicking! {
        /// `a` where `mask ≠ 0`, else `b` (see [`Tensor::try_where_`]).
        ///
        /// # Panics
        /// If the three shapes do not broadcast.
        pub fn where_(mask: &Tensor, a: &Tensor, b: &Tensor) -> Tensor = try_where_;
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn indexing() {
        let x = Tensor::arange(0.0, 6.0, 1.0).unwrap().reshape(&[2, 3]);
        assert_eq!(x.get(&[1, 2]).item(), 5.0);
        assert_eq!(x.narrow(1, 1, 2).to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
        assert_eq!(
            x.index_select(1, &[2, 0]).to_vec(),
            vec![2.0, 0.0, 5.0, 3.0]
        );
        assert!(x.try_get(&[2]).is_err());
        assert!(x.try_narrow(1, 2, 2).is_err());
    }
}
