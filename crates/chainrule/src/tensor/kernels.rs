//! Elementwise loops over contiguous storage, and the dispatch that makes
//! them fast.
//!
//! `UnaryOp::eval(op, x)` and the rules of [`crate::rules`] match on `op`; a
//! loop calling them with a run-time `op` would match once per element. The
//! macros here match once, outside the loop, and bind the op as a `const`
//! in each arm (a captured value would be read at run time inside a loop that
//! is not inlined), so that every arm's loop is compiled with its op folded
//! in (and `powi(2)` becomes `x * x`). The arms come from the op table
//! (`ops.rs`): a new row gets its own loop here with nothing to write.

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use super::dtype::Elem;
use super::{DType, Data, Tensor};

/// Evaluates `$body` with `$op` bound to `$u` as a constant of each arm.
#[cfg(feature = "op-loops")]
macro_rules! monomorphic_unary {
    ($u:expr, $op:ident => $body:expr) => {
        $crate::ops::for_each_unary_op!(
            $crate::tensor::kernels::monomorphic_unary_match,
            $u,
            $op,
            $body
        )
    };
}

/// Without the `op-loops` feature: the arithmetic ops get a loop each (their
/// body is a few instructions, which a match per element would outweigh and
/// keep from vectorising); every other op shares one loop that matches on
/// the op per element, next to a call of a few dozen instructions. The same
/// values bit for bit, for about 40% less of this crate's compile time.
#[cfg(not(feature = "op-loops"))]
macro_rules! monomorphic_unary {
    ($u:expr, $op:ident => $body:expr) => {{
        use $crate::ops::UnaryOp as U;
        use $crate::tensor::kernels::monomorphic_const;
        match $u {
            U::Neg => monomorphic_const!(UnaryOp, U::Neg, $op => $body),
            U::Relu => monomorphic_const!(UnaryOp, U::Relu, $op => $body),
            U::Abs => monomorphic_const!(UnaryOp, U::Abs, $op => $body),
            U::Powi(2) => monomorphic_const!(UnaryOp, U::Powi(2), $op => $body),
            other => {
                let $op: U = other;
                $body
            }
        }
    }};
}

