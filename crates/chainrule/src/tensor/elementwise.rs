//! Elementwise operations: the `Real` implementation, operators with
//! broadcasting and comparisons.

use std::ops::{Add, Div, Mul, Neg, Sub};

use ndarray::{ArcArray, ArrayD, IxDyn, Zip};

use super::broadcast::broadcast_shapes;
use super::dtype::Elem;
use super::kernels::{map_slice, monomorphic_binary, monomorphic_unary};
use super::small;
use super::{contiguous, same_shape, DType, Data, Tensor};
use crate::autograd::graph::Op;
use crate::autograd::is_grad_enabled;
use crate::error::{Error, Result};
use crate::macros::panicking;
use crate::ops::{BinaryOp, UnaryOp};
use crate::real::Real;

/// `f` applied to the broadcast pair, or a shape `Err` naming `op`. Two f32
/// operands (or an f32 array and an f64 0-d value) give an f32 result
/// computed by the same loops; other mixes are computed in f64 (promotion,
/// see `dtype.rs`).
pub(crate) fn zip_data(
    op: &'static str,
    a: &Data,
    b: &Data,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Data> {
    // Small 1-d f64 values (W2's four): one loop into a kept array.
    if let Some(d) = small::zip_1d(a, b, &f) {
        return Ok(d);
    }
    zip_general(op, a, b, f)
}

/// [`zip_data`] outside the 1-d lane (its own function, so that the lane
/// does not pay for this path's stack frame and saved registers).
#[inline(never)]
fn zip_general(op: &'static str, a: &Data, b: &Data, f: impl Fn(f64, f64) -> f64) -> Result<Data> {
    Ok(match (a, b) {
        (Data::Scalar(x), Data::Scalar(y)) => Data::Scalar(f(*x, *y)),
        (Data::Array(x), Data::Scalar(y)) => small_map(x, |v| f(v, *y)),
        (Data::Scalar(x), Data::Array(y)) => small_map(y, |v| f(*x, v)),
        (Data::Array(x), Data::Array(y)) => match (
            same_shape(x.shape(), y.shape()),
            contiguous(x),
            contiguous(y),
        ) {
            (true, Some(xs), Some(ys)) => small::array_with(x.shape(), |o| {
                for ((o, &u), &v) in o.iter_mut().zip(xs).zip(ys) {
                    *o = f(u, v);
                }
            }),
            _ => None,
        }
        .map_or_else(|| zip_arrays(op, x, y, &f), Ok)?,
        (Data::F32(x), Data::F32(y)) => zip_arrays(op, x, y, &f)?,
        (Data::F32(x), Data::Scalar(y)) if x.ndim() > 0 => {
            f32::wrap(map_slice(x.view(), |v: f32| f(f64::from(v), *y) as f32))
        }
        (Data::Scalar(x), Data::F32(y)) if y.ndim() > 0 => {
            f32::wrap(map_slice(y.view(), |v: f32| f(*x, f64::from(v)) as f32))
        }
        _ => zip_data(op, &a.cast_ref(DType::F64), &b.cast_ref(DType::F64), f)?,
    })
}

/// `f` of every value of an f64 array, in a kept small array when there is
/// one of its shape (see `small.rs`).
fn small_map(x: &ArcArray<f64, IxDyn>, f: impl Fn(f64) -> f64) -> Data {
    match contiguous(x) {
        Some(s) => small::array_with(x.shape(), |o| {
            o.iter_mut().zip(s).for_each(|(o, &v)| *o = f(v));
        })
        .unwrap_or_else(|| Data::from_array(map_slice(x.view(), f))),
        None => Data::from_array(map_slice(x.view(), f)),
    }
}

/// `f` over two arrays of one element type, broadcast.
fn zip_arrays<T: Elem>(
    op: &'static str,
    x: &ArcArray<T, IxDyn>,
    y: &ArcArray<T, IxDyn>,
    f: &impl Fn(f64, f64) -> f64,
) -> Result<Data> {
    let f = |u: T, v: T| T::of_f64(f(u.to_f64(), v.to_f64()));
    Ok(
        if let (true, Some(xs), Some(ys)) =
            (same_shape(x.shape(), y.shape()), x.as_slice(), y.as_slice())
        {
            let mut v = T::buffer(xs.len());
            v.extend(xs.iter().zip(ys).map(|(&u, &v)| f(u, v)));
            T::wrap(ArrayD::from_shape_vec(x.raw_dim(), v).expect("same size"))
        } else if x.shape() == y.shape() {
            T::wrap(Zip::from(&**x).and(&**y).map_collect(|&u, &v| f(u, v)))
        } else if let Some(d) = broadcast_single(x, y, &f) {
            d
        } else if let Some(d) = broadcast_rows(x, y, &f) {
            d
        } else {
            let shape =
                broadcast_shapes(x.shape(), y.shape()).ok_or_else(|| Error::ShapeMismatch {
                    op,
                    left: x.shape().to_vec(),
                    right: y.shape().to_vec(),
                })?;
            let xv = x.broadcast(IxDyn(&shape)).expect("broadcastable");
            let yv = y.broadcast(IxDyn(&shape)).expect("broadcastable");
            T::wrap(Zip::from(&xv).and(&yv).map_collect(|&u, &v| f(u, v)))
        },
    )
}

/// `f` over two arrays where one has a single value and broadcasts to the
/// other's shape (`g.reshape([1, 1]) * m`): a map with that value.
fn broadcast_single<T: Elem>(
    x: &ArcArray<T, IxDyn>,
    y: &ArcArray<T, IxDyn>,
    f: &impl Fn(T, T) -> T,
) -> Option<Data> {
    let fits = |one: &ArcArray<T, IxDyn>, other: &ArcArray<T, IxDyn>| {
        one.len() == 1 && one.ndim() <= other.ndim()
    };
    if fits(x, y) {
        let u = x.iter().next().copied()?;
        Some(T::wrap(map_slice(y.view(), |v| f(u, v))))
    } else if fits(y, x) {
        let v = y.iter().next().copied()?;
        Some(T::wrap(map_slice(x.view(), |u| f(u, v))))
    } else {
        None
    }
}

/// How a smaller contiguous operand lines up with a larger one's values.
enum Repeat {
    /// It is the larger one's trailing axes: value i pairs with i mod len
    /// (a bias row added to every row).
    Tiled(usize),
    /// It is the larger one's leading axes: value i pairs with i / block
    /// (a per-row value, shape [m, 1]).
    Blocks(usize),
}

/// How `small` (broadcast) repeats over `big`, for the two common patterns.
fn repeat_of(small: &[usize], big: &[usize]) -> Option<Repeat> {
    if small.len() > big.len() {
        return None;
    }
    let mut padded = vec![1; big.len() - small.len()];
    padded.extend_from_slice(small);
    let ones = padded.iter().take_while(|&&d| d == 1).count();
    if padded[ones..] == big[ones..] {
        return Some(Repeat::Tiled(big[ones..].iter().product()));
    }
    let kept = padded.iter().zip(big).take_while(|(a, b)| a == b).count();
    if padded[kept..].iter().all(|&d| d == 1) {
        return Some(Repeat::Blocks(big[kept..].iter().product()));
    }
    None
}

/// `f` over two contiguous arrays where one broadcasts to the other as a
/// tiled row or as blocks (bias rows, `x - max(x, keepdim)`): one loop over
/// slices instead of a broadcast iterator.
fn broadcast_rows<T: Elem>(
    x: &ArcArray<T, IxDyn>,
    y: &ArcArray<T, IxDyn>,
    f: &impl Fn(T, T) -> T,
) -> Option<Data> {
    let (xs, ys) = (x.as_slice()?, y.as_slice()?);
    let big_is_x = broadcast_shapes(x.shape(), y.shape()).as_deref() == Some(x.shape());
    let (big, small, bs, ss) = if big_is_x {
        (x, y, xs, ys)
    } else {
        (y, x, ys, xs)
    };
    if big.shape() != broadcast_shapes(x.shape(), y.shape())?.as_slice()
        || ss.is_empty()
        || bs.is_empty()
    {
        return None;
    }
    let pair = |b: T, s: T| if big_is_x { f(b, s) } else { f(s, b) };
    let mut v = T::buffer(bs.len());
    match repeat_of(small.shape(), big.shape())? {
        Repeat::Tiled(len) => {
            for chunk in bs.chunks(len) {
                v.extend(chunk.iter().zip(ss).map(|(&b, &s)| pair(b, s)));
            }
        }
        Repeat::Blocks(block) => {
            for (chunk, &s) in bs.chunks(block).zip(ss) {
                v.extend(chunk.iter().map(|&b| pair(b, s)));
            }
        }
    }
    Some(T::wrap(
        ArrayD::from_shape_vec(big.raw_dim(), v).expect("same size"),
    ))
}

/// The lowercase name of a binary operation for error messages.
fn op_label(op: BinaryOp) -> &'static str {
    op.function_name()
}

