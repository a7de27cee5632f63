//! Structural operations: reductions, reshaping, broadcasting, matmul,
//! indexing, concatenation and the softmax family. Each records its own
//! vector–Jacobian product written with differentiable tensor operations.

use std::rc::Rc;

use ndarray::{ArrayD, Axis, IxDyn};

use super::dtype::Elem;
use super::elementwise::broadcast_shapes;
use super::{Data, Tensor, Value};
use crate::error::{Error, Result};
use crate::real::Real;

/// A shape error for `op`.
fn shape_err(op: &'static str, lhs: &[usize], rhs: &[usize]) -> Error {
    Error::ShapeMismatch {
        op,
        left: lhs.to_vec(),
        right: rhs.to_vec(),
    }
}

/// `axis` (negative counts from the end) as an index below `ndim`.
fn norm_axis(op: &'static str, axis: isize, ndim: usize) -> Result<usize> {
    let a = if axis < 0 { axis + ndim as isize } else { axis };
    if a < 0 || a as usize >= ndim {
        return Err(Error::AxisOutOfRange { op, axis, ndim });
    }
    Ok(a as usize)
}

/// Sorted, deduplicated axes; an empty list means every axis.
fn norm_axes(op: &'static str, axes: &[isize], ndim: usize) -> Result<Vec<usize>> {
    if axes.is_empty() {
        return Ok((0..ndim).collect());
    }
    let mut v = axes
        .iter()
        .map(|&a| norm_axis(op, a, ndim))
        .collect::<Result<Vec<_>>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// The shape after reducing `axes` with keepdim.
fn keep_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
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

/// The backward of [`Tensor::total`]: `g` (divided by the count for a
/// mean) spread over the input's shape. A function, not a closure, so that
/// its boxed form is zero-sized and recording allocates nothing for it.
fn total_vjp<const MEAN: bool>(
    g: &Tensor,
    _out: &Tensor,
    inp: &[Tensor],
    b: super::Batch,
) -> Vec<Option<Tensor>> {
    let s = inp[0].shape();
    // Scaled before it is expanded: n times less work.
    let g = if MEAN {
        g * (1.0 / s.iter().product::<usize>() as f64)
    } else {
        g.clone()
    };
    if b.0 == 0 {
        return vec![Some(g.expand(s))];
    }
    let all: Vec<usize> = (0..s.len()).collect();
    vec![Some(
        b.reshape(&g, &keep_shape(s, &all)).expand(&b.shape(&g, s)),
    )]
}

/// Folds `axes` of `a` with `f` from `init`, in `a`'s dtype.
fn reduce_data(
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
    let mut arr: ArrayD<f64> = match axes.last() {
        Some(&ax) => view.fold_axis(Axis(ax), init, |&acc, &x| f(acc, x.to_f64())),
        None => view.mapv(T::to_f64),
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

/// `data` with a new shape of the same size, in row-major order (a new
/// header over the same buffer when it is contiguous).
fn reshaped(data: &Data, shape: &[usize]) -> Data {
    match data {
        Data::F32(a) => {
            let a = if a.is_standard_layout() {
                (**a).clone()
            } else {
                a.as_standard_layout().into_owned().into_shared()
            };
            Data::F32(Box::new(
                a.into_shape_with_order(IxDyn(shape)).expect("reshape size"),
            ))
        }
        _ if shape.is_empty() => Data::Scalar(data.view().iter().next().copied().unwrap_or(0.0)),
        Data::Array(a) if a.is_standard_layout() => Data::from_shared(
            (**a)
                .clone()
                .into_shape_with_order(IxDyn(shape))
                .expect("reshape size"),
        ),
        _ => {
            let v = data.view().iter().copied().collect();
            Data::from_array(ArrayD::from_shape_vec(IxDyn(shape), v).expect("reshape size"))
        }
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
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
    // ----- broadcasting and reshaping -----------------------------------

    /// Sums a broadcast gradient back down to `shape` (leading axes and axes
    /// of size 1 in `shape` are summed); an `Err` if `shape` does not
    /// broadcast to `self.shape()`.
    pub fn try_sum_to_shape(&self, shape: &[usize]) -> Result<Tensor> {
        if self.shape() == shape {
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
        let data = match summed {
            Data::F32(a) => Data::F32(Box::new(
                a.into_shape_with_order(IxDyn(shape))
                    .expect("sum_to_shape size"),
            )),
            Data::Array(a) if shape.is_empty() => Data::Scalar(a.iter().sum()),
            Data::Array(a) => Data::from_shared(
                a.into_shape_with_order(IxDyn(shape))
                    .expect("sum_to_shape size"),
            ),
            scalar => scalar,
        };
        Ok(Tensor::custom(
            data,
            "SumBackward1",
            vec![self.clone()],
            |g, _, inp, b| vec![Some(b.expand(g, inp[0].shape()))],
        ))
    }

    /// [`Tensor::try_sum_to_shape`], panicking on a mismatch.
    ///
    /// # Panics
    /// If `shape` does not broadcast to this tensor's shape.
    pub fn sum_to_shape(&self, shape: &[usize]) -> Tensor {
        self.try_sum_to_shape(shape)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Broadcasts to `shape` (NumPy rules); an `Err` if it cannot.
    pub fn try_expand(&self, shape: &[usize]) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        // A 0-d tensor broadcasts to every shape (no shape to compute: the
        // mean's backward expands its 0-d gradient in every training step).
        if !self.shape().is_empty()
            && broadcast_shapes(self.shape(), shape).as_deref() != Some(shape)
        {
            return Err(shape_err("expand", self.shape(), shape));
        }
        let data = match self.0.data() {
            Data::F32(a) => Data::F32(Box::new(
                a.broadcast(IxDyn(shape))
                    .expect("checked broadcast")
                    .as_standard_layout()
                    .into_owned()
                    .into_shared(),
            )),
            d => match d.as_slice() {
                Some(&[v]) => super::small::array_with(shape, |o| o.fill(v)).unwrap_or_else(|| {
                    let n = shape.iter().product();
                    let mut values = super::buffers::take(n);
                    values.resize(n, v);
                    Data::from_array(
                        ArrayD::from_shape_vec(IxDyn(shape), values).expect("n values"),
                    )
                }),
                _ => Data::from_array(d.with_view(|v| {
                    v.broadcast(IxDyn(shape))
                        .expect("checked broadcast")
                        .as_standard_layout()
                        .into_owned()
                })),
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
        ))
    }

    /// Broadcasts to `shape`.
    ///
    /// # Panics
    /// If this shape does not broadcast to `shape`.
    pub fn expand(&self, shape: &[usize]) -> Tensor {
        self.try_expand(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Alias of [`Tensor::expand`].
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        self.expand(shape)
    }

    fn reshape_named(&self, shape: &[usize], name: &'static str) -> Result<Tensor> {
        if shape.iter().product::<usize>() != self.numel() {
            return Err(shape_err("reshape", self.shape(), shape));
        }
        if self.shape() == shape {
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
        ))
    }

    /// The same values in row-major order with a new shape of equal size.
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor> {
        self.reshape_named(shape, "ViewBackward0")
    }

    /// [`Tensor::try_reshape`], panicking on a size mismatch.
    ///
    /// # Panics
    /// If the sizes differ.
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        self.try_reshape(shape).unwrap_or_else(|e| panic!("{e}"))
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

    /// Inserts an axis of size 1.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn unsqueeze(&self, axis: isize) -> Tensor {
        self.try_unsqueeze(axis).unwrap_or_else(|e| panic!("{e}"))
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

    /// Removes axes of size 1 (see [`Tensor::try_squeeze`]).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn squeeze(&self, axis: Option<isize>) -> Tensor {
        self.try_squeeze(axis).unwrap_or_else(|e| panic!("{e}"))
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
        ))
    }

    /// Reorders the axes: output axis i is input axis `axes[i]`.
    pub fn try_permute(&self, axes: &[usize]) -> Result<Tensor> {
        self.permute_named(axes, "PermuteBackward0")
    }

    /// Reorders the axes.
    ///
    /// # Panics
    /// If `axes` is not a permutation.
    pub fn permute(&self, axes: &[usize]) -> Tensor {
        self.try_permute(axes).unwrap_or_else(|e| panic!("{e}"))
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

    /// Swaps two axes.
    ///
    /// # Panics
    /// If an axis is out of range.
    pub fn transpose(&self, a: isize, b: isize) -> Tensor {
        self.try_transpose(a, b).unwrap_or_else(|e| panic!("{e}"))
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

    // ----- reductions ------------------------------------------------------

    /// The sum of all elements (0-d).
    pub fn sum(&self) -> Tensor {
        self.sum_dim(&[], false)
    }

    /// Sums over `axes` (all axes if empty), keeping them as size 1 if `keepdim`.
    pub fn try_sum_dim(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        if axes.is_empty() && !keepdim {
            return Ok(self.total(false));
        }
        let ax = norm_axes("sum", axes, self.ndim())?;
        let axes_ = ax.clone();
        let data = Value::after(
            || reduced_shape(self.shape(), &ax, keepdim),
            std::slice::from_ref(self),
            move |inp| reduce_data(inp[0].data(), &axes_, keepdim, 0.0, |a, b| a + b),
        );
        let name = if axes.is_empty() {
            "SumBackward0"
        } else {
            "SumBackward1"
        };
        Ok(Tensor::custom(
            data,
            name,
            vec![self.clone()],
            move |g, _, inp, b| {
                let s = inp[0].shape();
                if b.0 == 0 && g.ndim() == 0 {
                    return vec![Some(g.expand(s))];
                }
                vec![Some(
                    b.reshape(g, &keep_shape(s, &ax)).expand(&b.shape(g, s)),
                )]
            },
        ))
    }

    /// Sums over axes.
    ///
    /// # Panics
    /// If an axis is out of range.
    pub fn sum_dim(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.try_sum_dim(axes, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The mean of all elements (0-d).
    pub fn mean(&self) -> Tensor {
        self.mean_dim(&[], false)
    }

    /// Means over `axes` (all if empty).
    pub fn try_mean_dim(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        if axes.is_empty() && !keepdim {
            return Ok(self.total(true));
        }
        let ax = norm_axes("mean", axes, self.ndim())?;
        let n: usize = ax.iter().map(|&a| self.shape()[a]).product();
        let inv = 1.0 / n as f64;
        let axes_ = ax.clone();
        let data = Value::after(
            || reduced_shape(self.shape(), &ax, keepdim),
            std::slice::from_ref(self),
            move |inp| {
                reduce_data(inp[0].data(), &axes_, keepdim, 0.0, |a, b| a + b).map(|s| s * inv)
            },
        );
        let name = if axes.is_empty() {
            "MeanBackward0"
        } else {
            "MeanBackward1"
        };
        Ok(Tensor::custom(
            data,
            name,
            vec![self.clone()],
            move |g, _, inp, b| {
                // Scaled before it is expanded: n times less work.
                let s = inp[0].shape();
                let g = if b.0 == 0 && g.ndim() == 0 {
                    g * inv
                } else {
                    b.reshape(g, &keep_shape(s, &ax)) * inv
                };
                vec![Some(g.expand(&b.shape(&g, s)))]
            },
        ))
    }

    /// Means over axes.
    ///
    /// # Panics
    /// If an axis is out of range.
    pub fn mean_dim(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.try_mean_dim(axes, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The sum (or the mean) of all elements, 0-d: the reduction that ends
    /// almost every loss, with no axis bookkeeping. Its backward closure
    /// captures nothing (the count comes from the input's shape), so
    /// recording it allocates only the node's record.
    fn total(&self, mean: bool) -> Tensor {
        let value = Value::after(Vec::new, std::slice::from_ref(self), move |inp| {
            let d = inp[0].data();
            let n = d.shape().iter().product::<usize>() as f64;
            let scaled = |s: f64| if mean { s / n } else { s };
            match d {
                // f32 is summed in f64 and rounded once, as `reduce_data`.
                Data::F32(x) => f32::scalar(scaled(match x.as_slice() {
                    Some(s) => fold_lanes(s, 0.0, |a, b| a + b),
                    None => x.iter().fold(0.0, |a, &b| a + f64::from(b)),
                })),
                _ => Data::Scalar(scaled(match d.as_slice() {
                    Some(s) => fold_lanes(s, 0.0, |a, b| a + b),
                    None => d.view().iter().fold(0.0, |a, &b| a + b),
                })),
            }
        });
        if mean {
            Tensor::custom(
                value,
                "MeanBackward0",
                vec![self.clone()],
                total_vjp::<true>,
            )
        } else {
            Tensor::custom(
                value,
                "SumBackward0",
                vec![self.clone()],
                total_vjp::<false>,
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
        Ok(Tensor::custom(
            data,
            bname,
            vec![self.clone()],
            move |g, out, inp, b| {
                // The gradient is shared evenly among tied extrema, as PyTorch's amax.
                let s = inp[0].shape();
                let ks = keep_shape(s, &ax);
                let mask = inp[0].eq(&out.detach().reshape(&ks));
                let count = mask.sum_dim(&ax.iter().map(|&a| a as isize).collect::<Vec<_>>(), true);
                vec![Some(
                    b.reshape(g, &ks).expand(&b.shape(g, s)) * (mask / count),
                )]
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

    /// Maximum over axes.
    ///
    /// # Panics
    /// If an axis is out of range or the tensor is empty.
    pub fn amax(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.try_amax(axes, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Minimum over `axes` (all if empty); ties share the gradient.
    pub fn try_amin(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        self.extremum(axes, keepdim, false)
    }

    /// Minimum over axes.
    ///
    /// # Panics
    /// If an axis is out of range or the tensor is empty.
    pub fn amin(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.try_amin(axes, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
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
        Ok(Tensor::custom(
            data,
            name,
            vec![self.clone()],
            move |g, _, inp, b| {
                let x = &inp[0];
                let s = x.shape();
                let ks = keep_shape(s, &ax);
                let iax: Vec<isize> = ax.iter().map(|&a| a as isize).collect();
                let zero = Tensor::scalar(0.0);
                let is_zero = x.eq(&zero);
                // Product of the others: prod/x off zeros; at a lone zero the
                // product of the non-zeros; 0 at zeros when there are several.
                let x_nz = Tensor::where_(&is_zero, &Tensor::scalar(1.0), x);
                let prod_nz = x_nz.prod_dim(&iax, true);
                let zeros = is_zero.sum_dim(&iax, true);
                let lone = Tensor::where_(&zeros.eq(&Tensor::scalar(1.0)), &prod_nz, &zero);
                let off = Tensor::where_(&zeros.eq(&zero), &(prod_nz / &x_nz), &zero);
                let others = Tensor::where_(&is_zero, &lone.expand(s), &off.expand(s));
                vec![Some(b.reshape(g, &ks).expand(&b.shape(g, s)) * others)]
            },
        ))
    }

    /// Products over axes.
    ///
    /// # Panics
    /// If an axis is out of range.
    pub fn prod_dim(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.try_prod_dim(axes, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
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

    /// The indices of the largest elements along `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn argmax_dim(&self, axis: isize, keepdim: bool) -> Tensor {
        self.try_argmax_dim(axis, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    // ----- softmax family ----------------------------------------------------

    /// The maximum along `axis` as a constant, 0 where it is not finite.
    fn shift(&self, axis: usize) -> Tensor {
        let m = reduce_data(self.0.data(), &[axis], true, f64::NEG_INFINITY, nan_max);
        Tensor::from_data(m.map(|v| if v.is_finite() { v } else { 0.0 }))
    }

    /// exp(x) / Σ exp(x) along `axis`, computed stably.
    pub fn try_softmax(&self, axis: isize) -> Result<Tensor> {
        let ax = norm_axis("softmax", axis, self.ndim())?;
        let x = self.detach();
        let y = crate::autograd::no_grad_scope(|| {
            let e = (&x - &x.shift(ax)).exp();
            let s = e.sum_dim(&[ax as isize], true);
            e / s
        });
        Ok(Tensor::custom(
            y.into_data(),
            "SoftmaxBackward0",
            vec![self.clone()],
            move |g, out, _, b| {
                // y ⊙ (g − Σ g ⊙ y)
                let gy = g * out;
                let s = gy.sum_dim(&[b.axis(ax) as isize], true);
                vec![Some(gy - out * s)]
            },
        ))
    }

    /// Softmax along `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn softmax(&self, axis: isize) -> Tensor {
        self.try_softmax(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// x − log Σ exp(x) along `axis`, computed stably.
    pub fn try_log_softmax(&self, axis: isize) -> Result<Tensor> {
        let ax = norm_axis("log_softmax", axis, self.ndim())?;
        let x = self.detach();
        let y = crate::autograd::no_grad_scope(|| {
            let z = &x - &x.shift(ax);
            let lse = z.exp().sum_dim(&[ax as isize], true).ln();
            z - lse
        });
        Ok(Tensor::custom(
            y.into_data(),
            "LogSoftmaxBackward0",
            vec![self.clone()],
            move |g, out, _, b| {
                // g − softmax ⊙ Σ g
                let s = g.sum_dim(&[b.axis(ax) as isize], true);
                vec![Some(g - out.exp() * s)]
            },
        ))
    }

    /// Log-softmax along `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn log_softmax(&self, axis: isize) -> Tensor {
        self.try_log_softmax(axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// log Σ exp(x) along `axis`, computed stably.
    pub fn try_logsumexp(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        let ax = norm_axis("logsumexp", axis, self.ndim())?;
        let x = self.detach();
        let y = crate::autograd::no_grad_scope(|| {
            let m = x.shift(ax);
            let out = (&x - &m).exp().sum_dim(&[ax as isize], true).ln() + m;
            if keepdim {
                Ok(out)
            } else {
                out.try_squeeze(Some(ax as isize))
            }
        })?;
        let keep = keep_shape(self.shape(), &[ax]);
        Ok(Tensor::custom(
            y.into_data(),
            "LogsumexpBackward0",
            vec![self.clone()],
            move |g, _out, inp, b| {
                // g ⊙ softmax(x): the same value as exp(x − logsumexp), but
                // exp(1000 − 1000.69…) would carry the rounding of the large
                // logsumexp (0.5000000000000275 for [1000, 1000]); softmax
                // shifts by the max first and gives 0.5.
                vec![Some(b.reshape(g, &keep) * inp[0].softmax(ax as isize))]
            },
        ))
    }

    /// logsumexp along `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn logsumexp(&self, axis: isize, keepdim: bool) -> Tensor {
        self.try_logsumexp(axis, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    // ----- matmul --------------------------------------------------------------

    /// Matrix product of tensors with at least 2 axes, batch axes broadcast.
    /// The value is deferred: computed when it is first read, never if no
    /// one reads it (a vector–Jacobian product reads only the inputs).
    fn bmm(&self, rhs: &Tensor) -> Result<Tensor> {
        let shape = super::matmul::bmm_shape(self.shape(), false, rhs.shape(), false)
            .ok_or_else(|| shape_err("matmul", self.shape(), rhs.shape()))?;
        let inputs = [self.clone(), rhs.clone()];
        let value = Value::later(shape, &inputs, |inp| {
            super::matmul::product(inp[0].data(), false, inp[1].data(), false)
                .expect("shapes checked")
        });
        let name = if self.ndim() == 2 && rhs.ndim() == 2 {
            "MmBackward0"
        } else {
            "BmmBackward0"
        };
        Ok(Tensor::custom(
            value,
            name,
            inputs.to_vec(),
            |g, _, inp, batch| {
                let (a, b) = (&inp[0], &inp[1]);
                // Recorded (create_graph) products are tensor operations;
                // otherwise the kernel reads the transposes as strided views.
                let record = crate::autograd::is_grad_enabled()
                    && (g.is_requires_grad() || a.is_requires_grad() || b.is_requires_grad());
                let product = |x: &Tensor, tx: bool, y: &Tensor, ty: bool| {
                    if record {
                        let x = if tx { x.t() } else { x.clone() };
                        let y = if ty { y.t() } else { y.clone() };
                        x.bmm(&y).expect("matmul backward")
                    } else {
                        let out = super::matmul::product(x.data(), tx, y.data(), ty)
                            .expect("matmul backward");
                        Tensor::from_data(out)
                    }
                };
                let ga = a
                    .is_requires_grad()
                    .then(|| batch.sum_to(&product(g, false, b, true), a.shape()));
                let gb = b
                    .is_requires_grad()
                    .then(|| batch.sum_to(&product(a, true, g, false), b.shape()));
                vec![ga, gb]
            },
        ))
    }

    /// The matrix product with `torch.matmul`'s rules: 1-d·1-d is a dot
    /// product, a 1-d operand is promoted to a row (left) or a column
    /// (right) and the axis removed again, batch axes broadcast.
    pub fn try_matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let (na, nb) = (self.ndim(), rhs.ndim());
        if na == 0 || nb == 0 {
            return Err(shape_err("matmul", self.shape(), rhs.shape()));
        }
        let a = if na == 1 {
            self.try_unsqueeze(0)?
        } else {
            self.clone()
        };
        let b = if nb == 1 {
            rhs.try_unsqueeze(-1)?
        } else {
            rhs.clone()
        };
        let out = a
            .bmm(&b)
            .map_err(|_| shape_err("matmul", self.shape(), rhs.shape()))?;
        let mut shape = out.shape().to_vec();
        let nd = shape.len();
        if nb == 1 {
            shape.remove(nd - 1);
        }
        if na == 1 {
            shape.remove(shape.len() - 1 - usize::from(nb != 1));
        }
        if shape.as_slice() == out.shape() {
            Ok(out)
        } else {
            out.try_reshape(&shape)
        }
    }

    /// The matrix product (see [`Tensor::try_matmul`]).
    ///
    /// # Panics
    /// If the shapes do not fit; the message names both shapes.
    pub fn matmul(&self, rhs: &Tensor) -> Tensor {
        self.try_matmul(rhs).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The dot product of two 1-d tensors of equal length.
    pub fn try_dot(&self, rhs: &Tensor) -> Result<Tensor> {
        if self.ndim() != 1 || rhs.ndim() != 1 || self.shape() != rhs.shape() {
            return Err(shape_err("dot", self.shape(), rhs.shape()));
        }
        self.try_matmul(rhs)
    }

    /// The dot product of two 1-d tensors.
    ///
    /// # Panics
    /// If they are not 1-d of equal length.
    pub fn dot(&self, rhs: &Tensor) -> Tensor {
        self.try_dot(rhs).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The sum of the main diagonal of a matrix (0-d), as `torch.trace`
    /// (a non-square matrix sums its `min(m, n)` diagonal entries); an
    /// `Err` if the tensor is not 2-d.
    ///
    /// ```
    /// use chainrule::tensor;
    /// assert_eq!(tensor![[1.0, 2.0], [3.0, 4.0]].try_trace().unwrap().item(), 5.0);
    /// ```
    pub fn try_trace(&self) -> Result<Tensor> {
        if self.ndim() != 2 {
            return Err(Error::WrongRank {
                op: "trace",
                expected: "a matrix (2-d tensor)",
                shape: self.shape().to_vec(),
            });
        }
        let (m, n) = (self.shape()[0], self.shape()[1]);
        let value = Value::after(Vec::new, std::slice::from_ref(self), move |inp| {
            Data::Scalar(
                inp[0]
                    .data()
                    .with_view(|v| (0..m.min(n)).map(|i| v[[i, i]]).sum()),
            )
        });
        Ok(Tensor::custom(
            value,
            "TraceBackward0",
            vec![self.clone()],
            // ∂ tr(M)/∂M is the m×n matrix with ones on the main diagonal.
            move |g, _, _, b| {
                if !(crate::autograd::is_grad_enabled() && g.is_requires_grad()) {
                    // Not recorded: g·mask written at once (zeros and the
                    // diagonal), one pass instead of a mask and a product.
                    let gs = g.to_vec();
                    let mut v = super::buffers::filled(gs.len() * m * n, 0.0);
                    for (block, &s) in v.chunks_exact_mut((m * n).max(1)).zip(&gs) {
                        block
                            .iter_mut()
                            .step_by(n + 1)
                            .take(m.min(n))
                            .for_each(|d| *d = s);
                    }
                    return vec![Some(super::kernels::from_vec(v, &b.shape(g, &[m, n])))];
                }
                let mask = if m == n {
                    Tensor::eye(n)
                } else {
                    Tensor::from_array(ndarray::ArrayD::from_shape_fn(
                        ndarray::IxDyn(&[m, n]),
                        |i| if i[0] == i[1] { 1.0 } else { 0.0 },
                    ))
                };
                vec![Some(b.reshape(g, &[1, 1]) * mask)]
            },
        ))
    }

    /// The trace of a matrix (see [`Tensor::try_trace`]).
    ///
    /// # Panics
    /// If the tensor is not 2-d; the message names its shape.
    pub fn trace(&self) -> Tensor {
        self.try_trace().unwrap_or_else(|e| panic!("{e}"))
    }

    // ----- indexing ------------------------------------------------------------

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
        )
    }

    /// The slice at `index` along `axis`, with that axis removed (`x[i]`).
    pub fn try_select(&self, axis: isize, index: usize) -> Result<Tensor> {
        let ax = norm_axis("select", axis, self.ndim())?;
        self.gather(ax, Rc::from([index]), true, "SelectBackward0")
    }

    /// The slice at `index` along `axis`.
    ///
    /// # Panics
    /// If `axis` or `index` is out of range.
    pub fn select(&self, axis: isize, index: usize) -> Tensor {
        self.try_select(axis, index)
            .unwrap_or_else(|e| panic!("{e}"))
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

    /// `x[i][j]...` (see [`Tensor::try_get`]).
    ///
    /// # Panics
    /// If an index is out of bounds.
    pub fn get(&self, index: &[usize]) -> Tensor {
        self.try_get(index).unwrap_or_else(|e| panic!("{e}"))
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

    /// Elements `start..start + len` along `axis`.
    ///
    /// # Panics
    /// If the range exceeds the axis.
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor {
        self.try_narrow(axis, start, len)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The slices at `indices` along `axis`, in that order (repeats allowed).
    pub fn try_index_select(&self, axis: isize, indices: &[usize]) -> Result<Tensor> {
        let ax = norm_axis("index_select", axis, self.ndim())?;
        self.gather(ax, Rc::from(indices), false, "IndexSelectBackward0")
    }

    /// The slices at `indices` along `axis`.
    ///
    /// # Panics
    /// If an axis or index is out of range.
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor {
        self.try_index_select(axis, indices)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Concatenates tensors along an existing `axis`.
    pub fn try_cat(tensors: &[Tensor], axis: isize) -> Result<Tensor> {
        let first = tensors.first().ok_or(Error::EmptyList { op: "cat" })?;
        let ax = norm_axis("cat", axis, first.ndim())?;
        for t in &tensors[1..] {
            let ok = t.ndim() == first.ndim()
                && t.shape()
                    .iter()
                    .zip(first.shape())
                    .enumerate()
                    .all(|(i, (a, b))| i == ax || a == b);
            if !ok {
                return Err(shape_err("cat", first.shape(), t.shape()));
            }
        }
        let arrays: Vec<ArrayD<f64>> = tensors.iter().map(|t| t.0.data().to_array()).collect();
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        // The shapes agree off `ax`, so only the size can fail.
        let out = ndarray::concatenate(Axis(ax), &views).map_err(|_| {
            let mut shape = first.shape().to_vec();
            shape[ax] = tensors
                .iter()
                .fold(0, |n, t| n.saturating_add(t.shape()[ax]));
            Error::ShapeOverflow { op: "cat", shape }
        })?;
        let lens: Vec<usize> = tensors.iter().map(|t| t.shape()[ax]).collect();
        Ok(Tensor::custom(
            Data::from_array(out),
            "CatBackward0",
            tensors.to_vec(),
            move |g, _, inp, b| {
                let mut offset = 0;
                lens.iter()
                    .zip(inp)
                    .map(|(&len, t)| {
                        let piece = t
                            .is_requires_grad()
                            .then(|| g.narrow(b.axis(ax) as isize, offset, len));
                        offset += len;
                        piece
                    })
                    .collect()
            },
        ))
    }

    /// Concatenates along `axis`.
    ///
    /// # Panics
    /// If the list is empty or the shapes differ off `axis`.
    pub fn cat(tensors: &[Tensor], axis: isize) -> Tensor {
        Tensor::try_cat(tensors, axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Stacks tensors of equal shape along a new `axis`.
    pub fn try_stack(tensors: &[Tensor], axis: isize) -> Result<Tensor> {
        let first = tensors.first().ok_or(Error::EmptyList { op: "stack" })?;
        if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
            return Err(shape_err("stack", first.shape(), t.shape()));
        }
        let parts = tensors
            .iter()
            .map(|t| t.try_unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        Tensor::try_cat(&parts, axis)
    }

    /// Stacks along a new `axis`.
    ///
    /// # Panics
    /// If the list is empty or the shapes differ.
    pub fn stack(tensors: &[Tensor], axis: isize) -> Tensor {
        Tensor::try_stack(tensors, axis).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor;

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
    fn matmul_shapes() {
        let a = tensor![[1.0, 2.0], [3.0, 4.0]];
        let v = tensor![1.0, 1.0];
        assert_eq!(a.matmul(&a).to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
        assert_eq!(a.matmul(&v).to_vec(), vec![3.0, 7.0]);
        assert_eq!(v.matmul(&a).to_vec(), vec![4.0, 6.0]);
        assert_eq!(v.dot(&v).item(), 2.0);
        let b = Tensor::stack(&[a.clone(), a.clone(), a.clone()], 0);
        assert_eq!(b.shape(), &[3, 2, 2]);
        let c = b.matmul(&a);
        assert_eq!(c.shape(), &[3, 2, 2]);
        assert_eq!(c.get(&[2]).to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
        let e = a
            .try_matmul(&tensor![1.0, 2.0, 3.0])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("matmul") && e.contains("[2, 2]") && e.contains("[3]"),
            "{e}"
        );
    }

    #[test]
    fn shape_ops() {
        let x = Tensor::arange(0.0, 6.0, 1.0).unwrap().reshape(&[2, 3]);
        assert_eq!(x.t().to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        assert_eq!(x.unsqueeze(0).shape(), &[1, 2, 3]);
        assert_eq!(x.unsqueeze(0).squeeze(None).shape(), &[2, 3]);
        assert_eq!(x.get(&[1, 2]).item(), 5.0);
        assert_eq!(x.narrow(1, 1, 2).to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
        assert_eq!(
            x.index_select(1, &[2, 0]).to_vec(),
            vec![2.0, 0.0, 5.0, 3.0]
        );
        assert_eq!(Tensor::cat(&[x.clone(), x.clone()], 0).shape(), &[4, 3]);
        assert_eq!(
            tensor![1.0, 2.0].expand(&[2, 2]).to_vec(),
            vec![1.0, 2.0, 1.0, 2.0]
        );
        assert!(x.try_get(&[2]).is_err());
        assert!(x.try_narrow(1, 2, 2).is_err());
    }

    #[test]
    fn softmax_is_stable() {
        let x = tensor![1000.0, 1000.0];
        assert_eq!(x.softmax(0).to_vec(), vec![0.5, 0.5]);
        let l = x.logsumexp(0, false).item();
        assert!((l - (1000.0 + 2f64.ln())).abs() < 1e-12);
        let ls = tensor![0.0, 0.0].log_softmax(0).to_vec();
        assert!((ls[0] + 2f64.ln()).abs() < 1e-15);
    }
}
