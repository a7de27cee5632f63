//! Reductions over all elements or given axes, with keepdim: sums, means,
//! extrema, products and argmax.

use ndarray::{ArrayD, Axis, IxDyn};

use super::axes::{norm_axes, norm_axis};
use super::dtype::Elem;
use super::{Data, Tensor, Value};
use crate::autograd::graph::{Batch, Op};
use crate::error::{Error, Result};
use crate::forward::tangents::{only, sum_axes};
use crate::macros::panicking;

/// The shape after reducing `axes` with keepdim.
pub(super) fn keep_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect()
}

/// The shape after reducing `axes` (sorted), kept as size 1 if `keepdim`.
fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    if keepdim {
        return keep_shape(shape, axes);
    }
    shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect()
}

/// Folds a slice with `f` from `init` in eight interleaved lanes (the ops
/// folded here are associative: the order is NumPy's kind of pairwise, and
/// the lanes keep the loop from waiting on one accumulator). f32 values are
/// folded in f64.
fn fold_lanes<T: Elem>(s: &[T], init: f64, f: impl Fn(f64, f64) -> f64 + Copy) -> f64 {
    let mut lanes = [init; 8];
    let chunks = s.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = f(*l, x.to_f64());
        }
    }
    let mut acc = lanes.iter().fold(init, |a, &l| f(a, l));
    for &x in rest {
        acc = f(acc, x.to_f64());
    }
    acc
}

/// The sum of all values of `d`, which holds `T`, folded in f64.
fn sum_all<T: Elem>(d: &Data) -> f64 {
    match T::slice_of(d) {
        Some(s) => fold_lanes(s, 0.0, |a, b| a + b),
        None => T::view_of(d)
            .expect("d holds T")
            .iter()
            .fold(0.0, |a, &b| a + b.to_f64()),
    }
}

/// The backward of [`Tensor::total`] recorded as a structural operation
/// (a deferred input): [`total_grad`]. A function, not a closure, so that
/// its boxed form is zero-sized.
fn total_vjp<const MEAN: bool>(
    g: &Tensor,
    _out: &Tensor,
    inp: &[Tensor],
    b: Batch,
) -> Vec<Option<Tensor>> {
    vec![Some(total_grad(MEAN, g, &inp[0], b))]
}

/// The backward of `x.sum()` (`x.mean()` when `mean`): `g` (divided by the
/// count for a mean) spread over `x`'s shape, keeping `g`'s batch axes.
pub(crate) fn total_grad(mean: bool, g: &Tensor, x: &Tensor, b: Batch) -> Tensor {
    let s = x.shape();
    if b.0 == 0 && !g.is_requires_grad() {
        if let Some(v) = g.scalar_value() {
            return total_grad_of(mean, v, s);
        }
    }
    // Scaled before it is expanded: n times less work.
    let g = if mean {
        g * (1.0 / s.iter().product::<usize>() as f64)
    } else {
        g.clone()
    };
    if b.0 == 0 {
        return g.expand(s);
    }
    let all: Vec<usize> = (0..s.len()).collect();
    b.reshape(&g, &keep_shape(s, &all)).expand(&b.shape(&g, s))
}

/// [`total_grad`] of an unrecorded 0-d f64 gradient `v` (every training
/// step's loss) for an input of shape `s`: the scaled value written
/// straight into an array of `s`, with no 0-d tensor for the scaled value
/// (the same product).
pub(crate) fn total_grad_of(mean: bool, v: f64, s: &[usize]) -> Tensor {
    let v = if mean {
        v * (1.0 / s.iter().product::<usize>() as f64)
    } else {
        v
    };
    Tensor::full(s, v)
}

/// The forward-mode rule of [`Tensor::total`] recorded as a structural
/// operation: [`total_tangent`].
fn total_jvp<const MEAN: bool>(ts: &[Option<Tensor>], _out: &Tensor, inp: &[Tensor]) -> Tensor {
    total_tangent(MEAN, only(ts), &inp[0])
}

