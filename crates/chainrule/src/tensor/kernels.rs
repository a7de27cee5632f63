//! Elementwise loops over contiguous storage, and the dispatch that makes
//! them fast.
//!
//! `UnaryOp::eval(op, x)` and the rules of [`crate::rules`] match on `op`; a
//! loop calling them with a run-time `op` would match once per element. The
//! macros here match once, outside the loop, and bind the op as a constant
//! in each arm, so that every arm's loop is compiled with its op folded in
//! (and `powi(2)` becomes `x * x`). They list every variant: a new op is a
//! compile error here until it is added.

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use super::{Data, Tensor};

/// Evaluates `$body` with `$op` bound to `$u` as a constant of each arm.
macro_rules! monomorphic_unary {
    ($u:expr, $op:ident => $body:expr) => {{
        use $crate::ops::UnaryOp as U;
        match $u {
            U::Neg => {
                let $op = U::Neg;
                $body
            }
            U::Exp => {
                let $op = U::Exp;
                $body
            }
            U::Ln => {
                let $op = U::Ln;
                $body
            }
            U::Log2 => {
                let $op = U::Log2;
                $body
            }
            U::Log10 => {
                let $op = U::Log10;
                $body
            }
            U::Sqrt => {
                let $op = U::Sqrt;
                $body
            }
            U::Cbrt => {
                let $op = U::Cbrt;
                $body
            }
            U::Sin => {
                let $op = U::Sin;
                $body
            }
            U::Cos => {
                let $op = U::Cos;
                $body
            }
            U::Tan => {
                let $op = U::Tan;
                $body
            }
            U::Asin => {
                let $op = U::Asin;
                $body
            }
            U::Acos => {
                let $op = U::Acos;
                $body
            }
            U::Atan => {
                let $op = U::Atan;
                $body
            }
            U::Sinh => {
                let $op = U::Sinh;
                $body
            }
            U::Cosh => {
                let $op = U::Cosh;
                $body
            }
            U::Tanh => {
                let $op = U::Tanh;
                $body
            }
            U::Asinh => {
                let $op = U::Asinh;
                $body
            }
            U::Acosh => {
                let $op = U::Acosh;
                $body
            }
            U::Atanh => {
                let $op = U::Atanh;
                $body
            }
            U::Sigmoid => {
                let $op = U::Sigmoid;
                $body
            }
            U::Softplus => {
                let $op = U::Softplus;
                $body
            }
            U::Relu => {
                let $op = U::Relu;
                $body
            }
            U::Abs => {
                let $op = U::Abs;
                $body
            }
            U::Erf => {
                let $op = U::Erf;
                $body
            }
            U::Sign => {
                let $op = U::Sign;
                $body
            }
            U::Step => {
                let $op = U::Step;
                $body
            }
            U::Powi(-1) => {
                let $op = U::Powi(-1);
                $body
            }
            U::Powi(2) => {
                let $op = U::Powi(2);
                $body
            }
            U::Powi(3) => {
                let $op = U::Powi(3);
                $body
            }
            U::Powi(n) => {
                let $op = U::Powi(n);
                $body
            }
        }
    }};
}

/// Evaluates `$body` with `$op` bound to `$b` as a constant of each arm.
macro_rules! monomorphic_binary {
    ($b:expr, $op:ident => $body:expr) => {{
        use $crate::ops::BinaryOp as B;
        match $b {
            B::Add => {
                let $op = B::Add;
                $body
            }
            B::Sub => {
                let $op = B::Sub;
                $body
            }
            B::Mul => {
                let $op = B::Mul;
                $body
            }
            B::Div => {
                let $op = B::Div;
                $body
            }
            B::Pow => {
                let $op = B::Pow;
                $body
            }
            B::Atan2 => {
                let $op = B::Atan2;
                $body
            }
            B::Max => {
                let $op = B::Max;
                $body
            }
            B::Min => {
                let $op = B::Min;
                $body
            }
        }
    }};
}

pub(crate) use {monomorphic_binary, monomorphic_unary};

/// An operand of an elementwise loop over a tensor of `m` elements: one
/// value for all (stride 0) or a contiguous slice of `m` (stride 1).
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a> {
    values: &'a [f64],
    stride: usize,
}

impl<'a> Operand<'a> {
    /// `d` as an operand of a loop over `shape`, if it is a single value or
    /// contiguous of exactly that shape (else the caller broadcasts).
    pub(crate) fn of(d: &'a Data, shape: &[usize]) -> Option<Operand<'a>> {
        match d {
            Data::Scalar(x) => Some(Operand {
                values: std::slice::from_ref(x),
                stride: 0,
            }),
            Data::Array(a) if a.len() == 1 => a.as_slice_memory_order().map(|v| Operand {
                values: v,
                stride: 0,
            }),
            Data::Array(a) if a.shape() == shape => a.as_slice().map(|v| Operand {
                values: v,
                stride: 1,
            }),
            Data::Array(_) => None,
        }
    }

    #[inline(always)]
    pub(crate) fn at(self, j: usize) -> f64 {
        self.values[j * self.stride]
    }
}

/// The values of `t` as an owned row-major vector, without copying when
/// `t` is the only handle to a contiguous array.
pub(crate) fn into_vec(t: Tensor) -> Vec<f64> {
    match t.into_data() {
        Data::Scalar(x) => vec![x],
        Data::Array(a) => {
            if a.is_standard_layout() {
                let len = a.len();
                // No copy when this was the buffer's only holder.
                let (mut v, offset) = a.into_owned().into_raw_vec_and_offset();
                match offset.unwrap_or(0) {
                    0 => {
                        v.truncate(len);
                        v
                    }
                    o => v[o..o + len].to_vec(),
                }
            } else {
                a.iter().copied().collect()
            }
        }
    }
}

/// A tensor of `shape` from row-major values.
pub(crate) fn from_vec(v: Vec<f64>, shape: &[usize]) -> Tensor {
    if shape.is_empty() {
        return Tensor::scalar(v[0]);
    }
    Tensor::from_array(ArrayD::from_shape_vec(IxDyn(shape), v).expect("values fill the shape"))
}

/// `f` applied to the values of a contiguous array, a new array.
pub(crate) fn map_slice(a: ArrayViewD<'_, f64>, f: impl Fn(f64) -> f64) -> ArrayD<f64> {
    match a.as_slice() {
        Some(s) => ArrayD::from_shape_vec(a.raw_dim(), s.iter().map(|&x| f(x)).collect())
            .expect("same size"),
        None => a.mapv(f),
    }
}