/// The value of a 0-d f64 tensor whose value is computed (a deferred value
/// is not forced: `x @ W + b` still folds its bias into the product).
#[inline(always)]
fn computed_scalar(t: &Tensor) -> Option<f64> {
    match t.0.value.get() {
        Some(Data::Scalar(x)) => Some(*x),
        _ => None,
    }
}

/// `a op b` for two computed 0-d f64 values, recorded as
/// [`Tensor::try_binary`] records it; `None` for any other operands.
/// Inlined into each operator, where `op` is a constant (no dispatch on
/// it), as W1's chain of 0-d operations wants.
#[inline(always)]
fn binary_0d(a: &Tensor, b: &Tensor, op: BinaryOp) -> Option<Tensor> {
    let (x, y) = (computed_scalar(a)?, computed_scalar(b)?);
    let v = op.eval(x, y);
    Some(
        if (a.is_requires_grad() || b.is_requires_grad()) && is_grad_enabled() {
            Tensor::from_scalar_op(v, || Op::Binary(op, a.clone(), b.clone()))
        } else {
            Tensor::from_data(Data::Scalar(v))
        },
    )
}

/// [`binary_0d`] of two owned operands: recorded, they move into the
/// node (no count raised here and lowered when the caller drops them);
/// handed back for any other operands.
#[inline(always)]
fn binary_0d_owned(
    a: Tensor,
    b: Tensor,
    op: BinaryOp,
) -> std::result::Result<Tensor, (Tensor, Tensor)> {
    let (Some(x), Some(y)) = (computed_scalar(&a), computed_scalar(&b)) else {
        return Err((a, b));
    };
    let v = op.eval(x, y);
    Ok(
        if (a.is_requires_grad() || b.is_requires_grad()) && is_grad_enabled() {
            Tensor::from_scalar_op(v, move || Op::Binary(op, a, b))
        } else {
            Tensor::from_data(Data::Scalar(v))
        },
    )
}