/// The forward-mode rule of `x.sum()` (`x.mean()` when `mean`): the
/// tangent `t` (batch axis last) summed over every axis of `x`, divided by
/// the count for a mean.
pub(crate) fn total_tangent(mean: bool, t: &Tensor, x: &Tensor) -> Tensor {
    let s = x.shape();
    let all: Vec<usize> = (0..s.len()).collect();
    let t = sum_axes(t, &all, false);
    if mean {
        t * (1.0 / s.iter().product::<usize>() as f64)
    } else {
        t
    }
}

/// ∂ max/∂x (or min) over `axes`: 1/c at each of the c entries equal to the
/// extremum `out` (reduced over `axes`, kept or not), 0 elsewhere.
fn tie_weights(x: &Tensor, out: &Tensor, axes: &[usize]) -> Tensor {
    let mask = x.eq(&out.detach().reshape(&keep_shape(x.shape(), axes)));
    let count = mask.sum_dim(&axes.iter().map(|&a| a as isize).collect::<Vec<_>>(), true);
    mask / count
}

/// ∂ prod/∂x over `axes`: the product of the other entries, exact with
/// zeros (prod/x off zeros; at a lone zero the product of the non-zeros; 0
/// at zeros when there are several).
fn product_of_others(x: &Tensor, axes: &[usize]) -> Tensor {
    let s = x.shape();
    let iax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
    let zero = Tensor::scalar(0.0);
    let is_zero = x.eq(&zero);
    let x_nz = Tensor::where_(&is_zero, &Tensor::scalar(1.0), x);
    let prod_nz = x_nz.prod_dim(&iax, true);
    let zeros = is_zero.sum_dim(&iax, true);
    let lone = Tensor::where_(&zeros.eq(&Tensor::scalar(1.0)), &prod_nz, &zero);
    let off = Tensor::where_(&zeros.eq(&zero), &(prod_nz / &x_nz), &zero);
    Tensor::where_(&is_zero, &lone.expand(s), &off.expand(s))
}

/// Folds `axes` of `a` with `f` from `init`, in `a`'s dtype.
pub(super) fn reduce_data(
    a: &Data,
    axes: &[usize],
    keepdim: bool,
    init: f64,
    f: impl Fn(f64, f64) -> f64 + Copy,
) -> Data {
    match a {
        Data::F32(x) => reduce_in::<f32>(x.view(), axes, keepdim, init, f),
        _ => reduce_in::<f64>(a.view_f64(), axes, keepdim, init, f),
    }
}

/// [`reduce_data`] of a view of element type `T` (folded in f64).
fn reduce_in<T: Elem>(
    view: ndarray::ArrayViewD<'_, T>,
    axes: &[usize],
    keepdim: bool,
    init: f64,
    f: impl Fn(f64, f64) -> f64 + Copy,
) -> Data {
    let shape = view.shape().to_vec();
    if !keepdim && axes.len() == shape.len() {
        return T::scalar(match view.as_slice() {
            Some(s) => fold_lanes(s, init, f),
            None => view.iter().fold(init, |acc, &x| f(acc, x.to_f64())),
        });
    }
    let mut arr: ArrayD<f64> = match (axes, view.as_slice()) {
        // The leading axis of a contiguous array (a bias gradient, the sum
        // of g's rows): whole rows folded into one accumulator row, in the
        // order of `fold_axis` (the same values) but a loop that vectorises.
        ([0], Some(s)) if shape.len() >= 2 => {
            let inner: usize = shape[1..].iter().product();
            let mut acc = vec![init; inner];
            if inner > 0 {
                for row in s.chunks_exact(inner) {
                    for (a, &x) in acc.iter_mut().zip(row) {
                        *a = f(*a, x.to_f64());
                    }
                }
            }
            ArrayD::from_shape_vec(IxDyn(&shape[1..]), acc).expect("the other axes' size")
        }
        _ => match axes.last() {
            Some(&ax) => view.fold_axis(Axis(ax), init, |&acc, &x| f(acc, x.to_f64())),
            None => view.mapv(T::to_f64),
        },
    };
    for &ax in axes.iter().rev().skip(1) {
        arr = arr.fold_axis(Axis(ax), init, |&acc, &x| f(acc, x));
    }
    if keepdim {
        let ks = keep_shape(&shape, axes);
        arr = arr
            .into_shape_with_order(IxDyn(&ks))
            .expect("keepdim shape has the same size");
    }
    T::from_f64_array(arr)
}

pub(super) fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