/// The `match` of [`monomorphic_unary`], one arm per row of the op table.
#[cfg(feature = "op-loops")]
macro_rules! monomorphic_unary_match {
    ([$u:expr, $op:ident, $body:expr] $(
        $(#[$doc:meta])*
        $kind:ident $V:ident $(($p:ident: $($param:tt)*))? { $($row:tt)* }
    )*) => {{
        use $crate::ops::UnaryOp as U;
        match $u {
            // The powers that loops meet most, each with its own copy
            // (`powi(2)` becomes `x * x`); other exponents share one.
            U::Powi(-1) => $crate::tensor::kernels::monomorphic_const!(UnaryOp, U::Powi(-1), $op => $body),
            U::Powi(2) => $crate::tensor::kernels::monomorphic_const!(UnaryOp, U::Powi(2), $op => $body),
            U::Powi(3) => $crate::tensor::kernels::monomorphic_const!(UnaryOp, U::Powi(3), $op => $body),
            $( U::$V $(($p))? => $crate::tensor::kernels::monomorphic_arm!($V, UnaryOp, U::$V $(($p))?, $op => $body), )*
        }
    }};
}

/// Evaluates `$body` with `$op` bound to `$b` as a constant of each arm.
#[cfg(feature = "op-loops")]
macro_rules! monomorphic_binary {
    ($b:expr, $op:ident => $body:expr) => {
        $crate::ops::for_each_binary_op!(
            $crate::tensor::kernels::monomorphic_binary_match,
            $b,
            $op,
            $body
        )
    };
}

/// Without the `op-loops` feature: `+ - * /` get a loop each, the other
/// binary ops share one (see the unary version above).
#[cfg(not(feature = "op-loops"))]
macro_rules! monomorphic_binary {
    ($b:expr, $op:ident => $body:expr) => {{
        use $crate::ops::BinaryOp as B;
        use $crate::tensor::kernels::monomorphic_const;
        match $b {
            B::Add => monomorphic_const!(BinaryOp, B::Add, $op => $body),
            B::Sub => monomorphic_const!(BinaryOp, B::Sub, $op => $body),
            B::Mul => monomorphic_const!(BinaryOp, B::Mul, $op => $body),
            B::Div => monomorphic_const!(BinaryOp, B::Div, $op => $body),
            other => {
                let $op: B = other;
                $body
            }
        }
    }};
}

/// The `match` of [`monomorphic_binary`], one arm per row of the op table.
#[cfg(feature = "op-loops")]
macro_rules! monomorphic_binary_match {
    ([$b:expr, $op:ident, $body:expr] $(
        $(#[$doc:meta])*
        $kind:ident $V:ident { $($row:tt)* }
    )*) => {{
        use $crate::ops::BinaryOp as B;
        match $b {
            $( B::$V => $crate::tensor::kernels::monomorphic_arm!($V, BinaryOp, B::$V, $op => $body), )*
        }
    }};
}

/// One arm: `$op` a `const` (the loop compiled for this op alone), except
/// for the ops listed first, which share one loop with a run-time op (they
/// are rare in hot loops, and a copy each would only add code), and for
/// `Powi` with an exponent other than those matched above, and `SphJ`.
#[cfg(feature = "op-loops")]
macro_rules! monomorphic_arm {
    (Log2, $T:ident, $value:expr, $op:ident => $body:expr) => {{
        let $op = $value;
        $body
    }};
    (Log10, $T:ident, $value:expr, $op:ident => $body:expr) => {{
        let $op = $value;
        $body
    }};
    (Atan2, $T:ident, $value:expr, $op:ident => $body:expr) => {{
        let $op = $value;
        $body
    }};
    (Powi, $T:ident, $value:expr, $op:ident => $body:expr) => {{
        let $op = $value;
        $body
    }};
    (SphJ, $T:ident, $value:expr, $op:ident => $body:expr) => {{
        let $op = $value;
        $body
    }};
    ($V:ident, $T:ident, $value:expr, $op:ident => $body:expr) => {
        $crate::tensor::kernels::monomorphic_const!($T, $value, $op => $body)
    };
}

/// `$body` with `$op` the constant `$value` of type `ops::$T`.
macro_rules! monomorphic_const {
    ($T:ident, $value:expr, $op:ident => $body:expr) => {{
        #[allow(non_upper_case_globals)]
        const $op: $crate::ops::$T = $value;
        $body
    }};
}

#[cfg(feature = "op-loops")]
pub(crate) use {monomorphic_arm, monomorphic_binary_match, monomorphic_unary_match};
pub(crate) use {monomorphic_binary, monomorphic_const, monomorphic_unary};

/// An operand of an elementwise loop over a tensor of `m` elements: one
/// value for all (stride 0) or a contiguous slice of `m` (stride 1), of
/// element type `T` (read widened to f64).
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a, T = f64> {
    values: &'a [T],
    stride: usize,
}

impl<'a, T: Elem> Operand<'a, T> {
    /// `d` as an operand of a loop over `shape`, if it holds `T` and is a
    /// single value or contiguous of exactly that shape (else the caller
    /// broadcasts).
    pub(crate) fn of(d: &'a Data, shape: &[usize]) -> Option<Operand<'a, T>> {
        if let Data::Scalar(_) = d {
            return T::slice_of(d).map(|v| Operand {
                values: v,
                stride: 0,
            });
        }
        let a = T::array_of(d)?;
        // 1-d: shape and stride read once (the general test, `of_any`, asks
        // the dynamic-rank shape three times).
        if let ([n], [s]) = (a.shape(), a.strides()) {
            // SAFETY: a 1-d array of `n` values holds them from `as_ptr`
            // when its stride is 1 or it has at most one value (checked
            // before the slice is used); the slice borrows `a`.
            let values = || unsafe { std::slice::from_raw_parts(a.as_ptr(), *n) };
            return match shape {
                _ if *n == 1 => Some(Operand {
                    values: values(),
                    stride: 0,
                }),
                [m] if m == n && (*s == 1 || *n == 0) => Some(Operand {
                    values: values(),
                    stride: 1,
                }),
                _ => None,
            };
        }
        Operand::of_any(d, shape)
    }

    /// [`Operand::of`] for any rank, without the 1-d shortcut.
    fn of_any(d: &'a Data, shape: &[usize]) -> Option<Operand<'a, T>> {
        if let Data::Scalar(_) = d {
            return T::slice_of(d).map(|v| Operand {
                values: v,
                stride: 0,
            });
        }
        let a = T::array_of(d)?;
        if a.len() == 1 {
            a.as_slice_memory_order().map(|v| Operand {
                values: v,
                stride: 0,
            })
        } else if super::same_shape(a.shape(), shape) {
            super::contiguous(a).map(|v| Operand {
                values: v,
                stride: 1,
            })
        } else {
            None
        }
    }

    #[inline(always)]
    pub(crate) fn at(self, j: usize) -> f64 {
        self.values[j * self.stride].to_f64()
    }

    /// Values `start..start + out.len()` widened into `out`.
    #[inline]
    pub(crate) fn widen(self, start: usize, out: &mut [f64]) {
        if self.stride == 0 {
            out.fill(self.values[0].to_f64());
        } else {
            let values = &self.values[start..start + out.len()];
            for (o, &v) in out.iter_mut().zip(values) {
                *o = v.to_f64();
            }
        }
    }
}

/// `t` with `f` applied to its values (row-major, as `T`), in its own
/// buffer when `t` is the only handle to its node, the node the only holder
/// of the buffer and the buffer of type `T` (no allocation at all), else on
/// a copy (converted to `T` if it is of the other type).
pub(crate) fn in_place<T: Elem>(mut t: Tensor, f: impl FnOnce(&mut [T])) -> Tensor {
    t.data();
    if let Some(data) = super::NodeRc::get_mut(&mut t.0).and_then(|n| n.value.get_mut()) {
        if let Some(s) = T::unique_slice_mut(data) {
            f(s);
            return t;
        }
    }
    let shape = t.shape().to_vec();
    let mut v: Vec<T> = match T::view_of(t.data()) {
        // A contiguous buffer is copied whole (a memcpy, not an iterator).
        Some(view) if view.is_standard_layout() => {
            let mut v = T::buffer(view.len());
            v.extend_from_slice(view.as_slice().expect("standard layout"));
            v
        }
        Some(view) => view.iter().copied().collect(),
        None => t.to_vec().into_iter().map(T::of_f64).collect(),
    };
    f(&mut v);
    from_vec(v, &shape)
}

/// relu's vector–Jacobian product `g ⊙ step(x)` (the values of the rules
/// table's `strong_mul(g, step(x))`: `g` where x > 0, NaN where x is NaN
/// and g ≠ 0, else 0), in `g`'s buffer when it holds the only handle, one
/// select per value in `g`'s element type (no widening to f64). `g` has
/// `x`'s shape, with batch axes in front; `Err(g)` back if the element
/// types differ or a value is not contiguous.
pub(crate) fn relu_backward(g: Tensor, x: &Data) -> Result<Tensor, Tensor> {
    match g.dtype() {
        DType::F64 => relu_backward_in::<f64>(g, x),
        DType::F32 => relu_backward_in::<f32>(g, x),
    }
}

/// [`relu_backward`] when `relu` is true, else `Err(g)` at once (inlined:
/// every other unary partial passes through it).
#[inline]
pub(crate) fn relu_backward_if(relu: bool, g: Tensor, x: &Data) -> Result<Tensor, Tensor> {
    if relu {
        relu_backward(g, x)
    } else {
        Err(g)
    }
}

/// [`relu_backward`] for values of type `T`.
fn relu_backward_in<T: Elem>(g: Tensor, x: &Data) -> Result<Tensor, Tensor> {
    let Some(xs) = T::slice_of(x) else {
        return Err(g);
    };
    let m = xs.len();
    let fits = T::slice_of(g.data()).is_some_and(|v| m > 0 && v.len() % m == 0);
    if !fits {
        return Err(g);
    }
    let (zero, nan) = (T::zero(), T::of_f64(f64::NAN));
    // Blocks of x without a NaN (all of them, in training) take a loop of
    // one compare-and-mask per value, which vectorises; a block with a NaN
    // takes the loop that spells out every case.
    const BLOCK: usize = 512;
    #[allow(clippy::eq_op)]
    let exact = |u: T, x: T| {
        if u == zero {
            zero
        } else if x > zero {
            u
        } else if x != x {
            nan
        } else {
            zero
        }
    };
    Ok(in_place(g, |v: &mut [T]| {
        for chunk in v.chunks_mut(m) {
            for (ub, xb) in chunk.chunks_mut(BLOCK).zip(xs.chunks(BLOCK)) {
                #[allow(clippy::eq_op)]
                let any_nan = xb.iter().fold(false, |any, &x| any | (x != x));
                if any_nan {
                    ub.iter_mut().zip(xb).for_each(|(u, &x)| *u = exact(*u, x));
                } else {
                    // x > 0 and g ≠ 0: g; else +0 (a −0 gradient included).
                    ub.iter_mut().zip(xb).for_each(|(u, &x)| {
                        *u = if x > zero && *u != zero { *u } else { zero };
                    });
                }
            }
        }
    }))
}

/// `t`'s values to write in place, when `t` is the only handle to its node
/// and the node the only holder of a row-major buffer of `T`s.
pub(crate) fn unique_values<T: Elem>(t: &mut Tensor) -> Option<&mut [T]> {
    t.data();
    super::NodeRc::get_mut(&mut t.0)
        .and_then(|n| n.value.get_mut())
        .and_then(T::unique_slice_mut)
}

/// A tensor of `shape` from row-major values.
pub(crate) fn from_vec<T: Elem>(v: Vec<T>, shape: &[usize]) -> Tensor {
    Tensor::from_data(T::wrap(
        ArrayD::from_shape_vec(IxDyn(shape), v).expect("values fill the shape"),
    ))
}

/// `f` applied to the values of a contiguous array, a new array.
pub(crate) fn map_slice<T: Elem>(a: ArrayViewD<'_, T>, f: impl Fn(T) -> T) -> ArrayD<T> {
    match a.as_slice() {
        Some(s) => {
            let mut v = T::buffer(s.len());
            v.extend(s.iter().map(|&x| f(x)));
            ArrayD::from_shape_vec(a.raw_dim(), v).expect("same size")
        }
        None => a.mapv(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_place_never_writes_a_shared_buffer() {
        let a = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).unwrap();
        // Another handle to the node, and another node over the same buffer.
        let same_node = a.clone();
        let same_buffer = a.detach();
        let doubled = in_place(a, |v: &mut [f64]| v.iter_mut().for_each(|x| *x *= 2.0));
        assert_eq!(doubled.to_vec(), vec![2.0, 4.0, 6.0]);
        assert_eq!(same_node.to_vec(), vec![1.0, 2.0, 3.0]);
        assert_eq!(same_buffer.to_vec(), vec![1.0, 2.0, 3.0]);
        // The only handle to an unshared buffer is updated where it is.
        let b = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
        let ptr = b.data().as_slice().unwrap().as_ptr();
        let b = in_place(b, |v: &mut [f64]| v[0] = 5.0);
        assert_eq!(b.data().as_slice().unwrap().as_ptr(), ptr);
        assert_eq!(b.to_vec(), vec![5.0, 2.0]);
    }

    #[test]
    fn relu_backward_is_the_strong_product_with_the_step() {
        // g ⊙ step(x) with 0 · anything = 0: g where x > 0, 0 where x ≤ 0
        // (a NaN or infinite g included), NaN where x is NaN and g ≠ 0.
        let nan = f64::NAN;
        let x = [2.0, -1.0, 0.0, nan, nan, 3.0, -2.0];
        let g = [5.0, 7.0, 9.0, 4.0, 0.0, -0.0, f64::INFINITY];
        for f32s in [false, true] {
            let xt = Tensor::from_vec(x.to_vec(), &[7]).unwrap();
            // Two rows of g: a batch of two cotangents.
            let gt = Tensor::from_vec([g, g].concat(), &[2, 7]).unwrap();
            let (xt, gt) = if f32s {
                (xt.float(), gt.float())
            } else {
                (xt, gt)
            };
            let r = relu_backward(gt, xt.data()).ok().unwrap().to_vec();
            for row in r.chunks(7) {
                assert_eq!(row[..3], [5.0, 0.0, 0.0]);
                assert!(row[3].is_nan());
                assert_eq!(row[4].to_bits(), 0.0f64.to_bits());
                assert_eq!(row[5].to_bits(), 0.0f64.to_bits());
                assert_eq!(row[6], 0.0);
            }
        }
        // Without a NaN in x (the masked loop): the same cases.
        let x = Tensor::from_vec(vec![2.0, -1.0, 0.0, 3.0, -2.0], &[5]).unwrap();
        let g = Tensor::from_vec(vec![5.0, 7.0, 9.0, -0.0, f64::INFINITY], &[5]).unwrap();
        let r = relu_backward(g, x.data()).ok().unwrap().to_vec();
        assert_eq!(r, vec![5.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(r[3].to_bits(), 0.0f64.to_bits());
        // Mixed element types are left to the general loop.
        let x32 = Tensor::from_vec(vec![1.0], &[1]).unwrap().float();
        assert!(relu_backward(Tensor::from_vec(vec![1.0], &[1]).unwrap(), x32.data()).is_err());
    }

    #[test]
    fn operands_are_single_values_or_whole_contiguous_arrays() {
        let s = Data::Scalar(2.0);
        let one = Tensor::from_vec(vec![7.0], &[1]).unwrap();
        let full = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).unwrap();
        assert_eq!(Operand::<f64>::of(&s, &[3]).map(|o| o.at(2)), Some(2.0));
        assert_eq!(
            Operand::<f64>::of(one.data(), &[3]).map(|o| o.at(2)),
            Some(7.0)
        );
        assert_eq!(
            Operand::<f64>::of(full.data(), &[3]).map(|o| o.at(2)),
            Some(3.0)
        );
        assert!(Operand::<f64>::of(full.data(), &[2, 3]).is_none());
    }

    /// Every 1-d layout `Operand::of` shortcuts (contiguous, strided,
    /// reversed, one value, empty) against the general test, for loops over
    /// shapes of the same length, another length, another rank and 0-d:
    /// the same answer, the same values and stride.
    #[test]
    fn the_one_d_operand_shortcut_agrees_with_the_general_test() {
        use ndarray::{s, ArcArray, Array1};
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let parts = |o: Option<Operand<'_, f64>>| o.map(|o| (o.values.to_vec(), o.stride));
        let mut cases = 0;
        for _ in 0..200 {
            let len = (next() % 7) as usize;
            let base: Vec<f64> = (0..2 * len + 1)
                .map(|_| (next() % 1000) as f64 - 500.0)
                .collect();
            let full: ArcArray<f64, ndarray::Ix1> = Array1::from(base).into_shared();
            let arrays = [
                full.clone().slice_move(s![..len]),
                full.clone().slice_move(s![..2 * len;2]),
                full.clone().slice_move(s![..len;-1]),
                full.clone().slice_move(s![2 * len..]),
            ];
            for a in arrays {
                let d = Data::Array(Box::new(a.into_dyn()));
                let n = d.shape()[0];
                for shape in [vec![n], vec![n + 1], vec![n.max(1) - 1], vec![1, n], vec![]] {
                    assert_eq!(
                        parts(Operand::<f64>::of(&d, &shape)),
                        parts(Operand::<f64>::of_any(&d, &shape)),
                        "{:?} over {shape:?}",
                        d.shape()
                    );
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 200 * 4 * 5);
    }
}