/// `a op c` for a computed 0-d f64 `a` and a constant, recorded as
/// [`Tensor::binary_scalar`] records it; `None` for any other `a`.
#[inline(always)]
fn scalar_rhs_0d(a: &Tensor, c: f64, op: BinaryOp) -> Option<Tensor> {
    let x = computed_scalar(a)?;
    let v = op.eval(x, c);
    Some(if a.tracks() {
        Tensor::from_scalar_op(v, || Op::ScalarRhs(op, a.clone(), c))
    } else {
        Tensor::from_data(Data::Scalar(v))
    })
}

/// `op(a)` for a computed 0-d f64 `a` of value `x`, recorded as
/// [`Tensor::unary_op`] records it.
#[inline(always)]
fn unary_0d(a: &Tensor, x: f64, op: UnaryOp) -> Tensor {
    let v = op.eval(x);
    if a.tracks() {
        Tensor::from_scalar_op(v, || Op::Unary(op, a.clone()))
    } else {
        Tensor::from_data(Data::Scalar(v))
    }
}

impl Tensor {
    /// Applies an elementwise function of one argument (recorded).
    pub fn unary_op(&self, op: UnaryOp) -> Tensor {
        // 0-d: one f64 operation, no kernel dispatch (W1's every node).
        let data = match self.scalar_value() {
            Some(x) => Data::Scalar(op.eval(x)),
            // A large libm-type map over the cores (bands.rs), else one loop.
            None => super::bands::unary(op, self.0.data()).unwrap_or_else(
                || monomorphic_unary!(op, k => self.0.data().map(move |x| k.eval(x))),
            ),
        };
        if self.tracks() {
            Tensor::from_op(data, Op::Unary(op, self.clone()))
        } else {
            Tensor::from_data(data)
        }
    }