impl Tensor {
    /// The sum of all elements (0-d).
    pub fn sum(&self) -> Tensor {
        self.sum_dim(&[], false)
    }

    /// Sums over `axes` (all axes if empty), keeping them as size 1 if `keepdim`.
    pub fn try_sum_dim(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.sum_or_mean_dim::<false>(axes, keepdim)
    }

    panicking! {
        /// Sums over axes.
        ///
        /// # Panics
        /// If an axis is out of range.
        pub fn sum_dim(&self, axes: &[isize], keepdim: bool) -> Tensor = try_sum_dim;
    }

    /// The mean of all elements (0-d).
    pub fn mean(&self) -> Tensor {
        self.mean_dim(&[], false)
    }

    /// Means over `axes` (all if empty).
    pub fn try_mean_dim(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.sum_or_mean_dim::<true>(axes, keepdim)
    }

    /// The sum (`MEAN` false) or the mean over `axes` (all if empty).
    fn sum_or_mean_dim<const MEAN: bool>(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        if axes.is_empty() && !keepdim {
            return Ok(self.total(MEAN));
        }
        let ax = norm_axes(if MEAN { "mean" } else { "sum" }, axes, self.ndim())?;
        let n: usize = ax.iter().map(|&a| self.shape()[a]).product();
        let inv = 1.0 / n as f64;
        let axes_ = ax.clone();
        let axes_t = ax.clone();
        let data = Value::after(
            || reduced_shape(self.shape(), &ax, keepdim),
            std::slice::from_ref(self),
            move |inp| {
                let sum = reduce_data(inp[0].data(), &axes_, keepdim, 0.0, |a, b| a + b);
                if MEAN {
                    sum.map(|s| s * inv)
                } else {
                    sum
                }
            },
        );
        let name = match (MEAN, axes.is_empty()) {
            (false, true) => "SumBackward0",
            (false, false) => "SumBackward1",
            (true, true) => "MeanBackward0",
            (true, false) => "MeanBackward1",
        };
        Ok(Tensor::custom(
            data,
            name,
            vec![self.clone()],
            move |g, _, inp, b| {
                let s = inp[0].shape();
                let g = if b.0 == 0 && g.ndim() == 0 {
                    g.clone()
                } else {
                    b.reshape(g, &keep_shape(s, &ax))
                };
                // A mean's gradient is scaled before it is expanded: n
                // times less work.
                let g = if MEAN { g * inv } else { g };
                vec![Some(g.expand(&b.shape(&g, s)))]
            },
            move |ts, _, _| {
                let t = sum_axes(only(ts), &axes_t, keepdim);
                if MEAN {
                    t * inv
                } else {
                    t
                }
            },
        ))
    }

    panicking! {
        /// Means over axes.
        ///
        /// # Panics
        /// If an axis is out of range.
        pub fn mean_dim(&self, axes: &[isize], keepdim: bool) -> Tensor = try_mean_dim;
    }

    /// The sum (or the mean) of all elements, 0-d: the reduction that ends
    /// almost every loss, with no axis bookkeeping. Its backward closure
    /// captures nothing (the count comes from the input's shape), so
    /// recording it allocates only the node's record.
    fn total(&self, mean: bool) -> Tensor {
        // The 1-d lane (W2's loss): the same sum, without the general
        // path's deferred-value check and dtype dispatch.
        if let Some((xs, Some(n))) = self.0.value.get().and_then(super::lane) {
            // Under eight values `fold_lanes` adds its eight zero lanes
            // first (+0 exactly: an accumulator from +0 is never −0), then
            // each value in order: the same sum as one loop from +0.
            let s = if n < 8 {
                xs.iter().fold(0.0, |a, &b| a + b)
            } else {
                fold_lanes(xs, 0.0, |a, b| a + b)
            };
            let v = if mean { s / n as f64 } else { s };
            // The value and operation stored straight into the node.
            return Tensor::from_scalar_op(v, || {
                if self.tracks() {
                    Op::Total(mean, self.clone())
                } else {
                    Op::Leaf
                }
            });
        }
        let value = Value::after(Vec::new, std::slice::from_ref(self), move |inp| {
            let d = inp[0].data();
            let n = d.shape().iter().product::<usize>() as f64;
            let scaled = |s: f64| if mean { s / n } else { s };
            // f32 is summed in f64 and rounded once, as `reduce_data`.
            match d {
                Data::F32(_) => f32::scalar(scaled(sum_all::<f32>(d))),
                _ => f64::scalar(scaled(sum_all::<f64>(d))),
            }
        });
        if let Value::Now(d) = value {
            // Recorded as its own kind of node: no box, no input list and no
            // list of gradients (a training step's loss).
            let op = if self.tracks() {
                Op::Total(mean, self.clone())
            } else {
                Op::Leaf
            };
            Tensor::from_value(Value::Now(d), op)
        } else if mean {
            Tensor::custom(
                value,
                "MeanBackward0",
                vec![self.clone()],
                total_vjp::<true>,
                total_jvp::<true>,
            )
        } else {
            Tensor::custom(
                value,
                "SumBackward0",
                vec![self.clone()],
                total_vjp::<false>,
                total_jvp::<false>,
            )
        }
    }