    /// Applies an elementwise function of two arguments with broadcasting;
    /// an `Err` if the shapes do not broadcast.
    pub fn try_binary(&self, op: BinaryOp, rhs: &Tensor) -> Result<Tensor> {
        // `x @ W + b`: the bias folded into the product's gemm (matmul.rs).
        if op == BinaryOp::Add && !self.is_computed() {
            if let Some(t) = self.fused_bias_add(rhs) {
                return Ok(t);
            }
        }
        let data = match (self.scalar_value(), rhs.scalar_value()) {
            // Two 0-d values: one f64 operation, no kernel dispatch.
            (Some(x), Some(y)) => Data::Scalar(op.eval(x, y)),
            _ => {
                let (a, b) = (self.0.data(), rhs.0.data());
                monomorphic_binary!(op, k => zip_data(op_label(op), a, b, move |x, y| {
                    k.eval(x, y)
                }))?
            }
        };
        Ok(
            if is_grad_enabled() && (self.is_requires_grad() || rhs.is_requires_grad()) {
                Tensor::from_op(data, Op::Binary(op, self.clone(), rhs.clone()))
            } else {
                Tensor::from_data(data)
            },
        )
    }

    panicking! {
        /// [`Tensor::try_binary`], panicking on a shape mismatch.
        ///
        /// # Panics
        /// If the shapes do not broadcast; the message names the op and both shapes.
        pub fn binary_op(&self, op: BinaryOp, rhs: &Tensor) -> Tensor = try_binary;
    }

    /// `self op c` for a constant `c` (no node for the constant).
    pub fn binary_scalar(&self, op: BinaryOp, c: f64) -> Tensor {
        let data = match self.scalar_value() {
            Some(x) => Data::Scalar(op.eval(x, c)),
            None => monomorphic_binary!(op, k => self.0.data().map(move |x| k.eval(x, c))),
        };
        if self.tracks() {
            Tensor::from_op(data, Op::ScalarRhs(op, self.clone(), c))
        } else {
            Tensor::from_data(data)
        }
    }

    /// `c op self` for a constant `c` (no node for the constant).
    pub fn scalar_binary(c: f64, op: BinaryOp, rhs: &Tensor) -> Tensor {
        let data = match rhs.scalar_value() {
            Some(y) => Data::Scalar(op.eval(c, y)),
            None => monomorphic_binary!(op, k => rhs.0.data().map(move |y| k.eval(c, y))),
        };
        if rhs.tracks() {
            Tensor::from_op(data, Op::ScalarLhs(op, c, rhs.clone()))
        } else {
            Tensor::from_data(data)
        }
    }

    /// `self + rhs`, an `Err` if the shapes do not broadcast.
    pub fn try_add(&self, rhs: &Tensor) -> Result<Tensor> {
        self.try_binary(BinaryOp::Add, rhs)
    }
    /// `self − rhs`, an `Err` if the shapes do not broadcast.
    pub fn try_sub(&self, rhs: &Tensor) -> Result<Tensor> {
        self.try_binary(BinaryOp::Sub, rhs)
    }
    /// `self · rhs`, an `Err` if the shapes do not broadcast.
    pub fn try_mul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.try_binary(BinaryOp::Mul, rhs)
    }
    /// `self / rhs`, an `Err` if the shapes do not broadcast.
    pub fn try_div(&self, rhs: &Tensor) -> Result<Tensor> {
        self.try_binary(BinaryOp::Div, rhs)
    }

    fn compare(&self, name: &'static str, rhs: &Tensor, f: fn(f64, f64) -> bool) -> Result<Tensor> {
        let data = zip_data(name, self.0.data(), rhs.0.data(), |x, y| {
            if f(x, y) {
                1.0
            } else {
                0.0
            }
        })?;
        Ok(Tensor::from_data(data))
    }

    /// 1 where `self > rhs`, else 0 (broadcast; no gradient).
    pub fn try_gt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare("gt", rhs, |x, y| x > y)
    }
    /// 1 where `self < rhs`, else 0 (broadcast; no gradient).
    pub fn try_lt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare("lt", rhs, |x, y| x < y)
    }
    /// 1 where `self ≥ rhs`, else 0 (broadcast; no gradient).
    pub fn try_ge(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare("ge", rhs, |x, y| x >= y)
    }
    /// 1 where `self ≤ rhs`, else 0 (broadcast; no gradient).
    pub fn try_le(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare("le", rhs, |x, y| x <= y)
    }
    /// 1 where `self == rhs`, else 0 (broadcast; no gradient).
    pub fn try_eq(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare("eq", rhs, |x, y| x == y)
    }
    panicking! {
        /// 1 where `self > rhs`, else 0.
        ///
        /// # Panics
        /// If the shapes do not broadcast.
        pub fn gt(&self, rhs: &Tensor) -> Tensor = try_gt;
        /// 1 where `self < rhs`, else 0.
        ///
        /// # Panics
        /// If the shapes do not broadcast.
        pub fn lt(&self, rhs: &Tensor) -> Tensor = try_lt;
        /// 1 where `self ≥ rhs`, else 0.
        ///
        /// # Panics
        /// If the shapes do not broadcast.
        pub fn ge(&self, rhs: &Tensor) -> Tensor = try_ge;
        /// 1 where `self ≤ rhs`, else 0.
        ///
        /// # Panics
        /// If the shapes do not broadcast.
        pub fn le(&self, rhs: &Tensor) -> Tensor = try_le;
        /// 1 where `self == rhs`, else 0.
        ///
        /// # Panics
        /// If the shapes do not broadcast.
        pub fn eq(&self, rhs: &Tensor) -> Tensor = try_eq;
    }
}

impl Real for Tensor {
    fn from_f64(x: f64) -> Self {
        Tensor::scalar(x)
    }
    /// A computed 0-d f64 value takes `unary_0d` (inlined into each
    /// method, `sin`, `tanh`…, where `op` is a constant), anything else
    /// [`Tensor::unary_op`].
    #[inline]
    fn unary(&self, op: UnaryOp) -> Self {
        match computed_scalar(self) {
            Some(x) => unary_0d(self, x, op),
            None => self.unary_op(op),
        }
    }
    fn binary(&self, op: BinaryOp, rhs: &Self) -> Self {
        self.binary_op(op, rhs)
    }
    fn powf(&self, p: f64) -> Self {
        self.binary_scalar(BinaryOp::Pow, p)
    }
    /// The product, recorded, with the entries where either factor is an
    /// exact zero set to 0 (through a recorded `where_`, only when the
    /// plain product is not finite there).
    fn strong_mul(&self, rhs: &Self) -> Self {
        let p = self * rhs;
        if p.to_vec().iter().all(|v| v.is_finite()) {
            return p;
        }
        let zero = Tensor::scalar(0.0);
        let mask = self.eq(&zero) + rhs.eq(&zero);
        Tensor::where_(&mask.detach(), &zero, &p)
    }
}

macro_rules! impl_binary_operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                binary_0d(self, rhs, $op).unwrap_or_else(|| self.binary_op($op, rhs))
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                binary_0d_owned(self, rhs, $op).unwrap_or_else(|(a, b)| a.binary_op($op, &b))
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                binary_0d(&self, rhs, $op).unwrap_or_else(|| self.binary_op($op, rhs))
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                binary_0d(self, &rhs, $op).unwrap_or_else(|| self.binary_op($op, &rhs))
            }
        }
        impl $trait<f64> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f64) -> Tensor {
                scalar_rhs_0d(&self, rhs, $op).unwrap_or_else(|| self.binary_scalar($op, rhs))
            }
        }
        impl $trait<f64> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f64) -> Tensor {
                scalar_rhs_0d(self, rhs, $op).unwrap_or_else(|| self.binary_scalar($op, rhs))
            }
        }
        impl $trait<Tensor> for f64 {
            type Output = Tensor;
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::scalar_binary(self, $op, &rhs)
            }
        }
        impl $trait<&Tensor> for f64 {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::scalar_binary(self, $op, rhs)
            }
        }
    };
}

impl_binary_operator!(Add, add, BinaryOp::Add);
impl_binary_operator!(Sub, sub, BinaryOp::Sub);
impl_binary_operator!(Mul, mul, BinaryOp::Mul);
impl_binary_operator!(Div, div, BinaryOp::Div);