    fn extremum(&self, axes: &[isize], keepdim: bool, is_max: bool) -> Result<Tensor> {
        let name = if is_max { "amax" } else { "amin" };
        if self.numel() == 0 {
            return Err(Error::EmptyTensor { op: name });
        }
        let ax = norm_axes(name, axes, self.ndim())?;
        let (init, f): (f64, fn(f64, f64) -> f64) = if is_max {
            (f64::NEG_INFINITY, nan_max)
        } else {
            (f64::INFINITY, nan_min)
        };
        let data = reduce_data(self.0.data(), &ax, keepdim, init, f);
        let bname = match (is_max, axes.is_empty()) {
            (true, true) => "MaxBackward1",
            (false, true) => "MinBackward1",
            (true, false) => "AmaxBackward0",
            (false, false) => "AminBackward0",
        };
        let ax_t = ax.clone();
        Ok(Tensor::custom(
            data,
            bname,
            vec![self.clone()],
            move |g, out, inp, b| {
                // The gradient is shared evenly among tied extrema, as PyTorch's amax.
                let s = inp[0].shape();
                let ks = keep_shape(s, &ax);
                vec![Some(
                    b.reshape(g, &ks).expand(&b.shape(g, s)) * tie_weights(&inp[0], out, &ax),
                )]
            },
            // The tangent is the same even share of the tied entries'.
            move |ts, out, inp| {
                let w = tie_weights(&inp[0], out, &ax_t).unsqueeze(-1);
                sum_axes(&(w * only(ts)), &ax_t, keepdim)
            },
        ))
    }

    /// The largest element (0-d); NaN if any element is NaN.
    pub fn max_all(&self) -> Tensor {
        self.amax(&[], false)
    }

    /// The smallest element (0-d); NaN if any element is NaN.
    pub fn min_all(&self) -> Tensor {
        self.amin(&[], false)
    }

    /// Maximum over `axes` (all if empty); ties share the gradient.
    pub fn try_amax(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.extremum(axes, keepdim, true)
    }

    panicking! {
        /// Maximum over axes.
        ///
        /// # Panics
        /// If an axis is out of range or the tensor is empty.
        pub fn amax(&self, axes: &[isize], keepdim: bool) -> Tensor = try_amax;
    }

    /// Minimum over `axes` (all if empty); ties share the gradient.
    pub fn try_amin(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.extremum(axes, keepdim, false)
    }

    panicking! {
        /// Minimum over axes.
        ///
        /// # Panics
        /// If an axis is out of range or the tensor is empty.
        pub fn amin(&self, axes: &[isize], keepdim: bool) -> Tensor = try_amin;
    }

    /// The product of all elements (0-d).
    pub fn prod(&self) -> Tensor {
        self.prod_dim(&[], false)
    }

    /// Products over `axes` (all if empty). The gradient is exact with zeros.
    pub fn try_prod_dim(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let ax = norm_axes("prod", axes, self.ndim())?;
        let data = reduce_data(self.0.data(), &ax, keepdim, 1.0, |a, b| a * b);
        let name = if axes.is_empty() {
            "ProdBackward0"
        } else {
            "ProdBackward1"
        };
        let ax_t = ax.clone();
        Ok(Tensor::custom(
            data,
            name,
            vec![self.clone()],
            move |g, _, inp, b| {
                let s = inp[0].shape();
                let ks = keep_shape(s, &ax);
                let others = product_of_others(&inp[0], &ax);
                vec![Some(b.reshape(g, &ks).expand(&b.shape(g, s)) * others)]
            },
            move |ts, _, inp| {
                let others = product_of_others(&inp[0], &ax_t).unsqueeze(-1);
                sum_axes(&(others * only(ts)), &ax_t, keepdim)
            },
        ))
    }