impl Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        self.unary_op(UnaryOp::Neg)
    }
}

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        self.unary_op(UnaryOp::Neg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast_shapes(&[2, 1], &[1, 4]), Some(vec![2, 4]));
        assert_eq!(broadcast_shapes(&[], &[5]), Some(vec![5]));
        assert_eq!(broadcast_shapes(&[2], &[3]), None);
        let a = tensor![[1.0], [2.0]];
        let b = tensor![10.0, 20.0, 30.0];
        let c = &a + &b;
        assert_eq!(c.shape(), &[2, 3]);
        assert_eq!(c.to_vec(), vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
        assert_eq!((2.0 - &b).to_vec(), vec![-8.0, -18.0, -28.0]);
        assert_eq!((&b / 10.0).to_vec(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn tiled_and_block_broadcasts_match_the_general_path() {
        // Rows (trailing axes), per-row values (leading axes), scalars in
        // disguise, both operand orders; against element-by-element sums.
        let big = Tensor::arange(0.0, 24.0, 1.0).unwrap().reshape(&[2, 3, 4]);
        let smalls = [
            Tensor::arange(0.0, 4.0, 1.0).unwrap(),
            Tensor::arange(0.0, 12.0, 1.0).unwrap().reshape(&[3, 4]),
            Tensor::arange(0.0, 6.0, 1.0).unwrap().reshape(&[2, 3, 1]),
            Tensor::arange(0.0, 2.0, 1.0).unwrap().reshape(&[2, 1, 1]),
            Tensor::ones(&[1, 1]),
            Tensor::arange(0.0, 6.0, 1.0)
                .unwrap()
                .reshape(&[2, 1, 3])
                .t(),
        ];
        let b = big.to_vec();
        for s in &smalls {
            let sv = s.0.data().to_array();
            let sb = sv.broadcast(IxDyn(&[2, 3, 4])).unwrap();
            let expected: Vec<f64> = b.iter().zip(sb.iter()).map(|(x, y)| x - 10.0 * y).collect();
            let mirrored: Vec<f64> = b.iter().zip(sb.iter()).map(|(x, y)| 10.0 * y - x).collect();
            assert_eq!((&big - &(s * 10.0)).to_vec(), expected, "{:?}", s.shape());
            assert_eq!((&(s * 10.0) - &big).to_vec(), mirrored, "{:?}", s.shape());
        }
        let empty = Tensor::zeros(&[3, 0]);
        assert_eq!((&empty + &Tensor::ones(&[3, 1])).shape(), &[3, 0]);
    }

    #[test]
    fn shape_mismatch_is_an_error_naming_op_and_shapes() {
        let a = Tensor::ones(&[2]);
        let b = Tensor::ones(&[3]);
        let e = a.try_add(&b).unwrap_err().to_string();
        assert!(
            e.contains("add") && e.contains("[2]") && e.contains("[3]"),
            "{e}"
        );
        let r = std::panic::catch_unwind(|| {
            let _ = Tensor::ones(&[2]) * Tensor::ones(&[3]);
        });
        assert!(r.is_err());
    }

    #[test]
    fn comparisons_and_where() {
        let x = tensor![1.0, 2.0, 3.0];
        let t = Tensor::scalar(2.0);
        assert_eq!(x.gt(&t).to_vec(), vec![0.0, 0.0, 1.0]);
        assert_eq!(x.le(&t).to_vec(), vec![1.0, 1.0, 0.0]);
        assert_eq!(x.eq(&t).to_vec(), vec![0.0, 1.0, 0.0]);
        let w = Tensor::where_(&x.ge(&t), &x, &Tensor::scalar(-1.0));
        assert_eq!(w.to_vec(), vec![-1.0, 2.0, 3.0]);
    }

    #[test]
    fn real_functions_are_elementwise() {
        let x = tensor![0.5, 1.5];
        let y = x.sin().exp();
        let expected: Vec<f64> = [0.5f64, 1.5].iter().map(|v| v.sin().exp()).collect();
        assert_eq!(y.to_vec(), expected);
        assert_eq!(x.powf(2.0).to_vec(), vec![0.25, 2.25]);
    }
}