    panicking! {
        /// Products over axes.
        ///
        /// # Panics
        /// If an axis is out of range.
        pub fn prod_dim(&self, axes: &[isize], keepdim: bool) -> Tensor = try_prod_dim;
    }

    /// The flat (row-major) index of the largest element, the first on ties
    /// and a NaN if any; `None` for an empty tensor.
    pub fn argmax(&self) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, v) in self.to_vec().into_iter().enumerate() {
            match best {
                Some((_, b)) if b.is_nan() || !(v > b || v.is_nan()) => {}
                _ => best = Some((i, v)),
            }
        }
        best.map(|(i, _)| i)
    }

    /// The indices (as f64) of the largest elements along `axis`.
    pub fn try_argmax_dim(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        let ax = norm_axis("argmax", axis, self.ndim())?;
        let arr = self.0.data().to_array();
        let mut out = arr.map_axis(Axis(ax), |lane| {
            let mut best: Option<(usize, f64)> = None;
            for (i, &v) in lane.iter().enumerate() {
                match best {
                    Some((_, b)) if b.is_nan() || !(v > b || v.is_nan()) => {}
                    _ => best = Some((i, v)),
                }
            }
            best.map_or(0.0, |(i, _)| i as f64)
        });
        if keepdim {
            out = out.insert_axis(Axis(ax));
        }
        Ok(Tensor::from_array(out))
    }

    panicking! {
        /// The indices of the largest elements along `axis`.
        ///
        /// # Panics
        /// If `axis` is out of range.
        pub fn argmax_dim(&self, axis: isize, keepdim: bool) -> Tensor = try_argmax_dim;
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor;
    use crate::Tensor;

    #[test]
    fn the_leading_axis_of_a_contiguous_array_folds_rows_in_order() {
        // Sums, maxima and keepdim over axis 0 of a [2, 2, 3] array (and of
        // f32 values) against the sums written out.
        let x = Tensor::arange(0.0, 12.0, 1.0).unwrap().reshape(&[2, 2, 3]);
        let sums: Vec<f64> = (0..6).map(|i| (i + (i + 6)) as f64).collect();
        assert_eq!(x.sum_dim(&[0], false).to_vec(), sums);
        assert_eq!(x.sum_dim(&[0], true).shape(), &[1, 2, 3]);
        assert_eq!(x.float().sum_dim(&[0], false).to_vec(), sums);
        assert_eq!(
            x.amax(&[0], false).to_vec(),
            vec![6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
        );
        let n = tensor![[1.0, f64::NAN], [2.0, 0.5]];
        let m = n.amax(&[0], false).to_vec();
        assert_eq!(m[0], 2.0);
        assert!(m[1].is_nan());
        // A transposed (non-contiguous) view takes the general path.
        let t = tensor![[1.0, 2.0], [3.0, 4.0]].t();
        assert_eq!(t.sum_dim(&[0], false).to_vec(), vec![3.0, 7.0]);
    }

    #[test]
    fn reductions() {
        let x = tensor![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        assert_eq!(x.sum().item(), 21.0);
        assert_eq!(x.sum_dim(&[0], false).to_vec(), vec![5.0, 7.0, 9.0]);
        assert_eq!(x.sum_dim(&[1], true).shape(), &[2, 1]);
        assert_eq!(x.mean_dim(&[-1], false).to_vec(), vec![2.0, 5.0]);
        assert_eq!(x.amax(&[1], false).to_vec(), vec![3.0, 6.0]);
        assert_eq!(x.min_all().item(), 1.0);
        assert_eq!(x.prod().item(), 720.0);
        assert_eq!(x.argmax(), Some(5));
        assert_eq!(x.argmax_dim(0, false).to_vec(), vec![1.0, 1.0, 1.0]);
        assert!(x.try_sum_dim(&[2], false).is_err());
    }
}
